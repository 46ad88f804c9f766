"""Ipswitch IMail Server notices (``X-Mailer: <SMTP32 v...>``, subject "Undeliverable
Mail").

Format: one line per recipient, IMail's reason then the address, up to "Original message
follows."::

    Unknown user: kijitora@example.com
    Delivery failed 20 attempts: kijitora@example.com

or "undeliverable to <address>" followed by the remote reply after a label that names the
SMTP step: "Body of message generated response:" (the data: DATA), "DATA command generated
response:", "Additional RCPT TO generated following response:", "Server response to MAIL
FROM:", "Unexpected response to EHLO/HELO:", "SMTP connection failed," (the connection).
"""

import re

from .message import Found
from .message import header
from .message import normalize_address

NAME = "imailserver"

MAILER_RE = re.compile(r"^<?SMTP32 v", re.IGNORECASE)
END = "Original message follows."
LINE_RE = re.compile(r"^([A-Za-z][^:\n]{2,80}):\s*<?([^\s<>:]+@[^\s<>:]+?)>?\s*$", re.M)
UNDELIVERABLE_RE = re.compile(r"^undeliverable to <?([^\s<>]+@[^\s<>]+?)>?\s*$", re.M)
STEPS = (
    ("Body of message generated response:", "DATA"),
    ("DATA command generated response:", "DATA"),
    ("Additional RCPT TO generated following response:", "RCPT"),
    ("Server response to MAIL FROM:", "MAIL"),
    ("Unexpected response to EHLO/HELO:", "EHLO"),
    ("Unexpected connection response from server:", "CONNECT"),
    ("SMTP connection failed,", "CONNECT"),
)
#: the code that starts each line of a reply ("550-" on all but the last)
CODE_PREFIX_RE = re.compile(r"^\s*([245]\d\d)[ -]")


def read(msg, parts):
    """The recipients of an IMail Server notice, [] when ``msg`` is none."""
    if not MAILER_RE.match(header(msg, "X-Mailer")):
        return []
    text = parts.text
    end = text.find(END)
    text = text[: end if end >= 0 else len(text)]
    found = []
    for match in UNDELIVERABLE_RE.finditer(text):
        recipient = normalize_address(match.group(1))
        command, words = _response(text[match.end() :])
        if recipient:
            found.append(Found(recipient=recipient, command=command, diagnostic=words))
    for match in LINE_RE.finditer(text):
        recipient = normalize_address(match.group(2))
        reason = match.group(1).strip()
        if recipient and reason not in ("To", "CC", "From") and not found:
            found.append(Found(recipient=recipient, diagnostic=f"{reason}: {recipient}"))
    return found


def _response(text):
    """``(command, reply)`` after the first step label of ``text`` ('', '' when none)."""
    for label, command in STEPS:
        start = text.find(label)
        if start >= 0:
            reply = text[start + len(label) :].strip().split("\n\n", 1)[0]
            code = CODE_PREFIX_RE.match(reply)
            if not code:
                return command, " ".join(f"{label} {reply}".split())
            # "550-REJECTED ...\n550 DEALS": one reply, its code once
            words = " ".join(CODE_PREFIX_RE.sub("", line) for line in reply.split("\n"))
            return command, f"{code.group(1)} {' '.join(words.split())}"
    return "", ""
