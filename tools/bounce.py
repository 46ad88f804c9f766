"""Bounce and complaint parser: one raw message in, one result per recipient out.

Pure Python (no ORM). Reads, in this order:

1. RFC 5965 ARF feedback reports (``multipart/report; report-type=feedback-report``): one
   ``complaint`` per complaining recipient (``Original-Rcpt-To``, else the reported message's
   ``X-HmXmrOriginalRecipient`` or ``To``), with the reported message's Message-ID.
2. RFC 3464 DSNs (``message/delivery-status`` parts): one result per recipient block, from its
   ``Action``, ``Status``, ``Diagnostic-Code``, ``Remote-MTA`` and the report's ``Reporting-MTA``.
3. Automatic replies (``Auto-Submitted``, ``X-Autoreply``, ``Precedence: auto_reply``, localized
   "out of office" subjects) that do not look like a bounce: ``auto_reply`` for the sender.
4. Non-standard bounces (Exchange, Postfix, qmail, Exim, Sendmail, Yahoo, hosted senders...):
   recipients found by ``flufl.bounce`` (or ``X-Failed-Recipients``, or the addresses of a
   bounce's report text as a last resort), the SMTP reply read from the text near each address.

Kinds: ``hard`` (permanent failure: 5.x.x, 5xx or a permanent text), ``soft`` (temporary
failure that was given up on, a 4.x.x failure reported as failed), ``delayed`` (still being
retried: never a bounce), ``complaint``, ``auto_reply``, ``delivered`` (``Action: delivered``,
``relayed`` or ``expanded``) and ``unknown`` (unreadable: the caller keeps the message).

The registry category refines the kind of a failure. A permanent failure that says nothing
about the recipient's address is ``soft``, not ``hard``, because a hard bounce blocks the
address at once: ``mailbox_full`` (Gmail answers ``552-5.2.2`` for an inbox over quota that
empties again), and the sender-side categories ``authentication`` (Gmail's ``5.7.26``),
``sender_blocked`` (Outlook.com's ``S3150``), ``policy_rejected``, ``content_rejected``,
``rate_limited``, ``message_too_large``, ``server_error`` and ``expired``. Only an unknown
recipient, an unknown domain, a disabled mailbox or an unclassified 5.x.x failure is ``hard``.

:func:`parse_bounce` never raises: truncated, huge, badly encoded or garbage input gives
``unknown`` results. ``python3 -m tools.bounce FILE...`` prints one JSON line per recipient.
"""

import html
import json
import logging
import re
import sys
from dataclasses import asdict
from dataclasses import dataclass
from email import message_from_bytes
from email import message_from_string
from email.header import decode_header
from email.header import make_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses
from email.utils import parseaddr

from flufl.bounce import all_failures

from .delivery_errors import Matcher
from .delivery_errors import default_matcher
from .delivery_errors import parse_smtp_reply

_logger = logging.getLogger(__name__)

#: messages larger than this are cut before parsing
MAX_SIZE = 10 * 1024 * 1024
#: diagnostics longer than this are truncated
MAX_DIAGNOSTIC = 4000
#: text read from one body part, and body parts read from one message
MAX_PART_TEXT = 256 * 1024
MAX_PARTS = 200
MAX_DEPTH = 12

KINDS = ("hard", "soft", "delayed", "complaint", "auto_reply", "delivered", "unknown")
#: kinds from the most to the least severe (a recipient reported twice keeps the first)
SEVERITY = ("complaint", "hard", "soft", "delayed", "delivered", "auto_reply", "unknown")

#: kinds of a bounce or report (not an automatic reply, not an unreadable message)
REPORT_KINDS = frozenset({"hard", "soft", "delayed", "complaint", "delivered"})
#: failures whose category says nothing about the recipient's address (see module docstring)
SOFT_CATEGORIES = frozenset(
    {
        "mailbox_full",
        "authentication",
        "sender_blocked",
        "policy_rejected",
        "content_rejected",
        "rate_limited",
        "message_too_large",
        "server_error",
        "expired",
    }
)

#: an e-mail address (internationalized ones included: RFC 6531 local parts, IDN domains)
ADDRESS_RE = re.compile(
    r"[\w!#$%&'*+/=?^`{|}~.-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+"
)
STATUS_RE = re.compile(r"(?<![\d.])([245])\.([0-7])\.(\d{1,3})(?![\d.])")
CODE_RE = re.compile(r"(?<![\d.#\w])([45][0-5]\d)(?=[ \-:;]|$)", re.MULTILINE)
MESSAGE_ID_RE = re.compile(r"^\s*Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
REMOTE_SERVER_RE = re.compile(
    r"(?:Remote Server returned|Remote-Server hat|Le serveur distant a retourné"
    r"|Il server remoto ha restituito)\s*'([^']+)'",
    re.IGNORECASE,
)
QMAIL_STATUS_RE = re.compile(r"\(#([245]\.\d{1,3}\.\d{1,3})\)")
REPORTING_RE = re.compile(
    r"(?:mail system at host|qmail-send program at|Generating server:|Generierender Server:"
    r"|Serveur de g\S+ration\s*:)\s*([A-Za-z0-9.-]+[A-Za-z0-9])",
    re.IGNORECASE,
)
REMOTE_RE = re.compile(r"\bhost\s+([A-Za-z0-9.-]+\.[A-Za-z]{2,})\.?\s*\[", re.IGNORECASE)
ORIGINAL_MARKER_RE = re.compile(
    r"^\s*(?:-{2,}\s*)?(?:This is a copy of the message|Below this line is a copy"
    r"|Original message follows|Original message headers|The original message"
    r"|Ursprüngliche Nachrichtenkopfzeilen|En-têtes du message d'origine"
    r"|Intestazioni del messaggio originale|Oryginalne nagłówki"
    r"|-+ ?Original Message ?-+|Return-Path:|Received: from)",
    re.IGNORECASE | re.MULTILINE,
)
DELAY_RE = re.compile(
    r"THIS IS A WARNING ONLY|Delivery incomplete|will (?:be )?retr(?:y|ied)|will continue to"
    r" try|has not yet been delivered|not yet been delivered|still being retried"
    r"|delivery (?:has been|is) delayed|message (?:has been )?delayed|advisory-only"
    r"|Zustellung verzögert|consegna ritardata|remis(?:e)? (?:est )?retardée|opóźnienie",
    re.IGNORECASE,
)
DELAY_SUBJECT_RE = re.compile(
    r"\b(?:delay(?:ed)?|warning|verzögert|ritardat|retard|opóźn)", re.IGNORECASE
)
BOUNCE_SUBJECT_RE = re.compile(
    r"undeliver|undelivered|returned mail|delivery (?:status notification|failure|failed"
    r"|has failed|problem|report)|failure notice|mail delivery|non[- ]?delivery|could not be"
    r" delivered|not delivered|unzustellbar|nicht zustellbar|non recapitat|mancato recapito"
    r"|non (?:distribu|remis|délivr)|échec de (?:la )?remise|niedostarczon|niedoręczon"
    r"|nie (?:można|udało)",
    re.IGNORECASE,
)
BOUNCE_SENDER_RE = re.compile(
    r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon|bounces?|mdaemon|mail\.delivery"
    r"|maildelivery|mail-delivery|nobody)\b",
    re.IGNORECASE,
)
AUTO_REPLY_SUBJECT_RE = re.compile(
    r"out of (?:the )?office|auto(?:matic)?[- ]?(?:reply|response|answer)|autoreply|vacation"
    r"|abwesenheit|automatische antwort|nicht im büro|risposta automatica|fuori ufficio"
    r"|réponse automatique|absence|absent(?:e)? du bureau|autoodpowied|odpowiedź automatyczna"
    r"|nieobecn|respuesta automática|fuera de la oficina|resposta automática",
    re.IGNORECASE,
)
AUTO_REPLY_PRECEDENCE = ("auto_reply", "auto-reply")
DSN_TYPE_RE = re.compile(r"^\s*[A-Za-z0-9-]+\s*;\s*", re.ASCII)
TAG_RE = re.compile(r"<[^>]*>")
REDACTED_RE = re.compile(r"redacted|^x+$|\*", re.IGNORECASE)
RECIPIENT_LINE_RE = re.compile(r"\n[ \t]*<?([^\s<>@]+@[^\s<>@]+?)>?:?[ \t]*(?=\n)")
RECEIVED_FOR_RE = re.compile(r"\bfor\s+<?([^<>\s;]+@[^<>\s;]+?)>?\s*;", re.IGNORECASE)
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class BounceResult:
    """The outcome for one recipient of one message of the bounce mailbox.

    ``kind`` is one of :data:`KINDS`; ``category`` and ``permanence`` come from the delivery
    error registry's matcher (``tools/delivery_errors.py``).
    """

    recipient: str = ""
    kind: str = "unknown"
    smtp_code: int | None = None
    status: str | None = None
    diagnostic: str = ""
    reporting_mta: str = ""
    remote_mta: str = ""
    original_message_id: str = ""
    feedback_type: str = ""
    category: str = "unknown"
    permanence: str = "none"

    def as_dict(self):
        """The result as a plain dict (JSON serialisable)."""
        return asdict(self)


@dataclass
class _Parts:
    """What one walk over a message found, by kind of body part, and the registry matcher
    that classifies its failures."""

    delivery_status: list
    feedback_reports: list
    originals: list
    texts: list
    matcher: object = None


# ---- registry (tools/delivery_errors.py) ----


#: the rule-less matcher used when the seed data cannot be read (built once)
_FALLBACK = []


def _matcher():
    """The registry matcher of the addon's seed data (cached by ``delivery_errors``); the
    built-in RFC 3463 classification alone when the seed data cannot be read."""
    try:
        return default_matcher()
    except (OSError, SyntaxError, ValueError) as error:  # ParseError is a SyntaxError
        if not _FALLBACK:
            _logger.warning("Delivery error registry unreadable, RFC 3463 fallback: %r", error)
            _FALLBACK.append(Matcher(()))
        return _FALLBACK[0]


def _classify(result, matcher):
    """Set ``category`` and ``permanence`` of ``result`` from the registry ``matcher``."""
    classification = matcher.classify(
        smtp_code=result.smtp_code,
        status=result.status,
        diagnostic=result.diagnostic,
        provider=None,
        recipient=result.recipient,
    )
    result.category = classification.category or "unknown"
    result.permanence = classification.permanence or "none"
    return result


def _smtp_reply(text):
    """``(code, status, cleaned text)`` of an SMTP reply, by the registry's reader."""
    code, status, cleaned = parse_smtp_reply(text or "")
    return code, _status(status), cleaned


# ---- small readers ----


def _header(msg, name):
    """A header of ``msg`` as one line of text, RFC 2047 decoded, '' when absent or unreadable.

    :param msg: ``email.message.Message``
    :param name: header name
    """
    try:
        value = msg.get(name)
        if value is None:
            return ""
        value = str(value)
        if "=?" in value:
            value = str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, TypeError, AttributeError):
        return ""
    return " ".join(value.split())


def _normalize_address(value):
    """The lower-case address found in ``value`` ('' when none)."""
    if not value:
        return ""
    bare = value.strip().strip("<>")
    if ADDRESS_RE.fullmatch(bare):
        return bare.lower().strip(".")
    _name, address = parseaddr(value)
    match = ADDRESS_RE.fullmatch(address.strip("<>\"' ")) if address else None
    match = match or ADDRESS_RE.search(value)
    return match.group(0).lower().strip(".") if match else ""


def _addresses(value):
    """All addresses of an address-list header value, lower-case, in order."""
    found = []
    for _name, raw_address in getaddresses([value or ""]):
        address = _normalize_address(raw_address)
        if address and address not in found:
            found.append(address)
    return found


def _dsn_value(value):
    """A DSN field's value without its type prefix (``rfc822;``, ``dns;``, ``smtp;``)."""
    return DSN_TYPE_RE.sub("", " ".join((value or "").split()), count=1)


def _status(text):
    """The first RFC 3463 enhanced status code in ``text``, or None."""
    match = STATUS_RE.search(text or "")
    return ".".join(match.groups()) if match else None


def _truncate(text):
    """``text`` collapsed to single spaces per line and cut to :data:`MAX_DIAGNOSTIC` chars."""
    text = CONTROL_RE.sub("", text or "")
    text = "\n".join(" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{2,}", "\n", text).strip()[:MAX_DIAGNOSTIC]


def _part_text(part):
    """The decoded text of a non-multipart ``part`` ('' when it has none), tags stripped."""
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError):
        payload = None
    if not isinstance(payload, bytes):
        return ""
    payload = payload[:MAX_PART_TEXT]
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, errors="replace")
    except (LookupError, UnicodeError, ValueError):
        text = payload.decode("utf-8", errors="replace")
    if part.get_content_subtype() == "html":
        text = re.sub(r"(?i)(?:<br\s*/?>|</p>|</div>)[ \t]*\r?\n?", "\n", text)
        text = html.unescape(TAG_RE.sub(" ", text))
    return text


def _embedded_message(part):
    """The message held by a ``message/rfc822`` or ``text/rfc822-headers`` part, or None."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload[0] if payload and isinstance(payload[0], Message) else None
    text = _part_text(part) or (payload if isinstance(payload, str) else "")
    return message_from_string(text, policy=compat32) if text else None


def _walk(msg):
    """Sort the body parts of ``msg`` without descending into attached original messages."""
    parts = _Parts([], [], [], [])
    stack = [(msg, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop(0)
        seen += 1
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            parts.delivery_status.append(part)
        elif ctype == "message/feedback-report":
            parts.feedback_reports.append(part)
        elif ctype in ("message/rfc822", "message/global", "text/rfc822-headers"):
            embedded = _embedded_message(part)
            if embedded is not None:
                parts.originals.append(embedded)
        elif part.is_multipart():
            if depth < MAX_DEPTH:
                payload = part.get_payload()
                stack.extend((sub, depth + 1) for sub in payload if isinstance(sub, Message))
        elif ctype.startswith("text/") or part is msg:
            parts.texts.append(_part_text(part))
    return parts


def _field_blocks(part):
    """The header blocks of a ``message/delivery-status`` or ``feedback-report`` part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = _part_text(part) or (payload if isinstance(payload, str) else "")
    blocks = re.split(r"\r?\n[ \t]*\r?\n", text.strip())
    return [message_from_string(block.strip() + "\n", policy=compat32) for block in blocks if block]


def _original_message_id(msg, parts, text=""):
    """The Message-ID of the message that bounced, from the attachment, the bounce's
    In-Reply-To/References, or a quoted ``Message-ID:`` line of the report text."""
    for original in parts.originals:
        message_id = _header(original, "Message-ID")
        if message_id:
            return message_id
    for name in ("In-Reply-To", "References"):
        ids = re.findall(r"<[^<>\s]+>", _header(msg, name))
        if ids:
            return ids[-1] if name == "References" else ids[0]
    match = MESSAGE_ID_RE.search(text)
    return match.group(1) if match else ""


# ---- kinds ----


def failure_kind(category, permanence, status=None, smtp_code=None):
    """``hard`` or ``soft`` for a recipient whose delivery was given up (see the module
    docstring): a category that says nothing about the address is ``soft``, then the class
    of the status (or reply code) decides, then the registry's permanence.

    :param category: registry category of the failure
    :param permanence: registry permanence (permanent, temporary, none)
    :param status: RFC 3463 status code or None
    :param smtp_code: SMTP reply code or None
    """
    if category in SOFT_CATEGORIES:
        return "soft"
    klass = (status or "")[:1] or str(smtp_code or "")[:1]
    if klass == "5":
        return "hard"
    if klass == "4" or permanence == "temporary":
        return "soft"
    return "hard"


def _finish(result, action, matcher):
    """Classify ``result`` with ``matcher`` and set its kind from the reported ``action``.

    :param action: failed, delayed, delivered or '' (unknown)
    """
    result.diagnostic = _truncate(result.diagnostic)
    _classify(result, matcher)
    if action == "failed":
        result.kind = failure_kind(
            result.category, result.permanence, result.status, result.smtp_code
        )
    elif action in ("delayed", "delivered"):
        result.kind = action
    else:
        result.kind = "unknown"
    return result


def _action(value):
    """An RFC 3464 ``Action`` value reduced to failed, delayed, delivered or ''."""
    value = (value or "").strip().lower()
    if value.startswith(("fail", "error", "bounce")):
        return "failed"
    if value.startswith("delay"):
        return "delayed"
    if value.startswith(("deliver", "relay", "expand")):
        return "delivered"
    return ""


# ---- ARF (RFC 5965) ----


def _parse_arf(msg, parts):
    """One ``complaint`` result per recipient of the feedback reports of ``msg``."""
    results = []
    message_id = _original_message_id(msg, parts)
    human = _truncate("\n".join(parts.texts))
    for report in parts.feedback_reports:
        for fields in _field_blocks(report)[:1]:
            feedback_type = _header(fields, "Feedback-Type").lower()
            recipients = []
            for value in fields.get_all("Original-Rcpt-To") or []:
                recipients += [a for a in _addresses(str(value)) if a not in recipients]
            for original in parts.originals:
                if not recipients:
                    recipients = _addresses(_header(original, "X-HmXmrOriginalRecipient"))
                if not recipients:
                    recipients = _addresses(_header(original, "To"))
            # a feedback loop that redacts the address (AOL): the Message-ID must tell
            recipients = [a for a in recipients if not REDACTED_RE.search(a.split("@")[0])]
            diagnostic = human or f"Feedback-Type: {feedback_type}"
            user_agent = _header(fields, "User-Agent")
            if user_agent:
                diagnostic = f"{diagnostic}\n{user_agent}"
            for recipient in recipients or [""]:
                results.append(_complaint(recipient, feedback_type, diagnostic, fields, message_id))
    return results


def _complaint(recipient, feedback_type, diagnostic, fields, message_id):
    """A complaint result; ``not-spam`` and ``auth-failure`` reports are no complaint."""
    result = BounceResult(
        recipient=recipient,
        kind="complaint",
        diagnostic=_truncate(diagnostic),
        reporting_mta=_dsn_value(_header(fields, "Reporting-MTA")),
        original_message_id=message_id,
        feedback_type=feedback_type,
        category="complaint",
        permanence="none",
    )
    if feedback_type == "not-spam":
        result.kind, result.category = "unknown", "unknown"
    elif feedback_type == "auth-failure":
        result.kind, result.category = "unknown", "authentication"
    return result


# ---- DSN (RFC 3464) ----


def _parse_dsn(msg, parts):
    """One result per recipient block of the ``message/delivery-status`` parts of ``msg``."""
    results = []
    text = "\n".join(parts.texts)
    message_id = _original_message_id(msg, parts, text)
    for part in parts.delivery_status:
        blocks = _field_blocks(part)
        reporting = ""
        for block in blocks:
            reporting = reporting or _dsn_value(_header(block, "Reporting-MTA"))
            recipient = ""
            for name in ("Original-Recipient", "Final-Recipient", "X-Actual-Recipient"):
                recipient = recipient or _normalize_address(_dsn_value(_header(block, name)))
            if recipient:
                result = _dsn_result(block, recipient, reporting, message_id, text)
                results.append(_finish(*result, parts.matcher))
    return results


def _dsn_result(block, recipient, reporting, message_id, text):
    """``(result, action)`` of one DSN recipient block, unclassified (the report text is its
    diagnostic when the block has none)."""
    diagnostic = _dsn_value(_header(block, "Diagnostic-Code"))
    status = _status(_header(block, "Status"))
    result = BounceResult(
        recipient=recipient,
        status=status,
        reporting_mta=reporting,
        remote_mta=_dsn_value(_header(block, "Remote-MTA")).split(" ")[0].rstrip("."),
        original_message_id=message_id,
    )
    if not diagnostic:
        diagnostic = _text_near(text, recipient)[1]
    code, reply_status, cleaned = _smtp_reply(diagnostic)
    result.smtp_code = code
    # a generic Status (5.0.0) loses to the reply's own code (5.7.1) of the same class
    if reply_status and (not status or (status.endswith(".0.0") and status[0] == reply_status[0])):
        result.status = reply_status
    result.diagnostic = cleaned or diagnostic
    action = _action(_header(block, "Action"))
    if not action and status:
        # no (or a non-standard) Action: the block's own Status tells 5.x.x and 2.x.x apart
        action = {"5": "failed", "2": "delivered"}.get(status[0], "")
    return result, action


# ---- automatic replies ----


def _looks_like_bounce(msg, strict=False):
    """True when the headers of ``msg`` say it is a bounce or a report, not a person's reply.

    :param strict: ignore the null ``Return-Path`` (some automatic replies have one too)
    """
    ctype = msg.get_content_type()
    sender = parseaddr(_header(msg, "From"))[1] or _header(msg, "From")
    null_return_path = msg.get("Return-Path") is not None and not _header(msg, "Return-Path").strip(
        "<> "
    )
    return bool(
        ctype == "multipart/report"
        or msg.get("X-Failed-Recipients")
        or msg.get("X-MS-Exchange-Message-Is-Ndr") is not None
        or BOUNCE_SENDER_RE.match(sender or "")
        or (null_return_path and not strict)
        or BOUNCE_SUBJECT_RE.search(_header(msg, "Subject"))
    )


def _auto_reply_signal(msg):
    """2 for an automatic reply by its headers, 1 by its subject only, 0 otherwise."""
    auto_submitted = _header(msg, "Auto-Submitted").lower()
    precedence = _header(msg, "Precedence").lower() or _header(msg, "X-Precedence").lower()
    if (
        auto_submitted.startswith("auto-")
        or _header(msg, "X-Autoreply")
        or _header(msg, "X-Autorespond")
        or precedence in AUTO_REPLY_PRECEDENCE
        or _header(msg, "X-Autogenerated").lower() == "reply"
        or "autoresponder" in _header(msg, "X-POST-MessageClass").lower()
    ):
        return 2
    return 1 if AUTO_REPLY_SUBJECT_RE.search(_header(msg, "Subject")) else 0


def _auto_reply(msg, parts):
    """The ``auto_reply`` result of ``msg``: the replying sender as recipient."""
    subject = _header(msg, "Subject")
    body = "\n".join(parts.texts)[:500]
    return BounceResult(
        recipient=_normalize_address(_header(msg, "From")),
        kind="auto_reply",
        diagnostic=_truncate(f"{subject}\n{body}"),
        original_message_id=_original_message_id(msg, parts),
        category="auto_reply",
        permanence="none",
    )


# ---- non-standard bounces ----


def _report_text(parts):
    """The human-readable report: the text parts up to the copy of the original message."""
    text = "\n".join(parts.texts)
    match = ORIGINAL_MARKER_RE.search(text)
    return text[: match.start()] if match and match.start() > 0 else text


def _text_near(text, recipient, window=700):
    """``(context, diagnostic)`` of ``recipient`` in a report ``text``.

    The context runs from the line that first names the recipient to the end of the SMTP
    reply that follows (or the next blank line, or the next recipient's line); the diagnostic
    is that reply with its continuation lines, else the reason written next to the address,
    else the heading above a bare address.
    """
    index = text.lower().find(recipient) if recipient else -1
    if index < 0:
        return "", ""
    line_start = text.rfind("\n", 0, index) + 1
    after = index + len(recipient)
    chunk = text[after : after + window]
    for match in RECIPIENT_LINE_RE.finditer(chunk):
        if match.group(1).lower() != recipient:
            chunk = chunk[: match.start()]
            break
    quoted = REMOTE_SERVER_RE.search(chunk)
    if quoted:
        return text[line_start : after + quoted.end()], quoted.group(1)
    code = CODE_RE.search(chunk)
    qmail = QMAIL_STATUS_RE.search(chunk)
    if code and (not qmail or code.start() < qmail.start()):
        reply = _reply_lines(chunk[code.start() :], code.group(1))
        return text[line_start : after + code.start()] + reply, reply
    following = chunk
    blank = chunk.find("\n\n")
    chunk = chunk if blank < 0 else chunk[:blank]
    reason = chunk.strip(" \t\r\n>:).")
    if text[line_start:after].strip(" \t<>:\"'").lower() != recipient:
        reason = (text[line_start:after] + chunk).strip()
    elif not reason:
        reason = _bare_address_reason(text[max(0, line_start - 300) : line_start], following)
    return text[line_start:after] + chunk, reason


def _bare_address_reason(before, after):
    """The reason of an address alone on its line: the next paragraph's first line, else the
    heading above it (neither when it names an address or starts the original message)."""
    rest = after.split("\n", 1)[1] if "\n" in after else ""
    for line in (rest.strip().split("\n", 1)[0], before.strip().rsplit("\n", 1)[-1]):
        candidate = line.strip()
        if candidate and "@" not in candidate and not ORIGINAL_MARKER_RE.match(candidate):
            return candidate[:300]
    return ""


def _reply_lines(text, code):
    """The SMTP reply at the start of ``text``: its first line and the continuation lines
    (indented, or repeating the reply ``code``) that follow it."""
    lines = text.split("\n")
    kept = [lines[0]]
    for line in lines[1:]:
        if not line.strip() or not (line[:1] in " \t" or line.startswith(code)):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def _text_recipients(msg, parts, report):
    """Recipients of a non-standard bounce that ``flufl.bounce`` does not know: the
    ``X-Failed-Recipients`` header, else the addresses of the report text."""
    found = _addresses(_header(msg, "X-Failed-Recipients"))
    if found or not _looks_like_bounce(msg, strict=True):
        return found
    own = _own_addresses(msg, parts)
    for match in ADDRESS_RE.finditer(report):
        address = _normalize_address(match.group(0))
        local = address.split("@")[0]
        if address and address not in own and address not in found:
            if not BOUNCE_SENDER_RE.match(local) and local not in ("abuse", "support"):
                found.append(address)
    return found[:50]


def _own_addresses(msg, parts):
    """Addresses that are not recipients: the bounce's From/To, the original's sender."""
    own = set()
    for name in ("From", "To", "Sender", "Reply-To"):
        own.update(_addresses(_header(msg, name)))
    for original in parts.originals:
        for name in ("From", "Return-Path", "Sender", "Reply-To"):
            own.update(_addresses(_header(original, name)))
    return own


def _parse_text_bounce(msg, parts):
    """Results of a bounce without DSN part, from ``flufl.bounce`` and the report text."""
    try:
        temporary, permanent = all_failures(msg)
    except (IndexError, KeyError, AttributeError, TypeError, ValueError, UnicodeError) as error:
        # a detector choked on a malformed header; the text heuristics below still run
        _logger.info("flufl.bounce failed on a message: %r", error)
        temporary = permanent = frozenset()
    report = _report_text(parts)
    text = "\n".join(parts.texts)
    message_id = _original_message_id(msg, parts, text)
    recipients = {}
    for address in sorted(permanent):
        recipients[_normalize_address(address.decode("ascii", "replace"))] = "failed"
    for address in sorted(temporary):
        recipients.setdefault(_normalize_address(address.decode("ascii", "replace")), "delayed")
    recipients.pop("", None)
    if not recipients:
        recipients = dict.fromkeys(_text_recipients(msg, parts, report), "failed")
    delay = bool(DELAY_RE.search(report) or DELAY_SUBJECT_RE.search(_header(msg, "Subject")))
    if not permanent and delay:
        recipients = dict.fromkeys(recipients, "delayed")
    reporting = REPORTING_RE.search(report)
    results = []
    for recipient, action in recipients.items():
        context, near = _text_near(report, recipient)
        if not context:
            context, near = _text_near(text, recipient)
        code, status, cleaned = _smtp_reply(near)
        qmail = QMAIL_STATUS_RE.search(near)
        remote = REMOTE_RE.search(context)
        result = BounceResult(
            recipient=recipient,
            smtp_code=code,
            status=status or (qmail.group(1) if qmail else None) or _status(near),
            diagnostic=cleaned or near,
            reporting_mta=reporting.group(1) if reporting else "",
            remote_mta=remote.group(1) if remote else "",
            original_message_id=message_id,
        )
        results.append(_finish(result, action, parts.matcher))
    return results


# ---- entry points ----


def _load(raw, max_size):
    """``raw`` as a compat32 ``Message`` (cut to ``max_size`` bytes), None when empty."""
    if isinstance(raw, Message):
        try:
            raw = raw.as_bytes(policy=compat32)
        except (LookupError, UnicodeError, ValueError, TypeError, AttributeError):
            return raw
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogateescape")
    if not isinstance(raw, bytes | bytearray | memoryview):
        return None
    data = bytes(raw[:max_size])
    if not data.strip():
        return None
    return message_from_bytes(data, policy=compat32)


def _envelope_recipients(original):
    """The recipients the attached original message was sent to, as far as its headers tell:
    the ``for <address>`` of its last ``Received`` header, else its ``To`` unless it went
    through a mailing list (whose address is no recipient of ours)."""
    received = original.get_all("Received") or []
    match = RECEIVED_FOR_RE.search(str(received[0])) if received else None
    if match:
        return [_normalize_address(match.group(1))]
    if any(original.get(name) for name in ("List-Id", "List-Post", "X-BeenThere")):
        return []
    return _addresses(_header(original, "To"))


def _unknown(msg, parts, diagnostic=""):
    """The single ``unknown`` result of a message nothing could be read from: its recipient
    is the original message's single recipient when a bounce carries one."""
    recipient = ""
    if msg is not None and parts is not None and _looks_like_bounce(msg):
        recipients = _addresses(_header(msg, "X-Failed-Recipients"))
        for original in parts.originals:
            recipients = recipients or _envelope_recipients(original)
        recipient = recipients[0] if len(recipients) == 1 else ""
    if not diagnostic and msg is not None and parts is not None:
        diagnostic = _header(msg, "Subject") + "\n" + _report_text(parts)[:1000]
    return BounceResult(
        recipient=recipient,
        diagnostic=_truncate(diagnostic),
        original_message_id=_original_message_id(msg, parts) if parts is not None else "",
    )


def _parse_message(msg, matcher):
    """All results of a loaded message, in order of trust (see the module docstring)."""
    parts = _walk(msg)
    parts.matcher = matcher
    results = _parse_arf(msg, parts) if parts.feedback_reports else []
    if not results and parts.delivery_status:
        results = _parse_dsn(msg, parts)
    auto_reply = 0 if results else _auto_reply_signal(msg)
    if auto_reply == 2 and not _looks_like_bounce(msg, strict=True):
        return [_auto_reply(msg, parts)]
    if not results:
        results = _parse_text_bounce(msg, parts)
    if not results and auto_reply:
        return [_auto_reply(msg, parts)]
    return _deduplicate(results) or [_unknown(msg, parts)]


def _deduplicate(results):
    """One result per recipient: the most severe when a report names one several times."""
    best = {}
    for result in results:
        kept = best.get(result.recipient)
        if kept is None or SEVERITY.index(result.kind) < SEVERITY.index(kept.kind):
            best[result.recipient] = result
    return list(best.values())


def parse_bounce(raw, max_size=MAX_SIZE, matcher=None):
    """Parse one message of the bounce mailbox into one result per recipient.

    Never raises: a message that cannot be read gives one ``unknown`` result (recipient ''
    unless one could be found), so that the caller keeps it for inspection.

    :param raw: the message: ``bytes``, ``str`` or ``email.message.Message``
    :param max_size: only this many bytes of a larger message are parsed
    :param matcher: the ``delivery_errors.Matcher`` that classifies failures (and so refines
        their kind); default: the one of the addon's seed data
    :return: list of :class:`BounceResult`, never empty
    """
    msg = parts = None
    try:
        msg = _load(raw, max_size)
        if msg is None:
            return [BounceResult(diagnostic="Empty message")]
        return _parse_message(msg, matcher if matcher is not None else _matcher())
    # The boundary of the parser: the email package's lazy decoding and flufl.bounce's
    # detectors (which re-raise whatever fails inside them) can raise nearly anything on
    # hostile input, and one unreadable message must never stop the bounce mailbox.
    except Exception as error:
        _logger.warning("Unreadable bounce message: %r", error)
        try:
            return [_unknown(msg, parts, f"Unreadable message: {error!r}")]
        except Exception:
            return [BounceResult(diagnostic=_truncate(f"Unreadable message: {error!r}"))]


def is_bounce_or_report(message):
    """True when ``message`` is a DSN, an ARF report or a recognisable non-standard bounce.

    Automatic replies are not bounces: :func:`parse_bounce` still reads them.

    :param message: ``email.message.Message``, ``bytes`` or ``str``; never raises
    """
    try:
        msg = _load(message, MAX_SIZE)
        if msg is None:
            return False
        parts = _walk(msg)
        if parts.delivery_status or parts.feedback_reports:
            return True
        results = _parse_message(msg, _matcher())
        return any(result.kind in REPORT_KINDS for result in results)
    # same boundary as parse_bounce: an unreadable message is no bounce we can use
    except Exception:
        return False


# ---- command line ----


def _cli_lines(path):
    """The JSON lines printed for one file (one per recipient, or one with ``error``)."""
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_SIZE + 1)
    except OSError as error:
        row = BounceResult(diagnostic=str(error)).as_dict()
        return [json.dumps({"file": path, **row, "error": str(error)}, ensure_ascii=False)]
    return [
        json.dumps({"file": path, **result.as_dict()}, ensure_ascii=False)
        for result in parse_bounce(raw)
    ]


def main(argv=None):
    """``python3 -m tools.bounce FILE...``: one JSON object per recipient per line; exit 0."""
    # flufl.bounce logs a detector's traceback before re-raising it: not for a CLI's output
    logging.getLogger("flufl.bounce").addHandler(logging.NullHandler())
    logging.getLogger("flufl.bounce").propagate = False
    for path in sys.argv[1:] if argv is None else argv:
        for line in _cli_lines(path):
            sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
