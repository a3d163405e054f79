"""Progress for long stages: a spinner on a terminal only past the delay; a line per stage when piped."""

from __future__ import annotations

import io
import logging
import time

from rich.console import Console

from daemon.stages import stage


def _terminal() -> tuple[io.StringIO, Console]:
    buf = io.StringIO()
    return buf, Console(file=buf, force_terminal=True, width=80)


def test_a_stage_longer_than_the_delay_shows_a_spinner_on_a_terminal():
    buf, console = _terminal()
    with stage("analysing", tty=True, delay=0.05, console=console):
        time.sleep(0.4)
    assert "analysing ..." in buf.getvalue()


def test_a_quick_stage_shows_nothing_on_a_terminal():
    buf, console = _terminal()
    with stage("analysing", tty=True, delay=1.0, console=console):
        pass
    assert buf.getvalue() == ""


def test_piped_a_stage_is_one_info_line(caplog):
    with caplog.at_level(logging.INFO, logger="daemon.stages"):
        with stage("analysing", tty=False):
            pass
    assert [r.getMessage() for r in caplog.records] == ["analysing ..."]
