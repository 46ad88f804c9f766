"""Signed tracking tokens (``tools/tracking_token.py``) and the machine-event rule
(``tools/bot_filter.py``), without a database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..tools import bot_filter
from ..tools import tracking_token

SECRET = "3f1c0a5e-secret-of-the-database"


def test_sign_verify_roundtrip():
    token = tracking_token.sign(SECRET, "open", 42)
    assert len(token) == 64
    assert tracking_token.verify(SECRET, token, "open", 42)


def test_token_binds_purpose_ids_and_secret():
    token = tracking_token.sign(SECRET, "click", 42, 7)
    assert tracking_token.verify(SECRET, token, "click", 42, 7)
    assert not tracking_token.verify(SECRET, token, "click", 42, 8)
    assert not tracking_token.verify(SECRET, token, "click", 43, 7)
    assert not tracking_token.verify(SECRET, token, "open", 42)
    assert not tracking_token.verify("another-secret", token, "click", 42, 7)
    # the purpose separates tokens: an open token is no unsubscribe token
    assert tracking_token.sign(SECRET, "open", 1) != tracking_token.sign(SECRET, "unsubscribe", 1)


@pytest.mark.parametrize(
    "token",
    [None, "", "abc", 12, "g" * 64, "0" * 63, "0" * 65, b"0" * 64, "é" * 64],
)
def test_malformed_tokens_are_invalid(token):
    assert not tracking_token.verify(SECRET, token, "open", 1)


def test_bad_ids_and_secret():
    with pytest.raises(ValueError):
        tracking_token.sign("", "open", 1)
    with pytest.raises(ValueError):
        tracking_token.sign(SECRET, "open", "1")
    with pytest.raises(ValueError):
        tracking_token.sign(SECRET, "other", 1)
    assert not tracking_token.verify(SECRET, "0" * 64, "open", "1")
    assert not tracking_token.verify("", "0" * 64, "open", 1)


@given(st.text(min_size=1), st.integers(min_value=1, max_value=2**31), st.text())
def test_only_the_right_token_verifies(secret, tracking_id, guess):
    token = tracking_token.sign(secret, "open", tracking_id)
    assert tracking_token.verify(secret, token, "open", tracking_id)
    assert tracking_token.verify(secret, guess, "open", tracking_id) == (guess == token)


FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
APPLE_MAIL = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
)


@pytest.mark.parametrize(
    ("user_agent", "ip", "event_type", "seconds", "expected"),
    [
        (FIREFOX, "203.0.113.9", "open", 3600, (False, "")),
        (FIREFOX, "203.0.113.9", "click", 3600, (False, "")),
        # Apple MPP: Apple's network, an agent that names no client
        ("Mozilla/5.0", "17.58.100.1", "open", 2, (True, "apple_mpp")),
        (APPLE_MAIL, "17.121.0.33", "open", 5000, (True, "apple_mpp")),
        # a person on an Apple network with Safari is a person
        (APPLE_MAIL + " Version/17.0 Safari/605.1.15", "17.1.2.3", "open", 50, (False, "")),
        # crawlers and scanners by agent, empty agent
        ("Mozilla/5.0 (compatible; bingbot/2.0)", "198.51.100.1", "open", 99, (True, "crawler")),
        ("python-requests/2.31", "198.51.100.1", "click", 99, (True, "crawler")),
        ("Barracuda Sentinel (EE)", "198.51.100.1", "click", 3000, (True, "crawler")),
        ("", "198.51.100.1", "open", 99, (True, "crawler")),
        (None, None, "open", None, (True, "crawler")),
        # Gmail's image proxy is how Gmail users open mail: human
        (
            "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
            "66.102.8.1",
            "open",
            10,
            (False, ""),
        ),
        # clicks within seconds of delivery: a link scanner; opens are not judged on time
        (FIREFOX, "198.51.100.1", "click", 3, (True, "scanner_delay")),
        (FIREFOX, "198.51.100.1", "open", 3, (False, "")),
        (FIREFOX, "198.51.100.1", "click", 10, (False, "")),
        # odd input is no crash
        (FIREFOX, "not-an-ip", "click", None, (False, "")),
    ],
)
def test_classify(user_agent, ip, event_type, seconds, expected):
    assert bot_filter.classify(user_agent, ip, event_type, seconds) == expected


def test_scanner_delay_is_configurable():
    assert bot_filter.classify(FIREFOX, "198.51.100.1", "click", 20, scanner_delay=30) == (
        True,
        "scanner_delay",
    )
    assert bot_filter.classify(FIREFOX, "198.51.100.1", "click", 3, scanner_delay=0) == (False, "")
