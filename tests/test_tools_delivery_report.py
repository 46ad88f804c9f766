"""The delivery report helpers (``tools/delivery_report.py``), without a database: the
server's reply read from Odoo's SMTP failure text, and the permanence of a failure."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..tools import delivery_report

ODOO_FAILURE = (
    "Mail Delivery Failed\nMail delivery failed via SMTP server 'None'.\n"
    "SMTPRecipientsRefused: {'a@nouser.example': (550, b'5.1.1 <a@nouser.example>: "
    "Recipient address rejected: User unknown in virtual mailbox table')}"
)


@pytest.mark.parametrize(
    ("text", "reply", "code", "status"),
    [
        (
            ODOO_FAILURE,
            "550 5.1.1 <a@nouser.example>: Recipient address rejected: User unknown in "
            "virtual mailbox table",
            550,
            "5.1.1",
        ),
        (
            "SMTPRecipientsRefused: {'b@full.example': (452, b'4.2.2 <b@full.example>: "
            "Mailbox full, quota exceeded')}",
            "452 4.2.2 <b@full.example>: Mailbox full, quota exceeded",
            452,
            "4.2.2",
        ),
        (
            "SMTPRecipientsRefused: {'c@busy.example': (421, b'4.7.0 Try again later, "
            "closing connection. (TSS04)')}",
            "421 4.7.0 Try again later, closing connection. (TSS04)",
            421,
            "4.7.0",
        ),
        ("550 5.7.1 Message rejected as spam", "550 5.7.1 Message rejected as spam", 550, "5.7.1"),
        ("[Errno 111] Connection refused", "[Errno 111] Connection refused", None, None),
        # a 421 greeting (SMTPConnectError) as Odoo records it: its arguments one a line
        (
            "421\nb'4.3.2 Service not available, closing transmission channel'",
            "421 4.3.2 Service not available, closing transmission channel",
            421,
            "4.3.2",
        ),
        (
            "The mail server closed the connection and could not be reached again: "
            "421\nb'4.7.0 Too many connections'",
            "421 4.7.0 Too many connections",
            421,
            "4.7.0",
        ),
        (None, "", None, None),
        (b"452 4.2.2 full", "452 4.2.2 full", 452, "4.2.2"),
    ],
)
def test_smtp_failure_reason(text, reply, code, status):
    assert delivery_report.smtp_failure_reason(text) == (reply, code, status)


@pytest.mark.parametrize(
    ("code", "status", "permanence"),
    [
        (550, "5.1.1", "permanent"),
        (452, "4.2.2", "temporary"),
        (421, None, "temporary"),
        (550, None, "permanent"),
        (None, "4.4.7", "temporary"),
        (None, None, "temporary"),
        (250, "5.0.0", "permanent"),
    ],
)
def test_permanence_from_reply(code, status, permanence):
    assert delivery_report.permanence_from_reply(code, status) == permanence


@given(st.one_of(st.none(), st.text(max_size=300), st.binary(max_size=300)))
def test_smtp_failure_reason_never_raises(text):
    reply, code, status = delivery_report.smtp_failure_reason(text)
    assert isinstance(reply, str)
    assert code is None or 200 <= code <= 599
    assert status is None or status[0] in "245"
