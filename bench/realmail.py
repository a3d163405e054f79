#!/usr/bin/env python3
"""Benchmark on real headers: `tiekeeper sync` over a real maintainer's mailbox, beside `mu index`
(and `notmuch new`) over the same Maildir, measured in the same run.

    python bench/realmail.py                          # ~50,000 messages (the mailbox 8 times)
    python bench/realmail.py --copies 1               # the mailbox once (6,644 messages)
    python bench/realmail.py --tiekeeper /work/wt-bench-old/.venv/bin/tiekeeper   # another tree's code

The corpus is the shared real mailbox (../shared/corpus/real-mail/belloni-direct, next to the
repository; see its README): headers only, as archived, about 6 KB a message on average
(Received chains, DKIM/ARC, long Cc lists). Its mbox files are decompressed into a temporary
folder, split on their mboxrd `From ` separator lines (read as bytes), and written into a Maildir:
INBOX, .Sent and .lists, each message its header block and a blank line. `--copies N` writes the
mailbox N times (default: enough for about 50,000 messages); copy K > 0 has `.copyK` appended
inside the angle brackets of every id in Message-ID, In-Reply-To and References, so each copy is
distinct and its threads stay within it.

Stages, each in a child process of its own (so each peak RSS is that stage's alone; the external
programs' peaks come from os.wait4 on them, run from a small Python process, about 10 MB, which
is the floor of what can be seen):

- bare header split over the Maildir (bench/ingest.py's loop: the local ceiling for any parser);
- `tiekeeper sync`: the first sync of a config with that Maildir as its one source (identity from
  me.txt, store in the temporary folder);
- `tiekeeper report --format json`: the analysis of that store, its clock pinned by the config
  (`[analysis] as_of = 2026-03-09T19:00Z`, `window_days = 1100`: the whole range);
- `mu index` (apt `maildir-utils`), after `mu init` (not timed), over the same Maildir;
- `notmuch new` (apt `notmuch`), where installed;
- where a first sync's time goes per message (list, read and parse, infer, store), run with the
  Python of the tiekeeper given, so with that tree's code.

The ratio that matters is tiekeeper's rate over mu's, measured minutes apart on the same files.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "real-mail" / "belloni-direct"
AS_OF = "2026-03-09T19:00:00+00:00"
WINDOW_DAYS = 1100
FOLDERS = {"INBOX": "", "Sent": ".Sent", "lists": ".lists"}  # mbox name -> Maildir++ folder
TARGET = 50_000
_IDS = re.compile(rb"<([^<>\s]+)>")
_ID_FIELDS = (b"message-id:", b"in-reply-to:", b"references:")


# -- the corpus ---------------------------------------------------------------------------------------
def split_mboxrd(path: Path):
    """Each message of an mboxrd file, as bytes without its separator line. A separator is a line
    starting with ``From `` at the start of the file or after a blank line; ``>From `` lines (any
    number of ``>``) lose one ``>``."""
    message: list[bytes] | None = None
    blank = True
    with open(path, "rb") as fh:
        for line in fh:
            if blank and line.startswith(b"From "):
                if message is not None:
                    yield b"".join(message)
                message = []
                blank = False
                continue
            blank = line in (b"\n", b"\r\n")
            if message is not None:
                if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                    line = line[1:]
                message.append(line)
    if message is not None:
        yield b"".join(message)


def header_block(raw: bytes) -> bytes:
    """The header fields up to the first blank line, then one blank line (the corpus has no bodies)."""
    end = raw.find(b"\n\n")
    head = raw if end < 0 else raw[:end + 1]
    return head.rstrip(b"\n") + b"\n\n"


def rewrite_ids(head: bytes, copy: int) -> bytes:
    """``<id>`` -> ``<id.copyK>`` in Message-ID, In-Reply-To and References (folded lines too)."""
    suffix = b".copy%d>" % copy
    out, rewriting = [], False
    for line in head.split(b"\n"):
        if line[:1] not in (b" ", b"\t"):
            rewriting = line.lower().startswith(_ID_FIELDS)
        out.append(_IDS.sub(lambda m: b"<" + m.group(1) + suffix, line) if rewriting else line)
    return b"\n".join(out)


def make_maildir(corpus: Path, work: Path, copies: int | None) -> tuple[Path, dict[str, int], int, int]:
    """Decompress the corpus's mbox files, and write them into a Maildir; returns it, the messages
    per folder in one copy, the number of copies and the bytes written."""
    mbox = work / "mbox"
    mbox.mkdir()
    for name in FOLDERS:
        with lzma.open(corpus / f"{name}.mbox.xz") as src, open(mbox / f"{name}.mbox", "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    heads = {name: [header_block(m) for m in split_mboxrd(mbox / f"{name}.mbox")] for name in FOLDERS}
    per_copy = {name: len(h) for name, h in heads.items()}
    if copies is None:
        copies = max(1, round(TARGET / sum(per_copy.values())))
    root = work / "mail"
    written = 0
    for name, sub in FOLDERS.items():
        folder = root / sub if sub else root
        for d in ("cur", "new", "tmp"):
            (folder / d).mkdir(parents=True, exist_ok=True)
        for k in range(copies):
            for i, head in enumerate(heads[name]):
                data = rewrite_ids(head, k) if k else head
                (folder / "cur" / f"{1700000000 + i}.R{k}_{i}.{name}.realmail:2,S").write_bytes(data)
                written += len(data)
    shutil.rmtree(mbox)
    return root, per_copy, copies, written


# -- measuring ------------------------------------------------------------------------------------------
def measure(cmd: list[str], env: dict | None = None, stdout=subprocess.DEVNULL, cwd: Path | None = None) -> dict:
    """Run ``cmd``; its wall time, CPU time (with its children's), peak RSS (os.wait4: the largest
    one process of it and what it waited for reached) and the peak of its whole process tree's
    memory added up (Pss, sampled every 20 ms, so tiekeeper's worker processes count; never less
    than the peak RSS, which a 20 ms sample can miss)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE, cwd=cwd)
    tree_peak = [0.0]
    sampler = threading.Thread(target=_sample_tree, args=(proc.pid, tree_peak), daemon=True)
    sampler.start()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024,
            "tree_rss": max(tree_peak[0], usage.ru_maxrss / 1024)}


def _sample_tree(pid: int, peak: list[float]) -> None:
    """Until ``pid`` ends, the memory of it and its descendants added up, at its highest, in MB.
    Each process counts its proportional set size (Pss: a page shared by the forked workers counts
    once in all, not once per process)."""
    while True:
        total, todo = 0, [pid]
        while todo:
            p = todo.pop()
            try:
                rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
                total += next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")) * 1024
                for task in Path(f"/proc/{p}/task").iterdir():
                    todo += [int(c) for c in (task / "children").read_text().split()]
            except (OSError, ValueError, StopIteration):
                if p == pid:
                    return
        if not total:
            return
        peak[0] = max(peak[0], total / 2**20)
        time.sleep(0.02)


def _vmhwm_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024


def stage_split(work: Path, args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(REPO))
    from bench.ingest import bare_split

    t = time.perf_counter()
    c = time.process_time()
    n = bare_split(work / "mail")
    return {"count": n, "seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "rss": _vmhwm_mb()}


def _config(work: Path, me: list[str]) -> Path:
    cfg = work / "config.toml"
    cfg.write_text(
        f"[identity]\naddresses = {json.dumps(me)}\ntimezone = \"UTC\"\n"
        f"[store]\npath = \"{work / 'tiekeeper.db'}\"\n"
        f"[sources.mail]\ntype = \"maildir\"\npath = \"{work / 'mail'}\"\n"
        f"[analysis]\nas_of = \"{AS_OF}\"\nwindow_days = {WINDOW_DAYS}\n")
    return cfg


def stage_sync(work: Path, args: argparse.Namespace) -> dict:
    import sqlite3

    r = measure([args.tiekeeper, "--config", str(work / "config.toml"), "-q", "sync"])
    db = sqlite3.connect(work / "tiekeeper.db")
    r["count"] = db.execute("SELECT count(*) FROM records").fetchone()[0]
    r["interactions"] = db.execute("SELECT count(*) FROM interactions").fetchone()[0]
    db.close()
    r["db_mb"] = (work / "tiekeeper.db").stat().st_size / 2**20
    return r


def stage_report(work: Path, args: argparse.Namespace) -> dict:
    out = work / "report.json"
    with open(out, "wb") as fh:
        r = measure([args.tiekeeper, "--config", str(work / "config.toml"), "-q", "report", "--format", "json"],
                    stdout=fh)
    rep = json.loads(out.read_text())
    summary = rep.get("summary", {})
    r["contacts"] = summary.get("contacts", len(rep.get("contacts", [])))
    r["flagged"] = summary.get("flagged")
    r["interactions"] = summary.get("interactions")
    r["flags"] = summary.get("flags")
    return r


def stage_mu(work: Path, args: argparse.Namespace) -> dict:
    home = work / "mu-home"
    init = subprocess.run(["mu", "init", f"--maildir={work / 'mail'}", f"--muhome={home}"], capture_output=True, text=True)
    if init.returncode != 0:
        raise RuntimeError(f"mu init: {init.stderr.strip()}")
    r = measure(["mu", "index", f"--muhome={home}", "--quiet"])
    info = subprocess.run(["mu", "info", f"--muhome={home}"], capture_output=True, text=True).stdout
    found = re.search(r"messages in store\s*\|\s*(\d+)", info)
    r["count"] = int(found.group(1)) if found else None
    shutil.rmtree(home, ignore_errors=True)
    return r


def stage_notmuch(work: Path, args: argparse.Namespace) -> dict:
    home = work / "notmuch-home"
    home.mkdir(exist_ok=True)
    cfg = home / "config"
    cfg.write_text(f"[database]\npath={work / 'mail'}\n[user]\nprimary_email={args.me[0]}\n[new]\ntags=new\n")
    env = {**os.environ, "NOTMUCH_CONFIG": str(cfg), "HOME": str(home)}
    r = measure(["notmuch", "new", "--quiet"], env=env)
    count = subprocess.run(["notmuch", "count", "*"], env=env, capture_output=True, text=True).stdout.strip()
    r["count"] = int(count) if count.isdigit() else None
    shutil.rmtree(work / "mail" / ".notmuch", ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    return r


def stage_phases(work: Path, args: argparse.Namespace) -> dict:
    """Where a first sync's time goes, as bench/scale.py's ingest-phases stage measures it. Runs under
    the Python of the tiekeeper given, so `daemon` and `connectors` are that tree's (not this file's):
    this repository goes at the end of the path, for `bench` alone."""
    sys.path.append(str(REPO))
    from bench.phases import timed_first_sync

    count, seconds = timed_first_sync(work / "mail", args.me, work / "phases.db", "mail")
    (work / "phases.db").unlink()
    return {"count": count, "seconds": seconds, "rss": _vmhwm_mb()}


STAGES = {"split": stage_split, "sync": stage_sync, "report": stage_report, "mu": stage_mu,
          "notmuch": stage_notmuch, "phases": stage_phases}


def run_stage(name: str, work: Path, args: argparse.Namespace, python: str = sys.executable) -> dict:
    cmd = [python, __file__, "--stage", name, "--work", str(work), "--tiekeeper", args.tiekeeper,
           *(x for a in args.me for x in ("--me", a))]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the runner -------------------------------------------------------------------------------------------
def _tree_of(binary: str) -> str:
    """The git commit of the tree a venv's tiekeeper runs (X/.venv/bin/tiekeeper -> X), if it is one."""
    tree = Path(binary).resolve().parent.parent.parent
    head = subprocess.run(["git", "-C", str(tree), "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    return f"{tree} at {head.stdout.strip()[:70]}" if head.returncode == 0 else "(tree unknown)"


def _python_of(binary: str) -> str:
    """The interpreter a console script runs with (its #! line)."""
    first = Path(binary).read_bytes().split(b"\n", 1)[0]
    return first[2:].decode().strip() if first.startswith(b"#!") else sys.executable


def report(args: argparse.Namespace, work: Path) -> None:
    t = time.perf_counter()
    root, per_copy, copies, written = make_maildir(args.corpus, work, args.copies)
    total = sum(per_copy.values()) * copies
    print(f"corpus: {args.corpus}\n        {', '.join(f'{n} {c:,}' for n, c in per_copy.items())} messages, "
          f"{copies} cop{'y' if copies == 1 else 'ies'}: {total:,} messages in a Maildir, "
          f"{written / total / 1024:.1f} KB of headers each on average ({written / 2**20:.0f} MB), "
          f"made in {time.perf_counter() - t:.0f}s")
    print(f"tiekeeper: {args.tiekeeper}\n           {_tree_of(args.tiekeeper)}")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    _config(work, args.me)

    rows = []
    split = run_stage("split", work, args)
    rows.append(("bare header split (reference)", split))
    sync = run_stage("sync", work, args)
    rows.append(("tiekeeper sync", sync))
    mu = None
    if args.skip_mu:
        print("mu index: skipped (--skip-mu)")
    elif shutil.which("mu"):
        mu = run_stage("mu", work, args)
        rows.append(("mu index", mu))
    else:
        print("mu index: mu is not installed (apt-get install maildir-utils); no ratio")
    if args.skip_notmuch:
        print("notmuch new: skipped (--skip-notmuch)")
    elif shutil.which("notmuch"):
        rows.append(("notmuch new", run_stage("notmuch", work, args)))
    else:
        print("notmuch new: not installed (apt-get install notmuch)")

    print(f"{'stage':31} {'messages':>9} {'seconds':>8} {'CPU s':>7} {'msg/s':>8} {'peak RSS MB':>12} {'all processes (Pss) MB':>23}")
    for name, r in rows:
        count = r.get("count") or total
        print(f"{name:31} {count:9,} {r['seconds']:8.1f} {r['cpu']:7.1f} {count / r['seconds']:8,.0f} {r['rss']:12.0f} "
              f"{r.get('tree_rss', r['rss']):23.0f}")
    if sync.get("count") != total:
        print(f"note: the store holds {sync.get('count')} records for {total} messages")
    sync_rate = total / sync["seconds"]
    if mu:
        mu_rate = (mu.get("count") or total) / mu["seconds"]
        print(f"\nratio tiekeeper sync / mu index: {sync_rate / mu_rate:.2f}x by wall clock "
              f"({(mu['cpu'] / mu['seconds']) if mu['seconds'] else 0:.2f} cores busy for mu, "
              f"{sync['cpu'] / sync['seconds']:.2f} for tiekeeper); "
              f"{mu['cpu'] / sync['cpu']:.2f}x by CPU time")
    print(f"tiekeeper sync: {sync['interactions']:,} interactions from {sync['count']:,} records, "
          f"store {sync['db_mb']:.0f} MB; the bare split's rate is {split['count'] / split['seconds'] / sync_rate:.1f}x its own")

    rep = run_stage("report", work, args)
    print(f"\nanalysis: tiekeeper report --format json (as of {AS_OF}, window {WINDOW_DAYS} days): "
          f"{rep['seconds']:.2f}s wall ({rep['cpu']:.2f}s CPU, a whole process: start, load, analyse, print), "
          f"peak RSS {rep['rss']:.0f} MB; {rep['contacts']} contacts, {rep['flagged']} flagged, "
          f"{rep['interactions']} interactions analysed; flags {rep['flags']}")

    if not args.skip_phases:
        python = _python_of(args.tiekeeper)
        try:
            phases = run_stage("phases", work, args, python=python)
        except SystemExit as exc:
            print(f"\nphases: could not run under {python}: {str(exc).splitlines()[-1]}")
        else:
            per = {step: sec / phases["count"] * 1e6 for step, sec in phases["seconds"].items()}
            print(f"\nper message, a first sync in-process ({phases['count']:,} messages, the tree's own code): "
                  + ", ".join(f"{step} {us:.0f}" for step, us in per.items())
                  + f" us; together {sum(per.values()):.0f} us; the bare split {split['seconds'] / split['count'] * 1e6:.0f} us")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, help=f"write the mailbox this many times (default: about {TARGET:,} messages)")
    default = REPO / ".venv" / "bin" / "tiekeeper"
    ap.add_argument("--tiekeeper", default=str(default) if default.exists() else shutil.which("tiekeeper"),
                    help="the tiekeeper program to measure (default: this tree's .venv, else PATH)")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="a folder of INBOX/Sent/lists .mbox.xz and me.txt")
    ap.add_argument("--skip-mu", action="store_true")
    ap.add_argument("--skip-notmuch", action="store_true")
    ap.add_argument("--skip-phases", action="store_true", help="leave out the per-message breakdown")
    ap.add_argument("--stage", choices=list(STAGES), help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--me", action="append", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        print(json.dumps(STAGES[args.stage](args.work, args)))
        return
    if not (args.corpus / "me.txt").is_file() or not all((args.corpus / f"{n}.mbox.xz").is_file() for n in FOLDERS):
        print(f"realmail: the shared corpus is not here ({args.corpus}); nothing to measure.")
        return
    if not args.tiekeeper or not Path(args.tiekeeper).exists():
        raise SystemExit("realmail: no tiekeeper program found; install this tree (pip install -e .) or pass --tiekeeper")
    args.tiekeeper = str(Path(args.tiekeeper).absolute())
    args.me = [a.strip() for a in (args.corpus / "me.txt").read_text().splitlines() if a.strip()]
    with tempfile.TemporaryDirectory(prefix="tiekeeper-realmail-") as tmp:
        report(args, Path(tmp))


if __name__ == "__main__":
    main()
