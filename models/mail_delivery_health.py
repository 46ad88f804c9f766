from odoo import fields
from odoo import models
from odoo.tools import SQL

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
    """Deliverability health of each sent mailing (SQL view, one row per mailing).

    The counters are aggregated from the mailing's traces when read (a
    lateral join per mailing, so a page of recent mailings only reads their
    traces); the health compares the bounce rate, the complaint rate and the
    ignored share with the limits above.
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
    total = fields.Integer(readonly=True)
    sent = fields.Integer(readonly=True)
    delivered = fields.Integer(readonly=True)
    bounced = fields.Integer(readonly=True)
    complaints = fields.Integer(readonly=True)
    ignored = fields.Integer(readonly=True)
    failed = fields.Integer(string="Not sent", readonly=True)
    bounce_rate = fields.Float(string="Bounce rate (%)", readonly=True, digits=(16, 2))
    complaint_rate = fields.Float(string="Complaint rate (%)", readonly=True, digits=(16, 3))
    ignored_rate = fields.Float(string="Ignored share (%)", readonly=True, digits=(16, 2))
    health = fields.Selection(HEALTH_SELECTION, readonly=True)
    color = fields.Integer(readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT figures.*,
                   CASE WHEN figures.bounce_rate >= %(bounce_critical)s
                          OR figures.complaint_rate >= %(complaint_critical)s THEN 'critical'
                        WHEN figures.bounce_rate >= %(bounce_warning)s
                          OR figures.complaint_rate >= %(complaint_warning)s
                          OR figures.ignored_rate >= %(ignored_warning)s THEN 'warning'
                        ELSE 'good' END AS health,
                   CASE WHEN figures.bounce_rate >= %(bounce_critical)s
                          OR figures.complaint_rate >= %(complaint_critical)s THEN 1
                        WHEN figures.bounce_rate >= %(bounce_warning)s
                          OR figures.complaint_rate >= %(complaint_warning)s
                          OR figures.ignored_rate >= %(ignored_warning)s THEN 3
                        ELSE 10 END AS color
              FROM (
                SELECT mailing.id AS id,
                       mailing.id AS mailing_id,
                       mailing.subject AS subject,
                       COALESCE(mailing.sent_date, mailing.schedule_date, mailing.create_date)
                           AS sent_date,
                       mailing.state AS state,
                       counts.total, counts.sent, counts.delivered, counts.bounced,
                       counts.complaints, counts.ignored, counts.failed,
                       COALESCE(ROUND(100.0 * counts.bounced / NULLIF(counts.sent, 0), 2), 0)::float8
                           AS bounce_rate,
                       COALESCE(ROUND(100.0 * counts.complaints
                                      / NULLIF(counts.delivered, 0), 3), 0)::float8
                           AS complaint_rate,
                       COALESCE(ROUND(100.0 * counts.ignored / NULLIF(counts.total, 0), 2), 0)::float8
                           AS ignored_rate
                  FROM mailing_mailing mailing
            CROSS JOIN LATERAL (
                    SELECT COUNT(*) AS total,
                           COUNT(trace.sent_datetime) AS sent,
                           COUNT(*) FILTER (WHERE trace.trace_status IN ('sent', 'open', 'reply'))
                               AS delivered,
                           COUNT(*) FILTER (WHERE trace.trace_status = 'bounce') AS bounced,
                           COUNT(*) FILTER (WHERE trace.is_complaint) AS complaints,
                           COUNT(*) FILTER (WHERE trace.trace_status = 'cancel') AS ignored,
                           COUNT(*) FILTER (WHERE trace.trace_status = 'error') AS failed
                      FROM mailing_trace trace
                     WHERE trace.mass_mailing_id = mailing.id
                   ) counts
                 WHERE mailing.mailing_type = 'mail'
                   AND mailing.state IN ('in_queue', 'sending', 'done')
              ) figures
            """,
            bounce_critical=BOUNCE_CRITICAL,
            bounce_warning=BOUNCE_WARNING,
            complaint_critical=COMPLAINT_CRITICAL,
            complaint_warning=COMPLAINT_WARNING,
            ignored_warning=IGNORED_WARNING,
        )

    def action_view_recipients(self):
        """Open the recipients behind one figure of the card (``figure`` in the context)."""
        self.ensure_one()
        return self.mailing_id.action_view_summary_traces(self.env.context.get("figure", "total"))
