"""Read a Postfix or Exim log and post each recipient's outcome to Odoo.

For those who relay through their own mail server: the server named each e-mail in its
reply to Odoo (``250 2.0.0 Ok: queued as 4Q1x2Zk7pQz``, ``250 OK id=1rAbCd-0001Xy-9Z``),
Odoo kept that reference on the trace; the server's log says what became of it at the
recipient's server (``status=sent``, ``deferred``, ``bounced`` with the remote reply).
This reads the log (a file, rotated ``.gz`` files, or stdin) and posts the outcomes to
the addon's authenticated endpoint, where they are matched by queue id and applied as
bounces are::

    python3 -m tools.maillog --url https://odoo.example.com --server-id 3 \\
        --token "$TOKEN" --cursor /var/lib/odoo/maillog.cursor /var/log/mail.log

The cursor file keeps how far each file was read (by inode): run it from cron every
minute, each line is posted once; a rotated file is read from its start. A post that
fails leaves the cursor where it was (the next run posts the lines again; the addon
ignores the ones it already has).

No ORM here: this module is plain Python.
"""

import argparse
import gzip
import hashlib
import json
import os
import re
import sys
import urllib.error
import urllib.request
from dataclasses import asdict
from dataclasses import dataclass

#: outcomes posted per request
BATCH_SIZE = 500

_POSTFIX_RE = re.compile(
    r"^(?P<time>\S+(?:\s+\d+\s+[\d:]+)?)\s+\S+\s+postfix(?:/[\w.-]+)*/(?:smtp|lmtp|local|virtual|error|pipe)"
    r"\[\d+\]:\s+(?P<queue_id>[0-9A-Za-z]+):\s+to=<(?P<recipient>[^>]*)>,"
    r"(?:.*?\brelay=(?P<relay>[^,\s]+),)?.*?\bdsn=(?P<dsn>\d\.\d{1,3}\.\d{1,3}),"
    r"\s+status=(?P<status>sent|deferred|bounced|expired)(?:,[^(]*)?\s*(?:\((?P<reply>.*)\))?\s*$"
)
_EXIM_ID = r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}"
_EXIM_RE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [+-]\d{4})?)\s+"
    r"(?:\[\d+\]\s+)?(?P<queue_id>" + _EXIM_ID + r")\s+(?P<flag>=>|->|\*\*|==)\s+"
    r"(?P<recipient>[^\s<>]+@[^\s<>]+|<[^>]+>)(?:\s+<[^>]+>)?(?P<rest>.*)$"
)
_EXIM_HOST_RE = re.compile(r"\bH=(\S+)")
_EXIM_CONFIRM_RE = re.compile(r'\bC="([^"]*)"')
_REPLY_IN_TEXT_RE = re.compile(r"\b([245]\d\d)[ -]([245]\.\d{1,3}\.\d{1,3})?")
EXIM_STATUSES = {"=>": "sent", "->": "sent", "**": "bounced", "==": "deferred"}


@dataclass
class Outcome:
    """One recipient's outcome in the mail server's log."""

    queue_id: str
    recipient: str
    status: str
    dsn: str
    reply: str
    relay: str
    time: str
    line_id: str


def _line_id(line):
    return hashlib.sha1(line.encode("utf-8", "replace")).hexdigest()


def parse_line(line):
    """The :class:`Outcome` of one Postfix or Exim log line (None for other lines)."""
    line = line.rstrip("\r\n")
    match = _POSTFIX_RE.match(line)
    if match:
        return Outcome(
            queue_id=match["queue_id"],
            recipient=match["recipient"].lower(),
            status="bounced" if match["status"] == "expired" else match["status"],
            dsn=match["dsn"],
            reply=(match["reply"] or "").strip(),
            relay=match["relay"] or "",
            time=match["time"],
            line_id=_line_id(line),
        )
    match = _EXIM_RE.match(line)
    if match:
        rest = match["rest"]
        status = EXIM_STATUSES[match["flag"]]
        confirm = _EXIM_CONFIRM_RE.search(rest)
        reply = confirm.group(1) if confirm else rest.partition(": ")[2].strip()
        code = _REPLY_IN_TEXT_RE.search(reply)
        dsn = code.group(2) if code and code.group(2) else ""
        if not dsn:
            dsn = {"sent": "2.0.0", "deferred": "4.0.0", "bounced": "5.0.0"}[status]
        host = _EXIM_HOST_RE.search(rest)
        return Outcome(
            queue_id=match["queue_id"],
            recipient=match["recipient"].strip("<>").lower(),
            status=status,
            dsn=dsn,
            reply=reply,
            relay=host.group(1) if host else "",
            time=match["time"],
            line_id=_line_id(line),
        )
    return None


def parse_lines(lines):
    """The outcomes of ``lines`` (an iterable of str), in order."""
    return [outcome for outcome in map(parse_line, lines) if outcome]


# ---- files and cursor ----


def _open(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_new_lines(path, cursor):
    """The lines of ``path`` not read yet according to ``cursor`` (a dict, updated in a
    copy returned with the lines): ``(lines, new cursor entry)``."""
    stat = os.stat(path)
    entry = cursor.get(path) or {}
    offset = entry.get("offset", 0)
    if entry.get("inode") != stat.st_ino or (not path.endswith(".gz") and stat.st_size < offset):
        offset = 0  # another file under this name (rotated): read it from its start
    if path.endswith(".gz"):
        if entry.get("inode") == stat.st_ino and entry.get("size") == stat.st_size:
            return [], entry  # a compressed rotated file is read once
        with _open(path) as log:
            lines = log.readlines()
        return lines, {"inode": stat.st_ino, "size": stat.st_size, "offset": 0}
    with open(path, "rb") as log:
        log.seek(offset)
        data = log.read()
    # a line being written (no newline yet) is read next time
    complete = data[: data.rfind(b"\n") + 1]
    lines = complete.decode("utf-8", "replace").splitlines(keepends=True)
    return lines, {"inode": stat.st_ino, "size": stat.st_size, "offset": offset + len(complete)}


def load_cursor(path):
    if not path or not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            cursor = json.load(handle)
    except (OSError, ValueError):
        return {}
    return cursor if isinstance(cursor, dict) else {}


def save_cursor(path, cursor):
    """Write ``cursor`` atomically (a crash leaves the old one)."""
    if not path:
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(cursor, handle)
    os.replace(tmp, path)


# ---- posting ----


def post(url, token, outcomes, timeout=30):
    """POST ``outcomes`` to the addon's endpoint; the HTTP status (409: all known)."""
    body = json.dumps({"outcomes": [asdict(o) for o in outcomes]}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def endpoint(base_url, server_id):
    return f"{base_url.rstrip('/')}/mass_mailing_delivery/webhook/maillog/{server_id}"


def send(url, token, outcomes, batch_size=BATCH_SIZE):
    """Post ``outcomes`` in batches; True when every batch was taken (or known)."""
    for start in range(0, len(outcomes), batch_size):
        status = post(url, token, outcomes[start : start + batch_size])
        if status not in (200, 409):
            sys.stderr.write(f"maillog: the server answered {status}; will retry\n")
            return False
    return True


def run(paths, url, token, cursor_path="", stdin=None):
    """Read ``paths`` (``-`` or none: ``stdin``) from the cursor, post, move the cursor.

    :return: number of outcomes posted (-1 when a post failed)
    """
    cursor = load_cursor(cursor_path)
    posted = 0
    if not paths or paths == ["-"]:
        outcomes = parse_lines(stdin or sys.stdin)
        return len(outcomes) if send(url, token, outcomes) else -1
    for path in paths:
        try:
            lines, entry = read_new_lines(path, cursor)
        except OSError as error:
            sys.stderr.write(f"maillog: {path}: {error}\n")
            continue
        outcomes = parse_lines(lines)
        if not send(url, token, outcomes):
            return -1
        cursor[path] = entry
        save_cursor(cursor_path, cursor)
        posted += len(outcomes)
    return posted


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", nargs="*", help="log files (.gz too); none or '-': stdin")
    parser.add_argument("--url", required=True, help="Odoo's base URL")
    parser.add_argument("--server-id", required=True, type=int, help="outgoing mail server id")
    parser.add_argument("--token", default=os.environ.get("MMD_MAILLOG_TOKEN", ""))
    parser.add_argument("--cursor", default="", help="cursor file (safe to run from cron)")
    parser.add_argument("--dry-run", action="store_true", help="print the outcomes, post none")
    args = parser.parse_args(argv)
    if args.dry_run:
        for path in args.paths or ["-"]:
            handle = sys.stdin if path == "-" else _open(path)
            for outcome in parse_lines(handle):
                sys.stdout.write(json.dumps(asdict(outcome)) + "\n")
        return 0
    if not args.token:
        parser.error("--token (or MMD_MAILLOG_TOKEN) is required")
    posted = run(args.paths, endpoint(args.url, args.server_id), args.token, args.cursor)
    return 1 if posted < 0 else 0


if __name__ == "__main__":
    sys.exit(main())
