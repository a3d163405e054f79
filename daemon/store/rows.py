"""The store's rows, both ways.

Out: each row the store hands out is a named record, read by name, not by position. They are
NamedTuples, so code that unpacks a row (``for address, ts, note in store.actions(...)``) keeps
working, and a row still compares equal to the plain tuple of its values.

In: records and what inference made of them, as the rows of the records, interactions and drops
tables (``Rows``). Made wherever the records are read, which may be a worker process
(``daemon.fetch``): plain tuples of strings and numbers, cheap to send between processes, the JSON
of each record made there too. ``Store.put_rows`` writes them; the column order is the tables' own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from daemon.models import Derived, RawRecord


class StoredVersion(NamedTuple):
    """What a sync compares with a source's listing to see whether a stored record changed."""

    etag: str
    scope: str


class StoredItem(NamedTuple):
    ident: str
    etag: str
    scope: str


class SourcedRecord(NamedTuple):
    """A stored record and the source it came from."""

    source: str
    record: RawRecord


class Drop(NamedTuple):
    """How many messages from one address inference dropped, by one rule."""

    rule: str
    messages: int


class Action(NamedTuple):
    """Something the user said about an address (snooze, ignore, log, name, set)."""

    address: str
    ts: float
    note: str


class RemovedAction(NamedTuple):
    ts: float
    note: str


class StoredFollowUp(NamedTuple):
    """A follow-up as last planned (the fields of daemon.outputs.followups.FollowUp)."""

    uid: str
    contact: str
    cycle: str
    sequence: int
    status: str
    start: float
    end: float
    summary: str
    description: str
    fingerprint: str
    updated: float


class Publication(NamedTuple):
    """A follow-up as a remote calendar last held it (daemon.outputs.publish.Published)."""

    sequence: int
    remote_id: str
    etag: str
    state: str


class DigestSend(NamedTuple):
    period: str
    sent_at: float
    trigger: str
    recipient: str
    message_id: str


# -- in: what a sync writes ----------------------------------------------------------------------
INTERACTION_COLUMNS = (
    "source, ident, ts, channel, address, name, direction, weight, initiator, thread, message_id, "
    "in_reply_to, account, fanout, hint, recurring"
)
RecordRow = tuple[str, str, str, str, str, str, str | None]  # source, ident, etag, scope, kind, data, inferred
InteractionRow = tuple  # the 16 INTERACTION_COLUMNS, in order
DropRow = tuple[str, str, str, str]  # source, ident, address, rule


@dataclass
class Rows:
    """Rows for the records, interactions and drops tables, in the order they are written."""

    records: list[RecordRow] = field(default_factory=list)
    interactions: list[InteractionRow] = field(default_factory=list)
    drops: list[DropRow] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def bad(self) -> int:
        """Records that could not be parsed (kind "bad")."""
        return sum(1 for r in self.records if r[4] == "bad")

    def extend(self, more: Rows) -> None:
        self.records += more.records
        self.interactions += more.interactions
        self.drops += more.drops


def record_rows(source: str, records: Iterable[RawRecord], derived: dict[str, Derived] | None = None) -> Rows:
    """The rows of ``records`` of ``source`` and of their inference (ident -> Derived)."""
    derived = derived or {}
    rows = Rows()
    for r in records:
        d = derived.get(r.ident)
        rows.records.append((source, r.ident, r.etag, r.scope, r.kind, json.dumps(r.data, separators=(",", ":")),
                             d.version if d else None))
    rows.interactions, rows.drops = derived_rows(source, derived)
    return rows


def derived_rows(source: str, derived: dict[str, Derived]) -> tuple[list[InteractionRow], list[DropRow]]:
    """The interactions and drops rows of what inference made of records (ident -> Derived)."""
    interactions = [(source, ident, i.ts, i.channel, i.address, i.name, i.direction, i.weight, i.initiator, i.thread,
                     i.message_id, i.in_reply_to, i.account, i.fanout, i.hint, int(i.recurring))
                    for ident, d in derived.items() for i in d.interactions]
    drops = [(source, ident, *d.dropped) for ident, d in derived.items() if d.dropped]
    return interactions, drops
