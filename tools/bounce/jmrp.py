"""Microsoft's Junk Mail Reporting Program (Outlook.com, Hotmail): a complaint that is no
RFC 5965 report. A ``multipart/mixed`` message from ``staff@hotmail.com`` ("complaint about
message from <IP>") carries the reported message whole; Microsoft writes the complaining
recipient into its ``X-HmXmrOriginalRecipient`` header.
"""

from .message import Found
from .message import addresses
from .message import header

NAME = "jmrp"


def read(msg, parts):
    """One complaint per recipient of a JMRP report, [] when ``msg`` is none."""
    if not parts.originals or parts.delivery_status:
        return []
    found = []
    for original in parts.originals:
        for recipient in addresses(header(original, "X-HmXmrOriginalRecipient")):
            diagnostic = header(msg, "Subject") or "complaint"
            found.append(Found(recipient=recipient, action="complaint", diagnostic=diagnostic))
    return found
