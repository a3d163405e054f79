"""A large first sync of local files is read by worker processes (daemon.fetch): what it stores,
and in which transactions, is what one process stores."""

import multiprocessing
import os
import signal
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.maildir import MaildirConnector
from connectors.mbox import MboxConnector
from daemon import fetch
from daemon.errors import SourceError
from daemon.identity import Me
from daemon.ingest import sync_source
from daemon.pipeline import mail_deriver
from daemon.store import Store
from tests.helpers import ME, NOW, make_maildir, make_mbox, message

COUNT = 700  # over 2 shares a worker with a small share and batch, so order and batches are tested


def _messages() -> list[bytes]:
    msgs = []
    for i in range(COUNT):
        when = NOW - timedelta(hours=i)
        if i % 7 == 0:
            msgs.append(message(ME, [f"p{i % 40}@x.example"], when, msgid=f"<o{i}@t>"))
        elif i % 11 == 0:
            msgs.append(b"garbage without any header\r\n\r\nbody\r\n")  # a bad record
        else:
            msgs.append(message(f"p{i % 40}@x.example", ME, when, in_reply_to=f"<o{i - i % 7}@t>"))
    return msgs


@pytest.fixture
def small_shares(monkeypatch):
    """Shares of 50 records and workers from 100 records on: the parallel path on a small source."""
    monkeypatch.setattr(fetch, "SHARE", 50)
    monkeypatch.setattr(fetch, "PARALLEL_MIN", 100)


def _dump(db: Path) -> dict[str, list]:
    con = sqlite3.connect(db)
    tables = {t: con.execute(f"SELECT * FROM {t} ORDER BY source, ident").fetchall()
              for t in ("records", "interactions", "drops")}
    tables["sources"] = con.execute("SELECT name, type, cursor, records, last_error FROM sources").fetchall()
    con.close()
    return tables


def _sync(tmp_path: Path, connector, workers: int, name: str, **kw):
    store = Store(tmp_path / f"{name}.db")
    try:
        result = sync_source(store, connector, "maildir", derive=mail_deriver(Me([ME])), workers=workers, **kw)
    finally:
        store.close()
    return result, _dump(tmp_path / f"{name}.db")


def _uses_workers(monkeypatch) -> list[int]:
    """The pools started, by their size: proof that the parallel path was taken."""
    started: list[int] = []
    real = fetch._in_workers

    def counting(connector, derive, batches, progress, total, workers):
        started.append(workers)
        return real(connector, derive, batches, progress, total, workers)

    monkeypatch.setattr(fetch, "_in_workers", counting)
    return started


def test_a_maildir_read_by_workers_stores_what_one_process_stores(tmp_path, small_shares, monkeypatch):
    root = make_maildir(tmp_path / "mail", {"INBOX": _messages()})
    one, stored_one = _sync(tmp_path, MaildirConnector("m", root), 1, "one")
    started = _uses_workers(monkeypatch)
    many, stored_many = _sync(tmp_path, MaildirConnector("m", root), 2, "many")
    assert started == [2]
    assert (many.fetched, many.bad) == (one.fetched, one.bad) == (COUNT, len(range(0, COUNT, 11)) - len(range(0, COUNT, 77)))
    assert stored_many == stored_one
    assert len(stored_one["interactions"]) > COUNT // 2


def test_an_mbox_read_by_workers_stores_what_one_process_stores(tmp_path, small_shares, monkeypatch):
    path = make_mbox(tmp_path / "all.mbox", _messages())
    _, stored_one = _sync(tmp_path, MboxConnector("m", path), 1, "one")
    started = _uses_workers(monkeypatch)
    _, stored_many = _sync(tmp_path, MboxConnector("m", path), 2, "many")
    assert started == [2]
    assert stored_many == stored_one


def test_below_the_threshold_no_worker_is_started(tmp_path, monkeypatch):
    root = make_maildir(tmp_path / "mail", {"INBOX": _messages()[:50]})
    started = _uses_workers(monkeypatch)
    result, _ = _sync(tmp_path, MaildirConnector("m", root), 2, "few")
    assert started == [] and result.fetched == 50


def test_batches_commit_in_order_and_an_interrupted_parallel_sync_resumes(tmp_path, small_shares, monkeypatch):
    """Batches of 200 records: a crash after the second commit leaves 400 records and no cursor;
    the next sync (with workers again) ends with the store a clean sync makes."""
    monkeypatch.setattr("daemon.ingest.BATCH", 200)
    root = make_maildir(tmp_path / "mail", {"INBOX": _messages()})
    progress: list[tuple[int, int]] = []

    def crash_after_second_batch(point: str) -> None:
        if point == "batch 2":
            raise KeyboardInterrupt

    store = Store(tmp_path / "cut.db")
    with pytest.raises(KeyboardInterrupt):
        sync_source(store, MaildirConnector("m", root), "maildir", derive=mail_deriver(Me([ME])), workers=2,
                    commit_hook=crash_after_second_batch, progress=lambda done, total: progress.append((done, total)))
    assert store.db.execute("SELECT count(*) FROM records").fetchone()[0] == 400
    assert store.source_state("m").cursor is None
    sync_source(store, MaildirConnector("m", root), "maildir", derive=mail_deriver(Me([ME])), workers=2)
    store.close()
    _, clean = _sync(tmp_path, MaildirConnector("m", root), 1, "clean")
    resumed = _dump(tmp_path / "cut.db")
    assert resumed["records"] == clean["records"] and resumed["interactions"] == clean["interactions"]
    done = [d for d, _ in progress]
    assert done == sorted(done) and all(t == COUNT for _, t in progress) and done[-1] >= 600


def test_an_error_in_a_worker_reaches_the_sync_whole_and_writes_nothing_more(tmp_path, small_shares, monkeypatch):
    monkeypatch.setattr("daemon.ingest.BATCH", 200)
    root = make_maildir(tmp_path / "mail", {"INBOX": _messages()})
    plain = mail_deriver(Me([ME]))

    def derive_failing_late(source, record):
        if record.ident.endswith("M650P1.test"):
            raise SourceError(source, "cannot read this one", "fix the file")
        return plain(source, record)

    store = Store(tmp_path / "err.db")
    with pytest.raises(SourceError) as caught:
        sync_source(store, MaildirConnector("m", root), "maildir", derive=derive_failing_late, workers=2)
    assert caught.value.source == "m"
    assert caught.value.one_line() == "source m: cannot read this one (fix the file)"
    # the batches before the failing one's are stored whole, the failing one not at all
    assert store.db.execute("SELECT count(*) FROM records").fetchone()[0] == 600
    assert store.source_state("m").cursor is None
    store.close()


def test_a_worker_that_dies_fails_the_sync_with_one_line_instead_of_a_wait(tmp_path, small_shares, monkeypatch):
    """Killed (out of memory, a stray kill -9): the sync stops with a SourceError naming the
    source, the batches before stay stored, and nothing waits for the dead worker's share."""
    monkeypatch.setattr("daemon.ingest.BATCH", 200)
    root = make_maildir(tmp_path / "mail", {"INBOX": _messages()})
    plain = mail_deriver(Me([ME]))

    def dies_on_one(source, record):
        if record.ident.endswith("M450P1.test"):
            os.kill(os.getpid(), signal.SIGKILL)
        return plain(source, record)

    store = Store(tmp_path / "killed.db")
    with pytest.raises(SourceError, match="source m: a process reading it stopped unexpectedly"):
        sync_source(store, MaildirConnector("m", root), "maildir", derive=dies_on_one, workers=2)
    assert store.db.execute("SELECT count(*) FROM records").fetchone()[0] == 400
    store.close()
    assert multiprocessing.active_children() == []


def test_ctrl_c_stops_the_workers_without_a_traceback_from_them(tmp_path, small_shares, capfd):
    """Ctrl-C in a terminal reaches every process of the group: the workers ignore it (a worker
    waiting for work would print a traceback), the parent stops (its caller says "interrupted")
    and takes its workers with it. SIGTERM ends a worker whatever handler the parent had."""
    root = make_maildir(tmp_path / "mail", {"INBOX": _messages()})
    plain = mail_deriver(Me([ME]))
    parent = os.getpid()
    seen = tmp_path / "worker-signals"

    def interrupted_on_one(source, record):
        if record.ident.endswith("M300P1.test"):
            seen.write_text(f"{signal.getsignal(signal.SIGINT) == signal.SIG_IGN} "
                            f"{signal.getsignal(signal.SIGTERM) == signal.SIG_DFL}")
            os.kill(parent, signal.SIGINT)
        return plain(source, record)

    store = Store(tmp_path / "int.db")
    previous = signal.signal(signal.SIGTERM, lambda *_: None)  # as the service has it
    # Ctrl-C raises KeyboardInterrupt here even when this run was started with SIGINT ignored
    # (a background job of a non-interactive shell, as CI may start it)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            sync_source(store, MaildirConnector("m", root), "maildir", derive=interrupted_on_one, workers=2)
            time.sleep(5)  # the signal may land just after the sync's last batch: it must land here then
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    store.close()
    assert seen.read_text() == "True True"
    assert multiprocessing.active_children() == []
    assert "Traceback" not in capfd.readouterr().err
