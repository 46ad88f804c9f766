"""Gmail's own text bounces (before Google sent RFC 3464 reports, and still for some
delays): from ``mailer-daemon@googlemail.com`` (or ``@gmail.com``), "Delivery to the
following recipient failed permanently:" (or "has been delayed:") then the indented
recipients, then "Technical details of permanent failure:" (or "temporary") and the
reason, which often quotes the remote server: "The error that the other server returned
was: 550 5.1.1 ...".
"""

import re

from .helpers import paragraph_after
from .helpers import sender_address
from .message import Found
from .message import command_of
from .message import normalize_address

NAME = "gmail"

HEADING_RE = re.compile(
    r"Delivery to the following recipients? (failed permanently|has been delayed"
    r"|failed temporarily)[^:\n]*:",
    re.IGNORECASE,
)
DETAILS_RE = re.compile(r"Technical details of (?:permanent|temporary) failure:", re.IGNORECASE)
RETURNED_RE = re.compile(r"The error that the other server returned was:\s*", re.IGNORECASE)


def read(msg, parts):
    """The recipients of a Gmail text bounce, [] when ``msg`` is none."""
    if parts.delivery_status or not sender_address(msg).endswith(("@googlemail.com", "@gmail.com")):
        return []
    report = parts.report
    heading = HEADING_RE.search(report)
    if not heading:
        return []
    action = "delayed" if "delayed" in heading.group(1).lower() else "failed"
    recipients = [
        normalize_address(line)
        for line in paragraph_after(report[heading.end() :], re.compile("^")).split("\n")
    ]
    match = DETAILS_RE.search(report)
    details = report[match.end() :].strip() if match else ""
    if not details:
        # no details: the line after the recipients ("Message will be retried...")
        rest = report[heading.end() :].split("\n\n", 2)
        details = rest[2].strip().split("\n\n")[0] if len(rest) > 2 else ""
    returned = RETURNED_RE.search(details)
    diagnostic = details[returned.end() :] if returned else details
    return [
        Found(
            recipient=recipient,
            action=action,
            command=command_of(details),
            diagnostic=" ".join(diagnostic.split()),
        )
        for recipient in recipients
        if recipient
    ]
