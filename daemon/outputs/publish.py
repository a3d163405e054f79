"""What a remote calendar (CalDAV, Google) must be told so that it holds the confirmed follow-ups,
with the user's own edits winning. Pure.

``published`` is what the store knows of each follow-up in that calendar: its SEQUENCE, remote id,
the etag of the version tiekeeper last saw, and whose it is:

- ``ours``: as tiekeeper wrote it. It is written again when its SEQUENCE moved (conditionally on
  the etag), and deleted once contact resumes.
- ``edited``: the user changed it (moved it, renamed it, gave it a location or notes). tiekeeper
  never writes it again, so it keeps every edit; once contact resumes it is deleted like the others.
- ``dismissed``: the user deleted it. It is not made again for this lapse, and leaves the feed at the
  next analysis (its UID is per contact and lapse, so a new lapse gets a new event).

``reconcile`` learns those states from the calendar's listing (remote id -> etag); ``changes``
then lists the writes. An unchanged plan writes nothing. The store keys all of it by the
calendar's id on the server, so a calendar deleted by hand and made anew is refilled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from daemon.outputs.followups import FollowUp

OURS, EDITED, DISMISSED = "ours", "edited", "dismissed"


@dataclass(frozen=True)
class Published:
    sequence: int
    remote_id: str
    etag: str = ""
    state: str = OURS


@dataclass(frozen=True)
class Change:
    action: str  # "put" | "delete" | "forget" (the store only: the user deleted it already)
    uid: str
    followup: FollowUp | None  # what to write (put)
    remote_id: str  # where it is now ("" when the calendar does not have it yet)
    etag: str = ""  # the version the write is conditional on


def reconcile(published: dict[str, Published], remote: dict[str, str]) -> dict[str, Published]:
    """What the user did in the calendar since tiekeeper last saw it: a follow-up gone from the
    listing was deleted (dismissed), one with another etag was edited (theirs from now on)."""
    out = {}
    for uid, p in published.items():
        etag = remote.get(p.remote_id)
        if p.state == DISMISSED:
            out[uid] = p
        elif etag is None:
            out[uid] = replace(p, etag="", state=DISMISSED)
        elif p.state == OURS and not p.etag:
            out[uid] = replace(p, etag=etag)  # written before etags were kept: taken as ours
        elif etag != p.etag:
            out[uid] = replace(p, etag=etag, state=EDITED)
        else:
            out[uid] = p
    return out


def changes(planned: list[FollowUp], published: dict[str, Published]) -> list[Change]:
    live = {f.uid: f for f in planned if f.status == "CONFIRMED"}
    out = []
    for uid, f in live.items():
        old = published.get(uid)
        if old is None:
            out.append(Change("put", uid, f, ""))
        elif old.state == OURS and old.sequence != f.sequence:
            out.append(Change("put", uid, f, old.remote_id, old.etag))
    for uid, old in sorted(published.items()):
        if uid not in live:
            action = "forget" if old.state == DISMISSED else "delete"
            out.append(Change(action, uid, None, old.remote_id, old.etag))
    return out
