"""Dashboard and live summary read time with 1M traces, next to core's statistics compute.

Run by ``make bench`` (``scripts/bench.sh``) on the fresh databases of the run. In each
database the script writes 1,000,000 ``mailing.trace`` rows with plain SQL: 160 sent
mailings of 5,000 recipients over the last 90 days plus one of 200,000, with 2 % bounced
(categorised where the addon is installed), 1 % not sent, 3 % ignored, 0.1 % spam
complaints, 26 % opened, 10 % clicked, recipients spread over 50 domains. Then it times,
best of 3, with warm caches:

* core: ``mailing.mailing._compute_statistics()`` for the 40 most recent mailings (what
  the mailing kanban computes) and for the big mailing (its form);
* addon: the Mailing Health kanban page (``web_search_read`` of 40 cards, with the count),
  the Delivery Failures pivot (category x kind), graph (week x category) and by-domain
  groups, and ``get_live_summary()`` of the big mailing and of a 5,000 one.

Usage: python3 bench/bench_dashboard.py --config ODOO_CONF --db DB [--db DB2]
"""

import argparse
import threading
import time
from datetime import datetime
from datetime import timedelta

import odoo
from odoo.tools import SQL
from odoo.tools import config

SMALL_MAILINGS = 160
SMALL_SIZE = 5000
BIG_SIZE = 200000


def best_of(func, rounds=3):
    """Best wall time of ``rounds`` calls of ``func`` (seconds)."""
    times = []
    for _round in range(rounds):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def prepare(env, addon):
    """Create the mailings and 1M traces; return (small mailings, big mailing)."""
    now = datetime.now().replace(microsecond=0)
    mailing_model = env["ir.model"]._get_id("res.partner")
    mailings = env["mailing.mailing"].create(
        [
            {
                "name": f"dashboard bench {idx}",
                "subject": f"Dashboard bench {idx}",
                "body_html": "<p>x</p>",
                "mailing_model_id": mailing_model,
                "state": "done",
                "sent_date": now - timedelta(hours=idx * 13),
            }
            for idx in range(SMALL_MAILINGS + 1)
        ]
    )
    big, small = mailings[0], mailings[1:]
    env.flush_all()
    extra_cols = SQL(", is_complaint, delivery_error_category") if addon else SQL("")
    extra_vals = (
        SQL(
            """, r = 500,
                 CASE WHEN status = 'bounce' THEN (ARRAY['recipient_unknown', 'mailbox_full',
                      'domain_unknown', 'content_rejected', 'sender_blocked'])[1 + mod(g, 5)]
                      WHEN status = 'error' THEN 'server_error' END"""
        )
        if addon
        else SQL("")
    )
    for mailing_ids, size in ((big.ids, BIG_SIZE), (small.ids, SMALL_SIZE)):
        env.cr.execute(
            SQL(
                """
                INSERT INTO mailing_trace (trace_type, mass_mailing_id, model, res_id, email,
                                           trace_status, sent_datetime, open_datetime,
                                           links_click_datetime, create_date, write_date,
                                           create_uid, write_uid %(extra_cols)s)
                SELECT 'mail', mid, 'res.partner', g, 'user' || g || '@d' || mod(g, 50) || '.example',
                       status,
                       CASE WHEN status NOT IN ('cancel', 'error') THEN sent END,
                       CASE WHEN status IN ('open', 'reply') THEN sent + interval '1 hour' END,
                       CASE WHEN status IN ('open', 'reply') AND mod(r, 26) < 10
                            THEN sent + interval '2 hours' END,
                       sent, sent, 1, 1 %(extra_vals)s
                  FROM (
                    SELECT mailing.id AS mid, mailing.sent_date AS sent, g, r,
                           CASE WHEN r < 20 THEN 'bounce' WHEN r < 30 THEN 'error'
                                WHEN r < 60 THEN 'cancel' WHEN r < 310 THEN 'open'
                                WHEN r < 320 THEN 'reply' ELSE 'sent' END AS status
                      FROM mailing_mailing mailing,
                           generate_series(1, %(size)s) g,
                           LATERAL (SELECT mod(g * 7919 + mailing.id * 104729, 1000) AS r) rnd
                     WHERE mailing.id = ANY(%(ids)s)
                  ) rows
                """,
                extra_cols=extra_cols,
                extra_vals=extra_vals,
                size=size,
                ids=mailing_ids,
            )
        )
    env.cr.execute(SQL("ANALYZE mailing_trace"))
    env.invalidate_all()
    return small, big


def run_once(db):
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        addon = bool(
            env["ir.module.module"].search_count(
                [("name", "=", "mass_mailing_delivery"), ("state", "=", "installed")]
            )
        )
        start = time.perf_counter()
        small, big = prepare(env, addon)
        cr.commit()
        figures = {"db": db, "addon": addon, "prepare_s": time.perf_counter() - start}
        env.cr.execute(SQL("SELECT COUNT(*) FROM mailing_trace"))
        figures["traces"] = env.cr.fetchone()[0]
        page = env["mailing.mailing"].search(
            [("state", "=", "done")], order="sent_date desc", limit=40
        )

        def core_page():
            env.invalidate_all()
            page._compute_statistics()

        def core_big():
            env.invalidate_all()
            big._compute_statistics()

        figures["core_stats_page_s"] = best_of(core_page)
        figures["core_stats_big_s"] = best_of(core_big)
        if addon:
            health = env["mail.delivery.health"]
            report = env["mail.delivery.report"]
            recent = [
                ("sent_date", ">=", (datetime.now() - timedelta(days=90)).strftime("%Y-%m-%d"))
            ]
            spec = {
                name: {}
                for name in (
                    "subject", "sent_date", "health", "color", "sent", "bounced",
                    "bounce_rate", "complaints", "complaint_rate", "ignored", "ignored_rate",
                )
            }  # fmt: skip
            failures = [("kind", "in", ("bounce", "error", "complaint"))]

            def health_kanban():
                env.invalidate_all()  # the figures are computed fields: no cache
                health.web_search_read(recent, spec, limit=40, count_limit=10001)

            figures["health_kanban_s"] = best_of(health_kanban)
            figures["health_critical_s"] = best_of(
                lambda: health.search_count([("health", "=", "critical"), *recent])
            )
            figures["failures_pivot_s"] = best_of(
                lambda: report.read_group(
                    failures, ["__count"], ["error_category", "kind"], lazy=False
                )
            )
            figures["failures_graph_s"] = best_of(
                lambda: report.read_group(
                    failures, ["__count"], ["date:week", "error_category"], lazy=False
                )
            )
            figures["failures_domain_s"] = best_of(
                lambda: report.read_group(failures, ["__count"], ["recipient_domain"], lazy=False)
            )
            figures["summary_big_s"] = best_of(big.get_live_summary)
            figures["summary_small_s"] = best_of(small[0].get_live_summary)
        cr.rollback()
        return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", action="append", required=True)
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "--log-level=warn"])
    threading.current_thread().testing = False
    results = [run_once(db) for db in args.db]
    print(
        f"\nbench_dashboard: read times with 1M traces ({SMALL_MAILINGS} x {SMALL_SIZE} + {BIG_SIZE})"
    )
    for res in results:
        print(
            f"{res['db']} (addon {'yes' if res['addon'] else 'no'}): {res['traces']} traces, "
            f"data written in {res['prepare_s']:.1f} s"
        )
        print(
            f"  core _compute_statistics, 40 recent mailings: {res['core_stats_page_s'] * 1000:8.1f} ms"
        )
        print(
            f"  core _compute_statistics, the 200k mailing:   {res['core_stats_big_s'] * 1000:8.1f} ms"
        )
        if res["addon"]:
            for key, label in (
                ("health_kanban_s", "Mailing Health kanban, 40 cards + count"),
                ("health_critical_s", "Mailing Health, 'Critical' filter count"),
                ("failures_pivot_s", "Failures pivot, category x kind"),
                ("failures_graph_s", "Failures graph, week x category"),
                ("failures_domain_s", "Failures by recipient domain"),
                ("summary_big_s", "get_live_summary, the 200k mailing"),
                ("summary_small_s", "get_live_summary, a 5k mailing"),
            ):
                print(f"  addon {label + ':':<42}{res[key] * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
