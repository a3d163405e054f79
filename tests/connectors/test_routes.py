"""One message or event, two routes, one record: what a server hands over (Gmail, IMAP, Google
Calendar) must say what the same data says read from a file (Maildir, ICS). Each test here pins a
cause of a difference between the routes found for issue 16 (same data, same answer); the whole-life
check is tests/system/test_same_answer.py."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from connectors.gmail import GmailConnector
from connectors.google_calendar import GoogleCalendarConnector, event_calendar
from connectors.ics import IcsConnector
from connectors.maildir import mail_record
from connectors.mailparse import BULK_FIELDS, FETCHED_HEADERS, KEPT_FIELDS, read_header_block
from daemon.identity import Me
from daemon.inference.calendar import busy_intervals, infer_event, whole_series
from daemon.inference.email import infer_mail
from daemon.models import RawRecord
from tests.google_server import events_from_ics
from tests.helpers import FIXTURES, ME, ME_WORK, NOW, calendar, message

# -- mail: every header the file route reads, the servers are asked for ------------------------------
AUTO_REPLY = message("amy@x.example", ME, NOW, subject="Out of office", extra={"X-Autorespond": "yes"})
BULK_PERSON = message("Dana Reyes <dana@shop.example>", ME, NOW, subject="New arrivals",
                      extra={"X-Mailchimp-Campaign": "c-7", "X-SES-Outgoing": "2026.05.04"})
ON_BEHALF = message("Eve <eve@x.example>", ME, NOW, extra={"Sender": "Assistant <pa@x.example>"})
CRAFTED = {"auto_reply": AUTO_REPLY, "bulk_person": BULK_PERSON, "on_behalf": ON_BEHALF}


def test_imap_and_gmail_are_asked_for_every_field_the_header_parser_reads():
    asked = {h.lower() for h in FETCHED_HEADERS}
    assert KEPT_FIELDS | BULK_FIELDS | {"subject"} <= asked
    assert len(asked) == len(FETCHED_HEADERS)  # each once


def _from_file(raw: bytes) -> dict:
    import io

    return mail_record("x", "1", "INBOX", read_header_block(io.BytesIO(raw))).data


def _comparable(data: dict) -> dict:
    """A record's fields without where it was filed, whitespace runs as one space (servers unfold
    and collapse them; the values are the same to every reader)."""
    return {k: " ".join(v.split()) for k, v in data.items() if k not in ("folder", "labels", "sent_folder")}


def _mail_cases() -> dict[str, bytes]:
    return {**{p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))}, **CRAFTED}


def test_a_message_through_gmail_gives_the_record_and_the_judgement_a_maildir_gives(google):
    cases = _mail_cases()
    ids = {google.state.add_message(raw, ["INBOX"]): name for name, raw in cases.items()}
    conn = GmailConnector("gmail", ME, google.token_path, google.url, base_delay=0.01)
    got = {ids[r.ident]: r for r in conn.get_multi(list(ids))}
    me = Me([ME, ME_WORK])
    for name, raw in cases.items():
        local = _from_file(raw)
        assert _comparable(got[name].data) == _comparable(local), name
        judged = [infer_mail(RawRecord("x", "1", "mail", data), me) for data in (local, got[name].data)]
        assert judged[0].dropped == judged[1].dropped and judged[0].interactions == judged[1].interactions, name
    # the fields that once made the difference: an automatic reply and a bulk mailer's person-like sender
    assert infer_mail(got["auto_reply"], me).dropped == "automatic reply"
    assert infer_mail(got["bulk_person"], me).dropped.startswith("sent by a bulk mailer")
    assert got["on_behalf"].data["sender"] == "Assistant <pa@x.example>"


def test_a_message_through_imap_gives_the_record_a_maildir_gives(dovecot):
    from tests.connectors.imap_world import append, connector, reset

    reset(dovecot)
    cases = _mail_cases()
    for raw in cases.values():
        append(dovecot, "INBOX", raw)
    with connector(dovecot) as conn:
        records = list(conn.get_multi(list(conn.list().items)))
    by_id = {r.data.get("message-id", "").strip(): r.data for r in records}
    for name, raw in cases.items():
        local = _from_file(raw)
        assert _comparable(by_id[local["message-id"].strip()]) == _comparable(local), name


# -- calendar: the Google connector keeps the instant of a time given by its offset alone --------------
def _meeting_times(ics: str, zone: str = "Europe/Berlin") -> list[float]:
    record = RawRecord("cal|e", "1", "event", {"ics": ics, "uid": "e"})
    start, end = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2027, 1, 1, tzinfo=timezone.utc)
    return sorted(i.ts for i in infer_event(record, Me([ME]), ZoneInfo(zone), start, end).interactions)


def test_a_google_time_with_an_offset_and_no_zone_keeps_its_instant():
    # Google leaves timeZone out of most one-off events; the offset alone says when it was
    event = {"id": "e", "start": {"dateTime": "2026-03-05T10:00:00+05:30"}, "end": {"dateTime": "2026-03-05T11:00:00+05:30"},
             "organizer": {"email": "bob@x.example"}, "attendees": [{"email": "bob@x.example", "responseStatus": "accepted"}]}
    instant = datetime(2026, 3, 5, 4, 30, tzinfo=timezone.utc).timestamp()
    for zone in ("Europe/Berlin", "America/New_York"):  # whatever zone the user lives in
        assert _meeting_times(event_calendar(event), zone) == [instant]


def test_an_instance_moved_in_a_series_is_found_when_google_gives_its_original_time_by_offset():
    master = {"id": "s", "iCalUID": "s@google.com", "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
              "start": {"dateTime": "2026-03-16T10:00:00+01:00", "timeZone": "Europe/Berlin"},
              "end": {"dateTime": "2026-03-16T10:30:00+01:00", "timeZone": "Europe/Berlin"},
              "organizer": {"email": ME}, "attendees": [{"email": "bob@x.example", "responseStatus": "accepted"}]}
    moved = {**master, "id": "s_2", "recurringEventId": "s", "recurrence": None,
             "originalStartTime": {"dateTime": "2026-03-30T10:00:00+02:00"},  # after the switch to summer time
             "start": {"dateTime": "2026-03-31T15:00:00+02:00"}, "end": {"dateTime": "2026-03-31T15:30:00+02:00"}}
    records = [("g", RawRecord(f"c|{e['id']}", "1", "event", {"ics": event_calendar(e), "uid": "s@google.com",
                                                                "series": "c|s"})) for e in (master, moved)]
    (_, merged), = whole_series(records)
    berlin = ZoneInfo("Europe/Berlin")
    assert _meeting_times(merged.data["ics"]) == [datetime(2026, 3, 16, 10, tzinfo=berlin).timestamp(),
                                                  datetime(2026, 3, 23, 10, tzinfo=berlin).timestamp(),
                                                  datetime(2026, 3, 31, 15, tzinfo=berlin).timestamp()]


# -- calendar: an ICS file and the same events as Google keeps them give the same meetings -------------
def _ev(uid: str, *lines: str, start: str = "DTSTART:20260310T100000Z", end: str | None = "DTEND:20260310T110000Z") -> str:
    return "\r\n".join(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z", start, *([end] if end else []), *lines,
                        "END:VEVENT"])


_WINDOWS_TZ = "\r\n".join([
    "BEGIN:VTIMEZONE", "TZID:W. Europe Standard Time",
    "BEGIN:STANDARD", "DTSTART:16010101T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100",
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10", "END:STANDARD",
    "BEGIN:DAYLIGHT", "DTSTART:16010101T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200",
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT", "END:VTIMEZONE"])
_ODD_TZ = "\r\n".join(["BEGIN:VTIMEZONE", "TZID:Custom/Odd", "BEGIN:STANDARD", "DTSTART:16010101T000000",
                       "TZOFFSETFROM:+0530", "TZOFFSETTO:+0530", "END:STANDARD", "END:VTIMEZONE"])
BOB = "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@x.example"
MINE = f"ORGANIZER:mailto:{ME}"
CALENDARS = {
    # an attendee's name (CN) is kept by Google as displayName
    "names": calendar(_ev("cn", "SUMMARY:Dinner", "ORGANIZER;CN=Bob Stone:mailto:bob@x.example",
                          "ATTENDEE;CN=Bob Stone;PARTSTAT=ACCEPTED:mailto:bob@x.example",
                          f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ME}")),
    # rooms and equipment are no people: Google marks them "resource"
    "rooms": calendar(_ev("room", "SUMMARY:Sync", MINE, BOB,
                          "ATTENDEE;CUTYPE=ROOM;PARTSTAT=ACCEPTED:mailto:room-4@resource.example",
                          "ATTENDEE;CUTYPE=RESOURCE;PARTSTAT=ACCEPTED:mailto:beamer@resource.example")),
    # Google keeps an end, never a DURATION; a free (transparent) slot stays free
    "duration": calendar(_ev("dur", "DURATION:PT3H", "SUMMARY:Workshop", MINE, BOB, end=None)),
    "transparent": calendar(_ev("tr", "TRANSP:TRANSPARENT", "SUMMARY:Sync", MINE, BOB)),
    "upper_case_mailto": calendar(_ev("up", "SUMMARY:Sync", "ORGANIZER:MAILTO:bob@x.example",
                                      "ATTENDEE;PARTSTAT=ACCEPTED:MAILTO:carol@x.example", f"ATTENDEE:MAILTO:{ME}")),
    # times: floating, all-day without an end, a Windows zone across the summer-time switch, an odd zone
    "floating": calendar(_ev("fl", "SUMMARY:Sync", MINE, BOB, start="DTSTART:20260310T100000", end="DTEND:20260310T110000")),
    "all_day": calendar(_ev("ad", "SUMMARY:Hike", MINE, BOB, start="DTSTART;VALUE=DATE:20260310", end=None)),
    "windows_zone_series": calendar(_WINDOWS_TZ, _ev(
        "ol", "RRULE:FREQ=WEEKLY;COUNT=6", "SUMMARY:Sync", "ORGANIZER:mailto:bob@x.example", BOB,
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ME}", start="DTSTART;TZID=W. Europe Standard Time:20260305T100000",
        end="DTEND;TZID=W. Europe Standard Time:20260305T110000")),
    "odd_zone_series": calendar(_ODD_TZ, _ev(
        "ct", "RRULE:FREQ=WEEKLY;COUNT=3", "SUMMARY:Sync", "ORGANIZER:mailto:bob@x.example", BOB,
        start="DTSTART;TZID=Custom/Odd:20260305T100000", end="DTEND;TZID=Custom/Odd:20260305T110000")),
    # a zoned series with an exception date, an extra date, a moved and a cancelled instance
    "series_with_exceptions": calendar(
        _ev("tz", "RRULE:FREQ=WEEKLY;COUNT=20", "EXDATE;TZID=Europe/Berlin:20260112T100000",
            "RDATE;TZID=Europe/Berlin:20260108T150000", "SUMMARY:1:1", MINE, BOB,
            start="DTSTART;TZID=Europe/Berlin:20260105T100000", end="DTEND;TZID=Europe/Berlin:20260105T103000"),
        _ev("tz", "RECURRENCE-ID;TZID=Europe/Berlin:20260330T100000", "SUMMARY:1:1 moved", MINE, BOB,
            start="DTSTART;TZID=Europe/Berlin:20260331T140000", end="DTEND;TZID=Europe/Berlin:20260331T143000"),
        _ev("tz", "RECURRENCE-ID;TZID=Europe/Berlin:20260126T100000", "STATUS:CANCELLED", "SUMMARY:1:1", MINE,
            start="DTSTART;TZID=Europe/Berlin:20260126T100000", end="DTEND;TZID=Europe/Berlin:20260126T103000")),
    "no_partstat": calendar(_ev("np", "SUMMARY:Sync", "ORGANIZER:mailto:bob@x.example", "ATTENDEE:mailto:bob@x.example",
                                f"ATTENDEE;PARTSTAT=TENTATIVE:mailto:{ME}")),
}
CALENDARS.update({p.stem: p.read_bytes() for p in sorted(FIXTURES.glob("event_*.ics")) if p.stem != "event_cancelled"})


def _meetings(records) -> tuple[list, list]:
    me = Me([ME, ME_WORK])
    zone = ZoneInfo("Europe/Berlin")
    start, end = datetime(2025, 1, 1, tzinfo=timezone.utc), datetime(2028, 1, 1, tzinfo=timezone.utc)
    found, busy = [], []
    for _, record in whole_series(records):
        found += [(i.ts, i.address, i.name, round(i.weight, 6), i.initiator, i.fanout, i.hint, i.recurring)
                  for i in infer_event(record, me, zone, start, end).interactions]
        busy += busy_intervals(record, me, zone, start, end)
    return sorted(found), sorted(busy)


@pytest.mark.parametrize("name", sorted(CALENDARS))
def test_an_ics_file_and_the_same_events_in_google_give_the_same_meetings_and_busy_times(name, google, tmp_path):
    path = tmp_path / f"{name}.ics"
    path.write_bytes(CALENDARS[name])
    ics = IcsConnector("file", path=path)
    local = _meetings(("file", r) for r in ics.get_multi(list(ics.list().items)))
    google.state.calendars["c1"] = {"summary": "Cal", "events": {}}
    for event in events_from_ics(CALENDARS[name]):
        google.state.put_event("c1", event)
    gcal = GoogleCalendarConnector("gcal", ME, ("Cal",), google.token_path, google.url, base_delay=0.01)
    remote = _meetings(("gcal", r) for r in gcal.get_multi(list(gcal.list().items)))
    assert local[0] or name.startswith("event_"), "a case of its own has meetings (fixtures may have none)"
    assert remote == local


def test_the_converter_keeps_what_google_keeps_of_an_ics_event():
    (named,) = events_from_ics(CALENDARS["names"])
    assert named["attendees"][0] == {"email": "bob@x.example", "displayName": "Bob Stone", "responseStatus": "accepted"}
    (rooms,) = events_from_ics(CALENDARS["rooms"])
    assert [a.get("resource", False) for a in rooms["attendees"]] == [False, True, True]
    (dur,) = events_from_ics(CALENDARS["duration"])
    assert dur["end"] == {"dateTime": "2026-03-10T13:00:00+00:00", "timeZone": "UTC"}
    (free,) = events_from_ics(CALENDARS["transparent"])
    assert free["transparency"] == "transparent"
    (upper,) = events_from_ics(CALENDARS["upper_case_mailto"])
    assert upper["organizer"] == {"email": "bob@x.example"}
    (windows,) = events_from_ics(CALENDARS["windows_zone_series"])
    assert windows["start"] == {"dateTime": "2026-03-05T10:00:00+01:00", "timeZone": "Europe/Berlin"}
    (odd,) = events_from_ics(CALENDARS["odd_zone_series"])
    assert odd["start"] == {"dateTime": "2026-03-05T10:00:00+05:30"}  # no name Google knows: the offset
