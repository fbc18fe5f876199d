"""``draw``: a recorded computation as a Graphviz graph a student can read.

The picture follows the computation-graph figures of Rangan's neural network notes. Every
tensor is a rounded box and every operation is its own small node between its inputs and
its output:

======================  ============================================================
parameters              leaves that require a gradient — light blue
data and constants      leaves that need no gradient — light green
operations              grey circles and ellipses: ``×``, ``+``, ``σ``, ``ReLU`` ...
intermediate values     white boxes
the output              light gold with an orange border
gradients               red text, ``∂J/∂w = ...`` (the output's name on top)
collapsed subgraphs     lavender 3-d boxes (one module call, one time step, or a run)
======================  ============================================================

A legend in the drawing repeats this. Values are shown to 4 significant digits; an
array with more than six elements is summarised (mean, spread, range), never printed.

Large graphs stay readable: when the drawing would have more than ``max_nodes`` nodes,
the subgraph recorded inside one ``autograd.scope(...)`` block (one RNN time step, one
module call) becomes a single labelled box, and if that is still too many, runs of
boxes and operations in the middle of the computation become one "⋯" box, keeping the
start and the end (near the output) in view (``collapse.py`` makes that plan).

``digraph.py`` builds the Digraph; this module is ``draw`` and the legend's colours.

>>> import autograd
>>> from autograd import Tensor
>>> w = Tensor(0.5, requires_grad=True, name="w")
>>> x = Tensor(2.0, name="x")
>>> y = (w * x).sigmoid()
>>> y.name = "y"
>>> graph = autograd.draw(y)
>>> import graphviz
>>> isinstance(graph, graphviz.Digraph)
True
>>> "∂y/∂w = 0.3932" in graph.source       # σ'(wx)·x, drawn in red
True
"""

from __future__ import annotations

import graphviz

from autograd.tensors import Tensor
from autograd.viz.collapse import READABLE_ITEMS, Box, Plan, plan_collapse  # noqa: F401 (moved here from drawing.py)
from autograd.viz.digraph import MIN_NODES, Drawer, Options  # noqa: F401  (MIN_NODES: the CLI's import path)
from autograd.viz.graph import GraphView, final_gradients
from autograd.viz.styles import SCREEN, STYLES

# ---- the colour legend (the "screen" style; styles.py has the "print" one) -------------

PARAMETER_FILL = SCREEN.parameter_fill  # light blue, as Rangan's notes draw parameters
DATA_FILL = SCREEN.data_fill  # light green, as Rangan's notes draw data
INTERMEDIATE_FILL = SCREEN.intermediate_fill
OP_FILL = SCREEN.op_fill
OUTPUT_FILL = SCREEN.output_fill  # light gold
OUTPUT_BORDER = SCREEN.output_border  # orange
BOX_FILL = SCREEN.box_fill  # lavender: a collapsed subgraph
CLUSTER_FILL = SCREEN.cluster_fill
GRADIENT_COLOUR = SCREEN.gradient  # red: gradients
PARTIAL_COLOUR = SCREEN.partial  # orange: a gradient still being summed (step-by-step view)
UNKNOWN_COLOUR = SCREEN.unknown  # grey: not known yet (step-by-step view)
CURRENT_COLOUR = SCREEN.current  # the node the backward pass is processing (step-by-step view)
BORDER_COLOUR = SCREEN.border
STYLE_CHOICES = tuple(STYLES)


def draw(
    *roots: Tensor,
    show: str = "both",
    names: bool = True,
    shapes: bool = True,
    rankdir: str = "LR",
    max_nodes: int = 200,
    legend: bool = True,
    clusters: bool = True,
    style: str = "screen",
) -> graphviz.Digraph:
    """Draw the computation graph that produced ``roots``.

    Args:
        roots: the output tensors (usually one: the loss).
        show: ``"forward"`` (values), ``"backward"`` (gradients) or ``"both"``.
        names: write tensor names (a tensor's ``name``, else a generated ``v1, v2``...).
        shapes: write the shape of non-scalar tensors.
        rankdir: layout direction, ``"LR"`` (inputs left, output right) or ``"TB"``...
        max_nodes: the most nodes to draw; larger graphs are collapsed into boxes.
        legend: add a legend explaining the colours.
        clusters: draw each ``autograd.scope`` block as a labelled frame.
        style: ``"screen"`` (colour) or ``"print"`` (greyscale for handouts: roles told
            apart by fill, border and shape, gradients bold; see ``autograd.viz.styles``).

    Returns:
        A ``graphviz.Digraph``: Jupyter shows it inline; ``autograd.save_graph(graph,
        "graph.png")`` writes it to a file (``"figure.tex"``: a TikZ picture);
        ``graph.source`` is its DOT text.

    The gradients shown are those of the output (of the sum of the outputs, if several)
    with respect to each tensor, computed from the recorded values by replaying the
    chain rule in the engine's order. The graph itself is not changed: no ``.grad`` is
    set, and a graph already used by ``backward()`` can still be drawn.

    >>> import autograd
    >>> x = autograd.Tensor(3.0, requires_grad=True, name="x")
    >>> graph = autograd.draw(x ** 2, show="forward")
    >>> "(·)²" in graph.source and "x</B> = 3" in graph.source
    True
    """
    options = Options(show, names, shapes, rankdir, max_nodes, legend, clusters, style)
    options.check()
    view = GraphView(roots)
    gradients = final_gradients(view) if options.gradients else {}
    return Drawer(view, options).build(gradients)
