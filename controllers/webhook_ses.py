"""Amazon SES (through Amazon SNS) webhook: reading in ``tools/providers/ses.py``."""

from odoo import http

from .webhook import ROUTE_OPTIONS
from .webhook import receive


class SesWebhookController(http.Controller):
    @http.route("/mass_mailing_delivery/webhook/ses/<string:server_id>", **ROUTE_OPTIONS)
    def webhook_ses(self, server_id, **_kwargs):
        return receive("ses", server_id)
