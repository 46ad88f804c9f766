"""Sending through an SMTP server that misbehaves (the loopback server's fault rules):
afterwards every recipient is in exactly one state with the real reason, nobody received
the mail twice (the server's received log proves it), and the queue is not stuck."""

from collections import Counter
from unittest.mock import patch

from odoo.addons.base.models import ir_mail_server
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..tools.loopback_smtp import LoopbackSMTPServer
from ..tools.loopback_smtp import free_port
from .common import DeliveryCommon

FAULT_RULES = {
    "drop.example": "!disconnect",
    "late.example": "!after-data 451 4.3.0 Temporary local problem, try again later",
    "slow.example": "!hang 3",
}


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestSMTPFaults(DeliveryCommon):
    def setUp(self):
        super().setUp()
        rules = dict(self.smtpd.handler.rules)
        self.smtpd.handler.rules.update(FAULT_RULES)
        self.addCleanup(self._restore_server, rules)

    def _restore_server(self, rules):
        self.smtpd.handler.rules.clear()
        self.smtpd.handler.rules.update(rules)
        self.smtpd.handler.greeting = ""

    def _reason(self, trace):
        """The failure reason of ``trace`` (its own, else its e-mail's)."""
        return trace.failure_reason or trace.sudo().mail_mail_id.failure_reason or ""

    def _mailing(self, emails):
        partners = self.create_partners(emails)
        mailing = self.create_partner_mailing(partners)
        mailing.action_launch()
        return mailing

    @mute_logger(
        "odoo.addons.mail.models.mail_mail",
        "odoo.addons.mass_mailing_delivery.models.mail_mail",
    )
    def test_mixture_of_faults_in_one_batch(self):
        emails = [
            "first@example.com",
            "drop@drop.example",
            "second@example.com",
            "slow@slow.example",
            "third@example.com",
            "late@late.example",
            "fourth@example.com",
            "gone@nouser.example",
            "full@full.example",
            "fifth@example.com",
        ]
        mailing = self._mailing(emails)
        # a short SMTP timeout, so that the hanging server times the client out quickly
        with patch.object(ir_mail_server, "SMTP_TIMEOUT", 1):
            traces = self.send_mailing(mailing)

        by_email = {trace.email: trace for trace in traces}
        self.assertEqual(len(traces), len(emails), "one trace per recipient")
        received = Counter(self.smtpd.recipients())
        for email in emails:
            trace = by_email[email]
            with self.subTest(email=email):
                if email.endswith("@example.com"):
                    self.assertEqual(trace.trace_status, "sent")
                    self.assertEqual(received[email], 1, "received exactly once")
                else:
                    self.assertEqual(trace.trace_status, "error")
                    self.assertEqual(received[email], 0)
        reasons = {email: self._reason(by_email[email]) for email in emails}
        self.assertIn("closed the connection", reasons["drop@drop.example"])
        self.assertIn("timed out", reasons["slow@slow.example"])
        self.assertIn("451", reasons["late@late.example"])
        self.assertIn("550", reasons["gone@nouser.example"])
        self.assertIn("452", reasons["full@full.example"])
        self.assertFalse(
            self.env["mail.mail"]
            .sudo()
            .search([("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]),
            "nothing is left stuck in the queue",
        )
        # the late reply of the hanging server never lands on the next e-mail
        self.assertEqual(by_email["third@example.com"].trace_status, "sent")

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_421_on_connect_then_retry(self):
        emails = ["one@example.com", "two@example.com", "three@example.com"]
        mailing = self._mailing(emails)
        self.smtpd.handler.greeting = "421 4.3.2 Service not available, closing channel"
        traces = self.send_mailing(mailing)
        self.assertEqual(set(traces.mapped("trace_status")), {"error"})
        self.assertTrue(all("421" in self._reason(trace) for trace in traces))
        self.assertEqual(self.smtpd.recipients(), [])

        self.smtpd.handler.greeting = ""
        mailing.action_retry_failed()
        # the retry puts the failed mails back in the queue: the mail queue sends them
        with self.real_smtp():
            self.env["mail.mail"].sudo().search(
                [("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]
            ).send()
        self.env.invalidate_all()
        traces = mailing.mailing_trace_ids
        received = Counter(self.smtpd.recipients())
        self.assertEqual(received, Counter(emails), "each recipient received it exactly once")
        self.assertEqual(
            Counter(traces.mapped("trace_status"))["sent"], len(emails), "all sent after retry"
        )

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_connection_refused_then_retry(self):
        """Nothing listens on the server's port: every recipient fails with the real
        reason (the refused connection), as a temporary, retryable failure; nobody is
        lost. Once a server listens there, the retry sends each recipient exactly once."""
        emails = [f"refused.{idx}@example.com" for idx in range(6)]
        port = free_port(self.smtpd.host)  # bound then released: nothing listens there
        self.env["ir.mail_server"].sudo().search([]).write({"smtp_port": port})
        mailing = self._mailing(emails)
        traces = self.send_mailing(mailing)

        self.assertEqual(len(traces), len(emails), "nobody is lost")
        self.assertEqual(self.smtpd.recipients(), [])
        for trace in traces:
            with self.subTest(email=trace.email):
                self.assertEqual(trace.trace_status, "error")
                self.assertEqual(trace.failure_type, "mail_smtp")
                self.assertIn("Connection refused", trace.failure_reason or "")
                self.assertEqual(trace._get_failure_permanence(), "temporary")
                self.assertEqual(trace.sudo().mail_mail_id.state, "exception")

        with LoopbackSMTPServer(port=port) as smtpd:
            mailing.action_retry_failed()
            with self.real_smtp():
                self.env["mail.mail"].sudo().search(
                    [("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]
                ).send()
            received = Counter(smtpd.recipients())
        self.env.invalidate_all()
        self.assertEqual(received, Counter(emails), "each recipient received it exactly once")
        self.assertEqual(
            Counter(mailing.mailing_trace_ids.mapped("trace_status")), Counter(sent=len(emails))
        )
