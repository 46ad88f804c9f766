from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError
from odoo.tools import email_normalize

#: the secondary e-mail fields of the recipients
SECONDARY_EMAIL_FIELDS = ("mmd_email2", "mmd_email3")


class SecondaryEmailMixin(models.AbstractModel):
    """A second and a third e-mail address of a recipient (contact or mailing contact),
    used by the mailings that ask for them (``mailing.mailing.mmd_secondary_emails``)."""

    _name = "mail.secondary.email.mixin"
    _description = "Secondary e-mail addresses"

    mmd_email2 = fields.Char(
        "Second e-mail", help="Also receives the mailings that ask for the second addresses."
    )
    mmd_email3 = fields.Char(
        "Third e-mail", help="Also receives the mailings that ask for the third addresses."
    )

    @api.constrains("mmd_email2", "mmd_email3")
    def _check_mmd_secondary_emails(self):
        for record in self:
            for fname in SECONDARY_EMAIL_FIELDS:
                if record[fname] and not email_normalize(record[fname]):
                    raise ValidationError(
                        self.env._("%(email)s is not a valid e-mail address.", email=record[fname])
                    )

    def _mmd_send_to_secondary_emails(self, mails):
        """Queue, beside ``mails`` (the e-mails a mailing just created for ``self``), an
        e-mail to the secondary addresses of their recipients, when their mailing asks
        for them: each address its own e-mail and trace; a blocked or invalid address
        gets a cancelled trace and no e-mail; an address the mailing already reached is
        left out.

        :param mails: ``mail.mail`` records just created by a mass mailing
        :return: the ``mailing.trace`` records created
        """
        Trace = self.env["mailing.trace"].sudo()
        created = Trace
        mails = mails.sudo().filtered(lambda m: m.mailing_id.mmd_secondary_emails and m.res_id)
        if not mails:
            return created
        records = self.sudo().browse(set(mails.mapped("res_id"))).exists()
        addresses = {
            record.id: [record[fname] for fname in SECONDARY_EMAIL_FIELDS if record[fname]]
            for record in records
        }
        blocked = self.env["mail.blacklist"]._get_block_summaries(
            [email_normalize(email) for emails in addresses.values() for email in emails]
        )
        seen = {}
        for mail in mails:
            mailing = mail.mailing_id
            if mailing.id not in seen:
                seen[mailing.id] = {
                    email_normalize(email or "")
                    for email in Trace.search([("mass_mailing_id", "=", mailing.id)]).mapped(
                        "email"
                    )
                }
            for address in addresses.get(mail.res_id, []):
                created |= self._mmd_send_to_secondary_email(
                    mail, address, seen[mailing.id], blocked
                )
        return created

    @api.model
    def _mmd_send_to_secondary_email(self, mail, address, seen, blocked):
        """One secondary address of the recipient of ``mail``: its e-mail and trace."""
        normalized = email_normalize(address)
        if normalized and normalized in seen:
            return self.env["mailing.trace"]  # a duplicate: the address gets it once
        seen.add(normalized)
        values = {
            "trace_type": "mail",
            "mass_mailing_id": mail.mailing_id.id,
            "model": mail.model,
            "res_id": mail.res_id,
            "email": normalized or address,
        }
        if not normalized:
            values.update(trace_status="cancel", failure_type="mail_email_invalid")
        elif normalized in blocked:
            values.update(trace_status="cancel", failure_type="mail_bl")
        else:
            copy = mail.copy(
                {
                    "email_to": address,
                    "recipient_ids": [fields.Command.clear()],
                    "state": "outgoing",
                    "failure_type": False,
                    "failure_reason": False,
                }
            )
            values.update(mail_mail_id=copy.id, message_id=copy.message_id)
        return self.env["mailing.trace"].sudo().create(values)
