from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError
from odoo.tools import email_normalize


class MailingMailing(models.Model):
    """Who else receives a mailing's e-mails: an archive address, hidden (BCC, see
    ``mail.mail._mmd_prepare_archive_copy``), and, when the mailing asks for them, the
    recipients' second and third e-mail addresses, each with its own e-mail, trace,
    blocklist check and outcome (see ``mail.secondary.email.mixin``)."""

    _inherit = "mailing.mailing"

    mmd_bcc_email = fields.Char(
        "Archive copy to (BCC)",
        help="Every e-mail of this mailing is also sent, hidden, to this address (an "
        "archive): the recipients do not see it. Empty: the outgoing mail server's archive "
        "address, if it has one.",
    )
    mmd_secondary_emails = fields.Boolean(
        "Also to second and third e-mails",
        copy=True,
        help="Each recipient's second and third e-mail addresses (contacts and mailing "
        "contacts) also get the e-mail, each with its own trace and outcome; a blocked or "
        "invalid address is left out, as a main address would be.",
    )

    @api.constrains("mmd_bcc_email")
    def _check_mmd_bcc_email(self):
        for mailing in self.filtered("mmd_bcc_email"):
            if not email_normalize(mailing.mmd_bcc_email):
                raise ValidationError(
                    self.env._(
                        "The archive copy address %(email)s is not a valid e-mail address.",
                        email=mailing.mmd_bcc_email,
                    )
                )
