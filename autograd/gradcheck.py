"""Check analytic gradients against central finite differences.

This is the check the course handouts ask for (CMU 10-315 homework 2, A.1; CMU 10-601
homework 5, A.6): for every input element x_i,

    dJ/dx_i  ≈  (J(x + ε e_i) - J(x - ε e_i)) / 2ε,

compared for every output element, so a whole Jacobian is checked, not one
direction. Run it in float64: in float32 the finite difference itself is too noisy
and checks fail falsely.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd import grad_mode
from autograd.api import concat, grad
from autograd.tensors import Tensor


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree; the message names the worst element."""


def _as_inputs(inputs: Tensor | Sequence[Tensor]) -> tuple[Tensor, ...]:
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} is {t.dtype}; check in float64 "
                "(float32 finite differences are too noisy to trust)"
            )
    return inputs


def _flat_output(f: Callable[..., Any], inputs: tuple[Tensor, ...]) -> Tensor:
    out = f(*inputs)
    if isinstance(out, (tuple, list)):
        return concat([o.reshape(-1) for o in out])
    return out.reshape(-1)


def analytic_jacobian(f: Callable[..., Any], inputs: tuple[Tensor, ...]) -> list[np.ndarray]:
    """One (outputs x elements) matrix per differentiable input, by backpropagation."""
    wanted = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    out = _flat_output(f, inputs)
    jacobians = [np.zeros((out.size, t.size)) for t in wanted]
    if not out.requires_grad:
        return jacobians
    for j in range(out.size):
        seed = np.zeros(out.shape)
        seed[j] = 1.0
        rows = grad(out, wanted, grad_outputs=seed, retain_graph=True, allow_unused=True)
        for jac, row in zip(jacobians, rows):
            if row is not None:
                jac[j] = row.data.reshape(-1)
    return jacobians


def numeric_jacobian(
    f: Callable[..., Any], inputs: tuple[Tensor, ...], eps: float = 1e-6
) -> list[np.ndarray]:
    """One (outputs x elements) matrix per differentiable input, by central differences."""
    wanted = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    jacobians = []
    for t in wanted:
        columns = []
        data = t._writable_values()  # (an op's single number: made a writable 0-d array)
        for index in np.ndindex(t.shape):  # indexes the data itself, whatever its memory layout
            original = data[index]
            try:
                data[index] = original + eps
                plus = _flat_output(f, inputs).data.astype(np.float64)
                data[index] = original - eps
                minus = _flat_output(f, inputs).data.astype(np.float64)
            finally:  # also when f raises: the caller's input must not keep a perturbed value
                data[index] = original
            columns.append((plus - minus) / (2 * eps))
        jacobians.append(np.stack(columns, axis=1) if columns else np.zeros((0, 0)))
    return jacobians


def gradcheck(
    f: Callable[..., Any],
    inputs: Tensor | Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """True if backprop through ``f`` agrees with finite differences at ``inputs``.

    Every input with ``requires_grad`` is checked, against every element of the
    output (``f`` may return a tensor of any shape, or a tuple of them). The check
    passes where ``|analytic - numeric| <= atol + rtol * |numeric|`` (``np.isclose``, as
    PyTorch's gradcheck uses ``allclose``): an infinity matches only the same infinity,
    and NaN only NaN.

    Raises:
        GradcheckError: naming the input, the worst element's index, and the
            analytic and numeric values there.

    >>> import autograd
    >>> x = autograd.Tensor([0.5, -1.0], requires_grad=True)
    >>> autograd.gradcheck(lambda t: (t.sin() * t).sum(), x)
    True
    """
    inputs = _as_inputs(inputs)
    if not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    analytic = analytic_jacobian(f, inputs)
    numeric = numeric_jacobian(f, inputs, eps)
    wanted = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    for k, (t, a, n) in enumerate(zip(wanted, analytic, numeric)):
        if a.shape != n.shape:
            raise GradcheckError(f"input {k}: Jacobian shapes differ: {a.shape} vs {n.shape}")
        # np.isclose, not the formula by hand: for infinities the formula is inf - inf = nan,
        # which would let inf pass against -inf or against any finite number
        close = np.isclose(a, n, rtol=rtol, atol=atol, equal_nan=True)
        if not close.all():
            with np.errstate(invalid="ignore"):
                excess = np.abs(a - n) - (atol + rtol * np.abs(n))
            # the worst element: a mismatch involving inf or NaN first, then the largest excess
            excess = np.where(close, -np.inf, np.where(np.isnan(excess), np.inf, excess))
            out_i, in_i = np.unravel_index(np.argmax(excess), excess.shape)
            index = np.unravel_index(in_i, t.shape) if t.ndim else ()
            raise GradcheckError(
                f"gradcheck failed for input {k} (shape {t.shape}) at element {tuple(map(int, index))}, "
                f"output element {int(out_i)}: analytic {a[out_i, in_i]:.10g}, "
                f"numeric {n[out_i, in_i]:.10g} (atol={atol}, rtol={rtol})"
            )
    return True


def gradgradcheck(
    f: Callable[..., Any],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of x -> vᵀ J_f(x), built with ``create_graph``.

    ``grad_outputs`` is the vector v (random, from ``seed``, when not given).
    """
    inputs = _as_inputs(inputs)
    wanted = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if grad_outputs is None:
        with grad_mode.no_grad():
            shape = f(*inputs).shape
        grad_outputs = np.random.default_rng(seed).standard_normal(shape)

    def first_derivative(*args: Tensor) -> Tensor:
        out = f(*args)
        differentiable = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        grads = grad(out, differentiable, grad_outputs=grad_outputs, create_graph=True, allow_unused=True)
        return concat(
            [Tensor(np.zeros(a.size)) if g is None else g.reshape(-1) for a, g in zip(differentiable, grads)]
        )

    if not wanted:
        raise ValueError("gradgradcheck: no input has requires_grad=True")
    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol)
