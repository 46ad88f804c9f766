"""Benchmark: classifying SMTP diagnostics with the seeded delivery error registry.

Prints the one-time compile time of the registry and how long classifying 10,000 realistic
diagnostics (a mix of real-world replies, recipients and odd inputs) takes on one core.
Run from the repository root: ``python3 bench/bench_classify.py [COUNT]``.
"""

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import delivery_errors

CORPUS = [
    ("550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table", ""),
    (
        (
            "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
            "550-5.1.1 double-checking the recipient's email address for typos or\n"
            "550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser - gsmtp"
        ),
        "gmail.com",
    ),
    (
        (
            "550-5.7.26 This mail is unauthenticated, which poses a security risk to the\n"
            "550-5.7.26 sender and Gmail users, and has been blocked. - gsmtp"
        ),
        "gmail.com",
    ),
    ("421-4.7.28 Our system has detected an unusual rate of unsolicited mail - gsmtp", ""),
    ("552-5.2.2 The email account that you tried to reach is over quota. - gsmtp", "gmail.com"),
    ("452 4.2.2 <{rcpt}>: Mailbox full, quota exceeded", ""),
    ("552 5.3.4 Message size exceeds fixed maximum message size", ""),
    ("421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred", "yahoo.com"),
    ("554 Message not accepted for policy reasons.", "yahoo.com"),
    (
        (
            "550 5.7.1 Unfortunately, messages from [203.0.113.5] weren't sent. Please contact your "
            "Internet service provider since part of their network is on our block list (S3150)."
        ),
        "hotmail.com",
    ),
    ("550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.", ""),
    ("550 5.5.0 Requested action not taken: mailbox unavailable", "outlook.com"),
    ("450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted", ""),
    ("550 5.7.1 Message rejected as spam by Content Filtering", ""),
    ("554 5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org", ""),
    ("(552, b'5.2.2 <{rcpt}>: casella piena')", "libero.it"),
    ("550 Benutzer unbekannt", "gmx.de"),
    ("550 5.1.1 Utilisateur inconnu", "orange.fr"),
    ("550 5.1.1 Adres odbiorcy nie istnieje", "wp.pl"),
    ("[Errno 111] Connection refused", ""),
    ("451 4.4.7 Delivery delayed, will retry", ""),
    ("Zorglub gateway says: frobnicated recipient, try never", ""),
    (b"550 5.1.1 \xff\xfe invalid bytes", ""),
    ("", ""),
]


def build_inputs(count, seed=42):
    """``count`` (diagnostic, recipient) pairs drawn from :data:`CORPUS`, recipients varied."""
    rng = random.Random(seed)
    inputs = []
    for index in range(count):
        text, domain = rng.choice(CORPUS)
        rcpt = f"user{index}@{domain or 'example.com'}"
        if isinstance(text, str):
            text = text.replace("{rcpt}", rcpt)
        inputs.append((text, rcpt))
    return inputs


def main(count=10000):
    """Print the compile time, the total classification time and the rate."""
    rules = delivery_errors.load_rules_from_xml(delivery_errors.DATA_FILE)
    start = time.perf_counter()
    matcher = delivery_errors.Matcher(rules)
    compile_time = time.perf_counter() - start
    inputs = build_inputs(count)
    start, start_cpu = time.perf_counter(), time.process_time()
    for text, rcpt in inputs:
        matcher.classify(diagnostic=text, recipient=rcpt)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print(f"rules: {len(matcher)} compiled in {compile_time * 1000:.1f} ms")
    # CPU time is the work of one core, whatever else the machine runs; wall time beside it
    print(
        f"classified {count} diagnostics in {cpu:.3f} s of CPU ({count / cpu:,.0f} per second)"
        f", {elapsed:.3f} s wall"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
