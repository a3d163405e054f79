"""Gmail and Google Calendar through the real google-api-python-client, over real HTTP, against the
local Google API server of tests/google_server.py: pagination, batch parts failing on their own,
429 storms with and without Retry-After, expired history ids and sync tokens, token refresh, a
revoked token, garbage answers, a first sync killed and resumed, and the same life as Maildir/ICS."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest

import connectors.gmail as gmail_mod
import connectors.google_calendar as gcal_mod
from connectors import google_api
from connectors.gmail import GmailConnector
from connectors.google_calendar import GoogleCalendarConnector
from daemon.errors import AuthError, SourceError
from daemon.ingest import sync_source
from daemon.store import Store
from tests.google_server import events_from_ics
from tests.helpers import ME, NOW, REPO, message, synced_report_summary, tiekeeper


def _gmail(google, **kwargs) -> GmailConnector:
    return GmailConnector("gmail", ME, google.token_path, google.url, base_delay=kwargs.pop("base_delay", 0.01), **kwargs)


def _gcal(google, calendars=("primary",)) -> GoogleCalendarConnector:
    return GoogleCalendarConnector("gcal", ME, calendars, google.token_path, google.url, base_delay=0.01)


def _fill(google, n: int, sender: str = "bob@x.example") -> list[str]:
    return [google.state.add_message(message(sender, ME, NOW - timedelta(hours=i), msgid=f"<m{i}@t>"), ["INBOX"])
            for i in range(n)]


def _event(eid: str, hours: int = 0, **extra) -> dict:
    start = NOW + timedelta(hours=hours)
    return {"id": eid, "summary": "Sync", "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()}, "organizer": {"email": ME},
            "attendees": [{"email": "bob@x.example", "responseStatus": "accepted"}], **extra}


def _stored(store: Store, source: str) -> set[str]:
    return set(store.stored_items(source))


# -- Gmail ----------------------------------------------------------------------------------------------
def test_gmail_lists_every_page_and_fetches_each_message_once(google, tmp_path, monkeypatch):
    monkeypatch.setattr(gmail_mod, "LIST_PAGE", 40)
    ids = _fill(google, 130)
    store = Store(tmp_path / "s.db")
    with _gmail(google) as conn:
        result = sync_source(store, conn, "gmail")
    assert _stored(store, "gmail") == set(ids) and result.fetched == 130
    assert google.state.stats["messages.get"] == 130  # one fetch per message
    # only the headers inference needs travelled, and no body was ever asked for
    (_, record), *_ = store.records("mail", ["gmail"])
    assert "body" not in json.dumps(record.data).lower() and record.data["from"] == "bob@x.example"


def test_batch_parts_fail_on_their_own_and_are_retried_alone(google, tmp_path):
    ids = _fill(google, 60)
    google.state.fail_parts = {ids[3]: [503], ids[10]: [429, 429], ids[40]: [500]}
    gone = ids[50]
    google.state.messages.pop(gone)  # deleted between the listing and the fetch: a 404 part
    conn = _gmail(google)
    records = list(conn.get_multi(ids))
    assert sorted(r.ident for r in records) == sorted(set(ids) - {gone})
    assert google.state.stats["messages.get"] == 60 + 4  # the 56 good parts once, the failed ones again


def test_a_429_storm_with_retry_after_is_waited_out(google):
    ids = _fill(google, 80)
    google.state.quota_units_per_second = 100  # 20 gets a second; the client believes in 1000 units
    google.state.retry_after = "1"
    conn = _gmail(google, quota=google_api.Quota(1000, google_api.GMAIL_COSTS), base_delay=0.01)
    t0 = time.monotonic()
    records = list(conn.get_multi(ids))
    assert len({r.ident for r in records}) == 80
    assert google.state.stats["429"] > 0
    assert time.monotonic() - t0 >= 1.0  # Retry-After honoured, though its own backoff was 10 ms
    assert conn.batch_size < gmail_mod.FIRST_BATCH  # throttling shrank the batches


def test_a_429_storm_without_retry_after_backs_off_and_finishes(google):
    ids = _fill(google, 80)
    google.state.quota_units_per_second = 150
    conn = _gmail(google, quota=google_api.Quota(5000, google_api.GMAIL_COSTS), base_delay=0.05)
    assert len({r.ident for r in conn.get_multi(ids)}) == 80
    assert google.state.stats["429"] > 0


def test_a_client_quota_under_the_servers_keeps_429s_away(google):
    ids = _fill(google, 120)
    google.state.quota_units_per_second = 400
    conn = _gmail(google, quota=google_api.Quota(300, google_api.GMAIL_COSTS))
    assert len(list(conn.get_multi(ids))) == 120
    assert google.state.stats["429"] == 0


def test_a_failed_batch_request_is_retried_whole(google):
    ids = _fill(google, 10)
    google.state.fail_requests = [503]
    assert len(list(_gmail(google).get_multi(ids))) == 10


def test_endless_throttling_stops_with_a_clear_error_and_keeps_what_was_fetched(google, tmp_path, monkeypatch):
    monkeypatch.setattr(google_api, "MAX_ATTEMPTS", 3)
    monkeypatch.setattr(gmail_mod.GmailConnector, "commit_every", 20)
    ids = _fill(google, 60)
    for mid in sorted(ids)[45:]:  # a sync fetches in key order: these come last
        google.state.fail_parts[mid] = [429] * 10
    store = Store(tmp_path / "s.db")
    with pytest.raises(SourceError, match="kept throttling"):
        with _gmail(google) as conn:
            sync_source(store, conn, "gmail")
    assert len(_stored(store, "gmail")) == 40  # two commits landed; no cursor yet
    assert store.source_state("gmail").cursor is None


def test_history_brings_new_deleted_and_trashed_messages(google, tmp_path):
    ids = _fill(google, 5)
    store = Store(tmp_path / "s.db")
    with _gmail(google) as conn:
        sync_source(store, conn, "gmail")
    new = google.state.add_message(message("amy@x.example", ME, NOW), ["INBOX"])
    google.state.delete_message(ids[0])
    google.state.relabel(ids[1], add=["TRASH"])
    google.state.relabel(ids[2], add=["CATEGORY_PROMOTIONS"])
    before = google.state.stats["messages.get"]
    with _gmail(google) as conn:
        result = sync_source(store, conn, "gmail")
    assert result.fast_path
    assert _stored(store, "gmail") == {new, ids[2], ids[3], ids[4]}
    assert google.state.stats["messages.get"] - before == 3  # the new, the trashed, the relabelled
    labels = dict((r.ident, r.data.get("labels")) for _, r in store.records("mail", ["gmail"]))
    assert "CATEGORY_PROMOTIONS" in labels[ids[2]]
    with _gmail(google) as conn:  # nothing changed: one history call, no fetch
        assert sync_source(store, conn, "gmail").fetched == 0
    assert google.state.stats["messages.get"] - before == 3


def test_an_expired_history_id_relists_and_fetches_only_what_is_missing(google, tmp_path):
    _fill(google, 50)
    store = Store(tmp_path / "s.db")
    with _gmail(google) as conn:
        sync_source(store, conn, "gmail")
    for i in range(3):
        google.state.add_message(message(f"n{i}@x.example", ME, NOW), ["INBOX"])
    google.state.history_floor = google.state.history_id + 1  # every stored history id has expired
    before = google.state.stats["messages.get"]
    with _gmail(google) as conn:
        result = sync_source(store, conn, "gmail")
    assert not result.fast_path and result.fetched == 3
    assert google.state.stats["messages.get"] - before == 3  # never a full refetch
    assert len(_stored(store, "gmail")) == 53


def test_an_expired_access_token_is_refreshed_and_the_sync_goes_on(google, tmp_path):
    ids = _fill(google, 30)
    conn = _gmail(google)
    first = list(conn.get_multi(ids[:10]))
    google.expire_access_tokens()
    rest = list(conn.get_multi(ids[10:]))
    assert len(first) + len(rest) == 30
    assert google.state.stats["token_refresh_token"] == 2


def test_a_revoked_token_says_to_authorize_again(google):
    _fill(google, 3)
    google.revoke_all()
    with pytest.raises(AuthError) as err:
        _gmail(google).list()
    assert "revoked or has expired (invalid_grant) (run `tiekeeper auth google gmail`)" in err.value.one_line()


def test_a_garbage_answer_is_a_one_line_error_and_keeps_the_store(google, tmp_path):
    _fill(google, 5)
    store = Store(tmp_path / "s.db")
    with _gmail(google) as conn:
        sync_source(store, conn, "gmail")
    google.state.garbage = True
    google.state.history_floor = 10**9
    with pytest.raises(SourceError) as err:
        with _gmail(google) as conn:
            sync_source(store, conn, "gmail")
    assert "\n" not in err.value.one_line() and "source gmail" in err.value.one_line()
    assert len(_stored(store, "gmail")) == 5


def test_api_endpoint_sends_rest_batch_and_token_calls_to_that_server(google):
    ids = _fill(google, 3)
    list(_gmail(google).get_multi(ids))
    st = google.state.stats
    assert st["batches"] == 1 and st["token_refresh_token"] == 1 and st["http_requests"] == 2


# -- Google Calendar -------------------------------------------------------------------------------------
def test_calendar_pages_sync_tokens_and_cancellations(google, tmp_path, monkeypatch):
    monkeypatch.setattr(gcal_mod, "PAGE", 4)
    for i in range(10):
        google.state.put_event("primary", _event(f"e{i}", i))
    store = Store(tmp_path / "s.db")
    with _gcal(google) as conn:
        assert sync_source(store, conn, "google_calendar").fetched == 10
    google.state.cancel_event("primary", "e0")
    google.state.put_event("primary", _event("e1", 30))
    google.state.put_event("primary", _event("e99", 40))
    with _gcal(google) as conn:
        result = sync_source(store, conn, "google_calendar")
    assert result.fast_path and result.fetched == 2 and result.deleted == 1
    assert _stored(store, "gcal") == {f"primary|e{i}" for i in range(1, 10)} | {"primary|e99"}


def test_an_expired_sync_token_rereads_that_calendar_only(google, tmp_path):
    google.state.calendars["work"] = {"summary": "Work", "events": {}}
    for i in range(3):
        google.state.put_event("primary", _event(f"p{i}", i))
        google.state.put_event("work", _event(f"w{i}", i))
    store = Store(tmp_path / "s.db")
    with _gcal(google, ("primary", "Work")) as conn:
        sync_source(store, conn, "google_calendar")
    # work's token expires; meanwhile an event there is deleted for good (no tombstone survives)
    del google.state.calendars["work"]["events"]["w0"]
    google.state.calendars["work"]["token_floor"] = google.state.change_seq + 1
    google.state.put_event("primary", _event("p9", 9))
    full_before = dict(google.state.stats)
    with _gcal(google, ("primary", "Work")) as conn:
        result = sync_source(store, conn, "google_calendar")
    assert result.fast_path
    assert google.state.stats["full_list:Work"] == full_before["full_list:Work"] + 1
    assert google.state.stats["full_list:primary"] == full_before["full_list:primary"]  # left alone
    assert _stored(store, "gcal") == {"primary|p0", "primary|p1", "primary|p2", "primary|p9",
                                      "work|w1", "work|w2"}


def test_an_unknown_calendar_name_lists_the_ones_there(google):
    google.state.calendars["x"] = {"summary": "Family", "events": {}}
    with pytest.raises(SourceError) as err:
        _gcal(google, ("Holidays",)).list()
    assert "no calendar named Holidays in this account (calendars there: Family)" in err.value.one_line()


def test_recurring_series_with_a_cancelled_and_a_moved_instance(google, tmp_path):
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from daemon.identity import Me
    from daemon.inference.calendar import infer_event, whole_series

    master = _event("s1", recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"])
    google.state.put_event("primary", master)
    first = NOW
    google.state.put_event("primary", {"id": "s1_2", "recurringEventId": "s1", "status": "cancelled",
                                       "iCalUID": "s1@google.com",
                                       "originalStartTime": {"dateTime": (first + timedelta(weeks=1)).isoformat()}})
    google.state.put_event("primary", {**_event("s1_3", 24 * 14 + 5), "recurringEventId": "s1",
                                       "iCalUID": "s1@google.com",
                                       "originalStartTime": {"dateTime": (first + timedelta(weeks=2)).isoformat()}})
    store = Store(tmp_path / "s.db")
    with _gcal(google) as conn:
        sync_source(store, conn, "google_calendar")
    me = Me([ME])
    found = []
    for source, record in whole_series(store.records("event", ["gcal"])):
        found += infer_event(record, me, ZoneInfo("Europe/Berlin"), datetime(2026, 1, 1, tzinfo=timezone.utc),
                             datetime(2027, 1, 1, tzinfo=timezone.utc), source).interactions
    starts = sorted(i.ts for i in found)
    assert starts == [first.timestamp(), (first + timedelta(weeks=2, hours=5)).timestamp(),
                      (first + timedelta(weeks=3)).timestamp()]


def test_a_declined_invitation_is_no_meeting(google, tmp_path):
    ev = _event("d1", attendees=[{"email": "bob@x.example", "responseStatus": "accepted"},
                                 {"email": ME, "self": True, "responseStatus": "declined"}],
                organizer={"email": "bob@x.example"})
    google.state.put_event("primary", ev)
    record = next(iter(_gcal(google).get_multi(["primary|d1"])))
    assert "PARTSTAT=DECLINED:mailto:" + ME in record.data["ics"].replace("\r\n ", "")


# -- the CLI: isolation, resume, equivalence -------------------------------------------------------------
def _google_config(tmp_path, google, extra: str = "") -> os.PathLike:
    cfg = tmp_path / "google.toml"
    cfg.write_text(f'[identity]\naddresses = ["{ME}"]\ntimezone = "Europe/Berlin"\n[store]\npath = "s.db"\n'
                   f'[sources.gmail]\ntype = "gmail"\naccount = "{ME}"\ntoken_file = "{google.token_path}"\n'
                   f'api_endpoint = "{google.url}"\n' + extra)
    return cfg


def test_a_revoked_token_fails_that_source_only_and_status_says_what_to_do(google, tmp_path):
    from tests.helpers import make_maildir

    _fill(google, 3)
    google.revoke_all()
    mail = make_maildir(tmp_path / "mail", {"": [message("amy@x.example", ME, NOW)]})
    cfg = _google_config(tmp_path, google, f'[sources.local]\ntype = "maildir"\npath = "{mail}"\n')
    sync = tiekeeper(cfg, "sync")
    assert sync.returncode == 3
    assert "source gmail: the Google authorization was revoked" in sync.stderr
    assert "source local:" in sync.stderr + sync.stdout  # the other source ran
    status = json.loads(tiekeeper(cfg, "status", "--format", "json").stdout)
    by_name = {s["name"]: s for s in status["sources"]}
    assert "tiekeeper auth google gmail" in by_name["gmail"]["error"]
    assert by_name["local"]["error"] is None and by_name["local"]["records"] == 1
    assert any("tiekeeper auth google gmail" in line for line in status["needs_you"])


def _settled(read, quiet=0.3, limit=10.0):
    """The value once it has stopped changing for `quiet` seconds."""
    value, since, deadline = read(), time.monotonic(), time.monotonic() + limit
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.05)
        if (now := read()) != value:
            value, since = now, time.monotonic()
    return value


def test_a_first_sync_killed_midway_resumes_without_refetching(google, tmp_path):
    total = 1500
    _fill(google, total)
    google.state.quota_units_per_second = 1500  # ~300 messages a second: the sync takes seconds
    cfg = _google_config(tmp_path, google, "quota_units_per_minute = 90000\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(cfg), "sync"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = tmp_path / "s.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if google.state.stats["messages.get"] >= 700:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = _settled(lambda: google.state.stats["messages.served"])  # a batch in flight may still be counted
    store = Store(db)
    kept = len(_stored(store, "gmail"))
    assert 0 < kept < total and store.source_state("gmail").cursor is None
    store.close()
    again = tiekeeper(cfg, "sync")
    assert again.returncode == 0, again.stderr
    store = Store(db)
    assert len(_stored(store, "gmail")) == total
    # only what was missing was served again (parts throttled with a 429 and retried are no re-fetch)
    assert google.state.stats["messages.served"] - first == total - kept


def test_the_same_life_through_google_or_maildir_and_ics_gives_the_same_contacts_and_flags(google, tmp_path):
    sample = REPO / "sample"
    google.state.load_maildir(sample / "mail", "alex@home.example.net")
    for item in events_from_ics((sample / "calendar.ics").read_bytes()):
        google.state.put_event("primary", item)
    base = (REPO / "config.example.toml").read_text()
    local = tmp_path / "local.toml"
    local.write_text(base.replace('path = "sample/mail"', f'path = "{sample / "mail"}"')
                     .replace('path = "sample/calendar.ics"', f'path = "{sample / "calendar.ics"}"')
                     .replace('path = "out/tiekeeper.db"', 'path = "a.db"'))
    account = "alex@home.example.net"
    common = f'account = "{account}"\ntoken_file = "{google.token_path}"\napi_endpoint = "{google.url}"\n'
    remote = tmp_path / "google.toml"
    remote.write_text(base.replace('type = "maildir"', 'type = "gmail"').replace('path = "sample/mail"\n', common + "quota_units_per_minute = 3000000\n")
                      .replace('type = "ics"\npath = "sample/calendar.ics"\n', 'type = "google_calendar"\n' + common)
                      .replace('path = "out/tiekeeper.db"', 'path = "b.db"'))
    via_local, via_google = synced_report_summary(local), synced_report_summary(remote)
    assert via_google == via_local and len(via_local) == 8
    flagged = [c for c in via_local if c[4]]
    assert len(flagged) == 5  # the sample's five flagged people, the same both ways


def test_a_long_sync_on_a_terminal_shows_a_progress_bar_on_stderr(google, tmp_path):
    import pty

    _fill(google, 700)
    cfg = _google_config(tmp_path, google, "quota_units_per_minute = 105000\n")  # about two seconds
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm", "COLUMNS": "100"}
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(cfg), "sync"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    out = proc.communicate(timeout=60)[0].decode()
    os.close(master)
    assert proc.returncode == 0
    screen = seen.decode(errors="replace")
    counts = {int(n) for n in __import__("re").findall(r"(\d+)/700", screen)}
    assert "gmail" in screen and len(counts) >= 3  # the bar moved while messages arrived
    assert "/700" not in out  # results on stdout stay clean for pipes
