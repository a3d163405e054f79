"""The README's "Your own mail" steps, run exactly as written, in a home of their own; and what
`config check` and `doctor` say about sources that cannot be read."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.helpers import tiekeeper as tk
from tests.servers import free_port


def readme_steps() -> str:
    text = (REPO / "README.md").read_text()
    section = text.split("## Your own mail", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def home(tmp_path) -> dict[str, str]:
    """HOME and the XDG folders in tmp, a `.venv/bin/tiekeeper` that runs this checkout, and an
    $EDITOR that makes the one edit the README names for the sample (delete analysis.as_of)."""
    clone = tmp_path / "clone"
    (clone / ".venv" / "bin").mkdir(parents=True)
    exe = clone / ".venv" / "bin" / "tiekeeper"
    exe.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m daemon \"$@\"\n")
    exe.chmod(0o755)
    editor = tmp_path / "editor"
    editor.write_text("#!/bin/sh\nsed -i '/^as_of = /d' \"$1\"\n")
    editor.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "TIEKEEPER_"))}
    env.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"),
               XDG_DATA_HOME=str(tmp_path / "home" / ".local" / "share"), EDITOR=str(editor), CWD=str(clone))
    (tmp_path / "home").mkdir()
    return env


def test_the_readme_steps_work_exactly_as_written(home):
    import subprocess

    steps = readme_steps()
    assert "config init" in steps
    out = subprocess.run(["bash", "-euc", steps], cwd=home["CWD"], env=home, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and "<name>" not in out.stderr
    data = Path(home["XDG_DATA_HOME"]) / "tiekeeper"
    assert (data / "follow-ups.ics").exists() and (data / "tiekeeper.db").exists()
    written = (Path(home["XDG_CONFIG_HOME"]) / "tiekeeper" / "config.toml").read_text()
    assert not re.search(r"^as_of = ", written, re.M)  # the editor's edit took
    assert "As of " in out.stdout and "followups: " in out.stdout
    again = subprocess.run([f"{home['CWD']}/.venv/bin/tiekeeper", "config", "init"], env=home, capture_output=True,
                           text=True)
    assert again.returncode == 2 and "exists already" in again.stderr  # never overwrites your config


def test_a_plain_copy_fails_config_check_naming_the_field(tmp_path):
    shutil.copy(REPO / "config.example.toml", tmp_path / "config.toml")
    out = tk(tmp_path / "config.toml", "config", "check")
    assert out.returncode == 2
    assert f"sources.home_mail.path: {tmp_path / 'sample' / 'mail'} does not exist" in out.stdout
    assert f"relative paths resolve against the config's folder {tmp_path}" in out.stdout
    run = tk(tmp_path / "config.toml", "run", "--once")
    assert run.returncode == 3 and "check sources.home_mail.path" in run.stderr and "<name>" not in run.stderr


def test_config_check_and_doctor_reach_every_network_source(tmp_path):
    port = free_port()
    cfg = tmp_path / "c.toml"
    cfg.write_text('[identity]\naddresses = ["me@example.org"]\n[store]\npath = "s.db"\n'
                   f'[sources.feed]\ntype = "ics"\nurl = "http://127.0.0.1:{port}/cal.ics"\n'
                   f'[sources.mail]\ntype = "imap"\nhost = "127.0.0.1"\nport = {port}\nusername = "u"\n'
                   'password_command = ["echo", "x"]\n'
                   f'[sources.dav]\ntype = "caldav"\nurl = "http://127.0.0.1:{port}/dav/"\n')
    out = tk(cfg, "config", "check")
    assert out.returncode == 3, out.stdout + out.stderr
    for name in ("feed", "mail", "dav"):
        line = next(line for line in out.stdout.splitlines() if line.startswith(f"FAIL source {name}:"))
        assert f"cannot connect to 127.0.0.1:{port}: connection refused" in line and "->" in line
    doctor = tk(cfg, "doctor")
    assert doctor.returncode == 1
    assert f"FAIL source feed: the feed: cannot connect to 127.0.0.1:{port}: connection refused" in doctor.stdout


def test_config_check_passes_a_feed_that_answers(tmp_path):
    import http.server
    import threading

    class Feed(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cfg = tmp_path / "c.toml"
        cfg.write_text('[identity]\naddresses = ["me@example.org"]\n[store]\npath = "s.db"\n'
                       f'[sources.feed]\ntype = "ics"\nurl = "http://127.0.0.1:{server.server_port}/cal.ics"\n')
        out = tk(cfg, "config", "check")
        assert out.returncode == 0 and f"ok   source feed: the feed at 127.0.0.1:{server.server_port} answers" in out.stdout
    finally:
        server.shutdown()


def test_a_config_without_sources_is_warned_about(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[identity]\naddresses = ["me@example.org"]\n[store]\npath = "s.db"\n')
    out = tk(cfg, "config", "check")
    assert out.returncode == 0 and "warn sources: the config has no source" in out.stdout
    assert "warn sources: the config has no source" in tk(cfg, "doctor").stdout
