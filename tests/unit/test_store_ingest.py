import os
import sqlite3
from pathlib import Path

import pytest

from connectors.maildir import MaildirConnector
from daemon.errors import EmptySourceGuard, StoreError
from daemon.ingest import sync_source
from daemon.store import Store
from daemon.store.migrations import MIGRATIONS
from tests.helpers import ME, NOW, make_maildir, message, store_at_schema


def _maildir(tmp_path, n=5):
    msgs = [message(f"p{i}@x.example", ME, NOW) for i in range(n)]
    return make_maildir(tmp_path / "mail", {"INBOX": msgs})


def test_store_is_private_and_at_the_latest_schema(tmp_path):
    old = os.umask(0o022)
    try:
        store = Store(tmp_path / "deep" / "store.db")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "deep").st_mode & 0o777 == 0o700
    assert os.stat(tmp_path / "deep" / "store.db").st_mode & 0o777 == 0o600
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_newer_schema_is_refused(tmp_path):
    Store(tmp_path / "s.db").close()
    db = sqlite3.connect(tmp_path / "s.db")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer tiekeeper"):
        Store(tmp_path / "s.db")


def test_second_sync_of_an_unchanged_source_parses_nothing_and_writes_no_record(tmp_path, monkeypatch):
    root = _maildir(tmp_path)
    store = Store(tmp_path / "s.db")
    os.utime(root / "cur", (1, 1_000_000_000))  # settle the folder's mtime so the cursor can be trusted
    os.utime(root / "new", (1, 1_000_000_000))
    first = sync_source(store, MaildirConnector("m", root), "maildir")
    assert first.fetched == 5
    changes = store.db.total_changes
    import connectors.maildir as md

    monkeypatch.setattr(md, "read_header_fd", lambda *a: pytest.fail("parsed a message of an unchanged source"))
    second = sync_source(store, MaildirConnector("m", root), "maildir")
    assert second.fast_path and second.fetched == 0
    writes = store.db.total_changes - changes
    assert writes <= 1  # only the source's bookkeeping row, no record


def test_changed_new_and_deleted_messages_are_seen_by_diff(tmp_path):
    root = _maildir(tmp_path)
    store = Store(tmp_path / "s.db")
    sync_source(store, MaildirConnector("m", root), "maildir")
    files = sorted((root / "cur").iterdir())
    files[0].unlink()
    (root / "cur" / "1800000000.new.test:2,").write_bytes(message("new@x.example", ME, NOW))
    result = sync_source(store, MaildirConnector("m", root), "maildir")
    assert (result.fetched, result.deleted) == (1, 1)
    assert store.source_state("m").records == 5


def test_a_source_that_suddenly_lists_nothing_deletes_nothing(tmp_path):
    root = _maildir(tmp_path, 60)
    store = Store(tmp_path / "s.db")
    sync_source(store, MaildirConnector("m", root), "maildir")
    for f in (root / "cur").iterdir():
        f.unlink()
    with pytest.raises(EmptySourceGuard, match="lists no records now but 60 are stored"):
        sync_source(store, MaildirConnector("m", root), "maildir")
    assert store.source_state("m").records == 60
    assert store.db.execute("SELECT count(*) FROM records").fetchone()[0] == 60
    sync_source(store, MaildirConnector("m", root), "maildir", force=True)
    assert store.db.execute("SELECT count(*) FROM records").fetchone()[0] == 0


def test_a_crash_at_any_commit_point_leaves_a_consistent_store_that_resumes(tmp_path, monkeypatch):
    import daemon.ingest as ingest

    monkeypatch.setattr(ingest, "BATCH", 3)
    root = _maildir(tmp_path, 10)
    clean = Store(tmp_path / "clean.db")
    sync_source(clean, MaildirConnector("m", root), "maildir")
    expected = clean.stored_items("m")
    for point in ("batch 0", "batch 1", "batch 3"):
        store = Store(tmp_path / f"{point}.db")

        def crash(p, point=point):
            if p == point:
                raise KeyboardInterrupt("simulated crash")

        with pytest.raises(KeyboardInterrupt):
            sync_source(store, MaildirConnector("m", root), "maildir", commit_hook=crash)
        assert store.source_state("m").cursor is None  # no cursor claims more than is stored
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        sync_source(store, MaildirConnector("m", root), "maildir")
        assert store.stored_items("m") == expected


def test_no_message_body_is_ever_stored(tmp_path):
    root = _maildir(tmp_path)
    store = Store(tmp_path / "s.db")
    sync_source(store, MaildirConnector("m", root), "maildir")
    store.close()
    for f in tmp_path.glob("s.db*"):
        assert b"SECRET BODY TEXT" not in f.read_bytes()


def test_a_store_at_schema_1_migrates_and_keeps_its_records(tmp_path):
    store = Store(store_at_schema(tmp_path / "old.db", 1, lambda db: db.execute(
        "INSERT INTO records(source, ident, etag, scope, kind, data) VALUES ('m', 'i', 'e', '', 'mail', '{}')")))
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 2
    assert store.stored_items("m") == {"i": ("e", "")}
    store.save_contacts(1.0, [("c1", "Ann", ["a@x.example"], "personal", 7.0, None, [])])
    assert store.db.execute("SELECT name, emails FROM contacts").fetchall() == [("Ann", '["a@x.example"]')]


def test_a_message_rewritten_in_place_with_the_same_size_within_a_second_is_seen(tmp_path):
    root = _maildir(tmp_path, 1)
    (path,) = list((root / "cur").iterdir())
    conn = MaildirConnector("m", root)
    before = conn.list().items
    st = path.stat()
    data = path.read_bytes().replace(b"p0@x.example", b"q0@x.example")  # same length
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))  # the same second, 1 microsecond later
    after = MaildirConnector("m", root).list().items
    assert before.keys() == after.keys()
    assert [i.etag for i in before.values()] != [i.etag for i in after.values()]


def test_interactions_can_be_loaded_from_a_moment_on(tmp_path):
    from daemon.models import Derived, Interaction

    store = Store(tmp_path / "s.db")
    old, new = (Interaction(ts=ts, channel="email", address="a@x.example", name="A", direction="in", weight=1.0,
                            initiator="them", thread="<t@x>", message_id=f"<{ts}@x>", source="m", ident=f"r{ts}")
                for ts in (1000.0, 2000.0))
    with store.transaction():
        store.put_inferred("m", "r1000.0", Derived("v", (old,)))
        store.put_inferred("m", "r2000.0", Derived("v", (new,)))
    table = store.interaction_table()
    assert sorted(table.ts.tolist()) == [1000.0, 2000.0]
    recent = store.interaction_table(since=1500.0)
    assert recent.ts.tolist() == [2000.0] and recent.addresses[recent.address[0]] == "a@x.example"
    assert len(store.interaction_table(["other"])) == 0


def test_a_maildir_sync_lists_only_the_folders_that_moved_and_ends_as_a_full_one(tmp_path, monkeypatch):
    import connectors.maildir as maildir_mod

    root = make_maildir(tmp_path / "mail", {
        "INBOX": [message(f"in{i}@x.example", ME, NOW, msgid=f"<in{i}@t>") for i in range(3)],
        "Archive": [message(f"ar{i}@x.example", ME, NOW, msgid=f"<ar{i}@t>") for i in range(3)],
        "Sent": [message(ME, f"se{i}@x.example", NOW, msgid=f"<se{i}@t>") for i in range(2)]})

    def settle(folder: Path, when: int) -> None:  # as if the change happened a while ago
        for sub in ("cur", "new"):
            os.utime(folder / sub, (when, when))

    for folder in (root, root / ".Archive", root / ".Sent"):
        settle(folder, 1_600_000_000)
    store = Store(tmp_path / "s.db")
    assert sync_source(store, MaildirConnector("m", root), "maildir").fetched == 8
    listed: list = []
    original = maildir_mod.MaildirConnector.list
    monkeypatch.setattr(maildir_mod.MaildirConnector, "list", lambda self: listed.append(original(self)) or listed[-1])

    (root / "cur" / "1800000000.M9P1.test:2,S").write_bytes(message("new@x.example", ME, NOW, msgid="<new@t>"))
    settle(root, 1_600_000_100)  # only INBOX moved
    result = sync_source(store, MaildirConnector("m", root), "maildir")
    assert (result.fetched, result.deleted) == (1, 0)
    assert listed[-1].unchanged == {"Archive", "Sent"} and {i.scope for i in listed[-1].items.values()} == {"INBOX"}

    next((root / ".Archive" / "cur").iterdir()).unlink()  # a message gone from Archive ...
    settle(root / ".Archive", 1_600_000_200)
    for sub in ("cur", "new", "tmp"):  # ... and the Sent folder removed whole
        for f in (root / ".Sent" / sub).iterdir():
            f.unlink()
        (root / ".Sent" / sub).rmdir()
    (root / ".Sent").rmdir()
    result = sync_source(store, MaildirConnector("m", root), "maildir")
    assert (result.fetched, result.deleted) == (0, 3) and listed[-1].unchanged == {"INBOX"}
    monkeypatch.undo()
    fresh = Store(tmp_path / "fresh.db")
    sync_source(fresh, MaildirConnector("m", root), "maildir")
    assert store.stored_items("m") == fresh.stored_items("m")


def test_a_sync_stores_each_mail_records_interactions_with_it_as_derive_would(tmp_path, monkeypatch):
    """Inference runs on what a sync fetches, and its rows are written in the record's own
    transaction: at no commit is a record stored without them, no record waits for `derive`,
    and what is stored equals what `derive` makes of the stored record."""
    from datetime import timedelta

    import daemon.ingest as ingest
    from daemon.identity import Me
    from daemon.inference import inference_version
    from daemon.models import MAIL
    from daemon.pipeline import derive, mail_deriver

    monkeypatch.setattr(ingest, "BATCH", 3)
    msgs = [message(f"p{i}@x.example", ME, NOW - timedelta(hours=i), subject=f"s{i}") for i in range(6)]
    msgs += [message(ME, f"q{i}@x.example", NOW - timedelta(hours=2 * i)) for i in range(4)]
    root = make_maildir(tmp_path / "mail", {"INBOX": msgs})
    store = Store(tmp_path / "s.db")
    me = Me([ME])
    version = inference_version(me.fingerprint())
    calls, stored_at_commit = [], []

    def deriver(source, record):
        calls.append(record.ident)
        return mail_deriver(me)(source, record)

    def at_commit(point):  # inside the transaction, just before it commits
        stored_at_commit.append(store.db.execute("SELECT count(*) FROM records").fetchone()[0])
        assert list(store.uninferred(MAIL, version)) == []

    sync_source(store, MaildirConnector("m", root), "maildir", derive=deriver, commit_hook=at_commit)
    assert len(calls) == 10 and stored_at_commit == [3, 6, 9, 10]
    assert derive(store, me) == 0  # nothing left over
    rows = "SELECT source, ident, ts, address, direction, weight, thread FROM interactions ORDER BY 1, 2, 3, 4"
    inline = store.db.execute(rows).fetchall()
    assert len(inline) >= 10
    store.db.execute("UPDATE records SET inferred = NULL WHERE kind = ?", (MAIL,))
    assert derive(store, me) == 10
    assert store.db.execute(rows).fetchall() == inline


def test_new_records_are_fetched_and_stored_in_key_order_batch_by_batch(tmp_path, monkeypatch):
    """Each batch then writes to a narrow range of the store's B-trees (see bench/scale.py for
    what listing order costs). A folder lists in its directory's hash order."""
    import daemon.ingest as ingest

    monkeypatch.setattr(ingest, "BATCH", 4)
    root = _maildir(tmp_path, 15)
    asked = []

    class Spy(MaildirConnector):
        def get_multi(self, idents):
            asked.append(list(idents))
            return super().get_multi(idents)

    sync_source(Store(tmp_path / "t.db"), Spy("m", root), "maildir")
    flat = [i for batch in asked for i in batch]
    assert len(flat) == 15 and flat == sorted(flat) and max(map(len, asked)) == 4


def test_a_store_at_schema_6_keeps_its_published_followups_and_digest_period_through_migrations_7_and_8(tmp_path):
    def fill(db):
        db.execute("INSERT INTO published VALUES ('caldav:dav:http://h/c/', 'u1', 3, 'http://h/c/x.ics')")
        db.execute("INSERT INTO jobs(name, period) VALUES ('digest', '2026-11-23T08:00:00+01:00')")

    store = Store(store_at_schema(tmp_path / "v6.db", 6, fill))
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 8
    # taken as tiekeeper's own; its etag is learnt at the next push
    assert store.published("caldav:dav:http://h/c/") == {"u1": (3, "http://h/c/x.ics", "", "ours")}
    assert store.digest_sends() == [] and store.job_state("digest").period == "2026-11-23T08:00:00+01:00"

    from daemon.delivery import last_period

    assert last_period(store).isoformat() == "2026-11-23T08:00:00+01:00"  # the week sent before still counts


def test_emptying_one_folder_is_no_empty_source_when_the_others_stand(tmp_path):
    """Found by tests/unit/test_sync_machine.py: a listing of only the folders that moved counted
    just their records for the empty-source guard, so the last message leaving a folder (or most of
    a folder's leaving) refused the sync although the source as a whole had hardly changed."""
    root = make_maildir(tmp_path / "mail", {
        "INBOX": [message(f"in{i}@x.example", ME, NOW, msgid=f"<in{i}@t>") for i in range(3)],
        "Sent": [message(ME, "se@x.example", NOW, msgid="<se@t>")]})
    for folder, when in ((root, 1_600_000_000), (root / ".Sent", 1_600_000_000)):
        for sub in ("cur", "new"):
            os.utime(folder / sub, (when, when))
    store = Store(tmp_path / "s.db")
    assert sync_source(store, MaildirConnector("m", root), "maildir").fetched == 4
    for f in (root / ".Sent" / "cur").iterdir():
        f.unlink()
    os.utime(root / ".Sent" / "cur", (1_600_000_100, 1_600_000_100))  # only Sent moved
    result = sync_source(store, MaildirConnector("m", root), "maildir")
    assert (result.fetched, result.deleted) == (0, 1)
    assert store.source_state("m").records == 3
