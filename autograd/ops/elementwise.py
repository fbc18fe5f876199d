"""Elementwise operations. Binary ones broadcast; the engine un-broadcasts their gradients.

Each backward rule is the derivative from a calculus table times the incoming
gradient ``g`` (the chain rule): d/dx sin x = cos x, so ``Sin.backward`` is
``g * cos(x)``.
"""

from __future__ import annotations

import numbers

import numpy as np

from autograd.graph import Op


class Add(Op):
    name = "add"
    backward_reads = ()

    def forward(self, a, b):
        return a + b

    rule = ("g", "g")

    def backward(self, g, out, a, b):
        return g, g


class Sub(Op):
    name = "sub"
    backward_reads = ()

    def forward(self, a, b):
        return a - b

    rule = ("g", "−g")

    def backward(self, g, out, a, b):
        return g, -g


class Mul(Op):
    name = "mul"
    backward_reads = ("a", "b")

    def forward(self, a, b):
        return a * b

    rule = ("g · b", "g · a")

    def backward(self, g, out, a, b):
        return g * b, g * a


class Div(Op):
    name = "div"
    backward_reads = ("b", "out")

    def forward(self, a, b):
        return a / b

    rule = ("g / b", "−g · a / b²")

    def backward(self, g, out, a, b):
        ga = g / b
        return ga, -ga * out  # d(a/b)/db = -a/b^2 = -(1/b) * (a/b)


class Neg(Op):
    name = "neg"
    backward_reads = ()

    def forward(self, a):
        return -a

    rule = ("−g",)

    def backward(self, g, out, a):
        return (-g,)


class Pow(Op):
    """``a ** b`` with a tensor exponent."""

    name = "pow"
    backward_reads = ("a", "b", "out")

    def forward(self, a, b):
        return a**b

    rule = ("g · b · a^(b − 1)", "g · a^b · log(a)")

    def backward(self, g, out, a, b):
        zero = np.zeros_like(g)
        with np.errstate(divide="ignore", invalid="ignore"):
            # d(a^b)/da = b a^(b-1). Where b == 0, a^b is the constant 1 and the formula gives
            # 0 * a^-1 = 0, except where a^-1 is not finite (a == 0, or NaN): there it gives
            # nan, and 0 is taken, as in PyTorch. So x ** [0, 1, 2] at x = 0 has gradient
            # 0 + 1 + 0. (The formula is kept elsewhere: its derivative in b is needed.)
            power = a ** (b - 1)
            ga = np.where((b == 0) & ~np.isfinite(power), zero, g * b * power)
            # d(a^b)/db = a^b log a. At a == 0 with b >= 0, 0^b is 0 (or 1) and the formula's
            # 0 * log 0 is nan: take 0, as PyTorch does. With b < 0 the formula stands:
            # 0^b = inf, and inf * log 0 = -inf, as in PyTorch.
            gb = np.where((a == 0) & (b >= 0), zero, g * out * np.log(a))
        return ga, gb


class PowScalar(Op):
    """``a ** p`` with a constant exponent ``p``."""

    name = "pow"
    backward_reads = ("a",)

    def __init__(self, exponent: float) -> None:
        # a numpy scalar becomes a Python number, so a float32 base stays float32
        self.exponent = exponent.item() if isinstance(exponent, np.generic) else exponent

    def forward(self, a):
        return a**self.exponent

    rule = ("g · exponent · a^(exponent − 1)",)

    def backward(self, g, out, a):
        p = self.exponent
        if p == 0:  # a constant: no gradient, even where g is inf or nan (g · 0 would be nan)
            return (np.zeros_like(g),)
        return (g * p * a ** (p - 1),)


class Exp(Op):
    name = "exp"
    backward_reads = ("out",)

    def forward(self, a):
        return np.exp(a)

    rule = ("g · exp(a)",)

    def backward(self, g, out, a):
        return (g * out,)


class Log(Op):
    name = "log"
    backward_reads = ("a",)

    def forward(self, a):
        return np.log(a)

    rule = ("g / a",)

    def backward(self, g, out, a):
        return (g / a,)


class Sqrt(Op):
    name = "sqrt"
    backward_reads = ("out",)

    def forward(self, a):
        return np.sqrt(a)

    rule = ("g / (2 · sqrt(a))",)

    def backward(self, g, out, a):
        return (g / (2 * out),)


class Abs(Op):
    name = "abs"
    backward_reads = ("a",)

    def forward(self, a):
        return np.abs(a)

    rule = ("g · sign(a)",)

    def backward(self, g, out, a):
        # g * sign(a), with sign(a) = (a > 0) - (a < 0): 0 at a == 0, and 0 at NaN, as
        # PyTorch's sign (numpy's sign(NaN) is NaN)
        return (g * (a > 0) - g * (a < 0),)


class Sin(Op):
    name = "sin"
    backward_reads = ("a",)

    def forward(self, a):
        return np.sin(a)

    rule = ("g · cos(a)",)

    def backward(self, g, out, a):
        return (g * np.cos(a),)


class Cos(Op):
    name = "cos"
    backward_reads = ("a",)

    def forward(self, a):
        return np.cos(a)

    rule = ("−g · sin(a)",)

    def backward(self, g, out, a):
        return (-g * np.sin(a),)


class Tanh(Op):
    name = "tanh"
    backward_reads = ("out",)

    def forward(self, a):
        return np.tanh(a)

    rule = ("g · (1 − tanh(a)²)",)

    def backward(self, g, out, a):
        return (g * (1 - out * out),)


class Sigmoid(Op):
    """σ(a) = 1 / (1 + e^-a), the formula as the handouts write it, for any a."""

    name = "sigmoid"
    backward_reads = ("out",)

    def forward(self, a):
        if a.dtype == np.float16:  # its e^-a overflows below a ≈ −11, where σ is still 1.5e-5
            return self.forward(a.astype(np.float32)).astype(np.float16)  # as PyTorch computes it
        # Below a ≈ −709 (float64; −88 in float32) e^-a overflows to inf and 1 / (1 + inf) is
        # 0, as in PyTorch: σ is smaller than the type's smallest normal number there. The
        # overflow is expected, so numpy's warning is off.
        with np.errstate(over="ignore"):
            return 1 / (1 + np.exp(-a))

    rule = ("g · σ(a) · (1 − σ(a))",)

    def backward(self, g, out, a):
        return ((1 - out) * out * g,)


class Softplus(Op):
    """ln(1 + e^a), exact for any |a|; its derivative is σ(a)."""

    name = "softplus"
    backward_reads = ("a",)

    def forward(self, a):
        return np.logaddexp(0, a)

    rule = ("g · σ(a)",)

    def backward(self, g, out, a):
        return (g * sigmoid(a),)  # the Sigmoid op, on arrays or (create_graph) Tensors


class ReLU(Op):
    """max(a, 0). Its derivative at exactly 0 is taken as 0, as in PyTorch."""

    name = "relu"
    backward_reads = ("out",)

    def forward(self, a):
        return np.maximum(a, 0)  # (NaN stays NaN)

    rule = ("g · [a > 0]",)

    def backward(self, g, out, a):
        # The gradient passes wherever the output was not clamped to 0: where a > 0, and at a
        # NaN, which the forward passes on (PyTorch likewise masks only where out <= 0).
        # Elsewhere it is 0, even where g is inf or nan (g · 0 would be nan).
        return (np.where(out != 0, g, 0),)


class LeakyReLU(Op):
    """a where a > 0, else ``negative_slope * a``. The slope is a constant number."""

    name = "leaky_relu"
    backward_reads = ("a",)

    def __init__(self, negative_slope: float) -> None:
        # A Tensor slope would be used as a constant and silently get no gradient; an array
        # would change the output's shape or dtype. Only a number is accepted, kept as a
        # Python float so that float32 inputs stay float32.
        if not isinstance(negative_slope, numbers.Real):
            raise TypeError(
                f"leaky_relu: negative_slope must be a number, not {type(negative_slope).__name__}; "
                "pass a number such as 0.01 (a learnable slope is not supported)"
            )
        self.negative_slope = float(negative_slope)

    def forward(self, a):
        return np.where(a > 0, a, a * self.negative_slope)

    rule = ("g · ([a > 0] + negative_slope · [a ≤ 0])",)

    def backward(self, g, out, a):
        return (np.where(a > 0, g, g * self.negative_slope),)


class Heaviside(Op):
    """The hard threshold: 1 where a > 0, ``at_zero`` where a == 0, else 0.

    Its derivative is 0 almost everywhere, so no gradient passes through it.
    """

    name = "threshold"
    backward_reads = ()

    def __init__(self, at_zero: float) -> None:
        self.at_zero = at_zero.item() if isinstance(at_zero, np.generic) else at_zero

    def forward(self, a):
        return np.heaviside(a, self.at_zero)

    rule = ("0",)

    def backward(self, g, out, a):
        return (g * 0,)


class Clip(Op):
    """Clamp to [low, high]; the gradient passes where low <= a <= high (as in PyTorch)."""

    name = "clip"
    backward_reads = ("a",)

    def __init__(self, low: float | None, high: float | None) -> None:
        for bound in (low, high):  # a Tensor bound would be a constant that gets no gradient
            if bound is not None and not isinstance(bound, numbers.Real):
                raise TypeError(
                    f"clip: min and max must be numbers or None, not {type(bound).__name__}; "
                    "for a tensor bound write maximum(x, low) / minimum(x, high)"
                )
        # numpy scalars become Python numbers, so a float32 input stays float32
        self.low, self.high = (b.item() if isinstance(b, np.generic) else b for b in (low, high))

    def forward(self, a):
        return np.clip(a, self.low, self.high)

    rule = ("g · [low ≤ a ≤ high]",)

    def backward(self, g, out, a):
        inside = a == a  # all True (and False for NaN)
        if self.low is not None:
            inside = inside & (a >= self.low)
        if self.high is not None:
            inside = inside & (a <= self.high)
        return (np.where(inside, g, 0),)  # 0 outside, even where g is inf or nan


def _share(g, loses, ties):
    """An operand's part of g in a max or min: none where it loses, half at a tie, else all.

    Where a NaN is compared, neither operand loses or ties, so both get all of g (the
    result is NaN and either operand could have made it), as in PyTorch.
    """
    return np.where(loses, np.zeros_like(g), np.where(ties, g * 0.5, g))


class Maximum(Op):
    """Elementwise max; at ties the gradient is split evenly, as in PyTorch."""

    name = "maximum"
    backward_reads = ("a", "b")

    def forward(self, a, b):
        return np.maximum(a, b)

    rule = ("g · ([a > b] + [a = b] / 2)", "g · ([b > a] + [a = b] / 2)")

    def backward(self, g, out, a, b):
        ties = a == b
        return _share(g, a < b, ties), _share(g, b < a, ties)


class Minimum(Op):
    """Elementwise min; at ties the gradient is split evenly, as in PyTorch."""

    name = "minimum"
    backward_reads = ("a", "b")

    def forward(self, a, b):
        return np.minimum(a, b)

    rule = ("g · ([a < b] + [a = b] / 2)", "g · ([b < a] + [a = b] / 2)")

    def backward(self, g, out, a, b):
        ties = a == b
        return _share(g, a > b, ties), _share(g, b > a, ties)


class Where(Op):
    """``a`` where ``condition`` holds, else ``b``. The condition gets no gradient."""

    name = "where"
    backward_reads = ("condition",)

    def forward(self, condition, a, b):
        return np.where(condition, a, b)

    rule = (None, "g · [condition]", "g · (1 − [condition])")

    def backward(self, g, out, condition, a, b):
        # 0 for the side not taken, even where g is inf or nan (g · 0 would be nan)
        return None, np.where(condition, g, 0), np.where(condition, 0, g)


class Cast(Op):
    """Convert to another dtype; the gradient is converted back."""

    name = "cast"
    backward_reads = ()

    def __init__(self, dtype) -> None:
        self.dtype = np.dtype(dtype)

    def forward(self, a):
        return a.astype(self.dtype)

    rule = ("g",)

    def backward(self, g, out, a):
        return (g.astype(a.dtype),)


add, sub, mul, div, neg, pow_ = Add(), Sub(), Mul(), Div(), Neg(), Pow()
exp, log, sqrt, abs_, sin, cos = Exp(), Log(), Sqrt(), Abs(), Sin(), Cos()
tanh, sigmoid, relu, softplus = Tanh(), Sigmoid(), ReLU(), Softplus()
maximum, minimum, where = Maximum(), Minimum(), Where()
