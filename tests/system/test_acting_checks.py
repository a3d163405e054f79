"""snooze, ignore and log check who they are about, refuse what cannot be right, and can be undone."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

import pytest

from tests.helpers import tiekeeper


@pytest.fixture
def home(synced_sample):
    return synced_sample


def report(home) -> dict[str, dict]:
    data = json.loads(tiekeeper(home / "config.toml", "report", "--format", "json").stdout)
    return {c["emails"][0]: c for c in data["contacts"]}


def actions(home) -> list[tuple]:
    return sqlite3.connect(home / "out" / "tiekeeper.db").execute("SELECT address, kind FROM actions").fetchall()


def test_log_refuses_a_mistyped_address_and_stores_nothing(home):
    out = tiekeeper(home / "config.toml", "log", "who@nowhere.example")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("tiekeeper:")]
    assert len(errors) == 1 and "who@nowhere.example appears nowhere in your mail" in errors[0], out.stderr
    assert "--new --name" in out.stderr
    assert actions(home) == [] and "who@nowhere.example" not in report(home)


def test_log_new_needs_a_name_and_then_makes_that_person(home):
    bare = tiekeeper(home / "config.toml", "log", "sam@new.example", "--new")
    assert bare.returncode == 2 and "--new needs --name" in bare.stderr and actions(home) == []
    for day in ("2026-10-01", "2026-10-20", "2026-11-10"):
        out = tiekeeper(home / "config.toml", "log", "sam@new.example", "--new", "--name", "Sam Lee", "--date", day)
        assert out.returncode == 0, out.stderr
    assert report(home)["sam@new.example"]["name"] == "Sam Lee"
    again = tiekeeper(home / "config.toml", "log", "sam@new.example", "--date", "2026-11-12")  # a contact now
    assert again.returncode == 0, again.stderr


def test_log_refuses_a_date_in_the_future(home):
    tomorrow = (datetime.now() + timedelta(days=2)).date().isoformat()
    out = tiekeeper(home / "config.toml", "log", "tom@becker.example.net", "--date", tomorrow)
    assert out.returncode == 2 and "is in the future" in out.stderr and actions(home) == []


def test_log_undo_removes_the_latest_logged_contact(home):
    assert report(home)["tom@becker.example.net"]["flags"]
    assert tiekeeper(home / "config.toml", "log", "Tom Becker <tom@becker.example.net>", "--date", "2026-11-18").returncode == 0
    assert not report(home)["tom@becker.example.net"]["flags"]
    out = tiekeeper(home / "config.toml", "log", "tom@becker.example.net", "--undo")
    assert out.returncode == 0 and "18 Nov 2026" in out.stdout and "removed" in out.stdout
    assert report(home)["tom@becker.example.net"]["flags"]
    nothing = tiekeeper(home / "config.toml", "log", "tom@becker.example.net", "--undo")
    assert nothing.returncode == 2 and "no logged contact" in nothing.stderr


def test_snooze_undo_lifts_the_snooze(home):
    assert tiekeeper(home / "config.toml", "snooze", "jane@home.example.com", "30d").returncode == 0
    assert not report(home)["jane@home.example.com"]["flags"]
    out = tiekeeper(home / "config.toml", "snooze", "jane@home.example.com", "--undo")
    assert out.returncode == 0 and "snooze lifted" in out.stdout
    assert report(home)["jane@home.example.com"]["flags"]
    again = tiekeeper(home / "config.toml", "snooze", "jane@home.example.com", "--undo")
    assert again.returncode == 2 and "is not snoozed" in again.stderr


def test_snooze_and_ignore_warn_about_an_address_that_is_no_contact(home):
    known = tiekeeper(home / "config.toml", "snooze", "jane@home.example.com", "2w")
    assert known.returncode == 0 and "warning" not in known.stderr
    typo = tiekeeper(home / "config.toml", "snooze", "jane@hom.example.com", "2w")
    assert typo.returncode == 0 and "warning: jane@hom.example.com appears nowhere" in typo.stderr
    seen = tiekeeper(home / "config.toml", "snooze", "greg@growthleads.example", "2w")
    assert "warning: greg@growthleads.example is not one of your contacts" in seen.stderr
    ignored = tiekeeper(home / "config.toml", "ignore", "who@nowhere.example")
    assert ignored.returncode == 0 and "warning: who@nowhere.example appears nowhere" in ignored.stderr
    news = tiekeeper(home / "config.toml", "ignore", "news@weekly.example")  # seen: ignoring it is a fair wish
    assert news.returncode == 0 and "warning" not in news.stderr
    undo = tiekeeper(home / "config.toml", "ignore", "--undo", "who@nowhere.example")
    assert undo.returncode == 0 and "no longer ignored" in undo.stdout


def test_set_corrects_a_tie_shows_it_and_can_be_undone(home):
    before = report(home)["sam.rivera@example.com"]
    out = tiekeeper(home / "config.toml", "set", "Sam Rivera <sam.rivera@example.com>", "--relationship", "professional",
                    "--cadence", "2w")
    assert out.returncode == 0 and "wins over what tiekeeper infers" in out.stdout, out.stderr
    after = report(home)["sam.rivera@example.com"]
    assert before["relationship"] == "personal" and after["relationship"] == "professional"
    assert after["expected_gap_days"] == 14.0
    explained = tiekeeper(home / "config.toml", "explain", "sam.rivera@example.com").stdout
    assert "set by you in tiekeeper set" in explained
    text = tiekeeper(home / "config.toml", "report").stdout
    assert "Sam Rivera <sam.rivera@example.com> — professional, usually every 2 weeks (as you set it)" in text
    # a second correction keeps what it does not change; undo takes back one at a time
    assert tiekeeper(home / "config.toml", "set", "sam.rivera@example.com", "--relationship", "family").returncode == 0
    assert (report(home)["sam.rivera@example.com"]["relationship"], report(home)["sam.rivera@example.com"]["expected_gap_days"]) == ("family", 14.0)
    assert tiekeeper(home / "config.toml", "set", "sam.rivera@example.com", "--undo").returncode == 0
    assert report(home)["sam.rivera@example.com"]["relationship"] == "professional"
    assert tiekeeper(home / "config.toml", "set", "sam.rivera@example.com", "--undo").returncode == 0
    assert report(home)["sam.rivera@example.com"] == before
    undo = tiekeeper(home / "config.toml", "set", "sam.rivera@example.com", "--undo")
    assert undo.returncode == 2 and "nothing was set" in undo.stderr
    bad = tiekeeper(home / "config.toml", "set", "sam.rivera@example.com")
    assert bad.returncode == 2 and "--relationship" in bad.stderr and "Traceback" not in bad.stderr
