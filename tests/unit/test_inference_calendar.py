import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from connectors.ics import parse_calendar_objects
from daemon.identity import Me
from daemon.inference.calendar import busy_intervals, infer_event
from daemon.models import EVENT, RawRecord
from tests.helpers import FIXTURES, ME, ME_WORK, calendar, vevent

me = Me([ME, ME_WORK])
BERLIN = ZoneInfo("Europe/Berlin")
START, END = datetime(2025, 6, 1, tzinfo=timezone.utc), datetime(2026, 6, 1, tzinfo=timezone.utc)


def _records(data: bytes) -> list[RawRecord]:
    return [RawRecord(uid, "e", EVENT, {"ics": text, "uid": uid}) for uid, text in parse_calendar_objects(data)]


def _infer(name: str):
    (rec,) = _records((FIXTURES / name).read_bytes())
    return infer_event(rec, me, BERLIN, START, END, "cal")


def test_a_meeting_i_declined_is_no_interaction():
    assert _infer("event_recurring_declined.ics").dropped == "meeting I declined"


def test_a_cancelled_meeting_is_no_interaction():
    assert _infer("event_cancelled.ics").dropped == "cancelled meeting"


def test_recurring_series_expands_and_a_cancelled_override_is_left_out():
    inferred = _infer("event_recurring_with_override.ics")
    assert len(inferred.interactions) == 7  # 8 weekly instances, one cancelled by its override
    i = inferred.interactions[0]
    assert (i.address, i.direction, i.initiator, i.recurring, i.hint) == ("nora@work.example", "both", "other", True, "work")
    assert i.weight == 1.5  # a meeting (x3), one other person, recurring (x0.5)


def test_trimmed_objects_keep_no_description_or_alarm():
    (rec,) = _records((FIXTURES / "event_recurring_with_override.ics").read_bytes())
    assert "private agenda" not in rec.data["ics"] and "VALARM" not in rec.data["ics"]


def test_all_day_event_with_many_attendees_is_no_meeting():
    assert _infer("event_allday_many_attendees.ics").dropped == "all-day event with many attendees"


def test_a_secondly_rule_from_1900_is_refused_quickly():
    t0 = time.process_time()
    inferred = _infer("event_hostile_secondly.ics")
    assert inferred.dropped == "recurrence too dense to be meetings between people"
    assert time.process_time() - t0 < 5  # a bound on work, not a benchmark: unbounded takes hours


def test_future_meetings_are_outside_the_window():
    ev = vevent("future@t", datetime(2026, 7, 1, 10, tzinfo=timezone.utc), attendees=[("a@x.example", "ACCEPTED")])
    (rec,) = _records(calendar(ev))
    assert infer_event(rec, me, BERLIN, START, END).interactions == ()


def test_everyone_else_declined_is_no_meeting():
    ev = vevent("d@t", datetime(2026, 3, 1, 10, tzinfo=timezone.utc), attendees=[("a@x.example", "DECLINED")])
    (rec,) = _records(calendar(ev))
    assert infer_event(rec, me, BERLIN, START, END).dropped == "everyone else declined"


def test_busy_intervals_skip_cancelled_and_transparent_events():
    t = datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    recs = _records(calendar(vevent("busy@t", t), vevent("free@t", t, extra=["TRANSP:TRANSPARENT"]),
                             vevent("gone@t", t, extra=["STATUS:CANCELLED"])))
    busy = [b for r in recs for b in busy_intervals(r, me, BERLIN, START, END)]
    assert busy == [(t.timestamp(), t.timestamp() + 3600)]


def test_a_one_off_meeting_was_started_by_its_organizer():
    ev = vevent("once@t", datetime(2026, 3, 1, 10, tzinfo=timezone.utc), organizer="ann@x.example",
                attendees=[("ann@x.example", "ACCEPTED"), (ME, "ACCEPTED")])
    (rec,) = _records(calendar(ev))
    (i,) = infer_event(rec, me, BERLIN, START, END).interactions
    assert (i.address, i.initiator, i.recurring) == ("ann@x.example", "them", False)


def test_our_own_follow_ups_read_back_from_a_calendar_are_neither_meetings_nor_busy_time():
    from daemon.models import followup_uid, google_event_id

    when = datetime(2026, 3, 2, 18, tzinfo=timezone.utc)
    uid = followup_uid("395059822cad", "20260912")
    for seen_as in (uid, google_event_id(uid) + "@google.com"):  # via CalDAV or ICS / via Google Calendar
        (rec,) = _records(calendar(vevent(seen_as, when, attendees=[("jane@x.example", "ACCEPTED")])))
        assert infer_event(rec, me, BERLIN, START, END, "cal").dropped == "tiekeeper's own follow-up event"
        assert busy_intervals(rec, me, BERLIN, START, END) == []
    (other,) = _records(calendar(vevent("tk-standup@google.com", when, attendees=[("jane@x.example", "ACCEPTED")])))
    assert infer_event(other, me, BERLIN, START, END, "cal").interactions  # a look-alike UID is a meeting


def test_cached_expansion_gives_what_a_fresh_one_gives_as_the_window_moves():
    from datetime import timedelta

    from daemon.inference import calendar as cal_mod

    records = []
    for name in ("event_recurring_with_override.ics", "event_recurring_declined.ics", "event_cancelled.ics",
                 "event_allday_many_attendees.ics"):
        records += _records((FIXTURES / name).read_bytes())
    # a weekly 1:1 from 2024 into 2027, a 3-hour event astride the window's start: the edges matter
    records += _records(calendar(vevent("weekly@t", datetime(2024, 1, 1, 9, tzinfo=timezone.utc),
                                        attendees=[("ann@x.example", "ACCEPTED")], extra=["RRULE:FREQ=WEEKLY;COUNT=200"])))
    records += _records(calendar(vevent("astride@t", START - timedelta(hours=1), minutes=180,
                                        attendees=[("bo@x.example", "ACCEPTED")])))
    windows = [(START, END), (END, END + timedelta(days=91)), (START + timedelta(days=3), END + timedelta(days=3)),
               (START - timedelta(days=400), END)]  # the last one reaches before the cached span
    cal_mod._EXPANDED.clear()
    for s, e in windows:
        for rec in records:
            cached = cal_mod.occurrences(rec, BERLIN, s, e)
            fresh = cal_mod._expand(rec, BERLIN, s, e)
            assert cached == fresh, (rec.ident, s, e)
    assert cal_mod._EXPANDED.entries  # it did cache
    # a changed object is a new key: never served from the old text
    (rec,) = _records(calendar(vevent("moved@t", datetime(2026, 3, 2, 9, tzinfo=timezone.utc))))
    first = cal_mod.occurrences(rec, BERLIN, START, END)[0]
    moved = RawRecord(rec.ident, rec.etag, EVENT, {**rec.data, "ics": rec.data["ics"].replace("20260302T09", "20260303T09")})
    assert cal_mod.occurrences(moved, BERLIN, START, END)[0][0].start == first[0].start + 86400


def test_the_expansion_cache_is_bounded_by_the_instances_it_holds():
    from daemon.inference.calendar import _ExpansionCache

    cache = _ExpansionCache(max_instances=3)
    for n in range(5):
        cache.put(f"text{n}", BERLIN, START, END, [object()] * 2, None)  # type: ignore[list-item]
    assert cache.held <= 3 and list(cache.entries)[-1] == ("text4", "Europe/Berlin")
