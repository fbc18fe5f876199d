"""A Tensor's values and flags: Python conversions, printing, hooks, in-place updates.

``Tensor`` (``autograd/tensors.py``) inherits these. Conversions to Python (``float(t)``,
``t.item()``, ``bool(t)``, ``np.asarray(t)``) hand out values, outside the graph. The
in-place methods change a tensor outside the graph (an optimiser's update under
``no_grad``) and bump its version counter, so that a graph that used the old values
refuses to backpropagate through them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd.grad_mode import is_grad_enabled
from autograd.graph import VersionCounter
from autograd.tensor_methods import TensorMethods, as_array
from autograd.tracing import TRACING, traced_read

if TYPE_CHECKING:
    from autograd.tensors import Tensor

_COUNTER_LOCK = threading.Lock()  # two threads making a tensor's first alias must get one counter


class TensorValues:
    """What a Tensor hands to Python, and how it is changed in place; see ``autograd.tensors.Tensor``."""

    __slots__ = ()
    _data: Any  # (set by Tensor)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if TRACING[0]:
            traced_read(self, ".item() of")
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, not shape {self.shape}")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray, shared, not copied (as ``.data``: read-only for an op's
        single-number result)."""
        if TRACING[0]:
            traced_read(self, ".numpy() of")
        return self.data

    def tolist(self) -> Any:
        if TRACING[0]:
            traced_read(self, ".tolist() of")
        return self._data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if TRACING[0]:
            traced_read(self, "np.asarray() of")
        if dtype is not None and dtype != self._data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __float__(self) -> float:
        if TRACING[0]:
            traced_read(self, "float() of")
        return float(self.item())

    def __int__(self) -> int:
        if TRACING[0]:
            traced_read(self, "int() of")
        return int(self.item())

    def __index__(self) -> int:
        if TRACING[0]:
            traced_read(self, "an index or size from")
        if self._data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, not {self.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if TRACING[0]:
            traced_read(self, "bool() of")
        return bool(self._data)

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

    # ---- flags and hooks ---------------------------------------------------------

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad  # type: ignore[attr-defined]
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

        >>> from autograd import Tensor
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
        wrapped = grad if create_graph else type(self)._leaf(np.array(grad))
        for hook in list(self._hooks):
            replaced = hook(wrapped)
            if replaced is not None:
                replaced = replaced if isinstance(replaced, TensorValues) else type(self)(replaced)
                _check_hook_result(hook, wrapped, replaced)
                wrapped = replaced
        return wrapped if create_graph else wrapped._data

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

    # ---- in-place updates, outside the graph --------------------------------------

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

    #
    # In-place arithmetic works on tensors outside the graph (optimiser updates under
    # no_grad, buffers). Inside a recorded computation it is out of place: ``y += 1``
    # rebinds y to a new node, which is what the chain rule needs.

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(np.add, other, self.__add__)  # type: ignore[attr-defined]

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(np.subtract, other, self.__sub__)  # type: ignore[attr-defined]

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(np.multiply, other, self.__mul__)  # type: ignore[attr-defined]

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(np.divide, other, self.__truediv__)  # type: ignore[attr-defined]

    def _inplace(self, ufunc: np.ufunc, other: Any, out_of_place: Callable) -> Tensor:
        recording = is_grad_enabled() and (
            self._requires_grad or (isinstance(other, TensorMethods) and other._requires_grad)
        )
        if not recording:
            return self._write(ufunc, other)
        if self._op is None and self._requires_grad:
            raise RuntimeError(
                "in-place operation on a leaf tensor that requires grad: it would be "
                "lost from the graph; update parameters inside `with autograd.no_grad():`"
            )
        if self._versions is not None or (type(self._data) is np.ndarray and self._data.base is not None):
            # ``y += 1`` below rebinds the name y to a new node; on a tensor that shares its
            # memory (a view such as h[0:2]) the other tensors would silently keep old values
            raise RuntimeError(
                f"in-place {ufunc.__name__} on a tensor of shape {self._data.shape} that shares "
                "memory with others (a view, or a tensor with views) while recording: write it "
                "out of place (h = h + x) and build the result you need from it"
            )
        return out_of_place(other)

    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """In place ``self += alpha * other`` (outside the graph; bumps the version counter).

        >>> from autograd import Tensor
        >>> w = Tensor([1.0, 2.0])
        >>> w.add_(Tensor([10.0, 10.0]), alpha=0.5)
        Tensor([6., 7.])
        """
        if alpha != 1:
            other = np.multiply(as_array(other), alpha)
        return self._inplace_checked(np.add, other)

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """In place ``self -= alpha * other``: an optimiser's ``p.sub_(grad, alpha=lr)``."""
        if alpha != 1:
            other = np.multiply(as_array(other), alpha)
        return self._inplace_checked(np.subtract, other)

    def mul_(self, other: Any) -> Tensor:
        return self._inplace_checked(np.multiply, other)

    def div_(self, other: Any) -> Tensor:
        return self._inplace_checked(np.divide, other)

    def copy_(self, source: Any) -> Tensor:
        return self._inplace_checked(lambda _, s, out, casting: np.copyto(out, s, casting=casting), source)

    def fill_(self, value: float) -> Tensor:
        return self._inplace_checked(lambda _, v, out, casting: out.fill(v), value)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def _inplace_checked(self, ufunc: Callable, other: Any) -> Tensor:
        if is_grad_enabled() and self._requires_grad:
            raise RuntimeError(
                "in-place operation on a tensor that requires grad while recording; "
                "do it inside `with autograd.no_grad():` (e.g. for an optimiser update)"
            )
        if is_grad_enabled() and isinstance(other, TensorMethods) and other._requires_grad:
            # the result would depend on ``other`` with no graph node to carry its gradient
            raise RuntimeError(
                f"in-place operation with an operand of shape {other._data.shape} that requires "
                "grad, while recording: its gradient would be lost; write it out of place "
                "(h = h + w), or detach the operand if no gradient should flow"
            )
        return self._write(ufunc, other)

    def _write(self, ufunc: Callable, other: Any) -> Tensor:
        """``ufunc(data, other, out=data)``, casting as numpy's in-place operators do; bumps the version."""
        if TRACING[0]:
            traced_read(self, "an in-place update of")
        data = self._writable_values()  # type: ignore[attr-defined]
        if not data.flags.writeable:
            raise RuntimeError(
                f"in-place {getattr(ufunc, '__name__', 'update')} on a read-only tensor of shape "
                f"{data.shape}: it is a copy of one element (x[i]) or a broadcast view (expand, "
                "broadcast_to), so the write could not reach the tensor it came from; update "
                "that tensor through a slice (x[i:i+1].add_(...)) or compute out of place"
            )
        ufunc(data, as_array(other), out=data, casting="same_kind")
        self._bump_version()  # type: ignore[attr-defined]
        return self  # type: ignore[return-value]


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


