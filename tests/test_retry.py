"""Retry sends again only the temporary failures, keeps the traces and their history,
and never retries a recipient blocked since."""

from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from .common import DeliveryCommon

MAIL_LOGGERS = ("odoo.addons.mail.models.mail_mail", "odoo.addons.base.models.ir_mail_server")


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestRetry(DeliveryCommon):
    def _accept(self, domain):
        """Let the loopback server accept ``domain`` until the end of the test."""
        rules = self.smtpd.handler.rules
        self.addCleanup(rules.__setitem__, domain, rules.pop(domain))

    def _flush_queue(self, mailing):
        with self.real_smtp(), mute_logger(*MAIL_LOGGERS):
            self.env["mail.mail"].sudo().search(
                [("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]
            ).send()
        self.env.invalidate_all()

    @users("user_marketing")
    def test_retry_only_temporary_keeps_history(self):
        partners = self.create_partners(
            ["ok@example.com", "a@nouser.example", "b@full.example", "c@busy.example"]
        )
        mailing = self.create_partner_mailing(partners)
        with mute_logger(*MAIL_LOGGERS):
            traces = self.send_mailing(mailing)
        by_email = {trace.email: trace for trace in traces}
        first_errors = {email: by_email[email].failure_reason for email in by_email}
        self.assertEqual(len(traces.filtered(lambda t: t.trace_status == "error")), 3)

        # the mailbox is no longer full; the busy server is still busy
        self._accept("full.example")
        self.smtpd.reset()
        result = mailing.action_retry_failed()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(by_email["a@nouser.example"].trace_status, "error", "permanent: kept")
        self.assertEqual(by_email["b@full.example"].trace_status, "outgoing")
        self.assertEqual(by_email["c@busy.example"].trace_status, "outgoing")
        self._flush_queue(mailing)

        self.assertEqual(self.smtpd.recipients(), ["b@full.example"], "only temporary ones")
        self.assertEqual(mailing.mailing_trace_ids, traces, "no trace deleted nor added")
        full = by_email["b@full.example"]
        self.assertEqual(full.trace_status, "sent")
        self.assertEqual(full.attempt_count, 2)
        self.assertEqual(full.last_error, first_errors["b@full.example"])
        self.assertIn("452 4.2.2", full.delivery_history)
        self.assertIn("retry", full.delivery_history)
        busy = by_email["c@busy.example"]
        self.assertEqual(busy.trace_status, "error")
        self.assertEqual(busy.attempt_count, 2)
        self.assertTrue(busy.failure_reason.startswith("421 4.7.0"))
        self.assertEqual(busy.delivery_history.count("421 4.7.0"), 2, "both attempts logged")
        unknown = by_email["a@nouser.example"]
        self.assertEqual(unknown.attempt_count, 1)
        self.assertTrue(unknown.failure_reason.startswith("550 5.1.1"))

        report = mailing.get_delivery_report()
        self.assertEqual(report["failed"]["permanent"], {"recipient_unknown": 1})
        self.assertEqual(sum(report["failed"]["temporary"].values()), 1)
        self.assertEqual(report["sent"], 2)

    @users("user_marketing")
    def test_retry_refuses_recipient_blocked_since(self):
        partners = self.create_partners(["ok@example.com", "b@full.example"])
        mailing = self.create_partner_mailing(partners)
        with mute_logger(*MAIL_LOGGERS):
            traces = self.send_mailing(mailing)
        failed = traces.filtered(lambda t: t.trace_status == "error")
        self.assertEqual(failed.email, "b@full.example")
        self.env["mail.blacklist"]._add_with_reason("b@full.example", "unsubscribed")
        self._accept("full.example")
        self.smtpd.reset()

        result = mailing.action_retry_failed()
        self.assertEqual(result["params"]["type"], "warning")
        self._flush_queue(mailing)
        self.assertEqual(self.smtpd.recipients(), [], "a blocked recipient is never retried")
        self.assertEqual(failed.trace_status, "cancel")
        self.assertEqual(failed.failure_type, "mail_bl")
        self.assertTrue(failed.last_error.startswith("452 4.2.2"), "the failure stays known")
        self.assertIn("blocked", failed.delivery_history)
        report = mailing.get_delivery_report()
        self.assertEqual(report["ignored"], {"blacklisted": 1})
        self.assertEqual(report["blacklisted_by_reason"], {"unsubscribed": 1})
        self.assertEqual(report["failed_total"], 0)

    @users("user_marketing")
    def test_retry_nothing_to_retry(self):
        partners = self.create_partners(["a@nouser.example"])
        mailing = self.create_partner_mailing(partners)
        with mute_logger(*MAIL_LOGGERS):
            self.send_mailing(mailing)
        result = mailing.action_retry_failed()
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn("permanent failures, not retried: 1;", result["params"]["message"])
