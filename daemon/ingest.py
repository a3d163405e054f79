"""Sync one source into the store.

The fast path asks the connector what changed since the stored cursor. Otherwise the full listing
is compared with the stored etags and only new or changed records are fetched. Records are written
in batches: deletions go with the first (so syncs that keep being interrupted still make progress)
and the cursor with the last, so a crash leaves no cursor that claims more than the store holds,
and the next run resumes by diff.
A source that suddenly lists nothing, or far less, deletes nothing without ``force``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from connectors.base import Connector
from daemon.errors import EmptySourceGuard
from daemon.fetch import Deriver, Progress, read_batches, rows_of
from daemon.store import Store

log = logging.getLogger(__name__)

BATCH = 2000
SHRINK_GUARD_MIN = 50  # deleting more than this many records ...
SHRINK_GUARD_SHARE = 0.5  # ... and more than this share of the source needs --force


@dataclass(frozen=True)
class SyncResult:
    source: str
    fetched: int = 0
    deleted: int = 0
    unchanged: int = 0
    bad: int = 0
    fast_path: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        how = "unchanged (fast path)" if self.fast_path and not (self.fetched or self.deleted) else (
            f"{self.fetched} new or changed, {self.deleted} deleted, {self.unchanged} unchanged")
        bad = f", {self.bad} unreadable" if self.bad else ""
        return f"source {self.source}: {how}{bad} in {self.seconds:.2f}s"


def sync_source(store: Store, connector: Connector, source_type: str, force: bool = False,
                progress: Progress | None = None, commit_hook: Callable[[str], None] | None = None,
                derive: Deriver | None = None, workers: int | None = None) -> SyncResult:
    """Bring the store up to date with one source. Raises SourceError (nothing written) on failure.

    ``derive``: inference run on each record fetched, stored in the same transaction as the
    record (else the records wait for ``pipeline.derive``). ``workers``: processes that read and
    infer a large first sync of local files (``daemon.fetch``; default: one per core)."""
    t0 = time.monotonic()
    name = connector.name
    with store.transaction():
        store.ensure_source(name, source_type)
    state = store.source_state(name)
    if state and state.cursor:
        delta = connector.changes_since(state.cursor)
        if delta is not None:
            deletions = list(delta.deletions)
            if delta.resynced:
                upserted = {r.ident for r in delta.upserts}
                deletions += [i for i, (_, scope) in store.stored_items(name).items()
                              if scope in delta.resynced and i not in upserted]
            with store.transaction():
                store.put_rows(rows_of(name, delta.upserts, derive))
                store.delete_records(name, deletions)
                store.finish_sync(name, delta.cursor)
                _hook(commit_hook, "delta")
            return SyncResult(name, len(delta.upserts), len(deletions), fast_path=True,
                              seconds=time.monotonic() - t0)
    cursor = connector.cursor_now()
    listing = connector.list()
    if listing.cursor is not None:
        cursor = listing.cursor
    stored, kept = 0, 0
    same: set[str] = set()
    gone: list[str] = []
    listed = listing.items
    for ident, etag, scope in store.stored_rows(name):
        if scope in listing.unchanged:  # not listed, known unchanged: its records stand as they are
            kept += 1
            continue
        stored += 1
        item = listed.get(ident)
        if item is None:
            if scope not in listing.unreadable:
                gone.append(ident)
        elif item.etag == etag:
            same.add(item.ident)
    # fetched and stored in key order: each batch then writes to a narrow range of the store's
    # B-trees instead of to pages all over them (a folder lists in its hash order). Storing 100k
    # parsed messages wrote 174 MB instead of 1.9 GB to disk, in 2.9 s instead of 6.7 s
    wanted = sorted(i for i in listed if i not in same)
    del same
    _guard(name, stored + kept, len(gone), len(listed) + kept, force)  # the whole source, not the part listed
    if listing.unreadable:
        cursor = None  # something was not read: do not let the fast path skip it next time
    bad = 0
    batch = connector.commit_every or BATCH
    last = (len(wanted) - 1) // batch
    for n, rows in enumerate(read_batches(connector, wanted, batch, derive, progress, workers)):
        bad += rows.bad
        with store.transaction():
            if n == 0:
                store.delete_records(name, gone)  # first, so interrupted syncs still make progress
            store.put_rows(rows)
            if n == last:
                store.finish_sync(name, cursor)
            _hook(commit_hook, f"batch {n}")
    if not wanted:
        with store.transaction():
            store.delete_records(name, gone)
            store.finish_sync(name, cursor)
            _hook(commit_hook, "final")
    if bad:
        log.warning("source %s: %d record(s) could not be parsed and were skipped (run with --verbose to see which)", name, bad)
    return SyncResult(name, len(wanted), len(gone), len(listing.items) - len(wanted), bad, False, time.monotonic() - t0)


def _guard(name: str, stored: int, gone: int, listed: int, force: bool) -> None:
    """Refuse a sync after which the source would hold far less than before. Replacement is no
    shrink: an IMAP folder renumbered by its server replaces every ident at once."""
    if force or not stored or not gone:
        return
    if listed == 0:
        raise EmptySourceGuard(
            name, f"lists no records now but {stored} are stored; nothing was deleted",
            "check the path, URL or account; if it is really empty now, run `tiekeeper sync --force`")
    shrink = stored - listed
    if shrink > SHRINK_GUARD_MIN and listed < (1 - SHRINK_GUARD_SHARE) * stored:
        raise EmptySourceGuard(
            name, f"lists {listed} records where {stored} are stored; nothing was deleted",
            "if that is right, run `tiekeeper sync --force`")


def _hook(hook: Callable[[str], None] | None, point: str) -> None:
    """A test hook at every commit point: raising here aborts the transaction like a crash would."""
    if hook:
        hook(point)
