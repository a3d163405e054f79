"""The analysis on columns agrees with plain per-person loops, written here as the oracle.

The columnar code does for everyone at once what was once a Python loop per person. These
properties hold it to the loop's answers on random people with ties, threads, weak Cc, meetings and
quiet gaps right around the 72 hours that split a conversation."""

import math
import random
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.analysis.contacts import by_person_then_time, group_people
from daemon.analysis.conversations import DIRECT, QUIET, Conversation, split
from daemon.analysis.history import histories
from daemon.analysis.localtime import clock
from daemon.analysis.table import Table
from daemon.models import Interaction

DAY = 86400.0
NOW = 1_800_000_000.0


def oracle_conversations(items: list[Interaction], reply_window_days: float) -> list[Conversation]:
    """The conversation rule, one interaction at a time."""
    out, current, threads, late = [], [], set(), False
    last_of_thread: dict[str, tuple[str, int]] = {}  # each thread's latest direction so far, and its conversation
    answered_later: set[int] = set()  # conversations that a later mail answered
    for i in items:
        if i.weight <= 0:
            continue
        if not current or i.ts - current[-1].ts > QUIET and not (
                i.thread and i.thread in threads and i.ts - current[0].ts <= reply_window_days * DAY):
            if current:
                out.append(_close(current, late))
            before = last_of_thread.get(i.thread, ("", -1))[0] if i.thread else None
            late = i.direction in ("in", "out") and before in ("in", "out") and before != i.direction
            current, threads = [], set()
        current.append(i)
        if i.thread:
            before, where = last_of_thread.get(i.thread, ("", -1))
            if i.direction in ("in", "out") and before in ("in", "out") and before != i.direction:
                answered_later.add(where)
            threads.add(i.thread)
            last_of_thread[i.thread] = (i.direction, len(out))
    if current:
        out.append(_close(current, late))
    return [replace(c, answered=True) if k in answered_later else c for k, c in enumerate(out)]


def _close(items: list[Interaction], late_answer: bool = False) -> Conversation:
    """A conversation of ``items``; ``late_answer``: it opens by answering the other side's earlier
    mail of its thread, so it is theirs, and answered."""
    first = items[0]
    initiator = {"out": "me", "in": "them"}.get(first.direction, first.initiator)
    if late_answer:
        initiator = "them" if first.direction == "out" else "me"
    outbound = sum(i.direction == "out" for i in items)
    inbound = sum(i.direction == "in" for i in items)
    met = any(i.direction == "both" for i in items)
    direct_out = any(i.direction == "out" and i.weight >= DIRECT for i in items)
    direct_in = any(i.direction == "in" and i.weight >= DIRECT for i in items)
    small_meeting = any(i.direction == "both" and i.fanout <= 5 for i in items)
    answered = late_answer or met or (inbound > 0 if initiator == "me" else outbound > 0 if initiator == "them" else True)
    addressed = met or (direct_out if initiator == "me" else direct_in if initiator == "them" else True)
    return Conversation(start=first.ts, end=items[-1].ts, initiator=initiator, outbound=outbound, inbound=inbound,
                        met=met, weight=max(i.weight for i in items), answered=answered,
                        direct=small_meeting or (direct_out and direct_in), addressed=addressed)


def oracle_history(convs: list[Conversation], now: float) -> dict:
    two_way = [c for c in convs if c.two_way]
    last = two_way[-1] if two_way else None
    since = [c for c in convs if last is None or c.start > last.end]
    recent = [c for c in convs if now - c.start <= 365 * DAY]

    def run(starter: str) -> int:
        n = 0
        for c in reversed(recent):
            if c.two_way:
                break
            n += c.initiator == starter and c.addressed and not c.answered
        return n

    def started(by: str, convs: list) -> int:  # only what was addressed to the other counts as a start
        return sum(c.initiator == by and c.addressed for c in convs)

    lately = [c for c in two_way if c.initiator in ("me", "them")][-5:]
    logs = [math.log(max((b.start - a.start) / DAY, 1.0)) for a, b in zip(two_way, two_way[1:])]
    mean = sum(logs) / len(logs) if logs else 0.0
    return {
        "conversations": len(convs), "two_way": len(two_way),
        "first_two_way": two_way[0].start if two_way else None, "last_two_way": last.end if last else None,
        "since_mine": started("me", since), "since_theirs": started("them", since),
        "recent_mine": started("me", recent), "recent_theirs": started("them", recent),
        "unanswered_mine": run("me"), "unanswered_theirs": run("them"),
        "lately_mine": started("me", lately), "lately": len(lately), "gaps": len(logs),
        "gap_mean": mean, "gap_var": sum((x - mean) ** 2 for x in logs) / len(logs) if logs else 0.0,
        "direct_two_way": any(c.direct and c.two_way for c in convs),
        "last_contact": convs[-1].end if convs else None,
    }


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


@pytest.mark.parametrize("rounds", [0, 1, 2])
def test_late_replies_are_decided_alike_in_rounds_on_columns_and_one_by_one(rounds, monkeypatch):
    """Failures past the vectorized rounds are decided in a plain loop; both ways agree with the rule."""
    from daemon.analysis import conversations

    monkeypatch.setattr(conversations, "ROUNDS", rounds)
    for seed in range(10):
        test_long_histories_on_columns_agree_with_the_per_person_loop(seed)


def _agree_with_the_loop(items: list[Interaction]) -> None:
    """Both reply windows at once, as the analysis asks for them."""
    table = Table.of(items)
    people = group_people(table)
    windows = (14.0, 7.0)
    for window, convs in zip(windows, split(table, people.order, people.group, windows)):
        found = histories(convs, len(people.groups), NOW)
        for k, person in enumerate(people.groups):
            mine = sorted((i for i in items if i.address in person.addresses),
                          key=lambda i: (i.ts, i.address, i.direction))
            expected = oracle_conversations(mine, window)
            assert convs.take(convs.group == k).objects() == expected, window
            history = found[k]
            for field, value in oracle_history(expected, NOW).items():
                got = getattr(history, field)
                assert (got == value) if not isinstance(value, float) else math.isclose(got, value, abs_tol=1e-9), field


@given(st.lists(st.tuples(st.integers(0, 3), st.one_of(st.integers(0, 5).map(float),
                                                       st.sampled_from([-1e9, 2.5, 1.7e9, 1.7e9 + 0.25, 1e300])),
                          st.integers(0, 3)), max_size=80))
def test_rows_sort_by_person_then_time_then_tiebreak_then_position(rows):
    """Whole seconds take the one-key sort; a fraction, or a span too wide for the key, the other."""
    person = np.array([r[0] for r in rows], dtype=np.int64)
    ts = np.array([r[1] for r in rows], dtype=np.float64)
    tiebreak = np.array([r[2] for r in rows], dtype=np.int64)
    expected = sorted(range(len(rows)), key=lambda k: (rows[k][0], rows[k][1], rows[k][2], k))
    assert by_person_then_time(person, ts, tiebreak).tolist() == expected


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


def oracle_people(items: list[Interaction], overrides) -> dict[frozenset[str], str]:
    """Who is who, as plainly as it can be written: addresses meet by merge key (a plus-tagged one
    only if it shares a display name with the rest of its mailbox, or either has none), by a
    mergeable full display name (unless two of its addresses attended one meeting together),
    by the one name an unnamed address spells, and by a [[people]] entry; ignored people are left
    out. Each person's addresses -> their id."""
    import hashlib

    from daemon.analysis.contacts import _mergeable_name
    from daemon.identity import is_cjk_name, merge_key, spelled_name

    names_of: dict[str, set[str]] = {}
    for i in items:
        names_of.setdefault(i.address, set())
        if _mergeable_name(i.name):
            names_of[i.address].add(_mergeable_name(i.name))

    def key_of(address: str) -> str:
        key = merge_key(address)
        if "+" in address.partition("@")[0]:
            mine = names_of.get(address, set())
            others = set().union(*(n for a, n in names_of.items() if a != address and merge_key(a) == key))
            if mine and others and not mine & others:
                return address
        return key

    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    keys_of_name: dict[str, list[str]] = {}
    for i in items:
        key = key_of(i.address)
        find(key)
        name = _mergeable_name(i.name)
        if name and key not in keys_of_name.setdefault(name, []):
            keys_of_name[name].append(key)
    moments: dict[tuple, set[str]] = {}
    for i in items:
        if i.channel == "meeting":
            moments.setdefault((i.ts, i.thread), set()).add(key_of(i.address))
    usable = {}
    for name, keys in keys_of_name.items():
        if any(len(set(keys) & ks) > 1 for ks in moments.values()):
            continue  # two people of one name
        usable[name] = keys[0]
        for k in keys[1:]:
            union(keys[0], k)
    named = {key_of(a) for a, n in names_of.items() if n}
    for address in names_of:
        key = key_of(address)
        if key in named:
            continue
        words, letters = spelled_name(address)
        found = {k for n, k in usable.items() if n.isascii() and not is_cjk_name(n)
                 and (n == words or (len(letters) >= 6 and letters in ("".join(n.split()), "".join(reversed(n.split())))))}
        if len(found) == 1:
            union(found.pop(), key)
    override_of = {}
    for person in overrides:
        keys = [key_of(a) for a in person.addresses]
        for k in keys:
            union(keys[0], k)
            override_of[k] = person
    members: dict[str, set[str]] = {}
    for i in items:
        members.setdefault(find(key_of(i.address)), set()).add(i.address)
    out = {}
    for addresses in members.values():
        keys = sorted({key_of(a) for a in addresses})
        override = next((override_of[k] for k in keys if k in override_of), None)
        if not (override and override.ignore):
            out[frozenset(addresses)] = hashlib.sha1(keys[0].encode()).hexdigest()[:12]
    return out


_names = st.sampled_from(["", "Ann", "Ann Lee", "Lee, Ann", "ann  LEE", "Bo Chen", "Chen, Bo", "Team", "Cy Dee", "me",
                          "E F", "Ef Gh", "佐藤 花子", "佐藤花子"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "a+x", "b", "c", "d", "e.f", "ef"]),
                          st.sampled_from(["example.org", "gmail.com", "googlemail.com"]), _names), max_size=25),
       st.lists(st.tuples(st.lists(st.sampled_from(["a@example.org", "d@example.org", "z@example.org", "ef@gmail.com"]),
                                   min_size=1, max_size=3), st.booleans()), max_size=2))
def test_people_are_grouped_as_a_plain_union_of_keys_names_and_overrides(rows, entries):
    from daemon.config import Person

    items = [Interaction(ts=NOW - k * DAY, channel="email", address=f"{local}@{domain}", name=name, direction="in",
                         weight=1.0, initiator="them") for k, (local, domain, name) in enumerate(rows)]
    overrides = tuple(Person(None, tuple(addresses), ignore=ignore) for addresses, ignore in entries)
    people = group_people(Table.of(items), overrides)
    assert {frozenset(g.addresses): g.id for g in people.groups} == oracle_people(items, overrides)
    assert [g.id for g in people.groups] == sorted(g.id for g in people.groups)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(-3, 3)), max_size=40), st.booleans())
def test_days_with_contact_count_each_persons_distinct_dates(rows, in_order):
    """In order (as rows in time order mostly are) and not (a clock that went back across midnight)."""
    from daemon.analysis.report import days_with_contact

    rows = sorted(rows) if in_order else sorted(rows, key=lambda r: r[0])
    group = np.array([p for p, _ in rows], dtype=np.int64)
    day = np.array([d for _, d in rows], dtype=np.int64)
    expected = [len({d for p, d in rows if p == k}) for k in range(5)]
    assert days_with_contact(day, group, 5).tolist() == expected
