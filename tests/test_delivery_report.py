"""The "ignored" and "not sent" banners: figures before sending (SQL over the recipients)
and after sending (traces), through the loopback SMTP server that refuses addresses with
550 5.1.1, 452 4.2.2 and 421 4.7.0."""

from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from .common import DeliveryCommon

MAIL_LOGGERS = ("odoo.addons.mail.models.mail_mail", "odoo.addons.base.models.ir_mail_server")


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestDeliveryReport(DeliveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls.create_partners(
            [
                "ok1@example.com",
                "ok2@example.com",
                "OK1@example.com",  # duplicate of the first
                "blocked@example.com",
                "gone@example.com",
                "not-an-email",
                False,
                "a@nouser.example",
                "b@full.example",
                "c@busy.example",
                "ok3@example.com",
            ]
        )
        cls.env["mail.blacklist"]._add_with_reason(
            "blocked@example.com", "hard_bounce", evidence="5.1.1 User unknown"
        )
        cls.env["mail.blacklist"]._add_with_reason(
            "gone@example.com", "unsubscribed", evidence="Too many e-mails"
        )

    @users("user_marketing")
    def test_before_sending(self):
        mailing = self.create_partner_mailing(self.partners)
        report = mailing.get_delivery_report()
        self.assertEqual(report["stage"], "before")
        self.assertEqual(report["total"], 11)
        self.assertEqual(
            report["ignored"], {"blacklisted": 2, "invalid": 1, "missing": 1, "duplicate": 1}
        )
        self.assertEqual(report["ignored_total"], 5)
        self.assertEqual(report["blacklisted_by_reason"], {"hard_bounce": 1, "unsubscribed": 1})
        self.assertEqual(report["sent"], 6)
        self.assertEqual(report["failed"], {"permanent": {}, "temporary": {}})
        # the form's banner reads the same figures
        self.assertEqual(mailing.ignored_count, 5)
        self.assertEqual(mailing.ignored_blacklisted_count, 2)
        self.assertIn("Hard bounce: 1", mailing.ignored_blacklisted_detail)
        # each count opens the recipients concerned
        action = mailing.with_context(mmd_reason="blacklisted").action_view_ignored_recipients()
        recipients = self.env["res.partner"].search(action["domain"])
        self.assertEqual(
            sorted(recipients.mapped("email")), ["blocked@example.com", "gone@example.com"]
        )
        action = mailing.with_context(mmd_reason="missing").action_view_ignored_recipients()
        self.assertEqual(self.env["res.partner"].search(action["domain"]), self.partners[6])

    @users("user_marketing")
    def test_before_sending_matches_core(self):
        """The figures before sending are what core's composer then does."""
        mailing = self.create_partner_mailing(self.partners)
        before = mailing.get_delivery_report()
        with mute_logger(*MAIL_LOGGERS):
            traces = self.send_mailing(mailing)
        cancelled = traces.filtered(lambda t: t.trace_status == "cancel")
        self.assertEqual(len(cancelled), before["ignored_total"])
        after = mailing.get_delivery_report()
        self.assertEqual(after["stage"], "after")
        self.assertEqual(after["ignored"], before["ignored"])
        self.assertEqual(after["blacklisted_by_reason"], before["blacklisted_by_reason"])

    @users("user_marketing")
    def test_after_sending(self):
        mailing = self.create_partner_mailing(self.partners)
        with mute_logger(*MAIL_LOGGERS):
            traces = self.send_mailing(mailing)
        report = mailing.get_delivery_report()
        self.assertEqual(report["total"], 11)
        self.assertEqual(report["ignored_total"], 5)
        self.assertEqual(report["failed_total"], 3)
        self.assertEqual(report["failed"]["permanent"], {"recipient_unknown": 1})
        self.assertEqual(sum(report["failed"]["temporary"].values()), 2)
        self.assertEqual(report["sent"], 3)
        self.assertTrue(report["advice"]["permanent"])
        self.assertTrue(report["advice"]["temporary"])
        # every address after the 421 was still sent (the batch went on)
        self.assertEqual(
            sorted(rcpt.lower() for rcpt in self.smtpd.recipients()),
            ["ok1@example.com", "ok2@example.com", "ok3@example.com"],
        )
        # banner fields
        self.assertEqual(mailing.not_sent_count, 3)
        self.assertEqual(mailing.not_sent_permanent_count, 1)
        self.assertEqual(mailing.not_sent_temporary_count, 2)
        action = mailing.with_context(mmd_permanence="temporary").action_view_not_sent()
        temporary = self.env["mailing.trace"].search(action["domain"])
        self.assertEqual(sorted(temporary.mapped("email")), ["b@full.example", "c@busy.example"])
        self.assertTrue(traces)

    @users("user_marketing")
    def test_refusals_keep_server_reply(self):
        mailing = self.create_partner_mailing(self.partners[7:10])
        with mute_logger(*MAIL_LOGGERS):
            traces = self.send_mailing(mailing)
        by_email = {trace.email: trace for trace in traces}
        expected = {
            "a@nouser.example": ("550 5.1.1", "permanent"),
            "b@full.example": ("452 4.2.2", "temporary"),
            "c@busy.example": ("421 4.7.0", "temporary"),
        }
        for email, (prefix, permanence) in expected.items():
            trace = by_email[email]
            self.assertEqual(trace.trace_status, "error")
            self.assertTrue(
                trace.failure_reason.startswith(prefix),
                f"{email}: {trace.failure_reason!r} keeps code, status and text",
            )
            self.assertNotEqual(trace.failure_type, "unknown")
            self.assertEqual(trace.failure_type, "mail_smtp_refused")
            self.assertTrue(trace.delivery_error_id, f"{email} has its registry entry")
            self.assertEqual(trace._get_failure_permanence(), permanence)
            self.assertEqual(trace.last_error, trace.failure_reason)
            self.assertTrue(trace.last_attempt_date)
        self.assertIn("User unknown", by_email["a@nouser.example"].failure_reason)

    @users("user_marketing")
    def test_batch_goes_on_after_421(self):
        """A server closing the session (421) does not stop the rest of the batch."""
        partners = self.create_partners(
            ["x@busy.example", "after1@example.com", "after2@example.com"], name_prefix="Busy"
        )
        mailing = self.create_partner_mailing(partners)
        with mute_logger(*MAIL_LOGGERS):
            traces = self.send_mailing(mailing)
        self.assertEqual(self.smtpd.refused[0][0], "x@busy.example", "refused first")
        self.assertEqual(
            sorted(self.smtpd.recipients()), ["after1@example.com", "after2@example.com"]
        )
        self.assertEqual(
            sorted(traces.mapped("trace_status")), ["error", "sent", "sent"], traces.mapped("email")
        )

    @users("user_marketing")
    def test_lands_on_delivery_results(self):
        mailing = self.create_partner_mailing(self.partners[:2])
        action = mailing.action_launch()
        self.assertEqual(action["res_model"], "mailing.trace")
        self.assertIn(("mass_mailing_id", "=", mailing.id), action["domain"])
        with self.real_smtp():
            action = mailing.action_send_mail()
        self.assertEqual(action["res_model"], "mailing.trace")

    @users("user_marketing")
    def test_mailing_list_optout(self):
        mlist = self.env["mailing.list"].create({"name": "Newsletter"})
        contacts = self.env["mailing.contact"].create(
            [
                {
                    "name": "In",
                    "email": "in@example.com",
                    "subscription_ids": [(0, 0, {"list_id": mlist.id})],
                },
                {
                    "name": "Out",
                    "email": "out@example.com",
                    "subscription_ids": [(0, 0, {"list_id": mlist.id, "opt_out": True})],
                },
            ]
        )
        mailing = self.env["mailing.mailing"].create(
            {
                "name": "List",
                "subject": "List",
                "body_html": "<p>Hi</p>",
                "mailing_model_id": self.env["ir.model"]._get_id("mailing.list"),
                "contact_list_ids": [(4, mlist.id)],
            }
        )
        report = mailing.get_delivery_report()
        self.assertEqual(report["total"], 2)
        self.assertEqual(report["ignored"], {"optout": 1})
        action = mailing.with_context(mmd_reason="optout").action_view_ignored_recipients()
        self.assertEqual(self.env["mailing.contact"].search(action["domain"]), contacts[1])

    def test_bad_reason_lists_all_ignored(self):
        mailing = self.create_partner_mailing(self.partners)
        action = mailing.with_context(mmd_reason="no-such-reason").action_view_ignored_recipients()
        self.assertEqual(len(self.env["res.partner"].search(action["domain"])), 5)
