"""fml, the mailing list manager of many Japanese lists (``X-MLServer: fml ...``): a post
the list refused ("You are not a member of this mailing list <list@example.org>.") or a
loop it stopped ("Duplicated Message-ID in <list@example.org>."). The recipient is the
list's address, named in angle brackets on the first line of the notice.
"""

import re

from .message import Found
from .message import header
from .message import normalize_address

NAME = "fml"

LIST_RE = re.compile(r"<([^<>\s]+@[^<>\s]+)>")


def read(msg, parts):
    """The list address of an fml notice, [] when ``msg`` is none."""
    if not header(msg, "X-MLServer").lower().startswith("fml"):
        return []
    first = parts.report.strip().split("\n\n", 1)[0]
    match = LIST_RE.search(first)
    recipient = normalize_address(match.group(1)) if match else ""
    if not recipient:
        return []
    subject = header(msg, "Subject")
    return [Found(recipient=recipient, diagnostic=" ".join(f"{subject}: {first}".split()))]
