"""Personal or professional, with a confidence.

Signals, each small: which of my accounts or calendars the contact went through, a shared company
domain, their domain being a company's or a free-mail one (weak: friends use company mail too), the
share of contact in evenings and weekends, what our meetings were called (dinner vs review), and
recurring meetings. A ``[[people]]`` override wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import tzinfo

from daemon.analysis import localtime
from daemon.identity import FREEMAIL, Me, domain_of
from daemon.models import Interaction

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
        lo, hi = min(shares), max(shares)
        for _ in range(50):
            mid = (lo + hi) / 2
            low = [x for x in shares if x <= mid] or [lo]
            high = [x for x in shares if x > mid] or [hi]
            new_lo, new_hi = sum(low) / len(low), sum(high) / len(high)
            if (new_lo, new_hi) == (lo, hi):
                break
            lo, hi = new_lo, new_hi
        # clusters closer than 0.3 apart are no real split: keep the cue weak
        return HoursModel((lo + hi) / 2, max((hi - lo) / 2, 0.15) if hi - lo >= 0.3 else 0.5)

    def cue(self, share: float) -> float:
        """+1 at the daytime cluster's centre, -1 at the evening one's (clipped to +-1.5)."""
        return max(-1.5, min(1.5, (self.midpoint - share) / self.half_spread))


def off_hours_share(items: list[Interaction], zone: tzinfo) -> float:
    """The share of contact in evenings (19-7 h) and at weekends, local time."""
    if not items:
        return 0.0
    local = localtime.clock(zone).local
    off = 0
    for i in items:
        t = local(i.ts)
        hour = t % 86400 // 3600
        off += hour >= 19 or hour < 7 or (int(t // 86400) + 3) % 7 >= 5  # Saturday, Sunday
    return off / len(items)


def classify(items: list[Interaction], addresses: list[str], me: Me, zone: tzinfo,
             source_context: dict[str, str | None], override: str | None = None,
             workplaces: frozenset[str] = frozenset(), hours: HoursModel = HoursModel(),
             company_clusters: frozenset[str] = frozenset(), off_hours: float | None = None) -> Kind:
    """``hours``: how the user's contacts split into evening and daytime ones; a tie is judged
    against the user's own habits, not a fixed clock. ``off_hours``: this tie's off-hours share,
    when the caller has it already."""
    if override:
        return Kind(override, 1.0, ("set in the config",))
    if not items:
        return Kind("unknown", 0.0, ())
    score, signals = 0.0, []

    def add(value: float, why: str) -> None:
        nonlocal score
        if abs(value) >= 0.05:
            score += value
            signals.append(f"{why} (toward {'professional' if value > 0 else 'personal'}, {abs(value):.1f})")

    n = len(items)
    ctx = [source_context.get(i.source) for i in items]
    pro_ctx, per_ctx = ctx.count("professional") / n, ctx.count("personal") / n
    add(2.5 * (pro_ctx - per_ctx), "account kind of the sources it went through")
    accounts = [i.account for i in items if i.account]
    has_both = bool(workplaces) and any(domain_of(a) not in workplaces for a in me.addresses)
    if accounts and has_both:  # with only one kind of account, the account says nothing
        work = sum(1 for a in accounts if domain_of(a) in workplaces) / len(accounts)
        add(2.0 * (2 * work - 1), "which of my addresses it went through")
    domains = {domain_of(a) for a in addresses}
    if domains & workplaces:
        add(2.0, "same company domain as mine")
    elif domains & company_clusters:
        add(1.0, "a company domain several of your contacts write from")
    elif domains and domains <= FREEMAIL:
        add(-0.4, "free-mail address")
    else:
        add(0.4, "company address")
    off = off_hours_share(items, zone) if off_hours is None else off_hours
    add(1.5 * hours.cue(off), f"{off:.0%} in evenings and weekends (your split: {hours.midpoint:.0%})")
    social = sum(1 for i in items if i.hint == "social")
    work_meetings = sum(1 for i in items if i.hint == "work")
    if social or work_meetings:
        add(min(work_meetings, 4) * 0.5 - min(social, 4) * 0.6, "what our meetings were called")
    if any(i.recurring and i.channel == "meeting" and i.hint != "social" for i in items):
        add(0.8, "recurring meetings")
    confidence = 1 / (1 + math.exp(-abs(score)))
    relationship = "unknown" if abs(score) < UNKNOWN_BELOW else "professional" if score > 0 else "personal"
    return Kind(relationship, round(confidence, 2), tuple(signals))
