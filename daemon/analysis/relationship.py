"""Personal or professional, with a confidence.

Signals, each small: which of my accounts or calendars the contact went through, a shared company
domain, their domain being a company's or a free-mail one (weak: friends use company mail too), the
share of contact in evenings and weekends, what our meetings were called (dinner vs review), and
recurring meetings. A ``[[people]]`` override wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from daemon.analysis.conversations import Conversations
from daemon.analysis.table import IN, SOCIAL, WORK, Table, distinct, per_person
from daemon.identity import FREEMAIL, Me, domain_of

UNKNOWN_BELOW = 0.6  # |score| under this: "unknown", for a thin history only
BEST_GUESS_FROM = 3  # two-way conversations from which every tie gets a best guess
DAY = 86400.0


def work_domains(me: Me, counterpart_addresses: set[str]) -> frozenset[str]:
    """Which of my domains are a workplace: company domains that other people write from too
    (colleagues). A personal vanity domain nobody else uses is not one."""
    theirs = {domain_of(a) for a in counterpart_addresses}
    return frozenset(d for d in me.work_domains if d in theirs)


# What a contact's own addresses say (the domain cue), strongest first.
OWN_WORKPLACE, COMPANY_CLUSTER, FREEMAIL_ONLY, COMPANY = 0, 1, 2, 3
_DOMAIN_CUE = {OWN_WORKPLACE: (2.0, "same company domain as mine"),
               COMPANY_CLUSTER: (1.0, "a company domain several of your contacts write from"),
               FREEMAIL_ONLY: (-0.4, "free-mail address"), COMPANY: (0.4, "company address")}


def domain_cues(addresses: list[str], person_of_address: np.ndarray, count: int, real: np.ndarray,
                workplaces: frozenset[str], minimum: int = 3) -> np.ndarray:
    """What each person's addresses say, for everyone at once: one of my workplaces' domains; else a
    company cluster, a company (not free-mail) domain that at least ``minimum`` real contacts write
    from (almost always a workplace or a client, rarely a family); else free-mail only; else a
    company. ``person_of_address``: each address's person (-1: none); ``real``: who is a real contact."""
    used = np.flatnonzero(person_of_address >= 0)
    codes: dict[str, int] = {}
    domain = np.fromiter((codes.setdefault(domain_of(addresses[a]), len(codes)) for a in used.tolist()),
                         dtype=np.int64, count=len(used))
    free = np.array([d in FREEMAIL for d in codes], dtype=bool)
    work = np.array([d in workplaces for d in codes], dtype=bool)
    person = person_of_address[used]
    company = ~free[domain] & real[person]
    writers = distinct(person[company] * max(len(codes), 1) + domain[company]) % max(len(codes), 1)
    cluster = np.bincount(writers, minlength=len(codes)) >= minimum
    addresses_of = per_person(person, count)
    return np.where(per_person(person, count, work[domain]) > 0, OWN_WORKPLACE,
                    np.where(per_person(person, count, cluster[domain]) > 0, COMPANY_CLUSTER,
                             np.where((per_person(person, count, free[domain]) == addresses_of) & (addresses_of > 0),
                                      FREEMAIL_ONLY, COMPANY)))


LEARN_FROM = 5  # an account's context is learned from at least this many real contacts
# Shares of free-mail-only contacts: nearly none is a work account; few, in mail among groups of
# people (CROWD of its rows with three people or more), is one too; most is a personal account.
NEARLY_NONE, FEW, PERSONAL_ABOVE = 0.15, 0.4, 0.6
CROWD = 0.3


def account_contexts(table: Table, person: np.ndarray, count: int, real: np.ndarray, domain: np.ndarray, me: Me,
                     workplaces: frozenset[str]) -> list[str | None]:
    """What each of my accounts (``table.accounts``) carries: "professional", "personal" or None.

    Said in ``[identity] context``, else learned from whom I correspond with through it: an account
    whose real contacts nearly all write from company domains, or mostly do in mail among groups of
    people, carries work; one whose contacts mostly write from free-mail carries personal mail.
    Only when that says nothing, and I have both a workplace account and another, does the
    workplace domain decide. ``person``: whose each row is (``count``: no one's); ``domain``: each
    person's domain cue."""
    has_both = bool(workplaces) and any(domain_of(a) not in workplaces for a in me.addresses)
    real_rows = np.r_[real, False][person]  # rows of real contacts (the spill slot ``count`` is no one)
    free = np.r_[real & (domain == FREEMAIL_ONLY), False]
    out: list[str | None] = []
    for code, address in enumerate(table.accounts):
        if not address or address not in me:
            out.append(None)
            continue
        if told := me.context_of(address):
            out.append(told)
            continue
        rows = real_rows & (table.account == code)
        reached = np.bincount(person[rows], minlength=count + 1).astype(bool)  # the real contacts reached through it
        n, f = int(reached.sum()), int((reached & free).sum())
        crowd = float((table.fanout[rows] >= 3).mean()) if n else 0.0
        if n >= LEARN_FROM and (f <= NEARLY_NONE * n or (f <= FEW * n and crowd >= CROWD)):
            out.append("professional")
        elif n >= LEARN_FROM and f >= PERSONAL_ABOVE * n:
            out.append("personal")
        elif has_both:
            out.append("professional" if domain_of(address) in workplaces else "personal")
        else:
            out.append(None)
    return out


def account_pull(table: Table, person: np.ndarray, count: int, contexts: list[str | None]) -> np.ndarray:
    """Each person's pull from the accounts their contact went through: the share of it through
    work accounts less the share through personal ones (rows through no known account count as
    neither but dilute the pull)."""
    if not any(contexts):
        return np.zeros(count)
    professional = np.array([c == "professional" for c in contexts] or [False], dtype=bool)
    personal = np.array([c == "personal" for c in contexts] or [False], dtype=bool)
    known = np.array([bool(a) for a in table.accounts] or [False], dtype=bool)
    through = per_person(person, count, known[table.account])
    with np.errstate(divide="ignore", invalid="ignore"):
        pull = (per_person(person, count, professional[table.account])
                - per_person(person, count, personal[table.account])) / through
    return np.where(through > 0, pull, 0.0)


def two_means_reference(shares: list[float]) -> tuple[float, float]:
    """1-D two-means as plainly as it can be written: the two centres ``HoursModel.fit`` finds."""
    lo, hi = min(shares), max(shares)
    for _ in range(50):
        middle = (lo + hi) / 2
        low = [x for x in shares if x <= middle] or [lo]
        high = [x for x in shares if x > middle] or [hi]
        new = (sum(low) / len(low), sum(high) / len(high))
        if new == (lo, hi):
            break
        lo, hi = new
    return lo, hi


@dataclass(frozen=True)
class HoursModel:
    """The user's own split of contacts into evening-and-weekend ones and daytime ones: 1-D
    two-means over every real contact's share of off-hours contact (``two_means_reference``)."""

    midpoint: float = 0.4
    half_spread: float = 0.5  # half the distance between the two clusters; wide = weak cue

    @staticmethod
    def fit(shares: list[float]) -> HoursModel:
        if len(shares) < 4:
            return HoursModel()
        ordered = np.sort(np.asarray(shares, dtype=np.float64))
        below = np.r_[0.0, np.cumsum(ordered)]  # below[k]: the sum of the k smallest
        n, total = len(ordered), float(below[-1])
        lo, hi = float(ordered[0]), float(ordered[-1])
        for _ in range(50):
            k = int(np.searchsorted(ordered, (lo + hi) / 2, side="right"))  # how many are <= the midpoint
            new_lo = float(below[k]) / k if k else lo
            new_hi = (total - float(below[k])) / (n - k) if k < n else hi
            if (new_lo, new_hi) == (lo, hi):
                break
            lo, hi = new_lo, new_hi
        # clusters closer than 0.3 apart are no real split: keep the cue weak
        return HoursModel((lo + hi) / 2, max((hi - lo) / 2, 0.15) if hi - lo >= 0.3 else 0.5)

    def cue(self, share: float) -> float:
        """+1 at the daytime cluster's centre, -1 at the evening one's (clipped to +-1.5)."""
        return max(-1.5, min(1.5, (self.midpoint - share) / self.half_spread))


@dataclass(kw_only=True)
class Evidence:
    """What is counted of each person's interactions to tell the kind of tie: one entry per person."""

    interactions: np.ndarray
    professional_context: np.ndarray  # how many went through a source marked professional
    personal_context: np.ndarray  # ... through one marked personal
    social_meetings: np.ndarray
    work_meetings: np.ndarray
    recurring_meetings: np.ndarray  # bool: a recurring meeting that is not a social one
    off_hours: np.ndarray  # the share in evenings (19-7 h) and at weekends, local time, of what I wrote or we met
    # (of everything, for someone I never wrote to)


WEEK = 7 * 86400
# Each hour of the week from Monday 0 h: whether it is off hours (19-7 h, or a Saturday or Sunday).
_OFF_HOURS = np.array([not 7 <= h % 24 < 19 or h // 24 >= 5 for h in range(168)], dtype=bool)


def off_hours(local: np.ndarray) -> np.ndarray:
    """Whether each wall-clock time (whole seconds since 1970-01-01, a Thursday, as int64) falls in
    the evening, the night or a weekend: one look-up by hour of the week (``is_off_hours_reference``)."""
    return _OFF_HOURS[(local + 3 * 86400) % WEEK // 3600]


def is_off_hours_reference(local: int) -> bool:
    """``off_hours`` of one time, by the calendar."""
    when = datetime(1970, 1, 1) + timedelta(seconds=local)
    return when.hour >= 19 or when.hour < 7 or when.weekday() >= 5


def evidence(table: Table, local: np.ndarray, person: np.ndarray, count: int,
             source_context: dict[str, str | None]) -> Evidence:
    """The evidence of every person at once. ``local``: each row's time on the local wall clock in
    whole seconds (LocalClock.locals, floored, as int64); ``person``: whose each row is (``spill``:
    ``count`` for no one's)."""
    def counted(mask: np.ndarray | None = None) -> np.ndarray:
        return per_person(person, count, mask)

    contexts = [source_context.get(s) for s in table.sources]
    professional = np.array([c == "professional" for c in contexts], dtype=bool)
    personal = np.array([c == "personal" for c in contexts], dtype=bool)
    # When I write or we meet is my own time; when they write is theirs, in a zone I do not know.
    # Each person's rows, counted by (mine, off hours) in one go: (theirs, on), (theirs, off), (mine, on), (mine, off).
    kind = off_hours(local).astype(np.int64)
    kind += 2 * (table.direction != IN)
    kind += 4 * person
    by_kind = np.bincount(kind, minlength=4 * (count + 1))[:4 * count].reshape(count, 4)
    n, my_rows, off = by_kind.sum(axis=1), by_kind[:, 2] + by_kind[:, 3], by_kind[:, 1] + by_kind[:, 3]
    share = np.where(my_rows > 0, by_kind[:, 3] / np.maximum(my_rows, 1), off / np.maximum(n, 1))
    return Evidence(interactions=n, professional_context=counted(professional[table.source]),
                    personal_context=counted(personal[table.source]),
                    social_meetings=counted(table.hint == SOCIAL), work_meetings=counted(table.hint == WORK),
                    recurring_meetings=counted(table.recurring & table.meeting & (table.hint != SOCIAL)) > 0,
                    off_hours=share)


@dataclass(kw_only=True)
class Relationships:
    """Personal or professional, with a confidence, for each person; the signals on demand."""

    relationship: list[str]
    confidence: list[float]
    cues: np.ndarray  # (cue, person): each cue's pull toward professional (+) or personal (-)
    domain: np.ndarray  # each person's domain cue (OWN_WORKPLACE ...)
    off_hours: np.ndarray
    hours: HoursModel
    override: list[str | None]
    origin: list[str]  # where each override was said ("the config", "tiekeeper set")

    def signals(self, k: int) -> tuple[str, ...]:
        """Why person ``k`` is judged so, in words: each cue that pulled, which way and how hard."""
        if self.override[k]:
            return (f"set by you ({self.origin[k]})",)
        whys = ("account kind of the sources it went through", "which of my addresses it went through",
                _DOMAIN_CUE[int(self.domain[k])][1],
                f"{self.off_hours[k]:.0%} in evenings and weekends (your split: {self.hours.midpoint:.0%})",
                "what our meetings and mails were about", "recurring meetings",
                "how often we are in touch (frequent leans personal, intermittent professional)")
        return tuple(f"{why} (toward {'professional' if value > 0 else 'personal'}, {abs(value):.1f})"
                     for why, value in zip(whys, self.cues[:, k].tolist()) if abs(value) >= _PULLS)


_PULLS = 0.05  # a cue weaker than this is left out


def rhythm_cue(convs: Conversations, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Each person's two-way conversations, and what their rhythm says: frequent ties lean personal,
    intermittent ones professional (+-0.4 a doubling of the typical gap away from 40 days, at most
    0.6), once there are three gaps to judge by."""
    two = np.flatnonzero(convs.two_way)
    person, start = convs.person[two], convs.start[two]
    same = person[1:] == person[:-1]
    logs = np.log(np.maximum(np.diff(start) / DAY, 1.0))[same]
    who = person[1:][same]
    gaps = np.bincount(who, minlength=count)[:count]
    mean = np.bincount(who, weights=logs, minlength=count)[:count] / np.maximum(gaps, 1)
    cue = np.where(gaps >= 3, np.clip((mean - math.log(40.0)) / math.log(2.0) * 0.4, -0.6, 0.6), 0.0)
    return per_person(convs.person, count, convs.two_way), cue


def classify(e: Evidence, domain: np.ndarray, accounts: np.ndarray, overrides: list[str | None],
             hours: HoursModel = HoursModel(), two_way: np.ndarray | None = None,
             rhythm: np.ndarray | None = None, origins: list[str] | None = None) -> Relationships:
    """Everyone's kind of tie. ``domain``: their domain cues; ``accounts``: their pull from the
    kind of my accounts it went through (``account_pull``); ``overrides``: a relationship set in
    the config, or None. ``hours``: how the user's contacts split into evening and daytime ones; a
    tie is judged against the user's own habits, not a fixed clock. ``two_way``: each person's
    two-way conversations (from BEST_GUESS_FROM on, the sign of the cues decides: "unknown" is for
    thin histories); ``rhythm``: each one's rhythm cue (``rhythm_cue``)."""
    n = np.maximum(e.interactions, 1)
    two_way = np.zeros(len(n), dtype=np.int64) if two_way is None else two_way
    rhythm = np.zeros(len(n)) if rhythm is None else rhythm
    cues = np.array([
        2.5 * (e.professional_context / n - e.personal_context / n),
        1.5 * accounts,
        np.array([cue for cue, _ in _DOMAIN_CUE.values()])[domain],
        # the hours of one or two conversations are chance: the cue grows to full with three
        np.clip((hours.midpoint - e.off_hours) / hours.half_spread, -1.5, 1.5) * np.minimum(two_way, 3) / 3,
        np.minimum(e.work_meetings, 4) * 0.5 - np.minimum(e.social_meetings, 4) * 0.6,
        np.where(e.recurring_meetings, 0.8, 0.0),
        rhythm,
    ])
    score = np.zeros(len(n))
    for cue in cues:  # in this order, as one sum would add them up
        score = score + np.where(np.abs(cue) >= _PULLS, cue, 0.0)
    relationship, confidence = [], []
    for s, override, some, judged in zip(score.tolist(), overrides, (e.interactions > 0).tolist(),
                                         (two_way >= BEST_GUESS_FROM).tolist()):
        if override:
            relationship.append(override)
            confidence.append(1.0)
        elif not some:
            relationship.append("unknown")
            confidence.append(0.0)
        else:
            weak = abs(s) < UNKNOWN_BELOW if not judged else s == 0
            relationship.append("unknown" if weak else "professional" if s > 0 else "personal")
            confidence.append(round(1 / (1 + math.exp(-abs(s))), 2))
    return Relationships(relationship=relationship, confidence=confidence, cues=cues, domain=domain, off_hours=e.off_hours,
                 hours=hours, override=overrides, origin=origins or ["the config"] * len(overrides))
