"""The archive copy's body (``tools/archive_copy.py``, no database): no open pixel, the
links that name the recipient's trace point to their page."""

from markupsafe import Markup

from ..tools import archive_copy

BASE = "https://crm.example"
HTML = Markup(
    f'<p>Hello <a href="{BASE}/r/aB3x/m/42">offer</a> <a href="{BASE}/r/zz9/m/42">old</a>'
    f' <a href="{BASE}/unsubscribe_from_list">unsubscribe</a></p>'
    f'<img src="{BASE}/mail/track/17/0a1b2c/blank.gif"/>'
)
TARGETS = {"aB3x": "https://www.example.com/offer?utm_source=a&utm_medium=email"}


def test_tracked_codes():
    assert archive_copy.tracked_codes(HTML, None, f"see {BASE}/r/q1/m/7") == {"aB3x", "zz9", "q1"}
    assert archive_copy.tracked_codes(f"{BASE}/r/aB3x", "") == set(), "no trace named"


def test_untracked_html():
    copy = archive_copy.untracked(HTML, TARGETS)
    assert isinstance(copy, Markup)
    assert "/mail/track/" not in copy
    assert "/m/42" not in copy
    assert 'href="https://www.example.com/offer?utm_source=a&amp;utm_medium=email"' in copy
    assert f'href="{BASE}/r/zz9"' in copy, "an unknown code keeps its short link"
    assert f"{BASE}/unsubscribe_from_list" in copy


def test_untracked_text():
    text = f"Hello offer [1]\n[1] {BASE}/r/aB3x/m/42\n"
    assert archive_copy.untracked(text, TARGETS, html=False) == (
        f"Hello offer [1]\n[1] {TARGETS['aB3x']}\n"
    )
    assert archive_copy.untracked(None, TARGETS) is None
    assert archive_copy.untracked("", TARGETS) == ""
