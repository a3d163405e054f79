"""The server types' checks against real local servers (Dovecot, Radicale, the Google API server):
``check(probe=False)`` (config check) only connects, ``check(probe=True)`` (doctor) goes through the
connector a sync uses, logging in, and says what a sync would meet."""

from __future__ import annotations

from pathlib import Path

from daemon.config import load
from tests.helpers import ME, NOW


def _source(tmp_path: Path, body: str):
    path = tmp_path / "c.toml"
    path.write_text(f'[identity]\naddresses = ["{ME}"]\n[store]\npath = "s.db"\n[sources.x]\n{body}\n')
    return load(path).source("x")


def test_imap_is_connected_to_then_logged_in_to(dovecot, tmp_path):
    body = (f'type = "imap"\nhost = "127.0.0.1"\nport = {dovecot.imaps}\nusername = "alice"\n'
            f'ca_file = "{dovecot.cert}"\n')
    src = _source(tmp_path, body + 'password_command = ["echo", "secret"]')
    knock = src.check(tmp_path, probe=False)
    assert knock.line() == f"ok   source x: 127.0.0.1:{dovecot.imaps} answers (TLS certificate verified)"
    login = src.check(tmp_path, probe=True)
    assert login.ok and login.detail.startswith(f"logged in to 127.0.0.1:{dovecot.imaps}, ") and "folder(s) to read" in login.detail
    wrong = _source(tmp_path, body + 'password_command = ["echo", "nope"]')
    assert wrong.check(tmp_path, probe=False).ok  # no password is sent
    refused = wrong.check(tmp_path, probe=True)
    assert not refused.ok and "refused the username or password" in refused.detail


def test_caldav_is_connected_to_then_its_calendars_found(radicale, tmp_path):
    body = f'type = "caldav"\nurl = "{radicale.url}"\nusername = "alice"\n'
    src = _source(tmp_path, body + 'password_command = ["echo", "secret"]')
    assert src.check(tmp_path, probe=False).line() == f"ok   source x: 127.0.0.1:{radicale.port} answers"
    found = src.check(tmp_path, probe=True)
    assert found.ok and found.detail.startswith("found ") and found.detail.endswith(f"calendar(s) at {radicale.url}")
    refused = _source(tmp_path, body + 'password_command = ["echo", "nope"]').check(tmp_path, probe=True)
    assert not refused.ok and "refused the username or password" in refused.detail


def test_gmail_and_google_calendar_are_connected_to_then_authorized(google, tmp_path):
    google.state.put_event("primary", {"id": "e1", "summary": "Sync", "start": {"dateTime": NOW.isoformat()},
                                       "end": {"dateTime": NOW.isoformat()}})
    where = google.url.removeprefix("http://").rstrip("/")
    for kind, said in (("gmail", f"authorized for {ME}; Gmail answers"),
                       ("google_calendar", f"authorized for {ME}; 1 calendar(s) to read")):
        src = _source(tmp_path, f'type = "{kind}"\naccount = "{ME}"\ntoken_file = "{google.token_path}"\n'
                                f'api_endpoint = "{google.url}"')
        assert src.check(tmp_path, probe=False).line() == f"ok   source x: {where} answers"
        assert src.check(tmp_path, probe=True).line() == f"ok   source x: {said}"
    assert google.state.stats["full_list:primary"] == 1  # the calendar was read, one event's worth


def test_a_google_calendar_without_a_token_is_not_called_authorized(google, tmp_path):
    """Reading only "primary" needs no calendar list: doctor said "authorized" without ever loading
    the token. The probe makes the request a sync starts with."""
    src = _source(tmp_path, f'type = "google_calendar"\naccount = "{ME}"\ntoken_file = "{tmp_path / "none.json"}"\n'
                            f'api_endpoint = "{google.url}"')
    missing = src.check(tmp_path, probe=True)
    assert not missing.ok and "none.json" in missing.detail + missing.fix, missing
    google.revoke_all()
    revoked = _source(tmp_path, f'type = "google_calendar"\naccount = "{ME}"\ntoken_file = "{google.token_path}"\n'
                                f'api_endpoint = "{google.url}"').check(tmp_path, probe=True)
    assert not revoked.ok, revoked
