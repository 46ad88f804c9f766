"""Bounces applied to the database per second, through the real mail gateway.

Run by ``make bench`` (``scripts/bench.sh``) on two fresh databases of the same run: Odoo
core only (``mass_mailing`` + ``contacts``, its own bounce handling is the baseline) and
with this addon (parse per recipient, match the trace, classify with the registry, apply
the suppression rules). N traces of a sent mailing get one RFC 3464 DSN each (60 % hard
5.1.1, 30 % soft 4.2.2, 10 % delayed), fed one by one to ``mail.thread.message_process``
and committed one by one, as the fetchmail cron does.

Usage: python3 bench/bench_bounce_apply.py --config ODOO_CONF --db DB [--db DB2] [-n 500]
"""

import argparse
import threading
import time

import odoo
from odoo.tools import config

DSN = (
    "From: MAILER-DAEMON@mx.remote.example\r\nTo: {bounce}\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\nMessage-Id: <dsn.{idx}@mx.remote.example>\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
    "--B\r\nContent-Type: text/plain\r\n\r\n<{rcpt}>: host mx.remote.example said: {diag}\r\n\r\n"
    "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.remote.example\r\n\r\n"
    "Final-Recipient: rfc822; {rcpt}\r\nAction: {action}\r\nStatus: {status}\r\n"
    "Diagnostic-Code: smtp; {diag}\r\n\r\n"
    "--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-Id: {msgid}\r\nTo: {rcpt}\r\n\r\n--B--\r\n"
)
OUTCOMES = [
    ("failed", "5.1.1", "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown"),
    ("failed", "4.2.2", "452 4.2.2 <{rcpt}>: Mailbox full"),
    ("delayed", "4.4.7", "451 4.4.7 Delivery delayed, will retry"),
]


def prepare(env, count):
    """Create a sent mailing with ``count`` traces; return (bounce address, traces)."""
    domain = env["mail.alias.domain"].search([], limit=1) or env["mail.alias.domain"].create(
        {"name": "bench.example.com", "bounce_alias": "bounce", "catchall_alias": "catchall"}
    )
    partners = env["res.partner"].create(
        [
            {"name": f"Bounce {i}", "email": f"bounce.{i}.{time.time_ns()}@example.com"}
            for i in range(count)
        ]
    )
    mailing = env["mailing.mailing"].create(
        {
            "name": f"bounce bench {time.time()}",
            "subject": "Bench",
            "body_html": "<p>x</p>",
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "state": "done",
        }
    )
    traces = env["mailing.trace"].create(
        [
            {
                "model": "res.partner",
                "res_id": partner.id,
                "email": partner.email,
                "mass_mailing_id": mailing.id,
                "message_id": f"<bench.{partner.id}.{time.time_ns()}@odoo.example>",
                "trace_status": "sent",
            }
            for partner in partners
        ]
    )
    return domain.bounce_email, traces


def run_once(db, count):
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        addon = bool(
            env["ir.module.module"].search_count(
                [("name", "=", "mass_mailing_delivery"), ("state", "=", "installed")]
            )
        )
        bounce, traces = prepare(env, count)
        cr.commit()
        messages = []
        for idx, trace in enumerate(traces):
            action, status, diag = OUTCOMES[0 if idx % 10 < 6 else 1 if idx % 10 < 9 else 2]
            messages.append(
                DSN.format(
                    bounce=bounce,
                    idx=idx,
                    rcpt=trace.email,
                    action=action,
                    status=status,
                    diag=diag.format(rcpt=trace.email),
                    msgid=trace.message_id,
                ).encode()
            )
        start = time.perf_counter()
        for raw in messages:
            env["mail.thread"].message_process(False, raw)
            cr.commit()
        elapsed = time.perf_counter() - start
        bounced = env["mailing.trace"].search_count(
            [("id", "in", traces.ids), ("trace_status", "=", "bounce")]
        )
        blocked = env["mail.blacklist"].search_count([("email", "in", traces.mapped("email"))])
        return {"db": db, "addon": addon, "s": elapsed, "bounced": bounced, "blocked": blocked}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", action="append", required=True)
    parser.add_argument("-n", "--count", type=int, default=500)
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "--log-level=warn"])
    threading.current_thread().testing = False
    results = [run_once(db, args.count) for db in args.db]
    print(f"\nbench_bounce_apply: {args.count} DSNs through message_process, one commit each")
    print(
        f"{'database':<14}{'addon':<7}{'seconds':>9}{'DSN/s':>8}{'traces bounced':>16}{'blocked':>9}"
    )
    for res in results:
        print(
            f"{res['db']:<14}{'yes' if res['addon'] else 'no':<7}{res['s']:>9.2f}"
            f"{args.count / res['s']:>8.1f}{res['bounced']:>16}{res['blocked']:>9}"
        )


if __name__ == "__main__":
    main()
