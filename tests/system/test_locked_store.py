"""A store another process is writing to: the CLI waits a bounded time, then says so in one line."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from daemon.errors import StoreBusy, StoreError
from daemon.store import Store
from daemon.store.db import BUSY_TIMEOUT_MS
from daemon.store.sqlerrors import BUSY_MESSAGE
from tests.helpers import ME, tiekeeper


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "mail" / "cur").mkdir(parents=True)
    (tmp_path / "config.toml").write_text(
        f'[identity]\naddresses = ["{ME}"]\ntimezone = "Europe/Berlin"\n'
        '[store]\npath = "out/tiekeeper.db"\n'
        '[sources.mail]\ntype = "maildir"\npath = "mail"\n')
    Store(tmp_path / "out" / "tiekeeper.db").close()
    return tmp_path


def _writer(db: Path) -> sqlite3.Connection:
    """Another process's write transaction, held open on the same file (plain sqlite3, as the
    service's sync would hold it)."""
    c = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    c.execute("BEGIN IMMEDIATE")
    c.execute("INSERT INTO kv(key, value) VALUES ('writer', 'holds the lock')")
    return c


@pytest.mark.parametrize("command", [("ignore", "x@y.org"), ("sync",)], ids=["ignore", "sync"])
def test_a_command_on_a_locked_store_waits_then_says_so_in_one_line(home, command):
    writer = _writer(home / "out" / "tiekeeper.db")
    try:
        t0 = time.monotonic()
        out = tiekeeper(home / "config.toml", *command, timeout=120)
        waited = time.monotonic() - t0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert out.returncode == StoreBusy.exit_code == StoreError.exit_code
    assert out.stderr == f"tiekeeper: error: {BUSY_MESSAGE}\n"
    assert "Traceback" not in out.stderr + out.stdout and out.stdout == ""
    # it waited for the writer before giving up, once: a sync does not wait again to record the failure
    assert BUSY_TIMEOUT_MS / 1000 <= waited < 2 * BUSY_TIMEOUT_MS / 1000


def test_a_command_waits_for_a_writer_that_finishes_in_time(home):
    writer = _writer(home / "out" / "tiekeeper.db")
    done = threading.Timer(1.0, lambda: (writer.execute("COMMIT"), writer.close()))
    done.start()
    try:
        out = tiekeeper(home / "config.toml", "ignore", "x@y.org", timeout=120)
    finally:
        done.join()
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("x@y.org: ignored")


def test_every_sqlite_error_on_the_store_is_a_store_error(tmp_path):
    store = Store(tmp_path / "s.db")
    with pytest.raises(StoreError, match="OperationalError: no such table"):
        store.db.execute("SELECT * FROM nowhere")
    with pytest.raises(StoreError, match="IntegrityError"):
        with store.transaction():
            store.db.execute("INSERT INTO sources(name, type) VALUES ('a', 'maildir')")
            store.db.execute("INSERT INTO sources(name, type) VALUES ('a', 'maildir')")
    assert not store.db.in_transaction
    writer = _writer(tmp_path / "s.db")
    store.db.execute("PRAGMA busy_timeout = 50")
    try:
        with pytest.raises(StoreBusy):
            store.add_action("x@y.org", "ignore", 0.0)
    finally:
        writer.execute("ROLLBACK")
    store.add_action("x@y.org", "ignore", 0.0)  # the connection is usable again
    assert store.actions("ignore") == [("x@y.org", 0.0, "")]
