from odoo import fields
from odoo import models
from odoo.tools import SQL

from .mail_delivery_error import CATEGORY_SELECTION

KIND_SELECTION = [
    ("bounce", "Bounced"),
    ("error", "Not sent"),
    ("ignored", "Ignored"),
    ("complaint", "Spam complaint"),
]


class MailDeliveryReport(models.Model):
    """Failed, bounced, ignored and complained-about recipients of the mass
    mailings (SQL view, one row per trace): the data of the deliverability
    graph and pivot, by error category, recipient domain and date. A row is a
    recipient, so every figure opens the recipients behind it."""

    _name = "mail.delivery.report"
    _description = "Delivery failures report"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "email"

    trace_id = fields.Many2one("mailing.trace", readonly=True)
    mailing_id = fields.Many2one("mailing.mailing", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", readonly=True)
    date = fields.Datetime(readonly=True)
    email = fields.Char(string="Recipient", readonly=True)
    recipient_domain = fields.Char(readonly=True)
    model = fields.Char(string="Recipient model", readonly=True)
    res_id = fields.Many2oneReference(string="Recipient ID", model_field="model", readonly=True)
    kind = fields.Selection(KIND_SELECTION, readonly=True)
    error_category = fields.Selection(CATEGORY_SELECTION, readonly=True)
    delivery_error_id = fields.Many2one(
        "mail.delivery.error", string="Delivery error", readonly=True
    )
    failure_type = fields.Selection(
        selection=lambda self: self.env["mailing.trace"]._fields["failure_type"].selection,
        readonly=True,
    )
    failure_reason = fields.Text(readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT trace.id AS id,
                   trace.id AS trace_id,
                   trace.mass_mailing_id AS mailing_id,
                   trace.campaign_id AS campaign_id,
                   COALESCE(trace.sent_datetime, trace.create_date) AS date,
                   trace.email AS email,
                   NULLIF(LOWER(SPLIT_PART(trace.email, '@', 2)), '') AS recipient_domain,
                   trace.model AS model,
                   trace.res_id AS res_id,
                   CASE WHEN trace.is_complaint THEN 'complaint'
                        WHEN %(ignored)s THEN 'ignored'
                        ELSE trace.trace_status END AS kind,
                   CASE WHEN trace.is_complaint THEN 'complaint'
                        WHEN %(ignored)s THEN NULL
                        ELSE COALESCE(trace.delivery_error_category, 'unknown') END
                       AS error_category,
                   trace.delivery_error_id AS delivery_error_id,
                   trace.failure_type AS failure_type,
                   trace.failure_reason AS failure_reason
              FROM mailing_trace trace
             WHERE trace.trace_status IN ('bounce', 'error', 'cancel') OR trace.is_complaint
            """,
            ignored=self.env["mailing.mailing"]._get_ignored_trace_sql("trace"),
        )

    def action_view_contact(self):
        """Open the recipient (contact, mailing contact or document)."""
        self.ensure_one()
        return self.trace_id.action_view_contact()
