"""Operations and graph nodes: the two ideas reverse-mode autodiff is built from.

An ``Op`` is one differentiable operation. It says two things, side by side:

* ``forward(*inputs)`` computes the output from the input arrays;
* ``backward(grad, out, *inputs)`` is the vector-Jacobian product: given the gradient
  of the final result with respect to ``out``, it returns the gradient with respect
  to each input (a tuple, one entry per input; ``None`` for inputs that have none).

Backward rules are written with ordinary numpy expressions (``grad * np.cos(x)``).
When the engine runs a plain backward pass it hands them numpy arrays, so they run at
numpy speed. With ``create_graph=True`` it hands them Tensors instead; Tensors speak
numpy's protocols (``__array_ufunc__``, ``__array_function__``), so the very same
rule records a graph of its own, and second derivatives come for free.

Gradients for broadcast inputs do not need reducing in ``backward``: the engine sums
every input's gradient back to that input's shape, in one place
(``autograd.engine.sum_to``).

Each *use* of an op in a graph is recorded on the tensor it produced: the op, the
input tensors it was applied to, and the time it ran on the engine's *clock*. The
clock ticks once for every recorded op and once for every in-place change of a
tensor. That gives two things:

* an order: an op's inputs were made before it, so they have earlier times, and
  visiting computed tensors from the latest to the earliest is a reverse topological
  order (the backward pass needs nothing more);
* a version check: a tensor changed in place remembers the tick of the change; if
  that is later than an op that used the tensor, that op's gradient would be
  computed from the wrong value, and the backward pass stops with an error instead.

The record lives in the tensor's own slots (``_op``, ``_inputs``, ``_clock``,
``_scope``); a tensor's ``grad_fn`` is a ``Node``, a read-only view of them made when it
is first asked for. The record points from a result to its inputs and never back, so
tensors form no reference cycles and a graph is freed as soon as its output is dropped.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import numpy as np


class Op:
    """One differentiable operation: ``forward`` on arrays, ``backward`` as a VJP.

    Subclasses set ``name`` (shown in errors and graph drawings). An op with
    parameters (an axis, a shape, an index) stores them on the instance; one without
    is used as a shared instance.

    An Op instance can also be called directly, on arrays (returns an array) or on
    Tensors (records a node and returns a Tensor); backward rules use this to call
    other ops.

    >>> import numpy as np
    >>> class Square(Op):
    ...     name = "square"
    ...     def forward(self, x):
    ...         return x * x
    ...     def backward(self, grad, out, x):
    ...         return (2 * x * grad,)
    >>> Square()(np.array([3.0]))
    array([9.])
    >>> from autograd import Tensor
    >>> x = Tensor(3.0, requires_grad=True)
    >>> Square()(x).backward()
    >>> x.grad
    Tensor(6.)
    """

    name = "op"
    # Completes "<name>: shapes (3, 4) and (5, 2) ..." when numpy rejects the inputs.
    mismatch = "cannot be broadcast together"

    def forward(self, *inputs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
        raise NotImplementedError(f"{self.name} has no backward rule")

    def __call__(self, *args: Any) -> Any:
        for arg in args:
            record = getattr(type(arg), "_record", None)
            if record is not None:  # a Tensor among the arguments: build a graph node
                return record(self, *args)
        return self.forward(*args)

    def __repr__(self) -> str:
        return f"<op {self.name}>"


ticks = itertools.count(1)  # the clock: next(ticks) for every recorded op and in-place change
_last_change = 0  # the tick of the latest in-place change


_change_lock = threading.Lock()  # two threads' changes must not move _last_change backwards


def tick_change() -> int:
    """Advance the clock for an in-place change of a tensor; returns its tick."""
    global _last_change
    with _change_lock:
        _last_change = next(ticks)
        return _last_change


def last_change() -> int:
    """The tick of the latest in-place change (ops recorded after it saw current values)."""
    return _last_change


class VersionCounter:
    """How often a block of memory was changed in place, and the tick of the latest change.

    Tensors that share memory share one counter, as in PyTorch: a tensor and its
    ``detach()``, ``Tensor(t)`` built from it, and the views that indexing, reshape,
    transpose and expand return. An in-place change through any of them is a change
    of all of them, so a graph that used any of them sees it. (Writes into the arrays
    that ``.data`` and ``.numpy()`` hand out are not counted, as in PyTorch.)
    """

    __slots__ = ("version", "changed_at")

    def __init__(self, version: int = 0) -> None:
        self.version = version
        self.changed_at = 0  # the clock's tick at the latest change; 0: never changed

    def bump(self) -> None:
        self.version += 1
        self.changed_at = tick_change()


class _ThreadScope(threading.local):
    """The labels of the enclosing ``scope`` blocks, one per thread (as grad mode is)."""

    labels: tuple[str, ...] | None = None

    def __init__(self) -> None:
        self.saved: list[tuple[str, ...] | None] = []  # the labels outside each open block


recording_scope = _ThreadScope()


class scope:
    """Label the nodes recorded inside the block, e.g. one RNN time step or one layer.

    Graph drawings group a scope's nodes into one box. Scopes nest; a node records
    the labels of all enclosing scopes, outermost first. Like grad mode, the labels
    belong to the thread that opened the block.

    >>> from autograd import Tensor, scope
    >>> x = Tensor(1.0, requires_grad=True)
    >>> with scope("t=1"):
    ...     y = x * 2
    >>> y.grad_fn.scope
    ('t=1',)
    """

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = str(label)

    def __enter__(self) -> scope:
        outer = recording_scope.labels
        recording_scope.saved.append(outer)
        recording_scope.labels = (self.label,) if outer is None else outer + (self.label,)
        return self

    def __exit__(self, *exc: object) -> None:
        recording_scope.labels = recording_scope.saved.pop()


def current_scope() -> tuple[str, ...] | None:
    """The labels of the enclosing ``scope`` blocks, outermost first (None outside all)."""
    return recording_scope.labels


class Node:
    """How a computed tensor was made: its ``grad_fn``, a view of the record in the tensor's slots.

    Attributes:
        op: the Op that was applied.
        inputs: the input tensors, in argument order (a tuple, so drawings and
            traversals are deterministic).
        clock: the tick when the op ran: later than all its inputs' ticks.
        scope: the labels of the ``scope`` blocks it was recorded in, or None.

    >>> from autograd import Tensor
    >>> x = Tensor(2.0, requires_grad=True)
    >>> y = x * 3
    >>> y.grad_fn, y.grad_fn.name, y.grad_fn.inputs[0] is x
    (<MulBackward>, 'mul', True)
    """

    __slots__ = ("op", "inputs", "clock", "scope")

    def __init__(self, op: Op, inputs: tuple, clock: int, scope: tuple[str, ...] | None = None) -> None:
        self.op = op
        self.inputs = inputs
        self.clock = clock
        self.scope = scope

    @property
    def name(self) -> str:
        """The op's name, e.g. ``"mul"``."""
        return self.op.name

    def __repr__(self) -> str:
        return f"<{type(self.op).__name__}Backward>"
