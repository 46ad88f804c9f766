from odoo import models


class MailingContact(models.Model):
    """Mailing contacts have a second and a third e-mail address for the mailings that
    ask for them, and offer to unblock their old address once it is corrected."""

    _name = "mailing.contact"
    _inherit = ["mailing.contact", "mail.secondary.email.mixin", "mail.address.correction.mixin"]

    def _message_mail_after_hook(self, mails):
        res = super()._message_mail_after_hook(mails)
        self._mmd_send_to_secondary_emails(mails)
        return res
