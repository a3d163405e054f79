"""Calendar objects -> interactions (past meetings) and busy times (for placing follow-ups).

Recurring series are expanded with recurring-ical-events inside a window. A meeting counts when it
happened, was not cancelled, neither I nor the other person declined, and it was small enough to be
a meeting between people (all-day events with many attendees and huge invitations are not).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

import recurring_ical_events
from icalendar import Calendar

from daemon.identity import Me, clean_text, normalize_address
from daemon.inference.filters import MEETING_WEIGHT, RECURRING_FACTOR, fanout_weight, meeting_hint
from daemon.models import Inferred, Interaction, RawRecord, is_followup_uid

MAX_INSTANCES = 5000  # per series and window: bounded work on hostile or absurd rules
CHUNK = timedelta(days=366)
MAX_PER_YEAR = 1500  # denser than ~4 a day is no series of meetings between people
_PER_YEAR = {"SECONDLY": 31_536_000, "MINUTELY": 525_600, "HOURLY": 8760, "DAILY": 365, "WEEKLY": 52,
             "MONTHLY": 12, "YEARLY": 1}
_EXPANDING = ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO")
ALL_DAY_MAX_OTHERS = 3
_GONE = ("DECLINED",)
_NON_PEOPLE = ("ROOM", "RESOURCE", "UNKNOWN")


@dataclass(frozen=True, kw_only=True)
class Occurrence:
    start: float
    end: float
    all_day: bool
    status: str
    transparent: bool
    organizer: str
    attendees: tuple[tuple[str, str, str], ...]  # (address, name, PARTSTAT)
    summary: str
    recurring: bool


def whole_series(records: Iterable[tuple[str, RawRecord]]) -> Iterator[tuple[str, RawRecord]]:
    """Records as calendar objects: a Google series arrives as one record per event (the master
    and each changed or cancelled instance, ``data["series"]``) and is put back together here, so
    an instance's override or cancellation applies to the master's expansion. Other records pass."""
    parts: dict[tuple[str, str], list[RawRecord]] = {}
    for source, record in records:
        series = record.data.get("series")
        if series:
            parts.setdefault((source, series), []).append(record)
        else:
            yield source, record
    for (source, _series), group in parts.items():
        if len(group) == 1:
            yield source, group[0]
            continue
        group.sort(key=lambda r: "RECURRENCE-ID" in r.data["ics"])  # the master first
        bodies = [_vevents(r.data["ics"]) for r in group]
        head, _, _ = group[0].data["ics"].partition("BEGIN:VEVENT")
        ics = head + "".join(bodies) + "END:VCALENDAR\r\n"
        yield source, RawRecord(group[0].ident, group[0].etag, group[0].kind, {**group[0].data, "ics": ics}, group[0].scope)


def _vevents(ics: str) -> str:
    start, end = ics.find("BEGIN:VEVENT"), ics.rfind("END:VEVENT")
    return ics[start:end] + "END:VEVENT\r\n" if start >= 0 and end > start else ""


def _as_ts(value: Any, zone: tzinfo) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone).timestamp()
    raise ValueError(f"not a date: {value!r}")


def _density(cal: Calendar) -> float:
    """Occurrences per year the densest series in this object would produce."""
    worst = 0.0
    for event in cal.walk("VEVENT"):
        for rule in event.get("RRULE") if isinstance(event.get("RRULE"), list) else [event.get("RRULE")]:
            if not rule:
                continue
            freq = str((rule.get("FREQ") or ["DAILY"])[0]).upper()
            interval = max(int((rule.get("INTERVAL") or [1])[0]), 1)
            rate = _PER_YEAR.get(freq, 365) / interval
            for part in _EXPANDING:
                if rule.get(part):
                    rate *= max(len(rule[part]), 1) if part in ("BYSECOND", "BYMINUTE", "BYHOUR") else 1
            worst = max(worst, rate)
    return worst


def occurrences(record: RawRecord, zone: tzinfo, start: datetime, end: datetime) -> tuple[list[Occurrence], str | None]:
    """The occurrences of a calendar object inside [start, end), or the rule that refused it.

    Memoised: parsing and expanding a calendar costs about a millisecond an object, and the service
    analyses every few minutes while calendars rarely change. An object is expanded over a span
    reaching ``AHEAD`` past the window asked for, keyed by its full text (a Google series merged in
    ``whole_series`` keeps its master's etag when an instance changes), and later windows inside
    that span are cut from it. The result is the same as expanding afresh."""
    if is_followup_uid(str(record.data.get("uid", ""))):
        return [], "tiekeeper's own follow-up event"
    text = record.data.get("ics", "")
    hit = _EXPANDED.get(text, zone, start, end)
    if hit is None:
        span_end = max(end, start) + AHEAD
        occs, refused = _expand(record, zone, start, span_end)
        hit = _EXPANDED.put(text, zone, start, span_end, occs, refused)
    occs, refused = hit
    s_ts, e_ts = start.timestamp(), end.timestamp()
    return [o for o in occs if _in_window(o, s_ts, e_ts)], refused


def _in_window(occ: Occurrence, start: float, end: float) -> bool:
    """What between(start, end) keeps: an instance that overlaps the window, or starts at its start."""
    return occ.start < end and (occ.end > start or occ.start >= start)


AHEAD = timedelta(days=120)  # later analyses (and the follow-ups' busy window) fall inside the span


class _ExpansionCache:
    """Expanded calendar objects, least recently used evicted first, bounded by the instances held."""

    def __init__(self, max_instances: int = 100_000) -> None:  # about 30 MB at most
        self.max = max_instances
        self.held = 0
        self.entries: OrderedDict[tuple[str, str], tuple[datetime, datetime, list[Occurrence], str | None]] = OrderedDict()

    def get(self, text: str, zone: tzinfo, start: datetime, end: datetime) -> tuple[list[Occurrence], str | None] | None:
        key = (text, str(zone))
        entry = self.entries.get(key)
        if entry is None or not (entry[0] <= start and end <= entry[1]):
            return None
        self.entries.move_to_end(key)
        return entry[2], entry[3]

    def put(self, text: str, zone: tzinfo, start: datetime, end: datetime, occs: list[Occurrence],
            refused: str | None) -> tuple[list[Occurrence], str | None]:
        key = (text, str(zone))
        old = self.entries.pop(key, None)
        if old is not None:
            self.held -= len(old[2])
        self.entries[key] = (start, end, occs, refused)
        self.held += len(occs)
        while self.held > self.max and len(self.entries) > 1:
            _, evicted = self.entries.popitem(last=False)
            self.held -= len(evicted[2])
        return occs, refused

    def clear(self) -> None:
        self.entries.clear()
        self.held = 0


_EXPANDED = _ExpansionCache()


def _expand(record: RawRecord, zone: tzinfo, start: datetime, end: datetime) -> tuple[list[Occurrence], str | None]:
    """Parse and expand one calendar object over [start, end)."""
    # One calendar object is the boundary of a bad record: whatever icalendar, dateutil or
    # recurring-ical-events raise on hostile input, the object is skipped with its reason.
    try:
        cal = Calendar.from_ical(record.data["ics"])
        if _density(cal) > MAX_PER_YEAR:
            return [], "recurrence too dense to be meetings between people"
        events = cal.walk("VEVENT")
        recurring = any(e.get("RRULE") or e.get("RDATE") for e in events)
        if not recurring and len(events) == 1 and not events[0].get("RECURRENCE-ID"):
            # One plain event, the usual case: no need for the recurrence machinery (which costs
            # about as much again as parsing). Kept when it overlaps [start, end), as between() does.
            occ = _occurrence(events[0], zone, False)
            return ([occ] if _in_window(occ, start.timestamp(), end.timestamp()) else []), None
    except Exception as e:  # noqa: BLE001
        return [], f"unreadable event ({type(e).__name__})"
    out: list[Occurrence] = []
    seen: set[tuple[float, str]] = set()
    # Year-long windows with between(): after() recomputes the rule at every step (about 65 ms an
    # occurrence on a long daily series), between() does not. The density guard above bounds each
    # window; MAX_INSTANCES bounds the whole.
    cursor = start
    try:
        query = recurring_ical_events.of(cal, skip_bad_series=True)
        while cursor < end and len(out) < MAX_INSTANCES:
            chunk_end = min(cursor + CHUNK, end)
            found = [_occurrence(ev, zone, recurring) for ev in query.between(cursor, chunk_end)]
            for occ in sorted(found, key=lambda o: o.start):
                key = (occ.start, occ.summary)
                if key not in seen and occ.start < end.timestamp() and len(out) < MAX_INSTANCES:
                    seen.add(key)  # an event that spans two windows is returned by both
                    out.append(occ)
            cursor = chunk_end
    except Exception as e:  # noqa: BLE001
        return out, (None if out else f"unreadable event ({type(e).__name__})")
    return out, None


def _occurrence(ev: Any, zone: tzinfo, recurring: bool) -> Occurrence:
    dtstart = ev.get("DTSTART").dt
    dtend = ev.get("DTEND").dt if ev.get("DTEND") else None
    if dtend is None and ev.get("DURATION") is not None:
        dtend = dtstart + ev.get("DURATION").dt
    start = _as_ts(dtstart, zone)
    end = _as_ts(dtend, zone) if dtend is not None else start + (86400 if not isinstance(dtstart, datetime) else 3600)
    attendees = []
    raw = ev.get("ATTENDEE")
    for a in raw if isinstance(raw, list) else ([raw] if raw is not None else []):
        params = getattr(a, "params", {})
        if str(params.get("CUTYPE", "INDIVIDUAL")).upper() in _NON_PEOPLE:
            continue
        addr = normalize_address(str(a).removeprefix("mailto:").removeprefix("MAILTO:"))
        if addr:
            attendees.append((addr, clean_text(str(params.get("CN", ""))), str(params.get("PARTSTAT", "NEEDS-ACTION")).upper()))
    org = ev.get("ORGANIZER")
    organizer = normalize_address(str(org).removeprefix("mailto:").removeprefix("MAILTO:")) if org is not None else ""
    return Occurrence(
        start=start, end=max(end, start), all_day=not isinstance(dtstart, datetime),
        status=str(ev.get("STATUS", "CONFIRMED")).upper(), transparent=str(ev.get("TRANSP", "")).upper() == "TRANSPARENT",
        organizer=organizer, attendees=tuple(attendees), summary=clean_text(str(ev.get("SUMMARY", ""))),
        recurring=recurring,
    )


def infer_event(record: RawRecord, me: Me, zone: tzinfo, start: datetime, end: datetime,
                source: str = "", account: str = "") -> Inferred:
    """Interactions from the meetings of one calendar object that fall in [start, end)."""
    occs, refused = occurrences(record, zone, start, end)
    if refused:
        return Inferred(dropped=refused)
    found: list[Interaction] = []
    last_rule = None
    for occ in occs:
        people, rule = _meeting_people(occ, me)
        if rule:
            last_rule = rule
            continue
        weight = MEETING_WEIGHT * fanout_weight(len(people)) * (RECURRING_FACTOR if occ.recurring else 1.0)
        # Who started it: the organizer of a one-off meeting. The 30th instance of a standing 1:1 was
        # started by nobody in particular: the series was set up once.
        if occ.recurring:
            initiator = "other"
        else:
            initiator = "me" if occ.organizer in me else "them" if any(a == occ.organizer for a, _ in people) else "other"
        hint = meeting_hint(occ.summary)
        for addr, name in people:
            found.append(Interaction(
                ts=occ.start, channel="meeting", address=addr, name=name, direction="both", weight=weight,
                initiator=initiator, thread=record.data.get("uid", record.ident), account=account,
                fanout=len(people), hint=hint, recurring=occ.recurring, source=source, ident=record.ident,
            ))
    if not found and last_rule:
        return Inferred(dropped=last_rule)
    return Inferred(tuple(found))


def _meeting_people(occ: Occurrence, me: Me) -> tuple[list[tuple[str, str]], str | None]:
    """The other people at a meeting, or the rule that says it was no meeting between people."""
    if occ.status == "CANCELLED":
        return [], "cancelled meeting"
    mine = [p for a, _, p in occ.attendees if a in me]
    if mine and all(p in _GONE for p in mine):
        return [], "meeting I declined"
    people: dict[str, str] = {}
    for addr, name, partstat in occ.attendees:
        if addr not in me and partstat not in _GONE:
            people.setdefault(addr, name)
    if occ.organizer and occ.organizer not in me and occ.organizer not in people:
        if not any(a == occ.organizer for a, _, _ in occ.attendees):  # organizers need not list themselves
            people[occ.organizer] = ""
    if not people:
        declined = [a for a, _, p in occ.attendees if a not in me and p in _GONE]
        return [], "everyone else declined" if declined else "no one else at the event"
    if occ.all_day and len(people) > ALL_DAY_MAX_OTHERS:
        return [], "all-day event with many attendees"
    if fanout_weight(len(people)) == 0:
        return [], "large meeting (mere co-presence)"
    return list(people.items()), None


def busy_intervals(record: RawRecord, me: Me, zone: tzinfo, start: datetime, end: datetime) -> list[tuple[float, float]]:
    """Times this calendar object blocks: not cancelled, not transparent, not declined by me."""
    occs, refused = occurrences(record, zone, start, end)
    if refused:
        return []
    out = []
    for occ in occs:
        if occ.status == "CANCELLED" or occ.transparent:
            continue
        mine = [p for a, _, p in occ.attendees if a in me]
        if mine and all(p in _GONE for p in mine):
            continue
        out.append((occ.start, occ.end))
    return out


def window(now: datetime, days: int) -> tuple[datetime, datetime]:
    """The analysis window: ``days`` back from now, up to now (future meetings have not happened)."""
    now = now.astimezone(timezone.utc)
    return now - timedelta(days=days), now


