"""The safety stop's statistics: Wilson score interval and rate verdicts (no database)."""

import pytest

from ..tools.failure_rate import judge_rate
from ..tools.failure_rate import wilson_interval


@pytest.mark.parametrize(
    ("bad", "total", "low", "high"),
    [
        # R. G. Newcombe, "Two-sided confidence intervals for the single proportion:
        # comparison of seven methods", Statistics in Medicine 17 (1998), table II, method 3
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_published_values(bad, total, low, high):
    result = wilson_interval(bad, total)
    assert round(result[0], 4) == low
    assert round(result[1], 4) == high


def test_wilson_interval_edges():
    assert wilson_interval(0, 0) == (0.0, 1.0), "no sample: anything is possible"
    low, high = wilson_interval(50, 50)
    assert high == 1.0 and 0.9 < low < 1.0
    assert wilson_interval(-3, 10) == wilson_interval(0, 10), "counts are clamped"
    assert wilson_interval(12, 10) == wilson_interval(10, 10)
    narrow = wilson_interval(3, 100, confidence=0.8)
    wide = wilson_interval(3, 100, confidence=0.99)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]
    with pytest.raises(ValueError):
        wilson_interval(1, 10, confidence=1.0)


def test_three_failures_among_59_are_noise():
    """The incident: 3 refusals among the first 59 e-mails paused a mailing at 5 %."""
    verdict = judge_rate(3, 59, 5, min_sample=50)
    assert round(verdict.rate, 1) == 5.1
    assert verdict.low < 5 < verdict.high, "the interval straddles the limit"
    assert not verdict.exceeded


def test_a_dead_list_is_caught_at_the_minimum_sample():
    verdict = judge_rate(30, 200, 5)  # 15 % unknown recipients
    assert verdict.exceeded
    assert round(verdict.low, 1) == 10.7
    assert not judge_rate(30, 199, 5).exceeded, "not before 200 e-mails"
    assert not judge_rate(199, 199, 5).exceeded
    assert judge_rate(30, 199, 5, min_sample=100).exceeded


def test_three_percent_of_a_large_list_stays_under_five():
    for processed in (200, 500, 1000, 2000):
        assert not judge_rate(processed * 3 // 100, processed, 5).exceeded
    # the least count that passes the limit shrinks towards the limit as the sample grows
    least = {}
    for processed in (200, 2000):
        bad = 0
        while not judge_rate(bad, processed, 5).exceeded:
            bad += 1
        least[processed] = bad / processed
    assert least[200] > least[2000] > 0.05


def test_verdict_of_an_empty_or_odd_sample():
    verdict = judge_rate(0, 0, 5)
    assert (verdict.rate, verdict.exceeded, verdict.enough_sample) == (0.0, False, False)
    assert judge_rate(10, 5, 5, min_sample=0).bad == 5, "no more failures than e-mails"
    assert not judge_rate(0, 1000, 0).exceeded, "a zero limit needs at least one failure"
    assert judge_rate(10, 1000, 0).exceeded
