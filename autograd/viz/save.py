"""``save_graph``: a drawing, or a tensor drawn first, written to a file whose extension picks the format.

It sits above both ``drawing.py`` (which draws) and ``render.py`` (which makes the file's
bytes); the file is written atomically by ``autograd.files``: it appears complete or not
at all, and a failure is a ``WriteError`` naming the file asked for.

>>> import autograd, os, tempfile
>>> x = autograd.Tensor(1.0, requires_grad=True, name="x")
>>> path = autograd.save_graph(x.exp(), os.path.join(tempfile.mkdtemp(), "graph.dot"))
>>> open(path).read().startswith("digraph")
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import graphviz

from autograd.files import write_atomically
from autograd.viz.drawing import draw
from autograd.viz.render import format_of, render


def save_graph(graph_or_root: Any, path: str | os.PathLike, **draw_options: Any) -> Path:
    """Write a drawing to ``path``; the extension picks the format (png, svg, pdf, dot, tex).

    ``graph_or_root`` is a ``graphviz.Digraph`` (from ``autograd.draw``) or a Tensor,
    which is drawn first (``draw_options`` go to ``autograd.draw``, e.g.
    ``style="print"``). The file is written atomically: it appears complete or not at
    all. Returns the path.

    ``.tex`` writes a TikZ picture for lecture notes: nodes where Graphviz places them,
    each role (parameter, data, operation, output, gradient...) a TikZ style defined
    at the top of the file, labels as math in the document's font; ``\\input`` it in a
    document that loads ``tikz`` (see ``autograd.viz.tikz``).

    >>> import autograd, os, tempfile
    >>> w = autograd.Tensor(2.0, requires_grad=True, name="w")
    >>> target = os.path.join(tempfile.mkdtemp(), "w.dot")
    >>> autograd.save_graph(w * w, target).name
    'w.dot'
    """
    fmt = format_of(path)
    graph = graph_or_root
    if not isinstance(graph, (graphviz.Digraph, graphviz.Graph)):
        graph = draw(graph_or_root, **draw_options)
    elif draw_options:
        raise TypeError("drawing options only apply when a Tensor is given, not a finished graph")
    data = render(graph, fmt)
    return write_atomically(path, data)
