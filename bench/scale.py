#!/usr/bin/env python3
"""Benchmark at mailbox scale: every stage, its rate, its peak memory, and references measured in
the same run.

    python bench/scale.py                       # 100,000 messages, 5,000 events, 1M interactions
    python bench/scale.py --messages 1000000    # the 1M-message corpus (about 4 GB of disk)
    python bench/scale.py --messages 10000 --interactions 100000   # a quick look

Corpora (generated into a temporary folder, deleted afterwards): a Maildir with INBOX and Sent
(bench/ingest.py: Received chains, folded To/Cc, RFC 2047 names, threads with In-Reply-To and
References, list mail), the same messages as two mbox files, and an ICS file of 5,000 events of
which a tenth are recurring series with overrides and exceptions. The analysis stages use
synthetic interactions (10,000 contacts by default, mail to several people at once, Cc and
meetings among them) so that they can reach a million; they are written into a store first. The
first load reads them as rows and makes the column segments; the analysis stage then loads them as
the analysis job does, and analyses them.

References: a bare header-split loop over the same files (read up to the blank line, split the
fields: the local ceiling for any parser), and `notmuch new` over the same Maildir where notmuch
is installed (apt-get install notmuch).

Each stage runs in a child process of its own, so the peak RSS printed is that stage's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ME = "me@home.example"
NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


# -- corpora ----------------------------------------------------------------------------------------
def make_mbox(maildir: Path, out: Path) -> None:
    """The Maildir's messages as mbox files (mboxrd quoting of body lines that start with "From ")."""
    out.mkdir(parents=True, exist_ok=True)
    for folder, name in ((maildir, "inbox.mbox"), (maildir / ".Sent", "sent.mbox")):
        with open(out / name, "wb") as fh:
            for f in sorted((folder / "cur").iterdir()):
                raw = f.read_bytes().replace(b"\r\n", b"\n")
                body = b"\n".join(b">" + line if line.lstrip(b">").startswith(b"From ") else line
                                  for line in raw.split(b"\n"))
                fh.write(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + body.rstrip(b"\n") + b"\n\n")


def make_ics(path: Path, events: int, seed: int = 3) -> None:
    """``events`` VEVENTs: one-off meetings, and a tenth recurring series with an override and an EXDATE."""
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tiekeeper bench//EN"]
    start = NOW - timedelta(days=700)
    for n in range(events):
        when = start + timedelta(days=rng.randrange(720), hours=rng.randrange(8, 19))
        people = rng.choice([1, 1, 2, 3, 5, 12])
        uid = f"ev{n}@bench.example"
        stamp = f"{when:%Y%m%dT%H%M%SZ}"
        event = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp}", f"DTSTART:{stamp}",
                 f"DTEND:{when + timedelta(minutes=45):%Y%m%dT%H%M%SZ}", f"SUMMARY:Meeting {n % 97}",
                 f"ORGANIZER:mailto:{ME if rng.random() < 0.5 else f'p{n % 500}@example.org'}"]
        event += [f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:p{(n + k) % 3000}@example{k}.org" for k in range(people)]
        recurring = n % 10 == 0
        if recurring:
            event += [f"RRULE:FREQ=WEEKLY;COUNT={rng.randrange(10, 100)}",
                      f"EXDATE:{when + timedelta(weeks=2):%Y%m%dT%H%M%SZ}"]
        lines += event + ["END:VEVENT"]
        if recurring:  # the third instance moved by an hour
            moved = when + timedelta(weeks=3)
            lines += ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp}", f"RECURRENCE-ID:{moved:%Y%m%dT%H%M%SZ}",
                      f"DTSTART:{moved + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
                      f"DTEND:{moved + timedelta(hours=1, minutes=45):%Y%m%dT%H%M%SZ}",
                      "SUMMARY:Moved", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    path.write_text("\r\n".join(lines) + "\r\n")


# -- stages (each in its own process) ----------------------------------------------------------------
def _rss_mb() -> float:
    """This process's peak RSS. Not ru_maxrss: on Linux it survives fork and exec, so a stage would
    inherit the runner's own peak; /proc's VmHWM starts afresh with the new program."""
    try:
        status = Path("/proc/self/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_split(work: Path) -> dict:
    from bench.ingest import bare_split

    t = time.perf_counter()
    n = bare_split(work / "mail")
    return {"count": n, "seconds": time.perf_counter() - t}


def stage_split_mbox(work: Path) -> dict:
    t = time.perf_counter()
    n = 0
    for f in (work / "mbox").iterdir():
        with open(f, "rb") as fh:
            in_header, blank = False, True
            for line in fh:
                if blank and line.startswith(b"From "):
                    n += 1
                    in_header = True
                elif in_header:
                    if line == b"\n":
                        in_header = False
                    else:
                        line.partition(b":")
                blank = line == b"\n"
    return {"count": n, "seconds": time.perf_counter() - t}


def stage_notmuch(work: Path) -> dict:
    home = work / "notmuch-home"
    home.mkdir(exist_ok=True)
    cfg = home / "config"
    cfg.write_text(f"[database]\npath={work / 'mail'}\n[user]\nprimary_email={ME}\n[new]\ntags=new\n")
    env = {**os.environ, "NOTMUCH_CONFIG": str(cfg), "HOME": str(home)}
    t = time.perf_counter()
    out = subprocess.run(["notmuch", "new", "--quiet"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    count = int(subprocess.run(["notmuch", "count", "*"], env=env, capture_output=True, text=True).stdout.strip())
    shutil.rmtree(work / "mail" / ".notmuch", ignore_errors=True)
    return {"count": count, "seconds": seconds}


def _ingest(work: Path, connector, kind: str) -> dict:
    from daemon.identity import Me
    from daemon.ingest import sync_source
    from daemon.pipeline import derive, mail_deriver
    from daemon.store import Store

    db = work / f"{kind}.db"
    store = Store(db)
    t = time.perf_counter()
    result = sync_source(store, connector(), kind, derive=mail_deriver(Me([ME])))  # as `tiekeeper sync` does
    assert derive(store, Me([ME])) == 0
    seconds = time.perf_counter() - t
    rss = _rss_mb()
    t = time.perf_counter()
    fast_result = sync_source(store, connector(), kind)
    fast = time.perf_counter() - t
    with store.transaction():
        store.finish_sync("bench", None)  # forget the cursor: the next sync lists and compares etags
    t = time.perf_counter()
    diff_result = sync_source(store, connector(), kind)
    first_resync = time.perf_counter() - t
    assert fast_result.fast_path and fast_result.fetched == 0
    assert not diff_result.fast_path and diff_result.fetched == 0
    store.close()
    return {"count": result.fetched, "seconds": seconds, "rss": rss, "resync_diff": first_resync,
            "resync_fast": fast, "db_mb": db.stat().st_size / 2**20}


def stage_ingest_maildir(work: Path) -> dict:
    from connectors.maildir import MaildirConnector

    for d in (work / "mail").rglob("*"):
        if d.is_dir():
            os.utime(d, (1, 1_000_000_000))  # settled folders, as on a mailbox nobody touched lately
    return _ingest(work, lambda: MaildirConnector("bench", work / "mail"), "maildir")


def stage_ingest_phases(work: Path) -> dict:
    """Where a first Maildir sync's time goes: ``sync_source`` itself, into a store of its own, with
    the connector's listing and reading and the inference timed as they run; the rest is storing
    (and the sync's own bookkeeping, a sort and a comparison with an empty store)."""
    from bench.phases import timed_first_sync

    count, seconds = timed_first_sync(work / "mail", [ME], work / "phases.db")
    return {"count": count, "seconds": seconds}


def stage_ingest_mbox(work: Path) -> dict:
    from connectors.mbox import MboxConnector

    return _ingest(work, lambda: MboxConnector("bench", work / "mbox"), "mbox")


def stage_ics(work: Path) -> dict:
    import icalendar

    from connectors.ics import IcsConnector
    from daemon.identity import Me
    from daemon.inference.calendar import (
        MAX_INSTANCES,
        infer_event,
        whole_series,
        window,
    )
    from daemon.ingest import sync_source
    from daemon.models import EVENT
    from daemon.store import Store

    parses = [0]
    original = icalendar.Calendar.from_ical.__func__

    def counting(cls, *args, **kwargs):
        parses[0] += 1
        return original(cls, *args, **kwargs)

    icalendar.Calendar.from_ical = classmethod(counting)  # to count parses on the unchanged re-sync
    store = Store(work / "ics.db")
    t = time.perf_counter()
    result = sync_source(store, IcsConnector("cal", path=work / "events.ics"), "ics")
    seconds = time.perf_counter() - t
    parses[0] = 0
    t = time.perf_counter()
    again = sync_source(store, IcsConnector("cal", path=work / "events.ics"), "ics")
    resync = time.perf_counter() - t
    assert again.fetched == 0
    unchanged_parses = parses[0]
    def expand(now: datetime) -> tuple[float, int]:
        start, end = window(now, 730)
        t = time.perf_counter()
        n = sum(len(infer_event(record, Me([ME]), timezone.utc, start, end, source).interactions)
                for source, record in whole_series(store.records(EVENT, ["cal"])))
        return time.perf_counter() - t, n

    first, instances = expand(NOW)
    later, _ = expand(NOW + timedelta(minutes=15))  # the service's next analysis: expansions are cached
    return {"count": result.fetched, "seconds": seconds, "resync": resync, "unchanged_parses": unchanged_parses,
            "expand": first, "expand_again": later, "interactions": instances, "cap": MAX_INSTANCES, "rss": _rss_mb()}


def synthetic_interactions(n: int, contacts: int, seed: int = 1) -> list:
    """About ``n`` interactions with ``contacts`` people over two years, each person on a rhythm.
    As in a real mailbox, some mail goes to several people at once (rows at the same moment, with a
    lower weight), some contact is on Cc, and some is a meeting. Times are whole seconds, as mail
    and calendars give them."""
    from daemon.models import Interaction

    rng = random.Random(seed)
    now = NOW.timestamp()
    per = max(round(n / contacts / 1.27), 1)  # a mail to three people makes three rows
    out = []
    for c in range(contacts):
        address, name = f"person{c}@example{c % 300}.org", f"Person {c}"
        t = now - 700 * 86400 + rng.random() * 30 * 86400
        gap = rng.choice([1, 3, 7, 14, 30]) * 86400 / 4 * 1.27
        for k in range(per):
            t += rng.expovariate(1 / gap)
            if t > now:
                break
            when = float(int(t))  # whole seconds, as mail and calendars give them
            mine = rng.random() < 0.5
            kind = rng.random()
            if kind < 0.05:  # a meeting
                out.append(Interaction(ts=when, channel="meeting", address=address, name=name, direction="both",
                                       weight=3.0, initiator=rng.choice(["me", "them"]), thread=f"<e{c}.{k}@x>", account=ME, fanout=rng.choice([1, 2, 8]),
                                       hint=rng.choice(["", "social", "work"])))
                continue
            weight, others = (0.3, 0) if kind < 0.15 else (0.6, 2) if kind < 0.30 else (1.0, 0)  # Cc; to three
            out.append(Interaction(ts=when, channel="email", address=address, name=name,
                                   direction="out" if mine else "in", weight=weight,
                                   initiator="me" if mine else "them", thread=f"<t{c}.{k // 3}@x>", message_id=f"<m{c}.{k}@x>", account=ME,
                                   fanout=others + 1))
            for o in rng.sample(range(contacts), others):  # the same mail, to others too: same moment
                out.append(Interaction(ts=when, channel="email", address=f"person{o}@example{o % 300}.org",
                                       name=f"Person {o}", direction="out" if mine else "in", weight=weight,
                                       initiator="me" if mine else "them", thread=f"<t{c}.{k // 3}@x>", message_id=f"<m{c}.{k}@x>", account=ME,
                                       fanout=others + 1))
    return out


def stage_analysis_store(work: Path, n: int, contacts: int) -> dict:
    """Write the synthetic interactions into a store, as inference would have."""
    from daemon.store import Store
    from daemon.store.rows import INTERACTION_COLUMNS

    store = Store(work / "analysis.db")
    rows = ((i.source or "bench", f"r{k}", i.ts, i.channel, i.address, i.name, i.direction, i.weight, i.initiator,
             i.thread, i.message_id, i.in_reply_to, i.account, i.fanout, i.hint, int(i.recurring))
            for k, i in enumerate(synthetic_interactions(n, contacts)))
    with store.transaction():
        store.db.executemany(f"INSERT INTO interactions({INTERACTION_COLUMNS}) VALUES ({','.join('?' * 16)})", rows)
    count = store.db.execute("SELECT count(*) FROM interactions").fetchone()[0]
    store.close()
    return {"count": count}


def stage_analysis_first(work: Path) -> dict:
    """The first load after the interactions were written: rows are read and made into segments."""
    from daemon.store import Store

    store = Store(work / "analysis.db")
    t = time.perf_counter()
    table = store.interaction_table()
    seconds = time.perf_counter() - t
    segments = store.db.execute("SELECT count(*), sum(length(data)) FROM interaction_segments").fetchone()
    return {"count": len(table), "seconds": seconds, "rss": _rss_mb(), "segments": segments[0],
            "segments_mb": segments[1] / 2**20}


def stage_analysis(work: Path) -> dict:
    """What the analysis job does with them: load from the store (its segments), then analyse."""
    import gc

    from daemon.analysis.report import analyse
    from daemon.identity import Me
    from daemon.store import Store

    store = Store(work / "analysis.db")
    gc.collect()
    t = time.perf_counter()
    table = store.interaction_table()
    load = time.perf_counter() - t
    loaded = _rss_mb()
    t = time.perf_counter()
    rep = analyse(table, Me([ME]), timezone.utc, NOW)
    seconds = time.perf_counter() - t
    return {"count": len(table), "contacts": len(rep.contacts), "load": load, "seconds": seconds, "rss": _rss_mb(),
            "rss_input": loaded}


def stage_service(work: Path) -> dict:
    """RSS of `tiekeeper run` at rest on the bundled sample, after its first pass."""
    home = work / "service"
    shutil.copytree(REPO / "sample", home / "sample")
    shutil.copy(REPO / "config.example.toml", home / "config.toml")
    return _service_at_rest(home)


def stage_service_mail(work: Path) -> dict:
    """RSS of `tiekeeper run` at rest after its first pass over the generated Maildir."""
    home = work / "service-mail"
    home.mkdir()
    (home / "config.toml").write_text(
        f'[identity]\naddresses = ["{ME}"]\ntimezone = "UTC"\n[store]\npath = "out/tiekeeper.db"\n'
        f'[sources.mail]\ntype = "maildir"\npath = "{work / "mail"}"\n[outputs.followups]\npath = "out/f.ics"\n'
        f'[analysis]\nas_of = "{NOW.isoformat()}"\n')
    return _service_at_rest(home, timeout=3600)


def _service_at_rest(home: Path, timeout: float = 120) -> dict:
    import signal
    import sqlite3

    proc = subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(home / "config.toml"), "run"], cwd=home,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                row = sqlite3.connect(home / "out" / "tiekeeper.db").execute(
                    "SELECT last_success FROM jobs WHERE name = 'analyse'").fetchone()
                if row and row[0]:
                    break
            except sqlite3.Error:
                pass
            time.sleep(0.2)
        time.sleep(3)  # at rest: waiting for the next tick
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024
        peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    return {"rss": rss, "peak": peak}


STAGES = {"split": stage_split, "split-mbox": stage_split_mbox, "notmuch": stage_notmuch,
          "ingest-maildir": stage_ingest_maildir, "ingest-phases": stage_ingest_phases, "ingest-mbox": stage_ingest_mbox, "ics": stage_ics,
          "analysis-first": stage_analysis_first, "analysis": stage_analysis, "service": stage_service, "service-mail": stage_service_mail}


# -- the runner ---------------------------------------------------------------------------------------
def run_stage(name: str, work: Path, *extra: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--stage", name, "--work", str(work), *extra],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(args: argparse.Namespace, work: Path) -> None:
    from bench.ingest import generate

    t = time.perf_counter()
    generate(work / "mail", args.messages)
    make_mbox(work / "mail", work / "mbox")
    make_ics(work / "events.ics", args.events)
    print(f"corpora: {args.messages:,} messages as Maildir and mbox, {args.events:,} events as ICS, "
          f"made in {time.perf_counter() - t:.0f}s; {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")

    split = run_stage("split", work)
    split_rate = split["count"] / split["seconds"]
    split_mbox = run_stage("split-mbox", work)
    mbox_rate = split_mbox["count"] / split_mbox["seconds"]
    print(f"reference  bare header split, Maildir   {split_rate:10,.0f} msg/s")
    print(f"reference  bare header split, mbox      {mbox_rate:10,.0f} msg/s")
    notmuch = None
    if args.skip_notmuch:
        print("reference  notmuch new: skipped (--skip-notmuch)")
    elif shutil.which("notmuch"):
        nm = run_stage("notmuch", work)
        notmuch = nm["count"] / nm["seconds"]
        print(f"reference  notmuch new, Maildir         {notmuch:10,.0f} msg/s  ({nm['seconds']:.1f}s)")
    else:
        print("reference  notmuch new: not installed (apt-get install notmuch)")
    print()
    for name, stage, ref in (("Maildir", "ingest-maildir", split_rate), ("mbox", "ingest-mbox", mbox_rate)):
        r = run_stage(stage, work)
        rate = r["count"] / r["seconds"]
        vs = f", {rate / notmuch:.2f}x notmuch" if notmuch and name == "Maildir" else ""
        print(f"ingest     {name:7} parse+infer+store   {rate:10,.0f} msg/s  ({r['seconds']:.1f}s, "
              f"{rate / ref:.2f}x the bare split{vs})  peak RSS {r['rss']:.0f} MB, store {r['db_mb']:.0f} MB")
        print(f"re-sync    {name:7} unchanged, by diff  {r['resync_diff'] * 1000:10,.0f} ms")
        print(f"re-sync    {name:7} unchanged, fast     {r['resync_fast'] * 1000:10,.1f} ms")
    phases = run_stage("ingest-phases", work)
    per = {step: sec / phases["count"] * 1e6 for step, sec in phases["seconds"].items()}
    print("ingest     Maildir, per message:     " + ", ".join(f"{step} {us:.1f}" for step, us in per.items())
          + f" us; the bare split {1e6 / split_rate:.1f} us")
    ics = run_stage("ics", work)
    print(f"\nICS        {args.events:,} events ({ics['count']:,} objects) parse+store {ics['seconds']:.2f}s = "
          f"{args.events / ics['seconds']:,.0f} events/s  peak RSS {ics['rss']:.0f} MB")
    print(f"ICS        unchanged re-sync: {ics['resync'] * 1000:.1f} ms, {ics['unchanged_parses']} parses")
    print(f"ICS        recurrence expansion over 2 years: {ics['expand']:.2f}s, {ics['interactions']:,} interactions "
          f"(each series capped at {ics['cap']:,} instances); the next analysis: {ics['expand_again']:.2f}s")
    run_stage("analysis-store", work, "--interactions", str(args.interactions), "--contacts", str(args.contacts))
    first = run_stage("analysis-first", work)
    print(f"\nanalysis   first load of {first['count']:,} interactions from rows, making {first['segments']} column "
          f"segments ({first['segments_mb']:.0f} MB): {first['seconds']:.2f}s, peak RSS {first['rss']:.0f} MB")
    an = run_stage("analysis", work)
    print(f"analysis   {an['count']:,} interactions, {an['contacts']:,} contacts: load from the store {an['load']:.2f}s, "
          f"analyse {an['seconds']:.2f}s, together {an['load'] + an['seconds']:.2f}s; peak RSS {an['rss']:.0f} MB "
          f"({an['rss_input']:.0f} MB once loaded)")
    svc = run_stage("service", work)
    print(f"service    at rest after its first pass on the sample: RSS {svc['rss']:.0f} MB (peak {svc['peak']:.0f} MB)")
    svc = run_stage("service-mail", work)
    print(f"service    at rest after its first pass on the {args.messages:,}-message Maildir: RSS {svc['rss']:.0f} MB "
          f"(peak {svc['peak']:.0f} MB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=5_000)
    ap.add_argument("--interactions", type=int, default=1_000_000)
    ap.add_argument("--contacts", type=int, default=10_000)
    ap.add_argument("--skip-notmuch", action="store_true", help="leave out the notmuch reference (11 min at 1M)")
    ap.add_argument("--stage", choices=[*STAGES, "analysis-store"], help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        result = (stage_analysis_store(args.work, args.interactions, args.contacts) if args.stage == "analysis-store"
                  else STAGES[args.stage](args.work))
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="tiekeeper-bench-") as tmp:
        report(args, Path(tmp))


if __name__ == "__main__":
    main()
