"""Microsoft Exchange 5.5 to 2003 (``X-Mailer: Internet Mail Service``, ``X-MS-Embedded-
Report``): "Your message ... did not reach the following recipient(s):", then one line per
recipient "address on <date>" followed by indented lines: the reason ("The recipient name is
not recognized") and an ``MSEXCH:IMS:...`` line that ends with Exchange's own words
("Unknown Recipient").
"""

import re

from .message import ADDRESS_RE
from .message import Found
from .message import normalize_address

NAME = "exchange2003"

HEADING_RE = re.compile(r"did not reach the following recipient\(s\):", re.IGNORECASE)
RECIPIENT_RE = re.compile(r"^\s*(\S+@\S+?)\s+on\s+\S.*$")
MSEXCH_RE = re.compile(r"MSEXCH:[\w:. -]*?(?:\([0-9A-F]+\)\s*)?([A-Za-z][\w ]+)$")


def read(msg, parts):
    """The recipients of an Exchange 2003 bounce, [] when ``msg`` is none."""
    report = parts.report
    heading = HEADING_RE.search(report)
    if not heading:
        return []
    found = []
    current = None
    for line in report[heading.end() :].split("\n"):
        match = RECIPIENT_RE.match(line)
        if match and ADDRESS_RE.search(match.group(1)):
            current = Found(recipient=normalize_address(match.group(1)))
            found.append(current)
        elif current is not None and line.strip():
            current.diagnostic = f"{current.diagnostic} {line.strip()}".strip()
    for one in found:
        code = MSEXCH_RE.search(one.diagnostic)
        if code:
            one.diagnostic = f"{one.diagnostic.split('MSEXCH:')[0].strip()} {code.group(1)}"
    return found
