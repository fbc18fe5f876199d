"""Code templates: for each op of ``autograd/ops``, its forward and backward as lines of Python.

A template writes the same numpy calls as the op's own ``forward`` and ``backward`` (so a
compiled program gives bitwise the numbers eager gives), specialised to the shapes seen
while tracing: a broadcast that did not happen needs no ``sum_to``, a 2-d transpose is
``.T``. ``Step`` (from ``codegen``) gives a template the names of the op's inputs and
output, their shapes and dtypes, which inputs need a gradient (``need``), and the op's
parameters rendered as code (``attr``/``subscript``).

* ``forward(s)`` returns an expression (assigned to ``s.out``) or whole lines;
* ``backward(s, g)`` returns ``(lines, grads)``: lines that set temporaries, and one
  expression per input (None where ``need`` is False) for the gradient that input receives;
* ``sforward``/``sbackward``, where present, are the Python-float forms for scalar programs;
* ``grad_shape(s, i)`` is the shape of that gradient before ``sum_to`` (the engine's
  un-broadcast, emitted only where it differs from the input's shape).

``static`` names the op attributes that must be equal between two traces (axes, shapes,
exponents); ``dynamic`` those that may hold per-call arrays (an index, a target);
``ignored`` those that are caches, not parameters. An op type without a template cannot
be compiled (``CompileError``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.ops import elementwise as ew
from autograd.ops import matmul as mm
from autograd.ops import reduce as red
from autograd.ops import shape as sh


class Template:
    ops: tuple[type, ...] = ()
    static: tuple[str, ...] = ()
    dynamic: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    formula = ""
    scalar = False  # has Python-float forms

    def forward(self, s: Any) -> str | list[str]:
        raise NotImplementedError

    def backward(self, s: Any, g: str) -> tuple[list[str], list[str | None]]:
        raise NotImplementedError

    def sforward(self, s: Any) -> str | list[str]:
        return self.forward(s)

    def sbackward(self, s: Any, g: str) -> tuple[list[str], list[str | None]]:
        return self.backward(s, g)

    def grad_shape(self, s: Any, i: int) -> tuple[int, ...]:
        return s.in_shapes[i]


def _grads(s: Any, *exprs: str | None) -> list[str | None]:
    return [e if need else None for e, need in zip(exprs, s.need)]


# ---- elementwise ------------------------------------------------------------------------


class Binary(Template):
    """Broadcasting binary ops: every gradient has the output's shape before ``sum_to``."""

    scalar = True

    def grad_shape(self, s, i):
        return s.out_shape


class Add(Binary):
    ops, formula = (ew.Add,), "a + b"

    def forward(self, s):
        return f"{s.a} + {s.b}"

    def backward(self, s, g):
        return [], _grads(s, g, g)


class Sub(Binary):
    ops, formula = (ew.Sub,), "a - b"

    def forward(self, s):
        return f"{s.a} - {s.b}"

    def backward(self, s, g):
        return [], _grads(s, g, f"-{g}")


class Mul(Binary):
    ops, formula = (ew.Mul,), "a * b"

    def forward(self, s):
        return f"{s.a} * {s.b}"

    def backward(self, s, g):
        return [], _grads(s, f"{g} * {s.b}", f"{g} * {s.a}")


class Div(Binary):
    ops, formula = (ew.Div,), "a / b;  d/db = -(g/b)(a/b)"

    def forward(self, s):
        return f"{s.a} / {s.b}"

    def backward(self, s, g):
        if not s.need[1]:
            return [], [f"{g} / {s.b}", None]
        t = s.tmp("over_b")
        return [f"{t} = {g} / {s.b}"], _grads(s, t, f"-{t} * {s.out}")


class Pow(Binary):
    ops, formula = (ew.Pow,), "a ** b;  d/da = b a^(b-1), d/db = a^b log a"

    def forward(self, s):
        return f"{s.a} ** {s.b}"

    def backward(self, s, g):
        return [], _grads(s, f"pow_grad_base({g}, {s.a}, {s.b})",
                          f"pow_grad_exponent({g}, {s.out}, {s.a}, {s.b})")

    def sforward(self, s):
        return f"pow_f({s.a}, {s.b})"

    def sbackward(self, s, g):
        return [], _grads(s, f"pow_grad_base_f({g}, {s.a}, {s.b})",
                          f"pow_grad_exponent_f({g}, {s.out}, {s.a}, {s.b})")


class Maximum(Binary):
    ops, formula = (ew.Maximum,), "max(a, b);  ties share the gradient"
    fn, loses = "maximum", "<"

    def forward(self, s):
        return f"np.{self.fn}({s.a}, {s.b})"

    def backward(self, s, g):
        ties = s.tmp("ties")
        return [f"{ties} = {s.a} == {s.b}"], _grads(
            s, f"share({g}, {s.a} {self.loses} {s.b}, {ties})",
            f"share({g}, {s.b} {self.loses} {s.a}, {ties})")

    def sforward(self, s):
        return f"{self.fn}_f({s.a}, {s.b})"

    def sbackward(self, s, g):
        return [], _grads(s, f"share_f({g}, {s.a} {self.loses} {s.b}, {s.a} == {s.b})",
                          f"share_f({g}, {s.b} {self.loses} {s.a}, {s.a} == {s.b})")


class Minimum(Maximum):
    ops, formula = (ew.Minimum,), "min(a, b);  ties share the gradient"
    fn, loses = "minimum", ">"


class Where(Template):
    ops, formula = (ew.Where,), "a where condition else b"

    def grad_shape(self, s, i):
        return s.out_shape

    def forward(self, s):
        c, a, b = s.ins
        return f"np.where({c}, {a}, {b})"

    def backward(self, s, g):
        c = s.ins[0]
        zero = s.tmp("zero")
        grads = _grads(s, None, f"np.where({c}, {g}, {zero})", f"np.where({c}, {zero}, {g})")
        return [f"{zero} = {g} * 0"], grads


class Unary(Template):
    """Pointwise functions of one input: numpy ``np.f`` and the scalar ``math.f``."""

    scalar = True
    numpy_fn = math_fn = ""

    def forward(self, s):
        return f"np.{self.numpy_fn}({s.a})"

    def sforward(self, s):
        return f"{self.math_fn}({s.a})"


class Neg(Unary):
    ops, formula = (ew.Neg,), "-a"

    def forward(self, s):
        return f"-{s.a}"

    sforward = forward

    def backward(self, s, g):
        return [], [f"-{g}"]


class PowScalar(Unary):
    ops, static, formula = (ew.PowScalar,), ("exponent",), "a ** p;  d/da = p a^(p-1)"

    def forward(self, s):
        return f"{s.a} ** {s.attr('exponent')}"

    def backward(self, s, g):
        p = s.value("exponent")
        if p == 0:
            return [], [f"{g} * 0"]
        return [], [f"{g} * {s.lit(p)} * {s.a} ** {s.lit(p - 1)}"]

    def sforward(self, s):
        p = s.value("exponent")
        return f"{s.a} ** {p!r}" if type(p) is int else f"pow_f({s.a}, {float(p)!r})"

    def sbackward(self, s, g):
        p = s.value("exponent")
        if p == 0:
            return [], [f"{g} * 0.0"]
        power = f"{s.a} ** {p - 1!r}" if type(p) is int else f"pow_f({s.a}, {float(p - 1)!r})"
        return [], [f"{g} * {float(p)!r} * {power}"]


class Exp(Unary):
    ops, formula, numpy_fn, math_fn = (ew.Exp,), "e^a;  d/da = e^a", "exp", "math.exp"

    def backward(self, s, g):
        return [], [f"{g} * {s.out}"]


class Log(Unary):
    ops, formula, numpy_fn, math_fn = (ew.Log,), "log a;  d/da = 1/a", "log", "math.log"

    def backward(self, s, g):
        return [], [f"{g} / {s.a}"]


class Sqrt(Unary):
    ops, formula, numpy_fn, math_fn = (ew.Sqrt,), "√a;  d/da = 1/(2√a)", "sqrt", "math.sqrt"

    def backward(self, s, g):
        return [], [f"{g} / (2 * {s.out})"]


class Abs(Unary):
    ops, formula, numpy_fn, math_fn = (ew.Abs,), "|a|;  d/da = sign a (0 at 0 and nan)", "abs", "abs"

    def backward(self, s, g):
        return [], [f"{g} * ({s.a} > 0) - {g} * ({s.a} < 0)"]

    def sbackward(self, s, g):
        return [], [f"{g} * ({s.a} > 0.0) - {g} * ({s.a} < 0.0)"]


class Sin(Unary):
    ops, formula, numpy_fn, math_fn = (ew.Sin,), "sin a;  d/da = cos a", "sin", "math.sin"

    def backward(self, s, g):
        return [], [f"{g} * np.cos({s.a})"]

    def sbackward(self, s, g):
        return [], [f"{g} * math.cos({s.a})"]


class Cos(Unary):
    ops, formula, numpy_fn, math_fn = (ew.Cos,), "cos a;  d/da = -sin a", "cos", "math.cos"

    def backward(self, s, g):
        return [], [f"-{g} * np.sin({s.a})"]

    def sbackward(self, s, g):
        return [], [f"-{g} * math.sin({s.a})"]


class Tanh(Unary):
    ops, formula, numpy_fn, math_fn = (ew.Tanh,), "tanh a;  d/da = 1 - tanh²a", "tanh", "math.tanh"

    def backward(self, s, g):
        return [], [f"{g} * (1 - {s.out} * {s.out})"]


class Sigmoid(Unary):
    ops, formula, math_fn = (ew.Sigmoid,), "σ(a) = 1 / (1 + e^-a);  d/da = σ(1 - σ)", "sigmoid_f"

    def forward(self, s):
        return f"sigmoid({s.a})"

    def backward(self, s, g):
        return [], [f"sigmoid_backward({g}, {s.out})"]

    def sbackward(self, s, g):
        return [], [f"(1.0 - {s.out}) * {s.out} * {g}"]


class Softplus(Unary):
    ops, formula, math_fn = (ew.Softplus,), "log(1 + e^a);  d/da = σ(a)", "softplus_f"

    def forward(self, s):
        return f"np.logaddexp(0, {s.a})"

    def backward(self, s, g):
        return [], [f"{g} * sigmoid({s.a})"]

    def sbackward(self, s, g):
        return [], [f"{g} * sigmoid_f({s.a})"]


class ReLU(Unary):
    ops, formula = (ew.ReLU,), "max(a, 0);  the gradient passes where the output is not 0"

    def forward(self, s):
        return f"relu({s.a})"

    def backward(self, s, g):
        return [], [f"{g} * ({s.out} != 0)"]

    def sforward(self, s):
        return f"0.0 if {s.a} <= 0.0 else {s.a}"

    def sbackward(self, s, g):
        return [], [f"{g} * ({s.out} != 0.0)"]


class LeakyReLU(Unary):
    ops, static, formula = (ew.LeakyReLU,), ("negative_slope",), "a if a > 0 else slope a"

    def forward(self, s):
        return f"np.where({s.a} > 0, {s.a}, {s.a} * {s.attr('negative_slope')})"

    def backward(self, s, g):
        return [], [f"np.where({s.a} > 0, {g}, {g} * {s.attr('negative_slope')})"]

    def sforward(self, s):
        return f"{s.a} if {s.a} > 0.0 else {s.a} * {s.attr('negative_slope')}"

    def sbackward(self, s, g):
        return [], [f"{g} if {s.a} > 0.0 else {g} * {s.attr('negative_slope')}"]


class Heaviside(Unary):
    ops, static, formula = (ew.Heaviside,), ("at_zero",), "1 if a > 0, at_zero if a == 0, else 0"

    def forward(self, s):
        return f"np.heaviside({s.a}, {s.attr('at_zero')})"

    def backward(self, s, g):
        return [], [f"{g} * 0"]

    def sforward(self, s):
        return f"heaviside_f({s.a}, {s.attr('at_zero')})"

    def sbackward(self, s, g):
        return [], [f"{g} * 0.0"]


class Clip(Unary):
    ops, static, formula = (ew.Clip,), ("low", "high"), "clamp a to [low, high]"

    def forward(self, s):
        return f"np.clip({s.a}, {s.attr('low')}, {s.attr('high')})"

    def _inside(self, s, both: str) -> str:
        parts = [f"({s.a} == {s.a})"]
        if s.value("low") is not None:
            parts.append(f"({s.a} >= {s.attr('low')})")
        if s.value("high") is not None:
            parts.append(f"({s.a} <= {s.attr('high')})")
        return both.join(parts)

    def backward(self, s, g):
        return [], [f"{g} * ({self._inside(s, ' & ')})"]

    def sforward(self, s):
        return f"clip_f({s.a}, {s.attr('low')}, {s.attr('high')})"

    def sbackward(self, s, g):
        return [], [f"{g} * ({self._inside(s, ' and ')})"]


class Cast(Unary):
    ops, static, formula = (ew.Cast,), ("dtype",), "a as another dtype"
    scalar = False

    def forward(self, s):
        return f"{s.a}.astype({s.attr('dtype')})"

    def backward(self, s, g):
        return [], [f"{g}.astype({s.lit(s.in_dtypes[0])})"]


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
    ops, static, formula = (red.Softmax,), ("axis",), "e^a / Σ e^a;  d = s (g - Σ g s)"

    def forward(self, s):
        e, axis = s.tmp("exp"), s.attr("axis")
        return [
            f"{e} = np.exp({s.a} - {s.a}.max(axis={axis}, keepdims=True))",
            f"{s.out} = {e} / {e}.sum(axis={axis}, keepdims=True)",
        ]

    def backward(self, s, g):
        return [], [f"{s.out} * ({g} - ({g} * {s.out}).sum(axis={s.attr('axis')}, keepdims=True))"]


class LogSoftmax(Template):
    ops, static, formula = (red.LogSoftmax,), ("axis",), "a - log Σ e^a;  d = g - softmax Σ g"

    def forward(self, s):
        return f"log_softmax({s.a}, {s.attr('axis')})"

    def backward(self, s, g):
        return [], [f"{g} - np.exp({s.out}) * {g}.sum(axis={s.attr('axis')}, keepdims=True)"]


class SoftmaxCrossEntropy(Template):
    ops = (red.SoftmaxCrossEntropy,)
    static, dynamic, ignored = ("axis", "reduction"), ("target",), ("_seen",)
    formula = "-log softmax(z)[target];  dz = softmax(z) - onehot(target)"

    def forward(self, s):
        probs = s.extra("softmax")
        args = f"{s.attr('target')}, {s.attr('axis')}, {s.attr('reduction')}"
        return [f"{s.out}, {probs} = softmax_cross_entropy({s.a}, {args})"]

    def backward(self, s, g):
        args = f"{s.attr('target')}, {s.attr('axis')}, {s.attr('reduction')}"
        return [], [f"softmax_cross_entropy_backward({g}, {s.extra('softmax')}, {args})"]


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
        return f"{s.a}[{s.subscript('index')}]"

    def backward(self, s, g):
        kernel = "scatter" if sh.is_basic_index(s.value("index")) else "scatter_add"
        return [], [f"{kernel}({g}, {s.attr('index')}, {s.lit(s.in_shapes[0])})"]


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
    ops, ignored = (mm.Linear,), ("input_needs_grad",)
    formula = "x Wᵀ + b;  dx = g W, dW = gᵀ x, db = Σ g"

    def forward(self, s):
        x, w = s.ins[0], s.ins[1]
        product = f"np.dot({w}, {x})" if len(s.in_shapes[0]) == 1 else f"{x} @ {w}.T"
        if len(s.ins) == 2:
            return product
        bias = s.ins[2]
        if np.result_type(s.out_dtype, s.in_dtypes[2]) == s.out_dtype:
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


TEMPLATES: dict[type, Template] = {}
for _template in list(globals().values()):
    if isinstance(_template, type) and issubclass(_template, Template):
        for _op in _template.ops:
            TEMPLATES[_op] = _template()


def template_for(op: Any) -> Template | None:
    """The template of ``op``'s exact class (a subclass of a known op is not trusted)."""
    return TEMPLATES.get(type(op))
