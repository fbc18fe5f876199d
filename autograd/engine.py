"""The backward pass: visit the graph from the output back to the leaves, applying the chain rule.

``backward_steps`` is the whole pass, one step per tensor:

1. ``topological_order`` lists every tensor that needs a gradient on a path into the
   outputs, each before the tensors it was computed from. (Every computed tensor
   carries the clock tick at which its op ran; an op's inputs were made before it, so
   sorting from the latest tick to the earliest is such an order. The leaves come last.)
2. Visiting a tensor in that order, its gradient is complete: everything computed from
   it has already sent it its share. The gradient is popped from the dictionary of
   gradients (memory is released as the pass goes) and passed through the tensor's hooks.
3. A leaf ends there. A computed tensor hands its gradient to the ``backward`` rule of
   the op that made it; each input's gradient is summed back to the input's shape
   (``sum_to``: the one place where broadcasting is undone) and added into the
   dictionary, so a tensor used twice receives the sum of both gradients.

``run_backward`` (behind ``Tensor.backward`` and ``autograd.grad``) takes the steps and
stores each leaf's gradient in its ``.grad``; the drawings and the stepper
(``autograd.viz``) take the same steps to show them.

With ``create_graph=False`` gradients are plain numpy arrays. With ``create_graph=True``
they are Tensors and the rules see Tensors, so the pass itself is recorded and can be
differentiated again.

>>> from autograd import Tensor
>>> x = Tensor(2.0, requires_grad=True, name="x")
>>> y = x * 3
>>> for tensor, grad, op, input_grads in backward_steps([y], [np.float64(1.0)]):
...     print(tensor.name, float(grad), op, [None if g is None else float(g) for g in input_grads])
None 1.0 <op mul> [3.0, None]
x 3.0 None []
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from autograd.graph import Op, last_change


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


# The numpy scalar types (0-d values are kept as numpy scalars: see autograd.tensors).
# Not used here; autograd.compiler imports it from this module.
NUMPY_SCALAR_TYPES = frozenset(np.sctypeDict.values())


def reachable(roots: Iterable[Any]) -> tuple[list[Any], list[Any]]:
    """The tensors that need gradients on paths into ``roots``: ``(computed, leaves)``.

    Both lists are in the order first reached, which is the same on every run. An
    explicit work list, no recursion: a chain of a million ops is fine.
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
            queue.extend(tensor._inputs)
    return computed, leaves


def topological_order(roots: Iterable[Any]) -> list[Any]:
    """Reachable tensors, each before the tensors it was computed from (leaves last)."""
    computed, leaves = reachable(roots)
    computed.sort(key=attrgetter("_clock"), reverse=True)
    return computed + leaves


def backward_steps(
    roots: Sequence[Any],
    root_grads: Sequence[Any],
    *,
    retain_graph: bool = True,
    create_graph: bool = False,
    replay: bool = False,
) -> Iterator[tuple[Any, Any, Op | None, Sequence[Any]]]:
    """Backpropagate ``root_grads`` from ``roots``: one step per tensor that receives a gradient.

    Each step is a tuple ``(tensor, grad, op, input_grads)``:

    * ``tensor``, visited once its gradient is complete, and ``grad``, that gradient
      (after the tensor's hooks);
    * ``op``, the op that made the tensor; None for a leaf, where the pass ends;
    * ``input_grads``: a list with, for each input of ``op`` in argument order, the
      gradient this step adds to it, already summed to the input's shape; None for an
      input that needs no gradient. Empty for a leaf.

    Args:
        roots: output tensors to start from.
        root_grads: their gradients (arrays, or Tensors when ``create_graph``).
        retain_graph: keep the graph usable for another pass; otherwise each node is
            marked consumed once its step has been taken.
        create_graph: hand the rules Tensors, so that the pass is recorded.
        replay: only read the graph (for drawings): no hooks run, nothing is checked
            or marked consumed, so a graph can be replayed after its own backward.

    Nothing here touches ``.grad``: that is the caller's choice (``run_backward``).
    """
    # The gradients still being summed, keyed by the tensors themselves (Tensors hash by
    # identity). A tensor used twice receives the sum of both gradients.
    grads: dict[Any, Any] = {}
    for root, grad in zip(roots, root_grads):
        grads[root] = grads[root] + grad if root in grads else grad
    changed_since = last_change()  # the tick of the latest in-place change anywhere

    for tensor in topological_order(roots):
        grad = grads.pop(tensor, None)
        if grad is None:  # no path from the roots carries a gradient here
            continue
        op = tensor._op
        if op is None and grad.dtype.kind == "c":
            raise TypeError(
                f"the gradient for a leaf of shape {tensor.shape} came out complex: chainrule "
                "differentiates real numbers only, and a complex value was computed from this "
                "tensor; keep real and imaginary parts as separate real tensors"
            )
        if tensor._hooks and not replay:
            grad = tensor._run_hooks(grad, create_graph)
        if op is None:
            yield tensor, grad, None, ()
            continue
        if tensor._spent and not replay:
            raise GraphFreedError(
                f"backward through the graph a second time (at {op.name}): its node was "
                "consumed by an earlier backward pass; pass retain_graph=True to the first "
                "backward() if you need to backpropagate through it again"
            )
        if changed_since > tensor._clock and not replay:  # something changed in place after op ran
            _check_unchanged(tensor)

        # The chain rule: the op's backward rule, given the output's gradient, the output and
        # the inputs (arrays; Tensors for create_graph, so that the rule is recorded). Two
        # inputs, the common case, are written out for speed on scalar graphs; the last line
        # does the same for any number of inputs.
        inputs = tensor._inputs
        if create_graph:
            rule_result = op.backward(grad, tensor, *inputs)
        elif len(inputs) == 2:
            rule_result = op.backward(grad, tensor._data, inputs[0]._data, inputs[1]._data)
        else:
            rule_result = op.backward(grad, tensor._data, *[t._data for t in inputs])
        if not isinstance(rule_result, (tuple, list)) or len(rule_result) != len(inputs):
            raise _wrong_count(op, rule_result, inputs)

        input_grads = []
        for input, g in zip(inputs, rule_result):
            if g is None or not input._requires_grad:
                g = None
            else:
                if getattr(g, "shape", None) != input._data.shape:  # broadcast in the forward pass
                    g = _fit(op, inputs, g, input)
                grads[input] = grads[input] + g if input in grads else g
            input_grads.append(g)

        yield tensor, grad, op, input_grads
        # Marked after the caller has taken the step: a caller that stops here (autograd.grad,
        # once it has every gradient it asked for) leaves this node usable.
        if not (retain_graph or replay):
            tensor._spent = True


def run_backward(
    roots: Sequence[Any],
    root_grads: Sequence[Any],
    *,
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Any] | None = None,
) -> dict[Any, Any]:
    """Backpropagate ``root_grads`` from ``roots`` and keep the gradients.

    Args:
        roots, root_grads, retain_graph, create_graph: as for ``backward_steps``.
        capture: if given, do not touch any ``.grad``; instead return the gradients
            of these tensors (``autograd.grad``). Otherwise add each leaf's gradient
            (and that of tensors that ``retain_grad()``) into its ``.grad``
            (``Tensor.backward``).

    Returns:
        ``{tensor: gradient}`` for the captured tensors (empty otherwise).
    """
    steps = backward_steps(roots, root_grads, retain_graph=retain_graph, create_graph=create_graph)
    if capture is None:
        for tensor, grad, op, _ in steps:
            if op is None or tensor._retains_grad:
                tensor._accumulate_grad(grad)
        return {}
    wanted = set(capture)
    captured: dict[Any, Any] = {}
    for tensor, grad, _, _ in steps:
        if tensor in wanted:
            captured[tensor] = grad
            if len(captured) == len(wanted):
                break  # the rest of the graph is not needed
    steps.close()  # end the pass here: the node just captured is not marked consumed
    return captured


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


def _changed_at(tensor: Any) -> int:
    """The tick of the latest in-place change of the tensor's memory (0: never changed)."""
    versions = tensor._versions
    return 0 if versions is None else versions.changed_at


def _wrong_count(op: Op, rule_result: Any, inputs: Sequence[Any]) -> RuntimeError:
    """The error for a backward rule that does not return one gradient (or None) per input."""
    if not isinstance(rule_result, (tuple, list)):
        return RuntimeError(
            f"{op.name}: backward must return a tuple with one gradient per input, "
            f"not a {type(rule_result).__name__}"
        )
    return RuntimeError(
        f"{op.name}: backward returned {len(rule_result)} gradients for {len(inputs)} inputs"
    )


def _fit(op: Op, inputs: Sequence[Any], grad: Any, input: Any) -> Any:
    """``grad`` summed to ``input``'s shape, or an error that names the op and the shapes."""
    if not hasattr(grad, "shape"):  # a Python number or list where an array belongs
        raise RuntimeError(
            f"{op.name}: backward returned a {type(grad).__name__} as a gradient; "
            "return numpy arrays (or None for an input without one)"
        )
    try:
        return sum_to(grad, input.shape)
    except ValueError as error:
        shapes = ", ".join(str(t.shape) for t in inputs)
        raise RuntimeError(f"{op.name} (inputs of shapes {shapes}): backward rule: {error}") from None
