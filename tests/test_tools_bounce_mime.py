"""The MIME splitter of the bounce parser (``tools/bounce/mime.py``), without a database: it
must build the very ``Message`` tree the standard library's ``email`` parser builds (policy
``compat32``), on every sample of ``tests/bounces`` with LF, CRLF and CR line endings, and on
fuzzed messages (boundaries, blank lines, envelope lines and part headers inserted or cut).
"""

import random
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ..tools.bounce import message as bounce_message
from ..tools.bounce import mime

CORPUS = Path(__file__).resolve().parent / "bounces"
SAMPLES = sorted(
    path.relative_to(CORPUS).as_posix()
    for path in CORPUS.glob("*/*")
    if path.suffix in (".txt", ".eml")
)
#: pieces a fuzzed message gets inserted: what changes how a message is split
PIECES = (
    b"\n",
    b"\n\n",
    b"--",
    b":",
    b" ",
    b"\t",
    b"\xff",
    b"\nFrom someone\n",
    b"\n--x\n",
    b"\n--x--\n",
    b"Content-Type: multipart/mixed; boundary=x\n",
    b"Content-Type: multipart/digest; boundary=x\n",
    b"Content-Type: message/delivery-status\n\n",
    b"Content-Type: message/rfc822\n\n",
)


def tree(msg):
    """Everything of a ``Message`` tree a reader can see, as a list of plain values.

    :param msg: ``email.message.Message``
    """
    rows = [msg.get_unixfrom(), msg._headers, msg.get_default_type(), msg.preamble, msg.epilogue]
    payload = msg._payload
    if isinstance(payload, list):
        rows.append(len(payload))
        for part in payload:
            rows += tree(part)
    else:
        rows.append(payload)
    return rows


def assert_same_tree(data):
    """Fail unless :mod:`.mime` splits ``data`` (LF line endings) as the standard parser.

    :param data: bytes of one message
    """
    expected = tree(message_from_bytes(data, policy=compat32))
    assert tree(mime.parse(data.decode("ascii", errors="surrogateescape"))) == expected


@pytest.mark.parametrize("name", SAMPLES)
def test_same_tree_as_the_standard_parser(name):
    raw = (CORPUS / name).read_bytes()
    assert_same_tree(raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))


@pytest.mark.parametrize("ending", [b"\r\n", b"\r"])
def test_crlf_and_cr_copies_load_as_the_lf_message(ending):
    """``load`` reads a CRLF or CR copy as the LF message (the corpus's maildir/dos, mac)."""
    for name in SAMPLES[::7]:
        raw = (CORPUS / name).read_bytes().replace(b"\r\n", b"\n")
        expected = tree(bounce_message.load(raw, bounce_message.MAX_SIZE))
        copy = raw.replace(b"\n", ending)
        assert tree(bounce_message.load(copy, bounce_message.MAX_SIZE)) == expected, name


@settings(
    max_examples=1500,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(SAMPLES),
    seed=st.integers(0, 2**32),
    edits=st.integers(1, 8),
)
def test_fuzz_same_tree_as_the_standard_parser(name, seed, edits):
    """Cut, repeated and inserted pieces: still the standard parser's tree."""
    rng = random.Random(seed)
    data = bytearray((CORPUS / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
    for _ in range(edits):
        position = rng.randint(0, len(data))
        operation = rng.random()
        if operation < 0.4:
            data[position:position] = rng.choice(PIECES)
        elif operation < 0.7:
            del data[position : position + rng.randint(1, 200)]
        else:
            start = rng.randint(0, len(data))
            data[position:position] = data[start : start + rng.randint(1, 300)]
    assert_same_tree(bytes(data))


def test_lower_case_marker_pattern_has_no_upper_case_escape():
    """The original-message marker is searched lower-case in a lower-case text: lowering its
    pattern must not change an escape (``\\S`` would become ``\\s``)."""
    pattern = bounce_message.ORIGINAL_MARKER_LINE_RE.pattern
    assert not any(pattern[i] == "\\" and pattern[i + 1].isupper() for i in range(len(pattern) - 1))
    text = "Report\nSome words\n   ----- Original Message -----\nFrom: x"
    assert bounce_message.report_text(bounce_message.Parts([], [], [], [text])) == (
        "Report\nSome words\n"
    )


def test_attached_original_is_read_only_when_asked():
    """The copy of the original in a bounce: its headers at once, its body when asked for
    (then the standard parser's tree, the line break before the boundary dropped)."""
    raw = (
        b"Content-Type: multipart/report; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
        b"failed\n--b\nContent-Type: message/rfc822\n\nMessage-ID: <1@x>\n"
        b"Content-Type: multipart/alternative; boundary=c\n\n--c\n\nhello\n--c--\nend\n--b--\n"
    )
    msg = mime.parse(raw.decode("ascii"))
    held = msg.get_payload(1).get_payload(0)
    assert isinstance(held, mime.HeldMessage)
    assert held["Message-ID"] == "<1@x>"
    assert held.__dict__["_held"] is not None, "headers only: the body is still held"
    assert tree(msg) == tree(message_from_bytes(raw, policy=compat32))
    assert held.epilogue == "end"
