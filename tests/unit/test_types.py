"""mypy holds daemon and connectors to their annotations (pyproject.toml [tool.mypy]), and the CI
script runs it after ruff, before the tests."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from tests.helpers import REPO


def test_mypy_is_set_up_without_blanket_exemptions_and_ci_runs_it_after_ruff():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    cfg = pyproject["tool"]["mypy"]
    assert cfg["files"] == ["daemon", "connectors"]
    assert cfg["python_version"] == "3.11"
    for blanket in ("ignore_errors", "ignore_missing_imports", "follow_imports", "exclude", "disable_error_code"):
        assert blanket not in cfg, f"[tool.mypy] {blanket} exempts everything"
    for override in cfg.get("overrides", []):
        assert set(override) == {"module", "ignore_missing_imports"}  # only imports of untyped libraries
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        assert not [m for m in modules if m.split(".")[0] in ("daemon", "connectors", "tests")]
    assert any(d.startswith("mypy") for d in pyproject["project"]["optional-dependencies"]["test"])
    script = (REPO / ".ci" / "run").read_text()
    mypy_at = script.index("\n.venv/bin/mypy\n", script.index("ruff check"))  # the files come from [tool.mypy]
    assert mypy_at < script.index("pytest", mypy_at)


def test_mypy_finds_nothing():
    out = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr  # 1: type errors; 2: mypy itself failed
