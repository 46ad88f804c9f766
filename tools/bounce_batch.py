"""Set-based application of a batch of bounce events, the parts that need no database.

A batch is what arrives together: the recipients of one message of the bounce mailbox,
the events of one webhook POST. These helpers match the batch to the traces read in one
query, split the soft-bounce counter updates into statements that touch an address once,
and keep one block per address.
"""

from collections import namedtuple
from datetime import timedelta
from email import message_from_bytes
from email import policy

from odoo.tools.mail import unfold_references

#: core's automatic blacklist (``mass_mailing``): this many bounces of an address...
CORE_BLACKLIST_MIN_BOUNCES = 5
#: ... within this many days, spread over more than this many days
CORE_BLACKLIST_DAYS = 91
CORE_BLACKLIST_SPREAD_DAYS = 7

#: one candidate trace as read: its id, e-mail, and the key it was found by
TraceRow = namedtuple("TraceRow", ["id", "email", "key"])


def pick_trace(rows, keys, recipient):
    """The trace a bounce answers among ``rows`` (read once for the whole batch): the
    most recent one found by one of ``keys`` whose e-mail is the recipient (any
    e-mail when the bounce names no recipient), as ``=ilike`` matches it.

    :param rows: iterable of :class:`TraceRow`
    :param keys: the bounce's keys (Message-IDs, or the provider's message id)
    :param recipient: the bounced address ('' when the bounce names nobody)
    :return: the trace id, or 0
    """
    keys = {key for key in keys if key}
    recipient = (recipient or "").lower()
    best = 0
    for row in rows:
        if row.key in keys and (not recipient or (row.email or "").lower() == recipient):
            best = max(best, row.id)
    return best


def counter_rounds(increments):
    """Split ``[(email, source)]`` into rounds in which each e-mail appears once (one
    ``INSERT ... ON CONFLICT DO UPDATE`` may not touch a row twice), in order.

    :return: list of lists of ``(index, email, source)``
    """
    rounds = []
    for index, (email, source) in enumerate(increments):
        for round_ in rounds:
            if all(other != email for _i, other, _s in round_):
                round_.append((index, email, source))
                break
        else:
            rounds.append([(index, email, source)])
    return rounds


def first_per_address(requests):
    """Keep the first ``(address, *rest)`` request of each address, in order."""
    kept = {}
    for request in requests:
        if request[0] and request[0] not in kept:
            kept[request[0]] = request
    return list(kept.values())


def core_blacklist_due(count, first, last, partner_bounces):
    """Whether core's automatic blacklist rule blocks an address: at least
    ``CORE_BLACKLIST_MIN_BOUNCES`` bounced traces in the last three months, spread over
    more than a week, and (when the address has contacts) one of them bounced as often.

    :param count: number of bounced traces of the address in the window
    :param first: the earliest of their ``write_date``
    :param last: the latest one
    :param partner_bounces: the bounce counters of the address's contacts
    """
    if count < CORE_BLACKLIST_MIN_BOUNCES:
        return False
    if partner_bounces and not any(n >= CORE_BLACKLIST_MIN_BOUNCES for n in partner_bounces):
        return False
    return last > first + timedelta(days=CORE_BLACKLIST_SPREAD_DAYS)


def bounced_message_ids(email_message, in_reply_to="", references=""):
    """The Message-IDs a bounce answers, read as core's gateway reads them
    (``mail.thread._message_parse_extract_bounce``) but without its look-ups: those of
    the returned headers (``message/rfc822`` or ``text/rfc822-headers`` part, else the
    ``multipart/report``), then the bounce's own ``In-Reply-To`` and ``References``.

    :param email_message: the bounce (``email.message.Message``, any policy)
    :return: list of Message-IDs (``<...>``), in that order
    """
    parts = list(email_message.walk())
    email_part = next(
        (p for p in parts if p.get_content_type() in {"message/rfc822", "text/rfc822-headers"}),
        None,
    ) or next((p for p in parts if p.get_content_type() == "multipart/report"), None)
    found = []
    if email_part is not None:
        if email_part.get_content_type() == "text/rfc822-headers":
            payload = message_from_bytes(
                email_part.get_payload(decode=True) or b"", policy=policy.compat32
            )
        else:
            payload = email_part.get_payload()[0]
        for header in ("Message-Id", "X-Microsoft-Original-Message-ID"):
            value = " ".join(str(v) for v in payload.get_all(header) or [] if v)
            found += [ref.strip() for ref in unfold_references(value)]
    found += unfold_references(in_reply_to or "")
    found += [ref.strip() for ref in unfold_references(references or "")]
    return found
