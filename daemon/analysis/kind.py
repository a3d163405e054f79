"""Personal or professional, with a confidence.

Signals, each small: which of my accounts or calendars the contact went through, a shared company
domain, their domain being a company's or a free-mail one (weak: friends use company mail too), the
share of contact in evenings and weekends, what our meetings were called (dinner vs review), and
recurring meetings. A ``[[people]]`` override wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from daemon.analysis.table import SOCIAL, WORK, Table, per_person
from daemon.identity import FREEMAIL, Me, domain_of

UNKNOWN_BELOW = 0.8  # |score| under this: "unknown"


@dataclass(frozen=True)
class Kind:
    relationship: str  # personal | professional | unknown
    confidence: float
    signals: tuple[str, ...]


def work_domains(me: Me, counterpart_addresses: set[str]) -> frozenset[str]:
    """Which of my domains are a workplace: company domains that other people write from too
    (colleagues). A personal vanity domain nobody else uses is not one."""
    theirs = {domain_of(a) for a in counterpart_addresses}
    return frozenset(d for d in me.work_domains if d in theirs)


def shared_company_domains(groups_addresses: list[list[str]], minimum: int = 3) -> frozenset[str]:
    """Company domains (not free-mail) that at least ``minimum`` different contacts write from:
    almost always a workplace or a client, rarely a family."""
    count: dict[str, int] = {}
    for addresses in groups_addresses:
        for d in {domain_of(a) for a in addresses} - FREEMAIL:
            count[d] = count.get(d, 0) + 1
    return frozenset(d for d, n in count.items() if n >= minimum)


@dataclass(frozen=True)
class HoursModel:
    """The user's own split of contacts into evening-and-weekend ones and daytime ones: 1-D
    two-means over every real contact's share of off-hours contact."""

    midpoint: float = 0.4
    half_spread: float = 0.5  # half the distance between the two clusters; wide = weak cue

    @staticmethod
    def fit(shares: list[float]) -> HoursModel:
        if len(shares) < 4:
            return HoursModel()
        ordered = np.sort(np.asarray(shares, dtype=np.float64))
        below = np.r_[0.0, np.cumsum(ordered)]  # below[k]: the sum of the k smallest
        n, total = len(ordered), float(below[-1])
        lo, hi = float(ordered[0]), float(ordered[-1])
        for _ in range(50):
            k = int(np.searchsorted(ordered, (lo + hi) / 2, side="right"))  # how many are <= the midpoint
            new_lo = float(below[k]) / k if k else lo
            new_hi = (total - float(below[k])) / (n - k) if k < n else hi
            if (new_lo, new_hi) == (lo, hi):
                break
            lo, hi = new_lo, new_hi
        # clusters closer than 0.3 apart are no real split: keep the cue weak
        return HoursModel((lo + hi) / 2, max((hi - lo) / 2, 0.15) if hi - lo >= 0.3 else 0.5)

    def cue(self, share: float) -> float:
        """+1 at the daytime cluster's centre, -1 at the evening one's (clipped to +-1.5)."""
        return max(-1.5, min(1.5, (self.midpoint - share) / self.half_spread))


@dataclass(slots=True)
class Evidence:
    """What is counted of one person's interactions to tell the kind of tie."""

    interactions: int
    professional_context: int  # how many went through a source marked professional
    personal_context: int  # ... through one marked personal
    accounts: int  # how many went through one of my addresses or calendars, known by name
    work_accounts: int  # ... through one at a workplace
    social_meetings: int
    work_meetings: int
    recurring_meetings: bool  # a recurring meeting that is not a social one
    off_hours: float  # the share in evenings (19-7 h) and at weekends, local time


def evidence(table: Table, local: np.ndarray, person: np.ndarray, count: int, source_context: dict[str, str | None],
             workplaces: frozenset[str]) -> list[Evidence]:
    """The evidence of every person at once. ``local``: each row's time on the local wall clock in
    whole seconds (LocalClock.locals, floored, as int64); ``person``: whose each row is (``spill``: ``count`` for no one's)."""
    def counted(mask: np.ndarray | None = None) -> list[int]:
        return per_person(person, count, mask).tolist()

    contexts = [source_context.get(s) for s in table.sources]
    professional = np.array([c == "professional" for c in contexts], dtype=bool)
    personal = np.array([c == "personal" for c in contexts], dtype=bool)
    known = np.array([bool(a) for a in table.accounts], dtype=bool)
    at_work = np.array([bool(a) and domain_of(a) in workplaces for a in table.accounts], dtype=bool)
    n = per_person(person, count)
    hour = local % 86400 // 3600
    off = (hour >= 19) | (hour < 7) | ((local // 86400 + 3) % 7 >= 5)  # Sat, Sun
    off_share = (per_person(person, count, off) / np.maximum(n, 1)).tolist()
    recurring = counted(table.recurring & table.meeting & (table.hint != SOCIAL))
    columns = zip(n.tolist(), counted(professional[table.source]), counted(personal[table.source]),
                  counted(known[table.account]), counted(at_work[table.account]),
                  counted(table.hint == SOCIAL), counted(table.hint == WORK), recurring, off_share)
    return [Evidence(*c[:7], c[7] > 0, c[8]) for c in columns]


def classify(evidence: Evidence, addresses: list[str], me: Me, override: str | None = None,
             workplaces: frozenset[str] = frozenset(), hours: HoursModel = HoursModel(),
             company_clusters: frozenset[str] = frozenset()) -> Kind:
    """``hours``: how the user's contacts split into evening and daytime ones; a tie is judged
    against the user's own habits, not a fixed clock."""
    if override:
        return Kind(override, 1.0, ("set in the config",))
    if not evidence.interactions:
        return Kind("unknown", 0.0, ())
    score, signals = 0.0, []

    def add(value: float, why: str) -> None:
        nonlocal score
        if abs(value) >= 0.05:
            score += value
            signals.append(f"{why} (toward {'professional' if value > 0 else 'personal'}, {abs(value):.1f})")

    e = evidence
    n = e.interactions
    add(2.5 * (e.professional_context / n - e.personal_context / n), "account kind of the sources it went through")
    has_both = bool(workplaces) and any(domain_of(a) not in workplaces for a in me.addresses)
    if e.accounts and has_both:  # with only one kind of account, the account says nothing
        add(2.0 * (2 * e.work_accounts / e.accounts - 1), "which of my addresses it went through")
    domains = {domain_of(a) for a in addresses}
    if domains & workplaces:
        add(2.0, "same company domain as mine")
    elif domains & company_clusters:
        add(1.0, "a company domain several of your contacts write from")
    elif domains and domains <= FREEMAIL:
        add(-0.4, "free-mail address")
    else:
        add(0.4, "company address")
    off = e.off_hours
    add(1.5 * hours.cue(off), f"{off:.0%} in evenings and weekends (your split: {hours.midpoint:.0%})")
    if e.social_meetings or e.work_meetings:
        add(min(e.work_meetings, 4) * 0.5 - min(e.social_meetings, 4) * 0.6, "what our meetings were called")
    if e.recurring_meetings:
        add(0.8, "recurring meetings")
    confidence = 1 / (1 + math.exp(-abs(score)))
    relationship = "unknown" if abs(score) < UNKNOWN_BELOW else "professional" if score > 0 else "personal"
    return Kind(relationship, round(confidence, 2), tuple(signals))
