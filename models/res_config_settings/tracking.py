from odoo import api
from odoo import fields
from odoo import models

PARAM_PREFIX = "mass_mailing_delivery."


class ResConfigSettings(models.TransientModel):
    """Document e-mail tracking settings (Email Marketing settings)."""

    _inherit = "res.config.settings"

    mmd_tracked_template_count = fields.Integer(
        "Tracked templates", compute="_compute_mmd_tracked_template_count"
    )
    mmd_tracking_count_machine = fields.Boolean(
        "Count machine opens and clicks",
        config_parameter=PARAM_PREFIX + "tracking_count_machine",
        help="Opens and clicks of privacy proxies, crawlers and link scanners are always "
        "recorded; by default they are left out of the counts and do not mark an e-mail "
        "opened or clicked.",
    )
    mmd_tracking_scanner_delay = fields.Integer(
        "Scanner delay (seconds)",
        config_parameter=PARAM_PREFIX + "tracking_scanner_delay",
        default=10,
        help="A click this soon after delivery is a link scanner's, not a person's.",
    )

    @api.depends("company_id")
    def _compute_mmd_tracked_template_count(self):
        # a dependency, as base_setup's counts: without one, the settings form's first
        # onchange (a new record) kept the Integer's 0

        count = self.env["mail.template"].search_count([("mmd_tracked", "=", True)])
        for settings in self:
            settings.mmd_tracked_template_count = count

    def action_mmd_tracked_templates(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mass_mailing_delivery.mail_template_action_tracking"
        )
        return action
