"""Sending services' events processed per second, over HTTP, by Odoo in prefork mode.

Run by ``make bench`` (``scripts/bench.sh``; alone: ``MMD_BENCH=bench/bench_provider_events.py
make bench``). On the addon's database: N traces of a sent mailing, each with the
provider message id its server gave; then ``odoo-bin --workers=2`` on loopback, and
clients posting, 4 at a time:

* SendGrid's signed Event Webhook, batches of 100 events (ECDSA P-256 verified per batch),
  60 % bounces, 20 % deferred, 20 % delivered;
* Mailgun, one signed event per POST (HMAC-SHA256), every one a permanent failure;
* the Postfix log reader's posts, batches of 500 outcomes.

The webhook checks each post and queues its events; the scheduled action the post
triggers applies them (two cron workers, Odoo's default), in batches: each event is
matched to its trace by the provider's id, classified, applied (trace bounced, address
blocked, alerts) and logged. A source's time runs from its first post until its last
event is in the bounce log: events/s is what was applied, not only received. Four
SendGrid batches of 10 events are posted and applied first, not timed: each worker then
has its caches loaded, as after any restart. Amazon SES is not measured: its SNS
signing certificate cannot be fetched without network (its check, one RSA verification
per notification, costs about what Mailgun's HMAC does per event).

Baseline, same run: Odoo core's own bounce handling (``bench_bounce_apply.py``'s DSNs
through ``message_process``, one commit each) on the core-only database; core has no
webhook of a sending service.

Usage: python3 bench/bench_provider_events.py --config ODOO_CONF --db CORE_DB --db ADDON_DB
"""

import argparse
import hashlib
import http.client
import json
import os
import queue
import threading
import time
import uuid
from pathlib import Path

import odoo
from odoo.tools import config

ROOT = Path(__file__).resolve().parent.parent


def _load_module(name, relpath):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / relpath)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare(db, count, sendgrid_key):
    """Traces with provider ids, and one outgoing server per provider; returns
    ``{"traces": [(id, email, provider id)], "servers": {provider: id}}``."""
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        stamp = time.time_ns()
        partners = env["res.partner"].create(
            [
                {"name": f"Event {i}", "email": f"event.{i}.{stamp}@example.com"}
                for i in range(count)
            ]
        )
        mailing = env["mailing.mailing"].create(
            {
                "name": f"events bench {stamp}",
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
                    "message_id": f"<bench.{partner.id}.{stamp}@odoo.example>",
                    "trace_status": "sent",
                    "provider_message_id": f"Q{partner.id}x{stamp % 100000}",
                }
                for partner in partners
            ]
        )
        servers = {}
        for provider, secret in (
            ("sendgrid", sendgrid_key),
            ("mailgun", "key-bench-mailgun"),
            ("maillog", "bench-token"),
        ):
            servers[provider] = (
                env["ir.mail_server"]
                .create(
                    {
                        "name": f"bench {provider}",
                        "smtp_host": "127.0.0.1",
                        "mmd_provider": provider,
                        "mmd_provider_secret": secret,
                    }
                )
                .id
            )
        cr.commit()
        return {
            "traces": [(t.id, t.email, t.provider_message_id, t.message_id) for t in traces],
            "servers": servers,
        }


def post_all(port, requests, concurrency=4, method="POST"):
    """POST (or ``method``) every ``(path, body, headers)`` with ``concurrency``
    clients; returns ``(seconds, {status: count})``."""
    todo = queue.Queue()
    for item in requests:
        todo.put(item)
    statuses = {}
    lock = threading.Lock()

    def client():
        while True:
            try:
                path, body, headers = todo.get_nowait()
            except queue.Empty:
                return
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            conn.request(method, path, body=body, headers=headers)
            status = conn.getresponse().status
            conn.close()
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, statuses


def sendgrid_requests(payloads, signer, server_id, traces, batch=100):
    kinds = ["bounce"] * 3 + ["deferred", "delivered"]
    requests = []
    for start in range(0, len(traces), batch):
        events = [
            payloads.sendgrid_event(kinds[idx % 5], email, provider_id)
            for idx, (_id, email, provider_id, _mid) in enumerate(traces[start : start + batch])
        ]
        body = json.dumps(events).encode()
        requests.append(
            (f"/mass_mailing_delivery/webhook/sendgrid/{server_id}", body, signer.headers(body))
        )
    return requests


def mailgun_requests(payloads, server_id, traces):
    return [
        (
            f"/mass_mailing_delivery/webhook/mailgun/{server_id}",
            json.dumps(payloads.mailgun_event("key-bench-mailgun", "failed", email, mid)).encode(),
            {"Content-Type": "application/json"},
        )
        for _id, email, _pid, mid in traces
    ]


def maillog_requests(server_id, traces, batch=500):
    requests = []
    for start in range(0, len(traces), batch):
        outcomes = [
            {
                "queue_id": provider_id,
                "recipient": email,
                "status": "bounced",
                "dsn": "5.1.1",
                "reply": f"host mx.example.com[192.0.2.1] said: 550 5.1.1 <{email}>: User unknown",
                "relay": "mx.example.com[192.0.2.1]:25",
                "time": "Dec  3 13:01:02",
                "line_id": hashlib.sha1(f"{provider_id}{uuid.uuid4()}".encode()).hexdigest(),
            }
            for _id, email, provider_id, _mid in traces[start : start + batch]
        ]
        requests.append(
            (
                f"/mass_mailing_delivery/webhook/maillog/{server_id}",
                json.dumps({"outcomes": outcomes}).encode(),
                {"Content-Type": "application/json", "Authorization": "Bearer bench-token"},
            )
        )
    return requests


def applied_count(db, server_id):
    """``(events in the bounce log, events failed in the queue)`` of ``server_id``."""
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        cr.execute(
            "SELECT (SELECT count(*) FROM mail_bounce_event WHERE mail_server_id = %s), "
            "(SELECT count(*) FROM mail_provider_event WHERE mail_server_id = %s "
            "AND state = 'failed')",
            (server_id, server_id),
        )
        return cr.fetchone()


def wait_applied(db, server_id, count, timeout=600):
    """Seconds (``time.perf_counter``) when ``count`` events of ``server_id`` are in the
    bounce log (or some failed); raises on timeout."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        logged, failed = applied_count(db, server_id)
        if logged + failed >= count:
            return time.perf_counter(), logged, failed
        time.sleep(0.05)
    raise TimeoutError(f"{count} events of server {server_id} not applied in {timeout} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", action="append", required=True)
    parser.add_argument("-n", "--count", type=int, default=3000, help="events per provider")
    parser.add_argument("--baseline", type=int, default=300, help="DSNs of core's baseline")
    parser.add_argument(
        "--without-db-filter",
        action="store_true",
        help="serve the database by --database alone: no --db-filter, whose list of "
        "databases costs each request without a session a query and a connection",
    )
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "--log-level=warn"])
    threading.current_thread().testing = False
    odoo.modules.module.initialize_sys_path()
    payloads = _load_module("provider_payloads", "tests/provider_payloads.py")
    loader = _load_module("bench_tracking_load", "bench/bench_tracking_load.py")
    bounce_apply = _load_module("bench_bounce_apply", "bench/bench_bounce_apply.py")
    core_db, addon_db = args.db[0], args.db[-1]
    baseline = bounce_apply.run_once(core_db, args.baseline) if core_db != addon_db else None

    signer = payloads.SendGridSigner()
    prepared = {
        provider: prepare(addon_db, args.count, signer.verification_key)
        for provider in ("sendgrid", "mailgun", "maillog")
    }
    warmup = prepare(addon_db, 40, signer.verification_key)
    port = loader._free_port()
    server = loader.start_server(
        args.config, addon_db, port, workers=2, cron_threads=2, db_filter=not args.without_db_filter
    )
    rows = []
    try:
        # not timed: each worker loads the registry's caches (the error registry's
        # compiled patterns...) on its first events, as after any restart
        post_all(
            port,
            sendgrid_requests(
                payloads, signer, warmup["servers"]["sendgrid"], warmup["traces"], batch=10
            ),
        )
        wait_applied(addon_db, warmup["servers"]["sendgrid"], len(warmup["traces"]))
        load_before = os.getloadavg()
        # Odoo's own floor, same server and clients: a request that does nothing
        floor, floor_statuses = post_all(
            port, [("/web/health", None, {})] * args.count, method="GET"
        )
        for provider in ("sendgrid", "mailgun", "maillog"):
            data = prepared[provider]
            server_id = data["servers"][provider]
            if provider == "sendgrid":
                requests = sendgrid_requests(payloads, signer, server_id, data["traces"])
            elif provider == "mailgun":
                requests = mailgun_requests(payloads, server_id, data["traces"])
            else:
                requests = maillog_requests(server_id, data["traces"])
            start = time.perf_counter()
            posted, statuses = post_all(port, requests)
            end, logged, failed = wait_applied(addon_db, server_id, args.count)
            rows.append((provider, len(requests), logged, failed, posted, end - start, statuses))
    finally:
        server.terminate()
        server.wait(30)
    print(
        f"\nbench_provider_events: odoo --workers=2 --max-cron-threads=2"
        f"{'' if args.without_db_filter else ' --db-filter'}, {os.cpu_count()} CPUs, "
        f"4 clients, "
        f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'source':<12}{'posts':>7}{'events':>8}{'failed':>8}{'posted s':>10}"
        f"{'applied s':>11}{'events/s':>10}  statuses"
    )
    for provider, posts, logged, failed, posted, seconds, statuses in rows:
        print(
            f"{provider:<12}{posts:>7}{logged:>8}{failed:>8}{posted:>10.2f}{seconds:>11.2f}"
            f"{logged / seconds:>10.1f}  {statuses}"
        )
    print(
        f"{'core floor':<12}{args.count:>7}{'-':>8}{'-':>8}{'-':>10}{floor:>11.2f}"
        f"{args.count / floor:>10.1f}  {floor_statuses} (requests/s of GET /web/health: "
        "Odoo's request handling alone)"
    )
    if baseline:
        print(
            f"{'core DSNs':<12}{'-':>7}{args.baseline:>8}{'-':>8}{'-':>10}{baseline['s']:>11.2f}"
            f"{args.baseline / baseline['s']:>10.1f}  (Odoo core's bounce handling, "
            "message_process, one commit each)"
        )


if __name__ == "__main__":
    main()
