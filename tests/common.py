"""Shared base class and helpers of the addon's tests.

:class:`DeliveryCommon` extends core's ``MassMailCommon`` (users, alias domain,
``MockEmail`` helpers) with a real SMTP server on loopback
(:class:`~odoo.addons.mass_mailing_delivery.tools.loopback_smtp.LoopbackSMTPServer`):
every ``ir.mail_server`` of the test points at it, and :meth:`DeliveryCommon.real_smtp`
lets mail really leave Odoo through ``smtplib`` to that server, which refuses
the addresses of its rules with real reply codes (``*@nouser.example`` -> 550 5.1.1,
``*@full.example`` -> 452 4.2.2, ``*@busy.example`` -> 421 4.7.0, ...).
"""

import itertools
from contextlib import contextmanager
from contextlib import nullcontext
from unittest.mock import patch

from markupsafe import Markup

from odoo import modules
from odoo.addons.mass_mailing.tests.common import MassMailCommon
from odoo.tools import mute_logger

from ..tools.loopback_smtp import LoopbackSMTPServer

#: the languages every tour runs in (README, *Tours*): it finds things by field names,
#: classes, data and the translated texts, never by English words alone
TOUR_LANGUAGES = ("en_US", "it_IT")


def install_italian(env):
    """Install Italian with the terms of the addon and of the core modules it shows.

    :param env: the test's environment
    """
    env["res.lang"]._activate_lang("it_IT")
    env["ir.module.module"]._load_module_terms(
        ["web", "base", "mail", "mass_mailing", "mass_mailing_delivery"], ["it_IT"]
    )


def start_tour_in_languages(case, url, tour, login="admin"):
    """Run a tour once per language of :data:`TOUR_LANGUAGES`, as ``login`` speaking it.

    :param case: the running ``HttpCase``
    :param url: the URL the tour starts at
    :param tour: the tour's name
    :param login: the user the tour logs in as
    """
    install_italian(case.env)
    user = case.env["res.users"].search([("login", "=", login)])
    for lang in TOUR_LANGUAGES:
        with case.subTest(lang=lang):
            user.lang = lang
            case.start_tour(url, tour, login=login)


#: every delivery report built by the tests has its own Message-ID, as real ones do (the
#: bounce mailbox processes a message once)
DSN_SEQUENCE = itertools.count(1)


class DeliveryCommon(MassMailCommon):
    """Base class of the addon's Odoo tests: core's mass mailing fixtures plus a
    loopback SMTP server shared by the class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.smtpd = LoopbackSMTPServer().start()
        cls.addClassCleanup(cls.smtpd.stop)
        cls.env["ir.mail_server"].search([]).write(
            {"smtp_host": cls.smtpd.host, "smtp_port": cls.smtpd.port, "smtp_encryption": "none"}
        )
        cls.user_marketing.write(
            {"email": "martial.marketing@test.mycompany.com", "tz": "Europe/Brussels"}
        )

    def setUp(self):
        super().setUp()
        self.smtpd.reset()

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    @contextmanager
    def real_smtp(self):
        """Let mail leave Odoo for real, to the loopback SMTP server.

        Odoo skips SMTP while a test runs (``odoo.modules.module.current_test``);
        inside this context it connects and sends as in production.
        """
        with patch.object(modules.module, "current_test", False):
            yield self.smtpd

    @classmethod
    def create_partners(cls, emails, name_prefix="Contact"):
        """Create one partner per e-mail.

        :param emails: list of e-mail addresses (falsy values give a partner without e-mail)
        :param name_prefix: prefix of the generated names
        :return: ``res.partner`` recordset, in the order of ``emails``
        """
        return cls.env["res.partner"].create(
            [
                {"name": f"{name_prefix} {idx}", "email": email or False}
                for idx, email in enumerate(emails)
            ]
        )

    def create_partner_mailing(self, partners, **values):
        """Create a draft mass mailing on ``res.partner`` targeting ``partners``.

        :param partners: ``res.partner`` recordset to target
        :param values: extra field values for the mailing
        :return: ``mailing.mailing`` record
        """
        return self.env["mailing.mailing"].create(
            {
                "name": "Delivery test",
                "subject": "Delivery test",
                "body_html": "<p>Hello <a href='https://www.example.com/offer'>offer</a></p>",
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                "mailing_domain": [("id", "in", partners.ids)],
                "email_from": "martial.marketing@test.mycompany.com",
                **values,
            }
        )

    def send_mailing(self, mailing):
        """Send ``mailing`` now, through the loopback SMTP server, and flush the queue.

        :param mailing: ``mailing.mailing`` record (draft or scheduled)
        :return: the ``mailing.trace`` records of the mailing
        """
        with self.real_smtp():
            mailing.action_send_mail()
            self.env["mail.mail"].sudo().search(
                [("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]
            ).send()
        self.env.invalidate_all()
        return mailing.mailing_trace_ids

    def send_document_email(
        self, record, partners, body="<p>Your invoice</p>", subject="Your invoice", real=True
    ):
        """Post an e-mail on ``record`` to ``partners`` and send it now (refusals and
        sending errors are not logged).

        :param record: the document (any ``mail.thread`` record)
        :param partners: ``res.partner`` recordset of the recipients
        :param real: through the loopback SMTP server (else Odoo's test mode: sent)
        :return: the ``mail.message`` posted
        """
        with (
            self.real_smtp() if real else nullcontext(),
            mute_logger(
                "odoo.addons.mail.models.mail_mail",
                "odoo.addons.mass_mailing_delivery.models.mail_mail.failure",
            ),
        ):
            message = record.message_post(
                body=Markup(body),
                subject=subject,
                partner_ids=partners.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            self.env["mail.mail"].sudo().search(
                [("mail_message_id", "=", message.id), ("state", "=", "outgoing")]
            ).send()
        self.env.invalidate_all()
        return message

    # ------------------------------------------------------------
    # BOUNCE MAILBOX
    # ------------------------------------------------------------

    @property
    def bounce_address(self):
        """The bounce alias of the test alias domain (where DSNs arrive)."""
        return f"{self.alias_bounce}@{self.alias_domain}"

    def make_dsn(self, recipient, status, diagnostic, original_message_id="", action="failed"):
        """Build an RFC 3464 delivery status notification as a real MTA sends it.

        :param recipient: the address that failed
        :param status: RFC 3463 status, e.g. "5.1.1"
        :param diagnostic: the remote server's reply, e.g. "550 5.1.1 User unknown"
        :param original_message_id: Message-ID of the original message ('' for none)
        :param action: failed, delayed, delivered...
        :return: the raw message (bytes)
        """
        original_headers = (
            f"Message-Id: {original_message_id}\r\n" if original_message_id else ""
        ) + f"From: martial.marketing@test.mycompany.com\r\nTo: {recipient}\r\nSubject: Offer\r\n"
        return (
            f"Return-Path: <>\r\n"
            f"From: MAILER-DAEMON@mx.remote.example (Mail Delivery System)\r\n"
            f"To: {self.bounce_address}\r\n"
            f"Subject: Undelivered Mail Returned to Sender\r\n"
            f"Message-Id: <dsn.{next(DSN_SEQUENCE)}.{abs(hash((recipient, status)))}"
            f"@mx.remote.example>\r\n"
            f"Auto-Submitted: auto-replied\r\n"
            f"MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"\r\n'
            f"\r\n"
            f"--BOUNDARY\r\n"
            f"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
            f"This is the mail system at host mx.remote.example.\r\n\r\n"
            f"<{recipient}>: host mx.remote.example said: {diagnostic}\r\n\r\n"
            f"--BOUNDARY\r\n"
            f"Content-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; mx.remote.example\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\n"
            f"Original-Recipient: rfc822;{recipient}\r\n"
            f"Action: {action}\r\n"
            f"Status: {status}\r\n"
            f"Remote-MTA: dns; mx.remote.example\r\n"
            f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n"
            f"--BOUNDARY\r\n"
            f"Content-Type: text/rfc822-headers\r\n\r\n"
            f"{original_headers}\r\n"
            f"--BOUNDARY--\r\n"
        ).encode()

    def make_arf(self, recipient, original_message_id, feedback_type="abuse"):
        """Build an RFC 5965 ARF spam complaint from a feedback loop.

        :param recipient: the complaining recipient (Original-Rcpt-To)
        :param original_message_id: Message-ID of the reported message
        :param feedback_type: ARF feedback type
        :return: the raw message (bytes)
        """
        return (
            f"From: feedbackloop@fbl.provider.example\r\n"
            f"To: {self.bounce_address}\r\n"
            f"Subject: FW: Offer\r\n"
            f"Message-Id: <arf.{next(DSN_SEQUENCE)}@fbl.provider.example>\r\n"
            f"MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"\r\n'
            f"\r\n"
            f"--ARF\r\n"
            f"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
            f"This is an email abuse report for an email message received from IP 192.0.2.1\r\n\r\n"
            f"--ARF\r\n"
            f"Content-Type: message/feedback-report\r\n\r\n"
            f"Feedback-Type: {feedback_type}\r\n"
            f"User-Agent: SomeGenerator/1.0\r\n"
            f"Version: 1\r\n"
            f"Original-Mail-From: <{self.bounce_address}>\r\n"
            f"Original-Rcpt-To: <{recipient}>\r\n"
            f"Source-IP: 192.0.2.1\r\n\r\n"
            f"--ARF\r\n"
            f"Content-Type: message/rfc822\r\n\r\n"
            f"Message-Id: {original_message_id}\r\n"
            f"From: martial.marketing@test.mycompany.com\r\n"
            f"To: {recipient}\r\n"
            f"Subject: Offer\r\n\r\n"
            f"Hello\r\n\r\n"
            f"--ARF--\r\n"
        ).encode()

    def receive(self, raw):
        """Feed one raw message to the mail gateway, as fetchmail does.

        :param raw: the message (bytes)
        :return: the ``mail.bounce.event`` records it created
        """
        last = self.env["mail.bounce.event"].sudo().search([], order="id desc", limit=1).id or 0
        self.env["mail.thread"].sudo().message_process(False, raw)
        return self.env["mail.bounce.event"].sudo().search([("id", ">", last)])
