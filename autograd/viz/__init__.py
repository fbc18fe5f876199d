"""Drawings of computation graphs for teaching: see the graph, and watch backprop run.

* ``draw(*roots, show=...)`` returns a ``graphviz.Digraph`` of the computation
  (``drawing.py``: colours, labels, clusters, collapsing large graphs);
* ``save_graph(graph_or_root, "graph.png")`` writes .png, .svg, .pdf or .dot
  (``render.py``: system Graphviz, or a pip-only SVG renderer, atomic writes);
* ``backprop_frames(root)`` and ``save_backprop_html(root, "steps.html")`` tell
  backpropagation as a story, one step per frame (``stepper.py``).

``graph.py`` reads a recorded graph without changing it, and replays the chain rule
to know every intermediate gradient; ``labels.py`` writes numbers and symbols.
"""

from autograd.viz.drawing import draw
from autograd.viz.render import GraphvizNotFoundError, RenderError, save_graph
from autograd.viz.stepper import backprop_frames, save_backprop_html

__all__ = [
    "draw",
    "save_graph",
    "backprop_frames",
    "save_backprop_html",
    "RenderError",
    "GraphvizNotFoundError",
]
