"""The terminal: the one module that writes to stdout and stderr.

Results go to stdout (lines, raw text, JSON); warnings, errors and progress go to stderr, so a
result piped into another program stays clean. Every other module returns text or calls these;
logging (``daemon.log``) is the other way out, and goes to stderr too.
``tests/unit/test_one_module_prints.py`` keeps it so.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable
from typing import Any

PREFIX = "tiekeeper: "


# ----------------------------------------------------------------------------------------- results
def out(line: str = "") -> None:
    """One line of a result, on stdout."""
    sys.stdout.write(line + "\n")


def write(text: str) -> None:
    """Text as it is (a file's content, a help page), on stdout."""
    sys.stdout.write(text)


def print_json(data: object) -> None:
    """Data as indented JSON, non-ASCII kept, on stdout."""
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def flush() -> None:
    sys.stdout.flush()


def quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's own flush at exit finds no closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


# ------------------------------------------------------------------------------ messages on stderr
def note(message: str) -> None:
    """``tiekeeper: message`` on stderr: something for the user that is no result."""
    sys.stderr.write(PREFIX + message + "\n")


def warn(line: str) -> None:
    note(f"warning: {line}")


def error(line: str) -> None:
    note(f"error: {line}")


def config_error(line: str) -> None:
    note(f"config error: {line}")


def ask_secret(prompt: str) -> str:
    """Ask for a password without echoing it (on the controlling terminal)."""
    return getpass.getpass(prompt)


# -------------------------------------------------------------------------------- progress (rich)
def is_interactive() -> bool:
    """Whether stderr is a terminal: progress is drawn there only then."""
    return sys.stderr.isatty()


class Spinner:
    """A transient spinner with the elapsed time on stderr (stdout stays for results)."""

    def __init__(self, label: str, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._label = label
        self._bar = Progress(SpinnerColumn(), TextColumn(f"{label} ..."), TimeElapsedColumn(),
                             console=console or Console(stderr=True), transient=True)

    def show(self) -> None:
        self._bar.add_task(self._label, total=None)
        self._bar.start()

    def hide(self) -> None:
        self._bar.stop()


def progress_bars() -> Callable[[str], Callable[[int, int], None]] | None:
    """A rich progress bar per source on a terminal (for 500 records or more); None otherwise."""
    if not is_interactive():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    def factory(source: str) -> Callable[[int, int], None]:
        state: dict = {}

        def update(done: int, total: int) -> None:
            if "bar" not in state:
                if total < 500:
                    return
                bar = Progress(TextColumn(f"[bold]{source}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                               console=Console(stderr=True), transient=True)  # stdout stays for results
                bar.start()
                state["bar"], state["task"] = bar, bar.add_task(source, total=total)
            state["bar"].update(state["task"], completed=done)
            if done >= total:
                state["bar"].stop()

        return update

    return factory
