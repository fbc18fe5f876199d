"""Templates of the reductions, shape ops and matrix products (see ``templates``).

Each writes the numpy calls of its op's own ``forward`` and ``backward`` in
``autograd/ops/reduce.py``, ``softmax.py``, ``shape.py``, ``matmul.py`` and ``linear.py``,
specialised to the traced shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.compiler.templates import Template, _grads
from autograd.ops import linear as lin
from autograd.ops import matmul as mm
from autograd.ops import random as rnd
from autograd.ops import reduce as red
from autograd.ops import shape as sh
from autograd.ops import softmax as sm
from autograd.ops import state as st

# ---- reductions -------------------------------------------------------------------------


def _axis(s: Any) -> Any:
    """``_Reduction._axis_for``: the axis as given, normalized on a 0-d input."""
    axis = s.value("axis")
    return axis if len(s.in_shapes[0]) else red.normalize_axes(axis, 0)


def _reduce_call(method: str, s: Any) -> str:
    axis, keepdims = _axis(s), s.value("keepdims")
    args = []
    if axis is not None or keepdims:
        args.append(f"axis={s.lit(axis)}")
    if keepdims:
        args.append("keepdims=True")
    return f"{s.a}.{method}({', '.join(args)})"


def _kept(s: Any, name: str) -> str:
    """``_Reduction._with_kept_axes``: the reduced value reshaped to broadcast against the input."""
    if s.value("keepdims"):
        return name
    shape = red.kept_shape(s.in_shapes[0], red.normalize_axes(s.value("axis"), len(s.in_shapes[0])))
    return f"{name}.reshape({s.lit(shape)})"


class Sum(Template):
    ops, static, formula, scalar = (red.Sum,), ("axis", "keepdims"), "Σ a over axis", True

    def forward(self, s):
        return _reduce_call("sum", s)

    def backward(self, s, g):
        return [], [f"np.broadcast_to({_kept(s, g)}, {s.lit(s.in_shapes[0])})"]

    def sforward(self, s):  # a 0-d value summed is itself
        return s.a

    def sbackward(self, s, g):
        return [], [g]


class Max(Template):
    ops, static, formula = (red.Max,), ("axis", "keepdims"), "max over axis; ties share the gradient"
    method = "max"

    def forward(self, s):
        return _reduce_call(self.method, s)

    def backward(self, s, g):
        winners, count = s.tmp("winners"), s.tmp("count")
        axes = red.normalize_axes(s.value("axis"), len(s.in_shapes[0]))
        lines = [
            f"{winners} = {s.a} == {_kept(s, s.out)}",
            f"{count} = {winners}.sum(axis={s.lit(axes)}, keepdims=True)",
        ]
        return lines, [f"{winners} * ({_kept(s, g)} / {count})"]


class Min(Max):
    ops, formula, method = (red.Min,), "min over axis; ties share the gradient", "min"


class LogSumExp(Template):
    ops, static, formula = (red.LogSumExp,), ("axis", "keepdims"), "log Σ e^a;  d/da = softmax(a)"

    def forward(self, s):
        return f"logsumexp({s.a}, {s.lit(_axis(s))}, {s.attr('keepdims')})"

    def backward(self, s, g):
        return [], [f"{_kept(s, g)} * np.exp({s.a} - {_kept(s, s.out)})"]


class Softmax(Template):
    ops, static, formula = (sm.Softmax,), ("axis",), "e^a / Σ e^a;  d = s (g - Σ g s)"

    def forward(self, s):
        e, axis = s.tmp("exp"), s.attr("axis")
        return [
            f"{e} = np.exp({s.a} - {s.a}.max(axis={axis}, keepdims=True))",
            f"{s.out} = {e} / {e}.sum(axis={axis}, keepdims=True)",
        ]

    def backward(self, s, g):
        return [], [f"{s.out} * ({g} - ({g} * {s.out}).sum(axis={s.attr('axis')}, keepdims=True))"]


class LogSoftmax(Template):
    ops, static, formula = (sm.LogSoftmax,), ("axis",), "a - log Σ e^a;  d = g - softmax Σ g"

    def forward(self, s):
        return f"log_softmax({s.a}, {s.attr('axis')})"

    def backward(self, s, g):
        return [], [f"{g} - np.exp({s.out}) * {g}.sum(axis={s.attr('axis')}, keepdims=True)"]


class SoftmaxCrossEntropy(Template):
    """The loss and its softmax, kept for the backward (the op recomputes it: the same bits)."""

    ops = (sm.SoftmaxCrossEntropy,)
    static = ("axis", "reduction")
    backward_reads = ("target",)  # and its extra, the softmax: not the logits
    formula = "-log softmax(z)[target];  dz = softmax(z) - onehot(target)"

    def forward(self, s):
        probs = s.extra("softmax")
        logits, target = s.ins
        return [f"{s.out}, {probs} = softmax_cross_entropy({logits}, {target}, {s.attr('axis')}, "
                f"{s.attr('reduction')})"]

    into_extra = "softmax"  # (its out= form writes the softmax, of the logits' shape, into a buffer)

    def forward_into(self, s):
        logits, target = s.ins
        probs = s.extra("softmax")
        args = f"{target}, {s.attr('axis')}, {s.attr('reduction')}"
        return lambda buf: [f"{probs} = {buf}",
                            f"{s.out} = softmax_cross_entropy_into({logits}, {args}, {probs})"]

    def backward(self, s, g):
        target = s.ins[1]
        kernel = "softmax_cross_entropy_backward_" if s.gen.fused else "softmax_cross_entropy_backward"
        return [], [f"{kernel}({g}, {s.extra('softmax')}, {target}, {s.attr('axis')}, "
                    f"{s.attr('reduction')})", None]


# ---- shapes -------------------------------------------------------------------------------


class Reshape(Template):
    ops, static, formula = (sh.Reshape,), ("shape",), "the same values in a new shape"

    def forward(self, s):
        return f"{s.a}.reshape({s.attr('shape')})"

    def backward(self, s, g):
        return [], [f"{g}.reshape({s.lit(s.in_shapes[0])})"]


def _transpose(name: str, axes: tuple[int, ...], s: Any) -> str:
    if axes == (1, 0):
        return f"{name}.T"
    return f"np.transpose({name}, {s.lit(axes)})"


class Transpose(Template):
    ops, static, formula = (sh.Transpose,), ("axes",), "permute the axes"

    def forward(self, s):
        return _transpose(s.a, tuple(s.value("axes")), s)

    def backward(self, s, g):
        return [], [_transpose(g, tuple(int(i) for i in np.argsort(s.value("axes"))), s)]


class BroadcastTo(Template):
    ops, static, formula = (sh.BroadcastTo,), ("shape",), "repeat along new or size-1 axes"

    def forward(self, s):
        return f"np.broadcast_to({s.a}, {s.attr('shape')})"

    def backward(self, s, g):
        return [], [g]

    def grad_shape(self, s, i):
        return s.out_shape


class GetItem(Template):
    ops, dynamic, formula = (sh.GetItem,), ("index",), "a[index];  the gradient scattered back"

    def forward(self, s):
        return [*_index_checks(s), f"{s.out} = {s.a}[{s.subscript('index')}]"]

    def backward(self, s, g):
        kernel = "scatter" if sh.is_basic_index(s.value("index")) else "scatter_add"
        return [], [f"{kernel}({g}, {s.attr('index')}, {s.lit(s.in_shapes[0])})"]


def _index_checks(s: Any) -> list[str]:
    """Range checks for the integer indices that are per-call inputs (``weight[idx]``).

    Eager code often validates them in Python (``Embedding`` refuses a negative index); a
    compiled call checks each against its axis instead. A negative index passes only if the
    traced call had one (numpy counts it from the end).
    """
    structure, traced = s.node.attrs["index"], s.value("index")
    parts = structure if isinstance(structure, tuple) else (structure,)
    values = traced if isinstance(traced, tuple) else (traced,)
    checks, axis = [], 0
    for part, value in zip(parts, values):
        if part is Ellipsis or value is Ellipsis:
            break
        if part is None:
            continue
        is_input = getattr(part, "kind", None) in ("extra", "derived", "input")
        array = np.asarray(value)
        if is_input and array.dtype.kind in "iu" and axis < len(s.in_shapes[0]):
            negative = bool(array.size and array.min() < 0)
            checks.append(f"check_index({part.name}, {s.in_shapes[0][axis]}, {negative})")
        axis += array.ndim if array.dtype.kind == "b" else 1
    return checks


class ScatterAdd(Template):
    ops, static, dynamic = (sh.ScatterAdd,), ("shape",), ("index",)
    formula = "zeros with the values added at index"

    def forward(self, s):
        kernel = "scatter" if sh.is_basic_index(s.value("index")) else "scatter_add"
        return f"{kernel}({s.a}, {s.attr('index')}, {s.attr('shape')})"

    def backward(self, s, g):
        return [], [f"{g}[{s.subscript('index')}]"]


def _slices(axis: int, part: str) -> str:
    return ", ".join([":"] * axis + [part])


class Concat(Template):
    ops, static, formula = (sh.Concat,), ("axis",), "join along an axis;  the gradient cut back"

    def forward(self, s):
        return f"np.concatenate(({', '.join(s.ins)},), axis={s.attr('axis')})"

    def backward(self, s, g):
        axis = s.value("axis") % len(s.out_shape)
        grads, start = [], 0
        for shape in s.in_shapes:
            grads.append(f"{g}[{_slices(axis, f'{start}:{start + shape[axis]}')}]")
            start += shape[axis]
        return [], _grads(s, *grads)


class Stack(Template):
    ops, static, formula = (sh.Stack,), ("axis",), "join along a new axis"

    def forward(self, s):
        return f"np.stack(({', '.join(s.ins)},), axis={s.attr('axis')})"

    def backward(self, s, g):
        axis = s.value("axis") % len(s.out_shape)
        return [], _grads(s, *[f"{g}[{_slices(axis, str(i))}]" for i in range(len(s.ins))])


class Pad(Template):
    ops, static, formula = (sh.Pad,), ("pad_width", "value"), "constant padding"

    def forward(self, s):
        return f"np.pad({s.a}, {s.attr('pad_width')}, constant_values={s.attr('value')})"

    def backward(self, s, g):
        shape = s.in_shapes[0]
        widths = np.broadcast_to(np.asarray(s.value("pad_width"), dtype=int), (len(shape), 2))
        parts = [f"{int(before)}:{int(before) + n}" for (before, _), n in zip(widths, shape)]
        return [], [f"{g}[{', '.join(parts)}]"]


# ---- matrix products --------------------------------------------------------------------


def _swap(name: str, ndim: int) -> str:
    return f"{name}.T" if ndim == 2 else f"{name}.swapaxes(-1, -2)"


class MatMul(Template):
    ops, formula = (mm.MatMul,), "a @ b;  da = g bᵀ, db = aᵀ g"

    def forward(self, s):
        return f"{s.a} @ {s.b}"

    def backward(self, s, g):
        (a_shape, b_shape), a, b = s.in_shapes, s.a, s.b
        if len(a_shape) == 1 and len(b_shape) == 1:
            return [], _grads(s, f"{g} * {b}", f"{g} * {a}")
        a2 = a if len(a_shape) > 1 else f"{a}.reshape(1, -1)"
        b2 = b if len(b_shape) > 1 else f"{b}.reshape(-1, 1)"
        g2 = g
        if len(a_shape) == 1:
            g2 = f"np.expand_dims({g2}, -2)"
        if len(b_shape) == 1:
            g2 = f"np.expand_dims({g2}, -1)"
        grad_a = f"{g2} @ {_swap(b2, max(len(b_shape), 2))}"
        grad_b = f"{_swap(a2, max(len(a_shape), 2))} @ {g2}"
        if len(a_shape) == 1:
            grad_a = f"({grad_a})[..., 0, :]"
        if len(b_shape) == 1:
            grad_b = f"({grad_b})[..., 0]"
        return [], _grads(s, grad_a, grad_b)

    def grad_shape(self, s, i):
        a_shape, b_shape = s.in_shapes
        if len(a_shape) == 1 and len(b_shape) == 1:
            return s.out_shape
        a2 = a_shape if len(a_shape) > 1 else (1,) + a_shape
        b2 = b_shape if len(b_shape) > 1 else b_shape + (1,)
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
        if i == 0:
            return batch + (a2[-2], a2[-1]) if len(a_shape) > 1 else batch + (a2[-1],)
        return batch + (b2[-2], b2[-1]) if len(b_shape) > 1 else batch + (b2[-2],)


class Linear(Template):
    ops, ignored = (lin.Linear,), ("input_needs_grad",)
    formula = "x Wᵀ + b;  dx = g W, dW = gᵀ x, db = Σ g"

    def forward(self, s):
        x, w = s.ins[0], s.ins[1]
        product = f"np.dot({w}, {x})" if len(s.in_shapes[0]) == 1 else f"{x} @ {w}.T"
        if len(s.ins) == 2:
            return product
        bias = s.ins[2]
        if np.result_type(s.out_dtype, s.in_dtypes[2]) == s.out_dtype and not s.gen.fused:
            return f"{product} + {bias}"
        return [f"{s.out} = {product}", f"{s.out} += {bias}"]  # in place: keeps the product's dtype

    def backward(self, s, g):
        x, w = s.ins[0], s.ins[1]
        out_features, in_features = s.in_shapes[1]
        grads: list[str | None] = [f"{g} @ {w}"]
        g_ndim = len(s.out_shape)
        if g_ndim == 1:
            grads += [f"{g}[:, None] * {x}", g]
        else:
            g2, x2 = g, x
            if g_ndim > 2:
                g2, x2 = f"{g}.reshape(-1, {out_features})", f"{x}.reshape(-1, {in_features})"
            rows = int(np.prod(s.out_shape[:-1]))
            grads += [f"{g2}.T * {x2}" if rows == 1 else f"{g2}.T @ {x2}", f"{g2}.sum(axis=0)"]
        return [], _grads(s, *grads[: len(s.ins)])

    def grad_shape(self, s, i):
        if i == 2:
            return s.out_shape if len(s.out_shape) == 1 else (s.in_shapes[1][0],)
        return s.in_shapes[i]

    def forward_into(self, s):
        x, w = s.ins[0], s.ins[1]
        if len(s.in_shapes[0]) > 2 or np.result_type(s.out_dtype, *s.in_dtypes[2:]) != s.out_dtype:
            return None
        one = len(s.in_shapes[0]) == 1
        bias = [f"{s.out} += {s.ins[2]}"] if len(s.ins) == 3 else []
        return lambda buf: [f"{s.out} = np.dot({w}, {x}, out={buf})" if one
                            else f"{s.out} = np.matmul({x}, {w}.T, out={buf})", *bias]

    def backward_into(self, s, g, i):
        x, w = s.ins[0], s.ins[1]
        g_ndim = len(s.out_shape)
        if g_ndim > 2:
            return None
        if i == 0:
            return lambda buf, name: [f"{name} = np.matmul({g}, {w}, out={buf})"]
        if i == 1 and g_ndim == 1:
            return lambda buf, name: [f"{name} = np.multiply({g}[:, None], {x}, out={buf})"]
        if i == 1:
            call = "multiply" if s.out_shape[0] == 1 else "matmul"
            return lambda buf, name: [f"{name} = np.{call}({g}.T, {x}, out={buf})"]
        if g_ndim == 2:  # (g.sum(axis=0) is this reduction)
            return lambda buf, name: [f"{name} = np.add.reduce({g}, axis=0, out={buf})"]
        return None


# ---- random draws -------------------------------------------------------------------------


class DropoutMask(Template):
    """A draw at every call, from the generator the traced op drew from (the same stream)."""

    ops, static, ignored = (rnd.DropoutMask,), ("shape", "p", "dtype"), ("generator",)
    formula = "keep / (1 − p), keep = U[0, 1) ≥ p: a fresh draw at every call"

    def forward(self, s):
        from autograd.compiler.codegen import _literal

        generator = s.node.op.generator
        name = s.gen.generator_names.get(id(generator))
        if name is None:
            name = s.gen.generator_names[id(generator)] = s.gen.names.fresh("generator")
            s.gen.namespace[name] = generator
        p, dtype = s.node.attrs["p"], s.node.attrs["dtype"]
        return (f"({name}.random({_literal(s.node.attrs['shape'])}) >= {_literal(p)})"
                f".astype({_literal(dtype)}) / {_literal(1.0 - p)}")

    def backward(self, s, g):
        return [], []


class RunningStats(Template):
    """BatchNorm's running statistics, updated in place by the op's own ``forward`` (eager's calls)."""

    ops, static, ignored = (st.RunningStats,), ("momentum", "n"), ("running_mean", "running_var", "count")
    formula = "running ← (1 − m)·running + m·batch, in place (count += 1)"

    def forward(self, s):
        name = s.gen.names.fresh(f"{s.out}_op")
        s.gen.namespace[name] = s.node.op  # holds the module's buffers (guarded by identity)
        return f"{name}.forward({s.ins[0]}, {s.ins[1]})"

    def backward(self, s, g):
        return [], [None, None]
