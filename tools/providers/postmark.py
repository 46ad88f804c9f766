"""Postmark webhooks (``Bounce``, ``SpamComplaint``, ``Delivery``).

Postmark sends each event as one JSON POST with the HTTP basic authentication set on the
webhook (``https://user:password@host/...`` in its console): ``secret`` is
``user:password``. A bounce says what it is with its ``TypeCode`` (Postmark's list).
"""

import base64
import binascii

from cryptography.hazmat.primitives import constant_time

from . import ProviderEvent
from . import WebhookError
from . import load_json
from . import split_reply
from . import strip_smtp

NAME = "postmark"
#: Postmark's bounce TypeCodes: (name, kind); kind "" for what is not a bounce
TYPE_CODES = {
    1: ("HardBounce", "hard"),
    2: ("Transient", "soft"),
    16: ("Unsubscribe", "unsubscribed"),
    32: ("Subscribe", ""),
    64: ("AutoResponder", "auto_reply"),
    128: ("AddressChange", "auto_reply"),
    256: ("DnsError", "soft"),
    512: ("SpamNotification", "complaint"),
    1024: ("OpenRelayTest", ""),
    2048: ("Unknown", "soft"),
    4096: ("SoftBounce", "soft"),
    8192: ("VirusNotification", "rejected"),
    16384: ("ChallengeVerification", "auto_reply"),
    100000: ("BadEmailAddress", "hard"),
    100001: ("SpamComplaint", "complaint"),
    100002: ("ManuallyDeactivated", "hard"),
    100003: ("Unconfirmed", ""),
    100006: ("Blocked", "soft"),
    100007: ("SMTPApiError", "rejected"),
    100008: ("InboundError", "rejected"),
    100009: ("DMARCPolicy", "hard"),
    100010: ("TemplateRenderingFailed", "rejected"),
}
#: TypeCodes meaning that Postmark did not try: the address is inactive on its side
SUPPRESSED_CODES = (100002,)


def verify(headers, secret):
    """Refuse (``WebhookError(401)``) a request without the configured basic credentials."""
    authorization = headers.get("Authorization") or ""
    scheme, _sep, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise WebhookError(401, "Basic authentication required")
    try:
        given = base64.b64decode(value.strip(), validate=True)
    except (ValueError, binascii.Error) as error:
        raise WebhookError(401, "Invalid basic authentication") from error
    if not constant_time.bytes_eq(given, secret.encode()):
        raise WebhookError(401, "Invalid credentials")


def read(body, headers, secret, now):
    """The event of one Postmark POST."""
    verify(headers, secret)
    data = load_json(body)
    if not isinstance(data, dict) or not data.get("RecordType"):
        raise WebhookError(400, "Not a Postmark event")
    record_type = data["RecordType"]
    message_id = str(data.get("MessageID") or "")
    if record_type == "Delivery":
        return [
            ProviderEvent(
                provider=NAME,
                event_id=f"Delivery:{message_id}:{data.get('Recipient', '')}",
                kind="delivered",
                recipient=str(data.get("Recipient") or ""),
                provider_message_id=message_id,
                classification="Delivery",
                diagnostic=str(data.get("Details") or ""),
            )
        ]
    if record_type not in ("Bounce", "SpamComplaint") or not data.get("ID"):
        raise WebhookError(400, f"Postmark event not handled: {record_type!r}")
    code = data.get("TypeCode")
    name, kind = TYPE_CODES.get(code, (str(data.get("Type") or "Unknown"), "soft"))
    if record_type == "SpamComplaint":
        kind = "complaint"
    if not kind:
        return []  # a subscription, an open relay test...: not an outcome of delivery
    details = strip_smtp(str(data.get("Details") or ""))
    smtp_code, status = split_reply(details)
    return [
        ProviderEvent(
            provider=NAME,
            event_id=f"{record_type}:{data['ID']}",
            kind=kind,
            recipient=str(data.get("Email") or ""),
            provider_message_id=message_id,
            classification=f"{name} ({code})",
            diagnostic=details or str(data.get("Description") or ""),
            smtp_code=smtp_code,
            status=status,
            feedback_type="abuse" if kind == "complaint" else "",
            suppressed=code in SUPPRESSED_CODES,
        )
    ]
