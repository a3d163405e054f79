import email
import email.policy
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from daemon.analysis.report import Contact, Flag, Report
from daemon.config import FollowupsConfig
from daemon.outputs import digest, followups

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 20, 9, tzinfo=ZONE)  # a Friday


def contact(cid: str, name: str, relationship: str = "personal", flags=None, last_two_way_days: float = 60) -> Contact:
    flags = flags if flags is not None else (Flag("lapsed", f"Last two-way contact of {name}.", None, 2.0),)
    last = NOW.timestamp() - last_two_way_days * 86400
    return Contact(id=cid, name=name, emails=(f"{cid}@x.example",), relationship=relationship, confidence=0.9,
                   tier="close", interactions=10, conversations=5, two_way_conversations=5, days_with_contact=5,
                   first_interaction=last - 1e7, last_interaction=last, last_two_way=last, expected_gap_days=14.0,
                   flags=tuple(flags))


def rep(*contacts: Contact, now: datetime = NOW) -> Report:
    return Report(now, tuple(contacts), monthly=(("2026-10", 4), ("2026-11", 2)))


def test_professional_followups_land_in_working_hours_and_personal_in_free_evenings_or_weekends():
    cfg = FollowupsConfig()
    planned = followups.plan(rep(contact("a", "Ann", "professional"), contact("b", "Ben")), [], [], cfg, ZONE)
    by = {f.contact: datetime.fromtimestamp(f.start, ZONE) for f in planned}
    assert by["a"].weekday() < 5 and 9 <= by["a"].hour < 17
    b = by["b"]
    assert b.weekday() >= 5 or b.hour >= 18


def test_placement_never_overlaps_a_busy_event():
    cfg = FollowupsConfig()
    sat = datetime(2026, 11, 21, 10, tzinfo=ZONE)
    busy = [(sat.timestamp(), sat.timestamp() + 8 * 3600)]  # all Saturday daytime
    planned = followups.plan(rep(contact("b", "Ben")), [], busy, cfg, ZONE)
    (f,) = planned
    assert not (f.start < busy[0][1] and busy[0][0] < f.end)


def test_budget_spreads_a_backlog_over_weeks():
    cfg = FollowupsConfig(per_day=2, per_week=5)
    many = [contact(f"c{n}", f"Person {n}") for n in range(12)]
    planned = followups.plan(rep(*many), [], [], cfg, ZONE)
    weeks = {}
    days = {}
    for f in planned:
        d = datetime.fromtimestamp(f.start, ZONE).date()
        weeks[d.isocalendar()[:2]] = weeks.get(d.isocalendar()[:2], 0) + 1
        days[d] = days.get(d, 0) + 1
    assert len(planned) == 12 and max(weeks.values()) <= 5 and max(days.values()) <= 2


def test_a_rerun_keeps_uid_and_slot_and_a_resumed_contact_is_cancelled_with_a_higher_sequence():
    cfg = FollowupsConfig()
    first = followups.plan(rep(contact("a", "Ann")), [], [], cfg, ZONE)
    again = followups.plan(rep(contact("a", "Ann")), first, [], cfg, ZONE)
    assert again == first
    resumed = followups.plan(rep(), first, [], cfg, ZONE)
    (f,) = resumed
    assert (f.uid, f.status, f.sequence) == (first[0].uid, "CANCELLED", first[0].sequence + 1)


def test_a_changed_text_bumps_the_sequence_but_keeps_the_uid():
    cfg = FollowupsConfig()
    first = followups.plan(rep(contact("a", "Ann")), [], [], cfg, ZONE)
    changed = followups.plan(rep(contact("a", "Ann", flags=(Flag("lapsed", "new words", None, 3.0),))), first, [], cfg, ZONE)
    assert changed[0].uid == first[0].uid and changed[0].sequence == 1


def test_ics_has_no_attendees_and_hostile_names_cannot_break_it():
    evil = "Eve\r\nATTENDEE:mailto:x@evil.example\u202e\x00"
    planned = followups.plan(rep(contact("e", evil)), [], [], FollowupsConfig(), ZONE)
    data = followups.to_ics(planned, alarm_minutes=15)
    cal = Calendar.from_ical(data)
    (ev,) = cal.walk("VEVENT")
    assert ev.get("ATTENDEE") is None and ev.get("ORGANIZER") is None
    assert "\n" not in str(ev["SUMMARY"]) and "\u202e" not in str(ev["SUMMARY"]) and "\x00" not in data.decode()
    assert b"\nATTENDEE" not in data
    assert len(ev.walk("VALARM")) == 1


def test_digest_is_multipart_with_sections_and_whys_and_names_only_in_the_body():
    r = rep(contact("a", "Ann\r\nBcc: victim@x.example", "professional"), contact("b", "<b>Ben</b>"),
            contact("c", "Cara", flags=(Flag("one_sided", "They wrote 3 times.", "unanswered_by_you", 3.0),)))
    msg = digest.build(r, ZONE)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert "Bcc" not in parsed and "victim" not in str(parsed["Subject"])
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    for title in ("Reconnect with friends", "Follow up professionally", "Replies you owe"):
        assert title in text and title in html
    assert "Last two-way contact of <b>Ben</b>." in text
    assert "&lt;b&gt;Ben&lt;/b&gt;" in html and "<b>Ben</b>" not in html
    assert "They wrote 3 times." in html


def test_digest_with_nothing_to_do_says_so():
    msg = digest.build(rep(), ZONE)
    assert "all your ties are on rhythm" in msg["Subject"]


def test_followups_never_start_in_the_past():
    planned = followups.plan(rep(contact("a", "Ann")), [], [], FollowupsConfig(), ZONE)
    assert all(f.start > NOW.timestamp() for f in planned)


def test_a_followup_title_says_the_rhythm_the_silence_and_who_started_lately():
    from dataclasses import replace

    jane = replace(contact("j", "Jane"), recent_initiation="You started the last 4.")
    (f,) = followups.plan(rep(jane), [], [], FollowupsConfig(), ZONE)
    assert f.summary == "Reconnect with Jane — usually every 2 weeks, last two-way contact 2 months ago; you started the last 4"
    prof = replace(contact("p", "Priya", "professional"), recent_initiation="They started the last 5.")
    (g,) = followups.plan(rep(prof), [], [], FollowupsConfig(), ZONE)
    assert g.summary.startswith("Follow up with Priya") and g.summary.endswith("; they started the last 5")


def test_the_digest_chart_names_months_shows_counts_and_marks_the_running_month_as_partial():
    monthly = (("2025-12", 7), ("2026-01", 9), ("2026-10", 40), ("2026-11", 12))
    msg = digest.build(Report(NOW, (), monthly=monthly), ZONE)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    html = parsed.get_body(("html",)).get_content()
    chart = html[html.index("Interactions per month"):]
    for label, count in (("Dec", 7), ("Jan 26", 9), ("Oct", 40), ("Nov", 12)):
        assert f">{count}</div>" in chart and label in chart
    assert "Nov<br>so far" in chart and "Nov so far (to 20 Nov)" in chart  # the 20th: not a drop
    assert chart.count("dashed") == 1  # only the running month's bar
    text = parsed.get_body(("plain",)).get_content()
    assert "Interactions per month: Dec 7, Jan 26 9, Oct 40, Nov 12 (so far). Nov so far (to 20 Nov)." in text


def test_a_finished_month_is_not_marked_partial():
    msg = digest.build(Report(datetime(2026, 12, 1, 9, tzinfo=ZONE), (), monthly=(("2026-11", 12),)), ZONE)
    assert "so far" not in msg.get_body(("html",)).get_content().split("Interactions per month")[1]
