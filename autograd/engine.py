"""The backward pass: walk the graph in reverse topological order, applying the chain rule.

Given output tensors and the gradients flowing into them, ``run_backward``:

1. orders every tensor that needs a gradient so that each comes after all tensors
   computed from it (``topological_order``, an iterative depth-first search: no
   recursion, so a chain of a million ops is fine);
2. visits them in that order, keeping a dictionary of the gradients found so far.
   A tensor's gradient is complete when it is visited, because everything that used
   it was visited first; it is popped from the dictionary (so memory is released as
   the pass goes), passed to the tensor's hooks, and either handed to its node's
   ``backward`` rule (inner tensors) or added to ``.grad`` (leaves);
3. sums each rule's result back to the shape of the input it belongs to
   (``sum_to``: the one place where broadcasting is undone) and adds it into the
   dictionary, so a tensor used twice receives the sum of both gradients.

With ``create_graph=False`` gradients are plain numpy arrays. With ``create_graph=True``
they are Tensors and the rules see Tensors, so the pass itself is recorded and can be
differentiated again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


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
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if ones:
        grad = grad.sum(axis=ones, keepdims=True)
    if grad.shape != shape:  # a rule returned a gradient that cannot belong to this input
        raise ValueError(f"gradient of shape {grad.shape} does not fit input of shape {shape}")
    return grad


def topological_order(roots: Iterable[Any]) -> list[Any]:
    """Tensors reachable from ``roots`` that need gradients, each after all its consumers.

    Iterative post-order depth-first search over ``tensor.grad_fn.inputs``, reversed.
    Inputs are visited in argument order, so the order is the same on every run.
    """
    post_order: list[Any] = []
    seen: set[int] = set()
    stack = [(root, False) for root in roots]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            post_order.append(tensor)
            continue
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        node = tensor.grad_fn
        if node is not None:
            for parent in reversed(node.inputs):
                if parent.requires_grad and id(parent) not in seen:
                    stack.append((parent, False))
    post_order.reverse()
    return post_order


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
        ``{id(tensor): gradient}`` for the captured tensors (empty otherwise).
    """
    wanted = {id(t) for t in capture} if capture is not None else None
    captured: dict[int, Any] = {}
    grads: dict[int, Any] = {}
    for root, grad in zip(roots, root_grads):
        _accumulate(grads, id(root), grad)

    for tensor in topological_order(roots):
        grad = grads.pop(id(tensor), None)
        if grad is None:  # no path from the roots carries a gradient here
            continue
        if tensor._hooks:
            grad = tensor._run_hooks(grad, create_graph)
        node = tensor.grad_fn
        if wanted is not None:
            if id(tensor) in wanted:
                captured[id(tensor)] = grad
                if len(captured) == len(wanted):
                    break  # everything asked for is known; the rest of the graph is not needed
        elif node is None:
            tensor._accumulate_grad(grad, create_graph)
        elif tensor._retains_grad:
            tensor._accumulate_grad(grad, create_graph)
        if node is None:
            continue

        if node.spent:
            raise GraphFreedError(
                f"backward through the graph a second time (at {node.name}): its node was "
                "consumed by an earlier backward pass; pass retain_graph=True to the first "
                "backward() if you need to backpropagate through it again"
            )
        _check_versions(tensor, node)
        inputs = node.inputs
        if create_graph:
            input_grads = node.op.backward(grad, tensor, *inputs)
        else:
            input_grads = node.op.backward(grad, tensor._data, *[t._data for t in inputs])
        if len(input_grads) != len(inputs):
            raise RuntimeError(
                f"{node.name}: backward returned {len(input_grads)} gradients "
                f"for {len(inputs)} inputs"
            )
        for parent, parent_grad in zip(inputs, input_grads):
            if parent_grad is not None and parent.requires_grad:
                _accumulate(grads, id(parent), sum_to(parent_grad, parent._data.shape))
        if not retain_graph:
            node.spent = True
    return captured


def _accumulate(grads: dict[int, Any], key: int, grad: Any) -> None:
    previous = grads.get(key)
    grads[key] = grad if previous is None else previous + grad


def _check_versions(tensor: Any, node: Any) -> None:
    if tensor._version == 0 and all(
        t._version == v for t, v in zip(node.inputs, node.versions)
    ):
        return
    changed = [t for t, v in zip(node.inputs, node.versions) if t._version != v]
    what = "its output" if not changed else f"an input of shape {changed[0].shape}"
    raise InPlaceModificationError(
        f"{node.name}: {what} was modified in place after the operation ran "
        "(version counter changed), so its gradient would be wrong; compute the "
        "backward pass before changing it, or change a copy"
    )
