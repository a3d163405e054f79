"""House rules of issue 18 that no behaviour shows: wide records are built by keyword, NaN is
tested by name, and the dead code stays dead. Read from the source, so a new module is held too."""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

from tests.helpers import REPO

PACKAGES = ("daemon", "connectors")
WIDE = 8  # fields from which a record must be built by keyword


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py"))


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


def test_every_wide_record_is_keyword_only():
    """A record of eight fields or more, built by position, lets two neighbours of one type swap
    unseen; kw_only makes that a TypeError."""
    positional = []
    for path in _modules():
        if path.name == "__main__.py":  # importing it runs the command line
            continue
        module = importlib.import_module(_module_name(path))
        for name, value in vars(module).items():
            if (isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == module.__name__
                    and len(dataclasses.fields(value)) >= WIDE
                    and any(not f.kw_only for f in dataclasses.fields(value))):
                positional.append(f"{module.__name__}.{name}")
    assert positional == []


def test_nan_is_tested_by_name_not_by_x_not_equal_to_itself():
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.NotEq)
                    and ast.dump(node.left) == ast.dump(node.comparators[0])):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == []


def test_the_dead_code_stays_dead():
    defined = {node.name for path in _modules() for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert defined & {"BadRecord", "is_freemail"} == set()
