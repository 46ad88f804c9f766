"""Sending services' webhooks, end to end: mailings really sent through the loopback
SMTP server (answering as Amazon SES or Postfix), then each provider's documented
payloads, signed with keys generated here, posted over HTTP to the running Odoo.

The only thing not real: Amazon SNS's signing certificate is the test's own, put in the
addon's certificate cache (``tools.providers.ses.remember_certificate``) under an
``sns.<region>.amazonaws.com`` URL, and the subscription confirmation's visit of
``SubscribeURL`` is recorded instead of reaching Amazon (no network but loopback).
"""

import json
import os
import tempfile
from unittest.mock import patch

from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..tools import maillog
from ..tools.providers import ses
from . import provider_payloads as payloads
from .common import DeliveryCommon

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


@tagged("post_install", "-at_install", "mass_mailing_delivery", "mmd_providers")
class TestProviderWebhooks(DeliveryCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sns = payloads.SnsSigner()
        cls.sendgrid = payloads.SendGridSigner()
        cls.server = cls.env["ir.mail_server"].create(
            {
                "name": "Relay",
                "smtp_host": cls.smtpd.host,
                "smtp_port": cls.smtpd.port,
                "smtp_encryption": "none",
            }
        )

    def setUp(self):
        super().setUp()
        self.addCleanup(setattr, self.smtpd.handler, "reply_mode", "")

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    def configure(self, provider, secret):
        self.server.sudo().write({"mmd_provider": provider, "mmd_provider_secret": secret})

    def send(self, emails, reply_mode=""):
        """Send a mailing to ``emails`` through the server answering as ``reply_mode``;
        return its traces, in the order of ``emails``."""
        self.smtpd.handler.reply_mode = reply_mode
        partners = self.create_partners(emails)
        mailing = self.create_partner_mailing(partners, mail_server_id=self.server.id)
        traces = self.send_mailing(mailing)
        return [traces.filtered(lambda t, e=email: t.email == e) for email in emails]

    def post(self, provider, document, headers=None, server=None, raw=None):
        """POST to the webhook, then apply what it queued (``apply_waiting_events``)."""
        body = raw if raw is not None else json.dumps(document).encode()
        response = self.url_open(
            f"/mass_mailing_delivery/webhook/{provider}/{(server or self.server).id}",
            data=body,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        self.apply_waiting_events()
        return response

    def apply_waiting_events(self):
        """Run what the scheduled action the webhook triggers runs (the cron workers do
        not run in tests): the events the posts queued are applied."""
        self.env["mail.provider.event"].sudo()._cron_apply()

    def events(self):
        return self.env["mail.bounce.event"].sudo().search([("provider", "!=", False)])

    def snapshot(self):
        """What a refused post must not change."""
        self.env.invalidate_all()
        return (
            self.env["mail.bounce.event"].sudo().search_count([]),
            self.env["mail.provider.event"].sudo().search_count([]),
            self.env["mail.blacklist"].sudo().search_count([]),
            sorted(self.env["mailing.trace"].sudo().search([]).mapped("trace_status")),
        )

    def received_for(self, email):
        return next(m for m in self.smtpd.received if email in m.rcpt_tos)

    # ------------------------------------------------------------
    # AMAZON SES
    # ------------------------------------------------------------

    def test_ses_bounce_matched_by_the_ses_message_id(self):
        """SES rewrites the Message-ID: the bounce is matched by the SES message id the
        server gave in its 250 reply, not by recipient and recency (a newer mailing to
        the same address is left alone)."""
        self.configure("ses", payloads.TOPIC_ARN)
        [old, kept] = self.send(["gone@remote.example", "kept@remote.example"], "ses")
        received = self.received_for("gone@remote.example")
        self.assertTrue(old.server_reference.startswith("250 Ok "))
        self.assertEqual(old.provider_message_id, received.provider_message_id)
        self.assertNotEqual(received.message["Message-Id"], old.message_id, "SES rewrote it")
        [newer] = self.send(["gone@remote.example"], "ses")

        notification = payloads.ses_bounce(old.provider_message_id, "gone@remote.example")
        notification["mail"]["headers"][2]["value"] = received.message["Message-Id"]
        envelope = self.sns.envelope(notification, version="2")
        response = self.post("ses", envelope)
        self.assertEqual(response.status_code, 200, response.text)

        self.env.invalidate_all()
        event = self.events()
        self.assertEqual(len(event), 1)
        self.assertEqual(event.trace_id, old)
        self.assertEqual((event.kind, event.provider, event.state), ("hard", "ses", "matched"))
        self.assertEqual(event.provider_classification, "Permanent/General")
        self.assertEqual(event.mail_server_id, self.server)
        self.assertEqual((event.smtp_code, event.status), (550, "5.1.1"))
        self.assertEqual(old.trace_status, "bounce")
        self.assertEqual(old.bounce_kind, "hard")
        self.assertEqual(old.failure_reason, "550 5.1.1 user unknown")
        self.assertEqual(newer.trace_status, "sent")
        self.assertEqual(kept.trace_status, "sent")
        block = self.env["mail.blacklist"].sudo().search([("email", "=", "gone@remote.example")])
        self.assertEqual((block.block_reason, block.bounce_event_id), ("hard_bounce", event))
        self.assertIn("Amazon SES Permanent/General", block.block_evidence)
        self.assertIn("550 5.1.1 user unknown", block.block_evidence)
        log = self.env["mail.sent.log"].search(
            [("server_reference", "ilike", old.provider_message_id)]
        )
        self.assertEqual((log.source_id, log.state), (old.id, "bounced"))

        # the same notification again (SNS retries): refused, nothing changes
        before = self.snapshot()
        self.assertEqual(self.post("ses", envelope).status_code, 409)
        self.assertEqual(self.snapshot(), before)

    def test_ses_complaint_delivery_suppressed_and_unknown(self):
        self.configure("ses", payloads.TOPIC_ARN)
        [complaint, delivered, suppressed] = self.send(
            ["angry@remote.example", "happy@remote.example", "listed@remote.example"], "ses"
        )
        for notification in (
            payloads.ses_complaint(complaint.provider_message_id, "angry@remote.example"),
            payloads.ses_delivery(delivered.provider_message_id, "happy@remote.example"),
            payloads.ses_bounce(
                suppressed.provider_message_id,
                "listed@remote.example",
                subtype="OnAccountSuppressionList",
                diagnosticCode="Amazon SES did not send the message to this address because "
                "it is on the suppression list for your account.",
                status="5.1.1",
            ),
            payloads.ses_bounce("0100018cffffffff-unknown-000000", "stranger@remote.example"),
        ):
            response = self.post("ses", self.sns.envelope(notification))
            self.assertEqual(response.status_code, 200, response.text)
        self.env.invalidate_all()
        events = {event.recipient: event for event in self.events()}
        self.assertTrue(complaint.is_complaint)
        self.assertEqual(events["angry@remote.example"].trace_id, complaint)
        self.assertEqual(
            self.env["mail.blacklist"]
            .sudo()
            .search([("email", "=", "angry@remote.example")])
            .block_reason,
            "complaint",
        )
        self.assertEqual(events["happy@remote.example"].kind, "delivered")
        self.assertEqual(
            self.env["mail.sent.log"]
            .search([("source", "=", "trace"), ("source_id", "=", delivered.id)])
            .state,
            "delivered",
        )
        listed = events["listed@remote.example"]
        self.assertTrue(listed.provider_suppressed)
        block = self.env["mail.blacklist"].sudo().search([("email", "=", "listed@remote.example")])
        self.assertIn("(suppression list)", block.block_evidence)
        stranger = events["stranger@remote.example"]
        self.assertEqual(stranger.state, "unmatched")
        self.assertTrue(stranger.raw_attachment_id, "logged, not lost")

    def test_ses_forged_replayed_malformed_change_nothing(self):
        self.configure("ses", payloads.TOPIC_ARN)
        [trace] = self.send(["gone@remote.example"], "ses")
        notification = payloads.ses_bounce(trace.provider_message_id, "gone@remote.example")
        good = self.sns.envelope(notification)
        before = self.snapshot()
        forged = dict(good, Message=good["Message"].replace("Permanent", "Transient"))
        old = self.sns.envelope(notification, timestamp=payloads.time.time() - 20 * 60)
        other_topic = self.sns.envelope(notification)
        other_topic["TopicArn"] = "arn:aws:sns:eu-west-1:999999999999:other"
        foreign_cert = dict(good, SigningCertURL="https://evil.example/cert.pem")
        for document, status in (
            (forged, 403),
            (old, 403),
            (other_topic, 403),
            (foreign_cert, 403),
            ([1, 2], 400),
        ):
            response = self.post("ses", document)
            self.assertEqual(response.status_code, status, document)
        self.assertEqual(self.post("ses", None, raw=b"\x00{not json").status_code, 400)
        inside = self.sns.envelope({"notificationType": "Bounce", "bounce": [1], "mail": "x"})
        self.assertEqual(self.post("ses", inside).status_code, 400, "malformed inside")
        other = self.server.copy({"name": "Unconfigured"})
        self.assertEqual(self.post("ses", good, server=other).status_code, 404, "no key")
        self.assertEqual(self.post("mailgun", good).status_code, 404, "not its provider")
        self.assertEqual(
            self.url_open("/mass_mailing_delivery/webhook/ses/x99", data=b"{}").status_code, 404
        )
        path = f"/mass_mailing_delivery/webhook/ses/{self.server.id}"
        self.assertEqual(self.url_open(path).status_code, 405, "GET")
        self.assertEqual(self.opener.options(self.base_url() + path).status_code, 204)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.post("ses", good).status_code, 200)

    def test_ses_subscription_confirmation(self):
        self.configure("ses", payloads.TOPIC_ARN)
        visited = []
        envelope = self.sns.envelope(
            "You have chosen to subscribe to the topic.",
            msg_type="SubscriptionConfirmation",
            Token="2336412f37fb687f5d51e6e241d7700ae02f7124",
            SubscribeURL="https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription",
        )
        # no network but loopback: the visit to Amazon is recorded, not made
        with patch.object(ses, "http_get", side_effect=visited.append):
            response = self.post("ses", envelope)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(visited, [envelope["SubscribeURL"]])

    def test_server_form_shows_the_webhook_and_the_events(self):
        self.configure("ses", payloads.TOPIC_ARN)
        [trace] = self.send(["gone@remote.example"], "ses")
        self.post(
            "ses",
            self.sns.envelope(
                payloads.ses_bounce(trace.provider_message_id, "gone@remote.example")
            ),
        )
        self.env.invalidate_all()
        self.assertTrue(
            self.server.mmd_webhook_url.endswith(
                f"/mass_mailing_delivery/webhook/ses/{self.server.id}"
            )
        )
        self.assertTrue(self.server.mmd_last_event_date)
        self.assertEqual(self.server.mmd_event_summary, "Hard bounce: 1")

    # ------------------------------------------------------------
    # MAILGUN, POSTMARK, SENDGRID, BREVO
    # ------------------------------------------------------------

    def test_mailgun_events(self):
        self.configure("mailgun", MAILGUN_KEY)
        [failed, complained, unsubscribed] = self.send(
            ["gone@remote.example", "angry@remote.example", "bye@remote.example"]
        )
        posts = [
            payloads.mailgun_event(MAILGUN_KEY, "failed", "gone@remote.example", failed.message_id),
            payloads.mailgun_event(
                MAILGUN_KEY, "complained", "angry@remote.example", complained.message_id
            ),
            payloads.mailgun_event(
                MAILGUN_KEY, "unsubscribed", "bye@remote.example", unsubscribed.message_id
            ),
        ]
        forged = payloads.mailgun_event("another-key", "failed", "bye@remote.example", "<x@y>")
        before = self.snapshot()
        self.assertEqual(self.post("mailgun", forged).status_code, 403)
        self.assertEqual(self.snapshot(), before)
        for document in posts:
            self.assertEqual(self.post("mailgun", document).status_code, 200)
        self.assertEqual(self.post("mailgun", posts[0]).status_code, 409, "replayed")
        malformed = payloads.mailgun_event(MAILGUN_KEY, "failed", "x@remote.example", "<x@y>")
        malformed["event-data"]["timestamp"] = "yesterday"
        after = self.snapshot()
        self.assertEqual(self.post("mailgun", malformed).status_code, 400)
        self.assertEqual(self.snapshot(), after)
        self.env.invalidate_all()
        self.assertEqual(failed.trace_status, "bounce")
        self.assertTrue(complained.is_complaint)
        blocks = self.env["mail.blacklist"].sudo().search([("email", "like", "@remote.example")])
        self.assertEqual(
            {b.email: b.block_reason for b in blocks},
            {
                "gone@remote.example": "hard_bounce",
                "angry@remote.example": "complaint",
                "bye@remote.example": "unsubscribed",
            },
        )

    def test_postmark_events(self):
        self.configure("postmark", "odoo:s3cret")
        [hard, soft, complaint] = self.send(
            ["gone@remote.example", "full@remote.example", "angry@remote.example"], "postfix"
        )
        auth = payloads.basic_auth("odoo:s3cret")
        bounce = payloads.postmark_bounce(hard.provider_message_id, "gone@remote.example")
        before = self.snapshot()
        self.assertEqual(self.post("postmark", bounce).status_code, 401)
        self.assertEqual(
            self.post("postmark", bounce, payloads.basic_auth("odoo:guess")).status_code, 401
        )
        self.assertEqual(self.snapshot(), before)
        for document in (
            bounce,
            payloads.postmark_bounce(
                soft.provider_message_id,
                "full@remote.example",
                4096,
                "SoftBounce",
                Details="smtp;452 4.2.2 Mailbox full",
            ),
            payloads.postmark_complaint(complaint.provider_message_id, "angry@remote.example"),
        ):
            self.assertEqual(self.post("postmark", document, auth).status_code, 200)
        self.assertEqual(self.post("postmark", bounce, auth).status_code, 409)
        self.env.invalidate_all()
        self.assertEqual((hard.trace_status, hard.bounce_kind), ("bounce", "hard"))
        self.assertEqual((soft.trace_status, soft.bounce_kind), ("bounce", "soft"))
        self.assertTrue(complaint.is_complaint)
        event = self.events().filtered(lambda e: e.trace_id == hard)
        self.assertEqual(event.provider_classification, "HardBounce (1)")

    def test_sendgrid_batch(self):
        self.configure("sendgrid", self.sendgrid.verification_key)
        [bounced, dropped, delivered] = self.send(
            ["gone@remote.example", "listed@remote.example", "happy@remote.example"], "postfix"
        )
        batch = [
            payloads.sendgrid_event("bounce", "gone@remote.example", bounced.provider_message_id),
            payloads.sendgrid_event(
                "dropped", "listed@remote.example", dropped.provider_message_id
            ),
            payloads.sendgrid_event(
                "delivered", "happy@remote.example", delivered.provider_message_id
            ),
            payloads.sendgrid_event("open", "happy@remote.example", delivered.provider_message_id),
        ]
        body = json.dumps(batch).encode()
        before = self.snapshot()
        forged = self.sendgrid.headers(body.replace(b"gone@", b"gome@"))
        self.assertEqual(self.post("sendgrid", None, forged, raw=body).status_code, 403)
        old = self.sendgrid.headers(body, timestamp=payloads.time.time() - 3600)
        self.assertEqual(self.post("sendgrid", None, old, raw=body).status_code, 403)
        self.assertEqual(self.snapshot(), before)
        response = self.post("sendgrid", None, self.sendgrid.headers(body), raw=body)
        self.assertEqual(response.status_code, 200, response.text)
        self.env.invalidate_all()
        self.assertEqual(bounced.trace_status, "bounce")
        self.assertEqual(dropped.trace_status, "bounce")
        events = {e.recipient: e for e in self.events()}
        self.assertEqual(len(events), 3)
        self.assertTrue(events["listed@remote.example"].provider_suppressed)
        self.assertEqual(events["happy@remote.example"].kind, "delivered")
        again = self.post("sendgrid", None, self.sendgrid.headers(body), raw=body)
        self.assertEqual(again.status_code, 409)
        self.assertEqual(len(self.events()), 3)

    def test_brevo_events(self):
        self.configure("brevo", "brevo-token-1")
        [hard, spam] = self.send(["gone@remote.example", "angry@remote.example"], "postfix")
        auth = {"Authorization": "Bearer brevo-token-1"}
        bounce = payloads.brevo_event(
            "hard_bounce", "gone@remote.example", f"<{hard.provider_message_id}>"
        )
        before = self.snapshot()
        self.assertEqual(
            self.post("brevo", bounce, {"Authorization": "Bearer guess"}).status_code, 401
        )
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.post("brevo", bounce, auth).status_code, 200)
        spam_event = payloads.brevo_event(
            "spam", "angry@remote.example", f"<{spam.provider_message_id}>"
        )
        self.assertEqual(self.post("brevo", spam_event, auth).status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(hard.trace_status, "bounce")
        self.assertTrue(spam.is_complaint)

    # ------------------------------------------------------------
    # QUEUE
    # ------------------------------------------------------------

    def post_only(self, provider, document):
        """POST to the webhook, leaving what it queued waiting."""
        return self.url_open(
            f"/mass_mailing_delivery/webhook/{provider}/{self.server.id}",
            data=json.dumps(document).encode(),
            headers={"Content-Type": "application/json"},
        )

    def test_a_post_is_queued_then_applied_by_the_scheduled_action(self):
        """The webhook answers once the event is checked and kept; the scheduled action
        it triggers applies it. A replay is refused while it waits and after."""
        self.configure("mailgun", MAILGUN_KEY)
        [failed] = self.send(["gone@remote.example"])
        cron = self.env.ref("mass_mailing_delivery.ir_cron_provider_events")
        Trigger = self.env["ir.cron.trigger"].sudo()
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        post = payloads.mailgun_event(
            MAILGUN_KEY, "failed", "gone@remote.example", failed.message_id
        )

        response = self.post_only("mailgun", post)
        self.assertEqual((response.status_code, response.text), (200, "OK: 1 events queued"))
        self.env.invalidate_all()
        waiting = self.env["mail.provider.event"].sudo().search([])
        self.assertEqual(
            (waiting.provider, waiting.recipient, waiting.kind, waiting.state),
            ("mailgun", "gone@remote.example", "hard", "queued"),
        )
        self.assertEqual(waiting.mail_server_id, self.server)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1)
        self.assertFalse(self.events(), "not applied yet")
        self.assertEqual(failed.trace_status, "sent")
        self.assertEqual(self.server.mmd_event_summary, "waiting: 1")
        self.assertTrue(self.server.mmd_last_event_date)

        before = self.snapshot()
        self.assertEqual(self.post_only("mailgun", post).status_code, 409, "replayed, waiting")
        self.assertEqual(self.snapshot(), before)

        self.apply_waiting_events()
        self.env.invalidate_all()
        self.assertFalse(waiting.exists(), "removed once applied")
        self.assertEqual(self.events().trace_id, failed)
        self.assertEqual((failed.trace_status, failed.bounce_kind), ("bounce", "hard"))
        self.assertEqual(self.server.mmd_event_summary, "Hard bounce: 1")
        before = self.snapshot()
        self.assertEqual(self.post_only("mailgun", post).status_code, 409, "replayed, applied")
        self.assertEqual(self.snapshot(), before)

    @mute_logger("odoo.addons.mass_mailing_delivery.models.mail_provider_event")
    def test_an_event_that_cannot_be_applied_is_kept_and_holds_no_other(self):
        """Events of many posts are applied together; one whose stored payload cannot be
        applied fails alone, stays with its error, and is applied once mended."""
        self.configure("mailgun", MAILGUN_KEY)
        emails = ["gone@remote.example", "lost@remote.example", "away@remote.example"]
        traces = self.send(emails)
        cron = self.env.ref("mass_mailing_delivery.ir_cron_provider_events")
        Trigger = self.env["ir.cron.trigger"].sudo()
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        for email, trace in zip(emails, traces, strict=True):
            post = payloads.mailgun_event(MAILGUN_KEY, "failed", email, trace.message_id)
            self.assertEqual(self.post_only("mailgun", post).status_code, 200)
        self.assertEqual(
            Trigger.search_count([("cron_id", "=", cron.id)]),
            triggers + 1,
            "one run asked for, not one per post",
        )
        Waiting = self.env["mail.provider.event"].sudo()
        broken = Waiting.search([("recipient", "=", "lost@remote.example")])
        good_payload = broken.payload
        broken.payload = json.dumps({**json.loads(good_payload), "not_a_field": 1})

        self.apply_waiting_events()
        self.env.invalidate_all()
        self.assertEqual(Waiting.search([]), broken)
        self.assertEqual((broken.state, broken.attempts), ("failed", 1))
        self.assertIn("TypeError", broken.error)
        self.assertEqual(
            [t.trace_status for t in traces], ["bounce", "sent", "bounce"], "the others applied"
        )
        self.assertEqual(len(self.events()), 2)

        self.apply_waiting_events()
        self.assertEqual(broken.state, "failed", "a failed event waits for a user")
        result = broken.action_apply_again()
        self.assertEqual(result["params"]["type"], "warning")
        self.assertEqual(broken.attempts, 2)

        broken.payload = good_payload
        result = broken.action_apply_again()
        self.assertEqual(result["params"]["type"], "info")
        self.env.invalidate_all()
        self.assertFalse(broken.exists())
        self.assertEqual(traces[1].trace_status, "bounce")
        self.assertEqual(len(self.events()), 3)

    # ------------------------------------------------------------
    # POSTFIX LOG READER
    # ------------------------------------------------------------

    def test_postfix_log_reader_posts_each_outcome_once(self):
        """``tools/maillog.py`` reads the relay's log and posts to the running Odoo over
        HTTP; the outcomes are matched by the queue id of the server's reply."""
        self.configure("maillog", "log-token-1")
        [gone, happy, full] = self.send(
            ["gone@remote.example", "happy@remote.example", "full@remote.example"], "postfix"
        )
        self.assertTrue(gone.server_reference.startswith("250 2.0.0 Ok: queued as "))
        lines = [
            f"Dec  3 13:01:02 mx postfix/smtp[1234]: {gone.provider_message_id}: "
            "to=<gone@remote.example>, relay=mx.remote.example[192.0.2.1]:25, delay=0.5, "
            "delays=0.1/0/0.2/0.2, dsn=5.1.1, status=bounced (host mx.remote.example[192.0.2.1] "
            "said: 550 5.1.1 <gone@remote.example>: Recipient address rejected: User unknown in "
            "virtual mailbox table (in reply to RCPT TO command))",
            f"Dec  3 13:01:03 mx postfix/smtp[1235]: {happy.provider_message_id}: "
            "to=<happy@remote.example>, relay=mx.remote.example[192.0.2.1]:25, delay=0.4, "
            "delays=0.1/0/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9ABCD12)",
            f"Dec  3 13:01:04 mx postfix/smtp[1236]: {full.provider_message_id}: "
            "to=<full@remote.example>, relay=mx.remote.example[192.0.2.1]:25, delay=1.2, "
            "delays=0.1/0/0.3/0.8, dsn=4.2.2, status=deferred (host mx.remote.example"
            "[192.0.2.1] said: 452 4.2.2 Mailbox full (in reply to RCPT TO command))",
        ]
        with tempfile.TemporaryDirectory() as folder:
            log = os.path.join(folder, "mail.log")
            cursor = os.path.join(folder, "cursor.json")
            with open(log, "w", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
            url = maillog.endpoint(self.base_url(), self.server.id)
            before = self.snapshot()
            self.assertEqual(maillog.run([log], url, "guess", cursor), -1, "wrong token")
            self.assertEqual(self.snapshot(), before)
            self.assertFalse(os.path.exists(cursor), "the cursor waits for a taken post")
            self.assertEqual(maillog.run([log], url, "log-token-1", cursor), 3)
            self.assertEqual(maillog.run([log], url, "log-token-1", cursor), 0, "cron again")
            os.unlink(cursor)
            after = self.snapshot()
            self.assertEqual(maillog.run([log], url, "log-token-1", cursor), 3, "409: waiting")
            self.assertEqual(self.snapshot(), after)
            self.apply_waiting_events()
            after = self.snapshot()
            os.unlink(cursor)
            self.assertEqual(maillog.run([log], url, "log-token-1", cursor), 3, "409: applied")
            self.assertEqual(self.snapshot(), after)
        self.env.invalidate_all()
        self.assertEqual((gone.trace_status, gone.bounce_kind), ("bounce", "hard"))
        self.assertIn("User unknown in virtual mailbox table", gone.failure_reason)
        events = {e.recipient: e for e in self.events()}
        self.assertEqual(
            events["gone@remote.example"].delivery_error_id.category, "recipient_unknown"
        )
        self.assertEqual(events["happy@remote.example"].kind, "delivered")
        self.assertEqual(events["full@remote.example"].kind, "delayed")
        self.assertEqual(
            self.env["mail.blacklist"]
            .sudo()
            .search([("email", "=", "gone@remote.example")])
            .block_reason,
            "hard_bounce",
        )
