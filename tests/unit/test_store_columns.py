"""The interactions as columns on disk (daemon/store/columns.py) always say what the rows say.

Each test compares the loaded table with the rows of the ``interactions`` table itself, read the
plain way, after the change a user's mailbox could bring: new mail, changed or deleted messages, a
forgotten source, a VACUUM, a writer coming in between."""

import random

import numpy as np
import pytest

from daemon.models import Derived, Interaction
from daemon.store import Store, columns
from daemon.store.rows import INTERACTION_COLUMNS
from tests.helpers import store_at_schema

NOW = 1_800_000_000.0


def interaction(rng: random.Random, k: int) -> Interaction:
    who = rng.randrange(40)
    return Interaction(
        ts=NOW - rng.randrange(10**8) / 3, channel=rng.choice(["email", "meeting"]), address=f"p{who}@x.example",
        name=rng.choice([f"Person {who}", "", "Zoë 😀 d'Arc, \"Q\""]), direction=rng.choice(["out", "in", "both"]),
        weight=rng.choice([0.0, 0.1, 1.0]), initiator=rng.choice(["me", "them", "other"]),
        thread=rng.choice(["", f"<t{k % 7}@x>"]), account=rng.choice(["", "me@x.example"]),
        fanout=rng.randint(1, 9), hint=rng.choice(["", "social", "work"]), recurring=rng.random() < 0.2)


def fill(store: Store, rng: random.Random, records: int, source: str = "m", start: int = 0) -> None:
    with store.transaction():
        for r in range(start, start + records):
            store.put_inferred(source, f"r{r}", Derived("v", tuple(interaction(rng, r) for _ in range(rng.randint(0, 3)))))


def rows_of(table) -> list[tuple]:
    """Every row of a table as plain values, sorted: a table's order is not part of its meaning."""
    out = []
    for k in range(len(table)):
        out.append((float(table.ts[k]), table.addresses[table.address[k]], table.names[table.name[k]],
                    int(table.direction[k]), float(table.weight[k]), int(table.initiator[k]), int(table.thread[k]),
                    table.accounts[table.account[k]], table.sources[table.source[k]], bool(table.meeting[k]),
                    int(table.fanout[k]), int(table.hint[k]), bool(table.recurring[k])))
    return sorted(out)


def truth(store: Store, sources=None, since=None) -> list[tuple]:
    """The interactions read the plain way, row by row, as Interaction objects."""
    from daemon.analysis.table import Table

    where, args = ("WHERE ts >= ?", (since,)) if since is not None else ("", ())
    rows = store.db.execute(f"SELECT {INTERACTION_COLUMNS} FROM interactions {where} ORDER BY id", args)
    wanted = set(sources) if sources is not None else None
    return rows_of(Table.of([
        Interaction(ts=ts, channel=channel, address=address, name=name, direction=direction, weight=weight,
                    initiator=initiator, thread=thread, message_id=message_id, in_reply_to=in_reply_to,
                    account=account, fanout=fanout, hint=hint, recurring=bool(recurring), source=source, ident=ident)
        for source, ident, ts, channel, address, name, direction, weight, initiator, thread, message_id,
        in_reply_to, account, fanout, hint, recurring in rows if wanted is None or source in wanted]))


def segments(store: Store) -> list[tuple]:
    return store.db.execute("SELECT first, last, rows FROM interaction_segments ORDER BY first").fetchall()


@pytest.fixture
def small_segments(monkeypatch):
    monkeypatch.setattr(columns, "SEGMENT_ROWS", 50)


def test_a_second_load_reads_the_segments_not_the_rows_and_gives_the_same_table(tmp_path, small_segments, monkeypatch):
    store = Store(tmp_path / "s.db")
    fill(store, random.Random(1), 200)
    first = store.interaction_table()
    assert rows_of(first) == truth(store) and len(first) > 150
    assert len(segments(store)) >= 3
    monkeypatch.setattr(columns, "_table", lambda rows: pytest.fail("read rows that a segment holds"))
    assert rows_of(store.interaction_table()) == truth(store)


def test_segments_follow_every_change_of_the_rows(tmp_path, small_segments):
    rng = random.Random(2)
    store = Store(tmp_path / "s.db")
    fill(store, rng, 300)
    fill(store, rng, 100, source="other")
    store.interaction_table()
    for step in range(12):
        action = step % 4
        with store.transaction():
            if action == 0:  # messages changed: their interactions are made again
                for r in rng.sample(range(300), 20):
                    store.put_inferred("m", f"r{r}", Derived("v", (interaction(rng, r),)))
            elif action == 1:  # messages deleted
                store.delete_records("m", [f"r{r}" for r in rng.sample(range(300), 15)])
            elif action == 2:  # new mail
                for k in range(30):
                    store.put_inferred("m", f"n{step}-{k}", Derived("v", (interaction(rng, k),)))
        if step == 3:  # every record of a source deleted (later steps of this kind change nothing: a load again)
            with store.transaction():
                store.delete_records("other", [i for (i,) in store.db.execute(
                    "SELECT DISTINCT ident FROM interactions WHERE source = 'other'").fetchall()])
        assert rows_of(store.interaction_table()) == truth(store), step
        assert rows_of(store.interaction_table()) == truth(store), step  # and once more, from the segments
    ranges = segments(store)
    assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:]))  # segments never overlap
    assert sum(n for _, _, n in ranges) == store.db.execute("SELECT count(*) FROM interactions").fetchone()[0]


def test_new_mail_in_small_amounts_does_not_pile_up_small_segments(tmp_path, small_segments):
    rng = random.Random(3)
    store = Store(tmp_path / "s.db")
    for step in range(40):  # forty syncs, a few new messages each
        fill(store, rng, 3, start=3 * step)
        store.interaction_table()
    rows = store.db.execute("SELECT count(*) FROM interactions").fetchone()[0]
    assert len(segments(store)) <= rows // columns.SEGMENT_ROWS + 1
    assert rows_of(store.interaction_table()) == truth(store)


def test_sources_and_since_choose_rows_as_the_plain_query_does(tmp_path, small_segments):
    rng = random.Random(4)
    store = Store(tmp_path / "s.db")
    fill(store, rng, 150)
    fill(store, rng, 150, source="work")
    store.interaction_table()
    since = NOW - 10**7
    assert rows_of(store.interaction_table(["work"], since)) == truth(store, ["work"], since)
    assert rows_of(store.interaction_table(["nothing"])) == []
    assert rows_of(store.interaction_table(since=NOW + 1)) == []


def test_a_read_only_store_loads_without_writing(tmp_path, small_segments):
    rng = random.Random(5)
    store = Store(tmp_path / "s.db")
    fill(store, rng, 100)
    store.interaction_table()
    fill(store, rng, 100, start=100)  # rows no segment covers yet
    store.close()
    readonly = Store(tmp_path / "s.db", readonly=True)
    before = segments(readonly)
    assert rows_of(readonly.interaction_table()) == truth(readonly)
    assert segments(readonly) == before


def test_vacuum_keeps_ids_and_so_the_segments_true(tmp_path, small_segments):
    rng = random.Random(6)
    store = Store(tmp_path / "s.db")
    fill(store, rng, 200)
    with store.transaction():
        store.delete_records("m", [f"r{r}" for r in range(0, 200, 3)])
    store.interaction_table()
    store.db.execute("VACUUM")
    fill(store, rng, 20, start=500)
    assert rows_of(store.interaction_table()) == truth(store)


def test_a_writer_between_reading_and_saving_keeps_its_rows_out_of_the_cache(tmp_path, small_segments, monkeypatch):
    """The load reads one snapshot; if another connection deletes rows meanwhile, the segments
    made from the old snapshot must not be kept."""
    rng = random.Random(7)
    store = Store(tmp_path / "s.db")
    fill(store, rng, 120)
    other = Store(tmp_path / "s.db")
    read = columns._read

    def read_then_someone_writes(db, since, writable, **options):
        result = read(db, since, writable, **options)
        with other.transaction():
            other.delete_records("m", [f"r{r}" for r in range(0, 120, 2)])
        return result

    monkeypatch.setattr(columns, "_read", read_then_someone_writes)
    store.interaction_table()
    monkeypatch.setattr(columns, "_read", read)
    assert rows_of(store.interaction_table()) == truth(store)


def test_a_store_of_schema_5_migrates_its_interactions_in_order(tmp_path):
    rows = [("m", f"r{k}", NOW + k, "email", f"p{k}@x", "", "out", 1.0, "me", "", "", "", "", 1, "", 0) for k in range(5)]
    store = Store(store_at_schema(
        tmp_path / "old.db", 5, lambda db: db.executemany("INSERT INTO interactions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)))
    assert store.db.execute("SELECT id, ident FROM interactions ORDER BY id").fetchall() == [
        (k + 1, f"r{k}") for k in range(5)]
    table = store.interaction_table()
    assert np.array_equal(np.sort(table.ts), NOW + np.arange(5))


def test_a_damaged_segment_is_read_from_its_rows_and_made_again(tmp_path, small_segments, caplog):
    store = Store(tmp_path / "s.db")
    fill(store, random.Random(8), 150)
    store.interaction_table()
    first, last, _ = segments(store)[1]
    with store.transaction():
        store.db.execute("UPDATE interaction_segments SET data = substr(data, 1, 100) WHERE first = ?", (first,))
    assert rows_of(store.interaction_table()) == truth(store)
    assert "damaged segment" in caplog.text
    caplog.clear()
    assert rows_of(store.interaction_table()) == truth(store) and "damaged" not in caplog.text  # made again


def test_loads_merge_the_segments_strings_by_digest_and_fall_back_when_two_share_a_first_word(tmp_path, small_segments,
                                                                                              monkeypatch):
    from daemon.analysis.table import Table

    store = Store(tmp_path / "s.db")
    fill(store, random.Random(9), 200)
    made = store.interaction_table()  # from the rows, merged the plain way
    plain = []
    concat = Table.concat
    monkeypatch.setattr(Table, "concat", staticmethod(lambda parts: plain.append(1) or concat(parts)))
    merged = store.interaction_table()
    assert rows_of(merged) == truth(store) and not plain  # by digest
    for f in ("addresses", "names", "accounts", "sources", "address", "name", "account", "source"):  # and the same codes
        assert np.array_equal(getattr(merged, f), getattr(made, f)), f
    real = columns.digests
    monkeypatch.setattr(columns, "digests", lambda strings: real(strings) * np.array([0, 1], dtype=np.uint64))
    store.interaction_table()  # the rows read again as new ones are hashed the colliding way
    fill(store, random.Random(10), 60, start=200)
    assert rows_of(store.interaction_table()) == truth(store) and plain  # the plain merge


def test_a_segment_of_the_older_format_is_made_again_without_a_warning(tmp_path, small_segments, caplog):
    import json

    store = Store(tmp_path / "s.db")
    fill(store, random.Random(11), 150)
    table = store.interaction_table()
    first, last, rows = segments(store)[0]
    part = table.take(np.arange(rows))
    header = json.dumps({"rows": rows, "addresses": part.addresses, "names": part.names, "accounts": part.accounts,
                         "sources": part.sources}).encode()
    older = len(header).to_bytes(4, "little") + header + b"".join(
        np.ascontiguousarray(getattr(part, f), dtype=t).tobytes() for f, t in columns._LAYOUT)
    with store.transaction():
        store.db.execute("UPDATE interaction_segments SET data = ? WHERE first = ?", (older, first))
    assert rows_of(store.interaction_table()) == truth(store) and "damaged" not in caplog.text
    data = store.db.execute("SELECT data FROM interaction_segments WHERE first = ?", (first,)).fetchone()[0]
    assert columns.Segment(data).rows == rows  # made again, in the present format


def test_a_segment_with_any_header_or_length_is_read_or_refused_as_damaged(tmp_path):
    import json

    store = Store(tmp_path / "s.db")
    fill(store, random.Random(12), 40)
    blob = columns.encode(store.interaction_table())
    size = int.from_bytes(blob[:4], "little")
    header = json.loads(blob[4:4 + size])
    rng = random.Random(13)
    for _ in range(300):
        h = json.loads(json.dumps(header))
        where = rng.choice(["rows", "addresses", "names", "accounts", "sources"])
        value = rng.choice([-1, 0, 1, 10**12, "3", None, 2.5, h["rows"] + 1])
        if where == "rows":
            h["rows"] = value
        else:
            h["lists"][where] = value
        text = json.dumps(h).encode()
        cut = rng.choice([None, rng.randrange(len(blob))])
        data = (len(text).to_bytes(4, "little") + text + blob[4 + size:])[:cut]
        try:
            segment = columns.Segment(data)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):  # what a load takes for a damaged segment
            continue
        assert len(segment) == segment.ts.shape[0]  # whatever passed holds together


def test_a_segment_whose_strings_are_damaged_is_made_again_from_the_rows(tmp_path, small_segments, caplog):
    store = Store(tmp_path / "s.db")
    fill(store, random.Random(14), 150)
    store.interaction_table()
    first, _, _ = segments(store)[0]  # its strings are the ones a load decodes (each from where it first occurs)
    data = bytearray(store.db.execute("SELECT data FROM interaction_segments WHERE first = ?", (first,)).fetchone()[0])
    at = data.index(b"@x.example")  # inside a stored address
    data[at:at + 2] = b"\xff\xfe"  # no longer UTF-8, where the header (counts and lengths) still holds
    with store.transaction():
        store.db.execute("UPDATE interaction_segments SET data = ? WHERE first = ?", (bytes(data), first))
    assert rows_of(store.interaction_table()) == truth(store)
    assert "damaged segment" in caplog.text
    caplog.clear()
    assert rows_of(store.interaction_table()) == truth(store) and "damaged" not in caplog.text  # made again


@pytest.mark.parametrize("seed", range(60))
def test_digests_merge_by_first_appearance_even_when_first_words_share_their_top_bits(seed):
    """Rows of digests -> each row's code (numbered by first appearance) and where each first
    appears; None when two different digests share a first word. Half the cases have first words
    that differ only in their low bits, which the packed sort cannot tell apart: the whole words
    are sorted then."""
    rng = random.Random(seed)
    low_bits_only = seed % 2
    pool = [((2**63 + rng.randrange(4)) if low_bits_only else rng.randrange(2**64), rng.randrange(2**64))
            for _ in range(rng.randint(1, 8))]
    rows = [rng.choice(pool) for _ in range(rng.randint(1, 300))]
    got = columns._merge_digests(np.array(rows, dtype=np.uint64))
    second_of: dict[int, int] = {}
    if any(second_of.setdefault(first, second) != second for first, second in rows):
        assert got is None
        return
    code_of: dict[int, int] = {}
    firsts = []
    for k, (first, _) in enumerate(rows):
        if first not in code_of:
            code_of[first] = len(code_of)
            firsts.append(k)
    assert got is not None
    assert got[0].tolist() == [code_of[first] for first, _ in rows] and got[1].tolist() == firsts
