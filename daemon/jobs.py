"""When jobs are due: pure rules over persisted job state and ``now`` (no clock reads).

- A periodic job (a source's sync, the analysis) is due when its ``next_due`` has passed. After a
  success the next one is an interval later; after a failure it backs off exponentially with
  jitter (capped), so a revoked token or a server that is down costs a retry now and then, not a
  hammering, and never holds up the other jobs.
- The digest belongs to a weekly period (e.g. Monday 08:00 local time). It is due once the
  period's start has passed and that period was not done yet. A machine asleep through Monday is
  caught up once when it wakes; a clock that jumps back never makes an earlier period due again,
  because periods only move forward.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

BACKOFF_CAP = 6 * 3600.0


@dataclass(frozen=True)
class JobState:
    name: str
    last_attempt: float | None = None
    last_success: float | None = None
    next_due: float | None = None
    failures: int = 0
    last_error: str | None = None
    period: str | None = None


def is_due(state: JobState | None, now: float) -> bool:
    return state is None or state.next_due is None or state.next_due <= now


def after_success(state: JobState, now: float, interval: float) -> JobState:
    return JobState(state.name, now, now, now + interval, 0, None, state.period)


def after_failure(state: JobState, now: float, interval: float, error: str, rng: random.Random) -> JobState:
    failures = state.failures + 1
    wait = min(interval * 2 ** (failures - 1), BACKOFF_CAP) * rng.uniform(0.8, 1.2)
    return JobState(state.name, now, state.last_success, now + wait, failures, error, state.period)


def digest_period(now: datetime, zone: tzinfo, weekday: int, at: time) -> datetime:
    """The start of the weekly period ``now`` falls in: the latest weekday+time at or before now."""
    local = now.astimezone(zone)
    start = datetime.combine(local.date() - timedelta(days=(local.weekday() - weekday) % 7), at, zone)
    if start > local:
        start -= timedelta(days=7)
    return start


def digest_due(state: JobState | None, now: datetime, zone: tzinfo, weekday: int, at: time) -> datetime | None:
    """The period to send now, or None when this period was already done (or a later one was)."""
    period = digest_period(now, zone, weekday, at)
    if state is not None and state.period is not None:
        done = datetime.fromisoformat(state.period)
        if done >= period:
            return None
    return period
