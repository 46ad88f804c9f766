from odoo import models
from odoo.tools import email_normalize

from ..tools import delivery_report


class MailResendPartner(models.TransientModel):
    """A failed recipient of the failure popup, explained by the registry."""

    _inherit = "mail.resend.partner"

    def action_mmd_correct_address(self):
        """Open the failed recipient's contact to correct its e-mail address."""
        self.ensure_one()
        return self.env["mail.address.correction.mixin"]._mmd_get_correct_address_action(
            "res.partner", self.partner_id.id
        )

    def _mmd_prepare_explained_values(self):
        """``message`` (the registry's explanation and advice, and what was done to the
        address) and ``resend`` (only a temporary failure is worth trying again)."""
        self.ensure_one()
        notification_sudo = self.notification_id.sudo()
        event = self._mmd_get_bounce_event()
        entry = event.delivery_error_id or notification_sudo.mail_mail_id.delivery_error_id
        reply, code, status = delivery_report.smtp_failure_reason(
            event.diagnostic or notification_sudo.mail_mail_id.failure_reason or ""
        )
        if not entry and reply:
            entry, _result = (
                self.env["mail.delivery.error"]
                .sudo()
                ._classify(
                    reply, smtp_code=code, status=status, recipient=self.partner_id.email or ""
                )
            )
        if not entry:
            return {}
        entry = entry.with_context(lang=self.env.lang)
        parts = [
            self.env._(
                "%(name)s: %(explanation)s What to do: %(advice)s",
                name=entry.name,
                explanation=entry.explanation or "",
                advice=entry.advice or "",
            )
        ]
        if event.action_taken:
            parts.append(self.env._("Done to the address: %(action)s", action=event.action_taken))
        if reply:
            parts.append(self.env._("Server reply: %(reply)s", reply=reply))
        permanence = entry.permanence
        if permanence not in ("permanent", "temporary"):
            permanence = delivery_report.permanence_from_reply(code, status)
        return {"message": " ".join(parts), "resend": permanence == "temporary"}

    def _mmd_get_bounce_event(self):
        """The latest bounce or refusal applied to this recipient of this message."""
        self.ensure_one()
        message_id = self.notification_id.sudo().mail_message_id.message_id
        email = email_normalize(self.partner_id.email or "")
        if not message_id or not email:
            return self.env["mail.bounce.event"]
        return (
            self.env["mail.bounce.event"]
            .sudo()
            .search(
                [("original_message_id", "=", message_id), ("recipient", "=", email)],
                order="id desc",
                limit=1,
            )
        )
