"""The house has no circles: the modules of autograd/ and nn/ import each other without a cycle.

The import graph is read from the source with ``ast``: every ``import`` at a module's top
level (not inside a function, not under ``if TYPE_CHECKING:``) is an edge. A cycle means
that which module finishes loading first depends on who imports first; the graph must
be acyclic. Each autograd module must also import on its own in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _top_level_imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The known modules that ``name`` imports when it is loaded (top-level statements only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "finalbody", []))
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)

    visit(tree.body)
    imported = set()
    for target in found:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            imported.add(target)
    return imported


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (iterative: no recursion)."""
    cycles, done = [], set()
    for start in sorted(graph):
        if start in done:
            continue
        path, stack, on_path = [], [(start, iter(sorted(graph[start])))], {start}
        path.append(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif child in on_path:
                cycles.append(path[path.index(child):] + [child])
            elif child not in done:
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
                on_path.add(child)
    return cycles


def _import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {name: _top_level_imports(path, name, known) for name, path in modules.items()}
    # a package's __init__ runs before any of its modules: importing a.b imports a first
    for name in graph:
        parent = name.rpartition(".")[0]
        while parent:
            graph[name].discard(parent)  # (an edge to one's own package is no cycle of ours)
            parent = parent.rpartition(".")[0]
    return graph


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_engine_modules_import_each_other_without_a_cycle():
    graph = _import_graph()
    engine = {name for name in graph if name.count(".") == 1 and name.startswith("autograd.")}
    engine |= {name for name in graph if name.startswith("autograd.ops")}
    found = [c for c in _cycles(graph) if set(c) & engine]
    assert not found, found


def test_autograd_and_nn_import_each_other_without_a_cycle():
    found = _cycles(_import_graph())
    assert not found, found


def test_every_engine_module_imports_alone_in_a_fresh_interpreter():
    names = sorted(n for n in _modules() if n.count(".") == 1 and n.startswith("autograd.")
                   and not n.endswith("__main__"))
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    for name in names:  # one interpreter per module: each must load first, on its own
        result = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True,
                                timeout=120, cwd=ROOT)
        assert result.returncode == 0, f"{name}: {result.stderr[-2000:]}"
