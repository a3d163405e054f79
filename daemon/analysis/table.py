"""Interactions as columns: one numpy array per field, strings as codes into shared lists.

A million ``Interaction`` objects take about 270 bytes each and every pass over them is a Python
loop; as columns they take about 50 bytes each and the analysis works on whole arrays at once.
Repeated strings (a person's address and name, an account, a source) are kept once, in lists, and
the columns hold their index. Threads are only ever compared with each other, so their column holds
a 63-bit hash of the thread (0 for no thread): the same in every table, and on disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from daemon.models import Interaction

# Codes of the small enumerations. An unknown direction gets code 3, which no rule matches; an
# unknown initiator counts as "other", an unknown hint as none.
DIRECTIONS = ("out", "in", "both", "")
OUT, IN, BOTH = 0, 1, 2
INITIATORS = ("me", "them", "other")
ME, THEM, OTHER = 0, 1, 2
HINTS = ("", "social", "work")
SOCIAL, WORK = 1, 2

_DIRECTION = {d: k for k, d in enumerate(DIRECTIONS)}
_INITIATOR = {d: k for k, d in enumerate(INITIATORS)}
_HINT = {h: k for k, h in enumerate(HINTS)}


@dataclass(kw_only=True)
class Table:
    ts: np.ndarray  # float64, seconds since the epoch
    address: np.ndarray  # int32 -> addresses
    name: np.ndarray  # int32 -> names
    direction: np.ndarray  # int8: OUT, IN, BOTH, 3 unknown
    weight: np.ndarray  # float64
    initiator: np.ndarray  # int8: ME, THEM, OTHER
    thread: np.ndarray  # int64: thread_code() of the thread
    account: np.ndarray  # int32 -> accounts
    source: np.ndarray  # int32 -> sources
    meeting: np.ndarray  # bool: the channel is "meeting"
    fanout: np.ndarray  # int32
    hint: np.ndarray  # int8: 0, SOCIAL, WORK
    recurring: np.ndarray  # bool
    addresses: list[str]
    names: list[str]
    accounts: list[str]
    sources: list[str]

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, index: np.ndarray) -> Table:
        """The rows at ``index`` (a boolean mask or positions), in that order."""
        return Table(**{f: getattr(self, f)[index] for f in _COLUMNS}, addresses=self.addresses, names=self.names,
                     accounts=self.accounts, sources=self.sources)

    @staticmethod
    def of(items: Iterable[Interaction]) -> Table:
        builder = Builder()
        for i in items:
            builder.add(i.ts, i.channel, i.address, i.name, i.direction, i.weight, i.initiator, i.thread, i.account,
                        i.fanout, i.hint, i.recurring, i.source)
        return builder.build()

    @staticmethod
    def concat(tables: Sequence[Table]) -> Table:
        """One table of all rows, the string lists merged. It goes column by column, so tables
        that make their columns when asked (segments on disk) hold only one column at a time."""
        tables = [t for t in tables if len(t)] or list(tables[:1]) or [Builder().build()]
        if len(tables) == 1 and isinstance(tables[0], Table):
            return tables[0]
        lists, codes = {}, {}
        for f in _LISTS:
            each = [getattr(t, f) for t in tables]
            every = list(chain.from_iterable(each))
            merged = list(dict.fromkeys(every))  # in order of first appearance
            code = dict(zip(merged, range(len(merged))))
            remap = np.fromiter(map(code.__getitem__, every), dtype=np.int32, count=len(every))
            lists[f], codes[f] = merged, np.split(remap, np.cumsum([len(values) for values in each])[:-1])
        return assemble(tables, lists, codes)


def assemble(parts: Sequence, lists: dict[str, list[str]], codes: dict[str, list[np.ndarray]]) -> Table:
    """One table of the rows of ``parts``, with the merged string ``lists``. ``codes``: for each
    list, for each part, the merged code of each entry of the part's list."""
    out = {column: np.concatenate([codes[f][k][getattr(p, column)] for k, p in enumerate(parts)])
           for f, column in _LISTS.items()}
    for f in _COLUMNS:
        if f not in out:
            out[f] = np.concatenate([getattr(p, f) for p in parts])
    return Table(**out, **lists)  # type: ignore[arg-type]  # each name gets its own type; mypy sees one dict


# Every column and its type, in the order of the Table's fields.
TYPES = {"ts": np.float64, "address": np.int32, "name": np.int32, "direction": np.int8, "weight": np.float64,
         "initiator": np.int8, "thread": np.int64, "account": np.int32, "source": np.int32, "meeting": np.bool_,
         "fanout": np.int32, "hint": np.int8, "recurring": np.bool_}
_COLUMNS = tuple(TYPES)
_LISTS = {"addresses": "address", "names": "name", "accounts": "account", "sources": "source"}


class Builder:
    """Collects rows one by one and makes a Table of them. Each column is a list attribute of the
    column's name (attributes, not a dict of lists: ``add`` runs once per row)."""

    def __init__(self) -> None:
        self.ts: list[float] = []
        self.address: list[int] = []
        self.name: list[int] = []
        self.direction: list[int] = []
        self.weight: list[float] = []
        self.initiator: list[int] = []
        self.thread: list[int] = []
        self.account: list[int] = []
        self.source: list[int] = []
        self.meeting: list[bool] = []
        self.fanout: list[int] = []
        self.hint: list[int] = []
        self.recurring: list[bool] = []
        assert all(hasattr(self, f) for f in _COLUMNS), "a list for each column"
        self._addresses: dict[str, int] = {}
        self._names: dict[str, int] = {}
        self._accounts: dict[str, int] = {}
        self._sources: dict[str, int] = {}
        self._threads: dict[str, int] = {}

    def add(self, ts: float, channel: str, address: str, name: str, direction: str, weight: float, initiator: str,
            thread: str, account: str, fanout: int, hint: str, recurring: bool, source: str) -> None:
        self.ts.append(ts)
        self.address.append(_code(self._addresses, address))
        self.name.append(_code(self._names, name))
        self.direction.append(_DIRECTION.get(direction, 3))
        self.weight.append(weight)
        self.initiator.append(_INITIATOR.get(initiator, OTHER))
        code = self._threads.get(thread)
        if code is None:
            code = self._threads[thread] = thread_code(thread)
        self.thread.append(code)
        self.account.append(_code(self._accounts, account))
        self.source.append(_code(self._sources, source))
        self.meeting.append(channel == "meeting")
        self.fanout.append(fanout)
        self.hint.append(_HINT.get(hint, 0))
        self.recurring.append(bool(recurring))

    def build(self) -> Table:
        return Table(**{f: np.array(getattr(self, f), dtype=t) for f, t in TYPES.items()},
                     addresses=list(self._addresses), names=list(self._names), accounts=list(self._accounts),
                     sources=list(self._sources))


def thread_code(thread: str) -> int:
    """A thread's code: a 63-bit hash, stable across processes (0: no thread)."""
    if not thread:
        return 0
    return int.from_bytes(hashlib.blake2b(thread.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little") >> 1 or 1


def _code(index: dict[str, int], value: str) -> int:
    code = index.get(value)
    if code is None:
        code = index[value] = len(index)
    return code


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted. (``np.unique`` does the same by hashing, 40x slower here.)
    Wide integers that fit in 32 bits are sorted as such, in half the time."""
    s = np.sort(_as_int32_if_it_fits(values) if len(values) > 1024 else values)
    return (s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s).astype(values.dtype, copy=False)


def _as_int32_if_it_fits(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "i" and values.dtype.itemsize > 4 and -2**31 <= int(values.min()) and int(values.max()) < 2**31:
        return values.astype(np.int32)
    return values


def sorted_with_positions(key: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``key`` (non-negative integers) sorted, and the positions they came from, in the order of a
    stable sort: ``np.argsort(key, kind="stable")``, and ``key`` in that order. Each key is packed
    with its position into one int64 and the packed values are sorted: numpy sorts a plain integer
    array with SIMD, four times faster than it argsorts one (a stable argsort is slower still).
    None when a key and a position do not fit in 63 bits together."""
    n = len(key)
    if not n:
        return key.astype(np.int64), np.zeros(0, dtype=np.int64)
    shift = (n - 1).bit_length()
    if int(key.min()) < 0 or int(key.max()).bit_length() + shift > 63:
        return None
    packed = key.astype(np.int64)  # (a copy, worked on in place)
    packed <<= shift
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    order = packed & ((1 << shift) - 1)
    packed >>= shift
    return packed, order


def grouped_by_hash(words: np.ndarray, within: np.ndarray | None = None,
                    bits: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """An order of the rows that puts equal ``words`` (hashes: non-negative int64 of 63 bits, or
    uint64) next to each other, within each value of ``within`` (non-negative integers, which come
    first), each group in the order of position; and, for each row after the first in that order,
    whether it is in the group of the row before it.

    It packs ``within``, the top ``bits`` of each word (as many as fit) and the position into one
    int64 and sorts that (``sorted_with_positions``). None when two different words would mix
    because they share those bits (the caller then sorts by the whole words), or when fewer than
    16 bits are left for the words (they would mix too often)."""
    n = len(words)
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    width = 64 if words.dtype == np.uint64 else 63
    free = 63 - (n - 1).bit_length() - (0 if within is None else int(within.max()).bit_length())
    bits = min(free, width) if bits is None else bits
    if not (16 <= free and 0 < bits <= free):
        return None
    key = (words >> words.dtype.type(width - bits)).astype(np.int64)
    if within is not None:
        key |= within.astype(np.int64) << bits
    packed = sorted_with_positions(key)
    if packed is None:
        return None
    key, order = packed
    same = key[1:] == key[:-1]
    if bits < width and not np.array_equal(words[order[1:][same]], words[order[:-1][same]]):
        return None
    return order, same


def distinct_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct values (sorted), where each first occurs, and how often (``values``:
    non-negative integers)."""
    fast = sorted_with_positions(values)
    if fast is None:
        order = np.argsort(values, kind="stable")
        s = values[order]
    else:
        s, order = fast
    heads = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if len(s) else np.zeros(0, dtype=np.int64)
    return s[heads], order[heads], np.diff(np.r_[heads, len(s)])


def narrow(values: np.ndarray) -> np.ndarray:
    """Small non-negative integers as int16 when they fit: numpy sorts those by radix, 8x faster."""
    return values.astype(np.int16) if len(values) and values.max() < 2**15 else values


def spill(person: np.ndarray, count: int) -> np.ndarray:
    """Each row's person, with the rows of no one (-1) moved to an extra last person ``count``,
    which ``per_person`` leaves out."""
    return np.where(person >= 0, person, count)


def per_person(person: np.ndarray, count: int, mask: np.ndarray | None = None) -> np.ndarray:
    """For each of ``count`` people, how many of their rows there are (where ``mask`` holds)."""
    if mask is not None and not mask.any():  # many cues never occur in a mailbox (no source marked, say)
        return np.zeros(count, dtype=np.int64)
    if mask is not None and mask.all():
        mask = None
    return np.bincount(person, weights=mask, minlength=count + 1)[:count].astype(np.int64)
