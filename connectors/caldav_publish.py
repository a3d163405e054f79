"""Follow-ups on a CalDAV server: a calendar of their own (made if missing), one resource per event.

Writes are plain PUT and DELETE of ``<uid>.ics`` resources, conditional on the resource's ETag, so
an event the user changed meanwhile is never overwritten; the caldav library is used for discovery
and for making the calendar. (Its object ``save()`` bumps SEQUENCE by itself; ours is already right.)
"""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import unquote

from caldav.collection import Calendar, Principal
from caldav.elements import dav
from caldav.lib.url import URL

from connectors.base import EditConflict, FollowupCalendar
from connectors.caldav import _PROPFIND_ETAGS, CalDavConnector
from daemon.errors import OutputError
from daemon.outputs.followups import FollowUp, to_ics

log = logging.getLogger(__name__)


class CalDavFollowups(FollowupCalendar):
    def __init__(self, connector: CalDavConnector, calendar: str) -> None:
        self.conn = connector
        self.name = calendar
        self._cal: Calendar | None = None
        self._principal: Principal | None = None

    def _owner(self) -> Principal:
        if self._principal is None:
            self._principal = self.conn._call("finding your calendars", self.conn.client.principal)
        return self._principal

    def find(self) -> Calendar | None:
        """The follow-ups calendar on the server, or None (read-only: nothing is made)."""
        if self._cal is None:
            for cal in self.conn._call("listing calendars", self._owner().calendars):
                if self.conn._call("reading a calendar name", cal.get_display_name) == self.name:
                    self._cal = cal
                    break
        return self._cal

    @property
    def calendar(self) -> Calendar:
        found = self.find()
        if found is None:
            log.info("outputs: making the calendar %r on the server of source %s", self.name, self.conn.name)
            found = self._cal = self.conn._call(f"making the calendar {self.name}", self._owner().make_calendar,
                                                name=self.name, supported_calendar_component_set=["VEVENT"])
        return found

    @property
    def url(self) -> URL:
        return self.conn.url_of(self.calendar)

    @property
    def key(self) -> str:
        return f"caldav:{self.conn.name}:{self.url}"

    def _href(self, uid: str) -> str:
        return str(self.url.join(hashlib.sha1(uid.encode()).hexdigest() + ".ics"))

    def _etags(self, url: str, depth: int) -> dict[str, str]:
        """href (absolute) -> ETag of the resources a PROPFIND at ``url`` finds."""
        resp = self.conn._call("listing the follow-ups", self.conn.client.propfind, url, _PROPFIND_ETAGS, depth)
        if resp.status == 404:
            return {}
        base = self.url
        own = unquote(base.path).rstrip("/")
        return {str(base.join(href)): str(p.get("{DAV:}getetag") or "")
                for href, p in resp.expand_simple_props([dav.GetEtag()]).items()
                if unquote(href).rstrip("/") != own and not href.endswith("/")}

    def listing(self) -> dict[str, str]:
        return self._etags(str(self.url), 1)

    def put(self, f: FollowUp, alarm_minutes: int | None, remote_id: str, etag: str) -> tuple[str, str]:
        """Write one follow-up as its own calendar object resource: a new one with If-None-Match: *,
        a changed one with If-Match: its etag (RFC 4791 5.3.4, RFC 7232). Returns (href, etag)."""
        ics = to_ics([f], alarm_minutes, feed=False).decode("utf-8")
        href = remote_id or self._href(f.uid)
        # a server that never told us an etag leaves nothing to match: that write is unconditional
        condition = ({"If-Match": etag} if etag else {}) if remote_id else {"If-None-Match": "*"}
        resp = self._put(href, ics, condition)
        if resp.status == 412 and not remote_id:
            # there already: an earlier run wrote it and was interrupted before recording it
            current = self._etags(href, 0).get(href, "")
            resp = self._put(href, ics, {"If-Match": current}) if current else resp
        if resp.status == 412:
            raise EditConflict(href)
        if resp.status not in (200, 201, 204):
            raise OutputError(f"the CalDAV server of source {self.conn.name} refused a follow-up ({resp.status} {resp.reason})",
                              "check that the account may write to that calendar")
        return href, _etag(resp) or self._etags(href, 0).get(href, "")

    def _put(self, href: str, ics: str, condition: dict[str, str]):
        return self.conn._call("writing a follow-up", self.conn.client.put, href, ics,
                               {"Content-Type": "text/calendar; charset=utf-8", **condition})

    def delete(self, uid: str, remote_id: str, etag: str) -> None:
        resp = self.conn._call("deleting a follow-up", self.conn.client.delete, remote_id or self._href(uid),
                               {"If-Match": etag} if etag else {})
        if resp.status == 412:
            raise EditConflict(remote_id)
        if resp.status not in (200, 204, 404, 410):  # gone already is fine
            raise OutputError(f"the CalDAV server of source {self.conn.name} refused to delete a follow-up "
                              f"({resp.status} {resp.reason})", "check that the account may write to that calendar")

    def close(self) -> None:
        self.conn.close()



def _etag(resp) -> str:
    """The ETag a write answered with; a weak one (W/) cannot be matched by If-Match, so none."""
    headers = getattr(resp, "headers", None) or {}
    etag = str(headers.get("ETag") or headers.get("etag") or "")
    return "" if etag.startswith("W/") else etag
