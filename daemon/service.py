"""The background service: a thin loop around ``pipeline.run_once`` driven by ``schedule``.

``schedule`` alone re-runs a raising job on every pass and forgets everything on restart; here a
failure is logged and the job waits for its next turn, and the loop sleeps at most 60 s at a time
so a laptop waking up is noticed. SIGTERM/SIGINT let the current pass finish, then exit 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime

import schedule

from daemon import pipeline
from daemon.config import Config
from daemon.errors import TiekeeperError
from daemon.store import Store

log = logging.getLogger(__name__)
MAX_SLEEP = 60.0


def serve(config: Config, as_of: datetime | None = None, max_passes: int | None = None) -> int:
    # time.sleep() resumes after a signal handler (PEP 475); an Event wakes up when the handler sets it.
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s: finishing the current pass, then stopping", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    store = Store(config.store_path)
    passes = 0

    def job() -> None:
        nonlocal passes
        passes += 1
        try:
            pipeline.run_once(config, store, as_of)
        except TiekeeperError as e:
            log.error("%s", e.one_line())
        except Exception:
            log.exception("the pass failed; it runs again at its next turn")

    scheduler = schedule.Scheduler()
    scheduler.every(config.schedule.sync_every_minutes).minutes.do(job)
    log.info("tiekeeper service started: a pass every %d minute(s)", config.schedule.sync_every_minutes)
    job()
    while not stop.is_set() and (max_passes is None or passes < max_passes):
        scheduler.run_pending()
        idle = scheduler.idle_seconds
        stop.wait(min(MAX_SLEEP, max(idle if idle is not None else MAX_SLEEP, 0.1)))
    store.close()
    log.info("tiekeeper service stopped")
    return 0
