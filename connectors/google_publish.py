"""Follow-ups in Google Calendar: a secondary calendar of their own (calendars.insert when missing),
one event per follow-up (events.insert / update / delete), with the narrow calendar.app.created scope.

The event id is derived from the follow-up's UID (hex is valid base32hex), so a write that was
interrupted before the store recorded it is found again (409 on insert) instead of duplicated.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from connectors.base import FollowupCalendar
from connectors.google_calendar import GoogleCalendarConnector
from daemon.identity import clean_lines, clean_text
from daemon.models import google_event_id
from daemon.outputs.followups import FollowUp

log = logging.getLogger(__name__)


def event_body(uid: str, start: float, end: float, summary: str, description: str,
               alarm_minutes: int | None) -> dict:
    """The Google event for one follow-up: busy, private, nobody invited."""
    def when(ts: float) -> dict:
        return {"dateTime": datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")}

    return {
        "summary": clean_text(summary),
        "description": clean_lines(description),
        "start": when(start), "end": when(end),
        "status": "confirmed", "transparency": "opaque", "visibility": "private",
        "reminders": {"useDefault": False,
                      "overrides": [{"method": "popup", "minutes": alarm_minutes}] if alarm_minutes is not None else []},
        "extendedProperties": {"private": {"tiekeeper_uid": uid}},
    }


class GoogleFollowups(FollowupCalendar):
    def __init__(self, connector: GoogleCalendarConnector, calendar: str) -> None:
        self.conn = connector
        self.name = calendar
        self._id: str | None = None

    def find(self) -> str | None:
        """The id of the follow-ups calendar in the account, or None (read-only: nothing is made)."""
        if self._id is None:
            service, call = self.conn.service, self.conn.caller.call
            page = None
            while self._id is None:
                resp = call(service.calendarList().list(pageToken=page, minAccessRole="owner"),
                            "calendarList.list", "calendarList.list")
                for c in resp.get("items") or []:
                    if c.get("summary") == self.name:
                        self._id = str(c["id"])
                        break
                page = resp.get("nextPageToken")
                if not page:
                    break
        return self._id

    @property
    def calendar_id(self) -> str:
        if self.find() is None:
            log.info("outputs: making the calendar %r in the Google account of source %s", self.name, self.conn.name)
            made = self.conn.caller.call(
                self.conn.service.calendars().insert(body={"summary": self.name, "description": "Follow-ups from tiekeeper"}),
                "calendars.insert", f"making the calendar {self.name}")
            self._id = str(made["id"])
        return self._id

    @property
    def key(self) -> str:
        return f"google:{self.conn.name}:{self.calendar_id}"

    def put(self, f: FollowUp, alarm_minutes: int | None, remote_id: str) -> str:
        """Write one follow-up; returns its event id."""
        uid = f.uid
        body = event_body(uid, f.start, f.end, f.summary, f.description, alarm_minutes)
        events, call, cid = self.conn.service.events(), self.conn.caller.call, self.calendar_id
        eid = remote_id or google_event_id(uid)
        if remote_id:
            answer = call(events.update(calendarId=cid, eventId=eid, body=body), "events.update", "updating a follow-up",
                          allow=(404, 410))
            if isinstance(answer, dict):
                return eid
        answer = call(events.insert(calendarId=cid, body={**body, "id": eid}), "events.insert", "adding a follow-up",
                      allow=(409,))
        if not isinstance(answer, dict):  # it is there already (an interrupted earlier run): update it
            call(events.update(calendarId=cid, eventId=eid, body=body), "events.update", "updating a follow-up")
        return eid

    def delete(self, uid: str, remote_id: str) -> None:
        events, cid = self.conn.service.events(), self.calendar_id
        self.conn.caller.call(events.delete(calendarId=cid, eventId=remote_id or google_event_id(uid)), "events.delete",
                              "deleting a follow-up", allow=(404, 410))

    def close(self) -> None:
        self.conn.close()
