"""Interactions with each person -> conversations.

A conversation is a run of contact with no more than 72 hours of quiet inside it; a reply in the
same thread joins its conversation even later, up to the reply window. The initiator is whoever
wrote first, or the meeting's organizer. A conversation is two-way when both sides wrote, or when
we met.

A conversation that opens with a late answer (a message in a thread whose previous message with
this person came from the other side, too late to join that conversation: a patch applied weeks
after it was sent, "thanks, done") is the other side's, and answered: it waits for nobody; the
conversation it answers was answered too.

``conversations_reference`` is the rule written for reading, one interaction at a time: the tests
hold the rest of this module to it. ``split`` does the same on columns, for every person at once;
``conversations`` is ``split`` for one person's list of interactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from daemon.analysis.table import BOTH, IN, INITIATORS, ME, OUT, THEM, Table, grouped_by_hash, narrow
from daemon.models import Interaction

QUIET = 72 * 3600.0
DIRECT = 0.25  # weaker than this (Cc on a big thread) is presence, not conversation
DAY = 86400.0


@dataclass(frozen=True, kw_only=True)
class Conversation:
    start: float
    end: float
    initiator: str  # "me" | "them" | "other"
    outbound: int
    inbound: int
    met: bool
    answered: bool  # the side that did not start it took part
    direct: bool  # both directions (or the meeting) were direct, not mere Cc or crowd
    addressed: bool = True  # its starter wrote to the other directly (not a mere Cc), or we met

    @property
    def two_way(self) -> bool:
        return self.met or (self.outbound > 0 and self.inbound > 0)


# -- the rule, for reading ---------------------------------------------------------------------------
def conversations_reference(items: list[Interaction], reply_window_days: float) -> list[Conversation]:
    """One person's interactions (sorted by time) -> their conversations, one interaction at a time."""
    out: list[Conversation] = []
    current: list[Interaction] = []  # the interactions of the conversation going on
    threads: set[str] = set()  # its threads
    late = False  # it opened with a late answer
    last_of_thread: dict[str, tuple[str, int]] = {}  # each thread's latest direction so far, and its conversation
    answered_later: set[int] = set()  # conversations that a later mail answered
    for i in items:
        if i.weight <= 0:
            continue
        joins = bool(current) and (i.ts - current[-1].ts <= QUIET or (  # no long quiet, or a late reply:
            i.thread in threads and i.ts - current[0].ts <= reply_window_days * DAY))
        if not joins:
            if current:
                out.append(_conversation_of(current, late))
            before = last_of_thread.get(i.thread, ("", -1))[0] if i.thread else None
            late = _answers(i.direction, before)
            current, threads = [], set()
        current.append(i)
        if i.thread:
            before, where = last_of_thread.get(i.thread, ("", -1))
            if _answers(i.direction, before):
                answered_later.add(where)
            threads.add(i.thread)
            last_of_thread[i.thread] = (i.direction, len(out))
    if current:
        out.append(_conversation_of(current, late))
    return [replace(c, answered=True) if k in answered_later else c for k, c in enumerate(out)]


def _answers(direction: str, before: str | None) -> bool:
    """A mail answers the previous mail of its thread when that came from the other side."""
    return direction in ("in", "out") and before in ("in", "out") and before != direction


def _conversation_of(items: list[Interaction], late_answer: bool) -> Conversation:
    """The conversation of ``items``; ``late_answer``: it opens by answering the other side's
    earlier mail of its thread, so it is theirs, and answered."""
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
                        met=met, answered=answered,
                        direct=small_meeting or (direct_out and direct_in), addressed=addressed)


# -- the same on columns, for everyone at once -------------------------------------------------------
@dataclass(kw_only=True)
class Conversations:
    """Every person's conversations as columns, sorted by person, then time."""

    person: np.ndarray  # int: whose (an index into People.persons)
    start: np.ndarray
    end: np.ndarray
    initiator: np.ndarray  # ME, THEM, OTHER
    outbound: np.ndarray
    inbound: np.ndarray
    met: np.ndarray
    answered: np.ndarray
    direct: np.ndarray
    addressed: np.ndarray

    @property
    def two_way(self) -> np.ndarray:
        return self.met | ((self.outbound > 0) & (self.inbound > 0))

    def take(self, index: np.ndarray) -> Conversations:
        return Conversations(**{f: getattr(self, f)[index] for f in _FIELDS})

    @staticmethod
    def concat(parts: list[Conversations]) -> Conversations:
        """Parts of different people, merged back into person-then-time order (a stable sort by
        person keeps each person's conversations, all from one part, in their order)."""
        merged = Conversations(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS})
        return merged.take(np.argsort(narrow(merged.person), kind="stable"))

    def objects(self) -> list[Conversation]:
        return [Conversation(start=s, end=e, initiator=INITIATORS[i], outbound=o, inbound=n, met=m,
                             answered=a, direct=d, addressed=ad)
                for s, e, i, o, n, m, a, d, ad in zip(
                    self.start.tolist(), self.end.tolist(), self.initiator.tolist(), self.outbound.tolist(),
                    self.inbound.tolist(), self.met.tolist(), self.answered.tolist(),
                    self.direct.tolist(), self.addressed.tolist())]


_DTYPES = (np.int64, np.float64, np.float64, np.int8, np.int64, np.int64, bool, bool, bool, bool)
_FIELDS = ("person", "start", "end", "initiator", "outbound", "inbound", "met", "answered", "direct", "addressed")


def split(table: Table, rows_by_person: np.ndarray, person_of: np.ndarray,
          reply_windows_days: tuple[float, ...]) -> list[Conversations]:
    """The conversations of every person, for each reply window. ``rows_by_person``: the rows of
    ``table`` by person, then time; ``person_of``: whose each of them is. Rows of no weight take
    no part."""
    weighty = table.weight[rows_by_person] > 0
    if not weighty.all():
        rows_by_person, person_of = rows_by_person[weighty], person_of[weighty]
    rows = _rows(table, rows_by_person, person_of)
    if not len(rows.ts):
        return [Conversations(**{f: np.zeros(0, dtype=dtype) for f, dtype in zip(_FIELDS, _DTYPES)})
                for _ in reply_windows_days]
    return _summarise(rows, _starts(rows, [d * DAY for d in reply_windows_days]))


@dataclass(kw_only=True)
class _Rows:
    """The columns the conversations are made of: the rows that take part, by person, then time.
    Their positions in these columns are what the rest of this module calls rows."""

    ts: np.ndarray
    person: np.ndarray
    direction: np.ndarray
    weight: np.ndarray
    fanout: np.ndarray
    initiator: np.ndarray
    earlier_in_thread: np.ndarray  # the row before it of its person and thread (-1: none, or no thread)
    late_answer: np.ndarray  # a mail answering the other side's earlier mail of its thread


def _rows(table: Table, rows: np.ndarray, person: np.ndarray) -> _Rows:
    """The columns of the table's ``rows`` (by person, then time; ``person``: whose each is)."""
    thread = table.thread[rows]
    earlier = earlier_in_thread(thread, person)
    direction = table.direction[rows]
    mail = (direction == OUT) | (direction == IN)
    late_answer = mail & (earlier >= 0) & mail[earlier] & (direction[earlier] != direction)
    return _Rows(ts=table.ts[rows], person=person, direction=direction, weight=table.weight[rows],
                 fanout=table.fanout[rows], initiator=table.initiator[rows], earlier_in_thread=earlier,
                 late_answer=late_answer)


def earlier_in_thread(thread: np.ndarray, person: np.ndarray, hash_bits: int | None = None) -> np.ndarray:
    """For each row (by person, then time), the row before it of its person and thread; -1 for
    none, or no thread (``thread``: the rows' thread codes, 0 for none).

    Sorted by person, then thread, stably, each row's earlier row is the one just before it when
    that is of the same person and thread (``grouped_by_hash``, which packs the top ``hash_bits``
    of the thread's hash; when two threads of one person share those bits, the sort is by the
    whole thread instead). ``earlier_in_thread_reference`` is the same, written for reading."""
    earlier = np.full(len(thread), -1, dtype=np.int64)
    if not len(thread):
        return earlier
    grouped = grouped_by_hash(thread, within=person, bits=hash_bits)
    if grouped is None:
        order = np.lexsort((thread, person))
        same = (thread[order][1:] == thread[order][:-1]) & (person[order][1:] == person[order][:-1])
    else:
        order, same = grouped
    earlier[order[1:][same]] = order[:-1][same]
    earlier[thread == 0] = -1
    return earlier


def earlier_in_thread_reference(thread: list[int], person: list[int]) -> list[int]:
    """``earlier_in_thread``, one row at a time."""
    last: dict[tuple[int, int], int] = {}
    out = []
    for k, key in enumerate(zip(person, thread)):
        out.append(last.get(key, -1) if key[1] else -1)
        last[key] = k
    return out


# A round of ``_starts`` costs about as much as walking one late reply in 32 of those left, and it
# decides at least one per run left; with fewer runs than that, or than 64, walking is cheaper.
ROUND_MIN_RUNS = 64
ROUND_MIN_SHARE = 32


def _starts(rows: _Rows, reply_windows: list[float]) -> list[np.ndarray]:
    """The rows that begin a conversation, in order, for each reply window (in seconds).

    A person's first row, or one after more than QUIET of silence, may begin one: a candidate. It
    surely does when it has no earlier row of its person and thread. Any other candidate is a late
    reply: it joins the conversation before it when its thread was in it and it began within the
    window (``_joins``), or else begins one, which then decides the late replies after it. So the
    late replies between two sure starts, a run, are decided in order.

    They are decided in rounds, for every run at once: each round finds each run's first late
    reply that does not join the conversation going on; the replies before it join, it begins the
    next conversation, and the replies after it wait for the next round. Runs are short (a dozen
    breaks at most in a million interactions), so a few rounds decide them all. When few runs are
    left, and long ones (a mailing list thread), the rest is walked one by one (``_walk``), which
    keeps the whole linear however the breaks fall."""
    ts = rows.ts
    new_person = np.r_[True, rows.person[1:] != rows.person[:-1]]
    candidates = np.flatnonzero(new_person | np.r_[True, ts[1:] - ts[:-1] > QUIET])
    earlier = rows.earlier_in_thread[candidates]
    sure = new_person[candidates] | (earlier < 0)
    late = np.flatnonzero(~sure)  # the late replies, as positions in candidates
    if not len(late):
        return [candidates for _ in reply_windows]
    stamps = ts[candidates]
    # each late reply's run: the sure start before it (a person's first candidate is a sure one)
    run_start = np.maximum.accumulate(np.where(sure, np.arange(len(candidates)), -1))[late]
    out = []
    for window in reply_windows:
        begins = sure.copy()
        waiting = np.arange(len(late))  # the late replies not decided yet (positions in late), run by run
        going_on = run_start  # for each, where the conversation going on in its run began (in candidates)
        while len(waiting):
            heads = np.flatnonzero(np.r_[True, going_on[1:] != going_on[:-1]])  # each run's first waiting reply
            if len(heads) < ROUND_MIN_RUNS or len(heads) * ROUND_MIN_SHARE < len(waiting):
                walked = _walk(waiting, candidates[going_on], stamps[going_on], candidates[late], earlier[late],
                               stamps[late], window)
                begins[late[walked]] = True
                break
            mine = late[waiting]
            joins = _joins(earlier[mine], stamps[mine], candidates[going_on], stamps[going_on], window)
            position = np.arange(len(waiting))
            first_break = np.minimum.reduceat(np.where(joins, len(waiting), position), heads)
            first_break = np.repeat(first_break, np.diff(np.r_[heads, len(waiting)]))
            begins[mine[position == first_break]] = True
            after = position > first_break
            going_on, waiting = mine[first_break[after]], waiting[after]
        out.append(candidates[begins])
    return out


def _joins(earlier: np.ndarray | int, ts: np.ndarray | float, start_row: np.ndarray | int,
           start_ts: np.ndarray | float, window: float) -> np.ndarray | bool:
    """Whether a late reply (its earlier row of its thread, its time) joins the conversation that
    began at ``start_row``, ``start_ts``: its thread was in it, and it began within the window."""
    return (earlier >= start_row) & (ts - start_ts <= window)


def _walk(waiting: np.ndarray, start_row: np.ndarray, start_ts: np.ndarray, row: np.ndarray, earlier: np.ndarray,
          ts: np.ndarray, window: float) -> list[int]:
    """The late replies among ``waiting`` that begin a conversation, one by one: ``waiting`` holds
    late replies run by run and in order; ``start_row``, ``start_ts``: for each, where the
    conversation going on in its run began when the walk reaches the run; ``row``, ``earlier``,
    ``ts``: every late reply's row, earlier row of its thread, time."""
    begins, run = [], -1
    for k, first_row, first_ts, k_row, k_earlier, k_ts in zip(
            waiting.tolist(), start_row.tolist(), start_ts.tolist(), row[waiting].tolist(), earlier[waiting].tolist(),
            ts[waiting].tolist()):
        if first_row != run:  # the next run
            run, going_row, going_ts = first_row, first_row, first_ts
        if not _joins(k_earlier, k_ts, going_row, going_ts, window):
            going_row, going_ts = k_row, k_ts
            begins.append(k)
    return begins


def _summarise(rows: _Rows, every_starts: list[np.ndarray]) -> list[Conversations]:
    """The conversations for each reply window: those that begin at its array of ``every_starts``."""
    d, ts = rows.direction, rows.ts
    # each conversation's rows: [conv_start, conv_stop)
    bounds = [(conv_start, np.r_[conv_start[1:], len(ts)]) for conv_start in every_starts]
    # How many rows of each mark a conversation has: the difference of the mark's running count
    # (from 0, one longer than the rows) at its bounds. One running count serves every window (a
    # reduceat per window and mark costs ten times as much); one mark at a time keeps memory low.
    counts: list[list[np.ndarray]] = [[] for _ in every_starts]
    running = np.zeros(len(ts) + 1, dtype=np.int32)
    for k, mark in enumerate(_marks(rows)):
        np.cumsum(mark, out=running[1:])
        for got, (conv_start, conv_stop) in zip(counts, bounds):
            n = running[conv_stop] - running[conv_start]
            got.append(n.astype(np.int64) if k < 2 else n > 0)  # the directions are counted; the rest is "any"
    answering = np.flatnonzero(rows.late_answer)
    found = []
    for (conv_start, conv_stop), (outbound, inbound, met, direct_out, direct_in, small_meeting) in zip(bounds, counts):
        first_direction, late = d[conv_start], rows.late_answer[conv_start]
        initiator = np.where(first_direction == OUT, ME, np.where(first_direction == IN, THEM, rows.initiator[conv_start]))
        initiator = np.where(late, np.where(first_direction == OUT, THEM, ME), initiator).astype(np.int8)
        answered = late | met | np.where(initiator == ME, inbound > 0, np.where(initiator == THEM, outbound > 0, True))
        # a conversation some later conversation answers, however late, was answered
        if len(answering):
            answered[_conversation_of_rows(conv_start, len(ts))[rows.earlier_in_thread[answering]]] = True
        addressed = met | np.where(initiator == ME, direct_out, np.where(initiator == THEM, direct_in, True))
        found.append(Conversations(person=rows.person[conv_start], start=ts[conv_start], end=ts[conv_stop - 1],
                                   initiator=initiator, outbound=outbound, inbound=inbound, met=met, answered=answered,
                                   direct=small_meeting | (direct_out & direct_in), addressed=addressed))
    return found


def _conversation_of_rows(conv_start: np.ndarray, rows: int) -> np.ndarray:
    """Each row's conversation (``conv_start``: the first row of each, in order, the first at row
    0): how many conversations begin after the first, at or before it. (``np.searchsorted(
    conv_start, row, side="right") - 1``, in a seventh of the time for a million rows.)"""
    begins = np.zeros(rows, dtype=np.int32)
    begins[conv_start[1:]] = 1
    return np.cumsum(begins, dtype=np.int32)


def _marks(rows: _Rows) -> Iterator[np.ndarray]:
    """Which rows are outbound, inbound, meetings, direct outbound, direct inbound, small meetings."""
    d, direct = rows.direction, rows.weight >= DIRECT
    yield d == OUT
    yield d == IN
    yield d == BOTH
    yield (d == OUT) & direct
    yield (d == IN) & direct
    yield (d == BOTH) & (rows.fanout <= 5)


def conversations(items: list[Interaction], reply_window_days: float = 7.0) -> list[Conversation]:
    """One person's interactions (sorted by time) -> their conversations, on columns."""
    n = len(items)
    return split(Table.of(items), np.arange(n), np.zeros(n, dtype=np.int64), (reply_window_days,))[0].objects()
