"""Several Odoo workers on the same mail queue and the same bounce mailbox at once.

Each worker is a thread with its own database cursor that commits, as Odoo's workers and
cron threads do; the fixtures are committed too (and removed afterwards), since a worker
cannot see the test's own uncommitted transaction."""

import threading
from collections import Counter
from contextlib import contextmanager
from unittest.mock import patch

from odoo import SUPERUSER_ID
from odoo import api
from odoo import modules
from odoo.tests import TransactionCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..tools.loopback_smtp import LoopbackSMTPServer

WORKERS = 2


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestWorkers(TransactionCase):
    """Not on ``DeliveryCommon``: its fixtures update shared rows (company, users) in the
    test's transaction, on which the workers' committed transactions would wait."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.smtpd = LoopbackSMTPServer().start()
        cls.addClassCleanup(cls.smtpd.stop)

    @contextmanager
    def real_smtp(self):
        """Let mail leave Odoo for real, to the loopback SMTP server (see DeliveryCommon)."""
        with patch.object(modules.module, "current_test", False):
            yield self.smtpd

    def make_dsn(self, recipient, status, diagnostic):
        """A minimal RFC 3464 DSN from a MAILER-DAEMON (core routes it as a bounce)."""
        return (
            "From: MAILER-DAEMON@mx.remote.example\r\nTo: bounce@workers.example\r\n"
            "Subject: Undelivered Mail\r\nMessage-Id: <dsn.workers@mx.remote.example>\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
            f"--B\r\nContent-Type: text/plain\r\n\r\n<{recipient}>: {diagnostic}\r\n\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.remote.example\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: {status}\r\n"
            f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n--B--\r\n"
        ).encode()

    def _committed_env(self):
        """A cursor of its own (caller closes it) and its superuser environment."""
        cr = self.registry.cursor()
        # never wait forever on a row the test's own transaction holds
        cr.execute("SET lock_timeout = '30s'")
        return cr, api.Environment(cr, SUPERUSER_ID, {})

    def _run_workers(self, target, *args):
        barrier = threading.Barrier(WORKERS)
        errors = []

        def worker():
            try:
                with self.registry.cursor() as cr:
                    cr.execute("SET lock_timeout = '30s'")
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    barrier.wait(timeout=20)
                    target(env, *args)
                    cr.commit()
            except Exception as error:  # a worker's failure is reported by the test
                errors.append(error)

        threads = [threading.Thread(target=worker) for _idx in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return errors

    def _cleanup(self, model, ids):
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})[model].browse(ids).exists().unlink()

    @mute_logger(
        "odoo.addons.mail.models.mail_mail",
        "odoo.sql_db",
        "odoo.addons.mass_mailing_delivery.models.mail_mail",
    )
    def test_two_workers_on_one_mail_queue_send_each_mail_once(self):
        emails = [f"worker.{idx}@example.com" for idx in range(40)]
        cr, env = self._committed_env()
        with cr:
            server = env["ir.mail_server"].create(
                {
                    "name": "loopback (workers test)",
                    "smtp_host": self.smtpd.host,
                    "smtp_port": self.smtpd.port,
                    "smtp_encryption": "none",
                    "sequence": 1,
                }
            )
            partners = env["res.partner"].create(
                [{"name": email, "email": email} for email in emails]
            )
            mailing = env["mailing.mailing"].create(
                {
                    "name": "Two workers",
                    "subject": "Two workers",
                    "body_html": "<p>Hello</p>",
                    "mailing_model_id": env["ir.model"]._get_id("res.partner"),
                    "mailing_domain": [("id", "in", partners.ids)],
                    "mail_server_id": server.id,
                }
            )
            # queue the mails instead of sending them at once (core sends up to 100 at once)
            params = env["ir.config_parameter"]
            limit = params.get_param("mail.mail.force.send.limit")
            params.set_param("mail.mail.force.send.limit", "0")
            mailing.action_send_mail()
            params.set_param("mail.mail.force.send.limit", limit)
            mail_ids = env["mail.mail"].search([("mailing_id", "=", mailing.id)]).ids
            cr.commit()
        self.addCleanup(self._cleanup, "ir.mail_server", server.ids)
        self.addCleanup(self._cleanup, "res.partner", partners.ids)
        self.addCleanup(self._cleanup, "mailing.mailing", mailing.ids)
        self.assertEqual(len(mail_ids), len(emails))

        with self.real_smtp() as smtpd:
            # a worker that loses a race for a mail gets a serialization failure and
            # stops, as an Odoo cron does; the other goes on
            self._run_workers(lambda env: env["mail.mail"].process_email_queue(ids=mail_ids))
            # whatever a stopped worker left is sent by the next run
            self._run_workers(lambda env: env["mail.mail"].process_email_queue(ids=mail_ids))
            received = Counter(smtpd.recipients())

        self.assertEqual(received, Counter(emails), "each recipient received it exactly once")
        cr, env = self._committed_env()
        with cr:
            traces = env["mailing.trace"].search([("mass_mailing_id", "=", mailing.id)])
            self.assertEqual(Counter(traces.mapped("trace_status")), Counter({"sent": len(emails)}))

    @mute_logger("odoo.addons.mail.models.mail_thread", "odoo.sql_db")
    def test_two_workers_on_one_bounce_mailbox_count_each_bounce_once(self):
        """The same DSN fetched by two workers at once (two fetchmail runs racing on an
        IMAP mailbox) is logged and counted once."""
        email = "raced.bounce@full.example"
        # core recognises it as a bounce by its sender and report type: no alias needed
        # (creating one would wait on the company row the test transaction holds)
        raw = self.make_dsn(email, "4.2.2", "452 4.2.2 Mailbox full")
        self.addCleanup(self._delete_bounce_rows, email)

        self._run_workers(lambda env: env["mail.thread"].message_process(False, raw))

        with self.registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM mail_bounce_event WHERE recipient = %s", [email])
            self.assertEqual(cr.fetchone()[0], 1, "logged once")
            cr.execute("SELECT soft_count FROM mail_bounce_counter WHERE email = %s", [email])
            row = cr.fetchone()
            self.assertEqual(row[0] if row else 0, 1, "counted once")

    def _delete_bounce_rows(self, email):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM mail_bounce_event WHERE recipient = %s", [email])
            cr.execute("DELETE FROM mail_bounce_counter WHERE email = %s", [email])
