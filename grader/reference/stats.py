"""Distributions over seeded runs and the bands derived from them (pure functions).

A band is the runs' mean -/+ ``k`` standard deviations, widened so that it
always holds every run. For a test accuracy the deviation also counts the test
set's sampling error (the binomial standard error of an accuracy measured on
``n_test`` images), so the band of a kind whose runs all agree still has the
width that a different draw of test images would give.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from grader.check.bands import CurveBand, Stats

__all__ = ["accuracy_stats", "curve_band", "quantile", "sampling_sd", "summarise"]


def quantile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values, linearly interpolated between neighbours."""
    if not ordered:
        raise ValueError("no values")
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _std(values: Sequence[float], mean: float) -> float:
    if len(values) < 2:
        return 0.0
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _clip(value: float, lower: float | None, upper: float | None) -> float:
    if lower is not None:
        value = max(lower, value)
    if upper is not None:
        value = min(upper, value)
    return value


def _r(value: float) -> float:
    return round(value, 6)


def summarise(
    values: Sequence[float],
    *,
    k: float,
    extra_sd: float = 0.0,
    lower: float | None = None,
    upper: float | None = None,
) -> Stats:
    """Mean, spread, quantiles and the band ``mean -/+ k * sd`` (never narrower than min..max).

    ``sd`` combines the runs' standard deviation with ``extra_sd`` (another
    source of variation, independent of the seeds); ``lower``/``upper`` clip the
    band to the values the quantity can take.
    """
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return Stats()
    ordered = sorted(vals)
    mean = sum(vals) / len(vals)
    std = _std(vals, mean)
    sd = math.sqrt(std**2 + extra_sd**2)
    low = _clip(min(ordered[0], mean - k * sd), lower, upper)
    high = _clip(max(ordered[-1], mean + k * sd), lower, upper)
    return Stats(
        n=len(vals),
        mean=_r(mean),
        std=_r(std),
        min=_r(ordered[0]),
        max=_r(ordered[-1]),
        q05=_r(quantile(ordered, 0.05)),
        q25=_r(quantile(ordered, 0.25)),
        median=_r(quantile(ordered, 0.5)),
        q75=_r(quantile(ordered, 0.75)),
        q95=_r(quantile(ordered, 0.95)),
        low=_r(low),
        high=_r(high),
        values=[_r(v) for v in vals],
    )


def sampling_sd(accuracy: float, n_test: int | None) -> float:
    """Binomial standard error of an accuracy measured on ``n_test`` images.

    At an accuracy of exactly 0 or 1 the error is taken at half an image from
    the end, so it never vanishes. Without a test size there is no such term.
    """
    if not n_test or n_test <= 0:
        return 0.0
    half = 0.5 / n_test
    p = min(max(accuracy, half), 1.0 - half)
    return math.sqrt(p * (1.0 - p) / n_test)


def accuracy_stats(values: Sequence[float], *, k: float, n_test: int | None) -> Stats:
    """The band of a test accuracy: seeds' spread and the test set's sampling error, in [0, 1]."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return Stats()
    mean = sum(vals) / len(vals)
    return summarise(vals, k=k, extra_sd=sampling_sd(mean, n_test), lower=0.0, upper=1.0)


def curve_band(
    series: Sequence[Sequence[float]],
    *,
    k: float,
    lower: float | None = None,
    upper: float | None = None,
) -> CurveBand | None:
    """Per-epoch band over several runs' curves (cut to the shortest run); None without data."""
    runs = [[float(v) for v in s] for s in series if s]
    if not runs:
        return None
    length = min(len(r) for r in runs)
    lows, highs, means = [], [], []
    for i in range(length):
        column = [r[i] for r in runs if math.isfinite(r[i])]
        if not column:
            return None
        st = summarise(column, k=k, lower=lower, upper=upper)
        if st.low is None or st.high is None or st.mean is None:
            return None
        lows.append(st.low)
        highs.append(st.high)
        means.append(st.mean)
    return CurveBand(low=lows, high=highs, mean=means)
