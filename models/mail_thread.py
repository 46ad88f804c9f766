from odoo import api
from odoo import models
from odoo.tools import email_normalize


class MailThread(models.AbstractModel):
    """Bounce alias: every message is parsed per recipient (``mail.bounce.event``)
    instead of core's "anything here is a bounce of its first recipient"."""

    _inherit = "mail.thread"

    @api.model
    def _routing_handle_bounce(self, email_message, message_dict):
        if self.env.context.get("mmd_core_bounce"):
            return super()._routing_handle_bounce(email_message, message_dict)
        return (
            self.env["mail.bounce.event"]
            .sudo()
            ._process_bounce_message(
                email_message, dict(message_dict, mmd_email_message=email_message)
            )
        )

    @api.model
    def _routing_handle_bounce_core(self, message_dict):
        """Run core's bounce handling (partner bounce counters, notification
        status, trace status) for one recipient's ``message_dict``."""
        return self.with_context(mmd_core_bounce=True)._routing_handle_bounce(
            message_dict.get("mmd_email_message"), message_dict
        )

    @api.model
    def _routing_reset_bounce(self, email_message, message_dict):
        # a reply proves the address works: reset its soft-bounce streak too
        res = super()._routing_reset_bounce(email_message, message_dict)
        self.env["mail.bounce.counter"].sudo()._reset(
            [email_normalize(message_dict.get("email_from") or "")]
        )
        return res
