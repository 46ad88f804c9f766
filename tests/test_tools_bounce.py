"""The bounce and complaint parser (``tools/bounce/``), without a database: the corpus of
``tests/bounces`` (flufl.bounce's samples and handmade ones) against ``expected.json``, the
command line, fuzzed input and huge messages.

``expected.json`` maps a corpus file to ``recipients`` (the addresses the results must name;
[] for none), and optionally ``kind`` and ``category``: one value for every result, or a dict
recipient -> value for a report with mixed outcomes.
"""

import json
import random
import subprocess
import sys
import time
from email import message_from_bytes
from email import policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ..tools import bounce
from ..tools import delivery_errors

HERE = Path(__file__).resolve().parent
ADDON_ROOT = HERE.parent
CORPUS = HERE / "bounces"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
CORPUS_FILES = sorted(
    path.relative_to(CORPUS).as_posix()
    for path in CORPUS.glob("*/*")
    if path.suffix in (".txt", ".eml")
)
RESULT_FIELDS = {
    "recipient",
    "final_recipient",
    "kind",
    "smtp_code",
    "status",
    "diagnostic",
    "reporting_mta",
    "remote_mta",
    "original_message_id",
    "feedback_type",
    "category",
    "permanence",
    "smtp_command",
    "reader",
}
CLI_KEYS = {"file", "recipient", "kind", "category", "smtp_code", "status", "diagnostic"}


def _raw(name):
    """The bytes of corpus file ``name`` (path relative to ``tests/bounces``)."""
    return (CORPUS / name).read_bytes()


def _parse(name):
    return bounce.parse_bounce(_raw(name))


def assert_well_formed(results):
    """Fail unless ``results`` is a non-empty list of well-formed :class:`BounceResult`.

    :param results: what ``parse_bounce`` returned
    """
    assert isinstance(results, list)
    assert results
    for result in results:
        assert isinstance(result, bounce.BounceResult)
        data = result.as_dict()
        assert set(data) == RESULT_FIELDS
        assert result.kind in bounce.KINDS
        assert result.recipient == result.recipient.lower()
        assert result.recipient == "" or "@" in result.recipient
        assert result.smtp_code is None or isinstance(result.smtp_code, int)
        assert result.status is None or bounce.STATUS_RE.fullmatch(result.status)
        assert isinstance(result.diagnostic, str)
        assert len(result.diagnostic) <= bounce.MAX_DIAGNOSTIC
        for name in ("reporting_mta", "remote_mta", "original_message_id", "feedback_type"):
            assert isinstance(data[name], str)
        assert isinstance(result.category, str) and result.category
        assert result.permanence in ("permanent", "temporary", "none")
        json.dumps(data)


def _expected_value(spec, recipient):
    """The expected kind/category of ``recipient`` (None when the file does not say)."""
    if isinstance(spec, dict):
        return spec.get(recipient)
    return spec


def _check(name, results):
    """``(recipients_ok, kind_ok, category_ok)`` of one file; None where nothing is expected."""
    expected = EXPECTED[name]
    found = {result.recipient for result in results if result.recipient}
    recipients_ok = found == set(expected["recipients"])
    verdicts = []
    for key in ("kind", "category"):
        if key not in expected:
            verdicts.append(None)
            continue
        checked = [
            (getattr(result, key), _expected_value(expected[key], result.recipient))
            for result in results
        ]
        verdicts.append(all(got == want for got, want in checked if want is not None))
    return recipients_ok, verdicts[0], verdicts[1]


# ---- corpus ----


def test_corpus_is_complete():
    assert len(CORPUS_FILES) >= 150
    assert set(CORPUS_FILES) == set(EXPECTED), "every corpus file has its expectation"
    assert (CORPUS / "flufl" / "README").is_file(), "flufl.bounce's licence notice is kept"


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_file_parses(name):
    assert_well_formed(_parse(name))


def test_corpus_accuracy():
    """Recipients right on >= 95 % of the files, kind and category on >= 90 %."""
    scores = {"recipients": [], "kind": [], "category": []}
    misses = []
    for name in CORPUS_FILES:
        results = _parse(name)
        verdicts = dict(zip(scores, _check(name, results), strict=True))
        for key, verdict in verdicts.items():
            if verdict is not None:
                scores[key].append(verdict)
            if verdict is False:
                got = [(r.recipient, r.kind, r.category) for r in results]
                misses.append(f"{name}: {key} {got}")
    rates = {key: sum(values) / len(values) for key, values in scores.items()}
    print(
        "bounce corpus accuracy: "
        + ", ".join(f"{key} {rates[key]:.1%} of {len(scores[key])}" for key in scores)
    )
    print("\n".join(misses))
    assert rates["recipients"] >= 0.95, misses
    assert rates["kind"] >= 0.90, misses
    assert rates["category"] >= 0.90, misses


@pytest.mark.parametrize("name", [name for name in CORPUS_FILES if name.startswith("handmade/")])
def test_handmade_sample(name):
    """The handmade samples are exact: each one stands for a format we must read."""
    assert _check(name, _parse(name)) in {
        (True, True, True),
        (True, True, None),
        (True, None, None),
    }


def test_delayed_is_never_a_bounce():
    for name in CORPUS_FILES:
        if EXPECTED[name].get("kind") == "delayed":
            assert {result.kind for result in _parse(name)} == {"delayed"}, name
    delayed = [r for r in _parse("handmade/rfc3464_multi_mixed.eml") if r.kind == "delayed"]
    assert [r.recipient for r in delayed] == ["later@example.net"]


def test_dsn_fields():
    [result] = _parse("handmade/rfc3464_hard_511.eml")
    assert result.recipient == "gone@example.com"
    assert (result.kind, result.smtp_code, result.status) == ("hard", 550, "5.1.1")
    assert "User unknown" in result.diagnostic
    assert result.reporting_mta == "mail.odoo.example.org"
    assert result.remote_mta == "mx1.example.com"
    assert result.original_message_id == (
        "<20261110093000.4521.mailing-7-trace-1001@odoo.example.org>"
    )
    assert (result.category, result.permanence) == ("recipient_unknown", "permanent")


def test_multi_recipient_dsn():
    results = {r.recipient: r for r in _parse("handmade/rfc3464_multi_mixed.eml")}
    assert {email: r.kind for email, r in results.items()} == {
        "nobody@example.com": "hard",
        "later@example.net": "delayed",
        "fine@example.org": "delivered",
    }
    assert results["nobody@example.com"].status == "5.1.1"


def test_over_quota_is_soft_even_with_5xx():
    [result] = _parse("handmade/gmail_522.eml")
    assert (result.smtp_code, result.status) == (552, "5.2.2")
    assert (result.kind, result.category) == ("soft", "mailbox_full")


def test_kind_follows_the_given_registry():
    """The caller's registry (e.g. the database's) classifies, and so refines the kind."""
    raw = _raw("handmade/rfc3464_hard_511.eml")
    rule = delivery_errors.Rule(
        key="7", category="mailbox_full", permanence="temporary", diagnostic_regex="User unknown"
    )
    [result] = bounce.parse_bounce(raw, matcher=delivery_errors.Matcher([rule]))
    assert (result.kind, result.category, result.permanence) == (
        "soft",
        "mailbox_full",
        "temporary",
    )
    [result] = bounce.parse_bounce(raw, matcher=delivery_errors.Matcher([]))
    assert (result.kind, result.category) == ("hard", "recipient_unknown"), "RFC 3463 fallback"
    assert bounce.failure_kind("authentication", "permanent", "5.7.26", 550) == "soft"
    # hard only on evidence about the address: an unexplained 5xx failure is soft
    assert bounce.failure_kind("unknown", "permanent", None, 554) == "soft"
    assert bounce.failure_kind("sender_blocked", "permanent", "5.7.1", 550) == "soft"
    for category in ("recipient_unknown", "domain_unknown", "mailbox_disabled", "mailbox_moved"):
        assert bounce.failure_kind(category, "permanent", "5.0.0", 550) == "hard"
    assert bounce.failure_kind("unknown", "temporary") == "soft"


@pytest.mark.parametrize(
    ("name", "recipient", "trace", "feedback_type"),
    [
        ("handmade/arf_yahoo_fbl.eml", "annoyed.reader@yahoo.com", 2001, "abuse"),
        ("handmade/arf_aol_redacted.eml", "listener@aol.com", 2002, "abuse"),
        ("handmade/arf_microsoft_jmrp.eml", "complainer@hotmail.com", 2003, "abuse"),
        ("handmade/arf_headers_only_fraud.eml", "victim@isp.example", 2004, "fraud"),
        ("handmade/amazon_ses_complaint.eml", "grumpy@example.com", 2005, "abuse"),
    ],
)
def test_arf_complaint(name, recipient, trace, feedback_type):
    [result] = _parse(name)
    assert (result.recipient, result.kind, result.category) == (recipient, "complaint", "complaint")
    assert result.feedback_type == feedback_type
    assert result.original_message_id == (
        f"<20261110093000.4521.mailing-7-trace-{trace}@odoo.example.org>"
    )


def test_redacted_complaint_keeps_the_message_id():
    [result] = _parse("handmade/arf_aol_redacted_no_rcpt.eml")
    assert (result.recipient, result.kind) == ("", "complaint")
    assert result.original_message_id.endswith("trace-2002@odoo.example.org>")


def test_auto_replies():
    for name in CORPUS_FILES:
        if "autoreply" in name:
            [result] = _parse(name)
            assert (result.kind, result.category) == ("auto_reply", "auto_reply"), name
            assert result.original_message_id.startswith("<20261110093000.4521"), name


def test_unreadable_messages_are_unknown():
    for raw in (b"", b"\x00" * 10, b"garbage without headers", "é".encode("latin-1") * 9, None, 42):
        [result] = bounce.parse_bounce(raw)
        assert (result.recipient, result.kind) == ("", "unknown")


def test_message_object_and_str_input():
    raw = _raw("handmade/gmail_511.eml")
    expected = [r.as_dict() for r in bounce.parse_bounce(raw)]
    message = message_from_bytes(raw, policy=policy.SMTP)
    assert [r.as_dict() for r in bounce.parse_bounce(message)] == expected
    assert [r.as_dict() for r in bounce.parse_bounce(raw.decode())] == expected


def test_is_bounce_or_report():
    for name in ("rfc3464_hard_511", "arf_yahoo_fbl", "qmail_nomailbox", "exchange_legacy_text"):
        assert bounce.is_bounce_or_report(_raw(f"handmade/{name}.eml")), name
    for name in ("autoreply_en", "not_a_bounce_reply", "broken_garbage", "broken_empty"):
        assert not bounce.is_bounce_or_report(_raw(f"handmade/{name}.eml")), name


# ---- huge messages ----


def _huge_dsn(size):
    """A DSN followed by an attachment making it ``size`` bytes long."""
    head = _raw("handmade/rfc3464_hard_511.eml").replace(b"\r\n", b"\n")
    head = head[: head.rindex(b"--=_dsn_boundary_1--")]
    filler = b"--=_dsn_boundary_1\nContent-Type: application/octet-stream\n\n"
    line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\n"
    return head + filler + line * (size // len(line)) + b"--=_dsn_boundary_1--\n"


def test_twelve_megabytes():
    raw = _huge_dsn(12 * 1024 * 1024)
    assert len(raw) > bounce.MAX_SIZE
    started = time.perf_counter()
    results = bounce.parse_bounce(raw)
    assert time.perf_counter() - started < 30
    assert_well_formed(results)
    assert [(r.recipient, r.kind) for r in results] == [("gone@example.com", "hard")]
    # nothing usable within the first max_size bytes: unknown
    junk = b"Subject: x\n\n" + b"\xff\xfe garbage " * (12 * 1024 * 1024 // 11)
    [result] = bounce.parse_bounce(junk)
    assert result.kind == "unknown"
    [result] = bounce.parse_bounce(_raw("handmade/rfc3464_hard_511.eml"), max_size=200)
    assert result.kind == "unknown"


# ---- command line ----


def test_cli_on_the_whole_corpus():
    files = [f"tests/bounces/{name}" for name in CORPUS_FILES] + ["tests/bounces/no-such-file"]
    process = subprocess.run(
        [sys.executable, "-m", "tools.bounce", *files],
        cwd=ADDON_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert process.returncode == 0
    assert "Traceback" not in process.stdout + process.stderr
    rows = [json.loads(line) for line in process.stdout.splitlines()]
    assert {row["file"] for row in rows} == set(files)
    for row in rows:
        assert CLI_KEYS <= set(row), row
        assert row["kind"] in bounce.KINDS
    [missing] = [row for row in rows if row["file"].endswith("no-such-file")]
    assert missing["kind"] == "unknown" and missing["error"]
    assert len(rows) >= len(CORPUS_FILES)


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_cli_reads_an_mbox_file_message_by_message(tmp_path, ending):
    """Two bounces in one mbox file (envelope lines "From sender date") give the
    recipients of both, whatever the line endings; a "From " line inside a message does
    not split it."""
    first = _raw("handmade/rfc3464_hard_511.eml").replace(b"\r\n", b"\n")
    second = _raw(CORPUS_FILES[0]).replace(b"\r\n", b"\n")
    envelope = b"From MAILER-DAEMON  Thu Jul  2 12:05:05 2020\n"
    body_line = b"\nFrom the desk of nobody\n"
    mbox = tmp_path / "bounces.mbox"
    data = envelope + first + body_line + b"\n" + envelope + second
    mbox.write_bytes(data.replace(b"\n", ending))
    process = subprocess.run(
        [sys.executable, "-m", "tools.bounce", str(mbox)],
        cwd=ADDON_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = [json.loads(line) for line in process.stdout.splitlines()]
    expected = [result.recipient for raw in (first, second) for result in bounce.parse_bounce(raw)]
    assert [row["recipient"] for row in rows] == expected
    assert len(expected) >= 2


# ---- fuzzing ----


CHARSETS = ["utf-8", "x-unknown", "iso-8859-1", "utf-7", "", "\xff\xfe", "gb2312", "us-ascii"]
SAMPLES = {name: _raw(name) for name in CORPUS_FILES}


def _mutate(raw, operation, seed, value):
    """``raw`` damaged by ``operation``: truncate, flip, header, charset or base64."""
    rng = random.Random(seed)
    if operation == "truncate":
        return raw[: rng.randrange(len(raw) + 1)]
    if operation == "flip":
        data = bytearray(raw)
        for _ in range(rng.randrange(1, 64)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if operation == "header":
        name = rng.choice(
            [b"From", b"Subject", b"Content-Type", b"Final-Recipient", b"Action", b"Status"]
        )
        lines = raw.split(b"\n")
        lines.insert(rng.randrange(len(lines) + 1), name + b": " + value)
        return b"\n".join(lines)
    if operation == "charset":
        charset = rng.choice(CHARSETS).encode("utf-8", "surrogateescape")
        return raw.replace(b"charset=", b"charset=" + charset + b"x", 3)
    return raw.replace(b"Content-Transfer-Encoding: 7bit", b"Content-Transfer-Encoding: base64")


@settings(
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(CORPUS_FILES),
    operation=st.sampled_from(["truncate", "flip", "header", "charset", "base64"]),
    seed=st.integers(0, 2**32),
    value=st.binary(max_size=200),
)
def test_fuzz_mutated_samples(name, operation, seed, value):
    assert_well_formed(bounce.parse_bounce(_mutate(SAMPLES[name], operation, seed, value)))


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=2000) | st.text(max_size=2000))
def test_fuzz_random_input(raw):
    assert_well_formed(bounce.parse_bounce(raw))


@pytest.mark.parametrize("name", [name for name in CORPUS_FILES if name.startswith("sisimai/")])
def test_fuzz_every_reader_sample(name):
    """Every real sample of the readers (so every reader of ``READERS``), damaged the same
    ways with fixed seeds: the sampling of the test above may miss a reader's samples."""
    for operation in ("truncate", "flip", "header", "charset", "base64"):
        for seed in range(8):
            raw = _mutate(SAMPLES[name], operation, seed, b"\xff<x@y>\r\n")
            assert_well_formed(bounce.parse_bounce(raw))


# ---- readers of mail server families (tools/bounce/<family>.py) ----

SISIMAI_FILES = [name for name in CORPUS_FILES if name.startswith("sisimai/")]


def test_every_reader_has_two_real_samples():
    """Each reader of ``bounce.READERS`` reads at least two real bounces of ``sisimai/``."""
    read_by = {}
    for name in SISIMAI_FILES:
        for result in _parse(name):
            read_by.setdefault(result.reader, set()).add(name)
    for reader in bounce.READERS:
        assert len(read_by.get(reader.NAME, ())) >= 2, f"{reader.NAME}: {read_by.get(reader.NAME)}"


def test_readers_give_the_failed_command_and_the_server_words():
    [result] = _parse("sisimai/lhost-exim-01.eml")
    assert (result.reader, result.smtp_command, result.smtp_code, result.status) == (
        "exim",
        "MAIL",
        550,
        "5.7.0",
    )
    assert result.diagnostic.startswith("550 5.7.0 <shironeko@example.jp>... Please use the smtp")
    [result] = _parse("sisimai/lhost-domino-01.eml")
    assert result.diagnostic == (
        "User some.name (kijitora@example.jp) not listed in Domino Directory"
    )


def test_hard_only_on_evidence_about_the_address():
    """A refusal of the sender (MAIL FROM, 5.1.0 "sender rejected") is soft, a mailbox
    that moved (5.1.6) is hard."""
    kinds = {
        name: {(r.kind, r.category) for r in _parse(name)}
        for name in (
            "sisimai/lhost-exim-01.eml",
            "sisimai/rhost-cox-01.eml",
            "sisimai/lhost-postfix-16.eml",
        )
    }
    assert kinds == {
        "sisimai/lhost-exim-01.eml": {("soft", "sender_blocked")},
        "sisimai/rhost-cox-01.eml": {("soft", "sender_rejected")},
        "sisimai/lhost-postfix-16.eml": {("hard", "mailbox_moved")},
    }


@pytest.mark.parametrize("name", [*SISIMAI_FILES, "flufl/postfix_01.txt", "flufl/qmail_01.txt"])
def test_crlf_and_cr_line_endings_give_the_same_result(name):
    """The same message with CRLF (Windows, SMTP) or CR (old Mac) line endings."""
    raw = _raw(name).replace(b"\r\n", b"\n")
    expected = [result.as_dict() for result in bounce.parse_bounce(raw)]
    for ending in (b"\r\n", b"\r"):
        got = [result.as_dict() for result in bounce.parse_bounce(raw.replace(b"\n", ending))]
        assert got == expected, ending


def test_interscan_transcript_and_own_words():
    """InterScan MSS: the next hop's reply of its transcript; its own "Unable to deliver"
    is about the address only when it adds "Please check if address is correct"."""
    [result] = _parse("sisimai/lhost-trendmicro-01.eml")
    assert (result.reader, result.smtp_command, result.smtp_code, result.status) == (
        "interscan",
        "RCPT",
        550,
        "5.1.1",
    )
    assert result.kind == "hard"
    [result] = _parse("sisimai/lhost-trendmicro-02.eml")
    assert (result.kind, result.category) == ("hard", "recipient_unknown")
    [result] = _parse("sisimai/lhost-trendmicro-03.eml")
    assert (result.reader, result.kind) == ("interscan", "soft")


def test_unknown_user_at_the_end_of_data_is_not_about_the_address():
    """NTT docomo refuses with "550 Unknown user" (5.0.0) only after DATA, the recipient
    having been accepted at RCPT TO: its receive filter, soft."""
    for name in ("sisimai/rhost-nttdocomo-02.eml", "sisimai/rhost-nttdocomo-03.eml"):
        [result] = _parse(name)
        assert (result.smtp_command, result.kind, result.category) == (
            "DATA",
            "soft",
            "content_rejected",
        )
    # Sendmail pipelining: "<<< 550 5.1.1 ... User Unknown" after ">>> DATA", followed by
    # DATA's own "503 Need RCPT", answered RCPT TO: evidence about the address
    [result] = _parse("sisimai/lhost-sendmail-03.eml")
    assert (result.smtp_command, result.status, result.kind) == ("RCPT", "5.1.1", "hard")


def test_v5sendmail_transcript():
    """Sendmail 5: the remote reply (<<<) and command (>>>) belong to the next recipient
    line; a transcript with no recipient line is about the copied message's recipient."""
    results = {r.recipient: r for r in _parse("sisimai/lhost-v5sendmail-07.eml")}
    assert {r.reader for r in results.values()} == {"v5sendmail"}
    refused = results["kijitora@example.org"]
    assert (refused.smtp_command, refused.smtp_code, refused.kind) == ("MAIL", 501, "soft")
    assert "open relay" in refused.diagnostic
    unknown = results["hachiware@example.edu"]
    assert (unknown.smtp_command, unknown.kind, unknown.category) == (
        "RCPT",
        "hard",
        "recipient_unknown",
    )
    [result] = _parse("sisimai/lhost-v5sendmail-01.eml")
    assert (result.recipient, result.kind, result.category) == (
        "kijitora@example.com",
        "soft",
        "expired",
    )


def test_dsn_quoted_whole_in_a_text_part():
    """A helpdesk (OCN) forwarding a Postfix DSN inline, after a separator line and the mbox
    "From MAILER-DAEMON" line: the quoted DSN is read, its original recipient found."""
    [result] = _parse("sisimai/lhost-postfix-49.eml")
    assert (result.reader, result.recipient, result.status, result.kind) == (
        "rfc3464",
        "toraneko@neko.example.co.jp",
        "4.0.0",
        "soft",
    )
    [result] = _parse("sisimai/lhost-postfix-50.eml")
    assert result.recipient == "soto-neko-nyaan@ntt.example.com"
    assert "refused to talk to" in result.diagnostic


def test_verizon_text_and_picture_bounces():
    """vtext.com: the reply below "Error message below:" for the envelope's RCPT TO (its
    multipart/alternative the email package cannot split); vzwpix.com: "No valid
    recipients for this MM" for the To of the original."""
    [result] = _parse("sisimai/lhost-verizon-02.eml")
    assert (result.reader, result.recipient, result.smtp_code, result.kind) == (
        "verizon",
        "may-be-straycat-nyaaaaaan@vtext.com",
        550,
        "hard",
    )
    [result] = _parse("sisimai/lhost-verizon-01.eml")
    assert (result.reader, result.recipient, result.category) == (
        "verizon",
        "0000000000@vzwpix.com",
        "recipient_unknown",
    )


def test_mailmarshal_reply_recipients_and_mtas():
    """MailMarshal: the reply after "Could not be delivered because of" for each recipient
    listed after "The following recipients were affected:" (a CRLF sample among them)."""
    for name, recipient in (
        ("sisimai/lhost-mailmarshal-02.eml", "kijitora@nyaan.example.com"),
        ("sisimai/lhost-mailmarshalsmtp-01.eml", "dummyuser@blabla.xxxxxxxxxxxx.com"),
    ):
        [result] = _parse(name)
        assert (result.reader, result.recipient, result.smtp_code, result.status) == (
            "mailmarshal",
            recipient,
            550,
            "5.1.1",
        )
        assert result.kind == "hard"
    [result] = _parse("sisimai/lhost-mailmarshal-02.eml")
    assert (result.remote_mta, result.reporting_mta) == ("203.0.113.2", "rr1.example.com")


def test_a_quoted_message_id_is_no_recipient():
    """The fallback reads the addresses of the report text, but a Message-ID quoted there
    (shaped like an address) names no recipient."""
    for name, recipient in (
        ("sisimai/lhost-zoho-05.eml", "kijitora@7jo.example.jp"),
        ("sisimai/rfc3464-06.eml", "kijitora@example.net"),
    ):
        assert [result.recipient for result in _parse(name)] == [recipient]


def test_dsn_blocks_without_blank_line_and_final_recipient():
    """AOL writes its recipient blocks without the blank line between them: one result each;
    a forwarded address is named as sent (Original-Recipient), its Final-Recipient beside."""
    results = {r.recipient: r for r in _parse("sisimai/rhost-aol-03.eml")}
    assert (results["sabineko@example.jp"].kind, results["mikeneko@example.jp"].kind) == (
        "soft",
        "hard",
    )
    [result] = _parse("sisimai/lhost-postfix-49.eml")
    assert (result.recipient, result.final_recipient) == (
        "toraneko@neko.example.co.jp",
        "kijitora-neko-nyaan@ntt.example.ne.jp",
    )


def test_delivery_report_without_recipient_is_no_auto_reply():
    """Postfix's "Delivery report unavailable" (Auto-Submitted, no recipient block) stays an
    unreadable bounce of the original's recipient, never an automatic reply."""
    [result] = _parse("sisimai/lhost-postfix-64.eml")
    assert (result.recipient, result.kind) == ("xxxx@wanadoo.fr", "unknown")


def test_microsoft_jmrp_complaint():
    """Outlook.com's JMRP report (no ARF): the complaint of X-HmXmrOriginalRecipient."""
    [result] = _parse("sisimai/arf-22.eml")
    assert (result.recipient, result.kind, result.reader) == (
        "kijitora@example.com",
        "complaint",
        "jmrp",
    )


def test_dragonfly_and_x3_readers():
    """DragonFly Mail Agent: the remote reply and the refused command below the recipient's
    line; X3 gateways: the "Technical details" paragraph, an aborted delivery expired."""
    [result] = _parse("sisimai/lhost-dragonfly-01.eml")
    assert (result.reader, result.smtp_command, result.status) == ("dragonfly", "DATA", "5.7.26")
    [result] = _parse("sisimai/lhost-dragonfly-29.eml")
    assert (result.kind, result.category) == ("soft", "expired")
    [result] = _parse("sisimai/lhost-x3-01.eml")
    assert (result.reader, result.smtp_command, result.kind) == ("x3", "RCPT", "hard")
    [result] = _parse("sisimai/lhost-x3-02.eml")
    assert (result.kind, result.category) == ("soft", "expired")


def test_delivery_status_left_in_a_text_part():
    """A boundary line the multipart cannot be split at (indented, or no multipart header):
    the delivery-status fields left in the text are read as RFC 3464 all the same, each
    recipient with its own block's words."""
    results = {r.recipient: r for r in _parse("sisimai/rfc3464-35.eml")}
    assert set(results) == {
        "kijitora@nyaan.example.com",
        "sabatora@cat.example.net",
        "mikeneko@neko.example.or.jp",
    }
    assert results["sabatora@cat.example.net"].kind == "delayed"
    assert results["mikeneko@neko.example.or.jp"].kind == "hard"
    [result] = _parse("sisimai/lhost-sendmail-54.eml")
    assert (result.recipient, result.status, result.category) == (
        "kijitora@neko.example.jp",
        "4.4.7",
        "expired",
    )


def test_bounce_attached_whole_by_a_gateway():
    """A gateway (X5) that passes another server's bounce on as its "original": the attached
    report tells the reason its own text leaves out."""
    [result] = _parse("sisimai/lhost-x5-01.eml")
    assert (result.recipient, result.kind, result.status) == (
        "kijitora@neko.example.org",
        "hard",
        "5.1.1",
    )


def test_local_program_exit_status_is_a_mailer_error():
    """Sendmail's ``Diagnostic-Code: X-Unix; 255``: the local delivery program's exit status,
    a mail system error (not an SMTP reply code 255)."""
    [result] = _parse("sisimai/lhost-sendmail-18.eml")
    assert (result.smtp_code, result.category, result.kind) == (None, "server_error", "soft")


def _fields(result):
    return (result.reader, result.kind, result.category, result.smtp_command, result.status)


def test_qmail_reads_the_step_that_failed_and_the_remote_reply():
    """qmail names the SMTP step in its own words ("does not like recipient": RCPT, "my name
    was rejected": HELO); the server's words follow "Remote host said:"; a local delivery
    gives qmail's own sentence and status "(#5.1.1)"."""
    results = {r.recipient: r for r in _parse("sisimai/lhost-qmail-17.eml")}
    unknown = results["userunknown@libsisimai.net"]
    assert _fields(unknown) == ("qmail", "hard", "recipient_unknown", "RCPT", "5.1.1")
    assert unknown.diagnostic.startswith("550 5.1.1 <userunknown@libsisimai.net>: Recipient")
    assert (unknown.remote_mta, unknown.reporting_mta) == ("192.0.2.25", "nq.example.jp")
    full = results["mailboxfull@libsisimai.net"]
    assert _fields(full) == ("qmail", "soft", "mailbox_full", "RCPT", "5.2.2")
    [helo] = _parse("sisimai/lhost-qmail-04.eml")
    assert _fields(helo) == ("qmail", "soft", "sender_blocked", "HELO", "5.0.0")
    assert helo.diagnostic == "501 5.0.0 Invalid domain name"
    [local] = _parse("sisimai/lhost-qmail-21.eml")
    assert _fields(local) == ("qmail", "hard", "recipient_unknown", "", "5.1.1")
    assert local.diagnostic == "Sorry, no mailbox here by that name. (#5.1.1)"
    # "(#4.4.3)I'm not going to try again": qmail-send's words joined to the reason
    [ldap] = _parse("sisimai/lhost-qmail-05.eml")
    assert (ldap.kind, ldap.status, ldap.diagnostic) == (
        "soft",
        "4.4.3",
        "Unable to contact LDAP server. (#4.4.3)",
    )


def test_qmail_builds_with_another_introduction():
    """A build that rewords the introduction (MessageLabs) keeps qmail's layout."""
    [result] = _parse("flufl/qmail_04.txt")
    assert _fields(result)[:4] == ("qmail", "hard", "recipient_unknown", "RCPT")
    assert result.diagnostic == "550 userx@example.au... No such user"


def test_opensmtpd_recipient_lines():
    """OpenSMTPD: one "address: reason" line per recipient; a warning is a delay."""
    results = {r.recipient: r for r in _parse("sisimai/lhost-opensmtpd-02.eml")}
    assert {r.reader for r in results.values()} == {"opensmtpd"}
    assert results["userunknown@example.jp"].diagnostic == (
        "550 5.1.1 <userunknown@example.jp>... User Unknown"
    )
    assert results["mailboxfull@example.jp"].category == "mailbox_full"
    [delayed] = _parse("sisimai/lhost-opensmtpd-04.eml")
    assert (delayed.reader, delayed.kind, delayed.category) == (
        "opensmtpd",
        "delayed",
        "network_error",
    )
    assert delayed.diagnostic == "Network error on destination MXs"


def test_zoho_error_code_fields_and_delay_warning():
    """Zoho Mail splits the reply in two ERROR_CODE fields; its delay warning names the
    recipient in brackets after "The following addresses had fatal errors"."""
    results = {r.recipient: r for r in _parse("sisimai/lhost-zoho-02.eml")}
    mikeneko = results["mikeneko@example.co.jp"]
    assert (mikeneko.reader, mikeneko.smtp_code, mikeneko.status) == ("zoho", 550, "5.2.1")
    assert mikeneko.diagnostic == "550 5.2.1 <mikeneko@example.co.jp>... User Unknown"
    assert results["sabineko@example.co.jp"].category == "mailbox_full"
    [delayed] = _parse("sisimai/lhost-zoho-04.eml")
    assert (delayed.reader, delayed.kind, delayed.smtp_code) == ("zoho", "delayed", 421)
    assert delayed.diagnostic == "421 Host not reachable."


def test_mimecast_items():
    """Mimecast: the "-- " items; the next server's reply ("additional information") is
    the diagnostic, not Mimecast's guess."""
    [result] = _parse("sisimai/lhost-mimecast-02.eml")
    assert (result.reader, result.recipient, result.status) == (
        "mimecast",
        "sabatora@example.net",
        "5.7.54",
    )
    assert result.diagnostic == "5.7.54 SMTP; Unable to relay recipient in non-accepted domain"
    [result] = _parse("sisimai/lhost-mimecast-01.eml")
    assert result.diagnostic.startswith("5.4.1 Recipient address rejected: Access denied.")


def test_rfc3464_status_comment_expired_action_and_greeting_refusal():
    """Three RFC 3464 variants: the server's words in the Status field's comment (Oracle
    Messaging Server), SendGrid's non-standard "Action: expired", and Sendmail's transcript
    where the reply follows "... while talking to" with no command sent (the greeting)."""
    [result] = _parse("sisimai/lhost-messagingserver-10.eml")
    assert (result.diagnostic, result.status, result.category) == (
        "host/domain does not accept mail",
        "5.1.10",
        "domain_unknown",
    )
    [result] = _parse("sisimai/lhost-sendgrid-03.eml")
    assert (result.kind, result.status, result.category) == ("soft", "4.4.7", "expired")
    [result] = _parse("sisimai/lhost-sendmail-16.eml")
    assert (result.smtp_command, result.kind, result.category) == (
        "CONNECT",
        "soft",
        "sender_blocked",
    )


def test_no_hard_verdict_from_a_delivery_program_or_an_access_denied():
    """procmail failing to create the mailbox file ("No such user" of its own setuid
    lookup) and Microsoft's "All recipient addresses rejected : Access denied" say nothing
    about the address: soft."""
    [result] = _parse("sisimai/lhost-postfix-01.eml")
    assert (result.kind, result.category) == ("soft", "server_error")
    [result] = _parse("sisimai/lhost-mfilter-04.eml")
    assert (result.kind, result.category) == ("soft", "policy_rejected")


def test_yahoo_command_in_brackets():
    """Yahoo! Mail: qmail's layout, the command in brackets after the reply ("[RCPT_TO]"),
    or the code written "550:" in later notices."""
    [result] = _parse("sisimai/lhost-yahoo-01.eml")
    assert _fields(result) == ("yahoo", "hard", "recipient_unknown", "RCPT", "5.1.1")
    assert result.diagnostic == "550 5.1.1 <kijitora@example.org>... User Unknown"
    [result] = _parse("sisimai/lhost-yahoo-08.eml")
    assert (result.reader, result.smtp_code, result.category) == ("yahoo", 550, "mailbox_full")


def test_amazon_workmail_fields_in_the_text():
    """Amazon WorkMail writes the delivery-status fields after "Technical report:" in its
    text part: read as a DSN, one recipient each."""
    [result] = _parse("sisimai/lhost-amazonworkmail-03.eml")
    assert (result.reader, result.status, result.smtp_code, result.category) == (
        "amazonworkmail",
        "5.3.5",
        550,
        "server_error",
    )
    assert result.reporting_mta.endswith("amazonses.com")
    [result] = _parse("sisimai/lhost-amazonworkmail-02.eml")
    assert (result.recipient, result.status) == ("sabineko@example.jp", "5.2.1")


def test_gmx_and_1und1_blocks():
    """GMX / 1&1: a quoted or bare address line, then "SMTP error from remote server after
    RCPT command" (or "for TEXT command": the data) and the reply, or "Reason:" and the
    service's own words."""
    results = {r.recipient: r for r in _parse("sisimai/lhost-gmx-03.eml")}
    mikeneko = results["mikeneko@example.co.jp"]
    assert _fields(mikeneko) == ("gmx", "hard", "recipient_unknown", "RCPT", "5.2.1")
    assert mikeneko.diagnostic == "5.2.1 <mikeneko@example.co.jp>... User Unknown"
    assert mikeneko.remote_mta == "mx.example.co.jp"
    assert results["sabineko@example.co.jp"].category == "mailbox_full"
    [result] = _parse("sisimai/lhost-gmx-04.eml")
    assert (result.kind, result.category, result.diagnostic) == (
        "soft",
        "expired",
        "delivery retry timeout exceeded",
    )
    [result] = _parse("sisimai/lhost-einsundeins-03.eml")
    assert (result.reader, result.smtp_command, result.smtp_code) == ("gmx", "DATA", 550)


def test_transcript_gives_the_command_pipelining_included():
    """Courier's and Sendmail's transcripts (">>>" sent, "<<<" received) tell the command a
    failure answered; with pipelining Sendmail shows only ">>> DATA", and the replies before
    the last one after it answered the RCPT TOs."""
    [result] = _parse("sisimai/lhost-courier-01.eml")
    assert (result.smtp_command, result.diagnostic) == (
        "RCPT",
        "550 5.1.1 <kijitora@example.co.jp>... User Unknown",
    )
    results = _parse("sisimai/lhost-sendmail-02.eml")
    assert {r.smtp_command for r in results} == {"RCPT"}
    assert len(results) == 2


def test_exchange_2007_text_notice():
    """Exchange Online without a delivery-status part: the reply after "Remote Server
    returned" below the recipient, in "Diagnostic information for administrators"."""
    [result] = _parse("sisimai/lhost-office365-01.eml")
    assert (result.reader, result.status, result.smtp_code, result.kind) == (
        "exchange2007",
        "5.1.10",
        550,
        "hard",
    )
    assert result.diagnostic.startswith("550 5.1.10 RESOLVER.ADR.RecipientNotFound;")
    assert result.reporting_mta == "FFFFFFFFFFFF.e0.prod.outlook.com"
    [result] = _parse("sisimai/lhost-office365-02.eml")
    assert (result.reader, result.diagnostic) == (
        "exchange2007",
        "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found",
    )


def test_imail_server_reason_lines_and_step_labels():
    """IMail Server: "reason: address" lines; after "undeliverable to", the reply follows a
    label naming the step ("Body of message generated response:": the data), its
    continuation codes ("550-") dropped."""
    [result] = _parse("sisimai/lhost-imailserver-01.eml")
    assert (result.reader, result.diagnostic, result.kind) == (
        "imailserver",
        "Unknown user: kijitora@example.com",
        "hard",
    )
    [result] = _parse("sisimai/lhost-imailserver-06.eml")
    assert (result.reader, result.smtp_command, result.smtp_code, result.category) == (
        "imailserver",
        "DATA",
        550,
        "content_rejected",
    )
    assert result.diagnostic.startswith("550 REJECTED - Blacklisted URL in message.")
    assert "550-" not in result.diagnostic


def test_mfilter_labelled_blocks():
    """m-FILTER: "-------server message" and "-------SMTP command" blocks; the last command
    sent is DATA with pipelining, so a reply that names the recipient answered RCPT TO; a
    rebranded build (other X-Mailer) keeps the blocks."""
    [result] = _parse("sisimai/lhost-mfilter-01.eml")
    assert (result.reader, result.smtp_command, result.smtp_code, result.kind) == (
        "mfilter",
        "RCPT",
        550,
        "hard",
    )
    assert result.diagnostic == "550 unknown user <kijitora@example.com>"
    [result] = _parse("sisimai/lhost-mfilter-05.eml")
    assert (result.reader, result.smtp_command, result.status, result.category) == (
        "mfilter",
        "DATA",
        "4.3.1",
        "server_error",
    )
