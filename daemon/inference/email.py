"""Mail metadata -> interactions.

An outbound message gives one interaction per recipient (weighted by To/Cc and by how many people
it went to); an inbound one gives one interaction with its sender, weighted by whether I was in To
or Cc and how many others were. Lists, bulk and automated mail, role senders and mail that reached
me only by Bcc are dropped, each with the rule that dropped it.
"""

from __future__ import annotations

import re
from datetime import timezone
from email.utils import parsedate_to_datetime

from daemon.identity import Me, parse_address_list
from daemon.inference.filters import ROLE_WEIGHT, fanout_weight, is_role_address, mail_noise_rule
from daemon.models import Inferred, Interaction, RawRecord

_MSGID = re.compile(r"<[^<>\s]+>")
_EARLIEST = 631152000.0  # 1990-01-01: older dates are broken clocks, not mail


def parse_date(value: str | None) -> float | None:
    """Seconds since the epoch from a Date header; None when it cannot be read.

    parsedate_to_datetime gives naive datetimes for "-0000" (RFC 5322: no zone information):
    those are taken as UTC."""
    if not value:
        return None
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


def message_ids(value: str | None) -> list[str]:
    return _MSGID.findall(value or "")[:200]


def thread_key(h: dict[str, str]) -> str:
    """The thread's root: the first References id, else In-Reply-To, else the message's own id,
    else its subject's hash (the fallback: subject and time)."""
    refs = message_ids(h.get("references"))
    if refs:
        return refs[0]
    reply = message_ids(h.get("in-reply-to"))
    if reply:
        return reply[0]
    own = message_ids(h.get("message-id"))
    if own:
        return own[0]
    return "subject:" + h.get("subject_key", "")


def infer_mail(record: RawRecord, me: Me, source: str = "") -> Inferred:
    """What one message says about my ties: interactions, or the rule that dropped it."""
    h = record.data
    senders = parse_address_list(h.get("from"), limit=5)
    if not senders:
        return Inferred(dropped="no readable From address")
    sender_name, sender = senders[0]
    outbound = sender in me
    rule = mail_noise_rule(h, sender, outbound)
    if rule:
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
        "message_id": (message_ids(h.get("message-id")) or [""])[0],
        "in_reply_to": (message_ids(h.get("in-reply-to")) or [""])[0],
        "source": source,
        "ident": record.ident,
    }
    if outbound:
        return _outbound(roles, me, sender, common)
    return _inbound(roles, me, sender, sender_name, common)


def _outbound(roles: dict[str, list[tuple[str, str]]], me: Me, sender: str, common: dict) -> Inferred:
    recipients: dict[str, tuple[str, str]] = {}
    for role in ("to", "cc", "bcc"):
        for name, addr in roles.get(role, []):
            if addr not in me and addr not in recipients and not is_role_address(addr):
                recipients[addr] = (name, role)
    if not recipients:
        return Inferred(dropped="sent only to myself or to role addresses")
    fan = fanout_weight(len(recipients))
    return Inferred(tuple(
        Interaction(address=addr, name=name, direction="out", weight=ROLE_WEIGHT[role] * fan, initiator="me",
                    account=sender, fanout=len(recipients), **common)
        for addr, (name, role) in recipients.items()
    ))


def _inbound(roles: dict[str, list[tuple[str, str]]], me: Me, sender: str, sender_name: str,
             common: dict) -> Inferred:
    my_role, account = None, ""
    others = set()
    for role in ("to", "cc"):
        for _, addr in roles[role]:
            if addr in me:
                if my_role is None:
                    my_role, account = role, addr
            elif addr != sender:
                others.add(addr)
    if my_role is None:
        return Inferred(dropped="reached me by Bcc or an alias not listed in identity.addresses",
                        senders=((sender, "not addressed to me"),))
    weight = ROLE_WEIGHT[my_role] * fanout_weight(len(others) + 1)
    return Inferred((
        Interaction(address=sender, name=sender_name, direction="in", weight=weight, initiator="them",
                    account=account, fanout=len(others) + 1, **common),
    ), senders=((sender, ""),))
