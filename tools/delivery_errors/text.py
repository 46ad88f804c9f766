"""Text cleaning and SMTP reply parsing."""

import ast
import re
from functools import lru_cache

from .base import MAX_DIAGNOSTIC
from .base import MAX_SCAN

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
    return _parse_reply(to_text(text))


@lru_cache(maxsize=256)
def _parse_reply(text):
    """:func:`parse_smtp_reply` of a str, kept for the texts read last: a bounce parser reads
    a reply, then classifies its cleaned text (most often the same), for each recipient."""
    text = _expand_smtplib(text)
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
