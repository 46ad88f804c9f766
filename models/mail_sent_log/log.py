from odoo import api
from odoo import fields
from odoo import models
from odoo.tools.mail import email_split_tuples

from ...tools import delivery_report

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
