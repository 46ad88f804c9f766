"""The live summary box: figures of a mailing sent for real, opened and clicked through
core's controllers, equal to counts taken directly from the traces."""

import re
from urllib.parse import urlsplit

from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from .common import TOUR_LANGUAGES
from .common import DeliveryCommon
from .common import install_italian

#: a person's mail client: the addon's bot filter leaves scanners' and scripts' hits out
#: of the open and click counts (see README, Tracking)
PERSON = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0"
}


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestLiveSummary(DeliveryCommon, HttpCase):
    def setUp(self):
        super().setUp()
        # the test opens and clicks at once after sending: no scanner delay
        self.env["ir.config_parameter"].sudo().set_param(
            "mass_mailing_delivery.tracking_scanner_delay", 0
        )

    def _paths(self, email, pattern):
        (message,) = [m.message for m in self.smtpd.received if email in m.rcpt_tos]
        html = message.get_body(("html",)).get_content()
        return [
            urlsplit(url)._replace(scheme="", netloc="").geturl()
            for url in re.findall(r'(?:src|href)="([^"]*' + pattern + r'[^"]*)"', html)
        ]

    @users("user_marketing")
    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_summary_figures(self):
        partners = self.create_partners(
            [
                "one@example.com",
                "two@example.com",
                "three@example.com",
                "refused@nouser.example",
                "blocked@example.com",
            ]
        )
        self.env["mail.blacklist"].sudo()._add("blocked@example.com")
        mailing = self.create_partner_mailing(
            partners,
            body_html="<p>Hi <a href='https://www.example.com/offer'>offer</a> "
            "<a href='https://www.example.com/shop'>shop</a></p>",
        )
        mailing.action_launch()
        traces = self.send_mailing(mailing)
        self.assertEqual(len(traces), 5)

        # one@ clicks the offer twice and the shop once; two@ only opens
        offer, shop = self._paths("one@example.com", "/r/")
        for path in (offer, offer, shop):
            self.url_open(path, allow_redirects=False, headers=PERSON)
        (pixel,) = self._paths("two@example.com", "/mail/track/")
        self.url_open(pixel, headers=PERSON)
        self.url_open(pixel, headers=PERSON)
        self.env.invalidate_all()

        summary = mailing.get_live_summary()
        Trace = self.env["mailing.trace"].sudo()
        base = [("mass_mailing_id", "=", mailing.id)]
        for figure in ("total", "to_send", "sent", "delivered", "opened", "clicked", "replied"):
            domain = mailing._get_summary_trace_domain(figure)
            self.assertEqual(summary[figure], Trace.search_count(base + domain), figure)
        self.assertEqual(
            {k: summary[k] for k in ("total", "to_send", "sent", "delivered", "opened", "clicked")},
            {"total": 5, "to_send": 0, "sent": 3, "delivered": 3, "opened": 2, "clicked": 1},
        )
        self.assertEqual(summary["ignored"], 1, "the blacklisted address is ignored")
        self.assertEqual(summary["not_sent"], 1, "the refused address was not sent")
        self.assertEqual(summary["bounced"], 0)
        self.assertEqual(summary["rates"]["opened"], round(100 * 2 / 3, 2))
        self.assertEqual(summary["rates"]["clicked"], round(100 / 3, 2))
        self.assertIsNone(summary["eta_seconds"], "no throttle, no ETA")

        links = {link["url"]: link for link in summary["links"]}
        self.assertEqual(links["https://www.example.com/offer"]["requests"], 2)
        self.assertEqual(links["https://www.example.com/offer"]["recipients"], 1)
        self.assertEqual(links["https://www.example.com/shop"]["requests"], 1)

        # every figure opens its recipients
        action = mailing.action_view_summary_traces("opened")
        self.assertEqual(
            set(Trace.search(action["domain"]).mapped("email")),
            {"one@example.com", "two@example.com"},
        )
        self.assertFalse(mailing.action_view_summary_traces("no such figure"))
        self.assertFalse(mailing.action_view_link_clicks("not a link"))
        action = mailing.action_view_link_clicks(links["https://www.example.com/offer"]["link_id"])
        self.assertEqual(self.env["link.tracker.click"].sudo().search_count(action["domain"]), 2)

    @users("user_marketing")
    def test_summary_of_a_draft(self):
        mailing = self.create_partner_mailing(self.create_partners(["draft@example.com"]))
        summary = mailing.get_live_summary()
        self.assertEqual(summary["total"], 0)
        self.assertEqual(summary["rates"]["opened"], 0.0)
        self.assertEqual(summary["links"], [])
        self.assertEqual(summary["state"], "draft")

    def test_live_summary_tour(self):
        partners = self.create_partners(["live.queued@example.com", "live.gone@example.com"])
        mailing = self.create_partner_mailing(partners)
        mailing.state = "sending"
        queued, _bounced = self.env["mailing.trace"].create(
            [
                {
                    "mass_mailing_id": mailing.id,
                    "model": "res.partner",
                    "res_id": partners[0].id,
                    "email": partners[0].email,
                    "trace_status": "outgoing",
                },
                {
                    "mass_mailing_id": mailing.id,
                    "model": "res.partner",
                    "res_id": partners[1].id,
                    "email": partners[1].email,
                    "trace_status": "bounce",
                },
            ]
        )
        install_italian(self.env)
        admin = self.env.ref("base.user_admin")
        for lang in TOUR_LANGUAGES:
            with self.subTest(lang=lang):
                admin.lang = lang
                # the tour sends the queued e-mail: queued again for each language
                queued.write({"trace_status": "outgoing", "sent_datetime": False})
                self.start_tour(
                    f"/odoo/action-mass_mailing.mailing_mailing_action_mail/{mailing.id}",
                    "mass_mailing_delivery_live_summary_tour",
                    login="admin",
                )
