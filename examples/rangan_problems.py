"""Rangan's "Neural Network Notes with Solved Problems", solved again by the engine.

    python examples/rangan_problems.py [--out out]

Section 1, hard-threshold networks (g_act(z) = 1 if z >= 0 else 0, y_hat = 1 if z^O >= 0):
  problem 1: the step function of one input, y_hat = 0 exactly on [1, 3);
  problem 2: weights that classify x = 0, 1, 3, 5 as y = 0, 0, 1, 0 (the notes' Table 1);
  problem 3: a 2-D network whose y_hat = 1 exactly on the triangle x1, x2 >= 0, x1 + x2 < 1.
Section 2, gradients and the chain rule: the Jacobian of (x1 + x2 x3, x1^2 + 3 x2); the
  logistic loss (binary cross-entropy on a logit), dJ/dz = sigma(z) - y; a sigmoid layer;
  the squared loss of a linear layer.
Section 3, backpropagation: problem 1, a ReLU network with the categorical cross-entropy,
  dL/dz^O = softmax(z^O) - r; problem 2, the exp model z = W x + b, u = exp(z),
  y_hat = alpha^T u, L = sum (y - y_hat)^2, step by step.

Every answer of the notes is asserted against the engine (an AssertionError is a bug);
where the notes have a typo the output says so and uses the corrected formula. Writes
to OUT: ``rangan_threshold_networks.png`` (the three hard-threshold networks drawn, as
the notes ask) and the exp model's graph forward (values) and backward (gradients) as
SVG (and PNG when Graphviz's ``dot`` is installed): parameters light blue and data light
green, as in the notes' figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from _output import PLOTS_OPTIONAL, needs, pyplot, report_graphs, save_figure  # noqa: E402  (a sibling file)

import autograd
from autograd import Tensor
from nn import functional as F


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def threshold_net(x, w_hidden, b_hidden, w_out, b_out) -> dict[str, Tensor]:
    """The notes' network (1) with hard thresholds, on a batch x of shape (N, N_i)."""
    zh = autograd.linear(Tensor(x), Tensor(w_hidden), Tensor(b_hidden))  # z^H = W^H x + b^H
    uh = zh.threshold()  # u^H = 1{z^H >= 0}
    zo = autograd.linear(uh, Tensor(w_out), Tensor(b_out))  # z^O = W^O u^H + b^O
    return {"zH": zh, "uH": uh, "zO": zo, "yhat": zo.threshold()}  # y_hat = 1{z^O >= 0}


# ---- section 1: hard-threshold networks --------------------------------------------------------

P1 = dict(w_hidden=[[1.0], [1.0]], b_hidden=[-1.0, -3.0], w_out=[[-1.0, 2.0]], b_out=[0.5])
P2 = dict(w_hidden=[[1.0], [1.0]], b_hidden=[-2.0, -4.0], w_out=[[1.0, -2.0]], b_out=[-0.5])
P3 = dict(
    w_hidden=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
    b_hidden=[0.0, 0.0, -1.0],
    w_out=[[1.0, 1.0, -1.0]],
    b_out=[-1.5],
)


def problem_1_1() -> None:
    print("Section 1, problem 1: W^H = [1, 1]^T, b^H = [-1, -3], W^O = [-1, 2], b^O = 0.5")
    x = np.array([-2.0, 0.0, 0.999, 1.0, 2.0, 2.999, 3.0, 6.0])[:, None]
    v = threshold_net(x, **P1)
    print(f"   {'x':>6}  {'z^H':>16}  {'u^H':>6}  {'z^O':>4}  y_hat")
    for i, xi in enumerate(x[:, 0]):
        print(
            f"   {xi:6.3f}  {fmt(v['zH'].numpy()[i]):>16}  {fmt(v['uH'].numpy()[i]):>6}  "
            f"{v['zO'].numpy()[i, 0]:4.1f}  {v['yhat'].numpy()[i, 0]:.0f}"
        )
    # the notes: z^O = 0.5 for x < 1, -0.5 on [1, 3), 1.5 for x >= 3; y_hat = 0 exactly on [1, 3)
    expected_zo = np.where(x < 1, 0.5, np.where(x < 3, -0.5, 1.5))
    assert np.array_equal(v["zO"].numpy(), expected_zo)
    assert np.array_equal(v["yhat"].numpy(), np.where((x >= 1) & (x < 3), 0.0, 1.0))
    print(
        "   as the notes solve it: z^O = 0.5, -0.5, 1.5 on x < 1, [1, 3), x >= 3; y_hat = 0 exactly on [1, 3)"
    )


def problem_1_2() -> None:
    print("\nSection 1, problem 2: data x = 0, 1, 3, 5 with y = 0, 0, 1, 0 (and a test point x = 3.5)")
    print(
        "   the notes' solution: W^H = [1, 1]^T, b^H = [-2, -4] (features x >= 2 and x >= 4), "
        "W^O = [1, -2], b^O = -0.5"
    )
    x = np.array([0.0, 1.0, 3.0, 5.0, 3.5])[:, None]
    y = np.array([0.0, 0.0, 1.0, 0.0])
    v = threshold_net(x, **P2)
    rows = {
        "z1^H = x - 2": v["zH"].numpy()[:, 0],
        "z2^H = x - 4": v["zH"].numpy()[:, 1],
        "u1^H": v["uH"].numpy()[:, 0],
        "u2^H": v["uH"].numpy()[:, 1],
        "z^O = u1 - 2 u2 - 0.5": v["zO"].numpy()[:, 0],
        "y_hat": v["yhat"].numpy()[:, 0],
    }
    print(f"   {'x':24s}" + "".join(f"{xi:6g}" for xi in x[:, 0]))
    for label, values in rows.items():
        print(f"   {label:24s}" + "".join(f"{value:6g}" for value in values))
    print(f"   {'y':24s}" + "".join(f"{yi:6g}" for yi in y))
    assert np.array_equal(rows["y_hat"][:4], y)  # every training point classified correctly
    assert rows["y_hat"][4] == 1.0  # (c): the network predicts y_hat = 1 at x = 3.5
    assert np.array_equal(rows["z^O = u1 - 2 u2 - 0.5"], [-0.5, -0.5, 0.5, -1.5, 0.5])  # Table 1
    assert np.array_equal(rows["z1^H = x - 2"], [-2, -1, 1, 3, 1.5])
    assert np.array_equal(rows["z2^H = x - 4"], [-4, -3, -1, 1, -0.5])
    print("   Table 1 of the notes has typos: its z2^H row is labelled x - 2 (it is x - 4), its test")
    print("   column prints z2^H = 0.5 (it is 3.5 - 4 = -0.5; its u2^H = 0 is right), and the z^O row")
    print("   reads u1 - 2 u1 - 0.5 (it is u1 - 2 u2 - 0.5). The values above are the correct ones.")


def in_triangle(x1, x2):
    return (x1 >= 0) & (x2 >= 0) & (x1 + x2 < 1)


def problem_1_3() -> None:
    print(
        "\nSection 1, problem 3: W^H = [[1, 0], [0, 1], [1, 1]], b^H = [0, 0, -1], W^O = [1, 1, -1], "
        "b^O = -1.5"
    )
    grid = (
        np.arange(-8, 13) / 4.0
    )  # multiples of 1/4 from -2 to 3: exact in floating point, boundaries included
    g1, g2 = np.meshgrid(grid, grid)
    x = np.column_stack([g1.ravel(), g2.ravel()])
    v = threshold_net(x, **P3)
    inside = in_triangle(x[:, 0], x[:, 1])
    assert np.array_equal(v["yhat"].numpy()[:, 0], inside.astype(float))
    assert np.all(v["zO"].numpy()[inside, 0] == 0.5) and np.all(v["zO"].numpy()[~inside, 0] < 0)
    print(
        f"   on {len(x)} grid points (boundaries included): y_hat = 1 exactly where "
        "x1 >= 0, x2 >= 0, x1 + x2 < 1,"
    )
    print("   where z^O = 1 + 1 - 0 - 1.5 = 0.5; everywhere else z^O < 0, as the notes find")
    xs = Tensor([[0.2, 0.3]])
    w = Tensor(P3["w_hidden"], requires_grad=True)
    out = autograd.linear(
        autograd.linear(xs, w, Tensor(P3["b_hidden"])).threshold(), Tensor(P3["w_out"]), Tensor(P3["b_out"])
    )
    out.sum().backward()
    assert not w.grad.numpy().any()
    print("   a hard threshold passes no gradient (dy_hat/dW^H = 0): such a network cannot be trained by")
    print("   gradient descent, which is why training uses sigmoid or ReLU activations instead")


def plot_threshold_networks(path: Path) -> None:
    plt = pyplot()
    if plt is None:
        print(f"   skipped {path}: matplotlib is not installed (pip install matplotlib)")
        return

    figure, axes = plt.subplots(1, 3, figsize=(14, 4.3))
    xs = np.linspace(-1, 6, 1401)[:, None]
    for ax, params, title in ((axes[0], P1, "problem 1"), (axes[1], P2, "problem 2")):
        v = threshold_net(xs, **params)
        b = params["b_hidden"]
        for j, shift in ((0, 0.04), (1, -0.04)):  # drawn slightly apart so both stay visible
            ax.step(
                xs[:, 0],
                v["uH"].numpy()[:, j] + shift,
                where="post",
                linewidth=1.2,
                label=rf"$u_{j + 1}^H = 1\{{x \geq {-b[j]:g}\}}$",
            )
        ax.step(xs[:, 0], v["zO"].numpy()[:, 0], where="post", color="black", linewidth=1.8, label="$z^O$")
        ax.axhline(0, color="grey", linewidth=0.6)
        ax.set_xlabel("x")
        ax.set_title(rf"{title}: $\hat y = 1\{{z^O \geq 0\}}$", fontsize=10)
        ax.grid(alpha=0.3)
        ax.set_ylim(-2.1, 2.4)
    data_x, data_y = np.array([0, 1, 3, 5]), np.array([0, 0, 1, 0])
    for label, marker, colour in ((0, "o", "tab:blue"), (1, "s", "tab:red")):
        chosen = data_y == label
        axes[1].scatter(
            data_x[chosen],
            np.full(chosen.sum(), -1.8),
            marker=marker,
            s=70,
            c=colour,
            edgecolors="black",
            zorder=3,
            label=f"data, y = {label}",
        )
    axes[1].scatter(
        [3.5],
        [-1.8],
        marker="*",
        s=140,
        c="tab:red",
        edgecolors="black",
        zorder=3,
        label=r"test x = 3.5: $\hat y = 1$",
    )
    axes[0].axvspan(1, 3, color="tab:blue", alpha=0.12)
    axes[0].text(2, -1.6, r"$\hat y = 0$ on [1, 3)", ha="center", fontsize=9)
    for ax in axes[:2]:
        ax.legend(fontsize=7, loc="upper left")

    grid = np.linspace(-1, 2, 301)
    g1, g2 = np.meshgrid(grid, grid)
    v = threshold_net(np.column_stack([g1.ravel(), g2.ravel()]), **P3)
    axes[2].contourf(
        g1,
        g2,
        v["zO"].numpy().reshape(g1.shape),
        levels=[-2, -1, 0, 1],
        colors=["#9ecae1", "#c6dbef", "#fcae91"],
    )
    axes[2].plot([0, 0, 1, 0], [0, 1, 0, 0], "k-", linewidth=1.2)
    spots = np.array([[0.2, 0.25], [1.2, 1.3], [-0.6, -0.6], [-0.55, 0.45], [-0.6, 1.75], [0.45, -0.6]])
    values = threshold_net(spots, **P3)["zO"].numpy()[:, 0]
    for (a, b), value in zip(spots, values):
        axes[2].text(a, b, f"$z^O$ = {value:g}", fontsize=8, ha="left", va="center")
    axes[2].set_xlabel("$x_1$")
    axes[2].set_ylabel("$x_2$")
    axes[2].set_aspect("equal")
    axes[2].set_title(r"problem 3: $\hat y = 1$ only on $x_1 \geq 0, x_2 \geq 0, x_1 + x_2 < 1$", fontsize=10)
    figure.suptitle(
        "Rangan's hard-threshold networks (section 1 of his notes), computed by the engine", fontsize=11
    )
    figure.tight_layout()
    save_figure(figure, path)
    print(f"   wrote {path}")


# ---- section 2: gradients and the chain rule ----------------------------------------------------


def section_2() -> None:
    print("\nSection 2, problem 1: f(x) = (x1 + x2 x3, x1^2 + 3 x2) has Jacobian [[1, x3, x2], [2 x1, 3, 0]]")
    point = np.array([0.5, -2.0, 3.0])
    jacobian = autograd.functional.jacobian(
        lambda x: autograd.stack([x[0] + x[1] * x[2], x[0] ** 2 + 3 * x[1]]), Tensor(point)
    ).numpy()
    x1, x2, x3 = point
    print(f"   at x = {point.tolist()}: engine {jacobian.tolist()}")
    assert np.array_equal(jacobian, [[1, x3, x2], [2 * x1, 3, 0]])

    print("\nSection 2, problem 2: J = sum_i ln(1 + e^z_i) - y_i z_i with z = X w + b (binary cross-entropy)")
    rng = np.random.default_rng(32)
    X, y = rng.standard_normal((6, 3)), np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    w = Tensor(rng.standard_normal(3), requires_grad=True)
    b = Tensor(0.3, requires_grad=True)
    z = Tensor(X) @ w + b
    z.retain_grad()
    J = (z.softplus() - Tensor(y) * z).sum()  # ln(1 + e^z) computed stably as softplus(z)
    J.backward()
    dz = sigmoid(z.numpy()) - y  # the notes: dJ/dz_i = -y_i + e^z_i / (1 + e^z_i)
    np.testing.assert_allclose(z.grad.numpy(), dz, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(w.grad.numpy(), X.T @ dz, rtol=1e-12)  # dJ/dw_j = sum_i dJ/dz_i x_ij
    np.testing.assert_allclose(b.grad.numpy(), dz.sum(), rtol=1e-12)  # dJ/db = sum_i dJ/dz_i
    library = F.binary_cross_entropy_with_logits(Tensor(z.numpy()), y, reduction="sum").item()
    assert abs(library - J.item()) < 1e-12, (library, J.item())
    print(f"   dJ/dz = sigma(z) - y = {fmt(dz)}: engine equal; dJ/dw = X^T dJ/dz, dJ/db = sum dJ/dz: equal")
    print(f"   nn.functional.binary_cross_entropy_with_logits(reduction='sum') = J = {J.item():.6f}")

    print("\nSection 2, problem 3: u = sigmoid(z), z = W x + b")
    Wv, bv, xv = rng.standard_normal((3, 2)), rng.standard_normal(3), rng.standard_normal(2)
    zv = Wv @ xv + bv
    fprime = sigmoid(zv) * (1 - sigmoid(zv))  # f'(z_i) = e^-z_i / (1 + e^-z_i)^2
    du_dz = autograd.functional.jacobian(lambda t: t.sigmoid(), Tensor(zv)).numpy()
    du_dW, du_db, du_dx = (
        j.numpy()
        for j in autograd.functional.jacobian(
            lambda W_, b_, x_: autograd.linear(x_, W_, b_).sigmoid(), (Tensor(Wv), Tensor(bv), Tensor(xv))
        )
    )
    np.testing.assert_allclose(du_dz, np.diag(fprime), rtol=1e-12, atol=1e-16)  # diag(f'(z))
    np.testing.assert_allclose(du_dW, np.einsum("ij,k->ijk", np.diag(fprime), xv), rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(du_db, np.diag(fprime), rtol=1e-12, atol=1e-16)  # du_i/db_i = f'(z_i)
    np.testing.assert_allclose(du_dx, fprime[:, None] * Wv, rtol=1e-12)  # du_i/dx_j = f'(z_i) W_ij
    print(
        "   du/dz = diag(f'(z)), du_i/dW_ij = f'(z_i) x_j, du_i/db_i = f'(z_i), du_i/dx_j = f'(z_i) W_ij: "
        "engine equal"
    )

    print("\nSection 2, problem 4: L = ||y - z||^2, z = W x + b")
    yv = rng.standard_normal(3)
    W, b, x = Tensor(Wv, requires_grad=True), Tensor(bv, requires_grad=True), Tensor(xv, requires_grad=True)
    z = autograd.linear(x, W, b)
    z.retain_grad()
    ((Tensor(yv) - z) ** 2).sum().backward()
    dz = 2 * (zv - yv)
    np.testing.assert_allclose(z.grad.numpy(), dz, rtol=1e-12)  # dL/dz_j = 2 (z_j - y_j)
    np.testing.assert_allclose(W.grad.numpy(), np.outer(dz, xv), rtol=1e-12)  # 2 (z_i - y_i) x_j
    np.testing.assert_allclose(b.grad.numpy(), dz, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), dz @ Wv, rtol=1e-12)  # sum_i 2 (z_i - y_i) W_ij
    print(
        "   dL/dz = 2 (z - y), dL/dW_ij = 2 (z_i - y_i) x_j, dL/db = 2 (z - y), "
        "dL/dx_j = sum_i 2 (z_i - y_i) W_ij:"
    )
    print(
        "   engine equal (the notes write du_i/dW_ij and du_i/dx_j in 4(b), (c): they mean dL/dW_ij, dL/dx_j)"
    )


# ---- section 3: backpropagation --------------------------------------------------------------


def problem_3_1() -> None:
    print(
        "\nSection 3, problem 1: ReLU network, categorical cross-entropy "
        "g_loss = ln sum_l e^z_l - sum_k r_k z_k"
    )
    rng = np.random.default_rng(31)
    n, d, h, k = 5, 3, 4, 3
    x = rng.standard_normal((n, d))
    labels = np.array([0, 2, 1, 2, 0])
    r = np.eye(k)[labels]  # one-hot r_ik
    whv, bhv, wov, bov = (rng.standard_normal(s) for s in [(h, d), (h,), (k, h), (k,)])
    Wh, bh, Wo, bo = (Tensor(v, requires_grad=True) for v in (whv, bhv, wov, bov))
    zo = autograd.linear(autograd.linear(Tensor(x), Wh, bh).relu(), Wo, bo)
    zo.retain_grad()
    L = (zo.logsumexp(axis=1) - (zo * Tensor(r)).sum(axis=1)).sum()  # L = sum_i g_loss(z_i^O, y_i)
    L.backward()
    # the notes' solution, step by step
    zh = x @ whv.T + bhv
    uh = np.maximum(zh, 0)
    zov = uh @ wov.T + bov
    dzo = np.exp(zov) / np.exp(zov).sum(axis=1, keepdims=True) - r  # dL/dz_ij^O = softmax - r_ij
    duh = dzo @ wov  # dL/du_ik^H = sum_j dL/dz_ij^O W_jk^O
    dzh = duh * (zh > 0)  # dL/dz_ij^H = dL/du_ij^H 1{z_ij^H > 0}
    np.testing.assert_allclose(zo.grad.numpy(), dzo, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(Wo.grad.numpy(), dzo.T @ uh, rtol=1e-12)  # sum_i dL/dz_ij^O u_ik^H
    np.testing.assert_allclose(bo.grad.numpy(), dzo.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(Wh.grad.numpy(), dzh.T @ x, rtol=1e-12)  # sum_i dL/dz_ij^H x_ik
    np.testing.assert_allclose(bh.grad.numpy(), dzh.sum(axis=0), rtol=1e-12)
    library = F.cross_entropy(Tensor(zov), labels, reduction="sum").item()
    assert abs(library - L.item()) < 1e-12
    print(f"   dL/dz^O = softmax(z^O) - r: engine equal (first row {fmt(dzo[0])})")
    print("   dL/dW^O, dL/db^O, dL/dW^H, dL/db^H by the notes' steps: engine equal")
    print("   (the notes' sums for dL/dW_jk and dL/db_j write dL/dz_ik where they mean dL/dz_ij)")
    print(f"   nn.functional.cross_entropy(reduction='sum') = L = {L.item():.6f}")


def exp_model(x, y, w, b, alpha) -> tuple[Tensor, dict[str, Tensor]]:
    """z_i = W x_i + b, u_i = exp(z_i), y_hat_i = alpha^T u_i, L = sum_i (y_i - y_hat_i)^2; steps named."""
    t = {
        "x": Tensor(x, name="x"),
        "y": Tensor(y, name="y"),
        "W": Tensor(w, requires_grad=True, name="W"),
        "b": Tensor(b, requires_grad=True, name="b"),
        "α": Tensor(alpha, requires_grad=True, name="α"),
    }
    t["z"] = autograd.linear(t["x"], t["W"], t["b"])
    t["u"] = t["z"].exp()
    t["ŷ"] = t["u"] @ t["α"]
    t["y−ŷ"] = t["y"] - t["ŷ"]
    t["(y−ŷ)²"] = t["y−ŷ"] ** 2
    t["L"] = t["(y−ŷ)²"].sum()
    for name, tensor in t.items():
        tensor.name = name
    for name in ("z", "u", "ŷ"):
        t[name].retain_grad()
    return t["L"], t


def check_exp_model(x, y, w, b, alpha) -> tuple[Tensor, dict[str, Tensor]]:
    L, t = exp_model(x, y, w, b, alpha)
    L.backward(retain_graph=True)  # kept for drawing
    # the notes' solution, step by step
    z = x @ w.T + b
    u = np.exp(z)
    dyhat = 2 * (u @ alpha - y)  # dL/dy_hat_i = 2 (y_hat_i - y_i)
    dalpha = dyhat @ u  # dL/dalpha_j = sum_i dL/dy_hat_i u_ij
    du = dyhat[:, None] * alpha[None, :]  # dL/du_ij = dL/dy_hat_i alpha_j
    dz = du * np.exp(z)  # dL/dz_ij = dL/du_ij exp(z_ij)
    dW = dz.T @ x  # dL/dW_jk = sum_i dL/dz_ij x_ik  (the notes print u_ik: a typo)
    db = dz.sum(axis=0)  # dL/db_j = sum_i dL/dz_ij
    for name, engine, expected in (
        ("ŷ", t["ŷ"].grad, dyhat),
        ("u", t["u"].grad, du),
        ("z", t["z"].grad, dz),
        ("α", t["α"].grad, dalpha),
        ("W", t["W"].grad, dW),
        ("b", t["b"].grad, db),
    ):
        np.testing.assert_allclose(engine.numpy(), expected, rtol=1e-12, atol=1e-14, err_msg=name)
    if u.shape[1] == x.shape[1]:  # only then does the printed typo (u_ik for x_ik) even have W's shape
        assert not np.allclose(dz.T @ u, dW)
    return L, t


def problem_3_2(out: Path) -> None:
    print(
        "\nSection 3, problem 2: z_i = W x_i + b, u_i = exp(z_i), y_hat_i = alpha^T u_i, "
        "L = sum_i (y_i - y_hat_i)^2"
    )
    rng = np.random.default_rng(3)
    n, d, m = 6, 3, 4
    check_exp_model(
        rng.standard_normal((n, d)),
        rng.standard_normal(n),
        rng.standard_normal((m, d)) * 0.5,
        rng.standard_normal(m) * 0.5,
        rng.standard_normal(m),
    )
    # a small case with round numbers, drawn
    x = np.array([[1.0, 0.5], [-0.5, 2.0]])
    y = np.array([1.0, 3.0])
    w = np.array([[0.5, -0.25], [0.25, 0.5]])
    b = np.array([0.0, -0.5])
    alpha = np.array([0.75, 0.5])
    L, t = check_exp_model(x, y, w, b, alpha)
    print("   backprop, the notes' steps:  dL/dy_hat_i = 2 (y_hat_i - y_i)")
    print(
        "                                dL/dalpha_j = sum_i dL/dy_hat_i u_ij,  "
        "dL/du_ij = dL/dy_hat_i alpha_j"
    )
    print("                                dL/dz_ij = dL/du_ij exp(z_ij)")
    print("                                dL/dW_jk = sum_i dL/dz_ij x_ik,  dL/db_j = sum_i dL/dz_ij")
    print("   engine gradients equal these on a random batch (N = 6, 3 inputs, M = 4) and on the drawn one:")
    for name in ("W", "b", "α"):
        print(f"     dL/d{name} = {t[name].grad.numpy().round(6).tolist()}")
    print(
        "   typo in the notes: they print dz_ij/dW_jk = u_ik; since z_ij = sum_k W_jk x_ik + b_j it is x_ik,"
    )
    print("   and dL/dW_jk = sum_i dL/dz_ij x_ik (with u_ik the sum has W's shape only when M = N_i, as in")
    print("   the drawn case, and there it gives a different, wrong answer: checked)")
    report_graphs(L, out, "rangan_exp_model")


# ---- output helpers ------------------------------------------------------------------------------


def fmt(values) -> str:
    return "[" + ", ".join(f"{float(v):g}" for v in np.ravel(values)) + "]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=needs(PLOTS_OPTIONAL))
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the images (default out/)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    problem_1_1()
    problem_1_2()
    problem_1_3()
    plot_threshold_networks(args.out / "rangan_threshold_networks.png")
    section_2()
    problem_3_1()
    problem_3_2(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
