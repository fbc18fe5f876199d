"""Named kernels the generated code calls: each stands for one plain op and is tested against it.

Most generated lines call numpy directly (``z = x @ W.T + b``). An op whose forward or
backward takes several numpy calls, or a branch on the dtype or on the shape, calls a kernel
from here instead, so that the generated line stays one line. Each kernel's docstring names
the plain op (or the part of it) it stands for; ``tests/test_compile_kernels.py`` checks
each against that op on random inputs.

The ``*_f`` kernels are the Python-float forms used by scalar programs (every value a
0-d float64): plain ``math`` calls, which raise ``ArithmeticError`` or ``ValueError``
where numpy would return inf or nan; the compiled function then reruns that call with
the numpy program (see ``autograd.compiler.api``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd.engine import sum_to  # noqa: F401  (the generated code's un-broadcast)
from autograd.ops import elementwise as _ew
from autograd.ops.softmax import at_target as _at_target
from autograd.ops.softmax import shifted_exp as _shifted_exp

# e^x overflows above log(largest float): the exponents each float type can take safely
# (float16 is left out: its sigmoid is computed in float32 by the op, which the kernels call)
_EXP_OVERFLOW = {np.dtype(t): float(np.log(np.finfo(t).max)) - 1.0 for t in (np.float32, np.float64)}


# ---- array kernels ------------------------------------------------------------------------


def sigmoid(a: Any) -> Any:
    """``Sigmoid.forward``: 1 / (1 + e^-a), the same bits; in place on a fresh array.

    Where e^-a cannot overflow (the usual case) it skips the op's ``np.errstate`` block,
    a context switch that costs as much as the arithmetic on a layer of 50 units.
    """
    limit = _EXP_OVERFLOW.get(a.dtype)
    if type(a) is np.ndarray and a.ndim:
        if limit is not None and a.size and np.minimum.reduce(a, axis=None) > -limit:
            e = np.negative(a)
            np.exp(e, out=e)
            e += 1.0
            return np.reciprocal(e, out=e)
    elif limit is not None and a > -limit:  # a numpy scalar (or 0-d array)
        return 1.0 / (1.0 + np.exp(-a))
    return _ew.sigmoid.forward(a)  # an overflowing input: the op itself


def sigmoid_backward(g: Any, out: Any) -> Any:
    """``Sigmoid.backward``: (1 − σ) · σ · g, in place on a fresh array.

    The slope is computed in σ's dtype; a wider ``g`` widens the product, as in the op.
    """
    slope = 1.0 - out
    slope *= out
    if np.result_type(slope, g) != slope.dtype:
        return slope * g
    slope *= g
    return slope


def sigmoid_into(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``sigmoid`` written into ``out`` (a buffer of a's shape and dtype): the same calls, the same bits."""
    limit = _EXP_OVERFLOW.get(a.dtype)
    if limit is not None and a.size and np.minimum.reduce(a, axis=None) > -limit:
        np.negative(a, out=out)
        np.exp(out, out=out)
        out += 1.0
        return np.reciprocal(out, out=out)
    out[...] = sigmoid(a)  # (e^-a may overflow, or float16: the op itself)
    return out


def sigmoid_backward_into(g: Any, out: Any, buffer: np.ndarray) -> np.ndarray:
    """``sigmoid_backward`` written into ``buffer``: (1 − σ) · σ · g."""
    if buffer.dtype != out.dtype:  # a wider g: the slope is still computed in σ's dtype
        buffer[...] = sigmoid_backward(g, out)
        return buffer
    np.subtract(1.0, out, out=buffer)
    buffer *= out
    buffer *= g
    return buffer


def relu(a: Any) -> Any:
    """``ReLU.forward``: max(a, 0); a numpy scalar takes a comparison instead of a ufunc."""
    if isinstance(a, np.floating):
        return type(a)(0) if a <= 0 else a
    return np.maximum(a, 0)


def logsumexp(a: Any, axis: Any, keepdims: bool) -> Any:
    """``LogSumExp.forward``: m + log Σ e^(a − m), m the maximum (0 where it is not finite)."""
    m = a.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    total = np.log(np.exp(a - m).sum(axis=axis, keepdims=True)) + m
    return total if keepdims else np.squeeze(total, axis=axis)


def log_softmax(a: Any, axis: int) -> Any:
    """``LogSoftmax.forward``: a − max − log Σ e^(a − max)."""
    log_p = a - np.maximum.reduce(a, axis=axis, keepdims=True)
    log_p -= np.log(np.add.reduce(np.exp(log_p), axis=axis, keepdims=True))
    return log_p


def pow_grad_base(g: Any, a: Any, b: Any) -> Any:
    """``Pow.backward``, first gradient: g · b · a^(b − 1), and 0 where b is 0 and a^(b−1) is not finite."""
    with np.errstate(divide="ignore", invalid="ignore"):
        power = a ** (b - 1)
        return np.where((b == 0) & ~np.isfinite(power), np.zeros_like(g), g * b * power)


def pow_grad_exponent(g: Any, out: Any, a: Any, b: Any) -> Any:
    """``Pow.backward``, second gradient: g · a^b · log a, and 0 where a is 0 and b >= 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((a == 0) & (b >= 0), np.zeros_like(g), g * out * np.log(a))


def share(g: Any, loses: Any, ties: Any) -> Any:
    """``Maximum``/``Minimum.backward`` (``_share``): none of g where it loses, half at a tie, else all."""
    return np.where(loses, np.zeros_like(g), np.where(ties, g * 0.5, g))


def scatter(values: Any, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``GetItem.backward`` for a basic index (ints, slices): zeros with ``values`` at ``index``."""
    result = np.zeros(shape, dtype=values.dtype)
    result[index] = values
    return result


def scatter_add(values: Any, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``GetItem.backward`` for an integer-array index: an element picked twice adds up."""
    result = np.zeros(shape, dtype=values.dtype)
    np.add.at(result, index, values)
    return result


def check_index(index: Any, length: int, negatives: bool) -> None:
    """A per-call integer index within its axis (from the end too, if ``negatives``)."""
    low = -length if negatives else 0
    if np.ndim(index) == 0:
        bad = not low <= index < length
    else:
        bad = index.size and (index.min() < low or index.max() >= length)
    if bad:
        flat = np.asarray(index).reshape(-1)
        value = int(flat[np.flatnonzero((flat < low) | (flat >= length))[0]])
        raise IndexError(
            f"index {value} is out of range for an axis of length {length}"
            + ("" if negatives else " (a compiled function takes a negative per-call index only "
               "if the traced call had one)")
        )


def check_targets(target: Any, classes: int) -> None:
    """The class-index check ``nn.functional.cross_entropy`` makes, run on every call."""
    if target.ndim == 0:
        bad = not 0 <= target < classes
    else:
        bad = target.size and (target.min() < 0 or target.max() >= classes)
    if bad:
        flat = np.asarray(target).reshape(-1)
        position = int(np.flatnonzero((flat < 0) | (flat >= classes))[0])
        raise IndexError(
            f"cross_entropy: target {int(flat[position])} at position {position} is out of "
            f"range for {classes} classes (valid: 0..{classes - 1})"
        )


def softmax_cross_entropy(logits: Any, target: Any, axis: int, reduction: str) -> tuple[Any, Any]:
    """``SoftmaxCrossEntropy.forward``: the loss, and the softmax its backward reuses.

    Checks the targets first (``check_targets``), as ``nn.functional.cross_entropy`` does.
    """
    check_targets(target, logits.shape[axis])
    keep = logits.ndim > 1
    shifted, probs, total = _shifted_exp(logits, axis)
    losses = np.log(total.squeeze(axis) if keep else total) - _at_target(shifted, target, axis)
    probs /= total
    if reduction == "none" or losses.ndim == 0:
        return losses, probs
    total_loss = np.add.reduce(losses, axis=None)
    return (total_loss if reduction == "sum" else total_loss / losses.size), probs


def softmax_cross_entropy_into(logits: Any, target: Any, axis: int, reduction: str, probs: np.ndarray) -> Any:
    """``softmax_cross_entropy`` with the softmax written into ``probs`` (a buffer of the logits'
    shape): the same calls on the same values (the target's entries are picked before the
    exponential overwrites them), so the same bits. Returns the loss."""
    classes = logits.shape[axis]
    if target.ndim or not 0 <= target < classes:
        check_targets(target, classes)
    keep = logits.ndim > 1
    np.subtract(logits, np.maximum.reduce(logits, axis=axis, keepdims=keep), out=probs)
    picked = _at_target(probs, target, axis)  # (a copy: fancy indexing, or a numpy scalar)
    np.exp(probs, out=probs)
    total = np.add.reduce(probs, axis=axis, keepdims=keep)
    losses = np.log(total.squeeze(axis) if keep else total) - picked
    probs /= total
    if reduction == "none" or losses.ndim == 0:
        return losses
    total_loss = np.add.reduce(losses, axis=None)
    return total_loss if reduction == "sum" else total_loss / losses.size


def softmax_cross_entropy_backward(g: Any, probs: Any, target: Any, axis: int, reduction: str) -> Any:
    """``SoftmaxCrossEntropy.backward``: (softmax − onehot) · g (÷ the count for "mean").

    Works on a copy of the saved softmax, so a retained graph can run backward again.
    """
    grad = probs.copy()
    _at_target(grad, target, axis, add=-1.0)
    if reduction == "none":
        return grad * np.expand_dims(g, axis)
    scale = g if reduction == "sum" else g / target.size
    if scale != 1:
        grad *= scale
    return grad


def softmax_cross_entropy_backward_(g: Any, probs: Any, target: Any, axis: int, reduction: str) -> Any:
    """``softmax_cross_entropy_backward`` in place on the saved softmax (a fused step's, used once),
    as ``SoftmaxCrossEntropy.backward`` does on a plain pass."""
    _at_target(probs, target, axis, add=-1.0)
    if reduction == "none":
        return probs * np.expand_dims(g, axis)
    scale = g if reduction == "sum" else g / target.size
    if scale != 1:
        probs *= scale
    return probs


def as_int64(value: Any) -> Any:
    """A per-call integer input (a label, an index array) as numpy int64, as it was traced."""
    if type(value) is np.int64 or (type(value) is np.ndarray and value.dtype == np.int64):
        return value
    if type(value) is int:  # a label: a numpy scalar (indexes as the 0-d array traced does, faster)
        return np.int64(value)
    return np.asarray(value, dtype=np.int64)


# ---- Python-float kernels (scalar programs) -----------------------------------------------


def pow_f(a: float, b: float) -> float:
    """``a ** b`` on floats; a negative base with a fractional exponent raises (numpy: nan)."""
    return math.pow(a, b)


def sigmoid_f(a: float) -> float:
    """``Sigmoid.forward`` on a float; below −709 e^-a overflows and the numpy program takes over."""
    return 1.0 / (1.0 + math.exp(-a))


def softplus_f(a: float) -> float:
    """``Softplus.forward`` (numpy's logaddexp(0, a)) on a float."""
    if a == 0.0:
        return math.log(2.0)
    if a < 0.0:
        return math.log1p(math.exp(a))
    if a > 0.0:
        return a + math.log1p(math.exp(-a))
    return a  # nan


def heaviside_f(a: float, at_zero: float) -> float:
    """``np.heaviside(a, at_zero)`` on a float."""
    return 1.0 if a > 0.0 else 0.0 if a < 0.0 else at_zero if a == 0.0 else a


def clip_f(a: float, low: float | None, high: float | None) -> float:
    """``np.clip(a, low, high)`` on a float (nan stays nan)."""
    if low is not None and a < low:
        a = low
    if high is not None and a > high:
        a = high
    return a


def pow_grad_base_f(g: float, a: float, b: float) -> float:
    """``pow_grad_base`` on floats."""
    power = math.pow(a, b - 1)
    return 0.0 if b == 0 and not math.isfinite(power) else g * b * power


def pow_grad_exponent_f(g: float, out: float, a: float, b: float) -> float:
    """``pow_grad_exponent`` on floats (log of a negative raises: the numpy program takes over)."""
    return 0.0 if a == 0 and b >= 0 else g * out * math.log(a)


def share_f(g: float, loses: bool, ties: bool) -> float:
    """``share`` on floats."""
    return 0.0 if loses else g * 0.5 if ties else g


def maximum_f(a: float, b: float) -> float:
    """``np.maximum`` on floats: nan if either is nan."""
    return a if (a >= b or a != a) else b


def minimum_f(a: float, b: float) -> float:
    """``np.minimum`` on floats: nan if either is nan."""
    return a if (a <= b or a != a) else b


NAMES = {
    name: value
    for name, value in dict(globals()).items()
    if callable(value) and not name.startswith("_") and getattr(value, "__module__", None) == __name__
}
NAMES["sum_to"] = sum_to
