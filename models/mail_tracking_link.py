from odoo import api
from odoo import fields
from odoo import models


class MailTrackingLink(models.Model):
    """A link of one recipient's tracked e-mail: the URL its signed click redirect
    leads to (the redirect never goes anywhere else)."""

    _name = "mail.tracking.link"
    _description = "Tracked e-mail link"
    _order = "id"
    _rec_name = "url"

    tracking_email_id = fields.Many2one(
        "mail.tracking.email",
        string="Tracked e-mail",
        required=True,
        ondelete="cascade",
        index=True,
    )
    url = fields.Char("URL", required=True, readonly=True)
    click_count = fields.Integer("Clicks", compute="_compute_click_count")

    @api.depends("tracking_email_id")
    def _compute_click_count(self):
        count_machine = self.env["mail.tracking.email"]._count_machine_events()
        domain = [("link_id", "in", self.ids), ("event_type", "=", "click")]
        if not count_machine:
            domain.append(("is_machine", "=", False))
        counts = dict(self.env["mail.tracking.event"]._read_group(domain, ["link_id"], ["__count"]))
        for link in self:
            link.click_count = counts.get(link, 0)
