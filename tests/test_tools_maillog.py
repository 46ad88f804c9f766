"""The Postfix/Exim log reader: real log lines of each status, the cursor that makes it
safe to run from cron, rotated and compressed files (no database)."""

import gzip
import os

from ..tools import maillog
from ..tools.providers import maillog as maillog_provider

POSTFIX = [
    "Dec  3 13:01:02 mx postfix/smtp[1234]: 4Q1x2Zk7pQz: to=<gone@remote.example>, "
    "relay=mx.remote.example[192.0.2.1]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=5.1.1, "
    "status=bounced (host mx.remote.example[192.0.2.1] said: 550 5.1.1 <gone@remote.example>: "
    "Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO "
    "command))",
    "2026-12-03T13:01:03.123456+00:00 mx postfix/smtp[1235]: 4Q1x2Zk7pQa: "
    "to=<Happy@Remote.example>, relay=mx.remote.example[192.0.2.1]:25, delay=0.4, "
    "delays=0.1/0/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9ABCD12)",
    "Dec  3 13:01:04 mx postfix/smtp[1236]: 4Q1x2Zk7pQb: to=<full@remote.example>, "
    "relay=mx.remote.example[192.0.2.1]:25, delay=1.2, delays=0.1/0/0.3/0.8, dsn=4.2.2, "
    "status=deferred (host mx.remote.example[192.0.2.1] said: 452 4.2.2 Mailbox full (in "
    "reply to RCPT TO command))",
    "Dec  3 13:01:05 mx postfix/qmgr[99]: 4Q1x2Zk7pQc: from=<bounce@test.example.com>, "
    "size=2048, nrcpt=1 (queue active)",
    "Dec  3 13:01:06 mx postfix/error[1237]: 4Q1x2Zk7pQd: to=<late@remote.example>, "
    "relay=none, delay=432000, delays=431999/1/0/0, dsn=4.4.1, status=expired, returned to "
    "sender",
    "Dec  3 13:01:07 mx postfix/qmgr[99]: 4Q1x2Zk7pQz: removed",
]
EXIM = [
    "2026-12-03 13:01:02 1rAbCd-0001Xy-9Z <= bounce@test.example.com H=odoo [192.0.2.9] "
    "P=esmtp S=2048 id=<1.mailing@test.example.com>",
    "2026-12-03 13:01:03 1rAbCd-0001Xy-9Z => happy@remote.example R=dnslookup T=remote_smtp "
    "H=mx.remote.example [192.0.2.1] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes "
    'C="250 2.0.0 OK 1701608462 x"',
    "2026-12-03 13:01:04 1rAbCe-0001Xy-AB ** gone@remote.example R=dnslookup T=remote_smtp "
    "H=mx.remote.example [192.0.2.1]: SMTP error from remote mail server after RCPT "
    "TO:<gone@remote.example>: 550 5.1.1 User unknown",
    "2026-12-03 13:01:05 1rAbCf-0001Xy-CD == full@remote.example R=dnslookup T=remote_smtp "
    "defer (-44) H=mx.remote.example [192.0.2.1]: SMTP error from remote mail server after "
    "RCPT TO:<full@remote.example>: 452 4.2.2 Mailbox full",
    "2026-12-03 13:01:06 1rAbCd-0001Xy-9Z Completed",
]


def test_postfix_lines_of_each_status():
    outcomes = maillog.parse_lines(POSTFIX)
    assert [(o.queue_id, o.recipient, o.status, o.dsn) for o in outcomes] == [
        ("4Q1x2Zk7pQz", "gone@remote.example", "bounced", "5.1.1"),
        ("4Q1x2Zk7pQa", "happy@remote.example", "sent", "2.0.0"),
        ("4Q1x2Zk7pQb", "full@remote.example", "deferred", "4.2.2"),
        ("4Q1x2Zk7pQd", "late@remote.example", "bounced", "4.4.1"),
    ]
    assert outcomes[0].relay == "mx.remote.example[192.0.2.1]:25"
    assert maillog_provider.diagnostic_of(outcomes[0].reply) == (
        "550 5.1.1 <gone@remote.example>: Recipient address rejected: User unknown in virtual "
        "mailbox table"
    )
    assert len({o.line_id for o in outcomes}) == 4


def test_exim_lines_of_each_status():
    outcomes = maillog.parse_lines(EXIM)
    assert [(o.queue_id, o.recipient, o.status, o.dsn) for o in outcomes] == [
        ("1rAbCd-0001Xy-9Z", "happy@remote.example", "sent", "2.0.0"),
        ("1rAbCe-0001Xy-AB", "gone@remote.example", "bounced", "5.1.1"),
        ("1rAbCf-0001Xy-CD", "full@remote.example", "deferred", "4.2.2"),
    ]
    assert outcomes[1].reply.endswith("550 5.1.1 User unknown")


def test_cursor_reads_each_line_once_and_follows_rotation(tmp_path):
    log = tmp_path / "mail.log"
    log.write_text("".join(line + "\n" for line in POSTFIX[:2]) + POSTFIX[2][:40])
    cursor = {}
    lines, cursor[str(log)] = maillog.read_new_lines(str(log), cursor)
    assert len(lines) == 2, "the line being written waits for its end"
    with open(log, "a") as handle:
        handle.write(POSTFIX[2][40:] + "\n")
    lines, cursor[str(log)] = maillog.read_new_lines(str(log), cursor)
    assert [o.status for o in maillog.parse_lines(lines)] == ["deferred"]
    assert maillog.read_new_lines(str(log), cursor)[0] == []
    # logrotate: the file is renamed and compressed, a new one takes its name
    rotated = tmp_path / "mail.log.1.gz"
    with gzip.open(rotated, "wt") as handle:
        handle.write(log.read_text())
    os.unlink(log)
    log.write_text(POSTFIX[4] + "\n")
    lines, cursor[str(log)] = maillog.read_new_lines(str(log), cursor)
    assert [o.recipient for o in maillog.parse_lines(lines)] == ["late@remote.example"]
    lines, cursor[str(rotated)] = maillog.read_new_lines(str(rotated), cursor)
    assert len(maillog.parse_lines(lines)) == 3
    assert maillog.read_new_lines(str(rotated), cursor)[0] == [], "a .gz file is read once"
    path = tmp_path / "cursor.json"
    maillog.save_cursor(str(path), cursor)
    assert maillog.load_cursor(str(path)) == cursor
    path.write_text("{broken")
    assert maillog.load_cursor(str(path)) == {}
