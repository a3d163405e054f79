"""What a remote calendar (CalDAV, Google) must be told so that it holds exactly the confirmed
follow-ups: new and changed events written, cancelled and dropped ones deleted. Pure.

``published`` is what the store says that calendar accepted: uid -> (SEQUENCE, remote id). An event
is written again only when its SEQUENCE moved, so an unchanged plan writes nothing. The store keys
it by the calendar's id on the server, so a calendar deleted by hand and made anew is refilled.
"""

from __future__ import annotations

from dataclasses import dataclass

from daemon.outputs.followups import FollowUp


@dataclass(frozen=True)
class Change:
    action: str  # "put" | "delete"
    uid: str
    followup: FollowUp | None  # what to write (put)
    remote_id: str  # where it is now ("" when the calendar does not have it yet)


def changes(planned: list[FollowUp], published: dict[str, tuple[int, str]]) -> list[Change]:
    live = {f.uid: f for f in planned if f.status == "CONFIRMED"}
    out = []
    for uid, f in live.items():
        old = published.get(uid)
        if old is None or old[0] != f.sequence:
            out.append(Change("put", uid, f, old[1] if old else ""))
    for uid, (_, remote_id) in sorted(published.items()):
        if uid not in live:
            out.append(Change("delete", uid, None, remote_id))
    return out
