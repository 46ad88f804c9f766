"""Bounce and complaint processing through the real mail gateway (``message_process``):
DSN and ARF messages reach the bounce alias, traces, counters and the blacklist follow
the suppression rules."""

import base64
import random
import threading
import time

import psycopg2

from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from .common import DeliveryCommon


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestBounceProcessing(DeliveryCommon):
    def _sent_trace(self, email):
        """Send a one-recipient mailing to ``email`` for real and return its trace."""
        partner = self.env["res.partner"].search([("email", "=", email)], limit=1)
        partner = partner or self.create_partners([email])
        mailing = self.create_partner_mailing(partner)
        mailing.action_launch()
        trace = self.send_mailing(mailing)
        self.assertEqual(trace.trace_status, "sent")
        return trace

    def _is_blocked(self, email):
        return bool(self.env["mail.blacklist"].sudo().search([("email", "=", email)]))

    @users("user_marketing")
    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_hard_bounce_blocks_at_once(self):
        trace = self._sent_trace("gone@example.com")
        events = self.receive(
            self.make_dsn(
                "gone@example.com",
                "5.1.1",
                "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown",
                trace.message_id,
            )
        )
        self.assertEqual(len(events), 1)
        self.assertEqual(events.kind, "hard")
        self.assertEqual(events.state, "matched")
        self.assertEqual(events.trace_id, trace)
        self.assertEqual(trace.trace_status, "bounce")
        self.assertEqual(trace.bounce_kind, "hard")
        self.assertEqual(trace.delivery_error_id.category, "recipient_unknown")
        self.assertIn("User unknown", trace.failure_reason)
        self.assertTrue(self._is_blocked("gone@example.com"))
        partner = self.env["res.partner"].search([("email", "=", "gone@example.com")])
        self.assertEqual(partner.message_bounce, 1, "core's bounce counter still counts")

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_kept_bounce_processed_again_from_its_list(self):
        """A bounce kept because a concurrent worker got in its way (see test_workers)
        is listed for administrators, and *Process again* applies it."""
        trace = self._sent_trace("kept@example.com")
        raw = self.make_dsn("kept@example.com", "5.1.1", "550 5.1.1 User unknown", trace.message_id)
        kept = self.env["mail.bounce.deferred"].create(
            {
                "message_id": "<kept@mx.remote.example>",
                "raw": base64.b64encode(raw),
                "error": "40001 SerializationFailure",
            }
        )
        action = self.env.ref("mass_mailing_delivery.mail_bounce_deferred_action")
        self.assertEqual(action.res_model, "mail.bounce.deferred")
        result = kept.action_process_again()
        self.assertIn("1", result["params"]["message"])
        self.assertFalse(kept.exists(), "processed: no longer waiting")
        self.assertEqual(trace.trace_status, "bounce")
        self.assertTrue(self._is_blocked("kept@example.com"))

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_delay_is_not_a_bounce(self):
        trace = self._sent_trace("slow@example.com")
        events = self.receive(
            self.make_dsn(
                "slow@example.com",
                "4.4.7",
                "451 4.4.7 Delivery delayed, will retry",
                trace.message_id,
                action="delayed",
            )
        )
        self.assertEqual(events.kind, "delayed")
        self.assertEqual(trace.trace_status, "sent", "a delay is not a bounce")
        self.assertFalse(self._is_blocked("slow@example.com"))
        partner = self.env["res.partner"].search([("email", "=", "slow@example.com")])
        self.assertEqual(partner.message_bounce, 0)

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_complaint_blocks(self):
        trace = self._sent_trace("angry@example.com")
        events = self.receive(self.make_arf("angry@example.com", trace.message_id))
        self.assertEqual(events.kind, "complaint")
        self.assertEqual(events.trace_id, trace)
        self.assertTrue(trace.is_complaint)
        self.assertTrue(self._is_blocked("angry@example.com"))

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_soft_bounces_block_on_third_mailing_and_reset_on_delivery(self):
        email = "full@example.com"

        def soft_bounce():
            trace = self._sent_trace(email)
            self.receive(self.make_dsn(email, "4.2.2", "452 4.2.2 Mailbox full", trace.message_id))
            self.assertEqual(trace.bounce_kind, "soft")
            return trace

        soft_bounce()
        soft_bounce()
        self.assertFalse(self._is_blocked(email), "two soft bounces do not block")
        # a proof of delivery (an open) resets the streak
        opened = self._sent_trace(email)
        opened.set_opened()
        soft_bounce()
        soft_bounce()
        self.assertFalse(self._is_blocked(email), "the streak restarted after the open")
        soft_bounce()
        self.assertTrue(self._is_blocked(email), "the third consecutive soft bounce blocks")

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_same_mailing_counts_once(self):
        email = "twice@example.com"
        trace = self._sent_trace(email)
        for _attempt in range(3):
            self.receive(self.make_dsn(email, "4.2.2", "452 4.2.2 Mailbox full", trace.message_id))
        counter = self.env["mail.bounce.counter"].sudo().search([("email", "=", email)])
        self.assertEqual(counter.soft_count, 1)
        self.assertFalse(self._is_blocked(email))

    @mute_logger("odoo.addons.mail.models.mail_thread", "odoo.addons.mass_mailing_delivery")
    def test_unknown_message_id_is_logged(self):
        events = self.receive(
            self.make_dsn(
                "stranger@example.com",
                "5.1.1",
                "550 5.1.1 User unknown",
                "<never-sent@somewhere.example>",
            )
        )
        self.assertEqual(events.kind, "hard")
        self.assertEqual(events.state, "unmatched")
        self.assertTrue(events.raw_attachment_id, "kept for inspection")
        self.assertIn(b"never-sent@somewhere.example", events.raw_attachment_id.raw)

    @mute_logger("odoo.addons.mail.models.mail_thread", "odoo.addons.mass_mailing_delivery")
    def test_garbage_is_kept_not_lost(self):
        raw = (
            f"From: MAILER-DAEMON@mx.remote.example\r\nTo: {self.bounce_address}\r\n"
            "Subject: =?bogus-charset?Q?=FF=FE?=\r\nContent-Type: multipart/report; "
            'report-type=delivery-status; boundary="X"\r\n\r\n--X\r\n'
            "Content-Type: message/delivery-status\r\n\r\nFinal-Recipient: \xff\xfe\r\n"
        ).encode("latin-1")
        events = self.receive(raw)
        self.assertTrue(events)
        self.assertTrue(all(event.raw_attachment_id for event in events))

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_verp_bounce_address_names_the_trace(self):
        """With VERP on, the envelope sender names the trace: a bounce that quotes no
        Message-ID and reports a rewritten recipient still finds it; a forged one does not."""
        self.env["ir.config_parameter"].sudo().set_param("mass_mailing_delivery.verp", True)
        partner = self.create_partners(["forwarded@example.com"])
        mailing = self.create_partner_mailing(partner)
        mailing.action_launch()
        with self.real_smtp() as smtpd:
            trace = self.send_mailing(mailing)
            envelope_sender = smtpd.received[-1].mail_from
        local, domain = self.bounce_address.split("@")
        self.assertTrue(envelope_sender.startswith(f"{local}+mmd{trace.id}-"), envelope_sender)
        self.assertTrue(envelope_sender.endswith(f"@{domain}"), envelope_sender)

        def dsn_to(address):
            raw = self.make_dsn("final.box@elsewhere.example", "5.1.1", "550 5.1.1 No such user")
            return raw.replace(f"To: {self.bounce_address}".encode(), f"To: {address}".encode())

        forged = envelope_sender.replace(f"+mmd{trace.id}-", f"+mmd{trace.id + 1}-")
        events = self.receive(dsn_to(forged))
        self.assertEqual(events.state, "unmatched", "a forged VERP address names nobody")
        self.assertEqual(trace.trace_status, "sent")

        events = self.receive(dsn_to(envelope_sender))
        self.assertEqual(events.trace_id, trace)
        self.assertEqual(events.kind, "hard")
        self.assertEqual(trace.trace_status, "bounce")

    def test_synchronize_now_reports(self):
        action = self.env["mail.bounce.event"].action_synchronize()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("bounces", action["params"]["message"])

    @users("user_marketing")
    def test_synchronize_now_from_the_mailing(self):
        """The mailing's "Synchronise now" button runs for a marketing user."""
        server_action = self.env.ref("mass_mailing_delivery.mail_bounce_event_action_synchronize")
        action = server_action.with_user(self.env.user).run()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("bounces", action["params"]["message"])


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestBounceCounterConcurrency(DeliveryCommon):
    """Several workers counting soft bounces at once: each runs in its own committed
    transaction on a real cursor, as Odoo workers do, and retries the transaction on a
    serialization failure as Odoo does for requests and the mail gateway (an IMAP message
    whose processing failed stays unseen and is processed again). The rows are removed
    afterwards."""

    def _increment_in_worker(self, email, source, results, barrier):
        with self.registry.cursor() as cr:
            env = self.env(cr=cr)
            barrier.wait(timeout=10)
            for _attempt in range(50):
                try:
                    count = env["mail.bounce.counter"]._increment(email, source, 30)
                    cr.commit()
                except psycopg2.errors.SerializationFailure:
                    cr.rollback()
                    time.sleep(random.uniform(0.001, 0.02))
                    continue
                results.append(count)
                return

    def test_parallel_increments_are_exact(self):
        email = "parallel.workers@example.com"
        counter_model = self.env["mail.bounce.counter"]
        self.addCleanup(self._delete_counter, email)
        workers = 6
        barrier = threading.Barrier(workers)
        results = []
        threads = [
            threading.Thread(
                target=self._increment_in_worker,
                args=(email, f"mailing:{idx}", results, barrier),
            )
            for idx in range(workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(sorted(results), list(range(1, workers + 1)), "no lost increment")
        counter_model.invalidate_model()
        with self.registry.cursor() as cr:
            cr.execute("SELECT soft_count FROM mail_bounce_counter WHERE email = %s", [email])
            self.assertEqual(cr.fetchone()[0], workers)

    def _delete_counter(self, email):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM mail_bounce_counter WHERE email = %s", [email])
