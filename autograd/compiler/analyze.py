"""Analysis: compare the real and the perturbed trace; decide where every value comes from.

Both traces must record the same ops in the same order, wired the same way; else the
function took another path for other values (data-dependent control flow). Then each
leaf of the graph is one of:

* a **parameter**: a tensor that requires grad, the same object in both traces; its data is
  read at every call and its gradient is handed to the engine;
* an **argument**: a stand-in, or a value that *is* an argument's data (``Tensor(x)``), or
  equals an argument converted to another dtype in both traces;
* a **constant**: equal in both traces. A tensor the function holds (a buffer, a closure
  tensor) is read at every call, so changes to it are seen; one made afresh by each call (a
  ``2.0`` in ``x * 2.0``, ``np.arange(n)``) is built into the code.

Anything else changed when the inputs and parameters did, although it is not an argument:
it was computed outside the graph, or drawn at random, and the compiled code would freeze
it. That is a ``CompileError``, never a silently wrong result. The op parameters that may
hold per-call arrays (an index) are resolved the same way; a per-call value that is an op
input (a cross-entropy target) is a leaf like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd.compiler.templates import Template, template_for
from autograd.compiler.trace import FLOAT, INT, STATIC, TENSOR, Arg, CompileError, Run
from autograd.tensors import Tensor


@dataclass(eq=False)
class Value:
    """A value of the generated program.

    ``kind``: "node" (an op's result), "input" (data of a tensor the compiled op takes as an
    input: a parameter, a tensor argument, a held constant), "extra" (a per-call value that
    is not a tensor: an array, a number), "derived" (``source`` converted: ``convert`` is a
    dtype, or "int64"), "literal" (``obj``, a numpy scalar written into the code) or
    "constant" (``obj``, an array bound by name).
    """

    kind: str
    shape: tuple[int, ...]
    dtype: np.dtype
    key: Any = None  # values with one key share a variable
    obj: Any = None
    source: Value | None = None
    convert: Any = None
    needs_grad: bool = False
    hint: str = ""
    scope: tuple[str, ...] | None = None
    name: str = ""  # set by codegen


@dataclass
class Node:
    op: Any
    template: Template
    inputs: list[Value]
    out: Value
    attrs: dict[str, Any]  # static: the value; dynamic: a structure with Values inside


@dataclass
class Plan:
    nodes: list[Node]
    output: Value
    inputs: list[tuple[Tensor | None, int | None, Value]]  # (fixed tensor, or argument index)
    extras: list[tuple[Tensor | None, int | None, Value]]  # (held tensor, or argument index)
    derived: list[Value] = field(default_factory=list)
    params: list[Tensor] = field(default_factory=list)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, (np.ndarray, np.generic)) or isinstance(b, (np.ndarray, np.generic)):
        a, b = np.asarray(a), np.asarray(b)
        return (a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def _same_memory(a: Any, b: Any) -> bool:
    """``a`` is ``b``, or a view of exactly the same elements (np.asarray of it)."""
    if a is b:
        return True
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    return (a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


class Analysis:
    def __init__(self, r1: Run, r2: Run, args: list[Arg], snapshots: dict[int, Any],
                 swapped: dict[int, tuple[Tensor, Any, Any]]) -> None:
        self.r1, self.r2, self.args, self.snapshots, self.swapped = r1, r2, args, snapshots, swapped
        self.values: dict[Any, Value] = {}
        self.inputs: list[tuple[Tensor | None, int | None, Value]] = []
        self.extras: list[tuple[Tensor | None, int | None, Value]] = []
        self.derived: list[Value] = []
        self.params: list[Tensor] = []
        self.where = ""

    def fail(self, message: str) -> CompileError:
        return CompileError(f"{self.where}: {message}" if self.where else message)

    # ---- the argument and parameter values the program reads ----------------------

    def _input(self, key: Any, tensor: Tensor | None, arg: int | None, data: Any, needs: bool,
               hint: str, dtype: Any = None) -> Value:
        value = self.values.get(key)
        if value is None:
            dtype = np.asarray(data).dtype if dtype is None else np.dtype(dtype)
            value = Value("input", np.shape(data), dtype, key, needs_grad=needs, hint=hint)
            self.values[key] = value
            self.inputs.append((tensor, arg, value))
        return value

    def _extra(self, key: Any, tensor: Tensor | None, arg: int | None, data: Any, hint: str) -> Value:
        value = self.values.get(key)
        if value is None:
            value = Value("extra", np.shape(data), np.asarray(data).dtype, key, hint=hint)
            self.values[key] = value
            self.extras.append((tensor, arg, value))
        return value

    def _derived(self, source: Value, convert: Any, shape: tuple[int, ...], dtype: np.dtype) -> Value:
        key = ("derived", id(source), str(convert))
        value = self.values.get(key)
        if value is None:
            value = Value("derived", shape, np.dtype(dtype), key, source=source, convert=convert,
                          hint=source.hint)
            self.values[key] = value
            self.derived.append(value)
        return value

    def argument(self, j: int) -> Value:
        """Argument ``j`` as the program uses it (integers as int64, as they were traced)."""
        arg, data = self.args[j], self.r1.plain[j]
        if arg.is_tensor:  # a tensor argument: an input of the compiled op
            value = self._input(("arg", j), None, j, data, arg.kind == TENSOR and arg.requires_grad,
                                arg.name, arg.dtype)
            if arg.kind == INT and arg.dtype != np.int64:
                return self._derived(value, "int64", arg.shape, np.int64)
            return value
        raw = self._extra(("arg", j), None, j, data, arg.name)
        raw.dtype = arg.dtype if arg.dtype is not None else raw.dtype
        if arg.kind == INT and not (arg.user_type is np.int64 or (
                arg.user_type is np.ndarray and arg.dtype == np.int64)):
            return self._derived(raw, "int64", arg.shape, np.int64)
        if arg.kind == FLOAT:
            return self._derived(raw, arg.dtype, (), arg.dtype)
        return raw

    @staticmethod
    def _without_grad(value: Value) -> Value:
        """The same variable, used where no gradient flows (``t.detach()``, ``Tensor(x.data)``)."""
        if not value.needs_grad:
            return value
        return Value(value.kind, value.shape, value.dtype, value.key, hint=value.hint)

    def _cast_link(self, d1: Any, d2: Any) -> Value | None:
        """The argument that ``d1``/``d2`` equal in both traces (converted to their dtype)."""
        a1, a2 = np.asarray(d1), np.asarray(d2)
        for j, arg in enumerate(self.args):
            p1, p2 = self.r1.plain[j], self.r2.plain[j]
            if arg.kind == STATIC or p1 is None or np.shape(p1) != a1.shape:
                continue
            try:
                c1, c2 = np.asarray(p1).astype(a1.dtype), np.asarray(p2).astype(a2.dtype)
            except (TypeError, ValueError):
                continue
            if _equal(c1, a1) and _equal(c2, a2):
                base = self.argument(j)
                return base if base.dtype == a1.dtype else self._derived(base, a1.dtype, a1.shape, a1.dtype)
        return None

    def _identity_link(self, d1: Any, d2: Any) -> Value | None:
        """The argument or parameter whose data ``d1``/``d2`` are (the same array, in both traces)."""
        for j, arg in enumerate(self.args):
            if arg.kind != STATIC and _same_memory(d1, self.r1.plain[j]) and _same_memory(
                    d2, self.r2.plain[j]):
                return self._without_grad(self.argument(j))
        for key, (tensor, old, new) in self.swapped.items():
            if d1 is old and d2 is new:
                value = self.values.get(("param", key))
                if value is not None:
                    return self._without_grad(value)
                return self._extra(("held", key), tensor, None, old, tensor.name or "held")
        return None

    # ---- leaves ---------------------------------------------------------------------------

    def leaf(self, l1: Tensor, l2: Tensor) -> Value:
        j = self.r1.standins.get(id(l1))
        if j is not None:
            if self.r2.standins.get(id(l2)) != j:
                raise self.fail("the two traces used different arguments here (data-dependent control flow)")
            return self.argument(j)
        if l1._requires_grad:
            if l1 is not l2:
                raise self.fail(
                    "a tensor that requires grad was created inside the function (each call makes "
                    "a new one): create parameters outside the compiled function"
                )
            key = ("param", id(l1))
            if key not in self.values:
                self.params.append(l1)
            return self._input(key, l1, None, l1._data, True, l1.name or "param")
        d1, d2 = l1._data, l2._data
        if l1 is l2:  # a tensor the function holds: read at every call, if it did not change
            before = self.snapshots.get(("leaf", id(l1)), d2)
            if _equal(before, d2):
                return self._input(("tensor", id(l1)), l1, None, d2, False, l1.name or "const")
            return self._value(before, d2)
        return self._identity_link(d1, d2) or self._value(d1, d2)

    def _value(self, d1: Any, d2: Any) -> Value:
        """A constant made afresh by each call, or an argument converted."""
        if _equal(d1, d2):
            if isinstance(d1, np.generic):
                return Value("literal", (), d1.dtype, obj=d1)
            key = ("constant", id(d1))
            if key not in self.values:
                self.values[key] = Value("constant", d1.shape, d1.dtype, key, obj=d1, hint="const")
            return self.values[key]
        linked = self._cast_link(d1, d2)
        if linked is None:
            raise self.fail(
                "a value that is not an argument changed when the inputs and parameters did: it "
                "was computed outside the graph (through .data, .item(), .numpy() or numpy on "
                "raw arrays) or drawn at random, and compiling would freeze it. Compute it with "
                "Tensor operations, or pass it to the function as an argument"
            )
        return linked

    # ---- op parameters that may hold per-call values --------------------------------------

    def dynamic(self, v1: Any, v2: Any) -> Any:
        if isinstance(v1, tuple):
            if not isinstance(v2, tuple) or len(v1) != len(v2):
                raise self.fail("the index has another structure in the second trace")
            return tuple(self.dynamic(a, b) for a, b in zip(v1, v2))
        if v1 is None or v1 is Ellipsis or isinstance(v1, slice):
            if not _equal(v1, v2):
                raise self.fail("a slice changed between the traces (computed from data)")
            return v1
        if isinstance(v1, (np.ndarray, np.generic)):
            if v1 is v2 and isinstance(v1, np.ndarray):
                before = self.snapshots.get(id(v1), v1)
                if _equal(before, v2):
                    key = ("constant", id(v1))
                    if key not in self.values:
                        self.values[key] = Value("constant", v1.shape, v1.dtype, key, obj=v1, hint="index")
                    return self.values[key]
                v1 = before
            return self._identity_link(v1, v2) or self._value(v1, v2)
        if isinstance(v1, (int, float)) and not isinstance(v1, bool):
            if _equal(v1, v2):
                return v1
            return self._value(np.asarray(v1), np.asarray(v2))
        if not _equal(v1, v2):
            raise self.fail(f"an op parameter ({v1!r}) changed between the traces (computed from data)")
        return v1

    # ---- the whole graph --------------------------------------------------------------------

    def run(self) -> Plan:
        r1, r2 = self.r1, self.r2
        if r1.out._op is None:
            raise CompileError(
                "the function's result is not computed from any input or parameter (an input "
                "returned unchanged, or a constant): there is nothing to compile"
            )
        if r1.out._spent:
            raise CompileError(
                "the function ran backward() on its result: compile the loss function and call "
                ".backward() on what the compiled function returns"
            )
        if len(r1.nodes) != len(r2.nodes):
            raise CompileError(
                f"the function recorded {len(r1.nodes)} ops with the real inputs and {len(r2.nodes)} "
                "with other values: its path depends on the data (data-dependent control flow); "
                "use autograd.where, or call it eagerly"
            )
        index1 = {id(t): k for k, t in enumerate(r1.nodes)}
        index2 = {id(t): k for k, t in enumerate(r2.nodes)}
        leaf1 = {id(t): k for k, t in enumerate(r1.leaves)}
        leaf2 = {id(t): k for k, t in enumerate(r2.leaves)}
        node_values: list[Value] = []
        nodes: list[Node] = []
        for k, (n1, n2) in enumerate(zip(r1.nodes, r2.nodes)):
            op = n1._op
            self.where = f"{op.name} (op {k + 1} of {len(r1.nodes)}{_scope_text(n1._scope)})"
            if n1 is n2:
                raise self.fail(
                    "the function uses a tensor computed before it was called (a graph from "
                    "outside): compute it inside the function, or pass it in (or .detach() it)"
                )
            if type(n2._op) is not type(op) or len(n1._inputs) != len(n2._inputs):
                raise self.fail("the second trace recorded another op here (data-dependent control flow)")
            if n1._hooks or n1._retains_grad:
                raise self.fail(
                    "hooks and retain_grad() on tensors inside a compiled function are not supported")
            template = template_for(op)
            if template is None:
                raise self.fail(f"no compiled form for the op {type(op).__name__}; call the function eagerly")
            known = set(template.static) | set(template.dynamic) | set(template.ignored)
            unknown = [a for a in vars(op) if a not in known]
            if unknown:
                raise self.fail(f"the op has state the compiler does not know ({', '.join(unknown)})")
            attrs = {}
            for a in template.static:
                v1, v2 = getattr(op, a), getattr(n2._op, a)
                if not _equal(v1, v2):
                    raise self.fail(f"its parameter {a}={v1!r} changed between traces (computed from data)")
                attrs[a] = v1
            for a in template.dynamic:
                attrs[a] = self.dynamic(getattr(op, a), getattr(n2._op, a))
            inputs = []
            for i, (a, b) in enumerate(zip(n1._inputs, n2._inputs)):
                if a._op is not None:
                    if b._op is None or index1[id(a)] != index2[id(b)]:
                        raise self.fail(_REWIRED)
                    inputs.append(node_values[index1[id(a)]])
                else:
                    if b._op is not None or leaf1[id(a)] != leaf2[id(b)]:
                        raise self.fail(_REWIRED)
                    self.where = f"input {i + 1} of {op.name} (op {k + 1}{_scope_text(n1._scope)})"
                    inputs.append(self.leaf(a, b))
            out = Value("node", n1._data.shape, n1._data.dtype, ("node", k), hint=n1.name or op.name,
                        scope=n1._scope)
            node_values.append(out)
            nodes.append(Node(op, template, inputs, out, attrs))
        for t in r1.inputs:
            if isinstance(t, Tensor) and t._hooks:
                raise CompileError("hooks on a traced argument inside a compiled function are not supported")
        self.where = ""
        # the compiled op's inputs: the tensors it holds first, then the tensor arguments in order
        inputs = [i for i in self.inputs if i[1] is None] + sorted(
            (i for i in self.inputs if i[1] is not None), key=lambda i: i[1])
        extras = sorted((i for i in self.extras if i[1] is not None), key=lambda i: i[1]) + [
            i for i in self.extras if i[1] is None]
        return Plan(nodes, node_values[index1[id(r1.out)]], inputs, extras, self.derived, self.params)


_REWIRED = "the two traces wire this op differently (data-dependent control flow)"


def _scope_text(scope: tuple[str, ...] | None) -> str:
    return f", in {'/'.join(scope)}" if scope else ""


def analyze(r1: Run, r2: Run, args: list[Arg], snapshots: dict[int, Any],
            swapped: dict[int, tuple[Tensor, Any, Any]]) -> Plan:
    """The program's plan from two traces.

    ``snapshots``: copies of the arrays the first trace's constants held (by id), taken
    before the second trace ran; ``swapped``: ``{id(tensor): (tensor, real data, perturbed
    data)}`` for every parameter the second trace ran with other values (still in place).
    """
    return Analysis(r1, r2, args, snapshots, swapped).run()


def snapshots(run: Run, templates: Any = None) -> dict[int, Any]:
    """Copies of the arrays held by ``run``'s constant leaves and op parameters (by id)."""
    copies: dict[int, Any] = {}

    def keep(v: Any) -> None:
        if isinstance(v, np.ndarray):
            copies.setdefault(id(v), v.copy())
        elif isinstance(v, tuple):
            for part in v:
                keep(part)

    for leaf in run.leaves:
        if not leaf._requires_grad:
            data = leaf._data
            copies[("leaf", id(leaf))] = data.copy() if isinstance(data, np.ndarray) else data
    for node in run.nodes:
        template = template_for(node._op)
        for a in (template.static + template.dynamic) if template else ():
            keep(getattr(node._op, a, None))
    return copies
