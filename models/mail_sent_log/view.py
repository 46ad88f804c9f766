from odoo import api
from odoo import models
from odoo import tools
from odoo.tools import SQL

from .log import DOMAIN_EXPR
from .log import ID_FACTOR
from .log import SOURCE_OFFSETS


class MailSentLog(models.Model):
    """The log's rows: a SQL view over the e-mails' records (mails, traces, tracked
    document e-mails, notifications), one row per recipient."""

    _inherit = "mail.sent.log"

    # ------------------------------------------------------------
    # VIEW
    # ------------------------------------------------------------

    def init(self):
        # the sources' columns (added by this module's other models) exist only once
        # every model of the module is initialised
        self.pool.post_init(self._create_view)

    def _create_view(self):
        tools.drop_view_if_exists(self.env.cr, "mail_sent_log_follower_rel")
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
        tools.drop_view_if_exists(self.env.cr, "mail_sent_log_follower_rel")
        self.env.cr.execute(
            SQL(
                """CREATE OR REPLACE VIEW mail_sent_log_follower_rel AS (
                       SELECT log.id AS log_id, f.partner_id AS partner_id
                         FROM %s log
                         JOIN mail_followers f
                           ON f.res_model = log.model AND f.res_id = log.res_id
                   )""",
                SQL.identifier(self._table),
            )
        )
        self._create_search_indexes()

    def _create_search_indexes(self):
        """The indexes the log's searches need on its sources (recipient domain)."""
        for table, column in (
            ("mailing_trace", "email"),
            ("mail_tracking_email", "email"),
        ):
            tools.create_index(
                self.env.cr,
                f"{table}_mmd_recipient_domain_index",
                table,
                [DOMAIN_EXPR.format(column)],
            )

    def _query(self):
        """The view's SELECT: a UNION ALL of the four sources, one row per recipient."""
        return SQL(
            """
            SELECT log.*, err.category AS delivery_error_category,
                   %(domain)s AS recipient_domain
              FROM (%(trace)s UNION ALL %(tracking)s UNION ALL %(notification)s
                    UNION ALL %(mail)s) AS log
         LEFT JOIN mail_delivery_error err ON err.id = log.delivery_error_id
            """,
            domain=SQL(DOMAIN_EXPR.format("log.email")),
            trace=self._query_trace(),
            tracking=self._query_tracking(),
            notification=self._query_notification(),
            mail=self._query_mail(),
        )

    def _query_trace(self):
        return SQL(
            """
            SELECT t.id::bigint * %(factor)s + %(offset)s AS id,
                   'trace'::varchar AS source, t.id AS source_id,
                   COALESCE(t.sent_datetime, t.create_date) AS date,
                   t.create_date AS queued_date, t.sent_datetime AS sent_date,
                   t.open_datetime AS open_date, t.links_click_datetime AS click_date,
                   u.partner_id AS author_id, mailing.email_from AS email_from,
                   t.email AS email,
                   CASE WHEN t.model = 'res.partner' THEN t.res_id END AS partner_id,
                   mailing.subject AS subject, t.model AS model, t.res_id AS res_id,
                   NULL::varchar AS document_name,
                   t.mass_mailing_id AS mailing_id, t.mail_mail_id AS mail_mail_id,
                   NULL::integer AS mail_message_id, NULL::integer AS company_id,
                   CASE
                       WHEN t.trace_status IN ('outgoing', 'process') THEN 'queued'
                       WHEN t.trace_status = 'bounce' THEN 'bounced'
                       WHEN %(ignored)s THEN 'ignored'
                       WHEN t.trace_status = 'error' THEN 'failed'
                       WHEN t.links_click_datetime IS NOT NULL THEN 'clicked'
                       WHEN t.trace_status IN ('open', 'reply') THEN 'opened'
                       WHEN EXISTS (
                           SELECT 1 FROM mail_bounce_event ev
                            WHERE ev.trace_id = t.id AND ev.kind = 'delivered'
                       ) THEN 'delivered'
                       ELSE 'sent'
                   END::varchar AS state,
                   t.failure_reason AS failure_reason,
                   t.delivery_error_id AS delivery_error_id,
                   t.server_reference AS server_reference,
                   t.address_action AS address_action
              FROM mailing_trace t
         LEFT JOIN mailing_mailing mailing ON mailing.id = t.mass_mailing_id
         LEFT JOIN res_users u ON u.id = mailing.user_id
             WHERE t.trace_type = 'mail'
            """,
            factor=ID_FACTOR,
            offset=SOURCE_OFFSETS["trace"],
            ignored=self.env["mailing.mailing"]._get_ignored_trace_sql("t"),
        )

    @api.model
    def _query_address_action(self, email):
        """What the suppression rules did to the address of a failed or bounced document
        e-mail: the latest bounce or refusal of that message for that address (a mass
        mailing's trace keeps it itself).

        :param email: SQL expression of the row's recipient address
        """
        return SQL(
            """(SELECT ev.action_taken
                  FROM mail_bounce_event ev
                 WHERE ev.original_message_id = msg.message_id
                   AND ev.recipient = lower(%s)
                   AND ev.action_taken IS NOT NULL
              ORDER BY ev.id DESC
                 LIMIT 1)""",
            email,
        )

    def _query_tracking(self):
        return SQL(
            """
            SELECT tr.id::bigint * %(factor)s + %(offset)s AS id,
                   'tracking'::varchar AS source, tr.id AS source_id,
                   COALESCE(tr.sent_date, tr.create_date) AS date,
                   tr.create_date AS queued_date, tr.sent_date AS sent_date,
                   tr.first_open_date AS open_date, tr.first_click_date AS click_date,
                   msg.author_id AS author_id, msg.email_from AS email_from,
                   tr.email AS email, tr.partner_id AS partner_id,
                   COALESCE(tr.subject, msg.subject) AS subject,
                   tr.model AS model, tr.res_id AS res_id,
                   COALESCE(tr.document_name, msg.record_name) AS document_name,
                   NULL::integer AS mailing_id, tr.mail_mail_id AS mail_mail_id,
                   tr.mail_message_id AS mail_message_id,
                   msg.record_company_id AS company_id,
                   CASE WHEN tr.state = 'pending' THEN 'queued' ELSE tr.state END::varchar
                       AS state,
                   tr.failure_reason AS failure_reason,
                   mail.delivery_error_id AS delivery_error_id,
                   tr.server_reference AS server_reference,
                   CASE WHEN tr.state IN ('failed', 'bounced') THEN %(address_action_tr)s END
                       AS address_action
              FROM mail_tracking_email tr
         LEFT JOIN mail_message msg ON msg.id = tr.mail_message_id
         LEFT JOIN mail_mail mail ON mail.id = tr.mail_mail_id
            """,
            factor=ID_FACTOR,
            offset=SOURCE_OFFSETS["tracking"],
            address_action_tr=self._query_address_action(SQL("tr.email")),
        )

    def _query_notification(self):
        return SQL(
            """
            SELECT n.id::bigint * %(factor)s + %(offset)s AS id,
                   'notification'::varchar AS source, n.id AS source_id,
                   msg.date AS date, msg.date AS queued_date,
                   CASE WHEN n.notification_status IN ('pending', 'sent', 'bounce')
                        THEN msg.date END AS sent_date,
                   NULL::timestamp AS open_date, NULL::timestamp AS click_date,
                   msg.author_id AS author_id, msg.email_from AS email_from,
                   COALESCE(partner.email_normalized, partner.email) AS email,
                   n.res_partner_id AS partner_id, msg.subject AS subject,
                   msg.model AS model, msg.res_id AS res_id,
                   msg.record_name AS document_name,
                   NULL::integer AS mailing_id, n.mail_mail_id AS mail_mail_id,
                   n.mail_message_id AS mail_message_id,
                   msg.record_company_id AS company_id,
                   CASE n.notification_status
                       WHEN 'ready' THEN 'queued'
                       WHEN 'process' THEN 'queued'
                       WHEN 'bounce' THEN 'bounced'
                       WHEN 'exception' THEN 'failed'
                       WHEN 'canceled' THEN 'ignored'
                       ELSE 'sent'
                   END::varchar AS state,
                   n.failure_reason AS failure_reason,
                   mail.delivery_error_id AS delivery_error_id,
                   NULL::varchar AS server_reference,
                   CASE WHEN n.notification_status IN ('exception', 'bounce')
                        THEN %(address_action_n)s END AS address_action
              FROM mail_notification n
              JOIN mail_message msg ON msg.id = n.mail_message_id
         LEFT JOIN res_partner partner ON partner.id = n.res_partner_id
         LEFT JOIN mail_mail mail ON mail.id = n.mail_mail_id
             WHERE n.notification_type = 'email'
               AND NOT EXISTS (
                   SELECT 1 FROM mail_tracking_email tr
                    WHERE tr.mail_message_id = n.mail_message_id
                      AND tr.partner_id = n.res_partner_id
               )
            """,
            factor=ID_FACTOR,
            offset=SOURCE_OFFSETS["notification"],
            address_action_n=self._query_address_action(SQL("partner.email_normalized")),
        )

    def _query_mail(self):
        return SQL(
            """
            SELECT mail.id::bigint * %(factor)s + %(offset)s AS id,
                   'mail'::varchar AS source, mail.id AS source_id,
                   COALESCE(msg.date, mail.create_date) AS date,
                   mail.create_date AS queued_date,
                   CASE WHEN mail.state IN ('sent', 'received') THEN mail.write_date END
                       AS sent_date,
                   NULL::timestamp AS open_date, NULL::timestamp AS click_date,
                   msg.author_id AS author_id, msg.email_from AS email_from,
                   mail.email_to::varchar AS email, NULL::integer AS partner_id,
                   msg.subject AS subject, msg.model AS model, msg.res_id AS res_id,
                   msg.record_name AS document_name,
                   NULL::integer AS mailing_id, mail.id AS mail_mail_id,
                   mail.mail_message_id AS mail_message_id,
                   msg.record_company_id AS company_id,
                   CASE mail.state
                       WHEN 'outgoing' THEN 'queued'
                       WHEN 'exception' THEN 'failed'
                       WHEN 'cancel' THEN 'ignored'
                       ELSE 'sent'
                   END::varchar AS state,
                   mail.failure_reason AS failure_reason,
                   mail.delivery_error_id AS delivery_error_id,
                   NULL::varchar AS server_reference,
                   CASE WHEN mail.state = 'exception' THEN %(address_action_m)s END
                       AS address_action
              FROM mail_mail mail
              JOIN mail_message msg ON msg.id = mail.mail_message_id
             WHERE mail.mailing_id IS NULL
               AND mail.email_to IS NOT NULL AND mail.email_to != ''
               AND NOT EXISTS (
                   SELECT 1 FROM mail_tracking_email tr WHERE tr.mail_mail_id = mail.id
               )
            """,
            factor=ID_FACTOR,
            offset=SOURCE_OFFSETS["mail"],
            address_action_m=self._query_address_action(SQL("mail.email_to")),
        )
