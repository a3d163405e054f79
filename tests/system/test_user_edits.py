"""The user's edits to a pushed follow-up win, on two independent CalDAV servers (Radicale and
Xandikos) and on the local Google API server. Each test runs the real CLI on the sample: a first
run pushes five follow-ups; the user then moves one and gives it a location and notes, renames
another and deletes a third, in the calendar itself; a run three weeks later, when tiekeeper would
move and reword every follow-up, writes only the two the user left alone (conditionally on their
etags), never moves the moved one back, and does not make the deleted one again. Once contact
resumes, the follow-up goes, edited or not."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from icalendar import Calendar

from connectors import google_api
from daemon.models import google_event_id
from tests.connectors.caldav_world import client
from tests.google_server import token_file
from tests.helpers import REPO, tiekeeper

LATER = "2026-12-11T09:00:00+00:00"  # three weeks on: every planned slot is past, every text changes
MOVED_TO = datetime(2026, 12, 24, 15, 0, tzinfo=timezone.utc)
PLACE, NOTES, TITLE = "Café Luna", "Bring the photos.", "Call him about the boat"


def _home(tmp_path: Path, extra_source: str, followups: str) -> Path:
    shutil.copytree(REPO / "sample", tmp_path / "sample")
    text = (REPO / "config.example.toml").read_text()
    text = text.replace("[outputs.followups]\n", extra_source + "\n[outputs.followups]\n" + followups)
    (tmp_path / "config.toml").write_text(text)
    return tmp_path / "config.toml"


def _pushed(run) -> int:
    assert run.returncode == 0, run.stderr
    m = re.search(r"follow-ups calendar: (\d+) change\(s\) pushed", run.stdout)
    assert m, run.stdout + run.stderr
    return int(m[1])


def _feed(cfg: Path) -> dict[str, dict]:
    cal = Calendar.from_ical((cfg.parent / "out" / "follow-ups.ics").read_bytes())
    return {str(e["UID"]): {"start": e["DTSTART"].dt, "sequence": int(e["SEQUENCE"]), "summary": str(e["SUMMARY"])}
            for e in cal.walk("VEVENT")}


# -- the calendar, as each server holds it -----------------------------------------------------------
class CalDavSide:
    def __init__(self, server, calendar: str) -> None:
        self.server, self.dav = server, client(server)
        self.source = (f'[sources.dav]\ntype = "caldav"\nurl = "{server.url}"\nusername = "alice"\n'
                       f'password_command = ["echo", "{server.password}"]\ncalendars = ["{calendar}"]\n')
        self.followups = 'caldav = "dav"\ncalendar = "Follow-ups"\n'

    def _calendar(self):
        return next(c for c in self.dav.principal().calendars() if c.get_display_name() == "Follow-ups")

    def _url(self, uid: str) -> str:
        return str(self._calendar().url.join(hashlib.sha1(uid.encode()).hexdigest() + ".ics"))

    def events(self) -> dict[str, dict]:
        out = {}
        for obj in self._calendar().events():
            ev = next(iter(Calendar.from_ical(obj.data).walk("VEVENT")))
            out[str(ev["UID"])] = {"start": ev["DTSTART"].dt, "summary": str(ev["SUMMARY"]),
                                   "location": str(ev.get("LOCATION", "")), "notes": str(ev.get("DESCRIPTION", "")),
                                   "sequence": int(ev["SEQUENCE"])}
        return out

    def edit(self, uid: str, start: datetime | None = None, **props: str) -> None:
        """What a calendar app does: PUT the changed resource (no tiekeeper involved)."""
        url = self._url(uid)
        cal = Calendar.from_ical(self.dav.request(url).raw)
        ev = next(iter(cal.walk("VEVENT")))
        if start is not None:
            length = ev["DTEND"].dt - ev["DTSTART"].dt
            for key, value in (("DTSTART", start), ("DTEND", start + length)):
                del ev[key]
                ev.add(key, value)
        for key, value in props.items():
            ev.pop(key.upper(), None)
            ev.add(key.upper(), value)
        ev["SEQUENCE"] = int(ev["SEQUENCE"]) + 1
        resp = self.dav.put(url, cal.to_ical().decode(), {"Content-Type": "text/calendar; charset=utf-8"})
        assert resp.status in (200, 201, 204), resp.status

    def delete(self, uid: str) -> None:
        assert self.dav.delete(self._url(uid)).status in (200, 204)


class GoogleSide:
    def __init__(self, google, tmp_path: Path) -> None:
        self.google = google
        google.state.calendars["primary"] = {"summary": "alex@home.example.net", "events": {}}  # the source reads it
        token_file(google.token_path, google, refresh_token="refresh-scoped",
                   scopes=[google_api.CALENDAR_READ_SCOPE, google_api.CALENDAR_WRITE_SCOPE])
        self.source = (f'[sources.gcal]\ntype = "google_calendar"\naccount = "alex@home.example.net"\n'
                       f'token_file = "{google.token_path}"\napi_endpoint = "{google.url}"\n')
        self.followups = 'google = "gcal"\n'

    def _calendar(self) -> str:
        (cid,) = [cid for cid, c in self.google.state.calendars.items() if c["summary"] == "Follow-ups"]
        return cid

    def events(self) -> dict[str, dict]:
        out = {}
        for ev in self.google.state.calendars[self._calendar()]["events"].values():
            if ev["status"] != "cancelled":
                out[ev["extendedProperties"]["private"]["tiekeeper_uid"]] = {
                    "start": datetime.fromisoformat(ev["start"]["dateTime"].replace("Z", "+00:00")),
                    "summary": ev["summary"], "location": ev.get("location", ""), "notes": ev.get("description", ""),
                    "sequence": ev["_seq"]}
        return out

    def edit(self, uid: str, start: datetime | None = None, **props: str) -> None:
        """What Google Calendar's own apps do: the event changes, and so does its etag."""
        cid, eid = self._calendar(), google_event_id(uid)
        ev = dict(self.google.state.calendars[cid]["events"][eid])
        if start is not None:
            when = lambda t: {"dateTime": t.isoformat().replace("+00:00", "Z")}  # noqa: E731
            ev["start"], ev["end"] = when(start), when(start + timedelta(minutes=30))
        names = {"summary": "summary", "location": "location", "description": "description"}
        ev.update({names[k]: v for k, v in props.items()})
        self.google.state.put_event(cid, ev)

    def delete(self, uid: str) -> None:
        self.google.state.cancel_event(self._calendar(), google_event_id(uid))


@pytest.fixture(params=["radicale", "xandikos", "google"])
def side(request, tmp_path):
    if request.param == "radicale":
        from tests.connectors.caldav_world import reset

        server = request.getfixturevalue("radicale")
        reset(server, ("Sample",))
        return CalDavSide(server, "Sample")
    if request.param == "xandikos":
        return CalDavSide(request.getfixturevalue("xandikos"), "calendar")
    return GoogleSide(request.getfixturevalue("google"), tmp_path)


def test_the_users_moves_renames_notes_and_deletions_win_over_later_runs(side, tmp_path):
    cfg = _home(tmp_path, side.source, side.followups)
    assert _pushed(tiekeeper(cfg, "run", "--once")) == 5
    first = side.events()
    assert set(first) == set(_feed(cfg))
    moved, renamed, deleted, *untouched = sorted(first)

    side.edit(moved, start=MOVED_TO, location=PLACE, description=NOTES)
    side.edit(renamed, summary=TITLE)
    side.delete(deleted)

    later = tiekeeper(cfg, "run", "--once", "--as-of", LATER)
    assert _pushed(later) == 2  # only the two the user left alone
    feed, now = _feed(cfg), side.events()
    assert all(feed[uid]["start"] != first[uid]["start"] for uid in untouched)  # tiekeeper did want to move them
    assert set(now) == {moved, renamed, *untouched}  # the deleted one was not made again
    assert now[moved]["start"] == MOVED_TO  # never moved back ...
    assert (now[moved]["location"], now[moved]["notes"]) == (PLACE, NOTES)  # ... nor its edits dropped
    assert now[renamed]["summary"] == TITLE and now[renamed]["start"] == first[renamed]["start"]
    for uid in untouched:  # what the user did not touch follows the plan
        assert (now[uid]["start"], now[uid]["summary"]) == (feed[uid]["start"], feed[uid]["summary"])

    again = tiekeeper(cfg, "run", "--once", "--as-of", LATER)
    assert _pushed(again) == 0 and side.events() == now
    assert deleted not in _feed(cfg) and set(untouched) < set(_feed(cfg))  # dismissed in the feed too

    # Back in touch with the person whose follow-up the user moved: it is deleted all the same.
    report = json.loads(tiekeeper(cfg, "report", "--format", "json", "--as-of", LATER).stdout)
    address = next(c["emails"][0] for c in report["contacts"] if moved.startswith(c["id"] + "-"))
    assert tiekeeper(cfg, "log", address, "--date", "2026-12-01").returncode == 0  # not in the future: log refuses that
    resumed = tiekeeper(cfg, "run", "--once", "--as-of", LATER)
    assert _pushed(resumed) == 1 and set(side.events()) == {renamed, *untouched}


def test_an_edit_made_while_tiekeeper_writes_wins_through_if_match(google, tmp_path):
    """The user changes an event between tiekeeper's listing and its write: Google answers the
    conditional update 412, and the user's version stays."""
    side = GoogleSide(google, tmp_path)
    cfg = _home(tmp_path, side.source, side.followups)
    assert _pushed(tiekeeper(cfg, "run", "--once")) == 5
    edited = []

    def user_edits(cid: str, eid: str) -> None:
        uid = google.state.calendars[cid]["events"][eid]["extendedProperties"]["private"]["tiekeeper_uid"]
        side.edit(uid, location=PLACE)
        edited.append(uid)

    google.state.before_write = user_edits
    assert _pushed(tiekeeper(cfg, "run", "--once", "--as-of", LATER)) == 4
    (uid,) = edited
    assert google.state.stats["412"] == 1 and side.events()[uid]["location"] == PLACE
    assert side.events()[uid]["start"] != _feed(cfg)[uid]["start"]  # tiekeeper's move did not land
    assert _pushed(tiekeeper(cfg, "run", "--once", "--as-of", LATER)) == 0  # and is not tried again
