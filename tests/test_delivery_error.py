"""The delivery error registry in Odoo: seeded, matched on every failure, extendable,
translated, and protected against broken rules."""

from odoo.exceptions import AccessError
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from .common import DeliveryCommon


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestDeliveryErrorRegistry(DeliveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Registry = cls.env["mail.delivery.error"]

    def test_seeded(self):
        entries = self.Registry.search([])
        self.assertGreaterEqual(len(entries), 60)
        self.assertEqual(
            set(entries.mapped("category")) - {"unknown"},
            {code for code, _label in self.Registry._fields["category"].selection} - {"unknown"},
            "every category has at least one seeded entry",
        )
        self.assertTrue(all(entries.mapped("explanation")))
        self.assertTrue(all(entries.mapped("advice")))

    def test_classify_real_replies(self):
        cases = [
            ("550 5.1.1 <a@x.com>: Recipient address rejected: User unknown", "recipient_unknown"),
            ("452 4.2.2 <a@x.com>: Mailbox full, quota exceeded", "mailbox_full"),
            ("552 5.3.4 Message size exceeds fixed limit", "message_too_large"),
            (
                "550-5.7.26 This mail is unauthenticated, which poses a security risk to the "
                "sender and Gmail users, and has been blocked.",
                "authentication",
            ),
            ("421 4.7.0 [TSS04] Messages from 1.2.3.4 temporarily deferred", "rate_limited"),
        ]
        for diagnostic, category in cases:
            with self.subTest(diagnostic=diagnostic):
                entry, result = self.Registry._classify(diagnostic)
                self.assertTrue(entry, f"no entry for {diagnostic!r}")
                self.assertEqual(entry.category, category)
                self.assertEqual(result.category, category)

    def test_broken_regex_refused(self):
        with self.assertRaises(ValidationError) as exc:
            self.Registry.create(
                {
                    "name": "Broken",
                    "explanation": "x",
                    "advice": "y",
                    "diagnostic_regex": "mailbox (full",
                }
            )
        self.assertIn("not a valid regular expression", str(exc.exception))

    @users("user_marketing")
    def test_users_read_managers_edit(self):
        registry = self.env["mail.delivery.error"]
        self.assertTrue(registry.search_count([]))
        with self.assertRaises(AccessError):
            registry.create({"name": "Mine", "explanation": "x", "advice": "y"})

    @mute_logger("odoo.addons.mail.models.mail_mail", "odoo.models.unlink")
    def test_failed_trace_linked_when_recorded(self):
        partners = self.create_partners(["ok@example.com", "gone@nouser.example"])
        mailing = self.create_partner_mailing(partners)
        mailing.action_launch()
        traces = self.send_mailing(mailing)
        failed = traces.filtered(lambda t: t.trace_status == "error")
        self.assertEqual(failed.email, "gone@nouser.example")
        self.assertEqual(failed.delivery_error_id.category, "recipient_unknown")
        self.assertEqual(failed.delivery_error_permanence, "permanent")
        self.assertTrue(failed.delivery_error_explanation)
        self.assertEqual(failed.mail_mail_id.delivery_error_id, failed.delivery_error_id)
        self.assertFalse(traces.filtered(lambda t: t.trace_status == "sent").delivery_error_id)

    def test_unclassified_then_new_entry_reclassifies(self):
        partner = self.create_partners(["someone@exotic.example"])
        mailing = self.create_partner_mailing(partner)
        trace = self.env["mailing.trace"].create(
            {
                "model": "res.partner",
                "res_id": partner.id,
                "email": partner.email,
                "mass_mailing_id": mailing.id,
            }
        )
        diagnostic = "Zorglub gateway says: frobnicated recipient, try never"
        trace.write({"trace_status": "bounce", "failure_reason": diagnostic})
        self.assertFalse(trace.delivery_error_id, "nothing in the registry explains it")

        action = trace.action_new_delivery_error()
        defaults = action["context"]
        self.assertEqual(defaults["default_name"], diagnostic)
        self.assertTrue(defaults["default_diagnostic_regex"])
        form_values = {key.removeprefix("default_"): value for key, value in defaults.items()}
        entry = self.Registry.create(
            {
                **form_values,
                "name": "Zorglub frobnication",
                "category": "recipient_unknown",
                "permanence": "permanent",
                "explanation": "The Zorglub gateway refused the address.",
                "advice": "Remove the address.",
            }
        )
        self.assertEqual(trace.delivery_error_id, entry, "saving the entry re-classified it")

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_saved_entry_relabels_failures_it_matches_better(self):
        """A bounce classified by a generic entry moves to the more specific entry a user
        saves for it (trace and bounce event); other failures keep their entry; changing
        the entry's rules so that it no longer matches gives the failure back."""
        partners = self.create_partners(["tom@migrated.example", "gone@other.example"])
        mailing = self.create_partner_mailing(partners)
        mailing.action_launch()
        traces = self.send_mailing(mailing)
        migrated = traces.filtered(lambda t: t.email == "tom@migrated.example")
        unknown = traces - migrated
        diagnostic = "550 5.0.0 Mailbox migrated to the new mail platform (ref MIG-2026)"
        events = self.receive(
            self.make_dsn(migrated.email, "5.0.0", diagnostic, migrated.message_id)
        ) + self.receive(
            self.make_dsn(unknown.email, "5.1.1", "550 5.1.1 User unknown", unknown.message_id)
        )
        generic = migrated.delivery_error_id
        self.assertTrue(generic, "a generic entry (5.*) explains the bounce")
        known = unknown.delivery_error_id
        self.assertEqual(known.category, "recipient_unknown")

        values = self.Registry._prepare_from_diagnostic_values(diagnostic)
        values.update(
            name="Mailbox migrated",
            category="mailbox_disabled",
            diagnostic_regex="mailbox migrated",
            explanation="The mailbox moved to a new platform.",
            advice="Ask for the new address.",
        )
        entry = self.Registry.create(values)
        self.assertEqual(migrated.delivery_error_id, entry, "the better match re-labels it")
        self.assertEqual(migrated.delivery_error_category, "mailbox_disabled")
        event = events.filtered(lambda e: e.recipient == "tom@migrated.example")
        self.assertEqual(event.delivery_error_id, entry, "the bounce event too")
        self.assertEqual(unknown.delivery_error_id, known, "another failure keeps its entry")

        # bounded: only failures whose text holds the pattern's literal are re-examined
        candidates = self.env["mailing.trace"].search(
            entry._get_reclassify_domain(["failure_reason", "mail_mail_id.failure_reason"])
        )
        self.assertIn(migrated, candidates)
        self.assertNotIn(unknown, candidates)

        entry.diagnostic_regex = "mailbox relocated"
        self.assertEqual(migrated.delivery_error_id, generic, "no longer matched: back")
        self.assertEqual(event.delivery_error_id, generic)

    def test_explanation_follows_user_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["mass_mailing_delivery"], ["fr_FR"])
        entry, _result = self.Registry._classify("550 5.1.1 user unknown")
        english = entry.with_context(lang="en_US").explanation
        french = entry.with_context(lang="fr_FR").explanation
        self.assertTrue(french)
        self.assertNotEqual(french, english)
        self.user_marketing.lang = "fr_FR"
        # context_get() answers for the environment's user: ask it as the marketing user
        marketer = self.user_marketing.with_user(self.user_marketing)
        user_env = self.env(user=self.user_marketing, context=marketer.context_get())
        self.assertEqual(entry.with_env(user_env).explanation, french)

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_document_chatter_explains_failure(self):
        customer = self.create_partners(["customer@nouser.example"], name_prefix="Customer")
        document = self.create_partners(["document@example.com"], name_prefix="Document")
        with self.real_smtp():
            message = document.message_post(
                body="Your invoice",
                partner_ids=customer.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                mail_auto_delete=False,
            )
            self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)]).send()
        notification = message.notification_ids.filtered(lambda n: n.res_partner_id == customer)
        self.assertEqual(notification.notification_status, "exception")
        entry = (
            self.env["mail.mail"]
            .sudo()
            .search([("mail_message_id", "=", message.id)])
            .delivery_error_id
        )
        self.assertEqual(entry.category, "recipient_unknown")
        self.assertIn(entry.explanation, notification.failure_reason)
        self.assertIn("5.1.1", notification.failure_reason, "the server's own words stay")
