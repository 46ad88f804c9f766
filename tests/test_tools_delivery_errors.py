"""The delivery error registry core (``tools/delivery_errors/``) and its seed data, without a
database: SMTP reply parsing, provider detection, rule specificity and priority, the RFC 3463
fallback, robustness against odd input, the matcher cache, and the seeded entries with their
translations.
"""

import re
import threading
from pathlib import Path
from xml.etree import ElementTree

import polib
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ..tools import delivery_errors
from ..tools.delivery_errors import Matcher
from ..tools.delivery_errors import Rule

ADDON_ROOT = Path(__file__).resolve().parent.parent
DATA_FILE = ADDON_ROOT / "data" / "mail_delivery_error_data.xml"
MODULE = "mass_mailing_delivery"
LANGS = ("it", "de", "fr", "pl")
TRANSLATED_FIELDS = ("name", "explanation", "advice")

#: (diagnostic, recipient, category, permanence): real-world replies, every category
REAL_REPLIES = [
    (
        "550 5.1.1 <a@x.com>: Recipient address rejected: User unknown",
        "",
        "recipient_unknown",
        "permanent",
    ),
    (
        (
            "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
            "550-5.1.1 double-checking the recipient's email address for typos - gsmtp"
        ),
        "a@gmail.com",
        "recipient_unknown",
        "permanent",
    ),
    (
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        "",
        "recipient_unknown",
        "permanent",
    ),
    ("550 Benutzer unbekannt", "a@web.de", "recipient_unknown", "permanent"),
    ("550 5.1.1 utilisateur inconnu", "a@orange.fr", "recipient_unknown", "permanent"),
    ("550 Adres odbiorcy nie istnieje", "a@onet.pl", "recipient_unknown", "permanent"),
    ("550 utente sconosciuto", "a@libero.it", "recipient_unknown", "permanent"),
    (
        "550 5.1.2 <a@nodomain.example>: Recipient address rejected: Domain not found",
        "",
        "domain_unknown",
        "permanent",
    ),
    (
        "Host or domain name not found. Name service error for name=x.example type=MX",
        "",
        "domain_unknown",
        "permanent",
    ),
    (
        "550-5.2.1 The email account that you tried to reach is disabled. - gsmtp",
        "a@gmail.com",
        "mailbox_disabled",
        "permanent",
    ),
    (
        "550 5.2.1 <a@x.example>: Mailbox disabled, not accepting messages",
        "",
        "mailbox_disabled",
        "permanent",
    ),
    ("452 4.2.2 <a@x.com>: Mailbox full, quota exceeded", "", "mailbox_full", "temporary"),
    (
        "552-5.2.2 The email account that you tried to reach is over quota. - gsmtp",
        "a@gmail.com",
        "mailbox_full",
        "permanent",
    ),
    (
        "552 1 Requested mail action aborted, mailbox full",
        "a@yahoo.com",
        "mailbox_full",
        "permanent",
    ),
    ("(552, b'5.2.2 <a@example.it>: casella piena')", "", "mailbox_full", "temporary"),
    ("552 5.2.2 <a@libero.it>: over quota", "", "mailbox_full", "permanent"),
    ("552 Postfach voll", "", "mailbox_full", "temporary"),
    ("552 5.2.2 Boîte aux lettres pleine", "", "mailbox_full", "temporary"),
    ("552 skrzynka pełna", "", "mailbox_full", "temporary"),
    (
        "552 5.3.4 Message size exceeds fixed maximum message size",
        "",
        "message_too_large",
        "permanent",
    ),
    (
        "550 5.7.1 Message rejected as spam by Content Filtering",
        "",
        "content_rejected",
        "permanent",
    ),
    (
        "550-5.7.1 Our system has detected that this message is likely unsolicited mail. - gsmtp",
        "a@gmail.com",
        "content_rejected",
        "permanent",
    ),
    ("554 5.7.1 Virus found: Win.Trojan.Agent in attachment", "", "virus_detected", "permanent"),
    # replies of the sisimai/set-of-emails corpus (BSD-2-Clause): Postfix, Exim, Cox, OpenSMTPD
    ("550 5.1.6 recipient no longer on server: a@example.go.jp", "", "mailbox_moved", "permanent"),
    ("550 Unroutable sender address", "", "sender_rejected", "permanent"),
    (
        "550 5.1.0 <bounce@mailer.example.com> sender rejected. Refer to Error Codes section",
        "",
        "sender_rejected",
        "permanent",
    ),
    ("Network error on destination MXs", "", "network_error", "temporary"),
    (
        "Name service error for name=example.org type=MX: Malformed or unexpected name server reply",
        "",
        "network_error",
        "temporary",
    ),
    (
        (
            "550 5.7.1 Unfortunately, messages from [203.0.113.5] weren't sent. Please contact your "
            "Internet service provider since part of their network is on our block list (S3150)."
        ),
        "a@hotmail.com",
        "sender_blocked",
        "permanent",
    ),
    (
        "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
        "",
        "sender_blocked",
        "permanent",
    ),
    (
        "554 5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org",
        "",
        "sender_blocked",
        "permanent",
    ),
    ("554 Message not accepted for policy reasons.", "a@yahoo.com", "policy_rejected", "permanent"),
    ("554 5.7.1 <a@x.example>: Relay access denied", "", "policy_rejected", "permanent"),
    (
        (
            "550-5.7.26 This mail is unauthenticated, which poses a security risk to the\n"
            "550-5.7.26 sender and Gmail users, and has been blocked. - gsmtp"
        ),
        "a@gmail.com",
        "authentication",
        "permanent",
    ),
    ("550 5.7.23 SPF validation failed", "", "authentication", "permanent"),
    ("(535, b'5.7.8 Username and Password not accepted')", "", "authentication", "permanent"),
    (
        "421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred",
        "",
        "rate_limited",
        "temporary",
    ),
    (
        "421-4.7.28 Our system has detected an unusual rate of unsolicited mail - gsmtp",
        "",
        "rate_limited",
        "temporary",
    ),
    (
        "450 4.2.0 <a@x.example>: Recipient address rejected: Greylisted",
        "",
        "rate_limited",
        "temporary",
    ),
    ("451 4.7.1 Greylisting in action, please come back later", "", "rate_limited", "temporary"),
    ("421 Service not available, closing transmission channel", "", "rate_limited", "temporary"),
    ("4.4.7 Message expired: unable to deliver in 5 days", "", "expired", "temporary"),
    ("[Errno 111] Connection refused", "", "server_error", "temporary"),
    ("timed out", "", "server_error", "temporary"),
    ("SMTPServerDisconnected: Connection unexpectedly closed", "", "server_error", "temporary"),
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "", "server_error", "temporary"),
    ("Feedback-Type: abuse", "", "complaint", "none"),
    ("I am out of the office until Monday", "", "auto_reply", "none"),
    ("Risposta automatica: sono in ferie", "", "auto_reply", "none"),
    ("550 Requested action not taken", "", "unknown", "permanent"),
    # wordings whose status alone misleads (sisimai/set-of-emails, BSD-2-Clause)
    (
        "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
        "",
        "recipient_unknown",
        "permanent",
    ),
    (
        "550 5.4.1 All recipient addresses rejected : Access denied [X.prod.outlook.com]",
        "",
        "policy_rejected",
        "permanent",
    ),
    (
        "550-5.7.1 [192.0.2.22 18] Our system has detected that this message is likely suspicious "
        "due to the very low reputation of the sending IP address. To best protect our users "
        "from spam, the message has been blocked. - gsmtp",
        "a@gmail.com",
        "sender_blocked",
        "permanent",
    ),
    (
        "550 REJECTED - Blacklisted URL in message. (example.com) in [black]. See "
        "http://lookup.uribl.com. - Blacklisted Link -",
        "",
        "content_rejected",
        "permanent",
    ),
    ("550 5.4.312 Message expired, DNS query failed", "", "network_error", "permanent"),
    (
        'procmail: Couldn\'t create "/var/spool/mail/neko" id: r.example.org: No such user',
        "",
        "server_error",
        "temporary",
    ),
    (
        "a@example.com <b@example.net>: malformed address: <b@example.net> may not follow "
        "a@example.com",
        "",
        "server_error",
        "permanent",
    ),
    ("550 5.1.1 <a@example.jp>... No such user", "", "recipient_unknown", "permanent"),
]


@pytest.fixture(scope="module")
def matcher():
    return delivery_errors.default_matcher()


def _rule(key, category="unknown", permanence="permanent", **criteria):
    return Rule(key=key, category=category, permanence=permanence, **criteria)


# ---- real-world replies ----


@pytest.mark.parametrize(("diagnostic", "recipient", "category", "permanence"), REAL_REPLIES)
def test_real_replies(matcher, diagnostic, recipient, category, permanence):
    result = matcher.classify(diagnostic=diagnostic, recipient=recipient)
    assert (result.category, result.permanence) == (category, permanence), result
    assert result.rule_key, "a seeded entry explains it"


def test_unverified_sender_identity_is_the_senders_problem(matcher):
    """Amazon SES relayed by Postfix (status 5.0.0 of the DSN): "Message rejected: Email
    address is not verified" is about the sender's identity, not the content."""
    result = matcher.classify(
        status="5.0.0",
        diagnostic=(
            "554 Message rejected: Email address is not verified. The following identities "
            "failed the check in region AP-NORTHEAST-1: a@example.jp"
        ),
    )
    assert (result.category, result.permanence) == ("sender_rejected", "permanent")


def test_every_category_has_a_real_reply():
    covered = {category for _text, _rcpt, category, _perm in REAL_REPLIES}
    assert covered == set(delivery_errors.CATEGORIES)


def test_seeded_matcher_compiles_every_entry(matcher):
    assert matcher.errors == []
    assert len(matcher) == len(delivery_errors.load_rules_from_xml(DATA_FILE))


def test_unexplained_failure_has_no_entry(matcher):
    result = matcher.classify(diagnostic="Zorglub gateway says: frobnicated recipient, try never")
    assert result.rule_key is None
    assert result.category == "unknown"


# ---- parsing ----


@pytest.mark.parametrize(
    ("raw", "code", "status", "contains"),
    [
        ("550 5.1.1 <x@y>: Recipient address rejected", 550, "5.1.1", "Recipient address rejected"),
        ("smtp; 550-5.7.26 This mail is unauthenticated", 550, "5.7.26", "unauthenticated"),
        ("(552, b'5.2.2 Mailbox full')", 552, "5.2.2", "552 5.2.2 Mailbox full"),
        # odoo.tools.exception_to_unicode(SMTPConnectError(421, b"...")): one argument a line
        ("421\nb'4.3.2 Service not available'", 421, "4.3.2", "421 4.3.2 Service not available"),
        (
            "SMTPRecipientsRefused: {'a@b.c': (550, b'5.1.1 <a@b.c>: User unknown')}",
            550,
            "5.1.1",
            "User unknown",
        ),
        ("(550, b'5.7.1 first line\\n5.7.1 second line')", 550, "5.7.1", "first line second line"),
        (
            "550-5.7.1 first line\n550 5.7.1 second line",
            550,
            "5.7.1",
            "550 5.7.1 first line second line",
        ),
        ("552 1 Requested mail action aborted, mailbox full", 552, None, "mailbox full"),
        ("host mx.x.com[1.2.3.4] said: 550 Requested action not taken", 550, None, "said"),
        (
            "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound'",
            550,
            "5.1.10",
            "RESOLVER",
        ),
        ("#5.1.1 smtp;550 user unknown", 550, "5.1.1", "user unknown"),
        ("[Errno 111] Connection refused", None, None, "Connection refused"),
        ("Postfix 2.10.1 at 192.0.2.10", None, None, "Postfix"),
        (b"550 5.1.1 \xff\xfe", 550, "5.1.1", "\ufffd"),
        (None, None, None, ""),
    ],
)
def test_parse_smtp_reply(raw, code, status, contains):
    parsed_code, parsed_status, cleaned = delivery_errors.parse_smtp_reply(raw)
    assert (parsed_code, parsed_status) == (code, status)
    assert contains in cleaned
    assert "\n" not in cleaned


def test_flattened_multiline_reply_loses_repeated_prefixes():
    _code, _status, cleaned = delivery_errors.parse_smtp_reply(
        "550-5.7.26 This mail is unauthenticated, which poses a security risk to the "
        "550-5.7.26 sender and Gmail users"
    )
    assert cleaned == (
        "550-5.7.26 This mail is unauthenticated, which poses a security risk to the "
        "sender and Gmail users"
    )


@pytest.mark.parametrize(
    ("text", "domain", "provider"),
    [
        ("", "someone@gmail.com", "gmail"),
        ("", "googlemail.com", "gmail"),
        ("", "a@hotmail.co.uk", "outlook"),
        ("", "a@live.fr", "outlook"),
        ("", "a@msn.com", "outlook"),
        ("", "a@yahoo.co.jp", "yahoo"),
        ("", "a@icloud.com", "icloud"),
        ("", "a@wanadoo.fr", "orange"),
        ("", "a@gmx.net", "gmx"),
        ("", "a@web.de", "web.de"),
        ("", "a@t-online.de", "t-online"),
        ("", "a@libero.it", "libero"),
        ("", "a@wp.pl", "wp.pl"),
        ("", "a@onet.pl", "onet"),
        ("", "a@interia.pl", "interia"),
        ("550 5.1.1 user unknown - gsmtp", "a@company.example", "gmail"),
        ("x.mail.protection.outlook.com said: 550 5.4.1", "", "outlook"),
        ("421 4.7.0 [TSS04] Messages temporarily deferred", "", "yahoo"),
        ("mta7.am0.yahoodns.net said: 554", "", "yahoo"),
        ("550 5.1.1 user unknown", "a@notgmail.com", None),
        ("attempts: 5", "", None),
        ("", "", None),
    ],
)
def test_detect_provider(text, domain, provider):
    assert delivery_errors.detect_provider(text, domain) == provider


# ---- specificity, priority, provider rules ----


def test_provider_rule_beats_generic(matcher):
    text = "550-5.1.1 The email account that you tried to reach does not exist. - gsmtp"
    assert matcher.classify(diagnostic=text, recipient="a@gmail.com").rule_key == (
        "error_gmail_5_1_1_does_not_exist"
    )
    other = matcher.classify(diagnostic="550 5.1.1 no", recipient="a@example.com")
    assert other.rule_key == "error_5_1_1_recipient_unknown"
    assert other.provider is None


def test_provider_rule_only_for_its_provider():
    rules = [_rule("gmail", "mailbox_full", provider="gmail", status_pattern="5.2.2")]
    result = Matcher(rules).classify(diagnostic="552 5.2.2 full", recipient="a@example.com")
    assert result.rule_key is None
    result = Matcher(rules).classify(diagnostic="552 5.2.2 full", provider="gmail")
    assert result.rule_key == "gmail"


def test_status_specificity():
    matcher = Matcher(
        [
            _rule("class", "policy_rejected", status_pattern="5.*", priority=100),
            _rule("subject", "policy_rejected", status_pattern="5.7.*", priority=50),
            _rule("exact", "authentication", status_pattern="5.7.26"),
        ]
    )
    assert matcher.classify(diagnostic="550 5.7.26 x").rule_key == "exact"
    assert matcher.classify(diagnostic="550 5.7.1 x").rule_key == "subject"
    assert matcher.classify(diagnostic="550 5.1.1 x").rule_key == "class"
    assert matcher.classify(diagnostic="450 4.7.1 x").rule_key is None


def test_code_range_specificity():
    matcher = Matcher(
        [
            _rule("wide", smtp_code_min=500, smtp_code_max=599, priority=99),
            _rule("narrow", smtp_code_min=550, smtp_code_max=554),
            _rule("exact", "recipient_unknown", smtp_code_min=551),
        ]
    )
    assert matcher.classify(diagnostic="551 moved").rule_key == "exact"
    assert matcher.classify(diagnostic="553 bad").rule_key == "narrow"
    assert matcher.classify(diagnostic="571 other").rule_key == "wide"
    assert matcher.classify(diagnostic="no code").rule_key is None


def test_regex_beats_status_and_priority_breaks_ties():
    matcher = Matcher(
        [
            _rule("status", "policy_rejected", status_pattern="5.7.1"),
            _rule("spam", "content_rejected", diagnostic_regex=r"\bspam\b"),
            _rule("spam2", "content_rejected", diagnostic_regex=r"rejected as spam", priority=5),
        ]
    )
    assert matcher.classify(diagnostic="550 5.7.1 rejected as spam").rule_key == "spam2"
    assert matcher.classify(diagnostic="550 5.7.1 spam").rule_key == "spam"
    assert matcher.classify(diagnostic="550 5.7.1 policy").rule_key == "status"


def test_all_criteria_must_match():
    matcher = Matcher(
        [
            _rule(
                "all",
                "mailbox_full",
                smtp_code_min=552,
                status_pattern="5.2.2",
                diagnostic_regex="quota",
                provider="gmail",
            )
        ]
    )
    gmail = "a@gmail.com"
    assert matcher.classify(diagnostic="552 5.2.2 over quota", recipient=gmail).rule_key == "all"
    for text, rcpt in [
        ("550 5.2.2 over quota", gmail),
        ("552 5.2.1 over quota", gmail),
        ("552 5.2.2 full", gmail),
        ("552 5.2.2 over quota", "a@example.com"),
    ]:
        assert matcher.classify(diagnostic=text, recipient=rcpt).rule_key is None, text


def test_given_code_and_status_override_the_text():
    matcher = Matcher([_rule("full", "mailbox_full", status_pattern="4.2.2")])
    result = matcher.classify(smtp_code="452", status="Status: 4.2.2", diagnostic="busy")
    assert (result.rule_key, result.smtp_code, result.status) == ("full", 452, "4.2.2")


# ---- fallback ----


@pytest.mark.parametrize(
    ("diagnostic", "category", "permanence"),
    [
        ("550 5.1.1 x", "recipient_unknown", "permanent"),
        ("550 5.1.2 x", "domain_unknown", "permanent"),
        ("452 4.2.2 x", "mailbox_full", "temporary"),
        ("552 5.2.2 x", "mailbox_full", "permanent"),
        ("552 5.3.4 x", "message_too_large", "permanent"),
        ("451 4.4.7 x", "expired", "temporary"),
        ("550 5.7.26 x", "authentication", "permanent"),
        ("550 5.7.99 x", "policy_rejected", "permanent"),
        ("451 4.3.0 x", "server_error", "temporary"),
        ("421 x", "rate_limited", "temporary"),
        ("451 x", "server_error", "temporary"),
        ("550 x", "unknown", "permanent"),
        ("250 2.0.0 Ok", "unknown", "none"),
        ("what?", "unknown", "permanent"),
        ("", "unknown", "none"),
    ],
)
def test_fallback_without_rules(diagnostic, category, permanence):
    result = Matcher().classify(diagnostic=diagnostic)
    assert (result.category, result.permanence, result.rule_key) == (category, permanence, None)


# ---- broken rules ----


def test_broken_rules_are_skipped_and_reported():
    matcher = Matcher(
        [
            _rule("broken_regex", diagnostic_regex="mailbox (full"),
            _rule("bad_category", "nonsense"),
            _rule("bad_permanence", permanence="forever"),
            _rule("bad_status", status_pattern="five.one"),
            _rule("good", "mailbox_full", diagnostic_regex="mailbox full"),
        ]
    )
    assert len(matcher) == 1
    assert len(matcher.errors) == 4
    assert any("broken_regex" in error for error in matcher.errors)
    assert matcher.classify(diagnostic="552 mailbox full").rule_key == "good"


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        ("mailbox (is )?full", True),
        (r"\bS3150\b", True),
        ("", True),
        ("mailbox (full", False),
        ("[a-", False),
        ("*full", False),
        ("x" * 2000, False),
        (None, False),
    ],
)
def test_validate_regex(pattern, valid):
    error = delivery_errors.validate_regex(pattern)
    assert (error is None) == valid
    if not valid:
        assert isinstance(error, str)
        assert error


@pytest.mark.parametrize(
    ("pattern", "parsed"),
    [
        ("5.1.1", (3, "5.1.1")),
        ("5.7.*", (2, "5.7")),
        ("4.*", (1, "4")),
        ("5.x.x", (1, "5")),
        ("", (0, "")),
        ("*", (0, "")),
        ("5.1.1.1", None),
        ("9.1.1", None),
    ],
)
def test_parse_status_pattern(pattern, parsed):
    assert delivery_errors.parse_status_pattern(pattern) == parsed


# ---- odd input ----


@pytest.mark.parametrize(
    "diagnostic",
    [
        None,
        b"\xff\xfe\x00\x01 550 5.1.1 \xc3",
        b"",
        bytearray(b"552 5.2.2 full"),
        memoryview(b"552 5.2.2 full"),
        "550 5.1.1 \x00\x01\x02\x1b[31m control \x7f chars\r\n550 5.1.1 end",
        "550 5.1.1 \udcff lone surrogate",
        "550 " + "\u202e" * 10,
        12345,
        "(550, b'unterminated",
        "(550, b'\\xzz bad escape')",
        "5" * 100000,
        "550 5.1.1 " + "a(" * 5000,
    ],
    ids=lambda value: repr(value)[:30],
)
def test_odd_input_never_raises(matcher, diagnostic):
    result = matcher.classify(diagnostic=diagnostic, smtp_code="abc", status=object())
    assert result.category in delivery_errors.CATEGORIES
    assert result.permanence in delivery_errors.PERMANENCES
    assert len(result.diagnostic) <= delivery_errors.MAX_DIAGNOSTIC
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]", result.diagnostic)


def test_huge_text_is_truncated(matcher):
    huge = "552 5.2.2 mailbox full " + "x" * (20 * 1024 * 1024)
    result = matcher.classify(diagnostic=huge.encode())
    assert result.category == "mailbox_full"
    assert len(result.diagnostic) == delivery_errors.MAX_DIAGNOSTIC
    result = matcher.classify(diagnostic=huge)
    assert result.smtp_code == 552


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    diagnostic=st.one_of(st.text(), st.binary(), st.none()),
    code=st.one_of(st.none(), st.integers(), st.text(max_size=5)),
    status=st.one_of(st.none(), st.text(max_size=12)),
    recipient=st.text(max_size=40),
)
def test_fuzzed_input_never_raises(diagnostic, code, status, recipient):
    result = delivery_errors.default_matcher().classify(
        smtp_code=code, status=status, diagnostic=diagnostic, recipient=recipient
    )
    assert result.category in delivery_errors.CATEGORIES
    assert result.smtp_code is None or 200 <= result.smtp_code <= 599


# ---- cache ----


def test_get_matcher_loads_once_per_version():
    delivery_errors.clear_cache()
    calls = []

    def load(tag):
        def loader():
            calls.append(tag)
            return [_rule(tag, "mailbox_full", diagnostic_regex=tag)]

        return loader

    first = delivery_errors.get_matcher(("db", 1), load("one"))
    assert delivery_errors.get_matcher(("db", 1), load("ignored")) is first
    second = delivery_errors.get_matcher(("db", 2), load("two"))
    assert second is not first
    assert second.classify(diagnostic="two").rule_key == "two"
    assert delivery_errors.get_matcher(("db", 1), load("ignored")) is first
    assert calls == ["one", "two"]


def test_get_matcher_is_thread_safe():
    delivery_errors.clear_cache()
    calls = []
    barrier = threading.Barrier(8)
    results = []

    def loader():
        calls.append(1)
        return [_rule("x")]

    def worker():
        barrier.wait()
        results.append(delivery_errors.get_matcher("threads", loader))

    threads = [threading.Thread(target=worker) for _i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len({id(result) for result in results}) == 1


def test_default_matcher_is_cached():
    assert delivery_errors.default_matcher() is delivery_errors.default_matcher()


# ---- pre-filters and new entries ----


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"gr[ae]y ?list", "GREY LIST"),
        (r"(account|mailbox) (is )?disabled", "Mailbox Is DISABLED"),
        (r"\bS3150\b", "(s3150)"),
        (r"user(s)? unknown|x+", "xxx"),
        (r"(?i:Postfach) voll", "POSTFACH VOLL"),
    ],
)
def test_literal_prefilter_never_hides_a_match(pattern, text):
    assert re.search(pattern, text, re.IGNORECASE)
    literals = delivery_errors.required_literals(pattern)
    assert literals is None or any(literal in text.lower() for literal in literals)


def test_literal_prefilter_agrees_with_seeded_regexes():
    texts = [text for text, _rcpt, _cat, _perm in REAL_REPLIES]
    for rule in delivery_errors.load_rules_from_xml(DATA_FILE):
        if not rule.diagnostic_regex:
            continue
        literals = delivery_errors.required_literals(rule.diagnostic_regex)
        for text in texts:
            _code, _status, cleaned = delivery_errors.parse_smtp_reply(text)
            if re.search(rule.diagnostic_regex, cleaned, re.IGNORECASE) and literals:
                assert any(literal in cleaned.lower() for literal in literals), rule.key


@pytest.mark.parametrize(
    "diagnostic",
    [
        "Zorglub gateway says: frobnicated recipient, try never",
        "550 5.1.1 <gone@x.example>: Recipient address rejected: User unknown (id 3f4a5b6c7d8e)",
        "554 [203.0.113.7] refused: ask postmaster+help@x.example? (code 42)",
    ],
)
def test_regex_from_diagnostic(diagnostic):
    pattern = delivery_errors.regex_from_diagnostic(diagnostic)
    assert pattern
    assert delivery_errors.validate_regex(pattern) is None
    assert re.search(pattern, diagnostic, re.IGNORECASE)


# ---- seed data ----


def _records():
    tree = ElementTree.parse(DATA_FILE)
    return [
        (record.get("id"), {field.get("name"): field.text or "" for field in record.iter("field")})
        for record in tree.iter("record")
    ]


def test_seed_data_records_valid():
    records = _records()
    assert len(records) >= 60
    ids = [xml_id for xml_id, _values in records]
    assert len(ids) == len(set(ids))
    names = [values["name"] for _xml_id, values in records]
    assert len(names) == len(set(names)), "entry names are unique"
    allowed = {
        "name",
        "category",
        "permanence",
        "explanation",
        "advice",
        "smtp_code_min",
        "smtp_code_max",
        "status_pattern",
        "diagnostic_regex",
        "provider",
        "priority",
    }
    for xml_id, values in records:
        assert set(values) <= allowed, xml_id
        assert re.fullmatch(r"error_[a-z0-9_]+", xml_id), xml_id
        assert values["category"] in delivery_errors.CATEGORIES, xml_id
        assert values["permanence"] in delivery_errors.PERMANENCES, xml_id
        for field in ("name", "explanation", "advice"):
            assert values.get(field, "").strip() == values.get(field), (xml_id, field)
            assert values.get(field), (xml_id, field)
        assert delivery_errors.validate_regex(values.get("diagnostic_regex", "")) is None, xml_id
        assert delivery_errors.parse_status_pattern(values.get("status_pattern")) is not None
        low, high = int(values.get("smtp_code_min", 0)), int(values.get("smtp_code_max", 0))
        assert all(not code or 200 <= code <= 599 for code in (low, high)), xml_id
        assert not (low and high) or low <= high, xml_id
        provider = values.get("provider")
        assert not provider or provider in delivery_errors.PROVIDER_DOMAINS, xml_id
        int(values.get("priority", 0))
        assert any(
            values.get(field) for field in ("status_pattern", "diagnostic_regex", "smtp_code_min")
        ), f"{xml_id} matches something"


def test_seed_data_covers_every_category():
    categories = {values["category"] for _xml_id, values in _records()}
    assert categories == set(delivery_errors.CATEGORIES)


def test_load_rules_from_xml():
    rules = {rule.key: rule for rule in delivery_errors.load_rules_from_xml(DATA_FILE)}
    rule = rules["error_gmail_5_7_26_unauthenticated"]
    assert (rule.category, rule.permanence, rule.status_pattern, rule.provider) == (
        "authentication",
        "permanent",
        "5.7.26",
        "gmail",
    )
    assert rules["error_5_1_1_recipient_unknown"].priority == 20
    assert rules["error_421_service_unavailable"].smtp_code_min == 421


@pytest.mark.parametrize("lang", LANGS)
def test_seed_data_translated(lang):
    catalog = polib.pofile(str(ADDON_ROOT / "i18n" / f"{lang}.po"))
    assert catalog.metadata["Language"] == lang
    assert "charset=UTF-8" in catalog.metadata["Content-Type"]
    msgids = [entry.msgid for entry in catalog]
    assert len(msgids) == len(set(msgids)), "msgids are unique"
    by_reference = {}
    for entry in catalog:
        for reference, _line in entry.occurrences:
            by_reference[reference] = entry
    for xml_id, values in _records():
        for field in TRANSLATED_FIELDS:
            reference = f"model:mail.delivery.error,{field}:{MODULE}.{xml_id}"
            entry = by_reference.get(reference)
            assert entry is not None, f"{lang}: {reference} missing"
            assert entry.msgid == values[field], f"{lang}: {reference} out of date"
            assert entry.msgstr.strip(), f"{lang}: {reference} untranslated"


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(\w*\s?)*x", r"((ab)*)+", r"(?:x|y+)*z"])
def test_nested_repetition_is_refused(pattern):
    """A pattern that can backtrack for ever (ReDoS) is refused at save: every failure
    is matched against the registry."""
    assert "repetition" in delivery_errors.validate_regex(pattern)


@pytest.mark.parametrize(
    "pattern", [r"mailbox (is )?full", r"(?:abc){2,5}", r"(a|b)*c", r"x{2}(y+)"]
)
def test_plain_repetition_is_accepted(pattern):
    assert delivery_errors.validate_regex(pattern) is None


def test_seeded_patterns_are_all_accepted():
    for rule in delivery_errors.load_rules_from_xml(delivery_errors.DATA_FILE):
        assert delivery_errors.validate_regex(rule.diagnostic_regex or "") is None, rule.key
