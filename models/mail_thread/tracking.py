from odoo import models
from odoo.addons.mail.tools.discuss import Store


class MailThread(models.AbstractModel):
    """Document e-mails of tracked models are tracked; every thread tells its
    chatter how many tracked e-mails it has (the envelope button)."""

    _inherit = "mail.thread"

    def _notify_by_email_get_base_mail_values(self, message, additional_values=None):
        values = super()._notify_by_email_get_base_mail_values(
            message, additional_values=additional_values
        )
        if self._mmd_is_tracked_message(message):
            values["mmd_tracked"] = True
        return values

    def _mmd_is_tracked_message(self, message):
        """A message is tracked when a composer sent it with a tracked template, or
        when it is a comment sent to the recipients of a document whose model has a
        tracked template (an internal note is never e-mailed to customers)."""
        flag = self.env.context.get("mmd_tracking")
        if flag is not None:
            return bool(flag)
        message_sudo = message.sudo()
        return (
            bool(self)
            and message_sudo.message_type == "comment"
            and message_sudo.subtype_id == self.env.ref("mail.mt_comment")
            and self._name in self.env["mail.template"]._mmd_get_tracked_models()
        )

    def _thread_to_store(self, store: Store, /, *, fields=None, request_list=None):
        super()._thread_to_store(store, fields=fields, request_list=request_list)
        if not request_list or "mmd_tracking" not in request_list:
            return
        if not self.env["mail.tracking.email"].has_access("read"):
            return
        counts = dict(
            self.env["mail.tracking.email"]
            .sudo()
            ._read_group(
                [("model", "=", self._name), ("res_id", "in", self.ids)],
                ["res_id"],
                ["__count"],
            )
        )
        for thread in self:
            store.add(thread, {"mmdTrackingCount": counts.get(thread.id, 0)}, as_thread=True)
