"""Follow-ups pushed into a calendar of their own: on a real Radicale over CalDAV, and on the local
Google API server through the real google-api-python-client. Each test runs the real CLI on the
bundled sample and checks what the server holds afterwards: the confirmed follow-ups of the feed,
nobody invited, updated in place rather than duplicated, deleted once contact resumes, and a
calendar server that refuses the push costing only the push (the feed and the digest still go out).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from icalendar import Calendar

from connectors import google_api
from tests.connectors.caldav_world import client, load_sample_calendar, reset
from tests.google_server import events_from_ics, token_file
from tests.helpers import REPO, tiekeeper

TOM = "tom@becker.example.net"  # lapsed and unanswered in the sample: he has a follow-up


def _home(tmp_path: Path, calendar_source: str, followups: str) -> Path:
    """The sample with its calendar read from a server and follow-ups pushed there."""
    shutil.copytree(REPO / "sample", tmp_path / "sample")
    text = (REPO / "config.example.toml").read_text()
    text = text.replace('type = "ics"\npath = "sample/calendar.ics"\n', calendar_source)
    text = text.replace("[outputs.followups]\n", "[outputs.followups]\n" + followups)
    (tmp_path / "config.toml").write_text(text)
    return tmp_path / "config.toml"


def _feed(cfg: Path) -> dict[str, tuple[str, int]]:
    """uid -> (STATUS, SEQUENCE) of the follow-ups feed file."""
    cal = Calendar.from_ical((cfg.parent / "out" / "follow-ups.ics").read_bytes())
    return {str(e["UID"]): (str(e["STATUS"]), int(e["SEQUENCE"])) for e in cal.walk("VEVENT")}


def _confirmed(cfg: Path) -> dict[str, int]:
    return {uid: seq for uid, (status, seq) in _feed(cfg).items() if status == "CONFIRMED"}


def _pushed(run) -> int:
    m = re.search(r"follow-ups calendar: (\d+) change\(s\) pushed", run.stdout)
    assert m, run.stdout + run.stderr
    return int(m[1])


def _tom_uid(cfg: Path) -> str:
    import json

    report = json.loads(tiekeeper(cfg, "report", "--format", "json").stdout)
    tom = next(c for c in report["contacts"] if TOM in c["emails"])
    return next(uid for uid in _feed(cfg) if uid.startswith(tom["id"] + "-"))


# -- CalDAV -----------------------------------------------------------------------------------------
def _caldav_followups(radicale) -> dict[str, Calendar]:
    """uid -> the calendar object resource, as the Follow-ups calendar on the server holds them."""
    for cal in client(radicale).principal().calendars():
        if cal.get_display_name() == "Follow-ups":
            out = {}
            for obj in cal.events():
                parsed = Calendar.from_ical(obj.data)
                out[str(next(iter(parsed.walk("VEVENT")))["UID"])] = parsed
            return out
    return {}


def test_followups_land_in_a_caldav_calendar_of_their_own_and_follow_the_feed(radicale, tmp_path):
    load_sample_calendar(reset(radicale, ("Sample",))["Sample"])
    # The source reads every calendar on the server, the follow-ups' own included: they must come
    # back as neither meetings nor busy time (else the second run would move them).
    source = (f'type = "caldav"\nurl = "{radicale.url}"\nusername = "alice"\n'
              'password_command = ["echo", "secret"]\n')
    cfg = _home(tmp_path, source, 'caldav = "calendar"\ncalendar = "Follow-ups"\nalarm_minutes = 10\n')
    before = tiekeeper(cfg, "doctor").stdout
    assert "'Follow-ups' via source calendar: will be made on the first push" in before, before
    assert not _caldav_followups(radicale) and "Follow-ups" not in [c.get_display_name() for c in
                                                                  client(radicale).principal().calendars()]
    first = tiekeeper(cfg, "run", "--once")
    assert first.returncode == 0, first.stderr
    confirmed = _confirmed(cfg)
    assert len(confirmed) == 5 and _pushed(first) == 5
    remote = _caldav_followups(radicale)
    assert set(remote) == set(confirmed)
    for uid, cal in remote.items():
        ev = next(iter(cal.walk("VEVENT")))
        assert int(ev["SEQUENCE"]) == confirmed[uid] and str(ev["STATUS"]) == "CONFIRMED"
        assert "ATTENDEE" not in ev and "ORGANIZER" not in ev and "METHOD" not in cal  # RFC 4791 4.1
        assert len(ev.walk("VALARM")) == 1

    assert "'Follow-ups' via source calendar: found" in tiekeeper(cfg, "doctor").stdout
    again = tiekeeper(cfg, "run", "--once")
    assert again.returncode == 0, again.stderr
    assert _pushed(again) == 0 and _confirmed(cfg) == confirmed  # nothing moved, nothing rewritten

    tom = _tom_uid(cfg)
    assert tiekeeper(cfg, "log", TOM, "--date", "2026-11-19", "--note", "call").returncode == 0
    resumed = tiekeeper(cfg, "run", "--once")
    assert resumed.returncode == 0, resumed.stderr
    assert tom not in _feed(cfg)  # it left the feed ...
    assert set(_caldav_followups(radicale)) == set(confirmed) - {tom}  # ... and the server no longer has it
    assert _pushed(resumed) == 1


def test_a_refused_caldav_password_fails_that_source_and_the_push_but_not_the_feed_or_digest(radicale, tmp_path):
    load_sample_calendar(reset(radicale, ("Sample",))["Sample"])
    good = (f'type = "caldav"\nurl = "{radicale.url}"\nusername = "alice"\npassword_command = ["echo", "secret"]\n'
            'calendars = ["Sample"]\n')
    bad_target = (f'\n[sources.other]\ntype = "caldav"\nurl = "{radicale.url}"\nusername = "alice"\n'
                  'password_command = ["echo", "wrong"]\ncalendars = ["Sample"]\n')
    cfg = _home(tmp_path, good, 'caldav = "other"\n')
    cfg.write_text(cfg.read_text().replace("[outputs.followups]", bad_target + "\n[outputs.followups]", 1))
    run = tiekeeper(cfg, "run", "--once")
    assert run.returncode == 3  # a source failed (its sync); that code wins over the push's 5
    lines = [line for line in run.stderr.splitlines() if "publishing follow-ups" in line]
    assert len(lines) == 1 and "source other" in lines[0] and "tiekeeper auth password other" in lines[0]
    assert (tmp_path / "out" / "follow-ups.ics").exists() and (tmp_path / "out" / "digest.eml").exists()


# -- Google Calendar ----------------------------------------------------------------------------------
def _google_home(google, tmp_path, scopes: list[str]) -> Path:
    for item in events_from_ics((REPO / "sample" / "calendar.ics").read_bytes()):
        google.state.put_event("primary", item)
    token_file(google.token_path, google, refresh_token="refresh-scoped", scopes=scopes)
    source = (f'type = "google_calendar"\naccount = "alex@home.example.net"\ntoken_file = "{google.token_path}"\n'
              f'api_endpoint = "{google.url}"\n')
    return _home(tmp_path, source, 'google = "calendar"\nalarm_minutes = 10\n')


def _google_followups(google) -> tuple[list[str], dict[str, dict]]:
    """The ids of calendars named Follow-ups, and the live events of the first."""
    ids = [cid for cid, c in google.state.calendars.items() if c["summary"] == "Follow-ups"]
    events = google.state.calendars[ids[0]]["events"] if ids else {}
    return ids, {eid: ev for eid, ev in events.items() if ev["status"] != "cancelled"}


def test_followups_land_in_a_google_calendar_the_app_made_with_the_narrow_scope(google, tmp_path):
    cfg = _google_home(google, tmp_path, [google_api.CALENDAR_READ_SCOPE, google_api.CALENDAR_WRITE_SCOPE])
    first = tiekeeper(cfg, "run", "--once")
    assert first.returncode == 0, first.stderr
    confirmed = _confirmed(cfg)
    calendars, live = _google_followups(google)
    assert len(calendars) == 1 and len(live) == len(confirmed) == 5 == _pushed(first)
    for ev in live.values():
        assert ev["extendedProperties"]["private"]["tiekeeper_uid"] in confirmed
        assert "attendees" not in ev and ev["visibility"] == "private"
        assert ev["reminders"] == {"useDefault": False, "overrides": [{"method": "popup", "minutes": 10}]}

    again = tiekeeper(cfg, "run", "--once")
    assert again.returncode == 0, again.stderr
    assert _pushed(again) == 0 and len(_google_followups(google)[0]) == 1  # no second calendar

    tom = _tom_uid(cfg)
    assert tiekeeper(cfg, "log", TOM, "--date", "2026-11-19").returncode == 0
    resumed = tiekeeper(cfg, "run", "--once")
    assert resumed.returncode == 0 and _pushed(resumed) == 1
    left = {ev["extendedProperties"]["private"]["tiekeeper_uid"] for ev in _google_followups(google)[1].values()}
    assert left == set(confirmed) - {tom}


def test_a_google_token_without_the_write_scope_says_to_authorize_again(google, tmp_path):
    cfg = _google_home(google, tmp_path, [google_api.CALENDAR_READ_SCOPE])
    run = tiekeeper(cfg, "run", "--once")
    assert run.returncode == 5  # the sync and the analysis went through; only the push failed
    line = next(line for line in run.stderr.splitlines() if "publishing follow-ups" in line)
    assert "tiekeeper auth google calendar" in line
    assert not _google_followups(google)[0]  # nothing was made
    assert (tmp_path / "out" / "digest.eml").exists()


def test_in_the_service_a_refused_push_backs_off_alone_and_succeeds_once_authorized(google, tmp_path):
    from daemon.config import load
    from daemon.service import Service

    cfg = _google_home(google, tmp_path, [google_api.CALENDAR_READ_SCOPE])
    service = Service(load(cfg), cfg)
    service.tick()
    jobs = {j.name: j for j in service.store.job_states()}
    assert jobs["push"].failures == 1 and "tiekeeper auth google calendar" in jobs["push"].last_error
    assert all(jobs[n].failures == 0 for n in ("sync:home_mail", "sync:calendar", "analyse", "digest"))
    assert jobs["push"].next_due > jobs["push"].last_attempt  # it waits for its backoff ...
    with service.store.transaction():
        service.store.db.execute("UPDATE jobs SET next_due = 0 WHERE name = 'analyse'")
    service.tick()  # ... even when a new analysis runs meanwhile
    assert service.store.job_state("analyse").last_attempt > jobs["analyse"].last_attempt
    assert service.store.job_state("push").last_attempt == jobs["push"].last_attempt

    # The user authorizes again (now with calendar.app.created); the push runs when it is next due.
    token_file(google.token_path, google, refresh_token="refresh-granted",
               scopes=[google_api.CALENDAR_READ_SCOPE, google_api.CALENDAR_WRITE_SCOPE])
    with service.store.transaction():
        service.store.db.execute("UPDATE jobs SET next_due = 0 WHERE name = 'push'")
    service.tick()
    assert service.store.job_state("push").failures == 0
    assert len(_google_followups(google)[1]) == len(_confirmed(cfg)) == 5
    service.store.close()
