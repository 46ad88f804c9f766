"""Load of the tracking endpoints: core's mass-mailing open pixel against the addon's
open pixel and click redirect, on one Odoo in prefork mode (``--workers``).

Run by ``make bench`` (``scripts/bench.sh``); it uses the database with the addon
(the last ``--db``), where core's pixel is served too, so both are measured by the
same server in the same run:

1. sends, through a loopback SMTP server, one mass mailing to N partners (core's
   ``mailing.trace`` + open pixel) and one tracked document e-mail to the same N
   partners (a message posted on a partner, whose model has a tracked template:
   one ``mail.tracking.email`` per recipient, each with its own pixel and link);
2. starts ``odoo-bin --workers=W`` on a free loopback port (``--db-filter`` keeps
   exactly one database visible, so session-less requests find it);
3. a bounded load generator (C threads, keep-alive ``http.client`` connections, R
   requests per phase, the N tokens in turn) hits core's pixel, the addon's pixel
   and the addon's click redirect, in turn, for several rounds;
4. prints requests/s, p50 and p99 latency and errors per endpoint and round, their
   medians and the addon/core ratio within each round, then counts in
   the database that every answered request was recorded exactly once (no
   duplicate, no lost count).

W is 2, or as many as it takes for Odoo's connection queue (8 pending connections per
worker, ``PreforkServer``'s ``listen(8 * workers)``) to hold every client: 7 for 50
clients. With fewer, connections beyond the queue are reset, core's pixel included.

Duration-bounded mode (``--duration 30 --clients 50``): each endpoint, core's pixel
first (the baseline), then the addon's pixel and click, is hit by C concurrent
clients for D seconds (``--rounds`` times, default once), with the same figures plus
the CPU used by the load generator and by the Odoo processes, and the load average.

The exit code is 1 when a request failed (an exception, a timeout or an unexpected
status: each is an error) or when the database does not hold exactly one event per
answered request; the figures are printed either way.

Load generator: Python threads, one keep-alive ``http.client`` connection each
(Odoo's prefork workers answer HTTP/1.0 and close, so the client reconnects for
every request, as mail clients fetching a pixel do). Chosen over ``wrk`` because the
comparison with the database must be exact: a client finishes its request in flight
when the time is up, so "answered" is an exact count, where ``wrk`` cuts the
connections of the requests in flight at the end (the server may record them) and
counts only its own totals. Its cost on a 2-core machine is measured and printed
(client CPU, in % of one core): a few % of what Odoo uses per request.

Usage: python3 bench/bench_tracking_load.py --config ODOO_CONF --db DB [--db DB2]
       [-n 200] [-c 8] [-r 1000] [--rounds 4]
       python3 bench/bench_tracking_load.py --config ODOO_CONF --db DB
       --duration 30 --clients 50
"""

import argparse
import collections
import http.client
import itertools
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import psutil
from markupsafe import Markup

import odoo
from odoo.tools import config

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ROOT = Path(__file__).resolve().parent.parent


def _load_module(name, relpath):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / relpath)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(db, count):
    """Send the mass mailing and the tracked e-mail; return the paths to hit."""
    smtp_cls = _load_module("mmd_loopback_smtp", "tools/loopback_smtp.py").LoopbackSMTPServer
    token_mod = _load_module("mmd_tracking_token", "tools/tracking_token.py")
    registry = odoo.modules.registry.Registry(db)
    with smtp_cls() as smtpd, registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["ir.mail_server"].search([]).write({"active": False})
        env["ir.mail_server"].create(
            {"name": "bench", "smtp_host": "127.0.0.1", "smtp_port": smtpd.port}
        )
        env["ir.config_parameter"].set_param("web.base.url", "http://127.0.0.1")
        partners = env["res.partner"].create(
            [{"name": f"Load {i}", "email": f"load.{i}@example.com"} for i in range(count)]
        )
        mailing = env["mailing.mailing"].create(
            {
                "name": f"load {time.time()}",
                "subject": "Load",
                "body_html": "<p>Hello <a href='https://example.com/x'>x</a></p>",
                "mailing_model_id": env["ir.model"]._get_id("res.partner"),
                "mailing_domain": [("id", "in", partners.ids)],
                "email_from": "bench@example.com",
            }
        )
        mailing.action_send_mail()
        env["mail.mail"].process_email_queue()
        env["mail.template"].create(
            {
                "name": "Load tracked",
                "model_id": env["ir.model"]._get_id("res.partner"),
                "mmd_tracked": True,
            }
        )
        document = env["res.partner"].create({"name": "Load document"})
        message = document.message_post(
            body=Markup("<p>Your document <a href='https://example.com/doc'>doc</a></p>"),
            partner_ids=partners.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        env["mail.mail"].search([("mail_message_id", "=", message.id)]).send()
        trackings = env["mail.tracking.email"].search([("mail_message_id", "=", message.id)])
        # a person reads later than a link scanner: no click of the run is a machine's
        trackings.write({"sent_date": odoo.fields.Datetime.now() - timedelta(hours=1)})
        cr.commit()
        secret = env["ir.config_parameter"].get_param("database.secret")
        traces = env["mailing.trace"].search([("mass_mailing_id", "=", mailing.id)])
        core_paths = [
            f"/mail/track/{t.mail_mail_id_int}/"
            f"{env['mail.mail']._generate_mail_recipient_token(t.mail_mail_id_int)}/blank.gif"
            for t in traces
        ]
        open_paths = [
            f"/mail/mmd/open/{t.id}/{token_mod.sign(secret, 'open', t.id)}/blank.gif"
            for t in trackings
        ]
        click_paths = [
            f"/mail/mmd/click/{t.id}/{t.link_ids[0].id}/"
            f"{token_mod.sign(secret, 'click', t.id, t.link_ids[0].id)}"
            for t in trackings
        ]
        print(
            f"prepared: {len(traces)} mass-mailing traces, {len(trackings)} tracked recipients, "
            f"{len(smtpd.received)} messages through loopback SMTP"
        )
        return {
            "core_pixel": core_paths,
            "addon_pixel": open_paths,
            "addon_click": click_paths,
            "mailing_id": mailing.id,
            "message_id": message.id,
        }


def start_server(conf, db, port, workers=2, *, cron_threads=0, db_filter=True):
    """``odoo-bin`` in prefork mode, without its websocket (gevent) process: the
    tracking endpoints do not use it, and where gevent cannot start it would be
    respawned in a loop, eating the CPU of the measure."""
    odoo_bin = Path(odoo.__file__).resolve().parent.parent / "odoo-bin"
    launcher = (
        "import sys; import odoo.service.server as server; "
        "server.PreforkServer.long_polling_spawn = lambda self: None; "
        f"sys.argv[0] = {str(odoo_bin)!r}; "
        "from odoo.cli.command import main; main()"
    )
    command = [sys.executable, "-c", launcher]
    log = open(f"/tmp/bench_tracking_server_{port}.log", "w")
    proc = subprocess.Popen(
        [
            *command,
            "-c",
            conf,
            "-d",
            db,
            *([f"--db-filter=^{db}$"] if db_filter else []),
            f"--workers={workers}",
            f"--max-cron-threads={cron_threads}",
            "--http-interface=127.0.0.1",
            f"--http-port={port}",
            "--logfile=",
            "--log-level=warn",
            "--limit-time-real=600",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/web/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"odoo did not start, see /tmp/bench_tracking_server_{port}.log")


def _cpu_seconds(processes):
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def load(port, paths, requests, concurrency, expected_status, *, duration=None, server=None):
    """Hit ``paths`` in turn from ``concurrency`` threads: ``requests`` times in all,
    or, with ``duration`` (seconds), as many times as they can until then (a request
    in flight at the deadline is finished and counted).

    :param server: the ``psutil.Process`` of the Odoo server (its CPU is measured)
    """
    latencies, connects, errors, lock = [], [], collections.Counter(), threading.Lock()
    deadline = time.perf_counter() + duration if duration else None
    counter = itertools.count() if duration else iter(range(requests))

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, my_connects, my_errors = [], [], collections.Counter()
        for index in counter:
            if deadline and time.perf_counter() >= deadline:
                break
            path = paths[index % len(paths)]
            start = time.perf_counter()
            try:
                if conn.sock is None:
                    # the workers answer HTTP/1.0 and close: one connection per request;
                    # its set-up time shows the wait in the listen queue
                    conn.connect()
                    my_connects.append(time.perf_counter() - start)
                conn.request("GET", path, headers={"User-Agent": FIREFOX})
                response = conn.getresponse()
                response.read()
                if response.status != expected_status:
                    my_errors[f"HTTP {response.status}"] += 1
            except (OSError, http.client.HTTPException) as exc:
                my_errors[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            connects.extend(my_connects)
            errors.update(my_errors)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    server_processes = [server, *server.children(recursive=True)] if server else []
    server_cpu = _cpu_seconds(server_processes)
    client_cpu = time.process_time()
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - client_cpu
    server_cpu = _cpu_seconds(server_processes) - server_cpu
    latencies.sort()
    connects.sort()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "connect_p99": connects[min(len(connects) - 1, int(len(connects) * 0.99))] * 1000
        if connects
        else 0.0,
        # in % of one core over the phase
        "client_cpu": 100 * client_cpu / elapsed,
        "server_cpu": 100 * server_cpu / elapsed,
    }


def count_records(db, prepared):
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        cr.execute(
            """SELECT e.event_type, count(*), count(*) FILTER (WHERE e.is_machine)
                 FROM mail_tracking_event e JOIN mail_tracking_email t ON t.id = e.tracking_email_id
                WHERE t.mail_message_id = %s GROUP BY e.event_type""",
            [prepared["message_id"]],
        )
        events = {row[0]: (row[1], row[2]) for row in cr.fetchall()}
        cr.execute(
            "SELECT trace_status, count(*) FROM mailing_trace WHERE mass_mailing_id = %s "
            "GROUP BY trace_status",
            [prepared["mailing_id"]],
        )
        traces = dict(cr.fetchall())
        cr.execute(
            "SELECT state, count(*) FROM mail_tracking_email WHERE mail_message_id = %s "
            "GROUP BY state",
            [prepared["message_id"]],
        )
        states = dict(cr.fetchall())
    return events, traces, states


ENDPOINTS = (("core_pixel", 200), ("addon_pixel", 200), ("addon_click", 302))


def main():  # noqa: PLR0915 (one linear report)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", action="append", required=True)
    parser.add_argument("-n", "--count", type=int, default=200, help="recipients")
    parser.add_argument(
        "-c", "--concurrency", "--clients", type=int, default=None, help="concurrent clients"
    )
    parser.add_argument("-r", "--requests", type=int, default=1000, help="requests per phase")
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds per phase (instead of -r)"
    )
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="Odoo workers (default 2; with more clients than Odoo's connection queue, "
        "8 per worker, enough workers to queue them all)",
    )
    args = parser.parse_args()
    concurrency = args.concurrency or (50 if args.duration else 8)
    rounds = args.rounds or (1 if args.duration else 4)
    workers = args.workers or max(2, -(-concurrency // 8))
    db = args.db[-1]
    config.parse_config(["-c", args.config, "--log-level=warn"])
    threading.current_thread().testing = False
    prepared = prepare(db, args.count)
    port = _free_port()
    server = start_server(args.config, db, port, workers)
    load_before = os.getloadavg()
    try:
        server_process = psutil.Process(server.pid)
        # warm the workers up (registry, routing map, caches); counted in the totals
        warmup = {}
        for key, status in ENDPOINTS:
            warmup[key] = load(port, prepared[key][:1], 20, 2, status)
        results = {key: [] for key, _status in ENDPOINTS}
        for _round in range(rounds):
            for key, status in ENDPOINTS:
                results[key].append(
                    load(
                        port,
                        prepared[key],
                        args.requests,
                        concurrency,
                        status,
                        duration=args.duration,
                        server=server_process,
                    )
                )
    finally:
        server.terminate()
        server.wait(timeout=60)
    load_after = os.getloadavg()
    events, traces, states = count_records(db, prepared)
    phase = f"{args.duration:g} s per endpoint" if args.duration else f"{args.requests} requests"
    print(
        f"\nbench_tracking_load: odoo --workers={workers}, {os.cpu_count()} CPUs, {concurrency} "
        f"concurrent clients (Python threads), {phase} x {rounds} round(s), "
        f"{args.count} tokens"
    )
    print(
        "load average (1, 5, 15 min) before: "
        + ", ".join(f"{v:.2f}" for v in load_before)
        + "; after: "
        + ", ".join(f"{v:.2f}" for v in load_after)
    )
    print(
        f"{'endpoint':<14}{'round':>6}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'connect p99':>12}{'odoo %cpu':>10}{'client %cpu':>12}"
    )
    answered = {}
    for key, runs in results.items():
        for index, res in enumerate(runs, 1):
            print(
                f"{key:<14}{index:>6}{res['requests']:>9}{res['rps']:>9.1f}{res['p50']:>9.1f}"
                f"{res['p99']:>9.1f}{res['errors']:>8}{res['connect_p99']:>12.1f}"
                f"{res['server_cpu']:>10.0f}{res['client_cpu']:>12.0f}"
            )
            if res["error_kinds"]:
                print(f"{'':<14}errors: {res['error_kinds']}")
        answered[key] = sum(r["requests"] - r["errors"] for r in [*runs, warmup[key]])

    def median(values):
        return statistics.median(values)

    if rounds > 1:
        for key, runs in results.items():
            print(
                f"{key:<14}{'median':>6}{sum(r['requests'] for r in runs):>9}"
                f"{median([r['rps'] for r in runs]):>9.1f}"
                f"{median([r['p50'] for r in runs]):>9.1f}"
                f"{median([r['p99'] for r in runs]):>9.1f}"
                f"{sum(r['errors'] for r in runs):>8}"
            )
    # each round runs the three endpoints back to back: their ratio in a round is
    # little affected by the load of the machine drifting between rounds
    for key in ("addon_pixel", "addon_click"):
        ratios = [
            a["rps"] / c["rps"] for a, c in zip(results[key], results["core_pixel"], strict=True)
        ]
        print(
            f"ratio {key}/core_pixel req/s per round: "
            + ", ".join(f"{r:.2f}" for r in ratios)
            + f" (median {median(ratios):.2f})"
        )
    errors = sum(r["errors"] for runs in [*results.values(), [*warmup.values()]] for r in runs)
    opens, machine_opens = events.get("open", (0, 0))
    clicks, machine_clicks = events.get("click", (0, 0))
    hit = min(args.count, answered["core_pixel"])
    print(
        f"database: open events {opens} for {answered['addon_pixel']} answered pixel requests, "
        f"click events {clicks} for {answered['addon_click']} answered clicks "
        f"(machine: {machine_opens + machine_clicks}); tracking states {states}; "
        f"core traces {traces} ({hit} distinct traces hit by {answered['core_pixel']} "
        f"answered requests)"
    )
    exact = (
        opens == answered["addon_pixel"]
        and clicks == answered["addon_click"]
        and traces.get("open", 0) == hit
    )
    print("counts: " + ("exact, no duplicate and no lost event" if exact else "MISMATCH"))
    print(f"errors: {errors}")
    if errors or not exact:
        print("FAILED: " + ("errors" if errors else "") + (" count mismatch" if not exact else ""))
        sys.exit(1)


if __name__ == "__main__":
    main()
