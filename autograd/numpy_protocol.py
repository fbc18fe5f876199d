"""numpy functions on Tensors: ``np.sin(t)``, ``ndarray * t`` and ``np.sum(t)`` record graph nodes.

numpy hands a call that involves a Tensor to ``Tensor.__array_ufunc__`` (for ufuncs such
as ``np.add`` and ``np.sin``) or ``Tensor.__array_function__`` (for functions such as
``np.sum`` and ``np.reshape``). Those look the function up in the two tables below and
call the Tensor method that does the same thing, so the call is recorded in the graph.
This is also what lets a backward rule written with numpy serve a ``create_graph`` pass,
where it is handed Tensors instead of arrays.

A keyword a handler cannot honour is refused with a TypeError that names it: dropping
it silently would compute something other than what was asked.

>>> import numpy as np
>>> from autograd import Tensor
>>> t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> np.sum(t * t, keepdims=True)
Tensor([14.], grad_fn=<SumBackward>)
>>> np.sum(t, out=np.empty(()))
Traceback (most recent call last):
...
TypeError: numpy.sum(..., out=...) is not supported on Tensors: write the result to a new tensor instead
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd.api import _tensor
from autograd.api import where as _where
from autograd.ops import shape as sh
from autograd.tensor_methods import as_array as _as_array
from autograd.tensors import Tensor, _lift, apply

_ABSENT: Any = getattr(np, "_NoValue", None)  # what numpy passes for a keyword left out


def _refuse(function: str, keyword: str, why: str) -> TypeError:
    return TypeError(f"numpy.{function}(..., {keyword}=...) is not supported on Tensors: {why}")


def _no_out(function: str, out: Any) -> None:
    if out is not None:
        raise _refuse(function, "out", "write the result to a new tensor instead")


def _given(value: Any) -> bool:
    return value is not None and value is not _ABSENT


# ---- ufuncs: np.add(a, b), np.sin(t), ndarray * t -------------------------------------


def _binary(method: str) -> Callable:
    def call(a: Any, b: Any) -> Tensor:
        if isinstance(a, Tensor):
            return getattr(a, method)(b)
        return getattr(b, "__r" + method[2:])(a)

    return call


def _comparison(method: str) -> Callable:
    def call(a: Any, b: Any) -> Tensor:
        return getattr(Tensor(a) if not isinstance(a, Tensor) else a, method)(b)

    return call


def _pairwise(method: str) -> Callable:
    """maximum/minimum: the tensor argument decides, a constant takes its dtype."""

    def call(a: Any, b: Any) -> Tensor:
        if isinstance(a, Tensor):
            return getattr(a, method)(b)
        return getattr(_lift(a, b), method)(b)

    return call


UFUNCS: dict[Any, Callable] = {
    np.add: _binary("__add__"),
    np.subtract: _binary("__sub__"),
    np.multiply: _binary("__mul__"),
    np.true_divide: _binary("__truediv__"),
    np.power: _binary("__pow__"),
    np.matmul: _binary("__matmul__"),
    np.negative: Tensor.__neg__,
    np.positive: Tensor.__pos__,
    np.exp: Tensor.exp,
    np.log: Tensor.log,
    np.sqrt: Tensor.sqrt,
    np.absolute: Tensor.abs,
    np.sin: Tensor.sin,
    np.cos: Tensor.cos,
    np.tanh: Tensor.tanh,
    np.sign: Tensor.sign,
    np.square: lambda a: a * a,
    np.maximum: _pairwise("maximum"),
    np.minimum: _pairwise("minimum"),
    np.greater: _comparison("__gt__"),
    np.greater_equal: _comparison("__ge__"),
    np.less: _comparison("__lt__"),
    np.less_equal: _comparison("__le__"),
    np.equal: _comparison("__eq__"),
    np.not_equal: _comparison("__ne__"),
    np.logical_and: lambda a, b: Tensor(np.logical_and(_as_array(a), _as_array(b))),
    np.logical_or: lambda a, b: Tensor(np.logical_or(_as_array(a), _as_array(b))),
    np.isfinite: lambda a: Tensor(np.isfinite(_as_array(a))),
}


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Tensor:
    """``Tensor.__array_ufunc__``: run a supported ufunc as Tensor operations."""
    name = f"numpy.{ufunc.__name__}{'' if method == '__call__' else '.' + method}"
    handler = UFUNCS.get(ufunc)
    if method != "__call__" or handler is None:
        raise TypeError(
            f"{name} is not supported on Tensors (it would bypass the graph); use the Tensor "
            "method, or apply it to t.data outside the graph"
        )
    out = kwargs.pop("out", None)  # numpy hands it over as a tuple, one entry per output
    if out is not None and any(array is not None for array in out):
        raise _refuse(ufunc.__name__, "out", "write the result to a new tensor instead")
    if kwargs:
        keyword = next(iter(kwargs))
        raise _refuse(ufunc.__name__, keyword, "only positional operands are supported")
    return handler(*inputs)


# ---- functions: np.sum(t), np.reshape(t, ...) ----------------------------------------


def _cast(a: Any, dtype: Any) -> Tensor:
    return _tensor(a) if dtype is None else _tensor(a).astype(dtype)


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_ABSENT, where=_ABSENT):
    _no_out("sum", out)
    t = _cast(a, dtype)
    if _given(where) and where is not True:
        mask = np.broadcast_to(np.asarray(_as_array(where), dtype=bool), t.shape)  # as numpy: no growing t
        t = _where(mask, t, 0.0)  # the elements left out count as 0
    total = t.sum(axis, bool(keepdims) if keepdims is not _ABSENT else False)
    return total + initial if _given(initial) else total


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=_ABSENT):
    _no_out("mean", out)
    keep = bool(keepdims) if keepdims is not _ABSENT else False
    t = _cast(a, dtype)
    if not _given(where) or where is True:
        return t.mean(axis, keep)
    mask = np.broadcast_to(np.asarray(_as_array(where), dtype=bool), t.shape)
    count = mask.sum(axis=axis, keepdims=keep)
    return _where(mask, t, 0.0).sum(axis, keep) / count.astype(t.dtype)


def _extremum(name: str) -> Callable:
    def call(a, axis=None, out=None, keepdims=False, initial=_ABSENT, where=_ABSENT):
        _no_out(name, out)
        if _given(initial):
            raise _refuse(name, "initial", f"compare with it afterwards, e.g. maximum(t.{name}(), value)")
        if _given(where) and where is not True:
            raise _refuse(name, "where", "select the elements first (t[mask])")
        keep = bool(keepdims) if keepdims is not _ABSENT else False
        return getattr(_tensor(a), name)(axis, keep)

    return call


def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    shape = newshape if shape is None else shape
    if copy is False:
        raise _refuse("reshape", "copy", "a Tensor reshape may copy; leave copy out")
    t = _tensor(a)
    if order == "C":
        return t.reshape(shape)
    if order == "F":  # column-major: reverse the axes, reshape in row-major order, reverse back
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        if -1 in shape:
            known = math.prod(n for n in shape if n != -1)
            shape = tuple(t.size // known if n == -1 else n for n in shape)
        return t.permute(tuple(reversed(range(t.ndim)))).reshape(shape[::-1]).permute(
            tuple(reversed(range(len(shape))))
        )
    raise _refuse("reshape", "order", f"order={order!r}: use 'C' or 'F'")


def _like(name: str, fill: Callable) -> Callable:
    def call(a, dtype=None, order="K", subok=True, shape=None, **rest):
        if rest.get("device") not in (None, "cpu"):
            raise _refuse(name, "device", "Tensors live on the CPU")
        if order not in ("K", "C", "A") or subok is not True:
            raise _refuse(name, "order" if order not in ("K", "C", "A") else "subok", "use the defaults")
        return Tensor(fill(_as_array(a), dtype=dtype, shape=shape))

    return call


def _sequence(name: str, op_type: type) -> Callable:
    def call(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
        _no_out(name, out)
        if dtype is not None or casting != "same_kind":
            raise _refuse(name, "dtype" if dtype is not None else "casting", "convert the tensors first")
        return apply(op_type(axis), tuple(map(_tensor, arrays)))

    return call


def _clip(a, a_min=_ABSENT, a_max=_ABSENT, out=None, *, min=_ABSENT, max=_ABSENT, **rest):  # noqa: A002
    _no_out("clip", out)
    if rest:
        raise _refuse("clip", next(iter(rest)), "only the bounds are supported")
    low = min if _given(min) else (a_min if _given(a_min) else None)
    high = max if _given(max) else (a_max if _given(a_max) else None)
    return _tensor(a).clip(low, high)


def _transpose(a, axes=None):
    return _tensor(a).permute(tuple(reversed(range(np.ndim(a)))) if axes is None else axes)


def _broadcast_to(a, shape, subok=False):
    if subok:
        raise _refuse("broadcast_to", "subok", "leave it out")
    return _tensor(a).broadcast_to(shape)


FUNCTIONS: dict[Any, Callable] = {
    np.sum: _sum,
    np.mean: _mean,
    np.max: _extremum("max"),
    np.amax: _extremum("max"),
    np.min: _extremum("min"),
    np.amin: _extremum("min"),
    np.reshape: _reshape,
    np.transpose: _transpose,
    np.swapaxes: lambda a, axis1, axis2: _tensor(a).transpose(axis1, axis2),
    np.broadcast_to: _broadcast_to,
    np.expand_dims: lambda a, axis: _tensor(a).unsqueeze(axis),
    np.squeeze: lambda a, axis=None: _tensor(a).squeeze(axis),
    np.where: _where,
    np.concatenate: _sequence("concatenate", sh.Concat),
    np.stack: _sequence("stack", sh.Stack),
    np.clip: _clip,
    np.zeros_like: _like("zeros_like", np.zeros_like),
    np.ones_like: _like("ones_like", np.ones_like),
    np.shape: lambda a: _as_array(a).shape,
    np.ndim: lambda a: _as_array(a).ndim,
    np.size: lambda a, axis=None: np.size(_as_array(a), axis),
}


def array_function(func: Any, args: tuple, kwargs: dict) -> Any:
    """``Tensor.__array_function__``: run a supported numpy function as Tensor operations."""
    handler = FUNCTIONS.get(func)
    if handler is None:
        raise TypeError(
            f"numpy.{func.__name__} is not supported on Tensors (it would bypass the graph); use "
            "the Tensor method, or apply it to t.data outside the graph"
        )
    try:
        return handler(*args, **kwargs)
    except TypeError as error:
        # Raised by the call itself (no deeper frame): the arguments did not fit the handler
        if error.__traceback__.tb_next is not None or "keyword argument" not in str(error):
            raise
        keyword = str(error).rsplit("'", 2)[-2]
        raise _refuse(func.__name__, keyword, "that keyword is not supported") from None


def _array_ufunc(self: Tensor, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    return array_ufunc(ufunc, method, inputs, kwargs)


def _array_function(self: Tensor, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    return array_function(func, args, dict(kwargs))


Tensor.__array_ufunc__ = _array_ufunc
Tensor.__array_function__ = _array_function
