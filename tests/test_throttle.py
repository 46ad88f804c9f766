"""Send throttle: the mail queue spaces e-mails as set on the mail server or the
mailing, also with two workers sending at once through their own database cursors
(measured on the loopback SMTP server's receive timestamps, with generous slack)."""

import itertools
import threading

from odoo import SUPERUSER_ID
from odoo import api
from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from .common import DeliveryCommon

#: Share of the configured interval two consecutive receptions must at least be apart:
#: the throttle spaces the starts of the sends; building and transmitting an e-mail
#: takes a variable time on a loaded machine, so receptions jitter around the slots.
SLACK = 0.5


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestThrottle(DeliveryCommon):
    def _gaps(self, emails):
        times = sorted(m.received_at for m in self.smtpd.received if set(m.rcpt_tos) & set(emails))
        return times, [b - a for a, b in itertools.pairwise(times)]

    def _delete_slots(self, keys):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM mail_send_slot WHERE key IN %s", [tuple(keys)])

    @users("user_marketing")
    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_mailing_delay_spaces_sends(self):
        emails = [f"slow{idx}@example.com" for idx in range(4)]
        mailing = self.create_partner_mailing(self.create_partners(emails), throttle_delay=0.6)
        self.addCleanup(self._delete_slots, [f"mailing:{mailing.id}"])
        self.assertEqual(mailing._get_send_interval(), 0.6)
        mailing.action_launch()
        with self.real_smtp():
            mailing.action_send_mail()
            self.env["mail.mail"].sudo().search(
                [("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]
            ).send()
        times, gaps = self._gaps(emails)
        self.assertEqual(len(times), 4)
        self.assertGreaterEqual(min(gaps), 0.6 * SLACK, f"gaps {gaps}")
        self.assertGreaterEqual(times[-1] - times[0], 3 * 0.6 * 0.9, f"gaps {gaps}")
        self.env.invalidate_all()
        self.assertIsNone(mailing.get_live_summary()["eta_seconds"], "nothing left to send")

    @users("user_marketing")
    def test_eta_of_queued_mails(self):
        partners = self.create_partners([f"queued{idx}@example.com" for idx in range(5)])
        mailing = self.create_partner_mailing(partners, throttle_rate=30)
        self.env["mailing.trace"].sudo().create(
            [
                {
                    "mass_mailing_id": mailing.id,
                    "model": "res.partner",
                    "res_id": partner.id,
                    "email": partner.email,
                    "trace_status": "outgoing",
                }
                for partner in partners
            ]
        )
        summary = mailing.get_live_summary()
        self.assertEqual(summary["to_send"], 5)
        self.assertEqual(summary["eta_seconds"], 10, "5 mails at 30 per minute")
        mailing.mail_server_id = (
            self.env["ir.mail_server"]
            .sudo()
            .create({"name": "Slow", "smtp_host": "localhost", "throttle_delay": 4})
        )
        self.assertEqual(mailing.get_live_summary()["eta_seconds"], 20, "the server is stricter")

    def test_rate_is_stricter_of_rate_and_delay(self):
        mixin = self.env["mail.throttle.mixin"]
        self.assertEqual(mixin._throttle_interval(0, 0), 0.0)
        self.assertEqual(mixin._throttle_interval(120, 0), 0.5)
        self.assertEqual(mixin._throttle_interval(120, 2), 2.0)
        self.assertEqual(mixin._throttle_interval(6, 2), 10.0)

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_batch_stops_at_budget_and_requeues(self):
        """A worker does not wait past its time budget: the rest stays queued and
        the mail queue is triggered again for when the next slot opens."""
        self.env["ir.config_parameter"].sudo().set_param(
            "mass_mailing_delivery.throttle_batch_seconds", "1"
        )
        server = (
            self.env["ir.mail_server"]
            .sudo()
            .create(
                {
                    "name": "Throttled budget",
                    "smtp_host": self.smtpd.host,
                    "smtp_port": self.smtpd.port,
                    "smtp_encryption": "none",
                    "throttle_delay": 0.5,
                }
            )
        )
        self.addCleanup(self._delete_slots, [f"server:{server.id}"])
        emails = [f"budget{idx}@example.com" for idx in range(6)]
        mails = (
            self.env["mail.mail"]
            .sudo()
            .create(
                [
                    {
                        "email_from": "martial.marketing@test.mycompany.com",
                        "email_to": email,
                        "subject": "Budget",
                        "body_html": "<p>Hello</p>",
                        "mail_server_id": server.id,
                        "auto_delete": False,
                    }
                    for email in emails
                ]
            )
        )
        cron = self.env.ref("mail.ir_cron_mail_scheduler_action")
        triggers_before = (
            self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", cron.id)])
        )
        with self.real_smtp():
            mails.send()
        sent = mails.filtered(lambda m: m.state == "sent")
        self.assertTrue(1 <= len(sent) <= 4, f"{len(sent)} sent within a 1 s budget")
        self.assertEqual(set((mails - sent).mapped("state")), {"outgoing"}, "the rest waits")
        self.assertGreater(
            self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", cron.id)]),
            triggers_before,
        )

    def test_no_throttle_no_plan(self):
        mail = (
            self.env["mail.mail"]
            .sudo()
            .create({"email_to": "fast@example.com", "subject": "Fast", "body_html": "<p>x</p>"})
        )
        self.assertEqual(mail._get_throttle_plan(), {}, "core's path when nothing is throttled")


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestThrottleWorkers(DeliveryCommon):
    """Two workers, each with its own committed cursor as Odoo's workers have, send
    one queue through a throttled server at the same time. The records are created
    in committed transactions and removed afterwards."""

    INTERVAL = 1.0  # 60 e-mails per minute
    COUNT = 6

    def _setup_committed(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            server = env["ir.mail_server"].create(
                {
                    "name": "Throttled loopback",
                    "smtp_host": self.smtpd.host,
                    "smtp_port": self.smtpd.port,
                    "smtp_encryption": "none",
                    "throttle_rate": int(60 / self.INTERVAL),
                    "sequence": 999,
                }
            )
            mails = env["mail.mail"].create(
                [
                    {
                        "email_from": "martial.marketing@test.mycompany.com",
                        "email_to": f"worker{idx}@example.com",
                        "subject": f"Worker test {idx}",
                        "body_html": "<p>Hello</p>",
                        "mail_server_id": server.id,
                    }
                    for idx in range(self.COUNT)
                ]
            )
            return server.id, mails.ids

    def _cleanup(self, server_id, mail_ids):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["mail.mail"].browse(mail_ids).exists().unlink()
            env["ir.mail_server"].browse(server_id).unlink()
            cr.execute("DELETE FROM mail_send_slot WHERE key = %s", [f"server:{server_id}"])

    def _worker(self, mail_ids, barrier, errors):
        try:
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                barrier.wait(timeout=10)
                env["mail.mail"].browse(mail_ids).send(auto_commit=True)
        except Exception as exc:
            errors.append(exc)

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_two_workers_share_the_server_rate(self):
        server_id, mail_ids = self._setup_committed()
        self.addCleanup(self._cleanup, server_id, mail_ids)
        barrier = threading.Barrier(2)
        errors = []
        with self.real_smtp():
            threads = [
                threading.Thread(target=self._worker, args=(mail_ids[part::2], barrier, errors))
                for part in range(2)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        self.assertFalse(errors, errors)
        received = [m for m in self.smtpd.received if m.rcpt_tos[0].startswith("worker")]
        self.assertEqual(len(received), self.COUNT, "every mail sent once")
        self.assertEqual(len({m.peer for m in received}), 2, "both workers sent")
        times = sorted(m.received_at for m in received)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        self.assertGreaterEqual(min(gaps), self.INTERVAL * SLACK, f"gaps {gaps}")
        self.assertGreaterEqual(
            times[-1] - times[0], (self.COUNT - 1) * self.INTERVAL * 0.9, f"gaps {gaps}"
        )
