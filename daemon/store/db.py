"""SQLite access: WAL mode, migrations, one place for every query.

Transactions, one rule: every method that writes is atomic by itself, and joins the caller's
transaction when there is one. It runs inside ``transaction()`` (BEGIN IMMEDIATE ... COMMIT),
which starts a transaction only when none is open; so a caller that wants several writes to commit
together (a sync writes a source's records and its cursor, so a crash leaves either both or neither)
wraps them in one ``transaction()``, and a caller with one write just calls it. Reads outside a
transaction each see the latest commit; ``snapshot()`` makes several reads see one state.

Two ways to open it. ``Store(path)`` may write: it makes the file, sets WAL mode and migrates the
schema; the sync, the service and the commands that record something use it. ``Store.for_reading``
(and ``Store(path, readonly=True)``) opens the file read-only (``mode=ro``): the reading commands
(report, explain, contacts, digest without --send, status) never take the write lock the service's
sync needs, never wait for it, work on a read-only file, and cannot change the store by mistake: a
write method on such a store raises. What they would have written (interactions not yet derived,
column segments not yet made) the caller makes in memory instead (daemon.pipeline).

Rows leave the store as named records (daemon.store.rows, SourceState, JobState), never bare tuples.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np

from daemon.analysis.table import Table
from daemon.errors import StoreError
from daemon.fsutil import ensure_private_dir
from daemon.jobs import JobState
from daemon.models import Derived, RawRecord
from daemon.store import columns
from daemon.store.migrations import MIGRATIONS
from daemon.store.rows import (
    INTERACTION_COLUMNS,
    Action,
    DigestSend,
    Drop,
    DropRow,
    InteractionRow,
    Publication,
    RemovedAction,
    Rows,
    SourcedRecord,
    StoredFollowUp,
    StoredItem,
    StoredVersion,
    derived_rows,
)
from daemon.store.sqlerrors import Connection

# how long a write waits for another writer (the service's sync batch) before it gives up with StoreBusy
BUSY_TIMEOUT_MS = 10_000



@dataclass(frozen=True)
class SourceState:
    name: str
    type: str
    cursor: str | None
    records: int
    last_sync: float | None
    last_error: str | None
    failures: int


class Store:
    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        try:
            if readonly:
                if not self.path.exists():
                    raise StoreError(f"no store at {self.path} yet", "run `tiekeeper sync` first")
                self.db = _connect_read_only(self.path)
                self._check_version()
            else:
                ensure_private_dir(self.path.parent)
                if not self.path.exists():
                    os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
                os.chmod(self.path, 0o600)
                self.db = _connect(str(self.path), self.path)
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = NORMAL")
                self._migrate()
        except sqlite3.DatabaseError as e:  # from connect(); what runs on the connection raises StoreError
            raise StoreError(f"cannot open the store {self.path}: {e}", "is it a tiekeeper database?") from None

    @classmethod
    def for_reading(cls, path: Path) -> Store:
        """The store for a command that only reads, opened read-only. A store that does not exist
        yet reads as an empty one (in memory: no file is made). One that an older tiekeeper wrote
        is upgraded first, the one write a reading command may make (once per upgrade), since the
        queries of this version need the present schema."""
        path = Path(path)
        if not path.exists():
            return cls._empty(path)
        store = cls(path, readonly=True)
        if store._version() < len(MIGRATIONS):
            store.close()
            cls(path).close()
            store = cls(path, readonly=True)
        return store

    @classmethod
    def _empty(cls, path: Path) -> Store:
        """An empty store of the present schema in memory, read-only, standing for ``path``."""
        store = cls.__new__(cls)
        store.path, store.readonly = Path(path), False
        store.db = _connect(":memory:", store.path)
        store._migrate()
        store.db.execute("PRAGMA query_only = ON")
        store.readonly = True
        return store

    # -- schema ---------------------------------------------------------------------------------
    def _version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _check_version(self) -> None:
        if self._version() > len(MIGRATIONS):
            raise StoreError(
                f"the store {self.path} was written by a newer tiekeeper (schema {self._version()})",
                "upgrade tiekeeper",
            )

    def _migrate(self) -> None:
        self._check_version()
        while (v := self._version()) < len(MIGRATIONS):
            with self.transaction():
                for statement in _statements(MIGRATIONS[v]):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {v + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an error), or, inside one
        already, that one (it commits or rolls back as a whole, where it began)."""
        if self.readonly:
            raise RuntimeError(f"the store {self.path} was opened read-only: a reading command must not write")
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:  # not when SQLite already rolled it back itself
                self.db.execute("ROLLBACK")
            raise

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one state of the store: a read transaction (BEGIN ... COMMIT), or the
        transaction open already. In WAL mode it neither waits for a writer nor holds one up."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    # -- sources and records --------------------------------------------------------------------
    def source_state(self, name: str) -> SourceState | None:
        row = self.db.execute(
            "SELECT name, type, cursor, records, last_sync, last_error, failures FROM sources WHERE name = ?", (name,)
        ).fetchone()
        return SourceState(*row) if row else None

    def source_states(self) -> list[SourceState]:
        rows = self.db.execute("SELECT name, type, cursor, records, last_sync, last_error, failures FROM sources")
        return [SourceState(*r) for r in rows]

    def ensure_source(self, name: str, type_: str) -> None:
        with self.transaction():
            self.db.execute("INSERT OR IGNORE INTO sources(name, type) VALUES (?, ?)", (name, type_))

    def stored_items(self, source: str) -> dict[str, StoredVersion]:
        """ident -> (etag, scope) for every stored record of a source."""
        return {item.ident: StoredVersion(item.etag, item.scope) for item in self.stored_rows(source)}

    def stored_rows(self, source: str) -> Iterator[StoredItem]:
        """(ident, etag, scope) of every stored record of a source, one at a time: a million of
        them need not be in memory at once."""
        for row in self.db.execute("SELECT ident, etag, scope FROM records WHERE source = ?", (source,)):
            yield StoredItem(*row)

    def put_rows(self, rows: Rows) -> int:
        """Insert or replace records (``daemon.store.rows.record_rows``, made where they were read);
        their derived interactions are dropped and made again: from the rows' own, in this same
        transaction, else later (``pipeline.derive``)."""
        idents = [(r[0], r[1]) for r in rows.records]
        with self.transaction():
            self.db.executemany("DELETE FROM interactions WHERE source = ? AND ident = ?", idents)
            self.db.executemany("DELETE FROM drops WHERE source = ? AND ident = ?", idents)
            self.db.executemany(
                "INSERT OR REPLACE INTO records(source, ident, etag, scope, kind, data, inferred) VALUES (?,?,?,?,?,?,?)",
                rows.records,
            )
            self._insert_rows(rows.interactions, rows.drops)
        return len(rows)

    def delete_records(self, source: str, idents: Iterable[str]) -> int:
        keys = [(source, i) for i in idents]
        with self.transaction():
            for table in ("records", "interactions", "drops"):
                self.db.executemany(f"DELETE FROM {table} WHERE source = ? AND ident = ?", keys)
        return len(keys)

    def finish_sync(self, source: str, cursor: str | None) -> None:
        """Record a successful sync: the cursor, the record count, no error. Call it inside the
        transaction that wrote the records, so that the cursor never claims more than is stored."""
        with self.transaction():
            count = self.db.execute("SELECT count(*) FROM records WHERE source = ?", (source,)).fetchone()[0]
            self.db.execute(
                "UPDATE sources SET cursor = ?, records = ?, last_sync = ?, last_error = NULL, failures = 0 "
                "WHERE name = ?", (cursor, count, time.time(), source),
            )

    def record_failure(self, source: str, message: str) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE sources SET last_error = ?, failures = failures + 1 WHERE name = ?", (message, source)
            )

    def records(self, kind: str, sources: Iterable[str] | None = None) -> Iterator[SourcedRecord]:
        """(source, record) for every stored record of a kind."""
        rows = self.db.execute("SELECT source, ident, etag, scope, kind, data FROM records WHERE kind = ?", (kind,))
        wanted = set(sources) if sources is not None else None
        for source, ident, etag, scope, k, data in rows:
            if wanted is None or source in wanted:
                yield SourcedRecord(source, RawRecord(ident, etag, k, json.loads(data), scope))

    def sent_from(self, sources: Iterable[str]) -> Iterator[str]:
        """The From header of each mail record from a Sent folder (or Gmail's SENT label) of ``sources``."""
        names = list(sources)
        rows = self.db.execute(
            "SELECT json_extract(data, '$.from') FROM records WHERE kind = 'mail' "
            "AND instr(data, '\"sent_folder\":\"1\"') > 0 AND json_extract(data, '$.sent_folder') = '1' "
            f"AND source IN ({','.join('?' * len(names))})", names)
        for (value,) in rows:
            if isinstance(value, str):
                yield value

    # -- derived interactions ---------------------------------------------------------------------
    def uninferred(self, kind: str, version: str, limit: int = -1) -> Iterator[SourcedRecord]:
        """Records not yet inferred by this inference ``version`` (at most ``limit``; -1: all), one
        at a time (consume them all before writing: the query reads as it goes)."""
        rows = self.db.execute(
            "SELECT source, ident, etag, scope, kind, data FROM records WHERE kind = ? AND (inferred IS NULL OR inferred != ?)"
            " LIMIT ?",
            (kind, version, limit),
        )
        for source, ident, etag, scope, k, data in rows:
            yield SourcedRecord(source, RawRecord(ident, etag, k, json.loads(data), scope))

    def has_uninferred(self, kind: str, version: str) -> bool:
        """Whether any record of a kind waits for inference ``version``."""
        return self.db.execute("SELECT 1 FROM records WHERE kind = ? AND (inferred IS NULL OR inferred != ?) LIMIT 1",
                               (kind, version)).fetchone() is not None

    def put_inferred(self, source: str, ident: str, derived: Derived) -> None:
        """Replace what inference made of a stored record."""
        with self.transaction():
            self.db.execute("DELETE FROM interactions WHERE source = ? AND ident = ?", (source, ident))
            self.db.execute("DELETE FROM drops WHERE source = ? AND ident = ?", (source, ident))
            self._insert_rows(*derived_rows(source, {ident: derived}))
            self.db.execute("UPDATE records SET inferred = ? WHERE source = ? AND ident = ?",
                            (derived.version, source, ident))

    def _insert_rows(self, interactions: list[InteractionRow], drops: list[DropRow]) -> None:
        """Insert what inference made of records, as rows (inside the caller's transaction: only
        put_rows and put_inferred call it)."""
        self.db.executemany(
            f"INSERT INTO interactions({INTERACTION_COLUMNS}) VALUES ({','.join('?' * 16)})", interactions)
        self.db.executemany("INSERT INTO drops(source, ident, address, rule) VALUES (?,?,?,?)", drops)

    def interaction_table(self, sources: Iterable[str] | None = None, since: float | None = None,
                          inferred_by: str | None = None) -> Table:
        """The stored interactions (of ``sources``, from ``since`` on) as columns, for the analysis.
        ``inferred_by``: only those of records that inference version made (the others wait to be
        made again; a reading command makes them in memory). A store that may write makes column
        segments of the rows no segment covers, for the next load."""
        with self.snapshot():
            leave_out = self._not_inferred_by(inferred_by) if inferred_by is not None else None
            return columns.load(self.db, sources, since, writable=not self.readonly, leave_out=leave_out)

    def _not_inferred_by(self, version: str) -> np.ndarray:
        """The ids of the interactions of records that inference ``version`` did not make, sorted."""
        rows = self.db.execute(
            "SELECT i.id FROM records r JOIN interactions i ON i.source = r.source AND i.ident = r.ident "
            "WHERE r.inferred IS NULL OR r.inferred != ?", (version,))
        return np.sort(np.fromiter((i for (i,) in rows), dtype=np.int64))

    def make_segments(self) -> int:
        """Make column segments of the interactions no segment covers (after a sync: the reading
        commands never make them). Returns how many rows they hold."""
        with self.transaction():
            return columns.refresh(self.db)

    def drops_for(self, address: str, inferred_by: str | None = None) -> list[Drop]:
        """(rule, count) of the mail from one address that inference dropped, most first.
        ``inferred_by``: only records that inference version made."""
        only = ("" if inferred_by is None else
                " AND EXISTS (SELECT 1 FROM records r WHERE r.source = d.source AND r.ident = d.ident AND r.inferred = ?)")
        rows = self.db.execute(f"SELECT rule, count(*) FROM drops d WHERE address = ?{only} GROUP BY rule "
                               "ORDER BY count(*) DESC", (address,) if inferred_by is None else (address, inferred_by))
        return [Drop(*row) for row in rows]

    def followups(self) -> list[StoredFollowUp]:
        """The follow-up events as last published."""
        rows = self.db.execute("SELECT uid, contact, cycle, sequence, status, start, end, summary, description, "
                               "fingerprint, updated FROM followups")
        return [StoredFollowUp(*row) for row in rows]

    def save_followups(self, rows: Iterable[tuple]) -> None:
        """Replace the published follow-ups (rows of StoredFollowUp's fields); call after the file was written, so a failed write
        leaves the old state (and the next run publishes the same UIDs and SEQUENCEs again)."""
        with self.transaction():
            self.db.execute("DELETE FROM followups")
            self.db.executemany("INSERT INTO followups(uid, contact, cycle, sequence, status, start, end, summary, "
                                "description, fingerprint, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)

    def published(self, target: str) -> dict[str, Publication]:
        """uid -> (sequence, remote id, etag, state) of the follow-ups a remote calendar holds."""
        rows = self.db.execute("SELECT uid, sequence, remote_id, etag, state FROM published WHERE target = ?", (target,))
        return {uid: Publication(seq, rid, etag, state) for uid, seq, rid, etag, state in rows}

    def dismissed_followups(self) -> set[str]:
        """The UIDs of the follow-ups the user deleted from a remote calendar (dismissed for that lapse)."""
        return {uid for (uid,) in self.db.execute("SELECT uid FROM published WHERE state = 'dismissed'")}

    def mark_published(self, target: str, uid: str, sequence: int | None, remote_id: str = "", etag: str = "",
                       state: str = "ours") -> None:
        """Record one remote write as soon as the server took it, or what the user did to the event
        (None: it is gone from the calendar and from our records)."""
        with self.transaction():
            if sequence is None:
                self.db.execute("DELETE FROM published WHERE target = ? AND uid = ?", (target, uid))
            else:
                self.db.execute("INSERT OR REPLACE INTO published(target, uid, sequence, remote_id, etag, state) "
                                "VALUES (?,?,?,?,?,?)", (target, uid, sequence, remote_id, etag, state))

    def save_contacts(self, as_of: float, contacts: Iterable[tuple]) -> None:
        """Replace the contacts snapshot: (id, name, emails, relationship, gap, last_two_way, flags)."""
        with self.transaction():
            self.db.execute("DELETE FROM contacts")
            self.db.executemany(
                "INSERT INTO contacts VALUES (?,?,?,?,?,?,?,?)",
                [(cid, name, json.dumps(list(emails)), rel, gap, last, json.dumps(flags), as_of)
                 for cid, name, emails, rel, gap, last, flags in contacts])

    # -- the service's jobs ------------------------------------------------------------------------
    def job_state(self, name: str) -> JobState | None:
        row = self.db.execute("SELECT name, last_attempt, last_success, next_due, failures, last_error, period "
                              "FROM jobs WHERE name = ?", (name,)).fetchone()
        return JobState(*row) if row else None

    def job_states(self) -> list[JobState]:
        rows = self.db.execute("SELECT name, last_attempt, last_success, next_due, failures, last_error, period FROM jobs")
        return [JobState(*r) for r in rows]

    def save_job(self, s: JobState) -> None:
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO jobs VALUES (?,?,?,?,?,?,?)",
                            (s.name, s.last_attempt, s.last_success, s.next_due, s.failures, s.last_error, s.period))

    # -- the digest's sends ---------------------------------------------------------------------------
    def record_digest_send(self, period: str, sent_at: float, trigger: str, recipient: str, message_id: str) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO digest_sends(period, sent_at, trigger, recipient, message_id) "
                            "VALUES (?,?,?,?,?)", (period, sent_at, trigger, recipient, message_id))

    def digest_sends(self) -> list[DigestSend]:
        """Every digest sent, oldest first."""
        rows = self.db.execute("SELECT period, sent_at, trigger, recipient, message_id FROM digest_sends ORDER BY id")
        return [DigestSend(*row) for row in rows]

    # -- the user's actions --------------------------------------------------------------------------
    def add_action(self, address: str, kind: str, ts: float, note: str = "") -> None:
        with self.transaction():
            if kind in ("snooze", "ignore", "name"):  # the latest one counts
                self.db.execute("DELETE FROM actions WHERE address = ? AND kind = ?", (address, kind))
            self.db.execute("INSERT INTO actions(address, kind, ts, note, created) VALUES (?,?,?,?,?)",
                            (address, kind, ts, note, time.time()))

    def remove_actions(self, address: str, kind: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM actions WHERE address = ? AND kind = ?", (address, kind))

    def remove_latest_action(self, address: str, kind: str) -> RemovedAction | None:
        """Remove the action of this kind recorded last for ``address``; its (ts, note), or None."""
        with self.transaction():
            row = self.db.execute("SELECT rowid, ts, note FROM actions WHERE address = ? AND kind = ? "
                                  "ORDER BY created DESC, rowid DESC LIMIT 1", (address, kind)).fetchone()
            if row is None:
                return None
            self.db.execute("DELETE FROM actions WHERE rowid = ?", (row[0],))
        return RemovedAction(row[1], row[2])

    def contact_emails(self) -> set[str]:
        """Every address of the contacts the last saved analysis found."""
        return {e for (emails,) in self.db.execute("SELECT emails FROM contacts") for e in json.loads(emails)}

    def actions(self, kind: str) -> list[Action]:
        """(address, ts, note) of every action of a kind."""
        return [Action(*row) for row in self.db.execute("SELECT address, ts, note FROM actions WHERE kind = ?", (kind,))]

    # -- small state ------------------------------------------------------------------------------
    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def put(self, key: str, value: str) -> None:
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)", (key, value))

    def forget(self, key: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM kv WHERE key = ?", (key,))


def _connect(target: str, path: Path, uri: bool = False) -> Connection:
    """A connection whose errors say ``path``, in autocommit mode (transactions are ours)."""
    db = sqlite3.connect(target, uri=uri, isolation_level=None, check_same_thread=False, factory=Connection)
    db.store_path = path
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return db


def _connect_read_only(path: Path) -> Connection:
    """The store file opened read-only (``mode=ro``). SQLite reads a WAL store through its -shm
    file, which it cannot make in a read-only folder; then, if there is no -wal file either, the
    file alone holds every commit and no writer can start (it would have to make the -wal): it is
    read as it is (``immutable=1``)."""
    uri = "file:" + quote(str(path.absolute()))  # "?" and "#" in a path are no URI syntax
    db = _connect(f"{uri}?mode=ro", path, uri=True)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except StoreError as e:
        code = getattr(e.__cause__, "sqlite_errorcode", 0) & 0xFF
        if code not in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN) or Path(f"{path}-wal").exists():
            raise
        db.close()
        db = _connect(f"{uri}?immutable=1", path, uri=True)
    return db


def _statements(script: str | tuple[str, ...]) -> list[str]:
    """Split a migration into statements (none of ours contains a semicolon inside a literal)."""
    if isinstance(script, tuple):
        return list(script)
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
