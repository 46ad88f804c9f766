from odoo import fields
from odoo import models

MACHINE_REASONS = [
    ("apple_mpp", "Privacy proxy (Apple Mail Privacy Protection)"),
    ("crawler", "Crawler or scanner user agent"),
    ("scanner_delay", "Click within seconds of delivery"),
]


class MailTrackingEvent(models.Model):
    """One open or click of a tracked document e-mail, as the tracking endpoints saw
    it. Append-only: counts are computed from these rows, never incremented."""

    _name = "mail.tracking.event"
    _description = "Tracked e-mail event"
    _order = "date desc, id desc"

    tracking_email_id = fields.Many2one(
        "mail.tracking.email",
        string="Tracked e-mail",
        required=True,
        ondelete="cascade",
        index=True,
    )
    event_type = fields.Selection(
        [("open", "Open"), ("click", "Click")], string="Type", required=True, readonly=True
    )
    link_id = fields.Many2one("mail.tracking.link", ondelete="cascade", readonly=True)
    url = fields.Char(related="link_id.url")
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
