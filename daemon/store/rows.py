"""The rows the store hands out, each a named record: read by name, not by position.

They are NamedTuples, so code that unpacks a row (``for address, ts, note in store.actions(...)``)
keeps working, and a row still compares equal to the plain tuple of its values.
"""

from __future__ import annotations

from typing import NamedTuple

from daemon.models import RawRecord


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
