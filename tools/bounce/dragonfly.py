"""DragonFly Mail Agent (dma, the MTA of DragonFly BSD): "This is the DragonFly Mail Agent
... There was an error delivering your mail to <address>." then the reason paragraph: the
remote host's reply after "<host> [<ip>] did not like our RCPT TO:" (or "final DATA:",
"MAIL FROM:"), or the agent's own words ("DNS lookup failure: ...", "Could not deliver for
the last 432000 seconds. Giving up."), up to "Message headers follow.".
"""

import re

from .message import Found
from .message import normalize_address

NAME = "dragonfly"

RECIPIENT_RE = re.compile(r"There was an error delivering your mail to <([^<>\s]+)>\.?")
END_RE = re.compile(r"^(?:Message headers follow|Original message follows)", re.M | re.I)
#: the command the remote host refused: "did not like our RCPT TO:", "... final DATA:"
REFUSED_RE = re.compile(r"did not like our (?:final )?(RCPT|MAIL|DATA|EHLO|HELO)\b", re.I)


def read(msg, parts):
    """The recipient of a DragonFly Mail Agent bounce, [] when ``msg`` is none."""
    report = parts.report
    if "DragonFly Mail Agent" not in report[:1000]:
        return []
    found = []
    matches = list(RECIPIENT_RE.finditer(report))
    for index, match in enumerate(matches):
        stop = matches[index + 1].start() if index + 1 < len(matches) else len(report)
        end = END_RE.search(report, match.end(), stop)
        reason = report[match.end() : end.start() if end else stop].strip()
        command = ""
        refused = REFUSED_RE.search(reason.split("\n", 1)[0])
        if refused:
            command = refused.group(1).upper()
            reason = reason.split("\n", 1)[1].strip() if "\n" in reason else reason
        recipient = normalize_address(match.group(1))
        if recipient:
            found.append(Found(recipient=recipient, command=command, diagnostic=reason))
    return found
