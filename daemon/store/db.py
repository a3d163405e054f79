"""SQLite access: WAL mode, migrations, one place for every query.

Writes happen inside ``transaction()`` (BEGIN IMMEDIATE ... COMMIT). A sync writes a source's
records and its cursor in the same transaction, so a crash leaves either both or neither.
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

from daemon.analysis.table import Table
from daemon.errors import StoreError
from daemon.fsutil import ensure_private_dir
from daemon.jobs import JobState
from daemon.models import Derived, RawRecord
from daemon.store import columns
from daemon.store.migrations import MIGRATIONS
from daemon.store.rows import INTERACTION_COLUMNS, DropRow, InteractionRow, Rows, derived_rows, record_rows
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
                self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None,
                                          factory=Connection)
            else:
                ensure_private_dir(self.path.parent)
                if not self.path.exists():
                    os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
                os.chmod(self.path, 0o600)
                self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                          factory=Connection)
            self.db.store_path = self.path
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not readonly:
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = NORMAL")
                self._migrate()
            else:
                self._check_version()
        except sqlite3.DatabaseError as e:  # from connect(); what runs on the connection raises StoreError
            raise StoreError(f"cannot open the store {self.path}: {e}", "is it a tiekeeper database?") from None

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
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:  # not when SQLite already rolled it back itself
                self.db.execute("ROLLBACK")
            raise

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
        self.db.execute("INSERT OR IGNORE INTO sources(name, type) VALUES (?, ?)", (name, type_))

    def stored_items(self, source: str) -> dict[str, tuple[str, str]]:
        """ident -> (etag, scope) for every stored record of a source."""
        return {ident: (etag, scope) for ident, etag, scope in self.stored_rows(source)}

    def stored_rows(self, source: str) -> Iterator[tuple[str, str, str]]:
        """(ident, etag, scope) of every stored record of a source, one at a time: a million of
        them need not be in memory at once."""
        yield from self.db.execute("SELECT ident, etag, scope FROM records WHERE source = ?", (source,))

    def put_records(self, source: str, records: Iterable[RawRecord],
                    derived: dict[str, Derived] | None = None) -> int:
        """Insert or replace records; their derived interactions are dropped and made again:
        from ``derived`` (ident -> what inference made of it) in this same transaction, else later."""
        return self.put_rows(record_rows(source, records, derived))

    def put_rows(self, rows: Rows) -> int:
        """``put_records`` of rows already made (``daemon.store.rows``), e.g. by a worker process."""
        idents = [(r[0], r[1]) for r in rows.records]
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
        for table in ("records", "interactions", "drops"):
            self.db.executemany(f"DELETE FROM {table} WHERE source = ? AND ident = ?", keys)
        return len(keys)

    def finish_sync(self, source: str, cursor: str | None) -> None:
        """Record a successful sync: the cursor, the record count, no error. Call inside the
        transaction that wrote the records."""
        count = self.db.execute("SELECT count(*) FROM records WHERE source = ?", (source,)).fetchone()[0]
        self.db.execute(
            "UPDATE sources SET cursor = ?, records = ?, last_sync = ?, last_error = NULL, failures = 0 WHERE name = ?",
            (cursor, count, time.time(), source),
        )

    def record_failure(self, source: str, message: str) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE sources SET last_error = ?, failures = failures + 1 WHERE name = ?", (message, source)
            )

    def records(self, kind: str, sources: Iterable[str] | None = None) -> Iterator[tuple[str, RawRecord]]:
        """(source, record) for every stored record of a kind."""
        rows = self.db.execute("SELECT source, ident, etag, scope, kind, data FROM records WHERE kind = ?", (kind,))
        wanted = set(sources) if sources is not None else None
        for source, ident, etag, scope, k, data in rows:
            if wanted is None or source in wanted:
                yield source, RawRecord(ident, etag, k, json.loads(data), scope)

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
    def uninferred(self, kind: str, version: str, limit: int = -1) -> Iterator[tuple[str, RawRecord]]:
        """Records not yet inferred by this inference ``version`` (at most ``limit``; -1: all)."""
        rows = self.db.execute(
            "SELECT source, ident, etag, scope, kind, data FROM records WHERE kind = ? AND (inferred IS NULL OR inferred != ?)"
            " LIMIT ?",
            (kind, version, limit),
        ).fetchall()
        for source, ident, etag, scope, k, data in rows:
            yield source, RawRecord(ident, etag, k, json.loads(data), scope)

    def put_inferred(self, source: str, ident: str, derived: Derived) -> None:
        """Replace what inference made of a stored record."""
        self.db.execute("DELETE FROM interactions WHERE source = ? AND ident = ?", (source, ident))
        self.db.execute("DELETE FROM drops WHERE source = ? AND ident = ?", (source, ident))
        self._insert_rows(*derived_rows(source, {ident: derived}))
        self.db.execute("UPDATE records SET inferred = ? WHERE source = ? AND ident = ?", (derived.version, source, ident))

    def _insert_rows(self, interactions: list[InteractionRow], drops: list[DropRow]) -> None:
        self.db.executemany(
            f"INSERT INTO interactions({INTERACTION_COLUMNS}) VALUES ({','.join('?' * 16)})", interactions)
        self.db.executemany("INSERT INTO drops(source, ident, address, rule) VALUES (?,?,?,?)", drops)

    def interaction_table(self, sources: Iterable[str] | None = None, since: float | None = None) -> Table:
        """The stored interactions (of ``sources``, from ``since`` on) as columns, for the analysis."""
        return columns.load(self.db, sources, since, writable=not self.readonly)

    def drops_for(self, address: str) -> list[tuple[str, str]]:
        """(rule, count) of the mail from one address that inference dropped."""
        rows = self.db.execute(
            "SELECT rule, count(*) FROM drops WHERE address = ? GROUP BY rule ORDER BY count(*) DESC", (address,)
        )
        return [(rule, n) for rule, n in rows]

    def followups(self) -> list[tuple]:
        """The follow-up events as last published (FollowUp fields, in order)."""
        return self.db.execute("SELECT uid, contact, cycle, sequence, status, start, end, summary, description, "
                               "fingerprint, updated FROM followups").fetchall()

    def save_followups(self, rows: list[tuple]) -> None:
        """Replace the published follow-ups; call after the file was written, so a failed write
        leaves the old state (and the next run publishes the same UIDs and SEQUENCEs again)."""
        with self.transaction():
            self.db.execute("DELETE FROM followups")
            self.db.executemany("INSERT INTO followups VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)

    def published(self, target: str) -> dict[str, tuple[int, str, str, str]]:
        """uid -> (sequence, remote id, etag, state) of the follow-ups a remote calendar holds."""
        rows = self.db.execute("SELECT uid, sequence, remote_id, etag, state FROM published WHERE target = ?", (target,))
        return {uid: (seq, rid, etag, state) for uid, seq, rid, etag, state in rows}

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

    def digest_sends(self) -> list[tuple[str, float, str, str, str]]:
        """(period, sent_at, trigger, recipient, message_id) of every digest sent, oldest first."""
        return self.db.execute("SELECT period, sent_at, trigger, recipient, message_id FROM digest_sends "
                               "ORDER BY id").fetchall()

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

    def remove_latest_action(self, address: str, kind: str) -> tuple[float, str] | None:
        """Remove the action of this kind recorded last for ``address``; its (ts, note), or None."""
        with self.transaction():
            row = self.db.execute("SELECT rowid, ts, note FROM actions WHERE address = ? AND kind = ? "
                                  "ORDER BY created DESC, rowid DESC LIMIT 1", (address, kind)).fetchone()
            if row is None:
                return None
            self.db.execute("DELETE FROM actions WHERE rowid = ?", (row[0],))
        return row[1], row[2]

    def contact_emails(self) -> set[str]:
        """Every address of the contacts the last saved analysis found."""
        return {e for (emails,) in self.db.execute("SELECT emails FROM contacts") for e in json.loads(emails)}

    def actions(self, kind: str) -> list[tuple[str, float, str]]:
        """(address, ts, note) of every action of a kind."""
        return self.db.execute("SELECT address, ts, note FROM actions WHERE kind = ?", (kind,)).fetchall()

    # -- small state ------------------------------------------------------------------------------
    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def put(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)", (key, value))

    def forget(self, key: str) -> None:
        self.db.execute("DELETE FROM kv WHERE key = ?", (key,))


def _statements(script: str | tuple[str, ...]) -> list[str]:
    """Split a migration into statements (none of ours contains a semicolon inside a literal)."""
    if isinstance(script, tuple):
        return list(script)
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
