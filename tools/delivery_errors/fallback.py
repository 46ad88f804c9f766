"""The built-in classification when no rule matches (RFC 3463 / RFC 5321)."""


# ------------------------------------------------------------
# FALLBACK (RFC 3463 / RFC 5321)
# ------------------------------------------------------------

#: exact enhanced status codes (class-independent "subject.detail") -> category
FALLBACK_DETAIL = {
    "1.1": "recipient_unknown",
    "1.2": "domain_unknown",
    "1.3": "recipient_unknown",
    "1.6": "mailbox_disabled",
    "1.10": "recipient_unknown",
    "2.1": "mailbox_disabled",
    "2.2": "mailbox_full",
    "2.3": "message_too_large",
    "3.4": "message_too_large",
    "4.4": "domain_unknown",
    "4.7": "expired",
    "7.1": "policy_rejected",
    "7.23": "authentication",
    "7.25": "authentication",
    "7.26": "authentication",
    "7.28": "rate_limited",
}
#: enhanced status subject -> category
FALLBACK_SUBJECT = {
    "1": "recipient_unknown",
    "2": "mailbox_disabled",
    "3": "server_error",
    "4": "server_error",
    "5": "server_error",
    "6": "content_rejected",
    "7": "policy_rejected",
}
#: basic reply code -> category
FALLBACK_CODE = {
    421: "rate_limited",
    450: "mailbox_disabled",
    451: "server_error",
    452: "server_error",
    550: "unknown",
    551: "recipient_unknown",
    552: "mailbox_full",
    553: "recipient_unknown",
    554: "unknown",
}


def fallback(code, status, has_text=True):
    """``(category, permanence)`` from the reply code and status alone (no registry rule).

    ``X.2.2`` (mailbox full) is ``mailbox_full`` in both classes: permanent for ``5.2.2`` as
    RFC 3463 says, although many providers (Gmail) use it for an inbox that empties again.

    :param code: SMTP reply code or None
    :param status: enhanced status code or None
    :param has_text: whether a diagnostic text exists (an empty failure is not a failure)
    """
    klass = status[0] if status else str(code)[0] if code else ""
    permanence = {"2": "none", "4": "temporary", "5": "permanent"}.get(klass)
    if permanence is None:
        return "unknown", "permanent" if has_text else "none"
    if klass == "2":
        return "unknown", "none"
    category = "unknown"
    if status:
        _klass, subject, detail = status.split(".")
        category = FALLBACK_DETAIL.get(f"{subject}.{detail}") or FALLBACK_SUBJECT.get(subject)
    elif code in FALLBACK_CODE:
        category = FALLBACK_CODE[code]
    return category or "unknown", permanence
