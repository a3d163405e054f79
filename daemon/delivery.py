"""The digest's delivery: written as an .eml file whenever asked, sent at most once per period.

One rule says whether a digest is due (``due``), whatever triggers it: the service, `run --once`
or `digest --send`. Every send is recorded in the store with the weekly period it went out for,
and ``due`` reads those records, so a digest the CLI sent counts for the service and the other way
round. Only `digest --send --force` sends a second one for a period (and is recorded too).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from daemon import jobs
from daemon.analysis.report import Report
from daemon.config import Config
from daemon.errors import OutputError
from daemon.fsutil import write_private
from daemon.outputs import digest
from daemon.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    path: Path | None = None  # the .eml written
    sent_to: str | None = None  # the address it was sent to, if it was sent
    not_sent: str | None = None  # why a send did not happen (a digest went out already this period)


def last_period(store: Store) -> datetime | None:
    """The latest period a digest was sent for, by any trigger. The service's own job record
    counts too: stores from before sends were recorded, and digests it only wrote to a file."""
    periods = [row[0] for row in store.digest_sends()]
    job = store.job_state("digest")
    if job is not None and job.period:
        periods.append(job.period)
    return max((datetime.fromisoformat(p) for p in periods), default=None)


def due(config: Config, store: Store, now: datetime) -> datetime | None:
    """The period a digest is due for at ``now``, or None when that period had one already."""
    done = last_period(store)
    s = config.schedule
    return jobs.digest_due(jobs.JobState("digest", period=done.isoformat() if done else None), now,
                           config.identity.zone, s.digest_weekday, s.digest_time)


def message(config: Config, store: Store, rep: Report) -> EmailMessage:
    """The digest, with what needs the user (each failing source) on top."""
    cfg = config.digest
    sender = f"tiekeeper <{cfg.sender or cfg.to}>" if cfg.smtp_host else "tiekeeper <tiekeeper@localhost>"
    problems = [s.last_error for s in store.source_states() if s.last_error]
    return digest.build(rep, config.identity.zone, sender=sender, recipient=cfg.to, problems=problems)


def deliver(config: Config, store: Store, rep: Report, now: datetime, trigger: str, path: Path | None = None,
            send: bool = True, force: bool = False) -> Delivery:
    """Write the digest to ``path`` (default: outputs.digest.path), and with ``send`` mail it when
    SMTP is configured and a digest is due (``force``: even if one went out this period).
    Raises OutputError when the file cannot be written or the mail server refuses."""
    cfg = config.digest
    path = path or cfg.path
    msg = message(config, store, rep)
    if path is not None:
        try:
            write_private(path, msg.as_bytes())
        except OSError as e:
            raise OutputError(f"cannot write the digest {path}: {e.strerror}", "check outputs.digest.path") from None
    if not send or not cfg.smtp_host:
        return Delivery(path)
    period = due(config, store, now)
    if period is None and not force:
        done = last_period(store)
        assert done is not None, "no period is due only once one was sent"
        return Delivery(path, not_sent=f"a digest was sent already for the week of "
                                       f"{done.astimezone(config.identity.zone):%-d %b %Y}")
    if period is None:
        s = config.schedule
        period = jobs.digest_period(now, config.identity.zone, s.digest_weekday, s.digest_time)
    from daemon.outputs.mailer import send as smtp_send

    smtp_send(cfg, msg)
    store.record_digest_send(period.isoformat(), now.timestamp(), trigger, cfg.to or "", str(msg["Message-ID"]))
    log.info("digest sent by SMTP (%s)", trigger)
    return Delivery(path, sent_to=cfg.to)
