"""One pass of the whole flow: sync every source, derive interactions, analyse, write the outputs.

``run_once`` is what ``tiekeeper run --once`` (and a systemd timer) calls; the service
(``daemon.service``) runs the same pieces as separate jobs, so each has its own schedule and backoff.
Each source is isolated: one that fails is recorded and retried later; the others carry on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import connectors
from connectors.base import EditConflict, FollowupCalendar
from daemon import corrections, own_addresses
from daemon.analysis.report import Report, analyse
from daemon.analysis.table import Builder, Table
from daemon.config import Config, Person
from daemon.delivery import Delivery, deliver
from daemon.errors import OutputError, SourceError, StoreError
from daemon.fsutil import write_private
from daemon.identity import Me, merge_key
from daemon.inference import inference_version
from daemon.inference.calendar import busy_intervals, infer_event, whole_series, window
from daemon.inference.email import infer_mail
from daemon.ingest import Progress, SyncResult, sync_source
from daemon.models import EVENT, MAIL, Derived, Interaction, RawRecord
from daemon.outputs import followups, publish
from daemon.store import Store
from daemon.store.rows import Drop

log = logging.getLogger(__name__)

ProgressFactory = Callable[[str], Progress | None]


@dataclass
class RunResult:
    synced: list[SyncResult] = field(default_factory=list)
    failed: list[SourceError] = field(default_factory=list)
    report: Report | None = None
    written: dict[str, Path] = field(default_factory=dict)
    pushed: int | None = None  # writes to the remote follow-ups calendar (None: none configured)
    digest: Delivery | None = None
    output_errors: list[OutputError] = field(default_factory=list)


def clock(config: Config, as_of: datetime | None = None) -> datetime:
    """The analysis time: --as-of, else the config's pinned as_of, else now."""
    now = as_of or config.analysis.as_of or datetime.now(timezone.utc)
    return now if now.tzinfo else now.replace(tzinfo=config.identity.zone)


def sync_all(config: Config, store: Store, force: bool = False, only: list[str] | None = None,
             progress: ProgressFactory | None = None, quiet_errors: bool = False) -> tuple[list[SyncResult], list[SourceError]]:
    """Sync each source in isolation. ``quiet_errors``: leave logging failures to the caller (the
    service logs a failure once, not on every retry)."""
    report_error = log.debug if quiet_errors else log.error
    me = own_addresses.me(config, store)
    done, failed = [], []
    for source in config.sources:
        if only and source.name not in only:
            continue
        try:
            with connectors.build(source) as conn:
                result = sync_source(store, conn, source.type, force, progress(source.name) if progress else None,
                                     derive=mail_deriver(me))
            log.info("%s", result.summary())
            done.append(result)
        except SourceError as e:
            report_error("%s", e.one_line())
            store.record_failure(source.name, e.one_line())
            failed.append(e)
        except StoreError:  # the store, not this source, cannot go on (e.g. locked by the service)
            raise
        except Exception as e:  # an isolated source must not take the others down
            log.debug("source %s crashed", source.name, exc_info=True)
            err = SourceError(source.name, f"unexpected {type(e).__name__}: {e}", "run with --verbose and report it")
            report_error("%s", err.one_line())
            store.record_failure(source.name, err.one_line())
            failed.append(err)
    if done:
        own_addresses.refresh(config, store)  # addresses you send from that [identity] leaves out
    return done, failed


def mail_deriver(me: Me) -> Callable[[str, RawRecord], Derived | None]:
    """What is stored of a mail record's inference (None for any other record)."""
    version = inference_version(me.fingerprint())

    def derived(source: str, record: RawRecord) -> Derived | None:
        if record.kind != MAIL:
            return None
        inferred = infer_mail(record, me, source)
        sender = inferred.senders[0][0] if inferred.senders else ""
        return Derived(version, inferred.interactions, (sender, inferred.dropped) if inferred.dropped else None)

    return derived


def derive(store: Store, me: Me) -> int:
    """Infer interactions for mail records that are new, changed, or made by older inference
    (a sync infers what it fetches; this catches the rest, e.g. after an upgrade), and store them."""
    version = inference_version(me.fingerprint())
    derived = mail_deriver(me)
    count = 0
    while True:  # a chunk at a time, so memory stays flat however large the mailbox
        pending = list(store.uninferred(MAIL, version, limit=5000))
        if not pending:
            return count
        with store.transaction():  # each record put here leaves the uninferred set
            for source, record in pending:
                made = derived(source, record)
                if made is not None:  # always, for mail
                    store.put_inferred(source, record.ident, made)
                    count += 1


def store_derived(config: Config, store: Store) -> None:
    """After a sync: store what the reading commands need and cannot store themselves, the
    interactions of every mail record and their column segments."""
    derive(store, own_addresses.me(config, store))
    store.make_segments()


def interactions(config: Config, store: Store, now: datetime) -> Table:
    """Every interaction in the analysis window: mail (stored) and meetings (expanded now)."""
    me = own_addresses.me(config, store)
    if not store.readonly:  # a writer stores what inference makes; a reader makes it in memory
        derive(store, me)
    names = {s.name for s in config.sources}
    start, end = window(now, config.analysis.window_days)
    # analyse() keeps only the window: older mail need not even be loaded
    mail = mail_table(store, me, names, since=start.timestamp())
    items: list[Interaction] = []
    for source, record in whole_series(store.records(EVENT, names)):
        items.extend(infer_event(record, me, config.identity.zone, start, end, source).interactions)
    named = {address: name for address, _, name in store.actions("name")}  # people made by `log --new`
    for address, ts, _note in store.actions("log"):  # an offline contact the user logged: it counts both ways
        items.append(Interaction(ts=ts, channel="logged", address=address, name=named.get(address, ""),
                                 direction="both", weight=1.0,
                                 initiator="other", thread=f"logged:{ts}", source="logged", ident=f"{address}@{ts}"))
    return Table.concat([mail, Table.of(items)])


def mail_table(store: Store, me: Me, sources: set[str], since: float) -> Table:
    """The mail interactions of ``sources`` from ``since`` on, as the store holds them once the
    present inference made them of every record. What it did not make yet (a reading command, which
    never writes, finds such records after an upgrade or a change of [identity] until the next sync)
    is made here, in memory, and said once on stderr."""
    version = inference_version(me.fingerprint())
    with store.snapshot():
        if not store.has_uninferred(MAIL, version):
            return store.interaction_table(sources, since=since)
        stored = store.interaction_table(sources, since=since, inferred_by=version)
        fresh, count = Builder(), 0
        derived = mail_deriver(me)
        for source, record in store.uninferred(MAIL, version):
            count += 1
            made = derived(source, record)
            if made is None or source not in sources:
                continue
            for i in made.interactions:  # as the store would hold them (its row's source)
                if i.ts >= since:
                    fresh.add(i.ts, i.channel, i.address, i.name, i.direction, i.weight, i.initiator, i.thread,
                              i.account, i.fanout, i.hint, i.recurring, source)
    log.info("%d message(s) analysed without their interactions in the store: run `tiekeeper sync` to store them",
             count)
    return Table.concat([stored, fresh.build()])


def drops_for(config: Config, store: Store, address: str) -> list[Drop]:
    """(rule, count) of the mail from ``address`` that inference dropped, most first, including
    records the store has not derived yet (made in memory, as ``mail_table`` does)."""
    me = own_addresses.me(config, store)
    version = inference_version(me.fingerprint())
    with store.snapshot():
        if not store.has_uninferred(MAIL, version):
            return store.drops_for(address)
        counts = dict(store.drops_for(address, inferred_by=version))
        derived = mail_deriver(me)
        for source, record in store.uninferred(MAIL, version):
            made = derived(source, record)
            dropped = made.dropped if made is not None else None
            if dropped and dropped[0] == address:
                counts[dropped[1]] = counts.get(dropped[1], 0) + 1
    return [Drop(rule, n) for rule, n in sorted(counts.items(), key=lambda kv: -kv[1])]


def report(config: Config, store: Store, now: datetime) -> Report:
    """The analysis with the user's own word on top: ignored people, snoozes and logged contacts."""
    me = own_addresses.me(config, store)
    contexts = {s.name: s.context for s in config.sources}
    ignored = tuple(Person(None, (address,), ignore=True) for address, _, _ in store.actions("ignore"))
    snoozed = {merge_key(address): until for address, until, _ in store.actions("snooze")}
    people = corrections.apply(config.people, stored_corrections(store)) + ignored
    return analyse(interactions(config, store, now), me, config.identity.zone, now, people, contexts,
                   config.analysis.window_days, snoozed)


def stored_corrections(store: Store) -> list[corrections.Correction]:
    """The user's `tiekeeper set` corrections, one per person's address, oldest first."""
    found: dict[str, corrections.Correction] = {}
    for address, when, note in sorted(store.actions(corrections.KIND), key=lambda a: a[1]):
        key = merge_key(address)
        found[key] = corrections.merge(found.get(key), corrections.Correction.of(address, when, note))
    return list(found.values())


def busy(config: Config, store: Store, now: datetime, days: int = followups.HORIZON_DAYS + 7) -> list[tuple[float, float]]:
    me = own_addresses.me(config, store)
    names = {s.name for s in config.sources}
    out: list[tuple[float, float]] = []
    for _, record in whole_series(store.records(EVENT, names)):
        out.extend(busy_intervals(record, me, config.identity.zone, now, now + timedelta(days=days)))
    return out


def publishes_remotely(config: Config) -> bool:
    return bool(config.followups.caldav or config.followups.google)


def write_followups(config: Config, store: Store, rep: Report) -> Path | None:
    """Plan the follow-ups, write the feed file (if configured) and remember the plan in the store,
    where ``push_followups`` reads it. Returns the file."""
    path = config.followups.path
    if path is None and not publishes_remotely(config):
        return None
    previous = _stored_followups(store)
    planned = followups.plan(rep, previous, busy(config, store, rep.as_of), config.followups, config.identity.zone)
    if path is not None:  # without those the user deleted from the follow-ups calendar: dismissed
        dismissed = store.dismissed_followups()
        data = followups.to_ics([f for f in planned if f.uid not in dismissed], config.followups.alarm_minutes)
        try:
            write_private(path, data)
        except OSError as e:
            raise OutputError(f"cannot write the follow-ups file {path}: {e.strerror}", "check outputs.followups.path") from None
    store.save_followups([(f.uid, f.contact, f.cycle, f.sequence, f.status, f.start, f.end, f.summary,
                           f.description, f.fingerprint, f.updated) for f in planned])
    return path


def _stored_followups(store: Store) -> list[followups.FollowUp]:
    return [followups.FollowUp(**row._asdict()) for row in store.followups()]


def push_followups(config: Config, store: Store) -> int | None:
    """Make the follow-ups calendar on CalDAV or Google hold the confirmed follow-ups the store
    planned, the user's edits winning: new and changed ones written (conditionally on the etag),
    cancelled ones deleted, and what the user moved, renamed or deleted there left alone (see
    daemon.outputs.publish). Each write is recorded as soon as the server took it, so an interrupted
    push resumes instead of duplicating. Returns the number of writes (None: no remote calendar)."""
    if not publishes_remotely(config):
        return None
    planned = _stored_followups(store)
    where = f"source {config.followups.caldav or config.followups.google}, calendar {config.followups.calendar!r}"
    try:
        calendar = connectors.followup_target(config)
        assert calendar is not None, "publishes_remotely: a calendar is named"
        with calendar as target:
            key = target.key
            known = {uid: publish.Published(*row) for uid, row in store.published(key).items()}
            seen = publish.reconcile(known, target.listing())
            for uid, p in seen.items():
                if p != known[uid]:
                    log.info("follow-ups: one was %s in the calendar; it is left as the user has it", p.state)
                    store.mark_published(key, uid, p.sequence, p.remote_id, p.etag, p.state)
            todo = publish.changes(planned, seen)
            writes = sum(_apply(target, store, key, change, config.followups.alarm_minutes, seen.get(change.uid))
                         for change in todo)
    except SourceError as e:  # the target's connector speaks in source errors; here it is an output
        raise OutputError(f"publishing follow-ups ({where}): {e.message.removeprefix(f'source {e.source}: ')}",
                          e.remedy) from None
    log.info("follow-ups: %d change(s) pushed, %d live", writes, sum(f.status == "CONFIRMED" for f in planned))
    return writes


def _apply(target: FollowupCalendar, store: Store, key: str, change: publish.Change, alarm: int | None,
           old: publish.Published | None) -> int:
    """One write to the remote calendar; 1 if the server took it, 0 when the user's edit won."""
    try:
        if change.action == "put":
            assert change.followup is not None, "a put carries what to write"
            remote_id, etag = target.put(change.followup, alarm, change.remote_id, change.etag)
            store.mark_published(key, change.uid, change.followup.sequence, remote_id, etag)
        elif change.action == "delete":
            target.delete(change.uid, change.remote_id, change.etag)
            store.mark_published(key, change.uid, None)
        else:  # the user deleted it already
            store.mark_published(key, change.uid, None)
            return 0
    except EditConflict:  # changed by the user since the listing: theirs; the next push sees how
        if old is not None:
            store.mark_published(key, change.uid, old.sequence, old.remote_id, "", publish.EDITED)
        return 0
    return 1


def save_report(store: Store, rep: Report) -> None:
    store.save_contacts(rep.as_of.timestamp(), (
        (c.id, c.name, c.emails, c.relationship, c.expected_gap_days, c.last_two_way,
         [{"kind": f.check, "pattern": f.pattern, "why": f.why} for f in c.flags]) for c in rep.contacts))


def analyse_and_publish(config: Config, store: Store, now: datetime) -> tuple[Report, Path | None]:
    """The analysis job: the report, its contacts snapshot in the store, and the follow-ups file."""
    rep = report(config, store, now)
    save_report(store, rep)
    log.info("analysis: %d contacts, %d flagged, %d interactions", len(rep.contacts), len(rep.flagged()), rep.interactions)
    return rep, write_followups(config, store, rep)


def run_once(config: Config, store: Store, as_of: datetime | None = None, force: bool = False,
             progress: ProgressFactory | None = None,
             stage: Callable[[str], AbstractContextManager] = lambda _label: nullcontext()) -> RunResult:
    """``stage(label)`` wraps each long step (the CLI shows progress with it)."""
    result = RunResult()
    with stage(f"syncing {len(config.sources)} source(s)"):
        result.synced, result.failed = sync_all(config, store, force, progress=progress)
    with stage("analysing"):
        rep, followups_file = analyse_and_publish(config, store, clock(config, as_of))
    result.report = rep
    try:  # a calendar server that is down must not hold back the digest
        result.pushed = push_followups(config, store)
    except OutputError as e:
        log.error("%s", e.one_line())
        result.output_errors.append(e)
    try:  # the file always; the mail only when a digest is due, by the service's rule
        result.digest = deliver(config, store, rep, datetime.now(timezone.utc), "run --once")
    except OutputError as e:
        log.error("%s", e.one_line())
        result.output_errors.append(e)
    for name, path in (("followups", followups_file), ("digest", result.digest and result.digest.path)):
        if path:
            result.written[name] = path
    return result
