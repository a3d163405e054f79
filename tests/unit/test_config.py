import tomllib
from pathlib import Path

import pytest

from daemon.config import load, parse
from daemon.errors import ConfigError
from tests.helpers import REPO


def _problems(data: dict, tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse(data, tmp_path / "c.toml")
    return e.value.problems


def test_example_config_loads_and_points_at_the_bundled_sample():
    cfg = load(REPO / "config.example.toml")
    assert {s.name for s in cfg.sources} == {"home_mail", "calendar"}
    assert cfg.source("home_mail").path == REPO / "sample" / "mail"
    assert cfg.source("home_mail").path.is_dir()
    assert cfg.followups.path == REPO / "out" / "follow-ups.ics"
    assert cfg.identity.timezone == "Europe/Berlin"


def test_example_config_mentions_every_key_the_parser_reads():
    """config.example.toml documents every option: each key the parser knows appears in it."""
    text = (REPO / "config.example.toml").read_text()
    for key in ("addresses", "timezone", "path", "type", "url", "context", "working_hours", "personal_hours",
                "duration_minutes", "per_day", "per_week", "alarm_minutes", "as_of", "window_days", "sync_every",
                "name", "relationship", "cadence_days", "ignore", "every", "host", "port", "tls", "username", "password_command", "folders", "ca_file", "calendars", "smtp_host", "smtp_port", "smtp_tls", "to", "from",
                "account", "token_file", "quota", "quota_units_per_minute", "api_endpoint", "caldav", "google",
                "calendar"):
        assert f"{key} =" in text, key


def test_every_commented_source_in_the_example_is_valid_once_uncommented(tmp_path):
    """The examples a user uncomments (imap, caldav, gmail, google_calendar) parse without a problem."""
    import re

    lines = (REPO / "config.example.toml").read_text().splitlines()
    uncommented, inside = [], False
    for line in lines:
        if re.match(r"^# \[sources\.", line):
            inside = True
        elif inside and not re.match(r"^# [a-z_]+ = ", line):
            inside = line.startswith("#   ") or line.startswith("#    ")  # a continued comment stays inside
            if not inside:
                uncommented.append(line)
            continue
        uncommented.append(line[2:] if inside else line)
    text = "\n".join(uncommented)
    data = tomllib.loads(text)
    types = {s["type"] for s in data["sources"].values()}
    assert {"imap", "caldav", "gmail", "google_calendar"} <= types
    (tmp_path / "server-cert.pem").write_text("x")
    cfg = parse(data, tmp_path / "c.toml")
    assert cfg.source("gmail").quota_units_per_minute == 15000
    assert cfg.source("gcal").calendars == ("primary",)


def test_every_problem_is_reported_at_once_with_its_path(tmp_path):
    problems = _problems({
        "identity": {"addresses": ["me@example.org"], "timezon": "Europe/Berlin"},
        "sources": {"work": {"type": "maildir", "path": 5}, "cal": {"type": "exchange"}},
        "outputs": {"followups": {"per_day": "x"}},
    }, tmp_path)
    joined = "\n".join(problems)
    assert "identity.timezon: unknown key; valid keys here: addresses, context, timezone" in joined
    assert "sources.work.path: expected a string, got 5" in joined
    assert 'sources.cal.type: expected one of maildir, mbox, ics, imap, caldav, gmail, google_calendar, got "exchange"' in joined
    assert 'outputs.followups.per_day: expected an integer, got "x"' in joined
    assert len(problems) == 4


def test_missing_identity_addresses_is_named(tmp_path):
    assert any(p.startswith("identity.addresses: missing") for p in _problems({"sources": {}}, tmp_path))


def test_bad_timezone_and_email_are_rejected(tmp_path):
    problems = _problems({"identity": {"addresses": ["not-an-address"], "timezone": "Mars/Olympus"}}, tmp_path)
    assert any("identity.addresses[0]" in p for p in problems)
    assert any("identity.timezone: unknown time zone" in p for p in problems)


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    cfg = parse({"identity": {"addresses": ["me@example.org"]},
                 "sources": {"m": {"type": "mbox", "path": "mail/archive.mbox"}}}, tmp_path / "sub" / "c.toml")
    assert cfg.source("m").path == (tmp_path / "sub" / "mail" / "archive.mbox")


def test_ics_source_needs_exactly_one_of_path_and_url(tmp_path):
    problems = _problems({"identity": {"addresses": ["me@example.org"]},
                          "sources": {"c": {"type": "ics", "path": "a.ics", "url": "https://x.example/a.ics"}}}, tmp_path)
    assert problems == ["sources.c: an ics source needs exactly one of path or url"]


def test_people_overrides_are_validated(tmp_path):
    problems = _problems({"identity": {"addresses": ["me@example.org"]},
                          "people": [{"addresses": ["a@x.example"], "relationship": "friend", "cadence_days": -3}]}, tmp_path)
    assert any(p.startswith('people[0].relationship: expected one of personal, professional') for p in problems)
    assert any(p.startswith("people[0].cadence_days: expected a number above 0") for p in problems)


def test_sync_every_and_hours_parse(tmp_path):
    cfg = parse({"identity": {"addresses": ["me@example.org"]}, "schedule": {"sync_every": "2h"},
                 "outputs": {"followups": {"working_hours": "08:30-16:00"}}}, tmp_path / "c.toml")
    assert cfg.schedule.sync_every_minutes == 120
    assert cfg.followups.working_hours[0].hour == 8 and cfg.followups.working_hours[0].minute == 30
    problems = _problems({"identity": {"addresses": ["me@example.org"]}, "schedule": {"sync_every": "often"},
                          "outputs": {"followups": {"personal_hours": "21:00-18:00"}}}, tmp_path)
    assert len(problems) == 2


def test_missing_file_and_bad_toml_name_the_file(tmp_path):
    with pytest.raises(ConfigError) as e:
        load(tmp_path / "nope.toml")
    assert "nope.toml" in e.value.lines()[0]
    bad = tmp_path / "bad.toml"
    bad.write_text("[identity\n")
    with pytest.raises(ConfigError) as e:
        load(bad)
    assert "bad.toml: not valid TOML" in e.value.lines()[0]


def test_example_is_valid_toml():
    tomllib.loads((REPO / "config.example.toml").read_text())


def test_the_commented_imap_example_is_valid_when_uncommented(tmp_path):
    import re

    text = (REPO / "config.example.toml").read_text()
    block = re.search(r"# \[sources\.work_mail\].*?# ca_file[^\n]*\n", text, re.S).group(0)
    source = "\n".join(line[2:] if line.startswith("# ") else line for line in block.splitlines())
    data = tomllib.loads('[identity]\naddresses = ["me@example.org"]\n' + source)
    cfg = parse(data, tmp_path / "c.toml")
    imap = cfg.source("work_mail")
    assert (imap.type, imap.port, imap.tls, imap.password_command) == ("imap", 993, "ssl", ("pass", "show", "fastmail"))


def test_secrets_in_the_config_file_are_refused(tmp_path):
    problems = _problems({"identity": {"addresses": ["me@example.org"]},
                          "sources": {"w": {"type": "imap", "host": "imap.example.org", "username": "me",
                                            "password": "hunter2"}}}, tmp_path)
    assert problems == ["sources.w.password: secrets never go in the config file: use password_command, "
                        "or store it in the keyring with `tiekeeper auth password w`"]
    assert not any("hunter2" in p for p in problems)


def test_the_commented_caldav_example_is_valid_when_uncommented(tmp_path):
    import re

    text = (REPO / "config.example.toml").read_text()
    block = re.search(r"# \[sources\.calendars\].*?# ca_file[^\n]*\n", text, re.S).group(0)
    source = "\n".join(line[2:] if line.startswith("# ") else line for line in block.splitlines())
    cfg = parse(tomllib.loads('[identity]\naddresses = ["me@example.org"]\n' + source), tmp_path / "c.toml")
    dav = cfg.source("calendars")
    assert (dav.type, dav.url, dav.calendars) == ("caldav", "https://caldav.fastmail.com/dav/", ("Personal", "Work"))


def test_caldav_over_plain_http_is_refused_except_on_loopback(tmp_path):
    problems = _problems({"identity": {"addresses": ["me@example.org"]},
                          "sources": {"c": {"type": "caldav", "url": "http://dav.example.org/"}}}, tmp_path)
    assert problems == ["sources.c.url: plain http sends your password in clear text: use https (http only for loopback hosts)"]


def test_the_digest_day_and_time_come_from_outputs_digest_every(tmp_path):
    base = {"identity": {"addresses": ["me@example.org"]}}
    cfg = parse({**base, "outputs": {"digest": {"path": "d.eml", "every": "Friday 17:30"}}}, tmp_path / "c.toml")
    assert (cfg.schedule.digest_weekday, cfg.schedule.digest_time.isoformat()) == (4, "17:30:00")
    old = parse({**base, "schedule": {"digest": "sunday 09:00"}}, tmp_path / "c.toml")  # the older key still works
    assert old.schedule.digest_weekday == 6
    assert parse(base, tmp_path / "c.toml").schedule.digest_weekday == 0  # default: Monday 08:00
    both = _problems({**base, "schedule": {"digest": "sunday 09:00"}, "outputs": {"digest": {"every": "monday 8:00"}}},
                     tmp_path)
    assert both == ["schedule.digest: the digest's day and time are set twice; keep outputs.digest.every"]
    bad = _problems({**base, "outputs": {"digest": {"every": "someday 25:00"}}}, tmp_path)
    assert bad == ['outputs.digest.every: expected a weekday and a time like "monday 08:00", got "someday 25:00"']


def test_plain_text_imap_and_smtp_are_refused_except_on_loopback(tmp_path):
    base = {"identity": {"addresses": ["me@example.org"]}}
    imap = {"type": "imap", "port": 143, "tls": "none", "username": "me", "password_command": ["echo", "x"]}
    remote = _problems({**base, "sources": {"w": {**imap, "host": "imap.example.org"}},
                        "outputs": {"digest": {"smtp_host": "smtp.example.org", "smtp_tls": "none", "to": "me@example.org"}}},
                       tmp_path)
    assert remote == ['sources.w.tls: "none" sends your password in clear text: only allowed for a loopback host, '
                      'not "imap.example.org"',
                      'outputs.digest.smtp_tls: "none" sends mail and passwords in clear text: only allowed for a '
                      'loopback host, not "smtp.example.org"']
    for host in ("127.0.0.1", "localhost"):
        cfg = parse({**base, "sources": {"w": {**imap, "host": host}},
                     "outputs": {"digest": {"smtp_host": host, "smtp_tls": "none", "to": "me@example.org"}}},
                    tmp_path / "c.toml")
        assert cfg.source("w").tls == "none" and cfg.digest.smtp_tls == "none"


def test_identity_context_says_what_an_account_carries(tmp_path):
    base = {"identity": {"addresses": ["me@work.example", "me@home.example"]}, "sources": {}}
    cfg = parse({**base, "identity": {**base["identity"], "context": {"me@work.example": "professional"}}}, tmp_path / "c.toml")
    assert cfg.identity.contexts == (("me@work.example", "professional"),)
    problems = _problems({**base, "identity": {**base["identity"], "context": {"x@y.example": "professional",
                                                                              "me@home.example": "fun"}}}, tmp_path)
    assert "identity.context.x@y.example: not one of identity.addresses; add it there first" in problems
    assert 'identity.context.me@home.example: expected "personal" or "professional", got "fun"' in problems
