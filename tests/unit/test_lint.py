"""ruff holds the code to the rules in pyproject.toml, and the CI script runs it before the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib

import pytest

from tests.helpers import REPO

LINTED = ("daemon", "connectors", "tests", "bench")


def test_the_rules_are_chosen_and_ci_runs_them_before_the_tests():
    lint = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert {"E", "F", "W", "I", "B", "UP"} <= set(lint["select"])
    script = (REPO / ".ci" / "run").read_text()
    ruff_at = script.index("ruff check " + " ".join(LINTED))
    assert ruff_at < script.index("pytest", ruff_at)
    assert "set -euo pipefail" in script  # a finding stops the run


def test_ruff_finds_nothing():
    ruff = [sys.executable, "-m", "ruff"]
    if subprocess.run([*ruff, "--version"], capture_output=True).returncode != 0:
        if not shutil.which("ruff"):
            pytest.skip("ruff is not installed: pip install -e '.[test]'")
        ruff = ["ruff"]
    out = subprocess.run([*ruff, "check", *LINTED], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
