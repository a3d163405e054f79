"""CalDAV (RFC 4791) through the caldav library: discovery, ctag fast path, etag diff, multiget.

Calendars are discovered from the principal (the URL may be the server root, a principal or a
calendar home); ``calendars = [...]`` selects by display name. Only resources whose ETag changed
are fetched, in one calendar-multiget REPORT per calendar, then trimmed like an ICS file (times,
recurrence, status, organizer, attendees, summary; no descriptions or alarms). Recurring series
are expanded locally at analysis time, as for ICS.

IDENT  "<calendar name>|<resource href>".  ETAG  the server's ETag.  CURSOR  every selected
calendar's CTag (calendarserver.org getctag): unchanged CTags mean nothing to do, at the cost of
one PROPFIND per calendar. (RFC 6578 sync-collection is not used yet: after a CTag change the
etag diff costs one Depth-1 PROPFIND per changed calendar.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import unquote

import caldav
from caldav.elements import dav
from caldav.elements.base import ValuedBaseElement
from caldav.lib import error as caldav_error

from connectors.base import Connector
from connectors.ics import NotACalendar, parse_calendar_objects
from daemon.errors import AuthError, SourceError
from daemon.models import EVENT, Delta, Item, Listing, RawRecord

log = logging.getLogger(__name__)
_PROPFIND_ETAGS = ('<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/>'
                   '</d:prop></d:propfind>')


class GetCTag(ValuedBaseElement):
    tag = "{http://calendarserver.org/ns/}getctag"


class CalDavConnector(Connector):
    def __init__(self, name: str, url: str, username: str | None, password: str | None,
                 calendars: tuple[str, ...] | None = None, ca_file: Path | None = None) -> None:
        super().__init__(name)
        self.url, self.username = url, username
        self.wanted = calendars
        self.client = caldav.DAVClient(url=url, username=username, password=password,
                                       ssl_verify_cert=str(ca_file) if ca_file else True, timeout=60)
        self._calendars: dict[str, caldav.Calendar] | None = None
        self._listed: dict[str, str] | None = None

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except caldav_error.AuthorizationError:
            raise AuthError(self.name, f"the server refused the username or password ({what})",
                            f"store the right one with `tiekeeper auth password {self.name}` or fix password_command") from None
        except (caldav_error.DAVError, OSError, ValueError) as e:
            reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            raise SourceError(self.name, f"{what} failed: {reason}", "check the URL; retried on the next sync") from None
        except Exception as e:  # requests/niquests raise their own connection and TLS errors
            if "certificate" in str(e).lower() or "ssl" in type(e).__name__.lower():
                raise SourceError(self.name, f"the server's TLS certificate is not trusted ({type(e).__name__})",
                                  f"if you trust it, set sources.{self.name}.ca_file to its certificate") from None
            raise SourceError(self.name, f"{what} failed: {type(e).__name__}: {str(e)[:200]}",
                              "check the URL and the network; retried on the next sync") from None

    def calendars(self) -> dict[str, caldav.Calendar]:
        if self._calendars is not None:
            return self._calendars
        principal = self._call("finding your calendars", self.client.principal)
        everything = {}
        for cal in self._call("listing calendars", principal.calendars):
            name = self._call("reading a calendar name", cal.get_display_name) or str(cal.url).rstrip("/").rsplit("/", 1)[-1]
            everything[name] = cal
        found = {n: c for n, c in everything.items() if self.wanted is None or n in self.wanted}
        if self.wanted is not None:
            missing = sorted(set(self.wanted) - set(found))
            if missing:
                raise SourceError(self.name, f"no calendar named {', '.join(missing)} on the server",
                                  f"calendars there: {', '.join(sorted(everything)) or 'none'}")
        self._calendars = found
        return found

    def cursor_now(self) -> str | None:
        tags = {}
        for name, cal in self.calendars().items():
            ctag = self._call(f"reading the CTag of {name}", cal.get_property, GetCTag())
            if not ctag:
                return None  # no CTag: the etag diff is the only way
            tags[name] = ctag
        return json.dumps(tags, sort_keys=True)

    def changes_since(self, cursor: str) -> Delta | None:
        now = self.cursor_now()
        return Delta([], [], cursor) if now is not None and now == cursor else None

    def list(self) -> Listing:
        items: dict[str, Item] = {}
        for name, cal in self.calendars().items():
            response = self._call(f"listing {name}", self.client.propfind, str(cal.url), _PROPFIND_ETAGS, 1)
            props = response.expand_simple_props([dav.GetEtag()])
            own = unquote(cal.url.path).rstrip("/")
            for href, p in props.items():
                href = unquote(href)
                if href.rstrip("/") == own or href.endswith("/"):
                    continue  # the collection itself
                ident = f"{name}|{href}"
                items[ident] = Item(ident, str(p.get("{DAV:}getetag") or ""), name)
        self._listed = {i: it.etag for i, it in items.items()}
        return Listing(items)

    def get_multi(self, idents: Sequence[str]) -> Iterator[RawRecord]:
        """One calendar-multiget per calendar. The ETag stored is the one the listing saw: if a
        resource changed in between, the next sync sees a new ETag and fetches it again."""
        if self._listed is None:
            self.list()
        by_calendar: dict[str, list[str]] = {}
        for ident in idents:
            name, href = ident.split("|", 1)
            by_calendar.setdefault(name, []).append(href)
        calendars = self.calendars()
        for name, hrefs in by_calendar.items():
            cal = calendars.get(name)
            if cal is None:
                continue
            objects = self._call(f"fetching from {name}", cal.calendar_multiget, [cal.url.join(h) for h in hrefs])
            for obj in objects:
                ident = f"{name}|{unquote(obj.url.path)}"
                yield _record(ident, self._listed.get(ident, ""), name, obj.data)


def _record(ident: str, etag: str, scope: str, data: str | bytes) -> RawRecord:
    raw = data.encode() if isinstance(data, str) else data
    try:
        objects = list(parse_calendar_objects(raw))
    except NotACalendar as e:
        return RawRecord(ident, etag, "bad", {"error": str(e)}, scope)
    if not objects:
        return RawRecord(ident, etag, "bad", {"error": "no event in the resource"}, scope)
    uid, text = objects[0]
    return RawRecord(ident, etag, EVENT, {"ics": text, "uid": uid}, scope)
