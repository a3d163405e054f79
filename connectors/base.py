"""The connector interface.

Glossary
--------
IDENT   A record's name, stable within its source: a Maildir key under its folder, an mbox file and
        the hash of the message's header block, an iCalendar UID under its file. Two listings of an
        unchanged source give the same idents.
ETAG    Changes whenever the record's metadata does (a size and mtime, a content hash, a server
        ETag). Equal etags mean nothing needs fetching.
CURSOR  An opaque string summing up the whole source at one moment (folder mtimes, a file's size
        and mtime, an HTTP ETag, later a Gmail historyId or an IMAP MODSEQ). It is stored in the same
        transaction as the records it covers.
SCOPE   The file or folder a record lives in. When a scope cannot be read, its stored records are
        kept rather than taken for deleted.

A connector has two required methods, ``list`` and ``get_multi``, and an optional fast path,
``changes_since``. It returns data only: the store is written by ``daemon.ingest``. ``probe`` is what
``doctor`` asks: the first steps of a sync (log in, find the folders or calendars), nothing written.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

from daemon.models import Delta, Listing, RawRecord


class Connector(ABC):
    """One source of mail or calendar metadata."""

    commit_every: int | None = None  # records per transaction (None: ingest's default); what a crash can lose
    # get_multi reads local files and works in a forked copy of the connector, after list(): a
    # large first sync is then read by worker processes on every core (daemon.fetch)
    parallel_reads: bool = False

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def list(self) -> Listing:
        """Every record the source holds now, as (ident, etag, scope), without their contents."""

    @abstractmethod
    def get_multi(self, idents: Sequence[str]) -> Iterator[RawRecord]:
        """The records named, metadata only. A record that cannot be parsed is yielded with
        kind "bad" and the reason in ``data["error"]``, so it is not fetched again until it changes.
        Idents that vanished since ``list`` are left out."""

    def read_order(self, idents: Sequence[str]) -> Sequence[str]:
        """``idents`` in the order ``get_multi`` yields their records: any run of the list given
        to ``get_multi`` then yields in the same order, so records read in parts are stored in
        the order one call would have stored them."""
        return list(idents)

    def cursor_now(self) -> str | None:
        """The cursor describing the source right now, taken before a full listing."""
        return None

    def changes_since(self, cursor: str) -> Delta | None:
        """The fast path: what changed since ``cursor``, or None when only a full listing can tell
        (no fast path, or the cursor expired). Must be cheap when nothing changed."""
        return None

    def probe(self) -> str:
        """Can the source be read? The cheapest part of what a sync does that proves it (log in and
        find the folders or calendars), raising what a sync would raise. Returns what it found, as a
        phrase for ``doctor`` ("logged in to host:993, 4 folder(s) to read"). By default: a listing."""
        return f"{len(self.list().items)} record(s) to read"

    def close(self) -> None:
        """Release connections and files."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EditConflict(Exception):
    """A conditional write was refused (HTTP 412): the event is not what we last saw, because the
    user changed or deleted it meanwhile. Their version wins."""


class FollowupCalendar(ABC):
    """A remote calendar of tiekeeper's own that holds the follow-ups (the other direction from a
    connector: written, never read for analysis). Made on first use if missing.

    REMOTE ID  where the server keeps one follow-up (a CalDAV resource href, a Google event id);
    stored after each write so that the next run updates or deletes that same object.
    ETAG       the server's version of one event. Every write is conditional on it (If-Match), so
    an event the user changed since tiekeeper last saw it is never overwritten (EditConflict).
    """

    @property
    @abstractmethod
    def key(self) -> str:
        """Names this calendar in the store (server and calendar), so a moved target starts afresh."""

    @abstractmethod
    def find(self) -> object | None:
        """The calendar if it exists already, else None; never makes it (``doctor`` asks this)."""

    @abstractmethod
    def listing(self) -> dict[str, str]:
        """remote id -> etag of every event the calendar holds now (one request or a few pages)."""

    @abstractmethod
    def put(self, followup, alarm_minutes: int | None, remote_id: str, etag: str) -> tuple[str, str]:
        """Write one follow-up (a daemon.outputs.followups.FollowUp): a new one when ``remote_id`` is
        empty, else replace the one at ``remote_id`` if it still has ``etag`` (else EditConflict).
        Returns its remote id and new etag."""

    @abstractmethod
    def delete(self, uid: str, remote_id: str, etag: str) -> None:
        """Remove one follow-up if it still has ``etag`` (else EditConflict); one gone already is no error."""

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> FollowupCalendar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
