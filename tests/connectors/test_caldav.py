"""CalDAV against a real Radicale on loopback: selection, fast path, auth errors, and the same
calendar through CalDAV or as an ICS file giving the same report."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import connectors.caldav as caldav_mod
from daemon.errors import AuthError, SourceError
from daemon.ingest import sync_source
from daemon.store import Store
from tests.connectors.caldav_world import connector, load_sample_calendar, reset
from tests.helpers import REPO, calendar, synced_report_summary, vevent


def _event(uid: str) -> str:
    return calendar(vevent(uid, datetime(2026, 3, 2, 9, tzinfo=timezone.utc), attendees=[("a@x.example", "ACCEPTED")])).decode()


def test_calendars_are_selected_by_name_and_a_missing_one_is_named(radicale):
    cals = reset(radicale, ("Work", "Personal"))
    cals["Work"].save_event(_event("w1@t"))
    cals["Personal"].save_event(_event("p1@t"))
    items = connector(radicale, calendars=("Work",)).list().items
    assert [i.scope for i in items.values()] == ["Work"]
    assert len(connector(radicale).list().items) == 2
    with pytest.raises(SourceError) as e:
        connector(radicale, calendars=("Holidays",)).list()
    assert "no calendar named Holidays" in e.value.one_line() and "Work" in e.value.one_line()


def test_a_wrong_password_is_an_auth_error_with_the_remedy(radicale):
    reset(radicale)
    with pytest.raises(AuthError) as e:
        connector(radicale, password="wrong").list()
    assert "refused the username or password" in e.value.one_line()
    assert "tiekeeper auth password src" in e.value.one_line()


def test_an_unchanged_calendar_costs_a_ctag_and_only_changed_resources_are_fetched(radicale, tmp_path, monkeypatch):
    cal = reset(radicale)["Personal"]
    for i in range(5):
        cal.save_event(_event(f"e{i}@t"))
    store = Store(tmp_path / "s.db")
    assert sync_source(store, connector(radicale), "caldav").fetched == 5
    monkeypatch.setattr(caldav_mod.CalDavConnector, "list", lambda *a: pytest.fail("listed an unchanged calendar"))
    assert sync_source(store, connector(radicale), "caldav").fast_path
    monkeypatch.undo()
    cal.save_event(_event("new@t"))
    fetched = []
    original = caldav_mod.CalDavConnector.get_multi
    monkeypatch.setattr(caldav_mod.CalDavConnector, "get_multi",
                        lambda self, idents: (fetched.extend(idents), original(self, idents))[1])
    result = sync_source(store, connector(radicale), "caldav")
    assert result.fetched == 1 and len(fetched) == 1 and fetched[0].endswith("new@t.ics")


def test_the_same_calendar_through_caldav_or_as_an_ics_file_gives_the_same_report(radicale, tmp_path):
    load_sample_calendar(reset(radicale, ("Sample",))["Sample"])
    base = (REPO / "config.example.toml").read_text().replace('path = "sample/mail"', f'path = "{REPO / "sample" / "mail"}"')
    ics_cfg = tmp_path / "ics.toml"
    ics_cfg.write_text(base.replace('path = "sample/calendar.ics"', f'path = "{REPO / "sample" / "calendar.ics"}"')
                       .replace('path = "out/tiekeeper.db"', 'path = "a.db"'))
    dav_cfg = tmp_path / "dav.toml"
    dav_cfg.write_text(base.replace('type = "ics"\npath = "sample/calendar.ics"',
                                    f'type = "caldav"\nurl = "{radicale.url}"\nusername = "alice"\n'
                                    'password_command = ["echo", "secret"]').replace('path = "out/tiekeeper.db"', 'path = "b.db"'))

    assert synced_report_summary(dav_cfg) == synced_report_summary(ics_cfg)


def test_changes_come_from_the_sync_token_without_listing_the_calendar(radicale, tmp_path, monkeypatch):
    cals = reset(radicale, ("Personal", "Work"))
    for i in range(4):
        cals["Personal"].save_event(_event(f"e{i}@t"))
    cals["Work"].save_event(_event("w0@t"))
    store = Store(tmp_path / "s.db")
    sync_source(store, connector(radicale), "caldav")
    cals["Personal"].save_event(_event("new@t"))  # added
    changed = next(o for o in cals["Personal"].events() if "e1@t" in o.data)
    changed.data = changed.data.replace("SUMMARY:Meeting", "SUMMARY:Moved")
    changed.save()  # changed
    next(o for o in cals["Personal"].events() if "e2@t" in o.data).delete()  # deleted
    monkeypatch.setattr(caldav_mod.CalDavConnector, "list", lambda *a: pytest.fail("listed every resource"))
    result = sync_source(store, connector(radicale), "caldav")
    assert result.fast_path and (result.fetched, result.deleted) == (2, 1)
    monkeypatch.undo()
    fresh = Store(tmp_path / "fresh.db")
    sync_source(fresh, connector(radicale), "caldav")
    assert store.stored_items("src") == fresh.stored_items("src")  # idents and etags as a full listing gives


def test_a_sync_token_the_server_forgot_falls_back_to_the_etag_diff(radicale, tmp_path):
    import json

    cal = reset(radicale)["Personal"]
    cal.save_event(_event("e0@t"))
    store = Store(tmp_path / "s.db")
    sync_source(store, connector(radicale), "caldav")
    state = json.loads(store.source_state("src").cursor)
    state["Personal"]["token"] = "http://radicale.org/ns/sync/" + "0" * 64  # a token it never gave
    with store.transaction():
        store.finish_sync("src", json.dumps(state))
    cal.save_event(_event("e1@t"))
    result = sync_source(store, connector(radicale), "caldav")
    assert not result.fast_path and result.fetched == 1 and len(store.stored_items("src")) == 2
