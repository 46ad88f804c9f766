"""The regular expressions of the bounce parser compiled for long report texts
(``tools/bounce/patterns.py``), without a database: led by a look-ahead for the first
letters of their alternatives, they find the very matches of the plain pattern, case folding
included; so does the address pattern tried only where a run of local-part characters starts.
"""

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ..tools.bounce import message
from ..tools.bounce.patterns import led_by_first_letters

CORPUS = Path(__file__).resolve().parent / "bounces"
#: the patterns of the parser compiled with a look-ahead
LED = {
    "REMOTE_SERVER_RE": message.REMOTE_SERVER_RE,
    "REPORTING_RE": message.REPORTING_RE,
    "DELAY_RE": message.DELAY_RE,
}
#: characters that fold to an ASCII letter (long s, Kelvin sign, dotted and dotless i) and
#: other cases of the alternatives' letters
FOLDS = "\u017f\u212a\u0130\u0131SsKkIiTtDdWwRrMmGgQq"


def plain(compiled):
    """The pattern of ``compiled`` without its look-ahead, compiled as written."""
    pattern = re.sub(r"^\(\?=\[[^\]]*\]\)\(\?:(.*)\)$", r"\1", compiled.pattern, flags=re.S)
    return re.compile(pattern, compiled.flags)


def same_matches(led, text):
    """Fail unless ``led`` and its plain pattern find the same matches in ``text``."""
    expected = [(m.span(), m.groups()) for m in plain(led).finditer(text)]
    assert [(m.span(), m.groups()) for m in led.finditer(text)] == expected


@pytest.mark.parametrize("name", sorted(LED))
def test_parser_patterns_are_led(name):
    assert LED[name].pattern.startswith("(?=[")


@pytest.mark.parametrize("name", sorted(LED))
def test_same_matches_on_the_corpus(name):
    for path in sorted(CORPUS.glob("*/*"))[::3]:
        same_matches(LED[name], path.read_bytes().decode("utf-8", errors="replace"))


@pytest.mark.parametrize(
    "pattern",
    [r"(?:abc|\d+x)", r"[ab]c|d", r"(?:a|)b", r"\bword|other", r"(?i)one|two"],
)
def test_other_patterns_compiled_as_written(pattern):
    assert led_by_first_letters(pattern, re.IGNORECASE).pattern == pattern


@settings(max_examples=300, deadline=None, database=None)
@given(
    name=st.sampled_from(sorted(LED)),
    pieces=st.lists(st.integers(0, 10**6), min_size=1, max_size=12),
)
def test_fuzz_same_matches(name, pieces):
    """Texts made of pieces of the alternatives, in other cases and with folding letters."""
    source = plain(LED[name]).pattern
    words = re.findall(r"[^\W\d_]+[ :'-]*", source) + list(FOLDS) + [" ", "\n", "'x'"]
    text = ""
    for piece in pieces:
        word = words[piece % len(words)]
        text += word.upper() if piece % 3 == 0 else word
    same_matches(LED[name], text)


@settings(max_examples=500, deadline=None, database=None)
@given(text=st.text(alphabet="ab.-_+@ \n<>\u00e9\u4e2d1", max_size=60))
def test_fuzz_address_pattern_tried_at_run_starts(text):
    """The address pattern, tried only where a run of local-part characters starts, finds
    what the pattern tried at every position finds."""
    everywhere = re.compile(message.ADDRESS_RE.pattern.split(")", 1)[1])
    assert [m.span() for m in message.ADDRESS_RE.finditer(text)] == [
        m.span() for m in everywhere.finditer(text)
    ]
    assert bool(message.ADDRESS_RE.fullmatch(text)) == bool(everywhere.fullmatch(text))
