"""One person, one contact: merging a person's many addresses.

Addresses meet when they share a merge key (case, plus-tags, Gmail dots), a full display name
("Doe, Jane" = "Jane Doe" = an RFC 2047 encoded "Jane Doe"), or a ``[[people]]`` entry in the config.

``group_people`` does it on columns; ``people_reference`` is the same rule written for reading,
the tests' oracle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from daemon.analysis.table import DIRECTIONS, Table, distinct, distinct_counts, narrow, sorted_with_positions
from daemon.config import Person as PersonOverride
from daemon.identity import is_cjk_name, merge_key, nice_name, normalize_name, spelled_name
from daemon.models import Interaction

_GENERIC_NAMES = frozenset({"", "me", "team", "support", "info", "admin", "office", "unknown"})


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
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

    persons: list[PersonGroup]  # sorted by id; a person is an index into this list
    sorted_rows: np.ndarray  # the rows of the table by person, then time (ts, address, direction); ignored people left out
    person_of_sorted_row: np.ndarray  # the person of each of ``sorted_rows``
    person_of_row: np.ndarray  # the person of each row of the table, in the table's order (-1: ignored)
    person_of_address: np.ndarray  # the person of each of the table's addresses (-1: none, or ignored)


def _mergeable_name(name: str) -> str:
    """The name's comparable form when it is specific enough to join addresses: two parts or more
    (a first name alone is shared by too many), or two characters or more in a script written
    without spaces (most Chinese, Japanese and Korean full names)."""
    n = normalize_name(name)
    if n in _GENERIC_NAMES:
        return ""
    if is_cjk_name(n):
        return n if len(n) >= 2 else ""
    return n if len(n.split()) >= 2 and len(n) >= 5 else ""


def group_people(table: Table, overrides: tuple[PersonOverride, ...] = ()) -> People:
    """Group interactions by person. Ignored people (``ignore = true``) are left out."""
    present = np.flatnonzero(np.bincount(table.address, minlength=len(table.addresses)))
    addresses = present.tolist()
    keys = _keys_apart_by_name(table, addresses, [merge_key(table.addresses[a]) for a in addresses])
    key_code: dict[str, int] = {}
    key_of = np.fromiter((key_code.setdefault(k, len(key_code)) for k in keys), dtype=np.int64, count=len(keys))
    uf = _UnionFind()
    joins, names = _sharing_a_name(table, present, key_of)
    for first, other in joins + _spelled_joins(table, present, key_of, names):
        uf.union(first, other)
    override_of: dict[int, PersonOverride] = {}
    for person in overrides:
        codes = [key_code.setdefault(merge_key(a), len(key_code)) for a in person.addresses]
        for k in codes:
            uf.union(codes[0], k)
            override_of[k] = person
    component = np.arange(len(key_code))
    for k in list(uf.parent):
        component[k] = uf.find(k)
    # The present addresses, person by person: runs of one component, each in the order of presence.
    label = component[key_of]
    by_person = np.argsort(label, kind="stable")
    bounds = np.flatnonzero(np.r_[True, label[by_person][1:] != label[by_person][:-1], True]).tolist() if len(label) else [0]
    last_used = np.full(len(table.addresses), -np.inf)
    np.maximum.at(last_used, table.address, table.ts)
    last = last_used.tolist()
    special = set(override_of)  # key codes with an override
    codes_of_keys, in_person_order = key_of.tolist(), by_person.tolist()
    found: list[tuple[str, list[int], PersonOverride | None]] = []
    for start, end in zip(bounds[:-1], bounds[1:]):
        if end - start == 1 and codes_of_keys[in_person_order[start]] not in special:  # most people: one address, no override
            k = in_person_order[start]
            found.append((_ident(keys[k]), [addresses[k]], None))
            continue
        positions = in_person_order[start:end]
        group_keys = {keys[k] for k in positions}
        override = next((override_of[key_code[k]] for k in sorted(group_keys) if key_code[k] in special), None)
        if override and override.ignore:
            continue
        codes = sorted((addresses[k] for k in positions), key=lambda a: (-last[a], table.addresses[a]))  # most recent first
        # The id follows the smallest merge key, so it stays put when a new address joins.
        found.append((_ident(min(group_keys)), codes, override))
    found.sort(key=lambda f: f[0])
    person_of_address = np.full(len(table.addresses), -1, dtype=np.int64)
    if found:
        person_of_address[[a for _, codes, _ in found for a in codes]] = np.repeat(np.arange(len(found)), [len(f[1]) for f in found])
    person_of_row = person_of_address[table.address]
    rows = np.flatnonzero(person_of_row >= 0)
    everyone = len(rows) == len(table)  # (then the rows' columns are the table's own)

    def tiebreak(at: np.ndarray) -> np.ndarray:  # by address, then direction; only asked of rows at one moment
        rank = np.empty(len(table.addresses), dtype=np.int64)
        rank[sorted(range(len(table.addresses)), key=table.addresses.__getitem__)] = np.arange(len(table.addresses))
        chosen = at if everyone else rows[at]
        return rank[table.address[chosen]] * 4 + _DIRECTION_RANK[table.direction[chosen]]

    row_person, row_ts = (person_of_row, table.ts) if everyone else (person_of_row[rows], table.ts[rows])
    order = by_person_then_time(row_person, row_ts, tiebreak)
    sorted_rows = order if everyone else rows[order]
    person_of_sorted_row = person_of_row[sorted_rows]
    best = _best_names(table, sorted_rows, person_of_sorted_row)
    persons = []
    for index, (ident, codes, override) in enumerate(found):
        emails = [table.addresses[a] for a in codes]
        name = override.name if override and override.name else best.get(index, "")
        persons.append(PersonGroup(ident, nice_name(name, emails[0]), emails, override))
    return People(persons=persons, sorted_rows=sorted_rows, person_of_sorted_row=person_of_sorted_row,
                  person_of_row=person_of_row, person_of_address=person_of_address)


def _keys_apart_by_name(table: Table, addresses: list[int], keys: list[str]) -> list[str]:
    """The merge keys of the present ``addresses``, except that a plus-tagged address whose display
    names are all unlike those of the rest of its mailbox keeps a key of its own: a tag never joins
    two people (a shared mailbox, a relay the rules did not know)."""
    tagged = [k for k, a in enumerate(addresses) if "+" in table.addresses[a].partition("@")[0]]
    if not tagged:
        return keys
    shared = {keys[k] for k in tagged}
    involved = [k for k, key in enumerate(keys) if key in shared]
    if len(involved) == len(tagged) and len(shared) == len(tagged):
        return keys  # each tag alone in its mailbox: nothing to join
    wanted = np.array([addresses[k] for k in involved], dtype=np.int64)
    rows = np.flatnonzero(np.isin(table.address, wanted))
    names: dict[int, set[str]] = {}
    for a, n in set(zip(table.address[rows].tolist(), table.name[rows].tolist())):
        m = _mergeable_name(table.names[n])
        if m:
            names.setdefault(a, set()).add(m)
    out = list(keys)
    for k in tagged:
        mine = names.get(addresses[k], set())
        others = set().union(*(names.get(addresses[j], set()) for j in involved if keys[j] == keys[k] and j != k))
        if mine and others and not mine & others:
            out[k] = table.addresses[addresses[k]]
    return out


@lru_cache(maxsize=65536)
def _ident(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def _sharing_a_name(table: Table, present: np.ndarray, key_of: np.ndarray) -> tuple[list[tuple[int, int]], _Names]:
    """Pairs of merge keys (codes; ``key_of``: the code of each ``present`` address) whose addresses
    were used with the same full display name: each key paired with the first of its name's keys.
    A name under which two addresses attended one meeting together is two people: it joins nothing.
    Also returns which names were seen and which keys have one."""
    position = np.full(len(table.addresses), -1, dtype=np.int64)
    position[present] = np.arange(len(present))
    width = max(len(table.names), 1)
    address, name = np.divmod(distinct(table.address.astype(np.int64) * width + table.name), width)
    used = distinct(name)
    merged: dict[str, int] = {}
    code_of_name = np.full(width, -1, dtype=np.int64)
    code_of_name[used] = [merged.setdefault(n, len(merged)) if n else -1
                          for n in map(_mergeable_name, map(table.names.__getitem__, used.tolist()))]
    shared = code_of_name[name]
    keep = shared >= 0
    keys = int(key_of.max(initial=0)) + 1
    same_name, key = np.divmod(distinct(shared[keep] * keys + key_of[position[address[keep]]]), keys)
    if not len(key):
        return [], _Names({}, set())
    heads = np.flatnonzero(np.r_[True, same_name[1:] != same_name[:-1]])
    first = np.repeat(key[heads], np.diff(np.r_[heads, len(key)]))
    codes = {code: n for n, code in merged.items()}
    names = _Names({codes[c]: k for c, k in zip(same_name[heads].tolist(), key[heads].tolist())}, set(key.tolist()))
    joins = first != key
    pairs = list(zip(first[joins].tolist(), key[joins].tolist()))
    apart = _apart_when_together(table, present, key_of, pairs)
    if apart:  # a name of two people joins nothing, by display name or by spelling
        names.first_key = {n: k for n, k in names.first_key.items() if k not in apart}
        pairs = [(f, o) for f, o in pairs if f not in apart]
    return pairs, names


@dataclass
class _Names:
    first_key: dict[str, int]  # each mergeable name seen -> the first key that used it
    named_keys: set[int]  # keys used with some mergeable name


def _apart_when_together(table: Table, present: np.ndarray, key_of: np.ndarray,
                         pairs: list[tuple[int, int]]) -> set[int]:
    """The names (by their first key) among ``pairs`` whose addresses attended one meeting together
    (same moment, same event): two people who share a name, not one person. Mail to both at once
    proves nothing: mailing both addresses of one person is common (get_maintainer, reply-all)."""
    if not pairs:
        return set()
    involved = {k for pair in pairs for k in pair}
    key_of_address = np.full(len(table.addresses), -1, dtype=np.int64)
    key_of_address[present] = key_of
    row_key = key_of_address[table.address]
    rows = np.flatnonzero(np.isin(row_key, list(involved)) & table.meeting)
    seen: dict[tuple[float, int], int] = {}
    together: set[frozenset[int]] = set()
    for ts, thread, k in zip(table.ts[rows].tolist(), table.thread[rows].tolist(), row_key[rows].tolist()):
        other = seen.setdefault((ts, thread), k)
        if other != k:
            together.add(frozenset((other, k)))
    root = {other: first for first, other in pairs}  # each joined key -> its name's first key
    return {root.get(a, a) for a, b in map(tuple, together) if root.get(a, a) == root.get(b, b)}


def _spelled_joins(table: Table, present: np.ndarray, key_of: np.ndarray, names: _Names) -> list[tuple[int, int]]:
    """Addresses never used with a name, joined to the one named person whose name their local part
    spells ("ana.costa@…" to "Ana Costa"; "anacosta@…" too). A spelling two names share joins nothing."""
    unnamed = [(a, key) for a, key in zip(present.tolist(), key_of.tolist()) if key not in names.named_keys]
    if not names.first_key or not unnamed:
        return []
    by_letters: dict[str, set[int]] = {}  # "anacosta" and "costaana" -> the keys of the names that spell it
    for name, key in names.first_key.items():
        if name.isascii():  # (a name in a script written without spaces is never ASCII)
            name_words = name.split()
            for letters in ("".join(name_words), "".join(reversed(name_words))):
                by_letters.setdefault(letters, set()).add(key)
    joins = []
    for a, key in unnamed:
        words, letters = spelled_name(table.addresses[a])
        if words and words in names.first_key:
            joins.append((names.first_key[words], key))
            continue
        found = by_letters.get(letters, ()) if len(letters) >= 6 else ()
        if len(found) == 1:
            joins.append((next(iter(found)), key))
    return joins


# "" < "both" < "in" < "out", as the direction strings sort
_DIRECTION_RANK = np.array([sorted(DIRECTIONS).index(d) for d in DIRECTIONS], dtype=np.int64)


def by_person_then_time(person: np.ndarray, ts: np.ndarray, tiebreak: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The order of rows by person, then time, then tiebreak, then position: what a stable sort by
    (person, ts, tiebreak) gives (``by_person_then_time_reference``), in a fraction of
    ``np.lexsort``'s time. ``tiebreak`` gives the tiebreaks of the rows at some positions: it is
    asked only of rows that share a person and a moment, which are few."""
    key = _person_then_whole_seconds(person, ts)
    fast = None if key is None else sorted_with_positions(key)
    if fast is not None:
        key, order = fast
        tied = np.flatnonzero(key[1:] == key[:-1])
    else:
        order = np.argsort(ts)
        order = order[np.argsort(narrow(person)[order], kind="stable")]
        p, s = person[order], ts[order]
        tied = np.flatnonzero((p[1:] == p[:-1]) & (s[1:] == s[:-1]))
    if len(tied):  # one person twice at one moment (two addresses, To and Cc): only those go further
        at = distinct(np.r_[tied, tied + 1])
        rows = order[at]
        order[at] = rows[np.lexsort((rows, tiebreak(rows), ts[rows], person[rows]))]
    return order


def _person_then_whole_seconds(person: np.ndarray, ts: np.ndarray) -> np.ndarray | None:
    """One integer key for each row that orders by person, then time, when every time is a whole
    second (mail and calendars give no finer ones) and the key fits; else None."""
    if not len(ts):
        return None
    first, last = ts.min(), ts.max()
    span = last - first + 1
    if not (span < 2**52 and (int(person.max()) + 1) * span < 2**62) or not np.array_equal(ts, np.floor(ts)):
        return None
    key = person.astype(np.int64)
    key *= int(span)
    key += (ts - first).astype(np.int64)
    return key


def _best_names(table: Table, sorted_rows: np.ndarray, person_of_sorted_row: np.ndarray) -> dict[int, str]:
    """Each person's most used display name (an address is no name); on a tie, the one seen first.
    Most people go by one name: only the rows of those with several are counted."""
    usable = np.array([bool(n) and "@" not in n for n in table.names], dtype=bool)
    if not len(sorted_rows) or not usable.any():
        return {}
    person, name = person_of_sorted_row, table.name[sorted_rows]
    named = usable[name]
    if not named.all():
        if not named.any():
            return {}
        person, name = person[named], name[named]
    several = np.zeros(int(person[-1]) + 1, dtype=bool)  # (the rows are by person)
    several[person[1:][(person[1:] == person[:-1]) & (name[1:] != name[:-1])]] = True
    heads = np.flatnonzero(np.r_[True, person[1:] != person[:-1]])
    heads = heads[~several[person[heads]]]
    best = {p: table.names[n] for p, n in zip(person[heads].tolist(), name[heads].tolist())}
    rows = several[person]
    if rows.any():
        width = len(table.names)
        pairs, first, uses = distinct_counts(person[rows] * width + name[rows])
        who, which = np.divmod(pairs, width)
        pick = np.lexsort((first, -uses, who))
        chosen = pick[np.r_[True, who[pick][1:] != who[pick][:-1]]]
        best.update((p, table.names[n]) for p, n in zip(who[chosen].tolist(), which[chosen].tolist()))
    return best


def best_names_reference(person: list[int], names: list[str]) -> dict[int, str]:
    """``_best_names``, one row at a time (``person``, ``names``: each row's, by person, then time)."""
    uses: dict[int, dict[str, int]] = {}
    for p, n in zip(person, names):
        if n and "@" not in n:
            seen = uses.setdefault(p, {})  # (in the order first seen)
            seen[n] = seen.get(n, 0) + 1
    return {p: max(seen, key=seen.__getitem__) for p, seen in uses.items()}


def by_person_then_time_reference(person: list[int], ts: list[float], tiebreak: list[int]) -> list[int]:
    """``by_person_then_time``, written for reading."""
    return sorted(range(len(person)), key=lambda k: (person[k], ts[k], tiebreak[k], k))


# -- the rule, for reading ---------------------------------------------------------------------------
def people_reference(items: list[Interaction], overrides: tuple[PersonOverride, ...] = ()) -> dict[frozenset[str], str]:
    """Who is who, as plainly as it can be written: ``group_people`` is held to it. Addresses meet
    by merge key (a plus-tagged one only if it shares a display name with the rest of its mailbox,
    or either has none), by a mergeable full display name (unless two of its addresses attended one
    meeting together), by the one name an unnamed address spells, and by a [[people]] entry;
    ignored people are left out. Each person's addresses -> their id."""
    names_of: dict[str, set[str]] = {}  # each address -> its mergeable display names
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

    keys_of_name: dict[str, list[str]] = {}  # each mergeable name -> the keys that used it, in order
    for i in items:
        key = key_of(i.address)
        find(key)
        name = _mergeable_name(i.name)
        if name and key not in keys_of_name.setdefault(name, []):
            keys_of_name[name].append(key)
    moments: dict[tuple, set[str]] = {}  # each meeting (moment, event) -> the keys that attended it
    for i in items:
        if i.channel == "meeting":
            moments.setdefault((i.ts, i.thread), set()).add(key_of(i.address))
    usable = {}  # each name that joins -> its first key
    for name, keys in keys_of_name.items():
        if any(len(set(keys) & attended) > 1 for attended in moments.values()):
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
