"""Follow-ups on a CalDAV server: a calendar of their own (made if missing), one resource per event.

Writes are plain PUT and DELETE of ``<uid>.ics`` resources; the caldav library is used for discovery
and for making the calendar. (Its object ``save()`` bumps SEQUENCE by itself; ours is already right.)
"""

from __future__ import annotations

import hashlib
import logging

import caldav

from connectors.base import FollowupCalendar
from connectors.caldav import CalDavConnector
from daemon.errors import OutputError
from daemon.outputs.followups import FollowUp, to_ics

log = logging.getLogger(__name__)


class CalDavFollowups(FollowupCalendar):
    def __init__(self, connector: CalDavConnector, calendar: str) -> None:
        self.conn = connector
        self.name = calendar
        self._cal: caldav.Calendar | None = None
        self._principal: caldav.Principal | None = None

    def _owner(self) -> caldav.Principal:
        if self._principal is None:
            self._principal = self.conn._call("finding your calendars", self.conn.client.principal)
        return self._principal

    def find(self) -> caldav.Calendar | None:
        """The follow-ups calendar on the server, or None (read-only: nothing is made)."""
        if self._cal is None:
            for cal in self.conn._call("listing calendars", self._owner().calendars):
                if self.conn._call("reading a calendar name", cal.get_display_name) == self.name:
                    self._cal = cal
                    break
        return self._cal

    @property
    def calendar(self) -> caldav.Calendar:
        if self.find() is None:
            log.info("outputs: making the calendar %r on the server of source %s", self.name, self.conn.name)
            self._cal = self.conn._call(f"making the calendar {self.name}", self._owner().make_calendar,
                                        name=self.name, supported_calendar_component_set=["VEVENT"])
        return self._cal

    @property
    def key(self) -> str:
        return f"caldav:{self.conn.name}:{self.calendar.url}"

    def _href(self, uid: str) -> str:
        return str(self.calendar.url.join(hashlib.sha1(uid.encode()).hexdigest() + ".ics"))

    def put(self, f: FollowUp, alarm_minutes: int | None, remote_id: str) -> str:
        """Write one follow-up as its own calendar object resource; returns its href."""
        ics = to_ics([f], alarm_minutes, feed=False)
        href = remote_id or self._href(f.uid)
        resp = self.conn._call("writing a follow-up", self.conn.client.put, href, ics.decode("utf-8"),
                               {"Content-Type": "text/calendar; charset=utf-8"})
        if resp.status not in (200, 201, 204):
            raise OutputError(f"the CalDAV server of source {self.conn.name} refused a follow-up ({resp.status} {resp.reason})",
                              "check that the account may write to that calendar")
        return href

    def delete(self, uid: str, remote_id: str) -> None:
        resp = self.conn._call("deleting a follow-up", self.conn.client.delete, remote_id or self._href(uid))
        if resp.status not in (200, 204, 404, 410):  # gone already is fine
            raise OutputError(f"the CalDAV server of source {self.conn.name} refused to delete a follow-up "
                              f"({resp.status} {resp.reason})", "check that the account may write to that calendar")

    def close(self) -> None:
        self.conn.close()

