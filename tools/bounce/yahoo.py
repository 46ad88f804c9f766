"""Yahoo! Mail (and Yahoo! JAPAN) notices: qmail's layout (:mod:`.qmail`) under Yahoo's own
introduction, sent with an ``X-YMailISG`` header.

Format: "Sorry, we were unable to deliver your message to the following address." then a
``<address>:`` line and "Remote host said:" with the remote reply, which ends with the SMTP
command it answered in brackets::

    <kijitora@example.org>:
    Remote host said: 550 5.1.1 <kijitora@example.org>... User Unknown [RCPT_TO]

Later notices drop "Remote host said:" and write the code with a colon ("550: 5.2.2 ...").
The copy of the message follows "--- Below this line is a copy of the message.".
"""

import re

from . import qmail
from .message import first_status
from .message import normalize_address

NAME = "yahoo"

START = "Sorry, we were unable to deliver your message"
#: the command Yahoo appends to the reply: ``[RCPT_TO]``, ``[MAIL_FROM]``, ``[DATA]``
COMMAND_TAG_RE = re.compile(r"\s*\[(RCPT|MAIL|DATA|HELO|EHLO)(?:_\w+)?\]\s*$")
#: the reply code written "550:" (without "Remote host said:"), and an empty field after it
CODE_COLON_RE = re.compile(r"^([245]\d\d):[\s:]*")


def read(msg, parts):
    """The recipients of a Yahoo! Mail notice, [] when ``msg`` is none."""
    report = parts.report
    start = report.find(START)
    if start < 0 or msg.get("X-YMailISG") is None:
        return []
    found = []
    for address, lines in qmail.blocks(report[start:]):
        recipient = normalize_address(address)
        if not recipient or any(one.recipient == recipient for one in found):
            continue
        one = qmail.block_found(recipient, lines)
        tag = COMMAND_TAG_RE.search(one.diagnostic)
        if tag:
            one.command = tag.group(1)
            one.diagnostic = one.diagnostic[: tag.start()]
        elif not one.command and "@" in one.diagnostic:
            # a reply that names the recipient answered RCPT TO
            one.command = "RCPT"
        one.diagnostic = CODE_COLON_RE.sub(r"\1 ", one.diagnostic)
        one.status = first_status(one.diagnostic) or one.status
        found.append(one)
    return found
