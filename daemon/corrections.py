"""The user's corrections of a tie (``tiekeeper set``): a relationship or a rhythm that wins over
inference. Kept in the store as actions of kind "set"; here they become ``[[people]]``-like
overrides, merged into the config's own entries for the same person.

Pure functions: the store and the command live elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from daemon.config import Person
from daemon.identity import merge_key, normalize_address

KIND = "set"  # the kind of store action


@dataclass(frozen=True)
class Correction:
    address: str
    relationship: str | None = None
    cadence_days: float | None = None
    when: float = 0.0

    def note(self) -> str:
        """What is stored beside the address: the fields that were set, as JSON."""
        return json.dumps({k: v for k, v in (("relationship", self.relationship), ("cadence_days", self.cadence_days))
                           if v is not None}, sort_keys=True)

    @staticmethod
    def of(address: str, when: float, note: str) -> Correction:
        try:
            fields = json.loads(note or "{}")
        except ValueError:
            fields = {}
        relationship = fields.get("relationship") if isinstance(fields.get("relationship"), str) else None
        cadence = fields.get("cadence_days")
        cadence = float(cadence) if isinstance(cadence, (int, float)) and cadence > 0 else None
        return Correction(address, relationship, cadence, when)


def merge(earlier: Correction | None, later: Correction) -> Correction:
    """A second ``set`` of one address keeps what the first set and the second did not change."""
    if earlier is None:
        return later
    return Correction(later.address, later.relationship or earlier.relationship,
                      later.cadence_days or earlier.cadence_days, later.when)


def apply(people: tuple[Person, ...], corrections: list[Correction]) -> tuple[Person, ...]:
    """The config's people with the corrections on top: a correction of an address a ``[[people]]``
    entry names changes that entry (the command is the user's later word); any other becomes an
    entry of its own."""
    out = list(people)
    for c in corrections:
        key = merge_key(normalize_address(c.address))
        at = next((k for k, p in enumerate(out)
                   if not p.ignore and any(merge_key(normalize_address(a)) == key for a in p.addresses)), None)
        if at is None:
            out.append(Person(None, (c.address,), c.relationship, c.cadence_days, origin="tiekeeper set"))
        else:
            p = out[at]
            out[at] = replace(p, relationship=c.relationship or p.relationship,
                              cadence_days=c.cadence_days or p.cadence_days, origin="tiekeeper set")
    return tuple(out)
