"""Postmark webhook: reading in ``tools/providers/postmark.py``."""

from odoo import http

from .webhook import ROUTE_OPTIONS
from .webhook import receive


class PostmarkWebhookController(http.Controller):
    @http.route("/mass_mailing_delivery/webhook/postmark/<string:server_id>", **ROUTE_OPTIONS)
    def webhook_postmark(self, server_id, **_kwargs):
        return receive("postmark", server_id)
