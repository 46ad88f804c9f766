"""From a failure, one click to the recipient to correct its address; once corrected,
the block of the old address is offered for removal (core's unblock wizard, which asks
why)."""

from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from .common import TOUR_LANGUAGES
from .common import DeliveryCommon
from .common import install_italian

MUTED = (
    "odoo.addons.mail.models.mail_mail",
    "odoo.addons.mass_mailing_delivery.models.mail_mail.failure",
)


@tagged("post_install", "-at_install", "mass_mailing_delivery", "mmd_address_correction")
class TestAddressCorrection(DeliveryCommon):
    @users("user_marketing")
    def test_correct_a_refused_address_then_unblock_the_old_one(self):
        partners = self.create_partners(["marco.bianchi@nouser.example"])
        mailing = self.create_partner_mailing(partners)
        with mute_logger(*MUTED):
            trace = self.send_mailing(mailing)
        self.assertEqual(trace.address_action, "Blocked: hard bounce.")
        # one click from the failure to the contact
        action = trace.action_mmd_correct_address()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", partners.id))
        partner = self.env["res.partner"].browse(action["res_id"])
        self.assertFalse(partner.mmd_previous_email_blocked)
        partner.email = "marco.bianchi@customer.example"
        self.assertEqual(partner.mmd_previous_email, "marco.bianchi@nouser.example")
        self.assertTrue(partner.mmd_previous_email_blocked)
        self.assertIn("Hard bounce", partner.mmd_previous_email_block)
        # the offer opens core's unblock wizard on the old address; it asks why
        offer = partner.action_mmd_unblock_previous_email()
        self.assertEqual(offer["res_model"], "mail.blacklist.remove")
        wizard = (
            self.env["mail.blacklist.remove"]
            .with_context(**offer["context"])
            .create({"reason": "Address corrected on the contact"})
        )
        self.assertEqual(wizard.email, "marco.bianchi@nouser.example")
        wizard.action_unblacklist_apply()
        partner.invalidate_recordset()
        self.assertFalse(partner.mmd_previous_email_blocked, "the offer is gone")
        self.assertFalse(
            self.env["mail.blacklist"].search([("email", "=", "marco.bianchi@nouser.example")])
        )

    @users("user_marketing")
    def test_keep_the_block_and_unblocked_changes(self):
        partner = self.env["res.partner"].create({"name": "Ada", "email": "ada@old.example"})
        partner.email = "ada@new.example"
        self.assertFalse(partner.mmd_previous_email, "the old address was not blocked")
        self.env["mail.blacklist"].sudo()._add_with_reason("ada@new.example", "hard_bounce")
        partner.email = "ADA@new.example"
        self.assertFalse(partner.mmd_previous_email, "the same address, not a correction")
        partner.email = "ada@newer.example"
        self.assertTrue(partner.mmd_previous_email_blocked)
        partner.action_mmd_keep_previous_block()
        self.assertFalse(partner.mmd_previous_email_blocked)
        self.assertTrue(self.env["mail.blacklist"].search([("email", "=", "ada@new.example")]))

    def test_correct_address_of_a_document_failure(self):
        """The failure popup of a document e-mail opens the failed contact."""
        marco = self.env["res.partner"].create({"name": "Marco", "email": "marco@nouser.example"})
        message = self.send_document_email(marco, marco)
        wizard = (
            self.env["mail.resend.message"]
            .with_context(mail_message_to_resend=message.id)
            .create({})
        )
        action = wizard.partner_ids.action_mmd_correct_address()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", marco.id))

    def test_gone_recipient(self):
        action = self.env["mail.address.correction.mixin"]._mmd_get_correct_address_action(
            "res.partner", 0
        )
        self.assertEqual(action["tag"], "display_notification")


@tagged("post_install", "-at_install", "mass_mailing_delivery", "mmd_address_correction")
class TestAddressCorrectionUi(HttpCase):
    def test_address_correction_tour(self):
        install_italian(self.env)
        admin = self.env.ref("base.user_admin")
        for lang in TOUR_LANGUAGES:
            with self.subTest(lang=lang):
                admin.lang = lang
                partner = self.env["res.partner"].create(
                    {"name": "Correction Tour", "email": "old.tour@nouser.example"}
                )
                self.env["mail.blacklist"].sudo()._add_with_reason(
                    "old.tour@nouser.example",
                    "hard_bounce",
                    evidence="5.1.1 550 5.1.1 User unknown",
                )
                partner.email = "new.tour@customer.example"
                self.assertTrue(partner.mmd_previous_email_blocked)
                self.start_tour(
                    f"/odoo/action-contacts.action_contacts/{partner.id}",
                    "mass_mailing_delivery_address_correction_tour",
                    login="admin",
                )
                self.assertFalse(
                    self.env["mail.blacklist"].search([("email", "=", "old.tour@nouser.example")])
                )
                # the offer declined: the block stays, the banner is gone
                kept = self.env["res.partner"].create(
                    {"name": "Kept Tour", "email": "kept.tour@nouser.example"}
                )
                self.env["mail.blacklist"].sudo()._add_with_reason(
                    "kept.tour@nouser.example",
                    "hard_bounce",
                    evidence="5.1.1 550 5.1.1 User unknown",
                )
                kept.email = "kept.new@customer.example"
                self.assertTrue(kept.mmd_previous_email_blocked)
                self.start_tour(
                    f"/odoo/action-contacts.action_contacts/{kept.id}",
                    "mass_mailing_delivery_address_correction_keep_tour",
                    login="admin",
                )
                kept.invalidate_recordset()
                self.assertFalse(kept.mmd_previous_email)
                self.assertTrue(
                    self.env["mail.blacklist"].search([("email", "=", "kept.tour@nouser.example")])
                )
