#!/usr/bin/env python3
"""Benchmark: Maildir ingest, the unchanged re-sync, and analysis, on a generated mailbox.

Prints one line per stage: rate, seconds, and peak RSS so far; and the ratio to a bare
header-split loop over the same files (the local ceiling: read to the blank line, split fields).

    python bench/ingest.py [MESSAGES]      (default 20000)
"""

from __future__ import annotations

import os
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.maildir import MaildirConnector  # noqa: E402
from daemon.analysis.report import analyse  # noqa: E402
from daemon.identity import Me  # noqa: E402
from daemon.ingest import sync_source  # noqa: E402
from daemon.pipeline import derive, mail_deriver  # noqa: E402
from daemon.store import Store  # noqa: E402

ME = "me@home.example"


def generate(root: Path, n: int, people: int = 2000, seed: int = 1) -> None:
    """Realistic headers: Received chains, folded To/Cc, RFC 2047 names, threads, some lists."""
    rng = random.Random(seed)
    for folder in (root, root / ".Sent"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    start = datetime(2024, 11, 1, tzinfo=timezone.utc)
    for i in range(n):
        p = rng.randrange(people)
        other = f"=?utf-8?q?P=C3=A9rson_{p}?= <person{p}@example{p % 50}.org>"
        when = start + timedelta(seconds=rng.randrange(2 * 365 * 86400))
        outbound = rng.random() < 0.35
        cc = ",\r\n ".join(f"Colleague {k} <c{k}@example{k}.com>" for k in range(rng.choice([0, 0, 1, 3])))
        lines = [f"Received: from mx{k}.example.net (mx{k}.example.net [192.0.2.{k}]) by mail.example.net; {format_datetime(when)}"
                 for k in range(rng.randint(2, 5))]
        lines += [f"From: {'Me <' + ME + '>' if outbound else other}", f"To: {other if outbound else 'Me <' + ME + '>'}"]
        if cc:
            lines.append(f"Cc: {cc}")
        lines += [f"Subject: =?utf-8?q?Re=3A_Thread_{p % 300}?=", f"Date: {format_datetime(when)}",
                  f"Message-ID: <b{i}@bench.example>", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
        if rng.random() < 0.5:
            lines += [f"In-Reply-To: <b{max(i - 1, 0)}@bench.example>", f"References: <b{max(i - 5, 0)}@bench.example> <b{max(i - 1, 0)}@bench.example>"]
        if rng.random() < 0.15:
            lines += ["List-Id: <news.example.org>", "List-Unsubscribe: <mailto:u@example.org>"]
        body = "x" * rng.randint(200, 4000)
        folder = root / ".Sent" if outbound else root
        (folder / "cur" / f"{1700000000 + i}.B{i}.bench:2,S").write_text("\r\n".join(lines) + "\r\n\r\n" + body)


def bare_split(root: Path) -> int:
    n = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                block = []
                for line in fh:
                    if line in (b"\r\n", b"\n"):
                        break
                    block.append(line)
            for line in block:
                line.partition(b":")
            n += 1
    return n


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mail"
        t = time.perf_counter()
        generate(root, n)
        print(f"corpus: {n} messages generated in {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        split = bare_split(root)
        bare = time.perf_counter() - t
        print(f"reference  bare header split: {split / bare:9.0f} msg/s  ({bare:.2f}s)")
        store = Store(Path(tmp) / "bench.db")
        t = time.perf_counter()
        sync_source(store, MaildirConnector("bench", root), "maildir", derive=mail_deriver(Me([ME])))
        derive(store, Me([ME]))
        full = time.perf_counter() - t
        print(f"ingest     parse+infer+store: {n / full:9.0f} msg/s  ({full:.2f}s, {(split / bare) and (n / full) / (split / bare):.2f}x the bare split)  peak RSS {rss_mb():.0f} MB")
        for d in root.rglob("*"):
            if d.is_dir():
                os.utime(d, (1, 1_000_000_000))  # settled folders, as on a mailbox nobody touched for a while
        t = time.perf_counter()
        r = sync_source(store, MaildirConnector("bench", root), "maildir")
        assert not r.fast_path and r.fetched == 0
        print(f"re-sync    unchanged, by diff: {(time.perf_counter() - t) * 1000:8.1f} ms (list + compare etags; stores a cursor)")
        t = time.perf_counter()
        r = sync_source(store, MaildirConnector("bench", root), "maildir")
        assert r.fast_path
        print(f"re-sync    unchanged mailbox:  {(time.perf_counter() - t) * 1000:8.1f} ms (fast path: folder mtimes)")
        t = time.perf_counter()
        items = store.interaction_table()
        load = time.perf_counter() - t
        t = time.perf_counter()
        rep = analyse(items, Me([ME]), timezone.utc, datetime(2026, 11, 1, tzinfo=timezone.utc))
        an = time.perf_counter() - t
        print(f"analysis   {len(items)} interactions, {len(rep.contacts)} contacts: load {load:.2f}s, analyse {an:.2f}s  peak RSS {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
