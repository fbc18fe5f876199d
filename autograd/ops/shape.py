"""Operations that move values around without changing them.

Their backward rules move the gradient back: a reshape's gradient is reshaped back, a
transpose's is transposed back, an index's is scattered back into zeros (adding where
an element was picked more than once), a concatenation's is cut back into pieces.
"""

from __future__ import annotations

import numpy as np

from autograd.graph import Op


class Reshape(Op):
    name = "reshape"
    backward_reads = ()
    mismatch = "cannot be reshaped"

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, a):
        return np.reshape(a, self.shape)

    rule = ("{g}, reshaped back to the shape of {a}",)

    def backward(self, g, out, a):
        return (g.reshape(a.shape),)


class Transpose(Op):
    """Permute the axes: output axis i is input axis ``axes[i]``."""

    name = "transpose"
    backward_reads = ()

    def __init__(self, axes: tuple[int, ...]) -> None:
        self.axes = axes

    def forward(self, a):
        return np.transpose(a, self.axes)

    rule = ("{g}, with its axes put back in their original order",)

    def backward(self, g, out, a):
        return (np.transpose(g, tuple(np.argsort(self.axes))),)


class BroadcastTo(Op):
    """Repeat along new or size-1 axes. The engine sums the gradient back (``sum_to``)."""

    name = "broadcast_to"
    backward_reads = ()

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, a):
        return np.broadcast_to(a, self.shape)

    rule = ("{g}, summed back to the shape of {a}",)

    def backward(self, g, out, a):
        return (g,)


def is_basic_index(index) -> bool:
    """True for ints, slices, None and Ellipsis only: such an index picks each element once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts
    )


def read_only_array(value):
    """A numpy scalar as a 0-d array that cannot be written to (a write would not reach the
    tensor it came from: ``GetItem`` here, and ``Tensor.data`` of an op's single number)."""
    array = np.array(value)
    array.flags.writeable = False
    return array


class GetItem(Op):
    """``a[index]`` for ints, slices, None, Ellipsis, integer arrays and boolean masks."""

    name = "getitem"
    backward_reads = ()
    mismatch = "cannot be indexed"

    def __init__(self, index) -> None:
        self.index = index

    def forward(self, a):
        out = a[self.index]
        if isinstance(out, np.generic):
            # One element comes out of numpy as a copy; PyTorch's x[0] is a view, so that
            # x[0].add_(5) changes x. A read-only copy makes that an error, never a lost write.
            return read_only_array(out)
        return out

    rule = ("{g}, put at [index] into zeros shaped like {a}",)

    def backward(self, g, out, a):
        return (ScatterAdd(self.index, a.shape)(g),)


class ScatterAdd(Op):
    """Zeros of ``shape`` with ``values`` added at ``index``: the backward of ``GetItem``."""

    name = "scatter_add"
    backward_reads = ()

    def __init__(self, index, shape: tuple[int, ...]) -> None:
        self.index = index
        self.shape = shape

    def forward(self, values):
        result = np.zeros(self.shape, dtype=values.dtype)
        if is_basic_index(self.index):
            result[self.index] = values
        else:  # an integer array may pick an element twice: its gradients add up
            np.add.at(result, self.index, values)
        return result

    rule = ("{g} at [index]",)

    def backward(self, g, out, values):
        return (GetItem(self.index)(g),)


class Concat(Op):
    name = "concat"
    backward_reads = ()
    mismatch = "cannot be concatenated"  # (along that axis, or the axis is out of range)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *arrays):
        return np.concatenate(arrays, axis=self.axis)

    rule = ("the part of {g} that came from this input",)

    def backward(self, g, out, *arrays):
        axis = self.axis % g.ndim
        pieces, start = [], 0
        for a in arrays:
            index = (slice(None),) * axis + (slice(start, start + a.shape[axis]),)
            pieces.append(g[index])
            start += a.shape[axis]
        return tuple(pieces)


class Stack(Op):
    name = "stack"
    backward_reads = ()
    mismatch = "cannot be stacked"

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *arrays):
        return np.stack(arrays, axis=self.axis)

    rule = ("the part of {g} that came from this input",)

    def backward(self, g, out, *arrays):
        axis = self.axis % g.ndim
        return tuple(g[(slice(None),) * axis + (i,)] for i in range(len(arrays)))


class Pad(Op):
    """Constant padding; ``pad_width`` as for ``np.pad``: ((before, after), ...) per axis."""

    name = "pad"
    backward_reads = ()

    def __init__(self, pad_width, value: float = 0.0) -> None:
        self.pad_width = pad_width
        self.value = value

    def forward(self, a):
        return np.pad(a, self.pad_width, constant_values=self.value)

    rule = ("{g} with the padding cut off",)

    def backward(self, g, out, a):
        widths = np.broadcast_to(np.asarray(self.pad_width, dtype=int), (a.ndim, 2))
        index = tuple(slice(int(before), int(before) + n) for (before, _), n in zip(widths, a.shape))
        return (g[index],)
