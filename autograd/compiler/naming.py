"""Names in the generated code: values named after the tensors, modules and scopes they come from.

``assign_names`` names every value of a plan: arguments after the function's parameters,
parameters after their module (``fc1_weight``, ``linear0_bias``), op results after their
scope (``linear0``, ``t3_tanh``) or the tensor's own name; ``Names`` hands out fresh ones.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections import Counter
from typing import Any

import numpy as np

from autograd.compiler import kernels
from autograd.compiler.analyze import Plan, Value

RESERVED = {"np", "math", "f64", "saved", "float", "abs", "min", "max", "int", "slice", "None",
            "True", "False", "forward", "backward", "Ellipsis"} | set(kernels.NAMES) | set(dir(builtins))


def _sanitize(text: str) -> str:
    text = re.sub(r"\W+", "_", text.replace("=", "")).strip("_") or "v"
    return "v" + text if text[0].isdigit() else text


def _label(label: str) -> str:
    """A scope label as part of a name: "0: Linear" -> "linear0", "fc1: Linear" -> "fc1"."""
    if ": " in label:
        name, kind = label.split(": ", 1)
        return name if name.isidentifier() else _sanitize(kind.lower() + name)
    return _sanitize(label.lower())


def _module_labels(scope: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The labels of modules ("MLP", "0: Linear"), without free scopes such as an RNN's "t=3":
    a parameter belongs to its module, not to the step that used it first."""
    if not scope:
        return scope
    return tuple(label for label in scope if ": " in label or label.isidentifier()) or None


def _scope_name(scope: tuple[str, ...] | None) -> str:
    if not scope:
        return ""
    labels = scope[1:] if len(scope) > 1 else scope
    return "_".join(_label(label) for label in labels)


class Names:
    def __init__(self) -> None:
        self.used = set(RESERVED) | set(keyword.kwlist)
        self.counts: Counter[str] = Counter()

    def copy(self) -> Names:
        other = Names()
        other.used, other.counts = set(self.used), Counter(self.counts)
        return other

    def fresh(self, base: str) -> str:
        if not (base.isidentifier() and base.isascii()):
            base = _sanitize(base)
        if base in self.used:
            base = base + "_" if base in RESERVED or keyword.iskeyword(base) else base
        name, n = base, self.counts[base]
        while name in self.used:
            n += 1
            name = f"{base}_{n}"
        self.counts[base] = n
        self.used.add(name)
        return name


def assign_names(plan: Plan, arg_names: dict[int, str], names: Names) -> None:
    """Name every value: arguments after the function's parameters, the rest after scopes and ops."""
    by_key: dict[Any, str] = {}

    def name(v: Value, base: str) -> None:
        if v.key is not None and v.key in by_key:
            v.name = by_key[v.key]
            return
        v.name = names.fresh(base)
        if v.key is not None:
            by_key[v.key] = v.name

    first_scope: dict[int, tuple[str, ...] | None] = {}
    for node in plan.nodes:
        for v in node.inputs:
            first_scope.setdefault(id(v), node.out.scope)
    per_scope = Counter(node.out.scope for node in plan.nodes if node.out.scope)
    for _, arg, v in plan.inputs + plan.extras:
        if arg is not None:
            name(v, arg_names.get(arg, v.hint))
        else:
            scope = _scope_name(_module_labels(first_scope.get(id(v))))
            name(v, f"{scope}_{v.hint}" if scope and v.hint else v.hint or "param")
    for v in plan.derived:
        suffix = "int64" if v.convert == "int64" else np.dtype(v.convert).name
        name(v, v.hint if v.source is None else f"{v.source.name}_{suffix}")
    for node in plan.nodes:
        for v in node.inputs:
            if v.kind in ("input", "extra", "derived") and not v.name:
                name(v, v.hint)
            elif v.kind == "constant" and not v.name:
                name(v, v.hint or "const")
        out = node.out
        scope = _scope_name(out.scope)
        if out.hint != node.op.name:  # the tensor has a name of its own
            base = out.hint
        elif scope:
            base = scope if per_scope[out.scope] == 1 else f"{scope}_{node.op.name}"
        else:
            base = node.op.name
        name(out, base)
    for node in plan.nodes:
        for structure in node.attrs.values():
            for v in _values_in(structure):
                if not v.name:
                    name(v, v.hint or "const")


def _values_in(structure: Any) -> list[Value]:
    if isinstance(structure, Value):
        return [structure]
    if isinstance(structure, tuple):
        return [v for part in structure for v in _values_in(part)]
    return []
