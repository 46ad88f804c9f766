"""VERP: the trace an e-mail answers, encoded in its bounce address (no ORM).

Each mass-mailing e-mail can be sent with the envelope sender (Return-Path)
``<bounce>+mmd<trace id>-<signature>@<domain>``: a bounce then names the trace it answers
even when it quotes no Message-ID and reports a recipient that was rewritten on the way
(forwarding, aliases). The signature (HMAC-SHA256 of the database secret and the trace id,
cut to 12 hex digits, compared in constant time) keeps anybody from pointing a forged
bounce at another recipient's trace.
"""

import hashlib
import hmac
import re

#: the tag put after the bounce alias's local part
TAG = "mmd"
SIGNATURE_LENGTH = 12
_VERP_RE = re.compile(
    rf"^(?P<local>[^@+\s]+)\+{TAG}(?P<trace>\d{{1,18}})-(?P<sig>[0-9a-f]{{{SIGNATURE_LENGTH}}})@(?P<domain>[^@\s]+)$",
    re.IGNORECASE,
)


def signature(secret, trace_id):
    """The signature of ``trace_id`` with ``secret`` (hex, lower case)."""
    digest = hmac.new(secret.encode(), f"verp:{int(trace_id)}".encode(), hashlib.sha256)
    return digest.hexdigest()[:SIGNATURE_LENGTH]


def encode(bounce_address, trace_id, secret):
    """The bounce address of ``trace_id``: ``bounce@domain`` -> ``bounce+mmd42-<sig>@domain``.

    :param bounce_address: the bounce alias, ``local@domain``
    :param trace_id: the id of the ``mailing.trace``
    :param secret: the database secret
    :return: the encoded address, or ``bounce_address`` unchanged when it is no address
    """
    local, at, domain = (bounce_address or "").partition("@")
    if not (local and at and domain):
        return bounce_address
    return f"{local}+{TAG}{int(trace_id)}-{signature(secret, trace_id)}@{domain}"


def decode(address, secret, bounce_addresses=None):
    """The trace id encoded in ``address``, or None (no VERP address, or a forged one).

    :param address: one e-mail address, as found in a bounce's To or Delivered-To
    :param secret: the database secret
    :param bounce_addresses: when given, the bounce aliases ``address`` must derive from
    """
    match = _VERP_RE.match((address or "").strip().strip("<>"))
    if not match:
        return None
    base = f"{match['local']}@{match['domain']}".lower()
    if bounce_addresses is not None and base not in {a.lower() for a in bounce_addresses}:
        return None
    trace_id = int(match["trace"])
    if not hmac.compare_digest(match["sig"].lower(), signature(secret, trace_id)):
        return None
    return trace_id


def base_address(address):
    """``bounce+mmd42-<sig>@domain`` -> ``bounce@domain``; other addresses unchanged."""
    match = _VERP_RE.match((address or "").strip().strip("<>"))
    return f"{match['local']}@{match['domain']}".lower() if match else address
