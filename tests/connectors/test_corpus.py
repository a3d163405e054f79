"""Real-world data nobody on this project wrote (../shared/corpus): every file goes through the
connectors and inference without a crash; a bad file is skipped with a warning naming it."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from connectors.ics import IcsConnector
from connectors.maildir import MaildirConnector
from connectors.mbox import MboxConnector
from daemon.identity import Me
from daemon.inference.calendar import infer_event
from daemon.inference.email import infer_mail
from tests.helpers import SHARED

CORPUS = SHARED / "corpus"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared corpus is not at {CORPUS}")
me = Me(["me@example.org"])


def _as_maildir(files: list[Path], tmp: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    for n, f in enumerate(files):
        shutil.copy(f, tmp / "cur" / f"{n}.{f.name}:2,S")
    return tmp


def test_every_single_message_file_goes_through_maildir_and_inference(tmp_path):
    files = [f for d in ("spamassassin", "enron") for f in sorted((CORPUS / "mail" / d).rglob("*")) if f.is_file()]
    assert len(files) > 100
    conn = MaildirConnector("corpus", _as_maildir(files, tmp_path))
    listing = conn.list()
    records = list(conn.get_multi(list(listing.items)))
    assert len(records) == len(files)
    good = [r for r in records if r.kind == "mail"]
    assert len(good) >= 0.9 * len(files)
    for r in good:
        infer_mail(r, me, "corpus")


def test_every_mbox_file_goes_through(tmp_path):
    conn = MboxConnector("corpus", CORPUS / "mail" / "mbox")
    listing = conn.list()
    envelopes = sum(f.read_bytes().count(b"\nFrom ") + f.read_bytes().startswith(b"From ")
                    for f in (CORPUS / "mail" / "mbox").glob("*.mbox"))
    assert len(listing.items) == envelopes  # every message found, none invented
    records = list(conn.get_multi(list(listing.items)))
    assert len(records) == len(listing.items)
    for r in records:
        if r.kind == "mail":
            infer_mail(r, me, "corpus")


def test_every_ics_file_goes_through_and_bad_ones_are_named(caplog):
    caplog.set_level(logging.WARNING)
    conn = IcsConnector("corpus", path=CORPUS / "ics" / "icalendar")
    listing = conn.list()
    assert len(listing.items) > 100
    assert listing.unreadable  # the suite ships deliberately broken files
    for name in listing.unreadable:
        assert any(name in r.getMessage() for r in caplog.records), name
    start, end = datetime(1990, 1, 1, tzinfo=timezone.utc), datetime(2030, 1, 1, tzinfo=timezone.utc)
    for r in conn.get_multi(list(listing.items)):
        infer_event(r, me, timezone.utc, start, end, "corpus")


def test_one_broken_file_does_not_stop_a_folder_source(tmp_path):
    shutil.copy(CORPUS / "ics" / "icalendar" / "calendars__issue_104_broken_calendar.ics", tmp_path / "broken.ics")
    shutil.copy(CORPUS / "ics" / "icalendar" / "calendars__america_new_york.ics", tmp_path / "good.ics")
    listing = IcsConnector("c", path=tmp_path).list()
    assert listing.unreadable == frozenset({"broken.ics"})
    assert all(i.scope == "good.ics" for i in listing.items.values()) and listing.items
