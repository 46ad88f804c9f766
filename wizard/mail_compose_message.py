from odoo import models


class MailComposeMessage(models.TransientModel):
    """A composer sending with a template tracks its e-mails when the template
    is tracked (whatever the document's model)."""

    _inherit = "mail.compose.message"

    def _action_send_mail(self, auto_commit=False):
        tracked = self.filtered(lambda wizard: wizard.template_id.mmd_tracked)
        if not tracked:
            return super()._action_send_mail(auto_commit=auto_commit)
        mails_su, messages = super(
            MailComposeMessage, tracked.with_context(mmd_tracking=True)
        )._action_send_mail(auto_commit=auto_commit)
        others = self - tracked
        if others:
            other_mails_su, other_messages = super(MailComposeMessage, others)._action_send_mail(
                auto_commit=auto_commit
            )
            mails_su |= other_mails_su
            messages |= other_messages
        return mails_su, messages
