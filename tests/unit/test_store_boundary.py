"""The store's boundary (issue 18, item 1): one rule for transactions, a read-only store that
cannot write, rows that leave the store as named records, and a reading command that makes in
memory what the store does not hold yet, with the answer it would give once the store holds it."""

from __future__ import annotations

import sqlite3

import pytest

from bench.eval.life import ME_PERSONAL, ME_WORK, NOW, make_life, render
from daemon import pipeline
from daemon.analysis.report import to_json
from daemon.config import parse
from daemon.jobs import JobState
from daemon.models import Derived, Interaction, RawRecord
from daemon.outputs.followups import FollowUp
from daemon.store import Store, columns
from daemon.store.migrations import MIGRATIONS
from daemon.store.rows import record_rows
from tests.helpers import store_at_schema


class Boom(Exception):
    pass


def _writes(store: Store) -> None:
    """One call of each kind of write a caller makes on its own."""
    store.ensure_source("m", "maildir")
    store.record_failure("m", "source m: it failed")
    store.add_action("x@y.org", "log", 1.0, "coffee")
    store.put("key", "value")
    store.save_job(JobState("sync:m", failures=1))
    store.record_digest_send("2026-11-23T08:00:00+01:00", 2.0, "digest --send", "me@x.org", "<m@x>")
    store.mark_published("caldav:t", "u1", 1, "http://h/u1.ics")
    store.put_rows(record_rows("m", [RawRecord("i", "e", "mail", {"from": "a@b.org"})]))


def _written(store: Store) -> dict:
    return {t: store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("sources", "actions", "kv", "jobs", "digest_sends", "published", "records")}


def test_every_write_is_atomic_alone_and_joins_the_callers_transaction(tmp_path):
    store = Store(tmp_path / "s.db")
    nothing = _written(store)
    with pytest.raises(Boom):
        with store.transaction():
            _writes(store)
            raise Boom
    assert _written(store) == nothing  # each joined the caller's transaction, and went with it
    assert not store.db.in_transaction
    _writes(store)  # each alone: committed by itself, as another connection sees
    other = Store(tmp_path / "s.db")
    assert all(n >= 1 for n in _written(other).values())
    assert other.source_state("m").last_error == "source m: it failed"


def test_a_read_only_store_refuses_every_write_before_sqlite_sees_it(tmp_path):
    Store(tmp_path / "s.db").close()
    store = Store(tmp_path / "s.db", readonly=True)
    for write in (lambda: store.put("k", "v"), lambda: store.add_action("x@y.org", "ignore", 0.0),
                  lambda: store.record_failure("m", "x"), lambda: store.save_job(JobState("j")),
                  lambda: store.put_rows(record_rows("m", [])), store.make_segments, lambda: store.forget("k")):
        with pytest.raises(RuntimeError, match="read-only"):
            write()
    assert not store.db.in_transaction


def test_for_reading_a_store_that_is_not_there_reads_as_empty_and_makes_nothing(tmp_path):
    store = Store.for_reading(tmp_path / "out" / "s.db")
    assert store.readonly and store.source_states() == [] and len(store.interaction_table()) == 0
    assert not (tmp_path / "out").exists()
    with pytest.raises(RuntimeError):
        store.put("k", "v")


def test_for_reading_a_store_of_an_older_schema_upgrades_it_once(tmp_path):
    store = Store.for_reading(store_at_schema(tmp_path / "v6.db", 6))
    assert store.readonly and store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert store.digest_sends() == []  # a table of migration 7


def test_status_reads_a_store_an_older_tiekeeper_wrote_without_upgrading_it(tmp_path):
    from daemon.status import gather
    from tests.helpers import config

    store_at_schema(tmp_path / "store.db", 6)
    data = gather(config(tmp_path, {}))
    assert data["digest"] is None and data["needs_you"] == []
    assert sqlite3.connect(tmp_path / "store.db").execute("PRAGMA user_version").fetchone()[0] == 6


def test_rows_leave_the_store_as_named_records(tmp_path):
    store = Store(tmp_path / "s.db")
    store.put_rows(record_rows("m", [RawRecord("i", "e1", "mail", {"from": "a@b.org"}, "INBOX")]))
    store.put_inferred("m", "i", Derived("v", (), ("news@x.org", "role or no-reply sender")))
    store.add_action("x@y.org", "log", 5.0, "coffee")
    store.record_digest_send("2026-11-23T08:00:00+01:00", 2.0, "service", "me@x.org", "<m@x>")
    store.mark_published("caldav:t", "u1", 3, "http://h/u1.ics", "etag-1")
    planned = FollowUp(uid="u1", contact="c", cycle="20261101", sequence=3, status="CONFIRMED", start=1.0, end=2.0,
                       summary="s", description="d", fingerprint="f", updated=3.0)
    store.save_followups([tuple(vars(planned).values())])

    assert store.stored_items("m")["i"].etag == "e1" and next(store.stored_rows("m")).scope == "INBOX"
    found = next(store.records("mail"))
    assert (found.source, found.record.ident) == ("m", "i")
    assert next(store.uninferred("mail", "newer")).record.etag == "e1"
    assert store.drops_for("news@x.org")[0].rule == "role or no-reply sender"
    assert store.drops_for("news@x.org")[0].messages == 1
    assert store.actions("log")[0].note == "coffee"
    assert store.digest_sends()[0].trigger == "service"
    assert store.published("caldav:t")["u1"].etag == "etag-1"
    assert FollowUp(**store.followups()[0]._asdict()) == planned
    assert store.remove_latest_action("x@y.org", "log").ts == 5.0


# -- a reading command makes in memory what the store lacks, and says what the store would say ------------
def _life_config(tmp_path, *more_addresses: str):
    paths = render(make_life(2), tmp_path)
    return parse({
        "identity": {"addresses": [ME_PERSONAL, ME_WORK, *more_addresses], "timezone": "Europe/Berlin"},
        "store": {"path": str(tmp_path / "s.db")},
        "sources": {"mail": {"type": "maildir", "path": str(paths["mail"])},
                    "personal": {"type": "ics", "path": str(paths["personal"])},
                    "work": {"type": "ics", "path": str(paths["work"])}},
    }, tmp_path / "config.toml")


def _read_only_report(config) -> dict:
    store = Store.for_reading(config.store_path)
    try:
        return to_json(pipeline.report(config, store, NOW))
    finally:
        store.close()


def _changes(path) -> tuple:
    c = sqlite3.connect(path)
    try:
        return c.execute("SELECT count(*) FROM interactions").fetchone()[0], c.execute(
            "SELECT group_concat(inferred) FROM records").fetchone()[0], c.execute(
            "SELECT count(*) FROM interaction_segments").fetchone()[0]
    finally:
        c.close()


def test_a_reading_report_after_a_change_of_identity_is_the_report_once_stored(tmp_path):
    """A new address in [identity] makes a new inference version: until the next sync the store
    holds nothing it made, and a reading report makes it all in memory (and leaves out every row
    the store holds: counted twice, they would change the report)."""
    synced_with = _life_config(tmp_path)
    store = Store(synced_with.store_path)
    pipeline.sync_all(synced_with, store)
    pipeline.store_derived(synced_with, store)
    store.close()
    config = _life_config(tmp_path, "me@old-job.example")
    stored = _changes(config.store_path)
    reading = _read_only_report(config)
    assert _changes(config.store_path) == stored  # nothing was written
    writer = Store(config.store_path)
    assert pipeline.derive(writer, pipeline.own_addresses.me(config, writer)) > 0  # all of it was still to make
    assert to_json(pipeline.report(config, writer, NOW)) == reading
    assert _read_only_report(config) == reading


def test_a_reading_report_with_some_records_not_derived_is_the_report_once_stored(tmp_path, monkeypatch):
    monkeypatch.setattr(columns, "SEGMENT_ROWS", 40)  # many segments: some hold rows of records to make again
    config = _life_config(tmp_path)
    store = Store(config.store_path)
    pipeline.sync_all(config, store)
    pipeline.store_derived(config, store)
    stored = to_json(pipeline.report(config, store, NOW))
    assert store.db.execute("SELECT count(*) FROM interaction_segments").fetchone()[0] > 5
    mail = store.db.execute("SELECT source, ident FROM records WHERE kind = 'mail' ORDER BY ident").fetchall()
    with store.transaction():  # every seventh message as an older inference left it
        store.db.executemany("UPDATE records SET inferred = 'older' WHERE source = ? AND ident = ?", mail[::7])
    assert store.has_uninferred("mail", pipeline.inference_version(pipeline.own_addresses.me(config, store)
                                                                   .fingerprint()))
    store.close()
    assert _read_only_report(config) == stored


def test_a_reading_table_leaves_out_the_rows_of_records_another_inference_made(tmp_path, monkeypatch):
    monkeypatch.setattr(columns, "SEGMENT_ROWS", 5)
    store = Store(tmp_path / "s.db")
    with store.transaction():
        store.put_rows(record_rows("m", [RawRecord(f"r{r}", "e", "mail", {}) for r in range(40)]))
        for r in range(40):
            store.put_inferred("m", f"r{r}", Derived("v2" if r % 6 else "v1", tuple(
                Interaction(ts=float(r * 10 + k), channel="email", address=f"p{r}@x.org", name="", direction="out",
                            weight=1.0, initiator="me", thread="", source="m") for k in range(2))))
    store.make_segments()
    store.close()
    reader = Store(tmp_path / "s.db", readonly=True)
    table = reader.interaction_table(inferred_by="v2")
    assert sorted(table.ts.tolist()) == [float(r * 10 + k) for r in range(40) if r % 6 for k in range(2)]
    assert len(reader.interaction_table()) == 80
