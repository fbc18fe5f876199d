"""The ``chainrule check`` and ``chainrule trace`` subcommands (the teaching tools on the command
line); ``autograd/cli.py`` adds them to its parser and runs them.

``check`` exits with status 0 when every answer is right and 1 when one is wrong, after
printing the report (``autograd.teaching.check_gradients``); the answers file is a JSON
object from node names (the variables, ``f`` for the result, and the ``v1 … vN`` that
``chainrule draw`` prints) to numbers or lists of numbers. ``trace`` writes the forward and
reverse traces (``autograd.teaching.chain_rule_trace``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

from autograd.command_inputs import check_outputs, check_writable, evaluate_command
from autograd.expression import UsageError, normalize_name
from autograd.files import write_files_atomically
from autograd.teaching.check import check_gradients
from autograd.teaching.replay import CONVENTIONS
from autograd.teaching.trace import chain_rule_trace
from autograd.viz.render import RenderError, render

__all__ = ["add_teaching_commands", "command_check", "command_trace", "TRACE_FORMATS"]

TRACE_FORMATS = ("text", "markdown", "latex")


def add_teaching_commands(commands: argparse._SubParsersAction,
                          add_expression_arguments: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``check`` and ``trace`` to the ``chainrule`` subcommands."""
    check = commands.add_parser(
        "check",
        help="check hand-derived gradients of an expression: where is the first mistake?",
        description="Evaluate EXPR at the given point and check the gradients in the answers file "
        "against the engine's, in backward order: the first wrong answer is where the mistake is, and "
        "later ones that follow from it are marked so. Exit status 0: all right; 1: a wrong answer "
        "(the report says which and why); 2: bad input.",
    )
    add_expression_arguments(check)
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
    add_expression_arguments(trace)
    trace.add_argument("--format", choices=list(TRACE_FORMATS), default="text",
                       help="text (default), markdown (tables) or latex (align*, needs amsmath)")
    trace.add_argument("--conventions", choices=sorted(CONVENTIONS), default=None,
                       help="derivative conventions of a course: cmu-10601 takes ReLU'(0) = 1")
    trace.add_argument("-o", "--output", metavar="FILE",
                       help="write the trace to FILE instead of printing it")


MAX_ANSWERS_BYTES = 10_000_000  # an answers file larger than this is refused, not read


def command_check(arguments: argparse.Namespace) -> int:
    outputs = check_outputs(arguments.output, None)
    for label, value in (("--rtol", arguments.rtol), ("--atol", arguments.atol)):
        if not value >= 0 or not math.isfinite(value):
            raise UsageError(f"{label} must be a finite number ≥ 0, not {value}")
    answers = _read_answers(arguments.answers)
    result, _, _, notes = evaluate_command(arguments)
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
        try:
            numbers = _is_numbers(value)
        except RecursionError:  # Python 3.13's json reads deeper lists than _is_numbers can walk
            raise UsageError(f"{where}: the JSON is nested too deeply") from None
        if not numbers:
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


def command_trace(arguments: argparse.Namespace) -> int:
    if arguments.output is not None:
        check_writable(arguments.output)
    result, _, _, notes = evaluate_command(arguments)
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
