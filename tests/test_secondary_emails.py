"""Secondary e-mail addresses (second and third) of contacts and mailing contacts, used
by the mailings that ask for them: each address its own e-mail, trace, blocklist check
and outcome, through the loopback SMTP server."""

from collections import Counter

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from .common import DeliveryCommon

MUTED = (
    "odoo.addons.mail.models.mail_mail",
    "odoo.addons.mass_mailing_delivery.models.mail_mail.failure",
)


@tagged("post_install", "-at_install", "mass_mailing_delivery", "mmd_secondary_emails")
class TestSecondaryEmails(DeliveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls.env["res.partner"].create(
            [
                {
                    "name": "Rossi Srl",
                    "email": "info@rossi.example.com",
                    "mmd_email2": "amministrazione@rossi.example.com",
                    "mmd_email3": "old@nouser.example",
                },
                {
                    "name": "Verdi Spa",
                    "email": "info@verdi.example.com",
                    "mmd_email2": "blocked@verdi.example.com",
                    # the same address twice gets the e-mail once
                    "mmd_email3": "INFO@verdi.example.com",
                },
                {"name": "Bianchi", "email": "bianchi@example.com"},
            ]
        )
        cls.env["mail.blacklist"].sudo()._add("blocked@verdi.example.com")

    def _send(self, mailing):
        with mute_logger(*MUTED):
            return self.send_mailing(mailing)

    @users("user_marketing")
    def test_mailing_to_secondary_emails(self):
        mailing = self.create_partner_mailing(self.partners, mmd_secondary_emails=True)
        traces = self._send(mailing)
        outcome = {trace.email: (trace.trace_status, trace.failure_type) for trace in traces}
        self.assertEqual(
            outcome,
            {
                "info@rossi.example.com": ("sent", False),
                "amministrazione@rossi.example.com": ("sent", False),
                "old@nouser.example": ("error", "mail_smtp_refused"),
                "info@verdi.example.com": ("sent", False),
                "blocked@verdi.example.com": ("cancel", "mail_bl"),
                "bianchi@example.com": ("sent", False),
            },
        )
        rossi = self.partners[0]
        self.assertEqual(
            Counter(traces.filtered(lambda t: t.res_id == rossi.id).mapped("model")),
            {"res.partner": 3},
            "each address of the contact has its own trace on the contact",
        )
        received = Counter(self.smtpd.recipients())
        self.assertEqual(
            set(received),
            {
                "info@rossi.example.com",
                "amministrazione@rossi.example.com",
                "info@verdi.example.com",
                "bianchi@example.com",
            },
        )
        self.assertEqual(max(received.values()), 1)
        # each e-mail is its own: its own Message-ID, and its own unsubscribe link
        messages = {msg.rcpt_tos[0]: msg.message for msg in self.smtpd.received}
        first = messages["info@rossi.example.com"]
        second = messages["amministrazione@rossi.example.com"]
        self.assertNotEqual(first["Message-Id"], second["Message-Id"])
        self.assertIn("amministrazione%40rossi.example.com", second["List-Unsubscribe"])
        self.assertIn("amministrazione@rossi.example.com", second["To"])
        refused = traces.filtered(lambda t: t.email == "old@nouser.example")
        self.assertEqual(refused.delivery_error_id.category, "recipient_unknown")

    @users("user_marketing")
    def test_without_the_option_only_main_addresses(self):
        mailing = self.create_partner_mailing(self.partners)
        traces = self._send(mailing)
        self.assertEqual(
            set(traces.mapped("email")),
            {"info@rossi.example.com", "info@verdi.example.com", "bianchi@example.com"},
        )

    @users("user_marketing")
    def test_mailing_contacts(self):
        contact = self.env["mailing.contact"].create(
            {
                "name": "Giulia",
                "email": "giulia@example.com",
                "mmd_email2": "giulia.casa@example.com",
            }
        )
        mailing = self.create_partner_mailing(
            self.env["res.partner"],
            mailing_model_id=self.env["ir.model"]._get_id("mailing.contact"),
            mailing_domain=[("id", "=", contact.id)],
            mmd_secondary_emails=True,
        )
        traces = self._send(mailing)
        self.assertEqual(
            {trace.email: trace.trace_status for trace in traces},
            {"giulia@example.com": "sent", "giulia.casa@example.com": "sent"},
        )

    def test_invalid_secondary_address(self):
        with self.assertRaises(ValidationError):
            self.partners[2].mmd_email2 = "not an address"
