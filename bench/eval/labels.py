"""The labels of a life, computed from its ground-truth log by the product's rules as the issues
state them. Written here, from those words, with no import from ``daemon``: the evaluation must be
able to disagree with the product.

- A conversation is a run of contact with no more than 72 hours of quiet inside; its starter is
  whoever wrote first (meetings of a recurring series are started by nobody).
- ``unanswered_by_them`` / ``unanswered_by_you``: after the last two-way contact, three or more of
  one side's messages in the last 12 months got no answer (a run that reaches the present).
- ``you_initiate`` / ``they_initiate``: of the last 12 months' conversations, answered or not, at
  least six, one side started 85 % or more.
- At most one pattern: an unanswered run wins over who starts.
- ``lapsed``: both sides silent, counted from the last message or meeting in either direction, for
  over three times the tie's own rhythm: "far beyond" it, as the issue says, and the multiple
  DESIGN.md names. The rhythm is the median gap between the tie's two-way contacts in its log (the
  rhythm the tie was made with while the log has fewer than two gaps). Never beside an unanswered
  run; never for a thin history (under three two-way contacts, or a first one under 60 days ago).
"""

from __future__ import annotations

from typing import Protocol

DAY = 86400.0
QUIET = 3 * DAY
RUN = 3
MIN_CONVERSATIONS, SHARE = 6, 0.85
LAPSE_FACTOR = 3.0


class _Moment(Protocol):
    ts: float
    initiator: str
    answered: bool


class _Person(Protocol):
    moments: list
    rhythm_days: float
    relationship: str


def conversation_starters(moments: list[_Moment]) -> list[str]:
    """Who started each conversation ("me", "them", "other"), in time order."""
    starters, last = [], None
    for m in sorted(moments, key=lambda m: m.ts):
        if last is None or m.ts - last > QUIET:
            starters.append(m.initiator)
        last = m.ts
    return starters


def own_rhythm(two_way: list[_Moment]) -> float | None:
    """The tie's own rhythm as its log shows it: the median gap in days between two-way contacts
    (a new one after 72 hours of quiet), once there are at least two gaps; else None."""
    starts, last = [], None
    for m in two_way:
        if last is None or m.ts - last > QUIET:
            starts.append(m.ts)
        last = m.ts
    gaps = sorted((b - a) / DAY for a, b in zip(starts, starts[1:]))
    if len(gaps) < 2:
        return None
    mid = len(gaps) // 2
    return gaps[mid] if len(gaps) % 2 else (gaps[mid - 1] + gaps[mid]) / 2


def labels(p: _Person, now: float) -> set[str]:
    moments = sorted((m for m in p.moments if m.ts <= now), key=lambda m: m.ts)  # the log up to ``now``
    if not moments:
        return set()
    two_way = [m for m in moments if m.answered]
    judgeable = len(two_way) >= 3 and (now - two_way[0].ts) / DAY >= 60
    after = [m for m in moments if not two_way or m.ts > two_way[-1].ts]
    recent_after = [m for m in after if now - m.ts <= 365 * DAY and not m.answered]
    out: set[str] = set()
    mine = sum(m.initiator == "me" for m in recent_after)
    theirs = sum(m.initiator == "them" for m in recent_after)
    if mine >= RUN or theirs >= RUN:
        out.add("unanswered_by_them" if mine >= theirs else "unanswered_by_you")
    else:
        starters = [s for s in conversation_starters([m for m in moments if now - m.ts <= 365 * DAY]) if s != "other"]
        if len(starters) >= MIN_CONVERSATIONS:
            share = starters.count("me") / len(starters)
            if share >= SHARE:
                out.add("you_initiate")
            elif 1 - share >= SHARE:
                out.add("they_initiate")
    silence = (now - moments[-1].ts) / DAY
    rhythm = own_rhythm(two_way) or p.rhythm_days
    unanswered = bool(out & {"unanswered_by_them", "unanswered_by_you"})
    if judgeable and not unanswered and silence > LAPSE_FACTOR * rhythm:
        out.add("lapsed")
    return out
