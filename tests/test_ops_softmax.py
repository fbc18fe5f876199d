"""autograd.ops.softmax: softmax cross-entropy with the target as an input, and a pure op.

Values are checked against closed forms (softmax − onehot, the Hessian diag(p) − p pᵀ),
against PyTorch on the same inputs, and against eager where the compiled path is involved.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd
from autograd import Tensor
from autograd.compiler import compile
from autograd.ops import softmax as sm

try:
    import torch
except ImportError:  # pragma: no cover - optional
    torch = None

RNG = np.random.default_rng(20)


def _softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_one_op_instance_serves_any_number_of_targets_and_keeps_nothing():
    op = sm.SoftmaxCrossEntropy(axis=-1, reduction="none")
    z = RNG.standard_normal((4, 3))
    for y in (np.array([0, 1, 2, 0]), np.array([2, 2, 1, 0])):
        losses = op.forward(z, y)
        expected = -np.log(_softmax(z, -1)[np.arange(4), y])
        np.testing.assert_allclose(losses, expected, rtol=1e-14)
        grad, target_grad = op.backward(np.ones(4), losses, z, y)
        onehot = np.eye(3)[y]
        np.testing.assert_allclose(grad, _softmax(z, -1) - onehot, rtol=1e-13, atol=1e-15)
        assert target_grad is None
    assert vars(op) == {"axis": -1, "reduction": "none"}  # no per-call state on the op


def test_the_target_is_an_input_of_the_recorded_node():
    z = Tensor(RNG.standard_normal((5, 3)), requires_grad=True)
    y = np.array([0, 2, 1, 1, 0])
    loss = autograd.softmax_cross_entropy(z, y, axis=1, reduction="mean")
    logits, target = loss._inputs
    assert logits is z and np.array_equal(target.data, y) and not target.requires_grad
    loss.backward()
    np.testing.assert_allclose(z.grad.data, (_softmax(z.data, 1) - np.eye(3)[y]) / 5, rtol=1e-13, atol=1e-16)
    assert target.grad is None


def test_an_integer_tensor_target_is_used_as_it_is():
    z = Tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    y = Tensor(np.array([2, 0]))
    loss = autograd.softmax_cross_entropy(z, y)
    assert loss._inputs[1] is y


def test_errors_name_the_op_and_the_shapes():
    z = Tensor(np.zeros((3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"cross_entropy: shapes \(3, 4\) and \(2,\)"):
        autograd.softmax_cross_entropy(z, [0, 1])
    with pytest.raises(TypeError, match=r"softmax_cross_entropy: target must hold class indices"):
        autograd.softmax_cross_entropy(z, np.zeros(3))


def test_second_derivative_is_the_softmax_jacobian():
    # d/dz of (softmax(z) − onehot) is diag(p) − p pᵀ for one example
    z0 = RNG.standard_normal(4)
    z = Tensor(z0, requires_grad=True)
    (dz,) = autograd.grad(autograd.softmax_cross_entropy(z, np.array(1), reduction="sum"), z,
                          create_graph=True)
    v = RNG.standard_normal(4)
    (hv,) = autograd.grad((dz * Tensor(v)).sum(), z)
    p = _softmax(z0, -1)
    np.testing.assert_allclose(hv.data, (np.diag(p) - np.outer(p, p)) @ v, rtol=1e-12, atol=1e-15)


CASES = {
    "one example": ((5,), (), -1),
    "batch": ((6, 5), (6,), 1),
    "spatial": ((3, 4, 2), (3, 2), 1),
}


@pytest.mark.skipif(torch is None, reason="PyTorch not installed")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_pytorch(case, reduction, dtype):
    z_shape, y_shape, axis = CASES[case]
    z0 = (RNG.standard_normal(z_shape) * 4).astype(dtype)
    y = RNG.integers(0, z_shape[axis], y_shape)
    z = Tensor(z0, requires_grad=True)
    loss = autograd.softmax_cross_entropy(z, y, axis=axis, reduction=reduction)
    g = RNG.standard_normal(loss.shape).astype(dtype)
    loss.backward(Tensor(g) if loss.ndim else None)
    zt = torch.tensor(z0, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(zt, torch.tensor(y), reduction=reduction)
    lt.backward(torch.tensor(g) if lt.ndim else None)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert loss.dtype == dtype and z.grad.dtype == dtype
    np.testing.assert_allclose(loss.data, lt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(z.grad.data, zt.grad.numpy(), rtol=tol, atol=tol)


def test_compiled_reads_the_target_at_every_call():
    w = Tensor(RNG.standard_normal((3, 4)), requires_grad=True)

    @compile
    def loss_fn(x, y):
        return autograd.softmax_cross_entropy(autograd.linear(x, w), y, axis=1)

    x = RNG.standard_normal((5, 4))
    for y in (np.array([0, 1, 2, 0, 1]), np.array([2, 2, 2, 0, 0]), np.array([1, 0, 1, 0, 1])):
        got = loss_fn(x, y)
        w.grad = None
        got.backward()
        compiled_grad = w.grad.data.copy()
        w.grad = None
        eager = autograd.softmax_cross_entropy(autograd.linear(x, w), y, axis=1)
        eager.backward()
        assert got.item() == eager.item()
        np.testing.assert_array_equal(compiled_grad, w.grad.data)
    assert loss_fn.compilations == 1
    assert "softmax_cross_entropy(linear, y, 1, 'mean')" in loss_fn.source
