import logging
import threading
import time
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo import tools
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.mail import email_split_tuples

from ..tools import delivery_report

_logger = logging.getLogger(__name__)

#: in the order of an e-mail's life: a mail ignored or failed never left, a bounced one
#: left and came back (the form's status bar follows this order)
STATES = [
    ("queued", "Queued"),
    ("ignored", "Ignored"),
    ("failed", "Failed"),
    ("sent", "Sent"),
    ("bounced", "Bounced"),
    ("delivered", "Delivered"),
    ("opened", "Opened"),
    ("clicked", "Clicked"),
]

SOURCES = [
    ("mail", "Outgoing e-mail"),
    ("trace", "Mass mailing"),
    ("tracking", "Tracked document e-mail"),
    ("notification", "Document e-mail"),
]

#: row id = source id * ID_FACTOR + source offset: unique and stable over time
ID_FACTOR = 4
SOURCE_OFFSETS = {"mail": 0, "trace": 1, "tracking": 2, "notification": 3}

#: the recipient's domain, the same expression in every branch (and in the indexes)
DOMAIN_EXPR = r"lower(substring({} FROM '@([^@>,;\s]+)'))"


class MailSentLog(models.Model):
    """The sent-mail log: one row per recipient of every outgoing e-mail.

    A read-only SQL view over the records Odoo already keeps, not a copy of the
    messages: mass mailing traces (``mailing.trace``), tracked document e-mails
    (``mail.tracking.email``), core's e-mail notifications of document messages
    that are not tracked (``mail.notification``), and outgoing e-mails to bare
    addresses none of those cover (``mail.mail`` with ``email_to``). Each row's id
    is its source's id times 4 plus the source's offset, so ids are stable.

    States: ``queued`` -> ``sent`` (accepted by the SMTP server) -> ``delivered``
    (a delivery confirmation came back) -> ``opened`` -> ``clicked``; ``failed``
    (refused at sending), ``bounced`` (a bounce came back later), ``ignored``
    (cancelled, blacklisted, duplicate, opted out).
    """

    _name = "mail.sent.log"
    _description = "Sent e-mail"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "email"
    # the source fields the view reads: flushed before any query on the log
    _depends = {
        "mailing.trace": [
            "trace_type", "sent_datetime", "open_datetime", "links_click_datetime", "email",
            "model", "res_id", "mass_mailing_id", "mail_mail_id", "trace_status",
            "failure_reason", "delivery_error_id", "server_reference", "address_action",
        ],
        "mailing.mailing": ["email_from", "subject", "user_id"],
        "res.users": ["partner_id"],
        "mail.tracking.email": [
            "sent_date", "first_open_date", "first_click_date", "email", "partner_id",
            "subject", "model", "res_id", "document_name", "mail_mail_id", "mail_message_id",
            "state", "failure_reason", "server_reference",
        ],
        "mail.message": [
            "author_id", "email_from", "subject", "record_name", "date", "record_company_id",
            "model", "res_id", "message_id",
        ],
        "mail.mail": [
            "delivery_error_id", "mailing_id", "email_to", "state", "failure_reason",
            "mail_message_id",
        ],
        "mail.notification": [
            "notification_type", "notification_status", "res_partner_id", "mail_mail_id",
            "mail_message_id", "failure_reason",
        ],
        "res.partner": ["email", "email_normalized"],
        "mail.followers": ["res_model", "res_id", "partner_id"],
        "mail.bounce.event": [
            "trace_id", "kind", "original_message_id", "recipient", "action_taken",
        ],
        "mail.delivery.error": ["category"],
    }  # fmt: skip

    source = fields.Selection(SOURCES, readonly=True)
    source_id = fields.Integer("Source record ID", readonly=True)
    date = fields.Datetime(readonly=True)
    queued_date = fields.Datetime("Queued", readonly=True)
    sent_date = fields.Datetime("Sent", readonly=True)
    open_date = fields.Datetime("Opened", readonly=True)
    click_date = fields.Datetime("Clicked", readonly=True)
    author_id = fields.Many2one("res.partner", readonly=True)
    email_from = fields.Char("Sender address", readonly=True)
    email = fields.Char("Recipient", readonly=True)
    recipient_domain = fields.Char("Recipient domain", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Contact", readonly=True)
    subject = fields.Char(readonly=True)
    model = fields.Char("Document model", readonly=True)
    res_id = fields.Many2oneReference("Document ID", model_field="model", readonly=True)
    document_name = fields.Char("Document", readonly=True)
    document = fields.Reference(
        selection="_selection_document_model", compute="_compute_document", string="Open document"
    )
    mailing_id = fields.Many2one("mailing.mailing", readonly=True)
    mail_mail_id = fields.Many2one("mail.mail", string="Outgoing e-mail", readonly=True)
    mail_message_id = fields.Many2one("mail.message", string="Message", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    state = fields.Selection(STATES, readonly=True)
    failure_reason = fields.Text(readonly=True)
    server_reference = fields.Char(
        string="Server reference",
        readonly=True,
        help="The SMTP server's final reply to the e-mail (e.g. '250 2.0.0 Ok: queued as "
        "4Q1x2'): how the server and its logs name it.",
    )
    address_action = fields.Char(
        string="Done to the address",
        readonly=True,
        help="What the suppression rules did to the address after this failure or bounce: "
        "blocked, counted as a soft bounce, or nothing.",
    )
    delivery_error_id = fields.Many2one(
        "mail.delivery.error", string="Delivery error", readonly=True
    )
    delivery_error_category = fields.Selection(
        selection=lambda self: self.env["mail.delivery.error"]._fields["category"].selection,
        string="Error category",
        readonly=True,
    )
    document_follower_ids = fields.Many2many(
        "res.partner",
        relation="mail_sent_log_follower_rel",
        column1="log_id",
        column2="partner_id",
        string="Document followers",
        readonly=True,
        help="The followers of the e-mail's document (an SQL view: used by the access rules).",
    )
    sender = fields.Char(compute="_compute_sender", help="The sender, as a person reads it.")
    failure_text = fields.Text(
        "Server's words",
        compute="_compute_failure_text",
        help="The receiving server's reply (code, status and text), or why Odoo could not "
        "send the e-mail.",
    )
    delivery_error_explanation = fields.Text(related="delivery_error_id.explanation")
    delivery_error_advice = fields.Text(related="delivery_error_id.advice")

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.model
    def _selection_document_model(self):
        return [(model.model, model.name) for model in self.env["ir.model"].sudo().search([])]

    @api.depends("model", "res_id")
    def _compute_document(self):
        for row in self:
            row.document = (
                f"{row.model},{row.res_id}"
                if row.model and row.res_id and row.model in self.env
                else False
            )

    @api.depends("email_from")
    def _compute_sender(self):
        for row in self:
            pairs = email_split_tuples(row.email_from or "")
            if not pairs:
                row.sender = row.email_from or False
                continue
            name, email = pairs[0]
            row.sender = f"{name} <{email}>" if name else email

    @api.depends("failure_reason")
    def _compute_failure_text(self):
        # Odoo records an SMTP refusal as its exception's repr
        # ("SMTPRecipientsRefused: {'a@x': (550, b'5.1.1 ...')}"): the server's reply only
        for row in self:
            row.failure_text = (
                delivery_report.readable_reply(row.failure_reason) if row.failure_reason else False
            )

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

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_open_document(self):
        """Open the document the e-mail was about (or the mailing)."""
        self.ensure_one()
        if self.model and self.res_id and self.model in self.env:
            record = self.env[self.model].browse(self.res_id).exists()
            if record:
                return {
                    "type": "ir.actions.act_window",
                    "res_model": self.model,
                    "res_id": self.res_id,
                    "views": [(False, "form")],
                }
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "message": self.env._("The document of this e-mail no longer exists."),
                "sticky": False,
            },
        }

    @api.model
    def action_open_for_partner(self, partner):
        """The log rows of one contact (its smart button).

        :param partner: ``res.partner`` record
        :return: window action on ``mail.sent.log``
        """
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mass_mailing_delivery.mail_sent_log_action"
        )
        action["domain"] = self._get_partner_domain(partner)
        action["context"] = {}
        action["display_name"] = self.env._("E-mails sent to %(name)s", name=partner.display_name)
        return action

    @api.model
    def _get_partner_domain(self, partner):
        domain = [("partner_id", "=", partner.id)]
        if partner.email_normalized:
            domain = ["|", *domain, ("email", "=ilike", partner.email_normalized)]
        return domain

    # ------------------------------------------------------------
    # CLEAN-UP
    # ------------------------------------------------------------

    def action_delete(self):
        """Delete the selected rows' records (managers; the list asks to confirm).

        Mass mailing rows are kept: their traces are the mailing's statistics.
        """
        if not self.env.user.has_group("mass_mailing_delivery.group_delivery_manager"):
            raise AccessError(self.env._("Only delivery administrators can delete the log."))
        by_source = {}
        for row in self:
            by_source.setdefault(row.source, []).append(row.source_id)
        deleted = 0
        for source, model in (
            ("tracking", "mail.tracking.email"),
            ("notification", "mail.notification"),
            ("mail", "mail.mail"),
        ):
            records = self.env[model].sudo().browse(by_source.get(source, [])).exists()
            deleted += len(records)
            records.unlink()
        kept = len(by_source.get("trace", []))
        message = self.env._("E-mails deleted from the log: %(deleted)s.", deleted=deleted)
        if kept:
            message = self.env._(
                "%(message)s Mass mailing e-mails kept: %(kept)s (they are the mailings' "
                "statistics; deleting a mailing deletes them).",
                message=message,
                kept=kept,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": message,
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _cron_retention(self):
        """Delete what is older than the retention setting, in bounded batches.

        Each batch is its own transaction when run by the scheduler (short locks,
        progress kept if the run is interrupted); the only commit of the addon.
        """
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        settings = self.env["res.config.settings"]._get_log_settings()
        result = self._purge_older_than(
            settings["retention_days"],
            batch_size=settings["batch_size"],
            max_batches=settings["max_batches"],
            auto_commit=auto_commit,
        )
        if result["more"]:
            self.env.ref("mass_mailing_delivery.ir_cron_sent_log_retention")._trigger()
        return result

    @api.model
    def _purge_older_than(self, days, batch_size=10000, max_batches=20, auto_commit=False):
        """Delete the log's records older than ``days``: tracked e-mails with their
        events and links, bounce events that are no blocked address's evidence,
        failed and cancelled outgoing e-mails. Never the mass mailing traces (the
        mailings' statistics are computed from them).

        :param days: retention in days (0: delete nothing)
        :param batch_size: records deleted per batch
        :param max_batches: batches per call
        :param auto_commit: commit after each batch (scheduler only)
        :return: ``{"deleted": {model: count}, "more": bool, "longest_batch": seconds}``
        """
        deleted = {}
        longest = 0.0
        if not days:
            return {"deleted": deleted, "more": False, "longest_batch": longest}
        cutoff = fields.Datetime.now() - timedelta(days=days)
        batches = 0
        more = False
        for model, domain in self._get_purge_domains(cutoff):
            Model = self.env[model].sudo()
            while True:
                if batches >= max_batches:
                    more = True
                    break
                start = time.perf_counter()
                records = Model.search(domain, order="id", limit=batch_size)
                if not records:
                    break
                count = len(records)
                records.unlink()
                deleted[model] = deleted.get(model, 0) + count
                batches += 1
                if auto_commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                self.env.invalidate_all()
                longest = max(longest, time.perf_counter() - start)
                if count < batch_size:
                    break
            if more:
                break
        if deleted:
            _logger.info("Sent e-mails log retention (%s days): deleted %s", days, deleted)
        return {"deleted": deleted, "more": more, "longest_batch": longest}

    @api.model
    def _get_purge_domains(self, cutoff):
        blacklist_fields = self.env["mail.blacklist"]._fields
        evidence = SQL(
            """(SELECT ev.id FROM mail_bounce_event ev
                  JOIN mail_blacklist bl ON bl.email = ev.recipient%s)""",
            SQL(" OR bl.bounce_event_id = ev.id")
            if "bounce_event_id" in blacklist_fields
            else SQL(),
        )
        # the evidence of a blocked address is kept as long as the block
        event_domain = [("create_date", "<", cutoff), ("id", "not in", evidence)]
        return [
            ("mail.tracking.email", [("create_date", "<", cutoff)]),
            ("mail.bounce.event", event_domain),
            (
                "mail.mail",
                [("create_date", "<", cutoff), ("state", "in", ("exception", "cancel"))],
            ),
        ]
