"""`tiekeeper auth google` end to end: the real google-auth-oauthlib consent flow (loopback redirect)
against the local Google server's OAuth endpoints, a "browser" that follows the consent address, and
the token kept in a 0600 file or in a real Secret Service (GNOME Keyring in a private D-Bus session)."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys

import pytest

from connectors import google_api
from daemon.store import Store
from tests.helpers import ME, NOW, REPO, message, tiekeeper

BIN = REPO / "tests" / "bin"


def _browser(tmp_path):
    """A BROWSER command that 'consents' at once: it follows the address (and the redirect back to the
    flow's loopback server) in the background, as a browser would, while the flow waits for it."""
    script = tmp_path / "browser"
    script.write_text("#!/bin/sh\n"
                      f"'{sys.executable}' -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=30).read()'"
                      ' "$1" >/dev/null 2>&1 &\n')
    script.chmod(0o700)
    return script


def _setup(tmp_path, google, token_line: str) -> tuple:
    client = tmp_path / "client.json"
    client.write_text(json.dumps(google.client_file()))
    cfg = tmp_path / "t.toml"
    cfg.write_text(f'[identity]\naddresses = ["{ME}"]\n[store]\npath = "s.db"\n'
                   f'[sources.gmail]\ntype = "gmail"\naccount = "{ME}"\napi_endpoint = "{google.url}"\n{token_line}'
                   f'[sources.gcal]\ntype = "google_calendar"\naccount = "{ME}"\napi_endpoint = "{google.url}"\n{token_line}')
    google.state.add_message(message("bob@x.example", ME, NOW, msgid="<a1@t>"), ["INBOX"])
    google.state.put_event("primary", {"summary": "Lunch", "start": {"dateTime": NOW.isoformat()},
                                       "end": {"dateTime": NOW.isoformat()}, "organizer": {"email": ME},
                                       "attendees": [{"email": "bob@x.example", "responseStatus": "accepted"}]})
    google.revoke_all()  # only the consent below can give tiekeeper a working token
    env = {"BROWSER": str(_browser(tmp_path)), "OAUTHLIB_INSECURE_TRANSPORT": "1"}  # the local token endpoint is http
    return cfg, client, env


def test_auth_google_runs_the_consent_flow_and_keeps_the_token_in_a_0600_file(google, tmp_path):
    cfg, client, env = _setup(tmp_path, google, 'token_file = "tok.json"\n')
    auth = tiekeeper(cfg, "auth", "google", "--client-file", str(client), env=env, timeout=60)
    assert auth.returncode == 0, auth.stderr
    (consent,) = google.state.consents  # one consent covers both sources of the account
    assert sorted(consent["scope"].split()) == [google_api.CALENDAR_READ_SCOPE, google_api.GMAIL_SCOPE]
    assert consent["access_type"] == "offline" and consent["login_hint"] == ME
    token = tmp_path / "tok.json"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    info = json.loads(token.read_text())
    assert info["refresh_token"] in google.state.refresh_tokens and "token" not in info  # no access token kept
    assert info["token_uri"] == google.url + "token"
    assert info["refresh_token"] not in auth.stdout + auth.stderr  # never printed
    assert "source gmail: authorized" in auth.stdout and "source gcal: authorized" in auth.stdout
    sync = tiekeeper(cfg, "--verbose", "sync")
    assert sync.returncode == 0, sync.stderr
    store = Store(tmp_path / "s.db")
    assert len(store.stored_items("gmail")) == 1 and len(store.stored_items("gcal")) == 1
    store.close()
    # not even debug output carries a token: neither the refresh token nor an access token it earned
    logged = sync.stdout + sync.stderr
    assert "DEBUG" in logged and google.state.access_tokens
    assert all(t not in logged for t in [info["refresh_token"], *google.state.access_tokens])


def test_only_pushing_follow_ups_to_google_asks_to_write_the_calendar(google, tmp_path):
    cfg, client, env = _setup(tmp_path, google, 'token_file = "tok.json"\n')
    cfg.write_text(cfg.read_text() + '[outputs.followups]\ngoogle = "gcal"\n')
    assert tiekeeper(cfg, "auth", "google", "gcal", "--client-file", str(client), env=env, timeout=60).returncode == 0
    (consent,) = google.state.consents
    assert google_api.CALENDAR_WRITE_SCOPE in consent["scope"].split()
    assert google_api.GMAIL_SCOPE in consent["scope"].split()  # same account: one consent for both


def test_with_no_keyring_and_no_token_file_auth_refuses_before_the_consent(google, tmp_path):
    cfg, client, env = _setup(tmp_path, google, "")
    env.update({"DBUS_SESSION_BUS_ADDRESS": None, "PYTHON_KEYRING_BACKEND": None})
    before = sorted(tmp_path.iterdir())
    auth = tiekeeper(cfg, "auth", "google", "--client-file", str(client), env=env, timeout=60)
    assert auth.returncode == 2
    assert "the token would go to the keyring, but no secret store answers here" in auth.stderr
    assert "--token-file" in auth.stderr
    assert google.state.consents == []  # the user was not sent to consent for nothing
    assert sorted(tmp_path.iterdir()) == before  # and no plaintext token was written anywhere beside the config


def test_an_unsafe_keyring_backend_is_refused_not_used(monkeypatch):
    from daemon.secrets import keyring_backend

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    backend, why = keyring_backend()
    assert backend is None and "no safe secret store" in why


@pytest.mark.skipif(not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
                    reason="needs dbus-run-session and gnome-keyring-daemon (apt: dbus-daemon dbus-bin gnome-keyring); "
                           ".ci/run installs them")
def test_auth_google_keeps_the_token_in_a_real_secret_service_and_sync_reads_it(google, tmp_path):
    cfg, client, env = _setup(tmp_path, google, "")
    run = [sys.executable, "-m", "daemon", "--config", str(cfg)]
    script = (f"{' '.join(run)} auth google --client-file {client} && {' '.join(run)} sync && "
              f"{' '.join(run)} doctor")
    import os

    done = subprocess.run(["dbus-run-session", "--", "sh", str(BIN / "private-keyring"), "sh", "-c", script],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO), **env})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the token is in the keyring (keyring.backends.SecretService.Keyring)" in done.stdout
    assert "backend keyring.backends.SecretService.Keyring" in done.stdout  # doctor names it
    assert "source gmail" in done.stdout and "Gmail answers" in done.stdout
    assert not list(tmp_path.glob("tok*"))  # nothing written beside the config
    store = Store(tmp_path / "s.db")
    assert len(store.stored_items("gmail")) == 1 and len(store.stored_items("gcal")) == 1
    store.close()
