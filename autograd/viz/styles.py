"""The looks a drawing can have: ``"screen"`` (colour) and ``"print"`` (greyscale handouts).

``draw(..., style="print")`` (and ``save_graph``, ``backprop_frames``,
``save_backprop_html``, ``save_backprop_animation``, ``save_backprop_pdf``) draws for a
black-and-white printer: no role depends on colour alone. Parameters are grey boxes,
data and constants white boxes with a dashed border, operations light grey circles and
ellipses, computed values white boxes with a solid border, the output a double border;
gradients are bold and dark grey. In the step-by-step frames the node being processed
has a thick black border, a gradient still being summed is italic, and one not known
yet is a light grey ``?``.

>>> style_named("print").data_line
'dashed'
>>> style_named("sepia")
Traceback (most recent call last):
    ...
ValueError: style must be 'screen' or 'print', not 'sepia'
"""

from __future__ import annotations

from dataclasses import dataclass

from autograd.viz.labels import html_text


@dataclass(frozen=True)
class Style:
    """Colours, lines and the legend's words for one look of the drawings."""

    name: str
    parameter_fill: str
    data_fill: str
    intermediate_fill: str
    op_fill: str
    output_fill: str
    output_border: str
    box_fill: str
    box_border: str
    cluster_fill: str
    cluster_border: str
    border: str  # of value boxes
    op_border: str
    edge: str
    role_label: str  # the small "a", "b" on edges into ops whose argument order matters
    gradient: str  # gradient text (and backward edges)
    partial: str  # a gradient still being summed (step by step)
    unknown: str  # a gradient not known yet (step by step)
    current: str  # the node being processed, and the edges carrying gradient now
    carried: str  # what an edge carried in an earlier step
    data_line: str = ""  # "" (solid) or "dashed": the border of data and constants
    output_peripheries: int = 1  # 2: a double border
    output_penwidth: str = "3"
    gradient_bold: bool = False
    partial_italic: bool = False
    # the legend's words for each role (they name the look, so it reads without colour)
    parameter_words: str = "blue: parameter (requires grad)"
    data_words: str = "green: data or constant"
    op_words: str = "grey: operation"
    intermediate_words: str = "white: computed value"
    output_words: str = "gold: output"
    gradient_words: str = "red"
    current_words: str = "red border: processed now"
    partial_words: str = "orange: sum so far"
    unknown_words: str = "grey ?: not known yet"
    box_words: str = "lavender: collapsed subgraph"


SCREEN = Style(
    name="screen",
    parameter_fill="#add8e6",  # light blue, as Rangan's notes draw parameters
    data_fill="#b8ecb8",  # light green, as Rangan's notes draw data
    intermediate_fill="#ffffff",
    op_fill="#e6e6e6",
    output_fill="#ffe8a3",  # light gold
    output_border="#e08a00",  # orange
    box_fill="#e6def5",  # lavender: a collapsed subgraph
    box_border="#6a5a9a",
    cluster_fill="#f5f5f5",
    cluster_border="#aaaaaa",
    border="#555555",
    op_border="#888888",
    edge="#444444",
    role_label="#666666",
    gradient="#b22222",  # red
    partial="#cc6a00",  # orange
    unknown="#999999",
    current="#d62728",
    carried="#d99a9a",  # faded red
)

PRINT = Style(
    name="print",
    parameter_fill="#c8c8c8",
    data_fill="#ffffff",
    intermediate_fill="#ffffff",
    op_fill="#ececec",
    output_fill="#ffffff",
    output_border="#000000",
    box_fill="#e0e0e0",
    box_border="#333333",
    cluster_fill="#f7f7f7",
    cluster_border="#777777",
    border="#222222",
    op_border="#555555",
    edge="#333333",
    role_label="#444444",
    gradient="#333333",
    partial="#333333",
    unknown="#8c8c8c",
    current="#000000",
    carried="#8c8c8c",
    data_line="dashed",
    output_peripheries=2,
    output_penwidth="1.5",
    gradient_bold=True,
    partial_italic=True,
    parameter_words="grey: parameter (requires grad)",
    data_words="dashed border: data or constant",
    op_words="circle or ellipse: operation",
    intermediate_words="solid border: computed value",
    output_words="double border: output",
    gradient_words="bold",
    current_words="thick border: processed now",
    partial_words="italic: sum so far",
    unknown_words="light grey ?: not known yet",
    box_words="3-d box: collapsed subgraph",
)

STYLES = {"screen": SCREEN, "print": PRINT}


def style_named(name: str) -> Style:
    """The ``Style`` called ``name``; a ``ValueError`` listing the styles otherwise."""
    if isinstance(name, str) and name in STYLES:
        return STYLES[name]
    choices = " or ".join(f"'{choice}'" for choice in STYLES)
    raise ValueError(f"style must be {choices}, not {name!r}")


# ---- pieces of HTML labels that depend on the style ----------------------------------


def gradient_html(look: Style, text: str, kind: str = "complete") -> str:
    """Gradient text for a Graphviz HTML label: escaped, in the style's colour and weight.

    ``kind`` is ``"complete"``, ``"partial"`` (still being summed) or ``"unknown"``.
    """
    colour = {"complete": look.gradient, "partial": look.partial, "unknown": look.unknown}[kind]
    body = html_text(text, 80)
    if kind == "complete" and look.gradient_bold:
        body = f"<B>{body}</B>"
    elif kind == "partial" and look.partial_italic:
        body = f"<I>{body}</I>"
    return f'<FONT COLOR="{colour}">{body}</FONT>'


def legend_html(look: Style, *, parameters: bool, data: bool, computed: bool, gradients_of: str | None,
                several: str = "", stepping: bool = False, boxes: bool = False) -> str:
    """A legend table: a swatch and its meaning per row, for the roles a drawing has.

    The meaning names the look too ("blue: parameter", "dashed border: data"), so the
    legend still reads in black and white and in the plain-text labels of the pip
    renderer. ``gradients_of`` is the output's name when gradients are shown;
    ``several`` is ``"sum"`` (several outputs) or ``"elements"`` (a non-scalar output).
    """

    def row(fill: str, text: str, border: str = look.border, line: str = "", double: bool = False,
            thick: bool = False) -> str:
        swatch = f'BGCOLOR="{fill}" COLOR="{border}" BORDER="{3 if thick else 1}" WIDTH="24"'
        if line:
            swatch += f' STYLE="{line}"'
        inner = ""
        if double:  # a box in a box: a double border
            inner = (f'<TABLE BORDER="0" CELLBORDER="1" CELLPADDING="0" CELLSPACING="0">'
                     f'<TR><TD COLOR="{border}" WIDTH="16" HEIGHT="6"></TD></TR></TABLE>')
            swatch += ' CELLPADDING="2"'
        return f'<TR><TD {swatch}>{inner}</TD><TD ALIGN="LEFT">{text}</TD></TR>'

    def line(text: str) -> str:
        return f'<TR><TD COLSPAN="2" ALIGN="LEFT">{text}</TD></TR>'

    rows = ['<TR><TD COLSPAN="2"><B>legend</B></TD></TR>']
    if parameters:
        rows.append(row(look.parameter_fill, look.parameter_words))
    if data:
        rows.append(row(look.data_fill, look.data_words, line=look.data_line))
    if computed:
        rows.append(row(look.op_fill, look.op_words, border=look.op_border))
        rows.append(row(look.intermediate_fill, look.intermediate_words))
    rows.append(row(look.output_fill, look.output_words, border=look.output_border,
                    double=look.output_peripheries > 1))
    if gradients_of is not None:
        target = html_text(gradients_of)
        words = gradient_html(look, f"{look.gradient_words} ∂{gradients_of}/∂(box)")
        rows.append(line(f"{words}: gradient of {target} with respect to the box"))
        if several == "sum":
            rows.append(line("L: the sum of the outputs"))
        elif several == "elements":
            rows.append(line(f"({target} has several elements: gradients of their sum)"))
    if stepping:
        rows.append(row("#ffffff", look.current_words, border=look.current, thick=True))
        rows.append(line(gradient_html(look, look.partial_words, "partial")))
        rows.append(line(gradient_html(look, look.unknown_words, "unknown")))
    if boxes:
        rows.append(row(look.box_fill, look.box_words, border=look.box_border))
    return (f'<<TABLE BORDER="1" COLOR="#bbbbbb" CELLBORDER="0" CELLSPACING="3" CELLPADDING="2">'
            f'{"".join(rows)}</TABLE>>')
