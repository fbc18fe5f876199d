"""Writing a formula out (``formula.py`` reads it): with the graph's names or with numbers, text or LaTeX.

>>> from autograd.teaching.formula import parse
>>> tree = parse("g · cos(a)")
>>> render(tree, lambda name: {"g": "v̄2", "a": "v1"}[name])
'v̄2 · cos(v1)'
>>> render(parse("g · exponent · a^(exponent − 1)"), str, constants={"exponent": 3})
'g · 3 · a²'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from autograd.teaching.formula import Apply, Bin, Call, Iverson, Neg, Num, Post, Var, substitute
from autograd.viz.labels import format_number

# Binding strength, for deciding where parentheses are needed.
_PRECEDENCE = {"+": 1, "−": 1, "·": 2, "/": 2, "@": 2, "neg": 3, "^": 4, "post": 5, "atom": 6}

_LATEX_FUNCTIONS = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos", "tanh": r"\tanh",
                    "σ": r"\sigma", "sign": r"\operatorname{sign}", "Σ": r"\textstyle\sum"}
_LATEX_COMPARISONS = {">": ">", "<": "<", "≥": r"\geq", "≤": r"\leq", "=": "=", "≠": r"\neq"}
_SUPERSCRIPT = str.maketrans("0123456789-−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻")


def render(
    tree: Any,
    leaf: Callable[[str], str],
    *,
    constants: Mapping[str, Any] | None = None,
    latex: bool = False,
    numbers: bool = False,
) -> str:
    """Write a formula with ``leaf(name)`` for each name, as plain text or LaTeX.

    ``constants`` are substituted and folded first (``substitute``). With ``numbers``,
    the leaves are values: each is put in parentheses where an operator touches it, and
    two of them side by side multiply without a dot, as hand-written traces do:
    ``(1)(2)``.
    """
    if constants:
        tree = substitute(tree, constants)
    writer = _Writer(leaf, latex, numbers)
    return writer.write(tree)[0]


class _Writer:
    def __init__(self, leaf: Callable[[str], str], latex: bool, numbers: bool) -> None:
        self.leaf, self.latex, self.numbers = leaf, latex, numbers

    def number(self, value: float) -> str:
        if math.isinf(value):
            text = ("-" if value < 0 else "") + (r"\infty" if self.latex else "∞")
            return text if self.latex else text.replace("-", "−")
        text = format_number(value)
        return text if self.latex else text.replace("-", "−")

    def write(self, tree: Any) -> tuple[str, int, bool]:
        """(text, precedence, whether it is a value put in for a name)."""
        if isinstance(tree, Num):
            text = self.number(tree.value)
            return text, (_PRECEDENCE["neg"] if text[0] in "−-" else _PRECEDENCE["atom"]), False
        if isinstance(tree, Var):
            text = self.leaf(tree.name)
            if self.numbers:  # a value: side by side with another it is written (1)(2)
                return text, (_PRECEDENCE["neg"] if text[:1] in "−-" else _PRECEDENCE["atom"]), True
            return text, _PRECEDENCE["atom"], False
        if isinstance(tree, Neg):
            text, precedence, value = self.write(tree.operand)
            if precedence < _PRECEDENCE["atom"] or value:  # −(−2), −(1), −(a + b)
                text = (r"\left(" + text + r"\right)") if self.latex else f"({text})"
            return ("-" if self.latex else "−") + text, _PRECEDENCE["neg"], False
        if isinstance(tree, Bin):
            return self.binary(tree)
        if isinstance(tree, Post):
            inner = self.wrap(tree.operand, _PRECEDENCE["post"])
            if self.latex:
                return inner + ("^{2}" if tree.op == "²" else r"^{\top}"), _PRECEDENCE["post"], False
            return inner + tree.op, _PRECEDENCE["post"], False
        if isinstance(tree, Call):
            return self.call(tree)
        if isinstance(tree, Apply):
            return self.apply(tree)
        return self.iverson(tree)

    def wrap(self, tree: Any, needed: int) -> str:
        text, precedence, _ = self.write(tree)
        return self.parenthesized(text) if precedence < needed else text

    def parenthesized(self, text: str) -> str:
        return (r"\left(" + text + r"\right)") if self.latex else f"({text})"

    def plain(self, tree: Any) -> str:
        """A function's argument or a bracket's operand: a value there needs no parentheses."""
        if self.numbers and isinstance(tree, Var):
            return self.leaf(tree.name)
        return self.write(tree)[0]

    def binary(self, tree: Bin) -> tuple[str, int, bool]:
        op, precedence = tree.op, _PRECEDENCE[tree.op]
        if op == "^":
            base = self.wrap(tree.left, _PRECEDENCE["post"])
            exponent_tree = tree.right
            if self.latex:
                return f"{base}^{{{self.write(exponent_tree)[0]}}}", precedence, False
            if isinstance(exponent_tree, Num) and float(exponent_tree.value).is_integer():
                return base + str(int(exponent_tree.value)).translate(_SUPERSCRIPT), precedence, False
            return f"{base}^{self.wrap(exponent_tree, _PRECEDENCE['post'])}", precedence, False
        if op == "/" and self.latex:
            fraction = rf"\frac{{{self.write(tree.left)[0]}}}{{{self.write(tree.right)[0]}}}"
            return fraction, _PRECEDENCE["atom"], False
        left_text, left_precedence, left_value = self.write(tree.left)
        right_text, right_precedence, right_value = self.write(tree.right)
        if op == "·" and left_value and right_value:  # two values side by side: (1)(2)
            return self.parenthesized(left_text) + self.parenthesized(right_text), precedence, False
        if left_precedence < precedence or (left_value and left_precedence == _PRECEDENCE["neg"]):
            left_text = self.parenthesized(left_text)  # (a + b) · c; a value: (−2) · c
        strict = op in ("−", "/")  # a − (b − c), a / (b · c)
        if (right_precedence < precedence or (strict and right_precedence == precedence)
                or (right_precedence == _PRECEDENCE["neg"] and not self.latex)):  # x · (−2)
            right_text = self.parenthesized(right_text)
        symbol = {"·": r" \cdot ", "−": " - ", "@": " ", "+": " + "}.get(op, f" {op} ") if self.latex else \
            {"−": " − "}.get(op, f" {op} ")
        return left_text + symbol + right_text, precedence, False

    def call(self, tree: Call) -> tuple[str, int, bool]:
        argument = self.plain(tree.argument)
        if tree.function == "sqrt":
            if self.latex:
                return rf"\sqrt{{{argument}}}", _PRECEDENCE["atom"], False
            simple = isinstance(tree.argument, (Var, Num)) and not self.numbers
            return ("√" + argument) if simple else f"√({argument})", _PRECEDENCE["atom"], False
        if self.latex:
            return rf"{_LATEX_FUNCTIONS[tree.function]}\left({argument}\right)", _PRECEDENCE["atom"], False
        return f"{tree.function}({argument})", _PRECEDENCE["atom"], False

    def apply(self, tree: Apply) -> tuple[str, int, bool]:
        arguments = [self.plain(argument) for argument in tree.arguments]
        if tree.extra:
            extra = rf"\mathrm{{{latex_text(tree.extra).replace(' ', '~')}}}" if self.latex else tree.extra
            arguments.append(extra)
        label = latex_text(tree.label) if self.latex else tree.label
        if tree.index:
            base = self.wrap(tree.arguments[0], _PRECEDENCE["post"])
            return f"{base}[{label}]", _PRECEDENCE["post"], False
        if self.latex:
            name = {"Σ": r"\Sigma", "σ": r"\sigma"}.get(tree.label, rf"\operatorname{{{label}}}")
            return rf"{name}\left({', '.join(arguments)}\right)", _PRECEDENCE["atom"], False
        return f"{label}({', '.join(arguments)})", _PRECEDENCE["atom"], False

    def iverson(self, tree: Iverson) -> tuple[str, int, bool]:
        parts = [self.plain(tree.operands[0])]
        for comparison, operand in zip(tree.comparisons, tree.operands[1:]):
            parts.append(_LATEX_COMPARISONS[comparison] if self.latex else comparison)
            parts.append(self.plain(operand))
        inner = " ".join(parts)
        return (rf"\left[{inner}\right]" if self.latex else f"[{inner}]"), _PRECEDENCE["atom"], False


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\^{}", "#": r"\#",
                  "$": r"\$", "%": r"\%", "&": r"\&", "~": r"\~{}", "−": "-"}
_LATEX_SYMBOLS = {"×": r"\times", "Σ": r"\Sigma", "σ": r"\sigma", "∞": r"\infty", "…": r"\ldots",
                  "·": r"\cdot", "∂": r"\partial", "≤": r"\leq", "≥": r"\geq"}


def latex_text(text: str, math: bool = True) -> str:
    """Text made safe for LaTeX: specials escaped, symbols as commands (in ``$...$`` in text mode).

    >>> print(latex_text("3×4 values, 50%"), "|", latex_text("Σ of x_1", math=False))
    3{\\times}4 values, 50\\% | $\\Sigma$ of x\\_1
    """
    pieces = []
    for ch in text:
        if ch in _LATEX_SYMBOLS:
            pieces.append(f"{{{_LATEX_SYMBOLS[ch]}}}" if math else f"${_LATEX_SYMBOLS[ch]}$")
        else:
            pieces.append(_LATEX_SPECIAL.get(ch, ch))
    return "".join(pieces)


def render_sentence(text: str, leaf: Callable[[str], str]) -> str:
    """A sentence rule with its ``{name}`` slots filled: ``"{g}, summed"`` → ``"v̄3, summed"``."""
    return re.sub(r"\{([A-Za-z_][A-Za-z_0-9]*)\}", lambda match: leaf(match.group(1)), text)
