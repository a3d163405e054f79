"""From interactions to the report: contacts, their kind and rhythm, and the flags with their why."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from daemon.analysis import conversations as conv_mod
from daemon.analysis import kind as kind_mod
from daemon.analysis import lapse, localtime, reciprocity, rhythm
from daemon.analysis.contacts import PersonGroup, group_people
from daemon.config import Person as PersonOverride
from daemon.identity import Me, merge_key
from daemon.models import Interaction


@dataclass(frozen=True)
class Flag:
    kind: str  # "lapsed" | "one_sided"
    why: str
    pattern: str | None = None
    severity: float = 0.0


@dataclass(frozen=True)
class Contact:
    id: str
    name: str
    emails: tuple[str, ...]
    relationship: str
    confidence: float
    tier: str
    interactions: int
    conversations: int
    two_way_conversations: int
    days_with_contact: int
    first_interaction: float | None
    last_interaction: float | None
    last_two_way: float | None
    expected_gap_days: float
    flags: tuple[Flag, ...]
    signals: tuple[str, ...] = ()
    lapse_reason: str = ""
    reciprocity_reason: str = ""
    why_contact: str = ""
    recent_initiation: str = ""  # who started the last few two-way conversations, e.g. "You started the last 4."


@dataclass(frozen=True)
class NotContact:
    id: str
    name: str
    emails: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Report:
    as_of: datetime
    contacts: tuple[Contact, ...]
    not_contacts: tuple[NotContact, ...] = ()
    monthly: tuple[tuple[str, int], ...] = ()  # (YYYY-MM, interactions) for the last 12 months
    baseline_share: float = 0.5
    interactions: int = 0
    flags: Counter = field(default_factory=Counter)

    def flagged(self) -> list[Contact]:
        return [c for c in self.contacts if c.flags]


def _not_a_contact_reason(convs: list[conv_mod.Conversation]) -> str:
    if not convs:
        return "only crowd contact (large meetings or threads)"
    if all(c.initiator == "them" and not c.two_way for c in convs):
        return "they wrote, you never answered (a cold or one-way sender)"
    if all(c.initiator == "me" and not c.two_way for c in convs):
        return "you wrote, they never answered"
    return "no direct two-way exchange or small meeting (only Cc or large threads)"


def analyse(interactions: Iterable[Interaction], me: Me, zone: tzinfo, now: datetime,
            people: tuple[PersonOverride, ...] = (), source_context: dict[str, str | None] | None = None,
            window_days: int = 730, snoozed: dict[str, float] | None = None) -> Report:
    """The whole judgement. Pure: the same interactions and ``now`` give the same report.

    ``snoozed``: merge key of an address -> until when its person's flags are held back."""
    now_ts = now.timestamp()
    start = now_ts - window_days * rhythm.DAY
    items = [i for i in interactions if start <= i.ts <= now_ts and i.address not in me]
    contexts = source_context or {}
    groups = group_people(items, people)
    workplaces = kind_mod.work_domains(me, {i.address for i in items})
    # First pass: who is a real contact. Realness does not depend on the relationship (which only
    # sets how late a reply may join its conversation), so the wider reply window is used here.
    wide = {g.id: conv_mod.conversations(g.interactions, 14.0) for g in groups}
    real_groups, not_contacts = [], []
    for g in groups:
        if any(c.direct and c.two_way for c in wide[g.id]) or (g.override is not None and bool(wide[g.id])):
            real_groups.append(g)
        else:
            not_contacts.append(NotContact(g.id, g.name, tuple(g.addresses), _not_a_contact_reason(wide[g.id])))
    # The user's own habits, from real contacts only (cold pitches and crowds would skew them).
    off_hours = {g.id: kind_mod.off_hours_share(g.interactions, zone) for g in real_groups}
    hours = kind_mod.HoursModel.fit(list(off_hours.values()))
    clusters = kind_mod.shared_company_domains([g.addresses for g in real_groups])
    staged = []
    for g in real_groups:
        override = g.override.relationship if g.override else None
        k = kind_mod.classify(g.interactions, g.addresses, me, zone, contexts, override, workplaces, hours, clusters,
                              off_hours[g.id])
        convs = wide[g.id] if k.relationship == "professional" else conv_mod.conversations(g.interactions, 7.0)
        staged.append((g, k, convs))
    shares = {}
    for g, _, convs in staged:
        shares[g.id] = reciprocity.initiation_share(
            [c for c in convs if now_ts - c.start <= reciprocity.WINDOW_DAYS * rhythm.DAY])
    mine, theirs = sum(m for m, _ in shares.values()), sum(t for _, t in shares.values())
    baseline = (mine + 2) / (mine + theirs + 4)

    def others_baseline(gid: str) -> float:
        """The user's habit with everyone else (leave-one-out), so one tie is not judged by itself."""
        m, t = shares[gid]
        return (mine - m + 2) / (mine - m + theirs - t + 4)

    contacts = tuple(_snooze(_contact(g, k, convs, now_ts, zone, others_baseline(g.id)), snoozed or {}, now_ts, zone)
                     for g, k, convs in staged)
    flags = Counter(f.pattern or f.kind for c in contacts for f in c.flags)
    return Report(now, contacts, tuple(not_contacts), _monthly(items, now, zone), round(baseline, 3), len(items), flags)


def _contact(g: PersonGroup, k: kind_mod.Kind, convs: list[conv_mod.Conversation], now_ts: float, zone: tzinfo,
             baseline: float) -> Contact:
    two_way = [c for c in convs if c.two_way]
    relationship = k.relationship
    cadence = g.override.cadence_days if g.override else None
    r = rhythm.fit([c.start for c in two_way], relationship, cadence)
    tier = rhythm.tier_for(relationship, r.median_days)
    judgement = lapse.judge(convs, r, tier, now_ts, zone)
    flags = []
    if judgement.flagged:
        flags.append(Flag("lapsed", judgement.reason, None, round(judgement.severity, 2)))
    for p in reciprocity.patterns(convs, now_ts, baseline, real_contact=True):
        why = p.why
        if two_way:
            last = datetime.fromtimestamp(two_way[-1].end, zone).strftime("%-d %b %Y")
            why += f" Last two-way contact: {last}."
        flags.append(Flag("one_sided", why, p.pattern, round(p.severity, 2)))
    days = set(localtime.clock(zone).days(i.ts for i in g.interactions))
    return Contact(
        id=g.id, name=g.name, emails=tuple(g.addresses), relationship=relationship, confidence=k.confidence,
        tier=tier, interactions=len(g.interactions), conversations=len(convs), two_way_conversations=len(two_way),
        days_with_contact=len(days), first_interaction=g.interactions[0].ts if g.interactions else None,
        last_interaction=g.interactions[-1].ts if g.interactions else None,
        last_two_way=two_way[-1].end if two_way else None, expected_gap_days=round(r.median_days, 1),
        flags=tuple(flags), signals=k.signals, lapse_reason=judgement.reason,
        reciprocity_reason=reciprocity.describe(convs, now_ts, baseline),
        recent_initiation=lapse.initiation_summary(two_way),
        why_contact="set in the config" if g.override and not any(c.direct and c.two_way for c in convs)
        else "a direct two-way exchange or a small meeting",
    )


def _snooze(c: Contact, snoozed: dict[str, float], now_ts: float, zone: tzinfo) -> Contact:
    until = max((snoozed.get(merge_key(e), 0.0) for e in c.emails), default=0.0)
    if not c.flags or until <= now_ts:
        return c
    when = datetime.fromtimestamp(until, zone).strftime("%-d %b %Y")
    return replace(c, flags=(), lapse_reason=f"snoozed until {when}; {c.lapse_reason}")


def _monthly(items: list[Interaction], now: datetime, zone: tzinfo) -> tuple[tuple[str, int], ...]:
    local = localtime.clock(zone)
    counts: Counter = Counter()
    for day, n in Counter(local.days(i.ts for i in items)).items():
        counts[local.month_of_day(day)] += n
    months = []
    cursor = now.astimezone(zone).replace(day=15)
    for _ in range(12):
        months.append(cursor.strftime("%Y-%m"))
        cursor = (cursor.replace(day=1) - timedelta(days=1)).replace(day=15)
    return tuple((m, counts.get(m, 0)) for m in reversed(months))


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat() if ts is not None else None


def to_json(report: Report) -> dict[str, Any]:
    """The machine-readable report (the public shape of `tiekeeper report --format json`)."""
    contacts = []
    for c in sorted(report.contacts, key=lambda c: (-max((f.severity for f in c.flags), default=0), c.name.casefold())):
        flags = []
        for f in c.flags:
            d: dict[str, Any] = {"kind": f.kind, "why": f.why}
            if f.pattern:
                d["pattern"] = f.pattern
            flags.append(d)
        contacts.append({
            "id": c.id, "name": c.name, "emails": list(c.emails), "relationship": c.relationship,
            "relationship_confidence": c.confidence, "tier": c.tier, "interactions": c.interactions,
            "conversations": c.conversations, "two_way_conversations": c.two_way_conversations,
            "days_with_contact": c.days_with_contact, "first_interaction": _iso(c.first_interaction),
            "last_interaction": _iso(c.last_interaction), "last_two_way_contact": _iso(c.last_two_way),
            "expected_gap_days": c.expected_gap_days, "flags": flags,
        })
    return {
        "as_of": report.as_of.astimezone(timezone.utc).isoformat(),
        "contacts": contacts,
        "summary": {"contacts": len(report.contacts), "flagged": len(report.flagged()),
                    "interactions": report.interactions, "flags": dict(report.flags),
                    "you_start_share": report.baseline_share},
    }


