"""Who really sent a message, and which addresses are no person: robots, relays and lists.

Pure functions on addresses, display names and header values. Each rule returns a short
plain-language name (recorded with a dropped message, so ``tiekeeper explain`` can say why a
sender is not a contact) or None.
"""

from __future__ import annotations

import re
from functools import lru_cache

from daemon.identity import has_hash_tag, is_relay_address, parse_address_list

# -- Robots ------------------------------------------------------------------------------------
# A display name that says "machine": "kernel test robot", "dependabot[bot]", "GitHub Actions",
# "0-DAY CI Kernel Test Service", "Linux Kernel Functional Testing", "Gerrit (Code Review)". Words
# that are also people's names (Jenkins, Gerrit, Ci) decide nothing on their own.
_ROBOT_NAME = re.compile(r"\b(?:ro)?bots?\b|\[bot\]|\bbuild ?bot\b|\bautobuilder\b|\bgithub actions\b|"
                         r"\(code review\)|\b(?:test|testing|build|ci|integration) (?:service|system|farm|robot)\b|"
                         r"\bfunctional testing\b|\bpatchwork\b", re.IGNORECASE)
_ROBOT_NAME_CASED = re.compile(r"\bCI\b")  # "CI" in capitals; "Ci" is a given name
# "syzbot", "dependabot": one lower-case word ending in "bot" ("Talbot", a person, is capitalised)
_ONE_WORD_BOT = re.compile(r"^[a-z0-9][a-z0-9-]{2,}bot$")
# Parts of a local part that say "machine" ("pr-tracker-bot", "patchwork-bot+x", "kernel-ci-bot").
_ROBOT_TOKEN = frozenset({"bot", "robot", "bots", "robots", "buildbot", "autobuilder", "github-actions"})
_ROBOT_LOCAL = frozenset({"ci", "jenkins", "buildbot", "travis", "zuul", "gitlab-ci"})  # the whole local part
_WORD_SEPARATORS = re.compile(r"[-_.+]")


@lru_cache(maxsize=65536)
def robot_rule(name: str, address: str) -> str | None:
    """The rule that says this sender is a machine, or None. Strong markers only: a machine's words
    in the name, "bot" or "robot" as a part of the local part, a one-word "…bot" name or local part
    with no personal name beside it, or a hash-like plus tag."""
    local = address.rpartition("@")[0].split("+", 1)[0].lower()
    name = name.strip().strip("\"'")
    if _ROBOT_NAME.search(name) or _ROBOT_NAME_CASED.search(name):
        return "a robot or CI sender (its name)"
    if (" " not in name and _ONE_WORD_BOT.match(name)) or (not name and _ONE_WORD_BOT.match(local)):
        return "a robot or CI sender (its name)" if name else "a robot or CI sender (its address)"
    if (local in _ROBOT_LOCAL and " " not in name) or any(p in _ROBOT_TOKEN for p in _WORD_SEPARATORS.split(local)):
        return "a robot or CI sender (its address)"
    if has_hash_tag(address):
        return "a machine address (a hash-like plus tag)"
    return None


# -- Relays and rewritten senders ----------------------------------------------------------------
_VIA = re.compile(r"^\s*['\"]?(.+?)['\"]?\s+via\s+(\S.*)$", re.IGNORECASE)


def via_name(name: str) -> str | None:
    """ "Jane Doe via B4 Relay" -> "Jane Doe"; None for a name with no "via"."""
    m = _VIA.match(name)
    return m[1].strip() if m else None


def real_author(h: dict[str, str], name: str, address: str) -> tuple[str, str, str | None]:
    """Who wrote a message that a relay or a list sent on their behalf: (name, address, rule).

    The author comes from X-Original-From, else from Reply-To when it names one other address;
    a relay's "X via Y" display name loses its " via Y". When the headers say nobody, the rule that
    drops the message is returned instead."""
    via = via_name(name)
    relayed = is_relay_address(address) or is_list_address(address)
    if not relayed:  # the author's own address; a group may have added " via X" to the name
        return (via if via is not None else name), address, None
    for field in ("x-original-from", "reply-to"):
        found = parse_address_list(h.get(field), limit=3)
        people = [(n, a) for n, a in found if a != address and not is_list_address(a) and not is_relay_address(a)]
        if len(people) == 1:
            author_name, author = people[0]
            return via_name(author_name) or author_name or via or "", author, None
    if via is None and not is_relay_address(address):
        return name, address, None  # a list's address as sender, no author named: the list rules decide
    return name, address, "sent through a relay that does not say who wrote it"


# -- Mailing lists -------------------------------------------------------------------------------
# Hosts that carry mailing lists (lists.example.org, vger.kernel.org, Google Groups, groups.io, ...).
_LIST_HOST = re.compile(r"(?:^|\.)(?:lists?|ml|mailman|listserv|sympa|groups)\.|^(?:vger\.kernel\.org|googlegroups\.com|"
                        r"groups\.io|freelists\.org|lists\.sourceforge\.net|yahoogroups\.com)$", re.IGNORECASE)
# List local parts: "foo-devel", "bar-users", "baz-announce", "qux-discuss", "lkml".
_LIST_LOCAL = re.compile(r"[-_.](?:devel|dev|users|discuss|discussion|announce|commits|patches|general|list|"
                         r"lists|maintainers|security-announce)$|^(?:lkml|linux-kernel)$", re.IGNORECASE)


@lru_cache(maxsize=65536)
def is_list_address(address: str) -> bool:
    """Whether an address looks like a mailing list's posting address, by its host or local part."""
    local, _, domain = address.rpartition("@")
    return bool(_LIST_HOST.search(domain)) or bool(_LIST_LOCAL.search(local))


def list_addresses(h: dict[str, str]) -> frozenset[str]:
    """The lists this message names in its own List-Id and List-Post fields, as addresses."""
    out = set()
    post = h.get("list-post", "")
    m = re.search(r"mailto:([^>\s,?]+)", post)
    if m:
        out.add(m[1].lower())
    m = re.search(r"<([^<>@\s]+)>", h.get("list-id", ""))
    if m and "." in m[1]:
        out.add(m[1].lower().replace(".", "@", 1))  # "<linux-rtc.vger.kernel.org>" -> linux-rtc@vger.kernel.org
    return frozenset(out)


def is_list_message(h: dict[str, str]) -> bool:
    """A copy delivered through a mailing list: List-Id, List-Post or Precedence: list."""
    return bool(h.get("list-id") or h.get("list-post")) or h.get("precedence", "").strip().lower() == "list"
