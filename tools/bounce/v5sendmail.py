"""Sendmail version 5 (and other pre-DSN Sendmail) bounces: no delivery-status part, the
body is "----- Transcript of session follows -----", the transcript, then "----- Unsent
message follows -----" and the copy of the original::

    While talking to mail.example.co.jp:
    >>> RCPT To:<mikeneko@example.co.jp>
    <<< 550 Requested User Mailbox not found. No such user here.
    550 <mikeneko@example.co.jp>... User unknown

Each ``NNN <address>... text`` line is one recipient's final word; the remote server's
reply (``<<<``) and the command it answered (``>>>``) since the last "While talking to"
belong to the next recipient line. A transcript with no recipient line ("421 example.com
(smtp)... Deferred: Connection timed out") is about the recipient of the copied message.
"""

import re

from .message import COMMANDS
from .message import Found
from .message import addresses
from .message import header
from .message import normalize_address

NAME = "v5sendmail"

TRANSCRIPT_MARK = "----- Transcript of session follows -----"
UNSENT_MARK = "----- Unsent message follows -----"
RECIPIENT_LINE_RE = re.compile(r"^([245]\d\d) <?([^\s<>]+@[^\s<>]+?)>?\.\.\.\s*(.*)$")
HOST_LINE_RE = re.compile(r"^([45]\d\d) \S+ \(\w+\)\.\.\.\s*(.*)$")


def read(msg, parts):
    """The recipients of a Sendmail 5 bounce, [] when ``msg`` is none."""
    text = parts.text
    start = text.find(TRANSCRIPT_MARK)
    if start < 0:
        return []
    end = text.find(UNSENT_MARK, start)
    if end < 0:
        return []
    found, host_lines = [], []
    command = reply = ""
    for raw in text[start + len(TRANSCRIPT_MARK) : end].split("\n"):
        line = raw.strip()
        if line.startswith("While talking to"):
            command = reply = ""
        elif line.startswith(">>>"):
            word = line[3:].split()[:1]
            command = word[0].upper() if word and word[0].upper() in COMMANDS else ""
        elif line.startswith("<<<"):
            reply = line[3:].strip()
        elif match := RECIPIENT_LINE_RE.match(line):
            recipient = normalize_address(match.group(2))
            if recipient and all(one.recipient != recipient for one in found):
                diagnostic = reply or f"{match.group(1)} {match.group(3)}"
                found.append(Found(recipient=recipient, diagnostic=diagnostic, command=command))
            command = reply = ""
        elif match := HOST_LINE_RE.match(line):
            host_lines.append(f"{match.group(1)} {match.group(2)}")
    if not found and host_lines:
        for original in parts.originals[:1] or [None]:
            source = header(original, "To") if original is not None else _copied_to(text, end)
            for recipient in addresses(source):
                found.append(Found(recipient=recipient, diagnostic=host_lines[-1]))
    return found


def _copied_to(text, end):
    """The ``To:`` of the copy of the original that follows the transcript ('' if none)."""
    copy = text[end:].split("\n\n", 1)[0]
    match = re.search(r"^To:\s*(.+)$", copy, re.MULTILINE)
    return match.group(1) if match else ""
