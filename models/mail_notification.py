from odoo import models


class MailNotification(models.Model):
    """A bounce recorded on a notification marks the recipient's tracked e-mail
    bounced."""

    _inherit = "mail.notification"

    def write(self, vals):
        res = super().write(vals)
        if vals.get("notification_status") == "bounce":
            self._mmd_mark_tracking_bounced()
        return res

    def _mmd_mark_tracking_bounced(self):
        pairs = {(n.mail_message_id.id, n.res_partner_id.id) for n in self.sudo()}
        trackings_sudo = (
            self.env["mail.tracking.email"]
            .sudo()
            .search(
                [
                    ("mail_message_id", "in", [message_id for message_id, _pid in pairs]),
                    ("partner_id", "in", [pid for _mid, pid in pairs]),
                ]
            )
        )
        trackings_sudo.filtered(
            lambda t: (t.mail_message_id.id, t.partner_id.id) in pairs
        )._set_bounced()
