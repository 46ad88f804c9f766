"""KDDI (au, ``ezweb.ne.jp``, ``dion.ne.jp``, ``auone-net.jp``) text bounces: "Your mail sent
on: <date>", then "Could not be delivered to: <address>" and the reason on the line below
("As their mailbox is full."); the Japanese part is ISO-2022-JP.
"""

import re

from .message import Found
from .message import normalize_address

NAME = "kddi"

RECIPIENT_RE = re.compile(r"^\s*Could not be delivered to:\s*(<?\S+@\S+?>?)\s*$", re.MULTILINE)


def read(msg, parts):
    """The recipients of a KDDI bounce, [] when ``msg`` is none."""
    found = []
    report = parts.report
    if "Could not be delivered to:" not in report:
        return []  # (the pattern's literal: a substring test is cheaper than the search)
    for match in RECIPIENT_RE.finditer(report):
        recipient = normalize_address(match.group(1))
        rest = report[match.end() :].lstrip("\n").split("\n\n", 1)[0]
        if recipient:
            found.append(Found(recipient=recipient, diagnostic=" ".join(rest.split())))
    return found
