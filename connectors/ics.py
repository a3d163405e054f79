"""iCalendar files, folders of them (a vdir), and feeds over HTTP(S).

Each record is one calendar object: every VEVENT sharing a UID (the series and its overrides) with
the time zones they use, trimmed to what inference needs (times, recurrence, status, organizer,
attendees and their PARTSTAT, summary, location). Descriptions, attachments and alarms are dropped.

IDENT  "<file>|<UID>".  ETAG  a hash of the trimmed object (DTSTAMP left out: many feeds rewrite it
on every download).  CURSOR  files: size and mtime; a URL: the server's ETag/Last-Modified and a
hash of the body, so an unchanged feed is never parsed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
import warnings
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

from icalendar import Calendar, Component, Event

from connectors import neterror
from connectors.base import Connector
from connectors.files import find_files, stat_cursor
from daemon.errors import AuthError, SourceError
from daemon.models import EVENT, Delta, Item, Listing, RawRecord

log = logging.getLogger(__name__)

KEPT_PROPERTIES = (
    "UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "STATUS",
    "SUMMARY", "LOCATION", "ORGANIZER", "ATTENDEE", "SEQUENCE", "TRANSP", "CLASS", "CATEGORIES",
)
_TZ_PROPERTIES = ("DTSTART", "DTEND", "RDATE", "EXDATE", "RECURRENCE-ID")
URL_TIMEOUT = 30
MAX_FEED_BYTES = 64 * 1024 * 1024


class NotACalendar(ValueError):
    """The bytes are not iCalendar data at all."""


def _tzids(event: Component) -> set[str]:
    found = set()
    for name in _TZ_PROPERTIES:
        values = event.get(name)
        for v in values if isinstance(values, list) else [values]:
            tzid = getattr(v, "params", {}).get("TZID") if v is not None else None
            if tzid:
                found.add(str(tzid))
    return found


def _trim(event: Component) -> Event:
    out = Event()
    for name in KEPT_PROPERTIES:
        values = event.get(name)
        if values is None:
            continue
        for v in values if isinstance(values, list) else [values]:
            out.add(name, v, encode=False)
    return out


def parse_calendar_objects(data: bytes) -> Iterator[tuple[str, str]]:
    """(UID, trimmed VCALENDAR text) for each calendar object in an iCalendar document.

    Raises NotACalendar when the document cannot be read at all; one broken event does not stop
    the others."""
    data = data.lstrip(b"\xef\xbb\xbf")
    head = data[:65536].upper()
    if b"BEGIN:VCALENDAR" not in head:
        if not data.lstrip().upper().startswith(b"BEGIN:V"):
            raise NotACalendar("no BEGIN:VCALENDAR")
        # A bare component (some exporters write a lone VEVENT): read it as a calendar of one.
        data = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + data.strip() + b"\r\nEND:VCALENDAR\r\n"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. vendor-prefixed TZIDs that icalendar guesses right
            calendars = Calendar.from_ical(data, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
        raise NotACalendar(str(e).splitlines()[0][:200] if str(e) else type(e).__name__) from None
    for cal in calendars:
        zones = {str(tz.get("TZID")): tz for tz in cal.walk("VTIMEZONE")}
        groups: dict[str, list[Component]] = defaultdict(list)
        for event in cal.walk("VEVENT"):
            uid = str(event.get("UID") or "").strip()
            if not uid:  # RFC 5545 requires one; make a stable stand-in from what is there
                uid = "no-uid-" + hashlib.sha1(event.to_ical()).hexdigest()[:16]
            groups[uid].append(event)
        for uid, events in groups.items():
            obj = Calendar()
            obj.add("VERSION", "2.0")
            obj.add("PRODID", "-//tiekeeper//trimmed//EN")
            for tzid in sorted(set().union(*(_tzids(e) for e in events))):
                if tzid in zones:
                    obj.add_component(zones[tzid])
            for event in events:
                obj.add_component(_trim(event))
            yield uid, obj.to_ical().decode("utf-8")


def _looks_like_ics(path: Path) -> bool:
    return path.suffix.lower() in (".ics", ".ical", ".ifb", ".icalendar")


class IcsConnector(Connector):
    def __init__(self, name: str, path: Path | None = None, url: str | None = None) -> None:
        super().__init__(name)
        self.path = Path(path) if path else None
        self.url = url.replace("webcal://", "https://", 1) if url and url.startswith("webcal://") else url
        self._objects: dict[str, tuple[str, str]] | None = None  # ident -> (scope, text)
        self._feed: tuple[bytes, str] | None = None  # the fetched body and its cursor

    # -- URL feeds ----------------------------------------------------------------------------
    def _fetch(self, url: str, previous: dict | None) -> tuple[bytes, str] | None:
        """GET the feed at ``url`` (the source's); None when the server says 304 Not Modified."""
        req = urllib.request.Request(url, headers={"User-Agent": "tiekeeper/0.1 (+calendar sync)"})
        if previous and previous.get("etag"):
            req.add_header("If-None-Match", previous["etag"])
        if previous and previous.get("last_modified"):
            req.add_header("If-Modified-Since", previous["last_modified"])
        try:
            with urllib.request.urlopen(req, timeout=URL_TIMEOUT) as resp:
                body = resp.read(MAX_FEED_BYTES + 1)
                ctype = resp.headers.get("Content-Type", "")
                cursor = {"etag": resp.headers.get("ETag"), "last_modified": resp.headers.get("Last-Modified")}
        except urllib.error.HTTPError as e:
            if e.code == 304:
                return None
            if e.code in (401, 403):
                raise AuthError(self.name, f"the feed answered HTTP {e.code}", "check the URL's secret token") from None
            raise SourceError(self.name, f"the feed answered HTTP {e.code}", "it is retried on the next sync") from None
        except (urllib.error.URLError, OSError) as e:
            clean = neterror.describe(e, neterror.host_port(url), None, f"sources.{self.name}.url")
            if clean:
                raise SourceError(self.name, f"cannot fetch the feed: {clean[0]}", clean[1]) from None
            reason = getattr(e, "reason", e)
            raise SourceError(self.name, f"cannot fetch the feed: {reason}", "check the URL and the network") from None
        if len(body) > MAX_FEED_BYTES:
            raise SourceError(self.name, f"the feed is larger than {MAX_FEED_BYTES >> 20} MiB", "split it")
        if "html" in ctype.lower() or b"BEGIN:VCALENDAR" not in body[:65536].upper():
            raise SourceError(
                self.name,
                f"the feed answered {ctype.split(';')[0] or 'something'} that is not a calendar "
                "(a login page or captive portal?); nothing was changed",
                "open the URL in a browser to check it",
            )
        cursor["sha"] = hashlib.sha256(body).hexdigest()
        return body, json.dumps(cursor, sort_keys=True)

    # -- the interface ----------------------------------------------------------------------------
    def files(self) -> dict[str, Path]:
        assert self.path is not None
        return find_files(self.name, self.path, _looks_like_ics)

    def probe(self) -> str:
        if self.url:
            self.cursor_now()  # fetched, and a calendar
            return "the feed answers with a calendar"
        return f"{len(self.files())} calendar file(s) to read"

    def cursor_now(self) -> str | None:
        if self.url:
            if self._feed is None:
                self._feed = self._fetch(self.url, None)
            return self._feed[1] if self._feed else None
        return stat_cursor(self.files())

    def changes_since(self, cursor: str) -> Delta | None:
        if not self.url:
            return Delta([], [], cursor) if self.cursor_now() == cursor else None
        try:
            previous = json.loads(cursor)
        except ValueError:
            return None
        fetched = self._fetch(self.url, previous)
        if fetched is None:
            return Delta([], [], cursor)
        if json.loads(fetched[1])["sha"] == previous.get("sha"):
            return Delta([], [], fetched[1])
        self._feed = fetched
        return None

    def _load(self) -> tuple[dict[str, tuple[str, str]], set[str]]:
        objects: dict[str, tuple[str, str]] = {}
        unreadable: set[str] = set()
        if self.url:
            if self._feed is None:
                self._feed = self._fetch(self.url, None)
            documents = {"feed": self._feed[0]} if self._feed else {}
        else:
            documents = {}
            for rel, p in self.files().items():
                try:
                    documents[rel] = p.read_bytes()
                except OSError as e:
                    log.warning("source %s: skipped %s: %s", self.name, rel, e.strerror)
                    unreadable.add(rel)
        single = len(documents) == 1 and (self.url or (self.path and self.path.is_file()))
        for rel, data in documents.items():
            try:
                for uid, text in parse_calendar_objects(data):
                    objects[f"{rel}|{uid}"] = (rel, text)
            except NotACalendar as e:
                if single:
                    what = "the feed" if self.url else str(self.path)
                    raise SourceError(self.name, f"{what} is not a readable calendar: {e}; nothing was changed",
                                      "fix or replace the file") from None
                log.warning("source %s: skipped %s: not a readable calendar (%s)", self.name, rel, e)
                unreadable.add(rel)
        return objects, unreadable

    def list(self) -> Listing:
        objects, unreadable = self._load()
        self._objects = objects
        items = {
            ident: Item(ident, hashlib.sha1(text.encode()).hexdigest()[:20], scope)
            for ident, (scope, text) in objects.items()
        }
        return Listing(items, frozenset(unreadable))

    def get_multi(self, idents: Sequence[str]) -> Iterator[RawRecord]:
        if self._objects is None:
            self.list()
        assert self._objects is not None
        for ident in idents:
            if ident in self._objects:
                scope, text = self._objects[ident]
                etag = hashlib.sha1(text.encode()).hexdigest()[:20]
                yield RawRecord(ident, etag, EVENT, {"ics": text, "uid": ident.split("|", 1)[1]}, scope)
