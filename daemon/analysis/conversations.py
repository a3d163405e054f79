"""Interactions with each person -> conversations.

A conversation is a run of contact with no more than 72 hours of quiet inside it; a reply in the
same thread joins its conversation even later, up to the reply window. The initiator is whoever
wrote first, or the meeting's organizer. A conversation is two-way when both sides wrote, or when
we met.

A conversation that opens with a late answer (a message in a thread whose previous message with
this person came from the other side, too late to join that conversation: a patch applied weeks
after it was sent, "thanks, done") is the other side's, and answered: it waits for nobody; the
conversation it answers was answered too.

The work is done on columns for every person at once (``split``); ``conversations`` is the same for
one person's list of interactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from daemon.analysis.table import BOTH, IN, INITIATORS, ME, OUT, THEM, Table, narrow
from daemon.models import Interaction

QUIET = 72 * 3600.0
DIRECT = 0.25  # weaker than this (Cc on a big thread) is presence, not conversation


@dataclass(frozen=True, kw_only=True)
class Conversation:
    start: float
    end: float
    initiator: str  # "me" | "them" | "other"
    outbound: int
    inbound: int
    met: bool
    weight: float
    answered: bool  # the side that did not start it took part
    direct: bool  # both directions (or the meeting) were direct, not mere Cc or crowd
    addressed: bool = True  # its starter wrote to the other directly (not a mere Cc), or we met

    @property
    def two_way(self) -> bool:
        return self.met or (self.outbound > 0 and self.inbound > 0)


@dataclass(kw_only=True)
class Conversations:
    """Every person's conversations as columns, sorted by person, then time."""

    group: np.ndarray  # int: whose
    start: np.ndarray
    end: np.ndarray
    initiator: np.ndarray  # ME, THEM, OTHER
    outbound: np.ndarray
    inbound: np.ndarray
    met: np.ndarray
    weight: np.ndarray
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
        return merged.take(np.argsort(narrow(merged.group), kind="stable"))

    def objects(self) -> list[Conversation]:
        return [Conversation(start=s, end=e, initiator=INITIATORS[i], outbound=o, inbound=n, met=m, weight=w,
                             answered=a, direct=d, addressed=ad)
                for s, e, i, o, n, m, w, a, d, ad in zip(
                    self.start.tolist(), self.end.tolist(), self.initiator.tolist(), self.outbound.tolist(),
                    self.inbound.tolist(), self.met.tolist(), self.weight.tolist(), self.answered.tolist(),
                    self.direct.tolist(), self.addressed.tolist())]


_DTYPES = (np.int64, np.float64, np.float64, np.int8, np.int64, np.int64, bool, np.float64, bool, bool, bool)
_FIELDS = ("group", "start", "end", "initiator", "outbound", "inbound", "met", "weight", "answered", "direct",
           "addressed")


def split(table: Table, order: np.ndarray, group: np.ndarray, reply_windows_days: tuple[float, ...]) -> list[Conversations]:
    """The conversations of every person, for each reply window. ``order``: the rows of ``table``
    by person, then time; ``group``: whose each of them is. Rows of no weight take no part."""
    weighty = table.weight[order] > 0
    rows, group = order[weighty], group[weighty]
    n = len(rows)
    if n == 0:
        return [Conversations(**{f: np.zeros(0, dtype=dtype) for f, dtype in zip(_FIELDS, _DTYPES)})
                for _ in reply_windows_days]
    ts, thread = table.ts[rows], table.thread[rows]
    new_person = np.ones(n, dtype=bool)
    new_person[1:] = group[1:] != group[:-1]
    quiet = np.ones(n, dtype=bool)
    quiet[1:] = (ts[1:] - ts[:-1]) > QUIET
    candidates = np.flatnonzero(new_person | quiet)
    # The earlier row of the same person and thread, if any: a reply to it may join its conversation.
    by_thread = np.argsort(thread)  # runs of one thread, their rows in any order; put them back in order:
    run = np.cumsum(np.r_[0, thread[by_thread][1:] != thread[by_thread][:-1]])
    by_thread = by_thread[np.argsort(run * n + by_thread)]  # unique keys, so the fast sort will do
    # Rows are in person-then-time order, so within a thread's run they now come person by person,
    # each person's in time: a row's earlier row of its thread and person is the one just before it.
    same = (run[1:] == run[:-1]) & (group[by_thread][1:] == group[by_thread][:-1])
    earlier = np.full(n, -1, dtype=np.int64)
    earlier[by_thread[1:][same]] = by_thread[:-1][same]
    earlier[thread == 0] = -1
    del by_thread, run, same, quiet
    direction = table.direction[rows]
    mail = (direction == OUT) | (direction == IN)
    late_answer = mail & (earlier >= 0) & mail[earlier] & (direction[earlier] != direction)
    columns = _Rows(ts=ts, group=group, direction=direction, weight=table.weight[rows], fanout=table.fanout[rows],
                    initiator=table.initiator[rows], late_answer=late_answer, earlier=earlier)
    return _summarise(columns, _starts(candidates, new_person, earlier, ts, [d * 86400.0 for d in reply_windows_days]))


@dataclass(kw_only=True)
class _Rows:
    """The columns the conversations are made of, for the rows that take part, in person-time order."""

    ts: np.ndarray
    group: np.ndarray
    direction: np.ndarray
    weight: np.ndarray
    fanout: np.ndarray
    initiator: np.ndarray
    late_answer: np.ndarray  # a mail answering the other side's earlier mail of its thread
    earlier: np.ndarray  # the row of that earlier mail (-1: none)


def _starts(candidates: np.ndarray, new_person: np.ndarray, earlier: np.ndarray, ts: np.ndarray,
            reply_windows: list[float]) -> list[np.ndarray]:
    """Which candidate rows begin a conversation, for each reply window.

    A candidate with no earlier row of its thread (or a new person's first) surely does. The others
    ("maybe": a late reply) join their conversation if their thread was in it and it began within
    the window, which depends on where it began. Between two sure starts, the maybes join until the
    first that fails; that one begins a conversation, and the maybes after it, up to the next sure
    start, are decided the same way from there: a round finds the next failure of every such run."""
    prior = earlier[candidates]
    sure = new_person[candidates] | (prior < 0)
    maybe = np.flatnonzero(~sure)
    if not len(maybe):
        return [candidates for _ in reply_windows]
    # the last sure start before each maybe (the first candidate of a person is always sure)
    last_sure = np.maximum.accumulate(np.where(sure, np.arange(len(candidates)), -1))[maybe]
    stamps = ts[candidates]
    heads = np.flatnonzero(np.r_[True, last_sure[1:] != last_sure[:-1]])  # where each run after a sure start begins
    run = np.repeat(np.arange(len(heads)), np.diff(np.r_[heads, len(maybe)]))
    position, none = np.arange(len(maybe)), len(maybe)
    out = []
    for window in reply_windows:
        joins = (prior[maybe] >= candidates[last_sure]) & (stamps[maybe] - stamps[last_sure] <= window)
        fails = np.minimum.reduceat(np.where(joins, none, position), heads)[run]  # each run's first failure
        begins = sure.copy()
        begins[maybe[position == fails]] = True
        # The maybes after a failure, each with where its conversation began (a position in maybe).
        later = np.flatnonzero(position > fails)
        began = fails[later]
        for _ in range(ROUNDS):  # each round finds the next failure of every run that has one
            if not len(later):
                break
            k, f = maybe[later], maybe[began]
            joins = (prior[k] >= candidates[f]) & (stamps[k] - stamps[f] <= window)
            at = np.arange(len(later))
            heads_left = np.flatnonzero(np.r_[True, run[later][1:] != run[later][:-1]])
            failed = np.repeat(np.minimum.reduceat(np.where(joins, len(later), at), heads_left),
                               np.diff(np.r_[heads_left, len(later)]))
            begins[maybe[later[at == failed]]] = True
            undecided = at > failed
            later, began = later[undecided], later[failed[undecided]]
        if len(later):  # runs with more failures than rounds: one by one
            begins[_one_by_one(later, began, maybe, run, candidates, prior, stamps, window)] = True
        out.append(candidates[begins])
    return out


ROUNDS = 32  # a run of maybes with more failures than this is decided one by one


def _one_by_one(later: np.ndarray, began: np.ndarray, maybe: np.ndarray, run: np.ndarray, candidates: np.ndarray,
                prior: np.ndarray, stamps: np.ndarray, window: float) -> list[int]:
    """The maybes among ``later`` (positions in maybe, each run's in order, each run's first one
    with ``began``: where its conversation began) that begin a conversation, in a plain loop."""
    ks, fs = maybe[later], maybe[began]
    breaks, first_row, first_ts, current = [], -1, 0.0, -1  # where the conversation began; its run
    for k, r, f_row, f_ts, k_prior, k_row, k_ts in zip(
            ks.tolist(), run[later].tolist(), candidates[fs].tolist(), stamps[fs].tolist(), prior[ks].tolist(),
            candidates[ks].tolist(), stamps[ks].tolist()):
        if r != current:
            first_row, first_ts, current = f_row, f_ts, r
        if k_prior >= first_row and k_ts - first_ts <= window:
            continue  # a late reply in a thread of this conversation
        first_row, first_ts = k_row, k_ts
        breaks.append(k)
    return breaks


def _summarise(rows: _Rows, every_starts: list[np.ndarray]) -> list[Conversations]:
    """The conversations for each reply window: those that begin at its array of ``every_starts``."""
    d, w, ts = rows.direction, rows.weight, rows.ts
    bounds = [(starts, np.r_[starts[1:], len(ts)]) for starts in every_starts]  # each conversation's rows: [start, next)
    # How many rows of each mark a conversation has: the difference of the mark's running count
    # (from 0, one longer than the rows) at its bounds. One running count serves every window (a
    # reduceat per window and mark costs ten times as much); one mark at a time keeps memory low.
    counts: list[list[np.ndarray]] = [[] for _ in every_starts]
    running = np.zeros(len(ts) + 1, dtype=np.int32)
    for k, mark in enumerate(_marks(rows)):
        np.cumsum(mark, out=running[1:])
        for got, (starts, stops) in zip(counts, bounds):
            n = running[stops] - running[starts]
            got.append(n.astype(np.int64) if k < 2 else n > 0)  # the directions are counted; the rest is "any"
    found = []
    for (starts, stops), (outbound, inbound, met, direct_out, direct_in, small_meeting) in zip(bounds, counts):
        first_direction, late = d[starts], rows.late_answer[starts]
        initiator = np.where(first_direction == OUT, ME, np.where(first_direction == IN, THEM, rows.initiator[starts]))
        initiator = np.where(late, np.where(first_direction == OUT, THEM, ME), initiator).astype(np.int8)
        answered = late | met | np.where(initiator == ME, inbound > 0, np.where(initiator == THEM, outbound > 0, True))
        # a conversation some later conversation answers, however late, was answered
        answering = np.flatnonzero(rows.late_answer)
        if len(answering):
            answered[np.searchsorted(starts, rows.earlier[answering], side="right") - 1] = True
        addressed = met | np.where(initiator == ME, direct_out, np.where(initiator == THEM, direct_in, True))
        found.append(Conversations(group=rows.group[starts], start=ts[starts], end=ts[stops - 1], initiator=initiator,
                                   outbound=outbound, inbound=inbound, met=met, weight=np.maximum.reduceat(w, starts),
                                   answered=answered, direct=small_meeting | (direct_out & direct_in),
                                   addressed=addressed))
    return found


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
    """One person's interactions (sorted by time) -> their conversations."""
    n = len(items)
    return split(Table.of(items), np.arange(n), np.zeros(n, dtype=np.int64), (reply_window_days,))[0].objects()
