"""Where a long command is: a spinner on a terminal, one line per stage when stderr is piped.

On a terminal nothing shows for a stage that ends within ``delay`` (most do); a longer one gets a
transient spinner with its elapsed time on stderr, so stdout stays for results. Piped, each stage is
one INFO line on stderr (``-q`` silences it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from daemon import terminal

log = logging.getLogger(__name__)
DELAY = 1.0


@contextmanager
def stage(label: str, tty: bool | None = None, delay: float = DELAY, console: Any = None) -> Iterator[None]:
    """Show ``label`` while the block runs (see the module's docstring)."""
    if tty is None:
        tty = terminal.is_interactive()
    if not tty:
        log.info("%s ...", label)
        yield
        return
    spinner = terminal.Spinner(label, console)
    lock = threading.Lock()
    state = {"started": False, "done": False}

    def show() -> None:
        with lock:
            if not state["done"]:
                spinner.show()
                state["started"] = True

    timer = threading.Timer(delay, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["done"] = True
            if state["started"]:
                spinner.hide()
