"""The functional API: ``autograd.sin(x)`` for every ``x.sin()``, plus ``grad`` and constructors.

Each function accepts Tensors or anything array-like (numbers, lists, ndarrays).

>>> import autograd
>>> x = autograd.tensor([1.0, 2.0], requires_grad=True)
>>> (dx,) = autograd.grad(autograd.sin(x).sum(), x)
>>> dx            # cos(x)
Tensor([ 0.54030231, -0.41614684])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import engine, grad_mode
from autograd.ops import elementwise as ew
from autograd.ops import shape as sh
from autograd.ops import softmax as _softmax
from autograd.ops.linear import linear as _linear_op
from autograd.ops.linear import linear_of_data as _linear_of_data
from autograd.tensor_methods import as_array
from autograd.tensors import ArrayLike, ShapeError, Tensor, _apply, _lift, _seed_gradient


def _tensor(value: Any) -> Tensor:
    """``value`` as a Tensor: a constant leaf unless it is one."""
    return value if isinstance(value, Tensor) else Tensor._leaf(np.asarray(value))


def tensor(
    data: ArrayLike, requires_grad: bool = False, dtype: Any = None, name: str | None = None
) -> Tensor:
    """Make a Tensor (the same as ``Tensor(...)``)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def as_tensor(data: ArrayLike, dtype: Any = None) -> Tensor:
    """``data`` itself if it is already a Tensor (of that dtype), else a new constant Tensor."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    return Tensor(data, dtype=dtype)


def zeros(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def zeros_like(t: ArrayLike, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros_like(np.asarray(t)), requires_grad=requires_grad)


def ones_like(t: ArrayLike, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones_like(np.asarray(t)), requires_grad=requires_grad)


def arange(*args: Any, dtype: Any = None) -> Tensor:
    return Tensor(np.arange(*args, dtype=dtype))


def _shape(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


# ---- one function per Tensor method --------------------------------------------


def add(a: ArrayLike, b: ArrayLike) -> Tensor:
    return _tensor(a) + b


def sub(a: ArrayLike, b: ArrayLike) -> Tensor:
    return _tensor(a) - b


def mul(a: ArrayLike, b: ArrayLike) -> Tensor:
    return _tensor(a) * b


def div(a: ArrayLike, b: ArrayLike) -> Tensor:
    return _tensor(a) / b


def pow(a: ArrayLike, b: ArrayLike) -> Tensor:  # noqa: A001
    return _tensor(a) ** b


def neg(a: ArrayLike) -> Tensor:
    return -_tensor(a)


def matmul(a: ArrayLike, b: ArrayLike) -> Tensor:
    return _tensor(a) @ b


def exp(x: ArrayLike) -> Tensor:
    return _tensor(x).exp()


def log(x: ArrayLike) -> Tensor:
    return _tensor(x).log()


def sqrt(x: ArrayLike) -> Tensor:
    return _tensor(x).sqrt()


def abs(x: ArrayLike) -> Tensor:  # noqa: A001
    return _tensor(x).abs()


def sin(x: ArrayLike) -> Tensor:
    return _tensor(x).sin()


def cos(x: ArrayLike) -> Tensor:
    return _tensor(x).cos()


def tanh(x: ArrayLike) -> Tensor:
    return _tensor(x).tanh()


def sigmoid(x: ArrayLike) -> Tensor:
    return _tensor(x).sigmoid()


def softplus(x: ArrayLike) -> Tensor:
    return _tensor(x).softplus()


def linear(x: ArrayLike, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` as one graph node (weight of shape (out, in), as in PyTorch).

    >>> import autograd, numpy as np
    >>> w = autograd.Tensor(np.ones((2, 3)), requires_grad=True)
    >>> autograd.linear(np.arange(3.0), w, autograd.Tensor([0.5, -0.5]))
    Tensor([3.5, 2.5], grad_fn=<LinearBackward>)
    """
    x, weight = _tensor(x), _tensor(weight)
    x_shape, w_shape = x._data.shape, weight._data.shape  # (the hot path of every layer)
    if x_shape[-1:] != w_shape[-1:] or len(w_shape) != 2:
        raise ShapeError(
            f"linear: input of shape {x_shape} does not fit weight of shape {w_shape} "
            + (f"(expected {w_shape[-1]} features in the last axis)" if len(w_shape) == 2
               else "(the weight must be 2-d: (out_features, in_features))")
        )
    inputs = (x, weight) if bias is None else (x, weight, _tensor(bias))
    return _apply(_linear_op if x._requires_grad else _linear_of_data, inputs)


def softmax_cross_entropy(
    logits: ArrayLike, target: ArrayLike, axis: int = -1, reduction: str = "mean"
) -> Tensor:
    """Cross-entropy of softmax(``logits``) against class indices, as one node (log-sum-exp inside).

    ``target`` is an integer array (or Tensor) of the logits' shape without ``axis``: the
    op's second input, which gets no gradient. The gradient with respect to the logits is
    softmax − onehot (Ray's backpropagation slides, U. Alberta), per example;
    ``reduction`` is "mean", "sum" or "none". ``nn.functional.cross_entropy`` is the
    friendly front end (it checks the targets).

    >>> import autograd
    >>> z = autograd.Tensor([[2.0, 0.0, -1.0]], requires_grad=True)
    >>> autograd.softmax_cross_entropy(z, [0]).backward()
    >>> z.grad.data.round(4)
    array([[-0.1562,  0.1142,  0.042 ]])
    """
    logits = _tensor(logits)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"softmax_cross_entropy: reduction must be mean, sum or none, not {reduction!r}")
    if not (isinstance(target, Tensor) and target._data.dtype.kind in "iu"):
        array = np.asarray(target.data if isinstance(target, Tensor) else target)
        if array.dtype.kind not in "iu":
            raise TypeError(
                f"softmax_cross_entropy: target must hold class indices (integers), not {array.dtype}"
                f" (shape {array.shape}, logits of shape {logits.shape}); for probabilities use "
                "nn.functional.cross_entropy")
        target = Tensor._leaf(array)
    return _apply(_softmax.SoftmaxCrossEntropy(axis, reduction), (logits, target))


def relu(x: ArrayLike) -> Tensor:
    return _tensor(x).relu()


def leaky_relu(x: ArrayLike, negative_slope: float = 0.01) -> Tensor:
    return _tensor(x).leaky_relu(negative_slope)


def heaviside(x: ArrayLike, values: float = 1.0) -> Tensor:
    return _tensor(x).heaviside(values)


def threshold(x: ArrayLike) -> Tensor:
    return _tensor(x).threshold()


def clip(x: ArrayLike, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    return _tensor(x).clip(min, max)


clamp = clip


def maximum(a: ArrayLike, b: ArrayLike) -> Tensor:
    return _tensor(a).maximum(b)


def minimum(a: ArrayLike, b: ArrayLike) -> Tensor:
    return _tensor(a).minimum(b)


def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (the condition gets no gradient).

    A constant side takes the other side's float dtype.
    """
    mask = Tensor._leaf(np.asarray(as_array(condition), dtype=bool))
    if isinstance(a, Tensor):
        b = _lift(b, a)
    elif isinstance(b, Tensor):
        a = _lift(a, b)
    return _apply(ew.where, (mask, _tensor(a), _tensor(b)))


def sum(x: ArrayLike, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _tensor(x).sum(axis, keepdims)


def mean(x: ArrayLike, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _tensor(x).mean(axis, keepdims)


def var(x: ArrayLike, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
    return _tensor(x).var(axis, keepdims, correction)


def max(x: ArrayLike, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _tensor(x).max(axis, keepdims)


def min(x: ArrayLike, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _tensor(x).min(axis, keepdims)


def logsumexp(x: ArrayLike, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _tensor(x).logsumexp(axis, keepdims)


def softmax(x: ArrayLike, axis: int = -1) -> Tensor:
    return _tensor(x).softmax(axis)


def log_softmax(x: ArrayLike, axis: int = -1) -> Tensor:
    return _tensor(x).log_softmax(axis)


def reshape(x: ArrayLike, *shape: Any) -> Tensor:
    return _tensor(x).reshape(*shape)


def transpose(x: ArrayLike, *dims: Any) -> Tensor:
    return _tensor(x).transpose(*dims)


def permute(x: ArrayLike, *dims: Any) -> Tensor:
    return _tensor(x).permute(*dims)


def flatten(x: ArrayLike, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return _tensor(x).flatten(start_dim, end_dim)


def broadcast_to(x: ArrayLike, *shape: Any) -> Tensor:
    return _tensor(x).broadcast_to(*shape)


def expand(x: ArrayLike, *shape: Any) -> Tensor:
    return _tensor(x).expand(*shape)


def split(x: ArrayLike, split_size_or_sections: int | Sequence[int], axis: int = 0) -> tuple[Tensor, ...]:
    return _tensor(x).split(split_size_or_sections, axis)


def pad(x: ArrayLike, pad_width: Any, value: float = 0.0) -> Tensor:
    return _tensor(x).pad(pad_width, value)


def concat(tensors: Sequence[ArrayLike], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = tuple(map(_tensor, tensors))
    if not tensors:
        raise ValueError("concat: needs at least one tensor")
    return _apply(sh.Concat(axis), tensors)


cat = concat


def stack(tensors: Sequence[ArrayLike], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    tensors = tuple(map(_tensor, tensors))
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    return _apply(sh.Stack(axis), tensors)


# ---- gradients without touching .grad ------------------------------------------


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned rather than stored.

    No ``.grad`` attribute is touched. With ``create_graph=True`` the results are part
    of a graph and can be differentiated again.

    >>> import autograd
    >>> x = autograd.Tensor(0.5, requires_grad=True)
    >>> (dx,) = autograd.grad(x.sin(), x, create_graph=True)
    >>> (ddx,) = autograd.grad(dx, x)
    >>> bool(abs(ddx.item() + np.sin(0.5)) < 1e-12)   # d²/dx² sin x = -sin x
    True
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not isinstance(grad_outputs, (list, tuple)):  # None, or one gradient for one output
        grad_outputs = [grad_outputs] * len(outputs)
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    for i, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: output {i} does not require grad (it does not depend on any input "
                "that requires grad)"
            )
    seeds = [_seed_gradient(o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    with grad_mode.set_grad_enabled(create_graph):
        found = engine.run_backward(
            outputs, seeds, retain_graph=retain_graph, create_graph=create_graph, capture=inputs
        )
    results: list[Tensor | None] = []
    for i, t in enumerate(inputs):
        g = found.get(t)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            results.append(None)
        elif isinstance(g, Tensor):
            results.append(g)
        else:
            results.append(Tensor._leaf(np.array(g, dtype=t.dtype)))
    return tuple(results)


__all__ = [  # the functional API, re-exported by ``autograd`` (listed, so no import leaks out)
    "tensor", "as_tensor", "zeros", "ones", "zeros_like", "ones_like", "arange",
    "add", "sub", "mul", "div", "pow", "neg", "matmul", "linear",
    "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "softplus",
    "relu", "leaky_relu", "heaviside", "threshold", "clip", "clamp", "maximum", "minimum", "where",
    "sum", "mean", "var", "max", "min", "logsumexp", "softmax", "log_softmax", "softmax_cross_entropy",
    "reshape", "transpose", "permute", "flatten", "broadcast_to", "expand", "split", "pad",
    "concat", "cat", "stack",
    "grad",
]
