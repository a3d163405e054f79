#!/usr/bin/env python3
"""Score tiekeeper on synthetic lives: precision/recall/F1 of lapsed and one-sided flags,
relationship accuracy, multi-address merge rate and noise leak.

    python -m bench.eval.score [SEEDS] [--one-account] [--days-earlier=N]     (default 5 seeds: 1..5)

--days-earlier=N: judge each life as of N days before its end (labels from the log up to then).
--one-account: the user has one address for everything, so nothing can lean on which account a
conversation went through or on sharing a company domain with the user.

Each life goes through the real pipeline: Maildir and ICS connectors, the store, inference,
analysis. Nothing here looks inside the product; it reads only the report. The labels come from
the life's ground-truth log (``bench.eval.labels``), and addresses are matched as written.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bench.eval.labels import labels
from bench.eval.life import ME_PERSONAL, ME_WORK, NOW, Life, make_life, render
from daemon import pipeline
from daemon.analysis.report import Report
from daemon.config import parse
from daemon.store import Store

PATTERNS = ("you_initiate", "they_initiate", "unanswered_by_them", "unanswered_by_you")


@dataclass
class Score:
    seed: int
    lapsed: tuple[int, int, int]  # tp, fp, fn
    one_sided: tuple[int, int, int]
    relationship: tuple[int, int]  # right, judged
    merged: tuple[int, int]  # merged, multi-address people
    noise_leak: tuple[int, int]  # leaked, noise identities
    contact_recall: tuple[int, int]

    @staticmethod
    def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def run_life(life: Life, tmp: Path, as_of: datetime = NOW) -> Report:
    paths = render(life, tmp)
    config = parse({
        "identity": {"addresses": [ME_PERSONAL] if life.one_account else [ME_PERSONAL, ME_WORK], "timezone": "Europe/Berlin"},
        "store": {"path": str(tmp / "eval.db")},
        "sources": {"mail": {"type": "maildir", "path": str(paths["mail"])},
                    "personal": {"type": "ics", "path": str(paths["personal"])},
                    "work": {"type": "ics", "path": str(paths["work"])}},
    }, tmp / "config.toml")
    store = Store(config.store_path)
    pipeline.sync_all(config, store)
    return pipeline.report(config, store, as_of)


def score(life: Life, report: Report, as_of: datetime = NOW) -> Score:
    owner: dict[str, str] = {}
    for c in report.contacts:
        for e in c.emails:
            owner[e.lower()] = c.id
    flags = {c.id: {f.pattern or f.check for f in c.flags} for c in report.contacts}
    kinds = {c.id: c.relationship for c in report.contacts}
    lapsed = [0, 0, 0]
    one_sided = [0, 0, 0]
    rel = [0, 0]
    merged = [0, 0]
    recall = [0, 0]
    claimed: dict[str, str] = {}
    for p in life.people:
        ids = {owner.get(a.lower()) for a in p.addresses} - {None}
        cid = next(iter(ids)) if len(ids) == 1 else None
        got = flags.get(cid, set()) if cid else set().union(*(flags.get(i, set()) for i in ids)) if ids else set()
        truth = labels(p, as_of.timestamp())
        for label, counter in (("lapsed", lapsed),) + tuple((pat, one_sided) for pat in PATTERNS):
            want, have = label in truth, label in got
            counter[0] += want and have
            counter[1] += have and not want
            counter[2] += want and not have
        recall[1] += 1
        recall[0] += bool(ids)
        if ids:
            rel[1] += 1
            rel[0] += cid is not None and kinds[cid] == p.relationship
        if len(p.addresses) > 1:
            merged[1] += 1
            merged[0] += cid is not None and claimed.get(cid, p.key) == p.key
        if cid:
            claimed.setdefault(cid, p.key)
    leaked = sum(1 for n in life.noise if n.address.lower() in owner)
    return Score(life.seed, tuple(lapsed), tuple(one_sided), tuple(rel), tuple(merged), (leaked, len(life.noise)),
                 tuple(recall))


def evaluate(seed: int, one_account: bool = False, days_earlier: int = 0) -> Score:
    """One life, judged as of NOW or ``days_earlier`` days before it (the life's later mail and
    meetings are in the files, but in the future of that moment)."""
    life = make_life(seed, one_account=one_account)
    as_of = NOW - timedelta(days=days_earlier)
    with tempfile.TemporaryDirectory() as tmp:
        return score(life, run_life(life, Path(tmp), as_of), as_of)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    seeds = range(1, int(args[0]) + 1) if args else range(1, 6)
    one_account = "--one-account" in sys.argv
    earlier = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--days-earlier=")), 0)
    print("lives with " + ("ONE account for everything" if one_account else "a personal and a work account"))
    print(f"{'seed':>4} {'lapsed P/R/F1':>18} {'one-sided P/R/F1':>18} {'relationship':>12} {'merge':>7} {'noise leak':>10} {'contacts found':>14}")
    totals = None
    for seed in seeds:
        s = evaluate(seed, one_account, earlier)
        lp, lr, lf = Score.f1(*s.lapsed)
        op, orr, of = Score.f1(*s.one_sided)
        print(f"{seed:>4} {lp:5.2f} {lr:5.2f} {lf:5.2f} {op:5.2f} {orr:5.2f} {of:5.2f} {s.relationship[0] / s.relationship[1]:12.2f} "
              f"{s.merged[0] / max(s.merged[1], 1):7.2f} {s.noise_leak[0]:>4}/{s.noise_leak[1]:<5} {s.contact_recall[0]:>7}/{s.contact_recall[1]}")
        parts = (s.lapsed, s.one_sided, s.relationship, s.merged, s.noise_leak, s.contact_recall)
        totals = parts if totals is None else tuple(tuple(a + b for a, b in zip(x, y)) for x, y in zip(totals, parts))
    lapsed, one_sided, rel, merged, leak, recall = totals
    print(f" all {' '.join(f'{v:5.2f}' for v in Score.f1(*lapsed))} {' '.join(f'{v:5.2f}' for v in Score.f1(*one_sided))} "
          f"{rel[0] / rel[1]:12.2f} {merged[0] / max(merged[1], 1):7.2f} {leak[0]:>4}/{leak[1]:<5} {recall[0]:>7}/{recall[1]}")


if __name__ == "__main__":
    main()
