"""Outcomes read in a Postfix or Exim log by ``tools/maillog.py`` and posted with the
token set on the outgoing mail server (``Authorization: Bearer <token>``).

Each outcome names the e-mail by the server's queue id, the reference the server gave
in its reply to Odoo (``queued as 4Q1x2Zk7pQz``, ``id=1rAbCd-0001Xy-9Z``).
"""

import re

from cryptography.hazmat.primitives import constant_time

from . import ProviderEvent
from . import WebhookError
from . import load_json

NAME = "maillog"
KINDS = {"sent": "delivered", "deferred": "delayed"}
_HOST_SAID_RE = re.compile(r"^host \S+ said:\s*", re.I)
_IN_REPLY_RE = re.compile(r"\s*\(in reply to [^)]*\)\s*$", re.I)
_CODE_RE = re.compile(r"\b([245]\d\d)[ -]")


def verify(headers, secret):
    """Refuse (``WebhookError(401)``) a request without the server's token."""
    scheme, _sep, token = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not constant_time.bytes_eq(
        token.strip().encode(), secret.encode()
    ):
        raise WebhookError(401, "Invalid or missing token")


def diagnostic_of(reply):
    """The remote server's words of a log line's reply (without Postfix's wrapping)."""
    return _IN_REPLY_RE.sub("", _HOST_SAID_RE.sub("", (reply or "").strip()))


def read(body, headers, secret, now):
    """The events of one post of the log reader."""
    verify(headers, secret)
    data = load_json(body)
    outcomes = data.get("outcomes") if isinstance(data, dict) else None
    if not isinstance(outcomes, list):
        raise WebhookError(400, "Not a list of outcomes")
    events = []
    for outcome in outcomes:
        if (
            not isinstance(outcome, dict)
            or not all(
                isinstance(outcome.get(k), str) and outcome[k]
                for k in ("queue_id", "recipient", "status", "line_id")
            )
            or outcome["status"] not in ("sent", "deferred", "bounced")
        ):
            raise WebhookError(400, "Not an outcome of the mail log")
        dsn = str(outcome.get("dsn") or "")
        kind = KINDS.get(outcome["status"]) or ("hard" if dsn.startswith("5") else "soft")
        diagnostic = diagnostic_of(str(outcome.get("reply") or ""))
        code = _CODE_RE.search(diagnostic)
        events.append(
            ProviderEvent(
                provider=NAME,
                event_id=outcome["line_id"][:64],
                kind=kind,
                recipient=outcome["recipient"],
                provider_message_id=outcome["queue_id"][:64],
                classification=f"status={outcome['status']}",
                diagnostic=diagnostic,
                smtp_code=int(code.group(1)) if code else 0,
                status=dsn,
                remote_mta=str(outcome.get("relay") or ""),
            )
        )
    return events
