"""``GradientReport.draw()``: the graph with each answer's verdict.

Composed from ``autograd.viz``'s public pieces without changing them: the drawing of
the forward values (``Drawer`` with ``show="forward"`` and no legend), then one extra
DOT statement per node, which in DOT adds to that node's attributes: an answered node
gets a label of its own (its name and value, and a line with the verdict) and a fill
colour saying the verdict; the other nodes turn white, since the usual role colours
(green for data) would read as verdicts. A legend for the verdict colours is added.

======================  ====================================================
green                   a right answer
red, thick border       the first mistake, with your value and the right one
light red               another mistake of its own
grey                    wrong, but following from an earlier mistake
white                   not answered (data, constants, unchecked nodes)
======================  ====================================================
"""

from __future__ import annotations

import dataclasses
from typing import Any

import graphviz

from autograd.viz.digraph import FONT, Drawer, Options
from autograd.viz.graph import stored_array
from autograd.viz.labels import format_index, format_number, format_shape, html_text, summarize

RIGHT_FILL, RIGHT_BORDER, RIGHT_TEXT = "#c8ecc8", "#2e8b2e", "#1d6b1d"
FIRST_FILL, FIRST_BORDER, FIRST_TEXT = "#f7b6b6", "#c81e1e", "#b00000"
OTHER_FILL, OTHER_BORDER = "#fbe0e0", "#c86464"
FOLLOWS_FILL, FOLLOWS_BORDER, FOLLOWS_TEXT = "#dddddd", "#888888", "#555555"
PLAIN_FILL = "#ffffff"


def draw_report(report: Any, **draw_options: Any) -> graphviz.Digraph:
    """The graph of ``report``'s output with every answer's verdict (see the module).

    ``draw_options`` are ``autograd.draw``'s (``rankdir``, ``names``, ``shapes``, ``max_nodes``,
    ``clusters``...); ``show`` and ``legend`` are set here.
    """
    accepted = {f.name for f in dataclasses.fields(Options)} - {"show", "legend"}
    unknown = sorted(set(draw_options) - accepted)
    if unknown:
        raise TypeError(f"draw() got unknown option {unknown[0]!r}; the options are "
                        f"{', '.join(sorted(accepted))}")
    options = Options(show="forward", legend=False, **draw_options)
    options.check()
    shapes = options.shapes
    view = report.replay.view
    drawer = Drawer(view, options)
    graph = drawer.build({})
    first = report.first_error
    answered = set()
    for check in report.checks:
        position = view.position(check.tensor)
        node_id = drawer.node_of(position)
        if not node_id.startswith("t"):
            continue  # inside a collapsed box: nothing of its own to colour
        answered.add(position)
        given, expected = (text.replace("−", "-") for text in check.values())  # as drawings write numbers
        symbol = f"∂{report.output_name}/∂{check.name}"
        at = f"[{format_index(check.index)}]" if check.index is not None else ""
        if check.ok:
            verdict, colours = f"✓ {symbol} = {given}", (RIGHT_FILL, RIGHT_BORDER, RIGHT_TEXT, "2")
        elif check is first:
            verdict = f"✗ {symbol}{at} = {given}, should be {expected}"
            colours = (FIRST_FILL, FIRST_BORDER, FIRST_TEXT, "4")
        elif check.status == "follows":
            verdict = f"{symbol}{at} = {given}: follows from an earlier mistake"
            colours = (FOLLOWS_FILL, FOLLOWS_BORDER, FOLLOWS_TEXT, "1.5")
        else:
            verdict = f"✗ {symbol}{at} = {given}, should be {expected}"
            colours = (OTHER_FILL, OTHER_BORDER, FIRST_TEXT, "2")
        fill, border, text, width = colours
        graph.node(node_id, label=_label(view, check.tensor, verdict, text, shapes),
                   fillcolor=fill, color=border, penwidth=width)
    for position in range(len(view)):
        node_id = drawer.node_of(position)
        if position not in answered and node_id.startswith("t"):
            graph.node(node_id, fillcolor=PLAIN_FILL)
    graph.node("legend", label=_legend(report), shape="plain", fontsize="10", fontname=FONT)
    return graph


def _label(view: Any, tensor: Any, verdict: str, colour: str, shapes: bool) -> str:
    array = stored_array(tensor)
    header = f"<B>{html_text(view.name(tensor))}</B>"
    if array.ndim == 0:
        header += f" = {html_text(format_number(array.item()))}"
    elif shapes:
        header += f' <FONT POINT-SIZE="10">{html_text(format_shape(array.shape))}</FONT>'
    rows = [header]
    if array.ndim:
        rows += [f'<FONT POINT-SIZE="11">{html_text(line, 60)}</FONT>' for line in summarize(array)]
    rows.append(f'<FONT COLOR="{colour}">{html_text(verdict, 90)}</FONT>')
    body = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{body}</TABLE>>'


def _legend(report: Any) -> str:
    def row(fill: str, border: str, text: str) -> str:
        return (f'<TR><TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1" WIDTH="24"></TD>'
                f'<TD ALIGN="LEFT">{text}</TD></TR>')

    target = html_text(report.output_name)
    rows = [f'<TR><TD COLSPAN="2"><B>your answers for ∂{target}/∂(box)</B></TD></TR>',
            row(RIGHT_FILL, RIGHT_BORDER, "green: right"),
            row(FIRST_FILL, FIRST_BORDER, "red: the first mistake (yours, then the right value)")]
    if report.other_mistakes:
        rows.append(row(OTHER_FILL, OTHER_BORDER, "light red: another mistake"))
    if report.consequences:
        rows.append(row(FOLLOWS_FILL, FOLLOWS_BORDER, "grey: follows from an earlier mistake"))
    rows.append(row(PLAIN_FILL, "#555555", "white: not answered"))
    conventions = html_text(report.conventions, 80)
    rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="9">conventions: {conventions}</FONT>'
                '</TD></TR>')
    return ('<<TABLE BORDER="1" COLOR="#bbbbbb" CELLBORDER="0" CELLSPACING="3" CELLPADDING="2">'
            + "".join(rows) + "</TABLE>>")
