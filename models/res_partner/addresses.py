from odoo import models


class ResPartner(models.Model):
    """Contacts have a second and a third e-mail address for the mailings that ask for
    them, and offer to unblock their old address once it is corrected."""

    _name = "res.partner"
    _inherit = ["res.partner", "mail.secondary.email.mixin", "mail.address.correction.mixin"]

    def _message_mail_after_hook(self, mails):
        res = super()._message_mail_after_hook(mails)
        self._mmd_send_to_secondary_emails(mails)
        return res
