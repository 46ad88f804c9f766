"""From what a reader found to a :class:`BounceResult`: the registry classification and the
kind.

A ``hard`` bounce blocks the address at once, so it needs evidence about the address itself:
an unknown user, an unknown domain (or a null MX), a disabled or suspended mailbox, a mailbox
that moved (:data:`HARD_CATEGORIES`). Every other failure that was given up on is ``soft``
(it counts toward the soft-bounce limit) and keeps its category: a full mailbox, the
sender's IP on a blocklist, an SPF failure, a policy or spam rejection, an expired message,
a network error, and a permanent failure nothing explains.
"""

import re

from .message import HARD_CATEGORIES
from .message import BounceResult
from .message import classify
from .message import command_of
from .message import smtp_reply
from .message import truncate

#: a DNS lookup's answer quoted in a diagnostic
DNS_RE = re.compile(r"\bdns\b|nxdomain|name server|name service|lookup", re.IGNORECASE)
#: a null MX (RFC 7505): the domain's own final word that it receives no mail
NULL_MX_RE = re.compile(r"null mx|doesn.t receive e-?mail|does not accept (?:e-?)?mail", re.I)
#: the category of a failure nothing else explains, by the SMTP command it answered: a
#: refusal of the connection or of the greeting is about the sending host, one of MAIL FROM
#: about the sender address
COMMAND_CATEGORIES = {
    "CONNECT": "sender_blocked",
    "HELO": "sender_blocked",
    "EHLO": "sender_blocked",
    "MAIL": "sender_rejected",
}

#: the commands of the greeting: no sender or recipient named yet
GREETING = ("CONNECT", "HELO", "EHLO")


def failure_kind(category, permanence=None, status=None, smtp_code=None):
    """``hard`` or ``soft`` for a recipient whose delivery was given up: ``hard`` only for a
    category that is evidence about the address (:data:`HARD_CATEGORIES`).

    :param category: registry category of the failure
    :param permanence: registry permanence (kept for the callers; not used)
    :param status: RFC 3463 status code or None (not used)
    :param smtp_code: SMTP reply code or None (not used)
    """
    return "hard" if category in HARD_CATEGORIES else "soft"


def finish(found, matcher, message_id="", reader=""):
    """The classified :class:`BounceResult` of what a reader ``found`` about one recipient.

    The reply code and status the reader gave win over those read from the diagnostic, but
    a generic status (``5.0.0``) loses to the reply's own code of the same class.

    :param found: :class:`Found`
    :param matcher: the registry ``Matcher``
    :param message_id: the Message-ID of the message that bounced
    :param reader: the name of the reader that found it
    """
    code, reply_status, cleaned = smtp_reply(found.diagnostic)
    status = found.status
    if reply_status and (not status or (status.endswith(".0.0") and status[0] == reply_status[0])):
        status = reply_status
    result = BounceResult(
        recipient=found.recipient,
        smtp_code=found.smtp_code or code,
        status=status,
        diagnostic=truncate(cleaned or found.diagnostic),
        reporting_mta=found.reporting_mta,
        remote_mta=found.remote_mta,
        original_message_id=message_id,
        smtp_command=found.command or command_of(found.diagnostic),
        reader=reader,
        final_recipient=found.final_recipient,
    )
    classify(result, matcher)
    action = found.action
    if action == "failed":
        refine(result)
        result.kind = failure_kind(result.category)
    elif action in ("delayed", "delivered"):
        result.kind = action
    elif action == "complaint":
        result.kind = result.category = "complaint"
        result.feedback_type = "abuse"
        result.permanence = "none"
    else:
        result.kind = "unknown"
    return result


def refine(result):
    """Refine the category of a failure the registry left unexplained (``unknown``) or
    generic (``server_error``): given up after temporary failures (a 4.x.x status in a
    failure report) it expired, unless its status says the receiving mail system failed
    (4.3.x), and an unknown domain reported with a temporary status is a DNS failure, not
    evidence about the address; refused (even for an unknown domain, which is then the
    sender's) at the connection, greeting or MAIL FROM it is about the sender, and so is a
    permanent server error of the connection or greeting. An unknown user refused only at
    the end of DATA with a generic status (x.0.0) is not about the address: the server had
    accepted it at RCPT TO."""
    klass = (result.status or "")[:1] or str(result.smtp_code or "")[:1]
    if result.category in HARD_CATEGORIES and result.smtp_command in COMMAND_CATEGORIES:
        # refused before any recipient was named: "No such domain" is the sender's domain
        result.category = COMMAND_CATEGORIES[result.smtp_command]
    elif (
        result.category == "recipient_unknown"
        and result.smtp_command == "DATA"
        and (result.status or "5.0.0").endswith(".0.0")
    ):
        # accepted at RCPT TO, refused at the end of DATA with a generic status
        # (NTT docomo's receive filter says "Unknown user", 5.0.0)
        result.category = "content_rejected"
    elif (
        result.category == "domain_unknown"
        and klass == "4"
        and DNS_RE.search(result.diagnostic)
        and not NULL_MX_RE.search(result.diagnostic)
    ):
        # a DNS answer the reporting server itself took for temporary (4.x.x)
        result.category = "network_error"
    elif (
        result.category == "unknown"
        or (result.category == "server_error" and not (result.status or "").startswith("4.3."))
    ) and klass == "4":
        # (X.3.X, RFC 3463: the receiving mail system itself failed, a server error)
        result.category = "expired"
    elif result.category == "unknown" and result.smtp_command in COMMAND_CATEGORIES:
        result.category = COMMAND_CATEGORIES[result.smtp_command]
    elif result.category == "server_error" and klass == "5" and result.smtp_command in GREETING:
        # a permanent refusal of the connection or of the greeting ("501 Invalid domain
        # name" for the HELO name) is about the sending host, not a fault of the server
        result.category = COMMAND_CATEGORIES[result.smtp_command]
