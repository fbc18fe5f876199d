"""Tracing: run the function eagerly and read the graph it records.

``run`` calls the user's function once with stand-ins for its arguments and returns the
recorded graph: the output, its computed tensors in clock order and its leaves in the order
they are first used. A function is traced twice: once with the real values, once with
every argument and parameter *perturbed* (values permuted and jittered; integer inputs
moved by one). ``autograd.compiler.analyze`` compares the two graphs: a value that
changed between them but is not an argument was computed outside the graph (through
``.data``, ``.item()``, numpy on raw arrays) or drawn at random, and would be baked into
the compiled code, so it is refused.

Stand-ins: a float Tensor argument becomes a ``TracedTensor`` leaf that requires grad (so
every op on it is recorded, even on data alone); an integer argument (a Python int, a
numpy integer, an integer array or Tensor) becomes a ``TracedInt`` int64 array. Both raise
``CompileError`` when Python asks for their value (``bool``, ``int``, ``float``,
``.item()``, iteration): that is data-dependent control flow, which a trace cannot see.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd
import autograd.ops
from autograd.tensors import Tensor, begin_tracing, end_tracing, traced_effects


class CompileError(RuntimeError):
    """A function that ``autograd.compiler.compile`` cannot turn into code that matches eager."""


_REMEDY = (
    "data-dependent control flow, or a value computed outside the graph, which a compiled "
    "function cannot replay (it would be frozen at its traced value); compute it with Tensor "
    "operations, pass it as an argument (a static one, compile(fn, static_argnums=...), if it "
    "shapes the computation), or call the function eagerly"
)
_CONTROL_FLOW = "Python needs the value of {what}: " + _REMEDY


def _refuse(what: str) -> Any:
    raise CompileError(_CONTROL_FLOW.format(what=what))


class TracedTensor(Tensor):
    """A float argument while tracing: a leaf that requires grad, whose value Python cannot read."""

    def __bool__(self) -> bool:
        return _refuse("a traced tensor (bool(t), if t: ...)")

    def __float__(self) -> float:
        return _refuse("a traced tensor (float(t))")

    def __int__(self) -> int:
        return _refuse("a traced tensor (int(t))")

    def __index__(self) -> int:
        return _refuse("a traced tensor (used as an index or size)")

    def item(self) -> Any:
        return _refuse("a traced tensor (t.item())")

    def tolist(self) -> Any:
        return _refuse("a traced tensor (t.tolist())")

    def __repr__(self) -> str:
        return f"TracedTensor(shape={self.shape}, dtype={self.dtype})"


_OPS_DIRECTORY = os.path.dirname(os.path.abspath(autograd.ops.__file__)) + os.sep


class TracedInt(np.ndarray):
    """An integer argument while tracing: an int64 array whose value Python cannot read."""

    def __bool__(self) -> bool:
        return _refuse("a traced integer input (bool(y), if y == ...)")

    def __int__(self) -> int:
        return _refuse("a traced integer input (int(y))")

    def __float__(self) -> float:
        return _refuse("a traced integer input (float(y))")

    def __index__(self) -> int:
        # An op indexing with it (``x[y]``: numpy asks a 0-d index for its integer) is fine:
        # the index is an op parameter, which the second trace checks. Anywhere else it is a
        # size, a range or a Python index: control flow.
        caller = sys._getframe(1)
        if caller.f_code.co_filename.startswith(_OPS_DIRECTORY):
            return int(np.asarray(self))
        return _refuse("a traced integer input (used as a size, a range or a Python index)")

    def item(self, *args: Any) -> Any:
        return _refuse("a traced integer input (y.item())")

    def tolist(self) -> Any:
        return _refuse("a traced integer input (y.tolist())")

    def __iter__(self) -> Any:
        return _refuse("a traced integer input (iterating over it in Python)")

    def __repr__(self) -> str:
        return f"TracedInt(shape={self.shape})"

    __str__ = __repr__


# ---- arguments --------------------------------------------------------------------------

TENSOR, ARRAY, INT, FLOAT, STATIC = "tensor", "array", "int", "float", "static"


@dataclass
class Arg:
    """One argument of the traced call, as the generated code receives it."""

    position: int | str  # index into args, or a keyword
    name: str
    kind: str
    shape: tuple[int, ...] = ()
    dtype: np.dtype | None = None
    requires_grad: bool = False
    user_type: type = object  # int, np.int64, ndarray, ... (integer inputs are converted)
    is_tensor: bool = False  # passed as a Tensor (an input of the compiled op), not an array


def classify(value: Any, position: int | str, name: str, static: bool) -> Arg:
    """What kind of per-call input ``value`` is (its signature is part of the cache key)."""
    if static:
        return Arg(position, name, STATIC, user_type=type(value))
    if isinstance(value, Tensor):
        data = value._data
        kind = TENSOR if data.dtype.kind == "f" else INT if data.dtype.kind in "iu" else ARRAY
        return Arg(position, name, kind, data.shape, data.dtype, value._requires_grad, type(value), True)
    if isinstance(value, np.ndarray):  # a float array is traced as a Tensor: ops on it are recorded
        kind = TENSOR if value.dtype.kind == "f" else INT if value.dtype.kind in "iu" else ARRAY
        return Arg(position, name, kind, value.shape, value.dtype, user_type=np.ndarray)
    if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, str):
        return Arg(position, name, STATIC, user_type=type(value))
    if isinstance(value, (int, np.integer)):
        return Arg(position, name, INT, (), np.dtype(np.int64), user_type=type(value))
    if isinstance(value, (float, np.floating)):
        return Arg(position, name, FLOAT, (), np.dtype(type(value)) if type(value) is not float
                   else np.dtype(np.float64), user_type=type(value))
    try:
        hash(value)
    except TypeError:
        raise CompileError(
            f"argument {name!r} is a {type(value).__name__}: a compiled function takes Tensors, "
            "arrays and numbers (pass a list of tensors as separate arguments, or capture it "
            "in a closure)"
        ) from None
    return Arg(position, name, STATIC, user_type=type(value))


def _traced_int(array: np.ndarray) -> TracedInt:
    return np.array(array, dtype=np.int64).view(TracedInt)


def stand_in(arg: Arg, value: Any, perturb: np.random.Generator | None) -> tuple[Any, Any]:
    """(what the function receives, the plain value the analysis compares) for one argument."""
    if arg.kind == STATIC:
        return value, None
    if arg.kind == FLOAT:
        plain = np.asarray(value, dtype=arg.dtype)
        if perturb is not None:
            plain = perturbed(plain, perturb)
        return (float(plain) if arg.user_type is float else arg.dtype.type(plain)), plain
    data = value._data if isinstance(value, Tensor) else value
    if arg.kind == INT:
        probe = _traced_int(np.asarray(data))
        if perturb is not None:
            probe = _traced_int(perturbed(np.asarray(probe), perturb))
        if isinstance(value, Tensor):
            leaf = Tensor.__new__(Tensor)
            Tensor.__init__(leaf, probe)  # an ndarray is kept as it is (even 0-d): the probe itself
            return leaf, probe
        return probe, probe
    if perturb is not None:
        data = like(data, perturbed(np.asarray(data), perturb))
    if arg.kind == TENSOR:
        traced = TracedTensor.__new__(TracedTensor)
        Tensor.__init__(traced, data)
        traced._requires_grad = True
        return traced, traced._data
    if isinstance(value, Tensor):  # a bool (or other non-float, non-int) Tensor
        return Tensor._leaf(data), data
    return data, data


def like(old: Any, new: np.ndarray) -> Any:
    """``new`` stored as ``old`` is: a numpy scalar for a numpy scalar (as tensors keep 0-d data)."""
    return new if isinstance(old, np.ndarray) else new[()]


def perturbed(value: Any, rng: np.random.Generator) -> Any:
    """Other values of the same shape and dtype: permuted and jittered floats, moved integers."""
    a = np.array(value)
    if a.dtype.kind == "b":
        moved = np.roll(a, 1)
        return moved if a.size > 1 and not np.array_equal(moved, a) else ~a
    if a.dtype.kind in "iu":
        moved = np.roll(a, 1)
        if a.size > 1 and not np.array_equal(moved, a):
            return moved
        return np.where(a > 0, a - 1, a + 1).astype(a.dtype)
    if a.dtype.kind not in "fc":
        return a
    flat = a.reshape(-1)
    if flat.size > 1:
        flat = flat[rng.permutation(flat.size)]
    scale = float(np.max(np.abs(flat))) if flat.size and np.all(np.isfinite(flat)) else 1.0
    jitter = rng.uniform(0.5, 1.0, flat.shape)
    out = flat * (1 + 2.0**-6 * jitter) + 2.0**-6 * (scale or 1.0) * jitter[::-1]
    return out.astype(a.dtype).reshape(a.shape)


# ---- watching the function for values Python reads ---------------------------------------


def _shape_readers() -> set[Any]:
    """Library functions that read a traced tensor's array for its shape and dtype only.

    ``zeros_like``/``ones_like``; ``nn.functional``'s target check, which looks at a float
    target's values only when they are class indices stored as floats, and then the second
    trace (whose values are not whole numbers) refuses the function anyway.
    """
    from autograd import api

    codes = {api.zeros_like.__code__, api.ones_like.__code__,
             Tensor.__array__.__code__, Tensor.numpy.__code__}  # (their own callers are watched)
    functional = sys.modules.get("nn.functional")
    check = getattr(functional, "_class_indices", None)
    if check is not None:
        codes.add(check.__code__)
    return codes


class Watcher:
    """The first trace's check, called by ``Tensor`` (``autograd.tensors.begin_tracing``) where
    Python reads a tensor's value: it stops the function when the tensor is traced (an
    argument, a parameter, a computed tensor), since the compiled code could not replay what
    is done with the value. Printing a tensor is allowed, and so are the library functions
    that only want its shape (``_shape_readers``). ``record``: ops on data alone are recorded.
    """

    def __init__(self, watch: bool = True) -> None:
        self.watch = watch
        self.allowed = {Tensor.__repr__.__code__, getattr(Tensor.__str__, "__code__", None),
                        getattr(Tensor.__format__, "__code__", None)} | _shape_readers()
        self.previous: Any = None

    def __call__(self, t: Tensor, what: str) -> None:
        if not (type(t) is TracedTensor or t._op is not None or t._requires_grad):
            return
        caller = sys._getframe(3)  # (this, autograd.tensors._traced_read, the Tensor method, its caller)
        if caller.f_code in self.allowed:
            return
        import linecache

        line = linecache.getline(caller.f_code.co_filename, caller.f_lineno).strip()
        where = f"{caller.f_code.co_filename}:{caller.f_lineno}" + (f" ({line})" if line else "")
        raise CompileError(f"{what} a traced tensor at {where}: {_REMEDY}")

    def __enter__(self) -> Watcher:
        self.previous = begin_tracing(self if self.watch else None, record=True)
        return self

    def __exit__(self, *exc: object) -> None:
        end_tracing(self.previous)


# ---- one trace ----------------------------------------------------------------------------


@dataclass
class Run:
    """One eager run of the function and the graph it recorded."""

    out: Tensor
    nodes: list[Tensor]  # computed tensors, in clock order
    leaves: list[Tensor]  # in the order first used
    inputs: list[Any]  # what each argument was replaced by
    plain: list[Any]  # the plain value of each argument (for the analysis)
    standins: dict[int, int] = field(default_factory=dict)  # id(stand-in leaf) -> argument index
    effects: list[Tensor] = field(default_factory=list)  # results of state updates (not behind out)


def run(fn: Any, args: list[Arg], values: list[Any], perturb: np.random.Generator | None,
        watch: bool = False) -> Run:
    """Call ``fn`` with stand-ins (perturbed if ``perturb``) under grad mode; read its graph.

    ``watch``: stop with a ``CompileError`` where Python reads a traced value (``Watcher``).
    Ops on data alone are recorded in both traces.
    """
    inputs, plain = [], []
    for arg, value in zip(args, values):
        traced, value_plain = stand_in(arg, value, perturb)
        inputs.append(traced)
        plain.append(value_plain)
    positional = [v for a, v in zip(args, inputs) if isinstance(a.position, int)]
    keywords = {a.position: v for a, v in zip(args, inputs) if isinstance(a.position, str)}
    with autograd.set_grad_enabled(True), Watcher(watch):
        out = fn(*positional, **keywords)
        effects = traced_effects()
    if not isinstance(out, Tensor):
        raise CompileError(
            f"the function returned a {type(out).__name__}; a compiled function returns one Tensor"
        )
    standins = {id(t): i for i, t in enumerate(inputs) if isinstance(t, Tensor)}
    nodes, leaves = graph(out, effects)
    return Run(out, nodes, leaves, inputs, plain, standins, effects)


def graph(out: Tensor, effects: list[Tensor] = ()) -> tuple[list[Tensor], list[Tensor]]:
    """The computed tensors behind ``out`` (and ``effects``, state updates) in clock order, and
    their leaves in first-use order."""
    stack = [out, *[e for e in effects if e is not out]]
    nodes, seen = [], {id(t) for t in stack}
    while stack:
        t = stack.pop()
        if t._op is not None:
            nodes.append(t)
            for i in t._inputs:
                if id(i) not in seen:
                    seen.add(id(i))
                    stack.append(i)
    nodes.sort(key=lambda t: t._clock)
    leaves, seen_leaves = [], set()
    for t in nodes:
        for i in t._inputs:
            if i._op is None and id(i) not in seen_leaves:
                seen_leaves.add(id(i))
                leaves.append(i)
    return nodes, leaves


def reference_gradients(run: Run, wanted: list[Tensor]) -> tuple[Any, list[Any]]:
    """Eager's backward pass over ``run``'s graph, by the ops' own rules (no hooks, no .grad).

    Returns the output's value and the gradient of each tensor in ``wanted`` (None if it
    gets none). The same order, un-broadcasting and accumulation as ``engine.run_backward``.
    """
    from autograd.engine import NUMPY_SCALAR_TYPES, sum_to

    out = run.out
    seed = out._data.dtype.type(1) if out._data.ndim == 0 else np.ones_like(out._data)
    grads: dict[Any, Any] = {out: seed}
    with autograd.no_grad(), np.errstate(all="ignore"):
        for t in reversed(run.nodes):
            g = grads.pop(t, None)
            if g is None:
                continue
            results = t._op.backward(g, t._data, *[i._data for i in t._inputs])
            for i, gi in zip(t._inputs, results):
                if gi is None or not i._requires_grad:
                    continue
                if not (type(gi) is type(i._data) in NUMPY_SCALAR_TYPES) and gi.shape != i._data.shape:
                    gi = sum_to(gi, i._data.shape)
                grads[i] = (grads[i] + gi) if i in grads else gi
    return out._data, [grads.get(t) for t in wanted]


# ---- the perturbed trace ------------------------------------------------------------------


def swap_data(tensor: Tensor, data: Any) -> Any:
    """Put ``data`` in ``tensor`` without a version bump (for the perturbed trace); returns the old."""
    old = tensor._data
    tensor._data = data
    return old
