"""Overhead gauge: send one mass mailing of N partners through a loopback SMTP server.

Run by ``make bench`` (``scripts/bench.sh``), which prepares two databases on a private
cluster: one with Odoo core only (``mass_mailing`` + ``contacts``) and one with this addon.
The same mailing is sent in both, in the same run, and the script prints:

* render+queue: ``mailing.action_send_mail()`` (recipients, rendering, ``mail.mail`` creation);
* SMTP queue: ``mail.mail.process_email_queue()`` until the queue is empty;
* mails/s over both, and the addon/core ratio.

Recipients: N partners; 5 % blacklisted, 3 % invalid, 2 % duplicate, 3 % refused with
550 5.1.1 (``@nouser.example``), 2 % with 452 4.2.2 (``@full.example``). With the addon,
the default alert rule that pauses a mailing above 5 % failures is switched off, so that
both databases send the whole mailing.

Usage: python3 bench/bench_send.py --config ODOO_CONF --db DB [--db DB2] [-n 2000]
"""

import argparse
import threading
import time
from pathlib import Path

import odoo
from odoo.tools import config


def _load_loopback_server():
    """Import tools/loopback_smtp.py by path (the repo folder may have any name)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "tools" / "loopback_smtp.py"
    spec = importlib.util.spec_from_file_location("mmd_loopback_smtp", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LoopbackSMTPServer


def recipient_emails(count):
    """The e-mail of each of ``count`` partners, with the mix described in the docstring."""
    emails = []
    for idx in range(count):
        bucket, hundred = idx % 100, idx // 100
        if bucket < 3:
            emails.append(f"invalid.{idx}@@example")
        elif bucket < 5:
            emails.append(f"user.{hundred * 100 + 50}@example.com")  # duplicate of bucket 50
        elif bucket < 8:
            emails.append(f"user.{idx}@nouser.example")
        elif bucket < 10:
            emails.append(f"user.{idx}@full.example")
        else:
            emails.append(f"user.{idx}@example.com")
    return emails


def prepare(env, count, smtp_port):
    """Create the partners, blacklist 5 % of them and a mailing; return the mailing."""
    env["ir.mail_server"].search([]).write({"active": False})
    env["ir.mail_server"].create(
        {
            "name": "bench loopback",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_encryption": "none",
        }
    )
    emails = recipient_emails(count)
    partners = env["res.partner"].create(
        [{"name": f"Bench {i}", "email": email} for i, email in enumerate(emails)]
    )
    blacklisted = {e for i, e in enumerate(emails) if i % 100 in range(10, 15)}
    env["mail.blacklist"].create([{"email": e} for e in sorted(blacklisted)])
    mailing = env["mailing.mailing"].create(
        {
            "name": f"bench {time.time()}",
            "subject": "Bench",
            "body_html": "<p>Hello {{ object.name }} <a href='https://example.com/x'>x</a></p>",
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "mailing_domain": [("id", "in", partners.ids)],
            "email_from": "bench@example.com",
            "keep_archives": True,
        }
    )
    # The addon's default alert rule pauses a mass mailing once more than 5 % of its
    # e-mails fail: this one (5.6 % of the e-mails sent are refused) would be paused
    # after some hundred mails, as it should be. The bench measures sending, so the
    # pause is off here (the tests of the alerts prove the pause).
    rule = env.ref("mass_mailing_delivery.alert_rule_mailing", raise_if_not_found=False)
    if rule:
        rule.pause_mailing = False
    return mailing


def run_once(db, count):
    """Send one mailing in database ``db``; return the figures as a dict."""
    server_cls = _load_loopback_server()
    registry = odoo.modules.registry.Registry(db)
    with server_cls() as smtpd, registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        addon = bool(
            env["ir.module.module"].search_count(
                [("name", "=", "mass_mailing_delivery"), ("state", "=", "installed")]
            )
        )
        mailing = prepare(env, count, smtpd.port)
        cr.commit()
        start = time.perf_counter()
        mailing.action_send_mail()
        cr.commit()
        queued = time.perf_counter()
        mail_model = env["mail.mail"]
        while mail_model.search_count([("state", "=", "outgoing")]):
            mail_model.process_email_queue()
            cr.commit()
        done = time.perf_counter()
        traces = env["mailing.trace"].search([("mass_mailing_id", "=", mailing.id)])
        statuses = {}
        for trace in traces:
            statuses[trace.trace_status] = statuses.get(trace.trace_status, 0) + 1
        return {
            "db": db,
            "addon": addon,
            "render_queue_s": queued - start,
            "smtp_queue_s": done - queued,
            "received": len(smtpd.recipients()),
            "mails_per_s": count / (done - start),
            "statuses": statuses,
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", action="append", required=True)
    parser.add_argument("-n", "--count", type=int, default=2000)
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "--log-level=warn"])
    threading.current_thread().testing = False
    results = [run_once(db, args.count) for db in args.db]
    print(f"\nbench_send: one mass mailing of {args.count} partners, loopback SMTP")
    print(f"{'database':<18}{'addon':<7}{'render+queue s':>15}{'SMTP queue s':>14}{'mails/s':>9}")
    for res in results:
        print(
            f"{res['db']:<18}{'yes' if res['addon'] else 'no':<7}{res['render_queue_s']:>15.2f}"
            f"{res['smtp_queue_s']:>14.2f}{res['mails_per_s']:>9.1f}"
            f"   received {res['received']}, traces {res['statuses']}"
        )
    if len(results) == 2:
        core, addon = results
        print(
            f"ratio addon/core: render+queue {addon['render_queue_s'] / core['render_queue_s']:.2f}, "
            f"SMTP queue {addon['smtp_queue_s'] / core['smtp_queue_s']:.2f}, "
            f"mails/s {addon['mails_per_s'] / core['mails_per_s']:.2f}"
        )


if __name__ == "__main__":
    main()
