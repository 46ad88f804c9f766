"""Amazon WorkMail notices (``X-Mailer`` or ``X-Original-Mailer: Amazon WorkMail``, sent
through Amazon SES: ``X-SES-Outgoing``).

Format: "An error occurred while trying to deliver the mail to the following recipients:",
the recipients, then "Technical report:" followed by RFC 3464 delivery-status fields written
in the text part itself (not in a ``message/delivery-status`` part)::

    Technical report:

    Reporting-MTA: dsn; a27-80.smtp-out.us-west-2.amazonses.com

    Action: failed
    Final-Recipient: rfc822; kijitora@example.jp
    Diagnostic-Code: smtp; 550 5.1.1 <kijitora@example.jp>... User Unknown
    Status: 5.1.1

The fields are read as a delivery-status part by :mod:`.dsn`.
"""

from . import dsn
from .message import MAX_SIZE
from .message import Parts
from .message import header
from .message import load

NAME = "amazonworkmail"

MAILER = "amazon workmail"
START = "Technical report:"


def read(msg, parts):
    """The recipients of an Amazon WorkMail notice, [] when ``msg`` is none."""
    if parts.delivery_status:
        return []
    report = parts.report
    start = report.find(START)
    if start < 0 or msg.get("X-SES-Outgoing") is None:
        return []
    mailer = (header(msg, "X-Original-Mailer") or header(msg, "X-Mailer")).lower()
    if mailer != MAILER:
        return []
    fields = report[start + len(START) :].strip()
    status = load(f"Content-Type: message/delivery-status\n\n{fields}\n", MAX_SIZE)
    if status is None:
        return []
    own = Parts([status], [], parts.originals, parts.texts, parts.matcher)
    return dsn.read(msg, own)
