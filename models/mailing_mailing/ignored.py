from collections import Counter

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
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
    ignored are counted by reason, set-based in SQL over the recipient domain
    (:meth:`_get_ignored_recipients_query`), with the same rules and order as core's
    composer (blacklisted, missing e-mail, invalid e-mail, opted out, duplicate).
    After sending, the same breakdown is read from the traces, and the mails that
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

    def _get_delivery_report_before(self):
        """Banner figures of a mailing not sent yet, in one SQL query."""
        self.ensure_one()
        report = self._get_empty_delivery_report()
        query = self._get_ignored_counts_query()
        if query is None:
            return self._get_delivery_report_before_python(report)
        self.env.cr.execute(query)
        blacklisted_by_reason = Counter()
        ignored = Counter()
        for reason, block_reason, duplicates, addresses, total in self.env.cr.fetchall():
            report["total"] += total
            if reason == "candidate":
                report["sent"] += addresses
                ignored["duplicate"] += duplicates
                continue
            ignored[reason] += total
            if reason == "blacklisted":
                blacklisted_by_reason[block_reason or "manual"] += total
        report["ignored"] = {reason: count for reason, count in ignored.items() if count}
        report["ignored_total"] = sum(report["ignored"].values())
        report["blacklisted_by_reason"] = dict(blacklisted_by_reason)
        return report

    def _get_delivery_report_before_python(self, report):
        """Fallback for target models without a stored normalized e-mail: classify the
        remaining recipients in Python, with the same rules."""
        records = self.env[self.mailing_model_real].browse(self._get_remaining_recipients())
        blacklist = self.env["mail.blacklist"]._get_block_summaries(
            [email_normalize(email) for email in records._mail_get_primary_email().values()]
        )
        optout = set(self._get_opt_out_list())
        seen = set(self._get_seen_list())
        done = set()
        for record in records:
            email = record._mail_get_primary_email()[record.id]
            normalized = email_normalize(email or "")
            if normalized and normalized in blacklist:
                reason = "blacklisted"
                key = blacklist[normalized].block_reason or "manual"
                report["blacklisted_by_reason"][key] = (
                    report["blacklisted_by_reason"].get(key, 0) + 1
                )
            elif not (email or "").strip():
                reason = "missing"
            elif not normalized:
                reason = "invalid"
            elif normalized in optout:
                reason = "optout"
            elif normalized in seen or normalized in done:
                reason = "duplicate"
            else:
                reason = None
                done.add(normalized)
            report["total"] += 1
            if reason:
                report["ignored"][reason] = report["ignored"].get(reason, 0) + 1
            else:
                report["sent"] += 1
        report["ignored_total"] = sum(report["ignored"].values())
        return report

    def _get_ignored_recipients_query(self):
        """SQL classifying every remaining recipient of the mailing (one row each:
        ``id``, ``reason``, ``block_reason``), with core composer's rules and order:
        blacklisted, missing e-mail, invalid e-mail, opted out, duplicate (already
        mailed by this mailing, or an earlier recipient with the same address).
        ``reason`` is ``to_send`` for the recipients that will be mailed.

        :return: ``odoo.tools.SQL``, or None when the target model has no stored
            normalized e-mail (the report then falls back to Python)
        """
        rows = self._get_recipient_rows_query()
        if rows is None:
            return None
        return SQL(
            """
            SELECT id,
                   CASE WHEN reason != 'candidate' THEN reason
                        WHEN ROW_NUMBER() OVER (PARTITION BY norm ORDER BY id) > 1
                        THEN 'duplicate'
                        ELSE 'to_send'
                   END AS reason,
                   block_reason
              FROM (%s) AS recipient_rows
            """,
            rows,
        )

    def _get_ignored_counts_query(self):
        """SQL counting the remaining recipients by reason (``reason``, ``block_reason``,
        ``count``): the figures of :meth:`_get_ignored_recipients_query` without sorting
        the recipients, as the first of the recipients sharing an address is sent and
        the others are duplicates, whichever is first."""
        rows = self._get_recipient_rows_query()
        if rows is None:
            return None
        return SQL(
            """
            SELECT reason, block_reason, SUM(n)::int - COUNT(*)::int AS duplicates,
                   COUNT(*)::int AS addresses, SUM(n)::int AS total
              FROM (SELECT reason, block_reason, norm, COUNT(*) AS n
                      FROM (%s) AS recipient_rows
                     GROUP BY reason, block_reason, norm) AS by_address
             GROUP BY reason, block_reason
            """,
            rows,
        )

    def _get_recipient_rows_query(self):
        """SQL of the remaining recipients (``id``, ``norm``, ``reason``,
        ``block_reason``), ``reason`` being ``candidate`` for those that will be sent
        unless an earlier recipient has the same address; None when the target model
        has no stored normalized e-mail."""
        self.ensure_one()
        Target = self.env[self.mailing_model_real]
        email_field = Target._primary_email if hasattr(Target, "_primary_email") else None
        if not (
            email_field
            and email_field in Target._fields
            and Target._fields[email_field].store
            and "email_normalized" in Target._fields
            and Target._fields["email_normalized"].store
        ):
            return None
        self.env["mail.blacklist"].flush_model(["email", "active", "block_reason"])
        self.env["mailing.trace"].flush_model(["mass_mailing_id", "model", "res_id", "email"])
        Target.flush_model([email_field, "email_normalized"])
        query = Target._search(self._get_recipients_domain())
        alias = query.table
        recipients = query.select(
            SQL("%s AS id", SQL.identifier(alias, "id")),
            SQL("%s AS email", Target._field_to_sql(alias, email_field, query)),
            SQL("%s AS norm", Target._field_to_sql(alias, "email_normalized", query)),
        )
        return SQL(
            """
            WITH recipient AS (%(recipients)s),
            remaining AS (
                SELECT r.* FROM recipient r
                 WHERE NOT EXISTS (
                     SELECT 1 FROM mailing_trace mt
                      WHERE mt.mass_mailing_id = %(mailing_id)s
                        AND mt.model = %(model)s AND mt.res_id = r.id)
            ),
            seen AS (
                SELECT DISTINCT mt.email FROM mailing_trace mt
                 WHERE mt.mass_mailing_id = %(mailing_id)s AND mt.model = %(model)s
                   AND mt.email IS NOT NULL
            ),
            optout AS (%(optout)s)
            SELECT r.id, r.norm,
                   CASE WHEN bl.id IS NOT NULL THEN 'blacklisted'
                        WHEN COALESCE(BTRIM(r.email), '') = '' THEN 'missing'
                        WHEN r.norm IS NULL OR r.norm !~ %(address_re)s THEN 'invalid'
                        WHEN oo.email IS NOT NULL THEN 'optout'
                        WHEN seen.email IS NOT NULL THEN 'duplicate'
                        ELSE 'candidate'
                   END AS reason,
                   bl.block_reason
              FROM remaining r
              LEFT JOIN mail_blacklist bl ON bl.email = r.norm AND bl.active
              LEFT JOIN optout oo ON oo.email = r.norm
              LEFT JOIN seen ON seen.email = r.norm
            """,
            recipients=recipients,
            mailing_id=self._origin.id or 0,
            model=self.mailing_model_real,
            optout=self._get_optout_emails_query(),
            # what core's normalisation leaves of a broken address ("a@@b" -> "@b") is not
            # one: core then fails it at send time as an invalid e-mail
            address_re=r"^[^@\s]+@[^@\s]+$",
        )

    def _get_optout_emails_query(self):
        """SQL of the opted-out normalized e-mails (column ``email``): on mailing lists,
        the addresses opted out of every list of the mailing they belong to (core's
        ``_mailing_get_opt_out_list``); otherwise core's opt-out list, if any."""
        if self.mailing_model_name == "mailing.list" and self.contact_list_ids:
            self.env["mailing.subscription"].flush_model(["list_id", "contact_id", "opt_out"])
            self.env["mailing.contact"].flush_model(["email_normalized"])
            return SQL(
                """
                SELECT c.email_normalized AS email
                  FROM mailing_subscription s
                  JOIN mailing_contact c ON c.id = s.contact_id
                 WHERE s.list_id IN %s AND c.email_normalized IS NOT NULL
                 GROUP BY c.email_normalized
                HAVING BOOL_AND(s.opt_out)
                """,
                tuple(self.contact_list_ids._origin.ids),
            )
        emails = [email for email in self._get_opt_out_list() if email]
        if not emails:
            return SQL("SELECT NULL::varchar AS email WHERE FALSE")
        return SQL("SELECT UNNEST(%s::varchar[]) AS email", list(emails))

    def _get_ignored_recipient_ids(self, reasons):
        """Ids of the remaining recipients ignored for one of ``reasons``."""
        self.ensure_one()
        query = self._get_ignored_recipients_query()
        if query is None:
            raise UserError(
                self.env._("The recipients of this mailing cannot be listed by reason.")
            )
        self.env.cr.execute(
            SQL("SELECT id FROM (%s) AS classified WHERE reason IN %s", query, tuple(reasons))
        )
        return [row[0] for row in self.env.cr.fetchall()]

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
