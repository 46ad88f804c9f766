"""Trustwave (Marshal) MailMarshal SMTP notices: "Your message:" with the original's From
and Subject, "Could not be delivered because of", the remote reply, then "The following
recipients were affected:" and one recipient per indented line; "Additional Information"
follows with ``Remote-MTA:`` and ``Reporting-MTA:`` in angle brackets::

    Could not be delivered because of

    550 5.1.1 User unknown

    The following recipients were affected:
        kijitora@example.com
"""

import re

from .message import Found
from .message import normalize_address

NAME = "mailmarshal"

BECAUSE = "Could not be delivered because of"
AFFECTED_RE = re.compile(r"^The following recipients were affected:[ \t]*\n", re.MULTILINE)
RECIPIENT_LINE_RE = re.compile(r"^[ \t]+(\S+@\S+)[ \t]*$")
MTA_RE = re.compile(r"^(Remote|Reporting)-MTA:\s*<([^<>\s]+)>", re.MULTILINE)


def read(msg, parts):
    """The recipients of a MailMarshal notice, [] when ``msg`` is none."""
    report = parts.report
    start = report.find(BECAUSE)
    if start < 0:
        return []
    affected = AFFECTED_RE.search(report, start)
    if not affected:
        return []
    reason = " ".join(report[start + len(BECAUSE) : affected.start()].split())
    mtas = {kind.lower(): host for kind, host in MTA_RE.findall(report)}
    found = []
    for line in report[affected.end() :].split("\n"):
        match = RECIPIENT_LINE_RE.match(line)
        if not match:
            if found or line.strip():
                break
            continue
        recipient = normalize_address(match.group(1))
        if recipient:
            found.append(
                Found(
                    recipient=recipient,
                    diagnostic=reason,
                    remote_mta=mtas.get("remote", ""),
                    reporting_mta=mtas.get("reporting", ""),
                )
            )
    return found
