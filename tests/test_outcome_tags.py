"""Outcome tags: a mailing's tags land on its recipients as the mailing is sent for
real (loopback SMTP), opened (core's tracking pixel), clicked (core's link redirect),
unsubscribed (core's one-click unsubscribe) and bounced (a DSN through the gateway)."""

import re
from urllib.parse import urlsplit

from odoo import fields
from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from .common import DeliveryCommon

#: a person's mail client: the addon's bot filter leaves scanners' and scripts' hits out
#: of the open and click counts (see README, Tracking)
PERSON = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0"
}


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestOutcomeTags(DeliveryCommon, HttpCase):
    def setUp(self):
        super().setUp()
        # the test opens and clicks at once after sending: no scanner delay
        self.env["ir.config_parameter"].sudo().set_param(
            "mass_mailing_delivery.tracking_scanner_delay", 0
        )

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Tag = cls.env["res.partner.category"]
        cls.tag_sent = Tag.create({"name": "Campaign: delivered"})
        cls.tag_opened = Tag.create({"name": "Campaign: read"})
        cls.tag_clicked = Tag.create({"name": "Campaign: clicked"})
        cls.tag_unsub = Tag.create({"name": "Campaign: removed"})
        cls.tag_bounced = Tag.create({"name": "Campaign: bounced"})
        cls.tag_failed = Tag.create({"name": "Campaign: failed"})
        cls.all_tags = (
            cls.tag_sent
            | cls.tag_opened
            | cls.tag_clicked
            | cls.tag_unsub
            | cls.tag_bounced
            | cls.tag_failed
        )

    def _tag_values(self):
        return {
            "outcome_tag_sent_id": self.tag_sent.id,
            "outcome_tag_opened_id": self.tag_opened.id,
            "outcome_tag_clicked_id": self.tag_clicked.id,
            "outcome_tag_unsubscribed_id": self.tag_unsub.id,
            "outcome_tag_bounced_id": self.tag_bounced.id,
            "outcome_tag_failed_id": self.tag_failed.id,
        }

    def _received_for(self, email):
        """The message the loopback server received for ``email``."""
        messages = [m.message for m in self.smtpd.received if email in m.rcpt_tos]
        self.assertEqual(len(messages), 1, f"one message received for {email}")
        return messages[0]

    def _html_urls(self, message, pattern):
        html = message.get_body(("html",)).get_content()
        return [
            urlsplit(url)._replace(scheme="", netloc="").geturl()
            for url in re.findall(r'(?:src|href)="([^"]*' + pattern + r'[^"]*)"', html)
        ]

    def _partner_tags(self, partner):
        partner.invalidate_recordset(["category_id"])
        return partner.sudo().category_id & self.all_tags

    @users("user_marketing")
    @mute_logger("odoo.addons.mail.models.mail_mail", "odoo.addons.mail.models.mail_thread")
    def test_tags_follow_the_outcomes(self):
        reader, clicker, quitter, gone, refused = self.create_partners(
            [
                "reader@example.com",
                "clicker@example.com",
                "quitter@example.com",
                "gone@example.com",
                "refused@nouser.example",
            ]
        )
        mailing = self.create_partner_mailing(
            reader | clicker | quitter | gone | refused, **self._tag_values()
        )
        mailing.action_launch()
        traces = self.send_mailing(mailing)
        self.assertEqual(len(traces), 5)

        for partner in reader | clicker | quitter | gone:
            self.assertEqual(self._partner_tags(partner), self.tag_sent, partner.email)
        self.assertEqual(self._partner_tags(refused), self.tag_failed)

        # open: core's tracking pixel, as the mail client loads it
        (pixel,) = self._html_urls(self._received_for("reader@example.com"), "/mail/track/")
        self.assertEqual(self.url_open(pixel, headers=PERSON).status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(self._partner_tags(reader), self.tag_sent | self.tag_opened)

        # click: core's link redirect (a click implies an open)
        links = self._html_urls(self._received_for("clicker@example.com"), "/r/")
        self.assertTrue(links)
        response = self.url_open(links[0], allow_redirects=False, headers=PERSON)
        self.assertIn(response.status_code, (301, 302, 303))
        self.env.invalidate_all()
        self.assertEqual(
            self._partner_tags(clicker), self.tag_sent | self.tag_opened | self.tag_clicked
        )

        # unsubscribe: the one-click link of the List-Unsubscribe header (RFC 8058)
        header = self._received_for("quitter@example.com")["List-Unsubscribe"]
        oneclick = urlsplit(header.strip("<>"))._replace(scheme="", netloc="").geturl()
        response = self.url_open(oneclick, data={"List-Unsubscribe": "One-Click"}, headers=PERSON)
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(self._partner_tags(quitter), self.tag_sent | self.tag_unsub)

        # bounce: the recipient's MTA sends a DSN back to the bounce alias
        gone_trace = traces.filtered(lambda t: t.res_id == gone.id)
        self.receive(
            self.make_dsn(
                "gone@example.com",
                "5.1.1",
                "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown",
                gone_trace.message_id,
            )
        )
        self.assertIn(self.tag_bounced, self._partner_tags(gone))

        # nothing leaked onto the other recipients
        self.assertEqual(self._partner_tags(refused), self.tag_failed)
        self.assertNotIn(self.tag_opened, self._partner_tags(quitter))

        # bulk removal
        mailing.action_remove_outcome_tags()
        for partner in reader | clicker | quitter | gone | refused:
            self.assertFalse(self._partner_tags(partner), partner.email)

    @users("user_marketing")
    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_apply_to_past_recipients(self):
        partners = self.create_partners(["past1@example.com", "past2@nouser.example"])
        mailing = self.create_partner_mailing(partners)
        mailing.action_launch()
        self.send_mailing(mailing)
        self.assertFalse(self._partner_tags(partners[0]))

        mailing.write(
            {"outcome_tag_sent_id": self.tag_sent.id, "outcome_tag_failed_id": self.tag_failed.id}
        )
        self.assertTrue(mailing.has_outcome_tags)
        mailing.action_apply_outcome_tags()
        self.assertEqual(self._partner_tags(partners[0]), self.tag_sent)
        self.assertEqual(self._partner_tags(partners[1]), self.tag_failed)

    @users("user_marketing")
    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_mailing_contacts_tagged(self):
        mailing_list = self.env["mailing.list"].create(
            {
                "name": "Outcome list",
                "contact_ids": [
                    (0, 0, {"name": "List reader", "email": "list.reader@example.com"}),
                    (0, 0, {"name": "List refused", "email": "list.refused@nouser.example"}),
                ],
            }
        )
        mailing = self.env["mailing.mailing"].create(
            {
                "name": "List outcome",
                "subject": "List outcome",
                "body_html": "<p>Hello</p>",
                "mailing_model_id": self.env["ir.model"]._get_id("mailing.list"),
                "contact_list_ids": [(4, mailing_list.id)],
                "email_from": "martial.marketing@test.mycompany.com",
                **self._tag_values(),
            }
        )
        mailing.action_launch()
        self.send_mailing(mailing)
        contacts = mailing_list.contact_ids.sudo()
        reader = contacts.filtered(lambda c: c.email == "list.reader@example.com")
        refused = contacts - reader
        self.assertEqual(reader.tag_ids & self.all_tags, self.tag_sent)
        self.assertEqual(refused.tag_ids & self.all_tags, self.tag_failed)

    @users("user_marketing")
    def test_no_tags_no_change(self):
        partner = self.create_partners(["plain@example.com"])
        mailing = self.create_partner_mailing(partner)
        mailing.action_launch()
        self.send_mailing(mailing)
        self.assertFalse(mailing.has_outcome_tags)
        self.assertFalse(self._partner_tags(partner))

    @users("user_marketing")
    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_apply_past_unsubscribed(self):
        stayer, leaver, blocked_before = self.create_partners(
            ["stayer@example.com", "leaver@example.com", "blocked.before@example.com"]
        )
        mailing = self.create_partner_mailing(stayer | leaver | blocked_before)
        mailing.action_launch()
        self.send_mailing(mailing)
        # the mailing went out an hour ago; the leaver unsubscribed since
        mailing.sudo().sent_date = fields.Datetime.subtract(fields.Datetime.now(), hours=1)
        self.env["mail.blacklist"].sudo()._add("leaver@example.com")
        self.env["mail.blacklist"].sudo().create({"email": "blocked.before@example.com"})
        self.env.cr.execute(
            "UPDATE mail_blacklist SET write_date = %s WHERE email = %s",
            [
                fields.Datetime.subtract(fields.Datetime.now(), hours=2),
                "blocked.before@example.com",
            ],
        )
        self.env["mail.blacklist"].invalidate_model()
        mailing.outcome_tag_unsubscribed_id = self.tag_unsub
        mailing.action_apply_outcome_tags()
        self.assertEqual(self._partner_tags(leaver), self.tag_unsub)
        self.assertFalse(self._partner_tags(stayer))
        self.assertFalse(self._partner_tags(blocked_before), "blocked before the sending")
