"""The local rules of ``autograd/ops`` as formulas: read, evaluate, and write out.

Every op writes its backward rule out in its ``rule`` attribute (see ``autograd.ops``):
``Mul.rule == ("g · b", "g · a")``. This module reads that notation into a small tree,
so that the same tree can be

* evaluated with numpy (a test checks each formula against the op's ``backward``),
* written with the graph's names in place of ``g``, ``a``, ``b`` (``v̄3 · v1``),
* written with numbers in place of the names (``(1)(2)``), as plain text or LaTeX.

The notation: numbers, names, ``+ − · / ^ @``, unary minus, postfix ``²`` (square) and
``ᵀ`` (transpose of the last two axes), function calls ``exp log sqrt sin cos tanh σ
sign Σ`` (``Σ`` sums over the op's axis, keeping it), and Iverson brackets ``[a > 0]``:
1 where the comparison holds, 0 elsewhere (comparisons ``> < ≥ ≤ = ≠`` may chain, as in
``[low ≤ a ≤ high]``; a bare name ``[condition]`` reads a boolean array).

>>> tree = parse("g · cos(a)")
>>> render(tree, lambda name: {"g": "v̄2", "a": "v1"}[name])
'v̄2 · cos(v1)'
>>> float(evaluate(tree, {"g": 2.0, "a": 0.0}))
2.0
>>> render(parse("g · exponent · a^(exponent − 1)"), str, constants={"exponent": 3})
'g · 3 · a²'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd.viz.labels import format_number


class FormulaError(ValueError):
    """A rule's text is not in the formula notation."""


# ---- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Neg:
    operand: Any


@dataclass(frozen=True)
class Bin:
    op: str  # one of + − · / ^ @
    left: Any
    right: Any


@dataclass(frozen=True)
class Post:
    op: str  # ² or ᵀ
    operand: Any


@dataclass(frozen=True)
class Call:
    function: str
    argument: Any


@dataclass(frozen=True)
class Iverson:
    operands: tuple  # one operand (a boolean name) or a chain of comparisons
    comparisons: tuple  # len(operands) - 1 operators


@dataclass(frozen=True)
class Apply:
    """Any other operation, written ``label(arguments)``, or ``argument[label]`` for an index."""

    label: str
    arguments: tuple
    index: bool = False
    extra: str = ""  # a parameter written after the arguments: "axis 0"


FUNCTIONS = ("exp", "log", "sqrt", "sin", "cos", "tanh", "σ", "sign", "Σ")
COMPARISONS = (">", "<", "≥", "≤", "=", "≠")

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?)|([A-Za-z_][A-Za-z_0-9]*|σ|Σ)|(.))")


def _tokens(text: str) -> list[str]:
    tokens = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        tokens.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            wanted = f"{expected!r}" if expected else "more"
            raise FormulaError(f"{self.text!r}: expected {wanted} at token {self.at + 1}")
        self.at += 1
        return token

    def parse(self) -> Any:
        tree = self.sum()
        if self.peek() is not None:
            raise FormulaError(f"{self.text!r}: unexpected {self.peek()!r}")
        return tree

    def sum(self) -> Any:
        tree = self.product()
        while self.peek() in ("+", "−", "-"):
            op = "+" if self.take() == "+" else "−"
            tree = Bin(op, tree, self.product())
        return tree

    def product(self) -> Any:
        tree = self.unary()
        while self.peek() in ("·", "/", "@"):
            op = self.take()
            tree = Bin(op, tree, self.unary())
        return tree

    def unary(self) -> Any:
        if self.peek() in ("−", "-"):
            self.take()
            return Neg(self.unary())
        return self.power()

    def power(self) -> Any:
        base = self.postfix()
        if self.peek() == "^":
            self.take()
            return Bin("^", base, self.unary())
        return base

    def postfix(self) -> Any:
        tree = self.atom()
        while self.peek() in ("²", "ᵀ"):
            tree = Post(self.take(), tree)
        return tree

    def atom(self) -> Any:
        token = self.take()
        if token[0].isdigit():
            return Num(float(token))
        if token == "(":
            tree = self.sum()
            self.take(")")
            return tree
        if token == "[":
            operands, comparisons = [self.sum()], []
            while self.peek() in COMPARISONS:
                comparisons.append(self.take())
                operands.append(self.sum())
            self.take("]")
            return Iverson(tuple(operands), tuple(comparisons))
        if token in FUNCTIONS:
            self.take("(")
            argument = self.sum()
            self.take(")")
            return Call(token, argument)
        if token[0].isalpha() or token[0] == "_":
            return Var(token)
        raise FormulaError(f"{self.text!r}: unexpected {token!r}")


def parse(text: str) -> Any:
    """Read a rule's formula into a tree; ``FormulaError`` if it is not a formula."""
    return _Parser(text).parse()


def is_sentence(text: str) -> bool:
    """Whether a rule entry is a sentence with ``{name}`` slots rather than a formula."""
    return "{" in text


def names_in(tree: Any) -> set[str]:
    """The variable names a formula uses."""
    if isinstance(tree, Var):
        return {tree.name}
    found: set[str] = set()
    for child in _children(tree):
        found |= names_in(child)
    return found


def _children(tree: Any) -> tuple:
    if isinstance(tree, Bin):
        return (tree.left, tree.right)
    if isinstance(tree, (Neg, Post)):
        return (tree.operand,)
    if isinstance(tree, Call):
        return (tree.argument,)
    if isinstance(tree, Iverson):
        return tree.operands
    if isinstance(tree, Apply):
        return tree.arguments
    return ()


# ---- constants: the op's attributes, folded in -------------------------------------------


def substitute(tree: Any, constants: Mapping[str, Any]) -> Any:
    """Replace names by numbers (an op's ``exponent``...), fold and tidy what that leaves.

    ``None`` stands for a missing bound: −∞ where the name starts with ``low``, else ∞.
    Arithmetic on numbers alone is done (``exponent − 1`` with exponent 3 is 2), ``x^1``
    becomes ``x``, ``x^2`` becomes ``x²``, and ``1 · x`` becomes ``x``.
    """
    if isinstance(tree, Var) and tree.name in constants:
        value = constants[tree.name]
        if value is None:
            value = -math.inf if tree.name.startswith("low") else math.inf
        return Num(float(value))
    if isinstance(tree, Bin):
        left, right = substitute(tree.left, constants), substitute(tree.right, constants)
        if isinstance(left, Num) and isinstance(right, Num) and tree.op != "@":
            return Num(float(_apply(tree.op, left.value, right.value)))
        if tree.op == "^" and isinstance(right, Num):
            if right.value == 1:
                return left
            if right.value == 2:
                return Post("²", left)
        if tree.op == "·" and isinstance(left, Num) and left.value == 1:
            return right
        if tree.op in ("·", "/") and isinstance(right, Num) and right.value == 1:
            return left
        return Bin(tree.op, left, right)
    if isinstance(tree, Neg):
        operand = substitute(tree.operand, constants)
        return Num(-operand.value) if isinstance(operand, Num) else Neg(operand)
    if isinstance(tree, Post):
        return Post(tree.op, substitute(tree.operand, constants))
    if isinstance(tree, Call):
        return Call(tree.function, substitute(tree.argument, constants))
    if isinstance(tree, Iverson):
        return Iverson(tuple(substitute(o, constants) for o in tree.operands), tree.comparisons)
    if isinstance(tree, Apply):
        arguments = tuple(substitute(o, constants) for o in tree.arguments)
        return Apply(tree.label, arguments, tree.index, tree.extra)
    return tree


# ---- evaluating ------------------------------------------------------------------------------


def _sigmoid(x: Any) -> Any:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


_NUMPY_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
    "tanh": np.tanh, "σ": _sigmoid, "sign": np.sign,
}


def _apply(op: str, left: Any, right: Any) -> Any:
    if op == "+":
        return left + right
    if op == "−":
        return left - right
    if op == "·":
        return left * right
    if op == "/":
        return left / right
    if op == "^":
        return np.power(np.asarray(left, dtype=float), right)
    return np.matmul(left, right)


_COMPARE = {">": np.greater, "<": np.less, "≥": np.greater_equal, "≤": np.less_equal,
            "=": np.equal, "≠": np.not_equal}


def evaluate(tree: Any, values: Mapping[str, Any], axis: Any = None) -> Any:
    """The formula's value, with numpy, for the named ``values``; ``Σ`` sums over ``axis``."""
    with np.errstate(all="ignore"):
        return _evaluate(tree, values, axis)


def _evaluate(tree: Any, values: Mapping[str, Any], axis: Any) -> Any:
    if isinstance(tree, Num):
        return tree.value
    if isinstance(tree, Var):
        if tree.name not in values:
            raise FormulaError(f"no value for {tree.name!r}")
        return values[tree.name]
    if isinstance(tree, Neg):
        return -_evaluate(tree.operand, values, axis)
    if isinstance(tree, Bin):
        return _apply(tree.op, _evaluate(tree.left, values, axis), _evaluate(tree.right, values, axis))
    if isinstance(tree, Post):
        operand = _evaluate(tree.operand, values, axis)
        if tree.op == "²":
            return operand * operand
        operand = np.asarray(operand)
        return operand.swapaxes(-1, -2) if operand.ndim >= 2 else operand
    if isinstance(tree, Call):
        argument = _evaluate(tree.argument, values, axis)
        if tree.function == "Σ":
            return np.asarray(argument).sum(axis=axis, keepdims=True)
        return _NUMPY_FUNCTIONS[tree.function](argument)
    if not isinstance(tree, Iverson):
        raise FormulaError(f"cannot evaluate {tree!r}")
    operands = [_evaluate(o, values, axis) for o in tree.operands]
    holds = np.asarray(operands[0], dtype=bool) if not tree.comparisons else True
    for comparison, left, right in zip(tree.comparisons, operands, operands[1:]):
        holds = holds & _COMPARE[comparison](left, right)
    return np.asarray(holds, dtype=float)


# ---- writing out ----------------------------------------------------------------------------

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
