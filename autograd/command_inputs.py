"""What the ``chainrule`` commands read and check before any work: the expression at its
``--at`` values (``evaluate_command``) and the output paths (``check_outputs``).

``draw`` (``autograd/cli.py``) and ``check`` and ``trace`` (``autograd/teaching/commands.py``)
share these, so they sit below both: neither command module imports the other.
"""

from __future__ import annotations

import argparse
import ast
import os
from pathlib import Path

import numpy as np

from autograd.expression import (
    CONSTANTS,
    MAX_VARIABLES,
    UsageError,
    column_of,
    normalize_name,
    parse_assignment,
    parse_expression,
)
from autograd.expression_evaluation import evaluate
from autograd.tensors import Tensor
from autograd.viz.render import format_of


def evaluate_command(arguments: argparse.Namespace
                      ) -> tuple[Tensor, dict[str, Tensor], list[str], list[str]]:
    """EXPR at the --at values: the result (named f), the variables, the --wrt names, notes."""
    text = arguments.expression.strip()
    tree, names = parse_expression(text)
    values = read_values(arguments.at, names)
    missing = [name for name in names if name not in values and name not in CONSTANTS]
    if len(missing) == 1:
        node = next(n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == missing[0])
        raise UsageError(f"undefined variable {missing[0]!r} ({column_of(text, node)}): "
                         f"give its value with --at {missing[0]}=NUMBER")
    if missing:
        raise UsageError(f"{len(missing)} variables have no value: {', '.join(missing)}; give them with "
                         + " ".join(f"--at {name}=NUMBER" for name in missing))
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


def read_values(assignments: list[str], names: list[str]) -> dict[str, np.ndarray]:
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


def check_outputs(output: str | list[str] | None, html_path: str | None) -> list[tuple[str, str]]:
    """Check extensions and folders before any work, so a mistake costs nothing."""
    checked = []
    for path in [output] if isinstance(output, str) else output or []:
        try:
            fmt = format_of(path)
        except ValueError as error:
            raise UsageError(f"-o {path}: {error}") from None
        if any(Path(path).resolve() == Path(other).resolve() for other, _ in checked):
            raise UsageError(f"-o {path} is given twice")
        checked.append((path, fmt))
    if html_path is not None:
        if Path(html_path).suffix.lower() not in (".html", ".htm"):
            raise UsageError(f"--html {html_path}: the file name must end in .html")
        checked.append((html_path, "html"))
    for path, _ in checked:
        check_writable(path)
    return checked


def check_writable(path: str | os.PathLike) -> None:
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
