"""The whole bounce corpus (tests/bounces: flufl.bounce's samples and the handmade ones)
fed through the real mail gateway (``message_process``), as fetchmail hands messages of
the bounce mailbox to Odoo: every message gives at least one logged event, nothing
raises, nothing is lost, and each handmade sample gives the expected recipients and
kinds."""

import json
import re
from pathlib import Path

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import DeliveryCommon

CORPUS = Path(__file__).resolve().parent / "bounces"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
HEADER_END = re.compile(rb"\r?\n\r?\n")
TO_HEADER = re.compile(rb"^To:.*(?:\r?\n[ \t].*)*\r?\n", re.IGNORECASE | re.MULTILINE)


def _expected_value(spec, recipient):
    """The expected kind of ``recipient`` (None when the file does not say)."""
    if isinstance(spec, dict):
        return spec.get(recipient)
    return spec


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestBounceGatewayCorpus(DeliveryCommon):
    def _to_bounce_alias(self, raw):
        """``raw`` with its To header replaced by the bounce alias, where the mailbox
        delivers it (the rest of the message is untouched, byte for byte)."""
        end = HEADER_END.search(raw)
        split = end.start() if end else len(raw)
        headers = TO_HEADER.sub(b"", raw[:split] + b"\n")[:-1]
        return b"To: " + self.bounce_address.encode() + b"\n" + headers + raw[split:]

    @mute_logger(
        "odoo.addons.mail.models.mail_thread",
        "odoo.addons.mass_mailing_delivery.models.mail_bounce_event.event",
        "odoo.addons.mass_mailing_delivery.tools.bounce",
    )
    def test_every_corpus_message_through_the_gateway(self):
        self.assertGreaterEqual(len(EXPECTED), 150)
        mismatches = []
        for name, expected in sorted(EXPECTED.items()):
            with self.subTest(sample=name):
                events = self.receive(self._to_bounce_alias((CORPUS / name).read_bytes()))
                self.assertTrue(events, f"{name}: the message was logged")
                for event in events.filtered(lambda e: e.kind == "unknown"):
                    self.assertTrue(event.raw_attachment_id.raw, f"{name}: kept for inspection")
                if not name.startswith("handmade/"):
                    continue
                # handmade samples are exact: each stands for a format we must read
                got = {(event.recipient or "", event.kind) for event in events}
                for recipient in expected["recipients"]:
                    want = _expected_value(expected.get("kind"), recipient)
                    kinds = {kind for email, kind in got if email == recipient}
                    if not kinds or (want and want not in kinds):
                        mismatches.append(f"{name}: {recipient} expected {want}, got {got}")
        self.assertFalse(mismatches, "\n".join(mismatches))

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_corpus_bounce_updates_trace_partner_and_blacklist(self):
        """A real provider's DSN (Amazon SES, 5.1.1) answering a real sent mailing."""
        raw = (CORPUS / "handmade/amazon_ses_bounce.eml").read_bytes()
        email = EXPECTED["handmade/amazon_ses_bounce.eml"]["recipients"][0]
        partner = self.create_partners([email])
        mailing = self.create_partner_mailing(partner)
        mailing.action_launch()
        trace = self.send_mailing(mailing)
        self.assertEqual(trace.trace_status, "sent")

        events = self.receive(self._to_bounce_alias(raw))

        self.assertEqual(events.mapped("kind"), ["hard"])
        self.assertEqual(events.trace_id, trace, "matched by recipient and recency")
        self.assertEqual(trace.trace_status, "bounce")
        self.assertEqual(trace.delivery_error_category, "recipient_unknown")
        self.assertEqual(partner.message_bounce, 1)
        self.assertTrue(self.env["mail.blacklist"].sudo().search([("email", "=", email)]))
