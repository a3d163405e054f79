"""The command line's rough edges (issue 17), each through the real CLI in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.helpers import tiekeeper as tk

SUBCOMMANDS = ("sync", "report", "followups", "digest", "explain", "run", "snooze", "ignore", "log", "contacts",
               "auth", "status", "doctor", "service", "config")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("edges")
    shutil.copytree(REPO / "sample", d / "sample")
    shutil.copy(REPO / "config.example.toml", d / "config.toml")
    out = tk(d / "config.toml", "run", "--once")
    assert out.returncode == 0, out.stderr
    return d


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _into_closed_pipe(config: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the CLI with its stdout a pipe whose reading end is closed before it writes a byte,
    as `| head -1` leaves it once head has its line."""
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run([sys.executable, "-m", "daemon", "--config", str(config), *args], stdout=w,
                              stderr=subprocess.PIPE, text=True, env=_env(), cwd=config.parent, timeout=300)
    finally:
        os.close(w)
    return proc


@pytest.mark.parametrize("args", [("report",), ("report", "--format", "json"), ("explain", "jane@home.example.com"),
                                  ("report", "--help")])
def test_output_into_a_closed_pipe_ends_quietly(sample, args):
    out = _into_closed_pipe(sample / "config.toml", *args)
    assert out.returncode == 0, out.stderr
    assert not [line for line in out.stderr.splitlines() if line != "analysing ..."], out.stderr


def test_head_reads_the_first_line_and_nothing_complains(sample):
    """Only the stage line: no BrokenPipeError, no "Exception ignored" at exit."""
    shell = (f"{sys.executable} -m daemon --config {sample / 'config.toml'} report --all | head -1; "
             "exit ${PIPESTATUS[0]}")
    out = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=_env(), timeout=300)
    assert out.returncode == 0 and out.stdout.startswith("As of ") and out.stderr == "analysing ...\n", out.stderr


def test_config_works_after_the_subcommand_too(sample):
    out = subprocess.run([sys.executable, "-m", "daemon", "report", "--config", str(sample / "config.toml")],
                         capture_output=True, text=True, env=_env(), cwd=sample, timeout=300)
    assert out.returncode == 0 and "Jane Doe" in out.stdout, out.stderr
    both = subprocess.run([sys.executable, "-m", "daemon", "--config", "/nonexistent.toml", "config", "path",
                           "--config", str(sample / "config.toml")], capture_output=True, text=True, env=_env())
    assert both.stdout.strip() == str(sample / "config.toml")  # the later one wins
    before = subprocess.run([sys.executable, "-m", "daemon", "--config", str(sample / "config.toml"), "config", "path"],
                            capture_output=True, text=True, env=_env())
    assert before.stdout.strip() == str(sample / "config.toml")  # not reset by the subcommand's own option


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_each_subcommand_help_has_an_example(command):
    out = subprocess.run([sys.executable, "-m", "daemon", command, "--help"], capture_output=True, text=True,
                         env=_env())
    assert out.returncode == 0
    assert "example" in out.stdout and f"tiekeeper {command}" in out.stdout.split("example", 1)[1], out.stdout


def test_explain_takes_a_name_and_address(sample):
    out = tk(sample / "config.toml", "explain", "Jane Doe <jane@home.example.com>")
    assert out.returncode == 0 and "Jane Doe is a contact" in out.stdout, out.stderr
    bad = tk(sample / "config.toml", "explain", "Jane Doe")
    assert bad.returncode == 2 and "is not an email address" in bad.stderr


def test_report_before_any_sync_says_to_sync(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[identity]\naddresses = ["me@example.org"]\n[store]\npath = "s.db"\n'
                   f'[sources.m]\ntype = "maildir"\npath = "{REPO / "sample" / "mail"}"\n')
    for args in (("report",), ("report", "--format", "json"), ("contacts",)):
        out = tk(cfg, *args)
        assert out.returncode == 0
        assert "run `tiekeeper sync`" in out.stderr, out.stderr
    synced = tk(cfg, "sync")
    assert synced.returncode == 0, synced.stderr
    assert "tiekeeper sync" not in tk(cfg, "report").stderr


def test_piped_output_gets_one_line_per_stage_on_stderr(sample):
    run = tk(sample / "config.toml", "run", "--once")
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines().count("syncing 2 source(s) ...") == 1
    assert run.stderr.splitlines().count("analysing ...") == 1
    assert "analysing" not in run.stdout
    report = tk(sample / "config.toml", "report", "--format", "json")
    assert report.stderr == "analysing ...\n" and report.stdout.startswith("{")
    assert tk(sample / "config.toml", "-q", "report").stderr == ""


def test_doctor_raises_no_keyring_alarm_for_caldav_without_username(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[identity]\naddresses = ["me@example.org"]\n[store]\npath = "s.db"\n'
                   '[sources.cal]\ntype = "caldav"\nurl = "http://127.0.0.1:9/dav/"\n')
    out = tk(cfg, "doctor", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                                 "DBUS_SESSION_BUS_ADDRESS": None})
    keyring = [line for line in out.stdout.splitlines() if line[5:].startswith("keyring:")]
    assert keyring and keyring[0].startswith("ok"), out.stdout
