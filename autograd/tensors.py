"""The Tensor: a numpy array that remembers how it was computed.

A Tensor holds ``data`` (an ``ndarray``). When an operation runs on tensors and one of
them has ``requires_grad=True``, the result gets a record of the op and its input
tensors (shown as ``grad_fn``, a Node). Those links form a directed acyclic graph from
the leaves (the tensors you created) to the result, and ``result.backward()`` walks it
backwards (``autograd.engine``), leaving ``.grad`` on every leaf that requires a gradient.

>>> from autograd import Tensor
>>> x = Tensor(2.0, requires_grad=True)
>>> y = Tensor(3.0, requires_grad=True)
>>> z = x * y + x.sin()
>>> z.backward()
>>> x.grad            # y + cos(x)
Tensor(2.58385316)
>>> y.grad            # x
Tensor(2.)

Every operation is an ``Op`` from ``autograd.ops``; ``apply(op, inputs)`` at the end of
this module runs one and records it. The arithmetic operators are here; the rest of the
method catalogue (pointwise functions, reductions, shapes, in-place updates) is in
``autograd/tensor_methods.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import engine, graph, tracing
from autograd.arguments import ShapeError, shape_error
from autograd.grad_mode import set_grad_enabled
from autograd.grad_mode import state as _grad_mode  # this thread's grad mode, read by apply
from autograd.graph import Node, Op, VersionCounter, ticks
from autograd.ops import elementwise as ew
from autograd.ops import random as rnd
from autograd.ops import state as st
from autograd.ops.matmul import matmul as _matmul
from autograd.ops.shape import read_only_array
from autograd.tensor_methods import TensorMethods, as_array
from autograd.tensor_values import TensorValues
from autograd.tracing import TRACING as _TRACING  # (tests read autograd.tensors._TRACING)
from autograd.tracing import begin_tracing, end_tracing, traced_effects  # noqa: F401  (the compiler's imports)
from autograd.tracing import traced_read as _traced_read

ArrayLike = Any  # numbers, nested lists, ndarrays, Tensors
__all__ = ["Tensor", "ShapeError", "apply"]


class Tensor(TensorMethods, TensorValues):
    """An n-dimensional array that records the operations applied to it.

    Args:
        data: a number, nested list, ndarray or Tensor. Python numbers (and lists of
            them) become float64; arrays keep their dtype.
        requires_grad: whether ``backward()`` should compute ``.grad`` for this
            tensor. Only floating-point tensors can require gradients.
        dtype: convert the data to this dtype.
        name: an optional label, shown in graph drawings.

    Attributes:
        data: the values (an ndarray). Writable for a tensor you make:
            ``p.data -= lr * p.grad.data`` is the plain SGD update. An op's single-number
            result hands out a read-only 0-d array (in-place methods such as ``add_`` work).
        grad: the gradient (a Tensor) after ``backward()``, else None.
        grad_fn: the Node that produced this tensor (read-only); None for leaves.
    """

    __slots__ = (
        "_data",  # the values: see stored() below
        "grad",
        "name",
        # The graph record: how a computed tensor was made (see autograd.graph); a leaf has
        # _op None and no inputs. ``grad_fn`` shows it as a Node.
        "_op",
        "_inputs",
        "_clock",
        "_scope",
        "_spent",  # consumed by a backward pass without retain_graph
        "_grad_fn",  # the Node, made on first access to .grad_fn
        "_requires_grad",
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
        # A tensor you make holds an ndarray (0-d for one number), so its .data is writable
        self._set_fields(np.asarray(stored(source._data if source is not None else data, dtype)), name)
        if source is not None and self._data is source._data:  # no conversion copied it
            self._versions = source._shared_versions()  # built on another tensor's memory
        if requires_grad:
            self.requires_grad = True

    def _set_fields(self, values: Any, name: str | None = None) -> None:
        """Every field of a new tensor (the one place they are set): a leaf holding ``values``.

        ``apply`` then writes the graph record into a result it computed.
        """
        self._data = values
        self.grad = None
        self.name = name
        self._op = None
        self._inputs = ()
        self._clock = 0
        self._scope = None
        self._spent = False
        self._requires_grad = False
        self._versions = None
        self._retains_grad = False
        self._hooks = ()

    @staticmethod
    def _leaf(values: Any) -> Tensor:
        """A leaf holding ``values`` (converted only if they are not already as stored())."""
        tensor = object.__new__(Tensor)
        tensor._set_fields(stored(values))
        return tensor

    # ---- attributes -------------------------------------------------------------

    @property
    def data(self) -> np.ndarray:
        """The underlying array. Assigning to it (also ``t.data -= x``) bumps the version.

        An op's single-number result is kept as a numpy scalar (see stored()); it is handed
        out as a read-only 0-d array, so that writing into it is an error, never lost.
        """
        if _TRACING[0]:
            _traced_read(self, ".data of")
        return self._data if isinstance(self._data, np.ndarray) else read_only_array(self._data)

    def _writable_values(self) -> np.ndarray:
        """The values as an ndarray whose changes are the tensor's: a numpy scalar (immutable)
        is replaced by a 0-d array of it, the same value (for in-place updates, ``detach``,
        parameters and a compiled step's update, which must reach the tensor)."""
        if not isinstance(self._data, np.ndarray):
            self._data = np.asarray(self._data)
        return self._data

    @data.setter
    def data(self, value: ArrayLike) -> None:
        if _TRACING[0]:
            _traced_read(self, "an assignment to .data of")
        # The same memory (``t.data -= x`` writes into it, then assigns it back): a change
        # of this tensor and all its aliases. New memory: the aliases of the old memory are
        # no longer this tensor's, and a tensor's memory becomes shared with that tensor.
        # Either way this tensor's value changed, which graphs that used it must see.
        old = self._data
        if isinstance(value, Tensor) and value._writable_values().flags.writeable:
            self._data = value._data
            self._versions = value._shared_versions()
        else:
            value = np.asarray(value)  # (a read-only array, a Tensor's included, is copied below)
            if not (type(old) is np.ndarray and np.may_share_memory(value, old)):
                self._versions = VersionCounter(self._version)
            self._data = value if value.flags.writeable else value.copy()
        self._bump_version()

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
        if flag:  # a parameter's .data is written to (p.data -= lr * g)
            if not self._writable_values().flags.writeable:  # (a read-only array: a copy)
                self._data = self._data.copy()
        self._requires_grad = bool(flag)

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user (no ``grad_fn``)."""
        return self._op is None

    @property
    def grad_fn(self) -> Node | None:
        """The Node that produced this tensor (op, inputs, clock, scope); None for leaves.

        A view of the graph record kept in this tensor's own slots (``_op``, ``_inputs``,
        ``_clock``, ``_scope``), made on first access.
        """
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

    # ---- recording operations ---------------------------------------------------

    @staticmethod
    def _record(op: Op, *args: Any) -> Tensor:
        """Apply ``op`` to tensors or constants (``Op.__call__`` sends Tensors here).

        Constants become tensors as in ``x * 2.0``: Python numbers take the dtype of the
        first tensor argument.
        """
        like = next(a for a in args if isinstance(a, Tensor))
        return apply(op, tuple(_lift(a, like) for a in args))

    # ---- arithmetic (broadcasting); the other methods are in tensor_methods.py -------

    def __add__(self, other: ArrayLike) -> Tensor:
        return apply(ew.add, (self, _lift(other, self)))

    def __radd__(self, other: ArrayLike) -> Tensor:
        return apply(ew.add, (_lift(other, self), self))

    def __sub__(self, other: ArrayLike) -> Tensor:
        return apply(ew.sub, (self, _lift(other, self)))

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return apply(ew.sub, (_lift(other, self), self))

    def __mul__(self, other: ArrayLike) -> Tensor:
        return apply(ew.mul, (self, _lift(other, self)))

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return apply(ew.mul, (_lift(other, self), self))

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return apply(ew.div, (self, _lift(other, self)))

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return apply(ew.div, (_lift(other, self), self))

    def __pow__(self, exponent: ArrayLike) -> Tensor:
        if isinstance(exponent, (int, float, np.number)):  # x ** 2: the exponent is a constant of the op
            return apply(ew.PowScalar(exponent), (self,))
        return apply(ew.pow_, (self, _lift(exponent, self)))

    def __rpow__(self, base: ArrayLike) -> Tensor:
        return apply(ew.pow_, (_lift(base, self), self))

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return apply(_matmul, (self, _lift(other, self)))

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return apply(_matmul, (_lift(other, self), self))

    def __neg__(self) -> Tensor:
        return apply(ew.neg, (self,))

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return apply(ew.abs_, (self,))

    def matmul(self, other: ArrayLike) -> Tensor:
        """Matrix product with numpy's rules for 1-d and batched operands (``self @ other``)."""
        return self @ other

    # ---- ops that draw or update state (zero inputs, or a result nothing uses) -------

    @staticmethod
    def dropout_mask(shape: tuple[int, ...], p: float, dtype: Any = np.float64,
                     generator: np.random.Generator | None = None) -> Tensor:
        """``keep / (1 − p)`` with ``keep = generator.random(shape) >= p``: dropout's scaled mask.

        A constant (no gradient). It is drawn by an op (``autograd.ops.random.DropoutMask``),
        so a compiled function draws it again at every call, from the same generator.
        """
        rng = generator if generator is not None else np.random.default_rng()
        return apply(rnd.DropoutMask(rng, tuple(shape), p, dtype), ())

    @staticmethod
    def update_running_stats(mean: Tensor, var: Tensor, running_mean: np.ndarray, running_var: np.ndarray,
                             count: np.ndarray, momentum: float | None, n: int) -> None:
        """BatchNorm's running-statistics update, in place (``autograd.ops.state.RunningStats``).

        An op, so a compiled function redoes it at every call. ``count`` is a 0-d integer array.
        """
        apply(st.RunningStats(running_mean, running_var, count, momentum, n), (mean, var))

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
        with set_grad_enabled(create_graph):
            engine.run_backward([self], [seed], retain_graph=retain_graph, create_graph=create_graph)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data (and version counter), outside the graph."""
        detached = Tensor._leaf(self._writable_values())
        detached._versions = self._shared_versions()
        return detached

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph (gradient passes through)."""
        return self * 1

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
            self.grad = Tensor._leaf(np.array(grad, dtype=dtype))
        else:
            self.grad._data = stored(np.asarray(self.grad._data + grad, dtype=dtype))
            self.grad._bump_version()  # an in-place change of .grad: graphs that read it must see it

    # numpy's protocols (``__array_ufunc__``, ``__array_function__``: ``np.sin(t)``,
    # ``ndarray * t`` and ``np.sum(t)`` record graph nodes) are installed on this class by
    # ``autograd/numpy_protocol.py``, which maps numpy's functions onto its methods.


_SCOPE = graph.recording_scope  # this thread's scope labels


def stored(data: Any, dtype: Any = None) -> Any:
    """How a tensor keeps its values: an ndarray, or a single number as a numpy scalar.

    A single number is what numpy returns it as: an op's result (``x * 3`` of 0-d tensors)
    and a constant (the ``3``) stay numpy scalars, the values numpy computes on fastest, and
    graphs of single numbers (micrograd's) are made of nothing else. A tensor you make holds
    an ndarray (``Tensor.__init__``). Python numbers and lists of them become float64;
    arrays and numpy scalars keep their dtype unless ``dtype`` is given.
    """
    if isinstance(data, np.ndarray):
        return data if dtype is None else data.astype(dtype)
    if isinstance(data, np.generic):
        return data if dtype is None else np.dtype(dtype).type(data)
    array = np.asarray(data, dtype=dtype)
    if dtype is None and array.dtype.kind in "iu":
        array = array.astype(np.float64)  # Python numbers become float64
    return array if array.ndim else array[()]


def apply(op: Op, inputs: tuple[Tensor, ...]) -> Tensor:
    """Run ``op`` on the inputs' values; if any input requires grad (and grad mode is on), record it."""
    try:  # two inputs, the common case, written out as in engine.backward_steps
        if len(inputs) == 2:
            values = op.forward(inputs[0]._data, inputs[1]._data)
        else:
            values = op.forward(*[t._data for t in inputs])
    except (ValueError, IndexError) as error:
        raise _forward_error(op, inputs, error) from error
    if not isinstance(values, (np.ndarray, np.generic)):  # an op may return a Python number
        values = stored(values)
    out = object.__new__(Tensor)
    out._set_fields(values)
    if type(out._data) is np.ndarray:  # perhaps a view of an input's memory
        _share_versions_with_viewed_input(out, inputs)
    needs_grad = False
    for t in inputs:
        needs_grad = needs_grad or t._requires_grad
    if _grad_mode.enabled and (needs_grad or tracing.records_all_ops()):
        out._op, out._inputs, out._clock, out._scope = op, inputs, next(ticks), _SCOPE.labels
        out._requires_grad = needs_grad  # (False: a trace records ops on data alone too)
        if _TRACING[0]:
            tracing.note_effect(op, out)
    return out


def _forward_error(op: Op, inputs: tuple[Tensor, ...], error: Exception) -> ShapeError:
    """The error for inputs ``op.forward`` refused: the op's name and the shapes."""
    shapes = " and ".join(str(t.shape) for t in inputs)
    detail = f"shapes {shapes} {op.mismatch}" if len(inputs) > 1 else f"shape {shapes}: {error}"
    return shape_error(f"{op.name}: {detail}", error)


_apply = apply  # the name the compiler imports


def _share_versions_with_viewed_input(out: Tensor, inputs: tuple[Tensor, ...]) -> None:
    """A result that is a view of an input's memory (``x[0:2]``, ``x.T``) shares its counter."""
    data = out._data
    if data.base is None and all(data is not t._data for t in inputs):
        return  # new memory
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


_as_array = as_array  # (numpy_protocol's name)


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
        seed = gradient if isinstance(gradient, Tensor) and as_tensor else as_array(gradient)
        if np.shape(seed) != output.shape:
            raise ShapeError(
                f"backward: gradient of shape {np.shape(seed)} does not match output "
                f"of shape {output.shape}"
            )
    if as_tensor:
        return seed if isinstance(seed, Tensor) else Tensor._leaf(np.asarray(seed, dtype=output.dtype))
    return np.asarray(seed, dtype=output.dtype)
