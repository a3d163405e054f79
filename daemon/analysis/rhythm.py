"""Each person's own rhythm: the typical gap between two-way conversations.

Gaps are modelled as log-normal. While a history is short the estimate is shrunk toward a prior for
the relationship, so two quick emails do not set a rhythm of "every three days".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

DAY = 86400.0

# Tiers of tie: (ideal days between contacts, maximum days before it is overdue).
TIERS: dict[str, tuple[float, float]] = {
    "inner": (7, 21), "close": (30, 60), "friends": (90, 180), "wider": (365, 730),
    "key": (45, 120), "network": (120, 365),
    # a tie whose relationship is unknown is named for its rhythm alone, with the personal tiers' limits
    "weekly": (7, 21), "monthly": (30, 60), "occasional": (90, 180), "rare": (365, 730),
}
PRIOR_DAYS = {"personal": 30.0, "family": 30.0, "professional": 60.0, "unknown": 60.0}
SLOWER = {"family": 1.5}  # family ties decay slower: their limits stretch by this
PRIOR_SIGMA = 0.8
PRIOR_STRENGTH = 1.0  # the prior counts as this many observed gaps


@dataclass(frozen=True)
class Rhythm:
    """Gaps between two-way conversations, modelled as log-normal: their median and log sigma."""

    median_days: float
    sigma: float
    gaps: int


@lru_cache(maxsize=64)
def _probit(p: float) -> float:
    # Acklam's rational approximation is overkill here: bisection on erfc is exact enough and short.
    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(-mid / math.sqrt(2)) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def fit(starts: list[float], relationship: str, cadence_days: float | None = None) -> Rhythm:
    """The rhythm from two-way conversation start times (epoch seconds, sorted)."""
    if cadence_days:
        return Rhythm(cadence_days, PRIOR_SIGMA / 2, 0)
    logs = [math.log(max((b - a) / DAY, 1.0)) for a, b in zip(starts, starts[1:])]
    n = len(logs)
    mean = sum(logs) / n if n else 0.0
    return from_gaps(n, mean, sum((x - mean) ** 2 for x in logs) / n if n else 0.0, relationship)


def from_gaps(n: int, mean: float, var: float, relationship: str) -> Rhythm:
    """The rhythm from the ``n`` gaps' log-days: their mean and (population) variance."""
    median, sigma = rhythms(np.array([n]), np.array([mean], dtype=np.float64), np.array([var], dtype=np.float64),
                            [relationship])
    return Rhythm(median.item(), sigma.item(), n)


def rhythms(n: np.ndarray, mean: np.ndarray, var: np.ndarray, relationship: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``from_gaps`` for everyone at once: each person's median days and sigma."""
    prior_mu = np.array([_PRIOR_MU.get(r, _OTHER_MU) for r in relationship], dtype=np.float64)
    mu = (PRIOR_STRENGTH * prior_mu + n * mean) / (PRIOR_STRENGTH + n)
    sigma2 = (PRIOR_STRENGTH * PRIOR_SIGMA**2 + n * var) / (PRIOR_STRENGTH + n)
    none = n == 0
    median = _exp(np.where(none, prior_mu, mu))
    return median, np.where(none, PRIOR_SIGMA, np.maximum(np.sqrt(sigma2), 0.25))


_PRIOR_MU = {r: math.log(days) for r, days in PRIOR_DAYS.items()}
_OTHER_MU = math.log(60.0)


def _exp(values: np.ndarray) -> np.ndarray:
    """``math.exp`` of each value, so that rhythms and limits are the same to the last bit on every
    machine (numpy's own exp may differ in the last place from one build to another)."""
    return np.array([math.exp(v) for v in values.tolist()], dtype=np.float64)


def limits(median: np.ndarray, sigma: np.ndarray, ideal: np.ndarray, tail: float) -> np.ndarray:
    """For each person, the silence past which their tie counts as lapsed: at least twice their
    mean gap and the ideal gap of their tier (``ideal``), and at most three times their
    median gap, or sooner, the gap longer than all but ``tail`` of theirs."""
    mean_days = median * np.array([math.exp(s**2 / 2) for s in sigma.tolist()], dtype=np.float64)
    quantile = median * _exp(sigma * _probit(1 - tail))
    return np.maximum(np.maximum(ideal, 2 * mean_days), np.minimum(quantile, 3 * median))


def tier_for(relationship: str, median_days: float) -> str:
    """The tier a relationship and its rhythm suggest."""
    if relationship == "professional":
        return "key" if median_days <= 60 else "network"
    names = ("inner", "close", "friends", "wider") if relationship in ("personal", "family") else (
        "weekly", "monthly", "occasional", "rare")
    if median_days <= 10:
        return names[0]
    if median_days <= 40:
        return names[1]
    if median_days <= 120:
        return names[2]
    return names[3]


def human_days(days: float) -> str:
    """ "3 days", "2 weeks", "4 months", "a year" """
    if days < 1.5:
        return "a day"
    if days < 13:
        return f"{round(days)} days"
    if days < 60:
        w = round(days / 7)
        return f"{w} weeks" if w != 1 else "a week"
    if days < 330:
        m = round(days / 30.4)
        return f"{m} months" if m != 1 else "a month"
    y = round(days / 365, 1)
    return "a year" if y == 1 else f"{y:g} years"
