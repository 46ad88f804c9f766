"""Delivery report helpers with no ORM: SMTP refusal text and failure permanence.

``mail.mail`` records the failure of an SMTP refusal as the text of Odoo's
``MailDeliveryException``, e.g.::

    Mail Delivery Failed
    Mail delivery failed via SMTP server 'None'.
    SMTPRecipientsRefused: {'a@nouser.example': (550, b'5.1.1 <a@nouser.example>: User unknown')}

:func:`smtp_failure_reason` turns it into the server's own reply
(``550 5.1.1 <a@nouser.example>: User unknown``) that the mailing trace keeps, and
:func:`permanence_from_reply` tells a temporary failure from a permanent one when no
registry entry explains it.
"""

import re

from . import delivery_errors

#: the reply and status codes a diagnostic starts with ("5.1.1 550-5.1.1 ...")
LEADING_CODES_RE = re.compile(
    r"^(?:\s*(?:[245][0-9][0-9](?:[ -]|$)|[245]\.[0-9]{1,3}\.[0-9]{1,3}))+\s*"
)

#: ignored reasons of the delivery report, in the order core's composer applies them
IGNORED_REASONS = ("blacklisted", "missing", "invalid", "optout", "duplicate")

#: mailing.trace failure_type -> ignored reason of the delivery report
FAILURE_TYPE_REASONS = {
    "mail_bl": "blacklisted",
    "mail_email_missing": "missing",
    "mail_email_invalid": "invalid",
    "mail_optout": "optout",
    "mail_dup": "duplicate",
}


def smtp_failure_reason(text):
    """The SMTP server's reply found in a failure text, as ``code status text``.

    :param text: the failure reason recorded by Odoo (str, bytes or None)
    :return: ``(reply, code, status)``: the reply on one line (the whole cleaned text
        when no SMTP reply is found), its reply code (int or None) and its enhanced
        status code (``"5.1.1"`` or None). Never raises.
    """
    raw = delivery_errors.to_text(text)
    match = delivery_errors.SMTPLIB_RE.search(raw) or delivery_errors.SMTPLIB_ARGS_RE.search(raw)
    if match:
        reply = (
            f"{match.group(1)} {delivery_errors._decode_literal(match.group(2), match.group(3))}"
        )
        code, status, cleaned = delivery_errors.parse_smtp_reply(reply)
        return cleaned, code, status
    code, status, cleaned = delivery_errors.parse_smtp_reply(raw)
    return cleaned, code, status


def permanence_from_reply(code, status=None):
    """Permanence of a failure nothing else explains: 4xx / 4.x.x is temporary, 5xx /
    5.x.x is permanent, no code at all (connection trouble) is temporary.

    :param code: SMTP reply code (int or None)
    :param status: RFC 3463 enhanced status code (str or None)
    :return: ``"temporary"`` or ``"permanent"``
    """
    if status and status[:1] in "45":
        return "temporary" if status[0] == "4" else "permanent"
    if code:
        return "temporary" if 400 <= int(code) < 500 else "permanent"
    return "temporary"


def readable_reply(text):
    """A diagnostic as a person reads it: ``code status text`` once, without the codes a
    bounce report repeats (``5.1.1 550-5.1.1 The account ...`` becomes ``550 5.1.1 The
    account ...``) nor an exception's repr.

    :param text: the diagnostic or failure text (str, bytes or None)
    :return: str (empty for no text). Never raises.
    """
    reply, code, status = smtp_failure_reason(text)
    if not (code or status):
        return reply
    rest = LEADING_CODES_RE.sub("", reply)
    return " ".join(part for part in (str(code or ""), status or "", rest) if part)
