"""Sending services' event webhooks, read in plain Python (no ORM).

One module per provider (``ses``, ``mailgun``, ``sendgrid``, ``postmark``, ``brevo``),
each with ``read(body, headers, secret, now=None)``: it checks the request with the
provider's own mechanism and returns a list of :class:`ProviderEvent`, or raises
:class:`WebhookError` with the HTTP status to answer (``401``/``403``: not signed by the
provider, ``400``: not a payload of the provider). ``reference`` reads the provider's
message id out of the SMTP server's final reply to an e-mail.
"""

import json
import re
from dataclasses import dataclass
from dataclasses import field

#: signed requests older (or further in the future) than this are refused as replays
MAX_AGE_SECONDS = 15 * 60
#: the largest webhook body read (a SendGrid batch is at most a few MB)
MAX_BODY = 8 * 1024 * 1024

#: the sources of events: the sending services, and a mail server's log
PROVIDER_SELECTION = [
    ("ses", "Amazon SES"),
    ("mailgun", "Mailgun"),
    ("sendgrid", "SendGrid"),
    ("postmark", "Postmark"),
    ("brevo", "Brevo"),
    ("maillog", "Mail server log"),
]

#: an SMTP reply code and enhanced status at the start of a diagnostic
_REPLY_RE = re.compile(r"^(?:smtp;\s*)?([245]\d\d)(?:[\s-]+([245]\.\d{1,3}\.\d{1,3}))?", re.I)
_STATUS_RE = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")


class WebhookError(Exception):
    """A request the webhook refuses: ``status`` is the HTTP status to answer."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class ProviderEvent:
    """One recipient's outcome reported by a sending service.

    ``kind`` is one of the bounce event kinds (``hard``, ``soft``, ``delayed``,
    ``complaint``, ``delivered``, ``unsubscribed``, ``rejected``); ``suppressed`` says
    that the service did not even try: the address is on its suppression list.
    """

    provider: str
    event_id: str
    kind: str
    recipient: str = ""
    provider_message_id: str = ""
    original_message_id: str = ""
    classification: str = ""
    diagnostic: str = ""
    smtp_code: int = 0
    status: str = ""
    reporting_mta: str = ""
    remote_mta: str = ""
    feedback_type: str = ""
    suppressed: bool = False
    timestamp: float = 0.0
    extra: dict = field(default_factory=dict)


def load_json(body):
    """The JSON document of ``body`` (bytes), or ``WebhookError(400)``."""
    if len(body or b"") > MAX_BODY:
        raise WebhookError(413, "Payload too large")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebhookError(400, f"Not JSON: {error}") from error


def check_fresh(timestamp, now, max_age=MAX_AGE_SECONDS):
    """Refuse (``WebhookError(403)``) a signed timestamp older or newer than ``max_age``."""
    try:
        timestamp = float(timestamp)
    except (TypeError, ValueError) as error:
        raise WebhookError(400, "Missing or invalid timestamp") from error
    if abs(now - timestamp) > max_age:
        raise WebhookError(403, "Timestamp too old or in the future: replay refused")
    return timestamp


def split_reply(diagnostic):
    """``(smtp_code, status)`` read from a remote server's reply (0, "" when none)."""
    text = (diagnostic or "").strip()
    match = _REPLY_RE.match(text)
    code = int(match.group(1)) if match else 0
    status = match.group(2) if match and match.group(2) else ""
    if not status:
        found = _STATUS_RE.search(text)
        status = found.group(1) if found else ""
    return code, status


def strip_smtp(diagnostic):
    """A DSN diagnostic without its ``smtp;`` type."""
    text = (diagnostic or "").strip()
    return text[5:].strip() if text.lower().startswith("smtp;") else text


def as_message_id(value):
    """``value`` as a Message-ID with its angle brackets ("" when empty)."""
    value = (value or "").strip()
    if not value:
        return ""
    return value if value.startswith("<") else f"<{value}>"


def get(mapping, *path, default=""):
    """The value at ``path`` in nested dicts, ``default`` when absent or not a dict."""
    for key in path:
        if not isinstance(mapping, dict):
            return default
        mapping = mapping.get(key)
    return default if mapping is None else mapping
