"""Lapsed ties: silence since the last two-way contact far beyond that person's own rhythm.

One-way attempts do not reset the clock. Thin histories (fewer than 3 two-way conversations, or a
tie younger than 60 days) are never flagged. The threshold is at least twice the person's mean gap
and at least the ideal gap of their kind of tie, and at most three times their typical (median) gap
(sooner when the rhythm is so regular that the silence is already improbable).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from daemon.analysis import localtime
from daemon.analysis.history import History
from daemon.analysis.rhythm import DAY, TIERS, Rhythm, human_days

MIN_CONVERSATIONS = 3
MIN_AGE_DAYS = 60
TAIL = 0.02


@dataclass(frozen=True)
class Judgement:
    flagged: bool
    reason: str  # plain words, also when not flagged (for `explain`)
    silence_days: float = 0.0
    threshold_days: float = 0.0
    severity: float = 0.0  # silence / threshold


def threshold_days(rhythm: Rhythm, tier: str) -> float:
    ideal, _maximum = TIERS[tier]
    return max(ideal, 2 * rhythm.mean_days, min(rhythm.quantile(1 - TAIL), 3 * rhythm.median_days))


def judge(history: History, rhythm: Rhythm, tier: str, now: float, zone: tzinfo) -> Judgement:
    h = history
    if h.two_way < MIN_CONVERSATIONS:
        return Judgement(False, f"thin history: {h.two_way} two-way conversation(s), at least {MIN_CONVERSATIONS} needed")
    age = (now - h.first_two_way) / DAY
    if age < MIN_AGE_DAYS:
        return Judgement(False, f"young tie: first two-way contact {human_days(age)} ago, at least {MIN_AGE_DAYS} days needed")
    silence = (now - h.last_two_way) / DAY
    limit = threshold_days(rhythm, tier)
    if silence <= limit:
        return Judgement(False, f"last two-way contact {human_days(silence)} ago, within this tie's limit of {human_days(limit)}",
                         silence, limit, silence / limit)
    when = localtime.clock(zone).date_text(h.last_two_way)
    parts = [f"Last two-way contact {human_days(silence)} ago ({when}); you usually talk every {human_days(rhythm.median_days)}."]
    parts.append(initiation_summary(h.lately_mine, h.lately))
    if h.since_mine:
        parts.append(f"Since then you wrote {_times(h.since_mine)} without an answer.")
    if h.since_theirs:
        parts.append(f"Since then they wrote {_times(h.since_theirs)} and you did not answer.")
    return Judgement(True, " ".join(p for p in parts if p), silence, limit, silence / limit)


def initiation_summary(mine: int, total: int) -> str:
    """Who started the last few two-way conversations: ``mine`` of the last ``total``."""
    if not total:
        return ""
    if mine == total:
        return f"You started the last {total}." if total > 1 else "You started the last one."
    if mine == 0:
        return f"They started the last {total}." if total > 1 else "They started the last one."
    return f"You started {mine} of the last {total}."


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")
