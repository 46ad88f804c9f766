from odoo import models
from odoo.tools import email_normalize

from ...tools.providers import reference


class MailMail(models.Model):
    """The SMTP server's final reply to each sent e-mail (``250 2.0.0 Ok: queued as
    4Q1x2``) is kept, with the provider's message id read from it, on the mass mailing
    trace and the tracked document e-mail it answers: sending services' events and mail
    server logs name the e-mail by that id (Amazon SES rewrites the Message-ID)."""

    _inherit = "mail.mail"

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        self._mmd_record_server_references()
        return super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )

    def _mmd_record_server_references(self):
        """Write the replies ``ir.mail_server.send_email`` kept for these mails on their
        traces and tracked e-mails (one reply per recipient)."""
        Server = self.env["ir.mail_server"]
        for mail in self:
            replies = Server._mmd_pop_server_replies(mail.message_id) if mail.message_id else []
            if not replies:
                continue
            mail_sudo = mail.sudo()
            for record in (*mail_sudo.mailing_trace_ids, *mail_sudo.mmd_tracking_ids):
                email = email_normalize(record.email or "") or (record.email or "").lower()
                reply = next((r for rcpts, r in replies if email in rcpts), "")
                if not reply and record._name == "mailing.trace" and len(replies) == 1:
                    reply = replies[0][1]  # a mass mailing's one message, whatever its To
                if not reply:
                    continue  # not sent to this recipient (refused, invalid...)
                record.write(
                    {
                        "server_reference": reply[:500],
                        "provider_message_id": reference.parse_reference(reply) or False,
                    }
                )
