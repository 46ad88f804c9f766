"""Bounce and complaint parser: one raw message in, one result per recipient out.

Pure Python (no ORM). A message is read by the first reader that recognises it, tried in
this order:

1. RFC 5965 ARF feedback reports (:mod:`.arf`): one ``complaint`` per complaining recipient.
2. The readers of mail server families and providers whose bounces are not plain RFC 3464
   (:data:`READERS`, one small module each: :mod:`.exim`, :mod:`.qmail`...). Each detects
   its own format and returns, per recipient, the status, the reply code, the SMTP command
   that failed and the server's own words.
3. RFC 3464 DSNs (:mod:`.dsn`, ``message/delivery-status`` parts).
   A DSN quoted whole in a text part (a forwarded bounce) is read as the message.
4. Automatic replies (:mod:`.autoreply`) that do not look like a bounce: ``auto_reply``.
5. The plain-text fallback (:mod:`.fallback`): recipients found by ``flufl.bounce``, the
   ``X-Failed-Recipients`` header or the report text, the reply read near each address.

Adding a format is adding a module with ``NAME`` and ``read(msg, parts)`` (a list of
:class:`~.message.Found`, empty when the message is not of its format), listed in
:data:`READERS`, and its samples under ``tests/bounces/``.

Kinds: ``hard`` (a failure that is evidence about the address: unknown user or domain,
disabled or moved mailbox; see :mod:`.verdict`), ``soft`` (any other failure given up on),
``delayed`` (still being retried: never a bounce), ``complaint``, ``auto_reply``,
``delivered`` and ``unknown`` (unreadable: the caller keeps the message).

:func:`parse_bounce` never raises: truncated, huge, badly encoded or garbage input gives
``unknown`` results. ``python3 -m tools.bounce FILE...`` prints one JSON line per recipient.
"""

import logging
import re

from . import amazonses
from . import amazonworkmail
from . import arf
from . import autoreply
from . import domino
from . import dragonfly
from . import dsn
from . import exchange2003
from . import exchange2007
from . import exim
from . import fallback
from . import fml
from . import gmail
from . import gmx
from . import googlegroups
from . import imailserver
from . import interscan
from . import jmrp
from . import kddi
from . import mailmarshal
from . import mfilter
from . import mimecast
from . import opensmtpd
from . import qmail
from . import v5sendmail
from . import verizon
from . import x3
from . import yahoo
from . import zoho
from .message import KINDS
from .message import MAX_DIAGNOSTIC
from .message import MAX_SIZE
from .message import RECEIVED_FOR_RE
from .message import REPORT_KINDS
from .message import SEVERITY
from .message import STATUS_RE
from .message import BounceResult
from .message import Found
from .message import addresses
from .message import header
from .message import load
from .message import looks_like_bounce
from .message import normalize_address
from .message import original_message_id
from .message import registry_matcher
from .message import truncate
from .message import walk
from .verdict import failure_kind
from .verdict import finish

__all__ = (
    "KINDS",
    "MAX_DIAGNOSTIC",
    "MAX_SIZE",
    "READERS",
    "REPORT_KINDS",
    "STATUS_RE",
    "BounceResult",
    "Found",
    "failure_kind",
    "is_bounce_or_report",
    "parse_bounce",
)

_logger = logging.getLogger(__package__)

#: the readers of mail server families and providers, tried in this order (see docstring)
READERS = (
    jmrp,
    amazonses,
    amazonworkmail,
    googlegroups,
    gmail,
    gmx,
    exim,
    yahoo,
    qmail,
    opensmtpd,
    zoho,
    mimecast,
    domino,
    exchange2003,
    exchange2007,
    kddi,
    interscan,
    imailserver,
    mailmarshal,
    mfilter,
    v5sendmail,
    verizon,
    fml,
    dragonfly,
    x3,
)


#: a DSN quoted whole in a text part (a helpdesk forwarding a bounce inline, OCN): the
#: header block that declares it starts after the blank line before this line
EMBEDDED_REPORT_RE = re.compile(r"^Content-Type:\s*multipart/report\b", re.I | re.M)
HEADER_LINE_RE = re.compile(r"^[A-Za-z][\w-]*:[ \t]", re.M)
#: a delivery-status part left in a text part by a broken boundary line (indented: the
#: multipart could not be split): its fields follow the blank line after this line
EMBEDDED_STATUS_RE = re.compile(r"^Content-Type:\s*message/delivery-status\b.*\n\n", re.I | re.M)
#: where such a part ends: the next boundary line or part header
PART_END_RE = re.compile(r"^\s*--\S|^Content-Type:", re.I | re.M)


def read_message(msg, matcher, depth=0):
    """All results of a loaded message, by the first reader that knows it."""
    parts = walk(msg)
    parts.matcher = matcher
    if not parts.delivery_status and not parts.feedback_reports and depth < 1:
        # a report quoted in the text, or attached whole by a gateway that passes another
        # server's bounce on (its own text then names no reason)
        embedded = embedded_report(parts.text) or attached_report(parts)
        if embedded is not None:
            results = read_message(embedded, matcher, depth + 1)
            if any(result.recipient for result in results):
                return results
        statuses = embedded_status(parts.text)
        if statuses:
            parts.delivery_status.extend(statuses)
            # the report for the eyes ends where the delivery-status fields start
            start = EMBEDDED_STATUS_RE.search(parts.report)
            parts.cache["report"] = parts.report[: start.start()] if start else parts.report
    if parts.feedback_reports:
        results = arf.read_arf(msg, parts)
        if results:
            return deduplicate(results)
    found, name = [], ""
    for reader in READERS:
        found = reader.read(msg, parts)
        if found:
            name = reader.NAME
            break
    if not found and parts.delivery_status:
        found, name = dsn.read(msg, parts), dsn.NAME
    # a delivery report is never an automatic reply, even one that names no recipient
    signal = 0 if found or parts.delivery_status else autoreply.auto_reply_signal(msg)
    if signal == 2 and not looks_like_bounce(msg, strict=True):
        return [autoreply.auto_reply(msg, parts)]
    if not found:
        found, name = fallback.read(msg, parts), fallback.NAME
    if not found and signal:
        return [autoreply.auto_reply(msg, parts)]
    message_id = original_message_id(msg, parts, parts.text)
    results = [finish(one, matcher, message_id, name) for one in found if one.recipient]
    return deduplicate(results) or [unknown_result(msg, parts)]


def embedded_report(text):
    """The multipart/report message quoted whole in a report ``text``, or None."""
    if "ultipart/report" not in text:
        return None
    match = EMBEDDED_REPORT_RE.search(text)
    if not match:
        return None
    start = text.rfind("\n\n", 0, match.start())
    start = 0 if start < 0 else start + 2
    # lines before the first header line (a separator, the mbox "From MAILER-DAEMON ..."
    # line) are no part of the message
    header_line = HEADER_LINE_RE.search(text, start, match.start())
    return load(text[header_line.start() if header_line else start :], MAX_SIZE)


def attached_report(parts):
    """The delivery report attached whole as the copy of the "original" (a gateway passing
    another server's bounce on), or None."""
    for original in parts.originals:
        if original.get_content_type() == "multipart/report":
            return original
    return None


def embedded_status(text):
    """The ``message/delivery-status`` parts left in a report ``text`` by a boundary the
    multipart could not be split at (list, empty when none)."""
    if "elivery-status" not in text:
        return []
    found = []
    for match in EMBEDDED_STATUS_RE.finditer(text):
        end = PART_END_RE.search(text, match.end())
        fields = text[match.end() : end.start() if end else len(text)]
        found.append(load(f"Content-Type: message/delivery-status\n\n{fields}", MAX_SIZE))
    return [part for part in found if part is not None]


def deduplicate(results):
    """One result per recipient: the most severe when a report names one several times."""
    best = {}
    for result in results:
        kept = best.get(result.recipient)
        if kept is None or SEVERITY.index(result.kind) < SEVERITY.index(kept.kind):
            best[result.recipient] = result
    return list(best.values())


def envelope_recipients(original):
    """The recipients the attached original message was sent to, as far as its headers tell:
    the ``for <address>`` of its last ``Received`` header, else its ``To`` unless it went
    through a mailing list (whose address is no recipient of ours)."""
    received = original.get_all("Received") or []
    match = RECEIVED_FOR_RE.search(str(received[0])) if received else None
    if match:
        return [normalize_address(match.group(1))]
    if any(original.get(name) for name in ("List-Id", "List-Post", "X-BeenThere")):
        return []
    return addresses(header(original, "To"))


def unknown_result(msg, parts, diagnostic=""):
    """The single ``unknown`` result of a message nothing could be read from: its recipient
    is the original message's single recipient when a bounce carries one."""
    recipient = ""
    if msg is not None and parts is not None and looks_like_bounce(msg):
        recipients = addresses(header(msg, "X-Failed-Recipients"))
        for original in parts.originals:
            recipients = recipients or envelope_recipients(original)
        recipient = recipients[0] if len(recipients) == 1 else ""
    if not diagnostic and msg is not None and parts is not None:
        diagnostic = header(msg, "Subject") + "\n" + parts.report[:1000]
    return BounceResult(
        recipient=recipient,
        diagnostic=truncate(diagnostic),
        original_message_id=original_message_id(msg, parts) if parts is not None else "",
    )


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
        msg = load(raw, max_size)
        if msg is None:
            return [BounceResult(diagnostic="Empty message")]
        return read_message(msg, matcher if matcher is not None else registry_matcher())
    # The boundary of the parser: the email package's lazy decoding, flufl.bounce's
    # detectors (which re-raise whatever fails inside them) and the readers can raise nearly
    # anything on hostile input, and one unreadable message must never stop the mailbox.
    except Exception as error:
        _logger.warning("Unreadable bounce message: %r", error)
        try:
            return [unknown_result(msg, parts, f"Unreadable message: {error!r}")]
        except Exception:
            return [BounceResult(diagnostic=truncate(f"Unreadable message: {error!r}"))]


def is_bounce_or_report(message):
    """True when ``message`` is a DSN, an ARF report or a recognisable non-standard bounce.

    Automatic replies are not bounces: :func:`parse_bounce` still reads them.

    :param message: ``email.message.Message``, ``bytes`` or ``str``; never raises
    """
    try:
        msg = load(message, MAX_SIZE)
        if msg is None:
            return False
        parts = walk(msg)
        if parts.delivery_status or parts.feedback_reports:
            return True
        results = read_message(msg, registry_matcher())
        return any(result.kind in REPORT_KINDS for result in results)
    # same boundary as parse_bounce: an unreadable message is no bounce we can use
    except Exception:
        return False
