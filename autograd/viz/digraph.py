"""The Graphviz ``Digraph`` of a recorded graph: a node per tensor and per operation, labels, edges, frames.

``Drawer`` turns a ``GraphView`` (``graph.py``) into a ``Drawing``, the ``graphviz.Digraph``
that ``autograd.draw`` returns, in a style of ``styles.py``. Each frame of the
step-by-step view (``stepper.py``) is the same drawing with an ``Overlay``: the gradients
known so far, the node being processed, the edges carrying gradient in this step. Large
graphs are drawn by ``collapse.py``'s plan: scopes and runs become single boxes.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

import graphviz
import numpy as np

from autograd.viz.collapse import plan_collapse
from autograd.viz.graph import GraphView, stored_array
from autograd.viz.labels import (
    COMMUTATIVE,
    INPUT_ROLES,
    format_number,
    format_shape,
    html_text,
    largest_magnitude,
    op_symbol_for,
    summarize,
)
from autograd.viz.render import drawing_mimebundle, render
from autograd.viz.styles import SCREEN, Style, gradient_html, legend_html, style_named

FONT = "Helvetica"
SHOW_CHOICES = ("forward", "backward", "both")
MIN_NODES = 10  # below this a collapsed drawing cannot say anything


@dataclass
class Options:
    """The ``draw`` arguments, checked once."""

    show: str = "both"
    names: bool = True
    shapes: bool = True
    rankdir: str = "LR"
    max_nodes: int = 200
    legend: bool = True
    clusters: bool = True
    style: str = "screen"

    def check(self) -> None:
        style_named(self.style)  # a ValueError listing the styles
        if self.show not in SHOW_CHOICES:
            raise ValueError(f"show must be 'forward', 'backward' or 'both', not {self.show!r}")
        if self.rankdir not in ("LR", "RL", "TB", "BT"):
            raise ValueError(f"rankdir must be 'LR', 'RL', 'TB' or 'BT', not {self.rankdir!r}")
        if not isinstance(self.max_nodes, int) or self.max_nodes < MIN_NODES:
            raise ValueError(f"max_nodes must be an integer of at least {MIN_NODES}, not {self.max_nodes!r}")

    @property
    def values(self) -> bool:
        return self.show in ("forward", "both")

    @property
    def gradients(self) -> bool:
        return self.show in ("backward", "both")


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` that Jupyter shows inline even without Graphviz installed.

    Jupyter asks for SVG; this renders it like ``save_graph`` does (system Graphviz,
    else the ``render`` extra), instead of failing when the ``dot`` program is missing.
    """

    style_name = "screen"  # the style it was drawn in (the TikZ writer restyles by it)

    def _repr_image_svg_xml(self) -> str:
        return render(self, "svg").decode("utf-8")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any) -> dict[str, str]:
        # SVG where a renderer exists; else the one-line install hint and the DOT source
        return drawing_mimebundle(self, include, exclude)


# ---- building the Digraph ------------------------------------------------------------


@dataclass
class Overlay:
    """What one frame of the step-by-step view changes in a drawing (see ``stepper``).

    Attributes:
        gradient_texts: position -> (text, kind) for each tensor's gradient line; kind
            is ``"complete"``, ``"partial"`` (still being summed) or ``"unknown"``.
        cell_width: position -> the fixed width (points) of its gradient line, so
            that nodes keep their size, and the layout its shape, from frame to frame.
        current: the tensor being processed (drawn with a red border), if any.
        flowing: the edges, as (consumer position, argument index), that carry
            gradient in this step (drawn red, pointing backwards).
        edge_labels: (consumer position, argument index) -> (text, when): what an
            edge carries in the whole story; when is ``"now"``, ``"before"`` or
            ``"later"``. Every frame writes the same text, so the layout does not
            move; a ``"later"`` label is transparent until its step.
        caption: a title written above the drawing.
        caption_size: (width, height) in points of the caption's box, the same in
            every frame, so that a longer or shorter caption moves nothing.
    """

    gradient_texts: dict[int, tuple[str, str]] = field(default_factory=dict)
    cell_width: dict[int, float] = field(default_factory=dict)
    current: int | None = None
    flowing: set[tuple[int, int]] = field(default_factory=set)
    edge_labels: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)
    caption: str | None = None
    caption_size: tuple[float, float] | None = None


CAPTION_POINTS = 14  # the caption's font size


class Drawer:
    """Turns a ``GraphView`` into a ``graphviz.Digraph`` (one drawing, or one frame)."""

    def __init__(self, view: GraphView, options: Options) -> None:
        self.view = view
        self.options = options
        self.style: Style = style_named(options.style)
        budget = options.max_nodes - (1 if options.legend else 0)
        self.plan = plan_collapse(view, budget, use_scopes=True)
        self.roots = {view.position(r) for r in view.roots}
        self.folded = set(self.plan.folded)
        if len(view.roots) == 1:
            self.output_name = view.name(view.roots[0])
        else:
            self.output_name = "L"  # the legend says L is the sum of the outputs
        # Numbers that are zero up to rounding next to the largest value shown are "0".
        self.value_scale = largest_magnitude(stored_array(t) for t in view.tensors)
        self.gradient_scale: float | None = None  # set by build() from its gradients

    # -- names of drawn nodes: positions in forward order, never memory addresses --

    def node_of(self, position: int) -> str:
        """The id of the drawn node that shows the tensor at ``position``."""
        if position in self.plan.box_of:
            return f"box{self.plan.box_of[position]}"
        if position in self.plan.absorbed:
            return f"box{self.plan.absorbed[position]}"
        if position in self.folded:
            return "more_inputs"
        return f"t{position}"

    def op_node_of(self, position: int) -> str:
        if position in self.plan.box_of:
            return f"box{self.plan.box_of[position]}"
        return f"op{position}"

    # -- labels --

    def gradient_line(self, position: int, grad: np.ndarray) -> list[str]:
        """``∂J/∂w = 0.25``, or a summary for a large gradient."""
        name = self.view.name(self.view.tensors[position])
        prefix = f"∂{self.output_name}/∂{name}" if self.options.names else "gradient"
        lines = summarize(grad, scale=self.gradient_scale)
        if len(lines) == 1:
            return [f"{prefix} = {lines[0]}"]
        return [f"{prefix}: {lines[0]}"] + lines[1:]

    def gradient_text(self, text: str, kind: str = "complete") -> str:
        """Gradient text in the style's colour (and weight): HTML for a label."""
        return gradient_html(self.style, text, kind)

    def tensor_label(self, position: int, gradients: dict, overlay: Overlay | None) -> str:
        tensor = self.view.tensors[position]
        array = stored_array(tensor)
        options = self.options
        rows: list[str] = []  # the table's cells, one per row
        if self.view.is_constant(tensor):
            rows.append(f"<TD>{html_text(self.view.name(tensor))}</TD>")
        else:
            header = f"<B>{html_text(self.view.name(tensor))}</B>" if options.names else ""
            if array.ndim == 0:
                if options.values:
                    value = html_text(format_number(array.item(), self.value_scale))
                    header = f"{header} = {value}" if header else value
            elif options.shapes:
                kind = "" if array.dtype == np.float64 else f" {array.dtype}"
                shape = html_text(format_shape(array.shape) + kind)
                header += f' <FONT POINT-SIZE="10" COLOR="{self.style.border}">{shape}</FONT>'
            if header:
                rows.append(f"<TD>{header}</TD>")
            if array.ndim and options.values:
                for line in summarize(array, scale=self.value_scale):
                    rows.append(f'<TD><FONT POINT-SIZE="11">{html_text(line, 60)}</FONT></TD>')
        if overlay is not None and position in overlay.gradient_texts:
            # a fixed-size cell: the node keeps its size while the text changes
            text, kind = overlay.gradient_texts[position]
            rows.append(f'<TD FIXEDSIZE="TRUE" WIDTH="{overlay.cell_width[position]:.0f}" HEIGHT="16">'
                        f'{self.gradient_text(text, kind)}</TD>')
        elif options.gradients and tensor in gradients:
            for line in self.gradient_line(position, gradients[tensor]):
                rows.append(f"<TD>{self.gradient_text(line)}</TD>")
        body = "".join(f"<TR>{cell}</TR>" for cell in rows)
        return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{body}</TABLE>>'

    def tensor_style(self, position: int, overlay: Overlay | None) -> dict[str, str]:
        tensor = self.view.tensors[position]
        look = self.style
        line = ""
        if tensor.grad_fn is not None:
            fill, role = look.intermediate_fill, "value"
        elif tensor.requires_grad:
            fill, role = look.parameter_fill, "parameter"
        else:
            fill, role = look.data_fill, "data"
            line = look.data_line
        style = {"shape": "box", "style": ",".join(filter(None, ("rounded", "filled", line))),
                 "fillcolor": fill, "color": look.border, "penwidth": "1.2", "margin": "0.10,0.05",
                 "class": role}
        if self.view.is_constant(tensor):
            style.update(fontsize="11", margin="0.06,0.03", **{"class": "constant"})
        if position in self.roots:
            style.update(color=look.output_border, penwidth=look.output_penwidth)
            if look.output_peripheries > 1:
                style["peripheries"] = str(look.output_peripheries)
            if tensor.grad_fn is not None:
                style.update(fillcolor=look.output_fill, **{"class": "output"})
        if overlay is not None and overlay.current == position:
            # the page's script scrolls to the node with this id
            style.update(color=look.current, penwidth="4", id="current")
        return style

    def op_label(self, position: int) -> str:
        node = self.view.tensors[position].grad_fn
        symbol = op_symbol_for(node.op.name, node.op)
        size = 16 if len(symbol) <= 2 else 12
        return f'<<FONT POINT-SIZE="{size}">{html_text(symbol)}</FONT>>'

    def op_style(self, position: int, overlay: Overlay | None) -> dict[str, str]:
        node = self.view.tensors[position].grad_fn
        short = len(op_symbol_for(node.op.name, node.op)) <= 2
        style = {"shape": "circle" if short else "ellipse", "style": "filled",
                 "fillcolor": self.style.op_fill, "color": self.style.op_border, "margin": "0.02,0.02",
                 "class": "op"}
        if short:
            style.update(width="0.42", fixedsize="true")
        if overlay is not None and overlay.current == position:
            style.update(color=self.style.current, penwidth="4")
        return style

    def box_label(self, number: int) -> str:
        box = self.plan.boxes[number]
        counts = collections.Counter(
            op_symbol_for(self.view.tensors[m].grad_fn.op.name, None) for m in box.members
        )
        common = ", ".join(f"{html_text(symbol, 12)} ({count:,})" for symbol, count in counts.most_common(3))
        if len(counts) > 3:
            common += ", …"
        total = len(box.members)
        lines = [f"<B>{html_text(box.title, 60)}</B>",
                 f'<FONT POINT-SIZE="10">{total:,} operation{"s" if total != 1 else ""}: {common}</FONT>']
        if self.roots.intersection(box.members):
            colour = self.style.output_border
            lines.append(f'<FONT POINT-SIZE="10" COLOR="{colour}">contains the output</FONT>')
        return "<" + "<BR/>".join(lines) + ">"

    def caption_label(self, overlay: Overlay) -> str:
        """The caption as a table cell of a fixed size, text from the top left."""
        lines = "".join(f'{html_text(line, 200)}<BR ALIGN="LEFT"/>' for line in overlay.caption.split("\n"))
        if overlay.caption_size is None:
            return f"<{lines}>"
        width, height = overlay.caption_size
        return (f'<<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR>'
                f'<TD FIXEDSIZE="TRUE" WIDTH="{width:.0f}" HEIGHT="{height:.0f}" ALIGN="LEFT" '
                f'VALIGN="TOP" BALIGN="LEFT">{lines}</TD></TR></TABLE>>')

    # -- the whole drawing --

    def build(self, gradients: dict, overlay: Overlay | None = None) -> graphviz.Digraph:
        view, plan, options, look = self.view, self.plan, self.options, self.style
        if gradients:
            self.gradient_scale = largest_magnitude(gradients.values())
        graph = Drawing("computation")
        graph.style_name = look.name
        graph.attr(rankdir=options.rankdir, fontname=FONT, nodesep="0.25", ranksep="0.35",
                   pad="0.2", newrank="true", forcelabels="true")
        graph.attr("node", fontname=FONT, fontsize="12")
        graph.attr("edge", fontname=FONT, fontsize="10", color=look.edge, arrowsize="0.7")
        if overlay is not None and overlay.caption:
            graph.attr(label=self.caption_label(overlay), labelloc="t", labeljust="l",
                       fontsize=str(CAPTION_POINTS))

        # Where each drawn node goes: the cluster path of its scope (or the top level).
        clusters: dict[tuple[str, ...], list[tuple[str, dict[str, str]]]] = {(): []}

        def place(path: tuple[str, ...], node_id: str, attributes: dict[str, str]) -> None:
            path = path if options.clusters else ()
            clusters.setdefault(path, []).append((node_id, attributes))

        emitted: set[str] = set()
        for position, tensor in enumerate(view.tensors):
            node_id = self.node_of(position)
            if node_id in emitted:
                continue
            if node_id.startswith("box"):
                number = int(node_id[3:])
                box = plan.boxes[number]
                style = {"shape": "box3d", "style": "filled", "fillcolor": look.box_fill,
                         "color": look.box_border, "label": self.box_label(number), "class": "box"}
                if self.roots.intersection(box.members):
                    style.update(color=look.output_border, penwidth="3")
                place(box.path, node_id, style)
            elif node_id == "more_inputs":
                place((), node_id, self.folded_style())
            elif tensor.grad_fn is None:
                style = self.tensor_style(position, overlay)
                style["label"] = self.tensor_label(position, gradients, overlay)
                place(self.leaf_path(position), node_id, style)
            else:
                scope = tuple(tensor.grad_fn.scope or ())
                op_style = self.op_style(position, overlay)
                op_style["label"] = self.op_label(position)
                place(scope, self.op_node_of(position), op_style)
                style = self.tensor_style(position, overlay)
                style["label"] = self.tensor_label(position, gradients, overlay)
                place(scope, node_id, style)
            emitted.add(node_id)

        _attach_clusters(graph, clusters, look)
        self.add_edges(graph, overlay)
        if options.legend:
            graph.node("legend", label=self.legend_label(gradients, overlay), shape="plain", fontsize="10",
                       **{"class": "legend"})
        return graph

    def leaf_path(self, position: int) -> tuple[str, ...]:
        """A leaf sits in the innermost scope shared by everything that uses it."""
        paths = []
        for consumer in self.view.consumers[position]:
            if consumer in self.plan.box_of:
                paths.append(self.plan.boxes[self.plan.box_of[consumer]].path)
            else:
                paths.append(tuple(self.view.tensors[consumer].grad_fn.scope or ()))
        if not paths:
            return ()
        common = paths[0]
        for path in paths[1:]:
            length = 0
            while length < min(len(common), len(path)) and common[length] == path[length]:
                length += 1
            common = common[:length]
        return common

    def folded_style(self) -> dict[str, str]:
        folded = [self.view.tensors[i] for i in self.plan.folded]
        parameters = sum(1 for t in folded if t.requires_grad)
        text = f"⋯ {len(folded):,} more inputs<BR/>" + (
            f'<FONT POINT-SIZE="10">{parameters:,} parameters, {len(folded) - parameters:,} data</FONT>'
        )
        return {"shape": "box3d", "style": "filled", "fillcolor": self.style.data_fill,
                "color": self.style.border, "label": f"<{text}>", "class": "box"}

    def add_edges(self, graph: graphviz.Digraph, overlay: Overlay | None) -> None:
        view, look = self.view, self.style
        backward_only = self.options.show == "backward"
        label_colours = {"now": look.current, "before": look.carried, "later": "transparent"}
        seen_box_edges: set[tuple[str, str]] = set()
        for tensor in view.computed:
            position = view.position(tensor)
            node = tensor.grad_fn
            target = self.op_node_of(position)
            boxed = target.startswith("box")
            roles = INPUT_ROLES.get(node.op.name)
            if roles is None and node.op.name not in COMMUTATIVE and len(node.inputs) > 1:
                roles = tuple(str(k + 1) for k in range(len(node.inputs)))
            if node.op.name == "pow" and len(node.inputs) == 1:
                roles = None  # x ** 2: one input, the exponent is in the symbol
            for argument, parent in enumerate(node.inputs):
                source = self.node_of(view.position(parent))
                if source == target:
                    continue  # inside one box
                attributes: dict[str, str] = {}
                if boxed or source.startswith("box") or source == "more_inputs":
                    if (source, target) in seen_box_edges:
                        continue
                    seen_box_edges.add((source, target))
                elif roles is not None and argument < len(roles):
                    attributes.update(headlabel=roles[argument], labelfontsize="9",
                                      labelfontcolor=look.role_label, labeldistance="1.6")
                if backward_only:
                    attributes.update(dir="back", color=look.gradient, **{"class": "gradient"})
                if overlay is not None and (position, argument) in overlay.edge_labels:
                    text, when = overlay.edge_labels[(position, argument)]
                    body = html_text(text, 60)
                    if when == "now" and look.gradient_bold:
                        body = f"<B>{body}</B>"
                    attributes.update(label=f"<{body}>", fontcolor=label_colours[when])
                if overlay is not None and (position, argument) in overlay.flowing:
                    attributes.update(dir="back", color=look.current, penwidth="2.5", **{"class": "flowing"})
                graph.edge(source, target, **attributes)
            if not boxed:
                attributes = {}
                if backward_only:
                    attributes = {"dir": "back", "color": look.gradient, "class": "gradient"}
                graph.edge(target, self.node_of(position), **attributes)

    def legend_label(self, gradients: dict, overlay: Overlay | None) -> str:
        """The legend: only the roles this drawing has, so a small graph's stays small."""
        tensors = self.view.tensors
        several = "sum" if len(self.view.roots) > 1 else (
            "elements" if stored_array(self.view.roots[0]).size > 1 else "")
        return legend_html(
            self.style,
            parameters=any(t.grad_fn is None and t.requires_grad for t in tensors),
            data=any(t.grad_fn is None and not t.requires_grad for t in tensors),
            computed=bool(self.view.computed),
            gradients_of=self.output_name if (self.options.gradients or overlay is not None) else None,
            several=several,
            stepping=overlay is not None,
            boxes=bool(self.plan.boxes),
        )


def _attach_clusters(graph: graphviz.Digraph, clusters: dict[tuple[str, ...], list],
                     look: Style = SCREEN) -> None:
    """Write nodes into nested ``cluster_`` subgraphs, innermost first (no recursion).

    A subgraph's text is copied into its parent when attached, so children must be
    complete first: paths are handled from the deepest to the shallowest.
    """
    for path in list(clusters):  # every ancestor of a used path needs a cluster too
        for length in range(1, len(path)):
            clusters.setdefault(path[:length], [])
    order = [()] + [path for path in clusters if path != ()]
    numbers = {path: k for k, path in enumerate(order)}
    subgraphs: dict[tuple[str, ...], graphviz.Digraph] = {}
    for path in order:
        if path == ():
            subgraphs[path] = graph
            continue
        sub = graphviz.Digraph(name=f"cluster_{numbers[path]}")
        sub.attr(label=f"<<B>{html_text(path[-1])}</B>>", style="rounded,filled",
                 fillcolor=look.cluster_fill, color=look.cluster_border, fontname=FONT, fontsize="12",
                 labeljust="l")
        subgraphs[path] = sub
    for path in order:
        for node_id, attributes in clusters[path]:
            subgraphs[path].node(node_id, **attributes)
    for path in sorted((p for p in order if p), key=len, reverse=True):
        subgraphs[path[:-1]].subgraph(subgraphs[path])
