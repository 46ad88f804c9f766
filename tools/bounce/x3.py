"""The "automatically generated Delivery Status Notification" of X3-type gateways: the
recipients as ``* address`` lines below "Delivery to the following recipients failed
permanently:" (or "... was aborted after 5.0 hour(s):", the gateway gave up: expired; some
versions write "Delevery"), and the reason in the "Technical details:" paragraph
("SMTP:RCPT host 192.0.2.8: 553 5.3.0 <...>... No such user here", "Routing: Could not find a
gateway for ...").
"""

import re

from .helpers import paragraph_after
from .message import Found
from .message import normalize_address

NAME = "x3"

HEADING_RE = re.compile(
    r"^\s*Del[ei]very to the following recipients? (failed permanently|was aborted after[^:\n]*)"
    r":\s*$",
    re.M,
)
RECIPIENT_RE = re.compile(r"^\s*\*\s*(\S+@\S+)\s*$", re.M)
DETAILS_RE = re.compile(r"^\s*Technical details:\s*$", re.M)
COMMAND_RE = re.compile(r"^SMTP:(RCPT|MAIL|DATA|EHLO|HELO)\b\s*(?:host [^:]+:\s*)?", re.I)


def read(msg, parts):
    """The recipients of an X3 notification, [] when ``msg`` is none."""
    if parts.delivery_status:
        # the versions that attach a delivery-status part are read as RFC 3464
        return []
    report = parts.report
    if "automatically generated Delivery Status Notification" not in report[:2000]:
        return []
    heading = HEADING_RE.search(report)
    if not heading:
        return []
    details = " ".join(paragraph_after(report, DETAILS_RE).split())
    command = ""
    smtp = COMMAND_RE.match(details)
    if smtp:
        command, details = smtp.group(1).upper(), details[smtp.end() :]
    aborted = heading.group(1).startswith("was aborted")
    if aborted:
        # the gateway gave up: say so whatever the last reason was
        details = f"Delivery {' '.join(heading.group(1).split()[1:])}: {details}".strip(": ")
    block = report[heading.end() :].split("====", 1)[0]
    found = []
    for match in RECIPIENT_RE.finditer(block):
        recipient = normalize_address(match.group(1))
        if recipient:
            found.append(Found(recipient=recipient, command=command, diagnostic=details))
    return found
