"""The softmax family: softmax, log-softmax, and softmax cross-entropy as one node.

All three subtract the maximum before exponentiating (the log-sum-exp trick), so they are
exact for logits of any size.

``SoftmaxCrossEntropy`` takes the class indices as its second *input*, not as op state:
ops are pure, so anything that changes from call to call (a target, an index, a dropout
mask) is an input, and the same op object can serve any number of calls. The target has
no gradient (``backward`` returns None for it).
"""

from __future__ import annotations

import numpy as np

from autograd.graph import Op


class Softmax(Op):
    name = "softmax"
    backward_reads = ("out",)

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
    backward_reads = ("out",)

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


def shifted_exp(logits, axis: int):
    """(logits − max, e^(logits − max), Σ e^(logits − max)): the log-sum-exp's parts.

    For one example (1-d logits) the max and the sum are single numbers (no kept axis).
    """
    keep = logits.ndim > 1
    shifted = logits - np.maximum.reduce(logits, axis=axis, keepdims=keep)
    probs = np.exp(shifted)
    total = np.add.reduce(probs, axis=axis, keepdims=keep)
    return shifted, probs, total


def at_target(array, target, axis: int, add=None):
    """The entries of ``array`` at the ``target`` classes along ``axis`` (or add ``add`` to them,
    in place: one target per example, so no entry is added to twice)."""
    if array.ndim == 1:  # one example: the target is a single class index
        index = target[()] if target.ndim == 0 else target
    elif array.ndim == 2 and axis in (1, -1):  # (N, C): plain fancy indexing
        index = (np.arange(array.shape[0]), target)
    else:
        index = None
    if index is not None:
        if add is None:
            return array[index]
        array[index] += add
        return None
    where = np.expand_dims(target, axis)
    picked = np.take_along_axis(array, where, axis)
    if add is None:
        return np.squeeze(picked, axis)
    np.put_along_axis(array, where, picked + add, axis)
    return None


class SoftmaxCrossEntropy(Op):
    """−log softmax(logits)[target] per example, reduced: softmax and cross-entropy as one node.

    The handouts combine the two "due to the simpler calculation" (CMU 10-315 homework 2):
    the gradient with respect to the logits is softmax(logits) − onehot(target) (Ray's
    backpropagation slides, U. Alberta), scaled by the incoming gradient (divided by the
    number of examples for ``"mean"``).

    Inputs: ``logits`` and ``target``, the class indices (an int64 array of the logits' shape
    without ``axis``). The target is an input with no gradient; the op keeps only its
    parameters (``axis``, ``reduction``), so nothing of one call stays on it.

    >>> import numpy as np
    >>> op = SoftmaxCrossEntropy(axis=-1, reduction="sum")
    >>> z, y = np.array([[0.0, 0.0], [0.0, np.log(3.0)]]), np.array([0, 1])
    >>> round(float(op.forward(z, y)), 6)            # log 2 + log(4/3)
    0.980829
    >>> op.backward(np.float64(1.0), None, z, y)[1] is None
    True
    """

    name = "cross_entropy"
    mismatch = ("do not fit: the target holds one class index per example (the logits' shape "
                "without the class axis), each from 0 to the number of classes − 1")
    backward_reads = ("logits", "target")  # the softmax is computed again from the logits

    def __init__(self, axis: int = -1, reduction: str = "mean") -> None:
        self.axis = axis
        self.reduction = reduction

    def forward(self, logits, target):
        shifted, probs, total = shifted_exp(logits, self.axis)
        # −log softmax(logits)[target] = log Σ e^shifted − shifted[target]: log-sum-exp,
        # so no e^logit is ever taken of a large logit
        total = total.squeeze(self.axis) if logits.ndim > 1 else total
        losses = np.log(total) - at_target(shifted, target, self.axis)
        if self.reduction == "none":
            return losses
        total_loss = np.add.reduce(losses, axis=None)
        return total_loss if self.reduction == "sum" else total_loss / losses.size

    rule = ("{g} · (softmax({logits}) − onehot({target})), divided by the number of examples for a mean",
            None)

    def backward(self, g, out, logits, target):
        # A plain op: nothing kept from forward. The softmax is computed again, with forward's
        # numpy calls (the compiled path's kernel keeps forward's instead: autograd.compiler).
        if type(logits) is np.ndarray:
            _, grad, total = shifted_exp(logits, self.axis)
            grad /= total  # the softmax (in place: fresh)
            at_target(grad, target, self.axis, add=-1.0)  # softmax − onehot, in place
        else:  # create_graph: Tensors, recorded
            target = np.asarray(target)  # (an integer Tensor: no graph through it)
            onehot = np.zeros(logits.shape, dtype=logits.dtype)  # float32 logits stay float32
            at_target(onehot, target, self.axis, add=1.0)
            grad = Softmax(self.axis)(logits) - onehot
        if self.reduction == "none":
            return grad * np.expand_dims(g, self.axis), None
        scale = g if self.reduction == "sum" else g / np.size(target)
        if type(grad) is not np.ndarray:  # a Tensor: the product is part of the recorded graph
            return grad * scale, None
        grad *= scale  # in place: grad is fresh
        return grad, None
