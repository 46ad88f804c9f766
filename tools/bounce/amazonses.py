"""Amazon SES notifications sent by e-mail (an SNS topic subscribed by e-mail): the body is
the JSON notification, ``{"notificationType": "Bounce" | "Complaint" | "Delivery", ...}``
(possibly wrapped in an SNS envelope whose ``Message`` is that JSON as a string).

``bounce.bouncedRecipients[]`` give ``emailAddress``, ``action``, ``status`` and
``diagnosticCode``; ``complaint.complainedRecipients[]`` the complaining addresses;
``delivery.recipients`` and ``smtpResponse`` a delivery. SES's own RFC 3464 bounces are
read by the DSN reader.
"""

import json

from .message import Found
from .message import normalize_address

NAME = "amazonses"

MARKER = '{"notificationType"'


def read(msg, parts):
    """The recipients of an SES JSON notification, [] when ``msg`` is none."""
    notification = _notification(parts.text)
    if not isinstance(notification, dict):
        return []
    kind = str(notification.get("notificationType") or notification.get("eventType") or "")
    if kind == "Bounce":
        return _bounced(notification.get("bounce") or {})
    if kind == "Complaint":
        complaint = notification.get("complaint") or {}
        feedback = str(complaint.get("complaintFeedbackType") or "abuse")
        return [
            Found(recipient=address, action="complaint", diagnostic=f"Feedback-Type: {feedback}")
            for address in _addresses(complaint.get("complainedRecipients"))
        ]
    if kind == "Delivery":
        delivery = notification.get("delivery") or {}
        response = str(delivery.get("smtpResponse") or "")
        return [
            Found(recipient=address, action="delivered", diagnostic=response)
            for address in _addresses(delivery.get("recipients"))
        ]
    return []


def _notification(text):
    """The JSON notification found in ``text`` (unwrapped from an SNS envelope), or None."""
    start = text.find(MARKER)
    if start < 0:
        start = text.find('{"Type"')
    if start < 0:
        return None
    decoder = json.JSONDecoder()
    try:
        value, _end = decoder.raw_decode(text[start:])
    except ValueError:
        # SNS wraps long lines of the JSON: joined again
        try:
            value, _end = decoder.raw_decode(text[start:].replace("\r", "").replace("\n", ""))
        except ValueError:
            return None
    if isinstance(value, dict) and isinstance(value.get("Message"), str):
        try:
            value = json.loads(value["Message"])
        except ValueError:
            return None
    return value


def _addresses(items):
    """The addresses of a list of recipients (strings or ``{"emailAddress": ...}``)."""
    found = []
    for item in items if isinstance(items, list) else []:
        value = item.get("emailAddress") if isinstance(item, dict) else item
        address = normalize_address(str(value or ""))
        if address and address not in found:
            found.append(address)
    return found


def _bounced(bounce):
    """The failed :class:`Found` of a ``bounce`` object."""
    found = []
    for item in bounce.get("bouncedRecipients") or []:
        if not isinstance(item, dict):
            continue
        address = normalize_address(str(item.get("emailAddress") or ""))
        if not address:
            continue
        diagnostic = str(item.get("diagnosticCode") or "").split(";", 1)[-1].strip()
        bounce_type = str(bounce.get("bounceType") or "")
        found.append(
            Found(
                recipient=address,
                action="delayed" if str(item.get("action")) == "delayed" else "failed",
                status=str(item.get("status") or "") or None,
                diagnostic=diagnostic or f"{bounce_type} {bounce.get('bounceSubType') or ''}",
                reporting_mta=str(bounce.get("reportingMTA") or "").split(";")[-1].strip(),
            )
        )
    return found
