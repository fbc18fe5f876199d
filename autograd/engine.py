"""The backward pass: visit the graph from the output back to the leaves, applying the chain rule.

Given output tensors and the gradients flowing into them, ``run_backward``:

1. collects every tensor that needs a gradient and can be reached from the outputs
   through the inputs each computed tensor records (``tensor._inputs``, shown to
   users as ``tensor.grad_fn.inputs``; ``reachable``: an explicit work list, no
   recursion, so a chain of a million ops is fine);
2. visits the computed (non-leaf) tensors from the most recent to the oldest by their
   clock tick. Every input was made before the op that used it, so a tensor is
   visited only after everything computed from it: its gradient is complete. It is
   popped from the dictionary of gradients (memory is released as the pass goes),
   passed to the tensor's hooks and to the ``backward`` rule of the op that made it;
3. sums each rule's result back to the shape of the input it belongs to (``sum_to``:
   the one place where broadcasting is undone) and adds it into the dictionary, so a
   tensor used twice receives the sum of both gradients;
4. finally adds each leaf's total into its ``.grad``.

With ``create_graph=False`` gradients are plain numpy arrays. With ``create_graph=True``
they are Tensors and the rules see Tensors, so the pass itself is recorded and can be
differentiated again.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from autograd.graph import last_change


class GraphFreedError(RuntimeError):
    """Raised when a backward pass reaches a node an earlier pass already consumed."""


class InPlaceModificationError(RuntimeError):
    """Raised when a value the backward pass needs was changed in place after use."""


def sum_to(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` down to ``shape``: the inverse of numpy broadcasting.

    Broadcasting copies an operand along new leading axes and along axes of size 1,
    so its gradient is the sum over exactly those axes.

    >>> sum_to(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    >>> sum_to(np.ones((2, 3)), (2, 1))
    array([[3.],
           [3.]])
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)  # broadcasting only adds axes: negative means a bad rule
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    if extra >= 0:
        ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if ones:
            grad = grad.sum(axis=ones, keepdims=True)
    if grad.shape != shape:  # a rule returned a gradient that cannot belong to this input
        raise ValueError(f"gradient of shape {grad.shape} does not fit input of shape {shape}")
    return grad


def reachable(roots: Iterable[Any]) -> tuple[list[Any], list[Any]]:
    """The tensors that need gradients on paths into ``roots``: ``(computed, leaves)``.

    Both lists are in the order first reached, which is the same on every run.
    """
    computed: list[Any] = []
    leaves: list[Any] = []
    seen: set[Any] = set()  # tensors hash by identity
    queue = list(roots)
    for tensor in queue:  # the queue grows as it is read: each tensor's inputs join its end
        if tensor in seen or not tensor._requires_grad:
            continue
        seen.add(tensor)
        if tensor._op is None:
            leaves.append(tensor)
        else:
            computed.append(tensor)
            # All inputs, filtered when read: one C-level call instead of a Python
            # loop over a tuple of two, which costs several times more here.
            queue.extend(tensor._inputs)
    return computed, leaves


# Numpy scalars are 0-d and immutable: a gradient that is one, for an input whose data is
# one of the same type, needs no shape check (tensors.py keeps 0-d data as numpy scalars).
NUMPY_SCALAR_TYPES = frozenset(np.sctypeDict.values())
_clock_of = operator.attrgetter("_clock")  # the sort key (C-level: no Python call per tensor)


def topological_order(roots: Iterable[Any]) -> list[Any]:
    """Reachable tensors, each before the tensors it was computed from (leaves last)."""
    computed, leaves = reachable(roots)
    computed.sort(key=_clock_of, reverse=True)
    return computed + leaves


def run_backward(
    roots: Sequence[Any],
    root_grads: Sequence[Any],
    *,
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Any] | None = None,
) -> dict[int, Any]:
    """Backpropagate ``root_grads`` from ``roots`` through the graph.

    Args:
        roots: output tensors to start from.
        root_grads: their gradients (arrays, or Tensors when ``create_graph``).
        retain_graph: keep the graph usable for another backward pass.
        create_graph: record the pass itself, for higher-order derivatives.
        capture: if given, do not touch any ``.grad``; instead return the gradients
            of these tensors (``autograd.grad``). Otherwise accumulate into leaves'
            ``.grad`` (``Tensor.backward``).

    Returns:
        ``{tensor: gradient}`` for the captured tensors (empty otherwise).
    """
    # Keyed by the tensors themselves: Tensor keeps object identity as its hash (its
    # == builds a comparison tensor, but dicts only call it on equal hashes, which
    # distinct live objects never have).
    grads: dict[Any, Any] = {}
    for root, grad in zip(roots, root_grads):
        _accumulate(grads, root, grad)
    # The ids of arrays already stored somewhere (the caller's seeds, earlier .grad
    # deposits, retained ones included, what a hook was given or returned): a deposit of
    # one of these must be a copy, or two gradients would share memory. (Should a freed
    # array's id be reused, the only cost is a copy that was not needed.)
    handed_out = set(map(id, root_grads))
    wanted = set(capture) if capture is not None else set()
    captured: dict[Any, Any] = {}
    changed_since = last_change()
    computed, leaves = reachable(roots)
    computed.sort(key=_clock_of, reverse=True)

    for tensor in computed:
        grad = grads.pop(tensor, None)
        if grad is None:  # no path from the roots carries a gradient here
            continue
        if tensor._hooks:
            grad = tensor._run_hooks(grad, create_graph, handed_out)
        if wanted:
            if tensor in wanted:
                captured[tensor] = grad
                if len(captured) == len(wanted):
                    return captured  # the rest of the graph is not needed
        elif tensor._retains_grad:
            tensor._accumulate_grad(grad, create_graph, handed_out)
        op = tensor._op
        if tensor._spent:
            raise GraphFreedError(
                f"backward through the graph a second time (at {op.name}): its node was "
                "consumed by an earlier backward pass; pass retain_graph=True to the first "
                "backward() if you need to backpropagate through it again"
            )
        if changed_since > tensor._clock:  # some tensor was changed in place after this op ran
            _check_unchanged(tensor)
        inputs = tensor._inputs
        arity = len(inputs)
        if create_graph:
            input_grads = op.backward(grad, tensor, *inputs)
        elif arity == 2:  # binary ops, without building an argument list
            first, second = inputs
            input_grads = op.backward(grad, tensor._data, first._data, second._data)
        elif arity == 1:
            input_grads = op.backward(grad, tensor._data, inputs[0]._data)
        else:
            input_grads = op.backward(grad, tensor._data, *[t._data for t in inputs])
        # Hand each input its gradient, summed back to the input's shape. One or two inputs
        # (nearly every op) share the spelled-out blocks below (one input: second is
        # None); more take the loop. A Python loop over two inputs costs more here than the
        # work inside it; the three blocks do the same thing and change together. A
        # gradient already of its input's shape skips sum_to, and a numpy scalar of the
        # input's own type skips even the shape comparison: both are 0-d (the common case
        # in scalar graphs, where the comparison is a third of the cost).
        try:
            if arity <= 2:
                if arity == 2:
                    first, second = inputs
                    first_grad, second_grad = input_grads
                else:
                    first, second = inputs[0], None
                    (first_grad,) = input_grads
                    second_grad = None
                if first_grad is not None and first._requires_grad:
                    if not (type(first_grad) is type(first._data) in NUMPY_SCALAR_TYPES) and (
                        first_grad.shape != first._data.shape
                    ):
                        first_grad = sum_to(first_grad, first._data.shape)
                    grads[first] = (grads[first] + first_grad) if first in grads else first_grad
                if second_grad is not None and second._requires_grad:
                    if not (type(second_grad) is type(second._data) in NUMPY_SCALAR_TYPES) and (
                        second_grad.shape != second._data.shape
                    ):
                        second_grad = sum_to(second_grad, second._data.shape)
                    grads[second] = (grads[second] + second_grad) if second in grads else second_grad
            else:
                if len(input_grads) != arity:
                    raise ValueError
                for parent, parent_grad in zip(inputs, input_grads):
                    if parent_grad is not None and parent._requires_grad:
                        if not (type(parent_grad) is type(parent._data) in NUMPY_SCALAR_TYPES) and (
                            parent_grad.shape != parent._data.shape
                        ):
                            parent_grad = sum_to(parent_grad, parent._data.shape)
                        grads[parent] = (grads[parent] + parent_grad) if parent in grads else parent_grad
        # The rule's result does not fit its inputs (AttributeError: a gradient without a
        # .shape, such as a Python float).
        except (AttributeError, TypeError, ValueError) as error:
            raise _misfit(op, input_grads, inputs, error) from None
        if not retain_graph:
            tensor._spent = True

    for leaf in leaves:
        grad = grads.pop(leaf, None)
        if grad is None:
            continue
        if grad.dtype.kind == "c":  # a complex constant met this real leaf on the way
            raise TypeError(
                f"the gradient for a leaf of shape {leaf.shape} came out complex: chainrule "
                "differentiates real numbers only, and a complex value was computed from this "
                "tensor; keep real and imaginary parts as separate real tensors"
            )
        if leaf._hooks:
            grad = leaf._run_hooks(grad, create_graph, handed_out)
        if wanted:
            if leaf in wanted:
                captured[leaf] = grad
        else:
            leaf._accumulate_grad(grad, create_graph, handed_out)
    return captured


def _misfit(op: Any, input_grads: Any, inputs: Sequence[Any], error: Exception) -> RuntimeError:
    """The error for a backward rule whose result does not fit the op's inputs."""
    if not isinstance(input_grads, (tuple, list)):
        return RuntimeError(
            f"{op.name}: backward must return a tuple with one gradient per input, "
            f"not a {type(input_grads).__name__}"
        )
    if len(input_grads) != len(inputs):
        return RuntimeError(
            f"{op.name}: backward returned {len(input_grads)} gradients for {len(inputs)} inputs"
        )
    shapeless = [g for g in input_grads if g is not None and not hasattr(g, "shape")]
    if shapeless:  # a Python number or list where an array belongs
        return RuntimeError(
            f"{op.name}: backward returned a {type(shapeless[0]).__name__} as a gradient; "
            "return numpy arrays (or None for an input without one)"
        )
    shapes = ", ".join(str(t.shape) for t in inputs)
    return RuntimeError(f"{op.name} (inputs of shapes {shapes}): backward rule: {error}")


def _accumulate(grads: dict[Any, Any], key: Any, grad: Any) -> None:
    previous = grads.get(key)
    grads[key] = grad if previous is None else previous + grad


def _changed_at(tensor: Any) -> int:
    """The tick of the latest in-place change of the tensor's memory (0: never changed)."""
    versions = tensor._versions
    return 0 if versions is None else versions.changed_at


def _check_unchanged(tensor: Any) -> None:
    """Raise if a computed tensor or an input of its op was changed in place after the op ran."""
    changed = [t for t in tensor._inputs if _changed_at(t) > tensor._clock]
    if _changed_at(tensor) <= tensor._clock and not changed:
        return
    what = "its output" if not changed else f"an input of shape {changed[0].shape}"
    raise InPlaceModificationError(
        f"{tensor._op.name}: {what} was modified in place after the operation ran "
        "(its version changed), so its gradient would be wrong; run backward before "
        "changing it, or change a copy"
    )
