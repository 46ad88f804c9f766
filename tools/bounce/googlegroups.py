"""Google Groups: a post the group refused (the group does not exist, or the sender may not
post to it). Sent by ``mailer-daemon@googlemail.com`` with ``X-Failed-Recipients`` naming
the group (``...@googlegroups.com``); the text is in the sender's language, so the status
comes from the format: the sender is not allowed to post, RFC 3463 ``5.7.1`` ("delivery not
authorized, message refused"). Not evidence about the group's address: soft.
"""

from .helpers import sender_address
from .message import Found
from .message import addresses
from .message import header

NAME = "googlegroups"


def read(msg, parts):
    """The refused group addresses, [] when ``msg`` is no Google Groups refusal."""
    groups = [
        address
        for address in addresses(header(msg, "X-Failed-Recipients"))
        if address.endswith("@googlegroups.com")
    ]
    if not groups or not sender_address(msg).endswith(("@googlemail.com", "@google.com")):
        return []
    paragraphs = [p.strip() for p in parts.report.split("\n\n") if p.strip()]
    # the greeting, then the paragraph that says why
    words = " ".join(" ".join(paragraphs[1:2] or paragraphs[:1]).split())
    return [
        Found(recipient=group, status="5.7.1", command="DATA", diagnostic=words) for group in groups
    ]
