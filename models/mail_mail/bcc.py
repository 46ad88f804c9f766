from odoo import models
from odoo import tools
from odoo.tools import email_normalize

from ...tools import archive_copy
from ...tools import verp
from ..ir_mail_server.smtp import ARCHIVE_COPY_HEADER


class MailMail(models.Model):
    """Mass mailing e-mails also go, hidden, to the archive (BCC) address of their
    mailing, else of their outgoing mail server.

    The copy is a separate SMTP transaction of the same message (same headers: the
    recipient's ``To``, no ``Bcc``), sent after the recipient's: a recipient refused by
    the server still fails its e-mail (in one transaction with an accepted BCC, smtplib
    would report the e-mail sent), and a refused archive copy does not fail it."""

    _inherit = "mail.mail"

    def _prepare_outgoing_list(self, mail_server=False, recipients_follower_status=None):
        email_list = super()._prepare_outgoing_list(
            mail_server=mail_server, recipients_follower_status=recipients_follower_status
        )
        archive = self._mmd_get_archive_address(mail_server)
        if archive and email_list:
            email_list.append(self._mmd_prepare_archive_copy(email_list[0], archive))
        return email_list

    def _mmd_get_archive_address(self, mail_server=False):
        """The normalized archive (BCC) address of this mass mailing e-mail, or ''."""
        self.ensure_one()
        if not self.mailing_id:
            return ""
        mailing_sudo = self.mailing_id.sudo()
        address = mailing_sudo.mmd_bcc_email
        if not address:
            server = mail_server or self.mail_server_id or mailing_sudo.mail_server_id
            if not server:
                if not self._mmd_any_server_archives():
                    return ""
                Server = self.env["ir.mail_server"].sudo()
                server = Server._find_mail_server(self.email_from)[0]
            address = server.sudo().mmd_bcc_email if server else ""
        return email_normalize(address or "") or ""

    def _mmd_any_server_archives(self):
        """Whether an outgoing mail server has an archive address; read once per batch
        of the mail queue (see ``mail_mail_queue``), else at each call."""
        cache = self.env.cr.cache if self.env.context.get("mmd_claimed") else {}
        if "mmd_archive_servers" not in cache:
            cache["mmd_archive_servers"] = bool(
                self.env["ir.mail_server"]
                .sudo()
                .search_count([("mmd_bcc_email", "!=", False)], limit=1)
            )
        return cache["mmd_archive_servers"]

    def _mmd_prepare_archive_copy(self, email_values, archive):
        """The values of the archive copy of ``email_values`` (the recipient's e-mail):
        the same message, its envelope to ``archive`` only."""
        headers = dict(email_values["headers"], Bcc=archive)
        headers[ARCHIVE_COPY_HEADER] = "1"
        if headers.get("Return-Path"):
            # a bounce of the copy is not the recipient's: no VERP naming the trace
            headers["Return-Path"] = verp.base_address(headers["Return-Path"])
        for name in ("List-Unsubscribe", "List-Unsubscribe-Post"):
            headers.pop(name, None)
        body, alternative = email_values.get("body"), email_values.get("body_alternative")
        codes = archive_copy.tracked_codes(body, alternative)
        targets = {}
        if codes:
            link_codes = self.env["link.tracker.code"].sudo().search([("code", "in", list(codes))])
            targets = {link_code.code: link_code.link_id.url for link_code in link_codes}
        copy_body = archive_copy.untracked(body, targets)
        return dict(
            email_values,
            body=copy_body,
            # core writes the text part from the HTML: so does the copy, from its own
            body_alternative=tools.html2plaintext(copy_body) if alternative else alternative,
            email_cc=[],
            email_to_normalized=[archive],
            email_to_raw="",
            partner_id=False,
            headers=headers,
        )
