"""Sending at scale: core and the addon send mass mailings through the loopback SMTP server.

Run by ``make bench`` (``scripts/bench.sh``), which prepares two databases on a private
cluster: one with Odoo core only (``mass_mailing`` + ``contacts``) and one with this addon.
In one run, core and the addon, interleaved, on

* (a) ``--count-a`` e-mails (2,000) to the loopback server, one worker;
* (b) ``--count-b`` e-mails (20,000) to the loopback server answering each message
  after ``--latency-ms`` (50 ms, a remote relay), with 1, 2 and 4 workers for the addon
  (``--workers``; core's mail queue is one scheduled action: one worker).

A worker is an Odoo process of its own running Odoo's scheduler (``ir.cron``'s
``_process_jobs``, what a cron thread runs) on the database, in a loop, waiting between
two rounds for the scheduler's ``cron_trigger`` notification (at most 1 s), as a cron
thread of an Odoo server does; N workers are N cron threads (of one server or of several).
With the addon, *Parallel senders* is set to the number of workers: the mail queue's
scheduled action and N - 1 parallel sender scheduled actions, each claiming its own
batches. Every other scheduled action is switched off in both databases. The mailing is
rendered and queued first (``action_send_mail``, not timed in mails/s), then the mail
queue is triggered and the workers started; the clock stops when nothing is queued.

Printed per case: mails/s (e-mails sent or refused per second of the queue), CPU seconds
of the workers and of PostgreSQL (the cluster's postmaster and its backends), the
largest peak RSS of a worker, and, from the server's log of accepted messages,
duplicates (a recipient received it more than once) and losses (a deliverable
recipient never received it, or a mail is still queued). The load average is printed
with each case: the machine may be shared.

Recipients: 5 % blacklisted, 3 % invalid, 2 % duplicate, 3 % refused with 550 5.1.1
(``@nouser.example``), 2 % with 452 4.2.2 (``@full.example``). With the addon, the
default alert rule that pauses a mailing above 5 % failures is switched off, so that
both databases send the whole mailing.

``--profile`` profiles (cProfile) the addon's single worker of case (b) and prints where
the time goes.

Usage: python3 bench/bench_send.py --config ODOO_CONF --db CORE_DB --db ADDON_DB
       [--count-a 2000] [--count-b 20000] [--latency-ms 50] [--workers 1,2,4]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psutil

import odoo
from odoo.tools import config

#: an Odoo cron thread in a process of its own: runs the scheduler on the database until
#: nothing is queued, then prints its CPU time and peak memory
WORKER_SCRIPT = """
import cProfile, json, pstats, resource, select, sys, time
import odoo
from odoo import SUPERUSER_ID, api
from odoo.addons.base.models.ir_cron import ir_cron
from odoo.modules.registry import Registry
from odoo.sql_db import db_connect
from odoo.tools import config
config.parse_config(["-c", sys.argv[1], "-d", sys.argv[2], "--no-http", "--log-level=warn"])
registry = Registry(sys.argv[2])
profile = cProfile.Profile() if sys.argv[3] else None

def queued():
    with registry.cursor() as cr:
        cr.execute("SELECT count(*) FROM mail_mail WHERE state = 'outgoing'")
        return cr.fetchone()[0]

print("ready", flush=True)
sys.stdin.readline()  # go
start = resource.getrusage(resource.RUSAGE_SELF)
if profile:
    profile.enable()
# as Odoo's cron threads: run the ready jobs, then wait for a trigger's notification
listen_cr = db_connect("postgres").cursor()
listen_cr.execute("LISTEN cron_trigger")
listen_cr.commit()
pg_conn = listen_cr._cnx
while queued():
    ir_cron._process_jobs(sys.argv[2])
    if queued():
        select.select([pg_conn], [], [], 1.0)
        pg_conn.poll()
        pg_conn.notifies.clear()
listen_cr.close()
if profile:
    profile.disable()
    profile.dump_stats(sys.argv[3])
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime - start.ru_utime - start.ru_stime
print(json.dumps({"cpu": cpu, "maxrss_mb": usage.ru_maxrss / 1024}), flush=True)
"""


def _load_loopback_server():
    """Import tools/loopback_smtp.py by path (the repo folder may have any name)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "tools" / "loopback_smtp.py"
    spec = importlib.util.spec_from_file_location("mmd_loopback_smtp", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LoopbackSMTPServer


def recipient_emails(count, tag):
    """The e-mail of each of ``count`` partners, with the mix described in the docstring
    (``tag`` makes the addresses of each case distinct)."""
    emails = []
    for idx in range(count):
        bucket, hundred = idx % 100, idx // 100
        if bucket < 3:
            emails.append(f"invalid.{tag}.{idx}@@example")
        elif bucket < 5:
            emails.append(f"user.{tag}.{hundred * 100 + 50}@example.com")  # duplicate of 50
        elif bucket < 8:
            emails.append(f"user.{tag}.{idx}@nouser.example")
        elif bucket < 10:
            emails.append(f"user.{tag}.{idx}@full.example")
        else:
            emails.append(f"user.{tag}.{idx}@example.com")
    return emails


def deliverable(emails):
    """The recipients who must receive the mailing: valid, not blacklisted, not refused
    by the server (each once)."""
    return {email for idx, email in enumerate(emails) if idx % 100 >= 15}


def prepare(env, emails, smtp_port, senders):
    """The mail server, the partners (5 % of them blacklisted) and the mailing; every
    scheduled action off except the mail queue's and the parallel senders'."""
    env["ir.mail_server"].search([]).write({"active": False})
    env["ir.mail_server"].create(
        {
            "name": f"bench loopback {smtp_port}",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_encryption": "none",
        }
    )
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
            "keep_archives": False,
        }
    )
    # The addon's default alert rule pauses a mass mailing once more than 5 % of its
    # e-mails fail: this one (5.6 % of the e-mails sent are refused) would be paused, as
    # it should be. The bench measures sending, so the pause is off here.
    rule = env.ref("mass_mailing_delivery.alert_rule_mailing", raise_if_not_found=False)
    if rule:
        rule.pause_mailing = False
    queue_cron = env.ref("mail.ir_cron_mail_scheduler_action")
    if "_mmd_sync_sender_crons" in dir(env["mail.mail"]):
        env["ir.config_parameter"].set_param("mass_mailing_delivery.parallel_senders", senders)
        env["mail.mail"]._mmd_sync_sender_crons(senders)
    keep = queue_cron | (
        env["mail.mail"]._mmd_get_sender_crons().filtered("active")
        if "_mmd_get_sender_crons" in dir(env["mail.mail"])
        else queue_cron
    )
    (env["ir.cron"].search([]) - keep).write({"active": False})
    env["ir.cron.trigger"].search([]).unlink()
    queue_cron.nextcall = "2100-01-01 00:00:00"
    return mailing


def pg_cpu_seconds():
    """CPU seconds used so far by the bench cluster: the postmaster, its ended backends
    (reaped children) and its live ones."""
    socket_dir = config["db_host"]
    port = config["db_port"] or 5432
    with open(os.path.join(socket_dir, f".s.PGSQL.{port}.lock"), encoding="utf-8") as lock:
        postmaster = psutil.Process(int(lock.readline()))
    times = postmaster.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in postmaster.children():
        try:
            child_times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += child_times.user + child_times.system
    return total


def start_workers(db, count, profile_path=""):
    """Start ``count`` worker processes (see ``WORKER_SCRIPT``), each ready to go."""
    workers = []
    for idx in range(count):
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER_SCRIPT,
                config.rcfile,
                db,
                profile_path if idx == 0 else "",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("a worker did not start")
        workers.append(process)
    return workers


def run_case(db, emails, latency_ms, workers, tag, *, profile_path=""):
    """Send one mailing to ``emails`` in ``db`` with ``workers`` workers; return figures."""
    server_cls = _load_loopback_server()
    registry = odoo.modules.registry.Registry(db)
    with server_cls(latency_ms=latency_ms) as smtpd:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            addon = "_mmd_claim_batch" in dir(env["mail.mail"])
            mailing = prepare(env, emails, smtpd.port, workers)
            cr.commit()
            mailing.action_send_mail()
            cr.commit()
            queued = env["mail.mail"].search_count([("state", "=", "outgoing")])
        processes = start_workers(db, workers, profile_path)
        load = os.getloadavg()[0]
        pg_before = pg_cpu_seconds()
        start = time.perf_counter()
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
            cr.commit()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [json.loads(process.stdout.readline()) for process in processes]
        elapsed = time.perf_counter() - start
        pg_cpu = pg_cpu_seconds() - pg_before
        for process in processes:
            process.wait(timeout=60)
        received = Counter(smtpd.recipients())
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            still_queued = env["mail.mail"].search_count(
                [("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]
            )
            traces = Counter(
                env["mailing.trace"]
                .search([("mass_mailing_id", "=", mailing.id)])
                .mapped("trace_status")
            )
    expected = deliverable(emails)
    return {
        "db": db,
        "addon": addon,
        "tag": tag,
        "workers": workers,
        "latency_ms": latency_ms,
        "queued": queued,
        "seconds": elapsed,
        "mails_per_s": queued / elapsed,
        "cpu_odoo": sum(result["cpu"] for result in results),
        "cpu_pg": pg_cpu,
        "peak_mb": max(result["maxrss_mb"] for result in results),
        "received": sum(received.values()),
        "duplicates": sum(count - 1 for count in received.values() if count > 1),
        "lost": len(expected - set(received)),
        "unexpected": len(set(received) - expected),
        "still_queued": still_queued,
        "traces": dict(traces),
        "load": load,
    }


def print_case(res, core):
    ratio = res["mails_per_s"] / core["mails_per_s"] if core else 1.0
    print(
        f"{res['tag']:<4}{'addon' if res['addon'] else 'core':<7}{res['workers']:>3}"
        f"{res['latency_ms']:>6.0f}{res['queued']:>8}{res['seconds']:>9.1f}"
        f"{res['mails_per_s']:>9.1f}{ratio:>8.2f}{res['cpu_odoo']:>9.1f}{res['cpu_pg']:>8.1f}"
        f"{res['peak_mb']:>8.0f}{res['duplicates']:>6}{res['lost'] + res['still_queued']:>6}"
        f"{res['load']:>6.1f}   traces {res['traces']}",
        flush=True,
    )


def print_extrapolation(cases):
    """A mailing of 20,000 and of 1,000,000 at the rates measured in case (b)."""
    print("\n(b) on paper, at the measured rates:")
    for res in cases:
        rate = res["mails_per_s"]
        print(
            f"  {'addon' if res['addon'] else 'core':<6}{res['workers']:>2} worker(s): "
            f"20,000 in {20000 / rate / 60:.0f} min, 1,000,000 in {1e6 / rate / 3600:.1f} h",
            flush=True,
        )


def print_profile(path, count):
    import pstats

    stats = pstats.Stats(path)
    total = stats.total_tt
    print(f"\nprofile of the addon's single worker, case (b), {count} e-mails: {total:.1f} s")
    wanted = {
        "send_email": "SMTP conversation (ir.mail_server.send_email)",
        "build_email": "building the MIME message (build_email)",
        "_prepare_outgoing_list": "rendering each e-mail (_prepare_outgoing_list)",
        "_postprocess_sent_message": "recording the outcome (_postprocess_sent_message)",
        "commit": "commits (one per e-mail, as core)",
        "_mmd_claim_batch": "claims",
        "_mmd_release_claims": "releases",
        "_mmd_check_sent_batch": "batch checks (failure rate)",
        "_mmd_delete_sent_batch": "deleting the sent e-mails (once per batch)",
        "execute": "SQL statements (cursor.execute, all)",
    }
    seen = {}
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        if name in wanted and ("odoo" in filename or "mass_mailing" in filename):
            if name == "commit" and "sql_db" not in filename:
                continue
            if name == "execute" and "sql_db" not in filename:
                continue
            seen[name] = max(seen.get(name, 0.0), cumulative)
    for name, label in wanted.items():
        if name in seen:
            print(f"  {label:<58}{seen[name]:>8.1f} s {100 * seen[name] / total:>5.1f} %")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", action="append", required=True)
    parser.add_argument("--count-a", type=int, default=2000)
    parser.add_argument("--count-b", type=int, default=20000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--rounds-a", type=int, default=1, help="repeats of case (a)")
    parser.add_argument("--skip-a", action="store_true")
    parser.add_argument("--skip-b", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--skip-core-b", action="store_true", help="case (b) without core (with --profile)"
    )
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "--log-level=warn"])
    threading.current_thread().testing = False
    core_db, addon_db = args.db
    header = (
        f"{'case':<4}{'odoo':<7}{'wk':>3}{'lat':>6}{'mails':>8}{'s':>9}{'mails/s':>9}"
        f"{'x core':>8}{'CPU od':>9}{'CPU pg':>8}{'peakMB':>8}{'dup':>6}{'lost':>6}{'load':>6}"
    )
    print(f"\nbench_send: core and addon in one run ({os.cpu_count()} cores)")
    print(header, flush=True)
    serial = iter(range(1000))
    ratios_a = []
    if not args.skip_a:
        for _round in range(args.rounds_a):
            emails = recipient_emails(args.count_a, f"a{next(serial)}")
            core = run_case(core_db, emails, 0, 1, "a")
            print_case(core, None)
            emails = recipient_emails(args.count_a, f"a{next(serial)}")
            addon = run_case(addon_db, emails, 0, 1, "a")
            print_case(addon, core)
            ratios_a.append(addon["mails_per_s"] / core["mails_per_s"])
        print(
            f"(a) addon/core mails/s per round: {', '.join(f'{r:.2f}' for r in ratios_a)}"
            f" (median {statistics.median(ratios_a):.2f})",
            flush=True,
        )
    if not args.skip_b:
        workers = [int(count) for count in args.workers.split(",")]
        emails = recipient_emails(args.count_b, f"b{next(serial)}")
        core = None
        if not args.skip_core_b:
            core = run_case(core_db, emails, args.latency_ms, 1, "b")
            print_case(core, None)
        profile_path = "/tmp/mmd_bench_send.prof" if args.profile else ""
        cases = [core] if core else []
        for count in workers:
            emails = recipient_emails(args.count_b, f"b{next(serial)}")
            addon = run_case(
                addon_db,
                emails,
                args.latency_ms,
                count,
                "b",
                profile_path=profile_path if count == 1 else "",
            )
            print_case(addon, core)
            cases.append(addon)
        print_extrapolation(cases)
        if args.profile:
            print_profile(profile_path, args.count_b)


if __name__ == "__main__":
    main()
