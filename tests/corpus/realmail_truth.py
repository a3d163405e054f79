"""What the real-mail corpus (../shared/corpus/real-mail) says from its headers alone.

Written from the corpus README's definitions, with no import from ``daemon`` or ``connectors``: these
are the labels the product is checked against, so they must not share its rules.
"""

from __future__ import annotations

import lzma
import re
from collections import Counter
from email.header import decode_header, make_header
from email.utils import getaddresses
from pathlib import Path

_SEPARATOR = re.compile(rb"^From \S+ .*$", re.M)


def headers(path: Path) -> list[dict[str, str]]:
    """Each message's header fields (lower-case names, first occurrence wins, unfolded)."""
    raw = lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()
    out = []
    for block in _SEPARATOR.split(raw):
        text = block.decode("utf-8", "replace").strip("\n")
        if not text:
            continue
        fields: dict[str, str] = {}
        last = None
        for line in text.split("\n"):
            if line[:1] in (" ", "\t") and last:
                fields[last] += " " + line.strip()
                continue
            name, sep, value = line.partition(":")
            if not sep:
                last = None
                continue
            last = name.strip().lower()
            if last in fields:
                last = None  # keep the first occurrence only
                continue
            fields[last] = value.strip()
        out.append(fields)
    return out


def address(value: str) -> str:
    pairs = getaddresses([value or ""])
    return pairs[0][1].strip().lower() if pairs and "@" in pairs[0][1] else ""


def display_name(value: str) -> str:
    pairs = getaddresses([value or ""])
    if not pairs:
        return ""
    try:
        return str(make_header(decode_header(pairs[0][0])))
    except Exception:  # noqa: BLE001 - a broken encoded word stays as it is
        return pairs[0][0]


def first_id(value: str) -> str:
    m = re.search(r"<[^<>\s]+>", value or "")
    return m.group() if m else ""


def partners(messages: list[dict[str, str]], me: set[str], at_least: int = 3) -> set[str]:
    """From addresses that replied to me at least ``at_least`` times and that I replied to as often
    (a reply: its In-Reply-To is the Message-ID of a message in the set)."""
    by_id = {}
    for h in messages:
        mid = first_id(h.get("message-id", ""))
        if mid and mid not in by_id:
            by_id[mid] = address(h.get("from", ""))
    to_me: Counter = Counter()
    from_me: Counter = Counter()
    for h in messages:
        parent = by_id.get(first_id(h.get("in-reply-to", "")))
        sender = address(h.get("from", ""))
        if not parent or not sender:
            continue
        if parent in me and sender not in me:
            to_me[sender] += 1
        elif sender in me and parent not in me:
            from_me[parent] += 1
    return {a for a in to_me if to_me[a] >= at_least and from_me[a] >= at_least}


def is_machine_or_relay(addr: str, name: str = "") -> bool:
    """The corpus README's known traps: robots, bots and submission relays (never a person)."""
    local, _, domain = addr.partition("@")
    return (addr in {"lkp@intel.com", "pr-tracker-bot@kernel.org"} or local.startswith(("patchwork-bot", "syzbot"))
            or local.startswith("devnull+") or "bot@" in addr or name.endswith("via B4 Relay"))


def list_addresses(messages: list[dict[str, str]]) -> set[str]:
    """Addresses of the mailing lists (List-Id's and List-Post's)."""
    out = set()
    for h in messages:
        post = re.search(r"<mailto:([^>]+)>", h.get("list-post", ""))
        if post:
            out.add(post.group(1).lower())
        lid = re.search(r"<([^<>]+)>", h.get("list-id", ""))
        if lid:
            out.add(lid.group(1).lower().replace(".", "@", 1))
    return out
