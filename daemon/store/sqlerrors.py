"""The one place where sqlite3 errors become the project's errors (daemon.errors).

The store's connection and its cursors are these subclasses: every statement run, and every row
fetched, through ``Store.db`` raises a StoreError (StoreBusy when another writer held the lock past
the busy timeout) instead of a sqlite3 exception, with the original chained as its cause.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from daemon.errors import StoreBusy, StoreError

BUSY_MESSAGE = "the service is writing to the store; try again in a moment"
_REBUILD = "move it aside and run `tiekeeper sync` to rebuild it"


def translate(e: sqlite3.Error, path: object) -> StoreError:
    """The StoreError that says what a sqlite3 error means for the user."""
    code = getattr(e, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreBusy(BUSY_MESSAGE)
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StoreError(f"the store {path} is damaged or not a tiekeeper store: {e}", _REBUILD)
    if primary == sqlite3.SQLITE_FULL:
        return StoreError(f"the disk holding the store {path} is full", "free some space and try again")
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_PERM):
        return StoreError(f"cannot read or write the store {path}: {e}", "check the disk and the file's permissions")
    return StoreError(f"the store {path}: {type(e).__name__}: {e}", "run with --verbose and report it")


class Cursor(sqlite3.Cursor):
    """A cursor whose every call raises StoreError, never sqlite3.Error."""

    def _path(self) -> object:
        return getattr(self.connection, "store_path", "?")

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as e:
            raise translate(e, self._path()) from e

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Cursor:
        try:
            return super().executemany(sql, seq_of_parameters)
        except sqlite3.Error as e:
            raise translate(e, self._path()) from e

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as e:
            raise translate(e, self._path()) from e

    def fetchmany(self, size: int | None = None) -> list[Any]:
        try:
            return super().fetchmany(self.arraysize if size is None else size)
        except sqlite3.Error as e:
            raise translate(e, self._path()) from e

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as e:
            raise translate(e, self._path()) from e

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as e:
            raise translate(e, self._path()) from e


class Connection(sqlite3.Connection):
    """The store's connection (``sqlite3.connect(..., factory=Connection)``): its statements run on
    ``Cursor``s, and its other calls translate their errors too."""

    store_path: object = "?"

    def cursor(self, factory: type[sqlite3.Cursor] = Cursor) -> Cursor:  # type: ignore[override]
        return super().cursor(factory)  # type: ignore[return-value]

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Cursor:
        return self.cursor().executemany(sql, seq_of_parameters)

    def executescript(self, script: str, /) -> Cursor:
        try:
            return super().executescript(script)  # type: ignore[return-value]
        except sqlite3.Error as e:
            raise translate(e, self.store_path) from e

    def commit(self) -> None:
        try:
            super().commit()
        except sqlite3.Error as e:
            raise translate(e, self.store_path) from e

    def rollback(self) -> None:
        try:
            super().rollback()
        except sqlite3.Error as e:
            raise translate(e, self.store_path) from e
