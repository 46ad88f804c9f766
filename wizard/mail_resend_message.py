from odoo import Command
from odoo import api
from odoo import models


class MailResendMessage(models.TransientModel):
    """Core's failure popup of a document e-mail: each failed recipient's line shows the
    delivery error registry's explanation and advice (not "Unknown error: <repr>"), and
    *Try Again* is proposed for temporary failures only."""

    _inherit = "mail.resend.message"

    @api.model
    def default_get(self, fields):
        values = super().default_get(fields)
        line_ids = [
            command[1] for command in values.get("partner_ids") or [] if command[0] == Command.LINK
        ]
        for line in self.env["mail.resend.partner"].browse(line_ids):
            line.write(line._mmd_prepare_explained_values())
        return values
