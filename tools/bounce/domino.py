"""IBM (Lotus) Domino and Notes.

Domino: "Your message ... was not delivered to:" then the recipient, then "because:" and
the reason ("User some.name (x@example.jp) not listed in Domino Directory"); the report is
often in the server's language and charset (ISO-2022-JP). Older Notes SMTP gateways:
"------- Failure Reasons --------", the reason, then the recipient.
"""

import re

from .helpers import paragraph_after
from .message import Found
from .message import normalize_address

NAME = "domino"

DELIVERED_TO_RE = re.compile(r"was not delivered to:", re.IGNORECASE)
BECAUSE_RE = re.compile(r"^\s*because:", re.IGNORECASE | re.MULTILINE)
FAILURE_REASONS_RE = re.compile(r"^-+\s*Failure Reasons\s*-+\s*$", re.IGNORECASE | re.MULTILINE)


def read(msg, parts):
    """The recipients of a Domino or Notes bounce, [] when ``msg`` is none."""
    report = parts.report
    if DELIVERED_TO_RE.search(report) and BECAUSE_RE.search(report):
        recipients = paragraph_after(report, DELIVERED_TO_RE).split("\n")
        reason = paragraph_after(report, BECAUSE_RE)
        return _found(recipients, reason)
    if FAILURE_REASONS_RE.search(report):
        block = paragraph_after(report, FAILURE_REASONS_RE)
        lines = block.split("\n")
        reason = " ".join(line for line in lines if "@" not in line)
        return _found([line for line in lines if "@" in line], reason)
    return []


def _found(lines, reason):
    """One failed :class:`Found` per address of ``lines``, all with ``reason``."""
    found = []
    for line in lines:
        recipient = normalize_address(line)
        if recipient and all(one.recipient != recipient for one in found):
            found.append(Found(recipient=recipient, diagnostic=" ".join(reason.split())))
    return found
