from odoo import api
from odoo import fields
from odoo import models

PARAM_PREFIX = "mass_mailing_delivery."


class ResConfigSettings(models.TransientModel):
    """Sent e-mails log settings (Email Marketing settings): retention, stuck queue."""

    _inherit = "res.config.settings"

    mmd_log_retention_days = fields.Integer(
        string="Keep the sent e-mails log (days)",
        config_parameter=PARAM_PREFIX + "log_retention_days",
        default=180,
        help="Tracked e-mails, their events, bounce events and failed e-mails older than "
        "this are deleted every night (0: never). Mass mailing statistics and the "
        "evidence of blocked addresses are kept.",
    )
    mmd_queue_stuck_minutes = fields.Integer(
        string="Report e-mails queued for more than (minutes)",
        config_parameter=PARAM_PREFIX + "queue_stuck_minutes",
        default=60,
        help="Synchronisation reports and flags the e-mails waiting longer (0: never).",
    )

    @api.model
    def _get_log_settings(self):
        param = self.env["ir.config_parameter"].sudo().get_param

        def _int(key, default):
            try:
                return max(int(param(PARAM_PREFIX + key, default)), 0)
            except (TypeError, ValueError):
                return default

        return {
            # seeded by data/ir_config_parameter_data.xml; 0 (removed) means never
            "retention_days": _int("log_retention_days", 0),
            "stuck_minutes": _int("queue_stuck_minutes", 0),
            "batch_size": _int("log_retention_batch_size", 10000) or 10000,
            "max_batches": _int("log_retention_max_batches", 20) or 20,
        }
