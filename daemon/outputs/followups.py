"""Follow-up events: one per flagged contact and cycle, placed in free time.

Pure planning (``plan``) and ICS rendering (``to_ics``). The UID is stable per contact and cycle
(the date of the last two-way contact), so a re-run updates an event instead of adding one; its
SEQUENCE goes up whenever it changes; when contact resumes, it is kept in the store as CANCELLED (so
its SEQUENCE carries on) and leaves the feed: a subscribed feed cannot cancel an event, and clients
such as khal and calcurse show a CANCELLED one as a normal event.
Professional follow-ups go in working hours, personal ones in evenings and weekends, never on top
of a busy slot, within a per-day and per-week budget (the rest is spread over later weeks).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING

from icalendar import Alarm, Calendar, Event, vDuration

from daemon.analysis.rhythm import human_days
from daemon.identity import clean_lines, clean_text
from daemon.models import followup_uid

if TYPE_CHECKING:  # for the annotations only: the publishers import this module, and config imports them
    from daemon.analysis.report import Contact, Report
    from daemon.config import FollowupsConfig

HORIZON_DAYS = 84  # plan at most 12 weeks ahead; what does not fit waits for a later run
KEEP_CANCELLED_DAYS = 30  # a cancelled event stays in the store this long (its UID and SEQUENCE)
REFRESH = timedelta(hours=1)  # how often a subscribed client should fetch the feed again
STEP = timedelta(minutes=30)
WEEKEND_HOURS = (time(10, 0), time(18, 0))


@dataclass(frozen=True, kw_only=True)
class FollowUp:
    uid: str
    contact: str
    cycle: str
    sequence: int
    status: str  # CONFIRMED | CANCELLED
    start: float
    end: float
    summary: str
    description: str
    fingerprint: str
    updated: float


def _cycle(c: Contact) -> str:
    anchor = c.last_two_way or c.first_interaction or 0.0
    return datetime.fromtimestamp(anchor, timezone.utc).strftime("%Y%m%d")


def _title(c: Contact) -> str:
    name = clean_text(c.name)[:80] or "a contact"
    patterns = {f.pattern for f in c.flags if f.pattern}
    if "unanswered_by_you" in patterns:
        return f"Reply to {name}"
    if any(f.check == "lapsed" for f in c.flags):
        return f"Follow up with {name}" if c.relationship == "professional" else f"Reconnect with {name}"
    return f"Check in with {name}"


def _texts(c: Contact, now: float) -> tuple[str, str]:
    title = _title(c)
    bits = [f"usually every {human_days(c.expected_gap_days)}"]
    if c.last_two_way:
        bits.append(f"last two-way contact {human_days((now - c.last_two_way) / 86400)} ago")
    summary = f"{title} — {', '.join(bits)}"
    if c.recent_initiation:  # "You started the last 4." -> "; you started the last 4"
        summary += "; " + c.recent_initiation[0].lower() + c.recent_initiation[1:].rstrip(".")
    lines = [clean_text(f.why) for f in c.flags]
    lines.append("Addresses: " + ", ".join(clean_text(e) for e in c.emails[:5]))
    lines.append("Placed by tiekeeper. Contact them, and this event goes away on the next run.")
    return summary, "\n".join(lines)


def _fingerprint(start: float, end: float, summary: str, description: str, status: str) -> str:
    return hashlib.sha1(f"{start}|{end}|{summary}|{description}|{status}".encode()).hexdigest()[:16]


def _hours_for(day: date, professional: bool, cfg: FollowupsConfig) -> list[tuple[time, time]]:
    weekend = day.weekday() >= 5
    if professional:
        return [] if weekend else [cfg.working_hours]
    return [WEEKEND_HOURS, cfg.personal_hours] if weekend else [cfg.personal_hours]


def _overlaps(start: float, end: float, intervals: list[tuple[float, float]]) -> bool:
    return any(s < end and start < e for s, e in intervals)


class _Calendar:
    """Busy times and budgets while planning."""

    def __init__(self, busy: list[tuple[float, float]], cfg: FollowupsConfig, zone: tzinfo) -> None:
        self.busy = sorted(busy)
        self.cfg, self.zone = cfg, zone
        self.per_day: dict[date, int] = {}
        self.per_week: dict[tuple[int, int], int] = {}

    def book(self, start: float, end: float) -> None:
        d = datetime.fromtimestamp(start, self.zone).date()
        self.per_day[d] = self.per_day.get(d, 0) + 1
        wk = d.isocalendar()[:2]
        self.per_week[wk] = self.per_week.get(wk, 0) + 1
        self.busy.append((start, end))

    def fits(self, start: float, end: float) -> bool:
        d = datetime.fromtimestamp(start, self.zone).date()
        return (self.per_day.get(d, 0) < self.cfg.per_day
                and self.per_week.get(d.isocalendar()[:2], 0) < self.cfg.per_week
                and not _overlaps(start, end, self.busy))

    def find(self, professional: bool, now: datetime) -> tuple[float, float] | None:
        length = timedelta(minutes=self.cfg.duration_minutes)
        first = now.astimezone(self.zone).date() + timedelta(days=1)
        for offset in range(HORIZON_DAYS):
            day = first + timedelta(days=offset)
            for lo, hi in _hours_for(day, professional, self.cfg):
                t = datetime.combine(day, lo, self.zone)
                stop = datetime.combine(day, hi, self.zone)
                while t + length <= stop:
                    s, e = t.timestamp(), (t + length).timestamp()
                    if self.fits(s, e):
                        return s, e
                    t += STEP
        return None


def _priority(c: Contact) -> tuple:
    lapsed = max((f.severity for f in c.flags if f.check == "lapsed"), default=0.0)
    return (-(lapsed > 0), -lapsed, -len(c.flags), c.name.casefold(), c.id)


def plan(report: Report, previous: list[FollowUp], busy: list[tuple[float, float]], cfg: FollowupsConfig,
         zone: tzinfo) -> list[FollowUp]:
    """The follow-up events to publish now, given what was published before."""
    now = report.as_of
    now_ts = now.timestamp()
    before = {f.uid: f for f in previous}
    cal = _Calendar(list(busy), cfg, zone)
    wanted: dict[str, tuple[Contact, str]] = {}
    for c in sorted(report.flagged(), key=_priority):
        cycle = _cycle(c)
        wanted[followup_uid(c.id, cycle)] = (c, cycle)
    out: list[FollowUp] = []
    # Keep what is already placed in the future and still fits, so events do not jump around.
    placed: dict[str, tuple[float, float]] = {}
    for uid in wanted:
        old = before.get(uid)
        if old and old.status == "CONFIRMED" and old.start > now_ts and cal.fits(old.start, old.end):
            cal.book(old.start, old.end)
            placed[uid] = (old.start, old.end)
    for uid, (c, cycle) in wanted.items():
        if uid not in placed:
            slot = cal.find(c.relationship == "professional", now)
            if slot is None:
                continue  # over budget for the whole horizon: it waits; the digest still lists it
            cal.book(*slot)
            placed[uid] = slot
        start, end = placed[uid]
        summary, description = _texts(c, now_ts)
        out.append(_versioned(before.get(uid), uid, c.id, cycle, "CONFIRMED", start, end, summary, description, now_ts))
    for uid, old in before.items():
        if uid in placed:
            continue
        if old.status == "CONFIRMED":
            out.append(_versioned(old, uid, old.contact, old.cycle, "CANCELLED", old.start, old.end,
                                  old.summary, old.description, now_ts))
        elif now_ts - old.updated < KEEP_CANCELLED_DAYS * 86400:
            out.append(old)
    return sorted(out, key=lambda f: (f.start, f.uid))


def _versioned(old: FollowUp | None, uid: str, contact: str, cycle: str, status: str, start: float, end: float,
               summary: str, description: str, now: float) -> FollowUp:
    fp = _fingerprint(start, end, summary, description, status)
    if old is None:
        return FollowUp(uid=uid, contact=contact, cycle=cycle, sequence=0, status=status, start=start, end=end,
                        summary=summary, description=description, fingerprint=fp, updated=now)
    if old.fingerprint == fp:
        return old
    return replace(old, sequence=old.sequence + 1, status=status, start=start, end=end, summary=summary,
                   description=description, fingerprint=fp, updated=now)


def to_ics(followups: list[FollowUp], alarm_minutes: int | None = None, feed: bool = True) -> bytes:
    """The feed: a VCALENDAR any calendar app can subscribe to, holding the confirmed follow-ups
    only. Nobody is invited. No METHOD: a subscribed feed is not an iTIP message (RFC 5546 would then
    want an ORGANIZER), and RFC 7986's REFRESH-INTERVAL (with X-PUBLISHED-TTL, its older form) says
    how often to fetch it. ``feed=False`` gives a CalDAV calendar object resource (RFC 4791 4.1)."""
    cal = Calendar()
    cal.add("PRODID", "-//tiekeeper//follow-ups//EN")
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    if feed:
        cal.add("X-WR-CALNAME", "tiekeeper follow-ups")
        cal.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
        cal.add("X-PUBLISHED-TTL", vDuration(REFRESH).to_ical().decode())
        followups = [f for f in followups if f.status == "CONFIRMED"]
    for f in followups:
        ev = Event()
        ev.add("UID", f.uid)
        ev.add("DTSTAMP", datetime.fromtimestamp(f.updated, timezone.utc))
        ev.add("DTSTART", datetime.fromtimestamp(f.start, timezone.utc))
        ev.add("DTEND", datetime.fromtimestamp(f.end, timezone.utc))
        ev.add("SUMMARY", clean_text(f.summary))
        ev.add("DESCRIPTION", clean_lines(f.description))
        ev.add("SEQUENCE", f.sequence)
        ev.add("STATUS", f.status)
        ev.add("TRANSP", "OPAQUE" if f.status == "CONFIRMED" else "TRANSPARENT")
        ev.add("CATEGORIES", ["tiekeeper"])
        if alarm_minutes is not None and f.status == "CONFIRMED":
            alarm = Alarm()
            alarm.add("ACTION", "DISPLAY")
            alarm.add("DESCRIPTION", clean_text(f.summary))
            alarm.add("TRIGGER", timedelta(minutes=-alarm_minutes))
            ev.add_component(alarm)
        cal.add_component(ev)
    return cal.to_ical()
