"""The chain rule, worked: gradient examples from Ray's backpropagation slides (U. Alberta), checked by hand.

    python examples/chain_rule.py [--out out] [--steps 200]

1. f(x1, x2, x3, x4) = (x1 + 10 x2)^2 + 5 (x3 - x4)^2 + (x2 + 2 x3)^4 + 10 (x1 - x4)^4
   at [3, -1, 0, 1]: the slides' gradient is [306, -144, -18, -310].
2. The same f with x a function of (z1, z2): x1 = z1 - z2, x2 = z1^2, x3 = z2^2,
   x4 = z1^2 + z1 z2. The chain rule is a Jacobian-vector product,
   grad_z f = J_x(z)^T grad_x f, which is what ``.backward()`` computes.
3. Gradient descent x <- x - alpha grad f on f(x, y) = -(cos^2 x + cos^2 y)^2, with the
   slides' closed-form gradient 4 (cos^2 x + cos^2 y) [cos x sin x, cos y sin y]
   checked at every step.

Every number the slides print is asserted (an AssertionError is a bug). Writes to OUT:
the graph of f forward (values) and backward (gradients) as SVG (and PNG when Graphviz's
``dot`` is installed), the same for f(x(z)), and ``chain_rule_descent.png`` (the
descent paths on a contour plot of f).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from _output import PLOTS_OPTIONAL, needs, pyplot, report_graphs, save_figure  # noqa: E402  (a sibling file)

import autograd
from autograd import Tensor

# ---- 1. the four-variable function -----------------------------------------------------


def f(x1, x2, x3, x4):
    """The slides' function; works on Tensors (recording a graph) and on plain numbers."""
    return (x1 + 10 * x2) ** 2 + 5 * (x3 - x4) ** 2 + (x2 + 2 * x3) ** 4 + 10 * (x1 - x4) ** 4


def f_named(x1: Tensor, x2: Tensor, x3: Tensor, x4: Tensor) -> Tensor:
    """f again, one step at a time, naming every intermediate for the drawing."""

    def named(tensor: Tensor, name: str) -> Tensor:
        tensor.name = name
        return tensor

    a = named(x1 + named(10 * x2, "10x2"), "x1+10x2")
    b = named(x3 - x4, "x3−x4")
    c = named(x2 + named(2 * x3, "2x3"), "x2+2x3")
    d = named(x1 - x4, "x1−x4")
    terms = [
        named(a**2, "(x1+10x2)²"),
        named(5 * named(b**2, "(x3−x4)²"), "5(x3−x4)²"),
        named(c**4, "(x2+2x3)⁴"),
        named(10 * named(d**4, "(x1−x4)⁴"), "10(x1−x4)⁴"),
    ]
    return named(terms[0] + terms[1] + terms[2] + terms[3], "f")


def f_gradient_by_hand(x1, x2, x3, x4) -> np.ndarray:
    """The partial derivatives of f, differentiated by hand term by term."""
    return np.array(
        [
            2 * (x1 + 10 * x2) + 40 * (x1 - x4) ** 3,
            20 * (x1 + 10 * x2) + 4 * (x2 + 2 * x3) ** 3,
            10 * (x3 - x4) + 8 * (x2 + 2 * x3) ** 3,
            -10 * (x3 - x4) - 40 * (x1 - x4) ** 3,
        ],
        dtype=float,
    )


def four_variables(out: Path) -> None:
    print("1. f(x1, x2, x3, x4) = (x1 + 10 x2)^2 + 5 (x3 - x4)^2 + (x2 + 2 x3)^4 + 10 (x1 - x4)^4")
    x = [Tensor(v, requires_grad=True, name=f"x{i}") for i, v in enumerate([3.0, -1.0, 0.0, 1.0], start=1)]
    y = f_named(*x)
    y.backward(retain_graph=True)  # the graph is drawn below
    gradient = [xi.grad.item() for xi in x]
    print(f"   f(3, -1, 0, 1) = {y.item():g}")
    print(f"   gradient by backpropagation: {fmt(gradient)}")
    print(f"   gradient by hand:            {fmt(f_gradient_by_hand(3, -1, 0, 1))}")
    assert y.item() == 215.0
    assert gradient == [306.0, -144.0, -18.0, -310.0], gradient  # the slides' answer, exactly
    assert np.array_equal(gradient, f_gradient_by_hand(3.0, -1.0, 0.0, 1.0))
    report_graphs(y, out, "chain_rule_f")


# ---- 2. composition with z1, z2: a Jacobian-vector product ------------------------------


def x_of_z(z1, z2):
    return z1 - z2, z1**2, z2**2, z1**2 + z1 * z2


def jacobian_by_hand(z1: float, z2: float) -> np.ndarray:
    """J[i, j] = dx_i / dz_j."""
    return np.array([[1.0, -1.0], [2 * z1, 0.0], [0.0, 2 * z2], [2 * z1 + z2, z1]])


def composition(out: Path) -> None:
    print("\n2. f(x(z1, z2)) with x1 = z1 - z2, x2 = z1^2, x3 = z2^2, x4 = z1^2 + z1 z2")
    print("   chain rule: grad_z f = J^T grad_x f, J = dx/dz (4 x 2)")
    for point in [(1.0, 2.0), (0.5, -1.5), (-2.0, 0.25)]:
        z1, z2 = (Tensor(v, requires_grad=True, name=f"z{i}") for i, v in enumerate(point, start=1))
        z1_squared, z1_z2 = z1**2, z1 * z2
        z1_squared.name, z1_z2.name = "z1²", "z1z2"
        x = (z1 - z2, z1**2, z2**2, z1_squared + z1_z2)  # x_of_z, with its pieces named for the drawing
        for i, xi in enumerate(x, start=1):
            xi.name = f"x{i}"
        y = f_named(*x)
        y.backward(retain_graph=True)
        engine = np.array([z1.grad.item(), z2.grad.item()])
        xv = [xi.item() for xi in x]
        J = jacobian_by_hand(*point)
        # the engine's own Jacobian of x(z), one backward pass per output
        J_engine = np.column_stack(
            [
                t.numpy()
                for t in autograd.functional.jacobian(lambda a, b: autograd.stack(x_of_z(a, b)), point)
            ]
        )
        by_hand = J.T @ f_gradient_by_hand(*xv)
        print(f"   z = {point}: x = {fmt(xv)}, grad_x f = {fmt(f_gradient_by_hand(*xv))}")
        print(f"      J = {J.tolist()}")
        print(f"      J^T grad_x f = {fmt(by_hand)}   .backward(): {fmt(engine)}")
        np.testing.assert_allclose(J_engine, J, rtol=1e-15)
        np.testing.assert_allclose(engine, by_hand, rtol=1e-13)
        if point == (1.0, 2.0):
            report_graphs(y, out, "chain_rule_f_of_z")


# ---- 3. gradient descent on f(x, y) = -(cos^2 x + cos^2 y)^2 ------------------------------


def bowl(x, y):
    return -((x.cos() ** 2 + y.cos() ** 2) ** 2)


def bowl_numpy(x, y):
    return -((np.cos(x) ** 2 + np.cos(y) ** 2) ** 2)


def bowl_gradient_by_hand(x: float, y: float) -> np.ndarray:
    """The slides' closed form: 4 (cos^2 x + cos^2 y) [cos x sin x, cos y sin y]."""
    s = np.cos(x) ** 2 + np.cos(y) ** 2
    return np.array([4 * s * np.cos(x) * np.sin(x), 4 * s * np.cos(y) * np.sin(y)])


def descend(start: tuple[float, float], alpha: float, steps: int, tol: float = 1e-8) -> np.ndarray:
    """Gradient descent from ``start``; the gradient comes from ``.backward()`` and is
    checked against the closed form at every step. Stops when |grad| < tol."""
    point = np.array(start, dtype=float)
    path = [point.copy()]
    for _ in range(steps):
        x, y = Tensor(point[0], requires_grad=True), Tensor(point[1], requires_grad=True)
        bowl(x, y).backward()
        gradient = np.array([x.grad.item(), y.grad.item()])
        np.testing.assert_allclose(gradient, bowl_gradient_by_hand(*point), rtol=1e-12, atol=1e-15)
        if np.linalg.norm(gradient) < tol:
            break
        point = point - alpha * gradient
        path.append(point.copy())
    return np.array(path)


def gradient_descent(out: Path, steps: int) -> None:
    print("\n3. gradient descent on f(x, y) = -(cos^2 x + cos^2 y)^2, from (1.2, 0.8)")
    print("   near its minimum f ~ -4 + 4 (x^2 + y^2), so a step length above 1/8 overshoots")
    runs = {}
    for alpha in (0.1, 0.235):
        path = descend((1.2, 0.8), alpha, steps)
        runs[alpha] = path
        end = path[-1]
        print(
            f"   alpha = {alpha}: {len(path) - 1} steps to ({end[0]:.2e}, {end[1]:.2e}), "
            f"f = {bowl_numpy(*end):.10f}; the closed-form gradient matched at every step"
        )
        if len(path) <= steps:  # it stopped because the gradient vanished: a minimum
            assert abs(bowl_numpy(*end) + 4) < 1e-12 and np.linalg.norm(end) < 1e-6
    first = runs[0.235][:6]
    print("   alpha = 0.235, first steps (the zig-zag: x changes sign each step once near 0):")
    print("     " + " -> ".join(f"({a:.3f}, {b:.3f})" for a, b in first))
    plot_descent(out / "chain_rule_descent.png", runs)


def plot_descent(path: Path, runs: dict[float, np.ndarray]) -> None:
    plt = pyplot()
    if plt is None:
        print(f"   skipped {path}: matplotlib is not installed (pip install matplotlib)")
        return

    figure, (contour_axes, steps_axes) = plt.subplots(1, 2, figsize=(11, 4.6), width_ratios=(1.1, 1))
    colours = {0.1: "tab:blue", 0.235: "tab:red"}
    grid = np.linspace(-1.0, 1.7, 300)
    gx, gy = np.meshgrid(grid, grid)
    contours = contour_axes.contour(
        gx, gy, bowl_numpy(gx, gy), levels=np.linspace(-4, 0, 17), cmap="viridis", linewidths=0.8
    )
    figure.colorbar(contours, ax=contour_axes, label="f(x, y)")
    for alpha, points in runs.items():
        contour_axes.plot(
            points[:, 0],
            points[:, 1],
            "-o",
            color=colours[alpha],
            markersize=3.5,
            linewidth=1.1,
            label=f"α = {alpha}",
        )
    contour_axes.plot(*runs[0.1][0], "k*", markersize=12, label="start (1.2, 0.8)")
    contour_axes.plot(0, 0, "kx", markersize=9, label="minimum (0, 0), f = -4")
    contour_axes.set_aspect("equal")
    contour_axes.set_xlabel("x")
    contour_axes.set_ylabel("y")
    contour_axes.set_title("x ← x − α ∇f(x) on f(x, y) = −(cos²x + cos²y)²", fontsize=10)
    contour_axes.legend(loc="upper left", fontsize=8)

    shown = 25
    for alpha, points in runs.items():
        t = np.arange(min(len(points), shown + 1))
        steps_axes.plot(
            t,
            points[: len(t), 0],
            "-o",
            color=colours[alpha],
            markersize=3.5,
            linewidth=1.1,
            label=f"x, α = {alpha} ({len(points) - 1} steps to the minimum)",
        )
        steps_axes.plot(
            t,
            points[: len(t), 1],
            "--",
            color=colours[alpha],
            linewidth=1.0,
            alpha=0.7,
            label=f"y, α = {alpha}",
        )
    steps_axes.axhline(0, color="black", linewidth=0.6)
    steps_axes.set_xlabel("step t")
    steps_axes.set_ylabel("coordinate")
    steps_axes.set_title(
        "coordinates per step: α = 0.235 > 1/8 overshoots,\nso the path zig-zags across the minimum",
        fontsize=10,
    )
    steps_axes.grid(alpha=0.3)
    steps_axes.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)
    print(f"   wrote {path}")


# ---- output helpers ---------------------------------------------------------------------


def fmt(values) -> str:
    return "[" + ", ".join(f"{float(v):g}" for v in values) + "]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=needs(PLOTS_OPTIONAL))
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the images (default out/)")
    parser.add_argument("--steps", type=int, default=300, help="most gradient-descent steps (default 300)")
    args = parser.parse_args(argv)
    if args.steps <= 0:
        parser.error("--steps must be positive")
    args.out.mkdir(parents=True, exist_ok=True)
    four_variables(args.out)
    composition(args.out)
    gradient_descent(args.out, args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
