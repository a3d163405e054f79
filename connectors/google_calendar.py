"""Google Calendar through the Calendar API v3 (``calendar.readonly``).

Each selected calendar is read with events.list(singleEvents=false): recurring series come as one
master event with RRULE/EXDATE lines plus one event per changed or cancelled instance, and are
expanded locally like any ICS. Every event becomes a small VCALENDAR (times, status, organizer,
attendees with their responseStatus as PARTSTAT, recurrence, summary); instances carry their
series' UID and a RECURRENCE-ID, and ``data["series"]`` lets the analysis put a series together.

IDENT  "<calendar>|<event id>". ETAG the event's etag.
CURSOR {calendar: nextSyncToken}. Later syncs ask each calendar for what changed since its token;
       a 410 (token expired) re-reads that calendar alone, and the delta says so (``resynced``), so
       its events that are gone are deleted and the other calendars are left alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress

from connectors import google_api as g
from connectors.base import Connector
from daemon.errors import SourceError
from daemon.models import EVENT, Delta, Item, Listing, RawRecord

log = logging.getLogger(__name__)

PAGE = 2500
_PARTSTAT = {"accepted": "ACCEPTED", "declined": "DECLINED", "tentative": "TENTATIVE", "needsAction": "NEEDS-ACTION"}
_STATUS = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}


def _when(value: dict) -> date | datetime:
    """A Google EventDateTime as a date or an aware datetime: in its named zone when it has one,
    else in UTC. Google leaves timeZone out of most one-off events ("2026-03-05T10:00:00+05:30"),
    and a bare offset cannot stay as it is: icalendar writes it as TZID="UTC+05:30", a zone no
    reader knows, so the time would be read back as floating, in the user's zone."""
    if value.get("date"):
        return date.fromisoformat(value["date"])
    moment = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
    zone = value.get("timeZone")
    if zone:
        try:
            return moment.astimezone(ZoneInfo(zone)) if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment


def _address(person: dict, partstat: bool) -> vCalAddress:
    addr = vCalAddress(f"mailto:{person['email']}")
    if partstat:
        addr.params["PARTSTAT"] = _PARTSTAT.get(person.get("responseStatus", ""), "NEEDS-ACTION")
    if person.get("displayName"):
        addr.params["CN"] = " ".join(str(person["displayName"]).split())
    return addr


def event_calendar(ev: dict) -> str:
    """One Google event resource as a VCALENDAR text holding one VEVENT."""
    vevent = Event()
    vevent.add("UID", ev.get("iCalUID") or ev["id"])
    vevent.add("STATUS", _STATUS.get(ev.get("status", "confirmed"), "CONFIRMED"))
    start = ev.get("start") or ev.get("originalStartTime")  # a cancelled instance has only the latter
    if start:
        vevent.add("DTSTART", _when(start))
    if ev.get("end"):
        vevent.add("DTEND", _when(ev["end"]))
    if ev.get("originalStartTime"):
        vevent.add("RECURRENCE-ID", _when(ev["originalStartTime"]))
    if ev.get("summary"):
        vevent.add("SUMMARY", " ".join(str(ev["summary"]).split()))
    if ev.get("transparency") == "transparent":
        vevent.add("TRANSP", "TRANSPARENT")
    if (ev.get("organizer") or {}).get("email"):
        vevent.add("ORGANIZER", _address(ev["organizer"], partstat=False))
    for person in ev.get("attendees") or []:
        if person.get("email") and not person.get("resource"):  # rooms are not people
            vevent.add("ATTENDEE", _address(person, partstat=True))
    lines = [str(r) for r in ev.get("recurrence") or [] if str(r).split(":", 1)[0].split(";")[0] in
             ("RRULE", "EXDATE", "RDATE", "EXRULE")]
    if lines:
        rules = Event.from_ical("BEGIN:VEVENT\r\n" + "\r\n".join(lines) + "\r\nEND:VEVENT\r\n")
        for name, value in rules.property_items(recursive=False):
            if name in ("RRULE", "EXDATE", "RDATE", "EXRULE"):
                vevent.add(name, value, encode=False)
    cal = Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", "-//tiekeeper//google//EN")
    cal.add_component(vevent)
    return cal.to_ical().decode("utf-8")


class GoogleCalendarConnector(Connector):
    def __init__(self, name: str, account: str, calendars: tuple[str, ...] = ("primary",),
                 token_file: Path | None = None, api_endpoint: str | None = None, base_delay: float = 1.0,
                 scopes: tuple[str, ...] = (g.CALENDAR_READ_SCOPE,)) -> None:
        super().__init__(name)
        self.account = account
        self.wanted = tuple(calendars) or ("primary",)
        self.token_file = token_file
        self.api_endpoint = api_endpoint
        self.scopes = list(scopes)
        self.caller = g.Caller(name, g.CALENDAR_QUOTA, base_delay, where=g.endpoint_where("calendar", api_endpoint))
        self._service = None
        self._ids: list[str] | None = None
        self._events: dict[str, RawRecord] | None = None

    @property
    def service(self):
        if self._service is None:
            with g.translate(self.name, "authorization", self.caller.where):
                creds = g.credentials(self.name, self.account, self.token_file, self.scopes)
                self._service = g.build_service("calendar", "v3", g.authorized_http(creds), self.api_endpoint)
        return self._service

    def calendar_ids(self) -> list[str]:
        """The selected calendars' ids; names are matched against ids and titles."""
        if self._ids is not None:
            return self._ids
        if all(w == "primary" for w in self.wanted):
            self._ids = ["primary"]
            return self._ids
        known: dict[str, str] = {}
        titles: list[str] = []
        page = None
        while True:
            resp = self.caller.call(self.service.calendarList().list(pageToken=page), "calendarList.list", "calendarList.list")
            for c in resp.get("items") or []:
                titles.append(str(c.get("summaryOverride") or c.get("summary") or c.get("id")))
                for key in (c.get("id"), c.get("summary"), c.get("summaryOverride")):
                    if key:
                        known.setdefault(str(key), str(c["id"]))
            page = resp.get("nextPageToken")
            if not page:
                break
        missing = [w for w in self.wanted if w != "primary" and w not in known]
        if missing:
            raise SourceError(self.name, f"no calendar named {', '.join(missing)} in this account",
                              f"calendars there: {', '.join(sorted(titles)) or 'none'}")
        self._ids = [w if w == "primary" else known[w] for w in self.wanted]
        return self._ids

    def _record(self, calendar: str, ev: dict) -> RawRecord:
        ident = f"{calendar}|{ev['id']}"
        try:
            text = event_calendar(ev)
        except (KeyError, ValueError, TypeError) as e:
            return RawRecord(ident, str(ev.get("etag", "")), "bad", {"error": f"unreadable event ({type(e).__name__})"}, calendar)
        series = f"{calendar}|{ev.get('recurringEventId') or ev['id']}"
        uid = str(ev.get("iCalUID") or ev["id"])
        return RawRecord(ident, str(ev.get("etag", "")), EVENT, {"ics": text, "uid": uid, "series": series}, calendar)

    def _page(self, calendar: str, token: str | None, page: str | None, size: int = PAGE):
        """One page of events.list: the answer, or None on 410 (the sync token expired)."""
        kwargs = {"syncToken": token} if token else {"showDeleted": False}
        req = self.service.events().list(calendarId=calendar, singleEvents=False, maxResults=size,
                                          pageToken=page, **kwargs)
        resp = self.caller.call(req, "events.list", f"events.list of calendar {calendar}", allow=(410,))
        return resp if isinstance(resp, dict) else None

    def _read(self, calendar: str, token: str | None):
        """Every page of events.list for one calendar: (events, nextSyncToken), or None on 410."""
        events: list[dict] = []
        page = None
        while True:
            resp = self._page(calendar, token, page)
            if resp is None:
                return None
            events.extend(resp.get("items") or [])
            page = resp.get("nextPageToken")
            if not page:
                return events, resp.get("nextSyncToken")

    def probe(self) -> str:
        """Authorized, and every calendar read answers events.list (a sync's first request, for one event)."""
        ids = self.calendar_ids()
        for calendar in ids:
            self._page(calendar, None, None, size=1)
        return f"authorized for {self.account}; {len(ids)} calendar(s) to read"

    def list(self) -> Listing:
        self._events = {}
        tokens: dict[str, str] = {}
        for calendar in self.calendar_ids():
            got = self._read(calendar, None)
            if got is None:
                raise SourceError(self.name, f"calendar {calendar} refused a full listing (410)", "try again later")
            events, token = got
            for ev in events:
                if ev.get("status") == "cancelled" and not ev.get("recurringEventId"):
                    continue
                record = self._record(calendar, ev)
                self._events[record.ident] = record
            if token:
                tokens[calendar] = token
        items = {i: Item(i, r.etag, r.scope) for i, r in self._events.items()}
        complete = set(tokens) == set(self.calendar_ids())
        return Listing(items, cursor=json.dumps(tokens, sort_keys=True) if complete else None)

    def get_multi(self, idents: Sequence[str]) -> Iterator[RawRecord]:
        if self._events is None:
            self.list()
        assert self._events is not None
        for ident in idents:
            if ident in self._events:
                yield self._events[ident]

    def changes_since(self, cursor: str) -> Delta | None:
        try:
            tokens = json.loads(cursor)
        except ValueError:
            return None
        if not isinstance(tokens, dict) or set(tokens) != set(self.calendar_ids()):
            return None  # the selection changed: list everything
        upserts: list[RawRecord] = []
        deletions: list[str] = []
        resynced: set[str] = set()
        for calendar in self.calendar_ids():
            got = self._read(calendar, tokens[calendar])
            if got is None:
                # a calendar id is often someone's address: it goes to DEBUG only
                log.info("source %s: a calendar's sync token expired; reading that calendar again", self.name)
                log.debug("source %s: the expired sync token was calendar %s's", self.name, calendar)
                resynced.add(calendar)
                got = self._read(calendar, None)
                if got is None:
                    return None
            events, token = got
            for ev in events:
                if ev.get("status") == "cancelled" and not ev.get("recurringEventId"):
                    deletions.append(f"{calendar}|{ev['id']}")
                else:
                    upserts.append(self._record(calendar, ev))
            tokens[calendar] = token or tokens[calendar]
        return Delta(upserts, deletions, json.dumps(tokens, sort_keys=True), frozenset(resynced))
