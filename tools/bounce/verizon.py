"""Verizon Wireless text (``vtext.com``, from ``post_master@vtext.com``) and picture
(``vzwpix.com``, from the "MMSC NDR Administrator" ``sysadmin@...vzwpix.com``) bounces.

vtext runs Apache James, whose bounces (any sender) read the same: "Error: <summary>", "Error message below:", the remote reply, then "Message
details:" with the envelope (``RCPT TO: <address>``)::

    Error: Invalid user address

    Error message below:
    550 - Requested action not taken: no such user here

vzwpix: "Message could not be delivered to mobile.", "Error: No valid recipients for this
MM", then "Original Message:" with the ``To:`` of the message: no valid recipient is
Verizon's word that the number (the address) does not exist.
"""

import re

from .helpers import sender_address
from .message import Found
from .message import addresses

NAME = "verizon"

REPLY_RE = re.compile(r"^Error message below:\s*\n\s*(\S[^\n]*)", re.MULTILINE)
RCPT_RE = re.compile(r"^\s*RCPT TO:\s*(\S+@\S+)\s*$", re.MULTILINE | re.IGNORECASE)
MMS_ERROR_RE = re.compile(r"^Error:\s*(No valid recipients[^\n]*)", re.MULTILINE)
MMS_TO_RE = re.compile(r"^Original Message:\s*\n(?:[^\n]+\n)*?To:\s*([^\n]+)", re.MULTILINE)


def read(msg, parts):
    """The recipients of a Verizon Wireless bounce, [] when ``msg`` is none."""
    sender = sender_address(msg)
    report = parts.report
    # its multipart/alternative puts "boundary=" on a line of its own (no continuation):
    # its text is read whole (see message.walk)
    if sender == "post_master@vtext.com" or (
        "Error message below:" in report and "Message details:" in report
    ):
        reply = REPLY_RE.search(report)
        return [
            Found(recipient=recipient, diagnostic=reply.group(1).strip(), command="RCPT")
            for match in RCPT_RE.finditer(report)
            for recipient in addresses(match.group(1))
            if reply
        ]
    if sender.startswith("sysadmin@") and sender.endswith("vzwpix.com"):
        text = parts.text
        error = MMS_ERROR_RE.search(text)
        original = MMS_TO_RE.search(text)
        if error and original:
            # no valid recipient for the multimedia message: the number does not exist
            return [
                Found(recipient=recipient, diagnostic=error.group(1).strip(), status="5.1.1")
                for recipient in addresses(original.group(1))
            ]
    return []
