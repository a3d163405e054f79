"""Logging setup: one place, used by the CLI only.

Modules log through ``logging.getLogger(__name__)`` with lazy ``%`` arguments. Addresses and
subjects are logged at DEBUG only; INFO lines carry counts.
"""

from __future__ import annotations

import logging


def setup(verbose: bool = False, quiet: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler()  # to stderr (its default), beside daemon.terminal's messages
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s" if verbose else "%(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Third-party libraries are chatty at INFO (googleapiclient, urllib3); keep them to warnings.
    for noisy in ("googleapiclient", "urllib3", "caldav", "schedule"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
