from markupsafe import Markup

from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import email_normalize


class MailBlacklistRemove(models.TransientModel):
    """Unblocking an address asks why, and logs the reason, with the block it ends,
    in the chatter of the blacklist entry (core's ``mail.blacklist.remove`` wizard)."""

    _inherit = "mail.blacklist.remove"

    blacklist_id = fields.Many2one(
        "mail.blacklist", string="Block entry", compute="_compute_blacklist_id"
    )
    block_summary = fields.Char(related="blacklist_id.block_summary", string="Blocked because")

    def _compute_blacklist_id(self):
        emails = {wizard.id: email_normalize(wizard.email or "") for wizard in self}
        entries = self.env["mail.blacklist"]._get_block_summaries(emails.values())
        for wizard in self:
            wizard.blacklist_id = entries.get(emails[wizard.id])

    def action_unblacklist_apply(self):
        self.ensure_one()
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(self.env._("Say why the address is unblocked: the reason is logged."))
        summary = self.blacklist_id.block_summary
        record = self.env["mail.blacklist"]._remove(
            self.email,
            message=Markup("<p>%s</p>")
            % self.env._(
                "Unblocked by %(user)s. Reason: %(reason)s. The block was: %(block)s",
                user=self.env.user.name,
                reason=reason,
                block=summary or "-",
            ),
        )
        return record
