"""Is a mass mailing's failure rate above a limit, or is it noise? (no ORM)

Three failures among the first 59 e-mails are 5 %, and so would be a list where one
address in a hundred is dead: a sample that small says little. The safety stop judges the
rate by the Wilson score interval of the observed proportion (its 95 % confidence
interval by default): the mailing is over the limit only when the whole interval is above
it (its lower bound is), and only once at least ``min_sample`` e-mails were processed.

The Wilson interval (E. B. Wilson, 1927) stays inside [0, 1] and behaves for small counts
and rates close to 0, where the textbook "rate plus or minus 1.96 standard errors" does not.
"""

import math
from dataclasses import dataclass
from statistics import NormalDist

#: confidence of the interval the safety stop judges
CONFIDENCE = 0.95
#: the least number of e-mails processed before a rate is judged at all
MIN_SAMPLE = 200


@dataclass(frozen=True)
class RateVerdict:
    """The judgement of one mailing's failure rate.

    ``rate``, ``low``, ``high`` and ``limit`` are percentages; ``exceeded`` is true when
    the sample is large enough and the interval's lower bound is above ``limit``.
    """

    bad: int
    processed: int
    rate: float
    low: float
    high: float
    limit: float
    min_sample: int
    confidence: float
    exceeded: bool

    @property
    def enough_sample(self):
        return self.processed >= self.min_sample


def wilson_interval(bad, total, confidence=CONFIDENCE):
    """The Wilson score interval of the proportion ``bad / total``.

    :param bad: the count of events (failures), 0 <= bad <= total
    :param total: the sample size
    :param confidence: the confidence level, strictly between 0 and 1
    :return: ``(low, high)`` as fractions in [0, 1]; ``(0.0, 1.0)`` for an empty sample
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    total = int(total)
    bad = min(max(int(bad), 0), max(total, 0))
    if total <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    z2 = z * z
    phat = bad / total
    denominator = 1 + z2 / total
    centre = (phat + z2 / (2 * total)) / denominator
    margin = z * math.sqrt(phat * (1 - phat) / total + z2 / (4 * total * total)) / denominator
    # exact ends: no failure gives no lower bound (not a rounding error above zero)
    low = 0.0 if bad == 0 else max(0.0, centre - margin)
    high = 1.0 if bad == total else min(1.0, centre + margin)
    return low, high


def judge_rate(bad, processed, limit, min_sample=MIN_SAMPLE, confidence=CONFIDENCE):
    """Judge a failure rate against a limit.

    :param bad: failures that count (those that speak about the list)
    :param processed: e-mails processed so far (sent or failed trying)
    :param limit: the limit, in percent (0 to 100)
    :param min_sample: the least ``processed`` before the rate is judged
    :param confidence: the confidence level of the interval
    :return: a :class:`RateVerdict`
    """
    processed = max(int(processed), 0)
    bad = min(max(int(bad), 0), processed)
    low, high = wilson_interval(bad, processed, confidence)
    min_sample = max(int(min_sample), 1)
    return RateVerdict(
        bad=bad,
        processed=processed,
        rate=100.0 * bad / processed if processed else 0.0,
        low=100.0 * low,
        high=100.0 * high,
        limit=float(limit),
        min_sample=min_sample,
        confidence=confidence,
        exceeded=processed >= min_sample and 100.0 * low > float(limit),
    )
