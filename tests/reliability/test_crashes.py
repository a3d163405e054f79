"""Crashes never corrupt the store or lose data: kill -9 at random points, and a crash injected at
every commit point of a sync, each followed by a resume that must equal a clean run."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
from pathlib import Path

import pytest

import daemon.ingest as ingest
from connectors.maildir import MaildirConnector
from daemon.identity import Me
from daemon.ingest import sync_source
from daemon.pipeline import derive
from daemon.store import Store
from tests.helpers import ME, NOW, message

ITERATIONS = int(os.environ.get("TIEKEEPER_KILL_ITERATIONS", "100"))


def _mailbox(root: Path, rng: random.Random, n: int) -> None:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for _ in range(n):
        k = rng.randrange(10**9)
        (root / "cur" / f"{k}.r:2,S").write_bytes(message(f"p{k % 40}@x.example", ME, NOW, msgid=f"<{k}@t>"))


def _mutate(root: Path, rng: random.Random) -> None:
    files = sorted((root / "cur").iterdir())
    for f in rng.sample(files, min(8, len(files) // 10)):
        f.unlink()
    for f in rng.sample(sorted((root / "cur").iterdir()), 3):
        f.write_bytes(message("changed@x.example", ME, NOW, subject="changed"))
        os.utime(f, (time.time() + 10, time.time() + 10))
    _mailbox(root, rng, 8)  # as many new as deleted: a mailbox of stable size, like a real one


def _content(db: Path) -> tuple:
    c = sqlite3.connect(db)
    records = c.execute("SELECT source, ident, etag, data FROM records ORDER BY 1, 2").fetchall()
    inter = c.execute("SELECT source, ident, ts, address, direction, weight FROM interactions ORDER BY 1, 2, 4").fetchall()
    c.close()
    return records, inter


def _sync(db: Path, root: Path) -> None:
    store = Store(db)
    sync_source(store, MaildirConnector("m", root), "maildir")
    derive(store, Me([ME]))
    store.close()


@pytest.mark.slow
def test_kill_9_at_random_points_never_corrupts_and_the_next_sync_equals_a_clean_one(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "BATCH", 20)  # many commit points per sync
    rng = random.Random(7)
    root, db = tmp_path / "mail", tmp_path / "store.db"
    _mailbox(root, rng, 300)
    _sync(db, root)  # a mailbox that was synced once; the kills hit the incremental syncs after it
    lifetimes = []
    for _ in range(3):  # how long a forked child doing one incremental sync lives, startup included
        _mutate(root, rng)
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            try:
                _sync(db, root)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        lifetimes.append(time.perf_counter() - t0)
    window = max(lifetimes)
    killed_mid_sync = 0
    for _ in range(ITERATIONS):
        _mutate(root, rng)
        pid = os.fork()
        if pid == 0:  # the child syncs until it is killed
            try:
                _sync(db, root)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0, window))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        killed_mid_sync += os.WIFSIGNALED(status)
        check = sqlite3.connect(db) if db.exists() else None
        if check:
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            check.close()
    assert killed_mid_sync >= ITERATIONS // 3  # many kills did land during a sync, not after it
    _sync(db, root)
    _sync(tmp_path / "clean.db", root)
    assert _content(db) == _content(tmp_path / "clean.db")


def test_a_crash_at_every_commit_point_then_a_resume_equals_a_clean_run(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "BATCH", 7)
    rng = random.Random(3)
    root = tmp_path / "mail"
    _mailbox(root, rng, 30)
    points: list[str] = []
    store = Store(tmp_path / "probe.db")
    sync_source(store, MaildirConnector("m", root), "maildir", commit_hook=points.append)
    assert len(points) >= 5  # four full batches and the last one with the cursor
    _sync(tmp_path / "clean.db", root)
    for point in points:
        db = tmp_path / f"crash-{point.replace(' ', '-')}.db"

        def crash(p: str, point=point) -> None:
            if p == point:
                raise SystemExit("simulated crash")

        store = Store(db)
        with pytest.raises(SystemExit):
            sync_source(store, MaildirConnector("m", root), "maildir", commit_hook=crash)
        assert store.source_state("m").cursor is None
        store.close()
        _sync(db, root)
        assert _content(db) == _content(tmp_path / "clean.db"), point
