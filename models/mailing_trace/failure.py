from odoo import fields
from odoo import models
from odoo.osv import expression
from odoo.tools import email_normalize

from ...tools import delivery_report

FAILED_STATUSES = ("error", "bounce")


class MailingTrace(models.Model):
    """Links every failed or bounced trace to its delivery error registry entry.

    The link is made when the failure is recorded (any write that puts the trace
    in a failed or bounced state), from the trace's diagnostic or, for SMTP
    failures, from the failure reason of its ``mail.mail``. A failure no entry
    matches stays without entry: it is "Unclassified" and can seed a new entry.
    """

    _inherit = "mailing.trace"

    delivery_error_id = fields.Many2one(
        "mail.delivery.error", string="Delivery error", index="btree_not_null", readonly=True
    )
    delivery_error_category = fields.Selection(
        related="delivery_error_id.category", store=True, string="Error category"
    )
    delivery_error_permanence = fields.Selection(related="delivery_error_id.permanence")
    delivery_error_explanation = fields.Text(related="delivery_error_id.explanation")
    delivery_error_advice = fields.Text(related="delivery_error_id.advice")
    bounce_kind = fields.Selection(
        [("hard", "Hard bounce"), ("soft", "Soft bounce")], readonly=True, copy=False
    )
    is_complaint = fields.Boolean(string="Spam complaint", readonly=True, copy=False)
    failure_type = fields.Selection(
        selection_add=[("mail_smtp_refused", "Refused by the receiving server")],
        ondelete={"mail_smtp_refused": "set null"},
    )
    address_action = fields.Char(
        string="Done to the address",
        readonly=True,
        copy=False,
        help="What the suppression rules did to the address after this failure or bounce: "
        "blocked, counted as a soft bounce, or nothing.",
    )
    attempt_count = fields.Integer(
        string="Attempts", default=1, readonly=True, copy=False, help="Times the mail was sent."
    )
    last_error = fields.Text(
        readonly=True, copy=False, help="The last error of a failed attempt (kept after a retry)."
    )
    last_attempt_date = fields.Datetime(
        string="Last attempt", readonly=True, copy=False, help="When the mail was last sent."
    )
    delivery_history = fields.Text(
        readonly=True, copy=False, help="Every failed attempt and retry, oldest first."
    )
    server_reference = fields.Char(
        string="Server reference",
        readonly=True,
        copy=False,
        help="The SMTP server's final reply to the e-mail (e.g. '250 2.0.0 Ok: queued as "
        "4Q1x2'): how the server and its logs name it.",
    )
    provider_message_id = fields.Char(
        string="Provider message ID",
        index="btree_not_null",
        readonly=True,
        copy=False,
        help="The id the server or sending service gave the e-mail, read from its reply: "
        "its events and logs are matched by it.",
    )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    def write(self, vals):
        res = super().write(vals)
        if vals.get("trace_status") in FAILED_STATUSES and "delivery_error_id" not in vals:
            self._link_delivery_errors()
        return res

    def set_opened(self, domain=None):
        traces = super().set_opened(domain=domain)
        self._reset_soft_bounce_streaks(traces)
        return traces

    def set_clicked(self, domain=None):
        traces = super().set_clicked(domain=domain)
        self._reset_soft_bounce_streaks(traces)
        return traces

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_new_delivery_error(self):
        """Open a new registry entry pre-filled from this failure's diagnostic."""
        self.ensure_one()
        values = self.env["mail.delivery.error"]._prepare_from_diagnostic_values(
            self._get_delivery_diagnostic(), recipient=self.email or ""
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "mail.delivery.error",
            "view_mode": "form",
            "target": "new",
            "context": {f"default_{fname}": value for fname, value in values.items()},
        }

    def action_mmd_correct_address(self):
        """Open the recipient (contact, mailing contact...) to correct its e-mail."""
        self.ensure_one()
        return self.env["mail.address.correction.mixin"]._mmd_get_correct_address_action(
            self.model, self.res_id
        )

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    def _reset_soft_bounce_streaks(self, traces):
        """An open or a click proves delivery: reset the soft-bounce streaks."""
        self.env["mail.bounce.counter"].sudo()._reset(
            [email_normalize(email) for email in set(traces.mapped("email")) if email]
        )

    def _get_delivery_diagnostic(self):
        """The text that explains this trace's failure (bounce or SMTP reply)."""
        self.ensure_one()
        return self.failure_reason or self.sudo().mail_mail_id.failure_reason or ""

    def _link_delivery_errors(self):
        """Classify the failed traces of ``self``; return how many got an entry."""
        return (
            self.env["mail.delivery.error"]
            .sudo()
            ._link_failures(
                self.filtered(lambda t: t.trace_status in FAILED_STATUSES),
                lambda trace: trace._get_delivery_diagnostic(),
                lambda trace: trace.email,
            )
        )

    def _record_smtp_failure(self, failure_reason):
        """Keep the server's own reply on the failed traces of one mail.

        Core records an SMTP refusal as failure type "unknown" and leaves the trace's
        failure reason empty; the trace gets the reply code, enhanced status code and
        text (``550 5.1.1 <x@y>: User unknown``), the type "refused by the receiving
        server" when the server answered, and a line in its history.

        :param failure_reason: the failure reason of the ``mail.mail``
        """
        reply, code, _status = delivery_report.smtp_failure_reason(failure_reason)
        if not reply:
            return
        now = fields.Datetime.now()
        for trace in self.filtered(lambda t: t.trace_status == "error"):
            values = {
                "trace_status": "error",
                "failure_reason": reply,
                "last_error": reply,
                "last_attempt_date": now,
                "delivery_history": trace._get_history_with(
                    self.env._(
                        "%(date)s, attempt %(attempt)s failed: %(reply)s",
                        date=fields.Datetime.to_string(now),
                        attempt=trace.attempt_count or 1,
                        reply=reply,
                    )
                ),
            }
            if code and trace.failure_type in (False, "unknown"):
                values["failure_type"] = "mail_smtp_refused"
            trace.write(values)

    def _get_history_with(self, line):
        self.ensure_one()
        return f"{self.delivery_history}\n{line}" if self.delivery_history else line

    def _get_failure_permanence(self):
        """``permanent`` or ``temporary``: the registry's, else the reply code's."""
        self.ensure_one()
        code, status = None, None
        if self.failure_reason:
            _reply, code, status = delivery_report.smtp_failure_reason(self.failure_reason)
        return self.env["mailing.mailing"]._get_permanence(
            self.delivery_error_id.permanence, self.failure_type, code, status
        )

    def _mark_blocked_since(self):
        """A failed recipient blocked since the failure: never retried, shown as
        ignored (blacklisted); the failure stays in the history."""
        now = fields.Datetime.now()
        for trace in self:
            trace.write(
                {
                    "trace_status": "cancel",
                    "failure_type": "mail_bl",
                    "last_error": trace.failure_reason or trace.last_error,
                    "delivery_history": trace._get_history_with(
                        self.env._(
                            "%(date)s, not retried: the address is blocked since.",
                            date=fields.Datetime.to_string(now),
                        )
                    ),
                }
            )

    def _requeue_for_retry(self):
        """Put the mails of these failed traces back in the outgoing queue.

        :return: ``(resent, lost)``: the traces whose mail is queued again, and the
            traces whose mail was deleted (they are removed, so that the mailing queue
            creates them again, as core's retry does)
        """
        now = fields.Datetime.now()
        resent = self.filtered(lambda t: t.sudo().mail_mail_id.state == "exception")
        lost = self - resent
        for trace in resent:
            attempt = (trace.attempt_count or 1) + 1
            trace.write(
                {
                    "trace_status": "outgoing",
                    "failure_type": False,
                    "failure_reason": False,
                    "delivery_error_id": False,
                    "attempt_count": attempt,
                    "last_error": trace.failure_reason or trace.last_error,
                    "last_attempt_date": now,
                    "delivery_history": trace._get_history_with(
                        self.env._(
                            "%(date)s, attempt %(attempt)s: sent again (retry).",
                            date=fields.Datetime.to_string(now),
                            attempt=attempt,
                        )
                    ),
                }
            )
        resent.sudo().mail_mail_id.write(
            {
                "state": "outgoing",
                "failure_type": False,
                "failure_reason": False,
                "delivery_error_id": False,
            }
        )
        lost.sudo().unlink()
        return resent, lost

    def _reclassify_failures(self, limit=50000, entries=None):
        """Classify again the failed traces that no registry entry explains yet and,
        after ``entries`` were saved, those these entries may explain better.

        :param limit: at most this many traces per call (the most recent first)
        :param entries: the ``mail.delivery.error`` entries just saved (or None)
        :return: number of traces linked to a new entry
        """
        Error = self.env["mail.delivery.error"].sudo()
        entries = entries or Error
        traces = self.sudo().search(
            expression.AND(
                [
                    [("trace_status", "in", FAILED_STATUSES)],
                    entries._get_reclassify_domain(
                        ["failure_reason", "mail_mail_id.failure_reason"]
                    ),
                ]
            ),
            order="id desc",
            limit=limit,
        )
        self.env["mail.mail"].sudo()._reclassify_failures(limit=limit, entries=entries)
        return Error._link_failures(
            traces,
            lambda trace: trace._get_delivery_diagnostic(),
            lambda trace: trace.email,
            saved=entries,
        )
