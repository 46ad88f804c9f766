"""Screenshots of the demo for README.rst and the Apps page, taken in headless Chromium.

Run by ``make screenshots`` while ``make demo`` serves Odoo: logs in as admin, opens each
screen of SCREENS in Debian's chromium (driven over the DevTools protocol with
websocket-client), waits for it to render and saves static/description/screenshots/<name>.png.

Usage: python3 scripts/screenshots.py [--url http://localhost:8069] [--db mmd_demo] [NAME...]
"""

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket

OUT = Path(__file__).resolve().parent.parent / "static" / "description" / "screenshots"


def record(action, xmlid):
    """The path of the record ``xmlid`` opened in ``action`` (resolved when shot)."""

    def path(base_url, session):
        body, _headers = _json(
            f"{base_url}/web/dataset/call_kw",
            {
                "jsonrpc": "2.0",
                "params": {
                    "model": "ir.model.data",
                    "method": "check_object_reference",
                    "args": xmlid.split("."),
                    "kwargs": {},
                },
            },
            cookie=f"session_id={session}",
        )
        return f"/odoo/action-{action}/{body['result'][1]}"

    return path


def found(action, model, domain):
    """The path of the first record of ``model`` matching ``domain``, in ``action``."""

    def path(base_url, session):
        body, _headers = _json(
            f"{base_url}/web/dataset/call_kw",
            {
                "jsonrpc": "2.0",
                "params": {
                    "model": model,
                    "method": "search_read",
                    "args": [domain],
                    "kwargs": {"fields": ["id"], "limit": 1, "order": "id desc"},
                },
            },
            cookie=f"session_id={session}",
        )
        return f"/odoo/action-{action}/{body['result'][0]['id']}"

    return path


#: name -> (path on the server, or a callable (base_url, session) -> path; CSS selector to
#: wait for before the shot)
SCREENS = {
    "contact_blocked": (
        record("contacts.action_contacts", "mass_mailing_delivery.partner_demo_hard_bounce"),
        ".o_form_view .o_mmd_blocked",
    ),
    "contacts_list": ("/odoo/action-contacts.action_contacts?view_type=list", ".o_mmd_blocked"),
    "mailing_banners": (
        record(
            "mass_mailing.mailing_mailing_action_mail",
            "mass_mailing_delivery.mailing_demo_autumn_offer",
        ),
        ".o_mmd_not_sent_banner",
    ),
    "blacklist": ("/odoo/action-mail.mail_blacklist_action", ".o_list_renderer .o_data_row"),
    "invoice_envelope": (
        found(
            "account.action_move_out_invoice_type",
            "account.move",
            [
                ["move_type", "=", "out_invoice"],
                ["partner_id.email", "=", "giulia.rossi@example.com"],
            ],
        ),
        ".o-mmd-Message-tracking",
    ),
    "invoice_alert": (
        found(
            "account.action_move_out_invoice_type",
            "account.move",
            [["move_type", "=", "out_invoice"], ["partner_id.email", "like", "@nouser.example"]],
        ),
        ".o-mail-Activity",
    ),
    "tracked_emails": (
        "/odoo/action-mass_mailing_delivery.mail_tracking_email_action",
        ".o_list_renderer .o_data_row",
    ),
    "sent_log": (
        "/odoo/action-mass_mailing_delivery.mail_sent_log_action",
        ".o_list_renderer .o_data_row",
    ),
    "mailing_health": (
        "/odoo/action-mass_mailing_delivery.mail_delivery_health_action",
        ".o_kanban_record",
    ),
    "delivery_failures": (
        "/odoo/action-mass_mailing_delivery.mail_delivery_report_action",
        ".o_pivot, .o_graph_renderer, .o_list_renderer",
    ),
    "alert_rules": (
        "/odoo/action-mass_mailing_delivery.mail_delivery_alert_rule_action",
        ".o_list_renderer .o_data_row",
    ),
    "delivery_errors": (
        "/odoo/action-mass_mailing_delivery.mail_delivery_error_action",
        ".o_list_renderer .o_group_header",
    ),
    "delivery_error_form": (
        record(
            "mass_mailing_delivery.mail_delivery_error_action",
            "mass_mailing_delivery.error_gmail_5_7_26_unauthenticated",
        ),
        ".o_form_view .o_field_widget[name=explanation]",
    ),
    "delivery_error_custom": (
        found(
            "mass_mailing_delivery.mail_delivery_error_action",
            "mail.delivery.error",
            [["name", "=", "Mailbox migrated (our partner's platform)"]],
        ),
        ".o_form_view .o_field_widget[name=explanation]",
    ),
    "bounce_log": (
        "/odoo/action-mass_mailing_delivery.mail_bounce_event_action",
        ".o_list_renderer",
    ),
    "bounce_settings": (
        "/odoo/action-mass_mailing.action_mass_mailing_configuration",
        "#mmd_block_hard_bounce",
    ),
}


def _json(url, payload=None, cookie=None):
    request = urllib.request.Request(url, data=json.dumps(payload).encode() if payload else None)
    request.add_header("Content-Type", "application/json")
    if cookie:
        request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read()), response.headers


def login(base_url, db, login_name="admin", password="admin"):
    """Authenticate; return the session id."""
    _body, headers = _json(
        f"{base_url}/web/session/authenticate",
        {"jsonrpc": "2.0", "params": {"db": db, "login": login_name, "password": password}},
    )
    for header in headers.get_all("Set-Cookie") or []:
        if header.startswith("session_id="):
            return header.split(";", 1)[0].split("=", 1)[1]
    sys.exit("Login to the demo failed: is `make demo` running?")


class Browser:
    """Debian's chromium, headless, driven over the DevTools protocol."""

    def __init__(self, width=1920, height=1080):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            sys.exit("Debian's chromium is needed: apt-get install chromium")
        self.profile = tempfile.mkdtemp(prefix="mmd-shots-")
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--window-size={width},{height}",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        for _attempt in range(100):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets, _headers = _json(f"http://127.0.0.1:{port}/json")
        page = next(target for target in targets if target["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def shoot(self, url, selector, path, timeout=60):
        self.call("Page.navigate", url=url)
        deadline = time.time() + timeout
        check = f"!!document.querySelector({json.dumps(selector)})"
        while not self.evaluate(check):
            if time.time() > deadline:
                raise TimeoutError(f"{url}: {selector} did not appear")
            time.sleep(0.3)
        time.sleep(1.5)  # let fonts, images and animations settle
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="mmd_demo")
    parser.add_argument("names", nargs="*", help="screens to take (default: all)")
    args = parser.parse_args()
    session = login(args.url, args.db)
    OUT.mkdir(parents=True, exist_ok=True)
    browser = Browser()
    try:
        browser.call("Network.enable")
        browser.call(
            "Network.setCookie",
            name="session_id",
            value=session,
            url=args.url,
            path="/",
        )
        for name in args.names or SCREENS:
            path_spec, selector = SCREENS[name]
            path = path_spec(args.url, session) if callable(path_spec) else path_spec
            target = OUT / f"{name}.png"
            browser.shoot(f"{args.url}{path}", selector, target)
            print(f"{target.relative_to(OUT.parent.parent.parent)}")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
