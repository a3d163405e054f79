"""Plain data passed between the layers: connector -> ingest -> inference -> analysis -> outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAIL = "mail"
EVENT = "event"


@dataclass(frozen=True, slots=True)
class Item:
    """One line of a source listing: enough to decide whether a record must be fetched."""

    ident: str
    etag: str
    scope: str = ""  # the file or folder the record lives in; see Listing.unreadable


@dataclass(frozen=True, slots=True)
class Listing:
    """Everything a source holds right now, without the records' contents.

    ``unreadable`` names scopes (files, folders) that could not be read this time: the records
    stored under them are kept, not treated as deleted.
    """

    items: dict[str, Item]
    unreadable: frozenset[str] = frozenset()
    cursor: str | None = None  # when the listing itself yields the cursor (a Calendar syncToken)
    # scopes left out of this listing because the connector knows they did not change since the
    # stored cursor (a Maildir folder whose mtimes stand): their stored records stand as they are
    unchanged: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RawRecord:
    """Metadata of one message or one calendar object (an event and its overrides), never a body."""

    ident: str
    etag: str
    kind: str  # MAIL or EVENT
    data: dict[str, Any]
    scope: str = ""


@dataclass(frozen=True, slots=True)
class Delta:
    """What changed since a cursor: returned by a connector's fast path."""

    upserts: list[RawRecord]
    deletions: list[str]
    cursor: str
    resynced: frozenset[str] = frozenset()  # scopes read afresh: their stored records not upserted are gone


@dataclass(frozen=True, slots=True, kw_only=True)
class Interaction:
    """One contact moment between me and one other person.

    ``direction`` is "out" (I wrote to them), "in" (they wrote to me) or "both" (we met).
    ``ts`` is seconds since the epoch, UTC.
    """

    ts: float
    channel: str  # "email" | "meeting" | "logged"
    address: str  # the other person's normalised address
    name: str
    direction: str
    weight: float
    initiator: str  # "me" | "them" | "other"
    thread: str = ""  # a conversation key: the thread root's Message-ID, or the event UID
    message_id: str = ""
    in_reply_to: str = ""
    account: str = ""  # which of my addresses or calendars it went through
    fanout: int = 1  # how many other people took part
    hint: str = ""  # "social" | "work" | "" from the meeting's kind
    recurring: bool = False
    source: str = ""
    ident: str = ""


@dataclass(frozen=True, slots=True)
class Inferred:
    """What inference made of one raw record: interactions, or the rule that dropped it."""

    interactions: tuple[Interaction, ...] = ()
    dropped: str | None = None  # the rule, e.g. "list header List-Id"
    senders: tuple[tuple[str, str], ...] = field(default=())  # (address, rule) seen, for `explain`


@dataclass(frozen=True, slots=True)
class Derived:
    """What is stored of one record's inference: the interactions, or the rule that dropped it
    (with the sender it dropped), made by inference ``version``."""

    version: str
    interactions: tuple[Interaction, ...] = ()
    dropped: tuple[str, str] | None = None  # (sender address, rule)


# -- Follow-up identity ------------------------------------------------------------------------------
# tiekeeper's own follow-up events can come back through a synced calendar (a CalDAV source that
# reads every calendar, an ICS source subscribed to the feed, the Google calendar they are pushed
# to). They are neither meetings nor busy time. Their UIDs: "<contact>-<cycle>@tiekeeper" in the
# feed and on CalDAV; Google turns the event id "tk<sha1 of that UID>" into "tk<sha1>@google.com".
FOLLOWUP_UID_SUFFIX = "@tiekeeper"


def followup_uid(contact: str, cycle: str) -> str:
    return f"{contact}-{cycle}{FOLLOWUP_UID_SUFFIX}"


def google_event_id(uid: str) -> str:
    """A valid Google event id (base32hex, 5-1024 characters) derived from a follow-up UID."""
    import hashlib

    return "tk" + hashlib.sha1(uid.encode()).hexdigest()


def is_followup_uid(uid: str) -> bool:
    if uid.endswith(FOLLOWUP_UID_SUFFIX):
        return True
    head, _, domain = uid.partition("@")
    return (domain in ("", "google.com") and len(head) == 42 and head.startswith("tk")
            and all(ch in "0123456789abcdef" for ch in head[2:]))
