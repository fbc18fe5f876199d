"""The Tensor's method catalogue: comparisons, pointwise functions, reductions, shapes.

``Tensor`` (``autograd/tensors.py``) inherits these. Each differentiable method calls an
op on the tensor: calling an ``Op`` on tensors runs it and records it (``Op.__call__``
hands the call to ``autograd.tensors.apply``), so ``x.exp()`` is ``ew.exp(x)``.
Comparisons and ``argmax`` give constants outside the graph.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd import arguments
from autograd.arguments import ShapeError
from autograd.ops import elementwise as ew
from autograd.ops import reduce as red
from autograd.ops import shape as sh
from autograd.ops import softmax as sm
from autograd.tracing import TRACING, traced_read

if TYPE_CHECKING:
    from autograd.tensors import Tensor


class TensorMethods:
    """What a Tensor can do besides arithmetic; see ``autograd.tensors.Tensor``."""

    __slots__ = ()
    _data: Any  # (set by Tensor)

    # ---- comparisons and logic: boolean tensors, outside the graph ----------------

    def _constant(self, value: Any) -> Tensor:
        return type(self)(value)  # type: ignore[call-arg,return-value]

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        if TRACING[0]:
            traced_read(self, "a comparison (==) of")
        return self._constant(self._data == as_array(other))

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        if TRACING[0]:
            traced_read(self, "a comparison (!=) of")
        return self._constant(self._data != as_array(other))

    def __lt__(self, other: Any) -> Tensor:
        if TRACING[0]:
            traced_read(self, "a comparison (<) of")
        return self._constant(self._data < as_array(other))

    def __le__(self, other: Any) -> Tensor:
        if TRACING[0]:
            traced_read(self, "a comparison (<=) of")
        return self._constant(self._data <= as_array(other))

    def __gt__(self, other: Any) -> Tensor:
        if TRACING[0]:
            traced_read(self, "a comparison (>) of")
        return self._constant(self._data > as_array(other))

    def __ge__(self, other: Any) -> Tensor:
        if TRACING[0]:
            traced_read(self, "a comparison (>=) of")
        return self._constant(self._data >= as_array(other))

    def __and__(self, other: Any) -> Tensor:
        if TRACING[0]:
            traced_read(self, "a logical & of")
        return self._constant(self._data & as_array(other))

    def __or__(self, other: Any) -> Tensor:
        if TRACING[0]:
            traced_read(self, "a logical | of")
        return self._constant(self._data | as_array(other))

    def __xor__(self, other: Any) -> Tensor:
        if TRACING[0]:
            traced_read(self, "a logical ^ of")
        return self._constant(self._data ^ as_array(other))

    def __invert__(self) -> Tensor:
        if TRACING[0]:
            traced_read(self, "a logical ~ of")
        return self._constant(~self._data)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    __hash__ = object.__hash__  # == builds a comparison tensor; identity is the hash

    # ---- pointwise functions ----------------------------------------------------

    def exp(self) -> Tensor:
        return ew.exp(self)

    def log(self) -> Tensor:
        return ew.log(self)

    def sqrt(self) -> Tensor:
        return ew.sqrt(self)

    def abs(self) -> Tensor:
        return ew.abs_(self)

    def sin(self) -> Tensor:
        return ew.sin(self)

    def cos(self) -> Tensor:
        return ew.cos(self)

    def tanh(self) -> Tensor:
        return ew.tanh(self)

    def sigmoid(self) -> Tensor:
        """σ(x) = 1 / (1 + e^-x), exact for any |x| (no overflow at x = -1000)."""
        return ew.sigmoid(self)

    def softplus(self) -> Tensor:
        """ln(1 + e^x), exact for any |x|; its derivative is σ(x)."""
        return ew.softplus(self)

    def relu(self) -> Tensor:
        """max(x, 0); its gradient at exactly 0 is 0 (PyTorch's convention)."""
        return ew.relu(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return ew.LeakyReLU(negative_slope)(self)

    def heaviside(self, values: float = 1.0) -> Tensor:
        """1 where x > 0, ``values`` where x == 0, 0 elsewhere; no gradient passes."""
        return ew.Heaviside(values)(self)

    def threshold(self) -> Tensor:
        """The hard threshold of Rangan's notes: 1 if x >= 0 else 0 (zero gradient)."""
        return self.heaviside(1.0)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        """Clamp into [min, max]; the gradient passes where min <= x <= max."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        return ew.Clip(min, max)(self)

    clamp = clip

    def maximum(self, other: Any) -> Tensor:
        return ew.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return ew.minimum(self, other)

    def astype(self, dtype: Any) -> Tensor:
        """Convert to ``dtype`` (differentiable between float types)."""
        if np.dtype(dtype) == self._data.dtype:
            return self  # type: ignore[return-value]
        return ew.Cast(dtype)(self)

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def sign(self) -> Tensor:
        """The sign of each element, as a constant (its derivative is 0)."""
        if TRACING[0]:
            traced_read(self, ".sign() of")
        return self._constant(np.sign(self._data))

    # ---- reductions -------------------------------------------------------------

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return red.Sum(axis, keepdims)(self)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """The mean; over no elements it is nan, as in numpy and PyTorch."""
        count = arguments.count(self._data.shape, axis, "mean")
        if count == 0:
            warnings.warn("mean of no elements (an axis of length 0) is nan", RuntimeWarning, stacklevel=2)
        return self.sum(axis, keepdims) * (1.0 / count if count else math.nan)

    def var(self, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
        """Variance; ``correction=1`` (the default, as in PyTorch) divides by n - 1."""
        count = arguments.count(self._data.shape, axis, "var")
        centred = self - self.mean(axis, keepdims=True)
        dof = max(count - correction, 0)  # no degrees of freedom: inf or nan, as in PyTorch
        with np.errstate(divide="ignore", invalid="ignore"):
            return (centred * centred).sum(axis, keepdims) / float(dof)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return red.Max(axis, keepdims)(self)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return red.Min(axis, keepdims)(self)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """log Σ exp(x), stable for large |x|."""
        return red.LogSumExp(axis, keepdims)(self)

    def softmax(self, axis: int = -1) -> Tensor:
        return sm.Softmax(axis)(self)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return sm.LogSoftmax(axis)(self)

    def argmax(self, axis: int | None = None) -> Tensor:
        """Index of the maximum (ties: the first), as an integer tensor outside the graph."""
        if TRACING[0]:
            traced_read(self, ".argmax() of")
        return self._constant(np.argmax(self._data, axis=axis))

    def argmin(self, axis: int | None = None) -> Tensor:
        if TRACING[0]:
            traced_read(self, ".argmin() of")
        return self._constant(np.argmin(self._data, axis=axis))

    # ---- shapes -----------------------------------------------------------------

    def reshape(self, *shape: Any) -> Tensor:
        """Same values in a new shape; one dimension may be -1."""
        shape = arguments.shape_arg(shape)
        if shape == self._data.shape:
            return self  # type: ignore[return-value]
        return sh.Reshape(shape)(self)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions ``start_dim..end_dim`` into one (all of them by default)."""
        shape, ndim = self._data.shape, self._data.ndim
        if ndim == 0:
            return self.reshape(1)
        start = arguments.one_axis(start_dim, ndim, "flatten")
        end = arguments.one_axis(end_dim, ndim, "flatten")
        merged = int(np.prod(shape[start : end + 1]))
        return self.reshape(shape[:start] + (merged,) + shape[end + 1 :])

    def squeeze(self, axis: Any = None) -> Tensor:
        """Drop axes of length 1 (those in ``axis``; others are kept as they are, as PyTorch)."""
        shape = self._data.shape
        axes = range(len(shape)) if axis is None else arguments.axes(axis, len(shape), "squeeze")
        return self.reshape(tuple(n for i, n in enumerate(shape) if n != 1 or i not in axes))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert an axis of length 1 at ``dim`` (from -ndim-1 to ndim)."""
        shape = self._data.shape
        dim = arguments.one_axis(dim, len(shape) + 1, "unsqueeze")
        return self.reshape(shape[:dim] + (1,) + shape[dim:])

    def permute(self, *dims: Any) -> Tensor:
        """Reorder the axes: output axis i is input axis ``dims[i]``."""
        ndim = self._data.ndim
        dims = tuple(arguments.one_axis(d, ndim, "permute") for d in arguments.shape_arg(dims))
        if sorted(dims) != list(range(ndim)):
            raise ShapeError(f"permute: {dims} is not a permutation of the axes of {self._data.shape}")
        return sh.Transpose(dims)(self)

    def transpose(self, *dims: Any) -> Tensor:
        """``transpose(d0, d1)`` swaps two axes (PyTorch); no arguments reverses them all."""
        ndim = self._data.ndim
        if not dims:
            return self.permute(tuple(reversed(range(ndim))))
        if len(dims) == 1:  # numpy style: one permutation
            return self.permute(*dims)
        d0, d1 = (arguments.one_axis(d, ndim, "transpose") for d in dims)
        if d0 == d1 or ndim < 2:  # nothing to swap (a 0-d tensor takes axis 0 and -1)
            return self  # type: ignore[return-value]
        order = list(range(ndim))
        order[d0], order[d1] = order[d1], order[d0]
        return self.permute(order)

    swapaxes = transpose

    @property
    def T(self) -> Tensor:
        """All axes reversed (the matrix transpose for 2-d)."""
        return self.transpose() if self._data.ndim > 1 else self  # type: ignore[return-value]

    def broadcast_to(self, *shape: Any) -> Tensor:
        shape = arguments.shape_arg(shape)
        if shape == self._data.shape:
            return self  # type: ignore[return-value]
        return sh.BroadcastTo(shape)(self)

    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to ``shape``; -1 keeps a dimension's size (as in PyTorch)."""
        shape = arguments.shape_arg(shape)
        own = self._data.shape
        offset = len(shape) - len(own)
        shape = tuple(own[i - offset] if n == -1 and i >= offset else n for i, n in enumerate(shape))
        return self.broadcast_to(shape)

    def __getitem__(self, index: Any) -> Tensor:
        return sh.GetItem(index_arg(index))(self)

    def split(self, split_size_or_sections: int | Sequence[int], axis: int = 0) -> tuple[Tensor, ...]:
        """Cut along ``axis`` into pieces of ``split_size`` (or of the listed sizes), as PyTorch."""
        ndim = self._data.ndim
        axis = arguments.one_axis(axis, ndim, "split")
        length = self._data.shape[axis]
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
        axis = axis % ndim
        pieces, start = [], 0
        for size in sizes:
            pieces.append(self[(slice(None),) * axis + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    def pad(self, pad_width: Any, value: float = 0.0) -> Tensor:
        """Constant padding, ``pad_width`` as for ``np.pad``."""
        return sh.Pad(pad_width, value)(self)


def as_array(value: Any) -> Any:
    """A Tensor's stored values; anything else as it is."""
    return value._data if isinstance(value, TensorMethods) else value


def index_arg(index: Any) -> Any:
    """Tensors and lists inside an index become arrays (numpy's indexing rules apply)."""
    if isinstance(index, tuple):
        return tuple(index_arg(i) for i in index)
    if isinstance(index, TensorMethods):
        return index._data
    if isinstance(index, list):
        return np.asarray(index)
    return index
