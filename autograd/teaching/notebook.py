"""chainrule in Jupyter: the step-by-step page inside a notebook, and drawings that never fail.

``stepper(J)`` as the last line of a cell shows the step-by-step backpropagation page
(the one ``save_backprop_html`` writes) inside the notebook. The page goes into an
``<iframe srcdoc="...">`` with ``sandbox="allow-scripts"``: its script runs (buttons,
slider, play) but in a document of its own, with an origin of its own, so neither its
script nor its CSS can reach the notebook, and the notebook's CSS cannot reach it. It
needs no kernel once shown: the frames are inline SVG, so it works in JupyterLab, in
VS Code and in a notebook exported to HTML (nbconvert) alike.

Several steppers in one notebook are independent: each iframe has an id of its own
(``chainrule-stepper-<n>-<random>``), and each page's script only sees its own document.

Keyboard: the page listens for the arrow keys, Home and End on its *own* document. A
browser delivers key events to the document that has the focus, so the keys move only
the stepper you clicked last (clicking into one focuses it); while you type in a
notebook cell, no stepper sees your keys. The page also centres the node being
processed with ``scrollIntoView``, which would scroll the notebook around every time a
stepper loads or steps; inside the iframe that call is replaced by one that scrolls the
page's own drawing only.

``drawing_mimebundle(graph)`` is what a drawing shows in Jupyter: SVG (from Graphviz,
or from the pip-only renderer of the ``render`` extra), or, when neither is installed,
the one-line install hint and the DOT source, never a traceback.

>>> import autograd
>>> x = autograd.Tensor(2.0, requires_grad=True, name="x")
>>> s = stepper(x * x)                         # doctest: +SKIP
>>> html = s._repr_html_()                     # doctest: +SKIP
>>> html.startswith('<iframe id="chainrule-stepper-')   # doctest: +SKIP
True
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import re
import secrets
from typing import Any

from autograd.tensors import Tensor
from autograd.viz import stepper as stepper_module
from autograd.viz.drawing import Options
from autograd.viz.graph import GraphView
from autograd.viz.render import GraphvizNotFoundError, RenderError, drawing_mimebundle, render  # noqa: F401

MAX_HEIGHT = 900  # pixels: a taller stepper scrolls inside its frame (or use "fit to window")
_PAGE_CHROME = 230  # pixels above and below the drawing: title, controls, caption, help line
_counter = itertools.count(1)

# Replaces scrollIntoView inside the stepper's iframe: centre the element by scrolling the
# page's own drawing box and the iframe's own window, never the notebook around it.
_CONTAINED_SCROLL = """<script>
Element.prototype.scrollIntoView = function () {
  var box = this.getBoundingClientRect();
  var drawing = this.closest ? this.closest(".drawing") : null;
  if (drawing) {
    var frame = drawing.getBoundingClientRect();
    drawing.scrollLeft += (box.left + box.width / 2) - (frame.left + drawing.clientWidth / 2);
  }
  window.scrollBy(0, (box.top + box.height / 2) - window.innerHeight / 2);
};
</script>
"""


class Stepper:
    """The step-by-step backpropagation page of one output, shown inline in Jupyter.

    Made by ``stepper(output, ...)``. In a notebook it displays as an isolated iframe
    (``_repr_html_``); ``page`` is the page itself (the HTML ``save_backprop_html``
    writes), ``frames`` the number of steps shown.
    """

    def __init__(self, page: str | None, title: str, height: int | None, problem: str | None = None) -> None:
        self.page = page
        self.title = title
        self.problem = problem
        self.frames = page.count('<section class="frame"') if page else 0
        self.height = height if height is not None else _height_of(page)

    def __repr__(self) -> str:
        if self.problem:
            return f"<Stepper: cannot show the steps: {self.problem}>"
        return f"<Stepper: {self.frames} frames — {self.title}>"

    def _repr_html_(self) -> str:
        if self.page is None:
            return (f'<div class="chainrule-stepper-missing"><p><b>The step-by-step page needs an SVG '
                    f"renderer.</b> {html.escape(self.problem or '')}</p></div>")
        ident = f"chainrule-stepper-{next(_counter)}-{secrets.token_hex(4)}"
        document = self.page.replace("<head>", "<head>\n" + _CONTAINED_SCROLL, 1)
        return (f'<iframe id="{ident}" class="chainrule-stepper" title="{html.escape(self.title)}" '
                f'sandbox="allow-scripts" srcdoc="{html.escape(document, quote=True)}" '
                f'style="width: 100%; height: {self.height}px; border: 1px solid #ddd; '
                f'border-radius: 4px; resize: vertical;"></iframe>')


def stepper(output: Tensor, *, title: str | None = None, height: int | None = None,
            **draw_options: Any) -> Stepper:
    """The step-by-step backpropagation page of ``output``, to show in a notebook cell.

    Args:
        output: the tensor to backpropagate from.
        title: the page's title (default: "Backpropagation, step by step: <name>").
        height: the frame's height in pixels (default: the tallest step's drawing plus
            the controls, at most ``MAX_HEIGHT``; the frame can be resized by its corner).
        draw_options: as for ``save_backprop_html``: ``names``, ``shapes``, ``rankdir``,
            ``legend``, ``clusters``, ``max_nodes`` (and whatever else the drawings accept).

    Raises:
        TypeError: an option ``draw`` does not have.
        ValueError: a graph too large to tell step by step, or one with nothing to
            backpropagate (as ``save_backprop_html``).

    Without any SVG renderer the object still displays: it says what to install.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"backpropagation starts from a Tensor, not {type(output).__name__}")
    accepted = {f.name for f in dataclasses.fields(Options)} - {"show"}
    unknown = sorted(set(draw_options) - accepted)
    if unknown:
        raise TypeError(f"stepper() got unknown option {unknown[0]!r}; the drawing options are "
                        f"{', '.join(sorted(accepted))}")
    if height is not None and (isinstance(height, bool) or not isinstance(height, int) or height < 100):
        raise ValueError(f"height must be a number of pixels of at least 100, not {height!r}")
    options = Options(show="both", **draw_options)
    if title is None:
        title = f"Backpropagation, step by step: {GraphView([output]).name(output)}"
    try:
        page = stepper_module.backprop_page(output, title, options).decode("utf-8")
    except GraphvizNotFoundError as error:
        return Stepper(None, title, height or 100, str(error))
    return Stepper(page, title, height)


_SVG_HEIGHT = re.compile(r'<svg\b[^>]*?\bheight="([\d.]+)(pt|px)?"')


def _height_of(page: str | None) -> int:
    """Pixels for the iframe: the tallest frame's drawing and the page's controls."""
    if not page:
        return 100
    heights = [float(value) * (4 / 3 if unit in ("", "pt") else 1)
               for value, unit in _SVG_HEIGHT.findall(page)]
    return int(min(max(heights, default=300) + _PAGE_CHROME, MAX_HEIGHT))


# ---- drawings ---------------------------------------------------------------------------------


