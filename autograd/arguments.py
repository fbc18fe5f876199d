"""Reading the arguments of Tensor methods (shapes, axes, indices) and the errors they raise.

``ShapeError`` is what an operation raises when its operands' shapes do not fit together;
it is also numpy's ``AxisError`` or an ``IndexError`` when numpy's complaint was one, so
``except IndexError`` keeps working.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd.ops.reduce import normalize_axes

AxisError = getattr(np, "exceptions", np).AxisError  # np.exceptions from numpy 1.25 on


class ShapeError(ValueError):
    """An operation received operands whose shapes do not fit together."""


class ShapeIndexError(ShapeError, IndexError):
    """An index out of range: also an ``IndexError``, as numpy and PyTorch raise."""


class ShapeAxisError(ShapeError, AxisError):
    """An axis out of range: also numpy's ``AxisError`` (an ``IndexError`` too)."""


def shape_error(message: str, cause: BaseException | None = None) -> ShapeError:
    """The ShapeError that also has the type of numpy's complaint, so ``except IndexError`` works."""
    if isinstance(cause, AxisError):
        return ShapeAxisError(message)
    if isinstance(cause, IndexError):
        return ShapeIndexError(message)
    return ShapeError(message)


def axes(axis: Any, ndim: int, op_name: str) -> tuple[int, ...]:
    """``axis`` (an int or a tuple, negatives counting from the end) as axis numbers."""
    try:
        return normalize_axes(axis, ndim)
    except AxisError as error:
        raise ShapeAxisError(f"{op_name}: {error}") from None


def one_axis(axis: int, ndim: int, op_name: str) -> int:
    """One axis number in ``range(ndim)`` (a 0-d tensor takes 0 and -1, as numpy and PyTorch)."""
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ShapeAxisError(f"{op_name}: axis {axis} is out of bounds for a {ndim}-d tensor")
    return int(axis) % max(ndim, 1)


def count(shape: tuple[int, ...], axis: Any, op_name: str) -> int:
    """How many elements a reduction over ``axis`` combines into each result."""
    return math.prod(shape[a] for a in axes(axis, len(shape), op_name))


def shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)
