"""The safety stop (the mailing alert rule that pauses a mailing), through the loopback
SMTP server: only the failures that speak about the list count (unknown recipients or
domains, spam complaints), and the rate is judged by its 95 % confidence interval once
200 e-mails were processed."""

import random
from collections import Counter

from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import html2plaintext
from odoo.tools import mute_logger

from .common import DeliveryCommon

#: the held-out list of the incident: 2,000 recipients, 3 % unknown users, 2 % full mailboxes
HELD_OUT_SIZE = 2000
HELD_OUT_UNKNOWN = 60
HELD_OUT_FULL = 40
#: the incident's first 59 e-mails held 3 refusals (5.1 %): the old rule paused there
INCIDENT_FIRST = 59

MUTED = (
    "odoo.addons.mail.models.mail_mail",
    "odoo.addons.mass_mailing_delivery.models.mail_mail.failure",
)


def _held_out_emails():
    """The held-out list in sending order: 2 unknown users and 1 full mailbox among the
    first 59 (the incident), the rest shuffled with a fixed seed."""
    unknown = [f"held.{idx}@nouser.example" for idx in range(HELD_OUT_UNKNOWN)]
    full = [f"held.{idx}@full.example" for idx in range(HELD_OUT_FULL)]
    good = [
        f"held.{idx}@example.com" for idx in range(HELD_OUT_SIZE - HELD_OUT_UNKNOWN - HELD_OUT_FULL)
    ]
    head = unknown[:2] + full[:1] + good[: INCIDENT_FIRST - 3]
    random.Random(17).shuffle(head)
    tail = unknown[2:] + full[1:] + good[INCIDENT_FIRST - 3 :]
    random.Random(1717).shuffle(tail)
    return head + tail


@tagged("post_install", "-at_install", "mass_mailing_delivery", "mmd_safety_stop")
class TestSafetyStop(DeliveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule = cls.env.ref("mass_mailing_delivery.alert_rule_mailing")

    def _send_in_order(self, emails):
        """Send a mailing to ``emails``, one partner each, in the order given (the
        mailing creates its e-mails in the partners' order: by name)."""
        partners = self.env["res.partner"].create(
            [{"name": f"Recipient {idx:05d}", "email": email} for idx, email in enumerate(emails)]
        )
        mailing = self.create_partner_mailing(partners)
        with self.real_smtp(), mute_logger(*MUTED):
            mailing.action_send_mail()
            # the queue is searched newest first: send in the list's order
            self.env["mail.mail"].sudo().search(
                [("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]
            ).sorted("id").send()
        self.env.invalidate_all()
        return mailing, mailing.mailing_trace_ids

    def test_rule_defaults_say_what_counts(self):
        self.assertEqual(self.rule.min_sample, 200)
        self.assertEqual(self.rule.rate_threshold, 5)
        help_text = self.rule._fields["rate_threshold"].help
        self.assertIn("Temporary failures", help_text)
        self.assertIn("95 % confidence interval", help_text)

    @users("user_marketing")
    def test_held_out_list_sends_to_the_end(self):
        """2,000 recipients, 3 % unknown users (550 5.1.1) and 2 % full mailboxes (452):
        3 refusals among the first 59 e-mails paused it at 5 %; it now sends to the end."""
        emails = _held_out_emails()
        first = Counter(email.rpartition("@")[2] for email in emails[:INCIDENT_FIRST])
        self.assertEqual((first["nouser.example"], first["full.example"]), (2, 1))
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("mail.session.batch.size", "500")
        mailing, traces = self._send_in_order(emails)
        self.assertFalse(mailing.mmd_paused, mailing.mmd_pause_reason)
        self.assertFalse(mailing.sudo().activity_ids)
        statuses = Counter(traces.mapped("trace_status"))
        self.assertEqual(
            statuses, {"sent": 1900, "error": HELD_OUT_UNKNOWN + HELD_OUT_FULL}, "sent to the end"
        )
        self.assertEqual(len(self.smtpd.recipients()), 1900)
        categories = Counter(
            traces.filtered(lambda t: t.trace_status == "error").mapped("delivery_error_category")
        )
        self.assertEqual(
            categories, {"recipient_unknown": HELD_OUT_UNKNOWN, "mailbox_full": HELD_OUT_FULL}
        )

    @users("user_marketing")
    def test_list_with_15_percent_unknown_users_is_paused(self):
        """One recipient in seven unknown: paused once 200 e-mails were processed, with the
        figures and the interval in the pause message and in the owner's activity."""
        emails = [
            f"dead.{idx}@nouser.example" if idx % 20 >= 17 else f"live.{idx}@example.com"
            for idx in range(400)
        ]
        mailing, traces = self._send_in_order(emails)
        self.assertTrue(mailing.mmd_paused)
        statuses = Counter(traces.mapped("trace_status"))
        self.assertEqual(statuses, {"sent": 170, "error": 30, "cancel": 200})
        reason = mailing.mmd_pause_reason
        self.assertIn("30 of the 200 e-mails processed (15.0 %)", reason)
        self.assertIn("With 95 % confidence the rate is between 10.7 % and 20.6 %", reason)
        self.assertIn("above the limit of 5 %", reason)
        self.assertEqual(len(self.smtpd.recipients()), 170, "nothing sent after the pause")
        activity = mailing.sudo().activity_ids
        self.assertEqual(activity.user_id, self.user_marketing)
        self.assertIn("30 of the 200 e-mails processed", html2plaintext(activity.note))
        self.assertIn(reason, html2plaintext(mailing.sudo().message_ids[:1].body))

    @users("user_marketing")
    def test_temporary_failures_do_not_count(self):
        """A quarter of the list with full mailboxes or a busy server (452, 421) and a
        few unknown users: temporary failures say nothing about the list."""

        def domain(idx):
            if idx % 40 == 2:
                return "nouser.example"  # 2.5 %
            return {0: "full.example", 1: "busy.example"}.get(idx % 8, "example.com")

        emails = [f"t.{idx}@{domain(idx)}" for idx in range(300)]
        mailing, traces = self._send_in_order(emails)
        self.assertFalse(mailing.mmd_paused, mailing.mmd_pause_reason)
        failed = traces.filtered(lambda t: t.trace_status == "error")
        self.assertGreater(len(failed) / len(traces), 0.25, "far above 5 % of failures")
        categories = Counter(failed.mapped("delivery_error_category"))
        self.assertEqual(categories["recipient_unknown"], 8)
        self.assertFalse(traces.filtered(lambda t: t.trace_status in ("outgoing", "cancel")))

    @users("user_marketing")
    def test_the_rule_counts_what_its_triggers_say(self):
        """Without *Failed*, refusals at sending do not count at all."""
        self.rule.sudo().trigger_failed = False
        emails = [
            f"d.{idx}@nouser.example" if idx % 4 == 0 else f"l.{idx}@example.com"
            for idx in range(240)
        ]
        mailing, traces = self._send_in_order(emails)
        self.assertFalse(mailing.mmd_paused)
        self.assertEqual(Counter(traces.mapped("trace_status")), {"sent": 180, "error": 60})
