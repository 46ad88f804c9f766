"""Brevo (ex Sendinblue) transactional webhooks (``hard_bounce``, ``soft_bounce``,
``blocked``, ``spam``, ``delivered``, ``unsubscribed``, ``deferred``).

Brevo sends each event as one JSON POST with the token set on the webhook
(``"auth": {"type": "bearer", "token": ...}``) as ``Authorization: Bearer <token>``.
"""

from cryptography.hazmat.primitives import constant_time

from . import ProviderEvent
from . import WebhookError
from . import as_message_id
from . import load_json
from . import split_reply

NAME = "brevo"
KINDS = {
    "hard_bounce": "hard",
    "soft_bounce": "soft",
    "blocked": "hard",
    "invalid_email": "hard",
    "spam": "complaint",
    "delivered": "delivered",
    "deferred": "delayed",
    "unsubscribed": "unsubscribed",
}
IGNORED = ("request", "sent", "click", "opened", "unique_opened", "proxy_open", "error")


def verify(headers, secret):
    """Refuse (``WebhookError(401)``) a request without the webhook's bearer token."""
    scheme, _sep, token = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not constant_time.bytes_eq(
        token.strip().encode(), secret.encode()
    ):
        raise WebhookError(401, "Invalid or missing token")


def read(body, headers, secret, now):
    """The event of one Brevo POST."""
    verify(headers, secret)
    data = load_json(body)
    if not isinstance(data, dict) or not data.get("event"):
        raise WebhookError(400, "Not a Brevo event")
    name = data["event"]
    if name in IGNORED:
        return []
    if name not in KINDS:
        raise WebhookError(400, f"Brevo event not handled: {name!r}")
    message_id = as_message_id(data.get("message-id"))
    if not message_id:
        raise WebhookError(400, "Brevo event without message-id")
    reason = str(data.get("reason") or "")
    code, status = split_reply(reason)
    stamp = data.get("ts_event") or data.get("ts_epoch") or data.get("ts") or 0
    return [
        ProviderEvent(
            provider=NAME,
            event_id=f"{name}:{message_id}:{data.get('email', '')}:{stamp}",
            kind=KINDS[name],
            recipient=str(data.get("email") or ""),
            provider_message_id=message_id.strip("<>"),
            original_message_id=message_id,
            classification=name,
            diagnostic=reason or f"Brevo: {name}",
            smtp_code=code,
            status=status,
            feedback_type="abuse" if name == "spam" else "",
            suppressed=name == "blocked",
        )
    ]
