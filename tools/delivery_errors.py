"""Delivery error registry core: SMTP reply parsing and rule matching, with no ORM.

A *rule* (:class:`Rule`) is one entry of the ``mail.delivery.error`` registry reduced to its
matching criteria: an SMTP reply code range, an RFC 3463 enhanced status code or prefix
(``5.1.1``, ``5.7.*``, ``4.*``), a case-insensitive regular expression searched in the
diagnostic text, and a mailbox provider (``gmail``, ``outlook``, ``yahoo``...). A rule matches
a failure only when *all* of its non-empty criteria match.

:class:`Matcher` compiles a rule set once and classifies failures: among the matching rules the
most specific wins (provider, then regular expression, then exact status over status prefix over
status class, then narrow code range over wide), then the highest ``priority``. When no rule
matches, a built-in RFC 3463 / RFC 5321 classification is returned with ``rule_key=None``.

Speed: rules are pre-filtered by status and provider (candidate lists cached per status), by
code range, then by literal substrings that any match of their regex must contain (read from
the parsed pattern, tested on the lower-cased text) before the regex itself runs. The literal
test folds case with ``str.lower()``; exotic ``re.IGNORECASE`` equivalences (the long s for ``s``,
the Kelvin sign for ``k``) are not seen through by it.

Everything here is pure standard-library Python: the module is used both by the Odoo model
(``odoo.addons.mass_mailing_delivery.tools.delivery_errors``) and without a database (bounce
parser, unit tests, benchmarks). :meth:`Matcher.classify` never raises.
"""

import ast
import os
import re
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

try:  # Python >= 3.11
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants
    import sre_parse

CATEGORIES = (
    "recipient_unknown",
    "domain_unknown",
    "mailbox_disabled",
    "mailbox_moved",
    "mailbox_full",
    "message_too_large",
    "content_rejected",
    "virus_detected",
    "sender_blocked",
    "sender_rejected",
    "policy_rejected",
    "authentication",
    "rate_limited",
    "expired",
    "network_error",
    "server_error",
    "complaint",
    "auto_reply",
    "unknown",
)
PERMANENCES = ("permanent", "temporary", "none")

#: cleaned diagnostics are cut to this many characters
MAX_DIAGNOSTIC = 4000
#: raw input read (characters, or bytes before decoding); the rest of a huge text is ignored
MAX_SCAN = 16000
#: longest accepted ``diagnostic_regex``
MAX_REGEX = 1000
#: the seed data file, relative to the addon root
DATA_FILE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "data",
    "mail_delivery_error_data.xml",
)
#: default ``priority`` of a registry entry (the model's field default)
DEFAULT_PRIORITY = 10

# ---- specificity weights (see Matcher) ----
SCORE_PROVIDER = 100
SCORE_REGEX = 40
SCORE_STATUS = {3: 30, 2: 20, 1: 10}


@dataclass(frozen=True)
class Rule:
    """The matching criteria of one registry entry (empty / 0 criteria match anything).

    ``smtp_code_max`` 0 with a ``smtp_code_min`` means exactly ``smtp_code_min``; a
    ``smtp_code_max`` alone means any code up to it.
    """

    key: str
    category: str
    permanence: str
    smtp_code_min: int = 0
    smtp_code_max: int = 0
    status_pattern: str = ""
    diagnostic_regex: str = ""
    provider: str = ""
    priority: int = 0
    name: str = ""


@dataclass(frozen=True)
class Classification:
    """The outcome of :meth:`Matcher.classify` for one failure."""

    category: str
    permanence: str
    rule_key: str | None
    smtp_code: int | None
    status: str | None
    diagnostic: str
    provider: str | None


# ------------------------------------------------------------
# TEXT CLEANING AND SMTP REPLY PARSING
# ------------------------------------------------------------

CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
SPACE_RE = re.compile(r"[ \t\r\f\v]+")
#: ``(552, b'5.2.2 Mailbox full')`` as printed by smtplib's exceptions
SMTPLIB_RE = re.compile(
    r"\(\s*([245]\d\d)\s*,\s*(b?)('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")(?:\s*,[^)]*)?\s*\)"
)
#: an smtplib error with two arguments as ``odoo.tools.exception_to_unicode`` prints it (its
#: arguments one a line), e.g. a refused connection greeting: ``421\nb'4.3.2 Service ...'``
SMTPLIB_ARGS_RE = re.compile(
    r"(?<!\S)([245]\d\d)[ \t]*\n[ \t]*(b?)('(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")"
)
#: DSN diagnostic type prefix (``smtp; 550 ...``)
DSN_TYPE_RE = re.compile(r"^\s*(?:smtp|x-postfix|x-unix|x-local|x-qmail)\s*;\s*", re.IGNORECASE)
STATUS = r"[245]\.[0-7]\.\d{1,3}"
#: a reply code followed by an enhanced status code: ``550 5.1.1``, ``550-5.7.26``, ``#550 5.1.1``
CODE_STATUS_RE = re.compile(rf"(?<![\w.])([245]\d\d)[ -]+#?({STATUS})(?![\w.])")
#: a reply code alone, at the start of the text or after words that introduce a reply
CODE_RE = re.compile(
    r"(?:^|said:|returned|reply:|response:|error:|code:?|smtp;|\()\s*['\"#]?([245]\d\d)(?=[ -]|$)",
    re.IGNORECASE | re.MULTILINE,
)
STATUS_RE = re.compile(rf"(?<![\w.])#?({STATUS})(?![\w.])")
#: the reply code and status starting the first line of a multi-line reply
REPLY_HEAD_RE = re.compile(rf"([245]\d\d)[ -](?:\s*({STATUS})(?=\s|$))?")


def to_text(value, limit=MAX_SCAN):
    """``value`` as ``str`` (``None`` -> '', bytes decoded as UTF-8 with replacement).

    :param value: str, bytes, bytearray, memoryview, None or anything printable
    :param limit: characters (or bytes) kept from the start
    """
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value[:limit]).decode("utf-8", errors="replace")
    if not isinstance(value, str):
        try:
            value = str(value)
        except (TypeError, ValueError, UnicodeError):
            return ""
    return value[:limit]


def _decode_literal(prefix, literal):
    """The text of a Python str/bytes literal printed by smtplib ('' when unreadable)."""
    try:
        value = ast.literal_eval(prefix + literal)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return literal.strip("'\"")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _expand_smtplib(text):
    """Replace smtplib exception reprs ``(550, b'...')`` (and their arguments one a line,
    ``550\nb'...'``) by the plain reply ``550 ...``."""
    if "'" not in text and '"' not in text:
        return text
    for pattern in (SMTPLIB_RE, SMTPLIB_ARGS_RE):
        text = pattern.sub(
            lambda m: f"{m.group(1)} {_decode_literal(m.group(2), m.group(3))}", text
        )
    return text


def _join_lines(text):
    """Join a multi-line reply into one line. The continuation lines of a reply lose the
    ``550-5.7.1`` (or ``5.7.1``) prefix that repeats the first line's; other lines are kept."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) < 2:
        return lines[0] if lines else ""
    head = REPLY_HEAD_RE.match(lines[0])
    if not head:
        return " ".join(lines)
    code, status = head.group(1), head.group(2)
    prefix = (
        rf"(?:{code}[ -]\s*)?{re.escape(status)}\s+|{code}[ -]\s*" if status else rf"{code}[ -]\s*"
    )
    repeat = re.compile(prefix)
    rest = [repeat.sub("", line, count=1) if repeat.match(line) else line for line in lines[1:]]
    return " ".join([f"{code} {lines[0][4:]}", *rest])


def clean_text(text, limit=MAX_DIAGNOSTIC):
    """One readable line: no control characters, single spaces, at most ``limit`` characters."""
    text = CONTROL_RE.sub(" ", text.replace("\r", "\n"))
    if SURROGATE_RE.search(text):
        text = SURROGATE_RE.sub("\ufffd", text)
    text = _join_lines(text)
    text = SPACE_RE.sub(" ", text).strip()
    return text[:limit]


def _find_code_status(text):
    """``(code, status)`` read from a cleaned reply (``None`` for what is missing)."""
    match = CODE_STATUS_RE.search(text)
    if match:
        return int(match.group(1)), match.group(2)
    code_match = CODE_RE.search(text)
    status_match = STATUS_RE.search(text)
    code = int(code_match.group(1)) if code_match else None
    status = status_match.group(1) if status_match else None
    return code, status


def parse_smtp_reply(text):
    """Read the reply code and enhanced status code of a raw SMTP diagnostic.

    Understands plain replies (``550 5.1.1 <x@y>: ...``), DSN diagnostics (``smtp; 550-5.7.26
    ...``), smtplib exception reprs (``(552, b'5.2.2 Mailbox full')``) and multi-line replies
    (``550-5.7.1 ...\\n550 5.7.1 ...``). Never raises.

    :param text: str, bytes or None
    :return: ``(code, status, cleaned text)``: ``code`` int or None, ``status`` like
        ``"5.1.1"`` or None, the cleaned one-line text (at most :data:`MAX_DIAGNOSTIC` chars)
    """
    text = _expand_smtplib(to_text(text))
    text = DSN_TYPE_RE.sub("", text, count=1)
    cleaned = clean_text(text)
    code, status = _find_code_status(cleaned)
    if code and status and cleaned.count(status) > 1:
        cleaned = _drop_repeats(cleaned, code, status)
    return code, status, cleaned


def _drop_repeats(text, code, status):
    """Remove the ``550-5.7.26`` prefixes of a multi-line reply flattened into one line."""
    repeat = re.compile(rf"\s{code}[ -]{re.escape(status)}(?=\s)")
    first = CODE_STATUS_RE.search(text)
    end = first.end() if first else 0
    return text[:end] + repeat.sub("", text[end:])


# ------------------------------------------------------------
# PROVIDERS
# ------------------------------------------------------------

#: provider -> regular expression of its recipient domains (full match)
PROVIDER_DOMAINS = {
    "gmail": r"gmail\.com|googlemail\.com|google\.com",
    "outlook": r"(?:outlook|hotmail|live)(?:\.[a-z]+)+|msn\.com|windowslive\.com|passport\.com",
    "yahoo": r"yahoo(?:\.[a-z]+)+|ymail\.com|rocketmail\.com|aol(?:\.[a-z]+)+|aim\.com",
    "icloud": r"icloud\.com|me\.com|mac\.com",
    "orange": r"orange\.fr|wanadoo\.fr|orange\.com",
    "gmx": r"gmx(?:\.[a-z]+)+",
    "web.de": r"web\.de",
    "t-online": r"t-online\.de|magenta\.de",
    "libero": r"libero\.it|iol\.it|inwind\.it|blu\.it",
    "wp.pl": r"wp\.pl|o2\.pl|tlen\.pl",
    "onet": r"onet\.(?:pl|eu)|op\.pl|vp\.pl|poczta\.onet\.pl",
    "interia": r"interia\.(?:pl|eu)|poczta\.fm|intmail\.pl",
    "free": r"free\.fr",
    "sfr": r"sfr\.fr|neuf\.fr",
    "laposte": r"laposte\.net",
    "yandex": r"yandex\.[a-z]+|ya\.ru",
    "mail.ru": r"mail\.ru|bk\.ru|inbox\.ru|list\.ru",
}
#: ``(provider, lower-case substring, regex confirming it or None)`` found in reply texts,
#: tried in order (plain substring tests are fast; the regex runs only after its substring)
PROVIDER_FINGERPRINTS = tuple(
    (provider, needle, re.compile(regex) if regex else None)
    for provider, needle, regex in (
        ("gmail", "gsmtp", None),
        ("gmail", ".google.com", None),
        ("gmail", "gmail", None),
        ("outlook", "protection.outlook.com", None),
        ("outlook", ".outlook.com", None),
        ("outlook", "hotmail.com", None),
        ("outlook", "s31", r"\bs31\d\d\b"),
        ("yahoo", "yahoo", r"yahoo(?:dns|inc)?\.(?:com|net)"),
        ("yahoo", "ts", r"\btss?0\d\b"),
        ("yahoo", "aol.com", None),
        ("icloud", "icloud.com", None),
        ("icloud", ".mail.me.com", None),
        ("orange", "ofr", r"\bofr_?\d{3}"),
        ("orange", "orange.fr", None),
        ("orange", "mwinf", None),
        ("gmx", "gmx.", r"\bgmx\.(?:net|de|com)\b"),
        ("web.de", "web.de", r"\bweb\.de\b"),
        ("t-online", "t-online.de", None),
        ("libero", "libero.it", None),
        ("libero", "italiaonline", None),
        ("wp.pl", "wp.pl", r"\bwp\.pl\b"),
        ("onet", "onet.pl", r"\bonet\.pl\b"),
        ("interia", "interia.pl", None),
        ("free", "proxad.net", None),
        ("free", "free.fr", r"\bfree\.fr\b"),
        ("sfr", "sfr.fr", r"\bsfr\.fr\b"),
        ("laposte", "laposte.net", None),
        ("yandex", "yandex.", r"yandex\.(?:net|ru|com)"),
        ("mail.ru", "mail.ru", r"\bmail\.ru\b"),
    )
)


def _group(name):
    """A regex group name for a provider code (``web.de`` -> ``web_de``)."""
    return re.sub(r"\W", "_", name)


GROUP_PROVIDER = {_group(name): name for name in PROVIDER_DOMAINS}
DOMAIN_RE = re.compile(
    "|".join(f"(?P<{_group(name)}>(?:{regex}))" for name, regex in PROVIDER_DOMAINS.items())
)


def _fingerprint(lower):
    """The provider whose fingerprint occurs in a lower-case reply text, or None."""
    for provider, needle, regex in PROVIDER_FINGERPRINTS:
        if needle in lower and (regex is None or regex.search(lower)):
            return provider
    return None


def detect_provider(text="", domain=""):
    """The mailbox provider of a recipient: from its domain, else from the reply's text.

    :param text: the diagnostic text (fingerprints such as ``gsmtp`` or ``TSS04``)
    :param domain: the recipient's domain or full address
    :return: a provider code of :data:`PROVIDER_DOMAINS` or None
    """
    domain = to_text(domain, 320).strip().lower().rpartition("@")[2].strip(" .>")
    if domain:
        match = DOMAIN_RE.fullmatch(domain)
        if match:
            return GROUP_PROVIDER[match.lastgroup]
    return _fingerprint(to_text(text, MAX_DIAGNOSTIC).lower())


# ------------------------------------------------------------
# RULES
# ------------------------------------------------------------


@lru_cache(maxsize=512)
def _parsed(pattern):
    """The parsed (case-insensitive) form of ``pattern``, read once for the validation and
    the literal pre-filter of a rule (only read, never changed)."""
    return sre_parse.parse(pattern, re.IGNORECASE)


def validate_regex(pattern):
    """An English error message when ``pattern`` is not a usable regular expression, else None."""
    if not isinstance(pattern, str):
        return "the pattern must be text"
    if len(pattern) > MAX_REGEX:
        return f"the pattern is longer than {MAX_REGEX} characters"
    try:
        re.compile(pattern, re.IGNORECASE)
        nested = _has_nested_repeat(_parsed(pattern))
    except re.error as exc:
        return f"{exc.msg} at position {exc.pos}" if exc.pos is not None else exc.msg
    except (RecursionError, OverflowError, ValueError):
        return "the pattern is too complex"
    if nested:
        # e.g. (a+)+ or (\w*\s?)*: on some texts the matching takes exponential time, and
        # every failure is matched against the registry
        return "a repeated group contains a repetition (like (a+)+), which can take forever"
    return None


_REPEATS = (
    sre_parse.MAX_REPEAT,
    sre_parse.MIN_REPEAT,
    getattr(sre_parse, "POSSESSIVE_REPEAT", None),
)


def _has_nested_repeat(parsed, inside_repeat=False):
    """Whether a repetition of more than one occurrence sits inside another one."""
    for op, av in parsed:
        if op in _REPEATS and op is not None:
            _low, high, sub = av
            repeats = high is sre_parse.MAXREPEAT or high > 1
            if repeats and inside_repeat:
                return True
            if _has_nested_repeat(sub, inside_repeat or repeats):
                return True
        elif op is sre_parse.SUBPATTERN:
            if _has_nested_repeat(av[-1], inside_repeat):
                return True
        elif op is sre_parse.BRANCH:
            if any(_has_nested_repeat(branch, inside_repeat) for branch in av[1]):
                return True
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            if _has_nested_repeat(av[1], inside_repeat):
                return True
    return False


STATUS_PATTERN_RE = re.compile(r"([245])(?:\.(\d{1,3})(?:\.(\d{1,3}))?)?(?:\.[*x])*|\*|")


def parse_status_pattern(pattern):
    """``(level, prefix)`` of a status pattern: ``5.1.1`` -> ``(3, "5.1.1")``, ``5.7.*`` ->
    ``(2, "5.7")``, ``4.*`` -> ``(1, "4")``, '' or ``*`` -> ``(0, "")``; None when invalid."""
    pattern = (pattern or "").strip().lower()
    match = STATUS_PATTERN_RE.fullmatch(pattern)
    if not match:
        return None
    parts = [part for part in match.groups() if part is not None]
    return len(parts), ".".join(parts)


def _code_range(rule):
    """``(low, high)`` of a rule's SMTP code criterion, None when it has none."""
    low, high = rule.smtp_code_min or 0, rule.smtp_code_max or 0
    if not low and not high:
        return None
    return low, high or low


def _code_score(code_range):
    """Specificity of a code range: an exact code beats a narrow range beats a wide one."""
    if code_range is None:
        return 0
    width = code_range[1] - code_range[0]
    return 8 if width == 0 else 6 if width < 10 else 4 if width < 100 else 2


# ---- literal pre-filter: substrings one of which any match of a rule's regex must contain ----

_REPEATS = {
    sre_constants.MAX_REPEAT,
    sre_constants.MIN_REPEAT,
    getattr(sre_constants, "POSSESSIVE_REPEAT", sre_constants.MAX_REPEAT),
}


def _item_literals(op, av):
    """Literal alternatives required by one parsed regex item, None when it requires none."""
    if op == sre_constants.SUBPATTERN:
        return _sequence_literals(av[-1])
    if op == getattr(sre_constants, "ATOMIC_GROUP", None):
        return _sequence_literals(av)
    if op in _REPEATS and av[0] >= 1:
        return _sequence_literals(av[2])
    if op == sre_constants.BRANCH:
        branches = [_sequence_literals(branch) for branch in av[1]]
        if any(branch is None for branch in branches):
            return None
        return frozenset().union(*branches)
    return None


def _sequence_literals(items):
    """The best set of literal alternatives required by a parsed regex sequence, or None.

    "Best" is the set whose shortest literal is the longest (at least 2 characters).
    """
    options, run = [], []
    for op, av in [*items, (None, None)]:
        if op == sre_constants.LITERAL:
            run.append(chr(av))
            continue
        if len(run) > 1:
            options.append(frozenset({"".join(run).lower()}))
        run = []
        if op is not None:
            found = _item_literals(op, av)
            if found:
                options.append(found)
    options = [option for option in options if min(map(len, option)) >= 2]
    return max(options, key=lambda option: min(map(len, option)), default=None)


def required_literals(pattern):
    """Lower-case substrings one of which every match of ``pattern`` contains, or None.

    Used to skip running a rule's regex on texts that cannot match (a fast ``in`` test).
    """
    try:
        return _sequence_literals(_parsed(pattern))
    except (re.error, RecursionError, TypeError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class _Compiled:
    """A rule ready for matching (internal)."""

    rule: Rule
    score: int
    status_level: int
    status_prefix: str
    code_range: tuple | None
    regex: re.Pattern | None
    literals: re.Pattern | None

    def matches(self, code, text, lower):
        """Whether the code and text criteria match (status and provider are pre-filtered).

        :param lower: ``text.lower()``, for the literal pre-filter
        """
        if self.code_range is not None and (
            code is None or not self.code_range[0] <= code <= self.code_range[1]
        ):
            return False
        if self.regex is None:
            return True
        if self.literals is not None and self.literals.search(lower) is None:
            return False
        return self.regex.search(text) is not None


def _compile_rule(rule):
    """``(_Compiled, None)`` or ``(None, error message)`` for one rule."""
    if rule.category not in CATEGORIES:
        return None, f"{rule.key}: unknown category {rule.category!r}"
    if rule.permanence not in PERMANENCES:
        return None, f"{rule.key}: unknown permanence {rule.permanence!r}"
    status = parse_status_pattern(rule.status_pattern)
    if status is None:
        return None, f"{rule.key}: invalid status pattern {rule.status_pattern!r}"
    regex = None
    if rule.diagnostic_regex:
        error = validate_regex(rule.diagnostic_regex)
        if error:
            return None, f"{rule.key}: invalid diagnostic pattern: {error}"
        regex = re.compile(rule.diagnostic_regex, re.IGNORECASE)
    code_range = _code_range(rule)
    score = (
        (SCORE_PROVIDER if rule.provider else 0)
        + (SCORE_REGEX if regex else 0)
        + SCORE_STATUS.get(status[0], 0)
        + _code_score(code_range)
    )
    literals = required_literals(rule.diagnostic_regex) if regex else None
    if literals:
        # one alternation searched in C: faster than one ``in`` test per literal
        literals = re.compile("|".join(re.escape(literal) for literal in sorted(literals)))
    else:
        literals = None
    compiled = _Compiled(rule, score, status[0], status[1], code_range, regex, literals)
    return compiled, None


# ------------------------------------------------------------
# FALLBACK (RFC 3463 / RFC 5321)
# ------------------------------------------------------------

#: exact enhanced status codes (class-independent "subject.detail") -> category
FALLBACK_DETAIL = {
    "1.1": "recipient_unknown",
    "1.2": "domain_unknown",
    "1.3": "recipient_unknown",
    "1.6": "mailbox_disabled",
    "1.10": "recipient_unknown",
    "2.1": "mailbox_disabled",
    "2.2": "mailbox_full",
    "2.3": "message_too_large",
    "3.4": "message_too_large",
    "4.4": "domain_unknown",
    "4.7": "expired",
    "7.1": "policy_rejected",
    "7.23": "authentication",
    "7.25": "authentication",
    "7.26": "authentication",
    "7.28": "rate_limited",
}
#: enhanced status subject -> category
FALLBACK_SUBJECT = {
    "1": "recipient_unknown",
    "2": "mailbox_disabled",
    "3": "server_error",
    "4": "server_error",
    "5": "server_error",
    "6": "content_rejected",
    "7": "policy_rejected",
}
#: basic reply code -> category
FALLBACK_CODE = {
    421: "rate_limited",
    450: "mailbox_disabled",
    451: "server_error",
    452: "server_error",
    550: "unknown",
    551: "recipient_unknown",
    552: "mailbox_full",
    553: "recipient_unknown",
    554: "unknown",
}


def fallback(code, status, has_text=True):
    """``(category, permanence)`` from the reply code and status alone (no registry rule).

    ``X.2.2`` (mailbox full) is ``mailbox_full`` in both classes: permanent for ``5.2.2`` as
    RFC 3463 says, although many providers (Gmail) use it for an inbox that empties again.

    :param code: SMTP reply code or None
    :param status: enhanced status code or None
    :param has_text: whether a diagnostic text exists (an empty failure is not a failure)
    """
    klass = status[0] if status else str(code)[0] if code else ""
    permanence = {"2": "none", "4": "temporary", "5": "permanent"}.get(klass)
    if permanence is None:
        return "unknown", "permanent" if has_text else "none"
    if klass == "2":
        return "unknown", "none"
    category = "unknown"
    if status:
        _klass, subject, detail = status.split(".")
        category = FALLBACK_DETAIL.get(f"{subject}.{detail}") or FALLBACK_SUBJECT.get(subject)
    elif code in FALLBACK_CODE:
        category = FALLBACK_CODE[code]
    return category or "unknown", permanence


# ------------------------------------------------------------
# MATCHER
# ------------------------------------------------------------


class Matcher:
    """A compiled rule set. Build once (``Matcher(rules)``), classify many times.

    Rules that cannot be compiled (unknown category, invalid status pattern or regular
    expression) are skipped and described in :attr:`errors`.
    """

    #: candidate lists kept per (status, provider)
    CANDIDATE_CACHE = 4096

    def __init__(self, rules=()):
        self.errors = []
        self.rules = []
        for rule in rules:
            compiled, error = _compile_rule(rule)
            if error:
                self.errors.append(error)
            else:
                self.rules.append(compiled)
        # most specific first, then highest priority, then key (stable result)
        self.rules.sort(key=lambda c: (-c.score, -(c.rule.priority or 0), str(c.rule.key)))
        self._candidates = {}

    def __len__(self):
        return len(self.rules)

    def _candidates_for(self, status, provider):
        """The rules whose status and provider criteria accept the failure, best first."""
        key = (status, provider)
        found = self._candidates.get(key)
        if found is None:
            prefixes = {""}
            if status:
                parts = status.split(".")
                prefixes |= {".".join(parts[:size]) for size in (1, 2, 3)}
            found = tuple(
                compiled
                for compiled in self.rules
                if compiled.status_prefix in prefixes
                and (not compiled.rule.provider or compiled.rule.provider == provider)
            )
            if len(self._candidates) < self.CANDIDATE_CACHE:
                self._candidates[key] = found
        return found

    def match(self, code, status, text, provider):
        """The best matching :class:`Rule` or None (inputs already parsed and cleaned)."""
        lower = text.lower()
        for compiled in self._candidates_for(status, provider):
            if compiled.matches(code, text, lower):
                return compiled.rule
        return None

    def classify(self, smtp_code=None, status=None, diagnostic="", provider=None, recipient=""):
        """Classify one failure. Never raises.

        :param smtp_code: SMTP reply code when known (else read from ``diagnostic``)
        :param status: RFC 3463 enhanced status code when known (else read from ``diagnostic``)
        :param diagnostic: the server's reply or the bounce's diagnostic text (str or bytes)
        :param provider: mailbox provider code when known (else detected)
        :param recipient: the recipient's address or domain (tells the provider)
        :rtype: Classification
        """
        parsed_code, parsed_status, text = parse_smtp_reply(diagnostic)
        code = _as_code(smtp_code) or parsed_code
        status = _as_status(status) or parsed_status
        provider = to_text(provider, 40).strip().lower() or detect_provider(text, recipient)
        rule = self.match(code, status, text, provider)
        if rule is None:
            category, permanence = fallback(code, status, bool(text))
            key = None
        else:
            category, permanence, key = rule.category, rule.permanence, rule.key
        return Classification(category, permanence, key, code, status, text, provider or None)


def _as_code(value):
    """A reply code as int in 200..599, or None."""
    try:
        code = int(to_text(value, 10).strip() or 0) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        return None
    return code if 200 <= code <= 599 else None


def _as_status(value):
    """An enhanced status code like ``5.1.1`` found in ``value``, or None."""
    if not value:
        return None
    match = STATUS_RE.search(to_text(value, 40))
    return match.group(1) if match else None


# ------------------------------------------------------------
# CACHE AND SEED DATA
# ------------------------------------------------------------

_CACHE = OrderedDict()
_CACHE_LOCK = threading.Lock()
#: compiled matchers kept (one per version key, e.g. one per database)
CACHE_SIZE = 16


def get_matcher(version, load_rules):
    """The compiled :class:`Matcher` for ``version``; ``load_rules()`` is called only for a
    version not seen yet (or evicted). Thread-safe.

    :param version: hashable key identifying the rule set (e.g. ``(dbname, sequence)``)
    :param load_rules: callable returning an iterable of :class:`Rule`
    """
    with _CACHE_LOCK:
        matcher = _CACHE.get(version)
        if matcher is not None:
            _CACHE.move_to_end(version)
            return matcher
        matcher = Matcher(load_rules())
        _CACHE[version] = matcher
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        return matcher


def clear_cache():
    """Forget every compiled matcher."""
    with _CACHE_LOCK:
        _CACHE.clear()


INT_FIELDS = ("smtp_code_min", "smtp_code_max", "priority")
TEXT_FIELDS = ("category", "permanence", "status_pattern", "diagnostic_regex", "provider", "name")


def _record_to_rule(record):
    """The :class:`Rule` of one ``<record model="mail.delivery.error">`` element."""
    values = {field.get("name"): (field.text or "") for field in record.iter("field")}
    kwargs = {name: values.get(name, "") for name in TEXT_FIELDS}
    for name in INT_FIELDS:
        kwargs[name] = int(values.get(name) or 0)
    if "priority" not in values:
        kwargs["priority"] = DEFAULT_PRIORITY
    return Rule(key=record.get("id"), **kwargs)


def load_rules_from_xml(path=DATA_FILE):
    """The rules of a registry data file (Odoo XML), keyed by XML id.

    :param path: the ``.xml`` file
    :rtype: list[Rule]
    """
    tree = ET.parse(path)
    return [
        _record_to_rule(record)
        for record in tree.iter("record")
        if record.get("model") == "mail.delivery.error"
    ]


def default_matcher():
    """The matcher of the addon's own seed data (no database needed), cached."""
    try:
        mtime = os.stat(DATA_FILE).st_mtime_ns
    except OSError:
        mtime = None
    return get_matcher(("xml", DATA_FILE, mtime), lambda: load_rules_from_xml(DATA_FILE))


# ------------------------------------------------------------
# NEW ENTRIES
# ------------------------------------------------------------

VARIABLE_RE = re.compile(
    r"<?[^\s<>@]+@[^\s<>]+>?"  # addresses
    r"|\[?\b\d{1,3}(?:\.\d{1,3}){3}\b\]?"  # IPv4 addresses
    r"|\b[0-9a-f]{8,}\b|\b\w*\d\w*\b",  # ids, anything with digits
    re.IGNORECASE,
)


def regex_from_diagnostic(diagnostic, limit=200):
    """A regular expression matching ``diagnostic`` and its variants (other addresses, IPs,
    ids), to pre-fill a new registry entry. The reply code and status are left out: they
    belong to the entry's own criteria.

    :param diagnostic: a (cleaned) diagnostic text
    :param limit: longest part of the text used
    :return: a pattern ('' when the text has no stable words)
    """
    text = clean_text(to_text(diagnostic), MAX_DIAGNOSTIC)
    text = CODE_STATUS_RE.sub(" ", text, count=1)
    text = re.sub(rf"^\s*(?:[245]\d\d\b|{STATUS})[\s:-]*", "", text).strip()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0]
    pieces = []
    position = 0
    for match in VARIABLE_RE.finditer(text):
        pieces.append(re.escape(text[position : match.start()]))
        pieces.append(r"\S+")
        position = match.end()
    pieces.append(re.escape(text[position:]))
    pattern = re.sub(r"(?:\\ )+", r"\\s+", "".join(pieces))
    pattern = re.sub(r"(?:\\S\+(?:\\s\+)?){2,}", r"\\S+.*?", pattern)
    if not re.search(r"[a-z]{3}", pattern, re.IGNORECASE):
        return ""
    return pattern
