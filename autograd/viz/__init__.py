"""Drawings of computation graphs for teaching: see the graph, and watch backprop run.

* ``draw(*roots, show=..., style=...)`` returns a ``graphviz.Digraph`` of the computation
  (``drawing.py``: colours, labels, clusters; ``collapse.py`` collapses large graphs;
  ``styles.py``: the colour ``"screen"`` look and the greyscale ``"print"`` one);
* ``save_graph(graph_or_root, "graph.png")`` writes .png, .svg, .pdf, .dot or .tex
  (``save.py``; ``render.py`` makes each format's bytes, ``renderers.py`` runs system
  Graphviz or a pip-only SVG renderer, ``tikz.py`` writes a TikZ picture for lecture
  notes; ``autograd.files`` writes atomically);
* ``backprop_frames(root)`` and ``save_backprop_html(root, "steps.html")`` tell
  backpropagation as a story, one step per frame (``stepper.py``);
  ``save_backprop_animation(root, "steps.gif")`` and ``save_backprop_pdf(root,
  "steps.pdf")`` put the same frames into an animation or a PDF (``animation.py``).

``graph.py`` reads a recorded graph without changing it, and replays the chain rule
to know every intermediate gradient; ``labels.py`` writes numbers and symbols.
"""

from autograd.viz.animation import save_backprop_animation, save_backprop_pdf
from autograd.viz.drawing import draw
from autograd.viz.renderers import GraphvizNotFoundError, MissingPackageError, RenderError
from autograd.viz.save import save_graph
from autograd.viz.stepper import backprop_frames, save_backprop_html

__all__ = [
    "draw",
    "save_graph",
    "backprop_frames",
    "save_backprop_html",
    "save_backprop_animation",
    "save_backprop_pdf",
    "RenderError",
    "GraphvizNotFoundError",
    "MissingPackageError",
]
