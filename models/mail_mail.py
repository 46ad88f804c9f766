from odoo import fields
from odoo import models


class MailMail(models.Model):
    """Links every failed outgoing e-mail to its delivery error registry entry,
    when the failure is recorded (state ``exception`` with a failure reason)."""

    _inherit = "mail.mail"

    delivery_error_id = fields.Many2one(
        "mail.delivery.error", string="Delivery error", index="btree_not_null", readonly=True
    )
    delivery_error_explanation = fields.Text(related="delivery_error_id.explanation")
    delivery_error_advice = fields.Text(related="delivery_error_id.advice")

    def write(self, vals):
        res = super().write(vals)
        if vals.get("state") == "exception" and "delivery_error_id" not in vals:
            self._link_delivery_errors()
        return res

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        # mass mailing traces keep the server's own reply (core leaves them "unknown")
        failed_traces = (
            self.sudo().filtered("mailing_id").mailing_trace_ids if failure_type else None
        )
        raw_reasons = {mail.id: failure_reason or mail.failure_reason for mail in self}
        # The document's chatter shows the notification's failure reason: lead with
        # the registry's plain explanation and advice, keep the server's own words.
        if failure_reason and len(self) == 1 and self.delivery_error_id:
            failure_reason = self._get_explained_failure_reason(failure_reason)
        res = super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )
        if failed_traces:
            for trace in failed_traces.exists():
                trace._record_smtp_failure(raw_reasons.get(trace.mail_mail_id_int))
        return res

    def _get_explained_failure_reason(self, failure_reason):
        self.ensure_one()
        entry = self.delivery_error_id.with_context(lang=self.author_id.lang or self.env.lang)
        return self.env._(
            "%(name)s: %(explanation)s\nWhat to do: %(advice)s\n\nServer reply: %(reason)s",
            name=entry.name,
            explanation=entry.explanation,
            advice=entry.advice,
            reason=failure_reason,
        )

    def _link_delivery_errors(self):
        """Classify the failed mails of ``self``; return how many got an entry."""
        return (
            self.env["mail.delivery.error"]
            .sudo()
            ._link_failures(
                self.filtered(lambda m: m.state == "exception"),
                lambda mail: mail.failure_reason,
                lambda mail: mail.email_to or mail.recipient_ids[:1].email,
            )
        )

    def _reclassify_failures(self, limit=50000):
        mails = self.sudo().search(
            [("state", "=", "exception"), ("delivery_error_id", "=", False)],
            order="id desc",
            limit=limit,
        )
        return mails._link_delivery_errors()
