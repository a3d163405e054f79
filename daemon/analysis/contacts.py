"""One person, one contact: merging a person's many addresses.

Addresses meet when they share a merge key (case, plus-tags, Gmail dots), a full display name
("Doe, Jane" = "Jane Doe" = an RFC 2047 encoded "Jane Doe"), or a ``[[people]]`` entry in the config.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from daemon.config import Person as PersonOverride
from daemon.identity import merge_key, nice_name, normalize_name
from daemon.models import Interaction

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
    """The interactions of one person, under all their addresses."""

    id: str
    name: str
    addresses: list[str]
    interactions: list[Interaction]
    override: PersonOverride | None = None
    names: Counter = field(default_factory=Counter)


def _mergeable_name(name: str) -> str:
    n = normalize_name(name)
    return n if len(n.split()) >= 2 and len(n) >= 5 and n not in _GENERIC_NAMES else ""


def group_people(interactions: Iterable[Interaction], overrides: tuple[PersonOverride, ...] = ()) -> list[PersonGroup]:
    """Group interactions by person. Ignored people (``ignore = true``) are left out."""
    uf = _UnionFind()
    by_key: dict[str, list[Interaction]] = defaultdict(list)
    name_owner: dict[str, str] = {}
    key_of: dict[str, str] = {}  # address -> merge key, worked out once per address
    seen: set[tuple[str, str]] = set()  # (merge key, name) pairs already joined
    for i in interactions:
        key = key_of.get(i.address)
        if key is None:
            key = key_of[i.address] = merge_key(i.address)
            uf.find(key)
        by_key[key].append(i)
        if (key, i.name) in seen:
            continue
        seen.add((key, i.name))
        n = _mergeable_name(i.name)
        if n:
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
    groups: dict[str, list[str]] = defaultdict(list)
    for key in by_key:
        groups[uf.find(key)].append(key)
    out = []
    for keys in groups.values():
        override = next((override_of[k] for k in keys if k in override_of), None)
        if override and override.ignore:
            continue
        items = sorted((i for k in keys for i in by_key[k]), key=lambda i: (i.ts, i.address, i.direction))
        out.append(_make_group(keys, items, override))
    return sorted(out, key=lambda g: g.id)


def _make_group(keys: list[str], items: list[Interaction], override: PersonOverride | None) -> PersonGroup:
    last_used: dict[str, float] = {}
    for i in items:
        last_used[i.address] = max(last_used.get(i.address, 0.0), i.ts)
    addresses = sorted(last_used, key=lambda a: (-last_used[a], a))  # the most recently used first
    names: Counter = Counter(i.name for i in items if i.name and "@" not in i.name)
    best = override.name if override and override.name else (names.most_common(1)[0][0] if names else "")
    # The id follows the smallest merge key, so it stays put when a new address joins.
    ident = hashlib.sha1(min(keys).encode()).hexdigest()[:12]
    return PersonGroup(ident, nice_name(best, addresses[0]), addresses, items, override, names)
