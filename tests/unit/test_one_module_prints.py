"""daemon.terminal is the one module that writes to the terminal. Every other module of daemon/ and
connectors/ returns text or calls it: no print() or input(), no sys.stdout or sys.stderr, no rich
(progress bars and spinners) and no getpass. Logging (daemon.log) stays as it is."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

THE_ONE = "daemon/terminal.py"
STREAMS = {"stdout", "stderr", "__stdout__", "__stderr__"}
WRITING_MODULES = {"rich", "getpass", "pprint"}
WRITING_BUILTINS = {"print", "input"}


def writes_to_the_terminal(source: str) -> list[str]:
    """Each place in ``source`` that writes to (or reads from) the terminal, as ``line: what``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        what = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in WRITING_BUILTINS:
            what = f"{node.func.id}()"
        elif (isinstance(node, ast.Attribute) and node.attr in STREAMS
              and isinstance(node.value, ast.Name) and node.value.id == "sys"):
            what = f"sys.{node.attr}"
        elif isinstance(node, ast.ImportFrom) and node.module == "sys" and {a.name for a in node.names} & STREAMS:
            what = "from sys import a stream"
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            hit = [n for n in names if n.split(".")[0] in WRITING_MODULES]
            what = f"import {hit[0]}" if hit else None
        elif (isinstance(node, ast.Attribute) and node.attr.startswith("print_")
              and isinstance(node.value, ast.Name) and node.value.id == "traceback"):
            what = f"traceback.{node.attr}"
        if what:
            found.append((node.lineno, what))
    return [f"{line}: {what}" for line, what in sorted(found)]


def _product_files() -> list[Path]:
    return sorted(p for d in ("daemon", "connectors") for p in (REPO / d).rglob("*.py"))


def test_the_finder_sees_each_way_of_writing():
    source = ("import sys\nfrom sys import stderr\nimport getpass\nfrom rich.console import Console\n"
              "print('x')\nsys.stdout.write('x')\nsys.stderr.isatty()\ninput()\nimport traceback\n"
              "traceback.print_exc()\nlog.info('fine')\n")
    assert writes_to_the_terminal(source) == [
        "2: from sys import a stream", "3: import getpass", "4: import rich.console", "5: print()",
        "6: sys.stdout", "7: sys.stderr", "8: input()", "10: traceback.print_exc"]


def test_the_terminal_module_writes():
    assert writes_to_the_terminal((REPO / THE_ONE).read_text(encoding="utf-8"))


def test_no_other_module_writes_to_the_terminal():
    found = {p.relative_to(REPO).as_posix(): writes_to_the_terminal(p.read_text(encoding="utf-8"))
             for p in _product_files() if p.relative_to(REPO).as_posix() != THE_ONE}
    assert {path: hits for path, hits in found.items() if hits} == {}, (
        f"write through {THE_ONE} (results to stdout, messages to stderr), or return the text")
