"""Deliverability dashboard: the mailing health cards and the failures report equal
counts taken directly from the traces of mailings sent for real (loopback SMTP, a DSN
and an ARF complaint through the mail gateway); a tour clicks a category through to
its recipients."""

from odoo import fields
from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from .common import DeliveryCommon
from .common import start_tour_in_languages


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestDashboard(DeliveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["mail.blacklist"].sudo()._add("dash.blocked@example.com")

    @mute_logger("odoo.addons.mail.models.mail_mail", "odoo.addons.mail.models.mail_thread")
    def _sent_mailing(self, emails, bounce=(), complain=()):
        mailing = self.create_partner_mailing(self.create_partners(emails))
        mailing.action_launch()
        traces = self.send_mailing(mailing)
        for email in bounce:
            trace = traces.filtered(lambda t, e=email: t.email == e)
            self.receive(
                self.make_dsn(
                    email, "5.1.1", f"550 5.1.1 <{email}>: User unknown", trace.message_id
                )
            )
        for email in complain:
            trace = traces.filtered(lambda t, e=email: t.email == e)
            self.receive(self.make_arf(email, trace.message_id))
        self.env.invalidate_all()
        return mailing

    @users("user_marketing")
    def test_health_equals_trace_counts(self):
        emails = [f"dash{idx}@example.com" for idx in range(8)]
        mailing = self._sent_mailing(
            [*emails, "dash.refused@nouser.example", "dash.blocked@example.com"],
            bounce=["dash0@example.com"],
            complain=["dash1@example.com"],
        )
        health = self.env["mail.delivery.health"].search([("mailing_id", "=", mailing.id)])
        self.assertEqual(len(health), 1)
        Trace = self.env["mailing.trace"].sudo()

        def count(domain):
            return Trace.search_count([("mass_mailing_id", "=", mailing.id), *domain])

        self.assertEqual(health.total, count([]))
        self.assertEqual(health.sent, count([("sent_datetime", "!=", False)]))
        self.assertEqual(health.bounced, count([("trace_status", "=", "bounce")]))
        self.assertEqual(health.complaints, count([("is_complaint", "=", True)]))
        self.assertEqual(health.ignored, count([("trace_status", "=", "cancel")]))
        self.assertEqual(health.failed, count([("trace_status", "=", "error")]))
        self.assertEqual(
            (health.total, health.bounced, health.complaints, health.ignored, health.failed),
            (10, 1, 1, 1, 1),
        )
        self.assertAlmostEqual(health.bounce_rate, round(100 * 1 / health.sent, 2))
        self.assertEqual(health.health, "critical", "1 complaint in 7 delivered is far over 0.3 %")
        self.assertEqual(health.color, 1)

        for figure, expected in (("bounced", 1), ("complaints", 1), ("ignored", 1)):
            action = health.with_context(figure=figure).action_view_recipients()
            self.assertEqual(self.env[action["res_model"]].search_count(action["domain"]), expected)

    @users("user_marketing")
    def test_healthy_mailing_is_green(self):
        mailing = self._sent_mailing([f"green{idx}@example.com" for idx in range(3)])
        health = self.env["mail.delivery.health"].search([("mailing_id", "=", mailing.id)])
        self.assertEqual((health.health, health.color, health.bounce_rate), ("good", 10, 0.0))

    @users("user_marketing")
    def test_failures_by_category_and_domain(self):
        mailing = self._sent_mailing(
            [
                "fail.a@example.com",
                "fail.b@example.com",
                "fail.c@example.com",
                "fail.d@nouser.example",
                "fail.e@spam.example",
                "dash.blocked@example.com",
            ],
            bounce=["fail.a@example.com", "fail.b@example.com"],
            complain=["fail.c@example.com"],
        )
        Report = self.env["mail.delivery.report"]
        base = [("mailing_id", "=", mailing.id)]
        by_category = dict(Report._read_group(base, ["error_category"], ["__count"]))
        traces = self.env["mailing.trace"].sudo().search([("mass_mailing_id", "=", mailing.id)])
        failed = traces.filtered(
            lambda t: t.trace_status in ("bounce", "error") and not t.is_complaint
        )
        expected = {}
        for trace in failed:
            category = trace.delivery_error_category or "unknown"
            expected[category] = expected.get(category, 0) + 1
        expected["complaint"] = len(traces.filtered("is_complaint"))
        expected[False] = len(traces.filtered(lambda t: t.trace_status == "cancel"))
        self.assertEqual(by_category, expected)
        self.assertEqual(by_category["recipient_unknown"], 3, "2 DSN 5.1.1 + 1 refused at RCPT")

        by_domain = dict(Report._read_group(base, ["recipient_domain"], ["__count"]))
        self.assertEqual(by_domain, {"example.com": 4, "nouser.example": 1, "spam.example": 1})
        by_kind = dict(Report._read_group(base, ["kind"], ["__count"]))
        self.assertEqual(by_kind, {"bounce": 2, "error": 2, "complaint": 1, "ignored": 1})

        # a figure's rows are its recipients
        rows = Report.search([*base, ("error_category", "=", "recipient_unknown")])
        self.assertEqual(
            set(rows.mapped("email")),
            {"fail.a@example.com", "fail.b@example.com", "fail.d@nouser.example"},
        )
        action = rows[0].action_view_contact()
        self.assertEqual(action["res_model"], "res.partner")
        self.assertEqual(self.env["res.partner"].browse(action["res_id"]).email, rows[0].email)


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestDashboardUi(HttpCase):
    def test_dashboard_tour(self):
        partner = self.env["res.partner"].create(
            {"name": "Tour Gone", "email": "tour.gone@nouser.example"}
        )
        mailing = self.env["mailing.mailing"].create(
            {
                "name": "Tour mailing",
                "subject": "Tour mailing",
                "body_html": "<p>Hello</p>",
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                "state": "done",
            }
        )
        entry = self.env["mail.delivery.error"].search(
            [("category", "=", "recipient_unknown")], limit=1
        )
        self.env["mailing.trace"].create(
            {
                "mass_mailing_id": mailing.id,
                "model": "res.partner",
                "res_id": partner.id,
                "email": partner.email,
                "trace_status": "bounce",
                "sent_datetime": fields.Datetime.now(),
                "failure_type": "mail_bounce",
                "failure_reason": "550 5.1.1 User unknown",
                "delivery_error_id": entry.id,
            }
        )
        start_tour_in_languages(self, "/odoo", "mass_mailing_delivery_dashboard_tour")
