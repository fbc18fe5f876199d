"""The course documents' worked answers, reproduced by the engine.

Each expected value is the course document's own closed form (or printed number), evaluated in
numpy independently of the engine; the engine gets its gradients from ``.backward()``.
"""

import numpy as np
import pytest

import autograd
from autograd import Tensor


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# ---- Ray's backpropagation slides (U. Alberta): chain-rule examples -----------------


def powell(x1, x2, x3, x4):
    return (x1 + 10 * x2) ** 2 + 5 * (x3 - x4) ** 2 + (x2 + 2 * x3) ** 4 + 10 * (x1 - x4) ** 4


def powell_gradient(x1, x2, x3, x4):
    return np.array(
        [
            2 * (x1 + 10 * x2) + 40 * (x1 - x4) ** 3,
            20 * (x1 + 10 * x2) + 4 * (x2 + 2 * x3) ** 3,
            10 * (x3 - x4) + 8 * (x2 + 2 * x3) ** 3,
            -10 * (x3 - x4) - 40 * (x1 - x4) ** 3,
        ]
    )


def test_rays_slides_four_variable_function_at_3_m1_0_1():
    x = [Tensor(v, requires_grad=True) for v in [3.0, -1.0, 0.0, 1.0]]
    f = powell(*x)
    f.backward()
    assert f.item() == 215.0
    assert [t.grad.item() for t in x] == [306.0, -144.0, -18.0, -310.0]


def test_rays_slides_four_variable_function_as_one_vector():
    x = Tensor([3.0, -1.0, 0.0, 1.0], requires_grad=True)
    powell(x[0], x[1], x[2], x[3]).backward()
    np.testing.assert_array_equal(x.grad.data, [306.0, -144.0, -18.0, -310.0])


@pytest.mark.parametrize("z", [(1.0, 2.0), (0.5, -1.5), (-2.0, 0.25)])
def test_rays_slides_composition_with_z_is_jacobian_vector_product(z):
    z1v, z2v = z
    z1, z2 = Tensor(z1v, requires_grad=True), Tensor(z2v, requires_grad=True)
    powell(z1 - z2, z1**2, z2**2, z1**2 + z1 * z2).backward()
    # the slides: grad_z f = J_x(z)^T grad_x f
    x = (z1v - z2v, z1v**2, z2v**2, z1v**2 + z1v * z2v)
    jacobian_x_z = np.array([[1, -1], [2 * z1v, 0], [0, 2 * z2v], [2 * z1v + z2v, z1v]])
    expected = jacobian_x_z.T @ powell_gradient(*x)
    np.testing.assert_allclose([z1.grad.item(), z2.grad.item()], expected, rtol=1e-14)


def test_rays_slides_gradient_descent_function():
    rng = np.random.default_rng(4)
    for xv, yv in rng.uniform(-3, 3, size=(5, 2)):
        x, y = Tensor(xv, requires_grad=True), Tensor(yv, requires_grad=True)
        (-((x.cos() ** 2 + y.cos() ** 2) ** 2)).backward()
        s = np.cos(xv) ** 2 + np.cos(yv) ** 2
        assert x.grad.item() == pytest.approx(4 * s * np.cos(xv) * np.sin(xv), rel=1e-13, abs=1e-14)
        assert y.grad.item() == pytest.approx(4 * s * np.cos(yv) * np.sin(yv), rel=1e-13, abs=1e-14)


def test_rays_slides_scalar_network_rules():
    xv, yv, w1v, b1v, w2v, b2v = 0.7, 0.3, -1.2, 0.4, 2.0, -0.5
    X = Tensor(xv)
    W1, b1, W2, b2 = (Tensor(v, requires_grad=True) for v in (w1v, b1v, w2v, b2v))
    Z1 = X * W1
    Z2 = Z1 + b1
    Z3 = Z2.sigmoid()
    Z4 = Z3 * W2
    Yp = Z4 + b2
    (0.5 * (Yp - yv) ** 2).backward()
    # the slides' five steps
    dYp = (sigmoid(xv * w1v + b1v) * w2v + b2v) - yv
    dZ4 = dYp
    dZ3 = w2v * dZ4
    z2 = xv * w1v + b1v
    dZ2 = sigmoid(z2) * (1 - sigmoid(z2)) * dZ3
    dZ1 = dZ2
    assert W1.grad.item() == pytest.approx(xv * dZ1, rel=1e-14)
    assert b1.grad.item() == pytest.approx(dZ2, rel=1e-14)
    assert W2.grad.item() == pytest.approx(sigmoid(z2) * dZ4, rel=1e-14)
    assert b2.grad.item() == pytest.approx(dYp, rel=1e-14)


def test_rays_slides_matrix_network_rules_with_broadcast_bias():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    w1v, b1v, w2v, b2v = (rng.standard_normal(s) for s in [(3, 4), (4,), (4, 2), (2,)])
    W1, b1, W2, b2 = (Tensor(v, requires_grad=True) for v in (w1v, b1v, w2v, b2v))
    Yp = (Tensor(x) @ W1 + b1).sigmoid() @ W2 + b2
    (0.5 * ((Yp - y) ** 2).sum()).backward()
    z2 = x @ w1v + b1v
    z3 = sigmoid(z2)
    dYp = z3 @ w2v + b2v - y
    dZ3 = dYp @ w2v.T  # δZ3 = δZ4 W2ᵀ
    dZ2 = z3 * (1 - z3) * dZ3
    np.testing.assert_allclose(W2.grad.data, z3.T @ dYp, rtol=1e-13)  # δW2 = Z3ᵀ δZ4
    np.testing.assert_allclose(b2.grad.data, dYp.sum(0), rtol=1e-13)  # δb2 = Σ_k (δYp)_k
    np.testing.assert_allclose(W1.grad.data, x.T @ dZ2, rtol=1e-13)  # δW1 = Xᵀ δZ1
    np.testing.assert_allclose(b1.grad.data, dZ2.sum(0), rtol=1e-13)


def test_rays_slides_softmax_cross_entropy_gradient_is_p_minus_y():
    rng = np.random.default_rng(1)
    logits = Tensor(rng.standard_normal((4, 10)), requires_grad=True)
    labels = np.array([3, 0, 9, 3])
    y = np.eye(10)[labels]
    loss = -(Tensor(y) * logits.softmax(axis=1).log()).sum()
    loss.backward()
    p = np.exp(logits.data) / np.exp(logits.data).sum(1, keepdims=True)
    np.testing.assert_allclose(logits.grad.data, p - y, rtol=1e-12, atol=1e-15)
    logits.grad = None
    (-(Tensor(y) * logits.log_softmax(axis=1)).sum()).backward()
    np.testing.assert_allclose(logits.grad.data, p - y, rtol=1e-12, atol=1e-15)


# ---- CMU 10-601 homework 5, section 2: the DAG homework ----------------------------


def dag_forward(x, y, params):
    """The homework graph; works on Tensors and on floats (numpy) alike."""
    w11, w21, w22, w32, m11, m12, m22, b2, c1 = params
    x1, x2, x3 = x
    pre1 = w11 * x1 + w21 * x2
    z1 = pre1.relu() if isinstance(pre1, Tensor) else max(pre1, 0.0)
    z2 = w22 * x2**2 + w32 * x3 + b2
    s = m11 * z1**3 + c1
    y1 = s.sigmoid() if isinstance(s, Tensor) else sigmoid(s)
    y2 = m12 * autograd.sin(z1) + m22 * autograd.cos(z2) if isinstance(z1, Tensor) else (
        m12 * np.sin(z1) + m22 * np.cos(z2)
    )
    J = autograd.log((y[0] - y1) ** 2) + autograd.log((y[1] - y2) ** 2) if isinstance(y1, Tensor) else (
        np.log((y[0] - y1) ** 2) + np.log((y[1] - y2) ** 2)
    )
    return pre1, z1, z2, y1, y2, J


def dag_closed_forms(x, y, params, relu_prime_at_zero=0.0):
    """The 10-601 handout's answers (a)-(f), plus the two it does not ask for (m22, w32, w21)."""
    w11, w21, w22, w32, m11, m12, m22, b2, c1 = params
    x1, x2, x3 = x
    pre1, z1, z2, y1, y2, _ = dag_forward(x, y, params)
    dy1 = -2 / (y[0] - y1)
    dy2 = -2 / (y[1] - y2)
    dz1 = dy1 * (3 * m11 * y1 * (1 - y1) * z1**2) + dy2 * (m12 * np.cos(z1))
    dz2 = -dy2 * (m22 * np.sin(z2))
    relu_prime = 1.0 if pre1 > 0 else (relu_prime_at_zero if pre1 == 0 else 0.0)
    return {
        "w11": relu_prime * dz1 * x1,
        "w21": relu_prime * dz1 * x2,
        "w22": dz2 * x2**2,
        "w32": dz2 * x3,
        "m11": dy1 * y1 * (1 - y1) * z1**3,
        "m12": dy2 * np.sin(z1),
        "m22": dy2 * np.cos(z2),
        "b2": dz2,
        "c1": dy1 * y1 * (1 - y1),
    }


NAMES = ["w11", "w21", "w22", "w32", "m11", "m12", "m22", "b2", "c1"]
DAG_POINTS = [
    # (x, y, params); the third has w11 x1 + w21 x2 < 0: the ReLU is inactive
    ((1.0, 2.0, -1.0), (0.9, 2.5), (0.5, 0.3, -0.2, 0.4, 0.7, 1.1, -0.6, 0.1, -0.3)),
    ((-0.5, 1.5, 2.0), (0.1, -1.0), (-0.4, 0.9, 0.3, -0.2, -1.1, 0.5, 0.8, -0.3, 0.2)),
    ((2.0, 1.0, 0.5), (0.3, 1.7), (-1.0, 0.5, 0.6, 0.1, 0.9, -0.7, 1.2, 0.4, 0.1)),
]


@pytest.mark.parametrize("x, y, params", DAG_POINTS)
def test_cmu10601_dag_gradients_equal_closed_forms(x, y, params):
    tensors = [Tensor(v, requires_grad=True, name=n) for v, n in zip(params, NAMES)]
    *_, J = dag_forward([Tensor(v) for v in x], y, tensors)
    J.backward()
    expected = dag_closed_forms(x, y, params)
    for t in tensors:
        assert t.grad.item() == pytest.approx(expected[t.name], rel=1e-12, abs=1e-14), t.name
    if x == DAG_POINTS[2][0]:
        assert tensors[0].grad.item() == 0.0 and tensors[1].grad.item() == 0.0  # ReLU inactive


def test_cmu10601_dag_relu_at_exactly_zero_uses_pytorch_convention():
    # w11 x1 + w21 x2 == 0: the handout defines ReLU'(0) = 1; the engine (like PyTorch) uses 0
    x, y = (1.0, 2.0, 0.5), (0.4, 1.0)
    params = (1.0, -0.5, 0.3, 0.2, 0.6, 0.9, -0.4, 0.1, 0.2)
    tensors = [Tensor(v, requires_grad=True, name=n) for v, n in zip(params, NAMES)]
    *_, J = dag_forward([Tensor(v) for v in x], y, tensors)
    J.backward()
    engine = {t.name: t.grad.item() for t in tensors}
    pytorch_convention = dag_closed_forms(x, y, params, relu_prime_at_zero=0.0)
    handout_convention = dag_closed_forms(x, y, params, relu_prime_at_zero=1.0)
    assert engine["w11"] == pytorch_convention["w11"] == 0.0
    assert engine["w21"] == pytorch_convention["w21"] == 0.0
    # with the handout's ReLU'(0) = 1 the gradient would flow: dJ/dz1 = dJ/dŷ2 m12 cos(0) ≠ 0
    assert abs(handout_convention["w11"]) > 0.1
    # the conventions differ only in the weights feeding the ReLU
    for name in ["w22", "w32", "m11", "m12", "m22", "b2", "c1"]:
        assert engine[name] == pytest.approx(handout_convention[name], rel=1e-12, abs=1e-14)


# ---- the 10-601 handout, section 3: backpropagation through time -------------------


@pytest.mark.parametrize("steps", [1, 2, 5])
def test_cmu10601_bptt_gradients_equal_the_handout_formulas(steps):
    rng = np.random.default_rng(steps)
    a, b, c = 3, 4, 2
    uv, vv = rng.standard_normal((b, a)), rng.standard_normal((c, b))
    xs = rng.standard_normal((steps, a))
    ys = rng.standard_normal((steps, c))
    h0 = rng.standard_normal(b)
    U, V = Tensor(uv, requires_grad=True), Tensor(vv, requires_grad=True)
    h = Tensor(h0)
    hs, os = [], []
    for n in range(steps):
        h = U @ xs[n] + h  # h(n) = U x(n) + h(n-1)   (W = I, identity activation)
        h.retain_grad()
        o = V @ h  # o(n) = V h(n)
        hs.append(h)
        os.append(o)
    J = sum(((o - y) ** 2).sum() * 0.5 for o, y in zip(os, ys))  # l = ½‖o − y‖²
    J.backward()

    # the handout's answers, with dl/do(n) = o(n) − y(n)
    h_values = [h0]
    for n in range(steps):
        h_values.append(uv @ xs[n] + h_values[-1])
    h_values = h_values[1:]
    dJ_do = [vv @ hv - y for hv, y in zip(h_values, ys)]
    dJ_dh = [None] * steps
    later = np.zeros(b)
    for n in reversed(range(steps)):  # ∂J/∂h(n) = Vᵀ ∂J/∂o(n) + ∂J/∂h(n+1)
        dJ_dh[n] = vv.T @ dJ_do[n] + later
        later = dJ_dh[n]
    dJ_dV = sum(np.outer(do, hv) for do, hv in zip(dJ_do, h_values))  # Σ ∂J/∂o(i) h(i)ᵀ
    dJ_dU = sum(np.outer(dh, x) for dh, x in zip(dJ_dh, xs))  # Σ ∂J/∂h(i) x(i)ᵀ
    for h_tensor, expected in zip(hs, dJ_dh):
        np.testing.assert_allclose(h_tensor.grad.data, expected, rtol=1e-12)
    np.testing.assert_allclose(V.grad.data, dJ_dV, rtol=1e-12)
    np.testing.assert_allclose(U.grad.data, dJ_dU, rtol=1e-12)


# ---- Rangan's neural network notes: the solved problems ----------------------------


def test_rangan_exp_model_backprop():
    rng = np.random.default_rng(3)
    n, d, m = 6, 3, 4
    x, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    wv, bv, av = rng.standard_normal((m, d)) * 0.5, rng.standard_normal(m) * 0.5, rng.standard_normal(m)
    W, b, alpha = (Tensor(v, requires_grad=True) for v in (wv, bv, av))
    z = Tensor(x) @ W.T + b  # z_i = W x_i + b
    u = z.exp()  # u_i = exp(z_i)
    yhat = u @ alpha  # ŷ_i = αᵀ u_i
    L = ((Tensor(y) - yhat) ** 2).sum()
    L.backward()
    # the notes' solution, step by step
    zv = x @ wv.T + bv
    uv = np.exp(zv)
    dyhat = 2 * (uv @ av - y)  # ∂L/∂ŷ_i = 2(ŷ_i − y_i)
    dalpha = (dyhat[:, None] * uv).sum(0)  # Σ_i ∂L/∂ŷ_i u_ij
    du = dyhat[:, None] * av[None, :]  # ∂L/∂ŷ_i α_j
    dz = du * np.exp(zv)  # ∂L/∂u_ij exp(z_ij)
    # the notes print ∂z_ij/∂W_jk = u_ik, a typo for x_ik (z_ij = Σ_k W_jk x_ik + b_j)
    dW = dz.T @ x
    db = dz.sum(0)
    np.testing.assert_allclose(alpha.grad.data, dalpha, rtol=1e-12)
    np.testing.assert_allclose(W.grad.data, dW, rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, db, rtol=1e-12)


def test_rangan_binary_cross_entropy_on_logits_gradient_is_sigmoid_minus_y():
    z0 = np.array([-3.0, -0.5, 0.0, 0.7, 4.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    z = Tensor(z0, requires_grad=True)
    # L = ln(1 + e^z) − y z, with ln(1 + e^z) = logsumexp([0, z]) (stable for any z)
    softplus = autograd.stack([autograd.zeros(5), z], axis=0).logsumexp(axis=0)
    (softplus - Tensor(y) * z).sum().backward()
    np.testing.assert_allclose(z.grad.data, sigmoid(z0) - y, rtol=1e-13, atol=1e-16)


def test_rangan_binary_cross_entropy_stable_at_1000():
    z = Tensor([1000.0, -1000.0], requires_grad=True)
    softplus = autograd.stack([autograd.zeros(2), z], axis=0).logsumexp(axis=0)
    loss = (softplus - Tensor([0.0, 1.0]) * z).sum()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(2000.0)
    loss.backward()
    np.testing.assert_allclose(z.grad.data, [1.0, -1.0])


def test_rangan_categorical_cross_entropy_and_relu_network():
    rng = np.random.default_rng(7)
    n, d, h, k = 5, 3, 4, 3
    x = rng.standard_normal((n, d))
    labels = np.array([0, 2, 1, 2, 0])
    r = np.eye(k)[labels]
    whv, bhv, wov, bov = (rng.standard_normal(s) for s in [(h, d), (h,), (k, h), (k,)])
    Wh, bh, Wo, bo = (Tensor(v, requires_grad=True) for v in (whv, bhv, wov, bov))
    zo = (Tensor(x) @ Wh.T + bh).relu() @ Wo.T + bo
    loss = (zo.logsumexp(axis=1) - (zo * Tensor(r)).sum(axis=1)).sum()  # Σ_i g_loss(z_i, y_i)
    loss.backward()
    # the notes' solution to problem 1
    zh = x @ whv.T + bhv
    uh = np.maximum(zh, 0)
    zov = uh @ wov.T + bov
    dzo = np.exp(zov) / np.exp(zov).sum(1, keepdims=True) - r  # softmax − r
    duh = dzo @ wov
    dzh = duh * (zh > 0)
    np.testing.assert_allclose(Wo.grad.data, dzo.T @ uh, rtol=1e-12)
    np.testing.assert_allclose(bo.grad.data, dzo.sum(0), rtol=1e-12)
    np.testing.assert_allclose(Wh.grad.data, dzh.T @ x, rtol=1e-12)
    np.testing.assert_allclose(bh.grad.data, dzh.sum(0), rtol=1e-12)


def test_rangan_hard_threshold_network_solves_xor_with_zero_gradient():
    # a 2-2-1 hard-threshold network: u1 = [x1 + x2 − 0.5 >= 0], u2 = [x1 + x2 − 1.5 >= 0],
    # output [u1 − u2 − 0.5 >= 0] is XOR; the threshold passes no gradient
    x = Tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    W = Tensor([[1.0, 1.0], [1.0, 1.0]], requires_grad=True)
    b = Tensor([-0.5, -1.5], requires_grad=True)
    u = (x @ W.T + b).threshold()
    out = (u @ Tensor([1.0, -1.0]) - 0.5).threshold()
    assert out.tolist() == [0.0, 1.0, 1.0, 0.0]
    out.sum().backward()
    assert not W.grad.data.any() and not b.grad.data.any()
