"""One truth on every screen: the figures of a sent mailing, defined once
(``tools/mailing_figures.py``), are those of the banners, core's blue banner and
statistic buttons, the live summary, the Mailing Health card and the lists their clicks
open. Checked on the demo's autumn offer, told for real (``scripts/demo_story.py``), and
clicked through in Chromium in English and Italian."""

from odoo.tests import Form
from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from ..tools import delivery_report
from ..tools import mailing_figures
from .common import DeliveryCommon
from .test_demo import tell_story

#: failure types of a recipient never attempted, written out here (not imported) so that
#: the test counts the traces by its own reading of the README
NEVER_ATTEMPTED = {"mail_bl", "mail_email_missing", "mail_email_invalid", "mail_optout", "mail_dup"}


def test_figures_from_groups():
    """The counters of grouped traces (no database): an invalid address core marks as an
    error is ignored, not "not sent"; each rate says its base."""
    figures = mailing_figures.figures_from_groups(
        [
            ("sent", None, 4, 4, 1, 0),
            ("open", None, 2, 2, 1, 1),
            ("bounce", None, 1, 1, 0, 0),
            ("error", "mail_email_invalid", 1, 0, 0, 0),
            ("error", "mail_smtp", 2, 0, 0, 0),
            ("cancel", "mail_dup", 1, 0, 0, 0),
            ("outgoing", None, 1, 0, 0, 0),
        ]
    )
    assert figures["total"] == 12
    assert figures["ignored"] == 2
    assert figures["targeted"] == 10
    assert figures["not_sent"] == 2
    assert figures["sent"] == 7
    assert figures["delivered"] == 6
    assert figures["to_send"] == 1
    assert figures["clicked"] == 2
    assert figures["complaints"] == 1
    rates = mailing_figures.rates(figures)
    assert rates["delivered"] == 60.0, "of the recipients mailed"
    assert rates["bounced"] == round(100 / 7, 2), "of the e-mails sent"
    assert rates["ignored"] == round(100 * 2 / 12, 2), "of all the recipients"
    assert mailing_figures.rates(mailing_figures.figures_from_groups([]))["delivered"] == 0.0
    assert mailing_figures.trace_domain("no such figure") is None


def test_readable_reply():
    """A diagnostic as a person reads it: the codes once, never an exception's repr."""
    assert (
        delivery_report.readable_reply(
            "5.1.1 550-5.1.1 The email account that you tried to reach does not exist. "
            "550 5.1.1 Please try again"
        )
        == "550 5.1.1 The email account that you tried to reach does not exist. Please try again"
    )
    assert (
        delivery_report.readable_reply(
            "Mail delivery failed via SMTP server 'None'.\nSMTPRecipientsRefused: "
            "{'a@x.example': (550, b'5.1.1 <a@x.example>: User unknown')}"
        )
        == "550 5.1.1 <a@x.example>: User unknown"
    )
    assert delivery_report.readable_reply("Connection refused") == "Connection refused"
    assert delivery_report.readable_reply(None) == ""


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestMailingFigures(DeliveryCommon, HttpCase):
    def setUp(self):
        super().setUp()
        # the story's recipients click at once after delivery: no scanner delay, as in
        # the demo, whose visits come after the scanner's delay
        self.env["ir.config_parameter"].sudo().set_param(
            "mass_mailing_delivery.tracking_scanner_delay", 0
        )

    def count_from_traces(self, mailing):
        """The four counts of a mailing, read from its traces one by one."""
        counts = dict.fromkeys(("ignored", "not_sent", "sent", "delivered"), 0)
        for trace in mailing.mailing_trace_ids:
            if trace.trace_status == "cancel" or (
                trace.trace_status == "error" and trace.failure_type in NEVER_ATTEMPTED
            ):
                counts["ignored"] += 1
            elif trace.trace_status == "error":
                counts["not_sent"] += 1
            if trace.sent_datetime:
                counts["sent"] += 1
            if trace.trace_status in ("sent", "open", "reply"):
                counts["delivered"] += 1
        counts["total"] = len(mailing.mailing_trace_ids)
        return counts

    @mute_logger("odoo.addons.mail.models.mail_mail", "odoo.addons.mail.models.mail_thread")
    def test_autumn_counts_agree_on_every_screen(self):
        autumn = tell_story(self)
        counts = self.count_from_traces(autumn)
        # as the README tells the story: 15 recipients, 3 ignored (Peter Weber blocked,
        # Typo Contact's invalid format, Giulia Rossi's duplicate), 3 not sent
        self.assertEqual((counts["total"], counts["ignored"], counts["not_sent"]), (15, 3, 3))
        mailed = counts["total"] - counts["ignored"]
        received = round(100.0 * counts["delivered"] / mailed, 2)

        # the addon's banners
        report = autumn.get_delivery_report()
        self.assertEqual(report["ignored_total"], counts["ignored"])
        self.assertEqual(report["failed_total"], counts["not_sent"])
        self.assertEqual(autumn.ignored_count, counts["ignored"])
        self.assertEqual(autumn.not_sent_count, counts["not_sent"])
        # core's blue banner and statistic buttons
        self.assertEqual(autumn.canceled, counts["ignored"], "core's 'cancelled' line")
        self.assertEqual(autumn.failed, counts["not_sent"], "core's 'could not be sent' line")
        self.assertEqual(autumn.sent, counts["sent"])
        self.assertEqual(autumn.delivered, counts["delivered"])
        self.assertEqual(autumn.received_ratio, received, "core's Received button")
        # the live summary
        summary = autumn.get_live_summary()
        for key, value in counts.items():
            self.assertEqual(summary[key], value, key)
        self.assertEqual(summary["rates"]["delivered"], received)
        self.assertEqual(summary["rate_bases"]["delivered"], "targeted")
        self.assertEqual((summary["clicked"], len(summary["links"])), (2, 1), "Giulia, Piotr")
        # the Mailing Health card
        health = self.env["mail.delivery.health"].browse(autumn.id)
        self.assertEqual(
            (health.total, health.ignored, health.failed, health.sent, health.delivered),
            (
                counts["total"],
                counts["ignored"],
                counts["not_sent"],
                counts["sent"],
                counts["delivered"],
            ),
        )
        # every figure opens exactly the recipients it counts, from every screen
        Trace = self.env["mailing.trace"]
        for key, value in counts.items():
            action = autumn.action_view_summary_traces(key)
            self.assertTrue(action["views"], "a complete action: the client needs its views")
            self.assertIn(autumn.subject, action["name"], "the title names the mailing")
            self.assertEqual(
                action["context"]["search_default_mass_mailing_id"], autumn.id, "its facet"
            )
            self.assertEqual(Trace.search_count(action["domain"]), value, key)
        for action, value in (
            (autumn.action_view_traces_canceled(), counts["ignored"]),
            (autumn.action_view_traces_failed(), counts["not_sent"]),
            (autumn.action_view_traces_sent(), counts["sent"]),
            (autumn.action_view_ignored_recipients(), counts["ignored"]),
            (autumn.action_view_not_sent(), counts["not_sent"]),
            (health.with_context(figure="ignored").action_view_recipients(), counts["ignored"]),
        ):
            self.assertEqual(Trace.search_count(action["domain"]), value, action["name"])

        # the sent e-mails log and the Delivery Failures report read them the same way
        Log = self.env["mail.sent.log"].sudo()
        log = [("mailing_id", "=", autumn.id)]
        self.assertEqual(Log.search_count([*log, ("state", "=", "ignored")]), counts["ignored"])
        self.assertEqual(Log.search_count([*log, ("state", "=", "failed")]), counts["not_sent"])
        Report = self.env["mail.delivery.report"].sudo()
        report = [("mailing_id", "=", autumn.id)]
        self.assertEqual(
            Report.search_count([*report, ("kind", "=", "ignored")]), counts["ignored"]
        )
        self.assertEqual(Report.search_count([*report, ("kind", "=", "error")]), counts["not_sent"])

    def test_sent_log_shows_the_servers_words(self):
        """The log's form shows the server's reply, not Odoo's exception repr, and the
        sender as a person reads it."""
        row = self.env["mail.sent.log"].new(
            {
                "email_from": '"OdooBot" <odoobot@example.com>',
                "failure_reason": "Mail Delivery Failed\nMail delivery failed via SMTP server "
                "'None'.\nSMTPRecipientsRefused: {'marco.bianchi@nouser.example': (550, "
                "b'5.1.1 <marco.bianchi@nouser.example>: Recipient address rejected: "
                "User unknown')}",
            }
        )
        self.assertEqual(row.sender, "OdooBot <odoobot@example.com>")
        self.assertTrue(row.failure_text.startswith("550 5.1.1"), row.failure_text)
        for raw in ("SMTPRecipientsRefused", "b'", "'None'"):
            self.assertNotIn(raw, row.failure_text)

    @mute_logger("odoo.addons.mail.models.mail_mail", "odoo.addons.mail.models.mail_thread")
    def test_figures_tours(self):
        """Every figure of the mailing form and of its Mailing Health card clicked, in
        English then in Italian: each opens as many rows as it counts, no error."""
        autumn = tell_story(self)
        self.env["res.lang"]._activate_lang("it_IT")
        self.env["ir.module.module"]._load_module_terms(
            ["web", "mail", "mass_mailing", "mass_mailing_delivery"], ["it_IT"]
        )
        admin = self.env.ref("base.user_admin")
        for lang in ("en_US", "it_IT"):
            with self.subTest(lang=lang):
                admin.lang = lang
                self.start_tour(
                    f"/odoo/action-mass_mailing.mailing_mailing_action_mail/{autumn.id}",
                    "mass_mailing_delivery_mailing_figures_tour",
                    login="admin",
                )
                self.start_tour(
                    "/odoo/action-mass_mailing_delivery.mail_delivery_health_action",
                    "mass_mailing_delivery_health_figures_tour",
                    login="admin",
                )

    def test_demo_mailings_are_the_marketing_users(self):
        """Core's default "My Mailings" filter of the demo's user (admin) shows them."""
        admin = self.env.ref("base.user_admin")
        for xmlid in ("mailing_demo_autumn_offer", "mailing_demo_winter_sale"):
            mailing = self.env.ref(f"mass_mailing_delivery.{xmlid}")
            self.assertEqual(mailing.user_id, admin, xmlid)
            self.assertIn("(demo)", mailing.name, "named as README names them")

    def test_settings_count_tracked_templates(self):
        """Settings, Document e-mail tracking: the form (its first onchange, a new record)
        counts the tracked templates the list behind "Choose the tracked templates" shows."""
        tracked = self.env["mail.template"].search_count([("mmd_tracked", "=", True)])
        self.assertTrue(tracked, "the standard document templates start tracked")
        with Form(self.env["res.config.settings"]) as settings:
            self.assertEqual(settings.mmd_tracked_template_count, tracked)
        action = self.env["res.config.settings"].create({}).action_mmd_tracked_templates()
        listed = self.env["mail.template"].search_count(
            [*(action.get("domain") or []), ("mmd_tracked", "=", True)]
        )
        self.assertEqual(listed, tracked)


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestBlockedScreens(DeliveryCommon):
    @users("admin")
    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_blocked_summary_reads_as_a_person_would(self):
        """The blocked symbol's tooltip: the date in the user's format, the server's codes
        once, what to do; the block logged under OdooBot (bounce processing made it);
        the entry opens the contact."""
        self.env["res.lang"].sudo()._activate_lang("it_IT")
        partner = self.create_partners(["gone@remote.example"])
        traces = self.send_mailing(self.create_partner_mailing(partner))
        self.receive(
            self.make_dsn(
                "gone@remote.example",
                "5.1.1",
                "550-5.1.1 The email account that you tried to reach does not exist. "
                "550 5.1.1 Please try again",
                original_message_id=traces.message_id,
            )
        )
        entry = self.env["mail.blacklist"].search([("email", "=", "gone@remote.example")])
        self.assertEqual(entry.block_reason, "hard_bounce")
        self.assertEqual(entry.block_evidence.count("5.1.1"), 1, entry.block_evidence)
        summary = entry.with_context(lang="it_IT").block_summary
        italian_date = entry.block_date.strftime("%d/%m/%Y")
        self.assertIn(italian_date, summary, "the user's date format, not ISO")
        self.assertNotIn(entry.block_date.strftime("%Y-%m-%d"), summary)
        self.assertEqual(summary.count("5.1.1"), 1, summary)
        self.assertEqual(len(summary.splitlines()), 3, "reason and date, evidence, advice")
        odoobot = self.env.ref("base.partner_root")
        authors = entry.sudo().message_ids.author_id
        self.assertIn(odoobot, authors, "the block is OdooBot's")
        self.assertNotIn(self.env.user.partner_id, authors, "not the admin's who ran it")
        action = entry.action_view_contacts()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", partner.id))

    def test_manual_block_names_who_blocked(self):
        entry = self.env["mail.blacklist"].create({"email": "manual@example.com"})
        self.assertEqual(entry.block_reason, "manual")
        self.assertIn(self.env.user.name, entry.block_evidence)
        self.assertIn("What to do", entry.block_summary)
