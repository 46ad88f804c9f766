from odoo import fields
from odoo import models
from odoo.tools import email_normalize

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

    def _reclassify_failures(self, limit=50000):
        """Classify again the failed traces that no registry entry explains yet.

        :param limit: at most this many traces per call (the most recent first)
        :return: number of traces now linked to an entry
        """
        traces = self.sudo().search(
            [("trace_status", "in", FAILED_STATUSES), ("delivery_error_id", "=", False)],
            order="id desc",
            limit=limit,
        )
        self.env["mail.mail"].sudo()._reclassify_failures(limit=limit)
        return traces._link_delivery_errors()
