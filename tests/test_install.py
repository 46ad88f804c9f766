"""The addon installs, its groups exist, and mail really goes out over SMTP."""

from odoo.tests import tagged
from odoo.tests import users

from .common import DeliveryCommon


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestInstall(DeliveryCommon):
    def test_module_installed(self):
        module = self.env["ir.module.module"].search([("name", "=", "mass_mailing_delivery")])
        self.assertEqual(module.state, "installed")
        self.assertEqual(module.latest_version, "18.0.1.0.0")

    def test_groups(self):
        user_group = self.env.ref("mass_mailing_delivery.group_delivery_user")
        manager_group = self.env.ref("mass_mailing_delivery.group_delivery_manager")
        self.assertIn(user_group, manager_group.implied_ids)
        self.assertTrue(self.user_marketing.has_group("mass_mailing_delivery.group_delivery_user"))
        self.assertFalse(
            self.user_marketing.has_group("mass_mailing_delivery.group_delivery_manager")
        )
        self.assertTrue(self.user_admin.has_group("mass_mailing_delivery.group_delivery_manager"))

    @users("user_marketing")
    def test_mailing_goes_through_loopback_smtp(self):
        partners = self.create_partners(
            ["alice@example.com", "bob@example.org", "carol@example.net"]
        )
        mailing = self.create_partner_mailing(partners)
        mailing.action_launch()
        traces = self.send_mailing(mailing)

        received = sorted(self.smtpd.recipients())
        self.assertEqual(received, ["alice@example.com", "bob@example.org", "carol@example.net"])
        self.assertEqual(sorted(traces.mapped("trace_status")), ["sent"] * 3)
        message_ids = {msg.message["Message-Id"] for msg in self.smtpd.received}
        self.assertEqual(message_ids, set(traces.mapped("message_id")))
        self.assertEqual(mailing.state, "done")
