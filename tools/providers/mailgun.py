"""Mailgun webhooks (``failed``, ``complained``, ``delivered``, ``unsubscribed``).

Each POST is one JSON event signed with the account's HTTP webhook signing key:
``signature.signature`` is the hex HMAC-SHA256 of ``timestamp`` + ``token``.
"""

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac

from . import ProviderEvent
from . import WebhookError
from . import as_message_id
from . import check_fresh
from . import get
from . import load_json

NAME = "mailgun"
#: Mailgun's failure reasons meaning that it did not try: the address is suppressed
SUPPRESSED_REASONS = ("suppress-bounce", "suppress-complaint", "suppress-unsubscribe")
KINDS = {"complained": "complaint", "delivered": "delivered", "unsubscribed": "unsubscribed"}


def sign(key, timestamp, token):
    """The hex signature of ``timestamp`` and ``token`` with the signing ``key``."""
    mac = hmac.HMAC(key.encode(), hashes.SHA256())
    mac.update(f"{timestamp}{token}".encode())
    return mac.finalize().hex()


def verify(key, signature):
    """Refuse (``WebhookError(403)``) a ``signature`` block not made with ``key``."""
    if not isinstance(signature, dict):
        raise WebhookError(403, "Missing signature")
    try:
        given = bytes.fromhex(str(signature.get("signature") or ""))
    except ValueError as error:
        raise WebhookError(403, "Invalid signature") from error
    mac = hmac.HMAC(key.encode(), hashes.SHA256())
    mac.update(f"{signature.get('timestamp')}{signature.get('token')}".encode())
    try:
        mac.verify(given)
    except InvalidSignature as error:
        raise WebhookError(403, "Invalid signature") from error


def read(body, headers, secret, now):
    """The event of one Mailgun POST (``secret``: the webhook signing key)."""
    payload = load_json(body)
    if not isinstance(payload, dict):
        raise WebhookError(400, "Not a Mailgun event")
    verify(secret, payload.get("signature"))
    check_fresh(get(payload, "signature", "timestamp"), now)
    data = payload.get("event-data")
    if not isinstance(data, dict) or not data.get("id"):
        raise WebhookError(400, "Not a Mailgun event")
    name = data.get("event")
    status = get(data, "delivery-status", default={}) or {}
    code = status.get("code") if isinstance(status.get("code"), int) else 0
    words = " ".join(
        str(part) for part in (status.get("message"), status.get("description")) if part
    )
    common = {
        "provider": NAME,
        "event_id": str(data["id"]),
        "recipient": str(data.get("recipient") or ""),
        "original_message_id": as_message_id(get(data, "message", "headers", "message-id")),
        "timestamp": float(data.get("timestamp") or 0),
    }
    if name == "failed":
        severity = data.get("severity") or "permanent"
        reason = data.get("reason") or ""
        return [
            ProviderEvent(
                kind="hard" if severity == "permanent" else "soft",
                classification=f"failed/{severity}/{reason}".rstrip("/"),
                diagnostic=" ".join(p for p in (str(code or ""), words) if p)
                or f"Mailgun: {reason}",
                smtp_code=code,
                status=str(status.get("enhanced-code") or ""),
                remote_mta=str(status.get("mx-host") or ""),
                suppressed=reason in SUPPRESSED_REASONS,
                **common,
            )
        ]
    if name in KINDS:
        return [
            ProviderEvent(
                kind=KINDS[name],
                classification=name,
                diagnostic=words,
                smtp_code=code,
                feedback_type="abuse" if name == "complained" else "",
                **common,
            )
        ]
    raise WebhookError(400, f"Mailgun event not handled: {name!r}")
