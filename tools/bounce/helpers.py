"""Helpers shared by the family readers (``tools/bounce/<family>.py``)."""

from .message import ORIGINAL_MARKER_RE
from .message import RECEIVED_FOR_RE
from .message import SEPARATOR_RE
from .message import addresses
from .message import header
from .message import normalize_address


def sender_address(msg):
    """The lower-case address of the bounce's ``From`` ('' when none)."""
    return normalize_address(header(msg, "From"))


def paragraph_after(text, marker):
    """The lines of the paragraph that follows the first match of the compiled ``marker`` in
    ``text`` (blank lines before it skipped), '' when the marker is absent."""
    match = marker.search(text)
    if not match:
        return ""
    lines = []
    for raw in text[match.end() :].split("\n"):
        line = raw.strip()
        if not line:
            if lines:
                break
            continue
        if ORIGINAL_MARKER_RE.match(line) or SEPARATOR_RE.match(line):
            break
        lines.append(line)
    return "\n".join(lines)


def local_recipient(local_part, msg, parts):
    """The full address of a recipient a report names by its local part only (Exim, old
    Sendmail): ``X-Failed-Recipients``, else the envelope recipient of the original."""
    for address in addresses(header(msg, "X-Failed-Recipients")):
        if address.split("@")[0] == local_part.lower():
            return address
    for original in parts.originals:
        for received in original.get_all("Received") or []:
            match = RECEIVED_FOR_RE.search(" ".join(str(received).split()))
            if match and match.group(1).lower().split("@")[0] == local_part.lower():
                return normalize_address(match.group(1))
    for match in RECEIVED_FOR_RE.finditer(parts.text):
        if match.group(1).lower().split("@")[0] == local_part.lower():
            return normalize_address(match.group(1))
    return ""
