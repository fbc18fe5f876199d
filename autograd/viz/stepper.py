"""Backpropagation as a story: one drawing per step of the backward pass.

The steps are the engine's own (``autograd.engine``): start at the output with
gradient 1; then visit the computed tensors from the latest to the oldest, so that
when a tensor is visited everything computed from it is done and its gradient is
complete; apply its operation's local rule (the chain rule) and add what comes out to
the gradients of its inputs; at the end each leaf holds the sum of everything it
received, which ``backward()`` stores in ``.grad``.

Each frame shows every value, the gradients known so far (red when complete, orange
while still being summed, a grey ``?`` when nothing has arrived yet), the node being
processed (red border), and red arrows pointing backwards along the edges that carry
gradient in this step, labelled with what they carry.

The gradients are replayed from the recorded values (``graph.backward_steps``), so
making the frames changes nothing: no ``.grad`` is set, and it works before or after
the user's own ``backward()``.

The HTML page around the frames (``html_page``: the template, its styles and script) is
in ``stepper_page.py``; this module makes the frames.

>>> import autograd
>>> x = autograd.Tensor(3.0, requires_grad=True, name="x")
>>> y = x * x
>>> y.name = "y"
>>> frames = list(autograd.backprop_frames(y))
>>> len(frames)           # the start, one step (the ×), the end
3
>>> "∂y/∂x = 6" in frames[-1].source
True
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from autograd.files import write_atomically
from autograd.tensors import Tensor
from autograd.viz.digraph import CAPTION_POINTS, Drawer, Options, Overlay
from autograd.viz.graph import BackwardStep, GraphView, backward_steps, stored_array
from autograd.viz.labels import format_number, format_shape, largest_magnitude, op_symbol_for, summarize
from autograd.viz.render import render
from autograd.viz.stepper_page import html_page
from autograd.viz.styles import SCREEN, style_named

CARRIED_COLOUR = SCREEN.carried  # an edge's gradient after its step: faded red
MAX_STEPS = 300  # a story longer than this teaches nothing; draw() the graph instead
CHAR_WIDTH = 7.0  # points per character of 12 pt Helvetica digits, with a little room
CAPTION_COLUMNS = 110  # captions drawn in the graph are wrapped at this many characters
# Points per character of the 14 pt caption (Helvetica's widest common letters are
# about 0.6 em), and per line: the caption's box is sized from these, so they err large.
CAPTION_CHAR_WIDTH = 0.56 * CAPTION_POINTS
CAPTION_LINE_HEIGHT = 1.25 * CAPTION_POINTS

# What each common op does to the gradient g arriving at its output (its local rule).
LOCAL_RULES: dict[str, str] = {
    "add": "+ passes g on unchanged to each input",
    "sub": "a − b sends g to a and −g to b",
    "mul": "× sends each input g times the other input",
    "div": "a ÷ b sends g / b to a and −g·a / b² to b",
    "neg": "negation sends −g",
    "pow": "a ^ b sends g·b·a^(b−1) to a and g·a^b·log a to b",
    "exp": "exp sends g · exp(x)",
    "log": "log sends g / x",
    "sqrt": "√ sends g / (2√x)",
    "abs": "|·| sends g · sign(x)",
    "sin": "sin sends g · cos(x)",
    "cos": "cos sends −g · sin(x)",
    "tanh": "tanh sends g · (1 − tanh²(x))",
    "sigmoid": "σ sends g · σ(x)(1 − σ(x))",
    "relu": "ReLU sends g where its input is > 0, else 0",
    "sum": "Σ sends g to every element it added",
    "matmul": "A @ B sends g Bᵀ to A and Aᵀ g to B",
}
_INFIX = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "matmul": "@", "pow": "^"}


@dataclass
class Frame:
    """One picture of the story and the sentence that goes with it."""

    caption: str
    graph: graphviz.Digraph


def backprop_frames(
    root: Tensor,
    **draw_options: Any,
) -> Iterator[graphviz.Digraph]:
    """Yield one ``graphviz.Digraph`` per step of backpropagation from ``root``.

    The first frame is the start (``∂root/∂root = 1``), then one frame per computed
    tensor in the engine's order, then the end (the leaves' totals). Each frame's
    caption is written above its drawing, in a box of the same size in every frame,
    and every node keeps its size: all frames have one layout, so nothing moves from
    one to the next (an animation or a slide sequence can be made from them). The
    graph must fit in ``max_nodes`` nodes (a story is for small graphs); ``draw_options``
    are ``draw``'s, all but ``show`` (``style="print"`` for greyscale handouts).

    >>> import autograd
    >>> w = autograd.Tensor(2.0, requires_grad=True, name="w")
    >>> frames = autograd.backprop_frames(w.sin() * w)
    >>> "Start" in next(frames).source
    True
    """
    for frame in story(root, story_options(draw_options), captions_in_graph=True):
        yield frame.graph


def save_backprop_html(
    root: Tensor,
    path: str | os.PathLike,
    *,
    title: str | None = None,
    **draw_options: Any,
) -> Path:
    """Write one self-contained HTML page that steps through backpropagation from ``root``.

    The page holds every frame as an inline SVG, with a slider, previous/next and
    play buttons (the arrow keys work too). It loads nothing from the network, so it
    can be mailed, put on a course site, or opened offline. Rendering needs Graphviz
    (or the ``render`` extra); the file is written atomically. Returns the path.
    ``draw_options`` are ``draw``'s, all but ``show`` (see ``backprop_frames``).

    >>> import autograd, os, tempfile
    >>> x = autograd.Tensor(0.5, requires_grad=True, name="x")
    >>> target = os.path.join(tempfile.mkdtemp(), "steps.html")
    >>> autograd.save_backprop_html(x.exp(), target).name  # doctest: +SKIP
    'steps.html'
    """
    options = story_options(draw_options)
    if title is None:
        title = f"Backpropagation, step by step: {GraphView([root]).name(root)}"
    return write_atomically(path, backprop_page(root, title, options))


def story_options(draw_options: dict[str, Any]) -> Options:
    """``draw``'s keyword options for a story, checked: all but ``show`` (a story shows both)."""
    if "show" in draw_options:
        raise TypeError("a backpropagation story shows values and gradients: it takes no show= option")
    options = Options("both", **draw_options)
    options.check()
    return options


def backprop_page(root: Tensor, title: str, options: Options) -> bytes:
    """The page ``save_backprop_html`` writes, as UTF-8 bytes, made in memory.

    Rendering every frame comes first and writing after, so a renderer that fails
    (or a story too long, ``ValueError``) leaves no file behind.
    """
    frames = story(root, options, captions_in_graph=False)
    svgs = [render(frame.graph, "svg").decode("utf-8") for frame in frames]
    current = style_named(options.style).current
    return html_page(title, [frame.caption for frame in frames], svgs, current).encode("utf-8")


# ---- the story -------------------------------------------------------------------------


def story(root: Tensor, options: Options, captions_in_graph: bool) -> list[Frame]:
    """All frames of backpropagation from ``root``, captions and drawings."""
    if not isinstance(root, Tensor):
        raise TypeError(f"backpropagation starts from a Tensor, not {type(root).__name__}")
    options.check()
    view = GraphView([root])
    drawer = Drawer(view, options)
    if drawer.plan.boxes or drawer.plan.folded:
        raise ValueError(
            f"the graph has {len(view.computed)} operations and does not fit in max_nodes="
            f"{options.max_nodes}; a step-by-step story is for small graphs: raise max_nodes, "
            "or draw() the whole graph instead"
        )
    if not root.requires_grad:
        raise ValueError(
            "nothing to backpropagate: the output does not depend on any tensor that requires grad"
        )
    totals: dict[Tensor, np.ndarray] = {}
    steps = list(backward_steps(view, totals))
    if len(steps) > MAX_STEPS:
        raise ValueError(f"{len(steps)} backward steps are too many for a story (at most {MAX_STEPS})")

    output = view.name(root)
    position = view.position
    needs_gradient = [i for i, t in enumerate(view.tensors) if t.requires_grad]
    seed = np.ones_like(stored_array(root))  # ∂root/∂root
    known: dict[int, np.ndarray] = {position(root): seed}  # complete gradients
    partial: dict[int, np.ndarray] = {}  # gradients still being summed

    # Numbers that are zero up to rounding next to the largest gradient are written 0.
    scale = largest_magnitude([seed] + [step.grad for step in steps])

    def value(grad: Any) -> str:
        return summarize(grad, scale=scale)[0]

    def prefix(i: int) -> str:
        return f"∂{output}/∂{view.name(view.tensors[i])}" if options.names else "gradient"

    # What each edge carries over the whole story (each edge carries gradient once).
    carried: dict[tuple[int, int], str] = {}
    processed_at: dict[tuple[int, int], int] = {}
    for number, step in enumerate(steps, start=1):
        for argument, sent in enumerate(step.sent):
            if sent is not None:
                carried[(position(step.tensor), argument)] = _signed(sent, scale)
                processed_at[(position(step.tensor), argument)] = number

    def overlay(current: int | None, number: int, caption: str) -> Overlay:
        flowing = {edge for edge, at in processed_at.items() if at == number}
        labels = {}
        for edge, text in carried.items():
            at = processed_at[edge]
            labels[edge] = (text, "now" if at == number else ("before" if at < number else "later"))
        texts = {}
        for i in needs_gradient:
            if i in known:
                texts[i] = (f"{prefix(i)} = {value(known[i])}", "complete")
            elif i in partial:
                texts[i] = (f"{prefix(i)} = {value(partial[i])} so far", "partial")
            else:
                texts[i] = (f"{prefix(i)} = ?", "unknown")
        return Overlay(texts, {}, current, flowing, labels, caption if captions_in_graph else None)

    overlays: list[tuple[str, Overlay]] = []
    start = (f"Start: the forward pass has computed every value. Backpropagation begins at the "
             f"output {output} with ∂{output}/∂{output} = 1.")
    overlays.append((start, overlay(position(root), 0, start)))

    for number, step in enumerate(steps, start=1):
        here = position(step.tensor)
        partial.pop(here, None)
        known[here] = step.grad
        for parent, sent in zip(step.tensor.grad_fn.inputs, step.sent):
            if sent is not None:
                where = position(parent)
                partial[where] = sent if where not in partial else partial[where] + sent
        caption = _step_caption(view, step, number, len(steps), prefix, value)
        overlays.append((caption, overlay(here, number, caption)))

    for i in list(partial):  # the leaves: what they received is their gradient
        known[i] = partial.pop(i)
    leaves = [t for t in view.tensors if t.grad_fn is None and t.requires_grad]
    listed = ", ".join(f"{view.name(t)}.grad = {value(known[position(t)])}" for t in leaves[:8])
    if len(leaves) > 8:
        listed += ", …"
    end = ("Done: every gradient is complete. Each leaf's gradient is the sum of everything it "
           "received; backward() stores it in .grad" + (f": {listed}." if listed else "."))
    overlays.append((end, overlay(None, len(steps) + 1, end)))

    # Each gradient line keeps one width in every frame (its longest text), so no node
    # changes size and Graphviz lays out every frame exactly like the others.
    longest: dict[int, int] = {}
    for _, frame_overlay in overlays:
        for i, (text, _) in frame_overlay.gradient_texts.items():
            longest[i] = max(longest.get(i, 0), len(text))
    char_width = CHAR_WIDTH * (1.1 if style_named(options.style).gradient_bold else 1.0)
    widths = {i: char_width * length + 6 for i, length in longest.items()}
    # The captions, wrapped, share one box: as wide as the longest line, as tall as
    # the most lines, so that the drawing below sits at the same place in every frame.
    wrapped = {id(o): "\n".join(textwrap.wrap(o.caption, CAPTION_COLUMNS)) for _, o in overlays if o.caption}
    if wrapped:
        lines = [text.split("\n") for text in wrapped.values()]
        size = (CAPTION_CHAR_WIDTH * max(len(line) for text in lines for line in text) + 8,
                CAPTION_LINE_HEIGHT * max(len(text) for text in lines) + 6)
    frames = []
    for caption, frame_overlay in overlays:
        frame_overlay.cell_width = widths
        if frame_overlay.caption:
            frame_overlay.caption = wrapped[id(frame_overlay)]
            frame_overlay.caption_size = size
        frames.append(Frame(caption, drawer.build({}, frame_overlay)))
    return frames


def _signed(grad: Any, scale: float | None = None) -> str:
    """What an edge carries: ``+0.25``, ``-1.5``, or a short summary."""
    array = np.asarray(grad)
    if array.size == 1:
        text = format_number(array.item(), scale)
        return text if text.startswith("-") else "+" + text
    if array.size <= 3:
        return "+ " + summarize(array, 3, scale)[0]
    return f"+ {format_shape(array.shape)} array"


def _product(node: Any, index: int, grad: Any, value: Any) -> str:
    """For a product of two numbers, the multiplication that gives input ``index``'s share:
    ``"-1.116 × 0.4536 = "`` (g times the other input); otherwise nothing."""
    if node.op.name != "mul" or len(node.inputs) != 2:
        return ""
    other = np.asarray(stored_array(node.inputs[1 - index]))
    if other.size != 1 or np.asarray(grad).size != 1:
        return ""
    factor = format_number(other.item())
    return f"{value(grad)} × {f'({factor})' if factor.startswith('-') else factor} = "


def _step_caption(view: GraphView, step: BackwardStep, number: int, total: int, prefix: Any,
                  value: Any = lambda grad: summarize(grad)[0]) -> str:
    tensor = step.tensor
    node = tensor.grad_fn
    here = view.position(tensor)
    out = view.name(tensor)
    inputs = [view.name(t) for t in node.inputs]
    symbol = op_symbol_for(node.op.name, node.op)
    if node.op.name in _INFIX and len(inputs) == 2:
        expression = f"{inputs[0]} {_INFIX[node.op.name]} {inputs[1]}"
    elif "(·)" in symbol and len(inputs) == 1:
        expression = symbol.replace("(·)", inputs[0])
    elif node.op.name == "neg":
        expression = f"−{inputs[0]}"
    else:
        expression = f"{symbol}({', '.join(inputs)})"
    sentence = f"Step {number} of {total}: {out} = {expression}. "
    sentence += f"Its gradient {prefix(here)} = {value(step.grad)}"
    if here == view.position(view.roots[0]):
        sentence += " (the output: where backpropagation starts)."
    else:
        sentence += " is complete: everything computed from it has been processed."
    rule = LOCAL_RULES.get(node.op.name)
    if node.op.name == "pow" and len(inputs) == 1:
        rule = f"(·)^p sends g·p·x^(p−1), here p = {format_number(node.op.exponent)}"
    sends = [f"{prefix(view.position(parent))} += {_product(node, index, step.grad, value)}{value(sent)}"
             for index, (parent, sent) in enumerate(zip(node.inputs, step.sent)) if sent is not None]
    sentence += f" Chain rule: {rule}:" if rule else " Chain rule:"
    sentence += " " + ("; ".join(sends) if sends else "none of its inputs needs a gradient") + "."
    return sentence
