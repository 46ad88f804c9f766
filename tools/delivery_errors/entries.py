"""New registry entries proposed from a failure's own words."""

import re

from .base import MAX_DIAGNOSTIC
from .text import CODE_STATUS_RE
from .text import STATUS
from .text import clean_text
from .text import to_text

# NEW ENTRIES
# ------------------------------------------------------------

VARIABLE_RE = re.compile(
    r"<?[^\s<>@]+@[^\s<>]+>?"  # addresses
    r"|\[?\b\d{1,3}(?:\.\d{1,3}){3}\b\]?"  # IPv4 addresses
    r"|\b[0-9a-f]{8,}\b|\b\w*\d\w*\b",  # ids, anything with digits
    re.IGNORECASE,
)


def regex_from_diagnostic(diagnostic, limit=200):
    """A regular expression matching ``diagnostic`` and its variants (other addresses, IPs,
    ids), to pre-fill a new registry entry. The reply code and status are left out: they
    belong to the entry's own criteria.

    :param diagnostic: a (cleaned) diagnostic text
    :param limit: longest part of the text used
    :return: a pattern ('' when the text has no stable words)
    """
    text = clean_text(to_text(diagnostic), MAX_DIAGNOSTIC)
    text = CODE_STATUS_RE.sub(" ", text, count=1)
    text = re.sub(rf"^\s*(?:[245]\d\d\b|{STATUS})[\s:-]*", "", text).strip()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0]
    pieces = []
    position = 0
    for match in VARIABLE_RE.finditer(text):
        pieces.append(re.escape(text[position : match.start()]))
        pieces.append(r"\S+")
        position = match.end()
    pieces.append(re.escape(text[position:]))
    pattern = re.sub(r"(?:\\ )+", r"\\s+", "".join(pieces))
    pattern = re.sub(r"(?:\\S\+(?:\\s\+)?){2,}", r"\\S+.*?", pattern)
    if not re.search(r"[a-z]{3}", pattern, re.IGNORECASE):
        return ""
    return pattern
