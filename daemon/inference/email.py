"""Mail metadata -> interactions.

An outbound message gives one interaction per person it went to; an inbound one gives one
interaction with its author. Weights go by role over *people*: lists, role addresses, relays and
robots are never counted among the recipients. A message To one person is direct however many
people are in Cc; Cc'd people weigh little; a message To a crowd is mere co-presence.

A mailing list's copy counts when it is mine or addressed To me (less than private mail); other
list traffic, bulk and automated mail, robots, role senders and mail that reached me only by Bcc
are dropped, each with the rule that dropped it. Relays and lists that rewrite From are read back
to the real author when the headers say who it is.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from daemon.identity import Me, parse_address_list
from daemon.inference.filters import LIST_COPY, ROLE_WEIGHT, fanout_weight, is_role_address, mail_noise_rule
from daemon.inference.senders import (
    is_list_address,
    is_list_message,
    is_relay_address,
    list_addresses,
    real_author,
    robot_rule,
)
from daemon.models import Inferred, Interaction, RawRecord

SMALL_GROUP = 3  # mail To this many people at most is addressed to each of them, whatever the Cc
_MSGID = re.compile(r"<[^<>\s]+>")
# "[Day, ]DD Mon YYYY HH:MM[:SS] +hhmm[ (comment)]": what nearly every mailer writes
_RFC5322_DATE = re.compile(r"\s*(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+([12]\d{3})\s+(\d\d):(\d\d)(?::(\d\d))?"
                           r"\s+([+-])(\d\d)(\d\d)(?:\s+\([^()]*\))?\s*\Z", re.ASCII)
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_EARLIEST = 631152000.0  # 1990-01-01: older dates are broken clocks, not mail


def parse_date(value: str | None) -> float | None:
    """Seconds since the epoch from a Date header; None when it cannot be read.

    The usual RFC 5322 form ("Mon, 04 May 2026 07:00:00 +0200") is read by one regex; any other
    goes through the standard library's lenient parser (``_parse_date_lenient``), which gives the
    same answer for the usual form at several times the cost."""
    if not value:
        return None
    m = _RFC5322_DATE.match(value)
    if m is None or (month := _MONTHS.get(m[2].lower())) is None:
        return _parse_date_lenient(value)
    day, year, hour, minute, second = int(m[1]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0)
    offset = (int(m[8]) * 3600 + int(m[9]) * 60) * (-1 if m[7] == "-" else 1)
    try:  # rejects 30 February, 24:00 and offsets of a day or more, as the lenient parser does
        datetime(year, month, day, hour, minute, second, tzinfo=timezone(timedelta(seconds=offset)))
    except ValueError:
        return None
    ts = float(calendar.timegm((year, month, day, hour, minute, second)) - offset)
    return ts if ts >= _EARLIEST else None


def _parse_date_lenient(value: str) -> float | None:
    """parsedate_to_datetime gives naive datetimes for "-0000" (RFC 5322: no zone information):
    those are taken as UTC."""
    try:
        d = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if d is None:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    try:
        ts = d.timestamp()
    except (OverflowError, ValueError, OSError):
        return None
    return ts if ts >= _EARLIEST else None


def first_message_id(value: str | None) -> str:
    """The first <id> in a Message-ID, In-Reply-To or References value; "" if none."""
    m = _MSGID.search(value) if value else None
    return m.group() if m else ""


def thread_key(h: dict[str, str]) -> str:
    """The thread's root: the first References id, else In-Reply-To, else the message's own id,
    else its subject's hash (the fallback: subject and time)."""
    return (first_message_id(h.get("references")) or first_message_id(h.get("in-reply-to"))
            or first_message_id(h.get("message-id")) or "subject:" + h.get("subject_key", ""))


def infer_mail(record: RawRecord, me: Me, source: str = "") -> Inferred:
    """What one message says about my ties: interactions, or the rule that dropped it."""
    h = record.data
    senders = parse_address_list(h.get("from"), limit=5)
    if not senders:
        return Inferred(dropped="no readable From address")
    sender_name, sender, relay = real_author(h, *senders[0])
    if relay:
        return Inferred(dropped=relay, senders=((sender, relay),))
    outbound = sender in me
    rule = mail_noise_rule(h, sender, outbound) or (None if outbound else robot_rule(sender_name, sender))
    if rule:
        return Inferred(dropped=rule, senders=((sender, rule),))
    listed = is_list_message(h)
    lists = list_addresses(h) if listed else frozenset()
    if not outbound and (sender in lists or is_list_address(sender)):
        rule = "sent by a mailing list itself"
        return Inferred(dropped=rule, senders=((sender, rule),))
    ts = parse_date(h.get("date"))
    if ts is None:
        return Inferred(dropped="no readable Date", senders=((sender, "no readable Date"),))
    roles = {"to": parse_address_list(h.get("to")), "cc": parse_address_list(h.get("cc"))}
    if outbound:
        roles["bcc"] = parse_address_list(h.get("bcc"))
    common = {
        "ts": ts,
        "channel": "email",
        "thread": thread_key(h),
        "message_id": first_message_id(h.get("message-id")),
        "in_reply_to": first_message_id(h.get("in-reply-to")),
        "source": source,
        "ident": record.ident,
        "hint": h.get("purpose", ""),  # what the subject's words say it was about
    }
    people = _people(roles, me, lists)
    if outbound:
        return _outbound(people, common, sender)
    # A message posted to a list is list traffic whichever copy reached me: the list's (List-Id)
    # or the author's own copy to me, which names the list among its recipients.
    to_a_list = listed or any(addr in lists or is_list_address(addr) for role in ("to", "cc") for _, addr in roles[role])
    return _inbound(roles, people, me, sender, sender_name, to_a_list, common)


def _is_person(name: str, address: str, lists: frozenset[str]) -> bool:
    """Whether a recipient counts as a person: not a list, a role address, a relay or a robot."""
    return not (address in lists or is_list_address(address) or is_role_address(address)
                or is_relay_address(address) or robot_rule(name, address))


def _people(roles: dict[str, list[tuple[str, str]]], me: Me, lists: frozenset[str]) -> dict[str, dict[str, str]]:
    """The people among each role's recipients (not me, no list, role address, relay or robot):
    role -> {address: display name}; an address keeps its first role (To before Cc before Bcc)."""
    seen: set[str] = set()
    out: dict[str, dict[str, str]] = {}
    for role in ("to", "cc", "bcc"):
        out[role] = {}
        for name, addr in roles.get(role, []):
            if addr in seen or addr in me:
                continue
            seen.add(addr)
            if _is_person(name, addr, lists):
                out[role][addr] = name
    return out


def _outbound(people: dict[str, dict[str, str]], common: dict, sender: str) -> Inferred:
    """One interaction per person I wrote to. Mail To a small group (SMALL_GROUP people at most)
    is direct to them however many are in Cc (a reply To one author); To a larger group it weighs
    by everyone addressed, as Cc and Bcc always do."""
    to, copied = len(people["to"]), len(people["cc"]) + len(people["bcc"])
    if not to + copied:
        return Inferred(dropped="sent only to myself, lists or role addresses")
    weights = {"to": ROLE_WEIGHT["to"] * fanout_weight(to if to <= SMALL_GROUP else to + copied),
               "cc": ROLE_WEIGHT["cc"] * fanout_weight(to + copied)}
    weights["bcc"] = weights["cc"]
    return Inferred(tuple(
        Interaction(address=addr, name=name, direction="out", weight=weights[role], initiator="me",
                    account=sender, fanout=to + copied, **common)
        for role, recipients in people.items() for addr, name in recipients.items()
    ))


def _inbound(roles: dict[str, list[tuple[str, str]]], people: dict[str, dict[str, str]], me: Me, sender: str,
             sender_name: str, listed: bool, common: dict) -> Inferred:
    """One interaction with the sender. To me alone or in a small group: direct, however many are
    in Cc; To a larger group, or me only in Cc: weighed by everyone addressed, and Cc little. A list
    copy counts only when it is addressed To me, and then for less than private mail (LIST_COPY)."""
    my_role, account = None, ""
    for role in ("to", "cc"):
        for _, addr in roles[role]:
            if addr in me:
                my_role, account = role, addr
                break
        if my_role:
            break
    if my_role is None:
        if listed:
            return Inferred(dropped="mailing list (not addressed to me)", senders=((sender, "mailing list post"),))
        return Inferred(dropped="reached me by Bcc or an alias not listed in identity.addresses",
                        senders=((sender, "not addressed to me"),))
    if listed and my_role != "to":
        rule = "mailing list post that only copies me"
        return Inferred(dropped=rule, senders=((sender, rule),))
    others_to = len([a for a in people["to"] if a != sender])
    others = others_to + len([a for a in people["cc"] if a != sender])
    weight = (ROLE_WEIGHT["to"] * fanout_weight(others_to + 1 if others_to + 1 <= SMALL_GROUP else others + 1)
              if my_role == "to" else ROLE_WEIGHT["cc"] * fanout_weight(others + 1))
    if listed:
        weight *= LIST_COPY
    return Inferred((
        Interaction(address=sender, name=sender_name, direction="in", weight=weight, initiator="them",
                    account=account, fanout=others + 1, **common),
    ), senders=((sender, ""),))
