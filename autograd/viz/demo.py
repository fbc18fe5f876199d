"""The graphs ``chainrule demo`` draws: the DAG homework of CMU 10-601 homework 5 (section 2).

The homework's graph, with inputs x = (x1, x2, x3), targets y = (y1, y2) and nine
parameters θ = {w11, w21, w22, w32, m11, m12, m22, b2, c1}:

    z1 = ReLU(w11 x1 + w21 x2)
    z2 = w22 x2² + w32 x3 + b2
    ŷ1 = σ(m11 z1³ + c1)
    ŷ2 = m12 sin(z1) + m22 cos(z2)
    J  = log((y1 − ŷ1)²) + log((y2 − ŷ2)²)

The handout gives no numbers; ``DAG_POINT`` is a point where the ReLU is active
(w11 x1 + w21 x2 = 1.1 > 0), so every parameter gets a gradient. At exactly 0 the
engine uses ReLU'(0) = 0, as PyTorch does; the homework defines ReLU'(0) = 1.

>>> J, parameters = dag_homework()
>>> round(J.item(), 4)
-1.6292

``demo_files`` renders what ``chainrule demo`` writes, in memory, so that the command
can write all of it or nothing.
"""

from __future__ import annotations

from autograd.tensors import Tensor
from autograd.viz import stepper
from autograd.viz.drawing import Options, draw
from autograd.viz.render import GraphvizNotFoundError, can_render, render

PARAMETER_NAMES = ("w11", "w21", "w22", "w32", "m11", "m12", "m22", "b2", "c1")
DAG_POINT = {
    "x": (1.0, 2.0, -1.0),
    "y": (0.9, 2.5),
    "parameters": (0.5, 0.3, -0.2, 0.4, 0.7, 1.1, -0.6, 0.1, -0.3),
}


def dag_homework(
    x: tuple[float, float, float] = DAG_POINT["x"],
    y: tuple[float, float] = DAG_POINT["y"],
    parameters: tuple[float, ...] = DAG_POINT["parameters"],
) -> tuple[Tensor, dict[str, Tensor]]:
    """Build the homework's graph; returns the loss J and the parameters by name."""
    theta = {name: Tensor(v, requires_grad=True, name=name) for name, v in zip(PARAMETER_NAMES, parameters)}
    x1, x2, x3 = (Tensor(v, name=f"x{i}") for i, v in enumerate(x, start=1))
    y1, y2 = (Tensor(v, name=f"y{i}") for i, v in enumerate(y, start=1))
    x2_squared = x2**2  # data: computed without a graph node, so named for the drawing
    x2_squared.name = "x2²"

    z1 = (theta["w11"] * x1 + theta["w21"] * x2).relu()
    z2 = theta["w22"] * x2_squared + theta["w32"] * x3 + theta["b2"]
    y1_hat = (theta["m11"] * z1**3 + theta["c1"]).sigmoid()
    y2_hat = theta["m12"] * z1.sin() + theta["m22"] * z2.cos()
    J = ((y1 - y1_hat) ** 2).log() + ((y2 - y2_hat) ** 2).log()
    for tensor, name in ((z1, "z1"), (z2, "z2"), (y1_hat, "ŷ1"), (y2_hat, "ŷ2"), (J, "J")):
        tensor.name = name
    return J, theta


STEPS_TITLE = "Backpropagation, step by step: CMU 10-601's DAG homework"


def demo_files(J: Tensor) -> tuple[list[tuple[str, bytes]], str | None]:
    """The demo's files as (file name, bytes), and why some are missing (None if none is).

    The ``.dot`` drawings need nothing; the ``.svg`` drawings and the step-by-step page
    need an SVG renderer, the ``.png`` drawings Graphviz's ``dot``. Without a renderer
    only the ``.dot`` files are returned, with the message that says what to install.

    Raises:
        RenderError: Graphviz rejected a drawing.
    """
    graphs = {"dag_forward": draw(J, show="forward", rankdir="TB"),
              "dag_backward": draw(J, show="backward", rankdir="TB")}
    sources = [(f"{stem}.dot", render(graph, "dot")) for stem, graph in graphs.items()]
    files = list(sources)
    try:
        for fmt in ("svg", "png"):
            if can_render(fmt):
                files += [(f"{stem}.{fmt}", render(graph, fmt)) for stem, graph in graphs.items()]
        # without an SVG renderer this raises the error that says what to install
        page = stepper.backprop_page(J, STEPS_TITLE, Options("both", rankdir="TB"))
    except GraphvizNotFoundError as error:
        return sources, str(error)
    files.append(("dag_steps.html", page))
    return files, None
