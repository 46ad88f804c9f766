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


# ---- faults, for the reliability tests ----


def test_fault_disconnect_at_rcpt():
    with LoopbackSMTPServer(rules={"drop.example": "!disconnect"}) as server:
        with pytest.raises(smtplib.SMTPServerDisconnected):
            _send(server, ["x@drop.example"])
        assert server.recipients() == []
        assert [address for address, _reply, _at in server.refused] == ["x@drop.example"]


def test_fault_refused_after_data():
    rules = {"late.example": "!after-data 451 4.3.0 Temporary local problem"}
    with LoopbackSMTPServer(rules=rules) as server:
        with pytest.raises(smtplib.SMTPDataError) as exc:
            _send(server, ["x@late.example"])
        assert exc.value.smtp_code == 451
        assert server.recipients() == []


def test_fault_hang_after_data_times_the_client_out():
    with LoopbackSMTPServer(rules={"slow.example": "!hang 3"}) as server:
        with (
            smtplib.SMTP(server.host, server.port, timeout=1) as smtp,
            # smtplib closes the session on a timeout and says so
            pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"),
        ):
            smtp.sendmail("sender@example.com", ["x@slow.example"], b"Subject: hi\r\n\r\nx\r\n")
        assert server.recipients() == []
        assert server.handler.hung == [["x@slow.example"]]


def test_fault_greeting_421():
    with LoopbackSMTPServer() as server:
        server.handler.greeting = "421 4.3.2 Service not available, closing channel"
        with pytest.raises(smtplib.SMTPConnectError) as exc:
            smtplib.SMTP(server.host, server.port, timeout=5)
        assert exc.value.smtp_code == 421
        server.handler.greeting = ""
        assert _send(server, ["back@example.com"]) == {}


def test_fault_greeting_421_for_the_next_connections_only():
    with LoopbackSMTPServer() as server:
        server.handler.refuse_connections("421 4.7.0 Too many connections", count=2)
        for _attempt in range(2):
            with pytest.raises(smtplib.SMTPConnectError) as exc:
                smtplib.SMTP(server.host, server.port, timeout=5)
            assert exc.value.smtp_code == 421
        assert _send(server, ["third@example.com"]) == {}
        assert server.recipients() == ["third@example.com"]
        assert [reply for reply, _at in server.handler.refused_connections] == [
            "421 4.7.0 Too many connections"
        ] * 2


def test_fault_crash_stops_listening_until_listen():
    with LoopbackSMTPServer(rules={"crash.example": "!crash"}) as server:
        with pytest.raises(smtplib.SMTPServerDisconnected):
            _send(server, ["x@crash.example"])
        assert not server.listening
        with pytest.raises(ConnectionRefusedError):
            smtplib.SMTP(server.host, server.port, timeout=5)
        server.listen()
        assert server.listening
        assert _send(server, ["back@example.com"]) == {}
        assert server.recipients() == ["back@example.com"]


def test_stop_listening_keeps_open_sessions():
    with LoopbackSMTPServer() as server:
        with smtplib.SMTP(server.host, server.port, timeout=5) as smtp:
            server.stop_listening()
            with pytest.raises(ConnectionRefusedError):
                smtplib.SMTP(server.host, server.port, timeout=5)
            smtp.sendmail("sender@example.com", ["open@example.com"], b"Subject: hi\r\n\r\nx\r\n")
        server.listen()
        assert server.recipients() == ["open@example.com"]


@pytest.mark.parametrize("mode", ["postfix", "ses"])
def test_reply_modes_name_the_message(mode):
    """As Postfix (``queued as <queue id>``) or Amazon SES (``250 Ok <SES id>``, the
    Message-ID rewritten); the client reads the reply to DATA."""
    from ..tools.providers import reference

    message = b"Message-Id: <orig.1@odoo.example>\r\nSubject: hi\r\n\r\nbody\r\n"
    with (
        LoopbackSMTPServer(reply_mode=mode) as server,
        smtplib.SMTP(server.host, server.port, timeout=10) as smtp,
    ):
        smtp.ehlo()
        smtp.mail("sender@example.com")
        smtp.rcpt("a@example.com")
        code, reply = smtp.data(message)
        received = server.received[0]
    text = reference.reply_text(code, reply)
    assert text == received.reply
    assert reference.parse_reference(text) == received.provider_message_id != ""
    if mode == "ses":
        assert received.original_message_id == "<orig.1@odoo.example>"
        assert received.message["Message-Id"] == (
            f"<{received.provider_message_id}@email.amazonses.com>"
        )
        assert received.message["Subject"] == "hi"
    else:
        assert received.message["Message-Id"] == "<orig.1@odoo.example>"
