"""The hand-derived procedural network of CMU 10-315 homework 2, cross-checked against the engine and finite differences."""

import sys
from pathlib import Path

import numpy as np
import pytest

from autograd import Tensor
from nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "ocr"))
import neuralnet  # noqa: E402
import procedural as P  # noqa: E402

RNG = np.random.default_rng(0)
M, D, K = 6, 4, 10
X = np.concatenate([[1.0], (RNG.random(M) < 0.5).astype(float)])  # with the bias feature
Y = np.eye(K)[3]
ALPHA = RNG.uniform(-0.5, 0.5, (D, M + 1))
BETA = RNG.uniform(-0.5, 0.5, (K, D + 1))


def test_forward_values():
    x, a, z, b, y_hat, J = P.NNForward(X, Y, ALPHA, BETA)
    np.testing.assert_allclose(a, ALPHA @ X)
    np.testing.assert_allclose(z, np.concatenate([[1.0], 1 / (1 + np.exp(-a))]))
    np.testing.assert_allclose(y_hat, np.exp(b) / np.exp(b).sum())
    assert J == pytest.approx(-np.log(y_hat[3]))
    assert P.sigmoidForward(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]


def test_softmax_backward_matches_engine():
    b = Tensor(RNG.standard_normal(K), requires_grad=True)
    F.cross_entropy(b.reshape(1, K), [3]).backward()
    np.testing.assert_allclose(P.softmaxBackward(Y, P.softmaxForward(b.data)), b.grad.data, rtol=1e-13)


def test_linear_backward_matches_engine():
    prev = Tensor(np.concatenate([[1.0], RNG.standard_normal(D)]), requires_grad=True)
    p = Tensor(RNG.standard_normal((K, D + 1)), requires_grad=True)
    grad_curr = RNG.standard_normal(K)
    (p @ prev).backward(grad_curr)
    g_p, g_prev = P.linearBackward(prev.data, p.data, grad_curr)
    np.testing.assert_allclose(g_p, p.grad.data, rtol=1e-13)
    np.testing.assert_allclose(g_prev, prev.grad.data[1:], rtol=1e-13)  # nothing flows into the bias 1


def test_sigmoid_backward_matches_engine():
    a = Tensor(RNG.standard_normal(D), requires_grad=True)
    grad_curr = RNG.standard_normal(D)
    z = a.sigmoid()
    z.backward(grad_curr)
    np.testing.assert_allclose(P.sigmoidBackward(z.data, grad_curr), a.grad.data, rtol=1e-13)
    with_bias = np.concatenate([[1.0], z.data])
    np.testing.assert_allclose(P.sigmoidBackward(with_bias, grad_curr), a.grad.data, rtol=1e-13)


def test_nn_backward_matches_engine_backward():
    alpha = Tensor(ALPHA, requires_grad=True)
    beta = Tensor(BETA, requires_grad=True)
    x = Tensor(X)
    a = alpha @ x
    a.retain_grad()
    z = a.sigmoid()
    z.retain_grad()
    b = beta[:, 0] + beta[:, 1:] @ z  # β [1; z]: the bias column, then the weights
    b.retain_grad()
    F.cross_entropy(b.reshape(1, K), [3]).backward()
    _, _, z_np, _, y_hat, _ = P.NNForward(X, Y, ALPHA, BETA)
    g_alpha, g_beta, g_b, g_z, g_a = P.NNBackward(X, Y, ALPHA, BETA, z_np, y_hat)
    np.testing.assert_allclose(g_alpha, alpha.grad.data, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g_beta, beta.grad.data, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g_b, b.grad.data, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g_z, z.grad.data, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g_a, a.grad.data, rtol=1e-12, atol=1e-15)


def test_nn_backward_matches_finite_differences():
    """The 10-315 handout, A.1: the centred difference (J(θ + εd) − J(θ − εd)) / 2ε, entry by entry."""
    _, _, z, _, y_hat, _ = P.NNForward(X, Y, ALPHA, BETA)
    g_alpha, g_beta, *_ = P.NNBackward(X, Y, ALPHA, BETA, z, y_hat)
    eps = 1e-5
    for which, grad in (("alpha", g_alpha), ("beta", g_beta)):
        numeric = np.zeros_like(grad)
        for index in np.ndindex(grad.shape):
            params = {"alpha": ALPHA.copy(), "beta": BETA.copy()}
            params[which][index] += eps
            plus = P.NNForward(X, Y, params["alpha"], params["beta"])[5]
            params[which][index] -= 2 * eps
            minus = P.NNForward(X, Y, params["alpha"], params["beta"])[5]
            numeric[index] = (plus - minus) / (2 * eps)
        assert np.linalg.norm(grad - numeric) < 1e-7, which


def test_train_and_valid_matches_neuralnet_on_the_same_data(tmp_path):
    rng = np.random.default_rng(3)
    x_train, y_train = (rng.random((40, 12)) < 0.5).astype(float), rng.integers(0, 10, 40)
    x_valid, y_valid = (rng.random((15, 12)) < 0.5).astype(float), rng.integers(0, 10, 15)
    for init_flag, init_rand in ((1, True), (2, False)):
        losses_train, losses_valid, err_train, err_val, pred_train, pred_val = P.train_and_valid(
            x_train, y_train, x_valid, y_valid, 3, 5, init_rand, 0.1, seed=7
        )
        config = neuralnet.Config(*[tmp_path / n for n in ("a", "b", "c", "d", "e")], 3, 5, init_flag, 0.1, seed=7)
        net, lines = neuralnet.train(config, x_train, y_train, x_valid, y_valid)
        ours = [float(line.split(": ")[1]) for line in lines]
        np.testing.assert_allclose(ours[0::2], losses_train, rtol=1e-9)  # 12 printed digits
        np.testing.assert_allclose(ours[1::2], losses_valid, rtol=1e-9)
        assert neuralnet.predict(net, x_train).tolist() == pred_train
        assert neuralnet.predict(net, x_valid).tolist() == pred_val
        assert err_train == np.mean(np.array(pred_train) != y_train)
