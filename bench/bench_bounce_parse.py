"""Bounce messages parsed and classified per second by ``tools/bounce/``, on one core.

Parses the whole corpus of ``tests/bounces`` (flufl.bounce's samples and the handmade
ones: DSNs, non-standard bounces, ARF complaints, automatic replies, broken messages)
``--rounds`` times in this process, after one warm-up round (the registry matcher is built
once), and prints messages/s and recipients/s. No database. Target: >= 1,000 messages/s.

Usage, from the repository root: python3 bench/bench_bounce_parse.py [--rounds 20]
"""

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import bounce  # noqa: E402

TARGET = 1000


def load_corpus():
    """The raw bytes of every corpus message, by sub-directory (flufl, handmade)."""
    corpus = {}
    for path in sorted((ROOT / "tests" / "bounces").glob("*/*")):
        if path.suffix in (".txt", ".eml"):
            corpus.setdefault(path.parent.name, []).append(path.read_bytes())
    return corpus


def run(corpus, rounds):
    """Parse ``corpus`` ``rounds`` times; return (seconds, messages, results by kind)."""
    kinds = Counter()
    # CPU time: the work of one core, whatever else the machine runs
    started = time.process_time()
    for _round in range(rounds):
        for raw in corpus:
            kinds.update(result.kind for result in bounce.parse_bounce(raw))
    return time.process_time() - started, rounds * len(corpus), kinds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="passes over the corpus")
    args = parser.parse_args()
    # flufl.bounce logs the traceback of a detector failing on a garbage sample
    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
    logging.getLogger(bounce.__name__).setLevel(logging.ERROR)
    corpora = load_corpus()
    corpus = [raw for messages in corpora.values() for raw in messages]
    run(corpus, 1)
    seconds, messages, kinds = run(corpus, args.rounds)
    recipients = sum(kinds.values())
    rate = messages / seconds
    print(f"corpus: {len(corpus)} messages, {recipients // args.rounds} results per pass")
    print(f"parse + classify: {rate:,.0f} messages/s, {recipients / seconds:,.0f} recipients/s")
    print(f"per message: {1e6 * seconds / messages:,.0f} us of CPU ({args.rounds} rounds)")
    print("results per pass: " + ", ".join(f"{k} {n // args.rounds}" for k, n in kinds.items()))
    for name, messages in corpora.items():
        part_seconds, part_messages, _kinds = run(messages, args.rounds)
        print(f"  {name}: {len(messages)} messages, {part_messages / part_seconds:,.0f} messages/s")
    print(f"target >= {TARGET:,} messages/s: {'met' if rate >= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
