"""Stateless network functions: activations and losses, built from ``autograd`` operations.

Every loss takes ``reduction="mean" | "sum" | "none"`` as in PyTorch. The classification
losses work on logits with log-sum-exp, so they are exact for logits of any size, and
their gradients are the textbook ones: softmax(z) − y for cross-entropy (Ray's
backpropagation slides, U. Alberta), σ(z) − y for binary cross-entropy on a logit
(Rangan's neural network notes).

>>> import numpy as np
>>> from autograd import Tensor
>>> from nn import functional as F
>>> logits = Tensor([[2.0, 0.5, -1.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, [0])
>>> loss.backward()
>>> np.allclose(logits.grad.data, np.exp(logits.data) / np.exp(logits.data).sum() - [1, 0, 0])
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd
from autograd import Tensor, as_tensor

_REDUCTIONS = ("mean", "sum", "none")
_LOG_FLOOR = float(np.exp(-100.0))



def _reduce(losses: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, not {reduction!r}")


# ---- activations ---------------------------------------------------------------------


def relu(x: Tensor) -> Tensor:
    return as_tensor(x).relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return as_tensor(x).leaky_relu(negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return as_tensor(x).sigmoid()


def tanh(x: Tensor) -> Tensor:
    return as_tensor(x).tanh()


def softplus(x: Tensor) -> Tensor:
    return as_tensor(x).softplus()


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    return as_tensor(x).softmax(axis=dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    return as_tensor(x).log_softmax(axis=dim)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` (one graph node)."""
    return autograd.linear(x, weight, bias)


def dropout(
    x: Tensor, p: float = 0.5, training: bool = True, generator: np.random.Generator | None = None
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (when training)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], not {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    # the mask is drawn by an op: a compiled function draws it again at every call, from
    # the same generator (the same stream as eager)
    return x * Tensor.dropout_mask(x.shape, p, x.dtype, generator)


# ---- classification losses -----------------------------------------------------------


def _class_indices(target: Any, logits: Tensor, name: str) -> np.ndarray | None:
    """``target`` as an integer index array, or None when it holds probabilities."""
    array = np.asarray(target.data if isinstance(target, Tensor) else target)
    shape = logits.shape
    kind = array.dtype.kind
    if kind == "f" and array.shape == shape:
        return None  # probabilities (or one-hot rows)
    if kind not in "iub":
        if kind != "f" or not np.all(array == np.round(array)):
            raise ValueError(f"{name}: class-index targets must be whole numbers")
    if len(shape) > 1:
        batch_shape = (shape[0],) + shape[2:]
        classes = shape[1]
    else:
        batch_shape, classes = (), shape[0]
    if array.shape != batch_shape:
        raise ValueError(
            f"{name}: target of shape {array.shape} does not match logits of shape {shape} "
            f"(expected class indices of shape {batch_shape}, or probabilities of shape {shape})"
        )
    if array.dtype.type is not np.int64:
        array = array.astype(np.int64)
    if array.ndim == 0:  # one example: no reductions for the range check
        out_of_range = not 0 <= array.item() < classes
    else:
        out_of_range = array.size and (array.min() < 0 or array.max() >= classes)
    if out_of_range:
        position = int(np.flatnonzero((array < 0) | (array >= classes))[0])
        raise IndexError(
            f"{name}: target {int(array.reshape(-1)[position])} at position {position} is out of "
            f"range for {classes} classes (valid: 0..{classes - 1})"
        )
    return array


def _pick(log_probs: Tensor, indices: np.ndarray) -> Tensor:
    """``log_probs[i, indices[i]]`` for every i (the class axis is axis 1, or 0 unbatched)."""
    if log_probs.ndim == 1:
        return log_probs[int(indices)]
    if log_probs.ndim == 2:
        return log_probs[np.arange(log_probs.shape[0]), indices]
    # (N, C, d1, ...): move the class axis last, then pick along it
    moved = log_probs.permute(0, *range(2, log_probs.ndim), 1)
    flat = moved.reshape(-1, log_probs.shape[1])
    return flat[np.arange(flat.shape[0]), indices.reshape(-1)].reshape(indices.shape)


def nll_loss(log_probs: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices under ``log_probs`` (N, C)."""
    log_probs = as_tensor(log_probs)
    indices = _class_indices(target, log_probs, "nll_loss")
    if indices is None:
        raise ValueError("nll_loss: targets must be class indices")
    return _reduce(-_pick(log_probs, indices), reduction, "nll_loss")


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of ``logits`` (N, C), via log-sum-exp.

    ``target`` is either class indices (an integer array, list or Tensor of shape
    (N,)) or probabilities / one-hot rows of the same shape as ``logits``. Its
    gradient with respect to the logits is softmax(logits) − y (per example).
    """
    logits = as_tensor(logits)
    class_axis = 1 if logits.ndim > 1 else 0
    indices = _class_indices(target, logits, "cross_entropy")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {_REDUCTIONS}, not {reduction!r}")
    if indices is not None:  # the common case: one fused node, gradient softmax − onehot
        return autograd.softmax_cross_entropy(logits, indices, axis=class_axis, reduction=reduction)
    probabilities = as_tensor(target)
    losses = -(probabilities * logits.log_softmax(axis=class_axis)).sum(axis=class_axis)
    return _reduce(losses, reduction, "cross_entropy")


def binary_cross_entropy_with_logits(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on a logit z: ln(1 + e^z) − y z (Rangan's notes), stable for any z.

    Its gradient is σ(z) − y.
    """
    logits = as_tensor(logits)
    target = as_tensor(target)
    if target.shape != logits.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: target of shape {target.shape} does not match "
            f"logits of shape {logits.shape}"
        )
    return _reduce(logits.softplus() - target * logits, reduction, "binary_cross_entropy_with_logits")


def binary_cross_entropy(probabilities: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """−(y ln p + (1 − y) ln(1 − p)), with each log clamped at −100 as PyTorch does."""
    p = as_tensor(probabilities)
    target = as_tensor(target)
    if target.shape != p.shape:
        raise ValueError(
            f"binary_cross_entropy: target of shape {target.shape} does not match input of shape {p.shape}"
        )
    if np.any((p.data < 0) | (p.data > 1)):
        raise ValueError("binary_cross_entropy: input probabilities must lie in [0, 1]")
    # log(max(p, e^-100)) = max(log p, -100), PyTorch's clamp; clipping before the log
    # keeps the gradient finite where p is exactly 0 or 1
    log_p = p.clip(min=_LOG_FLOOR).log()
    log_q = (1 - p).clip(min=_LOG_FLOOR).log()
    return _reduce(-(target * log_p + (1 - target) * log_q), reduction, "binary_cross_entropy")


# ---- regression ----------------------------------------------------------------------


def mse_loss(prediction: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error (``reduction="sum"`` gives the plain sum of squares)."""
    prediction = as_tensor(prediction)
    target = as_tensor(target)
    if target.shape != prediction.shape:
        raise ValueError(
            f"mse_loss: target of shape {target.shape} does not match prediction of shape {prediction.shape}"
        )
    diff = prediction - target
    return _reduce(diff * diff, reduction, "mse_loss")
