"""Acting on it: snooze, ignore, log and contacts each change what the next outputs say."""

from __future__ import annotations

import json

import pytest
from icalendar import Calendar

from tests.helpers import tiekeeper


@pytest.fixture
def home(synced_sample):
    return synced_sample


def flags(home) -> dict[str, set]:
    data = json.loads(tiekeeper(home / "config.toml", "report", "--format", "json").stdout)
    return {c["emails"][0]: {f.get("pattern") or f["kind"] for f in c["flags"]} for c in data["contacts"]}


def test_snooze_holds_back_a_contacts_nudges_until_its_date(home):
    assert "lapsed" in flags(home)["jane@home.example.com"]
    out = tiekeeper(home / "config.toml", "snooze", "jane.doe@example.org", "30d")  # any of her addresses
    assert out.returncode == 0 and "held back until 20 Dec 2026" in out.stdout
    assert flags(home)["jane@home.example.com"] == set()
    later = json.loads(tiekeeper(home / "config.toml", "report", "--format", "json", "--as-of", "2026-12-21").stdout)
    jane = next(c for c in later["contacts"] if "jane@home.example.com" in c["emails"])
    assert jane["flags"]  # the snooze is over
    assert tiekeeper(home / "config.toml", "run", "--once").returncode == 0
    summaries = [str(e["SUMMARY"]) for e in Calendar.from_ical((home / "out" / "follow-ups.ics").read_bytes()).walk("VEVENT")]
    assert not any("Jane" in s for s in summaries) and len(summaries) == 4


def test_a_logged_offline_contact_resets_the_clock(home):
    assert flags(home)["tom@becker.example.net"] == {"unanswered_by_them"}
    out = tiekeeper(home / "config.toml", "log", "tom@becker.example.net", "--date", "2026-11-18", "--note", "coffee")
    assert out.returncode == 0 and "logged (coffee)" in out.stdout
    assert flags(home)["tom@becker.example.net"] == set()


def test_ignore_removes_someone_and_undo_brings_them_back(home):
    assert "sam.rivera@example.com" in flags(home)
    assert tiekeeper(home / "config.toml", "ignore", "sam.rivera@example.com").returncode == 0
    assert "sam.rivera@example.com" not in flags(home)
    assert tiekeeper(home / "config.toml", "ignore", "--undo", "sam.rivera@example.com").returncode == 0
    assert "sam.rivera@example.com" in flags(home)


def test_contacts_lists_and_filters_by_flag_and_kind(home):
    out = tiekeeper(home / "config.toml", "contacts", "--flag", "lapsed")
    assert out.stdout.strip().endswith("2 contact(s)") and "Jane Doe" in out.stdout and "Sam Rivera" not in out.stdout
    pro = json.loads(tiekeeper(home / "config.toml", "contacts", "--kind", "professional", "--format", "json").stdout)
    assert {c["name"] for c in pro} == {"Luca Rossi", "Mia Chen", "Nora Park", "Priya Shah"}
    calm = tiekeeper(home / "config.toml", "contacts", "--flag", "none")
    assert "Ben Ortiz" in calm.stdout and "Jane Doe" not in calm.stdout


def test_bad_arguments_are_one_line_with_exit_2(home):
    bad = tiekeeper(home / "config.toml", "snooze", "jane@home.example.com", "soon")
    assert bad.returncode == 2 and "expected a duration like 30d" in bad.stderr and "Traceback" not in bad.stderr
    nobody = tiekeeper(home / "config.toml", "log", "not-an-address")
    assert nobody.returncode == 2 and "is not an email address" in nobody.stderr
