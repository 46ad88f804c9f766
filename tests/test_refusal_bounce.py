"""A refusal at sending is a bounce like any other for the suppression rules: the 550
5.1.1 the loopback SMTP server answers at RCPT (Marco) gives the same verdict, the same
block and the same evidence as the same reply arriving later as a bounce (Sofia), and the
failure says what was done to the address."""

from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import mute_logger

from ..tools.loopback_smtp import DEFAULT_RULES
from .common import DeliveryCommon

MUTED = (
    "odoo.addons.mail.models.mail_mail",
    "odoo.addons.mass_mailing_delivery.models.mail_mail.failure",
)


@tagged("post_install", "-at_install", "mass_mailing_delivery", "mmd_refusal_bounce")
class TestRefusalBounce(DeliveryCommon):
    def _block(self, email):
        return self.env["mail.blacklist"].sudo().search([("email", "=", email)])

    def _send(self, emails):
        mailing = self.create_partner_mailing(self.create_partners(emails))
        with mute_logger(*MUTED):
            traces = self.send_mailing(mailing)
        return mailing, {trace.email: trace for trace in traces}

    @users("user_marketing")
    def test_refusal_at_sending_blocks_as_the_same_bounce(self):
        marco, sofia = "marco.bianchi@nouser.example", "sofia.romano@customer.example"
        mailing, traces = self._send([marco, sofia])
        self.assertEqual(traces[marco].trace_status, "error")
        self.assertEqual(traces[sofia].trace_status, "sent")
        # Sofia's server accepted, then bounced with the reply Marco's gave at RCPT
        reply = DEFAULT_RULES["nouser.example"].format(rcpt=sofia)
        bounce = self.receive(self.make_dsn(sofia, "5.1.1", reply, traces[sofia].sudo().message_id))
        self.assertEqual(bounce.kind, "hard")
        refusal = self.env["mail.bounce.event"].sudo().search([("recipient", "=", marco)])
        self.assertEqual(refusal.source, "refusal")
        self.assertEqual((refusal.kind, refusal.state), ("hard", "matched"))
        self.assertEqual(refusal.trace_id, traces[marco])
        self.assertEqual(refusal.mailing_id, mailing)
        self.assertEqual(refusal.delivery_error_id, bounce.delivery_error_id, "same verdict")
        self.assertEqual(refusal.delivery_error_id.category, "recipient_unknown")
        self.assertEqual(refusal.action_taken, bounce.action_taken)
        self.assertEqual(refusal.action_taken, "Blocked: hard bounce.")
        blocks = {email: self._block(email) for email in (marco, sofia)}
        for email, block in blocks.items():
            with self.subTest(email=email):
                self.assertEqual(block.block_reason, "hard_bounce")
                self.assertEqual(block.block_mailing_id, mailing)
                self.assertEqual(
                    block.block_evidence,
                    # the server's words once (its reply carries the status already)
                    DEFAULT_RULES["nouser.example"].format(rcpt=email),
                    "same evidence: the server's reply",
                )
        self.assertEqual(blocks[marco].bounce_event_id, refusal)
        self.assertEqual(blocks[sofia].bounce_event_id, bounce)
        # the traces say what was done to the address; Marco's stays a failure at sending
        self.assertEqual(traces[marco].address_action, "Blocked: hard bounce.")
        self.assertEqual(traces[sofia].address_action, "Blocked: hard bounce.")
        self.assertEqual(traces[marco].trace_status, "error")
        # the sent e-mails log says it too, on each recipient's row
        log = self.env["mail.sent.log"].sudo()
        for email in (marco, sofia):
            row = log.search([("source", "=", "trace"), ("source_id", "=", traces[email].id)])
            self.assertEqual(row.address_action, "Blocked: hard bounce.", email)
        # the next mailing leaves both out, as blocked
        _next, next_traces = self._send([marco, sofia])
        self.assertEqual(
            {trace.failure_type for trace in next_traces.values()}, {"mail_bl"}, "both blocked"
        )

    @users("user_marketing")
    def test_temporary_refusals(self):
        """A full mailbox (452 at RCPT) counts as a soft bounce, as its bounce would; a busy
        server (421) says nothing about the address: nothing is done to it."""
        full, busy = "ada@full.example", "bea@busy.example"
        _mailing, traces = self._send([full, busy])
        self.assertEqual(traces[full].address_action, "Soft bounce 1 of 3.")
        counter = self.env["mail.bounce.counter"].sudo().search([("email", "=", full)])
        self.assertEqual(counter.soft_count, 1)
        self.assertFalse(self._block(full))
        self.assertEqual(traces[busy].trace_status, "error")
        self.assertFalse(traces[busy].address_action)
        self.assertFalse(
            self.env["mail.bounce.event"].sudo().search([("recipient", "=", busy)]),
            "a busy server is not a bounce",
        )
        # a second mailing refused the same way counts a second soft bounce
        _mailing, traces = self._send([full])
        self.assertEqual(traces[full].address_action, "Soft bounce 2 of 3.")

    @users("user_marketing")
    def test_retry_after_a_refusal_that_blocked(self):
        """The address blocked by its own refusal stays a permanent failure on retry (not
        "blocked since"); the temporary failure is sent again."""
        mailing, traces = self._send(["gone@nouser.example", "later@full.example"])
        self.smtpd.handler.rules.pop("full.example", None)
        self.addCleanup(
            self.smtpd.handler.rules.__setitem__, "full.example", DEFAULT_RULES["full.example"]
        )
        action = mailing.action_retry_failed()
        self.assertIn(
            "Temporary failures sent again: 1; permanent failures, not retried: 1; "
            "recipients blocked since, not retried: 0.",
            action["params"]["message"],
        )
        self.assertEqual(traces["gone@nouser.example"].trace_status, "error")

    def test_document_email_refused_at_sending(self):
        """Marco's invoice e-mail (here: a message on his contact) refused with 550 5.1.1:
        blocked as a hard bounce, and the failure shown on the document says so."""
        marco = self.env["res.partner"].create(
            {"name": "Marco Bianchi", "email": "marco.bianchi@nouser.example"}
        )
        message = self.send_document_email(marco, marco)
        notification = message.notification_ids.filtered(lambda n: n.res_partner_id == marco)
        self.assertEqual(notification.notification_status, "exception")
        self.assertIn(
            "marco.bianchi@nouser.example: Blocked: hard bounce.", notification.failure_reason
        )
        block = self._block("marco.bianchi@nouser.example")
        self.assertEqual(block.block_reason, "hard_bounce")
        self.assertEqual(block.bounce_event_id.source, "refusal")
        self.assertEqual(block.block_message_id, message.message_id)
        self.assertFalse(block.block_mailing_id)
        # the sent e-mails log's row of the document e-mail says it, as a mailing's does
        log = self.env["mail.sent.log"].sudo()
        row = log.search(
            [("mail_message_id", "=", message.id), ("email", "=", marco.email_normalized)]
        )
        self.assertEqual(row.state, "failed")
        self.assertEqual(row.address_action, "Blocked: hard bounce.")
