"""Zoho Mail notices (sent from ``mailer-daemon@mail.zoho.com``, with an ``X-ZohoMail``
header).

Format: "This message was created automatically by mail delivery software." then one line
per recipient, the address, Zoho's label and the remote reply split in two "ERROR_CODE"
fields (the reply code, then the status and the words)::

    kijitora@example.co.jp Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <...>... User Unknown

A delay warning ("THIS IS A WARNING MESSAGE ONLY", "Message will be retried for 4 more
day(s)") names the recipient in brackets::

    [Status: Error, Address: <kijitora@example.co.jp>, ResponseCode 421, , Host not reachable.]
"""

import re

from .message import DELAY_RE
from .message import Found
from .message import header
from .message import normalize_address

NAME = "zoho"

SENDER_RE = re.compile(r"@mail\.zoho(?:mail)?\.(?:com|eu|in|jp|com\.au)\b", re.IGNORECASE)
LINE_RE = re.compile(
    r"^(\S+@\S+)\s+[^,\n]*,\s*ERROR_CODE\s*:\s*(\d{3})?\s*,\s*ERROR_CODE\s*:\s*(.*)$",
    re.MULTILINE,
)
DELAYED_RE = re.compile(
    r"^\[Status:\s*\w+,\s*Address:\s*<([^<>\s]+@[^<>\s]+)>,\s*ResponseCode\s*(\d{3})?"
    r"[\s,]*(.*?)\]?\s*$",
    re.MULTILINE,
)


def read(msg, parts):
    """The recipients of a Zoho Mail notice, [] when ``msg`` is none."""
    # the whole text: "The original message was received at" starts no copy here
    report = parts.text
    if "ERROR_CODE" not in report and "ResponseCode" not in report:
        return []
    if msg.get("X-ZohoMail") is None and not SENDER_RE.search(header(msg, "From")):
        return []
    delayed = bool(DELAY_RE.search(report))
    found = []
    for pattern in (LINE_RE, DELAYED_RE):
        for match in pattern.finditer(report):
            recipient = normalize_address(match.group(1))
            if not recipient or any(one.recipient == recipient for one in found):
                continue
            words = match.group(3).strip(" ,")
            diagnostic = f"{match.group(2)} {words}" if match.group(2) else words
            found.append(
                Found(
                    recipient=recipient,
                    action="delayed" if delayed else "failed",
                    diagnostic=diagnostic.strip(),
                )
            )
    return found
