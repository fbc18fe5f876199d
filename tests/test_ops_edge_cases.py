"""Edge cases where a gradient could be silently wrong: zeros, NaN, infinities, 0-d tensors.

Each case states chainrule's expected numbers and, where PyTorch has the behaviour, checks
the same program against PyTorch (value and gradient, NaN and infinities included). The
comparisons skip when PyTorch is not installed.

1. ``a ** b`` at a == 0 and b == 0 (polynomial features, ``x ** x``, ``0 ** b``);
2. ``leaky_relu`` takes only a number as its slope;
3. complex results are not differentiated;
4. relu, abs, maximum, minimum and pow at NaN and infinite inputs;
5. reductions with axis 0 or -1 of a 0-d tensor;
6. out-of-range axes and indices raise numpy's error types (and ShapeError);
7. gradcheck: its inputs survive an exception in f, and infinities must match.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd
import nn
from autograd import GradcheckError, Op, ShapeError, Tensor, gradcheck, gradgradcheck

TORCH_REASON = "install torch to run the PyTorch comparisons"
AxisError = getattr(np, "exceptions", np).AxisError

nan, inf = np.nan, np.inf


def run(f: Callable[..., Any], *values: Any, dtype: Any = np.float64) -> tuple[np.ndarray, list]:
    """chainrule: f's value and the gradient of its sum with respect to each argument."""
    leaves = [Tensor(np.array(v, dtype=dtype), requires_grad=True) for v in values]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf and nan are the point here
        out = f(*leaves)
        out.sum().backward()
    return out.data, [leaf.grad.data for leaf in leaves]


def run_torch(f: Callable[..., Any], *values: Any) -> tuple[np.ndarray, list]:
    """The same in PyTorch (float64); a leaf without a gradient gets zeros."""
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    leaves = [torch.tensor(np.array(v, dtype=np.float64), requires_grad=True) for v in values]
    out = f(*leaves)
    out.sum().backward()
    grads = [np.zeros(leaf.shape) if leaf.grad is None else leaf.grad.numpy() for leaf in leaves]
    return out.detach().numpy(), grads


def assert_same(actual: Any, expected: Any, what: str = "") -> None:
    """Equal to 1e-12 relative, with NaN matching NaN and inf matching the same inf."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=0, err_msg=what)


def assert_matches_torch(f: Callable, f_torch: Callable | None, *values: Any) -> None:
    value, grads = run(f, *values)
    value_t, grads_t = run_torch(f if f_torch is None else f_torch, *values)
    assert_same(value, value_t, "value")
    for k, (g, g_t) in enumerate(zip(grads, grads_t)):
        assert_same(g, g_t, f"gradient of argument {k}")


def leaf(values: Any) -> Tensor:
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


# ---- 1. a ** b at zero ---------------------------------------------------------------


def test_polynomial_features_at_zero() -> None:
    # the features x^0, x^1, x^2 of x = 0, 1, 2 (one row each), summed: d/dx = 0 + 1 + 2x
    x = [[0.0], [1.0], [2.0]]
    powers = [0.0, 1.0, 2.0]
    value, (gx, gp) = run(lambda x, p: x**p, x, powers)
    assert_same(value, [[1, 0, 0], [1, 1, 1], [1, 2, 4]])
    assert_same(gx, [[1.0], [3.0], [5.0]])  # was [nan, 3, 5]: 0 * 0^-1 at x = 0
    assert_same(gp, [np.log(2), 2 * np.log(2), 4 * np.log(2)])  # d/dp x^p = x^p log x; 0 at x = 0


def test_scalar_raised_to_a_tensor_of_powers_at_zero() -> None:
    x = Tensor(0.0, requires_grad=True)
    (x ** Tensor([0.0, 1.0, 2.0])).sum().backward()
    assert x.grad.item() == 1.0  # was nan


def test_x_to_the_x_at_zero() -> None:
    value, (g,) = run(lambda x: x**x, [0.0])
    assert_same(value, [1.0])  # 0^0 = 1, as in numpy and PyTorch
    assert_same(g, [0.0])  # was nan


def test_zero_base_exponent_gradient() -> None:
    # d/db 0^b: 0 where 0^b is 0 or 1 (b >= 0); inf * log 0 = -inf where 0^b = inf (b < 0)
    value, (ga, gb) = run(lambda a, b: a**b, [0.0] * 5, [-1.0, -0.5, 0.0, 0.5, 2.0])
    assert_same(value, [inf, inf, 1.0, 0.0, 0.0])
    assert_same(gb, [-inf, -inf, 0.0, 0.0, 0.0])  # was 0 at b < 0
    assert_same(ga, [-inf, -inf, 0.0, inf, 0.0])  # d/da a^b = b a^(b-1); 0 at b == 0 (was nan)


def test_nan_base_to_the_zero() -> None:
    value, (ga, gb) = run(lambda a, b: a**b, [nan], [0.0])
    assert_same(value, [1.0])  # numpy and PyTorch: anything ** 0 is 1
    assert_same(ga, [0.0])  # a constant in a: 0, as in PyTorch (the formula gives nan)
    assert_same(gb, [nan])  # 1 * log(nan)


POW_CASES = {
    "polynomial_features": ([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0]),
    "elementwise_at_zero": ([0.0, 0.0, 0.0], [0.0, 1.0, 2.0]),
    "zero_base": ([0.0] * 6, [-2.0, -1.0, -0.5, 0.0, 0.5, 2.0]),
    "scalar_base": (0.0, [0.0, 1.0, 2.0, 3.0]),
    "nan_and_inf": (
        [nan, 1.0, nan, 2.0, inf, -inf, inf, 1.0, 0.0, -2.0, -0.5, 0.5, nan],
        [1.0, nan, nan, 1.0, inf, -inf, 1.0, -inf, nan, 2.0, inf, -inf, 0.0],
    ),
}


@pytest.mark.parametrize("case", POW_CASES.values(), ids=POW_CASES.keys())
def test_pow_tensor_exponent_matches_torch(case: tuple) -> None:
    assert_matches_torch(lambda a, b: a**b, None, *case)


def test_x_to_the_x_matches_torch() -> None:
    assert_matches_torch(lambda x: x**x, None, [0.0, 0.5, 1.0, 2.0])


def test_weighted_polynomial_features_match_torch() -> None:
    x = [[0.0], [0.5], [-1.0]]  # a column of inputs, x = 0 among them
    powers = [0.0, 1.0, 2.0, 3.0]
    weights = [[0.5], [-1.0], [2.0], [0.25]]
    assert_matches_torch(lambda x, p, w: (x**p) @ w, None, x, powers, weights)


@pytest.mark.parametrize("p", [0, 1, 2, 3, 0.5, 1.5, -1, -2, 0.0])
def test_pow_scalar_exponent_at_zero_matches_torch(p: float) -> None:
    # includes x ** 0 at x = 0 (gradient 0) and the infinite slopes of x ** 0.5 and x ** -1
    assert_matches_torch(lambda x: x**p, None, [0.0, 1.0, -1.0, 2.0, nan, inf])


def test_pow_gradients_at_regular_points() -> None:
    # b == 0 exactly with a != 0 keeps the full second derivative (d/db of b a^(b-1) is 1/a)
    a = leaf([0.5, 1.5, 2.0, 3.0])
    b = leaf([0.0, 1.0, -1.5, 2.5])
    assert gradcheck(lambda a, b: a**b, [a, b])
    assert gradgradcheck(lambda a, b: a**b, [a, b])
    assert gradcheck(lambda x: x**x, [leaf([0.3, 1.0, 2.0])])
    assert gradgradcheck(lambda x: x**x, [leaf([0.3, 1.0, 2.0])])


# ---- 2. leaky_relu's slope -----------------------------------------------------------

SLOPE_CALLS = {
    "method": lambda x, s: x.leaky_relu(s),
    "function": lambda x, s: autograd.leaky_relu(x, s),
    "nn.functional": lambda x, s: nn.functional.leaky_relu(x, s),
    "nn.LeakyReLU": lambda x, s: nn.LeakyReLU(s)(x),
}


@pytest.mark.parametrize("call", SLOPE_CALLS.values(), ids=SLOPE_CALLS.keys())
@pytest.mark.parametrize(
    "slope",
    [Tensor(0.1), Tensor(0.1, requires_grad=True), np.array(0.1), np.array([0.1, 0.2])],
    ids=["tensor", "tensor_requiring_grad", "0d_array", "array"],
)
def test_leaky_relu_slope_must_be_a_number(call: Callable, slope: Any) -> None:
    x = leaf([-1.0, 2.0])
    with pytest.raises(TypeError, match=r"leaky_relu: negative_slope must be a number.*pass a number"):
        call(x, slope)


def test_leaky_relu_accepts_numbers_and_keeps_float32() -> None:
    x = Tensor(np.array([-2.0, 3.0], dtype=np.float32), requires_grad=True)
    for slope in [0.1, 1, np.float64(0.1), np.float32(0.1), np.int64(0)]:
        y = x.leaky_relu(slope)
        assert y.dtype == np.float32  # a numpy float64 slope used to make it float64
        np.testing.assert_allclose(y.data, [-2.0 * float(slope), 3.0], rtol=1e-6)
    x.grad = None
    x.leaky_relu(np.float64(0.25)).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [0.25, 1.0])


def test_leaky_relu_gradcheck() -> None:
    assert gradcheck(lambda t: t.leaky_relu(0.2), [leaf([-1.5, -0.3, 0.4, 2.0])])


# ---- 3. complex values ---------------------------------------------------------------


def test_complex_results_are_not_differentiated() -> None:
    # |x (1 + i)| = sqrt(2) |x|: PyTorch's gradient is sqrt(2); chainrule's real-only
    # backward rules gave 0. Until complex values are supported, this must be an error.
    x = leaf([1.0, 2.0])
    with warnings.catch_warnings(), pytest.raises(TypeError, match="complex"):
        warnings.simplefilter("ignore")  # (numpy's ComplexWarning, should one come first)
        (x * (1 + 1j)).abs().sum().backward()


def test_complex_leaf_cannot_require_grad() -> None:
    with pytest.raises(TypeError, match="complex"):
        Tensor([1 + 1j], requires_grad=True)


def test_gradcheck_refuses_complex_inputs() -> None:
    with pytest.raises(TypeError, match="complex"):  # from Tensor already, else from gradcheck
        gradcheck(lambda t: t * 2, [Tensor(np.array([1 + 1j]), requires_grad=True)])


# ---- 4. NaN and infinite inputs --------------------------------------------------------

SPECIAL = [nan, inf, -inf, 0.0, 1.0, -1.0, 2.5]
# pairs: NaN against a number, both NaN, ties (finite and infinite), orderings
A = [nan, 1.0, nan, 2.0, 2.0, inf, -inf, inf, 1.0, 0.0, -2.0, -inf]
B = [1.0, nan, nan, 2.0, 1.0, inf, -inf, 1.0, -inf, 0.0, nan, nan]


def test_relu_at_nan() -> None:
    value, (g,) = run(lambda x: x.relu(), [nan, -1.0, 0.0, 2.0])
    assert_same(value, [nan, 0.0, 0.0, 2.0])
    assert_same(g, [1.0, 0.0, 0.0, 1.0])  # NaN passes the gradient, as in PyTorch (was 0)


def test_abs_at_nan() -> None:
    value, (g,) = run(lambda x: x.abs(), [nan, -1.0, 0.0, 2.0])
    assert_same(value, [nan, 1.0, 0.0, 2.0])
    assert_same(g, [0.0, -1.0, 0.0, 1.0])  # sign(NaN) is 0 in PyTorch (was nan)


def test_maximum_and_minimum_at_nan_and_ties() -> None:
    # a NaN on either side: both operands get the gradient (neither is smaller); ties split it
    for f in (lambda a, b: a.maximum(b), lambda a, b: a.minimum(b)):
        value, (ga, gb) = run(f, [nan, 1.0, nan, 3.0], [1.0, nan, nan, 3.0])
        assert_same(value, [nan, nan, nan, 3.0])
        assert_same(ga, [1.0, 1.0, 1.0, 0.5])  # was 0 where a NaN was involved
        assert_same(gb, [1.0, 1.0, 1.0, 0.5])


def torch_leaky_relu(x: Any, slope: float) -> Any:
    import torch

    return torch.nn.functional.leaky_relu(x, slope)


UNARY_AT_SPECIAL = {
    "relu": (lambda x: x.relu(), None),
    "abs": (lambda x: x.abs(), None),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda x: torch_leaky_relu(x, 0.1)),
    "clip": (lambda x: x.clip(-0.5, 0.5), lambda x: x.clamp(-0.5, 0.5)),
    "pow_2": (lambda x: x**2, None),
    "pow_3": (lambda x: x**3, None),
    "pow_0": (lambda x: x**0, None),
    "pow_neg1": (lambda x: x**-1, None),
    "sqrt": (lambda x: x.sqrt(), None),
    "exp": (lambda x: x.exp(), None),
    "tanh": (lambda x: x.tanh(), None),
    "sigmoid": (lambda x: x.sigmoid(), None),
}


@pytest.mark.parametrize(("f", "f_torch"), UNARY_AT_SPECIAL.values(), ids=UNARY_AT_SPECIAL.keys())
def test_unary_at_nan_and_inf_matches_torch(f: Callable, f_torch: Callable | None) -> None:
    assert_matches_torch(f, f_torch, SPECIAL)


BINARY_AT_SPECIAL = {
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "pow": lambda a, b: a**b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("f", BINARY_AT_SPECIAL.values(), ids=BINARY_AT_SPECIAL.keys())
def test_binary_at_nan_and_inf_matches_torch(f: Callable) -> None:
    assert_matches_torch(f, None, A, B)


def test_maximum_minimum_broadcast_ties_match_torch() -> None:
    a = [[0.0], [1.0], [nan]]
    b = [1.0, 0.0, 1.0, nan]
    assert_matches_torch(lambda a, b: a.maximum(b), None, a, b)
    assert_matches_torch(lambda a, b: a.minimum(b), None, a, b)


def test_float32_stays_float32() -> None:
    cases = {
        "pow": (lambda a, b: a**b, [0.0, 2.0], [0.0, 1.5]),
        "maximum": (lambda a, b: a.maximum(b), [1.0, 2.0], [1.0, 3.0]),
        "minimum": (lambda a, b: a.minimum(b), [1.0, 2.0], [1.0, 3.0]),
        "abs": (lambda a: a.abs(), [-1.0, nan]),
        "relu": (lambda a: a.relu(), [-1.0, nan]),
        "leaky_relu": (lambda a: a.leaky_relu(np.float64(0.1)), [-1.0, 2.0]),
    }
    for name, (f, *values) in cases.items():
        value, grads = run(f, *values, dtype=np.float32)
        assert value.dtype == np.float32, name
        assert all(g.dtype == np.float32 for g in grads), name


def test_nan_rules_gradcheck_at_regular_points() -> None:
    a = leaf([0.3, -1.2, 2.0, -0.7])
    b = leaf([1.1, -0.4, 1.0, -2.0])
    for f in (lambda a, b: a.maximum(b), lambda a, b: a.minimum(b)):
        assert gradcheck(f, [a, b])
        assert gradgradcheck(f, [a, b])
    for f in (lambda x: x.abs(), lambda x: x.relu(), lambda x: x.abs() * x):
        assert gradcheck(f, [a])
        assert gradgradcheck(f, [a])


def test_create_graph_through_the_new_rules() -> None:
    # second derivatives, where the backward rules run on Tensors
    x = leaf([0.5, 2.0])
    p = leaf([0.0, 3.0])
    (gx,) = autograd.grad((x**p).sum(), [x], create_graph=True)
    (hx,) = autograd.grad(gx.sum(), [x])
    np.testing.assert_allclose(hx.data, [0.0, 6 * 2.0])  # d2/dx2 x^p = p (p-1) x^(p-2)
    y = leaf([1.0, -3.0])
    (gy,) = autograd.grad((x.maximum(y) * x).sum(), [x], create_graph=True)
    (hy,) = autograd.grad(gy.sum(), [x])
    np.testing.assert_allclose(hy.data, [0.0, 2.0])  # x is the max only at 2.0: d2/dx2 x^2


# ---- 5. reductions of a 0-d tensor along axis 0 or -1 ----------------------------------

# name: (chainrule, torch, (value, gradient) at 1.5)
REDUCTIONS = {
    "sum": (
        lambda x, axis, keep: x.sum(axis=axis, keepdims=keep),
        lambda x, dim, keep: x.sum(dim=dim, keepdim=keep),
        (1.5, 1.0),
    ),
    "np.sum": (
        lambda x, axis, keep: np.sum(x, axis=axis, keepdims=keep),
        lambda x, dim, keep: x.sum(dim=dim, keepdim=keep),
        (1.5, 1.0),
    ),
    "mean": (
        lambda x, axis, keep: x.mean(axis=axis, keepdims=keep),
        lambda x, dim, keep: x.mean(dim=dim, keepdim=keep),
        (1.5, 1.0),
    ),
    "max": (
        lambda x, axis, keep: x.max(axis=axis, keepdims=keep),
        lambda x, dim, keep: x.amax(dim=dim, keepdim=keep),
        (1.5, 1.0),
    ),
    "min": (
        lambda x, axis, keep: x.min(axis=axis, keepdims=keep),
        lambda x, dim, keep: x.amin(dim=dim, keepdim=keep),
        (1.5, 1.0),
    ),
    "logsumexp": (
        lambda x, axis, keep: x.logsumexp(axis=axis, keepdims=keep),
        lambda x, dim, keep: x.logsumexp(dim=dim, keepdim=keep),
        (1.5, 1.0),
    ),
    "var": (
        lambda x, axis, keep: x.var(axis=axis, keepdims=keep, correction=0),
        lambda x, dim, keep: x.var(dim=dim, keepdim=keep, correction=0),
        (0.0, 0.0),
    ),
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [-1, 0, (0,), (-1,)], ids=str)
@pytest.mark.parametrize(("f", "f_torch", "expected"), REDUCTIONS.values(), ids=REDUCTIONS.keys())
def test_reduction_of_0d_tensor(
    f: Callable, f_torch: Callable, expected: tuple, axis: Any, keepdims: bool
) -> None:
    x = Tensor(1.5, requires_grad=True)
    y = f(x, axis, keepdims)
    assert y.shape == ()
    y.backward()  # raised an AxisError for axis=-1; (0,) and (-1,) failed already in forward
    assert (y.item(), x.grad.item()) == expected
    assert gradcheck(lambda t: f(t, axis, keepdims), [leaf(0.7)])
    assert gradgradcheck(lambda t: f(t, axis, keepdims), [leaf(0.7)])
    assert_matches_torch(lambda t: f(t, axis, keepdims), lambda t: f_torch(t, axis, keepdims), 1.5)


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_of_0d_tensor(axis: int) -> None:
    assert_matches_torch(lambda t: t.softmax(axis) * 3.0, lambda t: t.softmax(axis) * 3.0, 1.5)
    assert_matches_torch(lambda t: t.log_softmax(axis) * 3.0, lambda t: t.log_softmax(axis) * 3.0, 1.5)
    assert gradcheck(lambda t: t.log_softmax(axis), [leaf(0.7)])


@pytest.mark.parametrize("axis", [1, -2, (0, 1)], ids=str)
def test_reduction_of_0d_tensor_rejects_other_axes(axis: Any) -> None:
    with pytest.raises(ShapeError):
        Tensor(1.5, requires_grad=True).sum(axis=axis)
    with pytest.raises(ShapeError):
        Tensor(1.5, requires_grad=True).max(axis=axis)


def test_reductions_of_1d_and_2d_tensors_unchanged() -> None:
    x = leaf([[1.0, 3.0, 3.0], [0.5, -1.0, 2.0]])
    for axis in [None, 0, 1, -1, (0, 1), (-1,)]:
        for keep in [False, True]:
            for name in ("sum", "max", "min", "logsumexp"):
                assert gradcheck(lambda t, name=name, axis=axis, keep=keep: getattr(t, name)(axis, keep), [x])


# ---- 6. out-of-range axes and indices ---------------------------------------------------


def test_index_out_of_range_is_an_index_error() -> None:
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(IndexError) as caught:
        t[5]
    assert isinstance(caught.value, ShapeError)


def test_axis_out_of_range_is_an_axis_error() -> None:
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(AxisError) as caught:
        t.sum(axis=3)
    assert isinstance(caught.value, ShapeError)


def test_bad_axes_and_indices_are_shape_errors() -> None:
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    for bad in (
        lambda: t[5],
        lambda: t[0, 3],
        lambda: t.sum(axis=3),
        lambda: t.max(axis=(0, 2)),
        lambda: t.logsumexp(axis=-3),
        lambda: t.softmax(axis=2),
        lambda: autograd.concat([t, t], axis=2),
    ):
        with pytest.raises(ShapeError):
            bad()


def test_concat_and_stack_errors_say_what_failed() -> None:
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ShapeError, match="cannot be concatenated"):  # was "cannot be broadcast together"
        autograd.concat([t, t], axis=2)
    with pytest.raises(ShapeError, match="cannot be stacked"):
        autograd.stack([t, Tensor(np.ones((3, 2)))])


def test_normalize_axes_raises_numpy_axis_error() -> None:
    from autograd.ops.reduce import normalize_axes

    assert normalize_axes(-1, 0) == normalize_axes(0, 0) == normalize_axes((-1,), 0) == ()
    assert normalize_axes((-1, 0), 3) == (0, 2)
    for axis, ndim in [(3, 2), (-3, 2), (1, 0), (-2, 0), ((0, 2), 2)]:
        with pytest.raises(AxisError):
            normalize_axes(axis, ndim)


# ---- 7. gradcheck itself ---------------------------------------------------------------


def test_gradcheck_restores_inputs_when_f_raises() -> None:
    x = leaf([1.0, 2.0, 3.0])
    before = x.data.copy()
    calls = 0

    def f(t: Tensor) -> Tensor:
        nonlocal calls
        calls += 1
        if calls == 4:  # the analytic pass, then inside the finite differences of element 1
            raise RuntimeError("boom")
        return (t * t).sum()

    with pytest.raises(RuntimeError, match="boom"):
        gradcheck(f, [x])
    np.testing.assert_array_equal(x.data, before)  # was left at 2 + 1e-6


class Scripted(Op):
    """An op with a given forward and a given (possibly wrong) constant derivative."""

    name = "scripted"

    def __init__(self, forward: Callable, derivative: float) -> None:
        self._forward = forward
        self.derivative = derivative

    def forward(self, a):
        return self._forward(a)

    def backward(self, g, out, a):
        return (g * np.float64(self.derivative),)


def step(height: float) -> Callable:
    """``height`` right of 0, 0 from 0 leftwards: its central difference at 0 is ``height``/0."""
    return lambda a: np.where(a > 0, height, 0.0)


@pytest.mark.parametrize(
    ("forward", "derivative"),
    [
        (step(inf), -inf),  # numeric inf, analytic -inf: inf - inf = nan let this pass
        (step(-inf), inf),
        (step(-inf), 1.0),  # numeric -inf, analytic finite: also passed
        (lambda a: a * 1.0, inf),  # numeric 1, analytic inf
        (lambda a: a * 1.0, -inf),
        (lambda a: a * 1.0, nan),  # one NaN
        (step(nan), 1.0),
    ],
    ids=[
        "inf_vs_-inf",
        "-inf_vs_inf",
        "-inf_vs_finite",
        "finite_vs_inf",
        "finite_vs_-inf",
        "nan_vs_finite",
        "finite_vs_nan",
    ],
)
def test_gradcheck_fails_on_mismatched_infinities(forward: Callable, derivative: float) -> None:
    x = leaf(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(GradcheckError, match="input 0"):
            gradcheck(lambda t: Scripted(forward, derivative)(t), [x])


@pytest.mark.parametrize("height", [inf, -inf, nan])
def test_gradcheck_passes_on_equal_infinities(height: float) -> None:
    # as PyTorch's gradcheck (allclose): inf matches inf of the same sign; NaN matches NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert gradcheck(lambda t: Scripted(step(height), height)(t), [leaf(0.0)])


def test_gradcheck_message_names_the_infinite_element() -> None:
    x = leaf([1.0, 0.0, 2.0])

    def f(t: Tensor) -> Tensor:  # the identity, but -inf just left of 0
        return Scripted(lambda a: np.where(a < -1e-7, -inf, a), 1.0)(t)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(GradcheckError, match=r"at element \(1,\).*analytic 1, numeric inf"):
            gradcheck(f, [x])


def test_clip_with_a_tensor_bound_is_a_clear_type_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="clip: min and max must be numbers"):
        x.clip(Tensor(0.5), None)  # before: RecursionError



@pytest.mark.parametrize("make", [
    lambda x: x.relu().sqrt(),
    lambda x: x.clip(0.0, None).sqrt(),
    lambda x: autograd.where(x.data > 0, x, 0.0).sqrt(),
    lambda x: (x ** 0 - 1).sqrt(),
], ids=["relu", "clip", "where", "pow0"])
def test_a_masked_infinite_gradient_is_0_not_nan_as_torch(make):
    # sqrt'(0) = inf arrives where the mask is closed: torch passes 0 there; g · 0 gave nan
    x = Tensor([4.0, -1.0], requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        make(x).sum().backward()
    assert not np.isnan(x.grad.data).any()
    assert x.grad.data[1] == 0.0


def test_numpy_scalar_exponents_and_bounds_keep_float32():
    x32 = Tensor(np.array([0.5, 2.0], dtype=np.float32))
    assert (x32 ** np.float64(2)).dtype == np.float32
    assert x32.clip(np.float64(0), np.float64(1)).dtype == np.float32
    assert np.clip(x32, np.float64(0), np.float64(1)).dtype == np.float32
    assert x32.heaviside(np.float64(1)).dtype == np.float32
