"""Follow-ups in Google Calendar: a secondary calendar of their own (calendars.insert when missing),
one event per follow-up (events.insert / update / delete), with the narrow calendar.app.created scope.
Updates and deletes carry the event's etag in If-Match, so an event the user changed meanwhile is
never overwritten.

The event id is derived from the follow-up's UID (hex is valid base32hex), so a write that was
interrupted before the store recorded it is found again (409 on insert) instead of duplicated.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from connectors.base import EditConflict, FollowupCalendar
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
        found = self.find()
        if found is None:
            log.info("outputs: making the calendar %r in the Google account of source %s", self.name, self.conn.name)
            made = self.conn.caller.call(
                self.conn.service.calendars().insert(body={"summary": self.name, "description": "Follow-ups from tiekeeper"}),
                "calendars.insert", f"making the calendar {self.name}")
            found = self._id = str(made["id"])
        return found

    @property
    def key(self) -> str:
        return f"google:{self.conn.name}:{self.calendar_id}"

    def listing(self) -> dict[str, str]:
        """event id -> etag of every live event in the calendar (deleted ones are left out)."""
        events, call, cid = self.conn.service.events(), self.conn.caller.call, self.calendar_id
        out: dict[str, str] = {}
        page = None
        while True:
            resp = call(events.list(calendarId=cid, pageToken=page, maxResults=2500, showDeleted=False),
                        "events.list", "listing the follow-ups")
            out.update({str(e["id"]): str(e.get("etag") or "") for e in resp.get("items") or []
                        if e.get("status") != "cancelled"})
            page = resp.get("nextPageToken")
            if not page:
                return out

    def put(self, f: FollowUp, alarm_minutes: int | None, remote_id: str, etag: str) -> tuple[str, str]:
        """Write one follow-up; an update only if the event still has ``etag`` (If-Match, which the
        Calendar API answers 412 when it moved on). Returns (event id, etag)."""
        uid = f.uid
        body = event_body(uid, f.start, f.end, f.summary, f.description, alarm_minutes)
        events, call, cid = self.conn.service.events(), self.conn.caller.call, self.calendar_id
        if remote_id:
            return remote_id, self._update(remote_id, body, etag)
        eid = google_event_id(uid)
        answer = call(events.insert(calendarId=cid, body={**body, "id": eid}), "events.insert", "adding a follow-up",
                      allow=(409,))
        if isinstance(answer, dict):
            return eid, str(answer.get("etag") or "")
        # there already: an earlier run wrote it and was interrupted before recording it
        current = call(events.get(calendarId=cid, eventId=eid), "events.get", "reading a follow-up")
        return eid, self._update(eid, body, str(current.get("etag") or ""))

    def _update(self, eid: str, body: dict, etag: str) -> str:
        request = self.conn.service.events().update(calendarId=self.calendar_id, eventId=eid, body=body)
        answer = self.conn.caller.call(_if_match(request, etag), "events.update", "updating a follow-up",
                                       allow=(404, 410, 412))
        if not isinstance(answer, dict):  # changed (412) or deleted (404, 410) by the user meanwhile
            raise EditConflict(eid)
        return str(answer.get("etag") or "")

    def delete(self, uid: str, remote_id: str, etag: str) -> None:
        events, cid = self.conn.service.events(), self.calendar_id
        request = _if_match(events.delete(calendarId=cid, eventId=remote_id or google_event_id(uid)), etag)
        answer = self.conn.caller.call(request, "events.delete", "deleting a follow-up", allow=(404, 410, 412))
        if not isinstance(answer, dict) and int(answer.resp.status) == 412:
            raise EditConflict(remote_id)

    def close(self) -> None:
        self.conn.close()


def _if_match(request, etag: str):
    """Make a write conditional on the event's etag (the Calendar API's optimistic concurrency)."""
    if etag:
        request.headers["If-Match"] = etag
    return request
