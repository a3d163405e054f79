"""The service loop as a real process: it runs a pass, and SIGTERM makes it finish and exit 0."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

from tests.helpers import REPO


def test_run_does_a_pass_and_stops_cleanly_on_sigterm(tmp_path):
    shutil.copytree(REPO / "sample", tmp_path / "sample")
    shutil.copy(REPO / "config.example.toml", tmp_path / "config.toml")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(tmp_path / "config.toml"), "run"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "out" / "digest.eml").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no pass finished within 60 s"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    _, err = proc.communicate()
    assert code == 0, err
    assert "service stopped" in err
