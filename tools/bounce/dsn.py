"""RFC 3464 delivery status notifications (``message/delivery-status`` parts): one result
per recipient block, from its ``Action``, ``Status``, ``Diagnostic-Code``, ``Remote-MTA`` and
the report's ``Reporting-MTA``; the report text near the recipient when the block has no
diagnostic.
"""

import re
from email.message import Message

from .message import Found
from .message import command_of
from .message import dsn_value
from .message import field_blocks
from .message import first_status
from .message import header
from .message import normalize_address
from .message import text_near

NAME = "rfc3464"
RECIPIENT_FIELDS = ("final-recipient", "original-recipient")
#: a line of an SMTP transcript: the command sent, a failure reply received
SENT_RE = re.compile(r">>> (RCPT|MAIL|DATA|HELO|EHLO)\b", re.IGNORECASE)
REPLY_FAILED_RE = re.compile(r"<<< [45]\d\d\b")
#: the comment of a Status field: ``5.1.10 (host/domain does not accept mail)``
STATUS_COMMENT_RE = re.compile(r"^\s*[245]\.\d{1,3}\.\d{1,3}\s*\((.+)\)\s*$")
#: Sendmail's transcript: a reply right after the line naming the host, before any command
GREETING_REPLY_RE = re.compile(r"^\.\.\. while talking to [^\n]*:\n<<< [45]\d\d", re.M)


def read(msg, parts):
    """One :class:`Found` per recipient block of the delivery-status parts of ``msg``."""
    found = []
    for part in parts.delivery_status:
        reporting = ""
        for block in recipient_blocks(field_blocks(part)):
            reporting = reporting or dsn_value(header(block, "Reporting-MTA"))
            recipient = ""
            for name in ("Original-Recipient", "Final-Recipient", "X-Actual-Recipient"):
                recipient = recipient or normalize_address(dsn_value(header(block, name)))
            if recipient:
                one = block_found(block, recipient, reporting, parts.report)
                final = normalize_address(dsn_value(header(block, "Final-Recipient")))
                one.final_recipient = final if final != recipient else ""
                found.append(one)
    return found


def recipient_blocks(blocks):
    """``blocks`` with a block that names several recipients without the blank line between
    them (AOL) split in one block per recipient: a recipient field seen again starts one."""
    split = []
    for block in blocks:
        names = [name.lower() for name in block.keys()]
        if names.count("final-recipient") < 2 and names.count("original-recipient") < 2:
            split.append(block)
            continue
        current, seen = Message(), set()
        for name, value in block.items():
            lower = name.lower()
            if lower in RECIPIENT_FIELDS and lower in seen:
                split.append(current)
                current, seen = Message(), set()
            seen.add(lower)
            current[name] = value
        split.append(current)
    return split


def block_found(block, recipient, reporting, text):
    """The :class:`Found` of one DSN recipient block (the report ``text`` near the recipient
    is its diagnostic when the block has none)."""
    raw = header(block, "Diagnostic-Code")
    diagnostic = dsn_value(raw)
    if raw.lower().startswith("x-unix") and diagnostic.isdigit():
        # the exit status of the local delivery program (Sendmail's "X-Unix; 255")
        diagnostic = f"local mailer error: exit {diagnostic}"
    status_field = header(block, "Status")
    status = first_status(status_field)
    context, near = text_near(text, recipient)
    comment = STATUS_COMMENT_RE.search(status_field)
    if not diagnostic and comment:
        # "Status: 5.1.10 (host/domain does not accept mail)": the server's words (Oracle
        # Communications Messaging Server) in the field's comment
        diagnostic = comment.group(1).strip()
    if not diagnostic:
        diagnostic = near
    # the failed command is often only in the report text ("in reply to end of DATA"); a
    # reply right after Sendmail's "... while talking to HOST.:", in a transcript where we
    # sent no command (">>>"), answered the connection
    command = command_of(diagnostic)
    if not command and "\n>>> " in text:
        final = normalize_address(dsn_value(header(block, "Final-Recipient")))
        command = transcript_command(text, {recipient, final} - {""})
    elif not command and GREETING_REPLY_RE.search(text):
        command = "CONNECT"
    command = command or command_of(context)
    action = action_of(header(block, "Action"))
    if header(block, "Action").strip().lower() == "expired":
        # SendGrid's "Action: expired": given up when the message's time ran out (X.4.7)
        action, status = "failed", status or "4.4.7"
    if not action and status:
        # no (or a non-standard) Action: the block's own Status tells 5.x.x and 2.x.x apart
        action = {"5": "failed", "2": "delivered"}.get(status[0], "")
    return Found(
        recipient=recipient,
        action=action,
        status=status,
        command=command,
        diagnostic=diagnostic,
        remote_mta=dsn_value(header(block, "Remote-MTA")).split(" ")[0].rstrip("."),
        reporting_mta=reporting,
    )


def transcript_command(text, recipients):
    """The command a failure answered, from the SMTP transcript of the report ``text``
    (Sendmail, Courier: ``>>>`` what was sent, ``<<<`` the reply): the command sent before
    the first failure reply that names one of the ``recipients`` (else before the first
    failure reply);
    '' when there is none. With pipelining only the last command of a batch is shown
    (">>> DATA"): the replies before the last one after it answered the RCPT TOs."""
    segments = []
    for line in text.split("\n"):
        sent = SENT_RE.match(line)
        if sent:
            segments.append((sent.group(1).upper(), []))
        elif line.startswith("<<< ") and segments:
            segments[-1][1].append(line)
    failures = [
        (command, index, len(replies), reply)
        for command, replies in segments
        for index, reply in enumerate(replies)
        if REPLY_FAILED_RE.match(reply)
    ]
    named = [one for one in failures if any(name in one[3].lower() for name in recipients)]
    for command, index, count, _reply in named[:1] or failures[:1]:
        return "RCPT" if command == "DATA" and index < count - 1 else command
    return ""


def action_of(value):
    """An RFC 3464 ``Action`` value reduced to failed, delayed, delivered or ''."""
    value = (value or "").strip().lower()
    if value.startswith(("fail", "error", "bounce")):
        return "failed"
    if value.startswith("delay"):
        return "delayed"
    if value.startswith(("deliver", "relay", "expand")):
        return "delivered"
    return ""
