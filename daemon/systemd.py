"""The systemd user unit that ``tiekeeper service install`` writes.

It ships as package data (``daemon/data/tiekeeper.service``), so a wheel install writes the same
unit as a checkout; ``contrib/tiekeeper.service`` is a copy a test holds byte-equal to it.
"""

from __future__ import annotations

import shlex
from importlib import resources

UNIT_NAME = "tiekeeper.service"


def unit_template() -> str:
    """The unit as shipped, with ``@EXEC@`` where the command goes."""
    return resources.files("daemon").joinpath("data", UNIT_NAME).read_text(encoding="utf-8")


def unit(command: list[str]) -> str:
    """The unit that runs ``command`` (the interpreter, its arguments and the config) with ``run``."""
    return unit_template().replace("@EXEC@", " ".join(shlex.quote(p) for p in command))
