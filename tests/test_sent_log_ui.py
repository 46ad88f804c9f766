"""The sent e-mails log, as a user clicks through it in headless Chromium (tour)."""

from markupsafe import Markup

from odoo import Command
from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import DeliveryCommon
from .common import start_tour_in_languages


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestSentLogUi(DeliveryCommon, HttpCase):
    def test_sent_log_tour(self):
        zoe, other = self.env["res.partner"].create(
            [
                {"name": "Zoe Tour", "email": "zoe@nouser.example"},
                {"name": "Other Tour", "email": "other@tour.example"},
            ]
        )
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": zoe.id,
                "invoice_line_ids": [
                    Command.create({"name": "Consulting", "quantity": 1, "price_unit": 100})
                ],
            }
        )
        # the loopback server refuses *@nouser.example: 550 5.1.1
        with self.real_smtp(), mute_logger("odoo.addons.mail.models.mail_mail"):
            message = invoice.message_post(
                body=Markup("<p>Your invoice</p>"),
                subject="Invoice",
                partner_ids=(zoe | other).ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            self.env["mail.mail"].sudo().search(
                [("mail_message_id", "=", message.id), ("state", "=", "outgoing")]
            ).send()
        row = self.env["mail.sent.log"].search(
            [("mail_message_id", "=", message.id), ("email", "=", "zoe@nouser.example")]
        )
        self.assertEqual(row.state, "failed")
        start_tour_in_languages(self, "/odoo", "mass_mailing_delivery_sent_log_tour")
