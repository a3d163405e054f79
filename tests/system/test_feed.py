"""The follow-ups feed as subscribed calendar apps read it, through the real CLI on the sample:
three independent parsers (icalendar, ical.js as in Thunderbird, libical as in GNOME/Evolution with
its RFC 5546 checks) accept it, it says how often to fetch it, and a resolved follow-up leaves it
(a feed cannot cancel: khal and calcurse show a CANCELLED event as a normal one)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.helpers import REPO, tiekeeper

LIBICAL_PYTHON = "/usr/bin/python3"  # the GObject bindings live in the system Python, not in a venv
ICALJS = REPO / "tests" / "js" / "node_modules" / "ical.js"
TOM = "tom@becker.example.net"  # lapsed in the sample: he has a follow-up


def _missing(what: str, install: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: .ci/run must install it ({install})")
    pytest.skip(f"{what} is not installed: {install}")


def libical_problems(path: Path) -> list[str]:
    out = subprocess.run([LIBICAL_PYTHON, str(REPO / "tests" / "libical_check.py"), str(path)],
                         capture_output=True, text=True, timeout=60)
    if out.returncode == 3 or not Path(LIBICAL_PYTHON).exists():
        _missing("libical's Python bindings", "apt-get install python3-gi gir1.2-ical-3.0")
    return out.stdout.splitlines() if out.returncode else []


def icaljs_events(path: Path) -> list[dict]:
    if not (shutil.which("node") and ICALJS.is_dir()):
        _missing("ical.js", "npm install --prefix tests/js")
    out = subprocess.run(["node", str(REPO / "tests" / "js" / "check-ics.cjs"), str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "sample", tmp_path / "sample")
    shutil.copy(REPO / "config.example.toml", tmp_path / "config.toml")
    return tmp_path / "config.toml"


def test_the_feed_passes_libical_icaljs_and_icalendar_and_says_how_often_to_refresh(home):
    run = tiekeeper(home, "run", "--once")
    assert run.returncode == 0, run.stderr
    feed = home.parent / "out" / "follow-ups.ics"
    assert libical_problems(feed) == []  # was: "Failed iTIP restrictions for ORGANIZER property"
    assert len(icaljs_events(feed)) == 5
    cal = Calendar.from_ical(feed.read_bytes())
    assert "METHOD" not in cal  # a subscribed feed is no iTIP message
    assert cal["REFRESH-INTERVAL"].to_ical() == b"PT1H" and cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert str(cal["X-PUBLISHED-TTL"]) == "PT1H"
    assert len(cal.walk("VEVENT")) == 5 and os.stat(feed).st_mode & 0o777 == 0o600


def test_a_resolved_followup_leaves_the_feed_instead_of_staying_as_cancelled(home):
    assert tiekeeper(home, "run", "--once").returncode == 0
    feed = home.parent / "out" / "follow-ups.ics"
    report = json.loads(tiekeeper(home, "report", "--format", "json").stdout)
    tom = next(c for c in report["contacts"] if TOM in c["emails"])
    before = {str(e["UID"]) for e in Calendar.from_ical(feed.read_bytes()).walk("VEVENT")}
    assert any(uid.startswith(tom["id"] + "-") for uid in before)

    assert tiekeeper(home, "log", TOM, "--date", "2026-11-19", "--note", "call").returncode == 0
    again = tiekeeper(home, "run", "--once")
    assert again.returncode == 0, again.stderr
    events = Calendar.from_ical(feed.read_bytes()).walk("VEVENT")
    after = {str(e["UID"]) for e in events}
    assert after == {uid for uid in before if not uid.startswith(tom["id"] + "-")}
    assert all(str(e["STATUS"]) == "CONFIRMED" for e in events)
    assert {e["uid"] for e in icaljs_events(feed)} == after and libical_problems(feed) == []
