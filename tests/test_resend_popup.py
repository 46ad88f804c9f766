"""Core's failure popup of a document e-mail (``mail.resend.message``): the registry's
explanation and advice instead of "Unknown error: <repr>", what was done to the address,
and *Try Again* proposed for temporary failures only. The e-mails are refused for real by
the loopback SMTP server."""

from odoo.tests import tagged
from odoo.tests import users

from .common import DeliveryCommon


@tagged("post_install", "-at_install", "mass_mailing_delivery", "mmd_resend_popup")
class TestResendPopup(DeliveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.marco = cls.env["res.partner"].create(
            {"name": "Marco Bianchi", "email": "marco.bianchi@nouser.example"}
        )
        cls.ada = cls.env["res.partner"].create({"name": "Ada Full", "email": "ada@full.example"})
        cls.document = cls.env["res.partner"].create({"name": "Bianchi Srl"})

    def _post(self, partner):
        return self.send_document_email(self.document, partner)

    def _popup_line(self, message):
        wizard = (
            self.env["mail.resend.message"]
            .with_context(mail_message_to_resend=message.id)
            .create({})
        )
        self.assertEqual(len(wizard.partner_ids), 1)
        return wizard.partner_ids

    @users("employee")
    def test_permanent_refusal_is_explained_and_not_retried(self):
        message = self._post(self.marco.with_env(self.env))
        line = self._popup_line(message)
        entry = (
            self.env["mail.delivery.error"].sudo().search([("category", "=", "recipient_unknown")])
        )
        self.assertIn(line.notification_id.sudo().mail_mail_id.delivery_error_id, entry)
        explained = line.notification_id.sudo().mail_mail_id.delivery_error_id
        self.assertNotIn("Unknown error", line.message)
        self.assertNotIn("b'", line.message, "no Python repr")
        self.assertIn(f"{explained.name}: {explained.explanation}", line.message)
        self.assertIn(f"What to do: {explained.advice}", line.message)
        self.assertIn("Done to the address: Blocked: hard bounce.", line.message)
        self.assertIn("Server reply: 550 5.1.1", line.message)
        self.assertFalse(line.resend, "a permanent failure would fail again")

    @users("employee")
    def test_temporary_refusal_is_proposed_again(self):
        message = self._post(self.ada.with_env(self.env))
        line = self._popup_line(message)
        self.assertIn("Server reply: 452 4.2.2", line.message)
        self.assertIn("Done to the address: Soft bounce 1 of 3.", line.message)
        self.assertTrue(line.resend, "a full mailbox may accept it later")
