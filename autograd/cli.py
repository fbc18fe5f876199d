"""The ``chainrule`` command: draw the computation graph of an expression, check hand-derived
gradients, write the chain rule out, or the demo.

    chainrule draw "x*y + sin(x)" --at x=2 --at y=-1 -o graph.png [--html steps.html]
    chainrule check "x*y + sin(x)" --at x=2 --at y=-1 --answers answers.json [-o report.svg]
    chainrule trace "x*y + sin(x)" --at x=2 --at y=-1 [--format text|markdown|latex] [-o FILE]
    chainrule demo [-o DIR]

``check`` exits with status 0 when every answer is right and 1 when one is wrong, after
printing the report (``autograd.teaching.check_gradients``); the answers file is a JSON
object from node names (the variables, ``f`` for the result, and the ``v1 … vN`` that
``chainrule draw`` prints) to numbers or lists of numbers.

``draw``, ``check`` and ``trace`` read the expression with Python's ``ast`` module and turns it into engine
calls itself (``autograd/expression.py``): it never calls ``eval`` or ``exec``. Allowed
are numbers, variable names, ``+ - * / ** @``, unary minus, parentheses, the constants
``pi`` and ``e``, and the functions in ``FUNCTIONS``. Anything else (attribute access,
subscripts, lambdas, imports, unknown names) is rejected with a one-line message that
names the offending piece and its column. Sizes are bounded (``expression.MAX_LENGTH``
and the other limits there), so a hostile command line is refused quickly.

Every mistake or failure exits with status 2 and one line on standard error, never a
traceback; Ctrl-C exits with status 130 and the line "chainrule: interrupted". Output
files are all or nothing: everything is computed and rendered in memory first, then
all files are written to temporary files, and only when every one is complete are
they renamed into place. A value that is infinite or nan is not an error, but a note
on standard output says where it first appeared (numpy's warnings are not shown).

>>> main(["draw", "x * x", "--at", "x=3"])
f = 9
df/dx = 6
0
>>> main(["draw", "-log(x)", "--at", "x=0"])
f = inf
df/dx = -inf
note: 'log(x)' is -inf (column 2)
note: df/dx is -inf
0
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np

import autograd
from autograd.expression import (
    CONSTANTS,
    FUNCTIONS,
    MAX_VARIABLES,
    UsageError,
    column_of,
    evaluate,
    non_finite,
    normalize_name,
    parse_assignment,
    parse_expression,
)
from autograd.teaching.check import check_gradients
from autograd.teaching.replay import CONVENTIONS
from autograd.teaching.trace import chain_rule_trace
from autograd.tensor import Tensor
from autograd.viz import stepper
from autograd.viz.drawing import Options
from autograd.viz.render import (
    RenderError,
    format_of,
    render,
    write_files_atomically,
)

__all__ = ["main", "build_parser", "UsageError", "FUNCTIONS", "CONSTANTS", "parse_expression",
           "parse_assignment", "evaluate"]

INTERRUPTED = 130  # the exit status of a program stopped by Ctrl-C (128 + SIGINT)


# ---- the commands ------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is reported in one line (and exits with status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# argparse reads an argument that starts with "-" as an option unless it looks like a
# negative number, which it tests with this attribute (all the options are checked
# first, so -o and --at still work). Widening the test lets "-log(x)" or "-x" be the
# expression. Kept out: what looks like a long option, "--" and a word ("--outptu" is
# reported as an unknown option, not read as the expression).
_NOT_AN_OPTION = re.compile(r"-(?!-[A-Za-z][\w-]*$)")


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
    _add_expression_arguments(draw)
    draw.add_argument("--show", choices=["forward", "backward", "both"], default="both",
                      help="draw values, gradients or both (default: both)")
    draw.add_argument("-o", "--output", metavar="FILE",
                      help="write the graph to FILE (.png, .svg, .pdf or .dot)")
    draw.add_argument("--html", metavar="FILE", help="also write a step-by-step backpropagation page")
    draw.add_argument("--rankdir", choices=["LR", "TB"], default="LR",
                      help="layout: left to right (default) or top to bottom")
    check = commands.add_parser(
        "check",
        help="check hand-derived gradients of an expression: where is the first mistake?",
        description="Evaluate EXPR at the given point and check the gradients in the answers file "
        "against the engine's, in backward order: the first wrong answer is where the mistake is, and "
        "later ones that follow from it are marked so. Exit status 0: all right; 1: a wrong answer "
        "(the report says which and why); 2: bad input.",
    )
    _add_expression_arguments(check)
    check.add_argument("--answers", required=True, metavar="FILE",
                       help='a JSON file: {"x": 2.5, "v1": -1, "f": 1, ...}, node name to your value of '
                       "df/dnode (a number, or a list for a vector); - reads standard input")
    check.add_argument("--conventions", choices=sorted(CONVENTIONS), default=None,
                       help="derivative conventions of a course: cmu-10601 takes ReLU'(0) = 1 (CMU 10-601 "
                       "homework 5); default: the engine's (PyTorch's, ReLU'(0) = 0)")
    check.add_argument("--rtol", type=float, default=1e-3, help="relative tolerance (default 1e-3)")
    check.add_argument("--atol", type=float, default=1e-6, help="absolute tolerance (default 1e-6)")
    check.add_argument("-o", "--output", metavar="FILE",
                       help="also draw the verdicts on the graph into FILE (.png, .svg, .pdf or .dot)")
    check.add_argument("--rankdir", choices=["LR", "TB"], default="LR",
                       help="layout of the drawing: left to right (default) or top to bottom")
    trace = commands.add_parser(
        "trace",
        help="write the chain rule out: the forward (primal) and reverse (adjoint) traces",
        description="Evaluate EXPR at the given point and write its forward trace (one line per "
        "node) and its reverse trace (one line per edge, each local rule with names and numbers), "
        "as the tables of Baydin et al.'s survey of automatic differentiation.",
    )
    _add_expression_arguments(trace)
    trace.add_argument("--format", choices=list(TRACE_FORMATS), default="text",
                       help="text (default), markdown (tables) or latex (align*, needs amsmath)")
    trace.add_argument("--conventions", choices=sorted(CONVENTIONS), default=None,
                       help="derivative conventions of a course: cmu-10601 takes ReLU'(0) = 1")
    trace.add_argument("-o", "--output", metavar="FILE",
                       help="write the trace to FILE instead of printing it")
    demo = commands.add_parser(
        "demo",
        help="draw the DAG homework graph of CMU 10-601 homework 5: forward, backward, and step by step",
        description="Write the forward and backward images and the step-by-step page of the DAG "
        "homework graph (CMU 10-601 HW5, section 2), and print its gradients.",
    )
    demo.add_argument("-o", "--output", metavar="DIR", default="chainrule-demo",
                      help="the folder to write into (default: chainrule-demo)")
    return parser


def _add_expression_arguments(command: argparse.ArgumentParser) -> None:
    command._negative_number_matcher = _NOT_AN_OPTION
    command.add_argument("expression", metavar="EXPR",
                         help='a math expression, e.g. "x*y + sin(x)" (it may start with -, as in "-log(x)")')
    command.add_argument("--at", action="append", default=[], metavar="NAME=VALUE",
                         help="the value of a variable (a number or a list like [1,2]); once per variable")
    command.add_argument("--wrt", metavar="NAMES", help="comma-separated variables to differentiate by "
                         "(default: all); the others are drawn as data")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0; 1 when ``check`` finds a wrong answer; 2 after
    a one-line error; 130 on Ctrl-C)."""
    try:
        with _numpy_warnings_hidden():
            arguments = build_parser().parse_args(argv)
            if arguments.command == "draw":
                return command_draw(arguments)
            if arguments.command == "check":
                return command_check(arguments)
            if arguments.command == "trace":
                return command_trace(arguments)
            return command_demo(arguments)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return INTERRUPTED
    except (UsageError, OSError) as error:  # OSError: a WriteError names the file; or a closed pipe
        return _fail(str(error))
    except MemoryError:
        return _fail("out of memory")
    except Exception as error:  # a bug: still one line, saying so
        return _fail(f"unexpected {type(error).__name__}: {error} (a bug in chainrule: please report it)")


def _fail(message: str) -> int:
    print(f"chainrule: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


@contextlib.contextmanager
def _numpy_warnings_hidden() -> Iterator[None]:
    """No numpy warning (with its internal file path) reaches the user: notes say it instead."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def command_draw(arguments: argparse.Namespace) -> int:
    outputs = _check_outputs(arguments.output, arguments.html)
    result, variables, wrt, notes = _evaluate_command(arguments)
    print(f"f = {_text(result.data)}")
    if result.requires_grad:
        result.backward(retain_graph=True)
        for name in wrt:
            grad = variables[name].grad
            print(f"df/d{name} = {_text(grad.data) if grad is not None else 0}")
            if grad is not None and non_finite(grad.data):
                notes.append(f"df/d{name} {non_finite(grad.data)}")
    for note in notes:
        print(f"note: {note}")

    files = _render_outputs(result, arguments, outputs)
    for path in write_files_atomically(files):
        print(f"wrote {path}")
    return 0


def _evaluate_command(arguments: argparse.Namespace
                      ) -> tuple[Tensor, dict[str, Tensor], list[str], list[str]]:
    """EXPR at the --at values: the result (named f), the variables, the --wrt names, notes."""
    text = arguments.expression.strip()
    tree, names = parse_expression(text)
    values = _read_values(arguments.at, names)
    missing = [name for name in names if name not in values and name not in CONSTANTS]
    if missing:
        node = next(n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == missing[0])
        raise UsageError(f"undefined variable {missing[0]!r} ({column_of(text, node)}): "
                         f"give its value with --at {missing[0]}=NUMBER")
    if arguments.wrt is None:
        wrt = list(values)
    else:
        wrt = []
        for written in (name.strip() for name in arguments.wrt.split(",") if name.strip()):
            if normalize_name(written) not in values:
                raise UsageError(f"--wrt {written}: there is no variable {written} in the expression")
            wrt.append(normalize_name(written))

    variables = {name: Tensor(value, requires_grad=name in wrt, name=name) for name, value in values.items()}
    notes: list[str] = []
    try:
        result = evaluate(tree, variables, text, notes)
    except (ValueError, TypeError, ArithmeticError) as error:
        raise UsageError(f"cannot evaluate the expression: {error}") from None
    result = result if isinstance(result, Tensor) else Tensor(result)
    if not any(result is variable for variable in variables.values()):
        result.name = "f"  # (the expression "x" is x itself: it keeps its name)
    if result.requires_grad and result.size != 1:
        raise UsageError(f"the value has shape {result.shape}, but gradients need one number: "
                         "wrap the expression in sum(...)")
    return result, variables, wrt, notes


MAX_ANSWERS_BYTES = 10_000_000  # an answers file larger than this is refused, not read


def command_check(arguments: argparse.Namespace) -> int:
    outputs = _check_outputs(arguments.output, None)
    for label, value in (("--rtol", arguments.rtol), ("--atol", arguments.atol)):
        if not value >= 0 or not math.isfinite(value):
            raise UsageError(f"{label} must be a finite number ≥ 0, not {value}")
    answers = _read_answers(arguments.answers)
    result, _, _, notes = _evaluate_command(arguments)
    if not result.requires_grad:
        raise UsageError("nothing to check: no variable to differentiate by (see --wrt)")
    try:
        report = check_gradients(result, answers, rtol=arguments.rtol, atol=arguments.atol,
                                 conventions=arguments.conventions)
    except KeyError as error:
        raise UsageError(f"--answers {arguments.answers}: {error.args[0]}") from None
    except (TypeError, ValueError) as error:
        raise UsageError(f"--answers {arguments.answers}: {error}") from None
    files = []
    if outputs:
        path, fmt = outputs[0]
        try:
            files.append((path, render(report.draw(rankdir=arguments.rankdir), fmt)))
        except RenderError as error:
            raise UsageError(str(error)) from None
    print(report)
    for note in notes:
        print(f"note: {note}")
    for path in write_files_atomically(files):
        print(f"wrote {path}")
    return 0 if report.ok else 1


def _read_answers(source: str) -> dict[str, object]:
    """The answers file as a dict of name → number or nested list; one-line errors."""
    where = f"--answers {source}"
    try:
        if source == "-":
            data = sys.stdin.buffer.read(MAX_ANSWERS_BYTES + 1)
        else:
            if Path(source).is_dir():
                raise UsageError(f"{where}: it is a folder, not a file")
            with open(source, "rb") as handle:
                data = handle.read(MAX_ANSWERS_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{where}: no such file") from None
    except OSError as error:
        raise UsageError(f"{where}: cannot read it: {error.strerror or error}") from None
    if len(data) > MAX_ANSWERS_BYTES:
        raise UsageError(f"{where}: the file is larger than {MAX_ANSWERS_BYTES:,} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(f"{where}: not UTF-8 text (byte {error.start})") from None

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        seen: dict[str, object] = {}
        for key, value in pairs:
            name = normalize_name(key)
            if name in seen:
                raise UsageError(f"{where}: {key!r} is given twice")
            seen[name] = value
        return seen

    try:
        answers = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as error:
        raise UsageError(f"{where}: not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
                         ) from None
    except RecursionError:
        raise UsageError(f"{where}: the JSON is nested too deeply") from None
    if not isinstance(answers, dict):
        raise UsageError(f'{where}: the file must hold a JSON object, like {{"x": 2.5, "v1": -1}}')
    if not answers:
        raise UsageError(f"{where}: there are no answers in the file")
    for name, value in answers.items():
        if not _is_numbers(value):
            raise UsageError(f"{where}: the answer for {name} must be a number or a list of numbers")
    return answers


def _is_numbers(value: object) -> bool:
    """A JSON number (not true/false, not an integer too large for a float) or a list of them."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) < 2**1023
    if isinstance(value, float):
        return True
    return isinstance(value, list) and all(_is_numbers(item) for item in value)


TRACE_FORMATS = ("text", "markdown", "latex")


def command_trace(arguments: argparse.Namespace) -> int:
    if arguments.output is not None:
        _check_writable(arguments.output)
    result, _, _, notes = _evaluate_command(arguments)
    if not result.requires_grad:
        raise UsageError("nothing to trace: no variable to differentiate by (see --wrt)")
    text = chain_rule_trace(result, arguments.format, conventions=arguments.conventions)
    if arguments.output is None:
        print(text)
    for note in notes:
        print(f"note: {note}")
    if arguments.output is not None:
        for path in write_files_atomically([(arguments.output, (text + "\n").encode("utf-8"))]):
            print(f"wrote {path}")
    return 0


def _read_values(assignments: list[str], names: list[str]) -> dict[str, np.ndarray]:
    """The --at values by variable name (NFKC-normalised, as Python reads the expression)."""
    if len(assignments) > MAX_VARIABLES:
        raise UsageError(f"--at is given {len(assignments):,} times; the most is {MAX_VARIABLES}")
    in_expression = set(names)
    values: dict[str, np.ndarray] = {}
    for text in assignments:
        name, value = parse_assignment(text)
        if name in values:
            raise UsageError(f"--at {text}: {name} is given twice")
        if name not in in_expression:
            written = text.partition("=")[0].strip()
            raise UsageError(f"--at {written}=...: there is no variable {written} in the expression")
        values[name] = value
    return values


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
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"cannot write {path}: {folder} is a file, not a folder")
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
                title = f"Backpropagation, step by step: f = {arguments.expression.strip()}"
                options = Options("both", rankdir=arguments.rankdir)
                rendered.append((path, stepper.backprop_page(result, title, options)))
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
    _check_folder_can_be_made(folder)

    J, parameters = demo.dag_homework()
    print("CMU 10-601 homework 5, section 2: the DAG homework graph")
    print("  J = log((y1 - ŷ1)²) + log((y2 - ŷ2)²) at x = (1, 2, -1), y = (0.9, 2.5)")
    print(f"  J = {J.item():.6g}")
    J.backward(retain_graph=True)
    for name, tensor in parameters.items():
        print(f"  dJ/d{name} = {tensor.grad.item():.6g}")
    print("  (ReLU'(0) is 0 here, as in PyTorch; the homework takes 1. At this point the ReLU's")
    print("   input is 1.1, so both conventions agree.)")

    try:
        files, problem = demo.demo_files(J)
    except RenderError as error:
        raise UsageError(str(error)) from None
    created = _make_folder(folder)
    try:
        written = write_files_atomically([(folder / name, data) for name, data in files])
    except BaseException:
        _remove_folders(created)  # leave no empty folder behind
        raise
    for path in written:
        print(f"wrote {path}")
    if problem:
        return _fail(f"images not written: {problem}")
    return 0


def _check_folder_can_be_made(folder: Path) -> None:
    """The folder is a writable folder, or can be made in the nearest one that exists."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"cannot create the folder {folder}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK):
        raise UsageError(f"cannot write into {folder}: the folder {existing} is not writable")


def _make_folder(folder: Path) -> list[Path]:
    """Make the folder and any missing parents; returns the ones made, outermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    missing.reverse()
    for number, made in enumerate(missing):
        try:
            made.mkdir()
        except OSError as error:
            _remove_folders(missing[:number])
            raise UsageError(f"cannot create the folder {made}: {error.strerror or error}") from None
    return missing


def _remove_folders(folders: list[Path]) -> None:
    """Remove folders this run made (innermost first), if they are still empty."""
    for made in reversed(folders):
        with contextlib.suppress(OSError):
            made.rmdir()


def _text(array: np.ndarray) -> str:
    array = np.asarray(array)
    if array.ndim == 0:
        return f"{array.item():.10g}"
    return np.array2string(array, precision=8, separator=", ")
