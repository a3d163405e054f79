"""One person, one contact: merging a person's many addresses.

Addresses meet when they share a merge key (case, plus-tags, Gmail dots), a full display name
("Doe, Jane" = "Jane Doe" = an RFC 2047 encoded "Jane Doe"), or a ``[[people]]`` entry in the config.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from daemon.analysis.table import DIRECTIONS, Table, distinct, distinct_counts, narrow
from daemon.config import Person as PersonOverride
from daemon.identity import merge_key, nice_name, normalize_name

_GENERIC_NAMES = frozenset({"", "me", "team", "support", "info", "admin", "office", "unknown"})


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class PersonGroup:
    """One person, under all their addresses."""

    id: str
    name: str
    addresses: list[str]  # the most recently used first
    override: PersonOverride | None = None


@dataclass
class People:
    """Who is who in a table of interactions."""

    groups: list[PersonGroup]  # sorted by id
    order: np.ndarray  # the rows of the table by person, then time (ts, address, direction); ignored people left out
    group: np.ndarray  # the person (index into ``groups``) of each row, in that order
    person: np.ndarray  # the person of each row of the table, in the table's order (-1: ignored)
    address_person: np.ndarray  # the person of each of the table's addresses (-1: none, or ignored)


def _mergeable_name(name: str) -> str:
    n = normalize_name(name)
    return n if len(n.split()) >= 2 and len(n) >= 5 and n not in _GENERIC_NAMES else ""


def group_people(table: Table, overrides: tuple[PersonOverride, ...] = ()) -> People:
    """Group interactions by person. Ignored people (``ignore = true``) are left out."""
    present = np.flatnonzero(np.bincount(table.address, minlength=len(table.addresses)))
    uf = _UnionFind()
    key_of = {a: merge_key(table.addresses[a]) for a in present.tolist()}
    for key in key_of.values():
        uf.find(key)
    name_owner: dict[str, str] = {}
    mergeable: dict[int, str] = {}
    width = max(len(table.names), 1)
    for pair in distinct(table.address.astype(np.int64) * width + table.name).tolist():
        address, name = divmod(pair, width)
        n = mergeable.get(name)
        if n is None:
            n = mergeable[name] = _mergeable_name(table.names[name])
        if n:
            key = key_of[address]
            if n in name_owner:
                uf.union(key, name_owner[n])
            else:
                name_owner[n] = key
    override_of: dict[str, PersonOverride] = {}
    for person in overrides:
        keys = [merge_key(a) for a in person.addresses]
        for k in keys:
            uf.union(keys[0], k)
        for k in keys:
            override_of[k] = person
    members: dict[str, list[int]] = defaultdict(list)  # root -> address codes
    for address, key in key_of.items():
        members[uf.find(key)].append(address)
    last_used = np.full(len(table.addresses), -np.inf)
    np.maximum.at(last_used, table.address, table.ts)
    last = last_used.tolist()
    found = []
    for codes in members.values():
        keys = {key_of[a] for a in codes}
        override = next((override_of[k] for k in sorted(keys) if k in override_of), None)
        if override and override.ignore:
            continue
        codes.sort(key=lambda a: (-last[a], table.addresses[a]))  # the most recently used first
        # The id follows the smallest merge key, so it stays put when a new address joins.
        ident = hashlib.sha1(min(keys).encode()).hexdigest()[:12]
        found.append((ident, codes, override))
    found.sort(key=lambda f: f[0])
    person_of = np.full(len(table.addresses), -1, dtype=np.int64)
    for index, (_, codes, _) in enumerate(found):
        person_of[codes] = index
    row_person = person_of[table.address]
    rows = np.flatnonzero(row_person >= 0)
    rank = np.empty(len(table.addresses), dtype=np.int64)
    rank[sorted(range(len(table.addresses)), key=table.addresses.__getitem__)] = np.arange(len(table.addresses))
    tiebreak = rank[table.address[rows]] * 4 + _DIRECTION_RANK[table.direction[rows]]
    order = rows[by_person_then_time(row_person[rows], table.ts[rows], tiebreak)]
    group = row_person[order]
    best = _best_names(table, order, group)
    groups = []
    for index, (ident, codes, override) in enumerate(found):
        addresses = [table.addresses[a] for a in codes]
        name = override.name if override and override.name else best.get(index, "")
        groups.append(PersonGroup(ident, nice_name(name, addresses[0]), addresses, override))
    return People(groups, order, group, row_person, person_of)


# "" < "both" < "in" < "out", as the direction strings sort
_DIRECTION_RANK = np.array([sorted(DIRECTIONS).index(d) for d in DIRECTIONS], dtype=np.int64)


def by_person_then_time(person: np.ndarray, ts: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """The order of rows by person, then time, then ``tiebreak``, then position: what a stable
    sort by (person, ts, tiebreak) gives, in a fraction of ``np.lexsort``'s time."""
    order = np.argsort(ts)
    order = order[np.argsort(narrow(person)[order], kind="stable")]
    p, s = person[order], ts[order]
    tied = np.flatnonzero((p[1:] == p[:-1]) & (s[1:] == s[:-1]))
    if len(tied):  # one person twice at one moment (two addresses, To and Cc): only those go further
        at = distinct(np.r_[tied, tied + 1])
        rows = order[at]
        order[at] = rows[np.lexsort((rows, tiebreak[rows], ts[rows], person[rows]))]
    return order


def _best_names(table: Table, order: np.ndarray, group: np.ndarray) -> dict[int, str]:
    """Each person's most used display name (an address is no name); on a tie, the one seen first."""
    usable = np.array([bool(n) and "@" not in n for n in table.names], dtype=bool)
    names = table.name[order]
    rows = np.flatnonzero(usable[names]) if len(table.names) else np.zeros(0, dtype=np.int64)
    if not len(rows):
        return {}
    width = len(table.names)
    pairs, first, uses = distinct_counts(group[rows] * width + names[rows])
    person, name = np.divmod(pairs, width)
    pick = np.lexsort((first, -uses, person))
    chosen = pick[np.r_[True, person[pick][1:] != person[pick][:-1]]]
    return {p: table.names[n] for p, n in zip(person[chosen].tolist(), name[chosen].tolist())}
