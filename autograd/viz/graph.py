"""Reading a recorded graph without changing it: its tensors, their order, their gradients.

``GraphView`` walks from the output tensors back through ``grad_fn.inputs`` with an
explicit stack (no recursion: a chain of a million ops is fine) and lists every tensor
it meets in *forward order*: computed tensors by their node's clock tick (the order the
program ran them), each leaf just before its first use. Positions in that list are the
drawing's node ids, so the same program always gives the same drawing; nothing depends
on memory addresses.

``backward_steps`` takes the engine's own steps (``autograd.engine.backward_steps``) in
replay mode: each op's ``backward`` rule runs on numpy arrays, the way a plain
``.backward()`` runs it, but no ``.grad`` is touched, no node is marked as used, no hook
runs. That is how a drawing can show the gradient of every intermediate tensor, even
after the user's own ``backward()`` has already consumed the graph.

>>> from autograd import Tensor
>>> x = Tensor(2.0, requires_grad=True, name="x")
>>> y = x * x + 1
>>> view = GraphView([y])
>>> [view.name(t) for t in view.tensors]
['x', 'v1', '1', 'out']
>>> gradients = final_gradients(view)
>>> float(gradients[x])
4.0
>>> x.grad is None      # the replay leaves .grad alone
True
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import engine, grad_mode
from autograd.tensors import Tensor
from autograd.viz.labels import format_number


def stored_array(tensor: Tensor) -> Any:
    """A tensor's values as the engine keeps them (an ndarray or a numpy scalar).

    ``Tensor.data`` would convert a stored numpy scalar into a 0-d array and keep it;
    a drawing must not change even that, so it reads the stored value directly.
    """
    return tensor._data


class GraphView:
    """The tensors reachable from ``roots``, in forward order, with ids and display names.

    Attributes:
        roots: the output tensors, as given.
        tensors: every tensor the roots were computed from (and the roots), leaves
            placed just before their first use, computed tensors by clock.
        computed: the non-leaf tensors among them, in forward (clock) order.
        consumers: for each tensor position, the positions of computed tensors that
            use it as an input (in forward order, once per use).
    """

    def __init__(self, roots: Sequence[Tensor]) -> None:
        for root in roots:
            if not isinstance(root, Tensor):
                raise TypeError(f"can only draw Tensors, not {type(root).__name__}")
        self.roots = list(roots)
        reached = _reachable(self.roots)
        computed = sorted((t for t in reached if t.grad_fn is not None), key=_clock)
        # Forward order: each leaf right before the first op that uses it. Graphviz
        # lays nodes out in the order they are written, so this reads left to right.
        self.tensors: list[Tensor] = []
        self._position: dict[Tensor, int] = {}  # Tensors hash by identity
        for tensor in computed:
            for parent in tensor.grad_fn.inputs:
                if parent.grad_fn is None:
                    self._add(parent)
            self._add(tensor)
        for root in self.roots:  # a root that is itself a leaf
            self._add(root)
        self.computed = [t for t in self.tensors if t.grad_fn is not None]
        self.consumers: list[list[int]] = [[] for _ in self.tensors]
        for tensor in self.computed:
            for parent in tensor.grad_fn.inputs:
                self.consumers[self._position[parent]].append(self._position[tensor])
        self._names = self._make_names()

    def _add(self, tensor: Tensor) -> None:
        if tensor not in self._position:
            self._position[tensor] = len(self.tensors)
            self.tensors.append(tensor)

    def __len__(self) -> int:
        return len(self.tensors)

    def position(self, tensor: Tensor) -> int:
        """The tensor's id in this view (its place in forward order)."""
        return self._position[tensor]

    def name(self, tensor: Tensor) -> str:
        """The tensor's own name, or a generated one.

        Generated names never repeat a user's name: an unnamed output is ``out``
        (``out1, out2, ...`` for several), other computed tensors are ``v1, v2, ...``
        in the order they were computed, unnamed parameters ``p1, ...``, unnamed data
        ``d1, ...``; a scalar constant (the ``2`` in ``2 * x``) is its value.
        """
        return self._names[self._position[tensor]]

    def is_constant(self, tensor: Tensor) -> bool:
        """An unnamed scalar leaf that needs no gradient: a number in the program."""
        return (
            tensor.grad_fn is None
            and not tensor.requires_grad
            and tensor.name is None
            and stored_array(tensor).ndim == 0
        )

    def _make_names(self) -> list[str]:
        taken = {t.name for t in self.tensors if t.name is not None}
        counters = {"v": 0, "p": 0, "d": 0}

        def fresh(prefix: str) -> str:
            while True:
                counters[prefix] += 1
                candidate = f"{prefix}{counters[prefix]}"
                if candidate not in taken:
                    return candidate

        unnamed_roots = [r for r in self.roots if r.name is None and r.grad_fn is not None]
        root_names = {}
        for k, root in enumerate(unnamed_roots, start=1):
            root_names[root] = "out" if len(unnamed_roots) == 1 else f"out{k}"
        taken.update(root_names.values())
        names = []
        for tensor in self.tensors:
            if tensor.name is not None:
                names.append(str(tensor.name))
            elif tensor in root_names:
                names.append(root_names[tensor])
            elif tensor.grad_fn is not None:
                names.append(fresh("v"))
            elif self.is_constant(tensor):
                names.append(_constant_text(tensor))
            else:
                names.append(fresh("p" if tensor.requires_grad else "d"))
        return names


def _clock(tensor: Tensor) -> int:
    return tensor.grad_fn.clock


def _reachable(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor on a path into the roots, gradient or not (an explicit stack)."""
    seen: set[Tensor] = set()
    found: list[Tensor] = []
    stack = list(roots)
    while stack:
        tensor = stack.pop()
        if tensor in seen:
            continue
        seen.add(tensor)
        found.append(tensor)
        if tensor.grad_fn is not None:
            stack.extend(p for p in tensor.grad_fn.inputs if p not in seen)
    return found


def _constant_text(tensor: Tensor) -> str:
    return format_number(stored_array(tensor).item())


# ---- replaying the backward pass ---------------------------------------------------


@dataclass
class BackwardStep:
    """One step of the backward pass: a tensor whose gradient is complete, and what it sends.

    Attributes:
        tensor: the computed tensor being processed.
        grad: the gradient of the output with respect to it (complete: every tensor
            computed from it was processed before).
        sent: for each input of its node, in argument order, the gradient this step
            adds to that input (already summed to the input's shape), or None when
            the input needs no gradient.
    """

    tensor: Tensor
    grad: np.ndarray
    sent: list[np.ndarray | None] = field(default_factory=list)


def backward_steps(view: GraphView, totals: dict[Tensor, np.ndarray]) -> Iterator[BackwardStep]:
    """The engine's backward pass from the view's roots (``engine.backward_steps``), one
    computed tensor at a time, replayed: no hook runs, no ``.grad`` is touched, nothing is
    marked as used.

    ``totals`` is filled as the steps go: after the last step it holds the gradient of
    (the sum of) the roots with respect to every tensor that requires one. Roots with
    more than one element start from a gradient of ones, as ``y.sum().backward()``.
    """
    roots = [root for root in view.roots if root.requires_grad]
    seeds = [np.ones_like(stored_array(root)) for root in roots]
    with grad_mode.no_grad(), np.errstate(all="ignore"):
        for tensor, grad, op, input_grads in engine.backward_steps(roots, seeds, replay=True):
            totals[tensor] = grad
            if op is not None:
                yield BackwardStep(tensor, grad, list(input_grads))


def final_gradients(view: GraphView) -> dict[Tensor, np.ndarray]:
    """The gradient of the roots with respect to every tensor that needs one."""
    totals: dict[Tensor, np.ndarray] = {}
    for _ in backward_steps(view, totals):
        pass
    return totals
