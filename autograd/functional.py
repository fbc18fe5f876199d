"""Whole derivatives of a function: Jacobians, Hessians, and their products with vectors.

>>> import autograd
>>> from autograd.functional import hessian
>>> x = autograd.Tensor([1.0, 2.0])
>>> hessian(lambda t: (t ** 3).sum(), x)     # diag(6 x)
Tensor([[ 6.,  0.],
        [ 0., 12.]])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd.api import grad, stack
from autograd.tensors import Tensor


def _fresh_inputs(inputs: Tensor | Sequence[Tensor]) -> tuple[bool, tuple[Tensor, ...]]:
    single = isinstance(inputs, Tensor)
    items = (inputs,) if single else tuple(inputs)
    return single, tuple(Tensor(t.data if isinstance(t, Tensor) else t, requires_grad=True) for t in items)


def jacobian(
    f: Callable[..., Tensor], inputs: Tensor | Sequence[Tensor], create_graph: bool = False
) -> Any:
    """The Jacobian of ``f`` at ``inputs``: shape ``output.shape + input.shape``.

    For one input Tensor returns one Tensor; for a sequence returns a tuple, one
    Jacobian per input.
    """
    single, xs = _fresh_inputs(inputs)
    out = f(*xs)
    flat = out.reshape(-1)
    rows: list[list[Tensor]] = [[] for _ in xs]
    for j in range(flat.size):
        seed = np.zeros(flat.shape)
        seed[j] = 1.0
        if flat.requires_grad:
            grads = grad(flat, xs, grad_outputs=seed, retain_graph=True,
                         create_graph=create_graph, allow_unused=True)
        else:
            grads = (None,) * len(xs)
        for k, (x, g) in enumerate(zip(xs, grads)):
            rows[k].append(Tensor(np.zeros(x.shape)) if g is None else g)
    jacobians = tuple(
        stack(r).reshape(out.shape + x.shape) if r else Tensor(np.zeros(out.shape + x.shape))
        for r, x in zip(rows, xs)
    )
    return jacobians[0] if single else jacobians


def hessian(f: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """The Hessian of a scalar function ``f`` at ``x``: shape ``x.shape + x.shape``."""
    point = Tensor(x.data if isinstance(x, Tensor) else x, requires_grad=True)

    def gradient(t: Tensor) -> Tensor:
        (g,) = grad(f(t), t, create_graph=True)
        return g

    return jacobian(gradient, point)


def vjp(f: Callable[[Tensor], Tensor], x: Tensor, v: Any) -> tuple[Tensor, Tensor]:
    """``(f(x), vᵀ J_f(x))``: one backward pass."""
    point = Tensor(x.data, requires_grad=True)
    out = f(point)
    (g,) = grad(out, point, grad_outputs=v)
    return out.detach(), g


def hvp(f: Callable[[Tensor], Tensor], x: Tensor, v: Any) -> Tensor:
    """Hessian-vector product H_f(x) v by double backpropagation (never forms H)."""
    point = Tensor(x.data, requires_grad=True)
    (g,) = grad(f(point), point, create_graph=True)
    (hv,) = grad((g * Tensor(v)).sum(), point)
    return hv
