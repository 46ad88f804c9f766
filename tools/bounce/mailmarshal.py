"""MailMarshal (Trustwave SEG) gateways: "Your message: ... Could not be delivered because
of" then the remote server's reply on the next lines, then "The following recipients were
affected:" and the recipients, one per indented line; "Additional Information" follows.
"""

import re

from .message import Found
from .message import normalize_address

NAME = "mailmarshal"

BECAUSE_RE = re.compile(r"Could not be delivered because of\s*", re.IGNORECASE)
AFFECTED_RE = re.compile(r"The following recipients were affected:\s*", re.IGNORECASE)
END_RE = re.compile(r"^\s*(?:Additional Information|=+)\s*$", re.MULTILINE)


def read(msg, parts):
    """The recipients of a MailMarshal bounce, [] when ``msg`` is none."""
    report = parts.report
    because = BECAUSE_RE.search(report)
    affected = AFFECTED_RE.search(report, because.end()) if because else None
    if not affected:
        return []
    reason = " ".join(report[because.end() : affected.start()].split())
    end = END_RE.search(report, affected.end())
    listed = report[affected.end() : end.start() if end else None]
    recipients = [normalize_address(line) for line in listed.split("\n")]
    return [Found(recipient=one, diagnostic=reason) for one in dict.fromkeys(recipients) if one]
