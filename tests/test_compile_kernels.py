"""Each kernel of autograd/compiler/kernels.py against the plain op it stands for."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd.compiler import kernels as k
from autograd.engine import sum_to
from autograd.ops import elementwise as ew
from autograd.ops import reduce as red
from autograd.ops import shape as sh
from autograd.ops import softmax as sm

RNG = np.random.default_rng(7)
EDGES = np.array([0.0, -0.0, 1.0, -1.0, 1e-300, -800.0, 800.0, np.inf, -np.inf, np.nan, 2.5, -3.5])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_sigmoid_and_its_backward(dtype):
    for a in (RNG.standard_normal((4, 5)).astype(dtype), EDGES.astype(dtype), dtype(0.3), dtype(-900)):
        with np.errstate(all="ignore"):
            expected = ew.Sigmoid().forward(np.copy(a) if isinstance(a, np.ndarray) else a)
            got = k.sigmoid(np.copy(a) if isinstance(a, np.ndarray) else a)
        np.testing.assert_array_equal(got, expected)
        assert np.asarray(got).dtype == np.asarray(expected).dtype
        g = np.ones_like(expected)
        (slope,) = ew.Sigmoid().backward(g, np.copy(expected), a)
        np.testing.assert_array_equal(k.sigmoid_backward(g, np.copy(expected)), slope)


def test_relu_logsumexp_log_softmax():
    for a in (RNG.standard_normal((3, 4)), np.float64(-0.5), np.float64(2.0), EDGES):
        np.testing.assert_array_equal(k.relu(a), ew.ReLU().forward(a))
    a = RNG.standard_normal((3, 4, 2))
    a[0, 0, 0] = -np.inf
    for axis, keepdims in ((None, False), (1, True), ((0, 2), False), (-1, False)):
        np.testing.assert_array_equal(k.logsumexp(a, axis, keepdims), red.LogSumExp(axis, keepdims).forward(a))
        if isinstance(axis, int):
            np.testing.assert_array_equal(k.log_softmax(a, axis), sm.LogSoftmax(axis).forward(a))


def test_pow_gradients_including_zero_bases_and_exponents():
    a = np.array([[0.0, 0.0, 0.0, 2.0], [0.5, 0.0, np.nan, 3.0]])
    b = np.array([0.0, 1.0, 2.0, -1.5])
    out = a**b
    g = RNG.standard_normal(a.shape)
    with np.errstate(all="ignore"):
        ga, gb = ew.Pow().backward(g, out, a, b)
    np.testing.assert_array_equal(k.pow_grad_base(g, a, b), ga)
    np.testing.assert_array_equal(k.pow_grad_exponent(g, out, a, b), gb)


def test_share_is_maximum_and_minimums_gradient():
    a = np.array([1.0, 2.0, 3.0, np.nan, 5.0])
    b = np.array([2.0, 2.0, 1.0, 0.0, np.nan])
    g = RNG.standard_normal(5)
    ga, gb = ew.Maximum().backward(g, np.maximum(a, b), a, b)
    np.testing.assert_array_equal(k.share(g, a < b, a == b), ga)
    np.testing.assert_array_equal(k.share(g, b < a, a == b), gb)


@pytest.mark.parametrize("index", [np.s_[1:, ::2], np.s_[None, ..., 1], np.array([0, 2, 0]),
                                   (np.arange(3), np.array([1, 0, 1]))])
def test_scatter_kernels_are_getitems_backward(index):
    a = RNG.standard_normal((3, 4))
    g = RNG.standard_normal(a[index].shape)
    (expected,) = sh.GetItem(index).backward(g, a[index], a)
    kernel = k.scatter if sh.is_basic_index(index) else k.scatter_add
    np.testing.assert_array_equal(kernel(g, index, a.shape), expected)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", ["one example", "batch", "3-d", "float32"])
def test_softmax_cross_entropy_kernels_are_the_op(reduction, case):
    logits, target, axis = {
        "one example": (RNG.standard_normal(5), np.array(3), -1),
        "batch": (RNG.standard_normal((4, 5)) * 30, np.array([0, 4, 4, 1]), 1),
        "3-d": (RNG.standard_normal((2, 3, 4)), np.array([[0, 1, 2, 2], [1, 1, 0, 2]]), 1),
        "float32": (RNG.standard_normal((4, 5)).astype(np.float32), np.array([0, 4, 4, 1]), -1),
    }[case]
    op = sm.SoftmaxCrossEntropy(axis, reduction)
    expected = op.forward(logits.copy(), target)
    loss, probs = k.softmax_cross_entropy(logits.copy(), target, axis, reduction)
    np.testing.assert_array_equal(loss, expected)
    assert np.asarray(loss).dtype == np.asarray(expected).dtype
    g = np.ones_like(expected) * 0.75 if reduction == "none" else np.asarray(expected).dtype.type(0.75)
    grad, no_grad = op.backward(g, expected, logits, target)
    assert no_grad is None  # the target is an input without a gradient
    saved = probs.copy()
    np.testing.assert_array_equal(k.softmax_cross_entropy_backward(g, probs, target, axis, reduction), grad)
    np.testing.assert_array_equal(probs, saved)  # the saved softmax is not changed: backward can run again


def test_targets_are_checked_on_every_call():
    k.check_targets(np.array([0, 4]), 5)
    k.check_targets(np.int64(4), 5)
    for bad in (np.array([0, 5]), np.array([-1, 2]), np.int64(5)):
        with pytest.raises(IndexError, match="out of range for 5 classes"):
            k.check_targets(bad, 5)


def test_as_int64():
    y = np.array([1, 2])
    assert k.as_int64(y) is y
    assert k.as_int64(np.int64(3)) == 3 and type(k.as_int64(np.int64(3))) is np.int64
    assert k.as_int64(np.array([1, 2], dtype=np.int32)).dtype == np.int64
    assert k.as_int64(3).dtype == np.int64


# ---- the Python-float kernels of scalar programs ---------------------------------------------


def _numpy_or_raise(fn, *args):
    """numpy's value, or None where the float kernel raises (then the numpy program runs)."""
    with np.errstate(all="ignore"):
        return fn(*args)


@pytest.mark.parametrize("a", list(EDGES))
def test_float_kernels_match_numpy_where_they_do_not_raise(a):
    cases = [
        (k.sigmoid_f, ew.Sigmoid().forward, (a,)),
        (k.softplus_f, lambda x: np.logaddexp(0, x), (a,)),
        (k.heaviside_f, np.heaviside, (a, 0.5)),
        (k.clip_f, lambda x, lo, hi: np.clip(x, lo, hi), (a, -1.0, 2.0)),
        (k.clip_f, lambda x, lo, hi: np.clip(x, lo, hi), (a, None, 2.0)),
        (k.maximum_f, np.maximum, (a, 1.0)),
        (k.minimum_f, np.minimum, (a, 1.0)),
        (k.maximum_f, np.maximum, (1.0, a)),
        (k.pow_f, np.power, (a, 2.5)),
        (k.pow_grad_base_f, k.pow_grad_base, (0.5, a, 0.0)),
        (k.pow_grad_exponent_f, k.pow_grad_exponent, (0.5, 1.0, a, 2.0)),
        (k.share_f, k.share, (0.5, a < 1.0, a == 1.0)),
    ]
    for kernel, reference, args in cases:
        try:
            got = kernel(*(float(x) if isinstance(x, np.floating) else x for x in args))
        except (ArithmeticError, ValueError):
            continue  # the compiled function reruns such a call with the numpy program
        expected = float(_numpy_or_raise(reference, *(np.float64(x) if isinstance(x, float) else x for x in args)))
        assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected, rel=1e-15, abs=0), (
            kernel.__name__, args, got, expected)


def test_sum_to_is_the_engines():
    assert k.NAMES["sum_to"] is sum_to


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_out_forms_of_sigmoid_are_the_op_bitwise(dtype):
    for a in (RNG.standard_normal((4, 5)).astype(dtype), EDGES.astype(dtype)):
        with np.errstate(all="ignore"):
            expected = ew.Sigmoid().forward(a.copy())
            buffer = np.full_like(a, 7.0)
            got = k.sigmoid_into(a, buffer)
        assert got is buffer
        np.testing.assert_array_equal(got, expected)
        g = RNG.standard_normal(a.shape).astype(dtype)
        (slope,) = ew.Sigmoid().backward(g, expected.copy(), a)
        out = np.full_like(a, 7.0)
        assert k.sigmoid_backward_into(g, expected, out) is out
        np.testing.assert_array_equal(out, slope)
