"""The reading commands (report, explain, contacts, digest without --send, status) open the store
read-only and never write: they work on a read-only store, do not wait for the service's write
lock, leave the store as it was, and still say what they said when they derived and cached as
they went (issue 18, item 1).

Every command runs as a user runs it, in a process of its own. Tests run as root in CI containers,
and root writes through any file mode; so as root the commands run under ``setpriv`` without the
capabilities that override file modes, as an ordinary user would be.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from daemon.store import Store
from daemon.store.db import BUSY_TIMEOUT_MS
from tests.helpers import tiekeeper

STORE = Path("out") / "tiekeeper.db"  # config.example.toml's [store] path
AS_A_USER = ("setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--")


def _as_a_user() -> tuple[str, ...]:
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.fail("running as root needs setpriv to drop the file-mode override: apt-get install util-linux")
    return AS_A_USER


def _reading_commands(home: Path) -> dict[str, tuple[str, ...]]:
    report = json.loads(tiekeeper(home / "config.toml", "report", "--format", "json").stdout)
    contact = report["contacts"][0]["emails"][0]
    return {"report": ("report", "--all"), "report json": ("report", "--format", "json"), "contacts": ("contacts",),
            "explain a contact": ("explain", contact),
            "explain a list": ("explain", "raj@example.net"),  # no contact: its dropped mail is counted
            "digest": ("digest", "--output", str(home / "digest.eml"))}


def _said(home: Path, commands: dict[str, tuple[str, ...]], wrapper: tuple[str, ...] = ()) -> dict[str, str]:
    out = {}
    for name, args in commands.items():
        done = tiekeeper(home / "config.toml", *args, wrapper=wrapper)
        assert done.returncode == 0, f"{name}: {done.stderr}"
        out[name] = done.stdout
    return out


def _fingerprint(path: Path) -> tuple:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_size, st.st_mode


def _as_an_older_sync_left_it(db: Path, segments: bool) -> None:
    """Part of the mail not derived by the present inference (its interactions and drops in the store
    are an older inference's), and with ``segments`` False no column segments: what a store synced
    by an older tiekeeper holds, which a reading command used to complete and cache."""
    c = sqlite3.connect(db)
    if not segments:
        c.execute("DELETE FROM interaction_segments")
    c.execute("UPDATE records SET inferred = 'older' WHERE kind = 'mail' AND (source, ident) IN "
              "(SELECT source, ident FROM records WHERE kind = 'mail' ORDER BY ident LIMIT 400)")
    c.execute("UPDATE records SET inferred = NULL WHERE kind = 'mail' AND (source, ident) IN "
              "(SELECT source, ident FROM drops WHERE address = 'raj@example.net' LIMIT 20)")
    c.commit()
    c.close()


@pytest.mark.parametrize("wal", [True, False], ids=["with-wal-files", "closed-cleanly"])
def test_reading_commands_work_on_a_read_only_store_and_say_the_same(synced_sample, wal):
    """With its -wal and -shm files (the service running, or reads since it stopped), SQLite reads
    the store through them; without (the last writer closed it), it cannot make them in a
    read-only folder, and the store reads as the file alone."""
    home = synced_sample
    commands = _reading_commands(home)
    before = _said(home, commands)
    store = home / STORE
    if not wal:
        Store(store).close()  # the last connection to close removes the -wal and -shm files
    assert Path(f"{store}-wal").exists() == wal
    os.chmod(store, 0o400)
    os.chmod(store.parent, 0o500)
    try:
        kept = _fingerprint(store)
        after = _said(home, {**commands, "status": ("status",)}, wrapper=_as_a_user())
        assert _fingerprint(store) == kept
        assert all(p.stat().st_mode & 0o777 in (0o600, 0o400) for p in store.parent.iterdir())
    finally:
        os.chmod(store.parent, 0o700)
        os.chmod(store, 0o600)
    assert {k: v for k, v in after.items() if k != "status"} == before
    assert "nothing needs you" in after["status"]


def test_a_report_does_not_wait_for_a_writer_and_makes_in_memory_what_the_store_lacks(synced_sample):
    home = synced_sample
    commands = _reading_commands(home)
    before = _said(home, commands)
    _as_an_older_sync_left_it(home / STORE, segments=False)
    writer = sqlite3.connect(home / STORE, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # the service's sync, holding the write lock
    writer.execute("INSERT INTO kv(key, value) VALUES ('writer', 'holds the lock')")
    try:
        for name, args in commands.items():
            t0 = time.monotonic()
            done = tiekeeper(home / "config.toml", *args, timeout=120)
            took = time.monotonic() - t0
            assert done.returncode == 0, f"{name}: {done.stderr}"
            assert took < 0.9 * BUSY_TIMEOUT_MS / 1000, f"{name} waited {took:.1f} s for the writer"  # it used to wait it out
            assert done.stdout == before[name], name
            assert "run `tiekeeper sync` to store them" in done.stderr, name
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_reading_commands_leave_the_store_as_it_was(synced_sample):
    home = synced_sample
    commands = _reading_commands(home)
    store = home / STORE
    _as_an_older_sync_left_it(store, segments=True)  # what a reading command used to write: interactions and segments
    observer = sqlite3.connect(store)
    version = observer.execute("PRAGMA data_version").fetchone()[0]
    kept = _fingerprint(store)
    _said(home, {**commands, "status": ("status",)})
    assert observer.execute("PRAGMA data_version").fetchone()[0] == version  # no other connection committed
    assert _fingerprint(store) == kept
    # a sync stores them: afterwards nothing is left to derive, and every row is in a segment
    assert tiekeeper(home / "config.toml", "sync").returncode == 0
    versions, underived = observer.execute("SELECT count(DISTINCT inferred), count(*) - count(inferred) FROM records "
                                           "WHERE kind = 'mail'").fetchone()
    covered = observer.execute("SELECT coalesce(sum(rows), 0) FROM interaction_segments").fetchone()[0]
    assert (versions, underived) == (1, 0)
    assert covered == observer.execute("SELECT count(*) FROM interactions").fetchone()[0] > 0
    again = tiekeeper(home / "config.toml", "report")
    assert again.returncode == 0 and "tiekeeper sync" not in again.stderr


def test_a_reading_command_before_any_sync_makes_no_store(tmp_path):
    (tmp_path / "mail" / "cur").mkdir(parents=True)
    (tmp_path / "config.toml").write_text(
        '[identity]\naddresses = ["me@home.example"]\ntimezone = "Europe/Berlin"\n'
        '[store]\npath = "out/tiekeeper.db"\n[sources.mail]\ntype = "maildir"\npath = "mail"\n')
    done = tiekeeper(tmp_path / "config.toml", "report")
    assert done.returncode == 0 and "0 contacts" in done.stdout
    assert "nothing synced yet" in done.stderr
    assert not (tmp_path / "out").exists()
