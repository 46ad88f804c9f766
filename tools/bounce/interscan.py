"""Trend Micro InterScan Messaging Security Suite (MSS, and InterScan for NT) notices.

Format: sent from ``"InterScan MSS"`` or ``"InterScan Notification"`` (or with the subject
"Mail could not be delivered"), a text part framed by lines of asterisks ("Message from
InterScan Messaging Security Suite"), then the copy of the original. The text part holds
either the SMTP transcript of the next hop::

    Sent <<< RCPT TO:<kijitora@example.co.jp>
    Received >>> 550 5.1.1 <kijitora@example.co.jp>... user unknown

or InterScan's own words, with no reply of the next hop::

    Unable to deliver message to <kijitora@example.jp> (and other recipients in the same
    domain). Please check if address is correct.

The own words alone are a failure of unknown cause, unless they add "Please check if
address is correct": InterScan's own statement that the address is the problem.
"""

import re

from .message import COMMANDS
from .message import Found
from .message import header
from .message import normalize_address

NAME = "interscan"

SENDER_RE = re.compile(r"\"?InterScan (?:MSS|Notification)\"?", re.IGNORECASE)
SUBJECTS = ("mail could not be delivered",)
BODY_MARK = "InterScan Messaging Security Suite"
SENT_RE = re.compile(r"^Sent\s+<<<\s+([A-Z]{4})\b[^<\n]*<([^<>\s]+@[^<>\s]+)>", re.MULTILINE)
RECEIVED_RE = re.compile(r"^Received\s+>>>\s+(\d{3}[ -].*)$", re.MULTILINE)
OWN_RE = re.compile(r"Unable to deliver message to <([^<>\s]+@[^<>\s]+)>([^\n]*)")
CHECK_ADDRESS_RE = re.compile(r"check if (?:the )?address is correct", re.IGNORECASE)


def _is_interscan(msg, report):
    """True when ``msg`` is an InterScan notice (headers first: no search of the body)."""
    if SENDER_RE.search(header(msg, "From")):
        return True
    if header(msg, "Subject").strip().lower() in SUBJECTS:
        return True
    return BODY_MARK in report


def read(msg, parts):
    """The recipients of an InterScan notice, [] when ``msg`` is none."""
    report = parts.report
    if "<<<" not in report and "Unable to deliver message to" not in report:
        return []
    if not _is_interscan(msg, report):
        return []
    found = []
    for sent in SENT_RE.finditer(report):
        recipient = normalize_address(sent.group(2))
        reply = RECEIVED_RE.search(report, sent.end())
        if recipient and reply:
            diagnostic = reply.group(1).strip()
            command = sent.group(1) if sent.group(1) in COMMANDS else ""
            found.append(Found(recipient=recipient, diagnostic=diagnostic, command=command))
    if found:
        return found
    for own in OWN_RE.finditer(report):
        recipient = normalize_address(own.group(1))
        if recipient:
            status = "5.1.1" if CHECK_ADDRESS_RE.search(own.group(2)) else "5.0.0"
            found.append(Found(recipient=recipient, diagnostic=own.group(0), status=status))
    return found
