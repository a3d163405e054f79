"""The service: as a real process (lock, signals, systemd notify) and in-process (jobs)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from daemon.config import load
from daemon.service import Service
from tests.helpers import REPO, tiekeeper


@pytest.fixture
def home(tmp_path) -> Path:
    shutil.copytree(REPO / "sample", tmp_path / "sample")
    text = (REPO / "config.example.toml").read_text().replace('sync_every = "15m"', 'sync_every = "60m"')
    (tmp_path / "config.toml").write_text(text)
    return tmp_path


def start(home: Path, **env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(home / "config.toml"), "run"],
                            cwd=home, env={**os.environ, "PYTHONPATH": str(REPO), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def job(home: Path, name: str) -> tuple | None:
    db = home / "out" / "tiekeeper.db"
    if not db.exists():
        return None
    try:
        return sqlite3.connect(db).execute("SELECT last_success, failures FROM jobs WHERE name = ?", (name,)).fetchone()
    except sqlite3.OperationalError:
        return None


def stop(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return code, proc.communicate()[1]


def test_a_pass_runs_and_sigterm_stops_cleanly_within_10_s(home):
    proc = start(home)
    wait_for(lambda: (home / "out" / "digest.eml").exists() and job(home, "analyse"), proc)
    code, err = stop(proc)
    assert code == 0, err
    assert "service stopped" in err


def test_a_second_instance_exits_at_once_naming_the_first(home):
    proc = start(home)
    try:
        wait_for(lambda: job(home, "analyse"), proc)
        second = tiekeeper(home / "config.toml", "run", timeout=30)
        assert second.returncode == 6
        assert f"already running for this store (pid {proc.pid})" in second.stderr
        status = tiekeeper(home / "config.toml", "status", "--format", "json", timeout=30)
        data = json.loads(status.stdout)  # CLI reads work while the service runs
        assert data["service"] == {"running": True, "pid": proc.pid}
    finally:
        stop(proc)


def test_sigusr1_runs_every_job_now_and_sighup_keeps_the_old_config_when_the_new_one_is_bad(home):
    proc = start(home)
    try:
        wait_for(lambda: job(home, "sync:home_mail"), proc)
        first = job(home, "sync:home_mail")[0]
        proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: job(home, "sync:home_mail")[0] > first, proc, 30)
        (home / "config.toml").write_text((home / "config.toml").read_text() + "\n[bogus]\nx = 1\n")
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        proc.send_signal(signal.SIGUSR1)  # still works with the old config
        second = job(home, "sync:home_mail")[0]
        wait_for(lambda: job(home, "sync:home_mail")[0] > second, proc, 30)
        status = tiekeeper(home / "config.toml", "status")
        assert status.returncode == 2  # the file on disk is bad now: status says so, one line per problem
        assert "bogus: unknown key" in status.stderr
    finally:
        code, err = stop(proc)
    assert code == 0
    assert "config not reloaded, keeping the old one" in err and "bogus: unknown key" in err


def test_systemd_hears_ready_and_stopping(home, tmp_path):
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(60)
    proc = start(home, NOTIFY_SOCKET=address)
    try:
        assert sock.recv(100) == b"READY=1"
    finally:
        code, _ = stop(proc)
    assert code == 0
    assert sock.recv(100) == b"STOPPING=1"
    sock.close()


# ------------------------------------------------------------------------------------ in-process

def _service(home: Path) -> Service:
    return Service(load(home / "config.toml"), home / "config.toml")


def test_a_restart_catches_up_once_and_does_not_repeat_jobs_that_are_not_due(home):
    s = _service(home)
    s.tick()
    done = {j.name: j.last_attempt for j in s.store.job_states()}
    assert set(done) == {"sync:home_mail", "sync:calendar", "analyse", "digest"}
    s.store.close()
    again = _service(home)  # a restart a moment later: nothing is due, nothing runs
    again.tick()
    assert {j.name: j.last_attempt for j in again.store.job_states()} == done
    # a laptop asleep past the next due time: each job runs once on waking
    with again.store.transaction():
        again.store.db.execute("UPDATE jobs SET next_due = next_due - 7200 WHERE name != 'digest'")
    again.tick()
    later = {j.name: j.last_attempt for j in again.store.job_states()}
    assert all(later[n] > done[n] for n in ("sync:home_mail", "sync:calendar", "analyse"))
    assert later["digest"] == done["digest"]  # this week's digest was sent already: never twice
    again.tick()
    assert {j.name: j.last_attempt for j in again.store.job_states()} == later


def test_a_failing_source_backs_off_without_starving_the_others(home, caplog):
    text = (home / "config.toml").read_text().replace('path = "sample/calendar.ics"', 'path = "gone/calendar.ics"')
    (home / "config.toml").write_text(text)
    s = _service(home)
    s.tick()
    states = {j.name: j for j in s.store.job_states()}
    assert states["sync:home_mail"].failures == 0 and states["analyse"].failures == 0
    bad = states["sync:calendar"]
    assert bad.failures == 1 and "does not exist" in bad.last_error
    assert bad.next_due - bad.last_attempt >= 0.8 * 3600  # backs off for about an interval, with jitter
    errors = [r for r in caplog.records if r.levelname == "ERROR" and "sync:calendar" in r.getMessage()]
    with s.store.transaction():
        s.store.db.execute("UPDATE jobs SET next_due = 0 WHERE name = 'sync:calendar'")
    s.tick()
    again = s.store.job_state("sync:calendar")
    assert again.failures == 2 and again.next_due - again.last_attempt >= 0.8 * 7200
    assert len([r for r in caplog.records if r.levelname == "ERROR" and "sync:calendar" in r.getMessage()]) == len(errors) == 1
    digest = (home / "out" / "digest.eml").read_text()
    assert "Needs your attention" in digest and "source calendar" in digest and "does not exist" in digest


def test_the_watchdog_is_fed_when_systemd_asks_for_it(home, tmp_path):
    address = str(tmp_path / "wd.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(60)
    proc = start(home, NOTIFY_SOCKET=address, WATCHDOG_USEC="400000")
    try:
        assert sock.recv(100) == b"READY=1"
        assert sock.recv(100) == b"WATCHDOG=1"
        assert sock.recv(100) == b"WATCHDOG=1"
    finally:
        stop(proc)
        sock.close()


def test_doctor_names_each_problem_with_its_fix(home):
    text = (home / "config.toml").read_text().replace('path = "sample/mail"', 'path = "nowhere/mail"')
    (home / "config.toml").write_text(text)
    out = tiekeeper(home / "config.toml", "doctor", timeout=60)
    assert out.returncode == 1
    assert "FAIL source home_mail:" in out.stdout and "-> fix sources.home_mail.path" in out.stdout
    assert "ok   source calendar" in out.stdout and "1 problem(s) found" in out.stdout


def test_service_install_writes_a_unit_that_runs_this_config(home, tmp_path):
    units = tmp_path / "units"
    out = tiekeeper(home / "config.toml", "service", "install", "--unit-dir", str(units), timeout=60)
    assert out.returncode == 0, out.stderr
    unit = (units / "tiekeeper.service").read_text()
    assert "Type=notify" in unit and "ExecReload=/bin/kill -HUP $MAINPID" in unit
    assert f"--config {home / 'config.toml'} run" in unit and sys.executable in unit
    assert (units / "tiekeeper.service").stat().st_mode & 0o777 == 0o600


def test_a_failing_digest_backs_off_instead_of_retrying_every_tick(home):
    s = _service(home)
    s.tick()
    with s.store.transaction():
        s.store.db.execute("UPDATE jobs SET period = NULL WHERE name = 'digest'")  # this week's is due again
    (home / "out" / "digest.eml").unlink()
    (home / "out" / "digest.eml").mkdir()  # writing the file now fails
    s.tick()
    failed = s.store.job_state("digest")
    assert failed.failures == 1 and failed.period is None and "cannot write the digest" in failed.last_error
    s.tick()
    assert s.store.job_state("digest").last_attempt == failed.last_attempt  # not retried before its backoff
    (home / "out" / "digest.eml").rmdir()
    with s.store.transaction():
        s.store.db.execute("UPDATE jobs SET next_due = 0 WHERE name = 'digest'")
    s.tick()
    done = s.store.job_state("digest")
    assert done.failures == 0 and done.period is not None and (home / "out" / "digest.eml").is_file()
