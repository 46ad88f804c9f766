"""Digital Arts m-FILTER notices (``X-Mailer: m-FILTER``, or a rebranded build with the same
labelled blocks; subject "failure notice"; the introduction in Japanese).

Format: the recipients one a line, then the remote reply and the SMTP command in labelled
blocks, up to "-------original message" (or "-------original mail info")::

    kijitora@example.com

    -------server message
    550 unknown user <kijitora@example.com>

    -------SMTP command
    DATA

m-FILTER names the last command it sent: with pipelining, a refusal of RCPT TO is shown
after DATA (Postfix's "Recipient address rejected" under "DATA"), so a reply that names the
recipient answered RCPT TO.
"""

import re

from .message import Found
from .message import header
from .message import normalize_address

NAME = "mfilter"

SERVER = "-------server message"
COMMAND = "-------SMTP command"
END_RE = re.compile(r"^-------original (?:message|mail info)", re.MULTILINE)
ADDRESS_LINE_RE = re.compile(r"^<?([^\s<>@]+@[^\s<>@]+\.[A-Za-z]+)>?$", re.MULTILINE)
COMMANDS = ("CONNECT", "HELO", "EHLO", "MAIL", "RCPT", "DATA")


def read(msg, parts):
    """The recipients of an m-FILTER notice, [] when ``msg`` is none."""
    text = parts.text
    start = text.find(SERVER)
    if start < 0:
        return []
    end = END_RE.search(text, start)
    # a rebranded build keeps the labelled blocks but not the X-Mailer
    if header(msg, "X-Mailer") != "m-FILTER" and (not end or COMMAND not in text):
        return []
    text = text[: end.start() if end else len(text)]
    reply = _block(text, SERVER)
    command = _block(text, COMMAND).split(" ")[0].upper()
    command = command if command in COMMANDS else ""
    found = []
    for match in ADDRESS_LINE_RE.finditer(text[:start]):
        recipient = normalize_address(match.group(1))
        if not recipient or any(one.recipient == recipient for one in found):
            continue
        step = "RCPT" if command == "DATA" and recipient in reply.lower() else command
        found.append(Found(recipient=recipient, command=step, diagnostic=reply))
    return found


def _block(text, label):
    """The lines after ``label`` up to the next blank line or label, joined ('' if none)."""
    start = text.find(label)
    if start < 0:
        return ""
    lines = []
    for line in text[start + len(label) :].lstrip("\n").split("\n"):
        if not line.strip() or line.startswith("-------"):
            break
        lines.append(line.strip())
    return " ".join(lines)
