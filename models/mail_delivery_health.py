from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from ..tools import mailing_figures

#: Health limits, in percent. Complaints: Gmail asks bulk senders to stay under
#: 0.10 % and never reach 0.30 %; Yahoo's limit is 0.3 % too. Bounces: no mailbox
#: provider publishes a number; Amazon SES reviews an account at 5 % and
#: recommends under 2 %. Ignored share: the addon's own warning level (a list
#: where 1 address in 10 is blocked, opted out or duplicated needs cleaning).
#: Sources in README.rst (Deliverability dashboard).
COMPLAINT_WARNING = 0.1
COMPLAINT_CRITICAL = 0.3
BOUNCE_WARNING = 2.0
BOUNCE_CRITICAL = 5.0
IGNORED_WARNING = 10.0

HEALTH_SELECTION = [("good", "Healthy"), ("warning", "At risk"), ("critical", "Critical")]


class MailDeliveryHealth(models.Model):
    """Deliverability health of each sent mailing (one row per mailing).

    The rows are the mailings (an SQL view, cheap to list, count and sort); the
    figures are aggregated from the traces of the rows being read only, in one
    query (a kanban page of 40 cards reads the traces of 40 mailings, whatever
    the size of the table). The health compares the bounce rate, the complaint
    rate and the ignored share with the limits above.
    """

    _name = "mail.delivery.health"
    _description = "Mailing deliverability health"
    _auto = False
    _order = "sent_date desc, id desc"
    _rec_name = "subject"

    mailing_id = fields.Many2one("mailing.mailing", readonly=True)
    subject = fields.Char(readonly=True)
    sent_date = fields.Datetime(readonly=True)
    state = fields.Selection(
        [("in_queue", "In Queue"), ("sending", "Sending"), ("done", "Sent")], readonly=True
    )
    total = fields.Integer(compute="_compute_figures")
    sent = fields.Integer(compute="_compute_figures")
    delivered = fields.Integer(compute="_compute_figures")
    bounced = fields.Integer(compute="_compute_figures")
    complaints = fields.Integer(compute="_compute_figures")
    ignored = fields.Integer(compute="_compute_figures")
    failed = fields.Integer(string="Not sent", compute="_compute_figures")
    bounce_rate = fields.Float(string="Bounce rate (%)", compute="_compute_figures", digits=(16, 2))
    complaint_rate = fields.Float(
        string="Complaint rate (%)", compute="_compute_figures", digits=(16, 2)
    )
    ignored_rate = fields.Float(
        string="Ignored share (%)", compute="_compute_figures", digits=(16, 2)
    )
    health = fields.Selection(HEALTH_SELECTION, compute="_compute_figures", search="_search_health")
    color = fields.Integer(compute="_compute_figures")

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT mailing.id AS id,
                   mailing.id AS mailing_id,
                   mailing.subject AS subject,
                   COALESCE(mailing.sent_date, mailing.schedule_date, mailing.create_date)
                       AS sent_date,
                   mailing.state AS state
              FROM mailing_mailing mailing
             WHERE mailing.mailing_type = 'mail'
               AND mailing.state IN ('in_queue', 'sending', 'done')
            """
        )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    def _compute_figures(self):
        figures = self._read_figures(self.ids)
        for row in self:
            row.update(figures.get(row.id) or self._get_figures_of({}))

    def _search_health(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            return [("id", "=", False)]
        values = {value} if isinstance(value, str) else set(value or ())
        self.env.cr.execute(SQL("SELECT id FROM (%s) AS health_rows", self._table_query))
        ids = [row[0] for row in self.env.cr.fetchall()]
        matching = [
            mailing_id
            for mailing_id, figures in self._read_figures(ids).items()
            if figures["health"] in values
        ]
        positive = operator in ("=", "in")
        return [("id", "in" if positive else "not in", matching)]

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_recipients(self):
        """Open the recipients behind one figure of the card (``figure`` in the context)."""
        self.ensure_one()
        return self.mailing_id.action_view_summary_traces(self.env.context.get("figure", "total"))

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @api.model
    def _read_figures(self, mailing_ids):
        """The figures of the mailings ``mailing_ids``, read in one query, as every
        screen counts them (``mailing.mailing._get_figures``).

        :return: dict mailing id -> dict of counters, rates, health and color
        """
        if not mailing_ids:
            return {}
        mailings = self.env["mailing.mailing"].sudo().browse(mailing_ids)
        return {
            mailing_id: self._get_figures_of(counts)
            for mailing_id, counts in mailings._get_figures().items()
            if counts["total"]
        }

    @api.model
    def _get_figures_of(self, counts):
        """Add the rates, the health and its color to ``counts``."""
        figures = {
            key: counts.get(key, 0)
            for key in ("total", "sent", "delivered", "bounced", "complaints", "ignored")
        }
        figures["failed"] = counts.get("not_sent", 0)
        rates = mailing_figures.rates(counts)
        figures["bounce_rate"] = rates["bounced"]
        figures["complaint_rate"] = rates["complaints"]
        figures["ignored_rate"] = rates["ignored"]
        if (
            figures["bounce_rate"] >= BOUNCE_CRITICAL
            or figures["complaint_rate"] >= COMPLAINT_CRITICAL
        ):
            figures["health"], figures["color"] = "critical", 1
        elif (
            figures["bounce_rate"] >= BOUNCE_WARNING
            or figures["complaint_rate"] >= COMPLAINT_WARNING
            or figures["ignored_rate"] >= IGNORED_WARNING
        ):
            figures["health"], figures["color"] = "warning", 3
        else:
            figures["health"], figures["color"] = "good", 10
        return figures
