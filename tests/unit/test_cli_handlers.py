"""Every subcommand argparse knows has its handler in commands.HANDLERS, and no handler is left over."""

from __future__ import annotations

import argparse
import inspect

from daemon.cli import build_parser
from daemon.commands import HANDLERS


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(sub.choices)


def test_the_handler_table_and_the_subcommands_are_the_same_set():
    subcommands = _subcommands(build_parser())
    assert subcommands - HANDLERS.keys() == set(), "subcommands without a handler in commands.HANDLERS"
    assert HANDLERS.keys() - subcommands == set(), "handlers in commands.HANDLERS for no subcommand"


def test_each_handler_takes_the_config_the_arguments_as_of_and_the_progress_bars():
    for name, handler in HANDLERS.items():
        assert list(inspect.signature(handler).parameters) == ["config", "args", "as_of", "progress"], name
