from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import email_normalize


class MailAddressCorrectionMixin(models.AbstractModel):
    """After a recipient's e-mail address is corrected while the old one is blocked (a
    bounce, a refusal), the form offers to remove the block of the old address (core's
    unblock wizard, which asks why) or to keep it."""

    _name = "mail.address.correction.mixin"
    _description = "Corrected e-mail address"

    mmd_previous_email = fields.Char(
        "Previous e-mail, blocked",
        readonly=True,
        copy=False,
        help="The address this e-mail replaced, blocked when it was corrected.",
    )
    mmd_previous_email_blocked = fields.Boolean(
        "Previous e-mail still blocked", compute="_compute_mmd_previous_email_blocked"
    )
    mmd_previous_email_block = fields.Char(
        "Previous e-mail's block", compute="_compute_mmd_previous_email_blocked"
    )

    @api.depends("mmd_previous_email")
    def _compute_mmd_previous_email_blocked(self):
        entries = self.env["mail.blacklist"]._get_block_summaries(
            [email_normalize(record.mmd_previous_email or "") for record in self]
        )
        for record in self:
            entry = entries.get(email_normalize(record.mmd_previous_email or ""))
            record.mmd_previous_email_blocked = bool(entry)
            record.mmd_previous_email_block = entry.block_summary if entry else False

    def write(self, vals):
        if "email" in vals:
            new = email_normalize(vals.get("email") or "")
            old = {
                record.id: email_normalize(record.email or "")
                for record in self
                if email_normalize(record.email or "") not in ("", new)
            }
            blocked = self.env["mail.blacklist"]._get_block_summaries(old.values())
        res = super().write(vals)
        if "email" in vals:
            for record in self.filtered(lambda r: old.get(r.id) in blocked):
                record.mmd_previous_email = old[record.id]
        return res

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_mmd_unblock_previous_email(self):
        """Core's unblock wizard for the previous address (it asks why)."""
        self.ensure_one()
        action = self.mail_action_blacklist_remove()
        action["context"] = {"default_email": self.mmd_previous_email}
        return action

    def action_mmd_keep_previous_block(self):
        self.mmd_previous_email = False
        return True

    @api.model
    def _mmd_get_correct_address_action(self, model, res_id):
        """The form of the recipient ``model,res_id``, to correct its e-mail address.

        :return: an action (a notification when the recipient is gone or has no e-mail)
        """
        record = self.env[model].browse(res_id).exists() if model in self.env and res_id else None
        if not record or "email" not in record._fields:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "warning",
                    "message": self.env._("This recipient no longer exists."),
                },
            }
        return {
            "type": "ir.actions.act_window",
            "res_model": model,
            "res_id": record.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {"mmd_correct_email": True},
        }
