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
    outbound = inbound = 0
    met = direct_out = direct_in = small_meeting = False
    weight = 0.0
    for i in items:  # one pass: this runs for every conversation of every contact
        if i.weight > weight:
            weight = i.weight
        if i.direction == "out":
            outbound += 1
            direct_out = direct_out or i.weight >= DIRECT
        elif i.direction == "in":
            inbound += 1
            direct_in = direct_in or i.weight >= DIRECT
        elif i.direction == "both":
            met = True
            small_meeting = small_meeting or i.fanout <= 5
    answered = met or (inbound > 0 if initiator == "me" else outbound > 0 if initiator == "them" else True)
    direct = small_meeting or (direct_out and direct_in)
    return Conversation(first.ts, items[-1].ts, initiator, outbound, inbound, met, weight, answered, direct)
