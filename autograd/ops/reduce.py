"""Reductions over axes: sums, maxima, log-sum-exp.

Reductions call array methods (``a.sum(axis=...)``) rather than ``np.sum(a, ...)``: the
methods skip a layer of numpy's Python dispatch (half the time on small arrays), and
Tensors have the same methods, so backward rules still work in both modes.

A reduction's gradient flows back to every element that contributed: for a sum that
is all of them (the gradient is broadcast back), for a max only the largest (shared
evenly between ties, as in PyTorch).

``LogSumExp`` subtracts the maximum before exponentiating (the log-sum-exp trick), so it
is exact for logits of any size. The softmax family lives in ``autograd.ops.softmax``.
"""

from __future__ import annotations

import numpy as np

from autograd.graph import Op

AxisError = getattr(np, "exceptions", np).AxisError  # np.exceptions from numpy 1.25 on


def normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple; negatives allowed) as a sorted tuple of axes.

    A 0-d tensor has no axes, yet takes axis 0 or -1, as in numpy and PyTorch: they name
    no axis, so a reduction over them leaves the one value as it is.

    >>> normalize_axes(-1, 3), normalize_axes(None, 2), normalize_axes(-1, 0)
    ((2,), (0, 1), ())
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    size = max(ndim, 1)  # the axis numbers a 0-d tensor accepts are those of a 1-d one
    normalized = []
    for ax in axes:
        if not -size <= ax < size:
            raise AxisError(f"axis {ax} is out of bounds for {ndim}-d tensor")
        normalized.append(int(ax) % size)
    return tuple(sorted(normalized)) if ndim else ()


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` kept as size 1 (numpy's keepdims shape)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class _Reduction(Op):
    """Shared bookkeeping: which axes, and whether they are kept."""

    def __init__(self, axis=None, keepdims: bool = False) -> None:
        self.axis = axis
        self.keepdims = keepdims

    def _axis_for(self, a):
        """The ``axis`` to hand numpy for ``a``: as given, except on a 0-d array, where numpy
        takes 0 or -1 but refuses (0,) and (-1,); normalized there, they are ()."""
        return self.axis if a.ndim else normalize_axes(self.axis, 0)

    def _with_kept_axes(self, x, input_shape):
        """Reshape a reduced result so that it broadcasts against the input."""
        if self.keepdims:
            return x
        return x.reshape(kept_shape(input_shape, normalize_axes(self.axis, len(input_shape))))


class Sum(_Reduction):
    name = "sum"
    backward_reads = ()

    def forward(self, a):
        return a.sum(axis=self._axis_for(a), keepdims=self.keepdims)

    rule = ("{g}, copied to every element of {a} that was summed",)

    def backward(self, g, out, a):
        return (np.broadcast_to(self._with_kept_axes(g, a.shape), a.shape),)


class Max(_Reduction):
    name = "max"
    backward_reads = ("a", "out")

    def forward(self, a):
        return a.max(axis=self._axis_for(a), keepdims=self.keepdims)

    rule = ("{g} to the largest element of {a} (split evenly between ties), 0 elsewhere",)

    def backward(self, g, out, a):
        winners = a == self._with_kept_axes(out, a.shape)
        count = winners.sum(axis=normalize_axes(self.axis, a.ndim), keepdims=True)
        return (winners * (self._with_kept_axes(g, a.shape) / count),)


class Min(Max):
    name = "min"
    rule = ("{g} to the smallest element of {a} (split evenly between ties), 0 elsewhere",)

    def forward(self, a):
        return a.min(axis=self._axis_for(a), keepdims=self.keepdims)


class LogSumExp(_Reduction):
    """log Σ e^a, computed as m + log Σ e^(a - m) with m the maximum."""

    name = "logsumexp"
    backward_reads = ("a", "out")

    def forward(self, a):
        axis = self._axis_for(a)
        m = a.max(axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) along an axis: no shift
        total = np.log(np.exp(a - m).sum(axis=axis, keepdims=True)) + m
        return total if self.keepdims else np.squeeze(total, axis=axis)

    rule = ("g · exp(a − out)",)

    def backward(self, g, out, a):
        softmax = np.exp(a - self._with_kept_axes(out, a.shape))
        return (self._with_kept_axes(g, a.shape) * softmax,)
