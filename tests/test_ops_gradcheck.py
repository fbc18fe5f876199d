"""Acceptance test: every differentiable op passes a float64 finite-difference gradcheck.

Shapes are drawn by hypothesis (pairs and triples of mutually broadcastable shapes for the
elementwise ops), values are kept away from the points where an op is not differentiable
(kinks, ties, the edges of a clip range, non-positive logs), and every op's forward value is
compared with numpy's on the same input. The ops whose second derivative exists away from
those points also pass ``gradgradcheck``. The last part checks numerics at extreme inputs,
the conventions at kinks, and that the checker itself can fail.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import GradcheckError, Tensor, gradcheck, gradgradcheck

# Deterministic (derandomize, no example database) and fast enough for CI.
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# For tests whose shapes are fixed by a parametrization: only the values vary.
FEW = settings(SETTINGS, max_examples=5)


# ---- value strategies --------------------------------------------------------------------


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


WIDE = floats(-3.0, 3.0)
POSITIVE = floats(0.1, 5.0)


def away_from_zero(lo: float = 0.05, hi: float = 3.0) -> st.SearchStrategy[float]:
    """Values with lo <= |x| <= hi, of either sign."""
    return st.tuples(floats(lo, hi), st.booleans()).map(lambda p: p[0] if p[1] else -p[0])


# Away from the clip bounds ±0.5 by at least 0.05 (on either side).
CLIP_SAFE = st.one_of(floats(-2.0, -0.55), floats(-0.45, 0.45), floats(0.55, 2.0))

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
PAIRS = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4)
TRIPLES = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=1, max_side=3)


def float_arrays(shape: tuple[int, ...], elements: st.SearchStrategy[float] = WIDE) -> st.SearchStrategy:
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def distinct_arrays(draw: Any, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    """Arrays whose values are all different from each other (no ties anywhere) and at least
    1/16 apart, far more than gradcheck's eps, so a perturbation never reorders them."""
    sizes = [math.prod(s) for s in shapes]
    ints = draw(st.lists(st.integers(-64, 64), min_size=sum(sizes), max_size=sum(sizes), unique=True))
    values = np.array(ints, dtype=np.float64) / 16.0
    arrays, start = [], 0
    for shape, size in zip(shapes, sizes):
        arrays.append(values[start : start + size].reshape(shape).copy())
        start += size
    return arrays


@st.composite
def axes(draw: Any, ndim: int) -> Any:
    """None, an int (possibly negative) or a tuple of distinct axes (some given as negatives)."""
    if ndim == 0:
        return None
    single = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(
        lambda ax: tuple(a - ndim if i % 2 else a for i, a in enumerate(ax))
    )
    return draw(st.one_of(st.none(), single, several))


# ---- checking ----------------------------------------------------------------------------


@contextlib.contextmanager
def strict_numerics() -> Iterator[None]:
    """Any numpy warning, overflow, division by zero or invalid value is an error.

    (Underflow is left alone: it is silent in numpy by default and rounds to the right
    answer, e.g. exp(-1000) == 0.0.)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield


def leaf(array: Any) -> Tensor:
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True)


def assert_matches(out: Any, expected: Any) -> None:
    if isinstance(out, (tuple, list)):
        assert len(out) == len(expected)
        for o, e in zip(out, expected):
            assert_matches(o, e)
        return
    assert isinstance(out, Tensor)
    expected = np.asarray(expected)
    assert out.shape == expected.shape, (out.shape, expected.shape)
    assert out.dtype == expected.dtype, (out.dtype, expected.dtype)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


def check(
    f: Callable[..., Any],
    inputs: Sequence[Tensor],
    reference: Callable[..., Any] | None,
    second_order: bool = True,
    **tolerances: float,
) -> None:
    """Forward equals numpy's ``reference``; gradcheck (and gradgradcheck) pass."""
    inputs = list(inputs)
    with strict_numerics():
        if reference is not None:
            arrays = [t.data.copy() if isinstance(t, Tensor) else t for t in inputs]
            assert_matches(f(*inputs), reference(*arrays))
        assert gradcheck(f, inputs, **tolerances)
        if second_order:
            assert gradgradcheck(f, inputs, **tolerances)


def np_sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def np_logsumexp(a: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    total = m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    return total if keepdims else np.squeeze(total, axis=axis)


def np_softmax(a: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def np_log_softmax(a: np.ndarray, axis: int) -> np.ndarray:
    shifted = a - np.max(a, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


# ---- unary elementwise ops (and scalar arithmetic) -----------------------------------------

# (id, engine function, numpy equivalent, values, second-order check)
UNARY = [
    ("neg", lambda t: -t, np.negative, WIDE, True),
    ("neg_fn", autograd.neg, np.negative, WIDE, True),
    ("exp", Tensor.exp, np.exp, WIDE, True),
    ("exp_fn", autograd.exp, np.exp, WIDE, True),
    ("log", Tensor.log, np.log, POSITIVE, True),
    ("log_fn", autograd.log, np.log, POSITIVE, True),
    ("sqrt", Tensor.sqrt, np.sqrt, POSITIVE, True),
    ("sqrt_fn", autograd.sqrt, np.sqrt, POSITIVE, True),
    ("abs", Tensor.abs, np.abs, away_from_zero(), True),
    ("abs_builtin", abs, np.abs, away_from_zero(), True),
    ("abs_fn", autograd.abs, np.abs, away_from_zero(), True),
    ("sin", Tensor.sin, np.sin, WIDE, True),
    ("sin_fn", autograd.sin, np.sin, WIDE, True),
    ("sin_np_dispatch", np.sin, np.sin, WIDE, True),
    ("cos", Tensor.cos, np.cos, WIDE, True),
    ("cos_fn", autograd.cos, np.cos, WIDE, True),
    ("tanh", Tensor.tanh, np.tanh, WIDE, True),
    ("tanh_fn", autograd.tanh, np.tanh, WIDE, True),
    ("sigmoid", Tensor.sigmoid, np_sigmoid, floats(-6.0, 6.0), True),
    ("sigmoid_fn", autograd.sigmoid, np_sigmoid, floats(-6.0, 6.0), True),
    ("relu", Tensor.relu, lambda a: np.maximum(a, 0.0), away_from_zero(), True),
    ("relu_fn", autograd.relu, lambda a: np.maximum(a, 0.0), away_from_zero(), True),
    ("leaky_relu", Tensor.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a), away_from_zero(), True),
    (
        "leaky_relu_0.2_fn",
        lambda t: autograd.leaky_relu(t, negative_slope=0.2),
        lambda a: np.where(a > 0, a, 0.2 * a),
        away_from_zero(),
        True,
    ),
    ("heaviside", Tensor.heaviside, lambda a: np.heaviside(a, 1.0), away_from_zero(), True),
    ("heaviside_fn", autograd.heaviside, lambda a: np.heaviside(a, 1.0), away_from_zero(), True),
    ("threshold", Tensor.threshold, lambda a: np.heaviside(a, 1.0), away_from_zero(), True),
    ("threshold_fn", autograd.threshold, lambda a: np.heaviside(a, 1.0), away_from_zero(), True),
    ("clip_both", lambda t: t.clip(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), CLIP_SAFE, True),
    ("clip_min", lambda t: t.clip(min=-0.5), lambda a: np.maximum(a, -0.5), CLIP_SAFE, True),
    ("clip_max", lambda t: autograd.clip(t, max=0.5), lambda a: np.minimum(a, 0.5), CLIP_SAFE, True),
    ("clamp", lambda t: t.clamp(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), CLIP_SAFE, True),
    ("clone", Tensor.clone, np.copy, WIDE, True),
    # tensor ** scalar
    ("pow_2", lambda t: t**2, lambda a: a**2, WIDE, True),
    ("pow_3_int", lambda t: t ** np.int64(3), lambda a: a**3, WIDE, True),
    ("pow_neg1", lambda t: t**-1.0, lambda a: a**-1.0, away_from_zero(0.3), True),
    ("pow_half", lambda t: t**0.5, np.sqrt, POSITIVE, True),
    ("pow_2.5", lambda t: t**2.5, lambda a: a**2.5, POSITIVE, True),
    ("pow_0", lambda t: t**0, lambda a: a**0, WIDE, True),
    ("pow_fn", lambda t: autograd.pow(t, 3.0), lambda a: a**3.0, WIDE, True),
    # scalar ** tensor
    ("rpow_2", lambda t: 2.0**t, lambda a: 2.0**a, WIDE, True),
    ("rpow_0.3", lambda t: 0.3**t, lambda a: 0.3**a, WIDE, True),
    # arithmetic with constants on either side
    ("add_scalar", lambda t: t + 2.0, lambda a: a + 2.0, WIDE, True),
    ("radd_scalar", lambda t: 2 + t, lambda a: 2 + a, WIDE, True),
    ("sub_scalar", lambda t: t - 1.5, lambda a: a - 1.5, WIDE, True),
    ("rsub_scalar", lambda t: 1.5 - t, lambda a: 1.5 - a, WIDE, True),
    ("mul_scalar", lambda t: t * 3.0, lambda a: a * 3.0, WIDE, True),
    ("rmul_scalar", lambda t: -0.5 * t, lambda a: -0.5 * a, WIDE, True),
    ("div_scalar", lambda t: t / 4.0, lambda a: a / 4.0, WIDE, True),
    ("rdiv_scalar", lambda t: 1.0 / t, lambda a: 1.0 / a, away_from_zero(0.3), True),
    ("rmul_ndarray", lambda t: np.full(t.shape, 1.5) * t, lambda a: 1.5 * a, WIDE, True),
    ("square_np_dispatch", np.square, np.square, WIDE, True),
]


@pytest.mark.parametrize(
    ("f", "reference", "elements", "second_order"),
    [pytest.param(*case[1:], id=case[0]) for case in UNARY],
)
@SETTINGS
@given(data=st.data())
def test_unary(f: Callable, reference: Callable, elements: Any, second_order: bool, data: Any) -> None:
    shape = data.draw(SHAPES, label="shape")
    x = leaf(data.draw(float_arrays(shape, elements), label="x"))
    check(f, [x], reference, second_order)


# ---- binary elementwise ops, broadcasting --------------------------------------------------

BINARY = [
    ("add", lambda a, b: a + b, np.add, WIDE, WIDE),
    ("add_fn", autograd.add, np.add, WIDE, WIDE),
    ("sub", lambda a, b: a - b, np.subtract, WIDE, WIDE),
    ("sub_fn", autograd.sub, np.subtract, WIDE, WIDE),
    ("mul", lambda a, b: a * b, np.multiply, WIDE, WIDE),
    ("mul_fn", autograd.mul, np.multiply, WIDE, WIDE),
    ("div", lambda a, b: a / b, np.divide, WIDE, away_from_zero(0.5)),
    ("div_fn", autograd.div, np.divide, WIDE, away_from_zero(0.5)),
    ("pow_tensor", lambda a, b: a**b, np.power, floats(0.5, 3.0), floats(-2.0, 2.0)),
    ("pow_tensor_fn", autograd.pow, np.power, floats(0.5, 3.0), floats(-2.0, 2.0)),
    ("add_np_dispatch", np.add, np.add, WIDE, WIDE),
    ("mul_np_dispatch", np.multiply, np.multiply, WIDE, WIDE),
]


@pytest.mark.parametrize(
    ("f", "reference", "elements_a", "elements_b"),
    [pytest.param(*case[1:], id=case[0]) for case in BINARY],
)
@SETTINGS
@given(data=st.data())
def test_binary_broadcasting(
    f: Callable, reference: Callable, elements_a: Any, elements_b: Any, data: Any
) -> None:
    shape_a, shape_b = data.draw(PAIRS, label="shapes").input_shapes
    a = leaf(data.draw(float_arrays(shape_a, elements_a), label="a"))
    b = leaf(data.draw(float_arrays(shape_b, elements_b), label="b"))
    check(f, [a, b], reference)


# Broadcasting patterns that must be covered whatever hypothesis draws.
BROADCAST_PAIRS = [
    ((3, 1, 4), (2, 4)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((4,), (3, 1)),
    ((2, 1), (1, 3)),
    ((1, 3, 1), (2, 1, 4)),
]


@pytest.mark.parametrize(("shape_a", "shape_b"), BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize(
    ("f", "reference", "elements_a", "elements_b"),
    [pytest.param(*case[1:], id=case[0]) for case in BINARY if not case[0].endswith(("_fn", "dispatch"))],
)
@FEW
@given(data=st.data())
def test_binary_broadcasting_patterns(
    f: Callable,
    reference: Callable,
    elements_a: Any,
    elements_b: Any,
    shape_a: tuple,
    shape_b: tuple,
    data: Any,
) -> None:
    a = leaf(data.draw(float_arrays(shape_a, elements_a), label="a"))
    b = leaf(data.draw(float_arrays(shape_b, elements_b), label="b"))
    check(f, [a, b], reference)


@pytest.mark.parametrize(("shape_a", "shape_b"), BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize(("f", "reference"), [(Tensor.maximum, np.maximum), (Tensor.minimum, np.minimum)])
@FEW
@given(data=st.data())
def test_maximum_minimum_broadcasting_patterns(
    f: Callable, reference: Callable, shape_a: tuple, shape_b: tuple, data: Any
) -> None:
    a, b = data.draw(distinct_arrays([shape_a, shape_b]), label="values")
    check(f, [leaf(a), leaf(b)], reference)


@pytest.mark.parametrize(
    ("shape_c", "shape_a", "shape_b"),
    [((3, 1), (1, 4), ()), ((4,), (3, 1), (2, 1, 4)), ((2, 1, 3), (3,), (2, 1, 1))],
    ids=str,
)
@FEW
@given(data=st.data())
def test_where_broadcasting_patterns(shape_c: tuple, shape_a: tuple, shape_b: tuple, data: Any) -> None:
    condition = data.draw(hnp.arrays(np.bool_, shape_c), label="condition")
    a = leaf(data.draw(float_arrays(shape_a), label="a"))
    b = leaf(data.draw(float_arrays(shape_b), label="b"))
    check(lambda a, b: autograd.where(condition, a, b), [a, b], lambda a, b: np.where(condition, a, b))


@pytest.mark.parametrize(
    ("f", "reference"),
    [
        pytest.param(Tensor.maximum, np.maximum, id="maximum"),
        pytest.param(autograd.maximum, np.maximum, id="maximum_fn"),
        pytest.param(np.maximum, np.maximum, id="maximum_np_dispatch"),
        pytest.param(Tensor.minimum, np.minimum, id="minimum"),
        pytest.param(autograd.minimum, np.minimum, id="minimum_fn"),
        pytest.param(np.minimum, np.minimum, id="minimum_np_dispatch"),
    ],
)
@SETTINGS
@given(data=st.data())
def test_maximum_minimum_broadcasting(f: Callable, reference: Callable, data: Any) -> None:
    shapes = data.draw(PAIRS, label="shapes").input_shapes
    a, b = data.draw(distinct_arrays(shapes), label="values")  # no ties
    check(f, [leaf(a), leaf(b)], reference)


@pytest.mark.parametrize("how", ["fn", "tensor_condition", "np_dispatch"])
@SETTINGS
@given(data=st.data())
def test_where_broadcasting(how: str, data: Any) -> None:
    shape_c, shape_a, shape_b = data.draw(TRIPLES, label="shapes").input_shapes
    condition = data.draw(hnp.arrays(np.bool_, shape_c), label="condition")
    a = leaf(data.draw(float_arrays(shape_a), label="a"))
    b = leaf(data.draw(float_arrays(shape_b), label="b"))
    if how == "fn":
        f = lambda a, b: autograd.where(condition, a, b)
    elif how == "tensor_condition":
        f = lambda a, b: autograd.where(Tensor(condition), a, b)
    else:
        f = lambda a, b: np.where(condition, a, b)
    check(f, [a, b], lambda a, b: np.where(condition, a, b))


# ---- matmul --------------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((4,), (4,)),  # dot product
    ((4,), (4, 3)),  # vector @ matrix
    ((3, 4), (4,)),  # matrix @ vector
    ((3, 4), (4, 2)),
    ((1, 4), (4, 1)),
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcasting batch dimensions
    ((2, 3, 4), (4,)),  # batched matrix @ vector
    ((4,), (2, 4, 3)),  # vector @ batched matrix
    ((3, 1, 2, 3), (3, 2)),
]


@pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("how", ["operator", "method", "fn"])
@FEW
@given(data=st.data())
def test_matmul_shapes(shape_a: tuple, shape_b: tuple, how: str, data: Any) -> None:
    a = leaf(data.draw(float_arrays(shape_a, floats(-2.0, 2.0)), label="a"))
    b = leaf(data.draw(float_arrays(shape_b, floats(-2.0, 2.0)), label="b"))
    f = {"operator": lambda a, b: a @ b, "method": Tensor.matmul, "fn": autograd.matmul}[how]
    check(f, [a, b], np.matmul)


@st.composite
def matmul_operand_shapes(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch_a, batch_b = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3)
    ).input_shapes
    shape_a = (k,) if draw(st.booleans()) else batch_a + (n, k)
    shape_b = (k,) if draw(st.booleans()) else batch_b + (k, m)
    return shape_a, shape_b


@SETTINGS
@given(data=st.data())
def test_matmul_drawn_shapes(data: Any) -> None:
    shape_a, shape_b = data.draw(matmul_operand_shapes(), label="shapes")
    a = leaf(data.draw(float_arrays(shape_a, floats(-2.0, 2.0)), label="a"))
    b = leaf(data.draw(float_arrays(shape_b, floats(-2.0, 2.0)), label="b"))
    check(lambda a, b: a @ b, [a, b], np.matmul)


def test_rmatmul_with_ndarray() -> None:
    w = np.arange(12.0).reshape(3, 4) / 10
    x = leaf(np.linspace(-1, 1, 8).reshape(4, 2))
    check(lambda x: w @ x, [x], lambda x: w @ x)


# ---- reductions ----------------------------------------------------------------------------

# (id, engine function, numpy equivalent, whether it needs >= 2 reduced elements)
REDUCTIONS = [
    ("sum", lambda t, ax, kd: t.sum(ax, kd), lambda a, ax, kd: np.sum(a, axis=ax, keepdims=kd), False),
    (
        "sum_fn",
        lambda t, ax, kd: autograd.sum(t, axis=ax, keepdims=kd),
        lambda a, ax, kd: np.sum(a, axis=ax, keepdims=kd),
        False,
    ),
    (
        "sum_np_dispatch",
        lambda t, ax, kd: np.sum(t, axis=ax, keepdims=kd),
        lambda a, ax, kd: np.sum(a, axis=ax, keepdims=kd),
        False,
    ),
    ("mean", lambda t, ax, kd: t.mean(ax, kd), lambda a, ax, kd: np.mean(a, axis=ax, keepdims=kd), False),
    (
        "mean_fn",
        lambda t, ax, kd: autograd.mean(t, axis=ax, keepdims=kd),
        lambda a, ax, kd: np.mean(a, axis=ax, keepdims=kd),
        False,
    ),
    (
        "var",
        lambda t, ax, kd: t.var(ax, kd),
        lambda a, ax, kd: np.var(a, axis=ax, keepdims=kd, ddof=1),
        True,  # n - 1 = 0 degrees of freedom: see test_var_of_one_element_is_nan
    ),
    (
        "var_fn_correction0",
        lambda t, ax, kd: autograd.var(t, axis=ax, keepdims=kd, correction=0),
        lambda a, ax, kd: np.var(a, axis=ax, keepdims=kd),
        False,
    ),
    ("logsumexp", lambda t, ax, kd: t.logsumexp(ax, kd), np_logsumexp, False),
    ("logsumexp_fn", lambda t, ax, kd: autograd.logsumexp(t, axis=ax, keepdims=kd), np_logsumexp, False),
]


@pytest.mark.parametrize(("f", "reference", "needs_two"), [pytest.param(*c[1:], id=c[0]) for c in REDUCTIONS])
@SETTINGS
@given(data=st.data())
def test_smooth_reductions(f: Callable, reference: Callable, needs_two: bool, data: Any) -> None:
    shape = data.draw(SHAPES, label="shape")
    axis = data.draw(axes(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    count = math.prod(shape[a] for a in autograd.ops.reduce.normalize_axes(axis, len(shape)))
    assume(count >= 2 or not needs_two)
    x = leaf(data.draw(float_arrays(shape), label="x"))
    check(lambda t: f(t, axis, keepdims), [x], lambda a: reference(a, axis, keepdims))


@pytest.mark.parametrize(
    ("f", "reference"),
    [
        pytest.param(lambda t, ax, kd: t.max(ax, kd), np.max, id="max"),
        pytest.param(lambda t, ax, kd: autograd.max(t, axis=ax, keepdims=kd), np.max, id="max_fn"),
        pytest.param(lambda t, ax, kd: np.max(t, axis=ax, keepdims=kd), np.max, id="max_np_dispatch"),
        pytest.param(lambda t, ax, kd: t.min(ax, kd), np.min, id="min"),
        pytest.param(lambda t, ax, kd: autograd.min(t, axis=ax, keepdims=kd), np.min, id="min_fn"),
    ],
)
@SETTINGS
@given(data=st.data())
def test_max_min_reductions(f: Callable, reference: Callable, data: Any) -> None:
    shape = data.draw(SHAPES, label="shape")
    axis = data.draw(axes(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    (x,) = data.draw(distinct_arrays([shape]), label="x")  # no ties
    check(lambda t: f(t, axis, keepdims), [leaf(x)], lambda a: reference(a, axis=axis, keepdims=keepdims))


AXIS_KINDS = [None, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]
FIXED = np.random.default_rng(0).uniform(-3.0, 3.0, size=(2, 3, 4))
FIXED_DISTINCT = (np.random.default_rng(1).permutation(24).reshape(2, 3, 4) - 12) / 8.0


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXIS_KINDS, ids=str)
@pytest.mark.parametrize(
    ("f", "reference", "distinct"),
    [pytest.param(*c[1:3], False, id=c[0]) for c in REDUCTIONS if not c[0].endswith(("_fn", "dispatch"))]
    + [
        pytest.param(
            lambda t, ax, kd: t.max(ax, kd), lambda a, ax, kd: np.max(a, ax, keepdims=kd), True, id="max"
        ),
        pytest.param(
            lambda t, ax, kd: t.min(ax, kd), lambda a, ax, kd: np.min(a, ax, keepdims=kd), True, id="min"
        ),
    ],
)
def test_reductions_every_axis_kind(
    f: Callable, reference: Callable, distinct: bool, axis: Any, keepdims: bool
):
    x = leaf(FIXED_DISTINCT if distinct else FIXED)
    check(lambda t: f(t, axis, keepdims), [x], lambda a: reference(a, axis, keepdims))


@pytest.mark.parametrize(
    ("f", "reference"),
    [
        pytest.param(lambda t, ax: t.softmax(ax), np_softmax, id="softmax"),
        pytest.param(lambda t, ax: autograd.softmax(t, axis=ax), np_softmax, id="softmax_fn"),
        pytest.param(lambda t, ax: t.log_softmax(ax), np_log_softmax, id="log_softmax"),
        pytest.param(lambda t, ax: autograd.log_softmax(t, axis=ax), np_log_softmax, id="log_softmax_fn"),
    ],
)
@SETTINGS
@given(data=st.data())
def test_softmax_family(f: Callable, reference: Callable, data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    x = leaf(data.draw(float_arrays(shape, floats(-5.0, 5.0)), label="x"))
    check(lambda t: f(t, axis), [x], lambda a: reference(a, axis))


def test_softmax_default_axis_is_last() -> None:
    x = leaf(np.linspace(-2, 2, 12).reshape(3, 4))
    check(Tensor.softmax, [x], lambda a: np_softmax(a, -1))
    check(Tensor.log_softmax, [x], lambda a: np_log_softmax(a, -1))


# ---- shape ops -----------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_reshape(data: Any) -> None:
    shape = data.draw(SHAPES, label="shape")
    target = list(data.draw(st.permutations(shape), label="target"))
    if target and data.draw(st.booleans(), label="infer"):
        target[data.draw(st.integers(0, len(target) - 1), label="which")] = -1
    target = tuple(target) + data.draw(st.sampled_from([(), (1,)]), label="extra")
    x = leaf(data.draw(float_arrays(shape), label="x"))
    check(lambda t: t.reshape(target), [x], lambda a: a.reshape(target))
    check(lambda t: t.reshape(*target), [x], lambda a: a.reshape(target))
    check(lambda t: autograd.reshape(t, target), [x], lambda a: a.reshape(target))
    check(lambda t: t.view(-1), [x], lambda a: a.reshape(-1))


@SETTINGS
@given(data=st.data())
def test_transpose_permute(data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=3), label="shape")
    ndim = len(shape)
    x = leaf(data.draw(float_arrays(shape), label="x"))
    d0 = data.draw(st.integers(-ndim, ndim - 1), label="d0")
    d1 = data.draw(st.integers(-ndim, ndim - 1), label="d1")
    perm = tuple(data.draw(st.permutations(range(ndim)), label="perm"))
    check(lambda t: t.transpose(), [x], np.transpose)
    check(lambda t: t.T, [x], lambda a: a.T)
    check(lambda t: t.transpose(d0, d1), [x], lambda a: np.swapaxes(a, d0, d1))
    check(lambda t: autograd.transpose(t, d0, d1), [x], lambda a: np.swapaxes(a, d0, d1))
    check(lambda t: np.swapaxes(t, d0, d1), [x], lambda a: np.swapaxes(a, d0, d1))
    check(lambda t: t.permute(perm), [x], lambda a: np.transpose(a, perm))
    check(lambda t: t.permute(*perm), [x], lambda a: np.transpose(a, perm))
    check(lambda t: autograd.permute(t, perm), [x], lambda a: np.transpose(a, perm))
    check(lambda t: np.transpose(t, perm), [x], lambda a: np.transpose(a, perm))


@SETTINGS
@given(data=st.data())
def test_flatten(data: Any) -> None:
    shape = data.draw(SHAPES, label="shape")
    x = leaf(data.draw(float_arrays(shape), label="x"))
    check(Tensor.flatten, [x], lambda a: a.reshape(-1))
    check(autograd.flatten, [x], lambda a: a.reshape(-1))
    if shape:
        ndim = len(shape)
        s = data.draw(st.integers(0, ndim - 1), label="start")
        e = data.draw(st.integers(s, ndim - 1), label="end")
        start = s - ndim if data.draw(st.booleans(), label="negative start") else s
        end = e - ndim if data.draw(st.booleans(), label="negative end") else e
        expected_shape = shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :]
        check(lambda t: t.flatten(start, end), [x], lambda a: a.reshape(expected_shape))


@SETTINGS
@given(data=st.data())
def test_squeeze_unsqueeze(data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2), label="shape")
    ndim = len(shape)
    x = leaf(data.draw(float_arrays(shape), label="x"))
    check(lambda t: t.squeeze(), [x], np.squeeze)
    check(lambda t: np.squeeze(t), [x], np.squeeze)
    ones = [i for i, n in enumerate(shape) if n == 1]
    if ones:
        chosen = tuple(data.draw(st.lists(st.sampled_from(ones), min_size=1, unique=True), label="axes"))
        check(lambda t: t.squeeze(chosen), [x], lambda a: np.squeeze(a, chosen))
        check(lambda t: t.squeeze(chosen[0] - ndim), [x], lambda a: np.squeeze(a, chosen[0] - ndim))
    dim = data.draw(st.integers(-ndim - 1, ndim), label="dim")
    check(lambda t: t.unsqueeze(dim), [x], lambda a: np.expand_dims(a, dim))
    check(lambda t: np.expand_dims(t, dim), [x], lambda a: np.expand_dims(a, dim))


@st.composite
def broadcast_source_and_target(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    target = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    kept = draw(st.integers(0, len(target)))
    source = tuple(n if draw(st.booleans()) else 1 for n in target[len(target) - kept :])
    return source, target


@SETTINGS
@given(data=st.data())
def test_expand_broadcast_to(data: Any) -> None:
    source, target = data.draw(broadcast_source_and_target(), label="shapes")
    x = leaf(data.draw(float_arrays(source), label="x"))
    offset = len(target) - len(source)
    with_minus_one = tuple(
        -1 if i >= offset and source[i - offset] == n and data.draw(st.booleans()) else n
        for i, n in enumerate(target)
    )
    expected = lambda a: np.broadcast_to(a, target)
    check(lambda t: t.broadcast_to(target), [x], expected)
    check(lambda t: t.broadcast_to(*target), [x], expected)
    check(lambda t: autograd.broadcast_to(t, target), [x], expected)
    check(lambda t: np.broadcast_to(t, target), [x], expected)
    check(lambda t: t.expand(target), [x], expected)
    check(lambda t: t.expand(with_minus_one), [x], expected)
    check(lambda t: autograd.expand(t, *with_minus_one), [x], expected)


# ---- indexing ------------------------------------------------------------------------------

INDEX_SHAPE = (3, 4, 5)
INDICES = [
    pytest.param(1, id="int"),
    pytest.param(-1, id="negative_int"),
    pytest.param((1, -2), id="two_ints"),
    pytest.param((0, 1, 2), id="element"),
    pytest.param(slice(1, 3), id="slice"),
    pytest.param((slice(None), slice(1, None, 2)), id="step_slice"),
    pytest.param(slice(None, None, -1), id="reversed"),
    pytest.param((slice(None), slice(3, 0, -2), slice(None, None, -1)), id="negative_steps"),
    pytest.param((Ellipsis, 0), id="ellipsis_int"),
    pytest.param((None, slice(None), None), id="newaxes"),
    pytest.param((0, Ellipsis, None), id="int_ellipsis_newaxis"),
    pytest.param((slice(None, None, -1), 2, slice(None, None, -2)), id="mixed_basic"),
    pytest.param(np.array([0, 0, 2, 0]), id="int_array_repeats"),
    pytest.param([2, 2], id="int_list_repeats"),
    pytest.param((np.array([0, 0, 1]), np.array([1, 1, 3])), id="int_arrays_pairs_repeat"),
    pytest.param((slice(None), np.array([3, 3, -1])), id="slice_then_int_array_repeats"),
    pytest.param(np.array([[0, 0], [2, 0]]), id="2d_int_array_repeats"),
    pytest.param((Ellipsis, [4, 4, 4]), id="ellipsis_int_list_repeats"),
    pytest.param((np.array([1, 1]), slice(None), np.array([0, 0])), id="separated_int_arrays"),
    pytest.param(np.array([True, False, True]), id="bool_mask_axis0"),
    pytest.param((slice(None), np.array([False, True, True, False])), id="bool_mask_axis1"),
    pytest.param(np.arange(60).reshape(INDEX_SHAPE) % 3 == 0, id="bool_mask_full"),
    pytest.param(np.zeros(INDEX_SHAPE, dtype=bool), id="bool_mask_empty"),
]


@pytest.mark.parametrize("index", INDICES)
@FEW
@given(data=st.data())
def test_indexing_cases(index: Any, data: Any) -> None:
    x = leaf(data.draw(float_arrays(INDEX_SHAPE), label="x"))
    check(lambda t: t[index], [x], lambda a: a[index])


@SETTINGS
@given(data=st.data())
def test_basic_indices_drawn(data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True), label="index")
    x = leaf(data.draw(float_arrays(shape), label="x"))
    check(lambda t: t[index], [x], lambda a: a[index])


@SETTINGS
@given(data=st.data())
def test_integer_array_indices_drawn(data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), label="shape")
    index = data.draw(
        hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=5)),
        label="index",
    )
    x = leaf(data.draw(float_arrays(shape), label="x"))
    check(lambda t: t[index], [x], lambda a: a[index])


@SETTINGS
@given(data=st.data())
def test_boolean_masks_drawn(data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    mask = data.draw(hnp.arrays(np.bool_, shape), label="mask")
    x = leaf(data.draw(float_arrays(shape), label="x"))
    check(lambda t: t[mask], [x], lambda a: a[mask])
    check(lambda t: t[Tensor(mask)], [x], lambda a: a[mask])  # a boolean Tensor as the mask


def test_index_gradient_adds_up_repeats() -> None:
    x = leaf([1.0, 2.0, 3.0])
    x[np.array([0, 2, 0, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


# ---- concat, stack, split, pad -------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_concat(data: Any) -> None:
    base = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), label="shape")
    ndim = len(base)
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3), label="sizes")
    shapes = [base[: axis % ndim] + (n,) + base[axis % ndim + 1 :] for n in sizes]
    xs = [leaf(data.draw(float_arrays(s), label="x")) for s in shapes]
    expected = lambda *arrays: np.concatenate(arrays, axis=axis)
    check(lambda *ts: autograd.concat(list(ts), axis=axis), xs, expected)
    check(lambda *ts: autograd.cat(ts, axis), xs, expected)
    check(lambda *ts: np.concatenate(ts, axis=axis), xs, expected)


@SETTINGS
@given(data=st.data())
def test_stack(data: Any) -> None:
    shape = data.draw(SHAPES, label="shape")
    ndim = len(shape)
    axis = data.draw(st.integers(-ndim - 1, ndim), label="axis")
    count = data.draw(st.integers(1, 3), label="count")
    xs = [leaf(data.draw(float_arrays(shape), label="x")) for _ in range(count)]
    expected = lambda *arrays: np.stack(arrays, axis=axis)
    check(lambda *ts: autograd.stack(list(ts), axis=axis), xs, expected)
    check(lambda *ts: np.stack(ts, axis=axis), xs, expected)


@SETTINGS
@given(data=st.data())
def test_split(data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    ndim = len(shape)
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    length = shape[axis]
    if data.draw(st.booleans(), label="by_size"):
        how = data.draw(st.integers(1, length + 1), label="size")
        cuts = list(range(how, length, how))
    else:
        cuts = sorted(data.draw(st.lists(st.integers(0, length), max_size=3), label="cuts"))
        how = [b - a for a, b in zip([0, *cuts], [*cuts, length])]
        assume(all(n > 0 for n in how))
    x = leaf(data.draw(float_arrays(shape), label="x"))
    reference = lambda a: tuple(np.split(a, cuts, axis=axis))
    check(lambda t: t.split(how, axis), [x], reference, second_order=False)
    check(lambda t: autograd.split(t, how, axis=axis), [x], reference, second_order=False)
    # gradgradcheck needs one output tensor: weight the pieces differently and join them
    joined = lambda t: autograd.concat([p.reshape(-1) * (i + 1.0) for i, p in enumerate(t.split(how, axis))])
    assert gradgradcheck(joined, [x])


@SETTINGS
@given(data=st.data())
def test_pad(data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), label="shape")
    widths = tuple(
        (data.draw(st.integers(0, 2), label="before"), data.draw(st.integers(0, 2), label="after"))
        for _ in shape
    )
    value = data.draw(floats(-2.0, 2.0), label="value")
    x = leaf(data.draw(float_arrays(shape), label="x"))
    check(lambda t: t.pad(widths, value), [x], lambda a: np.pad(a, widths, constant_values=value))
    check(lambda t: autograd.pad(t, widths), [x], lambda a: np.pad(a, widths))
    check(lambda t: t.pad(1), [x], lambda a: np.pad(a, 1))  # the same width everywhere
    check(lambda t: t.pad((2, 0)), [x], lambda a: np.pad(a, (2, 0)))  # (before, after) for every axis


# ---- dtype conversion ----------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_astype_float64_float32(data: Any) -> None:
    shape = data.draw(SHAPES, label="shape")
    x = leaf(data.draw(float_arrays(shape), label="x"))
    with strict_numerics():
        y = x.astype(np.float32)
        assert y.dtype == np.float32
        np.testing.assert_array_equal(y.data, x.data.astype(np.float32))
        assert x.float().dtype == np.float32 and x.double() is x and x.astype(np.float64) is x
    # Check from the float64 side. The function is linear, so a large eps is exact and
    # keeps float32 rounding (~1e-7) far below the tolerance.
    check(lambda t: t.astype(np.float32) * 3.0, [x], None, second_order=False, eps=0.1)
    check(
        lambda t: t.astype(np.float32).astype(np.float64).sin(),
        [x],
        None,
        second_order=False,
        eps=1e-3,
        atol=1e-3,
        rtol=1e-2,
    )


def test_astype_gradient_keeps_each_dtype() -> None:
    x32 = Tensor(np.array([1.0, -2.0, 3.0], dtype=np.float32), requires_grad=True)
    y = x32.astype(np.float64)
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x32.grad.dtype == np.float32
    np.testing.assert_allclose(x32.grad.data, 2 * x32.data)
    x64 = leaf([0.5, 1.5])
    (x64.astype(np.float32) * 2).sum().backward()
    assert x64.grad.dtype == np.float64
    np.testing.assert_array_equal(x64.grad.data, [2.0, 2.0])


def test_clone_copies_data_and_passes_gradient() -> None:
    x = leaf([1.0, 2.0])
    y = x.clone()
    assert not np.shares_memory(y.data, x.data)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


# ---- numerics at extreme inputs --------------------------------------------------------------


def test_sigmoid_is_exact_and_silent_at_extremes() -> None:
    x = leaf([1000.0, -1000.0, 710.0, -710.0, 0.0])
    with strict_numerics():  # no overflow in exp(-x), no warnings
        s = x.sigmoid()
        s.sum().backward()
    assert s.data[0] == 1.0 and s.data[1] == 0.0 and s.data[2] == 1.0 and s.data[4] == 0.5
    assert 0.0 <= s.data[3] < 1e-300  # e^-710 ≈ 4.5e-309 (subnormal) or flushed to 0
    assert np.all(np.isfinite(x.grad.data))
    assert x.grad.data[0] == 0.0 and x.grad.data[1] == 0.0 and x.grad.data[4] == 0.25
    # and second derivatives stay finite too
    (g,) = autograd.grad(x.sigmoid().sum(), x, create_graph=True)
    with strict_numerics():
        (gg,) = autograd.grad(g.sum(), x)
    assert np.all(np.isfinite(gg.data))


LOGITS = [1000.0, 1000.0, -1000.0]


def test_logsumexp_softmax_log_softmax_of_huge_logits() -> None:
    log2 = math.log(2.0)
    for axis in (None, 0, -1):
        x = leaf(LOGITS)
        with strict_numerics():
            lse = x.logsumexp(axis)
            lse.backward()
        assert lse.item() == pytest.approx(1000.0 + log2, rel=1e-15)
        np.testing.assert_allclose(x.grad.data, [0.5, 0.5, 0.0], atol=1e-15)
    x = leaf(LOGITS)
    with strict_numerics():
        sm = x.softmax()
        lsm = x.log_softmax()
        (g_sm,) = autograd.grad((sm * Tensor([1.0, 2.0, 3.0])).sum(), x)
        (g_lsm,) = autograd.grad(lsm[0], x)
    np.testing.assert_allclose(sm.data, [0.5, 0.5, 0.0], atol=1e-15)
    np.testing.assert_allclose(lsm.data, [-log2, -log2, -2000.0 - log2], rtol=1e-15)
    assert np.all(np.isfinite(g_sm.data)) and np.all(np.isfinite(g_lsm.data))
    np.testing.assert_allclose(g_sm.data, [-0.25, 0.25, 0.0], atol=1e-15)
    np.testing.assert_allclose(g_lsm.data, [0.5, -0.5, 0.0], atol=1e-15)
    # batched, along either axis, and still differentiable twice
    batch = leaf(np.array([LOGITS, [-1000.0, 0.0, 1000.0]]))
    with strict_numerics():
        np.testing.assert_allclose(batch.logsumexp(axis=1).data, [1000.0 + log2, 1000.0], rtol=1e-15)
        np.testing.assert_allclose(batch.softmax(axis=1).data, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]], atol=1e-15)
        assert np.all(np.isfinite(batch.log_softmax(axis=0).data))
        for f in (lambda t: t.logsumexp(1), lambda t: t.softmax(1), lambda t: t.log_softmax(0)):
            assert gradcheck(f, [batch]) and gradgradcheck(f, [batch])


# ---- conventions at kinks ------------------------------------------------------------------


def test_relu_gradient_at_zero_is_zero() -> None:
    x = leaf([-1.0, 0.0, 2.0])
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 1.0])
    y = leaf([0.0])
    autograd.relu(y).sum().backward()
    assert y.grad.data[0] == 0.0


def test_abs_gradient_at_zero_is_zero() -> None:
    x = leaf([-2.0, 0.0, 2.0])
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, 0.0, 1.0])


def test_heaviside_and_threshold_values_and_zero_gradient() -> None:
    z = [-2.0, -1e-300, 0.0, 1e-300, 3.0]
    for f in (Tensor.heaviside, Tensor.threshold, autograd.heaviside, autograd.threshold):
        x = leaf(z)
        y = f(x)
        np.testing.assert_array_equal(y.data, [0.0, 0.0, 1.0, 1.0, 1.0])  # 1 for z >= 0
        (y * Tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
        assert np.all(x.grad.data == 0.0)  # exactly zero, even at z == 0
    np.testing.assert_array_equal(autograd.heaviside(Tensor(z), 0.5).data, [0.0, 0.0, 0.5, 1.0, 1.0])


# ---- the checker can fail ------------------------------------------------------------------


class WrongAtOneElement(autograd.Op):
    """y = 2x, but the backward rule is wrong at element (1, 2): 7 instead of 2."""

    name = "wrong_double"

    def forward(self, a):
        return 2 * a

    def backward(self, g, out, a):
        error = np.zeros(np.shape(a))
        error[1, 2] = 5.0
        return (2 * g + error * g,)


class FirstOrderOnlySquare(autograd.Op):
    """y = x², with a backward rule that is right but cuts the graph (detaches x)."""

    name = "detached_square"

    def forward(self, a):
        return a * a

    def backward(self, g, out, a):
        constant = a.detach() if isinstance(a, Tensor) else a
        return (2 * constant * g,)


def test_gradcheck_catches_a_wrong_backward() -> None:
    x = leaf(np.linspace(-1.0, 1.0, 12).reshape(3, 4))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: WrongAtOneElement()(t), [x])
    message = str(info.value)
    assert "input 0" in message
    assert "element (1, 2)" in message
    assert "analytic 7" in message
    assert "numeric 2" in message
    # the same failure through the other input of a binary expression
    y = leaf(np.ones((3, 4)))
    with pytest.raises(GradcheckError, match=r"input 1 .*element \(1, 2\).*analytic 7.*numeric 2"):
        gradcheck(lambda u, v: u * 0.5 + WrongAtOneElement()(v), [x, y])


def test_gradgradcheck_catches_a_wrong_second_derivative() -> None:
    x = leaf([0.5, -1.5, 2.0])
    assert gradcheck(lambda t: FirstOrderOnlySquare()(t), [x])  # first order is right
    with pytest.raises(GradcheckError, match=r"element \(\d+,\).*analytic 0.*numeric"):
        gradgradcheck(lambda t: FirstOrderOnlySquare()(t), [x])


def test_float32_inputs_are_refused() -> None:
    x32 = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, [x32])
    with pytest.raises(TypeError, match="float64"):
        gradgradcheck(lambda t: t * t, [x32])
    with pytest.raises(TypeError):
        gradcheck(lambda t: t * 2, x32)  # a single tensor, not in a list


# ---- regressions: engine bugs this file found ---------------------------------------


def test_gradcheck_on_non_contiguous_input() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3).T, requires_grad=True)  # a transposed view
    assert gradcheck(lambda t: t * 2, [x])


def test_var_of_one_element_is_nan() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(Tensor([3.0]).var().item())


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_sigmoid_keeps_its_dtype_and_is_silent_on_both_paths(dtype) -> None:
    # in range, 1/(1 + e^-a) is used; past -log(max float) of the dtype, the exact fallback
    limit = float(np.log(np.finfo(dtype).max))
    for values in ([-3.0, 0.0, 2.5], [-3.0, -(limit + 5.0), 2.5]):
        x = Tensor(np.array(values, dtype=dtype), requires_grad=True)
        with strict_numerics():
            s = x.sigmoid()
            s.sum().backward()
        with np.errstate(over="ignore"):  # the reference in float64 (e^715 overflows to inf: fine)
            expected = 1.0 / (1.0 + np.exp(-x.data.astype(np.float64)))
        assert s.dtype == dtype and x.grad.dtype == dtype
        # relative to the dtype's precision; absolute where the result is subnormal
        info = np.finfo(dtype)
        np.testing.assert_allclose(s.data.astype(np.float64), expected, rtol=4 * info.eps, atol=info.tiny)
