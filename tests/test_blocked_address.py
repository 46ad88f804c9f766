"""Why an address is blocked: reason, date, mailing or message, evidence; the contact's
blocked symbol and evidence; unblocking asks a reason and logs it."""

import re
import urllib.parse

from odoo.exceptions import UserError
from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tests import users

from .common import DeliveryCommon
from .common import start_tour_in_languages


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestBlockedAddress(DeliveryCommon):
    @users("user_marketing")
    def test_hard_bounce_blocks_with_evidence(self):
        partner = self.create_partners(["bounced@remote.example"])
        mailing = self.create_partner_mailing(partner)
        traces = self.send_mailing(mailing)
        dsn = self.make_dsn(
            "bounced@remote.example",
            "5.1.1",
            "550 5.1.1 <bounced@remote.example>: User unknown",
            original_message_id=traces.message_id,
        )
        events = self.receive(dsn)
        self.assertEqual(events.kind, "hard")
        entry = self.env["mail.blacklist"].search([("email", "=", "bounced@remote.example")])
        self.assertEqual(entry.block_reason, "hard_bounce")
        self.assertEqual(entry.block_mailing_id, mailing)
        self.assertEqual(entry.block_message_id, traces.message_id)
        self.assertEqual(entry.bounce_event_id, events)
        self.assertIn("5.1.1", entry.block_evidence)
        self.assertIn("User unknown", entry.block_evidence)
        self.assertTrue(entry.block_date)

        # the contact shows the symbol with the reason, and opens the evidence
        partner.invalidate_recordset()
        self.assertTrue(partner.is_blacklisted)
        self.assertEqual(partner.email_block_reason, "hard_bounce")
        self.assertIn("Hard bounce", partner.email_block_summary)
        self.assertIn("User unknown", partner.email_block_summary)
        action = partner.action_view_block_evidence()
        self.assertEqual((action["res_model"], action["res_id"]), ("mail.blacklist", entry.id))
        evidence = entry.action_view_evidence()
        self.assertEqual(
            (evidence["res_model"], evidence["res_id"]), ("mail.bounce.event", events.id)
        )

    @users("user_marketing")
    def test_invalid_address_blocks_as_invalid(self):
        """A hard bounce saying the address cannot exist (its domain is unknown) blocks it
        as *Invalid address*, with the bounce as evidence."""
        partner = self.create_partners(["paul@shop-typo.invalid"])
        traces = self.send_mailing(self.create_partner_mailing(partner))
        events = self.receive(
            self.make_dsn(
                "paul@shop-typo.invalid",
                "5.1.2",
                "550 5.1.2 <paul@shop-typo.invalid>: Recipient address rejected: Domain not found",
                original_message_id=traces.message_id,
            )
        )
        self.assertEqual(events.kind, "hard")
        self.assertEqual(events.category, "domain_unknown")
        self.assertEqual(events.action_taken, "Blocked: invalid address.")
        entry = self.env["mail.blacklist"].search([("email", "=", "paul@shop-typo.invalid")])
        self.assertEqual(entry.block_reason, "invalid")
        self.assertEqual(entry.bounce_event_id, events)
        self.assertIn("Domain not found", entry.block_evidence)
        partner.invalidate_recordset()
        self.assertIn("Invalid address", partner.email_block_summary)

    @users("user_marketing")
    def test_complaint_reason(self):
        partner = self.create_partners(["angry@remote.example"])
        traces = self.send_mailing(self.create_partner_mailing(partner))
        self.receive(self.make_arf("angry@remote.example", traces.message_id))
        entry = self.env["mail.blacklist"].search([("email", "=", "angry@remote.example")])
        self.assertEqual(entry.block_reason, "complaint")
        self.assertIn("abuse", entry.block_evidence)

    @users("user_marketing")
    def test_manual_and_unsubscribe_reasons(self):
        Blacklist = self.env["mail.blacklist"]
        manual = Blacklist.create({"email": "Manual <manual@example.com>"})
        self.assertEqual(manual.block_reason, "manual")
        self.assertTrue(manual.block_date)
        self.assertEqual(manual.block_evidence, f"Blocked by {self.env.user.name}")
        typed = Blacklist.create(
            {"email": "phone@example.com", "block_evidence": "Asked by phone: no more e-mails"}
        )
        self.assertEqual(typed.block_reason, "manual")
        self.assertEqual(typed.block_evidence, "Asked by phone: no more e-mails")

        # core's feedback form: the opt-out reason lands as unsubscribed + evidence
        reason = self.env["mailing.subscription.optout"].sudo().create({"name": "Too many e-mails"})
        unsub = Blacklist._add("unsub@example.com")
        unsub.opt_out_reason_id = reason
        self.assertEqual(unsub.block_reason, "unsubscribed")
        self.assertEqual(unsub.block_evidence, "Too many e-mails")

        mailing = self.create_partner_mailing(self.env["res.partner"])
        entry = Blacklist._add_with_reason(
            "other@example.com", "unsubscribed", evidence="No longer interested", mailing=mailing
        )
        self.assertEqual(entry.block_mailing_id, mailing)
        self.assertIn("No longer interested", entry.message_ids[:1].body)
        self.assertFalse(Blacklist._add_with_reason("not an address", "manual"))

    def test_entries_blocked_before_install(self):
        """Entries of the blacklist made before the addon get a reason and a date."""
        reason = self.env["mailing.subscription.optout"].create({"name": "Not interested"})
        old, optout = self.env["mail.blacklist"].create(
            [{"email": "old@example.com"}, {"email": "optout@example.com"}]
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE mail_blacklist SET block_reason = NULL, block_date = NULL, "
            "block_evidence = NULL, create_date = '2020-01-02' WHERE id IN %s",
            [(old.id, optout.id)],
        )
        self.env.cr.execute(
            "UPDATE mail_blacklist SET opt_out_reason_id = %s WHERE id = %s",
            [reason.id, optout.id],
        )
        for column in ("block_reason", "block_date", "block_evidence"):
            self.env["mail.blacklist"]._init_column(column)
        self.env.invalidate_all()
        self.assertEqual(old.block_reason, "manual")
        self.assertEqual(str(old.block_date.date()), "2020-01-02")
        self.assertEqual(optout.block_reason, "unsubscribed")
        self.assertEqual(optout.block_evidence, "Not interested")

    @users("user_marketing")
    def test_mailing_contact_shows_block(self):
        contact = self.env["mailing.contact"].create({"name": "C", "email": "c@example.com"})
        self.assertFalse(contact.email_block_summary)
        self.env["mail.blacklist"]._add_with_reason("c@example.com", "soft_bounce_limit")
        contact.invalidate_recordset()
        self.assertEqual(contact.email_block_reason, "soft_bounce_limit")
        self.assertIn("soft bounces", contact.email_block_summary)
        self.assertTrue(contact.action_view_block_evidence())

    @users("user_marketing")
    def test_unblock_asks_reason_and_logs_it(self):
        entry = self.env["mail.blacklist"]._add_with_reason(
            "back@example.com", "hard_bounce", evidence="550 5.1.1 User unknown"
        )
        wizard = self.env["mail.blacklist.remove"].create({"email": "back@example.com"})
        self.assertIn("Hard bounce", wizard.block_summary)
        with self.assertRaises(UserError):
            wizard.action_unblacklist_apply()
        self.assertTrue(entry.active)
        wizard.reason = "Customer fixed the mailbox"
        wizard.action_unblacklist_apply()
        self.flush_tracking()
        self.assertFalse(entry.active)
        bodies = " ".join(entry.message_ids.mapped("body"))
        self.assertIn("Customer fixed the mailbox", bodies)
        self.assertIn("Hard bounce", bodies)
        # blocking it again starts a new block
        Blacklist = self.env["mail.blacklist"]
        again = Blacklist.with_context(mmd_block_reason="manual")._add("back@example.com")
        self.assertEqual(again, entry)
        self.assertTrue(entry.active)
        self.assertEqual(entry.block_reason, "manual")


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestBlockedAddressUi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.blocked, cls.fine = cls.env["res.partner"].create(
            [
                {"name": "Blocked Tour Contact", "email": "blocked.tour@remote.example"},
                {"name": "Fine Tour Contact", "email": "fine.tour@remote.example"},
            ]
        )
        cls.mailing = cls.env["mailing.mailing"].create(
            {
                "name": "Tour mailing",
                "subject": "Tour mailing",
                "body_html": "<p>Hello</p>",
                "body_arch": "<p>Hello</p>",
                "mailing_model_id": cls.env["ir.model"]._get_id("res.partner"),
                "mailing_domain": [("id", "in", (cls.blocked | cls.fine).ids)],
            }
        )
        event = cls.env["mail.bounce.event"].create(
            {
                "kind": "hard",
                "recipient": "blocked.tour@remote.example",
                "state": "matched",
                "smtp_code": 550,
                "status": "5.1.1",
                "diagnostic": "550 5.1.1 <blocked.tour@remote.example>: User unknown",
                "mailing_id": cls.mailing.id,
            }
        )
        cls.env["mail.blacklist"]._add_from_delivery_event(event, "hard_bounce")

    def test_blocked_contact_tour(self):
        start_tour_in_languages(
            self,
            "/odoo/action-contacts.action_contacts",
            "mass_mailing_delivery_blocked_contact_tour",
        )

    def test_ignored_banner_tour(self):
        start_tour_in_languages(
            self,
            f"/odoo/action-mass_mailing.mailing_mailing_action_mail/{self.mailing.id}",
            "mass_mailing_delivery_ignored_banner_tour",
        )

    def test_core_unsubscribe_is_unsubscribed(self):
        """Core's one-click unsubscribe link blocks the address as *unsubscribed*."""
        email = "fine.tour@remote.example"
        token = self.mailing._generate_mailing_recipient_token(self.fine.id, email)
        response = self.url_open(
            f"/mailing/{self.mailing.id}/unsubscribe_oneclick",
            data={"document_id": self.fine.id, "email": email, "hash_token": token},
        )
        self.assertEqual(response.status_code, 200)
        entry = self.env["mail.blacklist"].search([("email", "=", email)])
        self.assertEqual(entry.block_reason, "unsubscribed")
        self.assertEqual(entry.block_mailing_id, self.mailing)

    def test_core_unsubscribe_link_records_mailing(self):
        """The unsubscribe link of a mailing's body (core's confirmation page, whose form
        posts to ``/mailing/confirm_unsubscribe`` without the mailing in the path) blocks
        the address as *unsubscribed* by that mailing; the reason then given on the
        subscription page becomes the evidence."""
        email = "fine.tour@remote.example"
        query = {
            "document_id": self.fine.id,
            "email": email,
            "hash_token": self.mailing._generate_mailing_recipient_token(self.fine.id, email),
        }
        page = self.url_open(
            f"/mailing/{self.mailing.id}/confirm_unsubscribe?{urllib.parse.urlencode(query)}"
        )
        self.assertEqual(page.status_code, 200)
        csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = self.url_open(
            "/mailing/confirm_unsubscribe",
            data={"csrf_token": csrf_token, "mailing_id": self.mailing.id, **query},
        )
        self.assertEqual(response.status_code, 200)
        entry = self.env["mail.blacklist"].search([("email", "=", email)])
        self.assertEqual(entry.block_reason, "unsubscribed")
        self.assertEqual(entry.block_mailing_id, self.mailing)

        reason = self.env.ref("mass_mailing.mailing_subscription_optout_data_2")
        result = self.make_jsonrpc_request(
            "/mailing/feedback",
            {
                **query,
                "mailing_id": self.mailing.id,
                "last_action": "blocklist_add",
                "opt_out_reason_id": reason.id,
            },
        )
        self.assertIs(result, True)
        self.env.invalidate_all()
        self.assertEqual(entry.block_evidence, reason.name)
        self.assertEqual(entry.block_mailing_id, self.mailing, "kept by the reason")
