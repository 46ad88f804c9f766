"""Mailgun webhook: reading in ``tools/providers/mailgun.py``."""

from odoo import http

from .webhook import ROUTE_OPTIONS
from .webhook import receive


class MailgunWebhookController(http.Controller):
    @http.route("/mass_mailing_delivery/webhook/mailgun/<string:server_id>", **ROUTE_OPTIONS)
    def webhook_mailgun(self, server_id, **_kwargs):
        return receive("mailgun", server_id)
