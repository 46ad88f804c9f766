"""``python3 -m tools.bounce FILE...`` (or ``--stdin``: file names one a line on the standard
input): one JSON object per recipient per line, with the file name; exit 0. A file in mbox
format is read message by message."""

import gc
import json
import logging
import re
import sys

from . import MAX_SIZE
from . import BounceResult
from . import parse_bounce

#: the JSON of a line (one encoder: ``json.dumps`` with an option builds one per call)
JSON = json.JSONEncoder(ensure_ascii=False)
#: the envelope line that starts each message of an mbox file ("From sender asctime")
MBOX_SEPARATOR_RE = re.compile(
    rb"^From \S+ +\w{3} \w{3} +\d{1,2} \d{1,2}:\d{2}:\d{2} (?:\S+ )?\d{4}\s*$", re.M
)


def _messages(raw):
    """The messages of a file: each message of an mbox file (two envelope lines or more),
    else the file itself. A line "From ..." inside a message is not an envelope line
    unless it has the envelope's sender-and-date form."""
    if raw.startswith(b"From ") and b"\r" in raw:
        # an mbox file with CRLF or CR line endings: its envelope lines are lines too
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if not MBOX_SEPARATOR_RE.match(raw):
        return [raw]
    starts = [match.start() for match in MBOX_SEPARATOR_RE.finditer(raw)]
    ends = [*starts[1:], len(raw)]
    return [raw[start:end] for start, end in zip(starts, ends, strict=True)]


def _cli_lines(path):
    """The JSON lines printed for one file (one per recipient, or one with ``error``)."""
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_SIZE + 1)
    except OSError as error:
        row = BounceResult(diagnostic=str(error)).as_dict()
        return [JSON.encode({"file": path, **row, "error": str(error)})]
    return [
        JSON.encode({"file": path, **result.as_dict()})
        for message in _messages(raw)
        for result in parse_bounce(message)
    ]


def main(argv=None):
    """``python3 -m tools.bounce FILE...``: one JSON object per recipient per line; exit 0."""
    # flufl.bounce logs a detector's traceback before re-raising it: not for a CLI's output
    logging.getLogger("flufl.bounce").addHandler(logging.NullHandler())
    logging.getLogger("flufl.bounce").propagate = False
    # parsed messages are freed by reference counting: the cyclic collector's frequent runs
    # over the email package's many small objects only cost time in a batch
    gc.set_threshold(50000, 20, 20)
    paths = sys.argv[1:] if argv is None else list(argv)
    if paths[:1] == ["--stdin"]:
        # file names one a line on the standard input (more than a command line holds)
        paths = [line.strip() for line in sys.stdin if line.strip()]
    for path in paths:
        for line in _cli_lines(path):
            sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
