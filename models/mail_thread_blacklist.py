from odoo import api
from odoo import fields
from odoo import models

from .mail_blacklist import BLOCK_REASON_SELECTION


class MailThreadBlacklist(models.AbstractModel):
    """Contacts and mailing contacts (every model with a blacklisted e-mail) show why
    their address is blocked: the reason, a one-line summary for the blocked symbol's
    tooltip, and the blacklist entry that holds the evidence."""

    _inherit = "mail.thread.blacklist"

    email_blacklist_id = fields.Many2one(
        "mail.blacklist", string="Block entry", compute="_compute_email_block"
    )
    email_block_reason = fields.Selection(
        BLOCK_REASON_SELECTION, string="Block reason", compute="_compute_email_block"
    )
    email_block_summary = fields.Char(
        string="Blocked", compute="_compute_email_block", help="Why the address is blocked."
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("email_normalized")
    def _compute_email_block(self):
        entries = self.env["mail.blacklist"]._get_block_summaries(self.mapped("email_normalized"))
        for record in self:
            entry = entries.get(record.email_normalized)
            record.email_blacklist_id = entry
            record.email_block_reason = entry.block_reason if entry else False
            record.email_block_summary = entry.block_summary if entry else False

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_block_evidence(self):
        """Open the blacklist entry of this address: reason, date, mailing, evidence."""
        self.ensure_one()
        entry = self.email_blacklist_id
        if not entry:
            return False
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Why %(email)s is blocked", email=entry.email),
            "res_model": "mail.blacklist",
            "res_id": entry.id,
            "view_mode": "form",
            "views": [(self.env.ref("mass_mailing_delivery.mail_blacklist_view_form").id, "form")],
        }
