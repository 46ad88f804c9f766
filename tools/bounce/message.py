"""What every reader of the bounce parser shares: the result types, the walk over a
message's parts, header and address helpers, and the report text around a recipient.

Pure Python (no ORM).
"""

import html
import logging
import re
from dataclasses import dataclass
from dataclasses import field
from email.header import decode_header
from email.header import make_header
from email.message import Message
from email.utils import getaddresses
from email.utils import parseaddr
from functools import lru_cache

from ..delivery_errors import Matcher
from ..delivery_errors import default_matcher
from ..delivery_errors import parse_smtp_reply
from . import mime
from .patterns import led_by_first_letters

_logger = logging.getLogger(__package__)


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
#: categories that are evidence about the address itself: a failure of one of them is ``hard``
#: (the address is blocked at once); every other failure given up on is ``soft``
HARD_CATEGORIES = frozenset(
    {"recipient_unknown", "domain_unknown", "mailbox_disabled", "mailbox_moved"}
)
#: SMTP commands a failure can be reported after
COMMANDS = ("CONNECT", "HELO", "EHLO", "MAIL", "RCPT", "DATA")

#: an e-mail address (internationalized ones included: RFC 6531 local parts, IDN domains),
#: tried where a run of local-part characters starts (none matches from within a run)
ADDRESS_RE = re.compile(
    r"(?<![\w!#$%&'*+/=?^`{|}~.-])"
    r"[\w!#$%&'*+/=?^`{|}~.-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+"
)
STATUS_RE = re.compile(r"(?<![\d.])([245])\.([0-7])\.(\d{1,3})(?![\d.])")
CODE_RE = re.compile(r"(?<![\d.#\w])([45][0-5]\d)(?=[ \-:;]|$)", re.MULTILINE)
MESSAGE_ID_RE = re.compile(r"^\s*Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
REMOTE_SERVER_RE = led_by_first_letters(
    r"(?:Remote Server returned|Remote-Server hat|Le serveur distant a retourné"
    r"|Il server remoto ha restituito)\s*'([^']+)'",
    re.IGNORECASE,
)
QMAIL_STATUS_RE = re.compile(r"\(#([245]\.\d{1,3}\.\d{1,3})\)")
REPORTING_RE = led_by_first_letters(
    r"(?:mail system at host|qmail-send program at|Generating server:|Generierender Server:"
    r"|Serveur de g\S+ration\s*:)\s*([A-Za-z0-9.-]+[A-Za-z0-9])",
    re.IGNORECASE,
)
REMOTE_RE = re.compile(r"\bhost\s+([A-Za-z0-9.-]+\.[A-Za-z]{2,})\.?\s*\[", re.IGNORECASE)
#: (``\s*+``: possessive, as no marker starts with a space; a plain ``\s*`` gave back its
#: spaces one by one on every indented line of a long report: ten times slower)
ORIGINAL_MARKER_RE = re.compile(
    r"^\s*+(?:-{2,}\s*)?(?:This is a copy of the message|Below this line is a copy"
    r"|Original message follows|Original message headers|The original message(?! was received)"
    r"|Ursprüngliche Nachrichtenkopfzeilen|En-têtes du message d'origine"
    r"|Intestazioni del messaggio originale|Oryginalne nagłówki|The header of the original"
    r"|-+ ?(?:Original|Returned) Message ?-+|Return-Path:|Received: from)",
    re.IGNORECASE | re.MULTILINE,
)
#: a line that introduces what follows ("because:", "Reason:", "The following address
#: failed:", "Technical details of permanent failure:"), not a reason itself
LABEL_RE = re.compile(r"^[^.!?]{0,80}:$")
SEPARATOR_RE = re.compile(r"^[-=_*#~ ]{3,}$|^-{2,}[^-]{0,60}-{2,}$")
#: a header line of a copied message ("To:", "Date:", "Received: from")
HEADER_LINE_RE = re.compile(
    r"^(?:To|From|Subject|Sent|Date|Received|Message-ID|Return-Path|Cc):\s", re.IGNORECASE
)
#: a recipient's line of Sendmail's transcript: ``554 <kijitora@example.edu>... reason``
SENDMAIL_LINE_RE = re.compile(r"^\s*[245]\d\d[ -]<?[^\s<>]+@[^\s<>]+?>?\.\.\.\s*\S.*$")
#: :data:`ORIGINAL_MARKER_RE` at the start of a line after the first one
ORIGINAL_MARKER_LINE_RE = re.compile("\n" + ORIGINAL_MARKER_RE.pattern[1:], re.IGNORECASE)
#: the same, lower-case, for a lower-case text (case-insensitive matching of many
#: alternatives costs three times as much); the pattern has no upper-case escape (``\S``)
ORIGINAL_MARKER_LOWER_RE = re.compile(ORIGINAL_MARKER_LINE_RE.pattern.lower())
DELAY_RE = led_by_first_letters(
    r"THIS IS A WARNING ONLY|Delivery incomplete|will (?:be )?retr(?:y|ied)|will continue to"
    r" be made|do not resend your (?:original )?message|attempts will continue|will continue to"
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
#: the SMTP command a reply answered, as reports name it ("after RCPT TO", "in reply to
#: end of DATA command", "MAIL FROM:<...>"); led by a look-ahead for the characters its
#: matches start with (a space or ">" for the transcript line): searched twice as fast
COMMAND_RE = re.compile(
    r"(?=[aditw>\s])(?:\b(?:after|in reply to|to|while sending|during|at)\s+(?:the\s+)?(?:end of\s+)?"
    r"(RCPT\s+TO|MAIL\s+FROM|DATA|HELO|EHLO|RCPT|MAIL|(?:end of )?data|connect|initial connection)\b"
    r"|^\s*>>>\s+(RCPT|MAIL|DATA|HELO|EHLO)\b)",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass
class BounceResult:
    """The outcome for one recipient of one message of the bounce mailbox.

    ``kind`` is one of :data:`KINDS`; ``category`` and ``permanence`` come from the delivery
    error registry's matcher (``tools/delivery_errors/``).
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
    smtp_command: str = ""
    reader: str = ""
    #: the ``Final-Recipient`` of a DSN whose ``Original-Recipient`` (the address the message
    #: was sent to: ``recipient``) differs, as after an alias or a forward; '' otherwise
    final_recipient: str = ""

    def as_dict(self):
        """The result as a plain dict (JSON serialisable: every field is a str, int or None,
        so a shallow copy; ``dataclasses.asdict`` deep-copies and was a hot spot)."""
        return dict(vars(self))


@dataclass
class Found:
    """What a reader found about one recipient, before classification.

    ``action`` is ``failed``, ``delayed``, ``delivered`` or '' (unknown); ``diagnostic`` is
    the server's own words (its SMTP reply when there is one); ``command`` the SMTP command
    the reply answered (one of :data:`COMMANDS`, '' when unknown).
    """

    recipient: str
    action: str = "failed"
    status: str | None = None
    smtp_code: int | None = None
    command: str = ""
    diagnostic: str = ""
    remote_mta: str = ""
    reporting_mta: str = ""
    final_recipient: str = ""


@dataclass
class Parts:
    """What one walk over a message found, by kind of body part, and the registry matcher
    that classifies its failures. ``text`` and ``report`` are computed once, on demand."""

    delivery_status: list
    feedback_reports: list
    originals: list
    texts: list
    matcher: object = None
    cache: dict = field(default_factory=dict)

    @property
    def text(self):
        """All text parts, joined."""
        if "text" not in self.cache:
            self.cache["text"] = "\n".join(self.texts)
        return self.cache["text"]

    @property
    def report(self):
        """The human-readable report: the text up to the copy of the original message."""
        if "report" not in self.cache:
            self.cache["report"] = report_text(self)
        return self.cache["report"]


# ---- registry (tools/delivery_errors/) ----


#: the rule-less matcher used when the seed data cannot be read (built once)
_FALLBACK = []


def registry_matcher():
    """The registry matcher of the addon's seed data (cached by ``delivery_errors``); the
    built-in RFC 3463 classification alone when the seed data cannot be read."""
    try:
        return default_matcher()
    except (OSError, SyntaxError, ValueError) as error:  # ParseError is a SyntaxError
        if not _FALLBACK:
            _logger.warning("Delivery error registry unreadable, RFC 3463 fallback: %r", error)
            _FALLBACK.append(Matcher(()))
        return _FALLBACK[0]


def classify(result, matcher):
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


def smtp_reply(text):
    """``(code, status, cleaned text)`` of an SMTP reply, by the registry's reader."""
    code, status, cleaned = parse_smtp_reply(text or "")
    return code, first_status(status), cleaned


# ---- small readers ----


def header(msg, name):
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


@lru_cache(maxsize=1024)
def normalize_address(value):
    """The lower-case address found in ``value`` ('' when none); the values read last are
    kept (the readers ask for the same ``From`` and recipients, one after the other)."""
    if not value:
        return ""
    bare = value.strip().strip("<>")
    if ADDRESS_RE.fullmatch(bare):
        return bare.lower().strip(".")
    start = value.find("<")
    if start >= 0 and '"' not in value and value.count("<") == 1:
        # "Name <address>": what the full address parser would return, at a fraction
        bare = value[start + 1 : value.find(">", start)].strip()
        if ADDRESS_RE.fullmatch(bare):
            return bare.lower().strip(".")
    _name, address = parseaddr(value)
    match = ADDRESS_RE.fullmatch(address.strip("<>\"' ")) if address else None
    match = match or ADDRESS_RE.search(value)
    return match.group(0).lower().strip(".") if match else ""


def addresses(value):
    """All addresses of an address-list header value, lower-case, in order."""
    found = []
    for _name, raw_address in getaddresses([value or ""]):
        address = normalize_address(raw_address)
        if address and address not in found:
            found.append(address)
    return found


def dsn_value(value):
    """A DSN field's value without its type prefix (``rfc822;``, ``dns;``, ``smtp;``)."""
    return DSN_TYPE_RE.sub("", " ".join((value or "").split()), count=1)


def first_status(text):
    """The first RFC 3463 enhanced status code in ``text``, or None."""
    match = STATUS_RE.search(text or "")
    return ".".join(match.groups()) if match else None


def truncate(text):
    """``text`` collapsed to single spaces per line and cut to :data:`MAX_DIAGNOSTIC` chars."""
    text = CONTROL_RE.sub("", text or "")
    text = "\n".join(" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{2,}", "\n", text).strip()[:MAX_DIAGNOSTIC]


def part_text(part):
    """The decoded text of a non-multipart ``part`` ('' when it has none), tags stripped."""
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError):
        payload = None
    if not isinstance(payload, bytes):
        return ""
    payload = payload[:MAX_PART_TEXT]
    charset = part.get_content_charset() or "utf-8"
    if b"\x1b$B" in payload and charset in ("utf-8", "us-ascii"):
        # Japanese servers (Domino, Notes, the carriers) send ISO-2022-JP undeclared
        charset = "iso-2022-jp"
    try:
        text = payload.decode(charset, errors="replace")
    except (LookupError, UnicodeError, ValueError):
        text = payload.decode("utf-8", errors="replace")
    if part.get_content_subtype() == "html":
        text = re.sub(r"(?i)(?:<br\s*/?>|</p>|</div>)[ \t]*\r?\n?", "\n", text)
        text = html.unescape(TAG_RE.sub(" ", text))
    return text


def embedded_message(part):
    """The message held by a ``message/rfc822`` or ``text/rfc822-headers`` part, or None."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload[0] if payload and isinstance(payload[0], Message) else None
    text = part_text(part) or (payload if isinstance(payload, str) else "")
    return parse_text(text) if text else None


def walk(msg):
    """Sort the body parts of ``msg`` without descending into attached original messages."""
    parts = Parts([], [], [], [])
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
            embedded = embedded_message(part)
            if embedded is not None:
                parts.originals.append(embedded)
        elif part.is_multipart():
            if depth < MAX_DEPTH:
                payload = part.get_payload()
                stack.extend((sub, depth + 1) for sub in payload if isinstance(sub, Message))
        elif ctype.startswith("text/") or part is msg or ctype.startswith("multipart/"):
            # a multipart whose boundary cannot be found is text (Verizon's, with
            # "boundary=" on a line of its own)
            parts.texts.append(part_text(part))
    return parts


def field_blocks(part):
    """The header blocks of a ``message/delivery-status`` or ``feedback-report`` part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = part_text(part) or (payload if isinstance(payload, str) else "")
    blocks = re.split(r"\r?\n[ \t]*\r?\n", text.strip())
    return [parse_text(block.strip() + "\n") for block in blocks if block]


def original_message_id(msg, parts, text=""):
    """The Message-ID of the message that bounced, from the attachment, the bounce's
    In-Reply-To/References, or a quoted ``Message-ID:`` line of the report text."""
    for original in parts.originals:
        message_id = header(original, "Message-ID")
        if message_id:
            return message_id
    for name in ("In-Reply-To", "References"):
        ids = re.findall(r"<[^<>\s]+>", header(msg, name))
        if ids:
            return ids[-1] if name == "References" else ids[0]
    match = MESSAGE_ID_RE.search(text)
    return match.group(1) if match else ""


# ---- report text ----


@lru_cache(maxsize=256)
def command_of(text):
    """The SMTP command (RCPT, MAIL, DATA, HELO, EHLO, CONNECT) a report ``text`` says the
    reply answered, '' when it does not say (the texts read last are kept: a diagnostic is
    read by its reader, then again when its result is made)."""
    match = COMMAND_RE.search(text or "")
    if not match:
        return ""
    word = (match.group(1) or match.group(2)).upper().split()[-1]
    return {"TO": "RCPT", "FROM": "MAIL", "CONNECTION": "CONNECT"}.get(word, word)


def report_text(parts):
    """The human-readable report: the text parts up to the copy of the original message."""
    text = "\n".join(parts.texts)
    # searched from the line breaks only (a literal first character: a fast scan)
    if ORIGINAL_MARKER_RE.match(text):
        return text
    lower = text.lower()
    if len(lower) == len(text):
        match = ORIGINAL_MARKER_LOWER_RE.search(lower)
    else:  # a character whose lower case is longer ("İ"): offsets would shift
        match = ORIGINAL_MARKER_LINE_RE.search(text)
    return text[: match.start() + 1] if match else text


def text_near(text, recipient, window=700):
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
    line_end = text.find("\n", after)
    sendmail = SENDMAIL_LINE_RE.match(text[line_start : line_end if line_end >= 0 else None])
    if sendmail:
        # Sendmail's "554 <kijitora@example.edu>... Remote protocol error": the reply of
        # this recipient is its own line, the lines below belong to others
        return sendmail.group(0), sendmail.group(0).strip()
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
        reply = reply_lines(chunk[code.start() :], code.group(1))
        return text[line_start : after + code.start()] + reply, reply
    following = chunk
    blank = chunk.find("\n\n")
    chunk = chunk if blank < 0 else chunk[:blank]
    reason = chunk.strip(" \t\r\n>:).")
    if text[line_start:after].strip(" \t<>:\"'").lower() != recipient:
        reason = (text[line_start:after] + chunk).strip()
    elif not reason:
        reason = bare_address_reason(text[max(0, line_start - 300) : line_start], following)
    return text[line_start:after] + chunk, reason


def bare_address_reason(before, after):
    """The reason of an address alone on its line: the paragraph that follows it (past a
    label such as "because:", "Reason:" or "Technical details of permanent failure:"), else
    the paragraph above it (past the label that introduces the address list). Neither when it
    names an address or starts the original message."""
    rest = after.split("\n", 1)[1] if "\n" in after else ""
    below = _reason_lines(rest.split("\n"))
    if below:
        return below
    return _reason_lines(list(reversed(before.split("\n"))), upwards=True)


def _reason_lines(lines, upwards=False):
    """The first paragraph of ``lines`` that is a reason (at most 3 lines, joined), skipping
    blank lines and labels; '' when an address or the original message comes first."""
    kept = []
    for raw in lines[:30]:
        line = raw.strip()
        if not line or LABEL_RE.match(line) or SEPARATOR_RE.match(line):
            if kept:
                break
            continue
        if "@" in line or ORIGINAL_MARKER_RE.match(line) or HEADER_LINE_RE.match(line):
            break
        kept.append(line)
        if len(kept) == 3:
            break
    if upwards:
        kept.reverse()
    return " ".join(kept)[:300]


def reply_lines(text, code):
    """The SMTP reply at the start of ``text``: its first line and the continuation lines
    (indented, or repeating the reply ``code``) that follow it."""
    lines = text.split("\n")
    kept = [lines[0]]
    for line in lines[1:]:
        if not line.strip() or not (line[:1] in " \t" or line.startswith(code)):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def own_addresses(msg, parts):
    """Addresses that are not recipients: the bounce's From/To, the original's sender."""
    own = set()
    # a plain address search: the full address-list parser costs more than the whole report
    for name in ("From", "To", "Sender", "Reply-To"):
        own.update(match.lower() for match in ADDRESS_RE.findall(header(msg, name)))
    for original in parts.originals:
        for name in ("From", "Return-Path", "Sender", "Reply-To"):
            own.update(match.lower() for match in ADDRESS_RE.findall(header(original, name)))
    return own


# ---- message ----


def looks_like_bounce(msg, strict=False):
    """True when the headers of ``msg`` say it is a bounce or a report, not a person's reply.

    :param strict: ignore the null ``Return-Path`` (some automatic replies have one too)
    """
    ctype = msg.get_content_type()
    sender = parseaddr(header(msg, "From"))[1] or header(msg, "From")
    null_return_path = msg.get("Return-Path") is not None and not header(msg, "Return-Path").strip(
        "<> "
    )
    return bool(
        ctype == "multipart/report"
        or msg.get("X-Failed-Recipients")
        or msg.get("X-MS-Exchange-Message-Is-Ndr") is not None
        or BOUNCE_SENDER_RE.match(sender or "")
        or (null_return_path and not strict)
        or BOUNCE_SUBJECT_RE.search(header(msg, "Subject"))
    )


def load(raw, max_size):
    """``raw`` as a compat32 ``Message`` (cut to ``max_size`` bytes), None when empty."""
    if isinstance(raw, Message):
        # imported here: email.policy (its header registry) costs 5 ms at start, and only a
        # message given as a Message object needs it
        from email.policy import compat32

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
    if b"\r" in data:
        # CRLF (Windows, SMTP) and CR (old Mac) line endings read as LF: same result
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    # bytes as ``email.message_from_bytes`` reads them, by the splitter of :mod:`.mime`
    return mime.parse(data.decode("ascii", errors="surrogateescape"))


def parse_text(text):
    """The ``compat32`` ``Message`` of a decoded message ``text`` (any line endings)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return mime.parse(text)
