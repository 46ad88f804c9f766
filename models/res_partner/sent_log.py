from odoo import fields
from odoo import models


class ResPartner(models.Model):
    """The contact's smart button "E-mails sent": its rows of the sent e-mails log."""

    _inherit = "res.partner"

    mmd_sent_email_count = fields.Integer("E-mails sent", compute="_compute_mmd_sent_email_count")

    def _compute_mmd_sent_email_count(self):
        Log = self.env["mail.sent.log"]
        readable = Log.has_access("read")
        for partner in self:
            partner.mmd_sent_email_count = (
                Log.search_count(Log._get_partner_domain(partner)) if readable and partner.id else 0
            )

    def action_mmd_sent_emails(self):
        self.ensure_one()
        return self.env["mail.sent.log"].action_open_for_partner(self)
