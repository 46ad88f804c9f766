"""Several Odoo workers on the same mail queue and the same bounce mailbox at once, and a
worker killed in the middle of a batch.

Each worker is a thread with its own database cursor that commits, as Odoo's workers and
cron threads do; a killed worker is a separate OS process (``WORKER_SCRIPT``) that opens
the registry and runs the mail queue, killed with SIGKILL. The fixtures are committed too
(and removed afterwards), since a worker cannot see the test's own uncommitted
transaction."""

import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from unittest.mock import patch

from odoo import SUPERUSER_ID
from odoo import api
from odoo import modules
from odoo.tests import TransactionCase
from odoo.tests import tagged
from odoo.tools import SQL
from odoo.tools import config
from odoo.tools import mute_logger

from ..tools.loopback_smtp import LoopbackSMTPServer

WORKERS = 2

#: an Odoo worker in a process of its own: opens the registry of the test database and runs
#: the mail queue on the given mails, committing after each mail as the mail cron does
WORKER_SCRIPT = """
import json, sys
import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config
config.parse_config(["-c", sys.argv[1], "-d", sys.argv[2], "--no-http", "--log-level=warn"])
with Registry(sys.argv[2]).cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {})
    print("ready", flush=True)
    env["mail.mail"].process_email_queue(ids=json.loads(sys.argv[3]))
    cr.commit()
print("done", flush=True)
"""
#: seconds the crash tests wait at most for a condition (the worker's progress)
WAIT_LIMIT = 120


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

    def _committed_mailing(self, emails, name, server_values=None):
        """Commit a mass mailing to ``emails`` through the loopback server, its mails
        queued (not sent); everything is removed after the test.

        :param emails: the recipients' addresses, one partner each
        :param name: the mailing's name and subject
        :param server_values: more values of the mail server (e.g. its throttle)
        :return: ``(mailing_id, mail_ids, order)``: the mailing's id, the ids of its
            queued ``mail.mail`` in the order the queue sends them, and their recipients
            in that order
        """
        cr, env = self._committed_env()
        with cr:
            server = env["ir.mail_server"].create(
                {
                    "name": f"loopback ({name})",
                    "smtp_host": self.smtpd.host,
                    "smtp_port": self.smtpd.port,
                    "smtp_encryption": "none",
                    "sequence": 1,
                    **(server_values or {}),
                }
            )
            partners = env["res.partner"].create(
                [{"name": email, "email": email} for email in emails]
            )
            mailing = env["mailing.mailing"].create(
                {
                    "name": name,
                    "subject": name,
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
            mail_ids = sorted(env["mail.mail"].search([("mailing_id", "=", mailing.id)]).ids)
            email_of = {
                trace.mail_mail_id_int: trace.email
                for trace in env["mailing.trace"].search([("mass_mailing_id", "=", mailing.id)])
            }
            cr.commit()
        self.addCleanup(self._cleanup, "ir.mail_server", server.ids)
        self.addCleanup(self._cleanup, "res.partner", partners.ids)
        self.addCleanup(self._cleanup, "mailing.mailing", mailing.ids)
        self.addCleanup(self._cleanup, "mail.mail", mail_ids)
        return mailing.id, mail_ids, [email_of[mail_id] for mail_id in mail_ids]

    def _cleanup(self, model, ids):
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})[model].browse(ids).exists().unlink()

    @mute_logger(
        "odoo.addons.mail.models.mail_mail",
        "odoo.sql_db",
        "odoo.addons.mass_mailing_delivery.models.mail_mail.failure",
    )
    def test_two_workers_on_one_mail_queue_send_each_mail_once(self):
        emails = [f"worker.{idx}@example.com" for idx in range(40)]
        mailing_id, mail_ids, _order = self._committed_mailing(emails, "Two workers")
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
            traces = env["mailing.trace"].search([("mass_mailing_id", "=", mailing_id)])
            self.assertEqual(Counter(traces.mapped("trace_status")), Counter({"sent": len(emails)}))

    def _set_committed_param(self, key, value):
        """Commit the system parameter ``key`` (restored after the test)."""
        with self.registry.cursor() as cr:
            params = api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"]
            previous = params.get_param(key)
            params.set_param(key, value)
        self.addCleanup(self._restore_param, key, previous)

    def _restore_param(self, key, value):
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"].set_param(key, value)

    @mute_logger("odoo.addons.mail.models.mail_mail", "odoo.sql_db")
    def test_a_batch_deletes_its_sent_mails_together_at_its_end(self):
        """Core deletes each sent e-mail (and its message) right after sending it; a
        claimed batch deletes its sent e-mails together at its end, in one statement per
        table. What the user sees after the run is the same: sent e-mails gone with their
        messages, traces sent, a refused e-mail kept (state *exception*) to be retried."""
        emails = [f"batch.delete.{idx}@example.com" for idx in range(11)] + [
            "nobody@nouser.example"
        ]
        mailing_id, mail_ids, _order = self._committed_mailing(emails, "Batch delete")
        self._set_committed_param("mass_mailing_delivery.send_claim_size", "5")
        with self.registry.cursor() as cr:
            cr.execute(SQL("SELECT mail_message_id FROM mail_mail WHERE id IN %s", tuple(mail_ids)))
            message_ids = [row[0] for row in cr.fetchall()]
        statements = []
        with self.real_smtp(), self.registry.cursor() as cr:
            execute = type(cr).execute

            def counting_execute(cursor, query, params=None, log_exceptions=True):
                text = query.code if isinstance(query, SQL) else str(query)
                if text.lstrip().upper().startswith('DELETE FROM "MAIL_MAIL"'):
                    statements.append(text)
                return execute(cursor, query, params, log_exceptions)

            # counts the statements the ORM runs (no mock of the behaviour)
            with patch.object(type(cr), "execute", counting_execute):
                api.Environment(cr, SUPERUSER_ID, {})["mail.mail"].process_email_queue(ids=mail_ids)
            cr.commit()

        states = self._queue_states(mailing_id, mail_ids)
        self.assertEqual(states.pop("nobody@nouser.example")[0], "exception")
        self.assertEqual(set(states.values()), {("deleted", False, "sent")})
        self.assertEqual(len(statements), 3, "one DELETE of sent e-mails per batch of 5")
        with self.registry.cursor() as cr:
            cr.execute(SQL("SELECT count(*) FROM mail_message WHERE id IN %s", tuple(message_ids)))
            self.assertEqual(cr.fetchone()[0], 1, "only the refused e-mail's message is left")

    @mute_logger("odoo.addons.mail.models.mail_mail", "odoo.sql_db")
    def test_three_parallel_senders_on_one_mailing_send_each_mail_once(self):
        """*Parallel senders* 3: the mail queue's scheduled action and two parallel sender
        scheduled actions run at once (three cron threads, each with its own cursor and
        SMTP connection), on one mailing of 90 e-mails, against a relay answering each
        message after 30 ms. Each claims its own batches of 10: every recipient receives
        the mail exactly once, every trace is sent, nothing is left queued, and the
        senders' SMTP sessions overlapped in time (they sent side by side)."""
        emails = [f"parallel.{idx}@example.com" for idx in range(90)]
        mailing_id, mail_ids, _order = self._committed_mailing(emails, "Three senders")
        self._set_committed_param("mass_mailing_delivery.send_claim_size", "10")
        with self.registry.cursor() as cr:
            crons = api.Environment(cr, SUPERUSER_ID, {})["mail.mail"]._mmd_sync_sender_crons(3)
            self.assertEqual(len(crons), 2, "two parallel senders beside the mail queue")
            self.assertEqual(crons.mapped("code"), ["model._mmd_cron_send_queue()"] * 2)
            cron_ids = crons.ids
        self.addCleanup(self._cleanup, "ir.cron", cron_ids)
        self.smtpd.reset()
        self.addCleanup(self.smtpd.reset)  # the other tests count what the server received
        self.smtpd.handler.latency_ms = 30
        self.addCleanup(setattr, self.smtpd.handler, "latency_ms", 0)

        # what each scheduled action runs: the mail queue, then the two parallel senders
        senders = [
            lambda env: env["mail.mail"].process_email_queue(),
            lambda env: env["mail.mail"]._mmd_cron_send_queue(),
            lambda env: env["mail.mail"]._mmd_cron_send_queue(),
        ]
        with self.real_smtp() as smtpd:
            errors = self._run_senders(senders)
            received = smtpd.received
        self.assertEqual(errors, [])

        self.assertEqual(
            Counter(rcpt for msg in received for rcpt in msg.rcpt_tos),
            Counter(emails),
            "each recipient received it exactly once",
        )
        states = self._queue_states(mailing_id, mail_ids)
        self.assertEqual(set(states.values()), {("deleted", False, "sent")})
        # side by side: a message of one SMTP session arrived between two of another
        peers = [msg.peer for msg in received]
        overlapping = {
            peer
            for peer in set(peers)
            if len(set(peers[peers.index(peer) : len(peers) - peers[::-1].index(peer)]) - {peer})
        }
        self.assertGreaterEqual(len(overlapping), 2, "the senders sent at the same time")
        with self.registry.cursor() as cr:
            cr.execute(
                SQL("SELECT count(*) FROM ir_cron_trigger WHERE cron_id IN %s", tuple(cron_ids))
            )
            self.assertTrue(cr.fetchone()[0], "the mail queue woke the parallel senders")

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_three_parallel_senders_keep_the_server_rate(self):
        """The send-speed limit holds across parallel senders: three senders on a mailing
        whose mail server allows 120 e-mails a minute (one every 0.5 s) each claim their
        own batches of 3, and wait for the server's shared send slots: the 9 e-mails
        arrive at least the slots apart (with the throttle tests' slack), each once."""
        emails = [f"throttled.parallel.{idx}@example.com" for idx in range(9)]
        mailing_id, _mail_ids, _order = self._committed_mailing(
            emails, "Three throttled senders", server_values={"throttle_rate": 120}
        )
        self._set_committed_param("mass_mailing_delivery.send_claim_size", "3")
        with self.registry.cursor() as cr:
            server_id = (
                api.Environment(cr, SUPERUSER_ID, {})["mailing.mailing"]
                .browse(mailing_id)
                .mail_server_id.id
            )
        self.addCleanup(self._delete_send_slot, f"server:{server_id}")
        self.smtpd.reset()
        self.addCleanup(self.smtpd.reset)
        senders = [lambda env: env["mail.mail"]._mmd_cron_send_queue()] * 3
        with self.real_smtp() as smtpd:
            errors = self._run_senders(senders)
            received = smtpd.received
        self.assertEqual(errors, [])
        self.assertEqual(
            Counter(rcpt for msg in received for rcpt in msg.rcpt_tos), Counter(emails)
        )
        times = sorted(msg.received_at for msg in received)
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        self.assertGreaterEqual(min(gaps), 0.5 * 0.5, f"gaps {gaps}")
        self.assertGreaterEqual(times[-1] - times[0], 8 * 0.5 * 0.9, f"gaps {gaps}")
        self.assertGreaterEqual(len({msg.peer for msg in received}), 3, "batches of 3")

    def _delete_send_slot(self, key):
        with self.registry.cursor() as cr:
            cr.execute(SQL("DELETE FROM mail_send_slot WHERE key = %s", key))

    def _run_senders(self, senders):
        """Run each of ``senders`` (``callable(env)``) in a thread of its own with its own
        committing cursor, all at once; return the errors raised."""
        barrier = threading.Barrier(len(senders))
        errors = []

        def sender(target):
            try:
                with self.registry.cursor() as cr:
                    cr.execute("SET lock_timeout = '30s'")
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    barrier.wait(timeout=20)
                    target(env)
                    cr.commit()
            except Exception as error:  # a sender's failure is reported by the test
                errors.append(error)

        threads = [threading.Thread(target=sender, args=(target,)) for target in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return errors

    @mute_logger("odoo.addons.mail.models.mail_thread", "odoo.sql_db")
    def test_two_workers_on_one_bounce_mailbox_count_each_bounce_once(self):
        """The same DSN fetched by two workers at once (two fetchmail runs racing on an
        IMAP mailbox) is logged and counted once."""
        email = "raced.bounce@full.example"
        # core recognises it as a bounce by its sender and report type: no alias needed
        # (creating one would wait on the company row the test transaction holds)
        raw = self.make_dsn(email, "4.2.2", "452 4.2.2 Mailbox full")
        self.addCleanup(self._delete_bounce_rows, email)
        self.addCleanup(self._delete_crowd_rows)

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

    # ------------------------------------------------------------
    # A WORKER KILLED IN THE MIDDLE OF A BATCH
    # ------------------------------------------------------------

    def _start_worker(self, mail_ids):
        """Start a separate Odoo worker process sending ``mail_ids`` (see WORKER_SCRIPT).

        :param mail_ids: ids of the queued ``mail.mail`` to send
        :return: the ``subprocess.Popen``, its output in a temporary file
        """
        output = tempfile.TemporaryFile()
        self.addCleanup(output.close)
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER_SCRIPT,
                config.rcfile,
                self.env.cr.dbname,
                json.dumps(mail_ids),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        process.mmd_output = output
        self.addCleanup(self._reap, process)
        return process

    def _reap(self, process):
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)

    def _wait_for(self, condition, process, what):
        """Wait until ``condition()`` holds, the worker still running (no timing is
        asserted: the limit only stops a test that would hang)."""
        deadline = time.monotonic() + WAIT_LIMIT
        while not condition():
            if process.poll() is not None:
                process.mmd_output.seek(0)
                self.fail(f"the worker ended before {what}: {process.mmd_output.read()[-3000:]}")
            if time.monotonic() > deadline:
                self.fail(f"the worker did not reach this point: {what}")
            time.sleep(0.05)

    def _backend_state(self, process):
        """The PostgreSQL backends of the worker ``process``: list of (state, wait event
        type), from ``pg_stat_activity`` (Odoo names each connection ``odoo-<pid>``)."""
        with self.registry.cursor() as cr:
            cr.execute(
                SQL(
                    "SELECT state, wait_event_type FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    f"odoo-{process.pid}",
                )
            )
            return cr.fetchall()

    def _kill(self, process):
        """SIGKILL the worker, as the OOM killer or a lost machine would."""
        process.kill()
        process.wait(timeout=30)
        self.assertEqual(process.returncode, -9)

    def _assert_locks_released(self, process, mail_ids):
        """PostgreSQL ended the dead worker's session and released its row locks: each
        mail left (sent ones may be deleted) can be locked at once (NOWAIT raises
        otherwise)."""
        self._wait_for_backend_end(process)
        with self.registry.cursor() as cr:
            query = "SELECT id FROM mail_mail WHERE id IN %s ORDER BY id"
            cr.execute(SQL(query, tuple(mail_ids)))
            existing = cr.fetchall()
            cr.execute(SQL(query + " FOR UPDATE NOWAIT", tuple(mail_ids)))
            self.assertEqual(cr.fetchall(), existing)
            cr.rollback()

    def _wait_for_backend_end(self, process):
        deadline = time.monotonic() + WAIT_LIMIT
        while self._backend_state(process):
            self.assertLess(time.monotonic(), deadline, "the dead worker's session never ended")
            time.sleep(0.05)

    def _queue_states(self, mailing_id, mail_ids):
        """``{email: (mail state, mail failure reason, trace status)}`` as committed; a
        sent mail deleted by core (auto-delete) shows as ``"deleted"``."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            mails = {mail.id: mail for mail in env["mail.mail"].browse(mail_ids).exists()}
            traces = env["mailing.trace"].search([("mass_mailing_id", "=", mailing_id)])
            return {
                trace.email: (
                    mails[trace.mail_mail_id_int].state
                    if trace.mail_mail_id_int in mails
                    else "deleted",
                    mails[trace.mail_mail_id_int].failure_reason
                    if trace.mail_mail_id_int in mails
                    else False,
                    trace.trace_status,
                )
                for trace in traces
            }

    def _next_run(self, mail_ids):
        """The next run of the mail queue, in this process, committing (a healthy worker)."""
        with self.real_smtp(), self.registry.cursor() as cr:
            cr.execute("SET lock_timeout = '30s'")
            api.Environment(cr, SUPERUSER_ID, {})["mail.mail"].process_email_queue(ids=mail_ids)
            cr.commit()

    @mute_logger("odoo.addons.mail.models.mail_mail", "odoo.sql_db")
    def test_worker_killed_while_the_server_hangs_on_data(self):
        """A worker process is killed (SIGKILL) while the server holds the DATA of its
        11th mail. Left after the crash, and what the user can act on: each mail is
        either sent (committed as ``sent``, its trace ``sent``; the batch deletes its
        sent mails at its end, so here the next run does) or
        queued for the next run (``outgoing``, no failure reason, its trace
        ``outgoing``), never in an intermediate state (``exception`` with core's
        "Error without exception" placeholder, which nobody would retry); here exactly
        the first 10 are sent. PostgreSQL released the dead worker's row locks. The next
        run sends the rest: each recipient received the mail exactly once (the 11th was
        never accepted by the server, so it is not sent twice)."""
        mailing_id, mail_ids, emails = self._committed_mailing(
            [f"killed.hang.{idx}@example.com" for idx in range(25)], "Killed while hanging"
        )
        self.smtpd.reset()
        hanging = emails[10]
        self.smtpd.handler.rules[hanging] = "!hang 300"
        self.addCleanup(self.smtpd.handler.rules.pop, hanging, None)

        worker = self._start_worker(mail_ids)
        self._wait_for(lambda: self.smtpd.handler.hung, worker, "the server held DATA")
        self.assertEqual(self.smtpd.handler.hung, [[hanging]])
        self._kill(worker)
        self._assert_locks_released(worker, mail_ids)

        states = self._queue_states(mailing_id, mail_ids)
        self.assertEqual(self.smtpd.recipients(), emails[:10])
        self.assertEqual(
            {email: states[email] for email in emails[:10]},
            dict.fromkeys(emails[:10], ("sent", False, "sent")),
            "sent, left for the end of the batch to delete",
        )
        self.assertEqual(
            {email: states[email] for email in emails[10:]},
            dict.fromkeys(emails[10:], ("outgoing", False, "outgoing")),
            "the mail in flight and the rest are queued for the next run",
        )

        # the server is healthy again; the next run resumes
        self.smtpd.handler.rules.pop(hanging)
        self._next_run(mail_ids)
        self.assertEqual(Counter(self.smtpd.recipients()), Counter(emails), "each exactly once")
        states = self._queue_states(mailing_id, mail_ids)
        self.assertEqual(set(states.values()), {("deleted", False, "sent")})

    @mute_logger("odoo.addons.mail.models.mail_mail", "odoo.sql_db")
    def test_worker_killed_after_the_server_accepted_a_mail(self):
        """The window no queue closes: the server accepted the 11th mail (250 after
        DATA), and the worker is killed before it commits that the mail was sent (it
        waits for the trace's row, which the test holds locked: a slow database, no
        mock). The worker's transaction rolls back: the mail is queued again
        (``outgoing``), as if never sent, and the next run sends it a second time.

        That is the bound, asserted exactly: at most one mail per killed worker, the one
        in flight between the server's acceptance and the worker's commit, is received
        twice; every other recipient exactly once, nobody lost. (Core commits after
        each mail: a crash can never repeat more than the mail in flight.)"""
        mailing_id, mail_ids, emails = self._committed_mailing(
            [f"killed.accepted.{idx}@example.com" for idx in range(25)], "Killed after acceptance"
        )
        self.smtpd.reset()
        in_flight = emails[10]
        lock_cr = self.registry.cursor()
        self.addCleanup(lock_cr.close)
        lock_cr.execute(
            SQL(
                "SELECT id FROM mailing_trace WHERE mass_mailing_id = %s AND email = %s FOR UPDATE",
                mailing_id,
                in_flight,
            )
        )
        self.assertEqual(len(lock_cr.fetchall()), 1)

        worker = self._start_worker(mail_ids)
        self._wait_for(
            lambda: (
                in_flight in self.smtpd.recipients()
                and ("active", "Lock") in self._backend_state(worker)
            ),
            worker,
            "the server accepted the mail and the worker waits to record it",
        )
        self._kill(worker)
        lock_cr.rollback()  # the dead worker's backend may now run on, then end
        self._assert_locks_released(worker, mail_ids)

        states = self._queue_states(mailing_id, mail_ids)
        self.assertEqual(self.smtpd.recipients(), emails[:11], "the 11th was accepted")
        self.assertEqual(
            {email: states[email] for email in emails[:10]},
            dict.fromkeys(emails[:10], ("sent", False, "sent")),
            "sent, left for the end of the batch to delete",
        )
        self.assertEqual(
            {email: states[email] for email in emails[10:]},
            dict.fromkeys(emails[10:], ("outgoing", False, "outgoing")),
            "the accepted mail's 'sent' was never committed: it is queued again",
        )

        self._next_run(mail_ids)
        received = Counter(self.smtpd.recipients())
        self.assertEqual(received, Counter(emails) + Counter([in_flight]), "one mail twice")
        states = self._queue_states(mailing_id, mail_ids)
        self.assertEqual(set(states.values()), {("deleted", False, "sent")})

    # ------------------------------------------------------------
    # TWO WORKERS ON ONE BOUNCE MAILBOX OF MANY MESSAGES
    # ------------------------------------------------------------

    def make_report(self, message_id, recipients):
        """An RFC 3464 DSN from a MAILER-DAEMON with one or more recipients.

        :param message_id: the DSN's own Message-ID
        :param recipients: list of ``(recipient, action, status, diagnostic,
            original Message-ID)``; the original's headers are those of the first
        :return: the raw message (bytes)
        """
        fields_part = "".join(
            f"Final-Recipient: rfc822; {rcpt}\r\nAction: {action}\r\nStatus: {status}\r\n"
            f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n"
            for rcpt, action, status, diagnostic, _original in recipients
        )
        first, original = recipients[0][0], recipients[0][4]
        return (
            "From: MAILER-DAEMON@mx.remote.example\r\nTo: bounce@crowd.example\r\n"
            f"Subject: Undelivered Mail\r\nMessage-Id: {message_id}\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/plain\r\n\r\nDelivery report\r\n\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; mx.remote.example\r\n\r\n{fields_part}"
            "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"Message-Id: {original}\r\nFrom: news@sender.example\r\nTo: {first}\r\n"
            "Subject: News\r\n\r\n--B--\r\n"
        ).encode()

    def make_arf(self, message_id, recipient, original_message_id):
        """An RFC 5965 spam complaint (ARF) from a feedback loop."""
        return (
            "From: feedbackloop@fbl.provider.example\r\nTo: bounce@crowd.example\r\n"
            f"Subject: FW: News\r\nMessage-Id: {message_id}\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"\r\n'
            "\r\n--ARF\r\nContent-Type: text/plain\r\n\r\nAbuse report\r\n\r\n"
            "--ARF\r\nContent-Type: message/feedback-report\r\n\r\n"
            "Feedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\n"
            f"Original-Rcpt-To: <{recipient}>\r\n\r\n"
            "--ARF\r\nContent-Type: message/rfc822\r\n\r\n"
            f"Message-Id: {original_message_id}\r\nFrom: news@sender.example\r\n"
            f"To: {recipient}\r\nSubject: News\r\n\r\nHello\r\n\r\n--ARF--\r\n"
        ).encode()

    def _crowd_mailbox(self):
        """The messages of a busy bounce mailbox, and what they must lead to.

        :return: ``(messages, expected)``: the raw messages (bytes), and a dict of
            ``events`` (``{(bounce Message-ID, recipient): kind}``), ``soft``
            (``{address: consecutive soft bounces}``) and ``blocked`` (``{address:
            block reason}``)
        """
        messages, events, soft, blocked = [], {}, {}, {}
        serial = iter(range(1, 1000))

        def dsn(recipients):
            message_id = f"<crowd.{next(serial)}@mx.remote.example>"
            messages.append(self.make_report(message_id, recipients))
            for rcpt, action, status, _diagnostic, _original in recipients:
                kind = (
                    "delayed" if action == "delayed" else ("hard" if status[0] == "5" else "soft")
                )
                events[message_id, rcpt] = kind

        hard = "550 5.1.1 <{}>: Recipient address rejected: User unknown"
        for idx in range(15):
            rcpt = f"hard.{idx}@crowd.example"
            dsn([(rcpt, "failed", "5.1.1", hard.format(rcpt), f"<news.h{idx}@sender.example>")])
            blocked[rcpt] = "hard_bounce"
        # two hard bounces in one report: one event each
        pair = ["pair.0@crowd.example", "pair.1@crowd.example"]
        dsn(
            [
                (rcpt, "failed", "5.1.1", hard.format(rcpt), "<news.pair@sender.example>")
                for rcpt in pair
            ]
        )
        blocked.update(dict.fromkeys(pair, "hard_bounce"))
        # soft bounces of distinct sendings, several per address, across the limit (3)
        for idx, count in enumerate([4, 4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1]):
            rcpt = f"soft.{idx}@crowd.example"
            for nth in range(count):
                original = f"<news.s{idx}.{nth}@sender.example>"
                dsn([(rcpt, "failed", "4.2.2", "452 4.2.2 Mailbox full, quota exceeded", original)])
            soft[rcpt] = count
            if count >= 3:
                blocked[rcpt] = "soft_bounce_limit"
        # delays: logged only, neither counted nor blocked
        for idx in range(8):
            rcpt = f"delayed.{idx % 4}@crowd.example"
            dsn(
                [
                    (
                        rcpt,
                        "delayed",
                        "4.4.7",
                        "451 4.4.7 Delivery delayed",
                        f"<news.d{idx}@sender.example>",
                    )
                ]
            )
        # spam complaints
        for idx in range(3):
            rcpt = f"complaint.{idx}@crowd.example"
            message_id = f"<crowd.{next(serial)}@fbl.provider.example>"
            messages.append(self.make_arf(message_id, rcpt, f"<news.c{idx}@sender.example>"))
            events[message_id, rcpt] = "complaint"
            blocked[rcpt] = "complaint"
        return messages, {"events": events, "soft": soft, "blocked": blocked}

    def _run_bounce_workers(self, orders):
        """One worker per list of ``orders``, all at once, each fetching its messages as
        core's ``fetchmail.server.fetch_mail`` does with an IMAP mailbox: one
        transaction per message, committed, and the message flagged as seen whether its
        processing succeeded or raised (so a message is processed once per worker, never
        again). Only the IMAP connection is left out: no IMAP server runs here.

        :param orders: list (one per worker) of lists of raw messages
        :return: failed attempts, per error class
        """
        barrier = threading.Barrier(len(orders))
        failures = Counter()
        lock = threading.Lock()

        def worker(order):
            with self.registry.cursor() as cr:
                cr.execute("SET lock_timeout = '30s'")
                env = api.Environment(cr, SUPERUSER_ID, {})
                barrier.wait(timeout=20)
                for raw in order:
                    try:
                        env["mail.thread"].message_process(False, raw)
                    except Exception as error:  # as core's fetch_mail does
                        with lock:
                            failures[type(error).__name__] += 1
                    cr.commit()

        threads = [threading.Thread(target=worker, args=(order,)) for order in orders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        return failures

    def _process_deferred_bounces(self):
        """Run the cron of the deferred bounce messages until none is left (at most 5
        runs); return how many messages it processed."""
        processed = 0
        for _run in range(5):
            with self.registry.cursor() as cr:
                count = api.Environment(cr, SUPERUSER_ID, {})[
                    "mail.bounce.deferred"
                ]._cron_process()
                cr.commit()
            if not count:
                break
            processed += count
        with self.registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM mail_bounce_deferred")
            self.assertEqual(cr.fetchone()[0], 0, "no deferred bounce left")
        return processed

    def _assert_no_deferred_bounce(self):
        with self.registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM mail_bounce_deferred")
            self.assertEqual(cr.fetchone()[0], 0, "the test starts without deferred bounces")

    def _delete_crowd_rows(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["mail.bounce.deferred"].search([]).unlink()
            cron = env.ref("mass_mailing_delivery.ir_cron_bounce_deferred")
            env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
            like = "%@crowd.example"
            env["mail.bounce.event"].search([("recipient", "=like", like)]).unlink()
            env["mail.blacklist"].with_context(active_test=False).search(
                [("email", "=like", like)]
            ).unlink()
            cr.execute(SQL("DELETE FROM mail_bounce_counter WHERE email LIKE %s", like))

    @mute_logger(
        "odoo.addons.mail.models.mail_thread",
        "odoo.addons.mass_mailing_delivery.models.mail_bounce_event.event",
        "odoo.sql_db",
    )
    def test_two_workers_on_one_busy_bounce_mailbox_count_exactly(self):
        """Two workers process the same bounce mailbox of 60 messages at once (each
        message fetched by both, in opposite orders, so that they meet on the same
        addresses): hard 5.1.1 bounces (one report naming two recipients), soft 4.2.2
        bounces of distinct sendings, several per address across the soft-bounce limit
        of 3, delays, spam complaints. The workers fetch as core's ``fetch_mail`` does
        (a message whose processing raised is flagged as seen all the same); what a
        concurrent worker made fail (serialization failure, unique violation) is kept and
        processed again by the cron. Afterwards: one event per message and recipient,
        none lost nor doubled; each soft-bounce counter exact; the blocked addresses
        exactly the expected ones, each with its reason."""
        messages, expected = self._crowd_mailbox()
        self.assertEqual(len(messages), 60)
        self.addCleanup(self._delete_crowd_rows)
        self._assert_no_deferred_bounce()

        # the second worker takes each pair of messages the other way round: at every step
        # the two workers are on two messages of the same address (its soft counter, its
        # block) or on the same message
        swapped = [raw for pair in zip(messages[1::2], messages[::2], strict=True) for raw in pair]
        failures = self._run_bounce_workers([messages, swapped])
        # what a concurrent worker made fail was kept: the cron processes it again
        deferred = self._process_deferred_bounces()

        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            events = env["mail.bounce.event"].search([("recipient", "=like", "%@crowd.example")])
            self.assertEqual(
                Counter((event.bounce_message_id, event.recipient) for event in events),
                Counter(expected["events"].keys()),
                "one event per message and recipient",
            )
            self.assertEqual(
                {(event.bounce_message_id, event.recipient): event.kind for event in events},
                expected["events"],
            )
            cr.execute(
                SQL(
                    "SELECT email, soft_count FROM mail_bounce_counter WHERE email LIKE %s",
                    "%@crowd.example",
                )
            )
            self.assertEqual(dict(cr.fetchall()), expected["soft"], "soft counters exact")
            entries = env["mail.blacklist"].search([("email", "=like", "%@crowd.example")])
            self.assertEqual(
                {entry.email: entry.block_reason for entry in entries}, expected["blocked"]
            )
        # a concurrency failure never reaches the fetch loop (it would flag the message
        # as seen): the message is deferred instead, and was processed again above
        self.assertEqual(failures, Counter(), f"{deferred} deferred and processed again")

    @mute_logger(
        "odoo.addons.mail.models.mail_thread",
        "odoo.addons.mass_mailing_delivery.models.mail_bounce_event.event",
        "odoo.addons.mass_mailing_delivery.models.mail_thread.bounce_alias",
        "odoo.sql_db",
    )
    def test_a_bounce_a_concurrent_worker_made_fail_is_processed_again(self):
        """Two soft bounces of one address, processed at the same moment by two workers
        (two mailboxes, or two fetches): the second worker's upsert of the soft-bounce
        counter waits for the first's row, which then commits; in REPEATABLE READ the
        second fails to serialize. Core's ``fetch_mail`` would flag the message as seen
        all the same: the bounce was lost (counter 1 instead of 2, one event missing;
        this test failed so before the fix). Now the message is kept, and processed
        again by the cron: both bounces counted, one event each."""
        email = "raced.soft@crowd.example"
        self.addCleanup(self._delete_crowd_rows)
        self._assert_no_deferred_bounce()
        first, second = (
            self.make_report(
                f"<race.{nth}@mx.remote.example>",
                [
                    (
                        email,
                        "failed",
                        "4.2.2",
                        "452 4.2.2 Mailbox full",
                        f"<news.r{nth}@sender.example>",
                    )
                ],
            )
            for nth in (1, 2)
        )
        other_cr = self.registry.cursor()
        self.addCleanup(other_cr.close)
        api.Environment(other_cr, SUPERUSER_ID, {})["mail.thread"].message_process(False, second)
        other_cr.execute("SELECT pg_backend_pid()")
        other_pid = other_cr.fetchone()[0]

        failures = Counter()
        worker = threading.Thread(
            target=lambda: failures.update(self._run_bounce_workers([[first]]))
        )
        worker.start()
        deadline = time.monotonic() + WAIT_LIMIT
        while not self._blocked_by(other_pid):
            self.assertLess(time.monotonic(), deadline, "the worker never waited for the row")
            time.sleep(0.05)
        other_cr.commit()
        worker.join(timeout=WAIT_LIMIT)
        self.assertEqual(failures, Counter(), "the failure reached no fetch loop")

        with self.registry.cursor() as cr:
            cr.execute("SELECT error, attempts FROM mail_bounce_deferred")
            self.assertEqual(cr.fetchall(), [("40001 SerializationFailure", 1)])
        self.assertEqual(self._process_deferred_bounces(), 1)
        with self.registry.cursor() as cr:
            cr.execute(SQL("SELECT soft_count FROM mail_bounce_counter WHERE email = %s", email))
            self.assertEqual(cr.fetchone()[0], 2, "both soft bounces counted")
            cr.execute(
                SQL("SELECT bounce_message_id FROM mail_bounce_event WHERE recipient = %s", email)
            )
            self.assertEqual(
                sorted(row[0] for row in cr.fetchall()),
                ["<race.1@mx.remote.example>", "<race.2@mx.remote.example>"],
            )

    def _blocked_by(self, pid):
        """Whether a database session waits for a lock the session ``pid`` holds."""
        with self.registry.cursor() as cr:
            cr.execute(
                SQL(
                    "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                    pid,
                )
            )
            return bool(cr.fetchone()[0])
