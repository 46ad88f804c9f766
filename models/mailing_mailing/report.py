from collections import Counter

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL
from odoo.tools import email_normalize

from ...tools import delivery_report
from ...tools import mailing_figures
from ...tools.delivery_report import FAILURE_TYPE_REASONS
from ...tools.delivery_report import IGNORED_REASONS

#: trace statuses of a mail that left Odoo
SENT_STATUSES = ("sent", "open", "reply", "bounce")
#: trace statuses of a mail still waiting to leave
WAITING_STATUSES = ("outgoing", "process", "pending")
#: registry category of a failure no entry explains, by trace failure type
FALLBACK_CATEGORIES = {
    "mail_smtp": "server_error",
    "mail_from_invalid": "sender_blocked",
    "mail_from_missing": "sender_blocked",
}


class MailingMailing(models.Model):
    """Mass mailings show why mails are not sent, before and after sending.

    Before sending (draft and scheduled mailings), the recipients that will be
    ignored are counted by reason (``ignored.py``). After sending, the same breakdown is read from the traces, and the mails that
    were not sent are split into permanent and temporary failures by the delivery
    error registry. :meth:`get_delivery_report` returns the figures as a dict; the
    banners of the form read them. The retry re-sends only temporary failures and
    keeps the traces (attempt count, last error, history).
    """

    _inherit = "mailing.mailing"

    delivery_report_stage = fields.Selection(
        [("before", "Before sending"), ("after", "After sending")],
        compute="_compute_delivery_report",
    )
    ignored_count = fields.Integer(string="Ignored", compute="_compute_delivery_report")
    ignored_blacklisted_count = fields.Integer(
        string="Blacklisted", compute="_compute_delivery_report"
    )
    ignored_blacklisted_detail = fields.Char(
        string="Blacklisted by reason", compute="_compute_delivery_report"
    )
    ignored_missing_count = fields.Integer(
        string="Missing e-mail", compute="_compute_delivery_report"
    )
    ignored_invalid_count = fields.Integer(
        string="Invalid e-mail", compute="_compute_delivery_report"
    )
    ignored_optout_count = fields.Integer(string="Opted out", compute="_compute_delivery_report")
    ignored_duplicate_count = fields.Integer(string="Duplicate", compute="_compute_delivery_report")
    not_sent_count = fields.Integer(string="Not sent", compute="_compute_delivery_report")
    not_sent_permanent_count = fields.Integer(
        string="Permanent failures", compute="_compute_delivery_report"
    )
    not_sent_permanent_detail = fields.Char(
        string="Permanent failures by cause", compute="_compute_delivery_report"
    )
    not_sent_temporary_count = fields.Integer(
        string="Temporary failures", compute="_compute_delivery_report"
    )
    not_sent_temporary_detail = fields.Char(
        string="Temporary failures by cause", compute="_compute_delivery_report"
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("state", "mailing_domain", "mailing_model_id", "contact_list_ids")
    def _compute_delivery_report(self):
        for mailing in self:
            report = (
                mailing.get_delivery_report()
                if mailing._origin.id and mailing.mailing_type == "mail"
                else mailing._get_empty_delivery_report()
            )
            ignored = report["ignored"]
            failed = report["failed"]
            mailing.delivery_report_stage = report["stage"]
            mailing.ignored_count = report["ignored_total"]
            mailing.ignored_blacklisted_count = ignored.get("blacklisted", 0)
            mailing.ignored_missing_count = ignored.get("missing", 0)
            mailing.ignored_invalid_count = ignored.get("invalid", 0)
            mailing.ignored_optout_count = ignored.get("optout", 0)
            mailing.ignored_duplicate_count = ignored.get("duplicate", 0)
            mailing.ignored_blacklisted_detail = mailing._format_counts(
                report["blacklisted_by_reason"],
                dict(
                    self.env["mail.blacklist"]
                    ._fields["block_reason"]
                    ._description_selection(self.env)
                ),
            )
            categories = dict(
                self.env["mail.delivery.error"]._fields["category"]._description_selection(self.env)
            )
            mailing.not_sent_count = report["failed_total"]
            mailing.not_sent_permanent_count = sum(failed["permanent"].values())
            mailing.not_sent_temporary_count = sum(failed["temporary"].values())
            mailing.not_sent_permanent_detail = mailing._format_counts(
                failed["permanent"], categories
            )
            mailing.not_sent_temporary_detail = mailing._format_counts(
                failed["temporary"], categories
            )

    def _compute_statistics(self):
        """Core's statistic buttons and blue banner count as every other screen
        (``tools/mailing_figures.py``): ``canceled`` is the recipients ignored before
        sending (core also counts an invalid address as a failure), ``failed`` the
        mails Odoo tried and could not send, and each ratio is the share of the base
        the live summary states (received: of the recipients mailed; opened and
        replied: of the e-mails delivered; bounced: of the e-mails sent)."""
        res = super()._compute_statistics()
        mailings = self.filtered(lambda m: m.mailing_type == "mail")
        all_figures = mailings._get_figures()
        for mailing in mailings:
            figures = all_figures[mailing.id]
            rates = mailing_figures.rates(figures)
            mailing.update(
                {
                    "canceled": figures["ignored"],
                    "failed": figures["not_sent"],
                    "received_ratio": rates["delivered"],
                    "opened_ratio": rates["opened"],
                    "replied_ratio": rates["replied"],
                    "bounced_ratio": rates["bounced"],
                }
            )
        return res

    def _compute_clicks_ratio(self):
        """Core's click ratio, as a share of the e-mails delivered (the live summary's)."""
        res = super()._compute_clicks_ratio()
        mailings = self.filtered(lambda m: m.mailing_type == "mail")
        all_figures = mailings._get_figures()
        for mailing in mailings:
            mailing.clicks_ratio = mailing_figures.rates(all_figures[mailing.id])["clicked"]
        return res

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_traces_canceled(self):
        """Core's "cancelled" line and button: the recipients ignored, as counted."""
        self.ensure_one()
        return self.action_view_summary_traces("ignored")

    def action_view_traces_failed(self):
        """Core's "could not be sent" line: the mails not sent, as counted."""
        self.ensure_one()
        return self.action_view_summary_traces("not_sent")

    def action_view_traces_sent(self):
        self.ensure_one()
        return self.action_view_summary_traces("sent")

    def action_send_mail(self, res_ids=None):
        res = super().action_send_mail(res_ids=res_ids)
        if len(self) == 1 and not self.env.context.get("mmd_no_redirect"):
            return self.action_view_delivery_results()
        return res

    def action_launch(self):
        res = super().action_launch()
        if len(self) == 1 and not self.env.context.get("mmd_no_redirect"):
            return self.action_view_delivery_results()
        return res

    def action_view_delivery_results(self):
        """The dispatch list of the mailing: one line per recipient with its status."""
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id("mass_mailing.mailing_trace_action")
        action.update(
            name=self.env._("Delivery results: %(mailing)s", mailing=self.subject or self.name),
            domain=[("mass_mailing_id", "=", self.id)],
            # a facet says which mailing the list shows; its title says which figure
            context={
                "create": False,
                "search_default_group_by_trace_status": False,
                "search_default_mass_mailing_id": self.id,
            },
            views=[
                (self.env.ref("mass_mailing.mailing_trace_view_tree_mail").id, "list"),
                (self.env.ref("mass_mailing.mailing_trace_view_form").id, "form"),
            ],
        )
        return action

    def action_view_ignored_recipients(self):
        """The recipients ignored for the reason in context ``mmd_reason`` (all reasons
        when absent): the documents before sending, the traces after."""
        self.ensure_one()
        reason = self.env.context.get("mmd_reason")
        reasons = [reason] if reason in IGNORED_REASONS else list(IGNORED_REASONS)
        if self._get_delivery_report_stage() == "after":
            failure_types = [ftype for ftype, r in FAILURE_TYPE_REASONS.items() if r in reasons]
            action = self.action_view_delivery_results()
            action.update(
                name=self.env._(
                    "%(figure)s: %(mailing)s",
                    figure=self._get_figure_labels()["ignored"],
                    mailing=self.subject or self.name,
                ),
                domain=[
                    ("mass_mailing_id", "=", self.id),
                    ("trace_status", "in", ("cancel", "error")),
                    ("failure_type", "in", failure_types),
                ],
            )
            return action
        res_ids = self._get_ignored_recipient_ids(reasons)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Ignored recipients"),
            "res_model": self.mailing_model_real,
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", res_ids)],
            "context": {"create": False},
        }

    def action_view_not_sent(self):
        """The traces not sent, for the permanence in context ``mmd_permanence``."""
        self.ensure_one()
        permanence = self.env.context.get("mmd_permanence")
        traces = self._get_failed_traces()
        if permanence in ("permanent", "temporary"):
            traces = traces.filtered(lambda t: t._get_failure_permanence() == permanence)
        action = self.action_view_delivery_results()
        action.update(
            name=self.env._(
                "%(figure)s: %(mailing)s",
                figure=self._get_figure_labels()["not_sent"],
                mailing=self.subject or self.name,
            ),
            domain=[("id", "in", traces.ids)],
        )
        return action

    def action_retry_failed(self):
        """Send again the temporary failures only, keeping their traces and history.

        Permanent failures would fail again and hurt the sender's reputation: they stay
        as they are. A recipient blocked since the failure is not retried (its trace is
        cancelled as blacklisted); one blocked by this very failure (a refusal at sending,
        applied as a bounce) is a permanent failure. Unlike core, failed mails and traces are not deleted.
        """
        self.check_access("write")
        counts = Counter()
        Blacklist = self.env["mail.blacklist"]
        requeue = self.browse()
        for mailing in self:
            failed = mailing._get_failed_traces()
            blocked = Blacklist._get_block_summaries(
                [email_normalize(email or "") for email in failed.mapped("email")]
            )
            to_retry = failed.browse()
            for trace in failed:
                entry = blocked.get(email_normalize(trace.email or ""))
                refused_for_good = (
                    entry
                    and entry.bounce_event_id.trace_id == trace
                    and entry.block_reason in ("hard_bounce", "invalid")
                )
                if entry and not refused_for_good:
                    trace._mark_blocked_since()
                    counts["blocked"] += 1
                elif trace._get_failure_permanence() == "temporary":
                    to_retry |= trace
                else:
                    counts["permanent"] += 1
            resent, lost = to_retry._requeue_for_retry()
            counts["retried"] += len(resent) + len(lost)
            if lost:
                requeue |= mailing
        if requeue:
            requeue.action_put_in_queue()
        if counts["retried"]:
            self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger()
        message = self.env._(
            "Temporary failures sent again: %(retried)s; permanent failures, not retried: "
            "%(permanent)s; recipients blocked since, not retried: %(blocked)s.",
            retried=counts["retried"],
            permanent=counts["permanent"],
            blocked=counts["blocked"],
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if counts["retried"] else "warning",
                "message": message,
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------
    # DELIVERY REPORT
    # ------------------------------------------------------------

    def get_delivery_report(self):
        """The figures of the delivery banners, for the form, JSON-RPC clients and tests.

        Before sending (draft, scheduled), computed from the recipients; after, from
        the traces. Keys:

        * ``stage``: ``"before"`` or ``"after"``;
        * ``total``: recipients (before) or traces (after);
        * ``ignored``: ``{reason: count}`` with reason in blacklisted, missing,
          invalid, optout, duplicate (only reasons with a count);
        * ``ignored_total``; ``blacklisted_by_reason``: ``{block_reason: count}``;
        * ``failed``: ``{"permanent": {category: count}, "temporary": {category: count}}``
          (the mails not sent; empty before sending);
        * ``failed_total``; ``sent``: mails that left (after) or will leave (before);
        * ``waiting``: mails still queued (after sending);
        * ``advice``: ``{"permanent": text, "temporary": text}``: what to do.

        :return: dict
        """
        self.ensure_one()
        if self._get_delivery_report_stage() == "after":
            report = self._get_delivery_report_after()
        else:
            report = self._get_delivery_report_before()
        report["advice"] = self._get_delivery_report_advice()
        return report

    def _get_empty_delivery_report(self):
        return {
            "stage": self._get_delivery_report_stage(),
            "total": 0,
            "ignored": {},
            "ignored_total": 0,
            "blacklisted_by_reason": {},
            "failed": {"permanent": {}, "temporary": {}},
            "failed_total": 0,
            "sent": 0,
            "waiting": 0,
        }

    def _get_delivery_report_stage(self):
        self.ensure_one()
        return "before" if self.state in ("draft", "in_queue") else "after"

    def _get_delivery_report_advice(self):
        return {
            "permanent": self.env._(
                "Permanent failures: the receiving server refused the address (unknown "
                "recipient, domain that does not exist, disabled mailbox). Do not retry: "
                "correct the address on the contact or remove it."
            ),
            "temporary": self.env._(
                "Temporary failures: the server was busy, the mailbox full or the connection "
                "failed. Use “Retry” later: only these are sent again."
            ),
            "ignored": self.env._(
                "Ignored recipients are never sent: blocked addresses, missing or invalid "
                "e-mails, opt-outs and duplicates. Correct the contacts to include them."
            ),
        }

    def _get_delivery_report_after(self):
        """Banner figures of a sent (or sending) mailing, read from its traces."""
        self.ensure_one()
        report = self._get_empty_delivery_report()
        Trace = self.env["mailing.trace"]
        Trace.flush_model(
            ["mass_mailing_id", "trace_status", "failure_type", "failure_reason", "email"]
        )
        self.env["mail.delivery.error"].flush_model(["permanence", "category"])
        self.env.cr.execute(
            SQL(
                """
                SELECT t.trace_status, t.failure_type, e.permanence, e.category,
                       bl.block_reason, SUBSTRING(t.failure_reason FROM '^\\s*([245][0-9][0-9])'),
                       SUBSTRING(t.failure_reason FROM '([245]\\.[0-9]{1,3}\\.[0-9]{1,3})'),
                       COUNT(*)
                  FROM mailing_trace t
                  LEFT JOIN mail_delivery_error e ON e.id = t.delivery_error_id
                  LEFT JOIN mail_blacklist bl
                    ON t.failure_type = 'mail_bl' AND bl.email = LOWER(t.email) AND bl.active
                 WHERE t.mass_mailing_id = %s
                 GROUP BY 1, 2, 3, 4, 5, 6, 7
                """,
                self._origin.id or 0,
            )
        )
        blacklisted_by_reason = Counter()
        failed = {"permanent": Counter(), "temporary": Counter()}
        for (
            status,
            ftype,
            permanence,
            category,
            block_reason,
            code,
            status_code,
            count,
        ) in self.env.cr.fetchall():
            report["total"] += count
            reason = FAILURE_TYPE_REASONS.get(ftype)
            if status in ("cancel", "error") and reason:
                report["ignored"][reason] = report["ignored"].get(reason, 0) + count
                if reason == "blacklisted":
                    blacklisted_by_reason[block_reason or "manual"] += count
            elif status == "error":
                kind = self._get_permanence(permanence, ftype, code, status_code)
                failed[kind][category or FALLBACK_CATEGORIES.get(ftype, "unknown")] += count
            elif status in SENT_STATUSES:
                report["sent"] += count
            elif status in WAITING_STATUSES:
                report["waiting"] += count
        report["ignored_total"] = sum(report["ignored"].values())
        report["blacklisted_by_reason"] = dict(blacklisted_by_reason)
        report["failed"] = {key: dict(counter) for key, counter in failed.items()}
        report["failed_total"] = sum(sum(counter.values()) for counter in failed.values())
        return report

    @api.model
    def _get_permanence(self, permanence, failure_type, code=None, status=None):
        """Permanence of one failure: the registry's, else read from its reply code;
        a sender configuration error is permanent (it fails again until fixed)."""
        if permanence in ("permanent", "temporary"):
            return permanence
        if failure_type in ("mail_from_invalid", "mail_from_missing"):
            return "permanent"
        return delivery_report.permanence_from_reply(code and int(code), status)

    def _get_failed_traces(self):
        """The traces of mails that could not be sent (not the ignored recipients)."""
        self.ensure_one()
        return (
            self.env["mailing.trace"]
            .sudo()
            .search(
                [
                    ("mass_mailing_id", "=", self.id),
                    ("trace_status", "=", "error"),
                    ("failure_type", "not in", list(FAILURE_TYPE_REASONS)),
                ]
            )
        )

    @api.model
    def _format_counts(self, counts, labels):
        """``"Label 1: 3, Label 2: 1"`` for ``{key: count}``, largest first."""
        return ", ".join(
            f"{labels.get(key, key)}: {count}"
            for key, count in sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
        )
