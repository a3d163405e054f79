"""From interactions to the report: contacts, their relationship and rhythm, and the flags with their why."""

from __future__ import annotations

import gc
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from functools import cached_property, partial
from typing import Any

import numpy as np

from daemon.analysis import lapse, localtime, reciprocity, relationship, rhythm
from daemon.analysis.contacts import PersonGroup, group_people
from daemon.analysis.conversations import Conversations, split
from daemon.analysis.history import Histories, histories
from daemon.analysis.table import ME, THEM, Table, distinct, per_person, spill
from daemon.config import Person as PersonOverride
from daemon.identity import Me, merge_key
from daemon.models import Interaction


@dataclass(frozen=True)
class Flag:
    check: str  # the check that raised it: "lapsed" | "one_sided" (the key "kind" in JSON)
    why: str
    pattern: str | None = None
    severity: float = 0.0


@dataclass(frozen=True)
class Explanation:
    """How a contact's checks came out, in words (for `tiekeeper explain`): made when asked for."""

    signals: tuple[str, ...] = ()  # why personal or professional
    lapse_reason: str = ""
    reciprocity_reason: str = ""


@dataclass(kw_only=True)
class Contact:
    """One real contact and the judgement of them. Not frozen: a frozen dataclass sets each of its
    19 fields through object.__setattr__, which makes it four times as dear as a plain one, and a
    report at a million interactions makes ten thousand (nothing changes a Contact; ``replace``
    makes a new one)."""

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
    why_contact: str = ""
    recent_initiation: str = ""  # who started the last few two-way conversations, e.g. "You started the last 4."
    told: str = ""  # where the user set this tie's relationship or rhythm ("the config", "tiekeeper set"), if they did
    explain: Callable[[], Explanation] = field(default=Explanation, repr=False, compare=False)

    @cached_property
    def explanation(self) -> Explanation:
        return self.explain()

    @property
    def signals(self) -> tuple[str, ...]:
        return self.explanation.signals

    @property
    def lapse_reason(self) -> str:
        return self.explanation.lapse_reason

    @property
    def reciprocity_reason(self) -> str:
        return self.explanation.reciprocity_reason


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


def analyse(interactions: Table | Iterable[Interaction], me: Me, zone: tzinfo, now: datetime,
            people: tuple[PersonOverride, ...] = (), source_context: dict[str, str | None] | None = None,
            window_days: int = 730, snoozed: dict[str, float] | None = None) -> Report:
    """The whole judgement. Pure: the same interactions and ``now`` give the same report.

    ``snoozed``: merge key of an address -> until when its person's flags are held back."""
    with _no_cycle_collection():
        return _analyse(interactions, me, zone, now, people, source_context or {}, window_days, snoozed or {})


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The analysis makes hundreds of thousands of short-lived objects and no reference cycles;
    the cycle collector would only walk them again and again (a tenth of the analysis's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _analyse(interactions: Table | Iterable[Interaction], me: Me, zone: tzinfo, now: datetime,
             people: tuple[PersonOverride, ...], contexts: dict[str, str | None], window_days: int,
             snoozed: dict[str, float]) -> Report:
    table = interactions if isinstance(interactions, Table) else Table.of(interactions)
    now_ts = now.timestamp()
    start = now_ts - window_days * rhythm.DAY
    mine = np.array(me.among(table.addresses), dtype=bool)
    inside = (table.ts >= start) & (table.ts <= now_ts)
    if len(mine):
        inside &= ~mine[table.address]
    if not inside.all():
        table = table.take(inside)
    who = group_people(table, people)
    persons, count = who.persons, len(who.persons)
    workplaces = relationship.work_domains(me, {table.addresses[a] for a in np.flatnonzero(np.bincount(table.address)).tolist()})
    # First pass: who is a real contact. Realness does not depend on the relationship (which only
    # sets how late a reply may join its conversation), so the wider reply window is used here.
    wide, narrow = split(table, who.sorted_rows, who.person_of_sorted_row, (14.0, 7.0))
    wide_counts = _first_pass(wide, count)
    person_of_row = spill(who.person_of_row, count)  # the rows of ignored people in a slot of no one
    invited = _one_off_invitation(table, person_of_row, count)
    real = np.array([(direct and not once) or (g.override is not None and n > 0)
                     for g, (n, direct, _, _), once in zip(persons, wide_counts, invited.tolist())], dtype=bool)
    not_contacts = tuple(NotContact(g.id, g.name, tuple(g.addresses),
                                    ONE_OFF if invited[k] else _not_a_contact_reason(*wide_counts[k]))
                         for k, g in enumerate(persons) if not real[k])
    # The user's own habits, from real contacts only (cold pitches and crowds would skew them).
    local = np.floor(localtime.clock(zone).locals(table.ts)).astype(np.int64)  # each row's whole seconds on the wall clock
    evidence = relationship.evidence(table, local, person_of_row, count, contexts)
    real_ones = np.flatnonzero(real)
    hours = relationship.HoursModel.fit(evidence.off_hours[real_ones].tolist())
    domain = relationship.domain_cues(table.addresses, who.person_of_address, count, real, workplaces)
    accounts = relationship.account_contexts(table, person_of_row, count, real, domain, me, workplaces)
    two_way, rhythm_cue = relationship.rhythm_cue(wide, count)
    ties = relationship.classify(evidence, domain, relationship.account_pull(table, person_of_row, count, accounts),
                                 [g.override.relationship if g.override else None for g in persons], hours,
                                 two_way, rhythm_cue, [g.override.origin if g.override else "" for g in persons])
    professional = real & (np.array(ties.relationship) == "professional")
    others = real & ~professional  # real contacts judged with the 7-day reply window
    chosen = Conversations.concat([wide.take(professional[wide.person]), narrow.take(others[narrow.person])])
    history = histories(chosen, count, now_ts)
    mine_total, theirs_total = int(history.recent_mine[real_ones].sum()), int(history.recent_theirs[real_ones].sum())
    baseline = (mine_total + 2) / (mine_total + theirs_total + 4)
    # The user's habit with everyone else (leave-one-out), so one tie is not judged by itself.
    m, t = history.recent_mine, history.recent_theirs
    others_baseline = ((mine_total - m + 2) / (mine_total - m + theirs_total - t + 4)).tolist()
    median, sigma = rhythm.rhythms(history.gaps, history.gap_mean, history.gap_var, ties.relationship)
    medians = median.tolist()
    for k, g in enumerate(persons):
        if g.override and g.override.cadence_days:  # a rhythm set in the config
            medians[k] = g.override.cadence_days
            sigma[k] = rhythm.PRIOR_SIGMA / 2
    median = np.array(medians, dtype=np.float64)
    tiers = [rhythm.tier_for(r, d) for r, d in zip(ties.relationship, medians)]
    lapses = lapse.assess(history, median, sigma, tiers, now_ts, ties.relationship)
    day = local // 86400  # local dates, as days since 1970-01-01
    judged = _Judged(persons=persons, ties=ties, history=history, lapses=lapses, medians=medians, tiers=tiers,
                     baselines=others_baseline, now=now_ts, zone=zone)
    spans = _spans(table.ts, day, who.sorted_rows, who.person_of_sorted_row, count)
    contacts = tuple(_snooze(c, snoozed, now_ts, zone) for c in judged.contacts(real_ones.tolist(), spans))
    flags = Counter(f.pattern or f.check for c in contacts for f in c.flags)
    return Report(now, contacts, not_contacts, _monthly(day, now, zone), round(baseline, 3), len(table), flags)


ONE_OFF = "a one-off invitation of theirs (a webinar, a demo), with nobody else visible and nothing after it"


def _one_off_invitation(table: Table, person_of_row: np.ndarray, count: int) -> np.ndarray:
    """Who is known only from one meeting they organised, where nobody but the two of us is visible,
    and no mail: attendance, not a relationship (webinars, vendor demos, broadcast invitations)."""
    if not table.meeting.any():
        return np.zeros(count, dtype=bool)
    meetings = np.flatnonzero(table.meeting)
    mine_or_crowded = (table.initiator[meetings] != THEM) | (table.fanout[meetings] > 1)
    rows = np.bincount(person_of_row, minlength=count + 1)[:count]
    met = np.bincount(person_of_row[meetings], minlength=count + 1)[:count]
    other = np.bincount(person_of_row[meetings[mine_or_crowded]], minlength=count + 1)[:count]
    return (rows == 1) & (met == 1) & (other == 0)


def _not_a_contact_reason(count: int, _direct: bool, unanswered_theirs: int, unanswered_mine: int) -> str:
    """Why someone with ``count`` conversations is no contact."""
    if not count:
        return "only crowd contact (large meetings or threads)"
    if unanswered_theirs == count:
        return "they wrote, you never answered (a cold or one-way sender)"
    if unanswered_mine == count:
        return "you wrote, they never answered"
    return "no direct two-way exchange or small meeting (only Cc or large threads)"


def _first_pass(convs: Conversations, count: int) -> list[tuple[int, bool, int, int]]:
    """Per person: (conversations, whether one was direct and two-way, one-way ones they started,
    one-way ones I started)."""
    two_way, one_way = convs.two_way, ~convs.two_way
    return list(zip(per_person(convs.person, count).tolist(),
                    (per_person(convs.person, count, two_way & convs.direct) > 0).tolist(),
                    per_person(convs.person, count, one_way & (convs.initiator == THEM)).tolist(),
                    per_person(convs.person, count, one_way & (convs.initiator == ME)).tolist()))


def _spans(ts: np.ndarray, day: np.ndarray, rows: np.ndarray, person: np.ndarray, count: int) -> tuple[list, list, list, list]:
    """How much and when, for each person: interactions, the first and last (None: none), and days
    with contact. ``ts``, ``day``: each row's time and local date; ``rows``: the rows by person,
    then time; ``person``: whose each of them is."""
    n = per_person(person, count)
    first, last = np.full(count, np.nan), np.full(count, np.nan)
    if len(person):
        heads = np.flatnonzero(np.r_[True, person[1:] != person[:-1]])
        first[person[heads]] = ts[rows[heads]]
        last[person[heads]] = ts[rows[np.r_[heads[1:] - 1, len(person) - 1]]]
    return (n.tolist(), [None if math.isnan(f) else f for f in first.tolist()], [None if math.isnan(t) else t for t in last.tolist()],
            days_with_contact(day[rows], person, count).tolist())


def days_with_contact(day: np.ndarray, person: np.ndarray, count: int) -> np.ndarray:
    """How many distinct dates each person's rows fall on (``person``: whose each row is, the rows
    by person). Rows in time order have their local dates in order too, except where a clock goes
    back across midnight: only then are the dates sorted. ``days_with_contact_reference`` is the
    same, written for reading."""
    if not len(person):
        return np.zeros(count, dtype=np.int64)
    same = person[1:] == person[:-1]
    if (day[1:] >= day[:-1])[same].all():
        return per_person(person, count, np.r_[True, ~same | (day[1:] != day[:-1])])
    return per_person(distinct(person.astype(np.int64) << 32 | (day - day.min())) >> 32, count)


def days_with_contact_reference(day: list[int], person: list[int], count: int) -> list[int]:
    """How many distinct dates each of ``count`` people's rows fall on, one row at a time."""
    dates: list[set[int]] = [set() for _ in range(count)]
    for d, p in zip(day, person):
        dates[p].add(d)
    return [len(d) for d in dates]


@dataclass(kw_only=True)
class _Judged:
    """Everyone's judgements, as columns; ``contacts`` makes the Contacts of the real ones."""

    persons: list[PersonGroup]
    ties: relationship.Relationships
    history: Histories
    lapses: lapse.Assessment
    medians: list[float]
    tiers: list[str]
    baselines: list[float]  # the user's share of starts with everyone else, for each person
    now: float
    zone: tzinfo

    def contacts(self, real: list[int], spans: tuple[list, list, list, list]) -> Iterator[Contact]:
        h, ties, persons, medians, tiers = self.history, self.ties, self.persons, self.medians, self.tiers
        state, severity, limit = self.lapses.state.tolist(), self.lapses.severity.tolist(), self.lapses.limit.tolist()
        maybe_one_sided = reciprocity.candidates(h).tolist()
        conversations, two_way, direct = h.conversations.tolist(), h.two_way.tolist(), h.direct_two_way.tolist()
        last_two_way = [None if math.isnan(v) else v for v in h.last_two_way.tolist()]
        lately_mine, lately = h.lately_mine.tolist(), h.lately.tolist()
        interactions, first, last, days = spans
        may_be_flagged = [k for k in real if state[k] == lapse.LAPSED or maybe_one_sided[k]]
        history_of = dict(zip(may_be_flagged, h.of(may_be_flagged)))
        date_text = localtime.clock(self.zone).date_text
        initiation: dict[tuple[int, int], str] = {}  # (mine, of how many) -> its summary: few pairs, many people
        for k in real:
            g = persons[k]
            flags = []
            if (history := history_of.get(k)) is not None:
                # One diagnosis: at most one pattern, an unanswered run first; never a lapse beside an
                # unanswered run (the silence is one side's); a lapse beside who starts says both.
                p = reciprocity.one_pattern(history, self.baselines[k]) if maybe_one_sided[k] else None
                if state[k] == lapse.LAPSED and not (p and p.unanswered):
                    starter = "" if p is None else "you" if p.pattern == "you_initiate" else "they"
                    why = lapse.reason(lapse.LAPSED, history, medians[k], limit[k], self.now, self.zone, starter)
                    flags.append(Flag("lapsed", why, None, round(severity[k], 2)))
                if p is not None:
                    why = p.why
                    if two_way[k] and (when := last_two_way[k]) is not None:
                        why += f" Last two-way contact: {date_text(when)}."
                    flags.append(Flag("one_sided", why, p.pattern, round(p.severity, 2)))
            summary = initiation.get(pair := (lately_mine[k], lately[k]))
            if summary is None:
                summary = initiation[pair] = lapse.initiation_summary(*pair)
            override = g.override
            yield Contact(
                id=g.id, name=g.name, emails=tuple(g.addresses), relationship=ties.relationship[k],
                confidence=ties.confidence[k], tier=tiers[k], interactions=interactions[k],
                conversations=conversations[k], two_way_conversations=two_way[k], days_with_contact=days[k],
                first_interaction=first[k], last_interaction=last[k], last_two_way=last_two_way[k],
                expected_gap_days=round(medians[k], 1), flags=tuple(flags),
                why_contact=(f"set by you ({override.origin})" if override and not direct[k]
                             else "a direct two-way exchange or a small meeting"),
                recent_initiation=summary,
                told=override.origin if override and (override.relationship or override.cadence_days) else "",
                explain=partial(_Judged.explanation, self, k))

    def explanation(self, k: int) -> Explanation:
        h, state, limit = self.history[k], int(self.lapses.state[k]), float(self.lapses.limit[k])
        why = lapse.reason(state, h, self.medians[k], limit, self.now, self.zone)
        p = reciprocity.one_pattern(h, self.baselines[k])
        if state == lapse.LAPSED and p and p.unanswered:
            why = f"not a lapse: the silence is an unanswered run ({p.pattern.replace('_', ' ')}). {why}"
        return Explanation(self.ties.signals(k), why, reciprocity.describe(h, self.baselines[k]))


def _snooze(c: Contact, snoozed: dict[str, float], now_ts: float, zone: tzinfo) -> Contact:
    if not c.flags or not snoozed:
        return c
    until = max((snoozed.get(merge_key(e), 0.0) for e in c.emails), default=0.0)
    if until <= now_ts:
        return c
    return replace(c, flags=(), explain=partial(_snoozed, c.explain, localtime.clock(zone).date_text(until)))


def _snoozed(explain: Callable[[], Explanation], until: str) -> Explanation:
    told = explain()
    return replace(told, lapse_reason=f"snoozed until {until}; {told.lapse_reason}")


def _monthly(days: np.ndarray, now: datetime, zone: tzinfo) -> tuple[tuple[str, int], ...]:
    local = localtime.clock(zone)
    counts: Counter = Counter()
    first = int(days.min(initial=0))
    for day in np.flatnonzero(per_day := np.bincount(days - first)).tolist():
        counts[local.month_of_day(first + day)] += int(per_day[day])
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
            d: dict[str, Any] = {"kind": f.check, "why": f.why}
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


