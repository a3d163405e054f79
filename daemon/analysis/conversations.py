"""Interactions with one person -> conversations.

A conversation is a run of contact with no more than 72 hours of quiet inside it; a reply in the
same thread joins its conversation even later, up to the reply window. The initiator is whoever
wrote first, or the meeting's organizer. A conversation is two-way when both sides wrote, or when
we met.
"""

from __future__ import annotations

from dataclasses import dataclass

from daemon.models import Interaction

QUIET = 72 * 3600.0
DIRECT = 0.25  # weaker than this (Cc on a big thread) is presence, not conversation


@dataclass(frozen=True)
class Conversation:
    start: float
    end: float
    initiator: str  # "me" | "them" | "other"
    outbound: int
    inbound: int
    met: bool
    weight: float
    answered: bool  # the side that did not start it took part
    direct: bool  # both directions (or the meeting) were direct, not mere Cc or crowd

    @property
    def two_way(self) -> bool:
        return self.met or (self.outbound > 0 and self.inbound > 0)


def conversations(items: list[Interaction], reply_window_days: float = 7.0) -> list[Conversation]:
    """Group one person's interactions (sorted by time) into conversations."""
    out: list[Conversation] = []
    current: list[Interaction] = []
    threads: set[str] = set()
    reply_window = reply_window_days * 86400.0
    for i in items:
        if i.weight <= 0:
            continue
        if current:
            gap = i.ts - current[-1].ts
            same_thread = bool(i.thread) and i.thread in threads
            if gap > QUIET and not (same_thread and i.ts - current[0].ts <= reply_window):
                out.append(_close(current))
                current, threads = [], set()
        current.append(i)
        if i.thread:
            threads.add(i.thread)
    if current:
        out.append(_close(current))
    return out


def _close(items: list[Interaction]) -> Conversation:
    first = items[0]
    if first.direction == "out":
        initiator = "me"
    elif first.direction == "in":
        initiator = "them"
    else:
        initiator = first.initiator
    outbound = sum(1 for i in items if i.direction == "out")
    inbound = sum(1 for i in items if i.direction == "in")
    met = any(i.direction == "both" for i in items)
    answered = met or (inbound > 0 if initiator == "me" else outbound > 0 if initiator == "them" else True)
    direct_out = any(i.direction == "out" and i.weight >= DIRECT for i in items)
    direct_in = any(i.direction == "in" and i.weight >= DIRECT for i in items)
    direct = any(i.direction == "both" and i.fanout <= 5 for i in items) or (direct_out and direct_in)
    return Conversation(first.ts, items[-1].ts, initiator, outbound, inbound, met,
                        max(i.weight for i in items), answered, direct)
