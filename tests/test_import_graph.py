"""No import cycles in ``autograd`` and ``nn``: the modules can be read, and loaded, bottom up.

The graph is built with ``ast`` from the source files: an edge from a module to each
module it imports when it is loaded (its top-level statements, ``if``/``try`` blocks
included; not ``if TYPE_CHECKING:``, and not imports inside functions, which run later).
``from package import name`` points at the submodule ``package.name`` when there is one,
else at the package itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("autograd", "nn")


def module_names() -> dict[str, Path]:
    """Every module of the packages: ``autograd.viz.render`` -> its file."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def loading_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements run when the module is loaded, flattened (no recursion)."""
    run, todo = [], list(reversed(body))
    while todo:
        statement = todo.pop()
        run.append(statement)
        if isinstance(statement, ast.If):
            if "TYPE_CHECKING" in ast.unparse(statement.test):
                todo.extend(reversed(statement.orelse))
                continue
            todo.extend(reversed(statement.body + statement.orelse))
        elif isinstance(statement, ast.Try):
            handlers = [s for handler in statement.handlers for s in handler.body]
            todo.extend(reversed(statement.body + handlers + statement.orelse + statement.finalbody))
        elif isinstance(statement, (ast.With, ast.ClassDef)):
            todo.extend(reversed(statement.body))
    return run


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules that ``name`` imports when it is loaded."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for statement in loading_statements(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(statement, ast.Import):
            targets = [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom):
            base = statement.module or ""
            if statement.level:
                anchor = package.split(".")[: len(package.split(".")) - statement.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in statement.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # import a.b.c where only a.b is ours
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (first == last), or None (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if start in state:
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            following = next(stack[-1], None)
            if following is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(following) == 1:
                return path[path.index(following):] + [following]
            elif following not in state:
                state[following] = 1
                path.append(following)
                stack.append(iter(sorted(graph[following])))
    return None


def test_the_graph_is_read_as_meant():
    graph = import_graph()
    assert "autograd.viz.render" in graph["autograd.viz.save"]  # from autograd.viz.render import ...
    assert "autograd.files" in graph["nn.serialization"]
    assert "autograd.viz.drawing" not in graph["autograd.viz.render"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_in_autograd_and_nn():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
