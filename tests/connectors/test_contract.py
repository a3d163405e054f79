"""One contract every connector keeps, run against each local connector.

Each case builds a source through a small "world" object that can add, change and delete records,
so the same assertions run on Maildir, mbox and ICS (and later on IMAP and CalDAV servers).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.ics import IcsConnector
from connectors.maildir import MaildirConnector
from connectors.mbox import MboxConnector
from tests.helpers import ME, NOW, calendar, make_mbox, message, vevent


class MaildirWorld:
    kind = "mail"

    def __init__(self, tmp: Path) -> None:
        self.root = tmp / "mail"
        for sub in ("cur", "new", "tmp"):
            (self.root / sub).mkdir(parents=True)
            (self.root / ".Sent" / sub).mkdir(parents=True)
            (self.root / ".Trash" / sub).mkdir(parents=True)
        self.n = 0

    def add(self, key: str) -> None:
        self.n += 1
        folder = self.root / ".Sent" if key.startswith("sent") else self.root
        (folder / "cur" / f"{key}.x:2,S").write_bytes(message(f"{key}@x.example", ME, NOW + timedelta(hours=self.n)))

    def change(self, key: str) -> None:
        path = next(self.root.rglob(f"{key}.x:2,*"))
        path.write_bytes(message(f"{key}@x.example", [ME, "extra@x.example"], NOW, subject="changed"))
        os.utime(path, (time.time() + 5, time.time() + 5))

    def delete(self, key: str) -> None:
        next(self.root.rglob(f"{key}.x:2,*")).unlink()

    def hidden(self) -> None:  # a message in Trash must never be listed
        (self.root / ".Trash" / "cur" / "trashed.x:2,S").write_bytes(message("t@x.example", ME, NOW))

    def connector(self):
        return MaildirConnector("src", self.root)


class MboxWorld:
    kind = "mail"

    def __init__(self, tmp: Path) -> None:
        self.path = tmp / "archive.mbox"
        self.msgs: dict[str, bytes] = {}

    def _write(self) -> None:
        make_mbox(self.path, list(self.msgs.values()))

    def add(self, key: str) -> None:
        self.msgs[key] = message(f"{key}@x.example", ME, NOW + timedelta(hours=len(self.msgs)), msgid=f"<{key}@t>")
        self._write()

    def change(self, key: str) -> None:
        self.msgs[key] = message(f"{key}@x.example", [ME, "extra@x.example"], NOW, msgid=f"<{key}@t>")
        self._write()

    def delete(self, key: str) -> None:
        del self.msgs[key]
        self._write()

    def hidden(self) -> None:
        pass

    def connector(self):
        return MboxConnector("src", self.path)


class IcsWorld:
    kind = "event"

    def __init__(self, tmp: Path) -> None:
        self.path = tmp / "cal.ics"
        self.events: dict[str, str] = {}

    def _write(self) -> None:
        self.path.write_bytes(calendar(*self.events.values()))
        os.utime(self.path, (time.time() + len(self.events), time.time() + len(self.events)))

    def add(self, key: str) -> None:
        self.events[key] = vevent(f"{key}@t", NOW, attendees=[(f"{key}@x.example", "ACCEPTED")])
        self._write()

    def change(self, key: str) -> None:
        self.events[key] = vevent(f"{key}@t", NOW + timedelta(hours=2), attendees=[(f"{key}@x.example", "ACCEPTED")])
        self._write()

    def delete(self, key: str) -> None:
        del self.events[key]
        self._write()

    def hidden(self) -> None:
        pass

    def connector(self):
        return IcsConnector("src", path=self.path)


class ImapWorld:
    """The same contract against a real Dovecot on loopback, mail put in through IMAP APPEND."""

    kind = "mail"

    def __init__(self, server) -> None:
        from tests.connectors import imap_world

        self.server, self.w = server, imap_world
        imap_world.reset(server)
        self.n = 0

    def add(self, key: str) -> None:
        self.n += 1
        folder = "Sent" if key.startswith("sent") else "INBOX"
        self.w.append(self.server, folder, message(f"{key}@x.example", ME, NOW + timedelta(hours=self.n), msgid=f"<{key}@t>"))

    def change(self, key: str) -> None:  # IMAP messages are immutable: a change is expunge + append
        self.w.delete_by_message_id(self.server, "INBOX", f"<{key}@t>")
        self.w.append(self.server, "INBOX", message(f"{key}@x.example", [ME, "extra@x.example"], NOW, msgid=f"<{key}@t>"))

    def delete(self, key: str) -> None:
        self.w.delete_by_message_id(self.server, "INBOX", f"<{key}@t>")

    def hidden(self) -> None:
        self.w.append(self.server, "Trash", message("t@x.example", ME, NOW))

    def connector(self):
        return self.w.connector(self.server)


class CalDavWorld:
    """The same contract against a real Radicale on loopback."""

    kind = "event"

    def __init__(self, server) -> None:
        from tests.connectors import caldav_world

        self.server, self.w = server, caldav_world
        self.cal = caldav_world.reset(server)["Personal"]

    def _ics(self, key: str, hours: int = 0) -> str:
        return calendar(vevent(f"{key}@t", NOW + timedelta(hours=hours), attendees=[(f"{key}@x.example", "ACCEPTED")])).decode()

    def add(self, key: str) -> None:
        self.cal.save_event(self._ics(key))

    def change(self, key: str) -> None:
        ev = self.cal.event_by_uid(f"{key}@t")
        ev.data = self._ics(key, 2)
        ev.save()

    def delete(self, key: str) -> None:
        self.cal.event_by_uid(f"{key}@t").delete()

    def hidden(self) -> None:
        pass

    def connector(self):
        return self.w.connector(self.server)


class GmailWorld:
    """The same contract against the local Gmail API server, through google-api-python-client."""

    kind = "mail"

    def __init__(self, server) -> None:
        self.server, self.st = server, server.state
        self.ids: dict[str, str] = {}
        self.n = 0

    def add(self, key: str, recipients=ME) -> None:
        self.n += 1
        labels = ["SENT"] if key.startswith("sent") else ["INBOX"]
        raw = message(f"{key}@x.example", recipients, NOW + timedelta(hours=self.n), msgid=f"<{key}@t>")
        self.ids[key] = self.st.add_message(raw, labels)

    def change(self, key: str) -> None:  # Gmail messages are immutable: a change is delete + add
        self.st.delete_message(self.ids[key])
        self.add(key, [ME, "extra@x.example"])

    def delete(self, key: str) -> None:
        self.st.delete_message(self.ids.pop(key))

    def hidden(self) -> None:
        self.st.add_message(message("t@x.example", ME, NOW), ["TRASH"])

    def connector(self):
        from connectors.gmail import GmailConnector

        return GmailConnector("src", ME, self.server.token_path, self.server.url, base_delay=0.01)


class GoogleCalendarWorld:
    kind = "event"

    def __init__(self, server) -> None:
        self.server, self.st = server, server.state

    def _event(self, key: str, hours: int = 0) -> dict:
        start = NOW + timedelta(hours=hours)
        return {"id": key.replace("-", ""), "summary": "Meeting", "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
                "organizer": {"email": ME}, "attendees": [{"email": f"{key}@x.example", "responseStatus": "accepted"}]}

    def add(self, key: str) -> None:
        self.st.put_event("primary", self._event(key))

    def change(self, key: str) -> None:
        self.st.put_event("primary", self._event(key, 2))

    def delete(self, key: str) -> None:
        self.st.cancel_event("primary", key.replace("-", ""))

    def hidden(self) -> None:  # a cancelled event is gone, not listed
        self.st.put_event("primary", {**self._event("gone"), "status": "cancelled"})

    def connector(self):
        from connectors.google_calendar import GoogleCalendarConnector

        return GoogleCalendarConnector("src", ME, ("primary",), self.server.token_path, self.server.url, base_delay=0.01)


@pytest.fixture(params=[MaildirWorld, MboxWorld, IcsWorld, ImapWorld, CalDavWorld, GmailWorld, GoogleCalendarWorld],
                ids=["maildir", "mbox", "ics", "imap", "caldav", "gmail", "google_calendar"])
def world(request, tmp_path):
    if request.param is ImapWorld:
        return ImapWorld(request.getfixturevalue("dovecot"))
    if request.param is CalDavWorld:
        return CalDavWorld(request.getfixturevalue("radicale"))
    if request.param in (GmailWorld, GoogleCalendarWorld):
        return request.param(request.getfixturevalue("google"))
    return request.param(tmp_path)


def _snapshot(conn):
    listing = conn.list()
    return {i: it.etag for i, it in listing.items.items()}


def test_list_and_get_multi_agree_on_idents_and_etags(world):
    for key in ("a", "b", "sent-c"):
        world.add(key)
    world.hidden()
    conn = world.connector()
    listed = _snapshot(conn)
    assert len(listed) == 3
    records = list(conn.get_multi(list(listed)))
    conn.close()
    assert {r.ident: r.etag for r in records} == listed
    assert {r.kind for r in records} == {world.kind}


def test_idents_and_etags_are_stable_across_listings(world):
    for key in ("a", "b"):
        world.add(key)
    assert _snapshot(world.connector()) == _snapshot(world.connector())


def test_a_change_changes_exactly_one_etag_and_keeps_idents(world):
    for key in ("a", "b"):
        world.add(key)
    before = _snapshot(world.connector())
    world.change("a")
    after = _snapshot(world.connector())
    changed = [i for i in before if before[i] != after.get(i)]
    # mbox idents hash the header block, so a change is a new ident replacing the old one
    assert len(changed) == 1 and len(after) == 2


def test_a_deletion_removes_exactly_one_ident(world):
    for key in ("a", "b"):
        world.add(key)
    before = _snapshot(world.connector())
    world.delete("a")
    after = _snapshot(world.connector())
    assert len(after) == 1 and set(after) < set(before)


def test_the_cursor_fast_path_says_unchanged_only_when_nothing_changed(world):
    world.add("a")
    conn = world.connector()
    time.sleep(0.01)
    cursor = conn.cursor_now() or conn.list().cursor  # Google Calendar's sync token comes with a listing
    if cursor is None:  # a Maildir whose folders changed within the last seconds: no trusted cursor yet
        for d in Path(world.root).rglob("*"):
            if d.is_dir():
                os.utime(d, (1, 1_000_000_000))
        cursor = conn.cursor_now()
    assert cursor is not None
    delta = world.connector().changes_since(cursor)
    assert delta is not None and not delta.upserts and not delta.deletions
    world.add("b")
    if isinstance(world, MaildirWorld):
        os.utime(world.root / "cur", (1, 1_000_000_500))
    changed = world.connector().changes_since(cursor)
    # either "list again" or exactly the change (history and sync-token connectors say what changed)
    assert changed is None or ([r.data.get("from") == "b@x.example" or "b@x.example" in r.data.get("ics", "")
                                for r in changed.upserts] == [True] and changed.cursor != cursor)


def test_records_carry_metadata_and_never_a_body(world):
    world.add("a")
    conn = world.connector()
    (rec,) = list(conn.get_multi(list(_snapshot(conn))))
    assert "SECRET BODY TEXT" not in repr(rec.data)
    if world.kind == "mail":
        assert rec.data["from"] == "a@x.example" and "date" in rec.data and "message-id" in rec.data
    else:
        assert "ATTENDEE" in rec.data["ics"]
