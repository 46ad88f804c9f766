from collections import Counter

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools import email_normalize


class MailingMailing(models.Model):
    """Before sending (draft and scheduled mailings), the recipients a mailing will
    ignore, counted by reason, set-based in SQL over the recipient domain
    (:meth:`_get_ignored_recipients_query`), with the same rules and order as core's
    composer: blacklisted, missing e-mail, invalid e-mail, opted out, duplicate."""

    _inherit = "mailing.mailing"

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
