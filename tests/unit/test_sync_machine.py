"""A stateful property test of sync (in the manner of vdirsyncer's SyncMachine).

Hypothesis drives a Maildir++ source and a folder of ICS files through random adds, changes,
deletes and renames (a message read: new/ -> cur/, its flags changed, moved to another folder; an
event moved to another file), and through syncs that are interrupted part-way: the connector's
``get_multi`` raising after some records, or the transaction aborted at one of its commit points,
sometimes followed by a restart (the store closed and opened again).

After every completed sync the store equals a clean sync of the same files into a fresh store:
records, derived interactions and drops, compared by ident, etag and content, and each source's
cursor and record count. After an interrupted one, every record is as it was before that sync or
as the clean sync has it (nothing torn), and no cursor moved.

Folder and file mtimes are set from a fake clock a few seconds apart in the past, as if each
change had settled, so the fast paths (an unchanged cursor; a Maildir listing only the folders
that moved) are taken as they are in real use. TIEKEEPER_SYNC_MACHINE_EXAMPLES runs it longer.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from connectors.base import Connector
from connectors.ics import IcsConnector
from connectors.maildir import MaildirConnector
from daemon.errors import EmptySourceGuard
from daemon.identity import Me
from daemon.ingest import sync_source
from daemon.models import RawRecord
from daemon.pipeline import mail_deriver
from daemon.store import Store
from tests.helpers import ME, NOW, calendar, message, vevent

FOLDERS = ("INBOX", "Sent", "Work")
CAL_FILES = ("a.ics", "b.ics", "team/c.ics")
PEOPLE = ("ann@x.example", "bob@y.example", "cy@z.example", "news@list.example")
SOURCES = {"mail": "maildir", "cal": "ics"}
EXAMPLES = int(os.environ.get("TIEKEEPER_SYNC_MACHINE_EXAMPLES", "20"))


class Interrupted(Exception):
    """A sync that stops part-way, as a crash or a dropped connection would stop it."""


class Crash(BaseException):
    """The process dying inside a transaction (not an Exception: nothing may catch it)."""


class Flaky(Connector):
    """A connector whose get_multi raises after ``after`` records."""

    def __init__(self, inner: Connector, after: int) -> None:
        super().__init__(inner.name)
        self.inner, self.after = inner, after
        self.commit_every = 2  # many commit points, so an interruption lands between them

    def list(self):
        return self.inner.list()

    def cursor_now(self):
        return self.inner.cursor_now()

    def changes_since(self, cursor: str):
        return self.inner.changes_since(cursor)

    def get_multi(self, idents: Sequence[str]) -> Iterator[RawRecord]:
        for record in self.inner.get_multi(idents):
            if self.after <= 0:
                raise Interrupted("the connection dropped")
            self.after -= 1
            yield record


def content(db: sqlite3.Connection) -> dict[str, list[tuple]]:
    """What a store holds, without rowids and timestamps of when it was written."""
    return {
        "records": db.execute("SELECT source, ident, etag, scope, kind, data, inferred FROM records "
                              "ORDER BY 1, 2").fetchall(),
        "interactions": db.execute(
            "SELECT source, ident, ts, channel, address, name, direction, weight, initiator, thread, message_id, "
            "in_reply_to, account, fanout, hint, recurring FROM interactions ORDER BY 1, 2, 3, 5, 7").fetchall(),
        "drops": db.execute("SELECT source, ident, address, rule FROM drops ORDER BY 1, 2, 3, 4").fetchall(),
        "sources": db.execute("SELECT name, type, cursor, records FROM sources ORDER BY 1").fetchall(),
    }


def by_ident(c: dict[str, list[tuple]]) -> dict[tuple[str, str], tuple]:
    """(source, ident) -> that record with its interactions and drops."""
    out: dict[tuple[str, str], tuple] = {}
    for row in c["records"]:
        key = (row[0], row[1])
        out[key] = (row, [i for i in c["interactions"] if i[:2] == key], [d for d in c["drops"] if d[:2] == key])
    return out


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="tk-sync-machine-"))
        self.mail = self.tmp / "mail"
        self.cal = self.tmp / "cal"
        for folder in FOLDERS:
            for sub in ("cur", "new", "tmp"):
                (self._folder(folder) / sub).mkdir(parents=True, exist_ok=True)
        self.cal.mkdir()
        self.events: dict[str, dict[str, str]] = {}  # ICS file -> UID -> VEVENT text
        self.broken: set[str] = set()  # ICS files that hold no readable calendar now
        self.clock = 1_600_000_000  # the fake clock for mtimes, in seconds
        self.serial = 0
        self.store = Store(self.tmp / "store.db")
        self.me = Me([ME])
        self.clean_runs = 0
        self._moved(*(self._folder(f) / sub for f in FOLDERS for sub in ("cur", "new")))  # made a while ago

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the files -----------------------------------------------------------------------------
    def _folder(self, folder: str) -> Path:
        return self.mail if folder == "INBOX" else self.mail / f".{folder}"

    def _messages(self) -> list[Path]:
        return sorted(p for f in FOLDERS for sub in ("new", "cur") for p in (self._folder(f) / sub).iterdir())

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def _tick(self) -> int:
        self.clock += 7
        return self.clock

    def _settle(self, *paths: Path) -> None:
        """Files just written get an mtime from the fake clock, as if written a while ago."""
        when = self._tick()
        for p in paths:
            os.utime(p, (when, when))

    def _moved(self, *dirs: Path) -> None:
        """Folders something was added to, removed from or renamed in: their mtime moves on, as the
        file system moves it, to a moment of the fake clock."""
        when = self._tick()
        for d in dirs:
            os.utime(d, (when, when))

    def _raw(self, who: str, outbound: bool, variant: int, bad: bool) -> bytes:
        if bad:
            return f"Subject: no sender {variant}\r\n\r\nbody\r\n".encode()
        extra = {"List-Id": "<news.list.example>"} if who.startswith("news@") else None
        when = NOW - timedelta(days=variant % 40, hours=variant % 7)
        sender, to = (ME, who) if outbound else (who, ME)
        return message(sender, to, when, subject=f"s{variant}", extra=extra, msgid=f"<v{variant}@t.example>")

    def _write_calendar(self, rel: str) -> None:
        path = self.cal / rel
        self.broken.discard(rel)
        events = self.events.get(rel, {})
        if not events:
            if path.exists():
                path.unlink()
                self._moved(path.parent)
            self.events.pop(rel, None)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(calendar(*events.values()))
        self._settle(path)

    def _event(self, uid: str, variant: int) -> str:
        who = PEOPLE[variant % 3]
        return vevent(uid, NOW - timedelta(days=variant % 30, hours=3), summary=f"Meeting {variant}",
                      attendees=[(who, "ACCEPTED"), (PEOPLE[(variant + 1) % 3], "DECLINED" if variant % 4 else "ACCEPTED")])

    # -- changes to the mailbox ------------------------------------------------------------------
    @rule(folder=st.sampled_from(FOLDERS), sub=st.sampled_from(["new", "cur"]), who=st.sampled_from(PEOPLE),
          outbound=st.booleans())
    def deliver(self, folder: str, sub: str, who: str, outbound: bool) -> None:
        n = self._next()
        name = f"{1700000000 + n}.M{n}P1.host" + (":2,S" if sub == "cur" else "")
        path = self._folder(folder) / sub / name
        path.write_bytes(self._raw(who, outbound or folder == "Sent", n, False))
        self._settle(path)
        self._moved(path.parent)

    @rule(n=st.integers(0, 10**6))
    def deliver_unreadable(self, n: int) -> None:
        """A message with no From or To: stored as a "bad" record, not fetched again until it changes."""
        path = self.mail / "cur" / f"{1800000000 + self._next()}.M0P1.host:2,"
        path.write_bytes(self._raw("", False, n, bad=True))
        self._settle(path)
        self._moved(path.parent)

    @precondition(lambda self: self._messages())
    @rule(data=st.data(), who=st.sampled_from(PEOPLE))
    def rewrite(self, data: st.DataObject, who: str) -> None:
        """A tool edits a message's headers: a new file renamed over the old one."""
        path = data.draw(st.sampled_from(self._messages()))
        tmp = path.parent.parent / "tmp" / path.name
        tmp.write_bytes(self._raw(who, path.parent.parent.name == ".Sent", self._next(), False))
        self._settle(tmp)
        os.replace(tmp, path)
        self._moved(path.parent, tmp.parent)

    @precondition(lambda self: self._messages())
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(self._messages()))
        path.unlink()
        self._moved(path.parent)

    @precondition(lambda self: self._messages())
    @rule(data=st.data(), flags=st.sampled_from(["S", "RS", "FS", ""]))
    def read_or_flag(self, data: st.DataObject, flags: str) -> None:
        """A mail client reads a message (new/ -> cur/) or changes its flags: a rename, no change."""
        path = data.draw(st.sampled_from(self._messages()))
        key = path.name.split(":2,", 1)[0]
        target = path.parent.parent / "cur" / f"{key}:2,{flags}"
        if target == path:
            return
        os.rename(path, target)
        self._moved(path.parent, target.parent)

    @precondition(lambda self: self._messages())
    @rule(data=st.data(), folder=st.sampled_from(FOLDERS))
    def move_to_folder(self, data: st.DataObject, folder: str) -> None:
        path = data.draw(st.sampled_from(self._messages()))
        target = self._folder(folder) / "cur" / path.name
        if target.parent == path.parent or target.exists():
            return
        os.rename(path, target)
        self._moved(path.parent, target.parent)

    # -- changes to the calendars -------------------------------------------------------------------
    @rule(rel=st.sampled_from(CAL_FILES), variant=st.integers(0, 100))
    def add_event(self, rel: str, variant: int) -> None:
        uid = f"e{self._next()}@t.example"
        self.events.setdefault(rel, {})[uid] = self._event(uid, variant)
        self._write_calendar(rel)

    @precondition(lambda self: self.events)
    @rule(data=st.data(), variant=st.integers(0, 100))
    def change_event(self, data: st.DataObject, variant: int) -> None:
        rel = data.draw(st.sampled_from(sorted(self.events)))
        uid = data.draw(st.sampled_from(sorted(self.events[rel])))
        self.events[rel][uid] = self._event(uid, variant)
        self._write_calendar(rel)

    @precondition(lambda self: self.events)
    @rule(data=st.data())
    def delete_event(self, data: st.DataObject) -> None:
        rel = data.draw(st.sampled_from(sorted(self.events)))
        uid = data.draw(st.sampled_from(sorted(self.events[rel])))
        del self.events[rel][uid]
        self._write_calendar(rel)

    @precondition(lambda self: self.events)
    @rule(data=st.data(), to=st.sampled_from(CAL_FILES))
    def move_event(self, data: st.DataObject, to: str) -> None:
        """An event moved to another file (another calendar): a new ident, the old one gone."""
        rel = data.draw(st.sampled_from(sorted(self.events)))
        if rel == to:
            return
        uid = data.draw(st.sampled_from(sorted(self.events[rel])))
        self.events.setdefault(to, {})[uid] = self.events[rel].pop(uid)
        self._write_calendar(rel)
        self._write_calendar(to)

    @precondition(lambda self: self.events)
    @rule(data=st.data())
    def break_calendar(self, data: st.DataObject) -> None:
        """A file overwritten by something that is no calendar (a failed download): what is stored of
        it is kept until it can be read again (its next change here repairs it)."""
        rel = data.draw(st.sampled_from(sorted(self.events)))
        (self.cal / rel).write_bytes(b"<html>503 Service Unavailable</html>\n")
        self._settle(self.cal / rel)
        self.broken.add(rel)

    # -- syncs -----------------------------------------------------------------------------------------
    def _connector(self, source: str) -> Connector:
        return MaildirConnector(source, self.mail) if source == "mail" else IcsConnector(source, path=self.cal)

    def _sync(self, store: Store, source: str, connector: Connector | None = None,
              commit_hook=None) -> None:
        conn = connector or self._connector(source)
        try:
            result = sync_source(store, conn, SOURCES[source], commit_hook=commit_hook, derive=mail_deriver(self.me))
            if store is self.store:
                event(f"{source} sync: " + ("fast path" if result.fast_path else "by listing"))
        except EmptySourceGuard:  # everything was deleted: the user confirms with --force
            assert not conn.list().items
            sync_source(store, self._connector(source), SOURCES[source], force=True, derive=mail_deriver(self.me))

    def _clean(self) -> dict[str, list[tuple]]:
        """A clean sync of the files as they are now into a fresh store."""
        self.clean_runs += 1
        path = self.tmp / f"clean-{self.clean_runs}.db"
        fresh = Store(path)
        try:
            for source in sorted(SOURCES):
                self._sync(fresh, source)
            return content(fresh.db)
        finally:
            fresh.close()
            for p in self.tmp.glob(f"clean-{self.clean_runs}.db*"):
                p.unlink()

    @rule(source=st.sampled_from(sorted(SOURCES)))
    def sync(self, source: str) -> None:
        before = content(self.store.db)
        self._sync(self.store, source)
        self._syncs_done([source], before)

    @rule(restart=st.booleans())
    def sync_both(self, restart: bool) -> None:
        if restart:
            self._restart()
        before = content(self.store.db)
        for source in sorted(SOURCES):
            self._sync(self.store, source)
        self._syncs_done(sorted(SOURCES), before)

    def _kept(self, key: tuple[str, str], value: tuple) -> bool:
        """Whether a stored record lives in a file that cannot be read now (so it stays as it is)."""
        return key[0] == "cal" and value[0][3] in self.broken

    def _syncs_done(self, sources: list[str], before: dict[str, list[tuple]]) -> None:
        """The sources just synced equal their clean sync (another may be behind its files), but for
        what is stored of unreadable files, which stays as it was."""
        clean = self._clean()
        mine, old, fresh = by_ident(content(self.store.db)), by_ident(before), by_ident(clean)
        for source in sources:
            expected = {k: v for k, v in fresh.items() if k[0] == source}
            expected |= {k: v for k, v in old.items() if k[0] == source and self._kept(k, v)}
            assert {k: v for k, v in mine.items() if k[0] == source} == expected, source
            (state,) = [row for row in content(self.store.db)["sources"] if row[0] == source]
            (clean_state,) = [row for row in clean["sources"] if row[0] == source]
            assert state == (*clean_state[:3], len(expected)), source

    @rule(source=st.sampled_from(sorted(SOURCES)), after=st.integers(0, 6), restart=st.booleans())
    def sync_dropped(self, source: str, after: int, restart: bool) -> None:
        """get_multi raises after ``after`` records."""
        self._interrupted(source, lambda: self._sync_catching(source, Flaky(self._connector(source), after), None),
                          restart)

    @rule(source=st.sampled_from(sorted(SOURCES)), point=st.integers(0, 5), restart=st.booleans())
    def sync_crashed(self, source: str, point: int, restart: bool) -> None:
        """The process dies inside the transaction of the point-th commit (its work rolled back)."""
        seen: list[str] = []

        def hook(where: str) -> None:
            seen.append(where)
            if len(seen) > point:
                raise Crash(where)

        conn = Flaky(self._connector(source), 10**9)
        self._interrupted(source, lambda: self._sync_catching(source, conn, hook), restart)

    def _sync_catching(self, source: str, conn: Connector, hook) -> bool:
        """Whether the sync was stopped part-way."""
        try:
            sync_source(self.store, conn, SOURCES[source], commit_hook=hook, derive=mail_deriver(self.me))
        except (Interrupted, Crash, EmptySourceGuard):
            return True
        return False

    def _interrupted(self, source: str, run, restart: bool) -> None:
        before = content(self.store.db)
        stopped = run()
        if restart:
            self._restart()
        if not stopped:  # it got to the end after all
            self._syncs_done([source], before)
            return
        clean = by_ident(self._clean())
        old, now = by_ident(before), by_ident(content(self.store.db))
        for key, value in now.items():  # each record as it was, or as a clean sync has it: none torn
            assert value in (old.get(key), clean.get(key)), key
        for key in set(old) - set(now):  # and one that went is gone from the files too
            assert key not in clean and not self._kept(key, old[key]), key
        cursors = {name: cursor for name, _, cursor, _ in before["sources"]}
        for name, _, cursor, _ in content(self.store.db)["sources"]:  # no cursor moved on
            assert cursor == cursors.get(name), name

    def _restart(self) -> None:
        self.store.close()
        self.store = Store(self.tmp / "store.db")

    @invariant()
    def store_is_sound(self) -> None:
        db = self.store.db
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert not db.in_transaction
        for table in ("interactions", "drops"):  # nothing derived outlives its record
            assert db.execute(f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM records r "
                              "WHERE r.source = t.source AND r.ident = t.ident)").fetchone()[0] == 0, table


SyncMachine.TestCase.settings = settings(max_examples=EXAMPLES, stateful_step_count=30, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
TestSyncMachine = SyncMachine.TestCase
