"""Interactions as columns on disk, so the analysis loads a million of them in a blink.

The ``interactions`` table stays the truth. Beside it, segments hold the same rows as columns, each
the rows of a range of ids. A trigger drops a segment in the same transaction as a delete or an
update of any row in its range, and ids only grow, so a segment never disagrees with its rows. Rows
that no segment covers (new, or of a dropped segment) are read from the table. Only writers make
segments of them: a sync (``refresh``) and the service's analysis (a load that may write); the
reading commands open the store read-only and read such rows from the table until then.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np

from daemon.analysis.table import TYPES, Builder, Table, assemble, grouped_by_hash
from daemon.errors import StoreBusy

log = logging.getLogger(__name__)

SEGMENT_ROWS = 20_000  # a smaller last segment is made again with the new rows that follow it

# The columns in the order they are stored, with their types on disk (little-endian).
_LAYOUT = tuple((f, np.dtype(t).newbyteorder("<")) for f, t in TYPES.items())
_LISTS = ("addresses", "names", "accounts", "sources")
_ROW_COLUMNS = "id, ts, channel, address, name, direction, weight, initiator, thread, account, fanout, hint, recurring, source"


# Version 2 keeps each list of strings as the 16-byte BLAKE2b digest of every string, their byte
# lengths and their UTF-8 bytes, so that a load merges the lists of many segments by their digests
# (on arrays, and decoding each distinct string once) instead of decoding and hashing every copy.
_VERSION = 2
_DIGEST = 16


def digests(strings: list[str]) -> np.ndarray:
    """The BLAKE2b digest of each string, as two unsigned 64-bit words a row."""
    raw = b"".join(hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=_DIGEST).digest() for s in strings)
    return np.frombuffer(raw, dtype="<u8").reshape(-1, 2)


def encode(table: Table) -> bytes:
    lists = {f: getattr(table, f) for f in _LISTS}
    header = json.dumps({"v": _VERSION, "rows": len(table), "lists": {f: len(v) for f, v in lists.items()}},
                        separators=(",", ":")).encode()
    parts = [len(header).to_bytes(4, "little"), header]
    for strings in lists.values():
        raw = [v.encode("utf-8", "surrogatepass") for v in strings]
        parts += [digests(strings).tobytes(), np.array([len(r) for r in raw], dtype="<u4").tobytes(), b"".join(raw)]
    parts += [np.ascontiguousarray(getattr(table, f), dtype=t).tobytes() for f, t in _LAYOUT]
    return b"".join(parts)


class OlderFormat(ValueError):
    """A segment written by an older version: made again from its rows, as a damaged one is."""


class Segment:
    """A stored segment. Its columns are read from the blob each time one is asked for: ``merge``
    asks for one column of every segment at a time, so no more is ever decoded. Its strings are
    decoded when asked for; ``merge`` needs only their digests, and each distinct string once."""

    def __init__(self, blob: bytes) -> None:
        size = int.from_bytes(blob[:4], "little")
        header = json.loads(blob[4:4 + size].decode("utf-8", "surrogatepass"))
        if not isinstance(header, dict) or header.get("v") != _VERSION:
            raise OlderFormat("a segment of an older format")
        counts = [header.get("rows"), *(header.get("lists", {}).get(f) for f in _LISTS)]
        if not all(isinstance(n, int) and n >= 0 for n in counts):
            raise ValueError("a damaged segment")
        self.blob, self.rows, offset = memoryview(blob), header["rows"], 4 + size
        self._lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # each list's digests, and where its strings begin
        for f, n in zip(_LISTS, counts[1:]):
            digest = np.frombuffer(blob, dtype="<u8", count=2 * n, offset=offset).reshape(n, 2)
            lengths = np.frombuffer(blob, dtype="<u4", count=n, offset=offset + n * _DIGEST)
            start = offset + n * (_DIGEST + 4)
            self._lists[f] = digest, start + np.r_[0, np.cumsum(lengths, dtype=np.int64)]
            offset = int(self._lists[f][1][-1])
        self._where = {}
        for f, t in _LAYOUT:
            self._where[f] = np.dtype(t), offset
            offset += self.rows * np.dtype(t).itemsize
        if offset != len(blob):
            raise ValueError("a damaged segment")

    def __len__(self) -> int:
        return self.rows

    def digests(self, kind: str) -> np.ndarray:
        return self._lists[kind][0]

    def strings(self, kind: str, positions: list[int] | None = None) -> list[str]:
        """The strings of a list (``kind``: "addresses", ...), or those at ``positions``."""
        _, bounds = self._lists[kind]
        at = bounds.tolist()
        blob = self.blob
        return [str(blob[at[k]:at[k + 1]], "utf-8", "surrogatepass")
                for k in (range(len(at) - 1) if positions is None else positions)]

    def __getattr__(self, name: str) -> np.ndarray | list[str]:  # only for what is not set above
        if name.startswith("_") or (name not in self._where and name not in self._lists):
            raise AttributeError(name)
        if name in self._lists:
            return self.strings(name)
        dtype, offset = self._where[name]
        # A read-only view of the blob where it already is in this machine's byte order (concat copies it).
        return np.frombuffer(self.blob, dtype=dtype, count=self.rows, offset=offset).astype(dtype.newbyteorder("="),
                                                                                        copy=False)


def merge(parts: list) -> Table:
    """One table of the rows of ``parts`` (Segments and Tables), as ``Table.concat`` makes it, with
    the lists of strings merged by their digests. Should two different strings ever share the
    first word of their digests, the plain ``Table.concat`` does it instead."""
    if not any(isinstance(p, Segment) and len(p) for p in parts):  # all new rows: nothing to gain from digests
        return Table.concat(parts)
    parts = [p for p in parts if len(p)]
    lists, codes = {}, {}
    for f in _LISTS:
        each = [p.digests(f) if isinstance(p, Segment) else digests(getattr(p, f)) for p in parts]
        merged = _merge_digests(np.concatenate(each))
        if merged is None:
            return Table.concat(parts)
        code, firsts = merged
        bounds = np.cumsum([0] + [len(d) for d in each]).tolist()
        part_of = np.searchsorted(bounds, firsts, side="right") - 1
        strings: list[str] = [""] * len(firsts)
        for k in np.unique(part_of).tolist():  # each string decoded once, from the part that has it first
            which = np.flatnonzero(part_of == k)
            positions = (firsts[which] - bounds[k]).tolist()
            p = parts[k]
            got = p.strings(f, positions) if isinstance(p, Segment) else [getattr(p, f)[i] for i in positions]
            for w, v in zip(which.tolist(), got):
                strings[w] = v
        lists[f], codes[f] = strings, [code[bounds[k]:bounds[k + 1]] for k in range(len(parts))]
    return assemble(parts, lists, codes)


def _merge_digests(d: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """For rows of digests (two words each): each row's code, the codes numbered in order of first
    appearance, and the row where each code first appears. None if two different digests share their
    first word (the second word tells them apart; then the caller merges the plain way)."""
    if not len(d):
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    grouped = grouped_by_hash(d[:, 0])  # (or the whole first words argsorted, should two share their top bits)
    if grouped is None:
        order = np.argsort(d[:, 0])
        first = d[order, 0]
        new = np.r_[True, first[1:] != first[:-1]]
    else:
        order, same = grouped  # (same: the same first word as the row before)
        new = np.r_[True, ~same]
    second = d[order, 1]
    if (second[1:] != second[:-1])[~new[1:]].any():
        return None
    unique = np.cumsum(new) - 1  # in digest order
    firsts = np.minimum.reduceat(order, np.flatnonzero(new))  # where each digest first appears
    renumber = np.empty(len(firsts), dtype=np.int32)
    by_appearance = np.argsort(firsts)
    renumber[by_appearance] = np.arange(len(firsts), dtype=np.int32)
    code = np.empty(len(d), dtype=np.int32)
    code[order] = renumber[unique]
    return code, firsts[by_appearance]


def load(db: sqlite3.Connection, sources: Iterable[str] | None = None, since: float | None = None,
         writable: bool = True, leave_out: np.ndarray | None = None) -> Table:
    """The stored interactions (of ``sources``, from ``since`` on) as a Table, without the rows whose
    ids are in ``leave_out`` (sorted). All reads see one snapshot of the store (the caller's
    transaction, else one of its own); if ``writable``, the rows no segment covers are made into
    segments, kept only if nothing was written since the snapshot was taken."""
    with _snapshot(db):
        try:
            table, made = _read(db, since, writable, leave_out=leave_out)
        except UnicodeDecodeError:  # a segment's strings are damaged where its header cannot show it
            log.warning("the store's column cache had a damaged segment; it is all made again from the rows")
            table, made = _read(db, since, writable, trust_segments=False, leave_out=leave_out)
        _keep(db, made)
    keep = np.ones(len(table), dtype=bool)
    if since is not None:
        keep &= table.ts >= since
    if sources is not None:
        wanted = set(sources)
        keep &= np.array([s in wanted for s in table.sources] + [False], dtype=bool)[table.source]
    return table if keep.all() else table.take(keep)


def refresh(db: sqlite3.Connection) -> int:
    """Make segments of the rows no segment covers (after a sync, so that the reading commands, which
    never write, find them). Returns how many rows they hold."""
    with _snapshot(db):
        _, gaps = _plan(db, None, writable=True, trust_segments=True)
        made = [m for _, m in _gap_rows(db, gaps, None)]
        _keep(db, made)
    return sum(m[2] for m in made)


@contextmanager
def _snapshot(db: sqlite3.Connection) -> Iterator[None]:
    """One snapshot for every read inside: the caller's transaction, else one of its own
    (BEGIN ... COMMIT, rolled back on any error or interruption)."""
    own = not db.in_transaction
    if own:
        db.execute("BEGIN")
    try:
        yield
        if own:
            db.execute("COMMIT")
    except BaseException:
        if own and db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _keep(db: sqlite3.Connection, made: list[tuple]) -> None:
    """Store new segments. The first write fails if the snapshot they were made from is stale, or
    waits for a writer that holds the lock and then fails: then they are made next time."""
    if not made:
        return
    db.execute("SAVEPOINT segments")
    try:
        for first, last, rows, max_ts, part in made:
            db.execute("DELETE FROM interaction_segments WHERE first <= ? AND last >= ?", (last, first))
            db.execute("INSERT INTO interaction_segments VALUES (?,?,?,?,?)", (first, last, rows, max_ts, encode(part)))
    except StoreBusy:
        db.execute("ROLLBACK TO segments")
    db.execute("RELEASE segments")


def _read(db: sqlite3.Connection, since: float | None, writable: bool, trust_segments: bool = True,
          leave_out: np.ndarray | None = None) -> tuple[Table, list[tuple]]:
    """Every row from the segments (those that reach ``since``) and, for the rows no segment
    covers, from the table, less those in ``leave_out``: (the rows, the segments to make of the
    latter if ``writable``). A segment holding a row to leave out is read from its rows instead,
    and no segment is made while rows are left out (a segment holds every row of its range)."""
    leaving = leave_out is not None and len(leave_out) > 0
    writable = writable and not leaving
    parts, gaps = _plan(db, since, writable, trust_segments, leave_out if leaving else None)
    made = []
    for part, segment in _gap_rows(db, gaps, leave_out if leaving else None):
        parts.append(part)
        made.append(segment)
    return merge(parts), made if writable else []


def _plan(db: sqlite3.Connection, since: float | None, writable: bool, trust_segments: bool,
          leave_out: np.ndarray | None = None) -> tuple[list, list[tuple[int, int]]]:
    """The segments to read (those that reach ``since``), and the ranges of ids no usable segment
    covers: (Segments, [(first id, last id)])."""
    segments = db.execute("SELECT first, last, rows, max_ts >= ?, CASE WHEN max_ts >= ? THEN data END "
                          "FROM interaction_segments ORDER BY first", (since or float("-inf"),) * 2).fetchall()
    if not trust_segments:
        segments = []
    newest = db.execute("SELECT max(id) FROM interactions").fetchone()[0] or 0
    if writable and segments and segments[-1][2] < SEGMENT_ROWS and newest > segments[-1][1]:
        segments.pop()  # an unfinished last segment, and rows after it: make it again with them
    parts: list = []
    gaps: list[tuple[int, int]] = []
    end = 0
    for first, last, _, wanted, data in segments:
        if first > end + 1:
            gaps.append((end + 1, first - 1))
        if wanted and leave_out is not None and _any_between(leave_out, first, last):
            gaps.append((first, last))
        elif wanted:
            try:
                parts.append(Segment(data))
            except OlderFormat:  # written by an older version: made again, in this one's format
                log.debug("a column segment of an older format is made again from its rows")
                gaps.append((first, last))
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):  # damaged: read its rows instead
                log.warning("the store's column cache had a damaged segment; it is made again from its rows")
                gaps.append((first, last))
        end = last
    if newest > end:
        gaps.append((end + 1, newest))
    return parts, gaps


def _gap_rows(db: sqlite3.Connection, gaps: list[tuple[int, int]],
              leave_out: np.ndarray | None) -> Iterator[tuple[Table, tuple]]:
    """The rows of each range of ids, as tables of at most SEGMENT_ROWS rows, each with the
    segment it makes: (table, (first id, last id, rows, max ts, table))."""
    for lo, hi in gaps:
        rows = db.execute(f"SELECT {_ROW_COLUMNS} FROM interactions WHERE id BETWEEN ? AND ? ORDER BY id", (lo, hi))
        while chunk := rows.fetchmany(SEGMENT_ROWS):
            first, last = chunk[0][0], chunk[-1][0]
            if leave_out is not None and _any_between(leave_out, first, last):
                ids = np.fromiter((r[0] for r in chunk), dtype=np.int64, count=len(chunk))
                chunk = [r for r, out in zip(chunk, _members(leave_out, ids)) if not out]
                if not chunk:
                    continue
            part = _table(chunk)
            yield part, (first, last, len(chunk), float(part.ts.max()), part)


def _any_between(ids: np.ndarray, first: int, last: int) -> bool:
    """Whether the sorted ``ids`` hold one from ``first`` to ``last``."""
    return bool(np.searchsorted(ids, last, side="right") > np.searchsorted(ids, first, side="left"))


def _members(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each of ``values``, whether the sorted ``ids`` hold it."""
    at = np.minimum(np.searchsorted(ids, values), len(ids) - 1)
    return ids[at] == values


def _table(rows: list[tuple]) -> Table:
    builder = Builder()
    add = builder.add
    for _, ts, channel, address, name, direction, weight, initiator, thread, account, fanout, hint, recurring, source in rows:
        add(ts, channel, address, name, direction, weight, initiator, thread, account, fanout, hint, recurring, source)
    return builder.build()
