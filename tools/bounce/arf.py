"""RFC 5965 ARF feedback reports (``multipart/report; report-type=feedback-report``): one
``complaint`` per complaining recipient (``Original-Rcpt-To``, else the reported message's
``X-HmXmrOriginalRecipient`` or ``To``), with the reported message's Message-ID.
"""

from .message import REDACTED_RE
from .message import BounceResult
from .message import addresses
from .message import dsn_value
from .message import field_blocks
from .message import header
from .message import original_message_id
from .message import truncate


def read_arf(msg, parts):
    """One ``complaint`` result per recipient of the feedback reports of ``msg``."""
    results = []
    message_id = original_message_id(msg, parts)
    human = truncate("\n".join(parts.texts))
    for report in parts.feedback_reports:
        for fields in field_blocks(report)[:1]:
            feedback_type = header(fields, "Feedback-Type").lower()
            recipients = []
            for value in fields.get_all("Original-Rcpt-To") or []:
                recipients += [a for a in addresses(str(value)) if a not in recipients]
            for original in parts.originals:
                if not recipients:
                    recipients = addresses(header(original, "X-HmXmrOriginalRecipient"))
                if not recipients:
                    recipients = addresses(header(original, "To"))
            # a feedback loop that redacts the address (AOL): the Message-ID must tell
            recipients = [a for a in recipients if not REDACTED_RE.search(a.split("@")[0])]
            diagnostic = human or f"Feedback-Type: {feedback_type}"
            user_agent = header(fields, "User-Agent")
            if user_agent:
                diagnostic = f"{diagnostic}\n{user_agent}"
            for recipient in recipients or [""]:
                results.append(complaint(recipient, feedback_type, diagnostic, fields, message_id))
    return results


def complaint(recipient, feedback_type, diagnostic, fields, message_id):
    """A complaint result; ``not-spam`` and ``auth-failure`` reports are no complaint."""
    result = BounceResult(
        recipient=recipient,
        kind="complaint",
        diagnostic=truncate(diagnostic),
        reporting_mta=dsn_value(header(fields, "Reporting-MTA")),
        original_message_id=message_id,
        feedback_type=feedback_type,
        category="complaint",
        permanence="none",
    )
    if feedback_type == "not-spam":
        result.kind, result.category = "unknown", "unknown"
    elif feedback_type == "auth-failure":
        result.kind, result.category = "unknown", "authentication"
    return result
