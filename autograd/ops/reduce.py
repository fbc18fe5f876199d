"""Reductions over axes, and the softmax family.

A reduction's gradient flows back to every element that contributed: for a sum that
is all of them (the gradient is broadcast back), for a max only the largest (shared
evenly between ties, as in PyTorch).

``LogSumExp``, ``Softmax`` and ``LogSoftmax`` subtract the maximum before exponentiating
(the log-sum-exp trick), so they are exact for logits of any size.
"""

from __future__ import annotations

import numpy as np

from autograd.function import Op


def normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple; negatives allowed) as a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normalized = []
    for ax in axes:
        if not -ndim <= ax < max(ndim, 1):
            raise np.exceptions.AxisError(f"axis {ax} is out of bounds for {ndim}-d tensor")
        normalized.append(int(ax) % max(ndim, 1))
    return tuple(sorted(normalized))


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` kept as size 1 (numpy's keepdims shape)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class _Reduction(Op):
    """Shared bookkeeping: which axes, and whether they are kept."""

    def __init__(self, axis=None, keepdims: bool = False) -> None:
        self.axis = axis
        self.keepdims = keepdims

    def _with_kept_axes(self, x, input_shape):
        """Reshape a reduced result so that it broadcasts against the input."""
        if self.keepdims:
            return x
        return x.reshape(kept_shape(input_shape, normalize_axes(self.axis, len(input_shape))))


class Sum(_Reduction):
    name = "sum"

    def forward(self, a):
        return np.sum(a, axis=self.axis, keepdims=self.keepdims)

    def backward(self, g, out, a):
        return (np.broadcast_to(self._with_kept_axes(g, a.shape), a.shape),)


class Max(_Reduction):
    name = "max"

    def forward(self, a):
        return np.max(a, axis=self.axis, keepdims=self.keepdims)

    def backward(self, g, out, a):
        winners = a == self._with_kept_axes(out, a.shape)
        count = winners.sum(axis=self.axis, keepdims=True)
        return (winners * (self._with_kept_axes(g, a.shape) / count),)


class Min(Max):
    name = "min"

    def forward(self, a):
        return np.min(a, axis=self.axis, keepdims=self.keepdims)


class LogSumExp(_Reduction):
    """log Σ e^a, computed as m + log Σ e^(a - m) with m the maximum."""

    name = "logsumexp"

    def forward(self, a):
        m = np.max(a, axis=self.axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) along an axis: no shift
        total = np.log(np.sum(np.exp(a - m), axis=self.axis, keepdims=True)) + m
        return total if self.keepdims else np.squeeze(total, axis=self.axis)

    def backward(self, g, out, a):
        softmax = np.exp(a - self._with_kept_axes(out, a.shape))
        return (self._with_kept_axes(g, a.shape) * softmax,)


class Softmax(Op):
    name = "softmax"

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, a):
        e = np.exp(a - np.max(a, axis=self.axis, keepdims=True))
        return e / np.sum(e, axis=self.axis, keepdims=True)

    def backward(self, g, out, a):
        # Jacobian diag(s) - s s^T applied to g
        return (out * (g - (g * out).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Op):
    name = "log_softmax"

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, a):
        shifted = a - np.max(a, axis=self.axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=self.axis, keepdims=True))

    def backward(self, g, out, a):
        return (g - np.exp(out) * g.sum(axis=self.axis, keepdims=True),)
