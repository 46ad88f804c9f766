"""The archive copy (default BCC) of mass mailing e-mails, per mailing and per outgoing
mail server, through the loopback SMTP server: the archive receives every e-mail the
recipients received, its address appears in no header, and a refused recipient still
fails its e-mail."""

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from .common import DeliveryCommon

ARCHIVE = "archivio@crm.example"
MUTED = (
    "odoo.addons.mail.models.mail_mail",
    "odoo.addons.mass_mailing_delivery.models.mail_mail.failure",
)


@tagged("post_install", "-at_install", "mass_mailing_delivery", "mmd_bcc")
class TestArchiveCopy(DeliveryCommon):
    def _by_recipient(self):
        """``{envelope recipient: [raw message headers and body as text]}``."""
        received = {}
        for message in self.smtpd.received:
            for rcpt in message.rcpt_tos:
                received.setdefault(rcpt.lower(), []).append(message)
        return received

    def _assert_hidden(self, message, recipient):
        parsed = message.message
        headers = "\n".join(f"{name}: {value}" for name, value in parsed.items())
        self.assertNotIn("bcc:", headers.lower())
        self.assertNotIn(ARCHIVE, headers.lower(), "the archive address is in no header")
        self.assertNotIn("x-mmd-archive-copy", headers.lower())
        self.assertIn(recipient, parsed["To"])
        self.assertNotIn(ARCHIVE, message.data.decode(errors="replace").lower())

    @users("user_marketing")
    def test_mailing_archive_copy(self):
        emails = ["anna@customer.example", "bruno@customer.example", "gone@nouser.example"]
        mailing = self.create_partner_mailing(self.create_partners(emails), mmd_bcc_email=ARCHIVE)
        with mute_logger(*MUTED):
            traces = self.send_mailing(mailing)
        statuses = {trace.email: trace.trace_status for trace in traces}
        self.assertEqual(
            statuses,
            {
                "anna@customer.example": "sent",
                "bruno@customer.example": "sent",
                "gone@nouser.example": "error",
            },
            "a refused recipient still fails its e-mail",
        )
        received = self._by_recipient()
        self.assertEqual(len(received[ARCHIVE]), 2, "one copy per e-mail the recipients got")
        for email in ("anna@customer.example", "bruno@customer.example"):
            (original,) = received[email]
            self.assertEqual(original.rcpt_tos, [email], "the recipient's envelope alone")
            self._assert_hidden(original, email)
        copies = {copy.message["To"]: copy for copy in received[ARCHIVE]}
        for to, copy in copies.items():
            self.assertEqual(copy.rcpt_tos, [ARCHIVE])
            recipient = next(email for email in emails if email in to)
            self._assert_hidden(copy, recipient)
            self.assertEqual(
                copy.message["Message-Id"],
                received[recipient][0].message["Message-Id"],
                "the same e-mail",
            )
            # reading the copy in the archive counts no open or click of the recipient,
            # and its mail client offers no unsubscribe of the recipient
            trace = traces.filtered(lambda t, email=recipient: t.email == email)
            original = received[recipient][0].message
            self.assertIn("/mail/track/", self._html(original))
            self.assertIn(f"/m/{trace.id}", self._html(original))
            self.assertTrue(original["List-Unsubscribe"])
            for text in (self._html(copy.message), self._text(copy.message)):
                self.assertNotIn("/mail/track/", text)
                self.assertNotIn(f"/m/{trace.id}", text)
                self.assertIn("https://www.example.com/offer", text, "the link still works")
            self.assertIsNone(copy.message["List-Unsubscribe"])

    @staticmethod
    def _html(message):
        return message.get_body(("html",)).get_content()

    @staticmethod
    def _text(message):
        return message.get_body(("plain",)).get_content()

    @users("user_marketing")
    def test_server_archive_copy_and_document_emails(self):
        """The outgoing server's archive address serves the mailings that name none; the
        e-mails of documents are not archived."""
        self.env["ir.mail_server"].sudo().search([]).write({"mmd_bcc_email": ARCHIVE})
        mailing = self.create_partner_mailing(self.create_partners(["carla@customer.example"]))
        with mute_logger(*MUTED):
            self.send_mailing(mailing)
        received = self._by_recipient()
        self.assertEqual(len(received[ARCHIVE]), 1)
        self._assert_hidden(received[ARCHIVE][0], "carla@customer.example")

        self.smtpd.reset()
        partner = self.env["res.partner"].create(
            {"name": "Dario", "email": "dario@customer.example"}
        )
        self.send_document_email(partner, partner)
        self.assertEqual(set(self._by_recipient()), {"dario@customer.example"})

    def test_refused_archive_copy_does_not_fail_the_email(self):
        mailing = self.create_partner_mailing(
            self.create_partners(["elsa@customer.example"]),
            mmd_bcc_email="archive@nouser.example",
        )
        with mute_logger(*MUTED, "odoo.addons.mass_mailing_delivery.models.ir_mail_server.smtp"):
            traces = self.send_mailing(mailing)
        self.assertEqual(traces.trace_status, "sent")
        self.assertEqual(set(self._by_recipient()), {"elsa@customer.example"})

    def test_invalid_archive_address(self):
        with self.assertRaises(ValidationError):
            self.create_partner_mailing(self.env["res.partner"], mmd_bcc_email="not an address")
