"""Brevo webhook: reading in ``tools/providers/brevo.py``."""

from odoo import http

from .webhook import ROUTE_OPTIONS
from .webhook import receive


class BrevoWebhookController(http.Controller):
    @http.route("/mass_mailing_delivery/webhook/brevo/<string:server_id>", **ROUTE_OPTIONS)
    def webhook_brevo(self, server_id, **_kwargs):
        return receive("brevo", server_id)
