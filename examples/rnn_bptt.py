"""Backpropagation through time (CMU 10-601 homework 5, section 3): an unrolled RNN is just a graph.

Part 1 — the homework's linear RNN, h(n) = U x(n) + h(n-1), o(n) = V h(n), with the loss
J = Σ_t l(y(t), o(t)) and l = ½‖o − y‖². The engine's gradients are checked against
the handout's answers:

    ∂J/∂h(n) = Vᵀ ∂J/∂o(n) + ∂J/∂h(n+1)
    ∂J/∂V    = Σ_i ∂J/∂o(i) h(i)ᵀ
    ∂J/∂U    = Σ_i ∂J/∂h(i) x(i)ᵀ

Part 2 — an ``nn.RNN`` with tanh trained by BPTT to output, at every step, the sum of
the last three inputs (it has to remember them). Writes the loss curve and a drawing of
the unrolled graph with one box per time step:

    python examples/rnn_bptt.py [--out out] [--steps 300]
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


def linear_rnn_check(steps: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """Part 1: engine gradients against the handout's BPTT formulas; returns the gradients."""
    rng = np.random.default_rng(seed)
    a, b, c = 3, 4, 2  # sizes of x, h, o
    u0, v0 = rng.standard_normal((b, a)), rng.standard_normal((c, b))
    xs, ys, h0 = rng.standard_normal((steps, a)), rng.standard_normal((steps, c)), rng.standard_normal(b)

    U = Tensor(u0, requires_grad=True, name="U")
    V = Tensor(v0, requires_grad=True, name="V")
    h = Tensor(h0, name="h(0)")
    hidden, losses = [], []
    for n in range(steps):
        with autograd.scope(f"t={n + 1}"):
            h = U @ Tensor(xs[n], name=f"x({n + 1})") + h  # W = I, identity activation, no bias
            h.name = f"h({n + 1})"
            h.retain_grad()
            o = V @ h
            losses.append(((o - ys[n]) ** 2).sum() * 0.5)
        hidden.append(h)
    J = autograd.stack(losses).sum()
    J.name = "J"
    J.backward()

    # The handout's answers, evaluated in numpy
    h_values = np.cumsum(xs @ u0.T, axis=0) + h0
    dJ_do = h_values @ v0.T - ys  # l = ½‖o − y‖² gives ∂l/∂o = o − y
    dJ_dh = np.zeros((steps, b))
    later = np.zeros(b)
    for n in reversed(range(steps)):
        dJ_dh[n] = v0.T @ dJ_do[n] + later
        later = dJ_dh[n]
    dJ_dV = sum(np.outer(dJ_do[i], h_values[i]) for i in range(steps))
    dJ_dU = sum(np.outer(dJ_dh[i], xs[i]) for i in range(steps))

    for n, h_tensor in enumerate(hidden):
        assert np.allclose(h_tensor.grad.data, dJ_dh[n], rtol=1e-12), f"dJ/dh({n + 1})"
    assert np.allclose(V.grad.data, dJ_dV, rtol=1e-12), "dJ/dV"
    assert np.allclose(U.grad.data, dJ_dU, rtol=1e-12), "dJ/dU"
    return {"J": J, "dJ/dU": U.grad.data, "dJ/dV": V.grad.data, "dJ/dh": dJ_dh}


def memory_task(batch: int, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Inputs uniform in [-1, 1]; the target at step t is x(t) + x(t-1) + x(t-2)."""
    x = rng.uniform(-1, 1, size=(steps, batch, 1))
    padded = np.concatenate([np.zeros((2, batch, 1)), x])
    y = padded[2:] + padded[1:-1] + padded[:-2]
    return x, y


class SequenceModel(nn.Module):
    def __init__(self, hidden: int, generator: np.random.Generator) -> None:
        super().__init__()
        self.rnn = nn.RNN(1, hidden, generator=generator)
        self.readout = nn.Linear(hidden, 1, generator=generator)

    def forward(self, x: Tensor) -> Tensor:
        states, _ = self.rnn(x)
        return self.readout(states)


def train_tanh_rnn(updates: int, seed: int = 0) -> tuple[SequenceModel, list[float]]:
    """Part 2: BPTT through 10 unrolled steps, Adam, a fresh batch each update."""
    rng = np.random.default_rng(seed)
    model = SequenceModel(16, rng)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(updates):
        x, y = memory_task(32, 10, rng)
        loss = nn.functional.mse_loss(model(Tensor(x)), y)
        optimizer.zero_grad()
        loss.backward()  # backpropagation through time: the graph spans all 10 steps
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def save_outputs(out: Path, losses: list[float], model: SequenceModel) -> None:
    plt = pyplot()
    if plt is None:
        print("  (matplotlib is not installed, so no loss plot: pip install -e '.[examples]')")
    else:
        figure, axes = plt.subplots(figsize=(6, 3.5))
        axes.plot(losses)
        axes.set_yscale("log")
        axes.set_xlabel("update")
        axes.set_ylabel("mean squared error")
        axes.set_title("tanh RNN learning 'sum of the last 3 inputs' by BPTT")
        axes.grid(alpha=0.3)
        figure.tight_layout()
        save_figure(figure, out / "rnn_loss.png", dpi=110)
        print(f"  wrote {out / 'rnn_loss.png'}")

    # a short unrolled graph, one box per time step
    x, y = memory_task(1, 3, np.random.default_rng(1))
    loss = nn.functional.mse_loss(model(Tensor(x, name="x")), y)
    loss.name = "loss"
    loss.backward()
    report_graphs(loss, out, "rnn_unrolled", indent="  ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=needs(PLOTS_OPTIONAL))
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--steps", type=int, default=300, help="training updates in part 2")
    args = parser.parse_args(argv)
    if args.steps <= 0:
        parser.error("--steps must be positive")

    print("Part 1: the linear RNN of the 10-601 handout, section 3 (4 time steps)")
    result = linear_rnn_check()
    print("  engine gradients equal the handout's BPTT formulas:")
    print("    dJ/dh(n) = V^T dJ/do(n) + dJ/dh(n+1)   (checked for every n)")
    print("    dJ/dV    = sum_i dJ/do(i) h(i)^T")
    print("    dJ/dU    = sum_i dJ/dh(i) x(i)^T")
    np.set_printoptions(precision=4, suppress=True)
    print(f"  J = {result['J'].item():.6f}\n  dJ/dU =\n{result['dJ/dU']}\n  dJ/dV =\n{result['dJ/dV']}")

    print(f"\nPart 2: nn.RNN (tanh, 16 units) trained by BPTT, {args.steps} updates")
    model, losses = train_tanh_rnn(args.steps)
    print(f"  mean squared error: first update {losses[0]:.4f}, last {losses[-1]:.4f}")
    assert losses[-1] < losses[0], "training did not reduce the loss"
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        save_outputs(args.out, losses, model)
    except (OSError, autograd.viz.RenderError) as error:
        print(f"rnn_bptt.py: cannot write the images: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
