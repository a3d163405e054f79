"""Interactions as columns on disk, so the analysis loads a million of them in a blink.

The ``interactions`` table stays the truth. Beside it, segments hold the same rows as columns, each
the rows of a range of ids. A trigger drops a segment in the same transaction as a delete or an
update of any row in its range, and ids only grow, so a segment never disagrees with its rows. Rows
that no segment covers (new, or of a dropped segment) are read from the table, and a loader that
may write makes them into segments for the next time.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable

import numpy as np

from daemon.analysis.table import TYPES, Builder, Table

log = logging.getLogger(__name__)

SEGMENT_ROWS = 20_000  # a smaller last segment is made again with the new rows that follow it

# The columns in the order they are stored, with their types on disk (little-endian).
_LAYOUT = tuple((f, np.dtype(t).newbyteorder("<")) for f, t in TYPES.items())
_LISTS = ("addresses", "names", "accounts", "sources")
_ROW_COLUMNS = "id, ts, channel, address, name, direction, weight, initiator, thread, account, fanout, hint, recurring, source"


def encode(table: Table) -> bytes:
    header = json.dumps({"rows": len(table), **{f: getattr(table, f) for f in _LISTS}},
                        ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    body = b"".join(np.ascontiguousarray(getattr(table, f), dtype=t).tobytes() for f, t in _LAYOUT)
    return len(header).to_bytes(4, "little") + header + body


class Segment:
    """A stored segment. Its columns are decoded from the blob each time one is asked for:
    ``Table.concat`` asks for one column of every segment at a time, so no more is ever decoded."""

    def __init__(self, blob: bytes) -> None:
        size = int.from_bytes(blob[:4], "little")
        header = json.loads(blob[4:4 + size].decode("utf-8", "surrogatepass"))
        self.blob, self.rows = blob, header["rows"]
        self.addresses, self.names, self.accounts, self.sources = (header[f] for f in _LISTS)
        self._where, offset = {}, 4 + size
        for f, t in _LAYOUT:
            self._where[f] = np.dtype(t), offset
            offset += self.rows * np.dtype(t).itemsize
        if offset != len(blob) or not all(isinstance(v, list) for v in (self.addresses, self.names, self.accounts,
                                                                             self.sources)):
            raise ValueError("a damaged segment")

    def __len__(self) -> int:
        return self.rows

    def __getattr__(self, name: str) -> np.ndarray:  # only for what is not set above: the columns
        if name.startswith("_") or name not in self._where:
            raise AttributeError(name)
        dtype, offset = self._where[name]
        # A read-only view of the blob where it already is in this machine's byte order (concat copies it).
        return np.frombuffer(self.blob, dtype=dtype, count=self.rows, offset=offset).astype(dtype.newbyteorder("="),
                                                                                        copy=False)


def load(db: sqlite3.Connection, sources: Iterable[str] | None = None, since: float | None = None,
         writable: bool = True) -> Table:
    """The stored interactions (of ``sources``, from ``since`` on) as a Table. All reads see one
    snapshot of the store; new segments are kept only if nothing was written since it was taken."""
    db.execute("BEGIN")
    try:
        table, made = _read(db, since, writable)
        try:
            for first, last, rows, max_ts, part in made:  # the first write fails if the snapshot is stale
                db.execute("DELETE FROM interaction_segments WHERE first <= ? AND last >= ?", (last, first))
                db.execute("INSERT INTO interaction_segments VALUES (?,?,?,?,?)", (first, last, rows, max_ts, encode(part)))
        except sqlite3.OperationalError:  # busy, or another writer came first: make them next time
            db.execute("ROLLBACK")
        else:
            db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    keep = np.ones(len(table), dtype=bool)
    if since is not None:
        keep &= table.ts >= since
    if sources is not None:
        wanted = set(sources)
        keep &= np.array([s in wanted for s in table.sources] + [False], dtype=bool)[table.source]
    return table if keep.all() else table.take(keep)


def _read(db: sqlite3.Connection, since: float | None, writable: bool) -> tuple[Table, list[tuple]]:
    """Every row from the segments (those that reach ``since``) and, for the rows no segment
    covers, from the table: (the rows, the segments to make of the latter if ``writable``)."""
    segments = db.execute("SELECT first, last, rows, max_ts >= ?, CASE WHEN max_ts >= ? THEN data END "
                          "FROM interaction_segments ORDER BY first", (since or float("-inf"),) * 2).fetchall()
    newest = db.execute("SELECT max(id) FROM interactions").fetchone()[0] or 0
    if writable and segments and segments[-1][2] < SEGMENT_ROWS and newest > segments[-1][1]:
        segments.pop()  # an unfinished last segment, and rows after it: make it again with them
    parts, gaps, end = [], [], 0
    for first, last, _, wanted, data in segments:
        if first > end + 1:
            gaps.append((end + 1, first - 1))
        if wanted:
            try:
                parts.append(Segment(data))
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):  # damaged: read its rows instead
                log.warning("the store's column cache had a damaged segment; it is made again from its rows")
                gaps.append((first, last))
        end = last
    if newest > end:
        gaps.append((end + 1, newest))
    made = []
    for lo, hi in gaps:
        rows = db.execute(f"SELECT {_ROW_COLUMNS} FROM interactions WHERE id BETWEEN ? AND ? ORDER BY id", (lo, hi))
        while chunk := rows.fetchmany(SEGMENT_ROWS):
            part = _table(chunk)
            made.append((chunk[0][0], chunk[-1][0], len(chunk), float(part.ts.max()), part))
            parts.append(part)
    return Table.concat(parts), made if writable else []


def _table(rows: list[tuple]) -> Table:
    builder = Builder()
    add = builder.add
    for _, ts, channel, address, name, direction, weight, initiator, thread, account, fanout, hint, recurring, source in rows:
        add(ts, channel, address, name, direction, weight, initiator, thread, account, fanout, hint, recurring, source)
    return builder.build()
