from odoo import api
from odoo import fields
from odoo import models

from ..tools import bot_filter

MACHINE_REASONS = [
    ("apple_mpp", "Privacy proxy (Apple Mail Privacy Protection)"),
    ("crawler", "Crawler or scanner user agent"),
    ("scanner_delay", "Click within seconds of delivery"),
]


class MailTrackingEvent(models.Model):
    """One open or click of a tracked document e-mail, as the tracking endpoints saw
    it. Append-only: counts are computed from these rows, never incremented.

    Machine opens and clicks of mass mailings (core's pixel and short links) are
    recorded here too, on their ``mailing.trace``, instead of marking the trace."""

    _name = "mail.tracking.event"
    _description = "Tracked e-mail event"
    _order = "date desc, id desc"

    tracking_email_id = fields.Many2one(
        "mail.tracking.email", string="Tracked e-mail", ondelete="cascade", index="btree_not_null"
    )
    mailing_trace_id = fields.Many2one(
        "mailing.trace", string="Mailing trace", ondelete="cascade", index="btree_not_null"
    )
    event_type = fields.Selection(
        [("open", "Open"), ("click", "Click")], string="Type", required=True, readonly=True
    )
    link_id = fields.Many2one("mail.tracking.link", ondelete="cascade", readonly=True)
    url = fields.Char(compute="_compute_url")
    mailing_url = fields.Char("Mailing URL", readonly=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    user_agent = fields.Char(readonly=True)
    ip = fields.Char("IP address", readonly=True)
    is_machine = fields.Boolean(
        "Machine",
        readonly=True,
        help="Made by a machine (privacy proxy, crawler, link scanner), not by a person: "
        "left out of the open and click counts.",
    )
    machine_reason = fields.Selection(MACHINE_REASONS, readonly=True)

    _sql_constraints = [
        (
            "tracked_email_or_trace",
            "CHECK(tracking_email_id IS NOT NULL OR mailing_trace_id IS NOT NULL)",
            "An event belongs to a tracked e-mail or to a mass-mailing trace.",
        ),
    ]

    @api.depends("link_id.url", "mailing_url")
    def _compute_url(self):
        for event in self:
            event.url = event.link_id.url or event.mailing_url

    @api.model
    def _record_mailing_event(self, trace_domain, event_type, url=False, user_agent="", ip=""):
        """Record a machine open or click of a mass mailing on its trace.

        :param trace_domain: domain finding the ``mailing.trace`` (from core's route)
        :param event_type: "open" or "click"
        :return: True when the event was a machine's and is left out of core's
            counts (the caller must then not let core mark the trace), else False
        """
        tracking_model = self.env["mail.tracking.email"]
        if tracking_model._count_machine_events():
            return False
        traces_sudo = self.env["mailing.trace"].sudo().search(trace_domain, limit=1)
        if not traces_sudo:
            return False
        sent = traces_sudo.sent_datetime
        since_sent = (fields.Datetime.now() - sent).total_seconds() if sent else None
        is_machine, reason = bot_filter.classify(
            user_agent, ip, event_type, since_sent, tracking_model._get_scanner_delay()
        )
        if not is_machine:
            return False
        self.sudo().create(
            {
                "mailing_trace_id": traces_sudo.id,
                "event_type": event_type,
                "mailing_url": url or False,
                "user_agent": (user_agent or "")[:512],
                "ip": (ip or "")[:64],
                "is_machine": True,
                "machine_reason": reason,
            }
        )
        return True
