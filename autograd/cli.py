"""The ``chainrule`` command: draw the computation graph of an expression, check hand-derived
gradients, write the chain rule out, or the demo.

    chainrule draw "x*y + sin(x)" --at x=2 --at y=-1 -o graph.png [--html steps.html]
    chainrule check "x*y + sin(x)" --at x=2 --at y=-1 --answers answers.json [-o report.svg]
    chainrule trace "x*y + sin(x)" --at x=2 --at y=-1 [--format text|markdown|latex] [-o FILE]
    chainrule demo [-o DIR]
    chainrule worksheet [-o DIR] [--seed N] ...   (autograd/teaching/worksheet.py)

``check`` and ``trace`` live in ``autograd/teaching/commands.py``.

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
import codecs
import contextlib
import os
import re
import sys
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np

import autograd
from autograd.command_inputs import check_outputs, evaluate_command
from autograd.expression import (
    CONSTANTS,
    FUNCTIONS,
    UsageError,
    parse_assignment,
    parse_expression,
)
from autograd.expression_evaluation import RELU_AT_ZERO, evaluate, non_finite
from autograd.files import write_files_atomically
from autograd.teaching.commands import add_teaching_commands, command_check, command_trace
from autograd.teaching.worksheet import add_worksheet_command
from autograd.tensors import Tensor
from autograd.viz import stepper
from autograd.viz.drawing import MIN_NODES, Options
from autograd.viz.render import RenderError, render

__all__ = ["main", "build_parser", "UsageError", "FUNCTIONS", "CONSTANTS", "parse_expression",
           "parse_assignment", "evaluate"]

# Said after the gradients when no file is asked for, on a terminal (not into a pipe or a script)
HOW_TO_DRAW = "(to draw it: -o graph.svg, or .png/.pdf; --html steps.html for backpropagation step by step)"
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
    parser.add_argument("--version", action="version", version=f"chainrule {autograd.__version__}")
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
    draw.add_argument("-o", "--output", metavar="FILE", action="append", default=[],
                      help="write the graph to FILE (.png, .svg, .pdf, .dot or .tex); may be given "
                      "more than once, as in -o graph.svg -o graph.png")
    draw.add_argument("--html", metavar="FILE", help="also write a step-by-step backpropagation page")
    draw.add_argument("--rankdir", choices=["LR", "TB"], default="LR",
                      help="layout: left to right (default) or top to bottom")
    draw.add_argument("--no-legend", dest="legend", action="store_false",
                      help="leave out the legend that explains the colours")
    draw.add_argument("--max-nodes", type=int, default=Options.max_nodes, metavar="N",
                      help=f"the most nodes to draw (default {Options.max_nodes}); larger graphs are "
                      "collapsed into boxes, and --html needs the whole graph to fit")
    add_teaching_commands(commands, _add_expression_arguments)
    demo = commands.add_parser(
        "demo",
        help="draw the DAG homework graph of CMU 10-601 homework 5: forward, backward, and step by step",
        description="Write the forward and backward images and the step-by-step page of the DAG "
        "homework graph (CMU 10-601 HW5, section 2), and print its gradients.",
    )
    demo.add_argument("-o", "--output", metavar="DIR", default="chainrule-demo",
                      help="the folder to write into (default: chainrule-demo)")
    register_worksheet_command(commands)
    return parser


def register_worksheet_command(commands: argparse._SubParsersAction) -> None:
    """``chainrule worksheet`` (``autograd/teaching/worksheet.py``): its parser sets the
    ``handler`` that ``main`` calls."""
    add_worksheet_command(commands)


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
    _never_fail_on_encoding()
    try:
        with _numpy_warnings_hidden():
            arguments = build_parser().parse_args(argv)
            handler = getattr(arguments, "handler", None)  # a subcommand added by register_*_command
            if handler is not None:
                return handler(arguments)
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


# What a console that cannot show a character gets instead (others: without accent, or ?).
_ASCII_NAMES = {"ŷ": "yhat", "∂": "d", "²": "^2", "³": "^3", "θ": "theta", "σ": "sigma", "≈": "~",
                "×": "*", "−": "-", "→": "->", "…": "...", "≥": ">=", "≤": "<=", "·": "*", "⋯": "..."}


def _replace_unencodable(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: ŷ → y (the letter without its accent), anything else → ?."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    pieces = []
    for character in error.object[error.start:error.end]:
        plain = _ASCII_NAMES.get(character) or "".join(
            c for c in unicodedata.normalize("NFKD", character) if not unicodedata.combining(c))
        try:
            plain.encode(error.encoding)
        except UnicodeError:
            plain = "?"
        pieces.append(plain or "?")
    return "".join(pieces), error.end


codecs.register_error("chainrule.replace", _replace_unencodable)


def _never_fail_on_encoding() -> None:
    """A console that cannot show ŷ or ∂ (Windows cp1252, piped) gets y and ?, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding in ("utf8", "utf8sig") or not hasattr(stream, "reconfigure"):
            continue
        with contextlib.suppress(ValueError, OSError, AttributeError):
            stream.reconfigure(errors="chainrule.replace")


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


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
    outputs = check_outputs(arguments.output, arguments.html)
    if arguments.max_nodes < MIN_NODES:
        raise UsageError(f"--max-nodes {arguments.max_nodes}: draw at least {MIN_NODES} nodes")
    result, variables, wrt, notes = evaluate_command(arguments)
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
    if not outputs and _is_terminal(sys.stdout):
        print(HOW_TO_DRAW)
    return 0


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
                options = Options("both", rankdir=arguments.rankdir, max_nodes=arguments.max_nodes,
                                  legend=arguments.legend)
                rendered.append((path, stepper.backprop_page(result, title, options)))
            else:
                graph = autograd.draw(result, show=arguments.show, rankdir=arguments.rankdir,
                                      max_nodes=arguments.max_nodes, legend=arguments.legend)
                rendered.append((path, render(graph, fmt)))
    except RenderError as error:
        raise UsageError(str(error)) from None
    except ValueError as error:  # a story too long for one page, or a graph too big for it
        message = str(error).replace("raise max_nodes", "raise --max-nodes").replace(
            "or draw() the whole graph instead", "or draw the whole graph with -o instead of --html")
        raise UsageError(f"{'--html' if fmt == 'html' else '-o'} {path}: {message}") from None
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
    print(f"  ({RELU_AT_ZERO}.")
    print("   At this point the ReLU's input is 1.1, so both conventions agree.)")

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
    print(f"Open {folder / 'dag_steps.html'} in a browser first: it walks backpropagation through the "
          "graph one step at a time (the arrow keys step); dag_backward.svg is the whole graph after it.")
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
