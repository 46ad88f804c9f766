"""The demo: its data loads (demo/*.xml), the answers of ``scripts/demo_story.py`` are read
by the bounce parser as the story says, and the story told in a test database (its three
steps, the recipients' visits over HTTP against the test server) blocks a contact for each
block reason, with its evidence."""

import importlib.util
import tempfile
from email import message_from_bytes
from email import policy
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import patch

from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..tools import bounce
from .common import DeliveryCommon

STORY_PATH = Path(__file__).resolve().parent.parent / "scripts" / "demo_story.py"


def load_story():
    """``scripts/demo_story.py`` as a module (its shell steps run only in odoo-bin shell)."""
    spec = importlib.util.spec_from_file_location("mmd_demo_story", STORY_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: who is blocked at the end of the story, and why
BLOCKED = {
    "hans.schmidt@example.de": "unsubscribed",
    "sofia.lopez@example.com": "hard_bounce",
    "lena.fischer@example.de": "soft_bounce_limit",
    "claire.martin@example.net": "complaint",
    "peter.weber@example.ch": "manual",
    "paul.durand@example-shop.invalid": "invalid",
}

#: the reasons whose evidence is a bounce or complaint of the bounce log
BOUNCE_REASONS = ("hard_bounce", "soft_bounce_limit", "complaint", "invalid")


def test_story_answers_parse_as_told():
    """Each answer of the story is the kind of message it stands for (no database)."""
    story = load_story()
    expected = {
        "sofia.lopez@example.com": ("hard", "recipient_unknown"),
        "lena.fischer@example.de": ("soft", "mailbox_full"),
        "jonas.becker@example.org": ("delayed", None),
        # a generic 5.0.0 says nothing about the address itself: soft, not blocked at once
        "tom.baker@example.co.uk": ("soft", None),
        "paul.durand@example-shop.invalid": ("hard", "domain_unknown"),
        "claire.martin@example.net": ("complaint", None),
        "giulia.rossi@example.com": ("auto_reply", None),
    }
    assert {rcpt for rcpt, _template, _values in story.ANSWERS} == set(expected)
    for index, (rcpt, template, values) in enumerate(story.ANSWERS):
        trace = SimpleNamespace(
            id=index, email=rcpt, message_id=f"<{index}@demo>", subject="Our autumn offer"
        )
        raw = story.render_answer(template, values, trace, "bounce@mycompany.example.com")
        (result,) = bounce.parse_bounce(raw.encode())
        kind, category = expected[rcpt]
        assert (result.recipient, result.kind) == (rcpt, kind), raw
        if category:
            assert result.category == category, (rcpt, result)
        assert result.original_message_id in ("", trace.message_id)


def tell_story(case):
    """Tell the three steps of the story, as ``make demo`` does: ``send`` and
    ``bounces`` in this test's database, ``visit`` over HTTP against the test server,
    reading the messages the loopback SMTP server kept.

    :param case: the running test (a ``DeliveryCommon`` ``HttpCase``)
    :return: the autumn offer, the mailing whose unsubscribe link Hans followed
    """
    story = load_story()
    story.CRON_WAIT = 0  # no cron runs in a test: the story sends the mailings itself
    story.SCANNER_SECONDS = 0  # no wait before the clicks: they block nobody
    mailboxes = tempfile.mkdtemp(prefix="mmd-demo-mailboxes-")
    case.addCleanup(setattr, case.smtpd.handler, "store_dir", "")
    case.smtpd.handler.store_dir = mailboxes
    autumn = case.env.ref("mass_mailing_delivery.mailing_demo_autumn_offer")
    env = case.env(user=case.env.ref("base.user_admin"))
    with case.real_smtp(), patch.object(case.env.cr, "commit", case.env.flush_all):
        story.step_send(env)
        case.env.flush_all()
        # the story finds the unsubscribe link in the message Hans received
        (received,) = Path(mailboxes).glob("*-hans.schmidt@example.de.eml")
        message = message_from_bytes(received.read_bytes(), policy=policy.default)
        link = story.find_unsubscribe_link(message.get_body(("html",)).get_content())
        case.assertIn(f"/mailing/{autumn.id}/confirm_unsubscribe?", link)
        header = message["List-Unsubscribe"]
        case.assertIn(f"/mailing/{autumn.id}/unsubscribe_oneclick?", header)
        story.step_visit(case.base_url(), mailboxes)
        case.env.invalidate_all()  # the visits wrote through the test server
        story.step_bounces(env)
    case.env.invalidate_all()
    return autumn


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestDemo(DeliveryCommon, HttpCase):
    def test_demo_data_loaded(self):
        mailing = self.env.ref("mass_mailing_delivery.mailing_demo_autumn_offer")
        self.assertEqual(mailing.state, "draft")
        report = mailing.get_delivery_report()
        self.assertEqual(report["ignored"].get("invalid"), 1, "Typo Contact")
        self.assertEqual(report["ignored"].get("duplicate"), 1, "Giulia Rossi (duplicate)")
        self.assertFalse(report["blacklisted_by_reason"], "nobody is blocked before the story")
        hans = self.env["mail.blacklist"].search([("email", "=", "hans.schmidt@example.de")])
        self.assertFalse(hans, "Hans unsubscribes in the story, not in the demo data")
        for xmlid in ("mailing_demo_winter_sale", "mailing_demo_new_year"):
            self.assertEqual(self.env.ref(f"mass_mailing_delivery.{xmlid}").state, "draft")

    def tell_story(self):
        return tell_story(self)

    @mute_logger("odoo.addons.mail.models.mail_mail", "odoo.addons.mail.models.mail_thread")
    def test_story_blocks_for_each_reason(self):
        """The story blocks a contact for each reason, with its evidence; Hans Schmidt
        follows the unsubscribe link of the autumn offer he received and gives his reason
        on core's page."""
        autumn = self.tell_story()
        entries = self.env["mail.blacklist"].search([("email", "in", list(BLOCKED))])
        self.assertEqual({entry.email: entry.block_reason for entry in entries}, BLOCKED)
        for entry in entries:
            with self.subTest(email=entry.email):
                self.assertTrue(entry.block_evidence, "every block shows its evidence")
                if entry.block_reason in BOUNCE_REASONS:
                    self.assertTrue(entry.bounce_event_id, "the bounce is the evidence")
        lena = entries.filtered(lambda e: e.email == "lena.fischer@example.de")
        self.assertEqual(lena.block_mailing_id.subject, "Happy new year", "the third mailing")
        # Hans: blocked by the autumn offer's unsubscribe link, his reason as evidence
        hans = entries.filtered(lambda e: e.email == "hans.schmidt@example.de")
        reason = self.env.ref("mass_mailing.mailing_subscription_optout_data_2")
        self.assertEqual(hans.opt_out_reason_id, reason)
        self.assertEqual(hans.block_evidence, reason.name)
        self.assertEqual(hans.block_mailing_id, autumn)
        received = autumn.mailing_trace_ids.filtered(lambda t: t.email == hans.email)
        self.assertIn(received.trace_status, ("sent", "open"), "he received it")

        # the custom registry entry re-labelled Tom's bounce, classified generically first
        entry = self.env["mail.delivery.error"].search(
            [("name", "=", "Mailbox migrated (our partner's platform)")]
        )
        tom = self.env["mailing.trace"].search([("email", "=", "tom.baker@example.co.uk")])
        self.assertEqual(tom.delivery_error_id, entry)

        # the autumn mailing's banners: ignored by block reason, not sent by permanence
        mailing = self.env.ref("mass_mailing_delivery.mailing_demo_autumn_offer")
        report = mailing.get_delivery_report()
        self.assertEqual(report["blacklisted_by_reason"], {"manual": 1}, "Peter Weber")
        self.assertTrue(report["failed"].get("permanent"), "Marco Bianchi: 550 5.1.1")
        self.assertTrue(report["failed"].get("temporary"), "Anna Nowak, Luc Dubois")
        summary = mailing.get_live_summary()
        self.assertEqual(summary["ignored"], report["ignored_total"], "as the banner says")
        self.assertEqual(summary["not_sent"], report["failed_total"], "as the banner says")
        # the later mailings ignore Hans, who unsubscribed from the autumn offer
        for xmlid in ("mailing_demo_winter_sale", "mailing_demo_new_year"):
            later = self.env.ref(f"mass_mailing_delivery.{xmlid}").get_delivery_report()
            self.assertEqual(later["blacklisted_by_reason"], {"unsubscribed": 1}, xmlid)

        if "account.move" in self.env:
            failed = self.env["account.move"].search(
                [("partner_id.email", "=", "marco.bianchi@nouser.example")]
            )
            self.assertTrue(failed.activity_ids, "the failed invoice e-mail raised an alert")
