"""The envelope of a tracked invoice, as a user clicks through it in headless
Chromium (Odoo tour)."""

from odoo import Command
from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import start_tour_in_languages


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestTrackingUi(HttpCase):
    def test_tracking_envelope_tour(self):
        alice, bob = self.env["res.partner"].create(
            [
                {"name": "Alice Customer", "email": "alice@customer.example"},
                {"name": "Bob Customer", "email": "bob@customer.example"},
            ]
        )
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": alice.id,
                "invoice_line_ids": [
                    Command.create({"name": "Consulting", "quantity": 1, "price_unit": 100})
                ],
            }
        )
        message = invoice.message_post(
            body="<p>Your invoice</p>",
            partner_ids=(alice | bob).ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        # Odoo does not connect to SMTP while a test runs: the mails are marked sent
        self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)]).send()
        trackings = self.env["mail.tracking.email"].search([("mail_message_id", "=", message.id)])
        self.assertEqual(trackings.mapped("state"), ["sent", "sent"])
        alice_tracking = trackings.filtered(lambda t: t.email == "alice@customer.example")
        alice_tracking._record_event(
            "open", user_agent="Mozilla/5.0 Firefox/128.0", ip="203.0.113.9"
        )
        self.assertEqual(alice_tracking.state, "opened")
        start_tour_in_languages(
            self, f"/odoo/account.move/{invoice.id}", "mass_mailing_delivery_tracking_envelope_tour"
        )
