"""The loopback SMTP server answers with the reply codes of its rules (no database)."""

import smtplib

import pytest

from ..tools.loopback_smtp import LoopbackSMTPServer


@pytest.fixture
def smtpd():
    with LoopbackSMTPServer() as server:
        yield server


def _send(server, rcpts):
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        return smtp.sendmail("sender@example.com", rcpts, b"Subject: hi\r\n\r\nbody\r\n")


def test_accepts_and_records(smtpd):
    assert _send(smtpd, ["a@example.com", "b@example.com"]) == {}
    assert smtpd.recipients() == ["a@example.com", "b@example.com"]
    assert smtpd.received[0].message["Subject"] == "hi"


@pytest.mark.parametrize(
    ("rcpt", "code", "status"),
    [
        ("x@nouser.example", 550, b"5.1.1"),
        ("x@full.example", 452, b"4.2.2"),
        ("x@busy.example", 421, b"4.7.0"),
    ],
)
def test_refuses_by_rule(smtpd, rcpt, code, status):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as exc:
        _send(smtpd, [rcpt])
    got_code, reply = exc.value.recipients[rcpt]
    assert got_code == code
    assert reply.startswith(status)
    assert smtpd.recipients() == []


def test_partial_refusal_keeps_the_others(smtpd):
    refused = _send(smtpd, ["ok@example.com", "x@nouser.example"])
    assert list(refused) == ["x@nouser.example"]
    assert smtpd.recipients() == ["ok@example.com"]
