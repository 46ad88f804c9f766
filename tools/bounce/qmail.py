"""qmail (qmail-send, and netqmail, qmail-ldap, vpopmail builds).

Format (``qmail-send.c``, ``qmail-remote.c``, https://cr.yp.to/qmail.html): the body starts
"Hi. This is the qmail-send program at HOST." (some builds reword it, but keep the line
before the copy of the message); each recipient is on a line ``<address>:``
followed by its reason lines, up to a blank line; the copy of the message follows "--- Below
this line is a copy of the message."::

    <kijitora@example.jp>:
    192.0.2.135 does not like recipient.
    Remote host said: 550 5.1.1 <kijitora@example.jp>... User Unknown
    Giving up on 192.0.2.135.

qmail-remote names the step that failed in its own words: "Connected to HOST but greeting
failed" (the connection), "... but my name was rejected" (HELO), "... but sender was
rejected" (MAIL FROM), "HOST does not like recipient" (RCPT TO), "HOST failed on DATA
command" or "... failed after I sent the message" (DATA); the fallback patch writes "most
progress was RCPT TO response". "Remote host said:" introduces the server's reply. A local
delivery (qmail-local, vdelivermail, qmail-ldap) writes its own sentence with a status in
parentheses: "Sorry, no mailbox here by that name. (#5.1.1)". "I'm not going to try again;
this message has been in the queue too long." ends the reason of a temporary failure given
up on (its own status then starts with 4).
"""

import re

from .message import QMAIL_STATUS_RE
from .message import Found
from .message import first_status
from .message import normalize_address

NAME = "qmail"

START_RE = re.compile(r"This is the qmail-send program at ([A-Za-z0-9.-]*[A-Za-z0-9])")
#: the line before the copy of the message, kept by the builds that reword the introduction
#: (hosting providers, MessageLabs: "This is the mail delivery agent at messagelabs.com")
BACKBONE = "--- Below this line is a copy of the message."
#: the line of a recipient: ``<kijitora@example.jp>:``
RECIPIENT_RE = re.compile(r"^<([^<>\s]+@[^<>\s]+)>:\s*$")
#: qmail-remote's own words for the SMTP step that failed
STEPS = (
    (re.compile(r"\bbut greeting failed\b"), "CONNECT"),
    (re.compile(r"\bbut my name was rejected\b"), "HELO"),
    (re.compile(r"\bbut sender was rejected\b"), "MAIL"),
    (re.compile(r"\bdoes not like recipient\b"), "RCPT"),
    (re.compile(r"\bfailed on DATA command\b|\bfailed after I sent the message\b"), "DATA"),
)
PROGRESS_RE = re.compile(r"most progress was (RCPT|MAIL|DATA|HELO|EHLO)\b")
SAID_RE = re.compile(r"\bremote host (?:\S+ )?said:\s*", re.IGNORECASE)
#: qmail-remote's lines around the reply: not the server's words
OWN_LINE_RE = re.compile(
    r"^(?:Giving up on \S+|I'm not going to try again;.*|(?:this )?message has been in the queue"
    r" too long\.|\(Other MXes tried:.*\)"
    r"|Connected to \S+ but .*|\S+ (?:does not like recipient|failed on DATA command"
    r"|failed after I sent the message)\.)$"
)
#: the full stop qmail leaves alone on the line after a reply (before its own status)
TRAILING_DOT_RE = re.compile(r"\s+\.$")
GIVEN_UP_RE = re.compile(r"\)(?=I'm not going to try again)")
REMOTE_RE = re.compile(
    r"(?:Giving up on|Connected to) ([A-Za-z0-9.:-]*[A-Za-z0-9])|"
    r"remote host ([A-Za-z0-9.:-]*[A-Za-z0-9]) said"
)


def read(msg, parts):
    """The recipients of a qmail bounce, [] when ``msg`` is none."""
    report = parts.report
    start = START_RE.search(report)
    if not start and BACKBONE not in parts.text:
        return []
    found = []
    for address, lines in blocks(report[start.end() :] if start else report):
        recipient = normalize_address(address)
        if recipient and all(one.recipient != recipient for one in found):
            one = block_found(recipient, lines)
            one.reporting_mta = start.group(1) if start else ""
            found.append(one)
    return found


def blocks(text):
    """``(address, reason lines)`` of each recipient block of the report ``text``."""
    found = []
    current = None
    for raw in text.split("\n"):
        line = raw.strip()
        if line.startswith(BACKBONE[:19]):
            break
        match = RECIPIENT_RE.match(line)
        if match:
            current = (match.group(1), [])
            found.append(current)
        elif not line:
            if current is not None and current[1]:
                current = None
        elif current is not None:
            # "... (#4.4.3)I'm not going to try again": qmail-send joins them on one line
            current[1].extend(GIVEN_UP_RE.sub(")\n", line).split("\n"))
    return [(address, lines) for address, lines in found if lines]


def block_found(recipient, lines):
    """The :class:`Found` of one block: the remote server's reply when there is one, else
    qmail's own sentence, with the SMTP step qmail names."""
    text = " ".join(lines)
    command = ""
    for pattern, step in STEPS:
        if pattern.search(text):
            command = step
            break
    progress = PROGRESS_RE.search(text)
    command = progress.group(1) if progress else command
    said = SAID_RE.search(text)
    if said:
        reply = []
        for line in _reply_lines(lines):
            if OWN_LINE_RE.match(line):
                break
            reply.append(line)
        diagnostic = " ".join(reply)
    else:
        diagnostic = " ".join(line for line in lines if not OWN_LINE_RE.match(line)) or text
    own_status = QMAIL_STATUS_RE.search(text)
    # qmail's own "(#5.5.0)" after a reply is no word of the server
    diagnostic = QMAIL_STATUS_RE.sub("", diagnostic) if said else diagnostic
    status = first_status(diagnostic) or (own_status.group(1) if own_status else None)
    remote = REMOTE_RE.search(text)
    return Found(
        recipient=recipient,
        action="failed",
        status=status,
        command=command,
        diagnostic=TRAILING_DOT_RE.sub("", diagnostic.strip()),
        remote_mta=(remote.group(1) or remote.group(2)) if remote else "",
    )


def _reply_lines(lines):
    """The lines from the one that holds "Remote host said:" on, that prefix cut off."""
    for index, line in enumerate(lines):
        said = SAID_RE.search(line)
        if said:
            return [line[said.end() :], *lines[index + 1 :]]
    return []
