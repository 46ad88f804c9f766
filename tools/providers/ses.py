"""Amazon SES notifications, delivered by Amazon SNS to an HTTPS subscription.

SNS signs every message (``SignatureVersion`` 1: RSA SHA-1, 2: RSA SHA-256) over a
canonical string of its fields, with the private key of the certificate at
``SigningCertURL``. That certificate is fetched only from an ``sns.<region>.amazonaws.com``
host, over HTTPS, and cached (:data:`CERTIFICATES`); tests pre-fill that cache with a
certificate of their own (:func:`remember_certificate`) instead of reaching Amazon.

The SES notification itself is the JSON string ``Message``: ``notificationType`` (or
``eventType`` for configuration-set events) ``Bounce`` (``Permanent``, ``Transient``,
``Undetermined`` with their sub-types), ``Complaint``, ``Delivery``, ``DeliveryDelay``,
``Reject`` and ``Rendering Failure``; ``mail.messageId`` is the SES message id, the one
SES names in its ``250 Ok <id>`` SMTP reply.
"""

import base64
import re
import threading
import urllib.parse
import urllib.request
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from . import ProviderEvent
from . import WebhookError
from . import as_message_id
from . import check_fresh
from . import get
from . import load_json
from . import split_reply
from . import strip_smtp

NAME = "ses"
#: the only hosts a signing certificate or a subscription URL may come from
SNS_HOST_RE = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
#: the fields each message type signs, in this order
SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
}  # fmt: skip
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}

#: signing certificates' public keys by URL (filled by :func:`fetch_certificate`)
CERTIFICATES = {}
_LOCK = threading.Lock()

#: SES bounce sub-types meaning that SES did not try: the address is on a suppression list
SUPPRESSED_SUBTYPES = ("Suppressed", "OnAccountSuppressionList")
#: the key of each notification type's details
SECTIONS = {
    "Complaint": "complaint",
    "Delivery": "delivery",
    "DeliveryDelay": "deliveryDelay",
    "Reject": "reject",
    "Rendering Failure": "failure",
}
KINDS = {
    "Complaint": "complaint",
    "Delivery": "delivered",
    "DeliveryDelay": "delayed",
    "Reject": "rejected",
    "Rendering Failure": "rejected",
}


def check_sns_url(url):
    """Refuse (``WebhookError(403)``) a URL that is not HTTPS on an SNS host."""
    parsed = urllib.parse.urlsplit(url or "")
    if parsed.scheme != "https" or not SNS_HOST_RE.match(parsed.hostname or ""):
        raise WebhookError(403, f"Not an Amazon SNS URL: {url!r}")
    return url


def http_get(url, timeout=10):
    """GET ``url`` (an SNS URL already checked); the body as bytes."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read(256 * 1024)


def remember_certificate(url, pem):
    """Put the certificate ``pem`` (bytes) in the cache for ``url``."""
    check_sns_url(url)
    key = x509.load_pem_x509_certificate(pem).public_key()
    with _LOCK:
        CERTIFICATES[url] = key
    return key


def fetch_certificate(url):
    """The public key of the signing certificate at ``url``: cached, else fetched."""
    check_sns_url(url)
    with _LOCK:
        key = CERTIFICATES.get(url)
    if key is not None:
        return key
    try:
        pem = http_get(url)
    except OSError as error:
        raise WebhookError(503, f"Signing certificate unavailable: {error}") from error
    try:
        return remember_certificate(url, pem)
    except ValueError as error:
        raise WebhookError(403, "Invalid signing certificate") from error


def canonical_string(message):
    """The string SNS signs for ``message`` (a dict)."""
    fields = SIGNED_FIELDS.get(message.get("Type"))
    if not fields:
        raise WebhookError(400, f"Unknown SNS message type: {message.get('Type')!r}")
    return "".join(
        f"{name}\n{message[name]}\n" for name in fields if message.get(name) is not None
    ).encode()


def verify(message):
    """Refuse (``WebhookError``) an SNS message not signed by Amazon SNS."""
    algorithm = HASHES.get(str(message.get("SignatureVersion")))
    if not algorithm:
        raise WebhookError(403, "Unknown SNS signature version")
    try:
        signature = base64.b64decode(message.get("Signature") or "", validate=True)
    except ValueError as error:
        raise WebhookError(403, "Invalid signature encoding") from error
    key = fetch_certificate(message.get("SigningCertURL") or message.get("SigningCertUrl"))
    try:
        key.verify(signature, canonical_string(message), padding.PKCS1v15(), algorithm())
    except (InvalidSignature, TypeError, ValueError) as error:
        raise WebhookError(403, "Invalid SNS signature") from error


def _epoch(value):
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError as error:
        raise WebhookError(400, "Invalid SNS timestamp") from error


def read_envelope(body, topic_arn, now):
    """The verified SNS message (a dict) of ``body``.

    :param topic_arn: the subscribed topic (required: another topic's messages are refused)
    """
    message = load_json(body)
    if not isinstance(message, dict):
        raise WebhookError(400, "Not an SNS message")
    verify(message)
    check_fresh(_epoch(message.get("Timestamp")), now)
    if topic_arn and message.get("TopicArn") != topic_arn:
        raise WebhookError(403, "Message of another SNS topic")
    return message


def read(body, headers, secret, now):
    """The SES events of one SNS POST (``secret`` is the subscribed topic ARN).

    :return: ``(events, message)``: a subscription confirmation gives no event, its
        ``SubscribeURL`` is to be visited (:func:`confirm_subscription`).
    """
    message = read_envelope(body, secret, now)
    if message.get("Type") != "Notification":
        return [], message
    notification = load_json((message.get("Message") or "").encode())
    if not isinstance(notification, dict):
        raise WebhookError(400, "Not an SES notification")
    return read_notification(notification, message.get("MessageId") or ""), message


def confirm_subscription(message):
    """Visit the ``SubscribeURL`` of a subscription confirmation (an SNS host only)."""
    http_get(check_sns_url(message.get("SubscribeURL")))


def _original_message_id(mail):
    for header in get(mail, "headers", default=[]) or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            return as_message_id(header.get("value"))
    return ""


def read_notification(notification, sns_message_id):
    """The events (one per recipient) of an SES notification (a dict)."""
    kind_name = notification.get("notificationType") or notification.get("eventType") or ""
    mail = notification.get("mail") or {}
    common = {
        "provider": NAME,
        "provider_message_id": str(get(mail, "messageId")),
        "original_message_id": _original_message_id(mail),
    }
    if kind_name == "Bounce":
        return _bounce_events(notification.get("bounce") or {}, sns_message_id, common)
    if kind_name not in KINDS:
        raise WebhookError(400, f"Unknown SES notification type: {kind_name!r}")
    section = notification.get(SECTIONS[kind_name]) or {}
    if kind_name == "Complaint":
        recipients = [r.get("emailAddress") for r in section.get("complainedRecipients") or []]
        details = {
            "feedback_type": section.get("complaintFeedbackType") or "abuse",
            "classification": "Complaint",
        }
    elif kind_name == "Delivery":
        recipients = section.get("recipients") or []
        details = {
            "diagnostic": section.get("smtpResponse") or "",
            "reporting_mta": section.get("reportingMTA") or "",
            "classification": "Delivery",
        }
    elif kind_name == "DeliveryDelay":
        delayed = section.get("delayedRecipients") or []
        recipients = [r.get("emailAddress") for r in delayed]
        details = {
            "diagnostic": strip_smtp(get(delayed[0], "diagnosticCode") if delayed else ""),
            "classification": f"DeliveryDelay/{section.get('delayType', '')}",
        }
    else:
        recipients = get(mail, "destination", default=[]) or []
        details = {
            "diagnostic": section.get("reason") or section.get("errorMessage") or "",
            "classification": kind_name,
        }
    return [
        ProviderEvent(
            event_id=sns_message_id, kind=KINDS[kind_name], recipient=str(r), **common, **details
        )
        for r in recipients
        if r
    ]


def _bounce_events(bounce, sns_message_id, common):
    bounce_type = bounce.get("bounceType") or "Undetermined"
    subtype = bounce.get("bounceSubType") or ""
    suppressed = subtype in SUPPRESSED_SUBTYPES
    kind = "hard" if bounce_type == "Permanent" else "soft"
    events = []
    for recipient in bounce.get("bouncedRecipients") or []:
        if not isinstance(recipient, dict) or not recipient.get("emailAddress"):
            continue
        diagnostic = strip_smtp(recipient.get("diagnosticCode") or "")
        code, status = split_reply(diagnostic)
        events.append(
            ProviderEvent(
                event_id=sns_message_id,
                kind=kind,
                recipient=recipient["emailAddress"],
                classification=f"{bounce_type}/{subtype}" if subtype else bounce_type,
                diagnostic=diagnostic or f"Amazon SES: {bounce_type} bounce ({subtype})",
                smtp_code=code,
                status=recipient.get("status") or status,
                reporting_mta=bounce.get("reportingMTA") or "",
                remote_mta=bounce.get("remoteMtaIp") or "",
                suppressed=suppressed,
                **common,
            )
        )
    return events
