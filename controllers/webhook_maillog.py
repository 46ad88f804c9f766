"""Mail server log endpoint: the outcomes ``tools/maillog.py`` read in a Postfix or Exim
log; reading in ``tools/providers/maillog.py``."""

from odoo import http

from .webhook import ROUTE_OPTIONS
from .webhook import receive


class MaillogWebhookController(http.Controller):
    @http.route("/mass_mailing_delivery/webhook/maillog/<string:server_id>", **ROUTE_OPTIONS)
    def webhook_maillog(self, server_id, **_kwargs):
        return receive("maillog", server_id)
