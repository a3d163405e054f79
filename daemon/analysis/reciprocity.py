"""One-sided patterns over the last 12 months.

- you_initiate / they_initiate: one side starts nearly every conversation, answered or not. A flag
  needs an observed share of 85 %+ (DESIGN.md), 15 points above the user's own habit with everyone
  else, and, under a Beta(2, 2) prior, at least 90 % probability that the true share is over 60 %:
  the prior gives the confidence; it does not shrink the share that is judged.
- unanswered_by_them: my last conversations with them got no answer (a run of 3 or more).
- unanswered_by_you: a real contact keeps writing and I do not answer (a run of 3 or more).

At most one pattern stands for a person (``one_pattern``): an unanswered run that reaches the present
says what to do, so it wins over who starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from daemon.analysis.history import Histories, History

MIN_CONVERSATIONS = 6
SHARE = 0.85
CONFIDENT_ABOVE = 0.6
CONFIDENCE = 0.9
RUN = 3


@dataclass(frozen=True)
class Pattern:
    pattern: str
    why: str
    severity: float

    @property
    def unanswered(self) -> bool:
        """An unanswered run (either side's), not who starts."""
        return self.pattern in ("unanswered_by_them", "unanswered_by_you")


def beta_tail(a: int, b: int, x: float) -> float:
    """P(p > x) for p ~ Beta(a, b) with whole a, b: equals P(Binomial(a+b-1, x) < a)."""
    n = a + b - 1
    return sum(math.comb(n, k) * x**k * (1 - x) ** (n - k) for k in range(a))


def candidates(h: Histories) -> np.ndarray:
    """Who may show a pattern at all (``patterns`` finds none for anyone else): enough recent
    two-way conversations to judge who starts them, or a run of unanswered ones."""
    return (h.recent_mine + h.recent_theirs >= MIN_CONVERSATIONS) | (h.unanswered_mine >= RUN) | (h.unanswered_theirs >= RUN)


def patterns(history: History, baseline_share: float, real_contact: bool) -> list[Pattern]:
    """The one-sided patterns of one person; ``baseline_share`` is the share of conversations the
    user starts with everyone else."""
    h = history
    found = []
    mine, theirs = h.recent_mine, h.recent_theirs
    total = mine + theirs
    if total >= MIN_CONVERSATIONS:
        for side, k, base in (("you_initiate", mine, baseline_share), ("they_initiate", theirs, 1 - baseline_share)):
            a, b = 2 + k, 2 + total - k
            mean = a / (a + b)
            if k / total >= max(SHARE, base + 0.15) and beta_tail(a, b, CONFIDENT_ABOVE) >= CONFIDENCE:
                who = "You" if side == "you_initiate" else "They"
                found.append(Pattern(side, f"{who} started {k} of your {total} conversations in the last 12 months.", mean))
    if h.unanswered_mine >= RUN:
        found.append(Pattern("unanswered_by_them",
                             f"Your last {h.unanswered_mine} messages or invitations to them got no answer.",
                             float(h.unanswered_mine)))
    if real_contact and h.unanswered_theirs >= RUN:
        found.append(Pattern("unanswered_by_you",
                             f"They wrote to you {h.unanswered_theirs} times in a row and you have not answered.",
                             float(h.unanswered_theirs)))
    return found


def describe(history: History, baseline_share: float) -> str:
    """How the one-sided checks came out, in words, flagged or not (for `tiekeeper explain`)."""
    mine, theirs = history.recent_mine, history.recent_theirs
    total = mine + theirs
    if total < MIN_CONVERSATIONS:
        start = f"{total} conversation(s) in the last 12 months, fewer than the {MIN_CONVERSATIONS} needed to judge who starts them"
    else:
        start = (f"you started {mine} of {total} conversations in the last 12 months ({mine / total:.0%}; "
                 f"with everyone else you start {baseline_share:.0%})")
    return (f"{start}; unanswered in a row: {history.unanswered_mine} of yours, "
            f"{history.unanswered_theirs} of theirs (3 make a pattern)")


def one_pattern(history: History, baseline_share: float) -> Pattern | None:
    """The one pattern to show of a real contact: an unanswered run first (the longer, if both
    sides have one), else who starts."""
    found = patterns(history, baseline_share, real_contact=True)
    unanswered = [p for p in found if p.unanswered]
    if unanswered:
        return max(unanswered, key=lambda p: p.severity)
    return found[0] if found else None
