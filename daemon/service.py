"""The background service: jobs on a schedule, with their state in the store.

Jobs: one sync per source, the analysis (which also writes the follow-ups), and the weekly digest.
``schedule`` paces the ticks; whether a job is due comes from its persisted state (``daemon.jobs``),
because ``schedule`` alone forgets everything on restart and re-runs a raising job on every pass.
So a restart or a laptop sleep catches each missed job up once, a failing source backs off on its
own without holding up the others, and the digest is never sent twice.

Process behaviour: one instance per store (a lock file); SIGTERM/SIGINT finish the job at hand and
exit 0; SIGHUP reloads the config (an invalid one is reported and the old one kept); SIGUSR1 runs
every job now; sleeps last at most 60 s so a wake-up from suspend is noticed; systemd's
READY/WATCHDOG/STOPPING notifications when it runs us with NOTIFY_SOCKET set.
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import signal
import socket
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import schedule

from daemon import delivery, jobs, pipeline
from daemon.analysis.report import Report
from daemon.config import Config, load
from daemon.errors import AlreadyRunning, ConfigError, TiekeeperError
from daemon.fsutil import ensure_private_dir
from daemon.store import Store

if TYPE_CHECKING:
    import ctypes

log = logging.getLogger(__name__)
MAX_SLEEP = 60.0
TICK_SECONDS = 30


def lock_path(store_path: Path) -> Path:
    return Path(str(store_path) + ".lock")


class Lock:
    """An exclusive lock on ``<store>.lock`` holding our pid; released when the process dies."""

    def __init__(self, store_path: Path) -> None:
        self.path = lock_path(store_path)
        ensure_private_dir(self.path.parent)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(self.fd)
            raise AlreadyRunning(f"tiekeeper is already running for this store (pid {pid})",
                                 "stop it first, or use another [store] path") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        os.close(self.fd)


def sd_notify(message: str) -> None:
    """Tell systemd (Type=notify) how we are; a no-op when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(address)
            s.sendall(message.encode())
    except OSError as e:
        log.debug("sd_notify failed: %s", e)


class Service:
    def __init__(self, config: Config, config_path: Path | None, as_of: datetime | None = None) -> None:
        self.config, self.config_path, self.as_of = config, config_path, as_of
        self.store = Store(config.store_path)
        self.rng = random.Random()
        self.wake = threading.Event()
        self.stopping = False
        self.reload_requested = False
        self.run_all_requested = False
        self.report: Report | None = None  # this tick's analysis, reused by the digest

    # -- signals ----------------------------------------------------------------------------------
    def install_signals(self) -> None:
        def stop(signum: int, _frame: object) -> None:
            log.info("received %s: finishing the job at hand, then stopping", signal.Signals(signum).name)
            self.stopping = True
            self.wake.set()

        def reload(_signum: int, _frame: object) -> None:
            self.reload_requested = True
            self.wake.set()

        def run_all(_signum: int, _frame: object) -> None:
            self.run_all_requested = True
            self.wake.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)
        signal.signal(signal.SIGUSR1, run_all)

    def reload(self) -> None:
        self.reload_requested = False
        if self.config_path is None:
            return
        try:
            new = load(self.config_path)
        except ConfigError as e:
            for line in e.lines():
                log.error("config not reloaded, keeping the old one: %s", line)
            with self.store.transaction():
                self.store.put("config_error", "; ".join(e.lines()))
            return
        if new.store_path != self.config.store_path:
            log.error("config not reloaded: [store] path changed; restart tiekeeper to move the store")
            return
        self.config = new
        with self.store.transaction():
            self.store.forget("config_error")
        log.info("config reloaded: %d source(s)", len(new.sources))

    # -- jobs -------------------------------------------------------------------------------------
    def _interval(self) -> float:
        return self.config.schedule.sync_every_minutes * 60.0

    def _run_job(self, name: str, action) -> bool:
        """Run one job in isolation and persist how it went; True on success."""
        state = self.store.job_state(name) or jobs.JobState(name)
        now = time.time()
        try:
            error = action()
        except TiekeeperError as e:
            error = e.one_line()
        except Exception as e:  # a job's bug must not stop the service
            log.debug("job %s crashed", name, exc_info=True)
            error = f"unexpected {type(e).__name__}: {e} (run with --verbose and report it)"
        if error:
            if error != state.last_error:
                log.error("%s: %s", name, error)  # once per new error, not on every retry
            else:
                log.info("%s: still failing; next try later", name)
            self.store.save_job(jobs.after_failure(state, now, self._interval(), error, self.rng))
            return False
        self.store.save_job(jobs.after_success(state, now, self._interval()))
        return True

    def _sync(self, source: str):
        def action() -> str | None:
            _, failed = pipeline.sync_all(self.config, self.store, only=[source], quiet_errors=True)
            return failed[0].one_line() if failed else None
        return action

    def _analyse(self) -> str | None:
        self.report, _ = pipeline.analyse_and_publish(self.config, self.store, pipeline.clock(self.config, self.as_of))
        return None

    def _push(self) -> str | None:
        pipeline.push_followups(self.config, self.store)
        return None

    def _digest(self, period: datetime) -> None:
        def action() -> str | None:
            # the analysis of this tick, if it ran; a fresh one otherwise
            rep = self.report or pipeline.report(self.config, self.store, pipeline.clock(self.config, self.as_of))
            delivery.deliver(self.config, self.store, rep, datetime.now(timezone.utc), "service")
            return None

        if self._run_job("digest", action):  # a failure keeps the old period, so it is retried
            done = self.store.job_state("digest")
            if done is not None:  # _run_job has just saved it
                self.store.save_job(replace(done, period=period.isoformat(), next_due=None))

    def tick(self) -> None:
        """Run every job that is due, each isolated from the others."""
        if self.reload_requested:
            self.reload()
        force = self.run_all_requested
        self.run_all_requested = False
        self.report = None
        now = time.time()
        synced = False
        for source in self.config.sources:
            if self.stopping:
                return
            name = f"sync:{source.name}"
            if force or jobs.is_due(self.store.job_state(name), now):
                synced |= self._run_job(name, self._sync(source.name))
        if self.stopping:
            return
        analysed = False
        if force or synced or jobs.is_due(self.store.job_state("analyse"), now):
            analysed = self._run_job("analyse", self._analyse)
        # Pushing to a remote calendar is a job of its own: a server that is down backs off alone,
        # and a fresh analysis does not cut its backoff short.
        if pipeline.publishes_remotely(self.config) and not self.stopping:
            push = self.store.job_state("push")
            failing = push is not None and push.failures > 0
            if force or (analysed and not failing) or jobs.is_due(push, now):
                self._run_job("push", self._push)
        if (self.config.digest.path is not None or self.config.digest.smtp_host) and not self.stopping:
            state = self.store.job_state("digest")
            # one rule for every trigger: a digest `run --once` or `digest --send` sent counts here
            period = delivery.due(self.config, self.store, datetime.now(timezone.utc))
            # a digest that failed waits for its backoff like any job, instead of every tick
            if period is not None and (state is None or not state.failures or jobs.is_due(state, now)):
                self._digest(period)


def release_memory() -> None:
    """Hand the heap a tick freed back to the system. A sync of a large mailbox peaks at hundreds of
    MB; glibc keeps what Python frees for reuse, so a service at rest would go on holding it."""
    global _libc
    if _libc is None:
        try:
            import ctypes

            _libc = ctypes.CDLL("libc.so.6")
            _libc.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            _libc = False  # not glibc: nothing to do
    if _libc:
        _libc.malloc_trim(0)


_libc: ctypes.CDLL | Literal[False] | None = None  # None: not looked for yet; False: not glibc


def serve(config: Config, config_path: Path | None = None, as_of: datetime | None = None,
          max_ticks: int | None = None) -> int:
    lock = Lock(config.store_path)
    service = Service(config, config_path, as_of)
    service.install_signals()
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1
        service.tick()
        service.report = None  # nothing needs it between ticks
        release_memory()

    scheduler = schedule.Scheduler()
    scheduler.every(TICK_SECONDS).seconds.do(tick)
    watchdog = float(os.environ.get("WATCHDOG_USEC", "0")) / 1e6
    log.info("tiekeeper service started (pid %d): syncing every %d minute(s)", os.getpid(),
             config.schedule.sync_every_minutes)
    tick()  # catch up at once on whatever fell due while we were not running
    sd_notify("READY=1")
    while not service.stopping and (max_ticks is None or ticks < max_ticks):
        service.wake.clear()
        timeout = min(scheduler.idle_seconds or 0.0, MAX_SLEEP, watchdog / 2 if watchdog else MAX_SLEEP)
        # Event.wait, not time.sleep: a signal handler sets the event and we wake at once (time.sleep
        # resumes after handlers, PEP 475). Never longer than 60 s, so a resume from suspend is seen.
        woke = service.wake.wait(max(timeout, 0.05))
        if watchdog:
            sd_notify("WATCHDOG=1")
        if service.stopping:
            break
        if woke:
            tick()  # SIGUSR1 or SIGHUP: act now
        else:
            scheduler.run_pending()
    sd_notify("STOPPING=1")
    service.store.close()
    lock.release()
    log.info("tiekeeper service stopped")
    return 0
