"""What the judgements read of each person's conversations, counted for everyone at once."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from daemon.analysis.conversations import Conversation, Conversations
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
    which are sorted by person, then time. ``history_reference`` is the same for one person."""
    person, start, initiator = convs.person, convs.start, convs.initiator
    n = len(person)
    two_way = convs.two_way

    def count(mask: np.ndarray | None = None, of: np.ndarray = person) -> np.ndarray:
        return per_person(of, people, mask)

    two_ways = np.flatnonzero(two_way)  # positions of the two-way conversations
    two_way_person = person[two_ways]
    new_person = two_way_person[1:] != two_way_person[:-1]
    first_two_way = np.full(people, np.nan)
    last_two_way = np.full(people, np.nan)
    last_two_way_at = np.full(people, -1, dtype=np.int64)  # the position of each person's last two-way one
    if len(two_ways):
        firsts, lasts = two_ways[np.r_[True, new_person]], two_ways[np.r_[new_person, True]]
        first_two_way[person[firsts]] = start[firsts]
        last_two_way[person[lasts]] = convs.end[lasts]
        last_two_way_at[person[lasts]] = lasts
    last_contact = np.full(people, np.nan)
    if n:
        lasts = np.flatnonzero(np.r_[person[1:] != person[:-1], True])
        last_contact[person[lasts]] = convs.end[lasts]
    after = np.arange(n) > last_two_way_at[person]
    recent = now - start <= RECENT_DAYS * DAY
    # who started what, and what waits for an answer, counts only what was addressed to the other
    # (a mail To them, not a copy among many, or a meeting)
    mine, theirs = (initiator == ME) & convs.addressed, (initiator == THEM) & convs.addressed
    # the last LATELY two-way conversations of each person whose starter is known
    known = np.flatnonzero(two_way & (initiator != OTHER))
    known_person = person[known]
    known_per_person = count(of=known_person)
    position = np.arange(len(known)) - np.searchsorted(known_person, known_person, side="left")  # in its person's
    lately = known[known_per_person[known_person] - 1 - position < LATELY]
    # log-days between the starts of consecutive two-way conversations of one person
    same = ~new_person
    logs = np.log(np.maximum((start[two_ways][1:] - start[two_ways][:-1]) / DAY, 1.0))[same]
    log_person = two_way_person[1:][same]
    gaps = count(of=log_person)
    mean = np.bincount(log_person, weights=logs, minlength=people) / np.maximum(gaps, 1)
    var = np.bincount(log_person, weights=(logs - mean[log_person]) ** 2, minlength=people) / np.maximum(gaps, 1)
    return Histories(
        conversations=count(), two_way=count(two_way), first_two_way=first_two_way, last_two_way=last_two_way,
        since_mine=count(after & mine), since_theirs=count(after & theirs),
        recent_mine=count(recent & mine), recent_theirs=count(recent & theirs),
        unanswered_mine=count(recent & after & mine & ~convs.answered),
        unanswered_theirs=count(recent & after & theirs & ~convs.answered),
        lately_mine=count(mine[lately], person[lately]), lately=count(of=person[lately]),
        gaps=gaps, gap_mean=mean, gap_var=var, direct_two_way=count(two_way & convs.direct) > 0,
        last_contact=last_contact,
    )


def history_reference(convs: list[Conversation], now: float) -> History:
    """One person's History from their conversations (in time order), written for reading."""
    two_way = [c for c in convs if c.two_way]
    last = two_way[-1] if two_way else None
    since = [c for c in convs if last is None or c.start > last.end]  # after the last two-way one
    recent = [c for c in convs if now - c.start <= RECENT_DAYS * DAY]

    def started(by: str, among: list[Conversation]) -> int:  # only what was addressed to the other counts as a start
        return sum(c.initiator == by and c.addressed for c in among)

    def unanswered_run(by: str) -> int:  # of the recent ones since the last two-way one: those of ``by``, unanswered
        n = 0
        for c in reversed(recent):
            if c.two_way:
                break
            n += c.initiator == by and c.addressed and not c.answered
        return n

    lately = [c for c in two_way if c.initiator in ("me", "them")][-LATELY:]
    logs = [math.log(max((b.start - a.start) / DAY, 1.0)) for a, b in zip(two_way, two_way[1:])]
    mean = sum(logs) / len(logs) if logs else 0.0
    return History(
        conversations=len(convs), two_way=len(two_way),
        first_two_way=two_way[0].start if two_way else None, last_two_way=last.end if last else None,
        since_mine=started("me", since), since_theirs=started("them", since),
        recent_mine=started("me", recent), recent_theirs=started("them", recent),
        unanswered_mine=unanswered_run("me"), unanswered_theirs=unanswered_run("them"),
        lately_mine=started("me", lately), lately=len(lately), gaps=len(logs),
        gap_mean=mean, gap_var=sum((x - mean) ** 2 for x in logs) / len(logs) if logs else 0.0,
        direct_two_way=any(c.direct and c.two_way for c in convs),
        last_contact=convs[-1].end if convs else None,
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
        return self.of([k])[0]

    def of(self, people: list[int]) -> list[History]:
        """The History of each of ``people``, made in one go: each column becomes Python values
        once for all of them, not once per person."""
        index = np.array(people, dtype=np.int64)
        columns = [getattr(self, f)[index].tolist() for f in _FIELDS]
        for f in ("first_two_way", "last_two_way", "last_contact"):
            times = columns[_FIELDS.index(f)]
            times[:] = [None if math.isnan(v) else v for v in times]
        return [History(**dict(zip(_FIELDS, values))) for values in zip(*columns)]


_FIELDS = tuple(f.name for f in fields(History))
