"""Mail metadata -> interactions.

An outbound message gives one interaction per recipient (weighted by To/Cc and by how many people
it went to); an inbound one gives one interaction with its sender, weighted by whether I was in To
or Cc and how many others were. Lists, bulk and automated mail, role senders and mail that reached
me only by Bcc are dropped, each with the rule that dropped it.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from daemon.identity import Me, parse_address_list
from daemon.inference.filters import ROLE_WEIGHT, fanout_weight, is_role_address, mail_noise_rule
from daemon.models import Inferred, Interaction, RawRecord

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
        "message_id": first_message_id(h.get("message-id")),
        "in_reply_to": first_message_id(h.get("in-reply-to")),
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
