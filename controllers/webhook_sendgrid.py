"""SendGrid (signed Event Webhook) webhook: reading in ``tools/providers/sendgrid.py``."""

from odoo import http

from .webhook import ROUTE_OPTIONS
from .webhook import receive


class SendgridWebhookController(http.Controller):
    @http.route("/mass_mailing_delivery/webhook/sendgrid/<string:server_id>", **ROUTE_OPTIONS)
    def webhook_sendgrid(self, server_id, **_kwargs):
        return receive("sendgrid", server_id)
