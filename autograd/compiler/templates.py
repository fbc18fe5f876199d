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
exponents); ``dynamic`` those that may hold per-call arrays (an index);
``ignored`` those that are caches, not parameters. An op type without a template cannot
be compiled (``CompileError``). This module holds the base class and the elementwise
ops; ``array_templates`` the reductions, shape ops and matrix products.
"""

from __future__ import annotations

from typing import Any

from autograd.compiler.kernels import _EXP_OVERFLOW
from autograd.ops import elementwise as ew


class Template:
    ops: tuple[type, ...] = ()
    static: tuple[str, ...] = ()
    dynamic: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    formula = ""
    scalar = False  # has Python-float forms
    # The forward values its backward reads, as the op's ``backward_reads`` names them; None:
    # the op's declaration (a template that keeps something else, as an extra, says so here)
    backward_reads: tuple[str, ...] | None = None

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

    # Forms that write into a preallocated buffer (``out=``), for a training step's reused
    # storage (``autograd.compiler.buffers``): the same numpy calls as ``forward``/``backward``,
    # so the same bits. ``forward_into(s)`` returns ``write(buffer) -> lines`` that set ``s.out``
    # to the buffer filled with the op's result; ``backward_into(s, g, i)`` returns
    # ``write(buffer, name) -> lines`` that set ``name`` to input i's gradient. None: no such form.

    into_extra: str | None = None  # the buffer holds this extra (of input 0's shape), not s.out

    def forward_into(self, s: Any) -> Any:
        return None

    def backward_into(self, s: Any, g: str, i: int) -> Any:
        return None


def _grads(s: Any, *exprs: str | None) -> list[str | None]:
    return [e if need else None for e, need in zip(exprs, s.need)]


# ---- elementwise ------------------------------------------------------------------------


class Binary(Template):
    """Broadcasting binary ops: every gradient has the output's shape before ``sum_to``."""

    scalar = True
    ufunc = ""

    def forward_into(self, s):
        if not self.ufunc:
            return None
        return lambda buf: [f"{s.out} = np.{self.ufunc}({s.a}, {s.b}, out={buf})"]

    def grad_shape(self, s, i):
        return s.out_shape


class Add(Binary):
    ufunc = "add"
    ops, formula = (ew.Add,), "a + b"

    def forward(self, s):
        return f"{s.a} + {s.b}"

    def backward(self, s, g):
        return [], _grads(s, g, g)


class Sub(Binary):
    ufunc = "subtract"
    ops, formula = (ew.Sub,), "a - b"

    def forward(self, s):
        return f"{s.a} - {s.b}"

    def backward(self, s, g):
        return [], _grads(s, g, f"-{g}")


class Mul(Binary):
    ufunc = "multiply"
    ops, formula = (ew.Mul,), "a * b"

    def forward(self, s):
        return f"{s.a} * {s.b}"

    def backward(self, s, g):
        return [], _grads(s, f"{g} * {s.b}", f"{g} * {s.a}")

    def backward_into(self, s, g, i):
        other = s.b if i == 0 else s.a
        return lambda buf, name: [f"{name} = np.multiply({g}, {other}, out={buf})"]


class Div(Binary):
    ufunc = "true_divide"
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

    def forward_into(self, s):
        if not self.numpy_fn:
            return None
        return lambda buf: [f"{s.out} = np.{self.numpy_fn}({s.a}, out={buf})"]

    def sforward(self, s):
        return f"{self.math_fn}({s.a})"


class Neg(Unary):
    ops, formula = (ew.Neg,), "-a"
    numpy_fn = "negative"  # (-a is np.negative(a))

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

    def backward_into(self, s, g, i):
        return lambda buf, name: [f"{name} = np.multiply({g}, {s.out}, out={buf})"]


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

    def backward_into(self, s, g, i):
        return lambda buf, name: [  # the same three operations as g * (1 - out * out)
            f"{name} = np.multiply({s.out}, {s.out}, out={buf})",
            f"np.subtract(1, {name}, out={name})",
            f"np.multiply({g}, {name}, out={name})",
        ]


class Sigmoid(Unary):
    ops, formula, math_fn = (ew.Sigmoid,), "σ(a) = 1 / (1 + e^-a);  d/da = σ(1 - σ)", "sigmoid_f"

    def forward(self, s):
        return f"sigmoid({s.a})"

    def backward(self, s, g):
        return [], [f"sigmoid_backward({g}, {s.out})"]

    def forward_into(self, s):
        limit = _EXP_OVERFLOW.get(s.out_dtype)
        if limit is None:
            return lambda buf: [f"{s.out} = sigmoid_into({s.a}, {buf})"]
        return lambda buf: [  # sigmoid_into written out (a call fewer on the hot path)
            f"if np.minimum.reduce({s.a}, axis=None) > {-limit!r}:  # e^-a cannot overflow",
            f"    {s.out} = np.negative({s.a}, out={buf})",
            f"    np.exp({s.out}, out={s.out})",
            f"    {s.out} += 1.0",
            f"    np.reciprocal({s.out}, out={s.out})",
            "else:",
            f"    {s.out} = sigmoid_into({s.a}, {buf})",
        ]

    def backward_into(self, s, g, i):
        return lambda buf, name: [f"{name} = sigmoid_backward_into({g}, {s.out}, {buf})"]

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

    def forward_into(self, s):  # (relu on an array is np.maximum(a, 0))
        return lambda buf: [f"{s.out} = np.maximum({s.a}, 0, out={buf})"]

    def backward_into(self, s, g, i):
        return lambda buf, name: [f"{name} = np.multiply({g}, {s.out} != 0, out={buf})"]

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



def _registry() -> dict[type, Template]:
    from autograd.compiler import array_templates  # noqa: F401  (defines the rest: reductions, shapes, products)

    found: dict[type, Template] = {}
    stack = list(Template.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        for op in cls.__dict__.get("ops", ()):
            found[op] = cls()
    return found


TEMPLATES: dict[type, Template] = _registry()


def template_for(op: Any) -> Template | None:
    """The template of ``op``'s exact class (a subclass of a known op is not trusted)."""
    return TEMPLATES.get(type(op))
