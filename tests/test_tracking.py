"""Tracking of document e-mails: an invoice e-mailed through the real loopback SMTP
server to two recipients, the open pixel and click redirects hit over HTTP, forged
and unknown tokens, the one-click unsubscribe without a session, machine events."""

import re
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from html import unescape
from urllib.parse import urlsplit

import requests
from markupsafe import Markup

from odoo import Command
from odoo import fields
from odoo.addons.mail.tools.discuss import Store
from odoo.exceptions import AccessError
from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tests import users
from odoo.tests.common import new_test_user
from odoo.tools import mute_logger

from ..models.mail_tracking_email import PIXEL_GIF
from ..tools import tracking_token
from .common import DeliveryCommon

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PAY_URL = "https://pay.example.com/invoice?ref=INV/1&lang=en"


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestDocumentTracking(DeliveryCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice, cls.bob = cls.create_partners(
            ["alice@customer.example", "bob@customer.example"], name_prefix="Customer"
        )
        cls.invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.alice.id,
                "invoice_line_ids": [
                    Command.create({"name": "Consulting", "quantity": 1, "price_unit": 100})
                ],
            }
        )

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    def send_invoice_email(self, partners=None):
        """E-mail the invoice from its chatter to ``partners`` (default: Alice and Bob)
        through the loopback SMTP server.

        :return: ``(message, {email: received message})``
        """
        partners = partners or (self.alice | self.bob)
        with self.real_smtp():
            message = self.invoice.message_post(
                body=Markup('<p>Your invoice. <a href="%s">Pay online</a></p>') % PAY_URL,
                subject="Invoice INV/1",
                partner_ids=partners.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)]).send()
        received = {}
        for item in self.smtpd.received:
            parsed = BytesParser(policy=policy.default).parsebytes(item.data)
            for rcpt in item.rcpt_tos:
                received[rcpt] = parsed
        return message, received

    def html_of(self, received_message):
        return received_message.get_body(preferencelist=("html",)).get_content()

    def tracking_of(self, message, email):
        return self.env["mail.tracking.email"].search(
            [("mail_message_id", "=", message.id), ("email", "=", email)]
        )

    def path_of(self, url):
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def pixel_path(self, html):
        return self.path_of(
            unescape(re.search(r'src="([^"]*/mail/mmd/open/[^"]+)"', html).group(1))
        )

    def click_path(self, html, url=PAY_URL):
        """The path of the tracked link of ``html`` that leads to ``url``."""
        link = self.env["mail.tracking.link"].search([("url", "=", url)])
        for href in re.findall(r'href="([^"]*/mail/mmd/click/[^"]+)"', html):
            link_id = unescape(href).split("/")[-2]
            if int(link_id) in link.ids:
                return self.path_of(unescape(href))
        raise AssertionError(f"no tracked link to {url}")

    def age(self, trackings, seconds=3600):
        """Pretend ``trackings`` were delivered ``seconds`` ago (a person reads later)."""
        trackings.write({"sent_date": fields.Datetime.now() - timedelta(seconds=seconds)})

    def get(self, path, **kwargs):
        headers = {"User-Agent": FIREFOX, **kwargs.pop("headers", {})}
        return self.url_open(path, headers=headers, **kwargs)

    # ------------------------------------------------------------
    # TESTS
    # ------------------------------------------------------------

    def test_each_recipient_keeps_the_server_reference(self):
        """A document e-mail is sent once per recipient with one Message-ID: each tracked
        e-mail keeps the server's reply to its own copy (the queue id of the relay)."""
        self.smtpd.handler.reply_mode = "postfix"
        self.addCleanup(setattr, self.smtpd.handler, "reply_mode", "")
        message, _received = self.send_invoice_email()
        replies = {m.rcpt_tos[0]: m for m in self.smtpd.received}
        for email in ("alice@customer.example", "bob@customer.example"):
            tracking = self.tracking_of(message, email)
            self.assertEqual(tracking.server_reference, replies[email].reply)
            self.assertEqual(tracking.provider_message_id, replies[email].provider_message_id)
        log = self.env["mail.sent.log"].search(
            [("server_reference", "ilike", replies["bob@customer.example"].provider_message_id)]
        )
        self.assertEqual(log.email, "bob@customer.example")

    def test_invoice_template_tracked_by_default(self):
        template = self.env.ref("account.email_template_edi_invoice")
        self.assertTrue(template.mmd_tracked, "installing account after the addon tracks it")
        self.assertIn("account.move", self.env["mail.template"]._mmd_get_tracked_models())

    def test_invoice_two_recipients_open_and_click(self):
        message, received = self.send_invoice_email()
        alice = self.tracking_of(message, "alice@customer.example")
        bob = self.tracking_of(message, "bob@customer.example")
        self.assertEqual((alice.state, bob.state), ("sent", "sent"))
        self.assertEqual((alice.model, alice.res_id), ("account.move", self.invoice.id))
        self.assertTrue(alice.sent_date)

        # each recipient got their own pixel, links and one-click unsubscribe header
        alice_html = self.html_of(received["alice@customer.example"])
        bob_html = self.html_of(received["bob@customer.example"])
        self.assertIn(f"/mail/mmd/open/{alice.id}/", alice_html)
        self.assertIn(f"/mail/mmd/open/{bob.id}/", bob_html)
        self.assertNotIn(PAY_URL.replace("&", "&amp;"), alice_html, "the link is rewritten")
        header = received["bob@customer.example"]["List-Unsubscribe"]
        self.assertIn(f"/mail/mmd/unsubscribe_oneclick/{bob.id}/", header)
        self.assertEqual(
            received["bob@customer.example"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click"
        )

        self.age(alice | bob)
        # Alice opens twice
        for _i in range(2):
            response = self.get(self.pixel_path(alice_html))
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.content, PIXEL_GIF)
            self.assertEqual(response.headers["Content-Type"], "image/gif")
        # Bob clicks (images blocked: no open first)
        response = self.get(self.click_path(bob_html), allow_redirects=False)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response.headers["Location"], PAY_URL)

        self.env.invalidate_all()
        self.assertEqual(alice.state, "opened")
        self.assertEqual(alice.open_count, 2)
        self.assertTrue(alice.first_open_date and alice.last_open_date)
        self.assertEqual(alice.click_count, 0)
        self.assertEqual(bob.state, "clicked")
        self.assertEqual(bob.click_count, 1)
        pay_link = bob.link_ids.filtered(lambda link: link.url == PAY_URL)
        self.assertEqual(pay_link.click_count, 1)
        self.assertEqual(sum((bob.link_ids - pay_link).mapped("click_count")), 0)

        # the envelope of the invoice lists both, its count reaches the chatter
        action = self.env["mail.tracking.email"].action_open_envelope(
            "account.move", self.invoice.id
        )
        listed = self.env["mail.tracking.email"].search(action["domain"])
        self.assertEqual(
            sorted(listed.mapped(lambda t: (t.email, t.state))),
            [("alice@customer.example", "opened"), ("bob@customer.example", "clicked")],
        )
        data = Store(self.invoice, as_thread=True, request_list=["mmd_tracking"]).get_result()
        thread = next(t for t in data["mail.thread"] if t["id"] == self.invoice.id)
        self.assertEqual(thread["mmdTrackingCount"], 2)
        # the chatter message carries the same states
        data = Store(message).get_result()
        states = {t["email"]: t["state"] for t in data["mail.message"][0]["mmdTracking"]}
        self.assertEqual(
            states, {"alice@customer.example": "opened", "bob@customer.example": "clicked"}
        )

    @users("user_marketing")
    def test_envelope_readable_by_user(self):
        message, _received = self.send_invoice_email(self.alice)
        trackings = self.env["mail.tracking.email"].search([("mail_message_id", "=", message.id)])
        self.assertEqual(trackings.mapped("email"), ["alice@customer.example"])
        self.assertEqual(trackings.state, "sent")

    def test_tracking_hidden_from_other_companies(self):
        """The tracking of a document of company A (who opened it, from which IP, which
        links) is not readable by a user who works in company B only."""
        message, received = self.send_invoice_email(self.alice)
        tracking = self.tracking_of(message, "alice@customer.example")
        self.assertEqual(tracking.company_id, self.invoice.company_id)
        self.get(self.pixel_path(self.html_of(received["alice@customer.example"])))
        self.assertEqual(tracking.open_count, 1)

        other_company = self.env["res.company"].create({"name": "Other Co"})
        outsider = new_test_user(
            self.env,
            login="mmd_other_company",
            groups="base.group_user",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        colleague = new_test_user(self.env, login="mmd_same_company", groups="base.group_user")
        for model, domain in (
            ("mail.tracking.email", [("id", "=", tracking.id)]),
            ("mail.tracking.event", [("tracking_email_id", "=", tracking.id)]),
            ("mail.tracking.link", [("tracking_email_id", "=", tracking.id)]),
        ):
            with self.subTest(model=model):
                self.assertTrue(self.env[model].with_user(colleague).search(domain))
                self.assertFalse(self.env[model].with_user(outsider).search(domain))
        with self.assertRaises(AccessError):
            tracking.with_user(outsider).read(["email", "state"])

    def test_forged_unknown_expired_tokens_same_gif_nothing_changes(self):
        message, received = self.send_invoice_email(self.alice)
        alice = self.tracking_of(message, "alice@customer.example")
        self.age(alice)
        good = self.pixel_path(self.html_of(received["alice@customer.example"]))
        token = good.split("/")[-2]
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        forged = token[:-1] + ("0" if token[-1] != "0" else "1")
        unknown_id = alice.id + 1000
        bad_paths = [
            good.replace(token, forged),
            f"/mail/mmd/open/{unknown_id}/{tracking_token.sign(secret, 'open', unknown_id)}/blank.gif",
            f"/mail/mmd/open/{alice.id}/{tracking_token.sign(secret, 'click', alice.id, 1)}/blank.gif",
            f"/mail/mmd/open/{alice.id}/not-a-token/blank.gif",
            f"/mail/mmd/open/abc/{token}/blank.gif",
            f"/mail/mmd/open/{alice.id}/{'z' * 64}/blank.gif",
        ]
        reference = self.get(bad_paths[0])
        for path in bad_paths:
            response = self.get(path)
            self.assertEqual(response.status_code, 200, path)
            self.assertEqual(response.content, PIXEL_GIF, path)
            self.assertEqual(
                {k: response.headers.get(k) for k in ("Content-Type", "Cache-Control")},
                {k: reference.headers.get(k) for k in ("Content-Type", "Cache-Control")},
            )
        # expired: a valid token of a tracking older than the retention
        self.env["ir.config_parameter"].sudo().set_param(
            "mass_mailing_delivery.tracking_max_age_days", "30"
        )
        self.age(alice, seconds=40 * 86400)
        response = self.get(good)
        self.assertEqual(response.content, PIXEL_GIF)
        self.env.invalidate_all()
        self.assertEqual(alice.state, "sent")
        self.assertFalse(alice.event_ids, "no forged, unknown or expired token recorded anything")
        # the same token while fresh does count
        self.age(alice)
        self.get(good)
        self.env.invalidate_all()
        self.assertEqual(alice.open_count, 1)

    def test_click_goes_only_to_the_stored_url(self):
        message, received = self.send_invoice_email()
        alice = self.tracking_of(message, "alice@customer.example")
        bob = self.tracking_of(message, "bob@customer.example")
        self.age(alice | bob)
        path = self.click_path(self.html_of(received["alice@customer.example"]))
        # a foreign URL in the query string is ignored
        response = self.get(path + "?url=https://evil.example/", allow_redirects=False)
        self.assertEqual(response.headers["Location"], PAY_URL)
        _prefix, tracking_id, link_id, token = path.rsplit("/", 3)
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        refused = [
            # Alice's token with Bob's link, Bob's link under Alice's id
            f"/mail/mmd/click/{tracking_id}/{bob.link_ids[0].id}/{token}",
            f"/mail/mmd/click/{bob.id}/{link_id}/{tracking_token.sign(secret, 'click', bob.id, int(link_id))}",
            f"/mail/mmd/click/{tracking_id}/{link_id}/{token[::-1]}",
            f"/mail/mmd/click/{tracking_id}/{link_id}/{token}x?url=https://evil.example/",
            f"/mail/mmd/click/{tracking_id}/evil.example/{token}",
        ]
        for bad in refused:
            response = self.get(bad, allow_redirects=False)
            self.assertEqual(response.status_code, 404, bad)
            self.assertNotIn("evil.example", response.headers.get("Location", ""))
        self.env.invalidate_all()
        self.assertEqual(alice.click_count, 1, "only the genuine click counted")
        self.assertEqual(bob.click_count, 0)

    def test_machine_events_flagged_not_counted(self):
        message, received = self.send_invoice_email(self.alice)
        alice = self.tracking_of(message, "alice@customer.example")
        html = self.html_of(received["alice@customer.example"])
        # a link scanner follows the link right after delivery
        response = self.get(self.click_path(html), allow_redirects=False)
        self.assertEqual(response.headers["Location"], PAY_URL, "the scanner is still redirected")
        # a crawler fetches the image
        self.get(self.pixel_path(html), headers={"User-Agent": "python-requests/2.31"})
        self.env.invalidate_all()
        self.assertEqual(alice.state, "sent")
        self.assertEqual(
            (alice.open_count, alice.click_count, alice.machine_event_count), (0, 0, 2)
        )
        self.assertEqual(
            sorted(alice.event_ids.mapped("machine_reason")), ["crawler", "scanner_delay"]
        )
        # counting machines is a setting
        self.env["ir.config_parameter"].sudo().set_param(
            "mass_mailing_delivery.tracking_count_machine", "True"
        )
        self.env.invalidate_all()
        self.assertEqual((alice.open_count, alice.click_count), (1, 1))

    def test_one_click_unsubscribe_without_session(self):
        message, received = self.send_invoice_email(self.bob)
        bob = self.tracking_of(message, "bob@customer.example")
        url = received["bob@customer.example"]["List-Unsubscribe"].strip("<>")
        # as a mail client does it: a bare POST, no cookie, no CSRF token
        response = requests.post(
            self.base_url() + self.path_of(url),
            data={"List-Unsubscribe": "One-Click"},
            timeout=30,
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 200)
        entry = self.env["mail.blacklist"].search([("email", "=", "bob@customer.example")])
        self.assertTrue(entry.active)
        self.assertEqual(entry.block_reason, "unsubscribed")
        self.assertTrue(bob.unsubscribe_date)
        # a forged one-click URL does nothing
        path = self.path_of(url)
        forged = path[:-1] + ("1" if path.endswith("0") else "0")
        response = requests.post(
            self.base_url() + forged,
            data={"List-Unsubscribe": "One-Click"},
            timeout=30,
        )
        self.assertEqual(response.status_code, 404)
        # a genuine URL of a tracked e-mail deleted since: 404 too, no error
        bob.unlink()
        response = requests.post(self.base_url() + path, timeout=30)
        self.assertEqual(response.status_code, 404)

    def test_unsubscribe_page_keeps_the_reason(self):
        message, _received = self.send_invoice_email(self.alice)
        alice = self.tracking_of(message, "alice@customer.example")
        path = self.path_of(alice._get_unsubscribe_url())
        page = self.get(path)
        self.assertEqual(page.status_code, 200)
        self.assertIn('name="reason"', page.text)
        self.assertFalse(self.env["mail.blacklist"].search([("email", "=", alice.email)]))
        done = requests.post(
            self.base_url() + path, data={"reason": "Too many reminders"}, timeout=30
        )
        self.assertEqual(done.status_code, 200)
        self.assertIn("mmd_unsubscribe_done", done.text)
        entry = self.env["mail.blacklist"].search([("email", "=", alice.email)])
        self.assertTrue(entry)
        self.assertEqual(entry.block_reason, "unsubscribed")
        self.assertIn("Too many reminders", entry.block_evidence)

    def test_bounce_marks_tracking_bounced(self):
        message, _received = self.send_invoice_email(self.alice)
        alice = self.tracking_of(message, "alice@customer.example")
        message.notification_ids.filtered(lambda n: n.res_partner_id == self.alice).write(
            {"notification_status": "bounce"}
        )
        self.assertEqual(alice.state, "bounced")

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_refused_recipient_failed(self):
        refused = self.create_partners(["carol@nouser.example"], name_prefix="Refused")
        message, _received = self.send_invoice_email(self.alice | refused)
        carol = self.tracking_of(message, "carol@nouser.example")
        self.assertEqual(carol.state, "failed")

    def test_untracked_models_and_notes_untouched(self):
        partner = self.create_partners(["dave@customer.example"], name_prefix="Plain")
        with self.real_smtp():
            message = partner.message_post(
                body="<p>Hello</p>",
                partner_ids=self.alice.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)]).send()
        self.assertFalse(
            self.env["mail.tracking.email"].search([("mail_message_id", "=", message.id)])
        )
        self.assertNotIn("/mail/mmd/", self.smtpd.received[0].data.decode())

    def test_mass_mailing_one_click_unsubscribe(self):
        """Mass mailings carry core's RFC 8058 headers; the POST works without session."""
        partner = self.create_partners(["erin@customer.example"], name_prefix="Reader")
        mailing = self.create_partner_mailing(partner)
        self.send_mailing(mailing)
        received = BytesParser(policy=policy.default).parsebytes(self.smtpd.received[0].data)
        self.assertEqual(received["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")
        url = received["List-Unsubscribe"].strip("<>")
        self.assertIn(f"/mailing/{mailing.id}/unsubscribe_oneclick", url)
        response = requests.post(
            self.base_url() + self.path_of(url),
            data={"List-Unsubscribe": "One-Click"},
            timeout=30,
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(
            self.env["mail.blacklist"].search([("email", "=", "erin@customer.example")])
        )

    def test_mass_mailing_machine_events_left_out(self):
        """Core's pixel and short links: machine events are recorded, not counted."""
        partner = self.create_partners(["frank@customer.example"], name_prefix="Reader")
        mailing = self.create_partner_mailing(partner)
        trace = self.send_mailing(mailing)
        html = (
            BytesParser(policy=policy.default)
            .parsebytes(self.smtpd.received[0].data)
            .get_body(preferencelist=("html",))
            .get_content()
        )
        pixel = self.path_of(unescape(re.search(r'src="([^"]*/mail/track/[^"]+)"', html).group(1)))
        short = self.path_of(unescape(re.search(r'href="([^"]*/r/[^"]+)"', html).group(1)))
        # a crawler fetches the image; a scanner follows the link at once
        response = self.get(pixel, headers={"User-Agent": "Mozilla/5.0 (compatible; bingbot/2.0)"})
        self.assertEqual(response.content, PIXEL_GIF)
        response = self.get(short, allow_redirects=False)
        self.assertTrue(response.headers["Location"].startswith("https://www.example.com/offer"))
        self.env.invalidate_all()
        self.assertEqual(trace.trace_status, "sent")
        self.assertFalse(trace.links_click_datetime)
        events = self.env["mail.tracking.event"].search([("mailing_trace_id", "=", trace.id)])
        self.assertEqual(sorted(events.mapped("machine_reason")), ["crawler", "scanner_delay"])
        # the reader, later
        trace.sent_datetime = fields.Datetime.now() - timedelta(hours=1)
        self.get(pixel)
        self.get(short, allow_redirects=False)
        self.env.invalidate_all()
        self.assertEqual(trace.trace_status, "open")
        self.assertTrue(trace.links_click_datetime)
