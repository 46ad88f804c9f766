"""The last reader: a bounce no other reader knows. Recipients found by ``flufl.bounce``
(or ``X-Failed-Recipients``, or the addresses of the report text), the SMTP reply read from
the text near each address.
"""

import logging
import re

from .message import ADDRESS_RE
from .message import BOUNCE_SENDER_RE
from .message import DELAY_RE
from .message import DELAY_SUBJECT_RE
from .message import QMAIL_STATUS_RE
from .message import REMOTE_RE
from .message import REPORTING_RE
from .message import Found
from .message import addresses
from .message import first_status
from .message import header
from .message import looks_like_bounce
from .message import normalize_address
from .message import own_addresses
from .message import text_near

NAME = "fallback"

#: a quoted Message-ID (or a reference to one, or an envelope id; quoted with ">" too) of
#: the report text: an identifier shaped like an address, never a recipient
MESSAGE_ID_LINE_RE = re.compile(
    r"^[\s>]*(?:Message-ID|In-Reply-To|References|Original-Envelope-Id)\s*:\s*(.*)$",
    re.IGNORECASE | re.MULTILINE,
)
#: a queue identifier shaped like an address in a quoted Received line: ``id <...@host>``
QUEUE_ID_RE = re.compile(r"\bid\s+<([^<>\s]+@[^<>\s]+)>", re.IGNORECASE)
#: the envelope sender of a quoted SMTP transcript: ours, never a recipient
MAIL_FROM_RE = re.compile(r"\bMAIL\s+FROM:\s*<([^<>\s]+@[^<>\s]+)>", re.IGNORECASE)

_logger = logging.getLogger(__package__)


def text_recipients(msg, parts, report):
    """Recipients of a non-standard bounce that ``flufl.bounce`` does not know: the
    ``X-Failed-Recipients`` header, else the addresses of the report text."""
    found = addresses(header(msg, "X-Failed-Recipients"))
    if found or not looks_like_bounce(msg, strict=True):
        return found
    own = own_addresses(msg, parts)
    identifiers = QUEUE_ID_RE.findall(report) + MAIL_FROM_RE.findall(report)
    for line in MESSAGE_ID_LINE_RE.findall(report) + identifiers:
        own = own | {normalize_address(one) for one in ADDRESS_RE.findall(line)}
    for match in ADDRESS_RE.finditer(report):
        address = normalize_address(match.group(0))
        local = address.split("@")[0]
        if address and address not in own and address not in found:
            if not BOUNCE_SENDER_RE.match(local) and local not in ("abuse", "support"):
                found.append(address)
    return found[:50]


def _flufl_failures(msg):
    """``(temporary, permanent)`` address sets of ``flufl.bounce`` (imported on first use)."""
    # imported here: costs 35 ms at start, and most messages never need it
    from flufl.bounce import all_failures

    try:
        return all_failures(msg)
    except (IndexError, KeyError, AttributeError, TypeError, ValueError, UnicodeError) as error:
        # a detector choked on a malformed header; the text heuristics still ran
        _logger.info("flufl.bounce failed on a message: %r", error)
        return frozenset(), frozenset()


def read(msg, parts):
    """One :class:`Found` per recipient of a bounce no other reader knows, from
    ``flufl.bounce`` and the report text."""
    report = parts.report
    temporary = permanent = frozenset()
    own = text_recipients(msg, parts, report)
    if not own:
        # flufl.bounce knows more old formats, but costs more than all the rest: last resort
        temporary, permanent = _flufl_failures(msg)
    recipients = {}
    for address in sorted(permanent):
        recipients[normalize_address(address.decode("ascii", "replace"))] = "failed"
    for address in sorted(temporary):
        recipients.setdefault(normalize_address(address.decode("ascii", "replace")), "delayed")
    recipients.pop("", None)
    if not recipients:
        recipients = dict.fromkeys(own, "failed")
    delay = bool(DELAY_RE.search(report) or DELAY_SUBJECT_RE.search(header(msg, "Subject")))
    if not permanent and delay:
        recipients = dict.fromkeys(recipients, "delayed")
    reporting = REPORTING_RE.search(report)
    found = []
    for recipient, action in recipients.items():
        context, near = text_near(report, recipient)
        if not context:
            context, near = text_near(parts.text, recipient)
        qmail = QMAIL_STATUS_RE.search(near)
        remote = REMOTE_RE.search(context)
        found.append(
            Found(
                recipient=recipient,
                action=action,
                status=(qmail.group(1) if qmail else None) or first_status(near),
                diagnostic=near,
                reporting_mta=reporting.group(1) if reporting else "",
                remote_mta=remote.group(1) if remote else "",
            )
        )
    return found
