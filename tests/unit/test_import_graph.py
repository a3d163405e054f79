"""The project's modules import each other without a cycle (cli and commands included).

The graph is read from the source (AST), so it sees every import that runs, function-local ones too:
`import daemon.x`, `from daemon.x import y` (y a module or a name in x) and `from daemon import x`,
in both packages, daemon and connectors, since a cycle may run through either. Imports under
``if TYPE_CHECKING:`` never run, so they are no edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

PACKAGES = ("daemon", "connectors")
CLI = {"daemon.cli", "daemon.commands", "daemon.acting", "daemon.terminal", "daemon.__main__"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _innermost(name: str, modules: set[str]) -> str | None:
    """The module ``name`` is, or the one it lives in (``daemon.store.Store`` -> ``daemon.store``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _type_checking_only(tree: ast.AST) -> set[int]:
    """The ids of the nodes under ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skipped


def imports(source: str, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """The modules among ``modules`` that ``module`` (whose text is ``source``) imports when it runs."""
    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(source)
    skipped = _type_checking_only(tree)
    targets: set[str | None] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets |= {_innermost(a.name, modules) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x / from ..y import z
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                targets.add(_innermost(f"{base}.{alias.name}", modules))
    return {t for t in targets if t is not None and t != module}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: imports(p.read_text(encoding="utf-8"), m, p.name == "__init__.py", set(modules))
            for m, p in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle's modules (the strongly connected components of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _described(graph: dict[str, set[str]], found: list[list[str]]) -> str:
    return "; ".join(" <-> ".join(f"{m} (imports {', '.join(sorted(graph[m] & set(c)))})" for m in c) for c in found)


def test_the_reader_sees_every_import_that_runs_and_none_that_does_not():
    modules = {"p", "p.a", "p.b", "p.c", "p.d", "p.e", "p.sub", "p.sub.x"}
    source = ("import p.a\nfrom p import b\nfrom p.c import Thing\nfrom typing import TYPE_CHECKING\n"
              "from . import sub\nfrom .sub.x import y\n"
              "if TYPE_CHECKING:\n    from p.e import Hint\n"
              "def later():\n    from p.d import run\n")
    assert imports(source, "p.main", False, modules) == {"p.a", "p.b", "p.c", "p.d", "p.sub", "p.sub.x"}
    assert "daemon.commands" in import_graph()["daemon.cli"]  # imported inside cli._dispatch


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_cycle_runs_through_the_command_line():
    graph = import_graph()
    found = [c for c in cycles(graph) if CLI & set(c)]
    assert not found, "import cycles: " + _described(graph, found)


def test_no_module_imports_itself_back():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles: " + _described(graph, found)
