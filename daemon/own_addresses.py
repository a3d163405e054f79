"""Addresses you send from that ``[identity]`` leaves out.

Mail in your Sent folders (records with ``sent_folder`` set: a Maildir or IMAP Sent folder, Gmail's
SENT label) is yours. A From address there that ``[identity] addresses`` does not list is one of
yours that was left out: counted as someone else, it would make you your own contact. Such
addresses are found after each sync, kept in the store, and treated as yours until the config
lists them; ``run``, ``doctor`` and ``config check`` name them with the line to add.
"""

from __future__ import annotations

import json
import logging
from collections import Counter

from daemon.config import Config
from daemon.identity import Me, parse_address_list
from daemon.store import Store

log = logging.getLogger(__name__)
KEY = "own_addresses_missing"
MIN_MESSAGES = 2  # one stray message in a Sent folder (a draft someone else wrote) is not enough


def detect(config: Config, store: Store) -> list[str]:
    """From addresses of your Sent folders that [identity] does not list, most used first."""
    me = Me(config.identity.addresses)
    counts: Counter[str] = Counter()
    for value in store.sent_from(s.name for s in config.sources):
        senders = parse_address_list(value, limit=1)
        if senders and senders[0][1] not in me:
            counts[senders[0][1]] += 1
    return [a for a, n in counts.most_common() if n >= MIN_MESSAGES]


def refresh(config: Config, store: Store) -> list[str]:
    """Detect them again (after a sync) and remember them; returns them."""
    found = detect(config, store)
    if found != remembered(store):
        store.put(KEY, json.dumps(found))
        if found:
            log.info("%d address(es) you send from are missing from [identity] addresses; they are treated "
                        "as yours (`tiekeeper doctor` names them)", len(found))
            log.debug("addresses you send from, missing from [identity]: %s", ", ".join(found))
    return found


def remembered(store: Store) -> list[str]:
    try:
        value = json.loads(store.get(KEY) or "[]")
    except ValueError:
        return []
    return [a for a in value if isinstance(a, str)] if isinstance(value, list) else []


def me(config: Config, store: Store) -> Me:
    """You: the addresses [identity] lists, and those you were found sending from."""
    listed = Me(config.identity.addresses)
    return Me(config.identity.addresses + tuple(a for a in remembered(store) if a not in listed),
              dict(config.identity.contexts))


def advice(config: Config, missing: list[str]) -> str:
    """The line to put in the config: ``addresses = [..., "x@y"]``."""
    return "addresses = [" + ", ".join(json.dumps(a) for a in (*config.identity.addresses, *missing)) + "]"


def warning_lines(config: Config, missing: list[str]) -> list[str]:
    if not missing:
        return []
    return [f"you send from {', '.join(missing)}, which [identity] does not list (treated as yours meanwhile); "
            f"in {config.path or 'the config'} set: {advice(config, missing)}"]
