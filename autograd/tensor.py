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

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from autograd import engine, function, grad_mode
from autograd.function import Node, Op, tick_change, ticks
from autograd.ops import elementwise as ew
from autograd.ops import reduce as red
from autograd.ops import shape as sh
from autograd.ops.matmul import matmul as _matmul


class ShapeError(ValueError):
    """An operation received operands whose shapes do not fit together."""


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
        # How a computed tensor was made (see autograd.function). A leaf has _op None and
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
        "_version",
        "_modified_at",
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
        if isinstance(data, Tensor):
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
        self._version = 0
        self._modified_at = 0
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
        data = self._data
        if type(data) is not np.ndarray:
            data = self._data = np.asarray(data)
        return data

    @data.setter
    def data(self, value: ArrayLike) -> None:
        self._data = value._data if isinstance(value, Tensor) else _stored(np.asarray(value))
        self._bump_version()

    def _bump_version(self) -> None:
        """Record an in-place change: graphs that used the old value can no longer backprop."""
        self._version += 1
        self._modified_at = tick_change()

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
        if flag and self._data.dtype.kind not in "fc":
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
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, not shape {self.shape}")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def tolist(self) -> Any:
        return self._data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and dtype != self._data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, not {self.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
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
        recording = grad_mode._enabled and (
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
        if grad_mode._enabled and self._requires_grad:
            raise RuntimeError(
                "in-place operation on a tensor that requires grad while recording; "
                "do it inside `with autograd.no_grad():` (e.g. for an optimiser update)"
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
        return Tensor(self._data == _as_array(other))

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return Tensor(self._data != _as_array(other))

    def __lt__(self, other: ArrayLike) -> Tensor:
        return Tensor(self._data < _as_array(other))

    def __le__(self, other: ArrayLike) -> Tensor:
        return Tensor(self._data <= _as_array(other))

    def __gt__(self, other: ArrayLike) -> Tensor:
        return Tensor(self._data > _as_array(other))

    def __ge__(self, other: ArrayLike) -> Tensor:
        return Tensor(self._data >= _as_array(other))

    def __and__(self, other: ArrayLike) -> Tensor:
        return Tensor(self._data & _as_array(other))

    def __or__(self, other: ArrayLike) -> Tensor:
        return Tensor(self._data | _as_array(other))

    def __xor__(self, other: ArrayLike) -> Tensor:
        return Tensor(self._data ^ _as_array(other))

    def __invert__(self) -> Tensor:
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
        return Tensor(np.sign(self._data))

    # ---- reductions -------------------------------------------------------------

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _apply(red.Sum(axis, keepdims), (self,))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        count = _count(self.shape, axis)
        return self.sum(axis, keepdims) * (1.0 / count)

    def var(self, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
        """Variance; ``correction=1`` (the default, as in PyTorch) divides by n - 1."""
        centred = self - self.mean(axis, keepdims=True)
        dof = max(_count(self.shape, axis) - correction, 0)  # 0 gives inf/nan, as in PyTorch
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
        return Tensor(np.argmax(self._data, axis=axis))

    def argmin(self, axis: int | None = None) -> Tensor:
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
        start, end = start_dim % self.ndim, end_dim % self.ndim
        merged = int(np.prod(self.shape[start : end + 1]))
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1 :])

    def squeeze(self, axis: Any = None) -> Tensor:
        return self.reshape(np.squeeze(self._data, axis=axis).shape)

    def unsqueeze(self, dim: int) -> Tensor:
        return self.reshape(np.expand_dims(self._data, dim).shape)

    def permute(self, *dims: Any) -> Tensor:
        """Reorder the axes: output axis i is input axis ``dims[i]``."""
        dims = tuple(d % max(self.ndim, 1) for d in _shape_arg(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ShapeError(f"permute: {dims} is not a permutation of the axes of {self.shape}")
        return _apply(sh.Transpose(dims), (self,))

    def transpose(self, *dims: Any) -> Tensor:
        """``transpose(d0, d1)`` swaps two axes (PyTorch); no arguments reverses them all."""
        if not dims:
            return self.permute(tuple(reversed(range(self.ndim))))
        if len(dims) == 1:  # numpy style: one permutation
            return self.permute(*dims)
        d0, d1 = dims
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
        length = self.shape[axis]
        if isinstance(split_size_or_sections, (int, np.integer)):
            if split_size_or_sections <= 0:
                raise ValueError("split: the piece size must be positive")
            sizes = [split_size_or_sections] * (length // split_size_or_sections)
            if length % split_size_or_sections:
                sizes.append(length % split_size_or_sections)
        else:
            sizes = list(split_size_or_sections)
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
        # Record the pass only for create_graph. Grad mode is set directly rather than
        # through set_grad_enabled, whose context object is a noticeable cost in a call
        # made every training step; the finally restores it as the with-block would.
        previous, grad_mode._enabled = grad_mode._enabled, bool(create_graph)
        try:
            engine.run_backward([self], [seed], retain_graph=retain_graph, create_graph=create_graph)
        finally:
            grad_mode._enabled = previous

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
        """A new leaf sharing this tensor's data, outside the graph."""
        return Tensor._leaf(self.data)

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

    def _run_hooks(self, grad: Any, create_graph: bool, handed_out: set[int]) -> Any:
        """Pass ``grad`` through this tensor's hooks, in the order they were registered.

        A hook may keep the gradient it is given, or return an array it keeps, so both
        count as handed out (``handed_out``: see ``_accumulate_grad``), and no ``.grad``
        will share their memory. A hook never receives an array stored elsewhere (the
        caller's seed, another tensor's ``.grad``): it gets a copy.
        """
        if type(grad) is np.ndarray and id(grad) in handed_out:
            grad = grad.copy()
        handed_out.add(id(grad))
        wrapped = grad if create_graph else Tensor._leaf(grad)
        for hook in list(self._hooks):
            replaced = hook(wrapped)
            if replaced is not None:
                wrapped = replaced if isinstance(replaced, Tensor) else Tensor(replaced)
        result = wrapped if create_graph else wrapped._data
        handed_out.add(id(result))
        return result

    def _accumulate_grad(self, grad: Any, create_graph: bool, handed_out: set[int]) -> None:
        """Add ``grad`` into ``.grad`` (the backward pass's last step for each leaf).

        A fresh array becomes ``.grad`` uncopied when it owns its memory, has the data's
        dtype and its id is not in ``handed_out``, the set of arrays already stored
        elsewhere (the caller's seed, earlier deposits, anything a hook saw or returned).
        A kept array joins ``handed_out``, so a second input handed the same array (as
        ``a + b`` does) gets a copy. Copying every weight's gradient on every step would
        cost as much as computing it. Adding into an existing ``.grad`` keeps the data's
        dtype; with ``create_graph`` a Tensor already stored elsewhere is cloned.
        """
        data = self._data
        if create_graph:
            grad = grad.astype(data.dtype)
            if id(grad) in handed_out:  # the caller's seed, or already another tensor's .grad
                grad = grad.clone()
            handed_out.add(id(grad))
            self.grad = grad if self.grad is None else self.grad + grad
            return
        if self.grad is not None:
            total = self.grad._data + grad
            if total.dtype != data.dtype:  # e.g. a float64 gradient into a float32 leaf
                total = _stored(np.asarray(total, dtype=data.dtype))
            self.grad._data = total
            return
        if (type(grad) is np.ndarray and grad.base is None and id(grad) not in handed_out
                and grad.dtype == data.dtype):
            handed_out.add(id(grad))
        elif not (type(grad) is type(data) in engine.NUMPY_SCALAR_TYPES):
            # (a numpy scalar of the data's own type is immutable, so it is kept as is;
            # anything else, a shared array, a Python number or another dtype, is copied)
            grad = _stored(np.array(grad, dtype=data.dtype))
        self.grad = Tensor._leaf(grad)

    @staticmethod
    def _leaf(array: Any) -> Tensor:
        """Wrap an array or numpy scalar without copying or converting (internal fast path)."""
        t = _new_object(Tensor)
        if type(array) not in _STORABLE and not isinstance(array, np.generic):
            array = _stored(np.asarray(array))
        t._data = array
        t.grad = t._op = t.name = None
        t._requires_grad = t._retains_grad = False
        t._version = t._modified_at = 0
        t._hooks = ()
        return t

    # ---- numpy protocols: np.sin(t), ndarray * t, np.sum(t) build graph nodes -------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        handler = _UFUNCS.get(ufunc)
        if method != "__call__" or kwargs or handler is None:
            raise TypeError(
                f"numpy.{ufunc.__name__}{'' if method == '__call__' else '.' + method} is not "
                "supported on Tensors (it would bypass the graph); use the Tensor method, "
                "or apply it to t.data outside the graph"
            )
        return handler(*inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        handler = _FUNCTIONS.get(func)
        if handler is None:
            raise TypeError(
                f"numpy.{func.__name__} is not supported on Tensors (it would bypass the "
                "graph); use the Tensor method, or apply it to t.data outside the graph"
            )
        return handler(*args, **kwargs)


# ---- the one place where operations run and are recorded -------------------------


_new_object = object.__new__
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
        detail = f"shapes {shapes} {op.mismatch}" if len(inputs) > 1 else f"shape {shapes}"
        raise ShapeError(f"{op.name}: {detail}") from error
    out = _new_object(Tensor)  # no __init__: the slots are set below
    if type(data) not in _STORABLE and not isinstance(data, np.generic):
        data = _stored(np.asarray(data))  # a Python number, a list or an ndarray subclass
    out._data = data
    out.grad = out.name = None
    out._version = out._modified_at = 0
    out._retains_grad = False
    out._hooks = ()
    if needs_grad and grad_mode._enabled:
        out._op = op  # the record of this use of op (see autograd.function)
        out._inputs = inputs
        out._clock = next(ticks)
        out._scope = function._scope  # (read through the module: ``scope`` rebinds it)
        out._spent = False
        out._requires_grad = True
        return out
    out._op = None
    out._requires_grad = False
    return out


def _lift(value: ArrayLike, like: Tensor) -> Tensor:
    """A constant operand as a Tensor; Python numbers take a float tensor's dtype."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (float, int)) and like._data.dtype.kind == "f":
        return Tensor._leaf(like._data.dtype.type(value))
    return Tensor._leaf(np.asarray(value))


def _as_array(value: Any) -> Any:
    return value._data if isinstance(value, Tensor) else value


def _count(shape: tuple[int, ...], axis: Any) -> int:
    return int(np.prod([shape[a] for a in red.normalize_axes(axis, len(shape))]))


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


# ---- numpy dispatch tables: how np.<function>(tensor) maps onto Tensor operations ----


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


_UFUNCS: dict[Any, Callable] = {
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
    np.maximum: lambda a, b: Tensor.maximum(a if isinstance(a, Tensor) else Tensor(a), b),
    np.minimum: lambda a, b: Tensor.minimum(a if isinstance(a, Tensor) else Tensor(a), b),
    np.greater: _comparison("__gt__"),
    np.greater_equal: _comparison("__ge__"),
    np.less: _comparison("__lt__"),
    np.less_equal: _comparison("__le__"),
    np.equal: _comparison("__eq__"),
    np.not_equal: _comparison("__ne__"),
    np.logical_and: _comparison("__and__"),
    np.logical_or: _comparison("__or__"),
    np.isfinite: lambda a: Tensor(np.isfinite(_as_array(a))),
}


def _where(condition: Any, a: Any, b: Any) -> Tensor:
    mask = Tensor._leaf(np.asarray(_as_array(condition), dtype=bool))
    return _apply(ew.where, (mask, _tensor(a), _tensor(b)))


def _tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._leaf(np.asarray(value))


_FUNCTIONS: dict[Any, Callable] = {
    np.sum: lambda a, axis=None, keepdims=False, **_: _tensor(a).sum(axis, keepdims),
    np.mean: lambda a, axis=None, keepdims=False, **_: _tensor(a).mean(axis, keepdims),
    np.max: lambda a, axis=None, keepdims=False, **_: _tensor(a).max(axis, keepdims),
    np.min: lambda a, axis=None, keepdims=False, **_: _tensor(a).min(axis, keepdims),
    np.reshape: lambda a, shape=None, **kw: _tensor(a).reshape(kw.get("newshape", shape)),
    np.transpose: lambda a, axes=None: _tensor(a).permute(
        tuple(reversed(range(np.ndim(a)))) if axes is None else axes
    ),
    np.swapaxes: lambda a, axis1, axis2: _tensor(a).transpose(axis1, axis2),
    np.broadcast_to: lambda a, shape, **_: _tensor(a).broadcast_to(shape),
    np.expand_dims: lambda a, axis: _tensor(a).unsqueeze(axis),
    np.squeeze: lambda a, axis=None: _tensor(a).squeeze(axis),
    np.where: _where,
    np.concatenate: lambda arrays, axis=0, **_: _apply(sh.Concat(axis), tuple(map(_tensor, arrays))),
    np.stack: lambda arrays, axis=0, **_: _apply(sh.Stack(axis), tuple(map(_tensor, arrays))),
    np.clip: lambda a, a_min=None, a_max=None, **_: _tensor(a).clip(a_min, a_max),
    np.zeros_like: lambda a, dtype=None, **_: Tensor(np.zeros_like(_as_array(a), dtype=dtype)),
    np.ones_like: lambda a, dtype=None, **_: Tensor(np.ones_like(_as_array(a), dtype=dtype)),
    np.shape: lambda a: _as_array(a).shape,
    np.ndim: lambda a: _as_array(a).ndim,
    np.size: lambda a, axis=None: np.size(_as_array(a), axis),
}
