"""United Internet's mail services: GMX, web.de, mail.com, 1&1 / IONOS (``kundenserver.de``).

Format: an Exim-like introduction ("This message was created automatically by mail
delivery software ... The following address(es) failed:"), then each recipient on a line of
its own (``"kijitora@example.jp":``, ``<kijitora@example.jp>`` or bare) and its reason on the
lines below, up to the next recipient or "--- The header of the original message is
following. ---"::

    "kijitora@example.jp":
    SMTP error from remote server after RCPT command:
    host: mx.example.jp
    5.2.2 <kijitora@example.jp>... Mailbox Full

or ``SMTP error from remote server for TEXT command, host: HOST reason: 550 5.2.0 ...``
(TEXT: the message data), or "Reason:" / "For the following reason:" and the service's own
words ("delivery retry timeout exceeded", "Mail size limit exceeded").
"""

import re

from .message import Found
from .message import normalize_address

NAME = "gmx"

BACKBONE = "--- The header of the original message is following. ---"
FAILED_RE = re.compile(r"The following address(?:\(es\)|es)?\s+failed:", re.IGNORECASE)
RECIPIENT_RE = re.compile(r"^[\"<]?([^\s\"<>]+@[^\s\"<>:]+)[\">]?:?$")
LABEL_RE = re.compile(r"^(?:For the following reason|Reason):$", re.IGNORECASE)
#: "after RCPT command:" / "for TEXT command," (TEXT: the message data)
COMMAND_RE = re.compile(r"SMTP error from remote server (?:after|for) (\w+) command", re.I)
#: where the remote reply starts: after "reason:", or the line after "host: HOST"
REPLY_RE = re.compile(r"\breason:\s*|^host:\s*\S+(?:\s*\([^)]*\))?\s*$", re.I | re.M)
REMOTE_RE = re.compile(r"\bhost:?\s+([A-Za-z0-9.-]+\.[A-Za-z]{2,})", re.IGNORECASE)


def read(msg, parts):
    """The recipients of a GMX, web.de, mail.com or 1&1 notice, [] when ``msg`` is none."""
    text = parts.text
    end = text.find(BACKBONE)
    if end < 0:
        return []
    failed = FAILED_RE.search(text, 0, end)
    if not failed:
        return []
    found = []
    for address, lines in _blocks(text[failed.end() : end]):
        recipient = normalize_address(address)
        if recipient and lines and all(one.recipient != recipient for one in found):
            found.append(_found(recipient, lines))
    return found


def _blocks(text):
    """``(address, reason lines)`` of each recipient of the list ``text``."""
    blocks = []
    for raw in text.split("\n"):
        line = raw.strip()
        match = RECIPIENT_RE.match(line)
        if match:
            blocks.append((match.group(1), []))
        elif line and blocks and not LABEL_RE.match(line):
            blocks[-1][1].append(line)
    return blocks


def _found(recipient, lines):
    """The :class:`Found` of one recipient: the remote reply when there is one."""
    text = "\n".join(lines)
    command = COMMAND_RE.search(text)
    step = command.group(1).upper() if command else ""
    reply = REPLY_RE.search(text) if command else None
    words = text[reply.end() :] if reply else text
    remote = REMOTE_RE.search(text) if command else None
    return Found(
        recipient=recipient,
        command={"TEXT": "DATA"}.get(step, step),
        diagnostic=" ".join(words.split()),
        remote_mta=remote.group(1) if remote else "",
    )
