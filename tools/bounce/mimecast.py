"""Mimecast gateway notices ("[Postmaster] Email Delivery Failure", with ``X-Mimecast-*`` or
``X-MC-System`` headers).

Format: each item follows its label on a line of its own that starts with "-- "::

    An email that you attempted to send to the following address could not be delivered:
    -- sabineko@example.org

    The problem appears to be :
    -- Recipient email address is possibly incorrect

    Additional information follows :
    -- 5.4.1 Recipient address rejected: Access denied.

The "additional information" is the next server's reply (status first, without the reply
code); Mimecast's own guess ("the problem appears to be") is used only when it is missing.
The ``message/delivery-status`` part Mimecast adds writes its fields as "Name : value",
which no header reader takes, so the text is read.
"""

import re

from .message import Found
from .message import normalize_address

NAME = "mimecast"

HEADERS = ("X-Mimecast-Originator", "X-MC-System", "X-Mimecast-Spam-Score")
ITEM_RE = re.compile(r"^--[ \t]+(\S.*)$")
PROBLEM = "The problem appears to be"
MORE = "Additional information follows"


def read(msg, parts):
    """The recipients of a Mimecast notice, [] when ``msg`` is none."""
    report = parts.report
    if PROBLEM not in report or all(msg.get(name) is None for name in HEADERS):
        return []
    items = _items(report)
    recipients = [normalize_address(item) for item in items.get("address", [])]
    words = " ".join(items.get("more") or items.get("problem") or [])
    return [
        Found(recipient=recipient, diagnostic=words)
        for recipient in dict.fromkeys(recipients)
        if recipient
    ]


def _items(report):
    """The "-- " items of the report by label: ``address``, ``problem``, ``more``; an item
    wrapped over several lines (up to a blank line) is joined."""
    items = {}
    label = "address"
    current = None
    for raw in report.split("\n"):
        line = raw.strip()
        if line.startswith(PROBLEM):
            label, current = "problem", None
        elif line.startswith(MORE):
            label, current = "more", None
        match = ITEM_RE.match(line)
        if match:
            current = [match.group(1)]
            items.setdefault(label, []).append(current)
        elif not line:
            current = None
        elif current is not None and label != "address":
            current.append(line)
    return {name: [" ".join(lines) for lines in found] for name, found in items.items()}
