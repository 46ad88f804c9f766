"""Microsoft Exchange 2007 and later, Exchange Online / Office 365: the notices sent without
a ``message/delivery-status`` part (with one, :mod:`.dsn` reads them).

Format: a text for the user ("Delivery has failed to these recipients or groups:"), then
"Diagnostic information for administrators:" (localised: "Diagnoseinformationen für
Administratoren:", "Informations de diagnostic pour les administrateurs :", "Informazioni
di diagnostica per gli amministratori:"), "Generating server: HOST", and each recipient on
a line of its own followed by the reply, as the remote server returned it or as Exchange
gives its own::

    kijitora@example.com
    Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found'

    kijitora@example.com
    #550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##

Exchange's own codes (``RESOLVER.ADR.RecipNotFound``, ``QUEUE.Expired``...) are kept in the
words: the registry reads them. "Original message headers:" ends the section.
"""

import re

from .message import Found
from .message import normalize_address

NAME = "exchange2007"

SECTION_RE = re.compile(
    r"^(?:Diagnostic information for administrators|Diagnoseinformationen für Administratoren"
    r"|Informations de diagnostic pour les administrateurs|Informazioni di diagnostica per"
    r" gli amministratori)\s*:?\s*$",
    re.MULTILINE,
)
GENERATING_RE = re.compile(
    r"^(?:Generating server|Generierender Server|Serveur de g\S+ration|Server di generazione)"
    r"\s*:\s*(\S+)",
    re.MULTILINE | re.IGNORECASE,
)
END_RE = re.compile(
    r"^(?:Original message headers|Ursprüngliche Nachrichtenkopfzeilen|En-têtes du message"
    r" d'origine|Intestazioni del messaggio originale)\s*:",
    re.MULTILINE,
)
ADDRESS_LINE_RE = re.compile(r"^<?([^\s<>@]+@[^\s<>@]+?)>?$")
#: "Remote Server returned '...'" (or "Remote Server at HOST (IP) returned '...'"), or
#: Exchange's own "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##"
REPLY_RE = re.compile(
    r"Remote Server (?:at \S+ (?:\([^)]*\) )?)?returned '([^']+)'|^#\s*([245]\d\d\b.*?)\s*##",
    re.IGNORECASE | re.MULTILINE,
)
REMOTE_AT_RE = re.compile(r"Remote Server at (\S+)", re.IGNORECASE)


def read(msg, parts):
    """The recipients of an Exchange 2007+ notice without delivery-status part, [] when
    ``msg`` is none."""
    if parts.delivery_status:
        return []
    text = parts.text
    section = SECTION_RE.search(text)
    if not section:
        return []
    end = END_RE.search(text, section.end())
    body = text[section.end() : end.start() if end else len(text)]
    generating = GENERATING_RE.search(body)
    found = []
    lines = body.split("\n")
    for index, raw in enumerate(lines):
        match = ADDRESS_LINE_RE.match(raw.strip())
        if not match:
            continue
        recipient = normalize_address(match.group(1))
        # the reply is on the lines that follow, up to the next blank line
        following = []
        for line in lines[index + 1 :]:
            if not line.strip():
                break
            following.append(line.strip())
        words = " ".join(following)
        reply = REPLY_RE.search("\n".join(following))
        if not recipient or any(one.recipient == recipient for one in found):
            continue
        remote = REMOTE_AT_RE.search(words)
        found.append(
            Found(
                recipient=recipient,
                diagnostic=(reply.group(1) or reply.group(2)) if reply else words,
                reporting_mta=generating.group(1) if generating else "",
                remote_mta=remote.group(1) if remote else "",
            )
        )
    return found
