"""SendGrid's signed Event Webhook (``bounce``, ``blocked``, ``dropped``, ``deferred``,
``spamreport``, ``delivered``).

One POST carries a batch of events (a JSON array). SendGrid signs it with ECDSA (P-256,
SHA-256): the header ``X-Twilio-Email-Event-Webhook-Signature`` is the base64 DER
signature of the ``X-Twilio-Email-Event-Webhook-Timestamp`` header followed by the raw
body; ``secret`` is the verification key shown by SendGrid (base64 DER public key).
"""

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from . import ProviderEvent
from . import WebhookError
from . import as_message_id
from . import check_fresh
from . import load_json
from . import split_reply

NAME = "sendgrid"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
KINDS = {
    "bounce": "hard",
    "blocked": "soft",
    "dropped": "hard",
    "deferred": "delayed",
    "spamreport": "complaint",
    "delivered": "delivered",
}
#: events that are not outcomes of delivery (opens, clicks...): accepted, not recorded
IGNORED = ("processed", "open", "click", "unsubscribe", "group_unsubscribe", "group_resubscribe")


def load_key(secret):
    """The ECDSA public key of the base64 DER (or PEM) verification key ``secret``."""
    secret = (secret or "").strip()
    try:
        if secret.startswith("-----BEGIN"):
            return serialization.load_pem_public_key(secret.encode())
        return serialization.load_der_public_key(base64.b64decode(secret))
    except (ValueError, binascii.Error, UnsupportedAlgorithm) as error:
        raise WebhookError(503, "The SendGrid verification key is not a public key") from error


def verify(body, headers, secret):
    """Refuse (``WebhookError(403)``) a batch not signed with the key of ``secret``."""
    timestamp = headers.get(TIMESTAMP_HEADER) or ""
    try:
        signature = base64.b64decode(headers.get(SIGNATURE_HEADER) or "", validate=True)
    except (ValueError, binascii.Error) as error:
        raise WebhookError(403, "Invalid signature encoding") from error
    key = load_key(secret)
    if not signature or not isinstance(key, ec.EllipticCurvePublicKey):
        raise WebhookError(403, "Missing signature")
    try:
        key.verify(signature, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as error:
        raise WebhookError(403, "Invalid signature") from error
    return timestamp


def provider_message_id(sg_message_id):
    """The id SendGrid named in its SMTP reply: ``sg_message_id`` before ``.filter...``."""
    value = str(sg_message_id or "")
    for marker in (".filter", ".recvd"):
        value = value.split(marker, 1)[0]
    return value


def read(body, headers, secret, now):
    """The events of one SendGrid batch."""
    timestamp = verify(body, headers, secret)
    check_fresh(timestamp, now)
    batch = load_json(body)
    if not isinstance(batch, list):
        raise WebhookError(400, "Not a SendGrid event batch")
    events = []
    for item in batch:
        if not isinstance(item, dict) or not item.get("sg_event_id"):
            raise WebhookError(400, "Not a SendGrid event")
        name = item.get("event")
        if name in IGNORED:
            continue
        if name not in KINDS:
            raise WebhookError(400, f"SendGrid event not handled: {name!r}")
        kind = KINDS[name]
        if name == "bounce" and item.get("type") == "blocked":
            kind = "soft"
        words = str(item.get("reason") or item.get("response") or "")
        code, status = split_reply(words)
        events.append(
            ProviderEvent(
                provider=NAME,
                event_id=str(item["sg_event_id"]),
                kind=kind,
                recipient=str(item.get("email") or ""),
                provider_message_id=provider_message_id(item.get("sg_message_id")),
                original_message_id=as_message_id(item.get("smtp-id")),
                classification="/".join(str(p) for p in (name, item.get("type")) if p),
                diagnostic=words or f"SendGrid: {name}",
                smtp_code=code,
                status=str(item.get("status") or status),
                feedback_type="abuse" if kind == "complaint" else "",
                suppressed=name == "dropped",
                timestamp=float(item.get("timestamp") or 0),
            )
        )
    return events
