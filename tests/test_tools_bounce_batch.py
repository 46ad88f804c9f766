"""Set-based bounce application, the parts without a database: matching a batch to the
traces read once, counter statements touching an address once, one block per address,
core's automatic blacklist rule, the Message-IDs a bounce answers."""

from datetime import datetime
from datetime import timedelta
from email import message_from_bytes
from email import policy

from ..tools import bounce_batch
from ..tools.bounce_batch import TraceRow


def test_pick_trace_most_recent_of_the_recipient():
    rows = [
        TraceRow(10, "Ann@Example.com", "<a@odoo>"),
        TraceRow(12, "ann@example.com", "<a@odoo>"),
        TraceRow(11, "bob@example.com", "<a@odoo>"),
        TraceRow(13, "ann@example.com", "<other@odoo>"),
    ]
    assert bounce_batch.pick_trace(rows, ["<a@odoo>"], "ann@example.com") == 12
    assert bounce_batch.pick_trace(rows, ["<a@odoo>"], "ANN@example.com") == 12, "any case"
    assert bounce_batch.pick_trace(rows, ["<a@odoo>"], "bob@example.com") == 11
    assert bounce_batch.pick_trace(rows, ["<a@odoo>"], "") == 12, "no recipient: any e-mail"
    assert bounce_batch.pick_trace(rows, ["<a@odoo>", "<other@odoo>"], "ann@example.com") == 13
    assert bounce_batch.pick_trace(rows, ["<none@odoo>", ""], "ann@example.com") == 0
    assert bounce_batch.pick_trace([], ["<a@odoo>"], "ann@example.com") == 0


def test_counter_rounds_touch_an_address_once_each():
    increments = [("a", "m:1"), ("b", "m:1"), ("a", "m:2"), ("c", "m:1"), ("a", "m:3")]
    rounds = bounce_batch.counter_rounds(increments)
    assert rounds == [
        [(0, "a", "m:1"), (1, "b", "m:1"), (3, "c", "m:1")],
        [(2, "a", "m:2")],
        [(4, "a", "m:3")],
    ]
    for round_ in rounds:
        emails = [email for _index, email, _source in round_]
        assert len(emails) == len(set(emails))
    assert sorted(i for round_ in rounds for i, _e, _s in round_) == list(range(5))
    assert bounce_batch.counter_rounds([]) == []


def test_first_per_address_keeps_the_first_request():
    requests = [("a", 1, "hard"), ("b", 2, "soft"), ("a", 3, "complaint"), ("", 4, "hard")]
    assert bounce_batch.first_per_address(requests) == [("a", 1, "hard"), ("b", 2, "soft")]


def test_core_blacklist_rule():
    now = datetime(2026, 12, 3, 12, 0)
    spread = now - timedelta(days=8)
    assert bounce_batch.core_blacklist_due(5, spread, now, [5])
    assert bounce_batch.core_blacklist_due(5, spread, now, []), "no contact: the traces decide"
    assert not bounce_batch.core_blacklist_due(4, spread, now, [9]), "too few bounces"
    assert not bounce_batch.core_blacklist_due(5, now - timedelta(days=6), now, [5]), "in a week"
    assert not bounce_batch.core_blacklist_due(5, spread, now, [2, 4]), "contacts bounced less"


def test_bounced_message_ids_as_core_reads_them():
    raw = (
        b"From: MAILER-DAEMON@mx.example\r\nTo: bounce@odoo.example\r\n"
        b"In-Reply-To: <reply@odoo>\r\nReferences: <ref1@odoo>\r\n <ref2@odoo>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; ann@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-Id: <sent@odoo>\r\n"
        b"To: ann@example.com\r\n\r\n--B--\r\n"
    )
    message = message_from_bytes(raw, policy=policy.SMTP)
    assert bounce_batch.bounced_message_ids(
        message, str(message["In-Reply-To"]), str(message["References"])
    ) == ["<sent@odoo>", "<reply@odoo>", "<ref1@odoo>", "<ref2@odoo>"]
    bare = message_from_bytes(b"From: x@example.com\r\n\r\nhello\r\n", policy=policy.SMTP)
    assert bounce_batch.bounced_message_ids(bare) == []
