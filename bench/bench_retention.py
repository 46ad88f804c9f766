"""Retention clean-up of the sent e-mails log: 1M old rows, time and peak memory.

Run by ``make bench`` (``scripts/bench.sh``) with a core database and an addon
database (fresh copies of their templates):

* baseline, core only: core's own autovacuum of a log table of the same size,
  ``mail.notification._gc_notifications`` (read e-mail notifications older than
  180 days, deleted 100,000 per call, one transaction per call), on N rows;
* addon: ``mail.sent.log._purge_older_than`` (what the nightly scheduled action
  runs) on N old rows: 80 % tracked e-mails (each with one open event), 10 %
  bounce events, 10 % failed outgoing e-mails (with their messages); batches of
  10,000, one transaction each. Before the clean-up it times a log search by
  recipient domain and by partial recipient over those rows (query plan kept).

Each database is measured in its own child process: the peak memory is that
process's maximum resident set size (``getrusage``) minus its size before the run.

Usage: python3 bench/bench_retention.py --config ODOO_CONF --db CORE_DB --db ADDON_DB [-n N]
"""

import argparse
import json
import resource
import subprocess
import sys
import time

import odoo
from odoo.tools import config

DAYS_OLD = 200


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _registry(db):
    return odoo.modules.registry.Registry(db)


def prepare_core(db, count):
    with _registry(db).cursor() as cr:
        messages = max(count // 1000, 1)
        cr.execute(
            """
            INSERT INTO res_partner (name, email, active, partner_share, create_date, write_date)
            SELECT 'Bench ' || i, 'bench' || i || '@example.com', true, false, now(), now()
              FROM generate_series(1, 1000) i RETURNING id
            """
        )
        partner_ids = [row[0] for row in cr.fetchall()]
        cr.execute(
            """
            INSERT INTO mail_message (message_type, body, model, res_id, date, create_date,
                                      write_date)
            SELECT 'comment', '<p>x</p>', 'res.partner', 1, now(), now(), now()
              FROM generate_series(1, %s) RETURNING id
            """,
            [messages],
        )
        message_ids = [row[0] for row in cr.fetchall()]
        cr.execute(
            """
            INSERT INTO mail_notification (mail_message_id, res_partner_id, notification_type,
                                           notification_status, is_read, read_date)
            SELECT m, p, 'email', 'sent', true, now() - make_interval(days => %s)
              FROM unnest(%s::int[]) m CROSS JOIN unnest(%s::int[]) p
            """,
            [DAYS_OLD, message_ids, partner_ids],
        )
        cr.execute("ANALYZE mail_notification")
        cr.execute(
            "SELECT count(*) FROM mail_notification WHERE read_date < now() - interval '180 days'"
        )
        return cr.fetchone()[0]


def run_core(db):
    deleted = 0
    start = time.perf_counter()
    longest = 0.0
    while True:
        batch_start = time.perf_counter()
        with _registry(db).cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            Notification = env["mail.notification"]
            before = Notification.search_count([])
            Notification._gc_notifications(max_age_days=180)
            done = before - Notification.search_count([])
        longest = max(longest, time.perf_counter() - batch_start)
        deleted += done
        if not done:
            break
    return {"deleted": deleted, "seconds": time.perf_counter() - start, "longest_tx": longest}


def prepare_addon(db, count):
    trackings = count * 8 // 10
    events = count // 10
    mails = count - trackings - events
    old = f"now() - make_interval(days => {DAYS_OLD})"
    with _registry(db).cursor() as cr:
        cr.execute(
            f"""
            INSERT INTO mail_tracking_email (email, state, model, res_id, subject, sent_date,
                                             create_date, write_date)
            SELECT 'r' || i || '@d' || (i %% 500) || '.example', 'sent', 'res.partner', 1,
                   'Invoice', {old}, {old}, {old}
              FROM generate_series(1, %s) i
            """,
            [trackings],
        )
        cr.execute(
            f"""
            INSERT INTO mail_tracking_event (tracking_email_id, event_type, date, create_date,
                                             write_date)
            SELECT id, 'open', {old}, {old}, {old} FROM mail_tracking_email
            """
        )
        cr.execute(
            f"""
            INSERT INTO mail_bounce_event (kind, recipient, state, create_date, write_date)
            SELECT 'soft', 'b' || i || '@bounce.example', 'unmatched', {old}, {old}
              FROM generate_series(1, %s) i
            """,
            [events],
        )
        cr.execute(
            f"""
            WITH msg AS (
                INSERT INTO mail_message (message_type, body, subject, date, create_date,
                                          write_date)
                SELECT 'email_outgoing', '<p>x</p>', 'Failed', {old}, {old}, {old}
                  FROM generate_series(1, %s) RETURNING id
            )
            INSERT INTO mail_mail (mail_message_id, state, email_to, failure_reason,
                                   create_date, write_date)
            SELECT id, 'exception', 'f' || id || '@nouser.example', '550 5.1.1 unknown',
                   {old}, {old}
              FROM msg
            """,
            [mails],
        )
        for table in (
            "mail_tracking_email",
            "mail_tracking_event",
            "mail_bounce_event",
            "mail_mail",
        ):
            cr.execute(f"ANALYZE {table}")
        cr.execute("SELECT count(*) FROM mail_sent_log")
        return cr.fetchone()[0]


def search_plans(db):
    """Time the log's searches over the rows just inserted (EXPLAIN ANALYZE)."""
    plans = {}
    with _registry(db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        Log = env["mail.sent.log"]
        for label, domain in (
            ("recipient domain =", [("recipient_domain", "=", "d7.example")]),
            ("recipient ilike", [("email", "ilike", "r4242@")]),
        ):
            query = Log._search(domain, limit=80, order="date desc")
            sql = query.select()
            cr.execute(odoo.tools.SQL("EXPLAIN (ANALYZE, FORMAT JSON) %s", sql))
            plan = cr.fetchone()[0][0]
            text = json.dumps(plan)
            plans[label] = {
                "ms": round(plan["Execution Time"], 1),
                "index": "mmd_recipient_domain_index" in text,
            }
    return plans


def run_addon(db):
    with _registry(db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        start = time.perf_counter()
        result = env["mail.sent.log"]._purge_older_than(
            180, batch_size=10000, max_batches=10**6, auto_commit=True
        )
        seconds = time.perf_counter() - start
        cr.execute("SELECT count(*) FROM mail_sent_log")
        left = cr.fetchone()[0]
    return {
        "deleted": sum(result["deleted"].values()),
        "by_model": result["deleted"],
        "seconds": seconds,
        "longest_tx": result["longest_batch"],
        "log_rows_left": left,
    }


def child(args):
    config.parse_config(["-c", args.config, "--log-level=warn"])
    before = _rss_mb()
    if args.child == "core":
        rows = prepare_core(args.db[0], args.n)
        before = _rss_mb()
        out = run_core(args.db[0])
        out["rows"] = rows
    else:
        rows = prepare_addon(args.db[0], args.n)
        out = {"rows": rows, "plans": search_plans(args.db[0])}
        before = _rss_mb()
        out.update(run_addon(args.db[0]))
    out["peak_mb"] = _rss_mb() - before
    print(json.dumps(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", action="append", required=True)
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--child", choices=("core", "addon"))
    args = parser.parse_args()
    if args.child:
        return child(args)
    core_db, addon_db = args.db[0], args.db[-1]
    results = {}
    for mode, db in (("core", core_db), ("addon", addon_db)):
        out = (
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--config",
                    args.config,
                    "--db",
                    db,
                    "-n",
                    str(args.n),
                    "--child",
                    mode,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        results[mode] = json.loads(out)
    core, addon = results["core"], results["addon"]
    print(f"Retention clean-up of {args.n:,} old rows")
    print(f"{'':34} {'rows deleted':>12} {'seconds':>8} {'rows/s':>8} {'peak MB':>8}")
    print(
        f"{'core _gc_notifications (baseline)':34} {core['deleted']:>12,} {core['seconds']:>8.1f} "
        f"{core['deleted'] / core['seconds']:>8,.0f} {core['peak_mb']:>8.1f}"
    )
    print(
        f"{'addon log retention':34} {addon['deleted']:>12,} {addon['seconds']:>8.1f} "
        f"{addon['deleted'] / addon['seconds']:>8,.0f} {addon['peak_mb']:>8.1f}"
    )
    print(f"addon deleted by model: {addon['by_model']}; log rows left: {addon['log_rows_left']}")
    print(
        f"longest transaction: core {core['longest_tx']:.1f} s, "
        f"addon {addon['longest_tx']:.1f} s (one batch)"
    )
    for label, plan in addon["plans"].items():
        print(
            f"log search (80 newest) over {addon['rows']:,} rows, {label}: {plan['ms']} ms, "
            f"recipient domain index used: {plan['index']}"
        )


if __name__ == "__main__":
    main()
