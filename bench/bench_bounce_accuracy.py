"""Bounce diagnosis of ``tools/bounce`` against Sisimai on a folder of real bounce messages.

Runs, in the same run and on the same files, Sisimai (Perl, ``libsisimai-perl``) and
``python3 -m tools.bounce``, each as one process over the whole folder, and prints:

- recipients found: share of Sisimai's (file, recipient) pairs that the parser names too
  (as its recipient, or as the ``final_recipient`` of a DSN whose Original-Recipient it
  names; quotes around a local part ignored; Sisimai's stand-in address for a report that
  names none, ``...@libsisimai.org.invalid``, is no recipient);
- same group: share of those pairs whose category falls in the same group (table below);
- same verdict: share of the failed pairs where both say ``hard``, or both say not hard;
- wrongly hard: share of the pairs whose failure Sisimai says is not about the address
  (the sender, the content, the network, the mailbox being full...) that the parser
  calls ``hard`` (a hard bounce blocks the address at once);
- unknown: recipients the parser classifies ``unknown`` (of Sisimai's recipients): an
  unreadable message, or a failure with no category (a delivery report or a delay notice
  has no failure to classify and is not counted);
- speed: CPU time of the two processes (Perl startup and Python startup included), and
  their wall time;
- the disagreements, by Sisimai reason and parser category, with a few files each.

Group mapping (Sisimai reason -> group <- parser category):

============  =========================================  ===================================
group         Sisimai reasons                            parser categories
============  =========================================  ===================================
address       userunknown                                recipient_unknown
domain        hostunknown, notaccept                     domain_unknown
disabled      suspend                                    mailbox_disabled
moved         hasmoved                                   mailbox_moved
full          mailboxfull                                mailbox_full
size          mesgtoobig, exceedlimit                    message_too_large
content       contenterror, spamdetected, virusdetected  content_rejected, virus_detected
sender        blocked, rejected, securityerror,          sender_blocked, sender_rejected,
              policyviolation, norelaying                authentication, policy_rejected
rate          toomanyconn                                rate_limited
unreachable   networkerror, expired                      network_error, expired; a delay
                                                         notice (kind ``delayed``) that
                                                         gives no reason
server        systemerror, systemfull, mailererror,      server_error
              syntaxerror
complaint     feedback                                   complaint
auto_reply    vacation                                   auto_reply
delivered     delivered                                  (kind ``delivered``)
============  =========================================  ===================================

Sisimai's ``filtered`` ("rejected by a filter", often an unknown user refused after DATA)
agrees with the groups address, disabled, content and sender, and with either verdict; its
``blocked`` (refused for the sending IP or host) agrees with the group rate too (an IP that
sends too much), its ``toomanyconn`` with the group sender (an IP blocked for it).
Sisimai's ``undefined`` and ``onhold`` (Sisimai could not tell) are left out of the group
and verdict figures (counted apart). The verdict Sisimai implies is ``hard`` for userunknown,
hostunknown, notaccept, suspend and hasmoved (evidence about the address), not hard for the
others.

Get the corpus: fetch https://github.com/sisimai/set-of-emails (BSD-2-Clause), and Sisimai:
``apt-get install libsisimai-perl``. Without Sisimai the parser's own figures are printed.

Usage, from the repository root::

    python3 bench/bench_bounce_accuracy.py /path/to/set-of-emails/maildir/bsd
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Sisimai reason -> group
SISIMAI_GROUP = {
    "userunknown": "address",
    "hostunknown": "domain",
    "notaccept": "domain",
    "suspend": "disabled",
    "hasmoved": "moved",
    "mailboxfull": "full",
    "mesgtoobig": "size",
    "exceedlimit": "size",
    "contenterror": "content",
    "spamdetected": "content",
    "virusdetected": "content",
    "blocked": "sender",
    "rejected": "sender",
    "securityerror": "sender",
    "policyviolation": "sender",
    "norelaying": "sender",
    "toomanyconn": "rate",
    "networkerror": "unreachable",
    "expired": "unreachable",
    "systemerror": "server",
    "systemfull": "server",
    "mailererror": "server",
    "syntaxerror": "server",
    "feedback": "complaint",
    "vacation": "auto_reply",
    "delivered": "delivered",
}
#: parser category -> group
PARSER_GROUP = {
    "recipient_unknown": "address",
    "domain_unknown": "domain",
    "mailbox_disabled": "disabled",
    "mailbox_moved": "moved",
    "mailbox_full": "full",
    "message_too_large": "size",
    "content_rejected": "content",
    "virus_detected": "content",
    "sender_blocked": "sender",
    "sender_rejected": "sender",
    "authentication": "sender",
    "policy_rejected": "sender",
    "rate_limited": "rate",
    "network_error": "unreachable",
    "expired": "unreachable",
    "server_error": "server",
    "complaint": "complaint",
    "auto_reply": "auto_reply",
}
#: groups Sisimai's "filtered" agrees with
FILTERED_GROUPS = frozenset({"address", "disabled", "content", "sender"})
#: Sisimai reasons that also agree with a second group: its "blocked" (refused for the
#: sending IP or host) covers the refusals of an IP that sends too much ("temporarily
#: deferred due to unexpected volume", "IP frequency limited"), its "toomanyconn" those
#: that block the IP for it
ALSO_AGREES = {"blocked": "rate", "toomanyconn": "sender"}
#: Sisimai reasons that are evidence about the address (the verdict it implies is hard)
HARD_REASONS = frozenset({"userunknown", "hostunknown", "notaccept", "suspend", "hasmoved"})
#: reasons left out of the group and verdict figures
UNDECIDED_REASONS = frozenset({"undefined", "onhold"})
#: the domain of the address Sisimai names when a report names no recipient
SISIMAI_PLACEHOLDER = "@libsisimai.org.invalid"
#: reasons that are no failure (no verdict)
NO_FAILURE_REASONS = frozenset({"feedback", "vacation", "delivered"})

SISIMAI_SCRIPT = r"""
use strict; use warnings; use Sisimai; use JSON::PP;
my $json = JSON::PP->new->canonical;
while (my $path = <STDIN>) {
    chomp $path;
    my $found = Sisimai->make($path, 'delivered' => 1, 'vacation' => 1) || [];
    for my $one (@$found) {
        my $data = $one->damn;
        print $json->encode({file => $path, recipient => lc($data->{recipient} // ''),
                             reason => $data->{reason}, status => $data->{deliverystatus},
                             command => $data->{smtpcommand},
                             diagnostic => $data->{diagnosticcode}}), "\n";
    }
}
"""


def _run(command, stdin_text, env=None):
    """``(stdout, cpu seconds, wall seconds)`` of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command,
        input=stdin_text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode:
        sys.stderr.write(done.stderr[-2000:])
    return done.stdout, cpu, wall


def sisimai_available():
    """Whether ``perl -MSisimai`` works."""
    try:
        probe = ["perl", "-MSisimai", "-e", "1"]
        return subprocess.run(probe, capture_output=True, check=False).returncode == 0
    except OSError:
        return False


def run_sisimai(files):
    """Sisimai's rows ``{(file, recipient): row}`` and its (cpu, wall) seconds."""
    with tempfile.NamedTemporaryFile("w", suffix=".pl", delete=False) as script:
        script.write(SISIMAI_SCRIPT)
    try:
        out, cpu, wall = _run(["perl", script.name], "\n".join(files) + "\n")
    finally:
        os.unlink(script.name)
    rows = {}
    for line in out.splitlines():
        row = json.loads(line)
        recipient = same_address(row["recipient"])
        # Sisimai's stand-in when a report names no recipient is no address
        if recipient and not recipient.endswith(SISIMAI_PLACEHOLDER):
            rows.setdefault((row["file"], recipient), row)
    return rows, cpu, wall


def same_address(address):
    """``address`` as compared: lower-case, a quoted local part without its quotes (Sisimai
    keeps ``"neko..nyaan"@example.org`` quoted, the parser does not)."""
    return (address or "").lower().replace('"', "")


def run_parser(files):
    """The parser's rows ``{(file, recipient): row}`` and its (cpu, wall) seconds."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out, cpu, wall = _run([sys.executable, "-m", "tools.bounce", "--stdin"], "\n".join(files), env)
    rows = {}
    for line in out.splitlines():
        row = json.loads(line)
        # a DSN's recipient is its Original-Recipient (the address the message was sent
        # to); Sisimai names the Final-Recipient: the same recipient block, either matches
        for address in (row["recipient"], row.get("final_recipient")):
            if address:
                rows.setdefault((row["file"], same_address(address)), row)
    return rows, cpu, wall


def parser_group(row):
    """The group of a parser row."""
    if row["kind"] == "delivered":
        return "delivered"
    if row["kind"] == "delayed" and row["category"] in ("unknown", "server_error"):
        # a delay notice (still retried) that gives no reason: Sisimai's is "expired"
        return "unreachable"
    return PARSER_GROUP.get(row["category"], "unknown")


def score(sisimai, parser):
    """The figures (dict) and the disagreements (list of (kind, reason, category, file))."""
    figures = Counter()
    disagreements = []
    for key, expected in sisimai.items():
        reason = expected["reason"]
        figures["recipients"] += 1
        got = parser.get(key)
        if got is None:
            disagreements.append(("missing", reason, "-", key))
            continue
        figures["found"] += 1
        if got["category"] == "unknown" and got["kind"] in ("unknown", "hard", "soft"):
            # an unreadable message, or a failure nothing classifies (a delay notice or a
            # delivery report has no failure to classify; an authentication failure report
            # is classified ``authentication``)
            figures["unknown"] += 1
        if reason in UNDECIDED_REASONS:
            figures["undecided"] += 1
            continue
        group = parser_group(got)
        if reason == "filtered":
            same = group in FILTERED_GROUPS
        else:
            same = group in (SISIMAI_GROUP.get(reason), ALSO_AGREES.get(reason))
        figures["group_total"] += 1
        figures["group_same"] += same
        if not same:
            disagreements.append(("group", reason, got["category"], key))
        if reason in NO_FAILURE_REASONS:
            continue
        hard = got["kind"] == "hard"
        figures["verdict_total"] += 1
        if reason == "filtered":
            figures["verdict_same"] += 1
            continue
        expected_hard = reason in HARD_REASONS
        figures["verdict_same"] += hard == expected_hard
        if hard != expected_hard:
            disagreements.append(("verdict", reason, f"{got['kind']}/{got['category']}", key))
        if not expected_hard:
            figures["not_address"] += 1
            figures["wrongly_hard"] += hard
    return figures, disagreements


def _share(part, whole):
    return 100.0 * part / whole if whole else 0.0


def report(figures, disagreements, speeds, examples):
    """Print the figures, the speeds and the disagreements."""
    total = figures["recipients"]
    lines = [
        f"recipients (Sisimai): {total}",
        f"recipients found:     {_share(figures['found'], total):5.1f} %  (target >= 98 %)",
        f"same group:           {_share(figures['group_same'], figures['group_total']):5.1f} %"
        f"  ({figures['group_same']}/{figures['group_total']}, target >= 95 %)",
        f"same hard/soft:       {_share(figures['verdict_same'], figures['verdict_total']):5.1f} %"
        f"  ({figures['verdict_same']}/{figures['verdict_total']}, target >= 95 %)",
        f"wrongly hard:         {_share(figures['wrongly_hard'], figures['not_address']):5.1f} %"
        f"  ({figures['wrongly_hard']}/{figures['not_address']}, target <= 1 %)",
        f"unknown:              {_share(figures['unknown'], total):5.1f} %"
        f"  ({figures['unknown']}/{total}, target < 2 %)",
        f"Sisimai undecided (undefined, onhold; not scored): {figures['undecided']}",
    ]
    if speeds:
        (s_cpu, s_wall), (p_cpu, p_wall) = speeds
        lines += [
            f"Sisimai: {s_cpu:.2f} s CPU, {s_wall:.2f} s wall",
            f"parser:  {p_cpu:.2f} s CPU, {p_wall:.2f} s wall",
            f"speed:   {s_cpu / p_cpu if p_cpu else 0:.2f} x Sisimai (CPU), "
            f"{s_wall / p_wall if p_wall else 0:.2f} x (wall)  (target >= 1.5 x)",
        ]
    print("\n".join(lines))
    by_pair = defaultdict(list)
    for kind, reason, category, (file, _recipient) in disagreements:
        by_pair[(kind, reason, category)].append(os.path.basename(file))
    if by_pair:
        print("\ndisagreements (what, Sisimai reason, parser kind/category: count, files):")
    for (kind, reason, category), files in sorted(by_pair.items(), key=lambda i: -len(i[1])):
        print(f"  {kind:8} {reason:16} {category:30} {len(files):3}  {' '.join(files[:examples])}")


def main(argv=None):
    """Run both on the folder given and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("folder", help="a folder of messages (e.g. set-of-emails/maildir/bsd)")
    parser.add_argument("--examples", type=int, default=4, help="files shown per disagreement")
    args = parser.parse_args(argv)
    files = sorted(str(path.resolve()) for path in Path(args.folder).iterdir() if path.is_file())
    print(f"{len(files)} messages in {args.folder}; load average {os.getloadavg()[0]:.2f}")
    if not sisimai_available():
        print("Sisimai is not installed (apt-get install libsisimai-perl): parser only")
        rows, cpu, wall = run_parser(files)
        print(f"parser: {len(rows)} recipients, {cpu:.2f} s CPU, {wall:.2f} s wall")
        return 0
    sisimai, s_cpu, s_wall = run_sisimai(files)
    parsed, p_cpu, p_wall = run_parser(files)
    figures, disagreements = score(sisimai, parsed)
    report(figures, disagreements, ((s_cpu, s_wall), (p_cpu, p_wall)), args.examples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
