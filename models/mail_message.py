from odoo import models
from odoo.addons.mail.tools.discuss import Store


class MailMessage(models.Model):
    """Chatter messages carry the states of their tracked e-mails (icons beside
    the message date)."""

    _inherit = "mail.message"

    def _to_store(self, store: Store, /, *, fields=None, **kwargs):
        super()._to_store(store, fields=fields, **kwargs)
        if not self or not self.env.user._is_internal():
            return
        trackings_sudo = (
            self.env["mail.tracking.email"]
            .sudo()
            .search([("mail_message_id", "in", self.ids)], order="id")
        )
        if not trackings_sudo:
            return
        labels = dict(trackings_sudo._fields["state"]._description_selection(self.env))
        by_message = {}
        for tracking in trackings_sudo:
            by_message.setdefault(tracking.mail_message_id.id, []).append(
                {
                    "id": tracking.id,
                    "email": tracking.email,
                    "state": tracking.state,
                    "state_label": labels.get(tracking.state, tracking.state),
                }
            )
        for message in self:
            if message.id in by_message:
                store.add(message, {"mmdTracking": by_message[message.id]})
