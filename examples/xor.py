"""XOR with a neural network, by hand and by training: Ray's backpropagation slides (U. Alberta).

    python examples/xor.py [--out out] [--iterations 2000]

The slides' truth table, in their order:

    x1 x2 | y
     1  0 | 1
     0  0 | 0
     0  1 | 1
     1  1 | 0

1. A hand-set ReLU network. The slides draw a ReLU network "trying to learn XOR"; the
   weights here are Goodfellow, Bengio and Courville's (Deep Learning, section 6.1), which
   that picture follows: h = ReLU(X W + c), y = h w + b with W = [[1, 1], [1, 1]],
   c = [0, -1], w = [1, -2], b = 0. It gives the truth table exactly: the hidden layer
   sends (0, 1) and (1, 0) to the same point, where a straight line separates the classes.
2. A trained 2-2-1 network, the slides' "Apply chain rule to XOR neural network":
   Z2 = X W1 + b1, Z3 = sigmoid(Z2), Z5 = Z3 W2 + b2, Yp = sigmoid(Z5),
   L = 1/2 ||Yp - Y||^2, trained by the slides' learning loop (forward, loss, backward,
   adjust parameters, diagnostics) with ``nn.MLP``, a seeded generator and
   ``nn.optim.SGD`` with momentum. At every step the engine's gradients are checked
   against the slides' backprop rules (dYp = Yp - Y, ..., dW1 = X^T dZ1), and at the end
   the network must classify all four points correctly.

Writes to OUT: ``xor_decision_boundaries.png`` (the hand-set net in input space and in
its hidden space, and the trained net), ``xor_training_loss.png``, and the trained
net's loss graph forward (values) and backward (gradients) as SVG (and PNG when
Graphviz's ``dot`` is installed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from _output import PLOTS_OPTIONAL, needs, pyplot, report_graphs, save_figure  # noqa: E402  (a sibling file)

import autograd
import nn
from autograd import Tensor

X_DATA = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # the slides' order
Y_DATA = np.array([1.0, 0.0, 1.0, 0.0])

# Goodfellow et al.'s hand-set ReLU network
W = np.array([[1.0, 1.0], [1.0, 1.0]])
C = np.array([0.0, -1.0])
W_OUT = np.array([1.0, -2.0])
B_OUT = 0.0

SEED = 0  # initial weights; a 2-2-1 sigmoid net can stall in a local minimum for some seeds
LEARNING_RATE = 0.5
MOMENTUM = 0.9


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# ---- 1. the hand-set ReLU network -----------------------------------------------------------


def relu_net(x: Tensor) -> tuple[Tensor, Tensor]:
    """(hidden h, output y) of the hand-set network for inputs x of shape (n, 2)."""
    h = (x @ Tensor(W, name="W") + Tensor(C, name="c")).relu()
    return h, h @ Tensor(W_OUT, name="w") + B_OUT


def hand_set() -> None:
    print("1. hand-set ReLU network: h = ReLU(X W + c), y = h w + b")
    print(f"   W = {W.tolist()}, c = {C.tolist()}, w = {W_OUT.tolist()}, b = {B_OUT:g}")
    h, y = relu_net(Tensor(X_DATA))
    print("   x1 x2 |  h1 h2 |  y  (target)")
    for xi, hi, yi, ti in zip(X_DATA, h.numpy(), y.numpy(), Y_DATA):
        print(f"   {xi[0]:2.0f} {xi[1]:2.0f} | {hi[0]:3.0f} {hi[1]:2.0f} | {yi:2.0f}  ({ti:.0f})")
    assert y.tolist() == Y_DATA.tolist(), y.tolist()  # exactly the truth table
    assert h.numpy()[0].tolist() == h.numpy()[2].tolist() == [1.0, 0.0]  # (1,0) and (0,1) meet
    print("   the truth table exactly; in h-space (1,0) and (0,1) both become (1, 0)")


# ---- 2. the trained sigmoid network ---------------------------------------------------------


def forward(net: nn.MLP, x: Tensor, y: Tensor) -> dict[str, Tensor]:
    """The slides' forward pass, layer by layer, keeping the intermediates by their slide names."""
    v = {"X": x, "Y": y}
    v["Z2"] = net[0](x)  # Z1 = X W1 and Z2 = Z1 + b1, one fused linear node
    v["Z3"] = net[1](v["Z2"])  # sigmoid
    v["Z5"] = net[2](v["Z3"])  # Z4 = Z3 W2 and Z5 = Z4 + b2
    v["Yp"] = v["Z5"].sigmoid()
    v["Yp−Y"] = v["Yp"] - y
    v["(Yp−Y)²"] = v["Yp−Y"] ** 2
    v["Σ(Yp−Y)²"] = v["(Yp−Y)²"].sum()
    v["L"] = 0.5 * v["Σ(Yp−Y)²"]
    for name, tensor in v.items():
        tensor.name = name
    return v


def check_slide_rules(net: nn.MLP, v: dict[str, Tensor]) -> None:
    """The slides' backprop rules for the XOR net, in numpy, against the engine's .grad."""
    x, y = v["X"].numpy(), v["Y"].numpy()
    w2 = net[2].weight.numpy().T  # the slides' W2 is (in, out): nn.Linear stores its transpose
    z2, z5 = v["Z2"].numpy(), v["Z5"].numpy()
    z3 = sigmoid(z2)
    dYp = sigmoid(z5) - y  # δYp = Yp − Y
    dZ5 = sigmoid(z5) * (1 - sigmoid(z5)) * dYp  # δZ5 = σ(Z5)(1 − σ(Z5)) δYp
    dZ4 = dZ5
    dZ3 = dZ4 @ w2.T  # δZ3 = δZ4 W2ᵀ
    dZ2 = sigmoid(z2) * (1 - sigmoid(z2)) * dZ3  # δZ2 = σ(Z2)(1 − σ(Z2)) δZ3
    dZ1 = dZ2
    expected = {
        "W2": z3.T @ dZ4,  # δW2 = Z3ᵀ δZ4
        "b2": dZ5.sum(0),  # δb2 = Σ_k (δZ5)_k
        "W1": x.T @ dZ1,  # δW1 = Xᵀ δZ1
        "b1": dZ2.sum(0),  # δb1 = Σ_k (δZ2)_k,:
    }
    engine = {
        "W2": net[2].weight.grad.numpy().T,
        "b2": net[2].bias.grad.numpy(),
        "W1": net[0].weight.grad.numpy().T,
        "b1": net[0].bias.grad.numpy(),
    }
    for name in expected:
        np.testing.assert_allclose(engine[name], expected[name], rtol=1e-10, atol=1e-15, err_msg=name)


def train(iterations: int) -> tuple[nn.MLP, list[float]]:
    print("\n2. a 2-2-1 sigmoid network trained by the slides' learning loop")
    print(
        f"   nn.MLP(2, [2], 1, activation='sigmoid'), seed {SEED}; "
        f"SGD lr {LEARNING_RATE}, momentum {MOMENTUM}; loss 1/2 ||Yp - Y||^2"
    )
    net = nn.MLP(2, [2], 1, activation="sigmoid", generator=np.random.default_rng(SEED))
    optimizer = nn.optim.SGD(net.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    x, y = Tensor(X_DATA, name="X"), Tensor(Y_DATA[:, None], name="Y")  # load the data once
    losses = []
    for step in range(iterations):
        v = forward(net, x, y)  # forward pass and loss
        optimizer.zero_grad()
        v["L"].backward()  # backward pass
        check_slide_rules(net, v)  # the engine does what the slides derive by hand
        optimizer.step()  # adjust the parameters
        losses.append(v["L"].item())
        if step % (iterations // 8 or 1) == 0 or step == iterations - 1:  # diagnostics
            print(f"   iteration {step:5d}: loss {losses[-1]:.6f}")
    print("   the engine's gradients equalled the slides' backprop rules at every iteration")
    return net, losses


def report_trained(net: nn.MLP) -> None:
    with autograd.no_grad():
        yp = forward(net, Tensor(X_DATA), Tensor(Y_DATA[:, None]))["Yp"].numpy()[:, 0]
    print("   x1 x2 |   Yp    | class (target)")
    for xi, p, t in zip(X_DATA, yp, Y_DATA):
        print(f"   {xi[0]:2.0f} {xi[1]:2.0f} | {p:.4f}  | {int(p > 0.5)} ({t:.0f})")
    errors = int(np.sum((yp > 0.5) != (Y_DATA > 0.5)))
    print(f"   training error: {errors}/4")
    assert errors == 0, "the trained network should classify all four points"
    assert np.all(np.abs(yp - Y_DATA) < 0.1), yp


# ---- pictures ---------------------------------------------------------------------------------


def plot_boundaries(path: Path, net: nn.MLP) -> None:
    plt = pyplot()
    if plt is None:
        print(f"   skipped {path}: matplotlib is not installed (pip install matplotlib)")
        return

    grid = np.linspace(-0.5, 1.5, 201)
    gx, gy = np.meshgrid(grid, grid)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    with autograd.no_grad():
        _, relu_out = relu_net(Tensor(points))
        trained_out = net(Tensor(points)).sigmoid()
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.3))

    def scatter(ax, xy, labels):
        for label, marker, colour in ((0, "o", "tab:blue"), (1, "s", "tab:red")):
            chosen = labels == label
            ax.scatter(
                xy[chosen, 0],
                xy[chosen, 1],
                marker=marker,
                s=90,
                c=colour,
                edgecolors="black",
                zorder=3,
                label=f"y = {label}",
            )
        texts: dict[tuple[float, float], list[str]] = {}
        for (a, b), (p, q) in zip(xy, X_DATA):
            texts.setdefault((a, b), []).append(f"x = ({p:.0f},{q:.0f})")
        for (a, b), lines in texts.items():
            ax.annotate(
                "\n".join(lines), (a, b), textcoords="offset points", xytext=(7, -10), fontsize=8, va="top"
            )

    levels = np.linspace(-1, 2, 13)
    filled = axes[0].contourf(
        gx, gy, relu_out.numpy().reshape(gx.shape), levels=levels, cmap="RdBu_r", alpha=0.6
    )
    axes[0].contour(gx, gy, relu_out.numpy().reshape(gx.shape), levels=[0.5], colors="black", linewidths=1.5)
    figure.colorbar(filled, ax=axes[0], label="y")
    scatter(axes[0], X_DATA, Y_DATA)
    axes[0].set_title("hand-set ReLU net, y = ReLU(xW + c) w\n(black line: y = 0.5)", fontsize=10)

    hidden, _ = relu_net(Tensor(X_DATA))
    h = hidden.numpy()
    line = np.linspace(-0.5, 2.5, 2)
    axes[1].plot(line, (line - 0.5) / 2, "k-", linewidth=1.5, label="h1 − 2 h2 = 0.5")
    axes[1].fill_between(line, (line - 0.5) / 2, -1, color="tab:red", alpha=0.15)
    scatter(axes[1], h, Y_DATA)
    axes[1].set_xlim(-0.5, 2.5)
    axes[1].set_ylim(-0.5, 1.5)
    axes[1].set_xlabel("h1")
    axes[1].set_ylabel("h2")
    axes[1].set_title(
        "its hidden space h = ReLU(xW + c):\n(0,1) and (1,0) land on the same point", fontsize=10
    )
    axes[1].legend(loc="upper left", fontsize=8)

    filled = axes[2].contourf(
        gx, gy, trained_out.numpy().reshape(gx.shape), levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6
    )
    axes[2].contour(
        gx, gy, trained_out.numpy().reshape(gx.shape), levels=[0.5], colors="black", linewidths=1.5
    )
    figure.colorbar(filled, ax=axes[2], label="Yp")
    scatter(axes[2], X_DATA, Y_DATA)
    axes[2].set_title("trained 2-2-1 sigmoid net\n(black line: Yp = 0.5)", fontsize=10)
    for ax in (axes[0], axes[2]):
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_aspect("equal")
    figure.tight_layout()
    save_figure(figure, path)
    print(f"   wrote {path}")


def plot_loss(path: Path, losses: list[float]) -> None:
    plt = pyplot()
    if plt is None:
        print(f"   skipped {path}: matplotlib is not installed (pip install matplotlib)")
        return

    figure, axes = plt.subplots(figsize=(6, 3.6))
    axes.semilogy(range(1, len(losses) + 1), losses)
    axes.set_xlabel("iteration (one gradient step on all four points)")
    axes.set_ylabel("loss 1/2 ||Yp − Y||²")
    axes.set_title(f"XOR, 2-2-1 sigmoid net: SGD lr {LEARNING_RATE}, momentum {MOMENTUM}", fontsize=10)
    axes.grid(alpha=0.3, which="both")
    figure.tight_layout()
    save_figure(figure, path)
    print(f"   wrote {path}")


def draw_loss_graph(net: nn.MLP, out: Path) -> None:
    """The trained net's loss graph, parameters labelled in the slides' notation."""
    names = {net[0].weight: "W1ᵀ", net[0].bias: "b1", net[2].weight: "W2ᵀ", net[2].bias: "b2"}
    for parameter, name in names.items():
        parameter.name = name  # a label only: nn.Linear keeps W of shape (out, in), the slides' Wᵀ
    v = forward(net, Tensor(X_DATA), Tensor(Y_DATA[:, None]))
    report_graphs(v["L"], out, "xor_loss_graph", rankdir="TB")


# ---- output helpers ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=needs(PLOTS_OPTIONAL))
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the images (default out/)")
    parser.add_argument("--iterations", type=int, default=2000, help="training iterations (default 2000)")
    args = parser.parse_args(argv)
    if args.iterations < 300:
        parser.error("--iterations must be at least 300 (the network needs them to learn XOR)")
    args.out.mkdir(parents=True, exist_ok=True)
    hand_set()
    net, losses = train(args.iterations)
    report_trained(net)
    plot_boundaries(args.out / "xor_decision_boundaries.png", net)
    plot_loss(args.out / "xor_training_loss.png", losses)
    draw_loss_graph(net, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
