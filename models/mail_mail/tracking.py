from odoo import api
from odoo import fields
from odoo import models
from odoo import tools


class MailMail(models.Model):
    """Tracked document e-mails: one ``mail.tracking.email`` per recipient, whose
    body gets the open pixel and signed click redirects, and whose headers offer the
    RFC 8058 one-click unsubscribe."""

    _inherit = "mail.mail"

    mmd_tracked = fields.Boolean("Tracked", readonly=True)
    mmd_tracking_ids = fields.One2many(
        "mail.tracking.email", "mail_mail_id", string="Tracked recipients"
    )

    @api.model_create_multi
    def create(self, vals_list):
        # a composer sending with a tracked template says so in the context
        if self.env.context.get("mmd_tracking"):
            for vals in vals_list:
                if not vals.get("mailing_id"):
                    vals.setdefault("mmd_tracked", True)
        return super().create(vals_list)

    def _prepare_outgoing_list(self, mail_server=False, recipients_follower_status=None):
        email_list = super()._prepare_outgoing_list(
            mail_server=mail_server, recipients_follower_status=recipients_follower_status
        )
        if not self.mmd_tracked or self.mailing_id:
            return email_list
        trackings_sudo = self.env["mail.tracking.email"].sudo()
        # a retried send reuses the records of its first attempt
        existing = {(t.email, t.partner_id.id): t for t in self.sudo().mmd_tracking_ids}
        for email_values in email_list:
            if not email_values.get("email_to"):
                continue
            email = (
                tools.email_normalize(email_values["email_to"][0], strict=False)
                or email_values["email_to"][0]
            )
            partner = email_values.get("partner_id") or self.env["res.partner"]
            tracking_sudo = existing.get((email, partner.id))
            if not tracking_sudo:
                tracking_sudo = trackings_sudo.create(self._prepare_tracking_values(email, partner))
            elif tracking_sudo.state == "failed":
                tracking_sudo.write({"state": "pending", "failure_reason": False})
            body = tracking_sudo._prepare_tracked_body(email_values["body"])
            email_values["body"] = body
            email_values["body_alternative"] = tools.html2plaintext(body)
            # core shares one headers dict between the recipients: copy it
            email_values["headers"] = {
                **email_values["headers"],
                "List-Unsubscribe": f"<{tracking_sudo._get_unsubscribe_url(oneclick=True)}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
        return email_list

    def _prepare_tracking_values(self, email, partner):
        self.ensure_one()
        document_name = False
        if self.model and self.res_id and self.model in self.env:
            document_name = self.env[self.model].sudo().browse(self.res_id).exists().display_name
        return {
            "mail_mail_id": self.id,
            "mail_message_id": self.mail_message_id.id,
            "model": self.model,
            "res_id": self.res_id,
            "document_name": document_name,
            "partner_id": partner.id,
            "email": email,
            "subject": self.subject,
        }

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        for mail in self.filtered("mmd_tracked"):
            pending = mail.sudo().mmd_tracking_ids.filtered(lambda t: t.state == "pending")
            if not pending:
                continue
            success_ids = {
                pid.id if isinstance(pid, models.BaseModel) else pid for pid in success_pids or []
            }
            sent = pending.filtered(
                lambda t, success_ids=success_ids, mail=mail: (
                    t.partner_id.id in success_ids
                    if t.partner_id
                    else mail.state == "sent" and not failure_type
                )
            )
            sent._set_sent()
            (pending - sent)._set_failed(failure_reason or mail.failure_reason or failure_type)
        return super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )
