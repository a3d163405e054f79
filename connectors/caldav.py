"""CalDAV (RFC 4791) through the caldav library: discovery, ctag fast path, etag diff, multiget.

Calendars are discovered from the principal (the URL may be the server root, a principal or a
calendar home); ``calendars = [...]`` selects by display name. Only resources whose ETag changed
are fetched, in one calendar-multiget REPORT per calendar, then trimmed like an ICS file (times,
recurrence, status, organizer, attendees, summary; no descriptions or alarms). Recurring series
are expanded locally at analysis time, as for ICS.

IDENT  "<calendar name>|<resource href>".  ETAG  the server's ETag.  CURSOR  every selected
calendar's CTag (calendarserver.org getctag) and RFC 6578 sync token, read in one PROPFIND per
calendar: unchanged CTags mean nothing to do. A calendar whose CTag moved is asked for what changed
since its token (sync-collection), and only that is fetched; where the server has no sync token
or forgot it, the etag diff of a Depth-1 PROPFIND per calendar finds the changes instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn
from urllib.parse import unquote

from caldav.collection import Calendar
from caldav.davclient import DAVClient
from caldav.elements import dav
from caldav.elements.base import ValuedBaseElement
from caldav.lib import error as caldav_error
from caldav.lib.url import URL

from connectors import neterror
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
        self.client = DAVClient(url=url, username=username, password=password,
                                ssl_verify_cert=str(ca_file) if ca_file else True, timeout=60)
        self._calendars: dict[str, Calendar] | None = None
        self._listed: dict[str, str] | None = None

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except caldav_error.AuthorizationError:
            raise AuthError(self.name, f"the server refused the username or password ({what})",
                            f"store the right one with `tiekeeper auth password {self.name}` or fix password_command") from None
        except Exception as e:  # noqa: BLE001 - a network failure, in whichever library's wrapping
            clean = neterror.describe(e, neterror.host_port(self.url), f"sources.{self.name}.ca_file",
                                      f"sources.{self.name}.url")
            if clean is None:
                self._unexpected(what, e)
            raise SourceError(self.name, f"{what}: {clean[0]}", f"{clean[1]}; retried on the next sync") from None

    def _unexpected(self, what: str, e: Exception) -> NoReturn:
        """Anything but a network failure, as one line (never a library's repr)."""
        if isinstance(e, SourceError):
            raise e
        if isinstance(e, (caldav_error.DAVError, OSError, ValueError)):
            reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            raise SourceError(self.name, f"{what} failed: {reason}", "check the URL; retried on the next sync") from None
        raise SourceError(self.name, f"{what} failed ({type(e).__name__})",
                          "check the URL and the network; retried on the next sync") from None

    def url_of(self, cal: Calendar) -> URL:
        """A calendar's URL. The library's type allows none (an object not yet saved); every
        calendar here came from the server, so one without is the server's doing."""
        if cal.url is None:
            raise SourceError(self.name, "the server listed a calendar without a URL", "check the URL; retried on the next sync")
        return cal.url

    def calendars(self) -> dict[str, Calendar]:
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

    def probe(self) -> str:
        return f"found {len(self.calendars())} calendar(s) at {self.url}"

    def cursor_now(self) -> str | None:
        state = {}
        for name, cal in self.calendars().items():
            props = self._call(f"reading the CTag of {name}", cal.get_properties, [GetCTag(), dav.SyncToken()])
            ctag = props.get(GetCTag.tag)
            if not ctag:
                return None  # no CTag: the etag diff is the only way
            state[name] = {"ctag": ctag, "token": props.get(dav.SyncToken.tag) or None}
        return json.dumps(state, sort_keys=True)

    def changes_since(self, cursor: str) -> Delta | None:
        """Calendars whose CTag is unchanged cost one PROPFIND; a changed one is asked for what
        changed since its sync token (RFC 6578 sync-collection) and only those resources are
        fetched. No token, an expired one, a truncated answer or a calendar added or removed
        fall back to the full etag diff (None)."""
        now_text = self.cursor_now()
        if now_text is None:
            return None
        if now_text == cursor:
            return Delta([], [], cursor)
        try:
            old, now = json.loads(cursor), json.loads(now_text)
        except ValueError:
            return None
        if not isinstance(old, dict) or set(old) != set(now) or not all(isinstance(v, dict) for v in old.values()):
            return None  # a cursor from before sync tokens, or the calendars changed
        calendars = self.calendars()
        changed: list[str] = []
        gone: list[str] = []
        for name, was in old.items():
            if was.get("ctag") == now[name]["ctag"]:
                continue
            diff = self._sync_diff(name, calendars[name], was.get("token"))
            if diff is None:
                return None
            changed += diff[0]
            gone += diff[1]
        return Delta(list(self.get_multi(changed)), gone, now_text)

    def _sync_diff(self, name: str, cal: Calendar, token: str | None) -> tuple[list[str], list[str]] | None:
        """(idents changed, idents removed) in one calendar since ``token``, or None."""
        if not token:
            return None

        def report():
            try:
                return cal.get_objects_by_sync_token(token, load_objects=False, disable_fallback=True)
            except caldav_error.AuthorizationError as e:
                if "{DAV:}valid-sync-token" in (getattr(e, "preconditions", None) or ()):
                    return None  # the server forgot the token (RFC 6578 3.2)
                raise
            except caldav_error.ReportError:
                return None  # no sync-collection here after all

        result = self._call(f"syncing {name}", report)  # anything else: one line, as for every call
        if result is None:
            return None
        if getattr(result, "truncated", False):
            return None
        deleted = {str(u) for u in getattr(result, "deleted_urls", ()) or ()}
        self._listed = self._listed or {}
        changed, gone = [], []
        own = unquote(self.url_of(cal).path).rstrip("/")
        for obj in result:
            href = unquote(obj.url.path)
            if href.rstrip("/") == own or href.endswith("/"):
                continue
            ident = f"{name}|{href}"
            if str(obj.url.canonical()) in deleted:
                gone.append(ident)
            else:
                self._listed[ident] = str(obj.props.get(dav.GetEtag.tag) or "")
                changed.append(ident)
        return changed, gone

    def list(self) -> Listing:
        items: dict[str, Item] = {}
        for name, cal in self.calendars().items():
            url = self.url_of(cal)
            response = self._call(f"listing {name}", self.client.propfind, str(url), _PROPFIND_ETAGS, 1)
            props = response.expand_simple_props([dav.GetEtag()])
            own = unquote(url.path).rstrip("/")
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
        listed = self._listed or {}
        by_calendar: dict[str, list[str]] = {}
        for ident in idents:
            name, href = ident.split("|", 1)
            by_calendar.setdefault(name, []).append(href)
        calendars = self.calendars()
        for name, hrefs in by_calendar.items():
            cal = calendars.get(name)
            if cal is None:
                continue
            objects = self._call(f"fetching from {name}", cal.calendar_multiget, [self.url_of(cal).join(h) for h in hrefs])
            for obj in objects:
                ident = f"{name}|{unquote(obj.url.path)}"
                yield _record(ident, listed.get(ident, ""), name, obj.data)


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
