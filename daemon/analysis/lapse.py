"""Lapsed ties: both sides silent far beyond that person's own rhythm.

Silence counts from the last message or meeting in either direction. A run of unanswered messages
that reaches the present is no lapse but an unanswered pattern (``reciprocity``); the report keeps
the two apart. Thin histories (fewer than 3 two-way conversations, or a tie younger than 60 days)
are never flagged. The threshold is at least twice the person's mean gap
and at least the ideal gap of their tier, and at most three times their typical (median) gap
(sooner when the rhythm is so regular that the silence is already improbable).

``assess`` judges everyone at once; ``assess_reference`` is the same for one person, written for
reading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import tzinfo

import numpy as np

from daemon.analysis import localtime, rhythm
from daemon.analysis.history import Histories, History
from daemon.analysis.rhythm import DAY, TIERS, human_days

MIN_CONVERSATIONS = 3
MIN_AGE_DAYS = 60
TAIL = 0.02


# How a tie stands: too little history to judge, too young to judge, within its limit, lapsed.
THIN, YOUNG, WITHIN, LAPSED = range(4)


@dataclass(kw_only=True)
class Assessment:
    """Everyone's lapse check: one entry per person."""

    state: np.ndarray  # THIN, YOUNG, WITHIN, LAPSED
    silence: np.ndarray  # days since the last contact, either way
    limit: np.ndarray  # days of silence this tie allows

    @property
    def severity(self) -> np.ndarray:
        """The silence as a multiple of its limit."""
        return self.silence / self.limit


def assess(h: Histories, median: np.ndarray, sigma: np.ndarray, tiers: list[str], now: float,
           relationships: list[str] | None = None) -> Assessment:
    """The lapse check of everyone at once, from their histories and rhythms (median days, sigma).
    Family ties allow a longer silence (``rhythm.SLOWER``)."""
    limit = rhythm.limits(median, sigma, np.array([TIERS[t][0] for t in tiers], dtype=np.float64), TAIL)
    if relationships and any(r in rhythm.SLOWER for r in relationships):
        limit = limit * np.array([rhythm.SLOWER.get(r, 1.0) for r in relationships])
    with np.errstate(invalid="ignore"):  # NaN: no two-way conversation, which is a thin history
        age = (now - h.first_two_way) / DAY
        silence = (now - h.last_contact) / DAY
        state = np.where(h.two_way < MIN_CONVERSATIONS, THIN,
                         np.where(age < MIN_AGE_DAYS, YOUNG, np.where(silence <= limit, WITHIN, LAPSED)))
    return Assessment(state=state, silence=silence, limit=limit)


def assess_reference(h: History, median_days: float, sigma: float, tier: str, now: float,
                     relationship: str = "") -> tuple[int, float, float]:
    """One person's lapse check: their state, days of silence and the days of silence allowed."""
    ideal = TIERS[tier][0]
    mean_days = median_days * math.exp(sigma**2 / 2)
    quantile = median_days * math.exp(sigma * rhythm._probit(1 - TAIL))  # longer than all but TAIL of the gaps
    limit = max(ideal, 2 * mean_days, min(quantile, 3 * median_days)) * rhythm.SLOWER.get(relationship, 1.0)
    silence = (now - h.last_contact) / DAY if h.last_contact is not None else math.nan
    if h.two_way < MIN_CONVERSATIONS:
        return THIN, silence, limit
    assert h.first_two_way is not None, "a history with two-way conversations has a first one"
    if (now - h.first_two_way) / DAY < MIN_AGE_DAYS:
        return YOUNG, silence, limit
    return (WITHIN if silence <= limit else LAPSED), silence, limit


def reason(state: int, h: History, median_days: float, limit: float, now: float, zone: tzinfo,
           initiation: str = "") -> str:
    """The lapse check in plain words, flagged or not (for the flag and `explain`). ``initiation``:
    who always started ("you" or "they"), when that pattern stands beside the lapse."""
    if state == THIN:
        return f"thin history: {h.two_way} two-way conversation(s), at least {MIN_CONVERSATIONS} needed"
    assert h.first_two_way is not None and h.last_contact is not None, "past THIN there are two-way conversations"
    if state == YOUNG:
        age = (now - h.first_two_way) / DAY
        return f"young tie: first two-way contact {human_days(age)} ago, at least {MIN_AGE_DAYS} days needed"
    silence = (now - h.last_contact) / DAY
    if state == WITHIN:
        return f"last contact {human_days(silence)} ago, within this tie's limit of {human_days(limit)}"
    when = localtime.clock(zone).date_text(h.last_contact)
    quiet = f"Quiet on both sides for {human_days(silence)}, since {when}; you usually talk every {human_days(median_days)}"
    if initiation:
        who = "You" if initiation == "you" else "They"
        k, total = (h.recent_mine, h.recent_mine + h.recent_theirs) if initiation == "you" else (
            h.recent_theirs, h.recent_mine + h.recent_theirs)
        return f"{who} started {k} of your {total} conversations in the last 12 months, and now it has gone quiet: {quiet[0].lower()}{quiet[1:]}."
    parts = [quiet + "."]
    if h.last_two_way is not None and h.last_two_way < h.last_contact - DAY:
        parts.append(f"Last two-way contact {localtime.clock(zone).date_text(h.last_two_way)}.")
    parts.append(initiation_summary(h.lately_mine, h.lately))
    if h.since_mine:
        parts.append(f"Since then you wrote {_times(h.since_mine)} without an answer.")
    if h.since_theirs:
        parts.append(f"Since then they wrote {_times(h.since_theirs)} and you did not answer.")
    return " ".join(p for p in parts if p)


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
