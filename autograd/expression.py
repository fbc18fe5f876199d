"""The expression language of ``chainrule draw``: read safely, check, and compute with the engine.

An expression is read with Python's ``ast`` module and computed by walking the tree:
nothing is ever passed to ``eval`` or ``exec``. Allowed are numbers, variable names,
``+ - * / ** @``, unary minus and plus, parentheses, the constants ``pi`` and ``e``, and
the functions in ``FUNCTIONS``. Anything else (attribute access, subscripts, lambdas,
imports, unknown names) is a ``UsageError`` whose one-line message names the offending
piece and its column.

Every input is bounded, so that a hostile or mistaken command line costs at most a
second or two and a few hundred megabytes before it is refused (the limits are below).
Checking is linear in the length of the expression, and so is computing it: nothing
here recurses, so a long sum ``x+x+...+x`` (which Python reads as deeply nested
``((x+x)+x)+...``) cannot overflow the stack.

>>> tree, names = parse_expression("x * sin(y) + x")
>>> names
['x', 'y']

``expression_evaluation.py`` computes a checked expression with the engine.
"""

from __future__ import annotations

import ast
import collections
import difflib
import math
import operator
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd

# ---- limits ---------------------------------------------------------------------------
# Far beyond anything a lesson needs, and small enough that refusing or computing
# takes a second or two.

MAX_LENGTH = 100_000  # characters in an expression, or in the text of one --at value
MAX_DEPTH = 1_000  # levels of nesting; a chain a+b+c+... nests one level per operator
MAX_VARIABLES = 100  # different variables in one expression
MAX_VALUE_ELEMENTS = 10_000  # numbers in one --at value
MAX_TOTAL_ELEMENTS = 10_000_000  # numbers in all the values computed, together (80 MB)
MAX_EXPONENT = 10_000  # largest |exponent| that does not depend on a variable: 9**9**9 is refused


class UsageError(Exception):
    """A mistake on the command line: reported in one line, exit status 2."""


TOO_DEEP = (f"the expression is nested too deeply: at most {MAX_DEPTH:,} levels (Python reads "
            "a+b+c as (a+b)+c, so a long chain of operators nests too: group it with parentheses)")

SLOPE_MUST_BE_A_NUMBER = ("the slope of leaky_relu must be a number, as in leaky_relu(x, 0.1), "
                          "not depend on a variable")

# name -> (fewest arguments, most arguments, the engine function)
FUNCTIONS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "sin": (1, 1, autograd.sin),
    "cos": (1, 1, autograd.cos),
    "exp": (1, 1, autograd.exp),
    "log": (1, 1, autograd.log),
    "sqrt": (1, 1, autograd.sqrt),
    "abs": (1, 1, autograd.abs),
    "tanh": (1, 1, autograd.tanh),
    "sigmoid": (1, 1, autograd.sigmoid),
    "relu": (1, 1, autograd.relu),
    "softplus": (1, 1, autograd.softplus),
    "leaky_relu": (1, 2, autograd.leaky_relu),
    "sum": (1, 1, autograd.sum),
    "mean": (1, 1, autograd.mean),
    "logsumexp": (1, 1, autograd.logsumexp),
    "softmax": (1, 1, autograd.softmax),
    "log_softmax": (1, 1, autograd.log_softmax),
    "max": (1, 2, lambda a, b=None: autograd.max(a) if b is None else autograd.maximum(a, b)),
    "min": (1, 2, lambda a, b=None: autograd.min(a) if b is None else autograd.minimum(a, b)),
    "maximum": (2, 2, autograd.maximum),
    "minimum": (2, 2, autograd.minimum),
    "matmul": (2, 2, autograd.matmul),
    "dot": (2, 2, autograd.matmul),
}
CONSTANTS = {"pi": math.pi, "e": math.e}
_MATRIX_PRODUCTS = ("matmul", "dot")

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.MatMult: operator.matmul,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_SYMBOLS = {ast.Mod: "%", ast.FloorDiv: "//", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
            ast.BitXor: "^", ast.BitAnd: "&", ast.Not: "not", ast.Invert: "~"}
# What to call a piece of Python that is not part of the language (for error messages).
_FORBIDDEN = {
    ast.Attribute: "attribute access",
    ast.Subscript: "a subscript",
    ast.Slice: "a slice",
    ast.Lambda: "lambda",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "a conditional expression",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.NamedExpr: "an assignment expression",
    ast.Starred: "a starred argument",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
# Parts of other nodes, checked with them (or inside a node that is rejected anyway).
_STRUCTURE = (ast.Expression, ast.Load, ast.operator, ast.unaryop, ast.arguments, ast.arg,
              ast.keyword, ast.comprehension, ast.expr_context, ast.cmpop, ast.boolop)


# ---- where a piece is, for messages ---------------------------------------------------
# Each of these reads the whole text, so they are called only to report a problem
# (once), never for every node: that would make checking quadratic in the length.


def column_of(text: str, node: ast.AST) -> str:
    """Where a node starts, counted in characters from 1 (ast counts UTF-8 bytes from 0)."""
    lines = text.splitlines() or [""]
    line = lines[node.lineno - 1] if node.lineno - 1 < len(lines) else ""
    column = len(line.encode("utf-8", "replace")[: node.col_offset].decode("utf-8", "replace")) + 1
    return f"column {column}" if node.lineno == 1 else f"line {node.lineno}, column {column}"


def _piece(text: str, node: ast.AST) -> str:
    segment = ast.get_source_segment(text, node) or type(node).__name__
    segment = " ".join(segment.split())
    return repr(segment if len(segment) <= 40 else segment[:39] + "…")


def _where(text: str, node: ast.AST) -> str:
    """The piece and its place, as in ``'x.real' (column 1)``."""
    return f"{_piece(text, node)} ({column_of(text, node)})"


# ---- checking ---------------------------------------------------------------------------


def parse_expression(text: str) -> tuple[ast.Expression, list[str]]:
    """Parse and check an expression; returns the tree and its variable names (in order).

    >>> parse_expression("x * sin(y) + x")[1]
    ['x', 'y']
    >>> parse_expression("x.real")
    Traceback (most recent call last):
    ...
    autograd.expression.UsageError: attribute access is not allowed: 'x.real' (column 1)
    """
    if len(text) > MAX_LENGTH:
        raise UsageError(f"the expression is {len(text):,} characters long; the most is {MAX_LENGTH:,}")
    text = text.strip()
    if not text:
        raise UsageError("the expression is empty")
    tree = _parse(text)

    # (line, column, order found, node, message maker): the leftmost problem is reported,
    # and at one place the outermost (found first, breadth first). Messages are made
    # only for the one reported.
    problems: list[tuple[int, int, int, ast.AST, Callable[[ast.AST], str]]] = []

    def problem(node: ast.AST, message: Callable[[ast.AST], str]) -> None:
        problems.append((node.lineno, node.col_offset, len(problems), node, message))

    callees: set[int] = set()  # the names called, checked with their calls
    inside_slope: dict[int, ast.AST] = {}  # node -> the leaky_relu slope it is part of
    variables: dict[str, tuple[int, int]] = {}  # name -> where it first appears
    todo = collections.deque([(tree.body, 1)])  # breadth first, no recursion: parents first
    while todo:
        node, depth = todo.popleft()
        if depth > MAX_DEPTH:
            raise UsageError(TOO_DEEP)
        children = _subnodes(node)
        todo.extend((child, depth + 1) for child in children)
        slope = inside_slope.get(id(node))
        if slope is not None:
            inside_slope.update((id(child), slope) for child in children)
        if isinstance(node, _STRUCTURE):
            continue
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                problem(node, lambda n: f"the operator {_SYMBOLS.get(type(n.op), '?')} is not allowed: "
                                        f"{_where(text, n)}{_operator_hint(n)}")
        elif isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                problem(node, lambda n: f"the operator {_SYMBOLS.get(type(n.op), '?')} is not allowed: "
                                        f"{_where(text, n)}")
        elif isinstance(node, ast.Call):
            callees.add(id(node.func))
            _check_call(text, node, problem)
            if _is_call_to(node, "leaky_relu") and len(node.args) == 2 and slope is None:
                inside_slope[id(node.args[1])] = node.args[1]
        elif isinstance(node, ast.Name):
            if id(node) in callees:
                continue  # checked with its call
            if node.id in FUNCTIONS:
                problem(node, lambda n: f"{n.id} is a function: call it, as in {n.id}(x) "
                                        f"({column_of(text, n)})")
            elif slope is not None and node.id not in CONSTANTS:
                problem(slope, lambda n: f"{SLOPE_MUST_BE_A_NUMBER}: {_where(text, n)}")
            else:  # a variable, or the constant pi or e (which --at may redefine)
                here = (node.lineno, node.col_offset)
                variables[node.id] = min(variables.get(node.id, here), here)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                problem(node, lambda n: f"only numbers are allowed as constants: {_where(text, n)}")
        elif type(node) in _FORBIDDEN:
            problem(node, lambda n: f"{_FORBIDDEN[type(n)]} is not allowed: {_where(text, n)}")
        else:
            problem(node, lambda n: f"{type(n).__name__} is not allowed: {_where(text, n)}")
    if problems:
        *_, node, message = min(problems, key=lambda found: found[:3])
        raise UsageError(message(node))
    if len(variables) > MAX_VARIABLES:
        raise UsageError(f"the expression has {len(variables):,} variables; the most is {MAX_VARIABLES}")
    ordered = sorted(variables, key=lambda name: variables[name])
    return tree, ordered


def _parse(text: str) -> ast.Expression:
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise UsageError(_syntax_message(text, error)) from None
    except (RecursionError, MemoryError):  # Python's parser has limits of its own
        raise UsageError(TOO_DEEP) from None
    except ValueError as error:  # a character that is not text (half of a surrogate pair)
        raise UsageError(f"not a valid expression: {error}") from None


def _subnodes(node: ast.AST) -> tuple[ast.AST, ...]:
    """The nodes inside ``node`` that need checking: ``ast.iter_child_nodes`` without an
    operator's symbol (``ast.Add``, checked with its parent) or a name's ``ast.Load``, so that
    ``MAX_DEPTH`` counts levels of nesting only."""
    if isinstance(node, ast.BinOp):
        return node.left, node.right
    if isinstance(node, ast.UnaryOp):
        return (node.operand,)
    if isinstance(node, ast.Call):
        return node.func, *node.args, *node.keywords
    if isinstance(node, (ast.Name, ast.Constant)):
        return ()
    return tuple(ast.iter_child_nodes(node))


def _is_call_to(node: ast.Call, name: str) -> bool:
    return isinstance(node.func, ast.Name) and node.func.id == name


def _check_call(text: str, node: ast.Call, problem: Callable[..., None]) -> None:
    if not isinstance(node.func, ast.Name):
        if type(node.func) in _FORBIDDEN:
            problem(node.func, lambda n: f"{_FORBIDDEN[type(n)]} is not allowed: {_where(text, n)}")
        else:
            problem(node, lambda n: f"only named functions can be called: {_where(text, n)}")
        return
    name = node.func.id
    if name not in FUNCTIONS:
        known = ", ".join(sorted(FUNCTIONS))
        guess = did_you_mean(name)
        hint = f"did you mean {guess}? " if guess else ""
        problem(node, lambda n: f"unknown function {name!r} ({column_of(text, n)}); "
                                f"{hint}the functions are: {known}")
        return
    if node.keywords:
        problem(node.keywords[0], lambda n: f"keyword arguments are not allowed: {_where(text, n)}")
        return
    fewest, most, _ = FUNCTIONS[name]
    if not fewest <= len(node.args) <= most:
        wanted = str(fewest) if fewest == most else f"{fewest} or {most}"
        problem(node, lambda n: f"{name} takes {wanted} argument{'s' if most > 1 else ''}, "
                                f"not {len(n.args)}: {_where(text, n)}")


# What students write for the functions here (other spellings are matched by difflib).
_FUNCTION_ALIASES = {"ln": "log", "sigma": "sigmoid", "sig": "sigmoid", "logistic": "sigmoid",
                     "σ": "sigmoid", "fabs": "abs", "absolute": "abs",
                     "ReLU": "relu", "Relu": "relu", "th": "tanh"}
_NUMBER_THEN_NAME = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)([A-Za-z_]\w*)")


def did_you_mean(name: str) -> str | None:
    """The function a student probably meant by an unknown name: ``tahn`` → ``tanh``.

    >>> did_you_mean("tahn"), did_you_mean("ln"), did_you_mean("sigma"), did_you_mean("zzz")
    ('tanh', 'log', 'sigmoid', None)
    """
    if name in _FUNCTION_ALIASES:
        return _FUNCTION_ALIASES[name]
    if name.lower() in FUNCTIONS:
        return name.lower()
    close = difflib.get_close_matches(name.lower(), FUNCTIONS, n=1, cutoff=0.7)
    return close[0] if close else None


def _operator_hint(node: ast.BinOp) -> str:
    """What a student meant by ``^`` (a power, as in maths) or ``%``."""
    if isinstance(node.op, ast.BitXor):
        return "; use ** for powers, as in x**2"
    return ""


def _syntax_message(text: str, error: SyntaxError) -> str:
    """Say why the text is not one expression: a statement, an import, or a typo."""
    try:
        module = ast.parse(text, mode="exec")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        column = f" (column {error.offset})" if error.offset else ""
        implicit = _NUMBER_THEN_NAME.search(text)
        if implicit:  # 2x, 3.5sin(x): multiplication is written out
            number, name = implicit.groups()
            return (f"not a valid expression: {implicit.group()!r} (column {implicit.start() + 1}): "
                    f"write {number}*{name} to multiply")
        return f"not a valid expression: {error.msg}{column}"
    for statement in module.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            return f"import is not allowed: {_where(text, statement)}"
    if len(module.body) > 1:
        return f"only one expression is allowed: {_where(text, module.body[1])} is another"
    return f"a statement is not allowed, only an expression: {_where(text, module.body[0])}"


# ---- values of variables ----------------------------------------------------------------


def normalize_name(name: str) -> str:
    """A variable name as Python reads it in an expression: NFKC-normalised (``ﬁ`` is ``fi``)."""
    return unicodedata.normalize("NFKC", name.strip())


def parse_assignment(text: str) -> tuple[str, np.ndarray]:
    """``x=2``, ``x=-1.5e-3`` or ``x=[1, 2, 3]`` as a name and a float array.

    >>> parse_assignment("ℌ=[1, 2]")   # the name as Python reads it in the expression
    ('H', array([1., 2.]))
    """
    written, equals, value = text.partition("=")
    name = normalize_name(written)
    if not equals or not written.strip().isidentifier() or not name.isidentifier():
        raise UsageError(f"--at {text}: expected NAME=NUMBER, as in --at x=2")
    if name in FUNCTIONS:
        raise UsageError(f"--at {text}: {name} is a function, not a variable")
    if len(value) > MAX_LENGTH:
        raise UsageError(f"--at {written.strip()}=...: the value is {len(value):,} characters long; "
                         f"the most is {MAX_LENGTH:,}")
    try:
        literal = ast.literal_eval(value.strip())
        numbers = np.asarray(literal)
        if numbers.dtype.kind not in "iuf":  # not bool, complex, text or a ragged list
            raise TypeError
        array = numbers.astype(np.float64)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, OverflowError):
        raise UsageError(f"--at {text}: the value must be a number or a list of numbers") from None
    if array.size > MAX_VALUE_ELEMENTS:
        raise UsageError(f"--at {written.strip()}=...: the value has {array.size:,} numbers; "
                         f"the most is {MAX_VALUE_ELEMENTS:,}")
    if not np.all(np.isfinite(array)):
        raise UsageError(f"--at {text}: the value is too large for a float (it would be infinite)")
    return name, array
