"""The user's own word on a person: the `snooze`, `ignore` and `log` commands.

A mistyped address must not quietly become a contact, so each command first asks who the address
is: a contact (by any of their addresses), someone only seen in the mail and calendars, or nobody.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta, timezone

from daemon import corrections, pipeline
from daemon.config import Config
from daemon.errors import UsageError
from daemon.identity import merge_key, normalize_address, parse_address_list
from daemon.pipeline import ProgressFactory
from daemon.stages import stage
from daemon.store import Store
from daemon.terminal import out as _out
from daemon.terminal import warn

_UNITS = {"d": 1, "w": 7, "m": 30}
CONTACT, SEEN, UNKNOWN = "contact", "seen", "unknown"


def address_of(value: str) -> str:
    """The address in ``jane@example.org``, ``<jane@example.org>`` or ``Jane Doe <jane@example.org>``."""
    address = normalize_address(value)
    if not address:
        found = parse_address_list(value, limit=2)
        address = found[0][1] if len(found) == 1 else ""
    if not address:
        raise UsageError(f"{value!r} is not an email address", "name the contact by any of their addresses")
    return address


def who(config: Config, store: Store, address: str, as_of: datetime | None) -> str:
    """CONTACT, SEEN (in the mail or calendars, but no contact) or UNKNOWN. The last saved analysis
    answers most of the time; else the analysis runs."""
    key = merge_key(address)
    if any(merge_key(a) == key for p in config.people for a in p.addresses):
        return CONTACT
    if any(merge_key(e) == key for e in store.contact_emails()):
        return CONTACT
    with stage("analysing"):
        rep = pipeline.report(config, store, pipeline.clock(config, as_of))
    if any(merge_key(e) == key for c in rep.contacts for e in c.emails):
        return CONTACT
    if any(merge_key(e) == key for n in rep.not_contacts for e in n.emails) or store.drops_for(address):
        return SEEN
    return UNKNOWN


def _days(value: str, what: str) -> int:
    """Days from "30d", "2w" or "3m" (months of 30 days)."""
    m = re.match(r"^\s*(\d+)\s*([dwm])\s*$", value.lower())
    if not m or int(m[1]) < 1:
        raise UsageError(f"expected {what} like 30d, 2w or 3m, got {value!r}")
    return int(m[1]) * _UNITS[m[2]]


def _has_action(store: Store, address: str, kind: str) -> bool:
    return any(a == address for a, _, _ in store.actions(kind))


_NOT_A_CONTACT = {
    SEEN: "is not one of your contacts (it appears in your mail or calendars, but no tie was found)",
    UNKNOWN: "appears nowhere in your mail or calendars (a typo? `tiekeeper contacts` lists your contacts)",
}


def cmd_snooze(config: Config, args: argparse.Namespace, as_of: datetime | None,
               progress: ProgressFactory | None) -> int:
    address = address_of(args.contact)
    store = Store(config.store_path)
    if args.undo:
        if not _has_action(store, address, "snooze"):
            raise UsageError(f"{address} is not snoozed", "`tiekeeper snooze ADDRESS DURATION` snoozes someone")
        store.remove_actions(address, "snooze")
        _out(f"{address}: snooze lifted; their nudges are back")
        return 0
    if args.duration is None:
        raise UsageError("say how long: e.g. `tiekeeper snooze ADDRESS 30d`, or --undo to lift a snooze")
    days = _days(args.duration, "a duration")
    kind = who(config, store, address, as_of)
    if kind != CONTACT:
        warn(f"{address} {_NOT_A_CONTACT[kind]}; snoozed anyway")
    until = pipeline.clock(config, as_of) + timedelta(days=days)
    store.add_action(address, "snooze", until.timestamp())
    _out(f"{address}: nudges held back until {until.astimezone(config.identity.zone):%-d %b %Y} "
         f"(undo: tiekeeper snooze --undo {address})")
    return 0


def cmd_ignore(config: Config, args: argparse.Namespace, as_of: datetime | None,
               progress: ProgressFactory | None) -> int:
    address = address_of(args.contact)
    store = Store(config.store_path)
    if args.undo:
        if not _has_action(store, address, "ignore"):
            raise UsageError(f"{address} is not ignored", "nothing to undo")
        store.remove_actions(address, "ignore")
        _out(f"{address}: no longer ignored")
        return 0
    if who(config, store, address, as_of) == UNKNOWN:
        warn(f"{address} {_NOT_A_CONTACT[UNKNOWN]}; ignored anyway")
    store.add_action(address, "ignore", 0.0)
    _out(f"{address}: ignored; they will not appear as a contact (undo: tiekeeper ignore --undo {address})")
    return 0


def cmd_log(config: Config, args: argparse.Namespace, as_of: datetime | None,
            progress: ProgressFactory | None) -> int:
    address = address_of(args.contact)
    store = Store(config.store_path)
    if args.undo:
        return _unlog(config, store, address)
    if args.new and not (args.name or "").strip():
        raise UsageError("--new needs --name: how should this person be called?",
                         f"e.g. tiekeeper log {address} --new --name \"Jane Doe\"")
    zone = config.identity.zone
    when = args.date or datetime.now(zone)
    when = when if when.tzinfo else when.replace(tzinfo=zone)
    now = datetime.now(timezone.utc)
    if when > now + timedelta(minutes=5):
        raise UsageError(f"{when:%-d %b %Y %H:%M} is in the future", "log a contact once it has happened")
    if not args.new:
        kind = who(config, store, address, as_of)
        if kind != CONTACT:
            raise UsageError(f"{address} {_NOT_A_CONTACT[kind]}",
                             f"to log someone new: tiekeeper log {address} --new --name \"Their Name\"")
    if args.new:
        store.add_action(address, "name", 0.0, args.name.strip())
    store.add_action(address, "log", when.timestamp(), args.note)
    _out(f"{address}: contact on {when:%-d %b %Y} logged" + (f" ({args.note})" if args.note else "")
         + f" (undo: tiekeeper log --undo {address})")
    return 0


def _unlog(config: Config, store: Store, address: str) -> int:
    removed = store.remove_latest_action(address, "log")
    if removed is None:
        raise UsageError(f"no logged contact with {address}", "nothing to undo")
    if not _has_action(store, address, "log"):
        store.remove_actions(address, "name")  # a person made with --new goes with their last log
    when = datetime.fromtimestamp(removed[0], config.identity.zone)
    _out(f"{address}: the contact logged on {when:%-d %b %Y}" + (f" ({removed[1]})" if removed[1] else "")
         + " is removed")
    return 0


def cmd_set(config: Config, args: argparse.Namespace, as_of: datetime | None,
            progress: ProgressFactory | None) -> int:
    """Correct a tie: its relationship, its rhythm, or both; --undo takes back the last correction."""
    address = address_of(args.contact)
    store = Store(config.store_path)
    if args.undo:
        removed = store.remove_latest_action(address, corrections.KIND)
        if removed is None:
            raise UsageError(f"nothing was set for {address}", "nothing to undo")
        _out(f"{address}: the last correction is taken back; "
             + ("an earlier one stands" if _has_action(store, address, corrections.KIND)
                else "tiekeeper judges this tie itself again"))
        return 0
    if not args.relationship and not args.cadence:
        raise UsageError("say what to set: --relationship personal|professional|family and/or --cadence 30d",
                         f"e.g. tiekeeper set {address} --relationship family")
    cadence = float(_days(args.cadence, "a rhythm")) if args.cadence else None
    kind = who(config, store, address, as_of)
    if kind != CONTACT:
        warn(f"{address} {_NOT_A_CONTACT[kind]}; set anyway, for when they are")
    correction = corrections.Correction(address, args.relationship, cadence)
    store.add_action(address, corrections.KIND, datetime.now(timezone.utc).timestamp(), correction.note())
    said = ", ".join(p for p in (args.relationship and f"relationship {args.relationship}",
                                 cadence and f"usual rhythm every {int(cadence)} days") if p)
    _out(f"{address}: {said}; this wins over what tiekeeper infers (undo: tiekeeper set --undo {address})")
    return 0
