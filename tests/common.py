"""Shared base class and helpers of the addon's tests.

:class:`DeliveryCommon` extends core's ``MassMailCommon`` (users, alias domain,
``MockEmail`` helpers) with a real SMTP server on loopback
(:class:`~odoo.addons.mass_mailing_delivery.tools.loopback_smtp.LoopbackSMTPServer`):
every ``ir.mail_server`` of the test points at it, and :meth:`DeliveryCommon.real_smtp`
lets mail really leave Odoo through ``smtplib`` to that server, which refuses
the addresses of its rules with real reply codes (``*@nouser.example`` -> 550 5.1.1,
``*@full.example`` -> 452 4.2.2, ``*@busy.example`` -> 421 4.7.0, ...).
"""

from contextlib import contextmanager
from unittest.mock import patch

from odoo import modules
from odoo.addons.mass_mailing.tests.common import MassMailCommon

from ..tools.loopback_smtp import LoopbackSMTPServer


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
