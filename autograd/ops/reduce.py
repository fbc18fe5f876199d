"""Reductions over axes, and the softmax family.

Reductions call array methods (``a.sum(axis=...)``) rather than ``np.sum(a, ...)``: the
methods skip a layer of numpy's Python dispatch (half the time on small arrays), and
Tensors have the same methods, so backward rules still work in both modes.

A reduction's gradient flows back to every element that contributed: for a sum that
is all of them (the gradient is broadcast back), for a max only the largest (shared
evenly between ties, as in PyTorch).

``LogSumExp``, ``Softmax`` and ``LogSoftmax`` subtract the maximum before exponentiating
(the log-sum-exp trick), so they are exact for logits of any size.
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

    def forward(self, a):
        return a.sum(axis=self._axis_for(a), keepdims=self.keepdims)

    rule = ("{g}, copied to every element of {a} that was summed",)

    def backward(self, g, out, a):
        return (np.broadcast_to(self._with_kept_axes(g, a.shape), a.shape),)


class Max(_Reduction):
    name = "max"

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


class Softmax(Op):
    name = "softmax"

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, a):
        e = np.exp(a - a.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    rule = ("out · (g − Σ(g · out))",)

    def backward(self, g, out, a):
        # Jacobian diag(s) - s s^T applied to g
        return (out * (g - (g * out).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Op):
    name = "log_softmax"

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, a):
        # a − max − log Σ e^(a − max); the ufuncs' own reduce, as a.max() and a.sum() add a
        # Python wrapper around it
        log_p = a - np.maximum.reduce(a, axis=self.axis, keepdims=True)
        log_p -= np.log(np.add.reduce(np.exp(log_p), axis=self.axis, keepdims=True))  # log_p is fresh
        return log_p

    rule = ("g − exp(out) · Σ(g)",)

    def backward(self, g, out, a):
        return (g - np.exp(out) * g.sum(axis=self.axis, keepdims=True),)


class SoftmaxCrossEntropy(Op):
    """−log softmax(logits)[target] per example, reduced: softmax and cross-entropy as one node.

    The handouts combine the two "due to the simpler calculation": the gradient with
    respect to the logits is softmax(logits) − onehot(target) (Ray's backpropagation
    slides, U. Alberta), scaled by the incoming gradient (divided by the number of
    examples for ``"mean"``).

    ``target`` holds class indices (an integer array of the logits' shape without
    ``axis``); it is a parameter of the op, not an input: it has no gradient.
    """

    name = "cross_entropy"

    def __init__(self, target: np.ndarray, axis: int = -1, reduction: str = "mean") -> None:
        self.target = target
        self.axis = axis
        self.reduction = reduction

    def _shifted_exp(self, logits):
        """(logits − max, e^(logits − max), Σ e^(logits − max)): the log-sum-exp's parts."""
        axis = self.axis
        keep = logits.ndim > 1
        shifted = logits - np.maximum.reduce(logits, axis=axis, keepdims=keep)
        probs = np.exp(shifted)
        total = np.add.reduce(probs, axis=axis, keepdims=keep)
        return shifted, probs, total

    def forward(self, logits):
        # LogSoftmax's log-sum-exp, written out. One example (1-d logits) reduces to numpy
        # scalars: broadcasting a kept axis of length 1 costs numpy twice as much.
        shifted, probs, total = self._shifted_exp(logits)
        # −log softmax(logits)[target] = log Σ e^shifted − shifted[target]: log-sum-exp,
        # so no e^logit is ever taken of a large logit
        losses = np.log(total.squeeze(self.axis) if logits.ndim > 1 else total) - self._at_target(shifted)
        if self.reduction == "none":
            return losses
        if losses.ndim == 0:  # one example: nothing to sum (numpy's sum costs as much as the rest)
            return losses
        total_loss = np.add.reduce(losses, axis=None)
        return total_loss if self.reduction == "sum" else total_loss / losses.size

    rule = ("{g} · (softmax({logits}) − onehot(target)), divided by the number of examples for a mean",)

    def backward(self, g, out, logits):
        # A plain op: nothing kept from forward. The softmax is computed again, with forward's
        # numpy calls (the compiled path's kernel keeps forward's instead: autograd.compiler).
        if type(logits) is np.ndarray:
            _, grad, total = self._shifted_exp(logits)
            grad /= total  # the softmax (in place: fresh)
            self._at_target(grad, add=-1.0)  # softmax − onehot, in place
        else:  # create_graph: Tensors, recorded
            onehot = np.zeros(logits.shape, dtype=logits.dtype)  # float32 logits stay float32
            self._at_target(onehot, add=1.0)
            grad = Softmax(self.axis)(logits) - onehot
        if self.reduction == "none":
            return (grad * np.expand_dims(g, self.axis),)
        scale = g if self.reduction == "sum" else g / self.target.size
        if type(grad) is not np.ndarray:  # a Tensor: the product is part of the recorded graph
            return (grad * scale,)
        if scale != 1:  # (per-example SGD: it is 1, and a pass over the array is saved)
            grad *= scale
        return (grad,)

    def _at_target(self, array, add=None):
        """The entries of ``array`` at the target classes (or add ``add`` to them, in place)."""
        if array.ndim == 1:  # one example: the target is a single class index
            index = self.target[()] if self.target.ndim == 0 else self.target
        elif array.ndim == 2 and self.axis in (1, -1):  # (N, C): plain fancy indexing, fast
            index = (np.arange(array.shape[0]), self.target)
        else:
            index = None
        if index is not None:
            if add is None:
                return array[index]
            array[index] += add  # one target per example: no index repeats
            return None
        where = np.expand_dims(self.target, self.axis)
        picked = np.take_along_axis(array, where, self.axis)
        if add is None:
            return np.squeeze(picked, self.axis)
        np.put_along_axis(array, where, picked + add, self.axis)
        return None
