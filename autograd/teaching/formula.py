"""The local rules of ``autograd/ops`` as formulas: read and evaluate (``formula_text.py`` writes them out).

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
>>> float(evaluate(tree, {"g": 2.0, "a": 0.0}))
2.0
>>> substitute(parse("exponent − 1"), {"exponent": 3})
Num(value=2.0)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


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
