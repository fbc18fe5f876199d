"""What a traced function can change besides its result: modules and random generators.

``find_modules`` finds the nn Modules behind a function (their train/eval flags and buffers
are guarded at each call, their parameters perturbed in the second trace);
``module_state``/``changed_modules``/``restore_modules`` snapshot them around a trace, so a
side effect (BatchNorm's running statistics in train mode) is refused and undone;
``find_generators``/``random_states`` do the same for random draws.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from autograd.tensors import Tensor


def _is_module(obj: Any) -> bool:
    module = sys.modules.get("nn.module")
    return module is not None and isinstance(obj, module.Module)


def find_generators(fn: Any, modules: list[Any]) -> list[Any]:
    """The random generators ``fn`` can draw from: numpy's global one, and every
    ``np.random.Generator``/``RandomState`` found behind ``fn`` or held by its modules."""
    found: dict[int, Any] = {}
    seen: set[int] = set()
    todo: list[tuple[Any, int]] = [(fn, 0)] + [(m, 2) for m in modules]
    while todo:
        obj, depth = todo.pop()
        if id(obj) in seen or depth > 3:
            continue
        seen.add(id(obj))
        if isinstance(obj, (np.random.Generator, np.random.RandomState)):
            found[id(obj)] = obj
            continue
        if _is_module(obj):
            todo += [(v, depth + 1) for v in vars(obj).values()]
            continue
        for child in _references(obj):
            todo.append((child, depth + 1))
    return list(found.values())


def random_states(generators: list[Any]) -> list[Any]:
    """Each generator's state, and numpy's global one (``np.random.seed``'s)."""
    states = [np.random.get_state()]
    for g in generators:
        states.append(g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state())
    return states


def restore_random_states(generators: list[Any], states: list[Any]) -> None:
    np.random.set_state(states[0])
    for g, state in zip(generators, states[1:]):
        if isinstance(g, np.random.Generator):
            g.bit_generator.state = state
        else:
            g.set_state(state)


def _same_state(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same_state(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def drew_random(before: list[Any], after: list[Any]) -> bool:
    return not all(_same_state(a, b) for a, b in zip(before, after))


def find_modules(fn: Any, params: list[Tensor]) -> list[Any]:
    """The nn Modules whose train/eval flags and buffers can change what ``fn`` computes.

    Searched: ``fn`` itself, a bound method's object, closures, defaults, the globals ``fn``
    names, and one level of attributes of the objects found there. If that misses the owner
    of a Parameter the graph used, every module in memory is searched (slow, compile time
    only). Returns every module of the trees that contain them, roots first.
    """
    found: dict[int, Any] = {}
    seen: set[int] = set()
    todo: list[tuple[Any, int]] = [(fn, 0)]
    while todo:
        obj, depth = todo.pop()
        if id(obj) in seen or depth > 3:
            continue
        seen.add(id(obj))
        if _is_module(obj):
            found[id(obj)] = obj
            continue
        for child in _references(obj):
            todo.append((child, depth + 1))
    modules = _trees(found.values())
    owned = {id(p) for m in modules for p in m._parameters.values() if p is not None}
    param_type = getattr(sys.modules.get("nn.module"), "Parameter", None)
    missing = [p for p in params if param_type and isinstance(p, param_type) and id(p) not in owned]
    if missing:
        modules = _trees(list(found.values()) + _owners_in_memory(missing))
    return modules


def _references(obj: Any) -> list[Any]:
    refs: list[Any] = []
    if hasattr(obj, "__self__") and hasattr(obj, "__func__"):  # a bound method
        refs += [obj.__self__, obj.__func__]
    if hasattr(obj, "func") and hasattr(obj, "keywords"):  # functools.partial
        refs += [obj.func, *obj.args, *obj.keywords.values()]
    code = getattr(obj, "__code__", None)
    if code is not None:
        refs += [c.cell_contents for c in (obj.__closure__ or ()) if _filled(c)]
        refs += list(obj.__defaults__ or ()) + list((obj.__kwdefaults__ or {}).values())
        names, stack = set(), [code]
        while stack:  # names used by the function and the functions defined inside it
            c = stack.pop()
            names.update(c.co_names)
            stack += [k for k in c.co_consts if hasattr(k, "co_names")]
        globals_ = getattr(obj, "__globals__", {})
        refs += [globals_[n] for n in names if n in globals_ and not _is_pymodule(globals_[n])]
    elif isinstance(obj, (list, tuple)):
        refs += list(obj)
    elif isinstance(obj, dict):
        refs += list(obj.values())
    elif hasattr(obj, "__dict__") and not isinstance(obj, type) and not _is_pymodule(obj):
        refs += list(vars(obj).values())
    return refs


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
        return True
    except ValueError:
        return False


def _is_pymodule(obj: Any) -> bool:
    return type(obj).__name__ == "module"


def _trees(roots: Any) -> list[Any]:
    modules: dict[int, Any] = {}
    for root in roots:
        for m in root.modules():
            modules.setdefault(id(m), m)
    return list(modules.values())


def _owners_in_memory(params: list[Tensor]) -> list[Any]:
    """Every module in memory that owns one of ``params``, and the modules above it."""
    import gc

    module_type = sys.modules["nn.module"].Module
    wanted = {id(p) for p in params}
    parent: dict[int, Any] = {}
    owners = []
    for obj in gc.get_objects():
        if isinstance(obj, module_type):
            for child in obj._modules.values():
                if child is not None:
                    parent[id(child)] = obj
            if any(id(p) in wanted for p in obj._parameters.values()):
                owners.append(obj)
    roots = []
    for m in owners:
        while id(m) in parent:
            m = parent[id(m)]
        roots.append(m)
    return roots


def module_state(modules: list[Any]) -> list[tuple[Any, ...]]:
    """A snapshot of each module: its attributes and registries (identity) and buffer values."""
    state = []
    for m in modules:
        buffers = {k: np.array(v, copy=True) for k, v in m._buffers.items() if isinstance(v, np.ndarray)}
        registries = (dict(m._parameters), dict(m._buffers), dict(m._modules))
        state.append((m, dict(vars(m)), registries, buffers))
    return state


def changed_modules(state: list[tuple[Any, ...]]) -> list[str]:
    """The attributes the function changed (rebound, or buffers written in place)."""
    changed = []
    for m, attributes, registries, buffers in state:
        now = vars(m)
        for k in set(attributes) | set(now):
            if attributes.get(k, changed) is not now.get(k, changed):
                changed.append(f"{m._label}.{k}")
        for k, v in buffers.items():
            if not np.array_equal(np.asarray(registries[1][k]), v) and f"{m._label}.{k}" not in changed:
                changed.append(f"{m._label}.{k}")
    return changed


def restore_modules(state: list[tuple[Any, ...]]) -> None:
    """Undo what the traced function did to the modules (see ``module_state``)."""
    for m, attributes, registries, buffers in state:
        for k in list(vars(m)):
            if k not in attributes:
                object.__delattr__(m, k)
        for k, v in attributes.items():
            object.__setattr__(m, k, v)
        for registry, saved in zip((m._parameters, m._buffers, m._modules), registries):
            registry.clear()
            registry.update(saved)
        for k, v in buffers.items():
            np.copyto(registries[1][k], v)
