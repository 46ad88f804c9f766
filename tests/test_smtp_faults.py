"""Sending through an SMTP server that misbehaves (the loopback server's fault rules):
afterwards every recipient is in exactly one state with the real reason, nobody received
the mail twice (the server's received log proves it), and the queue is not stuck."""

from collections import Counter
from unittest.mock import patch

from odoo.addons.base.models import ir_mail_server
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..tools.loopback_smtp import LoopbackSMTPServer
from ..tools.loopback_smtp import free_port
from .common import DeliveryCommon

#: the mixture across a large mailing: mails per run of the queue (``mail.mail.queue.batch.size``)
#: and per SMTP session (``mail.session.batch.size``)
MIX_SIZE = 2000
MIX_QUEUE_RUN = 500
MIX_SESSION = 250
#: transient faults of the mixture, cleared before the retry (the remote side recovered)
MIX_TRANSIENT_RULES = {
    "full.example": "452 4.2.2 <{rcpt}>: Mailbox full, quota exceeded",
    "late.example": "!after-data 451 4.3.0 Temporary local problem, try again later",
    "drop.example": "!disconnect",
}
#: the server hangs after DATA (the client times out) for a few recipients, picked by
#: address in the sessions of runs 1 and 4 (few: each costs the SMTP timeout)
HANG_RULE = "!hang 4"
#: the expected state of a recipient: trace status, a fragment of its reason, permanence
SENT = ("sent", "", None)
EXPECT_BY_DOMAIN = {
    "example.com": SENT,
    "nouser.example": ("error", "550 5.1.1", "permanent"),
    "full.example": ("error", "452 4.2.2", "temporary"),
    "late.example": ("error", "451 4.3.0", "temporary"),
    "drop.example": ("error", "closed the connection", "temporary"),
}
TIMED_OUT = ("error", ("closed the connection", "timed out"), "temporary")
GREETING_421 = "421 4.3.2 Service not available, closing transmission channel"


def _mix_address(idx):
    """The address of recipient ``idx`` of the mixture: its domain names its fault."""
    if idx % 50 == 7:
        domain = "nouser.example"  # 550 5.1.1 at RCPT: permanent
    elif idx % 50 == 13:
        domain = "full.example"  # 452 4.2.2 at RCPT: temporary
    elif idx % 50 == 21:
        domain = "late.example"  # 451 after DATA
    elif idx % 100 == 33:
        domain = "drop.example"  # connection dropped at RCPT
    else:
        domain = "example.com"
    return f"mix.{idx}@{domain}"


FAULT_RULES = {
    "drop.example": "!disconnect",
    "late.example": "!after-data 451 4.3.0 Temporary local problem, try again later",
    "slow.example": "!hang 3",
}


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestSMTPFaults(DeliveryCommon):
    def setUp(self):
        super().setUp()
        rules = dict(self.smtpd.handler.rules)
        self.smtpd.handler.rules.update(FAULT_RULES)
        self.addCleanup(self._restore_server, rules)

    def _restore_server(self, rules):
        self.smtpd.handler.rules.clear()
        self.smtpd.handler.rules.update(rules)
        self.smtpd.handler.refuse_connections("")
        # the server is shared by the class: a test stopped after a crash leaves it down
        self.smtpd.listen()

    def _reason(self, trace):
        """The failure reason of ``trace`` (its own, else its e-mail's)."""
        return trace.failure_reason or trace.sudo().mail_mail_id.failure_reason or ""

    def _mailing(self, emails):
        partners = self.create_partners(emails)
        mailing = self.create_partner_mailing(partners)
        mailing.action_launch()
        return mailing

    @mute_logger(
        "odoo.addons.mail.models.mail_mail",
        "odoo.addons.mass_mailing_delivery.models.mail_mail.failure",
    )
    def test_mixture_of_faults_in_one_batch(self):
        emails = [
            "first@example.com",
            "drop@drop.example",
            "second@example.com",
            "slow@slow.example",
            "third@example.com",
            "late@late.example",
            "fourth@example.com",
            "gone@nouser.example",
            "full@full.example",
            "fifth@example.com",
        ]
        mailing = self._mailing(emails)
        # a short SMTP timeout, so that the hanging server times the client out quickly
        with patch.object(ir_mail_server, "SMTP_TIMEOUT", 1):
            traces = self.send_mailing(mailing)

        by_email = {trace.email: trace for trace in traces}
        self.assertEqual(len(traces), len(emails), "one trace per recipient")
        received = Counter(self.smtpd.recipients())
        for email in emails:
            trace = by_email[email]
            with self.subTest(email=email):
                if email.endswith("@example.com"):
                    self.assertEqual(trace.trace_status, "sent")
                    self.assertEqual(received[email], 1, "received exactly once")
                else:
                    self.assertEqual(trace.trace_status, "error")
                    self.assertEqual(received[email], 0)
        reasons = {email: self._reason(by_email[email]) for email in emails}
        self.assertIn("closed the connection", reasons["drop@drop.example"])
        self.assertIn("timed out", reasons["slow@slow.example"])
        self.assertIn("451", reasons["late@late.example"])
        self.assertIn("550", reasons["gone@nouser.example"])
        self.assertIn("452", reasons["full@full.example"])
        self.assertFalse(
            self.env["mail.mail"]
            .sudo()
            .search([("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]),
            "nothing is left stuck in the queue",
        )
        # the late reply of the hanging server never lands on the next e-mail
        self.assertEqual(by_email["third@example.com"].trace_status, "sent")

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_421_on_connect_then_retry(self):
        emails = ["one@example.com", "two@example.com", "three@example.com"]
        mailing = self._mailing(emails)
        self.smtpd.handler.greeting = "421 4.3.2 Service not available, closing channel"
        traces = self.send_mailing(mailing)
        self.assertEqual(set(traces.mapped("trace_status")), {"error"})
        self.assertTrue(all("421" in self._reason(trace) for trace in traces))
        self.assertEqual(self.smtpd.recipients(), [])

        self.smtpd.handler.greeting = ""
        mailing.action_retry_failed()
        # the retry puts the failed mails back in the queue: the mail queue sends them
        with self.real_smtp():
            self.env["mail.mail"].sudo().search(
                [("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]
            ).send()
        self.env.invalidate_all()
        traces = mailing.mailing_trace_ids
        received = Counter(self.smtpd.recipients())
        self.assertEqual(received, Counter(emails), "each recipient received it exactly once")
        self.assertEqual(
            Counter(traces.mapped("trace_status"))["sent"], len(emails), "all sent after retry"
        )

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_connection_refused_then_retry(self):
        """Nothing listens on the server's port: every recipient fails with the real
        reason (the refused connection), as a temporary, retryable failure; nobody is
        lost. Once a server listens there, the retry sends each recipient exactly once."""
        emails = [f"refused.{idx}@example.com" for idx in range(6)]
        port = free_port(self.smtpd.host)  # bound then released: nothing listens there
        self.env["ir.mail_server"].sudo().search([]).write({"smtp_port": port})
        mailing = self._mailing(emails)
        traces = self.send_mailing(mailing)

        self.assertEqual(len(traces), len(emails), "nobody is lost")
        self.assertEqual(self.smtpd.recipients(), [])
        for trace in traces:
            with self.subTest(email=trace.email):
                self.assertEqual(trace.trace_status, "error")
                self.assertEqual(trace.failure_type, "mail_smtp")
                self.assertIn("Connection refused", trace.failure_reason or "")
                self.assertEqual(trace._get_failure_permanence(), "temporary")
                self.assertEqual(trace.sudo().mail_mail_id.state, "exception")

        with LoopbackSMTPServer(port=port) as smtpd:
            mailing.action_retry_failed()
            with self.real_smtp():
                self.env["mail.mail"].sudo().search(
                    [("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]
                ).send()
            received = Counter(smtpd.recipients())
        self.env.invalidate_all()
        self.assertEqual(received, Counter(emails), "each recipient received it exactly once")
        self.assertEqual(
            Counter(mailing.mailing_trace_ids.mapped("trace_status")), Counter(sent=len(emails))
        )

    # ------------------------------------------------------------
    # A MIXTURE ACROSS A LARGE MAILING
    # ------------------------------------------------------------

    def _next_queue_run(self, mailing):
        """The sessions of the next run of the mail queue for ``mailing``, as core's
        ``process_email_queue`` takes them: the ``MIX_QUEUE_RUN`` most recent queued mails,
        sent in ascending id order, ``MIX_SESSION`` per SMTP session.

        :param mailing: ``mailing.mailing`` record
        :return: list of sessions, each a list of ``mail.mail`` ids
        """
        ids = sorted(
            self.env["mail.mail"]
            .sudo()
            .search(
                [("mailing_id", "=", mailing.id), ("state", "=", "outgoing")],
                order="id desc",
                limit=MIX_QUEUE_RUN,
            )
            .ids
        )
        return [ids[start : start + MIX_SESSION] for start in range(0, len(ids), MIX_SESSION)]

    def _run_queue(self, mailing, max_runs=1):
        """Run the mail queue (as its cron does) for ``mailing``, up to ``max_runs`` times
        or until nothing of it is queued; return the number of runs."""
        Mail = self.env["mail.mail"].sudo().with_context(filters=[("mailing_id", "=", mailing.id)])
        runs = 0
        queued = [("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]
        while runs < max_runs and Mail.search_count(queued):
            Mail.process_email_queue()
            runs += 1
        return runs

    def _check_recipients(self, mailing, expected):
        """The recipients whose trace differs from ``expected``, as ``{email: (what was
        expected, what is)}``.

        :param mailing: ``mailing.mailing`` record
        :param expected: ``{email: (trace status, fragment of the reason (or a tuple of
            fragments), permanence)}``; a failure must also have a connection or refusal
            failure type (never "Unknown error") and its mail kept for a retry
        """
        self.env.invalidate_all()
        mismatches = {}
        traces = mailing.mailing_trace_ids
        self.assertEqual(sorted(traces.mapped("email")), sorted(expected), "one trace each")
        for trace in traces:
            status, fragment, permanence = expected[trace.email]
            reason = self._reason(trace)
            got = (trace.trace_status, reason, None)
            if trace.trace_status == "error":
                got = (trace.trace_status, reason, trace._get_failure_permanence())
                # the real reason, never "Unknown error", and the mail kept for a retry
                if trace.failure_type not in ("mail_smtp", "mail_smtp_refused"):
                    got += (trace.failure_type,)
                if trace.sudo().mail_mail_id.state != "exception":
                    got += (trace.sudo().mail_mail_id.state,)
            fragments = fragment if isinstance(fragment, tuple) else (fragment,)
            if (
                got[0] != status
                or not all(part in got[1] for part in fragments)
                or got[2] != permanence
                or len(got) > 3
            ):
                mismatches[trace.email] = ((status, fragment, permanence), got)
        return mismatches

    def _run_mixture(self, mailing, mails, expected):
        """The runs of the queue of the mixture (see its test), SMTP on; updates
        ``expected`` with the connection faults of runs 2 and 3.

        :param mailing: ``mailing.mailing`` record, all its mails queued
        :param mails: its ``mail.mail`` records
        :param expected: ``{email: expected state}`` (see :meth:`_check_recipients`)
        :return: the addresses given a fault of their own (the crash, the hangs)
        """
        email_of = {mail.id: mail.mailing_trace_ids.email for mail in mails}
        hanging = []

        def hang_in(session):
            """The server hangs after DATA for the first example.com recipient from the
            21st of ``session``."""
            email = next(
                email_of[mail_id]
                for mail_id in session[20:]
                if email_of[mail_id].endswith("@example.com")
            )
            self.smtpd.handler.rules[email] = HANG_RULE
            expected[email] = TIMED_OUT
            hanging.append(email)

        # run 1: the faults named by the domains, and two hangs
        for session in self._next_queue_run(mailing):
            hang_in(session)
        self.assertEqual(self._run_queue(mailing), 1)

        # run 2: the first connection of the run is greeted with 421
        first_session = self._next_queue_run(mailing)[0]
        self.smtpd.handler.refuse_connections(GREETING_421, count=1)
        self._run_queue(mailing)
        for mail_id in first_session:
            expected[email_of[mail_id]] = ("error", "421 4.3.2", "temporary")

        # run 3: the server crashes on the 10th recipient (one of example.com)
        first_session, second_session = self._next_queue_run(mailing)
        crash_at = next(
            pos
            for pos, mail_id in enumerate(first_session)
            if pos >= 9 and email_of[mail_id].endswith("@example.com")
        )
        crashing = email_of[first_session[crash_at]]
        self.smtpd.handler.rules[crashing] = "!crash"
        cron = self.env.ref("mail.ir_cron_mail_scheduler_action")
        Trigger = self.env["ir.cron.trigger"].sudo()
        triggers = Trigger.search([("cron_id", "=", cron.id)])
        self._run_queue(mailing)
        self.assertFalse(self.smtpd.listening, "the server is down after the crash")
        self.assertTrue(
            Trigger.search([("cron_id", "=", cron.id)]) - triggers,
            "the queue comes back soon for the mails left queued",
        )
        expected[crashing] = ("error", "closed the connection", "temporary")
        expected[email_of[first_session[crash_at + 1]]] = (
            "error",
            ("could not be reached again", "Connection refused"),
            "temporary",
        )
        for mail_id in second_session:
            expected[email_of[mail_id]] = ("error", "Connection refused", "temporary")
        left = set(first_session[crash_at + 2 :])
        self.assertEqual(
            set(
                mails.browse(first_session + second_session)
                .exists()
                .filtered(lambda m: m.state == "outgoing")
                .ids
            ),
            left,
            "the rest of the crashed session stays queued, untouched",
        )

        # the server is back: run 4 (one more hang) and the runs that follow empty the queue
        self.smtpd.listen()
        hang_in(self._next_queue_run(mailing)[0])
        self.assertLessEqual(self._run_queue(mailing, max_runs=5), 3)
        self.assertEqual(list(self.smtpd.handler.hung), [[email] for email in hanging])
        return [crashing, *hanging]

    @mute_logger(
        "odoo.addons.mail.models.mail_mail",
        "odoo.addons.mass_mailing_delivery.models.mail_mail.failure",
        "odoo.addons.mass_mailing_delivery.models.ir_mail_server.smtp",
    )
    def test_mixture_of_faults_across_2000_recipients(self):
        """2,000 recipients through the loopback server, over four runs of the mail queue
        of 500 mails each (two SMTP sessions of 250 per run):

        * in every run, the faults named by the recipients' domains: 550 5.1.1 and 452
          4.2.2 at RCPT, 451 after DATA, the connection dropped at RCPT; and in runs 1
          and 4, the server hanging after DATA for three recipients (the client times
          out: SMTP timeout patched to 2 s);
        * run 2: the server greets its next connection with 421, so the first session
          of the run fails at connect;
        * run 3: the server crashes on the 10th recipient of the first session (drops the
          connection at RCPT and stops listening) and stays down for the rest of the run:
          the next mail fails as the server cannot be reached again, the rest of the
          session stays queued (the queue is triggered again in 5 minutes), the second
          session's connection is refused; the server
          is up again for the next runs, which send what was left queued.

        Afterwards each recipient is in the one state the server's behaviour implies, with
        the real reason and the right permanence, and nobody received the mail twice. The
        remote side then recovers (only the 550 rule stays): the retry of the temporary
        failures delivers each of them exactly once; the permanent ones stay failed with
        their reason."""
        emails = [_mix_address(idx) for idx in range(MIX_SIZE)]
        self.smtpd.handler.rules.update(MIX_TRANSIENT_RULES)
        # the mixture fails far more than 5 %: the alert rule would pause the mailing
        # (tested on its own); here every mail must go through the faults
        self.env.ref("mass_mailing_delivery.alert_rule_mailing").pause_mailing = False
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("mail.mail.queue.batch.size", str(MIX_QUEUE_RUN))
        params.set_param("mail.session.batch.size", str(MIX_SESSION))
        mailing = self.create_partner_mailing(self.create_partners(emails))
        with self.real_smtp():
            mailing.action_send_mail()
        mails = self.env["mail.mail"].sudo().search([("mailing_id", "=", mailing.id)])
        self.assertEqual(len(mails), MIX_SIZE)
        self.assertEqual(set(mails.mapped("state")), {"outgoing"}, "all queued")
        expected = {email: EXPECT_BY_DOMAIN[email.rpartition("@")[2]] for email in emails}

        with patch.object(ir_mail_server, "SMTP_TIMEOUT", 2), self.real_smtp():
            faulty = self._run_mixture(mailing, mails, expected)

        received = Counter(self.smtpd.recipients())
        self.assertEqual(max(received.values()), 1, "nobody received the mail twice")
        self.assertEqual(
            set(received), {email for email, state in expected.items() if state == SENT}
        )
        mismatches = self._check_recipients(mailing, expected)
        self.maxDiff = None
        self.assertEqual(mismatches, {})
        outcome = Counter(state[0] for state in expected.values())
        self.assertEqual(outcome["sent"] + outcome["error"], MIX_SIZE)

        # the remote side recovers: the retry sends the temporary failures once each
        for domain in MIX_TRANSIENT_RULES:
            self.smtpd.handler.rules.pop(domain)
        for email in faulty:
            self.smtpd.handler.rules.pop(email)
        permanent = {email for email in emails if email.endswith("@nouser.example")}
        temporary = {email for email, state in expected.items() if state[2] == "temporary"}
        action = mailing.action_retry_failed()
        self.assertIn(
            f"Temporary failures sent again: {len(temporary)};", action["params"]["message"]
        )
        with self.real_smtp():
            self.assertLessEqual(self._run_queue(mailing, max_runs=5), 2)

        received_after = Counter(self.smtpd.recipients())
        self.assertEqual(max(received_after.values()), 1, "nobody received the mail twice")
        self.assertEqual(set(received_after), set(emails) - permanent, "the rest delivered")
        final = dict.fromkeys(emails, SENT)
        final.update(dict.fromkeys(permanent, EXPECT_BY_DOMAIN["nouser.example"]))
        self.assertEqual(self._check_recipients(mailing, final), {})
