"""Signed tokens of the document e-mail tracking links (open pixel, click redirect,
unsubscribe).

A token is the HMAC-SHA256 of the database secret and the purpose plus the ids it
vouches for (the tracking id, and the link id for a click), hex encoded. Checking
compares in constant time, so a forged token reveals nothing through timing. Pure
Python: no ORM, unit-tested without a database.
"""

import hashlib
import hmac

PURPOSES = ("open", "click", "unsubscribe")


def _message(purpose, ids):
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    if not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValueError("token ids must be integers")
    return ":".join(["mmd-tracking", purpose, *(str(i) for i in ids)]).encode()


def sign(secret, purpose, *ids):
    """Return the token of ``purpose`` for ``ids``.

    :param secret: the database secret (``database.secret``), a non-empty string
    :param purpose: "open", "click" or "unsubscribe"
    :param ids: the integer ids the token vouches for (tracking id, then link id)
    :return: 64 hexadecimal characters
    """
    if not secret:
        raise ValueError("an empty secret cannot sign")
    return hmac.new(secret.encode(), _message(purpose, ids), hashlib.sha256).hexdigest()


def verify(secret, token, purpose, *ids):
    """Tell whether ``token`` is the token of ``purpose`` for ``ids``.

    Any malformed input (not a string, wrong ids, empty secret) is simply invalid.

    :return: bool
    """
    if not secret or not isinstance(token, str) or len(token) != 64:
        return False
    try:
        expected = sign(secret, purpose, *ids)
    except ValueError:
        return False
    return hmac.compare_digest(expected.encode(), token.encode("utf-8", "replace"))
