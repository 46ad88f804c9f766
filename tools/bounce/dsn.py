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
    command = command_of(diagnostic) or command_of(context)
    if not command and "\n>>> " not in text and GREETING_REPLY_RE.search(text):
        command = "CONNECT"
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
