from odoo import api
from odoo import fields
from odoo import models

PARAM_PREFIX = "mass_mailing_delivery."


class ResConfigSettings(models.TransientModel):
    """Suppression rules of bounce and complaint processing (Email Marketing settings)."""

    _inherit = "res.config.settings"

    mmd_block_hard_bounce = fields.Boolean(
        string="Block at the first hard bounce",
        config_parameter=PARAM_PREFIX + "block_hard_bounce",
    )
    mmd_soft_bounce_limit = fields.Integer(
        string="Block after consecutive soft bounces",
        config_parameter=PARAM_PREFIX + "soft_bounce_limit",
        default=3,
        help="Number of consecutive mailings bounced soft that blocks an address (0: never).",
    )
    mmd_soft_bounce_window_days = fields.Integer(
        string="Within (days)",
        config_parameter=PARAM_PREFIX + "soft_bounce_window_days",
        default=30,
    )
    mmd_block_complaint = fields.Boolean(
        string="Block at the first spam complaint",
        config_parameter=PARAM_PREFIX + "block_complaint",
    )

    mmd_verp = fields.Boolean(
        string="Encode the recipient in the bounce address (VERP)",
        config_parameter=PARAM_PREFIX + "verp",
        help="Mass mailings are sent with the envelope sender bounce+mmd<trace>-<signature>@"
        "your-domain, so that a bounce names the recipient it is about even without the "
        "original Message-ID. The bounce mailbox must accept plus-addressed mail.",
    )

    mmd_parallel_senders = fields.Integer(
        string="Parallel senders",
        config_parameter=PARAM_PREFIX + "parallel_senders",
        default=1,
        help="Scheduled actions sending the mail queue at once, each in a cron thread of its "
        "own with its own SMTP connection (1: the mail queue alone, as Odoo does). Each "
        "needs a free cron thread (max_cron_threads, on this server or on another one "
        "using the same database).",
    )

    def set_values(self):
        res = super().set_values()
        self.env["mail.mail"]._mmd_sync_sender_crons(max(self.mmd_parallel_senders, 1))
        return res

    def action_mmd_synchronize(self):
        return self.env["mail.bounce.event"].action_synchronize()

    @api.model
    def _get_delivery_rules(self):
        """The suppression rules in force (seeded by data/ir_config_parameter_data.xml;
        an unchecked box removes its parameter)."""
        param = self.env["ir.config_parameter"].sudo().get_param

        def _int(key, default):
            try:
                return int(param(PARAM_PREFIX + key, default))
            except ValueError:
                return default

        return {
            "block_hard": bool(param(PARAM_PREFIX + "block_hard_bounce")),
            "soft_limit": _int("soft_bounce_limit", 3),
            "soft_window_days": _int("soft_bounce_window_days", 30),
            "block_complaint": bool(param(PARAM_PREFIX + "block_complaint")),
            "verp": bool(param(PARAM_PREFIX + "verp")),
        }
