"""End to end through the real command line, on a copy of the bundled sample."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from icalendar import Calendar

import daemon
from daemon.cli import main
from tests.helpers import REPO
from tests.helpers import tiekeeper as tk

ICALJS = REPO / "tests" / "js" / "node_modules" / "ical.js"
PLANTED = {  # what sample/generate.py plants, by address
    "jane@home.example.com": {"lapsed"},
    "sam.rivera@example.com": {"you_initiate"},
    "priya@lumen.example": {"lapsed"},
    "tom@becker.example.net": {"unanswered_by_them"},  # an unanswered run is no lapse
    "mia.chen@example.org": {"unanswered_by_you"},
    "luca@rossi-consulting.example": set(),
    "nora.park@northwind.example": set(),
    "ben@ortiz.example.com": set(),
}
NOISE = ("news@weekly.example", "noreply@shop.example", "greg@growthleads.example", "rachel@staffing.example",
         "ann@lists.example.org", "raj@example.net", "member0@bigproject.example", "a1@northconf.example",
         "events@northconf.example")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The sample and the example config, copied so the test writes nowhere in the repo."""
    d = tmp_path_factory.mktemp("sample")
    shutil.copytree(REPO / "sample", d / "sample")
    shutil.copy(REPO / "config.example.toml", d / "config.toml")
    return d



@pytest.fixture(scope="module")
def ran(sample):
    result = tk(sample / "config.toml", "run", "--once")
    assert result.returncode == 0, result.stderr
    return result


def test_the_daemon_package_is_this_repo_not_python_daemon():
    assert Path(daemon.__file__).resolve().is_relative_to(REPO)


def test_run_once_prints_the_flags_and_where_the_outputs_went(sample, ran):
    assert "Jane Doe" in ran.stdout and "[lapsed]" in ran.stdout
    assert f"followups: {sample / 'out' / 'follow-ups.ics'}" in ran.stdout
    assert f"digest: {sample / 'out' / 'digest.eml'}" in ran.stdout


def test_report_json_has_the_public_shape_and_the_planted_flags(sample, ran):
    result = tk(sample / "config.toml", "report", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["as_of"] == "2026-11-20T08:00:00+00:00"
    found = {}
    for c in data["contacts"]:
        assert {"id", "name", "emails", "relationship", "interactions", "last_interaction", "expected_gap_days", "flags"} <= set(c)
        assert c["relationship"] in ("personal", "professional", "unknown")
        for f in c["flags"]:
            assert f["kind"] in ("lapsed", "one_sided") and f["why"]
            if f["kind"] == "one_sided":
                assert f["pattern"] in ("you_initiate", "they_initiate", "unanswered_by_them", "unanswered_by_you")
        found[c["emails"][0]] = {f.get("pattern") or f["kind"] for f in c["flags"]}
    assert found == PLANTED
    everyone = {e for c in data["contacts"] for e in c["emails"]}
    assert not everyone & set(NOISE)
    jane = next(c for c in data["contacts"] if "jane@home.example.com" in c["emails"])
    assert set(jane["emails"]) == {"jane@home.example.com", "jane.doe@example.org"}  # merged across addresses and name forms


def test_followups_ics_parses_with_icalendar_and_invites_nobody(sample, ran):
    cal = Calendar.from_ical((sample / "out" / "follow-ups.ics").read_bytes())
    events = cal.walk("VEVENT")
    assert len(events) == 5
    assert all(e.get("ATTENDEE") is None and e.get("ORGANIZER") is None for e in events)
    assert len({str(e["UID"]) for e in events}) == 5
    assert os.stat(sample / "out" / "follow-ups.ics").st_mode & 0o777 == 0o600


def test_followups_ics_parses_with_icaljs(sample, ran):
    if not (shutil.which("node") and ICALJS.is_dir()):
        if os.environ.get("CI"):
            pytest.fail("ical.js is missing in CI: .ci/run must install it (npm install --prefix tests/js)")
        pytest.skip("ical.js not installed: run `npm install --prefix tests/js` to enable this check")
    out = subprocess.run(["node", str(REPO / "tests" / "js" / "check-ics.cjs"), str(sample / "out" / "follow-ups.ics")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(events) == 5 and all(e["attendees"] == 0 and e["organizer"] is None for e in events)


def test_followups_avoid_the_busy_dentist_slot(sample, ran):
    cal = Calendar.from_ical((sample / "out" / "follow-ups.ics").read_bytes())
    source = Calendar.from_ical((sample / "sample" / "calendar.ics").read_bytes())
    busy = [(e["DTSTART"].dt, e["DTEND"].dt) for e in source.walk("VEVENT") if str(e["UID"]).startswith(("dentist", "offsite"))]
    for e in cal.walk("VEVENT"):
        s, t = e["DTSTART"].dt, e["DTEND"].dt
        assert all(not (s < b_end and b_start < t) for b_start, b_end in busy)


def test_digest_eml_is_multipart_with_sections(sample, ran):
    import email
    import email.policy

    msg = email.message_from_bytes((sample / "out" / "digest.eml").read_bytes(), policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    assert "Reconnect with friends" in text and "Replies you owe" in text and "Jane Doe" in text
    assert "<h2" in msg.get_body(("html",)).get_content()


def test_digest_preview_writes_the_html_privately_beside_the_eml(sample, ran):
    out = tk(sample / "config.toml", "digest", "--output", str(sample / "out" / "d.eml"),
                    "--preview", str(sample / "out" / "preview.html"))
    assert out.returncode == 0, out.stderr
    assert "HTML preview written to" in out.stdout
    preview = sample / "out" / "preview.html"
    html = preview.read_text()
    assert html.startswith("<!doctype html>") and "Reconnect with friends" in html and "Jane Doe" in html
    assert preview.stat().st_mode & 0o777 == 0o600


def test_a_second_sync_of_unchanged_sources_rewrites_no_record(sample, ran, monkeypatch, capsys):
    import sqlite3

    db = sample / "out" / "tiekeeper.db"
    before = sqlite3.connect(db).execute("SELECT source, ident, etag, data FROM records ORDER BY 1, 2").fetchall()
    import connectors.ics as ics
    import connectors.maildir as md

    monkeypatch.setattr(md, "read_header_fd", lambda *a: pytest.fail("re-parsed an unchanged message"))
    monkeypatch.setattr(ics, "parse_calendar_objects", lambda *a: pytest.fail("re-parsed an unchanged calendar"))
    assert main(["--config", str(sample / "config.toml"), "sync"]) == 0
    after = sqlite3.connect(db).execute("SELECT source, ident, etag, data FROM records ORDER BY 1, 2").fetchall()
    assert after == before


def test_info_logs_carry_no_addresses(sample, ran):
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", ran.stderr), ran.stderr


def test_explain_says_why_someone_is_or_is_not_a_contact(sample, ran):
    jane = tk(sample / "config.toml", "explain", "jane.doe@example.org")
    assert "Jane Doe is a contact" in jane.stdout and "FLAG lapsed" in jane.stdout
    assert "one-sided check: you started" in jane.stdout and "unanswered in a row" in jane.stdout
    news = tk(sample / "config.toml", "explain", "news@weekly.example")
    assert "dropped: role or no-reply sender" in news.stdout  # a newsletter from news@, on a list too
    greg = tk(sample / "config.toml", "explain", "greg@growthleads.example")
    assert "not a contact: they wrote, you never answered" in greg.stdout


def test_a_bad_config_exits_2_with_a_line_per_problem(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[identity]\naddresses = ["me@example.org"]\ncolour = "blue"\n'
                   '[sources.work]\ntype = "mbox"\npath = 42\n')
    result = tk(cfg, "report")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert any("identity.colour: unknown key" in line for line in lines)
    assert any("sources.work.path: expected a string, got 42" in line for line in lines)
    assert "Traceback" not in result.stderr


def test_bad_arguments_exit_2(sample):
    result = tk(sample / "config.toml", "report", "--as-of", "yesterday-ish")
    assert result.returncode == 2 and "expected an ISO date" in result.stderr


def test_a_missing_source_path_fails_that_source_with_one_line_and_keeps_the_rest(tmp_path, sample):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[identity]\naddresses = ["alex@home.example.net"]\n[store]\npath = "s.db"\n'
                   f'[sources.gone]\ntype = "maildir"\npath = "nowhere"\n'
                   f'[sources.cal]\ntype = "ics"\npath = "{sample / "sample" / "calendar.ics"}"\n')
    result = tk(cfg, "sync")
    assert result.returncode == 3
    assert "source gone:" in result.stderr and "nowhere is not a folder" in result.stderr
    assert "source cal:" in result.stderr and "Traceback" not in result.stderr


def test_help_teaches_the_commands():
    out = subprocess.run([sys.executable, "-m", "daemon", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for word in ("sync", "report", "followups", "digest", "run", "explain", "examples:"):
        assert word in out.stdout


def test_run_once_keeps_a_contacts_snapshot_in_the_store(sample, ran):
    import sqlite3

    rows = sqlite3.connect(sample / "out" / "tiekeeper.db").execute("SELECT name, flags FROM contacts").fetchall()
    assert len(rows) == len(PLANTED)
    assert any(name == "Jane Doe" and '"lapsed"' in flags for name, flags in rows)


def test_auth_password_for_a_caldav_source_without_a_username_stores_nothing_and_says_why(tmp_path):
    """It logs in with nobody, so a password would go unused: one line, exit 2, no prompt."""
    cfg = tmp_path / "config.toml"
    cfg.write_text('[identity]\naddresses = ["me@example.org"]\n'
                   '[sources.cal]\ntype = "caldav"\nurl = "http://127.0.0.1:9/dav/"\n')
    done = tk(cfg, "auth", "password", "cal")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "tiekeeper: error: source cal has no username, so it sends no password; nothing stored (if the server needs "
        "a login, add sources.cal.username to the config first)"]
    assert "password for" not in done.stdout + done.stderr
