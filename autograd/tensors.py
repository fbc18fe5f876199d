"""The Tensor: a numpy array that remembers how it was computed.

A Tensor holds ``data`` (an ``ndarray``; a 0-d array for a scalar). When an operation
runs on tensors and one of them has ``requires_grad=True``, the result gets a
record of the op and its input tensors (shown as ``grad_fn``, a Node). Those links form a
directed acyclic graph from the leaves (the tensors you created) to the result, and
``result.backward()`` walks it backwards (``autograd.engine``), leaving ``.grad`` on
every leaf that requires a gradient.

>>> from autograd import Tensor
>>> x = Tensor(2.0, requires_grad=True)
>>> y = Tensor(3.0, requires_grad=True)
>>> z = x * y + x.sin()
>>> z.backward()
>>> x.grad            # y + cos(x)
Tensor(2.58385316)
>>> y.grad            # x
Tensor(2.)

Every operation is an ``Op`` from ``autograd.ops``; this module only turns Python
syntax (``x * y``, ``x[0]``, ``x.sum()``) into ``_apply(op, inputs)``, the one
function that runs an op and records it.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from autograd import engine, grad_mode, graph
from autograd.graph import Node, Op, VersionCounter, ticks
from autograd.ops import elementwise as ew
from autograd.ops import random as rnd
from autograd.ops import reduce as red
from autograd.ops import shape as sh
from autograd.ops import state as st
from autograd.ops.matmul import matmul as _matmul

AxisError = getattr(np, "exceptions", np).AxisError  # np.exceptions from numpy 1.25 on


class ShapeError(ValueError):
    """An operation received operands whose shapes do not fit together."""


class ShapeIndexError(ShapeError, IndexError):
    """An index out of range: also an ``IndexError``, as numpy and PyTorch raise."""


class ShapeAxisError(ShapeError, AxisError):
    """An axis out of range: also numpy's ``AxisError`` (an ``IndexError`` too)."""


def _shape_error(message: str, cause: BaseException | None = None) -> ShapeError:
    """The ShapeError that also has the type of numpy's complaint, so ``except IndexError`` works."""
    if isinstance(cause, AxisError):
        return ShapeAxisError(message)
    if isinstance(cause, IndexError):
        return ShapeIndexError(message)
    return ShapeError(message)


ArrayLike = Any  # numbers, nested lists, ndarrays, Tensors


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    Args:
        data: a number, nested list, ndarray or Tensor. Python numbers (and lists of
            them) become float64; arrays keep their dtype.
        requires_grad: whether ``backward()`` should compute ``.grad`` for this
            tensor. Only floating-point tensors can require gradients.
        dtype: convert the data to this dtype.
        name: an optional label, shown in graph drawings.

    Attributes:
        data: the values (an ndarray). Writable: ``p.data -= lr * p.grad.data`` is
            the plain SGD update.
        grad: the gradient (a Tensor) after ``backward()``, else None.
        grad_fn: the Node that produced this tensor (read-only); None for leaves.
    """

    __slots__ = (
        "_data",
        "grad",
        # How a computed tensor was made (see autograd.graph). A leaf has _op None and
        # the next four unset (nothing reads them on a leaf); _apply sets them when it
        # records an op, and .grad_fn sets _grad_fn on first access.
        "_op",
        "_inputs",
        "_clock",
        "_scope",
        "_spent",  # consumed by a backward pass without retain_graph
        "_grad_fn",  # the Node, made on first access to .grad_fn
        "_requires_grad",
        "name",
        "_versions",  # the VersionCounter shared with aliases; None until one is needed
        "_retains_grad",
        "_hooks",
        "__weakref__",
    )
    # ndarray (+, *, ...) Tensor defers to the Tensor's reflected operator
    __array_priority__ = 1000

    def __init__(
        self,
        data: ArrayLike,
        requires_grad: bool = False,
        dtype: Any = None,
        name: str | None = None,
    ) -> None:
        source = data if isinstance(data, Tensor) else None
        if source is not None:
            data = data._data
        if isinstance(data, np.ndarray):
            array = data if dtype is None else data.astype(dtype)
        elif isinstance(data, np.generic):
            array = data if dtype is None else np.dtype(dtype).type(data)
        else:
            array = np.asarray(data, dtype=dtype)
            if dtype is None and array.dtype.kind in "iu":
                array = array.astype(np.float64)  # Python numbers become float64
            if array.ndim == 0:
                array = array[()]
        self._data = array
        self.grad: Tensor | None = None
        self._op: Op | None = None
        self._requires_grad = False
        self.name = name
        # Built on another tensor's memory (no conversion copied it): one version counter
        self._versions = source._shared_versions() if source is not None and array is data else None
        self._retains_grad = False
        self._hooks: tuple | list = ()
        if requires_grad:
            self.requires_grad = True

    # ---- attributes -------------------------------------------------------------
    #
    # ``_data`` is an ndarray, or, for 0-d values, possibly a numpy scalar of the same
    # dtype: numpy computes on scalars several times faster than on 0-d arrays, and
    # scalar graphs (micrograd's use case) are made of nothing else. ``.data`` always
    # hands out an ndarray: a scalar is turned into a 0-d array on first access, and
    # that array is kept, so writing into it changes the tensor.

    @property
    def data(self) -> np.ndarray:
        """The underlying array. Assigning to it (also ``t.data -= x``) bumps the version."""
        if _TRACING[0]:
            _traced_read(self, ".data of")
        data = self._data
        if type(data) is not np.ndarray:
            data = self._data = np.asarray(data)
        return data

    @data.setter
    def data(self, value: ArrayLike) -> None:
        if _TRACING[0]:
            _traced_read(self, "an assignment to .data of")
        # The same memory (``t.data -= x`` writes into it, then assigns it back): a change
        # of this tensor and all its aliases. New memory: the aliases of the old memory are
        # no longer this tensor's, and a tensor's memory becomes shared with that tensor.
        # Either way this tensor's value changed, which graphs that used it must see.
        old = self._data
        if isinstance(value, Tensor):
            self._data = value._data
            self._versions = value._shared_versions()
        else:
            value = np.asarray(value)
            if not (type(old) is np.ndarray and np.may_share_memory(value, old)):
                self._versions = VersionCounter(self._version)
            self._data = _stored(value)
        self._bump_version()

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (shared with its aliases)."""
        versions = self._versions
        return 0 if versions is None else versions.version

    def _shared_versions(self) -> VersionCounter:
        """This tensor's version counter, made on first need, to share with a new alias."""
        if self._versions is None:
            with _COUNTER_LOCK:  # two threads making the first aliases must get one counter
                if self._versions is None:
                    self._versions = VersionCounter()
        return self._versions

    def _bump_version(self) -> None:
        """Record an in-place change: graphs that used the old value can no longer backprop."""
        self._shared_versions().bump()

    def bump_version(self) -> None:
        """Record that this tensor's array was changed in place behind its back (``t.data[...] = v``
        through another reference, a compiled step's update): a graph that used the old value
        then raises ``InPlaceModificationError`` in backward instead of using the new one."""
        self._shared_versions().bump()

    @property
    def requires_grad(self) -> bool:
        """Whether gradients are computed for this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if self._op is not None:
            raise RuntimeError(
                "requires_grad can only be changed on leaf tensors; "
                "use .detach() to get a leaf from a computed tensor"
            )
        if flag and self._data.dtype.kind == "c":
            raise TypeError(
                f"complex tensors cannot require gradients ({self._data.dtype}): chainrule "
                "differentiates real numbers only; keep the real and imaginary parts as two "
                "real tensors"
            )
        if flag and self._data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, not {self._data.dtype}; "
                "convert first, e.g. Tensor(data, dtype=np.float64)"
            )
        self._requires_grad = bool(flag)

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user (no ``grad_fn``)."""
        return self._op is None

    @property
    def grad_fn(self) -> Node | None:
        """The Node that produced this tensor (op, inputs, clock, scope); None for leaves."""
        if self._op is None:
            return None
        try:
            return self._grad_fn
        except AttributeError:  # built on first use: recording an op does not need it
            self._grad_fn = Node(self._op, self._inputs, self._clock, self._scope)
            return self._grad_fn

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def size(self) -> int:
        return self._data.size

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if _TRACING[0]:
            _traced_read(self, ".item() of")
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, not shape {self.shape}")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        if _TRACING[0]:
            _traced_read(self, ".numpy() of")
        return self.data

    def tolist(self) -> Any:
        if _TRACING[0]:
            _traced_read(self, ".tolist() of")
        return self._data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if _TRACING[0]:
            _traced_read(self, "np.asarray() of")
        if dtype is not None and dtype != self._data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __float__(self) -> float:
        if _TRACING[0]:
            _traced_read(self, "float() of")
        return float(self.item())

    def __int__(self) -> int:
        if _TRACING[0]:
            _traced_read(self, "int() of")
        return int(self.item())

    def __index__(self) -> int:
        if _TRACING[0]:
            _traced_read(self, "an index or size from")
        if self._data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, not {self.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if _TRACING[0]:
            _traced_read(self, "bool() of")
        return bool(self._data)

    __hash__ = object.__hash__  # == builds a comparison tensor; identity is the hash

    def __repr__(self) -> str:
        body = np.array2string(
            self.data, separator=", " if self._data.ndim else " ", threshold=50,
            edgeitems=3, prefix="Tensor(",
        )
        extras = []
        if self._data.dtype != np.float64:
            extras.append(f"dtype={self._data.dtype}")
        if self._op is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    # ---- recording operations ---------------------------------------------------

    @staticmethod
    def _record(op: Op, *args: Any) -> Tensor:
        """Apply ``op`` to tensors or constants (``Op.__call__`` sends Tensors here).

        Constants become tensors as in ``x * 2.0``: Python numbers take the dtype of the
        first tensor argument.
        """
        like = next(a for a in args if isinstance(a, Tensor))
        return _apply(op, tuple(_lift(a, like) for a in args))

    # ---- arithmetic (broadcasting) ----------------------------------------------
    #
    # (``other if type(other) is Tensor else _lift(...)`` spares the commonest case, two
    # tensors, a function call: scalar graphs are made of nothing but these operators.)

    def __add__(self, other: ArrayLike) -> Tensor:
        return _apply(ew.add, (self, other if type(other) is Tensor else _lift(other, self)))

    def __radd__(self, other: ArrayLike) -> Tensor:
        return _apply(ew.add, (_lift(other, self), self))

    def __sub__(self, other: ArrayLike) -> Tensor:
        return _apply(ew.sub, (self, other if type(other) is Tensor else _lift(other, self)))

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return _apply(ew.sub, (_lift(other, self), self))

    def __mul__(self, other: ArrayLike) -> Tensor:
        return _apply(ew.mul, (self, other if type(other) is Tensor else _lift(other, self)))

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return _apply(ew.mul, (_lift(other, self), self))

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return _apply(ew.div, (self, other if type(other) is Tensor else _lift(other, self)))

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return _apply(ew.div, (_lift(other, self), self))

    def __pow__(self, exponent: ArrayLike) -> Tensor:
        if isinstance(exponent, (int, float, np.number)):
            return _apply(ew.PowScalar(exponent), (self,))
        return _apply(ew.pow_, (self, _lift(exponent, self)))

    def __rpow__(self, base: ArrayLike) -> Tensor:
        return _apply(ew.pow_, (_lift(base, self), self))

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return _apply(_matmul, (self, _lift(other, self)))

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return _apply(_matmul, (_lift(other, self), self))

    def __neg__(self) -> Tensor:
        return _apply(ew.neg, (self,))

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _apply(ew.abs_, (self,))

    def matmul(self, other: ArrayLike) -> Tensor:
        """Matrix product with numpy's rules for 1-d and batched operands (``self @ other``)."""
        return self @ other

    # In-place arithmetic works on tensors outside the graph (optimiser updates under
    # no_grad, buffers). Inside a recorded computation it is out of place: ``y += 1``
    # rebinds y to a new node, which is what the chain rule needs.
    def __iadd__(self, other: ArrayLike) -> Tensor:
        return self._inplace(np.add, other, self.__add__)

    def __isub__(self, other: ArrayLike) -> Tensor:
        return self._inplace(np.subtract, other, self.__sub__)

    def __imul__(self, other: ArrayLike) -> Tensor:
        return self._inplace(np.multiply, other, self.__mul__)

    def __itruediv__(self, other: ArrayLike) -> Tensor:
        return self._inplace(np.divide, other, self.__truediv__)

    def _inplace(self, ufunc: np.ufunc, other: ArrayLike, out_of_place: Callable) -> Tensor:
        recording = _grad_mode.enabled and (
            self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)
        )
        if not recording:
            ufunc(self.data, _as_array(other), out=self.data, casting="same_kind")
            self._bump_version()
            return self
        if self._op is None and self._requires_grad:
            raise RuntimeError(
                "in-place operation on a leaf tensor that requires grad: it would be "
                "lost from the graph; update parameters inside `with autograd.no_grad():`"
            )
        if self._versions is not None or (type(self._data) is np.ndarray and self._data.base is not None):
            # ``y += 1`` below rebinds the name y to a new node; on a tensor that shares its
            # memory (a view such as h[0:2]) the other tensors would silently keep old values
            raise RuntimeError(
                f"in-place {ufunc.__name__} on a tensor of shape {self.shape} that shares memory "
                "with others (a view, or a tensor with views) while recording: write it out of "
                "place (h = h + x) and build the result you need from it"
            )
        return out_of_place(other)

    def add_(self, other: ArrayLike, *, alpha: float = 1) -> Tensor:
        """In place ``self += alpha * other`` (outside the graph; bumps the version counter).

        >>> w = Tensor([1.0, 2.0])
        >>> w.add_(Tensor([10.0, 10.0]), alpha=0.5)
        Tensor([6., 7.])
        """
        if alpha != 1:
            other = np.multiply(_as_array(other), alpha)
        return self._inplace_checked(np.add, other)

    def sub_(self, other: ArrayLike, *, alpha: float = 1) -> Tensor:
        """In place ``self -= alpha * other``: an optimiser's ``p.sub_(grad, alpha=lr)``."""
        if alpha != 1:
            other = np.multiply(_as_array(other), alpha)
        return self._inplace_checked(np.subtract, other)

    def mul_(self, other: ArrayLike) -> Tensor:
        return self._inplace_checked(np.multiply, other)

    def div_(self, other: ArrayLike) -> Tensor:
        return self._inplace_checked(np.divide, other)

    def copy_(self, source: ArrayLike) -> Tensor:
        return self._inplace_checked(lambda _, s, out: np.copyto(out, s), source)

    def fill_(self, value: float) -> Tensor:
        return self._inplace_checked(lambda _, v, out: out.fill(v), value)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def _inplace_checked(self, ufunc: Callable, other: ArrayLike) -> Tensor:
        if _grad_mode.enabled and self._requires_grad:
            raise RuntimeError(
                "in-place operation on a tensor that requires grad while recording; "
                "do it inside `with autograd.no_grad():` (e.g. for an optimiser update)"
            )
        if _grad_mode.enabled and isinstance(other, Tensor) and other._requires_grad:
            # the result would depend on ``other`` with no graph node to carry its gradient
            raise RuntimeError(
                f"in-place operation with an operand of shape {other.shape} that requires grad, "
                "while recording: its gradient would be lost; write it out of place "
                "(h = h + w), or detach the operand if no gradient should flow"
            )
        data = self._data
        if type(data) is not np.ndarray:
            # 0-d data is kept as an immutable numpy scalar; .data swaps in a 0-d array
            # that can be written into
            data = self.data
        ufunc(data, _as_array(other), data)  # out=data; casts same_kind
        self._bump_version()
        return self

    # ---- comparisons and logic: boolean tensors, outside the graph ----------------

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        if _TRACING[0]:
            _traced_read(self, "a comparison (==) of")
        return Tensor(self._data == _as_array(other))

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        if _TRACING[0]:
            _traced_read(self, "a comparison (!=) of")
        return Tensor(self._data != _as_array(other))

    def __lt__(self, other: ArrayLike) -> Tensor:
        if _TRACING[0]:
            _traced_read(self, "a comparison (<) of")
        return Tensor(self._data < _as_array(other))

    def __le__(self, other: ArrayLike) -> Tensor:
        if _TRACING[0]:
            _traced_read(self, "a comparison (<=) of")
        return Tensor(self._data <= _as_array(other))

    def __gt__(self, other: ArrayLike) -> Tensor:
        if _TRACING[0]:
            _traced_read(self, "a comparison (>) of")
        return Tensor(self._data > _as_array(other))

    def __ge__(self, other: ArrayLike) -> Tensor:
        if _TRACING[0]:
            _traced_read(self, "a comparison (>=) of")
        return Tensor(self._data >= _as_array(other))

    def __and__(self, other: ArrayLike) -> Tensor:
        if _TRACING[0]:
            _traced_read(self, "a logical & of")
        return Tensor(self._data & _as_array(other))

    def __or__(self, other: ArrayLike) -> Tensor:
        if _TRACING[0]:
            _traced_read(self, "a logical | of")
        return Tensor(self._data | _as_array(other))

    def __xor__(self, other: ArrayLike) -> Tensor:
        if _TRACING[0]:
            _traced_read(self, "a logical ^ of")
        return Tensor(self._data ^ _as_array(other))

    def __invert__(self) -> Tensor:
        if _TRACING[0]:
            _traced_read(self, "a logical ~ of")
        return Tensor(~self._data)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    # ---- pointwise functions ----------------------------------------------------

    def exp(self) -> Tensor:
        return _apply(ew.exp, (self,))

    def log(self) -> Tensor:
        return _apply(ew.log, (self,))

    def sqrt(self) -> Tensor:
        return _apply(ew.sqrt, (self,))

    def abs(self) -> Tensor:
        return _apply(ew.abs_, (self,))

    def sin(self) -> Tensor:
        return _apply(ew.sin, (self,))

    def cos(self) -> Tensor:
        return _apply(ew.cos, (self,))

    def tanh(self) -> Tensor:
        return _apply(ew.tanh, (self,))

    def sigmoid(self) -> Tensor:
        """σ(x) = 1 / (1 + e^-x), exact for any |x| (no overflow at x = -1000)."""
        return _apply(ew.sigmoid, (self,))

    def softplus(self) -> Tensor:
        """ln(1 + e^x), exact for any |x|; its derivative is σ(x)."""
        return _apply(ew.softplus, (self,))

    def relu(self) -> Tensor:
        """max(x, 0); its gradient at exactly 0 is 0 (PyTorch's convention)."""
        return _apply(ew.relu, (self,))

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return _apply(ew.LeakyReLU(negative_slope), (self,))

    def heaviside(self, values: float = 1.0) -> Tensor:
        """1 where x > 0, ``values`` where x == 0, 0 elsewhere; no gradient passes."""
        return _apply(ew.Heaviside(values), (self,))

    def threshold(self) -> Tensor:
        """The hard threshold of Rangan's notes: 1 if x >= 0 else 0 (zero gradient)."""
        return self.heaviside(1.0)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        """Clamp into [min, max]; the gradient passes where min <= x <= max."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        return _apply(ew.Clip(min, max), (self,))

    clamp = clip

    def maximum(self, other: ArrayLike) -> Tensor:
        return _apply(ew.maximum, (self, _lift(other, self)))

    def minimum(self, other: ArrayLike) -> Tensor:
        return _apply(ew.minimum, (self, _lift(other, self)))

    def astype(self, dtype: Any) -> Tensor:
        """Convert to ``dtype`` (differentiable between float types)."""
        if np.dtype(dtype) == self._data.dtype:
            return self
        return _apply(ew.Cast(dtype), (self,))

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def sign(self) -> Tensor:
        """The sign of each element, as a constant (its derivative is 0)."""
        if _TRACING[0]:
            _traced_read(self, ".sign() of")
        return Tensor(np.sign(self._data))

    # ---- reductions -------------------------------------------------------------

    @staticmethod
    def dropout_mask(shape: tuple[int, ...], p: float, dtype: Any = np.float64,
                     generator: np.random.Generator | None = None) -> Tensor:
        """``keep / (1 − p)`` with ``keep = generator.random(shape) >= p``: dropout's scaled mask.

        A constant (no gradient). It is drawn by an op (``autograd.ops.random.DropoutMask``),
        so a compiled function draws it again at every call, from the same generator.
        """
        rng = generator if generator is not None else np.random.default_rng()
        return _apply(rnd.DropoutMask(rng, tuple(shape), p, dtype), ())

    @staticmethod
    def update_running_stats(mean: Tensor, var: Tensor, running_mean: np.ndarray, running_var: np.ndarray,
                             count: np.ndarray, momentum: float | None, n: int) -> None:
        """BatchNorm's running-statistics update, in place (``autograd.ops.state.RunningStats``).

        An op, so a compiled function redoes it at every call. ``count`` is a 0-d integer array.
        """
        _apply(st.RunningStats(running_mean, running_var, count, momentum, n), (mean, var))

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _apply(red.Sum(axis, keepdims), (self,))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """The mean; over no elements it is nan, as in numpy and PyTorch."""
        count = _count(self.shape, axis, "mean")
        if count == 0:
            warnings.warn("mean of no elements (an axis of length 0) is nan", RuntimeWarning, stacklevel=2)
        return self.sum(axis, keepdims) * (1.0 / count if count else math.nan)

    def var(self, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
        """Variance; ``correction=1`` (the default, as in PyTorch) divides by n - 1."""
        count = _count(self.shape, axis, "var")
        centred = self - self.mean(axis, keepdims=True)
        dof = max(count - correction, 0)  # no degrees of freedom: inf or nan, as in PyTorch
        with np.errstate(divide="ignore", invalid="ignore"):
            return (centred * centred).sum(axis, keepdims) / float(dof)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _apply(red.Max(axis, keepdims), (self,))

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _apply(red.Min(axis, keepdims), (self,))

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """log Σ exp(x), stable for large |x|."""
        return _apply(red.LogSumExp(axis, keepdims), (self,))

    def softmax(self, axis: int = -1) -> Tensor:
        return _apply(red.Softmax(axis), (self,))

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _apply(red.LogSoftmax(axis), (self,))

    def argmax(self, axis: int | None = None) -> Tensor:
        """Index of the maximum (ties: the first), as an integer tensor outside the graph."""
        if _TRACING[0]:
            _traced_read(self, ".argmax() of")
        return Tensor(np.argmax(self._data, axis=axis))

    def argmin(self, axis: int | None = None) -> Tensor:
        if _TRACING[0]:
            _traced_read(self, ".argmin() of")
        return Tensor(np.argmin(self._data, axis=axis))

    # ---- shapes -----------------------------------------------------------------

    def reshape(self, *shape: Any) -> Tensor:
        """Same values in a new shape; one dimension may be -1."""
        shape = _shape_arg(shape)
        if shape == self.shape:
            return self
        return _apply(sh.Reshape(shape), (self,))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions ``start_dim..end_dim`` into one (all of them by default)."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = _axis(start_dim, self.ndim, "flatten"), _axis(end_dim, self.ndim, "flatten")
        merged = int(np.prod(self.shape[start : end + 1]))
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1 :])

    def squeeze(self, axis: Any = None) -> Tensor:
        """Drop axes of length 1 (those in ``axis``; others are kept as they are, as PyTorch)."""
        axes = range(self.ndim) if axis is None else _axes(axis, self.ndim, "squeeze")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if n != 1 or i not in axes))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert an axis of length 1 at ``dim`` (from -ndim-1 to ndim)."""
        dim = _axis(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def permute(self, *dims: Any) -> Tensor:
        """Reorder the axes: output axis i is input axis ``dims[i]``."""
        dims = tuple(_axis(d, self.ndim, "permute") for d in _shape_arg(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ShapeError(f"permute: {dims} is not a permutation of the axes of {self.shape}")
        return _apply(sh.Transpose(dims), (self,))

    def transpose(self, *dims: Any) -> Tensor:
        """``transpose(d0, d1)`` swaps two axes (PyTorch); no arguments reverses them all."""
        if not dims:
            return self.permute(tuple(reversed(range(self.ndim))))
        if len(dims) == 1:  # numpy style: one permutation
            return self.permute(*dims)
        d0, d1 = (_axis(d, self.ndim, "transpose") for d in dims)
        if d0 == d1 or self.ndim < 2:  # nothing to swap (a 0-d tensor takes axis 0 and -1)
            return self
        order = list(range(self.ndim))
        order[d0], order[d1] = order[d1], order[d0]
        return self.permute(order)

    swapaxes = transpose

    @property
    def T(self) -> Tensor:
        """All axes reversed (the matrix transpose for 2-d)."""
        return self.transpose() if self.ndim > 1 else self

    def broadcast_to(self, *shape: Any) -> Tensor:
        shape = _shape_arg(shape)
        if shape == self.shape:
            return self
        return _apply(sh.BroadcastTo(shape), (self,))

    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to ``shape``; -1 keeps a dimension's size (as in PyTorch)."""
        shape = _shape_arg(shape)
        offset = len(shape) - self.ndim
        shape = tuple(
            self.shape[i - offset] if n == -1 and i >= offset else n for i, n in enumerate(shape)
        )
        return self.broadcast_to(shape)

    def __getitem__(self, index: Any) -> Tensor:
        return _apply(sh.GetItem(_index_arg(index)), (self,))

    def split(self, split_size_or_sections: int | Sequence[int], axis: int = 0) -> tuple[Tensor, ...]:
        """Cut along ``axis`` into pieces of ``split_size`` (or of the listed sizes), as PyTorch."""
        axis = _axis(axis, self.ndim, "split")
        length = self.shape[axis]
        if isinstance(split_size_or_sections, (int, np.integer)):
            if split_size_or_sections <= 0:
                raise ValueError("split: the piece size must be positive")
            sizes = [split_size_or_sections] * (length // split_size_or_sections)
            if length % split_size_or_sections:
                sizes.append(length % split_size_or_sections)
        else:
            sizes = list(split_size_or_sections)
            if any(size < 0 for size in sizes):
                raise ValueError(f"split: sizes {sizes} must not be negative")
            if sum(sizes) != length:
                raise ShapeError(f"split: sizes {sizes} do not add up to {length} (axis {axis})")
        axis = axis % self.ndim
        pieces, start = [], 0
        for size in sizes:
            pieces.append(self[(slice(None),) * axis + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    def pad(self, pad_width: Any, value: float = 0.0) -> Tensor:
        """Constant padding, ``pad_width`` as for ``np.pad``."""
        return _apply(sh.Pad(pad_width, value), (self,))

    # ---- graph control ----------------------------------------------------------

    def backward(
        self,
        gradient: ArrayLike | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Compute the gradient of this tensor with respect to every leaf it depends on.

        Gradients are *added* to each leaf's ``.grad`` (set it to None, or call an
        optimiser's ``zero_grad()``, between steps).

        Args:
            gradient: d(something)/d(self), needed unless self has one element.
            retain_graph: keep the graph for another backward pass (default: as
                ``create_graph``).
            create_graph: record the backward pass too, so the gradients can be
                differentiated again.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no tensor it was "
                "computed from has requires_grad=True (or it was computed under no_grad)"
            )
        seed = _seed_gradient(self, gradient, create_graph)
        if retain_graph is None:
            retain_graph = create_graph
        # Record the pass only for create_graph (in this thread: others keep recording).
        with grad_mode.set_grad_enabled(create_graph):
            engine.run_backward([self], [seed], retain_graph=retain_graph, create_graph=create_graph)

    def __reduce_ex__(self, protocol: Any) -> Any:
        # copy.copy, copy.deepcopy and pickle all come through here. A copy of a computed
        # tensor would be a second handle on its graph (a second backward through it
        # would count gradients twice), so, as PyTorch does, only leaves are copied.
        if self._op is not None:
            raise RuntimeError(
                f"only leaf tensors can be copied or pickled, and this one was computed by "
                f"{self._op.name} in a graph; copy its .detach() instead"
            )
        return super().__reduce_ex__(protocol)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data (and version counter), outside the graph."""
        detached = Tensor._leaf(self.data)
        detached._versions = self._shared_versions()
        return detached

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph (gradient passes through)."""
        return self * 1

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True
        return self

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Call ``hook(grad)`` when this tensor's gradient is computed.

        If the hook returns a Tensor, it replaces the gradient from then on.
        Returns a function that removes the hook.

        >>> x = Tensor(3.0, requires_grad=True)
        >>> remove = x.register_hook(lambda g: g * 2)
        >>> (x * x).backward()
        >>> x.grad
        Tensor(12.)
        """
        if not self._requires_grad:
            raise RuntimeError("register_hook() on a tensor that does not require grad")
        if not isinstance(self._hooks, list):
            self._hooks = []
        self._hooks.append(hook)
        hooks = self._hooks
        return lambda: hooks.remove(hook) if hook in hooks else None

    def _run_hooks(self, grad: Any, create_graph: bool) -> Any:
        """Pass ``grad`` through this tensor's hooks, in the order they were registered.

        Each hook sees the gradient in its tensor's dtype. A plain pass hands the hooks a
        copy: a hook may keep it or change it, and no other gradient shares its memory.
        """
        if grad.dtype != self._data.dtype:
            grad = grad.astype(self._data.dtype)
        wrapped = grad if create_graph else Tensor._leaf(_stored(np.array(grad)))
        for hook in list(self._hooks):
            replaced = hook(wrapped)
            if replaced is not None:
                replaced = replaced if isinstance(replaced, Tensor) else Tensor(replaced)
                _check_hook_result(hook, wrapped, replaced)
                wrapped = replaced
        return wrapped if create_graph else wrapped._data

    def _accumulate_grad(self, grad: Any) -> None:
        """Add ``grad`` into ``.grad`` (``run_backward`` does this for every leaf).

        The first deposit is a copy in the data's dtype, so no two ``.grad`` share memory,
        nor does a ``.grad`` share it with the seed or with what a hook kept. A Tensor
        (a ``create_graph`` pass) stays in the graph: the copy is a ``clone()``.
        """
        dtype = self._data.dtype
        if isinstance(grad, Tensor):
            grad = grad.astype(dtype)
            self.grad = grad.clone() if self.grad is None else self.grad + grad
        elif self.grad is None:
            self.grad = Tensor._leaf(_stored(np.array(grad, dtype=dtype)))
        else:
            self.grad._data = _stored(np.asarray(self.grad._data + grad, dtype=dtype))
            self.grad._bump_version()  # an in-place change of .grad: graphs that read it must see it

    @staticmethod
    def _leaf(array: Any) -> Tensor:
        """Wrap an array or numpy scalar without copying or converting (internal fast path)."""
        t = _new_object(Tensor)
        if type(array) not in _STORABLE and not isinstance(array, np.generic):
            array = _stored(np.asarray(array))
        t._data = array
        t.grad = t._op = t.name = t._versions = None
        t._requires_grad = t._retains_grad = False
        t._hooks = ()
        return t

    # numpy's protocols (``__array_ufunc__``, ``__array_function__``: ``np.sin(t)``,
    # ``ndarray * t`` and ``np.sum(t)`` record graph nodes) are installed on this class by
    # ``autograd/numpy_protocol.py``, which maps numpy's functions onto the methods above.


# ---- the one place where operations run and are recorded -------------------------


_new_object = object.__new__
_COUNTER_LOCK = threading.Lock()
_grad_mode = grad_mode.state  # this thread's grad mode (``_grad_mode.enabled``)


class _TraceState(threading.local):
    """Per thread: the compiler's check while it traces a function (``autograd.compiler``).

    ``reader(tensor, what)`` is called where Python asks for a tensor's value (``bool``,
    ``.item()``, ``.data``, comparisons, ...); it raises ``CompileError`` for a traced tensor,
    whose value a compiled function could not replay. ``recording``: ops on tensors that do
    not require grad are recorded too (their results keep ``requires_grad`` False), so a
    trace sees ``x / 255`` on data alone.
    """

    reader: Callable[[Tensor, str], None] | None = None
    recording = False
    effects: list[Tensor] | None = None  # results of ops that update state (``op.effect``)


_tracing = _TraceState()
_TRACING = [0]  # how many threads are tracing: one list read where nothing is traced


def begin_tracing(reader: Callable[[Tensor, str], None] | None, record: bool = True) -> tuple[Any, ...]:
    """Start tracing in this thread (for ``autograd.compiler``); returns what ``end_tracing`` restores."""
    previous = (_tracing.reader, _tracing.recording, _tracing.effects)
    _tracing.reader, _tracing.recording, _tracing.effects = reader, record, []
    _TRACING[0] += 1
    return previous


def traced_effects() -> list[Tensor]:
    """The results of state-updating ops (``op.effect``) recorded since ``begin_tracing``."""
    return list(_tracing.effects or ())


def end_tracing(previous: tuple[Any, ...]) -> None:
    _TRACING[0] -= 1
    _tracing.reader, _tracing.recording, _tracing.effects = previous


def _traced_read(tensor: Tensor, what: str) -> None:
    """While this thread traces: let the compiler refuse Python reading a traced value."""
    reader = _tracing.reader
    if reader is not None:
        reader(tensor, what)
_recording_scope = graph.recording_scope  # this thread's scope labels
# exactly ndarray, or a numpy scalar: a set lookup is the fast way to say "nothing to convert"
_STORABLE = engine.NUMPY_SCALAR_TYPES | {np.ndarray}


def _stored(array: np.ndarray) -> Any:
    """How data is kept: 0-d arrays as numpy scalars (same dtype and value)."""
    return array if array.ndim else array[()]


def _apply(op: Op, inputs: tuple[Tensor, ...]) -> Tensor:
    """Run ``op`` on the inputs' data; if any input requires grad, record it on the result."""
    # Each arity is spelled out: a Python loop over a tuple of two costs more here than
    # everything else this function does besides the op itself.
    try:
        if len(inputs) == 2:  # most ops
            first, second = inputs
            data = op.forward(first._data, second._data)
            needs_grad = first._requires_grad or second._requires_grad
        elif len(inputs) == 1:
            data = op.forward(inputs[0]._data)
            needs_grad = inputs[0]._requires_grad
        elif len(inputs) == 3:  # linear with a bias, where
            first, second, third = inputs
            data = op.forward(first._data, second._data, third._data)
            needs_grad = first._requires_grad or second._requires_grad or third._requires_grad
        else:
            data = op.forward(*[t._data for t in inputs])
            needs_grad = any(t._requires_grad for t in inputs)
    except (ValueError, IndexError) as error:
        shapes = " and ".join(str(t.shape) for t in inputs)
        detail = f"shapes {shapes} {op.mismatch}" if len(inputs) > 1 else f"shape {shapes}: {error}"
        raise _shape_error(f"{op.name}: {detail}", error) from error
    out = _new_object(Tensor)  # no __init__: the slots are set below
    if type(data) not in _STORABLE and not isinstance(data, np.generic):
        data = _stored(np.asarray(data))  # a Python number, a list or an ndarray subclass
    out._data = data
    out.grad = out.name = out._versions = None
    if type(data) is np.ndarray and (data.base is not None or any(data is t._data for t in inputs)):
        # a view of an input's memory, or an input's array itself
        _share_versions_with_viewed_input(out, inputs)
    out._retains_grad = False
    out._hooks = ()
    if needs_grad and _grad_mode.enabled:
        out._op = op  # the record of this use of op (see autograd.graph)
        out._inputs = inputs
        out._clock = next(ticks)
        out._scope = _recording_scope.labels
        out._spent = False
        out._requires_grad = True
        if _TRACING[0] and _tracing.effects is not None and getattr(op, "effect", False):
            _tracing.effects.append(out)
        return out
    out._op = None
    out._requires_grad = False
    if _TRACING[0] and _tracing.recording and _grad_mode.enabled:
        # tracing: an op on data alone is recorded too (the compiled code must redo it at
        # every call), its result still not requiring grad
        out._op, out._inputs, out._clock = op, inputs, next(ticks)
        out._scope, out._spent = _recording_scope.labels, False
        if _tracing.effects is not None and getattr(op, "effect", False):
            _tracing.effects.append(out)
    return out


def _check_hook_result(hook: Callable, given: Tensor, returned: Tensor) -> None:
    """A hook may change a gradient's values, never its shape or dtype (as in PyTorch)."""
    if returned.shape != given.shape or returned.dtype != given.dtype:
        name = getattr(hook, "__qualname__", repr(hook))
        what = "size" if returned.shape != given.shape else "type"
        raise RuntimeError(
            f"hook {name!r} has changed the {what} of the gradient: it was given shape "
            f"{given.shape} {given.dtype} and returned shape {returned.shape} {returned.dtype}; "
            "a hook must return a gradient of the same shape and dtype (or None)"
        )


def _share_versions_with_viewed_input(out: Tensor, inputs: tuple[Tensor, ...]) -> None:
    """A result that is a view of an input's memory (``x[0:2]``, ``x.T``) shares its counter."""
    for tensor in inputs:
        if type(tensor._data) is np.ndarray and np.may_share_memory(out._data, tensor._data):
            out._versions = tensor._shared_versions()
            return


def _lift(value: ArrayLike, like: Tensor) -> Tensor:
    """A constant operand as a Tensor.

    A Python number or a 0-d constant takes a float tensor's dtype, as in PyTorch:
    ``x32 * 2.0`` and ``x32 * np.array(2.0)`` stay float32.
    """
    if isinstance(value, Tensor):
        return value
    dtype = like._data.dtype
    if isinstance(value, (float, int)) and dtype.kind == "f":
        return Tensor._leaf(dtype.type(value))
    array = np.asarray(value)
    if array.ndim == 0 and dtype.kind == "f" and array.dtype.kind in "biuf":
        return Tensor._leaf(dtype.type(array))
    return Tensor._leaf(array)


def _as_array(value: Any) -> Any:
    return value._data if isinstance(value, Tensor) else value


def _axes(axis: Any, ndim: int, op_name: str) -> tuple[int, ...]:
    """``axis`` (an int or a tuple, negatives counting from the end) as axis numbers."""
    try:
        return red.normalize_axes(axis, ndim)
    except AxisError as error:
        raise ShapeAxisError(f"{op_name}: {error}") from None


def _axis(axis: int, ndim: int, op_name: str) -> int:
    """One axis number in ``range(ndim)`` (a 0-d tensor takes 0 and -1, as numpy and PyTorch)."""
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ShapeAxisError(f"{op_name}: axis {axis} is out of bounds for a {ndim}-d tensor")
    return int(axis) % max(ndim, 1)


def _count(shape: tuple[int, ...], axis: Any, op_name: str) -> int:
    return math.prod(shape[a] for a in _axes(axis, len(shape), op_name))


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def _index_arg(index: Any) -> Any:
    """Tensors and lists inside an index become arrays (numpy's indexing rules apply)."""
    if isinstance(index, tuple):
        return tuple(_index_arg(i) for i in index)
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _seed_gradient(output: Tensor, gradient: ArrayLike | None, as_tensor: bool) -> Any:
    """The gradient that starts a backward pass from ``output``."""
    if gradient is None:
        if output.size != 1:
            raise RuntimeError(
                f"backward() needs a gradient argument for a non-scalar output of shape "
                f"{output.shape}: call .sum() first, or pass gradient= of that shape"
            )
        if not as_tensor and output._data.ndim == 0:
            return output._data.dtype.type(1)  # d(output)/d(output), as a numpy scalar
        seed = np.ones_like(output._data)
    else:
        seed = gradient if isinstance(gradient, Tensor) and as_tensor else _as_array(gradient)
        if np.shape(seed) != output.shape:
            raise ShapeError(
                f"backward: gradient of shape {np.shape(seed)} does not match output "
                f"of shape {output.shape}"
            )
    if as_tensor:
        return seed if isinstance(seed, Tensor) else Tensor._leaf(np.asarray(seed, dtype=output.dtype))
    return np.asarray(seed, dtype=output.dtype)


def _where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` holds, else ``b``; a constant takes the other side's float dtype."""
    mask = Tensor._leaf(np.asarray(_as_array(condition), dtype=bool))
    if isinstance(a, Tensor):
        b = _lift(b, a)
    elif isinstance(b, Tensor):
        a = _lift(a, b)
    return _apply(ew.where, (mask, _tensor(a), _tensor(b)))


def _tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._leaf(np.asarray(value))
