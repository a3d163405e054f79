"""The analysis on columns agrees with its plain versions, written for reading beside it in the
package (``conversations_reference``, ``history_reference``, ``people_reference``, ...).

The columnar code does for everyone at once what the plain versions do one person, one row at a
time. These properties hold it to their answers on random people with ties, threads, weak Cc,
meetings and quiet gaps right around the 72 hours that split a conversation."""

import math
import random
from collections import Counter
from datetime import datetime, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.analysis.contacts import (
    by_person_then_time,
    by_person_then_time_reference,
    group_people,
    people_reference,
)
from daemon.analysis.conversations import conversations_reference, split
from daemon.analysis.history import History, histories, history_reference
from daemon.analysis.localtime import clock
from daemon.analysis.table import Table
from daemon.models import Interaction

DAY = 86400.0
NOW = 1_800_000_000.0


# Times on a coarse grid, so equal times (ties) and gaps of exactly 72 hours both happen.
moments = st.integers(0, 200).map(lambda k: NOW - 500 * DAY + k * 18 * 3600.0)
interaction = st.builds(
    lambda ts, who, direction, weight, initiator, thread, fanout: Interaction(
        ts=ts, channel="meeting" if direction == "both" else "email", address=f"{who}@example.org", name="",
        direction=direction, weight=weight, initiator=initiator, thread=thread, fanout=fanout),
    moments, st.sampled_from("abc"), st.sampled_from(["out", "in", "both"]), st.sampled_from([0.0, 0.1, 0.25, 1.0]),
    st.sampled_from(["me", "them", "other"]), st.sampled_from(["", "t1", "t2", "t3"]), st.integers(1, 8))


@settings(max_examples=300, deadline=None)
@given(st.lists(interaction, max_size=100))
def test_conversations_and_histories_on_columns_agree_with_the_per_person_loop(items):
    _agree_with_the_loop(items)


@pytest.mark.parametrize("seed", range(40))
def test_long_histories_on_columns_agree_with_the_per_person_loop(seed):
    """Hypothesis keeps its lists short; these have dozens of conversations per person."""
    rng = random.Random(seed)
    items = [Interaction(ts=NOW - 500 * DAY + rng.randrange(300) * 18 * 3600.0, channel="email",
                         address=f"{rng.choice('ab')}@example.org", name="", direction=rng.choice(["out", "in", "both"]),
                         weight=rng.choice([0.0, 0.1, 0.25, 1.0]), initiator=rng.choice(["me", "them", "other"]),
                         thread=rng.choice(["", "t1", "t2", "t3"]), fanout=rng.randint(1, 8)) for _ in range(300)]
    _agree_with_the_loop(items)


@pytest.mark.parametrize("seed", range(20))
def test_runs_of_late_replies_that_break_again_and_again_agree_with_the_reference(seed):
    """One long thread, replies a few days apart, so that most late replies are in doubt and a run
    of them breaks many times: the part decided one by one, after each run's first break."""
    rng = random.Random(seed)
    t, items = NOW - 500 * DAY, []
    for _ in range(150):
        t += rng.choice([1, 3.5, 4, 6, 9]) * DAY
        items.append(Interaction(ts=t, channel="email", address=f"{rng.choice('ab')}@example.org", name="",
                                 direction=rng.choice(["out", "in"]), weight=1.0, initiator="me",
                                 thread=rng.choice(["t1", "t1", "t1", "t2", ""]), fanout=1))
    _agree_with_the_loop(items)


def _agree_with_the_loop(items: list[Interaction]) -> None:
    """Both reply windows at once, as the analysis asks for them; late replies decided as the
    analysis chooses, in rounds only, and walked only."""
    from daemon.analysis import conversations

    chosen = conversations.ROUND_MIN_RUNS, conversations.ROUND_MIN_SHARE
    try:
        for min_runs, min_share in (chosen, (0, 10**9), (10**9, 0)):
            conversations.ROUND_MIN_RUNS, conversations.ROUND_MIN_SHARE = min_runs, min_share
            _agree_with_the_loop_once(items)
    finally:
        conversations.ROUND_MIN_RUNS, conversations.ROUND_MIN_SHARE = chosen


def _agree_with_the_loop_once(items: list[Interaction]) -> None:
    table = Table.of(items)
    people = group_people(table)
    windows = (14.0, 7.0)
    for window, convs in zip(windows, split(table, people.sorted_rows, people.person_of_sorted_row, windows)):
        found = histories(convs, len(people.persons), NOW)
        for k, person in enumerate(people.persons):
            mine = sorted((i for i in items if i.address in person.addresses),
                          key=lambda i: (i.ts, i.address, i.direction))
            expected = conversations_reference(mine, window)
            assert convs.take(convs.person == k).objects() == expected, window
            _same_history(found[k], history_reference(expected, NOW))


@settings(max_examples=200, deadline=None)
@given(st.lists(interaction, max_size=100), st.sampled_from(["personal", "professional", "family", "unknown"]),
       st.one_of(st.integers(-460, -380), st.sampled_from([0, 400, 900])))
def test_lapse_and_one_sided_candidates_on_columns_agree_with_the_plain_checks(items, relationship, days_later):
    _plain_checks_agree(items, relationship, NOW + days_later * DAY)


@pytest.mark.parametrize("seed", range(30))
def test_lapse_and_one_sided_candidates_agree_on_one_sided_and_young_histories(seed):
    """People who mostly write, or are mostly written to (unanswered runs of every length), and
    histories of every age, judged at every distance from their end."""
    rng = random.Random(seed)
    items = []
    for who, out_share in (("a", 0.85), ("b", 0.15), ("c", 0.5)):
        t = NOW - rng.randrange(20, 400) * DAY
        for _ in range(rng.randrange(3, 40)):
            t += rng.choice([0.5, 2, 4, 10, 30]) * DAY
            items.append(Interaction(ts=t, channel="email", address=f"{who}@example.org", name="",
                                     direction="out" if rng.random() < out_share else "in",
                                     weight=rng.choice([0.1, 1.0, 1.0]), initiator="other",
                                     thread=rng.choice(["", "t1", "t2"]), fanout=1))
    items.sort(key=lambda i: i.ts)
    relationship = rng.choice(["personal", "family"])
    _plain_checks_agree(items, relationship, max(i.ts for i in items) + rng.randrange(0, 200) * DAY)
    # and when a tie is just about old enough to judge
    people = group_people(Table.of(items))
    (convs,) = split(Table.of(items), people.sorted_rows, people.person_of_sorted_row, (7.0,))
    for first in histories(convs, len(people.persons), NOW).first_two_way.tolist():
        if first == first:  # not NaN
            for days in (59.5, 60.0, 60.5):
                _plain_checks_agree(items, relationship, first + days * DAY)


def _plain_checks_agree(items: list[Interaction], relationship: str, now: float) -> None:
    """The lapse check of everyone at once is each person's plain check; no one left out of the
    one-sided candidates shows a pattern."""
    from daemon.analysis import lapse, reciprocity, rhythm

    table = Table.of(items)
    people = group_people(table)
    (convs,) = split(table, people.sorted_rows, people.person_of_sorted_row, (7.0,))
    found = histories(convs, len(people.persons), now)
    relationships = [relationship] * len(found)
    median, sigma = rhythm.rhythms(found.gaps, found.gap_mean, found.gap_var, relationships)
    tiers = [rhythm.tier_for(relationship, d) for d in median.tolist()]
    checked = lapse.assess(found, median, sigma, tiers, now, relationships)
    candidates = reciprocity.candidates(found)
    for k in range(len(found)):
        state, silence, limit = lapse.assess_reference(found[k], median[k], sigma[k], tiers[k], now, relationship)
        assert (int(checked.state[k]), float(checked.limit[k])) == (state, limit)
        assert math.isclose(checked.silence[k], silence) or (math.isnan(silence) and math.isnan(checked.silence[k]))
        if not candidates[k]:
            assert not reciprocity.patterns(found[k], 0.5, real_contact=True)


def _same_history(got: History, expected: History) -> None:
    for field in History.__dataclass_fields__:
        a, b = getattr(got, field), getattr(expected, field)
        assert (a == b) if not isinstance(b, float) else math.isclose(a, b, abs_tol=1e-9), field


@given(st.lists(st.tuples(st.integers(0, 3), st.one_of(st.integers(0, 5).map(float),
                                                       st.sampled_from([-1e9, 2.5, 1.7e9, 1.7e9 + 0.25, 1e300])),
                          st.integers(0, 3)), max_size=80))
def test_rows_sort_by_person_then_time_then_tiebreak_then_position(rows):
    """Whole seconds take the one-key sort; a fraction, or a span too wide for the key, the other."""
    person = np.array([r[0] for r in rows], dtype=np.int64)
    ts = np.array([r[1] for r in rows], dtype=np.float64)
    tiebreak = np.array([r[2] for r in rows], dtype=np.int64)
    expected = by_person_then_time_reference(person.tolist(), ts.tolist(), tiebreak.tolist())
    asked: list[int] = []

    def tiebreak_of(at: np.ndarray) -> np.ndarray:
        asked.extend(at.tolist())
        return tiebreak[at]

    assert by_person_then_time(person, ts, tiebreak_of).tolist() == expected
    moments = Counter(zip(person.tolist(), ts.tolist()))
    assert all(moments[person[k], ts[k]] > 1 for k in asked), "only rows that share a person and a moment"


@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["", "t1", "t2"]), st.sampled_from(["x@a", "y@b"])),
                min_size=1, max_size=20), st.integers(1, 4))
def test_tables_taken_apart_and_joined_keep_every_value(spec, parts):
    items = [Interaction(ts=float(ts), channel="email", address=who, name=who.upper(), direction="out", weight=1.0,
                         initiator="me", thread=thread, account=f"acct{ts % 2}", source=f"s{ts % 3}")
             for ts, thread, who in spec]
    table = Table.of(items)
    pieces = [table.take(np.arange(len(items)) % parts == p) for p in range(parts)]
    pieces = [Table.of(items[p::parts]) for p in range(parts)] if parts > 2 else pieces
    joined = Table.concat(pieces)
    order = [k for p in range(parts) for k in range(len(items)) if k % parts == p]
    for row, k in enumerate(order):
        i = items[k]
        assert (joined.ts[row], joined.addresses[joined.address[row]], joined.names[joined.name[row]],
                joined.accounts[joined.account[row]], joined.sources[joined.source[row]]) == (
            i.ts, i.address, i.name, i.account, i.source)
    # equal threads have equal codes, different threads different ones, and no thread is 0
    for a in range(len(order)):
        for b in range(len(order)):
            ta, tb = items[order[a]].thread, items[order[b]].thread
            assert (joined.thread[a] == joined.thread[b]) == (ta == tb)
            assert (joined.thread[a] == 0) == (ta == "")


@settings(deadline=None)
@given(st.lists(st.integers(-2 * 10**15, 4 * 10**15).map(lambda us: us / 1e6), min_size=1, max_size=30),
       st.sampled_from(["Europe/Berlin", "America/St_Johns", "Australia/Lord_Howe", "UTC", "Pacific/Chatham"]))
def test_local_clock_on_arrays_agrees_with_datetime(stamps, name):
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(name)
    local = clock(zone).locals(np.array(stamps))
    for ts, value in zip(stamps, local.tolist()):
        offset = datetime.fromtimestamp(ts, zone).utcoffset().total_seconds()
        assert value == ts + offset


@pytest.mark.parametrize("name, day", [("Europe/Berlin", datetime(2026, 3, 28, tzinfo=timezone.utc)),
                                       ("Australia/Lord_Howe", datetime(2026, 4, 4, tzinfo=timezone.utc)),
                                       ("Australia/Lord_Howe", datetime(2026, 10, 3, tzinfo=timezone.utc))])
def test_local_clock_on_arrays_over_a_dense_span_agrees_with_datetime(name, day):
    """Across a DST change; Lord Howe's moves by half an hour, at half past the UTC hour."""
    from zoneinfo import ZoneInfo

    from daemon.analysis.localtime import LocalClock

    zone = ZoneInfo(name)
    stamps = np.arange(day.timestamp(), day.timestamp() + 2 * DAY, 337.0)
    clock_ = LocalClock(zone)
    local = clock_.locals(stamps)
    offsets = [datetime.fromtimestamp(t, zone).utcoffset().total_seconds() for t in stamps.tolist()]
    assert offsets == (local - stamps).tolist()
    assert offsets == [clock_.local(t) - t for t in stamps.tolist()]  # one at a time, from the span looked up


def test_no_zones_offset_lasts_less_than_a_day():
    """The local clock looks offsets up once per UTC day, and closer only in a day that ends on
    another offset than it began: an offset that came and went within one day would be missed.
    Every zone's transitions since 1900, from the tz database's own files where zoneinfo finds
    them: the system's, else the tzdata package's."""
    import importlib.resources
    import zoneinfo
    from pathlib import Path
    from zoneinfo._common import load_data  # the standard library's reader of TZif files

    def tzif(name: str):
        path = next((Path(root) / name for root in zoneinfo.TZPATH if (Path(root) / name).is_file()), None)
        if path is not None:
            return path.open("rb")
        package, _, leaf = f"tzdata.zoneinfo.{name.replace('/', '.')}".rpartition(".")
        try:
            return importlib.resources.files(package).joinpath(leaf).open("rb")
        except (ModuleNotFoundError, FileNotFoundError):
            return None

    read, shortest = 0, (float("inf"), "")
    for name in sorted(zoneinfo.available_timezones()):
        fh = tzif(name)
        if fh is None:
            continue
        with fh:
            transitions = [t for t in load_data(fh)[1] if t >= -2_208_988_800]
        read += 1
        for a, b in zip(transitions, transitions[1:]):
            shortest = min(shortest, (b - a, name))
    assert read > 300, f"the tz database was not found under {zoneinfo.TZPATH} or in the tzdata package"
    assert shortest[0] > DAY, shortest


@settings(deadline=None)
@given(st.lists(st.integers(0, 4 * 10**9), min_size=1, max_size=30),
       st.sampled_from(["Europe/Berlin", "America/St_Johns", "Australia/Lord_Howe", "UTC", "Pacific/Chatham"]))
def test_local_clock_date_text_agrees_with_datetime(stamps, name):
    from zoneinfo import ZoneInfo

    from daemon.analysis.localtime import LocalClock

    zone = ZoneInfo(name)
    fresh, spanned = LocalClock(zone), LocalClock(zone)
    spanned.locals(np.array(stamps, dtype=np.float64))  # its offsets then come from the span it looked up
    for ts in stamps + [ts - 1 for ts in stamps]:  # the second time from the cache (its day's text is kept)
        expected = datetime.fromtimestamp(ts, zone).strftime("%-d %b %Y")
        assert fresh.date_text(ts) == expected and spanned.date_text(ts) == expected


_names = st.sampled_from(["", "Ann", "Ann Lee", "Lee, Ann", "ann  LEE", "Bo Chen", "Chen, Bo", "Team", "Cy Dee", "me",
                          "E F", "Ef Gh", "佐藤 花子", "佐藤花子"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "a+x", "b", "c", "d", "e.f", "ef", "annlee", "lee.ann", "chenbo"]),
                          st.sampled_from(["example.org", "gmail.com", "googlemail.com"]), _names), max_size=25),
       st.lists(st.tuples(st.lists(st.sampled_from(["a@example.org", "d@example.org", "z@example.org", "ef@gmail.com"]),
                                   min_size=1, max_size=3), st.booleans()), max_size=2))
def test_people_are_grouped_as_a_plain_union_of_keys_names_and_overrides(rows, entries):
    from daemon.config import Person

    items = [Interaction(ts=NOW - k * DAY, channel="email", address=f"{local}@{domain}", name=name, direction="in",
                         weight=1.0, initiator="them") for k, (local, domain, name) in enumerate(rows)]
    overrides = tuple(Person(None, tuple(addresses), ignore=ignore) for addresses, ignore in entries)
    people = group_people(Table.of(items), overrides)
    assert {frozenset(g.addresses): g.id for g in people.persons} == people_reference(items, overrides)
    assert [g.id for g in people.persons] == sorted(g.id for g in people.persons)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(-3, 3)), max_size=40), st.booleans())
def test_days_with_contact_count_each_persons_distinct_dates(rows, in_order):
    """In order (as rows in time order mostly are) and not (a clock that went back across midnight)."""
    from daemon.analysis.report import days_with_contact, days_with_contact_reference

    rows = sorted(rows) if in_order else sorted(rows, key=lambda r: r[0])
    person = [p for p, _ in rows]
    day = [d for _, d in rows]
    expected = days_with_contact_reference(day, person, 5)
    assert days_with_contact(np.array(day, dtype=np.int64), np.array(person, dtype=np.int64), 5).tolist() == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from([0, 1, 2, 3, 2**40 + 1, 2**62 + 5, 2**63 - 1])),
                max_size=60), st.sampled_from([None, 1, 2, 8, 40]))
def test_each_rows_earlier_row_of_its_person_and_thread_agrees_with_the_reference(rows, hash_bits):
    """Thread codes that share their top bits (2**62 + 5 and 2**63 - 1; 1, 2 and 3 in any top bits
    short of 62) make the packed sort find two threads mixed and take the whole-thread sort."""
    from daemon.analysis.conversations import earlier_in_thread, earlier_in_thread_reference

    rows = sorted(rows, key=lambda r: r[0])  # by person, as the analysis gives them
    person = np.array([p for p, _ in rows], dtype=np.int64)
    thread = np.array([t for _, t in rows], dtype=np.int64)
    expected = earlier_in_thread_reference(thread.tolist(), person.tolist())
    assert earlier_in_thread(thread, person, hash_bits).tolist() == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**63 - 1) | st.integers(0, 5), max_size=60))
def test_the_packed_sort_is_a_stable_argsort_or_declines(keys):
    """Keys too wide to share an int64 with their position are declined (None), never cut."""
    from daemon.analysis.table import distinct_counts, sorted_with_positions

    key = np.array(keys, dtype=np.int64)
    expected = np.argsort(key, kind="stable")
    fast = sorted_with_positions(key)
    if fast is not None:
        assert fast[1].tolist() == expected.tolist() and fast[0].tolist() == key[expected].tolist()
    else:
        assert int(key.max()).bit_length() + (len(key) - 1).bit_length() > 63
    values, firsts, counts = distinct_counts(key)
    assert values.tolist() == sorted(set(keys))
    assert firsts.tolist() == [keys.index(v) for v in values.tolist()]
    assert counts.tolist() == [keys.count(v) for v in values.tolist()]


@given(st.lists(st.integers(-10**13, 10**13).flatmap(lambda k: st.sampled_from([
    k * 900.0, float(np.nextafter(k * 900.0, -np.inf)), float(np.nextafter(k * 900.0, np.inf)), k * 900.0 - 1e-6])),
    max_size=50) | st.lists(st.floats(-1e13, 1e13).map(lambda x: round(x, 6)), max_size=50))
def test_quarter_hours_of_stamps_are_floor_division_even_just_below_a_multiple(stamps):
    """Stamps to the microsecond, as datetime gives them (below that, -5e-324 / 900 rounds to -0.0)."""
    from daemon.analysis.localtime import _quarters

    x = np.array(stamps, dtype=np.float64)
    assert _quarters(x).tolist() == np.floor_divide(x, 900).astype(np.int64).tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from(["", "Ann", "Bo", "x@y.org", "Cy"])), max_size=40))
def test_each_persons_best_name_is_the_most_used_then_the_first_seen(rows):
    from daemon.analysis.contacts import _best_names, best_names_reference
    from daemon.analysis.table import Builder

    rows = sorted(rows, key=lambda r: r[0])  # by person
    builder = Builder()
    for k, (_, name) in enumerate(rows):
        builder.add(float(k), "email", "a@b.org", name, "in", 1.0, "them", "", "", 1, "", False, "")
    table = builder.build()
    person = np.array([p for p, _ in rows], dtype=np.int64)
    expected = best_names_reference(person.tolist(), [n for _, n in rows])
    assert _best_names(table, np.arange(len(rows)), person) == expected


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32), st.sampled_from([0, 1, 2**31 - 2000, -2**31, 2**31, 2**40]), st.integers(1000, 3000))
def test_distinct_values_are_numpys_unique_for_narrow_and_wide_integers(seed, low, n):
    """Over 1024 values, those that fit in 32 bits are sorted narrowed; the rest as they are."""
    from daemon.analysis.table import distinct

    values = np.random.default_rng(seed).integers(low, low + 2000, size=n, dtype=np.int64)
    found = distinct(values)
    assert found.dtype == values.dtype and found.tolist() == np.unique(values).tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 3), st.sampled_from(["out", "in", "both"]), st.integers(0, 14 * 24 - 1)),
                max_size=40))
def test_each_persons_off_hours_share_is_of_what_i_wrote_else_of_everything(rows):
    """``evidence`` counts each person's rows and the share of them in the evening or at a weekend:
    of the rows I wrote or we met at, else (never mine) of all; person -1 is no one's."""
    from daemon.analysis.relationship import evidence, is_off_hours_reference
    from daemon.analysis.table import spill

    items = [Interaction(ts=hour * 3600.0, channel="email", address="a@example.org", name="", direction=d, weight=1.0,
                         initiator="me") for _, d, hour in rows]
    person = spill(np.array([p for p, _, _ in rows], dtype=np.int64), 4)
    got = evidence(Table.of(items), np.array([h * 3600 for _, _, h in rows], dtype=np.int64), person, 4, {})
    for p in range(4):
        mine = [is_off_hours_reference(h * 3600) for q, d, h in rows if q == p and d != "in"]
        every = [is_off_hours_reference(h * 3600) for q, _, h in rows if q == p]
        share = sum(mine) / len(mine) if mine else sum(every) / max(len(every), 1)
        assert got.interactions[p] == len(every)
        assert math.isclose(got.off_hours[p], share)
