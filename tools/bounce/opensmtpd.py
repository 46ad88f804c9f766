"""OpenSMTPD (OpenBSD's smtpd) notices of the plain-text kind (before 6.x; later versions
send an RFC 3464 report, which :mod:`.dsn` reads).

Format (``smtpd/bounce.c``): the body starts "Hi!" and "This is the MAILER-DAEMON, please
DO NOT REPLY to this e-mail."; then "An error has occurred while attempting to deliver a
message for the following list of recipients:" (a failure) or "A message is delayed for more
than 10 minutes for the following list of recipients:" (a warning: "this is only a temporary
failure report"); then one line per recipient, the address and the reason after a colon::

    kijitora@example.jp: 550 5.1.1 <kijitora@example.jp>... User Unknown

The reason is the remote server's reply, or OpenSMTPD's own words ("Network error on
destination MXs", "Envelope expired", "Domain does not exist"). The copy of the message
follows "Below is a copy of the original message:".
"""

import re

from .message import Found
from .message import normalize_address

NAME = "opensmtpd"

INTRO = "This is the MAILER-DAEMON, please DO NOT REPLY to this"
WARNING_RE = re.compile(r"A message is delayed for|only a temporary failure report")
LINE_RE = re.compile(r"^\s*<?([^\s<>:]+@[^\s<>:]+?)>?:\s+(\S.*)$")
END = "Below is a copy of the original message"


def read(msg, parts):
    """The recipients of an OpenSMTPD notice, [] when ``msg`` is none (or is an RFC 3464
    report: the delivery-status fields say more)."""
    report = parts.report
    start = report.find(INTRO)
    if start < 0 or parts.delivery_status:
        return []
    end = report.find(END, start)
    text = report[start : end if end > 0 else len(report)]
    action = "delayed" if WARNING_RE.search(text) else "failed"
    found = []
    for line in text.split("\n"):
        match = LINE_RE.match(line)
        if not match:
            continue
        recipient = normalize_address(match.group(1))
        if recipient and all(one.recipient != recipient for one in found):
            found.append(Found(recipient=recipient, action=action, diagnostic=match.group(2)))
    return found
