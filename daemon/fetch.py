"""Reading a source's records and inferring what they say, on every core when there are many.

A first sync of a large local mailbox is mostly reading and parsing header blocks and inferring
interactions from them, and each message is independent of the others. Connectors that read local
files (``Connector.parallel_reads``) have that work split over worker processes, forked after the
listing so each worker holds the connector's state as it is; each returns the store's rows for its
share (``daemon.store.rows``: plain tuples, cheap to send back). The parent stays the store's only
writer and takes the shares in the order asked, so what is stored, and in which transaction, is
the same as when one process does it all.

Workers are forked, not spawned: the connector and the inference (a closure over who "me" is) are
used as they are, never pickled. The children never touch the store's connection, and they end
with ``os._exit`` (multiprocessing's way), so nothing of the parent's is closed or flushed by them.
A first sync is the only time this runs: the syncs after it read what changed, a few records.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from connectors.base import Connector
from daemon.errors import SourceError
from daemon.models import Derived, RawRecord
from daemon.store.rows import Rows, record_rows

Deriver = Callable[[str, RawRecord], Derived | None]  # (source, record) -> what to store of its inference
Progress = Callable[[int, int], None]  # (records read, records wanted)

SHARE = 250  # records a worker reads in one go: small enough to keep every core busy to the end
PARALLEL_MIN = 2000  # fewer records than this are read here: starting workers would cost more than it saves
PROGRESS_EVERY = 100  # records between progress updates when read here


def default_workers() -> int:
    """The cores this process may run on (its affinity, which a container or taskset narrows)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def read_batches(connector: Connector, idents: Sequence[str], batch: int, derive: Deriver | None,
                 progress: Progress | None = None, workers: int | None = None) -> Iterator[Rows]:
    """The rows of the records ``idents`` name, one commit batch (``batch`` idents) at a time, the
    batches in the order of ``idents`` and each batch's records in the order its one ``get_multi``
    call would give them.

    Read by worker processes when the connector reads local files, there are at least
    PARALLEL_MIN records and more than one core (``workers``: how many; default all of them);
    else here, each batch with one ``get_multi`` call, as a network connector wants."""
    workers = default_workers() if workers is None else workers
    batches = [idents[i:i + batch] for i in range(0, len(idents), batch)]
    if (connector.parallel_reads and workers > 1 and len(idents) >= PARALLEL_MIN
            and "fork" in multiprocessing.get_all_start_methods()):
        yield from _in_workers(connector, derive, batches, progress, len(idents), workers)
        return
    done = 0
    for part in batches:
        records = []
        for record in connector.get_multi(part):  # network sources take seconds a batch: show it moving
            records.append(record)
            if progress and len(records) % PROGRESS_EVERY == 0:
                progress(done + len(records), len(idents))
        done += len(part)
        if progress:
            progress(done, len(idents))
        yield rows_of(connector.name, records, derive)


def rows_of(source: str, records: list[RawRecord], derive: Deriver | None) -> Rows:
    """The store's rows of ``records`` and of what ``derive`` makes of each."""
    derived = {}
    if derive is not None:
        derived = {r.ident: d for r in records if (d := derive(source, r)) is not None}
    return record_rows(source, records, derived)


# What the workers read with: set in the parent before they are forked, inherited by them.
_job: tuple[Connector, Deriver | None] | None = None


def _worker_start() -> None:
    """In each worker: Ctrl-C is the parent's to handle (it stops the pool, and prints one line,
    not a traceback a worker); SIGTERM ends a worker, whatever handler the parent had (the service
    has one that only asks it to stop after the job at hand)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _worker_rows(idents: Sequence[str]) -> Rows:
    assert _job is not None, "a worker is forked after _job is set"
    connector, derive = _job
    return rows_of(connector.name, list(connector.get_multi(idents)), derive)


def _in_workers(connector: Connector, derive: Deriver | None, batches: list[Sequence[str]],
                progress: Progress | None, total: int, workers: int) -> Iterator[Rows]:
    """Each batch read by the workers a share at a time, and yielded whole, in order. At most two
    shares a worker are asked for ahead of the one the caller waits for, so memory stays flat
    however large the source. A worker that dies (killed, out of memory) fails the sync with
    one line instead of leaving it waiting."""
    global _job
    _job = (connector, derive)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_worker_start) as pool:
            asked: deque[tuple[bool, int, Future[Rows]]] = deque()  # (ends its batch, read by then, rows)
            batch = Rows()

            def oldest() -> Iterator[Rows]:
                nonlocal batch
                ends_batch, done, rows = asked.popleft()
                batch.extend(rows.result())
                if progress:
                    progress(done, total)
                if ends_batch:
                    yield batch
                    batch = Rows()

            try:
                before = 0  # idents in the batches before this one
                for part in batches:
                    ordered = connector.read_order(part)  # shares cut from it keep the order one call keeps
                    for i in range(0, len(ordered), SHARE):
                        last = i + SHARE >= len(ordered)
                        done = before + (len(part) if last else i + SHARE)
                        asked.append((last, done, pool.submit(_worker_rows, ordered[i:i + SHARE])))
                        if len(asked) > 2 * workers:
                            yield from oldest()
                    if not ordered:  # every record of the batch vanished since the listing
                        asked.append((True, before + len(part), pool.submit(_worker_rows, [])))
                    before += len(part)
                while asked:
                    yield from oldest()
            finally:  # stopped early (an error, Ctrl-C, the caller gone): what was asked is not wanted
                for _, _, rows in asked:
                    rows.cancel()
    except BrokenProcessPool:
        raise SourceError(connector.name, "a process reading it stopped unexpectedly; nothing of the batch "
                          "it was in was stored", "run `tiekeeper sync` again; if it repeats, run it with --verbose "
                          "and report it") from None
    finally:
        _job = None
