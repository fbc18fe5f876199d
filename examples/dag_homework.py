"""The DAG backpropagation homework (CMU 10-601 homework 5, section 2): engine vs the handout's answers.

    z1 = ReLU(w11 x1 + w21 x2)          ŷ1 = σ(m11 z1³ + c1)
    z2 = w22 x2² + w32 x3 + b2          ŷ2 = m12 sin(z1) + m22 cos(z2)
    J  = log((y1 − ŷ1)²) + log((y2 − ŷ2)²)

The handout derives every gradient by hand, layer by layer (dJ/dŷ1 = −2/(y1 − ŷ1), dJ/dz1 =
dJ/dŷ1 [3 m11 ŷ1(1 − ŷ1) z1²] + dJ/dŷ2 [m12 cos z1], ...). This script evaluates those
formulas in plain Python at several points — one where the ReLU is inactive, one where its
input is exactly 0 — and asserts that ``J.backward()`` gives the same numbers. Then it
draws the graph (forward values, backward gradients) and writes the step-by-step page:

    python examples/dag_homework.py [--out out]

ReLU'(0): the homework defines it as 1; chainrule (like PyTorch) uses 0. At a point where
the ReLU's input is exactly 0 the two differ only in dJ/dw11 and dJ/dw21; the script shows
both.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from _output import needs, report_graphs  # noqa: E402  (a sibling file)

import autograd
from autograd.viz.demo import PARAMETER_NAMES, dag_homework

POINTS = {
    "the demo's point (ReLU active)": (
        (1.0, 2.0, -1.0),
        (0.9, 2.5),
        (0.5, 0.3, -0.2, 0.4, 0.7, 1.1, -0.6, 0.1, -0.3),
    ),
    "another point (ReLU active)": (
        (-0.5, 1.5, 2.0),
        (0.1, -1.0),
        (-0.4, 0.9, 0.3, -0.2, -1.1, 0.5, 0.8, -0.3, 0.2),
    ),
    "ReLU inactive (w11 x1 + w21 x2 < 0)": (
        (2.0, 1.0, 0.5),
        (0.3, 1.7),
        (-1.0, 0.5, 0.6, 0.1, 0.9, -0.7, 1.2, 0.4, 0.1),
    ),
    "ReLU input exactly 0": ((1.0, 2.0, 0.5), (0.4, 1.0), (1.0, -0.5, 0.3, 0.2, 0.6, 0.9, -0.4, 0.1, 0.2)),
}


def seed_answers(x, y, params, relu_prime_at_zero: float = 0.0) -> dict[str, float]:
    """The handout's hand-derived gradients, evaluated in plain Python."""
    w11, w21, w22, w32, m11, m12, m22, b2, c1 = params
    x1, x2, x3 = x
    pre = w11 * x1 + w21 * x2
    z1 = max(pre, 0.0)
    z2 = w22 * x2**2 + w32 * x3 + b2
    y1_hat = 1 / (1 + math.exp(-(m11 * z1**3 + c1)))
    y2_hat = m12 * math.sin(z1) + m22 * math.cos(z2)
    dy1 = -2 / (y[0] - y1_hat)  # answer (a)
    dy2 = -2 / (y[1] - y2_hat)
    dz1 = dy1 * (3 * m11 * y1_hat * (1 - y1_hat) * z1**2) + dy2 * (m12 * math.cos(z1))  # (b)(a)
    dz2 = -dy2 * (m22 * math.sin(z2))  # (b)(b)
    relu_prime = 1.0 if pre > 0 else (relu_prime_at_zero if pre == 0 else 0.0)  # (f)(c)
    return {
        "w11": relu_prime * dz1 * x1,
        "w21": relu_prime * dz1 * x2,
        "w22": dz2 * x2**2,  # (f)(a)
        "w32": dz2 * x3,
        "m11": dy1 * y1_hat * (1 - y1_hat) * z1**3,  # (b)(c)
        "m12": dy2 * math.sin(z1),  # (b)(d)
        "m22": dy2 * math.cos(z2),
        "b2": dz2,  # (f)(b)
        "c1": dy1 * y1_hat * (1 - y1_hat),  # (b)(e)
    }


def check_point(label: str, x, y, params) -> float:
    """Backpropagate at one point, compare with the handout; returns the largest difference."""
    J, theta = dag_homework(x, y, params)
    J.backward()
    expected = seed_answers(x, y, params)
    print(f"\n{label}: J = {J.item():.6f}")
    print(f"  {'':6}{'engine':>14}{'handout formula':>16}")
    worst = 0.0
    for name in PARAMETER_NAMES:
        ours = theta[name].grad.item() + 0.0  # + 0.0 prints -0.0 as 0.0
        worst = max(worst, abs(ours - expected[name]) / max(1.0, abs(expected[name])))
        print(f"  {name:6}{ours:14.8f}{expected[name] + 0.0:16.8f}")
        assert math.isclose(ours, expected[name], rel_tol=1e-12, abs_tol=1e-14), name
    if x[0] * params[0] + x[1] * params[1] == 0:
        homework = seed_answers(x, y, params, relu_prime_at_zero=1.0)
        print(
            f"  with the homework's ReLU'(0) = 1 instead: dJ/dw11 = {homework['w11']:.8f}, "
            f"dJ/dw21 = {homework['w21']:.8f} (the engine's 0 follows PyTorch)"
        )
    return worst


def draw(out: Path) -> None:
    J, _ = dag_homework()
    J.backward()
    report_graphs(J, out, "dag", indent="", rankdir="TB")
    path = out / "dag_steps.html"
    try:
        autograd.save_backprop_html(dag_homework()[0], path)
        print(f"wrote {path}")
    except autograd.viz.GraphvizNotFoundError:
        print("(no SVG renderer for the step-by-step page: install Graphviz or 'chainrule[render]')")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=needs("chainrule only; its drawings need Graphviz or the render extra"))
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args(argv)
    print("CMU 10-601 homework 5, section 2: gradients of J with respect to every parameter")
    worst = max(check_point(label, *point) for label, point in POINTS.items())
    print(
        f"\nall {len(POINTS) * len(PARAMETER_NAMES)} gradients equal the handout's formulas "
        f"(largest relative difference {worst:.1e})"
    )
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        draw(args.out)
    except (OSError, autograd.viz.RenderError) as error:
        print(f"dag_homework.py: cannot write the drawings: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
