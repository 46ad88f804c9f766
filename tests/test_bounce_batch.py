"""Bounces applied as one batch: the recipients of one message of the bounce mailbox, the
events of one webhook POST. One block (and one chatter note) per address, whatever the
number of bounces of the address in the batch; the statements of a batch do not grow
with its events."""

import json
import time

from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..tools.providers import sendgrid
from . import provider_payloads as payloads
from .common import DeliveryCommon

#: the kinds of a SendGrid batch, in turn: 3 bounces, 1 deferral, 1 delivery
SENDGRID_KINDS = ["bounce", "bounce", "bounce", "deferred", "delivered"]


def block_notes(entry):
    """The chatter notes of a block on the blacklist entry ``entry``."""
    return entry.message_ids.filtered(lambda m: "Blocked:" in (m.body or ""))


@tagged("post_install", "-at_install", "mass_mailing_delivery", "mmd_bounce_batch")
class TestBounceBatchMailbox(DeliveryCommon):
    def make_multi_dsn(self, recipients, status, diagnostic):
        """An RFC 3464 DSN naming several recipients of one message (the headers of the
        original message without its Message-ID: matched by recipient and recency).

        :param recipients: the addresses that failed
        :return: the raw message (bytes)
        """
        per_recipient = "".join(
            f"Final-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: {status}\r\n"
            f"Remote-MTA: dns; mx.remote.example\r\nDiagnostic-Code: smtp; {diagnostic}\r\n\r\n"
            for rcpt in recipients
        )
        return (
            f"From: MAILER-DAEMON@mx.remote.example (Mail Delivery System)\r\n"
            f"To: {self.bounce_address}\r\n"
            f"Subject: Undelivered Mail Returned to Sender\r\n"
            f"Message-Id: <multi.{time.time_ns()}@mx.remote.example>\r\n"
            f"MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
            f"--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed for {len(recipients)} "
            f"recipients.\r\n\r\n"
            f"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; mx.remote.example\r\n\r\n{per_recipient}"
            f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"From: martial.marketing@test.mycompany.com\r\nSubject: Offer\r\n\r\n"
            f"--B--\r\n"
        ).encode()

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_dsn_with_three_recipients_one_note_per_address(self):
        emails = ["ann@gone.example", "bob@gone.example", "cy@gone.example"]
        partners = self.create_partners(emails)
        mailing = self.create_partner_mailing(partners)
        mailing.action_launch()
        traces = self.send_mailing(mailing)
        self.assertEqual(set(traces.mapped("trace_status")), {"sent"})
        raw = self.make_multi_dsn(emails, "5.1.1", "550 5.1.1 Recipient address rejected")
        events = self.receive(raw)
        self.assertEqual(sorted(events.mapped("recipient")), emails)
        self.assertEqual(set(events.mapped("kind")), {"hard"})
        self.assertEqual(events.trace_id, traces, "each recipient matched to its trace")
        self.env.invalidate_all()
        self.assertEqual(set(traces.mapped("trace_status")), {"bounce"})
        self.assertEqual(set(traces.mapped("address_action")), {"Blocked: hard bounce."})
        self.assertEqual(set(partners.mapped("message_bounce")), {1}, "core's counter counts")
        entries = self.env["mail.blacklist"].sudo().search([("email", "in", emails)])
        self.assertEqual(len(entries), 3)
        for entry in entries:
            self.assertEqual(entry.block_reason, "hard_bounce")
            self.assertEqual(entry.bounce_event_id.recipient, entry.email, "its own evidence")
            self.assertIn("5.1.1", entry.block_evidence)
            self.assertEqual(len(block_notes(entry)), 1, "the chatter note, once")
        # the same message again (a second worker, a re-delivery): nothing changes
        self.assertFalse(self.receive(raw))
        self.assertEqual(set(partners.mapped("message_bounce")), {1})
        self.assertEqual([len(block_notes(entry)) for entry in entries], [1, 1, 1])

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_soft_bounces_of_a_message_counted_once_per_address(self):
        """Three soft bounces in one message: one counter statement, each address counted
        once for the mailing."""
        emails = ["full1@later.example", "full2@later.example", "full3@later.example"]
        partners = self.create_partners(emails)
        mailing = self.create_partner_mailing(partners)
        mailing.action_launch()
        traces = self.send_mailing(mailing)
        self.assertEqual(set(traces.mapped("trace_status")), {"sent"})
        events = self.receive(self.make_multi_dsn(emails, "4.2.2", "452 4.2.2 Mailbox full"))
        self.assertEqual(events.trace_id, traces)
        self.assertEqual(set(events.mapped("kind")), {"soft"})
        counters = self.env["mail.bounce.counter"].sudo().search([("email", "in", emails)])
        self.assertEqual(sorted(counters.mapped("soft_count")), [1, 1, 1])
        self.assertTrue(
            all(a.startswith("Soft bounce 1 of") for a in events.mapped("action_taken"))
        )
        self.assertFalse(self.env["mail.blacklist"].sudo().search([("email", "in", emails)]))


@tagged("post_install", "-at_install", "mass_mailing_delivery", "mmd_bounce_batch")
class TestBounceBatchWebhook(DeliveryCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.signer = payloads.SendGridSigner()
        cls.server = cls.env["ir.mail_server"].create(
            {
                "name": "SendGrid relay",
                "smtp_host": cls.smtpd.host,
                "smtp_port": cls.smtpd.port,
                "smtp_encryption": "none",
                "mmd_provider": "sendgrid",
                "mmd_provider_secret": cls.signer.verification_key,
            }
        )

    def sent_traces(self, count, tag):
        """``count`` traces of a sent mailing, each with the message id SendGrid gave
        (as recorded from its 250 reply at sending).

        :return: ``mailing.trace`` records, in order
        """
        partners = self.create_partners([f"{tag}.{idx}@remote.example" for idx in range(count)])
        mailing = self.create_partner_mailing(partners, state="done")
        return self.env["mailing.trace"].create(
            [
                {
                    "model": "res.partner",
                    "res_id": partner.id,
                    "email": partner.email,
                    "mass_mailing_id": mailing.id,
                    "message_id": f"<{tag}.{partner.id}@odoo.example>",
                    "trace_status": "sent",
                    "provider_message_id": f"sg{tag}{partner.id}",
                }
                for partner in partners
            ]
        )

    def batch(self, traces):
        """One SendGrid POST body for ``traces``: 60 % bounces, 20 % deferrals, 20 %
        deliveries, and a second bounce of the first address (another event)."""
        events = [
            payloads.sendgrid_event(
                SENDGRID_KINDS[idx % len(SENDGRID_KINDS)], trace.email, trace.provider_message_id
            )
            for idx, trace in enumerate(traces)
        ]
        events.append(
            payloads.sendgrid_event("bounce", traces[0].email, traces[0].provider_message_id)
        )
        return json.dumps(events).encode()

    @mute_logger("odoo.addons.mass_mailing_delivery.models.ir_mail_server.provider")
    def test_sendgrid_batch_of_100_over_http(self):
        traces = self.sent_traces(100, "http")
        body = self.batch(traces)
        response = self.url_open(
            f"/mass_mailing_delivery/webhook/sendgrid/{self.server.id}",
            data=body,
            headers=self.signer.headers(body),
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.text, "OK: 101 events queued")
        # what the scheduled action the post triggered does (no cron worker in tests)
        self.env["mail.provider.event"].sudo()._cron_apply()
        self.env.invalidate_all()
        events = self.env["mail.bounce.event"].sudo().search([("trace_id", "in", traces.ids)])
        self.assertEqual(len(events), 101)
        self.assertEqual(set(events.mapped("state")), {"matched"})
        bounced = traces.filtered(lambda t: t.trace_status == "bounce")
        expected = traces.filtered(lambda t: SENDGRID_KINDS[traces.ids.index(t.id) % 5] == "bounce")
        self.assertEqual(bounced, expected)
        self.assertEqual(set(bounced.mapped("bounce_kind")), {"hard"})
        self.assertEqual(set((traces - bounced).mapped("trace_status")), {"sent"})
        entries = (
            self.env["mail.blacklist"].sudo().search([("email", "in", traces.mapped("email"))])
        )
        self.assertEqual(set(entries.mapped("email")), set(bounced.mapped("email")))
        self.assertEqual(set(entries.mapped("block_reason")), {"hard_bounce"})
        for entry in entries:
            self.assertTrue(entry.block_evidence.startswith("SendGrid"))
            self.assertEqual(len(block_notes(entry)), 1, "one note, also for two bounces")
        first = events.filtered(lambda e: e.recipient == traces[0].email)
        self.assertEqual(len(first), 2, "both events of the address logged")
        self.assertIn(entries.filtered(lambda e: e.email == traces[0].email).bounce_event_id, first)
        delivered = events.filtered(lambda e: e.kind == "delivered")
        self.assertEqual(len(delivered), 20)
        # the same POST again changes nothing
        again = self.url_open(
            f"/mass_mailing_delivery/webhook/sendgrid/{self.server.id}",
            data=body,
            headers=self.signer.headers(body),
        )
        self.assertEqual(again.status_code, 409)
        self.assertEqual(
            self.env["mail.bounce.event"].sudo().search_count([("trace_id", "in", traces.ids)]),
            101,
        )

    def process_counting_queries(self, traces):
        """Process one SendGrid batch for ``traces``; return the number of SQL statements
        it took (read and applied, as the webhook does after checking the signature)."""
        body = self.batch(traces)
        events = sendgrid.read(
            body, self.signer.headers(body), self.signer.verification_key, time.time()
        )
        Event = self.env["mail.bounce.event"].sudo()
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        created, duplicates = Event._process_provider_events(self.server, events)
        self.env.flush_all()
        count = self.env.cr.sql_log_count - before
        self.assertEqual((len(created), duplicates), (len(traces) + 1, 0))
        return count

    def test_batch_statements_bounded(self):
        """The statements of a batch hardly grow with its events: 100 events (60 blocks
        with their chatter notes) take fewer statements than events, and 90 more events
        than a batch of 10 cost at most a third of a statement each (the ORM splits a
        large insert or update in a few statements)."""
        small = self.process_counting_queries(self.sent_traces(10, "small"))
        large = self.process_counting_queries(self.sent_traces(100, "large"))
        self.assertLess(large, 101, "fewer statements than events")
        self.assertLessEqual(large - small, 30, f"10 events: {small}, 100 events: {large}")
