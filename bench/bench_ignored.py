"""The "ignored" banner before sending: how long the breakdown takes, against core.

For N recipients (10k, 100k, 1M partners), a draft mailing targets them all; the script
times, in the same database and run:

* core: Odoo's own recipient computation before a send, ``_get_remaining_recipients()``
  (recipient search + already-mailed traces) and ``_get_seen_list()`` (no breakdown);
* addon: ``mailing.get_delivery_report()``, the banner's figures by reason, one SQL query
  (the form calls it on load).

Recipients: 5 % blacklisted, 3 % invalid, 1 % without e-mail, 2 % duplicate. Partners
are inserted in SQL (the ORM would take hours for 1M); each size is tagged by ``ref``.
Each figure is the best of ``--repeat`` runs (default 3), after one warm-up.

Usage: python3 bench/bench_ignored.py --config ODOO_CONF --db DB [--db DB2]
       [--sizes 10000,100000,1000000] [--repeat 3]
(only the databases where the addon is installed are measured)
"""

import argparse
import threading
import time

import odoo
from odoo.tools import config


def insert_recipients(cr, count, tag):
    """Insert ``count`` partners tagged ``ref = tag`` and their blacklist entries (SQL)."""
    cr.execute("DELETE FROM res_partner WHERE ref = %s", (tag,))
    cr.execute(
        """
        INSERT INTO res_partner (name, complete_name, ref, email, email_normalized, active,
                                 type, is_company, create_date, write_date, lang)
        SELECT 'Bench ' || i, 'Bench ' || i, %(tag)s, e.email,
               CASE WHEN e.email LIKE '%%@@%%' OR e.email IS NULL THEN NULL
                    ELSE lower(e.email) END,
               TRUE, 'contact', FALSE, now(), now(), 'en_US'
          FROM generate_series(0, %(count)s - 1) AS i
          CROSS JOIN LATERAL (
              SELECT CASE WHEN i %% 100 < 3 THEN 'invalid.' || i || '@@example'
                          WHEN i %% 100 = 3 THEN NULL
                          WHEN i %% 100 < 6 THEN 'user.' || (i / 100 * 100 + 50) || '.'
                                                 || %(tag)s || '@example.com'
                          ELSE 'user.' || i || '.' || %(tag)s || '@example.com'
                     END AS email
          ) AS e
        """,
        {"tag": tag, "count": count},
    )
    cr.execute(
        """
        INSERT INTO mail_blacklist (email, active, block_reason, block_date, create_date,
                                    write_date)
        SELECT email_normalized, TRUE,
               CASE WHEN id %% 2 = 0 THEN 'hard_bounce' ELSE 'unsubscribed' END,
               now(), now(), now()
          FROM res_partner
         WHERE ref = %s AND email_normalized IS NOT NULL
           AND (substring(email_normalized FROM 'user\\.([0-9]+)')::int %% 100) BETWEEN 10 AND 14
        ON CONFLICT (email) DO NOTHING
        """,
        (tag,),
    )
    cr.execute("ANALYZE res_partner")
    cr.execute("ANALYZE mail_blacklist")


def best_of(repeat, func):
    func()  # warm-up
    timings = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        timings.append(time.perf_counter() - start)
    return min(timings), result


def run_size(env, count, repeat):
    tag = f"bench_ignored_{count}"
    start = time.perf_counter()
    insert_recipients(env.cr, count, tag)
    env.cr.commit()
    generated = time.perf_counter() - start
    env.invalidate_all()
    mailing = env["mailing.mailing"].create(
        {
            "name": f"bench ignored {count}",
            "subject": "Bench",
            "body_html": "<p>Hello</p>",
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "mailing_domain": [("ref", "=", tag)],
            "email_from": "bench@example.com",
        }
    )
    env.cr.commit()

    def core():
        env.invalidate_all()
        remaining = mailing._get_remaining_recipients()
        mailing._get_seen_list()
        return len(remaining)

    def addon():
        env.invalidate_all()
        return mailing.get_delivery_report()

    core_s, core_count = best_of(repeat, core)
    addon_s, report = best_of(repeat, addon)
    env.cr.rollback()
    return {
        "count": count,
        "generated_s": generated,
        "core_s": core_s,
        "core_recipients": core_count,
        "addon_s": addon_s,
        "report": report,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", action="append", required=True)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "--log-level=warn"])
    threading.current_thread().testing = False
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    for db in args.db:
        registry = odoo.modules.registry.Registry(db)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            installed = env["ir.module.module"].search_count(
                [("name", "=", "mass_mailing_delivery"), ("state", "=", "installed")]
            )
            if not installed:
                continue
            print(f"\nbench_ignored: breakdown of ignored recipients before sending ({db})")
            print(
                f"{'recipients':>11}{'core recipients s':>19}{'addon breakdown s':>19}"
                f"{'ratio':>7}{'data gen s':>12}   figures"
            )
            for size in sizes:
                res = run_size(env, size, args.repeat)
                report = res["report"]
                print(
                    f"{res['count']:>11}{res['core_s']:>19.3f}{res['addon_s']:>19.3f}"
                    f"{res['addon_s'] / res['core_s']:>7.2f}{res['generated_s']:>12.1f}"
                    f"   core {res['core_recipients']} recipients; addon total {report['total']}, "
                    f"to send {report['sent']}, ignored {report['ignored']}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
