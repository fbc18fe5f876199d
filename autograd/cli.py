"""The ``chainrule`` command: draw the computation graph of an expression, or the demo.

    chainrule draw "x*y + sin(x)" --at x=2 --at y=-1 -o graph.png [--html steps.html]
    chainrule demo [-o DIR]

``draw`` reads the expression with Python's ``ast`` module and turns it into engine
calls itself: it never calls ``eval`` or ``exec``. Allowed are numbers, variable
names, ``+ - * / ** @``, unary minus, parentheses, the constants ``pi`` and ``e``, and
the functions in ``FUNCTIONS``. Anything else (attribute access, subscripts, lambdas,
imports, unknown names) is rejected with a one-line message that names the offending
piece and its column. Every mistake on the command line exits with status 2 and one
line on standard error, and leaves no file behind (files are written atomically,
and only after everything has been computed and rendered).

>>> main(["draw", "x * x", "--at", "x=3"])
f = 9
df/dx = 6
0
"""

from __future__ import annotations

import argparse
import ast
import math
import operator
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

import autograd
from autograd.tensor import Tensor
from autograd.viz import stepper
from autograd.viz.drawing import Options
from autograd.viz.render import (
    GraphvizNotFoundError,
    RenderError,
    can_render,
    format_of,
    render,
    write_atomically,
)


class UsageError(Exception):
    """A mistake on the command line: reported in one line, exit status 2."""


# ---- the expression language --------------------------------------------------------

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


def _column(text: str, node: ast.AST) -> str:
    """Where a node starts, counted in characters from 1 (ast counts UTF-8 bytes from 0)."""
    lines = text.splitlines() or [""]
    line = lines[node.lineno - 1] if node.lineno - 1 < len(lines) else ""
    column = len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "replace")) + 1
    return f"column {column}" if node.lineno == 1 else f"line {node.lineno}, column {column}"


def _piece(text: str, node: ast.AST) -> str:
    segment = ast.get_source_segment(text, node) or type(node).__name__
    segment = " ".join(segment.split())
    return repr(segment if len(segment) <= 40 else segment[:39] + "…")


def parse_expression(text: str) -> tuple[ast.Expression, list[str]]:
    """Parse and check an expression; returns the tree and its variable names (in order).

    >>> parse_expression("x * sin(y) + x")[1]
    ['x', 'y']
    >>> parse_expression("x.real")
    Traceback (most recent call last):
    ...
    autograd.cli.UsageError: attribute access is not allowed: 'x.real' (column 1)
    """
    if not text.strip():
        raise UsageError("the expression is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise UsageError(_syntax_message(text.strip(), error)) from None
    except (RecursionError, MemoryError):
        raise UsageError("the expression is nested too deeply") from None
    text = text.strip()
    problems: list[tuple[int, int, int, str]] = []  # (line, column, found, message)

    def problem(node: ast.AST, message: str) -> None:
        # the leftmost problem; at one place the outermost (found first, breadth first)
        problems.append((node.lineno, node.col_offset, len(problems), message))

    callees = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    variables: dict[str, tuple[int, int]] = {}  # name -> where it first appears
    for node in ast.walk(tree):  # breadth first, no recursion
        if isinstance(node, _STRUCTURE):
            continue
        where = f"{_piece(text, node)} ({_column(text, node)})" if hasattr(node, "lineno") else ""
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                problem(node, f"the operator {_SYMBOLS.get(type(node.op), '?')} is not allowed: {where}")
        elif isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                problem(node, f"the operator {_SYMBOLS.get(type(node.op), '?')} is not allowed: {where}")
        elif isinstance(node, ast.Call):
            _check_call(text, node, problem)
        elif isinstance(node, ast.Name):
            if id(node) in callees:
                continue  # checked with its call
            if node.id in FUNCTIONS:
                problem(node, f"{node.id} is a function: call it, as in {node.id}(x) ({_column(text, node)})")
            else:  # a variable, or the constant pi or e (which --at may redefine)
                here = (node.lineno, node.col_offset)
                variables[node.id] = min(variables.get(node.id, here), here)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                problem(node, f"only numbers are allowed as constants: {where}")
        elif type(node) in _FORBIDDEN:
            problem(node, f"{_FORBIDDEN[type(node)]} is not allowed: {where}")
        else:
            problem(node, f"{type(node).__name__} is not allowed: {where}")
    if problems:
        raise UsageError(min(problems)[3])
    ordered = sorted(variables, key=lambda name: variables[name])
    return tree, ordered


def _check_call(text: str, node: ast.Call, problem: Callable[[ast.AST, str], None]) -> None:
    if not isinstance(node.func, ast.Name):
        if type(node.func) in _FORBIDDEN:
            what = _FORBIDDEN[type(node.func)]
            where = f"{_piece(text, node.func)} ({_column(text, node.func)})"
            problem(node.func, f"{what} is not allowed: {where}")
        else:
            problem(node, f"only named functions can be called: {_piece(text, node)} ({_column(text, node)})")
        return
    name = node.func.id
    if name not in FUNCTIONS:
        known = ", ".join(sorted(FUNCTIONS))
        problem(node, f"unknown function {name!r} ({_column(text, node)}); the functions are: {known}")
        return
    if node.keywords:
        keyword = node.keywords[0]
        where = f"{_piece(text, keyword)} ({_column(text, keyword)})"
        problem(keyword, f"keyword arguments are not allowed: {where}")
        return
    fewest, most, _ = FUNCTIONS[name]
    if not fewest <= len(node.args) <= most:
        wanted = str(fewest) if fewest == most else f"{fewest} or {most}"
        problem(node, f"{name} takes {wanted} argument{'s' if most > 1 else ''}, not {len(node.args)}: "
                      f"{_piece(text, node)} ({_column(text, node)})")


def _syntax_message(text: str, error: SyntaxError) -> str:
    """Say why the text is not one expression: a statement, an import, or a typo."""
    try:
        module = ast.parse(text, mode="exec")
    except SyntaxError:
        column = f" (column {error.offset})" if error.offset else ""
        return f"not a valid expression: {error.msg}{column}"
    for statement in module.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            return f"import is not allowed: {_piece(text, statement)} ({_column(text, statement)})"
    if len(module.body) > 1:
        second = module.body[1]
        return f"only one expression is allowed: {_piece(text, second)} ({_column(text, second)}) is another"
    statement = module.body[0]
    return f"a statement is not allowed, only an expression: {_piece(text, statement)} " \
           f"({_column(text, statement)})"


def evaluate(tree: ast.Expression, variables: dict[str, Any]) -> Any:
    """Compute a checked expression with the engine (a Tensor, or a float for constants).

    Post-order with an explicit stack: a long sum ``1+1+...+1`` nests deeply, and
    nothing here recurses.
    """
    values: list[Any] = []
    stack: list[tuple[ast.AST, bool]] = [(tree.body, False)]
    with np.errstate(all="ignore"):
        while stack:
            node, children_done = stack.pop()
            children = _children(node)
            if not children_done and children:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(children))
                continue
            arguments = values[len(values) - len(children):] if children else []
            del values[len(values) - len(children):]
            values.append(_apply(node, arguments, variables))
    return values[0]


def _children(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _apply(node: ast.AST, arguments: list[Any], variables: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id in variables:
            return variables[node.id]
        return CONSTANTS[node.id]
    numbers_only = all(isinstance(a, float) for a in arguments)
    if isinstance(node, ast.BinOp):
        function = _BINARY[type(node.op)]
        if numbers_only:  # numpy arithmetic: 1/0 is inf and (-8)**0.5 is nan, as on tensors
            return float(function(np.float64(arguments[0]), np.float64(arguments[1])))
        return function(*arguments)
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](arguments[0])
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id][2](*arguments)
    raise AssertionError(f"unchecked node {type(node).__name__}")  # parse_expression rejects it


def parse_assignment(text: str) -> tuple[str, np.ndarray]:
    """``x=2``, ``x=-1.5e-3`` or ``x=[1, 2, 3]`` as a name and a float array."""
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not name.isidentifier():
        raise UsageError(f"--at {text}: expected NAME=NUMBER, as in --at x=2")
    if name in FUNCTIONS:
        raise UsageError(f"--at {text}: {name} is a function, not a variable")
    try:
        literal = ast.literal_eval(value.strip())
        array = np.asarray(literal, dtype=np.float64)
        if isinstance(literal, (bool, str, bytes)) or np.iscomplexobj(literal):
            raise TypeError
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise UsageError(f"--at {text}: the value must be a number or a list of numbers") from None
    return name, array


# ---- the commands ------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is reported in one line (and exits with status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chainrule",
        description="Draw computation graphs and backpropagation, for teaching.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    draw = commands.add_parser(
        "draw",
        help="evaluate an expression, backpropagate, print the gradients and draw the graph",
        description="Evaluate EXPR at the given point, print its value and gradients, and draw its "
        "computation graph. Functions: " + ", ".join(sorted(FUNCTIONS)) + "; constants: pi, e.",
    )
    draw.add_argument("expression", metavar="EXPR", help='a math expression, e.g. "x*y + sin(x)"')
    draw.add_argument("--at", action="append", default=[], metavar="NAME=VALUE",
                      help="the value of a variable (a number or a list like [1,2]); once per variable")
    draw.add_argument("--wrt", metavar="NAMES", help="comma-separated variables to differentiate by "
                      "(default: all); the others are drawn as data")
    draw.add_argument("--show", choices=["forward", "backward", "both"], default="both",
                      help="draw values, gradients or both (default: both)")
    draw.add_argument("-o", "--output", metavar="FILE",
                      help="write the graph to FILE (.png, .svg, .pdf or .dot)")
    draw.add_argument("--html", metavar="FILE", help="also write a step-by-step backpropagation page")
    draw.add_argument("--rankdir", choices=["LR", "TB"], default="LR",
                      help="layout: left to right (default) or top to bottom")
    demo = commands.add_parser(
        "demo",
        help="draw seed 001's DAG homework graph: forward, backward, and step by step",
        description="Write the forward and backward images and the step-by-step page of the DAG "
        "homework graph (CMU 10-601 HW5, section 2), and print its gradients.",
    )
    demo.add_argument("-o", "--output", metavar="DIR", default="chainrule-demo",
                      help="the folder to write into (default: chainrule-demo)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0, or 2 after a one-line error)."""
    arguments = build_parser().parse_args(argv)
    try:
        if arguments.command == "draw":
            return command_draw(arguments)
        return command_demo(arguments)
    except UsageError as error:
        print(f"chainrule: error: {error}", file=sys.stderr)
        return 2


def command_draw(arguments: argparse.Namespace) -> int:
    outputs = _check_outputs(arguments.output, arguments.html)
    tree, names = parse_expression(arguments.expression)
    values: dict[str, np.ndarray] = {}
    for text in arguments.at:
        name, value = parse_assignment(text)
        if name in values:
            raise UsageError(f"--at {text}: {name} is given twice")
        values[name] = value
    for name in values:
        if name not in names:
            raise UsageError(f"--at {name}=...: there is no variable {name} in the expression")
    missing = [name for name in names if name not in values and name not in CONSTANTS]
    if missing:
        node = next(n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == missing[0])
        where = _column(arguments.expression.strip(), node)
        raise UsageError(
            f"undefined variable {missing[0]!r} ({where}): give its value with --at {missing[0]}=NUMBER"
        )
    if arguments.wrt is None:
        wrt = list(values)
    else:
        wrt = [name.strip() for name in arguments.wrt.split(",") if name.strip()]
    for name in wrt:
        if name not in values:
            raise UsageError(f"--wrt {name}: there is no variable {name} in the expression")

    variables = {name: Tensor(value, requires_grad=name in wrt, name=name) for name, value in values.items()}
    try:
        result = evaluate(tree, variables)
    except (ValueError, TypeError, ArithmeticError) as error:
        raise UsageError(f"cannot evaluate the expression: {error}") from None
    result = result if isinstance(result, Tensor) else Tensor(result)
    if not any(result is variable for variable in variables.values()):
        result.name = "f"  # (the expression "x" is x itself: it keeps its name)
    if result.requires_grad and result.size != 1:
        raise UsageError(f"the value has shape {result.shape}, but gradients need one number: "
                         "wrap the expression in sum(...)")
    print(f"f = {_text(result.data)}")
    if result.requires_grad:
        result.backward(retain_graph=True)
        for name in wrt:
            grad = variables[name].grad
            print(f"df/d{name} = {_text(grad.data) if grad is not None else 0}")

    images = _render_outputs(result, arguments, outputs)
    for path, data in images:
        write_atomically(path, data)
        print(f"wrote {path}")
    return 0


def _check_outputs(output: str | None, html_path: str | None) -> list[tuple[str, str]]:
    """Check extensions and folders before any work, so a mistake costs nothing."""
    checked = []
    if output is not None:
        try:
            fmt = format_of(output)
        except ValueError as error:
            raise UsageError(f"-o {output}: {error}") from None
        checked.append((output, fmt))
    if html_path is not None:
        if Path(html_path).suffix.lower() not in (".html", ".htm"):
            raise UsageError(f"--html {html_path}: the file name must end in .html")
        checked.append((html_path, "html"))
    for path, _ in checked:
        _check_writable(path)
    return checked


def _check_writable(path: str | os.PathLike) -> None:
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {path}: the folder {folder} does not exist")
    if target.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write {path}: the folder {folder} is not writable")


def _render_outputs(result: Tensor, arguments: argparse.Namespace, outputs: list[tuple[str, str]]
                    ) -> list[tuple[str, bytes]]:
    """Render every requested file in memory first: nothing is written if one fails."""
    rendered = []
    try:
        for path, fmt in outputs:
            if fmt == "html":
                if not result.requires_grad:
                    raise UsageError("--html: nothing to backpropagate (no variable to differentiate by)")
                options = Options("both", rankdir=arguments.rankdir)
                frames = stepper.story(result, options, captions_in_graph=False)
                svgs = [render(frame.graph, "svg").decode("utf-8") for frame in frames]
                title = f"Backpropagation, step by step: f = {arguments.expression.strip()}"
                page = stepper.html_page(title, [frame.caption for frame in frames], svgs)
                rendered.append((path, page.encode("utf-8")))
            else:
                graph = autograd.draw(result, show=arguments.show, rankdir=arguments.rankdir)
                rendered.append((path, render(graph, fmt)))
    except RenderError as error:
        raise UsageError(str(error)) from None
    except ValueError as error:  # a story too long for one page
        raise UsageError(str(error)) from None
    return rendered


def command_demo(arguments: argparse.Namespace) -> int:
    from autograd.viz import demo

    folder = Path(arguments.output)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create the folder {folder}: {error.strerror or error}") from None
    _check_writable(folder / "dag_forward.svg")

    J, parameters = demo.dag_homework()
    print("Seed 001, section 2: the DAG homework graph")
    print("  J = log((y1 - ŷ1)²) + log((y2 - ŷ2)²) at x = (1, 2, -1), y = (0.9, 2.5)")
    print(f"  J = {J.item():.6g}")
    J.backward(retain_graph=True)
    for name, tensor in parameters.items():
        print(f"  dJ/d{name} = {tensor.grad.item():.6g}")
    print("  (ReLU'(0) is 0 here, as in PyTorch; the homework takes 1. At this point the ReLU's")
    print("   input is 1.1, so both conventions agree.)")

    forward = autograd.draw(J, show="forward", rankdir="TB")
    backward = autograd.draw(J, show="backward", rankdir="TB")
    files: list[tuple[str, Any, str]] = [("dag_forward", forward, "dot"), ("dag_backward", backward, "dot")]
    problem = None
    if can_render("svg"):
        files += [("dag_forward", forward, "svg"), ("dag_backward", backward, "svg")]
    if can_render("png"):
        files += [("dag_forward", forward, "png"), ("dag_backward", backward, "png")]
    written = []
    try:
        for stem, graph, fmt in files:
            written.append(write_atomically(folder / f"{stem}.{fmt}", render(graph, fmt)))
        if can_render("svg"):
            options = Options("both", rankdir="TB")
            frames = stepper.story(J, options, captions_in_graph=False)
            svgs = [render(frame.graph, "svg").decode("utf-8") for frame in frames]
            page = stepper.html_page("Backpropagation, step by step: seed 001's DAG homework",
                                     [frame.caption for frame in frames], svgs)
            written.append(write_atomically(folder / "dag_steps.html", page.encode("utf-8")))
        else:
            render(forward, "svg")  # raises the error that says what to install
    except GraphvizNotFoundError as error:
        problem = str(error)
    except (RenderError, OSError) as error:
        raise UsageError(str(error)) from None
    for path in written:
        print(f"wrote {path}")
    if problem:
        print(f"chainrule: error: images not written: {problem}", file=sys.stderr)
        return 2
    return 0


def _text(array: Any) -> str:
    array = np.asarray(array)
    if array.ndim == 0:
        return f"{array.item():.10g}"
    return np.array2string(array, precision=8, separator=", ")
