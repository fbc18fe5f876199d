"""The chain rule written out: the forward (primal) and reverse (adjoint) traces of a graph.

These are the tables of Baydin, Pearlmutter, Radul and Siskind's survey "Automatic
differentiation in machine learning" (JMLR 2018), generated from a recorded graph:

* the **primal trace**, one line per node in the order the program ran: ``v3 = v1 · v2 = 10``;
* the **adjoint trace**, in the engine's backward order, one line per edge: what the
  local rule of the op sends back along it, with the graph's names and then with numbers,
  ``v̄2 += v̄3 · v1 = (1)(2) = 2``. A node used twice receives twice; when its gradient is
  complete the sum is written out: ``v̄1 = 2 + 3 = 5``. Leaves' totals come last (they
  are what ``backward()`` stores in ``.grad``).

The local rules are the ``rule`` texts the ops carry next to their ``backward``, and the
numbers are what those ``backward`` methods return on the recorded values (replayed;
no ``.grad`` is touched), so the trace cannot disagree with the engine.

>>> from autograd import Tensor
>>> x1 = Tensor(2.0, requires_grad=True, name="x1")
>>> x2 = Tensor(5.0, requires_grad=True, name="x2")
>>> print(chain_rule_trace(x1 * x2 + x1))
Forward (primal) trace
  x1 = 2  (parameter)
  x2 = 5  (parameter)
  v1 = x1 · x2 = 10
  out = v1 + x1 = 12
<BLANKLINE>
Reverse (adjoint) trace, in the engine's order
  o̅u̅t̅ = 1         (start: ∂out/∂out)
  v̄1 += o̅u̅t̅ = 1
  x̄1 += o̅u̅t̅ = 1
  x̄1 += v̄1 · x2 = (1)(5) = 5
  x̄2 += v̄1 · x1 = (1)(2) = 2
  x̄1 = 1 + 5 = 6  (x1 is used twice: the sum of what it received)
<BLANKLINE>
Gradients
  ∂out/∂x1 = x̄1 = 6
  ∂out/∂x2 = x̄2 = 2
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd.teaching.formula import FormulaError, is_sentence, names_in, parse
from autograd.teaching.formula_text import latex_text, render, render_sentence
from autograd.teaching.replay import Edge, Replay, forward_formula, input_names, op_constants, replay
from autograd.tensors import Tensor
from autograd.viz.graph import stored_array
from autograd.viz.labels import format_number, format_shape, summarize

FORMATS = ("text", "markdown", "latex")
SMALL = 4  # arrays with at most this many values are written out in full


# ---- the rows --------------------------------------------------------------------------------


@dataclass
class PrimalRow:
    """One line of the forward trace: a leaf's value, or how a node was computed."""

    tensor: Tensor
    kind: str  # "parameter", "data" or "computed"
    formula: Any  # the forward formula (names "#0", "#1"... for the inputs), None for a leaf
    value: np.ndarray


@dataclass
class AdjointRow:
    """One line of the reverse trace.

    ``kind`` is ``"start"`` (∂out/∂out = 1), ``"edge"`` (``edge`` sends ``value`` to
    ``tensor``), ``"sum"`` (``tensor`` received ``terms``, which add up to ``value``).
    """

    kind: str
    tensor: Tensor
    value: np.ndarray
    edge: Edge | None = None
    terms: list[np.ndarray] = field(default_factory=list)


class ChainRuleTrace:
    """The primal and adjoint traces of ``output``'s graph, ready to be written out.

    ``str(trace)`` is the text form; ``trace.render("markdown")`` or ``"latex"`` the
    others. In Jupyter a trace shows as a Markdown table. ``primal`` and ``adjoint`` hold
    the rows the text is written from, with their numbers as arrays.
    """

    def __init__(self, output: Tensor, conventions: Any = None) -> None:
        self.replay: Replay = replay(output, conventions)
        result = self.replay
        view = result.view
        self.output = output
        self.primal: list[PrimalRow] = []
        for tensor in view.tensors:
            if view.is_constant(tensor):
                continue  # a number in the program: written where it is used
            if tensor.grad_fn is None:
                kind = "parameter" if tensor.requires_grad else "data"
                self.primal.append(PrimalRow(tensor, kind, None, np.asarray(stored_array(tensor))))
            else:
                self.primal.append(PrimalRow(tensor, "computed", forward_formula(tensor),
                                             np.asarray(stored_array(tensor))))
        self.adjoint: list[AdjointRow] = [AdjointRow("start", output, np.asarray(result.gradients[output]))]
        summed: set[Tensor] = set()

        def close(tensor: Tensor) -> None:
            received = result.received.get(tensor, [])
            if len(received) > 1 and tensor not in summed:
                summed.add(tensor)
                self.adjoint.append(AdjointRow("sum", tensor, np.asarray(result.gradients[tensor]),
                                               terms=[np.asarray(e.sent) for e in received]))

        for step in result.steps:
            close(step.tensor)  # complete now: everything computed from it is done
            for edge in step.edges:
                self.adjoint.append(AdjointRow("edge", edge.parent, np.asarray(edge.sent), edge))
        for tensor in result.order:
            if tensor.grad_fn is None:
                close(tensor)
        self.leaves = sorted((t for t in result.order if t.grad_fn is None and t is not output),
                             key=view.position)  # in forward order, as in the primal trace

    def render(self, format: str = "text") -> str:
        """The trace as ``"text"``, ``"markdown"`` or ``"latex"`` (an ``align*`` per trace)."""
        if format not in FORMATS:
            raise ValueError(f"format must be 'text', 'markdown' or 'latex', not {format!r}")
        return _Writer(self, format).write()

    def __str__(self) -> str:
        return self.render("text")

    def __repr__(self) -> str:
        return f"<ChainRuleTrace of {self.replay.name(self.output)}: {len(self.adjoint)} adjoint lines>"

    def _repr_markdown_(self) -> str:
        return self.render("markdown")


def chain_rule_trace(output: Tensor, format: str = "text", *, conventions: Any = None) -> str:
    """The forward (primal) and reverse (adjoint) traces of ``output``'s graph, written out.

    Args:
        output: the tensor to backpropagate from (a scalar, or the sum of its entries).
        format: ``"text"``, ``"markdown"`` (tables) or ``"latex"`` (``align*``, amsmath).
        conventions: as for ``check_gradients``: ``"cmu-10601"`` takes ReLU'(0) = 1.

    See the module for an example; ``ChainRuleTrace(output)`` gives the rows themselves.
    """
    return ChainRuleTrace(output, conventions).render(format)


# ---- names in each format ------------------------------------------------------------------------

def bar(name: str) -> str:
    """The adjoint's name in text: ``v̄3`` (a bar on one letter), ``o̅u̅t̅`` (over a word)."""
    clusters = _letter_clusters(name)
    lead = 0
    while lead < len(clusters) and clusters[lead][0].isalpha():
        lead += 1
    rest = "".join(clusters[lead:])
    if lead == 0:
        barred = name + "\u0304"
    elif lead == 1:
        barred = clusters[0] + "\u0304" + rest
    else:
        barred = "".join(c + "\u0305" for c in clusters[:lead]) + rest
    return unicodedata.normalize("NFC", barred)  # Ā as one character, as it is typed


def _letter_clusters(name: str) -> list[str]:
    """Characters with their combining marks kept together."""
    clusters: list[str] = []
    for ch in unicodedata.normalize("NFD", name):
        if unicodedata.combining(ch) and clusters:
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return [unicodedata.normalize("NFC", c) for c in clusters]


_ACCENTS = {"̂": r"\hat", "̄": r"\bar", "̃": r"\tilde", "̇": r"\dot"}
_GREEK = {"α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\epsilon", "η": r"\eta",
          "θ": r"\theta", "λ": r"\lambda", "μ": r"\mu", "σ": r"\sigma", "τ": r"\tau", "φ": r"\phi",
          "ω": r"\omega", "Σ": r"\Sigma"}


def latex_name(name: str, adjoint: bool = False) -> str:
    """A name in LaTeX: ``v3`` → ``v_{3}``, ``ŷ1`` → ``\\hat{y}_{1}``, ``x2²`` → ``x_{2}^{2}``."""
    decomposed = unicodedata.normalize("NFD", name)
    match = re.match(r"^([A-Za-z\u0370-\u03ff][\u0300-\u036f]*)([A-Za-z]*)(\d*)(²|³)?$", decomposed)
    if match is None:
        body = rf"\mathrm{{{latex_text(name)}}}"
        return rf"\overline{{{body}}}" if adjoint else body
    head, more, digits, power = match.groups()
    base = _GREEK.get(head[0], head[0])
    for mark in head[1:]:
        base = rf"{_ACCENTS.get(mark, '')}{{{base}}}" if mark in _ACCENTS else base
    if more:
        base = rf"\mathrm{{{head[0]}{more}}}"
        text = rf"\overline{{{base}}}" if adjoint else base
    else:
        text = rf"\bar{{{base}}}" if adjoint else base
    if digits:
        text += f"_{{{digits}}}"
    if power:
        text += "^{2}" if power == "²" else "^{3}"
    return text


# ---- one edge: the local rule with names and with numbers -----------------------------------------


def edge_texts(
    result: Replay,
    edge: Edge,
    name: Callable[[Tensor], str],
    adjoint: Callable[[Tensor], str],
    number: Callable[[Any], str],
    *,
    latex: bool = False,
) -> tuple[str, str | None, str]:
    """What ``edge`` sends, from its op's ``rule``: with names, with numbers, and a note.

    ``name(t)`` and ``adjoint(t)`` write a tensor and its gradient (``v1`` and ``v̄1``, or
    ``v1`` and ``∂J/∂v1``); ``number`` writes a value. The numbers are None when the rule
    is a sentence, or its values are arrays too large to write out. Where the engine sums
    the result back to a broadcast input's shape, both are wrapped in ``Σ(...)`` and the
    note says so.
    """
    node = edge.consumer.grad_fn
    by_name = {"g": adjoint(edge.consumer), "out": name(edge.consumer)}
    values = {"g": result.gradients[edge.consumer], "out": stored_array(edge.consumer)}
    for key, parent in zip(input_names(node.op), node.inputs):
        by_name[key] = name(parent)
        values[key] = stored_array(parent)
    note = ""
    if edge.broadcast:
        shape = np.shape(edge.sent)
        into = "one number" if shape == () else f"shape {shape}"
        note = (f"{result.name(edge.parent)} was broadcast to shape {np.shape(edge.raw)}: Σ adds its copies "
                f"back into {into}")
    symbolic, numeric = _rule_texts(edge, node, by_name, values, number, latex)
    if edge.broadcast:
        sigma = r"\textstyle\sum" if latex else "Σ"
        symbolic = rf"{sigma}\left({symbolic}\right)" if latex else f"Σ({symbolic})"
        if numeric is not None:
            numeric = rf"{sigma}\left({numeric}\right)" if latex else f"Σ({numeric})"
    return symbolic, numeric, note


def _rule_texts(edge: Edge, node: Any, by_name: dict, values: dict, number: Callable[[Any], str],
                latex: bool) -> tuple[str, str | None]:
    rule = edge.rule
    if rule is None:  # an op without a rule text (one defined outside autograd.ops)
        out = by_name["out"]
        parent = by_name.get(input_names(node.op)[edge.argument], "") if edge.argument < len(
            input_names(node.op)) else ""
        parent = parent or f"input {edge.argument + 1}"
        if latex:
            return rf"{by_name['g']} \cdot \frac{{\partial {out}}}{{\partial {parent}}}", None
        return f"{by_name['g']} · ∂{out}/∂{parent}", None
    if is_sentence(rule):
        if latex:
            sentence = latex_text(rule, math=False).replace(r"\{", "{").replace(r"\}", "}")
            return rf"\text{{{render_sentence(sentence, lambda n: '$' + by_name.get(n, n) + '$')}}}", None
        return render_sentence(rule, lambda n: by_name.get(n, n)), None
    try:
        tree = parse(rule)
    except FormulaError:
        return (rf"\text{{{latex_text(rule, math=False)}}}" if latex else rule), None
    constants = op_constants(node.op)
    symbolic = render(tree, lambda n: by_name.get(n, n), constants=constants, latex=latex)
    used = names_in(tree) - set(constants)
    if any(n not in values for n in used) or any(np.size(values[n]) > SMALL for n in used):
        return symbolic, None
    numeric = render(tree, lambda n: number(values[n]), constants=constants, latex=latex, numbers=True)
    return symbolic, numeric


# ---- writing ------------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Columns on screen: combining marks take none."""
    return sum(0 if unicodedata.combining(ch) else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


class _Writer:
    def __init__(self, trace: ChainRuleTrace, fmt: str) -> None:
        self.trace, self.fmt = trace, fmt
        self.latex = fmt == "latex"
        self.view = trace.replay.view

    # names and values in this format
    def name(self, tensor: Tensor) -> str:
        text = self.view.name(tensor)
        if self.view.is_constant(tensor):
            return text
        return latex_name(text) if self.latex else text

    def adjoint(self, tensor: Tensor) -> str:
        text = self.view.name(tensor)
        return latex_name(text, adjoint=True) if self.latex else bar(text)

    def number(self, value: Any) -> str:
        array = np.asarray(value)
        if array.ndim == 0:
            text = format_number(array.item())
            return text if self.latex else text.replace("-", "−")
        lines = summarize(array, SMALL)
        text = lines[0] if array.size <= SMALL else f"{format_shape(array.shape)}: " + "; ".join(lines)
        if self.latex:
            return rf"\text{{{latex_text(text, math=False)}}}"
        return text.replace("-", "−")

    def value(self, value: Any) -> str:
        return self.number(value)

    # the pieces of each line
    def primal(self, row: PrimalRow) -> tuple[str, str, str]:
        """(left side, formula or "", value)."""
        left = self.name(row.tensor)
        if row.formula is None:
            return left, "", self.value(row.value)
        inputs = row.tensor.grad_fn.inputs
        formula = render(row.formula, lambda n: self.name(inputs[int(n[1:])]), latex=self.latex)
        return left, formula, self.value(row.value)

    def edge(self, edge: Edge) -> tuple[str, str | None, str]:
        """(the rule with names, the rule with numbers or None, a note)."""
        return edge_texts(self.trace.replay, edge, self.name, self.adjoint, self.number, latex=self.latex)

    def start_note(self) -> str:
        out = self.view.name(self.trace.output)
        if np.size(self.trace.adjoint[0].value) > 1:
            return f"start: {out} has several entries; this is the gradient of their sum"
        return f"start: ∂{out}/∂{out}"

    def sum_note(self, row: AdjointRow) -> str:
        count = len(row.terms)
        times = "twice" if count == 2 else f"{count} times"
        return f"{self.view.name(row.tensor)} is used {times}: the sum of what it received"

    def write(self) -> str:
        return {"text": self.text, "markdown": self.markdown, "latex": self.latex_document}[self.fmt]()

    # the three formats
    def text(self) -> str:
        primal = []
        for row in self.trace.primal:
            left, formula, value = self.primal(row)
            line = f"{left} = {formula} = {value}" if formula else f"{left} = {value}"
            primal.append((line, "" if formula else f"({row.kind})"))
        adjoint = []
        for row in self.trace.adjoint:
            out = self.view.name(self.trace.output)
            if row.kind == "start":
                start = f"{self.adjoint(row.tensor)} = {self.value(row.value)}"
                adjoint.append((start, f"({self.start_note()})"))
            elif row.kind == "edge":
                symbolic, numeric, note = self.edge(row.edge)
                parts = [f"{self.adjoint(row.tensor)} += {symbolic}"]
                if numeric is not None and numeric != self.value(row.value):
                    parts.append(numeric)
                parts.append(self.value(row.value))
                adjoint.append((" = ".join(parts), f"({note})" if note else ""))
            else:
                terms = " + ".join(_signed(self.value(t), k) for k, t in enumerate(row.terms))
                adjoint.append((f"{self.adjoint(row.tensor)} = {terms} = {self.value(row.value)}",
                                f"({self.sum_note(row)})"))
        lines = ["Forward (primal) trace"] + _columns(primal)
        lines += ["", "Reverse (adjoint) trace, in the engine's order"] + _columns(adjoint)
        if self.trace.leaves:
            out = self.view.name(self.trace.output)
            lines += ["", "Gradients"]
            for leaf in self.trace.leaves:
                value = self.value(self.trace.replay.gradients[leaf])
                lines.append(f"  ∂{out}/∂{self.view.name(leaf)} = {self.adjoint(leaf)} = {value}")
        return "\n".join(lines)

    def markdown(self) -> str:
        out = self.view.name(self.trace.output)
        lines = ["**Forward (primal) trace**", "", "| node | computed as | value |", "|---|---|---|"]
        for row in self.trace.primal:
            left, formula, value = self.primal(row)
            middle = _md(formula) if formula else f"*{row.kind}*"
            lines.append(f"| {_md(left)} | {middle} | {_md(value)} |")
        lines += ["", "**Reverse (adjoint) trace**, in the engine's order", "",
                  "| # | adjoint update | in numbers | value |", "|---|---|---|---|"]
        for number, row in enumerate(self.trace.adjoint, start=1):
            if row.kind == "start":
                update = f"{self.adjoint(row.tensor)} = {self.value(row.value)}"
                numeric, note = "", self.start_note()
            elif row.kind == "edge":
                symbolic, numeric, note = self.edge(row.edge)
                update, numeric = f"{self.adjoint(row.tensor)} += {symbolic}", numeric or ""
            else:
                update = f"{self.adjoint(row.tensor)} = sum"
                numeric = " + ".join(_signed(self.value(t), k) for k, t in enumerate(row.terms))
                note = self.sum_note(row)
            value = self.value(row.value) + (f" ({note})" if note else "")
            lines.append(f"| {number} | {_md(update)} | {_md(numeric)} | {_md(value)} |")
        if self.trace.leaves:
            lines += ["", "**Gradients**: " + ", ".join(
                _md(f"∂{out}/∂{self.view.name(leaf)} = {self.value(self.trace.replay.gradients[leaf])}")
                for leaf in self.trace.leaves)]
        return "\n".join(lines)

    def latex_document(self) -> str:
        out = latex_name(self.view.name(self.trace.output))
        lines = [r"% the forward (primal) and reverse (adjoint) traces; needs \usepackage{amsmath}",
                 r"\begin{align*}", r"&\text{Forward (primal) trace}\\"]
        for row in self.trace.primal:
            left, formula, value = self.primal(row)
            right = f"{formula} = {value}" if formula else rf"{value} && \text{{({row.kind})}}"
            lines.append(f"{left} &= {right}\\\\")
        lines[-1] = lines[-1].removesuffix("\\\\")
        lines += [r"\end{align*}", r"\begin{align*}",
                  r"&\text{Reverse (adjoint) trace, in the engine's order}\\"]
        for row in self.trace.adjoint:
            if row.kind == "start":
                note = latex_text(self.start_note(), math=False)
                lines.append(rf"{self.adjoint(row.tensor)} &= {self.value(row.value)} && \text{{({note})}}\\")
            elif row.kind == "edge":
                symbolic, numeric, note = self.edge(row.edge)
                value = self.value(row.value)
                parts = [symbolic] + ([numeric] if numeric not in (None, value) else []) + [value]
                comment = rf" && \text{{({latex_text(note, math=False)})}}" if note else ""
                lines.append(rf"{self.adjoint(row.tensor)} &\mathrel{{+}}= {' = '.join(parts)}{comment}\\")
            else:
                terms = " + ".join(_signed(self.value(t), k, latex=True) for k, t in enumerate(row.terms))
                lines.append(rf"{self.adjoint(row.tensor)} &= {terms} = {self.value(row.value)}"
                             rf" && \text{{({latex_text(self.sum_note(row), math=False)})}}\\")
        for leaf in self.trace.leaves:
            value = self.value(self.trace.replay.gradients[leaf])
            lines.append(rf"\frac{{\partial {out}}}{{\partial {latex_name(self.view.name(leaf))}}} "
                         rf"&= {self.adjoint(leaf)} = {value}\\")
        lines[-1] = lines[-1].removesuffix("\\\\")  # no empty last line
        lines.append(r"\end{align*}")
        return "\n".join(lines)


def _signed(text: str, position: int, latex: bool = False) -> str:
    """A term after the first of a sum: negative ones in parentheses."""
    if position and text.startswith("−" if not latex else "-"):
        return rf"\left({text}\right)" if latex else f"({text})"
    return text


def _columns(rows: list[tuple[str, str]]) -> list[str]:
    """Indented lines, with the notes lined up in a column after the longest short line."""
    widths = [_width(line) for line, note in rows if note]
    column = min(max(widths, default=0), 26) + 2
    out = []
    for line, note in rows:
        padded = _pad(line, max(column, _width(line) + 2))
        out.append(("  " + padded + note).rstrip() if note else "  " + line)
    return out


def _md(text: str) -> str:
    """Text for a Markdown table cell: the characters Markdown would read are escaped."""
    return re.sub(r"([\\`*_\[\]<|])", r"\\\1", text)
