"""The provider's message id in the SMTP server's final reply to an accepted e-mail.

Servers say which id they gave the message in their ``250`` reply to DATA:

* Postfix: ``250 2.0.0 Ok: queued as 4Q1x2Z3kPz`` (the queue id of its log);
* Exim: ``250 OK id=1rAbCd-0001Xy-9Z``;
* Amazon SES: ``250 Ok 0100018c5e4b3a2f-...-000000`` (the SES message id of its events);
* SendGrid, Brevo, Postmark and most relays: ``250 Ok: queued as <id>``.
"""

import re

_PATTERNS = (
    re.compile(r"\bqueued as\s+<?([^\s<>]+?)>?(?:\s|$)", re.I),
    re.compile(r"\bid=([^\s]+)", re.I),
    # Amazon SES: "250 Ok <message id>", the id is hex with dashes, ends with -000000
    re.compile(r"^250\s+Ok\s+([0-9a-f]{16}-[0-9a-f-]{20,}-\d{6})\b", re.I),
)


def reply_text(code, message):
    """The reply as one line: ``"250 Ok: queued as X"`` (``message`` bytes or str)."""
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    text = " ".join((message or "").split())
    return f"{code} {text}".strip() if code else text


def parse_reference(reply):
    """The message id the server named in ``reply`` ("" when it named none)."""
    reply = (reply or "").strip()
    for pattern in _PATTERNS:
        match = pattern.search(reply)
        if match:
            return match.group(1).rstrip(".,;")[:255]
    return ""
