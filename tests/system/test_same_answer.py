"""Same data, same answer (issue 16, item 6): one eval life read through the local Google API server
(Gmail v1 and Calendar v3 over real HTTP, through the real google-api-python-client) and read from
its Maildir and ICS files gives the same report: the same contacts, kinds, counts and flags.

Route (a) is the eval's own: a Maildir source and one ICS source per calendar (``run_life``).
Route (b) is one Google account: a gmail source holding the Maildir's messages labelled as Gmail
would label them (the Sent folder SENT, the root INBOX, the list folder a user label that skips the
inbox) and a google_calendar source reading two calendars, Personal and Work, whose events are the
two ICS files as Google would store them on import (``events_from_ics``). Same identity, same
``now``.

Before the reports, the interactions themselves are compared row by row, with the account each
went through (which of my addresses; the kind of a tie leans on it): a difference there is named
at its source instead of as a changed judgement. The whole ``to_json`` report is then required to
be equal. Nothing in it differs legitimately: contact ids come from addresses, names from the
headers, and the source names (which do differ: "mail", "personal", "work" against "gmail",
"calendar") appear nowhere in the report.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.eval.life import ME_PERSONAL, ME_WORK, NOW, Life, make_life, render
from bench.eval.score import run_life
from daemon import pipeline
from daemon.analysis.report import to_json
from daemon.analysis.table import DIRECTIONS, HINTS, INITIATORS
from daemon.config import parse
from daemon.store import Store
from tests.google_server import events_from_ics

CALENDARS = {"personal": "Personal", "work": "Work"}


def _google_route(life: Life, tmp: Path, google) -> tuple[dict, Counter]:
    paths = render(life, tmp / "files")
    google.state.load_maildir(paths["mail"], (ME_PERSONAL,) if life.one_account else (ME_PERSONAL, ME_WORK))
    for cal, title in CALENDARS.items():
        cid = f"{cal}-{life.seed}@group.calendar.google.com"
        google.state.calendars[cid] = {"summary": title, "events": {}}
        for event in events_from_ics(paths[cal].read_bytes()):
            google.state.put_event(cid, event)
    account = {"account": ME_PERSONAL, "token_file": str(google.token_path), "api_endpoint": google.url}
    config = parse({
        "identity": {"addresses": [ME_PERSONAL] if life.one_account else [ME_PERSONAL, ME_WORK],
                     "timezone": "Europe/Berlin"},
        "store": {"path": str(tmp / "google.db")},
        "sources": {"gmail": {"type": "gmail", **account, "quota_units_per_minute": 6_000_000},
                    "calendar": {"type": "google_calendar", **account, "calendars": list(CALENDARS.values())}},
    }, tmp / "google.toml")
    return _run(config)


def _local_route(life: Life, tmp: Path) -> tuple[dict, Counter]:
    report = to_json(run_life(life, tmp))  # renders the life into tmp and syncs it
    config = parse({
        "identity": {"addresses": [ME_PERSONAL] if life.one_account else [ME_PERSONAL, ME_WORK],
                     "timezone": "Europe/Berlin"},
        "store": {"path": str(tmp / "eval.db")},
        "sources": {"mail": {"type": "maildir", "path": str(tmp / "mail")},
                    **{cal: {"type": "ics", "path": str(tmp / f"{cal}.ics")} for cal in CALENDARS}},
    }, tmp / "config.toml")  # run_life's config again, to read its store's interactions
    store = Store(config.store_path)
    try:
        return report, _rows(pipeline.interactions(config, store, NOW))
    finally:
        store.close()


def _run(config) -> tuple[dict, Counter]:
    store = Store(config.store_path)
    try:
        _, failed = pipeline.sync_all(config, store)
        assert not failed, [e.one_line() for e in failed]
        return to_json(pipeline.report(config, store, NOW)), _rows(pipeline.interactions(config, store, NOW))
    finally:
        store.close()


def _rows(table) -> Counter:
    """Every interaction as a comparable row (the source's name left out: the routes name theirs
    differently), with the account it went through."""
    return Counter(
        (float(table.ts[k]), table.addresses[table.address[k]], table.names[table.name[k]],
         DIRECTIONS[table.direction[k]], round(float(table.weight[k]), 6), INITIATORS[table.initiator[k]],
         int(table.thread[k]), table.accounts[table.account[k]], bool(table.meeting[k]), int(table.fanout[k]),
         HINTS[table.hint[k]], bool(table.recurring[k]))
        for k in range(len(table)))


def _by_contact(report: dict) -> dict[tuple[str, ...], dict]:
    return {tuple(sorted(c["emails"])): {
        "relationship": c["relationship"],
        "counts": (c["interactions"], c["conversations"], c["two_way_conversations"], c["days_with_contact"]),
        "flags": sorted(f.get("pattern") or f["kind"] for f in c["flags"]),
    } for c in report["contacts"]}


@pytest.mark.parametrize("seed", [1, 2])
def test_one_life_through_google_or_maildir_and_ics_gives_the_same_report(seed, google, tmp_path):
    life = make_life(seed)
    (tmp_path / "local").mkdir()
    (tmp_path / "google").mkdir()
    local, local_rows = _local_route(life, tmp_path / "local")
    remote, remote_rows = _google_route(life, tmp_path / "google", google)

    # the same interactions, each through the same account of mine
    assert sum(local_rows.values()) > 1000
    only_local, only_google = local_rows - remote_rows, remote_rows - local_rows
    assert not only_local and not only_google, (sorted(only_local)[:5], sorted(only_google)[:5])

    # the same contacts (address sets), kinds, counts and flags, then the whole report
    a, b = _by_contact(local), _by_contact(remote)
    assert len(a) >= 30
    assert a.keys() == b.keys()
    assert {k: v for k, v in a.items() if b[k] != v} == {}
    assert remote == local
