"""What the judgements read of each person's conversations, counted for everyone at once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from daemon.analysis.conversations import Conversations
from daemon.analysis.rhythm import DAY
from daemon.analysis.table import ME, OTHER, THEM, per_person

RECENT_DAYS = 365  # "the last 12 months" of the one-sided checks
LATELY = 5  # "you started the last 5"


@dataclass(slots=True, kw_only=True)
class History:
    conversations: int
    two_way: int
    first_two_way: float | None  # when the first two-way conversation began
    last_two_way: float | None  # when the last one ended
    since_mine: int  # after the last two-way conversation: the ones I started (addressed to them), all one-way
    since_theirs: int  # ... the ones they started
    recent_mine: int  # conversations of the last 12 months that I started, answered or not, addressed to them
    recent_theirs: int  # ... that they started
    unanswered_mine: int  # of the last 12 months, after the last two-way one: mine that got no answer
    unanswered_theirs: int  # ... theirs that I did not answer
    lately_mine: int  # of the last (up to) 5 two-way conversations with a known starter, the ones I started
    lately: int
    gaps: int  # gaps between the starts of two-way conversations
    gap_mean: float  # their log-days: mean and (population) variance
    gap_var: float
    direct_two_way: bool  # at least one two-way conversation was direct
    last_contact: float | None  # when the last conversation, of either side or both, ended


def histories(convs: Conversations, people: int, now: float) -> Histories:
    """The History of each of ``people`` persons (index = person) from their conversations,
    which are sorted by person, then time."""
    g, start, init = convs.group, convs.start, convs.initiator
    n = len(g)
    two_way = convs.two_way

    def count(mask: np.ndarray | None = None, of: np.ndarray = g) -> np.ndarray:
        return per_person(of, people, mask)

    rows = np.flatnonzero(two_way)
    tg = g[rows]
    change = tg[1:] != tg[:-1]
    first_two_way = np.full(people, np.nan)
    last_two_way = np.full(people, np.nan)
    last_index = np.full(people, -1, dtype=np.int64)
    if len(rows):
        firsts, lasts = rows[np.r_[True, change]], rows[np.r_[change, True]]
        first_two_way[g[firsts]] = start[firsts]
        last_two_way[g[lasts]] = convs.end[lasts]
        last_index[g[lasts]] = lasts
    last_contact = np.full(people, np.nan)
    if n:
        ends = np.flatnonzero(np.r_[g[1:] != g[:-1], True])
        last_contact[g[ends]] = convs.end[ends]
    after = np.arange(n) > last_index[g]
    recent = now - start <= RECENT_DAYS * DAY
    # who started what, and what waits for an answer, counts only what was addressed to the other
    # (a mail To them, not a copy among many, or a meeting)
    mine, theirs = (init == ME) & convs.addressed, (init == THEM) & convs.addressed
    # the last LATELY two-way conversations of each person whose starter is known
    known = np.flatnonzero(two_way & (init != OTHER))
    kg = g[known]
    known_per_person = count(of=kg)
    position = np.arange(len(known)) - np.searchsorted(kg, kg, side="left")
    lately = known[known_per_person[kg] - 1 - position < LATELY]
    # log-days between the starts of consecutive two-way conversations of one person
    same = ~change
    logs = np.log(np.maximum((start[rows][1:] - start[rows][:-1]) / DAY, 1.0))[same]
    log_person = tg[1:][same]
    gaps = count(of=log_person)
    mean = np.bincount(log_person, weights=logs, minlength=people) / np.maximum(gaps, 1)
    var = np.bincount(log_person, weights=(logs - mean[log_person]) ** 2, minlength=people) / np.maximum(gaps, 1)
    return Histories(
        conversations=count(), two_way=count(two_way), first_two_way=first_two_way, last_two_way=last_two_way,
        since_mine=count(after & mine), since_theirs=count(after & theirs),
        recent_mine=count(recent & mine), recent_theirs=count(recent & theirs),
        unanswered_mine=count(recent & after & mine & ~convs.answered),
        unanswered_theirs=count(recent & after & theirs & ~convs.answered),
        lately_mine=count(mine[lately], g[lately]), lately=count(of=g[lately]),
        gaps=gaps, gap_mean=mean, gap_var=var, direct_two_way=count(two_way & convs.direct) > 0,
        last_contact=last_contact,
    )


@dataclass(kw_only=True)
class Histories:
    """Every person's History as columns (the fields of History, one entry per person; NaN for a
    time that is None). ``histories[k]`` is person k's."""

    conversations: np.ndarray
    two_way: np.ndarray
    first_two_way: np.ndarray
    last_two_way: np.ndarray
    since_mine: np.ndarray
    since_theirs: np.ndarray
    recent_mine: np.ndarray
    recent_theirs: np.ndarray
    unanswered_mine: np.ndarray
    unanswered_theirs: np.ndarray
    lately_mine: np.ndarray
    lately: np.ndarray
    gaps: np.ndarray
    gap_mean: np.ndarray
    gap_var: np.ndarray
    direct_two_way: np.ndarray
    last_contact: np.ndarray

    def __len__(self) -> int:
        return len(self.conversations)

    def __getitem__(self, k: int) -> History:
        return History(**{f: column[k] for f, column in self._lists.items()})

    @cached_property
    def _lists(self) -> dict[str, list]:
        """The columns as lists of Python values (NaN: None), by field, made once: much faster to pick from."""
        lists = {f: getattr(self, f).tolist() for f in _FIELDS}
        for times in (lists[f] for f in ("first_two_way", "last_two_way", "last_contact")):
            times[:] = [None if v != v else v for v in times]
        return lists


_FIELDS = tuple(f.name for f in fields(History))
