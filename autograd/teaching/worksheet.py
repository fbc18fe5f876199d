"""Worksheets with answer keys: random backpropagation exercises, reproducible from a seed.

``worksheet(seed=7, count=10, ops="mul,add,sin,sigmoid,relu", depth=4)`` makes random
expressions in the language of ``chainrule draw`` (``autograd/expression.py``), so a
student can type any question into the command and get the same graph, with the same
``v1 … vN`` names. Everything comes from a numpy ``Generator`` seeded with the seed (and
the student's number, ``student=3``): the same arguments give the same worksheet on any
machine, and each student can get a different one that the teacher regenerates at will.

Two kinds of question:

* **gradients**: the forward drawing (values filled in, gradients blank); the student
  writes ∂f/∂node for every node. The key has the filled backward drawing, a table of
  ∂f/∂node and the chain rule written out (``chain_rule_trace``), all computed by the
  engine (replayed from the recorded graph), so the key cannot be wrong; and an answers
  file per question in the format ``chainrule check --answers`` reads.
* **find the bug** (``bugs=2``): a chain-rule trace in which one line uses a wrong local
  rule (a sign dropped, the wrong factor of a product, σ without its (1 − σ)...), and
  every line after it computes correctly from the wrong number. The student names the
  line; the key says which it is, what it should be, and which later lines it spoiled.

Difficulty: ``depth`` (the longest chain of operations), ``reuse`` (a variable used
twice, so its gradient is a sum), ``relu_at_zero`` (one ReLU's input is exactly 0, to
exercise the convention: ``conventions="cmu-10601"`` takes ReLU'(0) = 1 as CMU 10-601
homework 5 does), ``vectors`` (x is a vector, broadcast against the scalars, and the
output is ``sum(...)``).

``Worksheet.save(folder)`` writes ``questions.md``/``.html``, ``answers.md``/``.html``
(the HTML self-contained: drawings inline as SVG, nothing fetched), the drawings as SVG
files for the Markdown, ``key/q01.json``... and ``worksheet.json`` (how to regenerate
it), all or nothing. ``chainrule worksheet`` does the same from the command line
(``add_worksheet_command``).

>>> sheet = worksheet(seed=7, count=2, ops="mul,add,sin", depth=2)
>>> [q.expression for q in sheet.questions] == [q.expression for q in worksheet(
...     seed=7, count=2, ops="mul,add,sin", depth=2).questions]
True
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograd.expression import UsageError, parse_expression
from autograd.expression_evaluation import evaluate
from autograd.teaching.replay import CONVENTIONS, Replay, replay
from autograd.teaching.trace import ChainRuleTrace
from autograd.teaching.worksheet_bugs import MISTAKES, Bug, make_bug
from autograd.teaching.worksheet_files import check_folder, save_files, worksheet_files
from autograd.tensors import Tensor
from autograd.viz.graph import stored_array
from autograd.viz.render import RenderError

__all__ = ["worksheet", "Worksheet", "Question", "Bug", "OPS", "MISTAKES", "add_worksheet_command",
           "command_worksheet"]

# The operations a question may use, as the expression language writes them.
UNARY = {"sin": "sin", "cos": "cos", "exp": "exp", "log": "log", "tanh": "tanh", "sigmoid": "sigmoid",
         "relu": "relu", "square": None}  # square is written a**2
BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
OPS = (*BINARY, *UNARY)
_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2}
VARIABLE_NAMES = ("x", "y", "z", "w")
VALUES = (-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0)  # friendly by hand, and exact in binary
MAX_DEPTH, MAX_COUNT, VECTOR_LENGTH = 8, 100, 3
LARGEST = 1e3  # values and gradients larger than this make a question that is redrawn
ATTEMPTS = 2000

# ---- expressions ------------------------------------------------------------------------------


@dataclass
class _Node:
    op: str | None  # None for a leaf
    children: list[_Node] = field(default_factory=list)
    leaf: str = ""  # a variable's name, or a number's text

    @property
    def height(self) -> int:
        return 0 if self.op is None else 1 + max(child.height for child in self.children)

    def nodes(self) -> Iterable[_Node]:
        yield self
        for child in self.children:
            yield from child.nodes()

    def text(self) -> str:
        if self.op is None:
            return self.leaf
        if self.op in UNARY:
            inner = self.children[0].text()
            if self.op == "square":
                atomic = self.children[0].op is None or self.children[0].op in UNARY
                return f"{inner}**2" if atomic and self.children[0].op != "square" else f"({inner})**2"
            return f"{UNARY[self.op]}({inner})"
        left, right = self.children
        mine = _PRECEDENCE[self.op]
        left_text, right_text = left.text(), right.text()
        if left.op in BINARY and _PRECEDENCE[left.op] < mine:
            left_text = f"({left_text})"
        if right.op in BINARY and _PRECEDENCE[right.op] <= mine:  # a + (b + c) stays that tree
            right_text = f"({right_text})"
        return f"{left_text} {BINARY[self.op]} {right_text}"


def _number_text(value: float) -> str:
    return repr(float(value)).removesuffix(".0")


def _random_tree(rng: np.random.Generator, depth: int, ops: Sequence[str], names: Sequence[str]) -> _Node:
    """A tree of exactly ``depth`` levels of operations along one path (the others shorter)."""
    if depth == 0:
        return _Node(None, leaf=str(rng.choice(names)))
    op = str(rng.choice(ops))
    if op in UNARY:
        child = _random_tree(rng, depth - 1, ops, names)
        if child.op == op and len(ops) > 1:  # not relu(relu(x)) nor sin(sin(x)): draw again
            return _random_tree(rng, depth, ops, names)
        return _Node(op, [child])
    deep = _random_tree(rng, depth - 1, ops, names)
    other = _random_tree(rng, int(rng.integers(0, depth)), ops, names)
    return _Node(op, [deep, other] if rng.random() < 0.5 else [other, deep])


def _relu_at_zero(rng: np.random.Generator, tree: _Node, names: Sequence[str], values: dict[str, np.ndarray],
                  scalars: Sequence[str]) -> bool:
    """Replace a subtree of height 3 by ``relu(u ∘ v − c)`` whose input is exactly 0."""
    spots = [child for node in tree.nodes() if node.op != "relu"
             for child in node.children if child.height == 3]
    spots += [tree] if tree.height == 3 else []  # (not relu(relu(...)))
    if not spots or not scalars:
        return False
    u, v = (str(rng.choice(scalars)) for _ in range(2))
    op = str(rng.choice(("mul", "add", "sub")))
    a, b = float(values[u]), float(values[v])
    c = {"mul": a * b, "add": a + b, "sub": a - b}[op]
    if c == 0:
        return False
    inner = _Node(op, [_Node(None, leaf=u), _Node(None, leaf=v)])
    shifted = _Node("sub" if c > 0 else "add", [inner, _Node(None, leaf=_number_text(abs(c)))])
    spot = spots[int(rng.integers(len(spots)))]
    spot.op, spot.children, spot.leaf = "relu", [shifted], ""
    return True


# ---- questions ----------------------------------------------------------------------------------


@dataclass
class Question:
    """One question of a worksheet, with everything its key needs.

    Attributes:
        number: from 1.
        kind: ``"gradients"`` or ``"find-the-bug"``.
        expression: the text, as ``chainrule draw`` reads it.
        values: the point, variable name → value (a float array).
        output: the result ``f``, a Tensor whose graph is the question's.
        replay: the engine's backward pass on it (under the worksheet's conventions).
        trace: the chain rule written out (for a find-the-bug question, the version with the bug).
        bug: the bug, for a find-the-bug question.
    """

    number: int
    kind: str
    expression: str
    values: dict[str, np.ndarray]
    output: Tensor
    replay: Replay
    trace: ChainRuleTrace
    conventions: str | None = None
    bug: Bug | None = None

    @property
    def answers(self) -> dict[str, Any]:
        """∂f/∂node for every node with a gradient, in backward order (JSON-ready numbers or lists)."""
        return {self.replay.name(t): np.asarray(self.replay.gradients[t]).tolist() for t in self.replay.order}

    def at_arguments(self) -> list[str]:
        """``["x=1.5", "y=[1, -2, 0.5]"]``: the ``--at`` values of the command line."""
        def text(value: np.ndarray) -> str:
            if value.ndim == 0:
                return _number_text(value.item())
            return "[" + ", ".join(_number_text(v) for v in value.tolist()) + "]"
        return [f"{name}={text(value)}" for name, value in self.values.items()]

    def command(self, verb: str = "draw", *extra: str) -> str:
        """The command line that draws (or checks, traces) this question."""
        ats = " ".join(f"--at {a}" if " " not in a else f"--at '{a}'" for a in self.at_arguments())
        conventions = f" --conventions {self.conventions}" if self.conventions and verb != "draw" else ""
        return f'chainrule {verb} "{self.expression}" {ats}{conventions}' + "".join(f" {e}" for e in extra)

    def correct_trace(self) -> ChainRuleTrace:
        """The chain rule written out without a bug."""
        return ChainRuleTrace(self.output, self.conventions) if self.bug is not None else self.trace


def build_question(expression: str, values: dict[str, Any], number: int = 1,
                   conventions: str | None = None) -> Question:
    """A gradients question for ``expression`` at ``values``, built as ``chainrule draw`` builds it."""
    tree, names = parse_expression(expression)
    rank = {name: k for k, name in enumerate(VARIABLE_NAMES)}
    order = sorted(names, key=lambda n: (rank.get(n, len(rank)), n))
    arrays = {name: np.asarray(values[name], dtype=np.float64) for name in order}
    variables = {name: Tensor(arrays[name], requires_grad=True, name=name) for name in names}
    with np.errstate(all="ignore"):
        result = evaluate(tree, variables, expression)
    result = result if isinstance(result, Tensor) else Tensor(result)
    if not any(result is variable for variable in variables.values()):
        result.name = "f"
    played = replay(result, conventions)
    return Question(number, "gradients", expression, arrays, result, played,
                    ChainRuleTrace(result, conventions), conventions)


def _acceptable(question: Question, depth: int, reuse: bool) -> bool:
    """Finite, not too large, not trivial; a variable used twice if asked."""
    played = question.replay
    numbers = [np.asarray(stored_array(t)) for t in played.view.tensors] + list(played.gradients.values())
    if any(not np.all(np.isfinite(n)) or np.any(np.abs(n) > LARGEST) for n in numbers):
        return False
    leaves = [t for t in played.order if t.grad_fn is None]
    if all(np.all(np.asarray(played.gradients[t]) == 0) for t in leaves):
        return False  # every answer would be 0
    if reuse and not any(len(played.received.get(t, [])) > 1 for t in leaves):
        return False
    return True


# ---- the worksheet ---------------------------------------------------------------------------------


@dataclass
class Worksheet:
    """Questions and their keys; ``save(folder)`` writes them (see the module).

    Attributes:
        questions: the questions, gradients first, then find-the-bug.
        settings: the arguments that made it (``worksheet(**settings)`` makes it again).
        title: the heading of both files.
    """

    questions: list[Question]
    settings: dict[str, Any]
    title: str

    def files(self) -> list[tuple[str, bytes]]:
        """Every file of the worksheet as (path relative to its folder, bytes), made in memory."""
        return worksheet_files(self)

    def save(self, folder: str | os.PathLike) -> list[Path]:
        """Write the files into ``folder`` (made if missing): all of them or, on a failure, none."""
        return save_files(Path(folder), self.files())

    def command(self) -> str:
        """The ``chainrule worksheet`` command that makes this worksheet again (without ``-o``)."""
        settings, words = self.settings, ["chainrule worksheet"]
        for key in ("seed", "student", "count", "bugs", "depth", "variables", "conventions"):
            if settings[key] is not None:
                words.append(f"--{key} {settings[key]}")
        words.append("--ops " + ",".join(settings["ops"]))
        words += [flag for flag, on in (("--no-reuse", not settings["reuse"]),
                                        ("--relu-at-zero", settings["relu_at_zero"]),
                                        ("--vectors", settings["vectors"])) if on]
        if settings["title"] != _default_title(settings["student"]):
            words.append("--title " + shlex.quote(settings["title"]))
        return " ".join(words)

    def __repr__(self) -> str:
        kinds = [q.kind for q in self.questions]
        return (f"<Worksheet {self.title!r}: {kinds.count('gradients')} gradient questions, "
                f"{kinds.count('find-the-bug')} find-the-bug>")


def worksheet(
    seed: int = 0,
    count: int = 10,
    *,
    ops: str | Sequence[str] = ("mul", "add", "sin", "sigmoid", "relu"),
    depth: int = 3,
    student: int | None = None,
    bugs: int = 0,
    variables: int = 2,
    reuse: bool = True,
    relu_at_zero: bool = False,
    vectors: bool = False,
    conventions: str | None = None,
    title: str | None = None,
) -> Worksheet:
    """Random backpropagation questions with engine-computed keys, the same for the same arguments.

    Args:
        seed: the worksheet's seed; with ``student`` (a number per student) each student
            gets a different worksheet, made again from the same two numbers.
        count: how many gradient questions; ``bugs``: how many find-the-bug questions after them.
        ops: the operations to use, from ``OPS`` (a list or ``"mul,add,sin"``); ``square``
            is ``a**2``.
        depth: the longest chain of operations from a variable to the output (1 to 8;
            the ``sum`` of a vector question is not counted).
        variables: how many variables (x, y, z, w) the questions draw from.
        reuse: every question uses a variable twice, so its gradient is a sum.
        relu_at_zero: one ReLU's input is exactly 0 (needs depth ≥ 3): its derivative there
            is the course's convention.
        vectors: x is a vector of 3 broadcast against the scalars; the output is ``sum(...)``.
        conventions: ``None`` (the engine's, ReLU'(0) = 0) or ``"cmu-10601"`` (ReLU'(0) = 1).
        title: the heading.

    Raises:
        ValueError: an argument out of range or an unknown op (the message says which).
    """
    chosen = _check_settings(seed, count, ops, depth, student, bugs, variables, relu_at_zero, vectors,
                             conventions)
    rng = np.random.default_rng([seed] if student is None else [seed, student])
    names = VARIABLE_NAMES[:variables]
    questions: list[Question] = []
    for number in range(1, count + bugs + 1):
        question = _draw_question(rng, number, chosen, depth, names, reuse, relu_at_zero, vectors,
                                  conventions, bug=number > count)
        questions.append(question)
    settings = dict(seed=seed, count=count, ops=list(chosen), depth=depth, student=student, bugs=bugs,
                    variables=variables, reuse=reuse, relu_at_zero=relu_at_zero, vectors=vectors,
                    conventions=conventions)
    if title is None:
        title = _default_title(student)
    return Worksheet(questions, {**settings, "title": title}, title)


def _default_title(student: int | None) -> str:
    return "Backpropagation worksheet" + (f", student {student}" if student is not None else "")


def _check_settings(seed: Any, count: Any, ops: Any, depth: Any, student: Any, bugs: Any, variables: Any,
                    relu_at_zero: bool, vectors: bool, conventions: Any) -> tuple[str, ...]:
    def whole(name: str, value: Any, low: int, high: int | None = None) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (
                high is not None and value > high):
            limit = f"from {low} to {high}" if high is not None else f"≥ {low}"
            raise ValueError(f"{name} must be a whole number {limit}, not {value!r}")

    whole("seed", seed, 0)
    whole("count", count, 0, MAX_COUNT)
    whole("bugs", bugs, 0, MAX_COUNT)
    whole("depth", depth, 1, MAX_DEPTH)
    whole("variables", variables, 1, len(VARIABLE_NAMES))
    if student is not None:
        whole("student", student, 0)
    if count + bugs == 0:
        raise ValueError("a worksheet needs at least one question: count or bugs ≥ 1")
    chosen = tuple(o.strip() for o in (ops.split(",") if isinstance(ops, str) else ops) if o.strip())
    unknown = [o for o in chosen if o not in OPS]
    if unknown or not chosen:
        raise ValueError(f"unknown op {unknown[0]!r}" if unknown else "no ops given"
                         f"; the ops are: {', '.join(OPS)}")
    if relu_at_zero and depth < 3:
        raise ValueError("relu_at_zero needs depth ≥ 3 (the ReLU's input is u∘v − c)")
    if relu_at_zero and vectors and variables < 2:
        raise ValueError("relu_at_zero with vectors needs 2 variables or more (the ReLU's input is scalar)")
    if conventions is not None and conventions not in CONVENTIONS:
        raise ValueError(f"unknown conventions {conventions!r}; use one of {', '.join(CONVENTIONS)}")
    return tuple(dict.fromkeys(chosen))


def _draw_question(rng: np.random.Generator, number: int, ops: Sequence[str], depth: int,
                   names: Sequence[str], reuse: bool, relu_at_zero: bool, vectors: bool,
                   conventions: str | None, bug: bool) -> Question:
    reuse = reuse and (depth > 1 or len(names) == 1)
    for _ in range(ATTEMPTS):
        values = {name: np.asarray(rng.choice(VALUES)) for name in names}
        if vectors:
            values[names[0]] = rng.choice(VALUES, size=VECTOR_LENGTH)
        tree = _random_tree(rng, depth, ops, names)
        if relu_at_zero and not _relu_at_zero(rng, tree, names, values, names[1:] if vectors else names):
            continue
        text = tree.text()
        used = [name for name in names if any(n.leaf == name for n in tree.nodes())]
        if vectors:
            if names[0] not in used:
                continue
            text = f"sum({text})"
        point = {name: values[name] for name in used}
        question = build_question(text, point, number)
        if not _acceptable(question, depth, reuse):  # (judged by the engine's conventions, so that
            continue                                # the questions are the same under any)
        if conventions is not None:
            question = build_question(text, point, number, conventions)
        if bug:
            question.kind = "find-the-bug"
            question.bug = make_bug(rng, question)
            if question.bug is None:
                continue
        return question
    raise ValueError(f"could not make question {number} from ops {', '.join(ops)} at depth {depth} in "
                     f"{ATTEMPTS} tries: allow more ops or another depth")


# ---- the command ---------------------------------------------------------------------------------


def add_worksheet_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``chainrule worksheet`` on an argparse subparsers object; its handler is
    ``command_worksheet`` (also set as the parser's default ``handler``)."""
    command = subparsers.add_parser(
        "worksheet",
        help="write a worksheet of random backpropagation questions and its answer key",
        description="Write random backpropagation questions (expressions chainrule draw reads) and their "
        "keys, computed by the engine: questions.md/.html (forward drawings, gradients blank), "
        "answers.md/.html (backward drawings, a table of df/dnode, the chain rule written out), "
        "key/qNN.json for chainrule check --answers, and worksheet.json. The same --seed (and "
        "--student) gives the same worksheet. Ops: " + ", ".join(OPS) + ".",
    )
    command.add_argument("-o", "--output", metavar="DIR", default="worksheet",
                         help="the folder to write into, made if missing (default: worksheet)")
    command.add_argument("--seed", type=int, default=0, help="the worksheet's seed (default 0)")
    command.add_argument("--student", type=int, default=None,
                         help="a student's number: a different worksheet per student, same seed")
    command.add_argument("--count", type=int, default=10, help="gradient questions (default 10)")
    command.add_argument("--bugs", type=int, default=0,
                         help="find-the-bug questions after them: a trace with one wrong local rule")
    command.add_argument("--ops", default="mul,add,sin,sigmoid,relu",
                         help="comma-separated operations (default mul,add,sin,sigmoid,relu)")
    command.add_argument("--depth", type=int, default=3, help="the longest chain of operations (default 3)")
    command.add_argument("--variables", type=int, default=2,
                         help="how many variables: x, y, z, w (default 2)")
    command.add_argument("--reuse", action=argparse.BooleanOptionalAction, default=True,
                         help="a variable used twice in every question (default: yes)")
    command.add_argument("--relu-at-zero", action="store_true",
                         help="one ReLU's input is exactly 0, to exercise the convention")
    command.add_argument("--vectors", action="store_true",
                         help="x is a vector broadcast against the scalars; the output is sum(...)")
    command.add_argument("--conventions", choices=sorted(CONVENTIONS), default=None,
                         help="derivative conventions of a course: cmu-10601 takes ReLU'(0) = 1")
    command.add_argument("--title", default=None, help="the heading of the worksheet")
    command.set_defaults(handler=command_worksheet)
    return command


def command_worksheet(arguments: argparse.Namespace) -> int:
    """Make and write the worksheet; 0, or 2 after one line on standard error (nothing written)."""

    try:
        check_folder(Path(arguments.output))
        sheet = worksheet(arguments.seed, arguments.count, ops=arguments.ops, depth=arguments.depth,
                          student=arguments.student, bugs=arguments.bugs, variables=arguments.variables,
                          reuse=arguments.reuse, relu_at_zero=arguments.relu_at_zero,
                          vectors=arguments.vectors, conventions=arguments.conventions, title=arguments.title)
        paths = sheet.save(arguments.output)
    except (ValueError, UsageError, RenderError, OSError) as error:
        message = " ".join(str(error).split())
        print(f"chainrule: error: {message}", file=sys.stderr)
        return 2
    stale = _stale_files(Path(arguments.output), paths)
    kinds = [q.kind for q in sheet.questions]
    same = "--seed and --student" if arguments.student is not None else "--seed and options"
    print(f"{sheet.title}: {kinds.count('gradients')} gradient questions, {kinds.count('find-the-bug')} "
          f"find-the-bug (the same {same} make it again: worksheet.json)")
    print(f"wrote {len(paths)} files into {arguments.output}: questions.md/.html, answers.md/.html, key/, "
          "worksheet.json")
    if stale:
        shown = ", ".join(stale[:6]) + (f" and {len(stale) - 6} more" if len(stale) > 6 else "")
        print(f"note: {arguments.output} also holds files of an earlier worksheet, not replaced: {shown}")
    return 0


def _stale_files(folder: Path, written: Sequence[Path]) -> list[str]:
    """Files like figures/q12-forward.svg or key/q12.json that this run did not write."""
    kept = {Path(path).resolve() for path in written}
    stale = []
    for sub, pattern in (("figures", r"q\d+-(forward|backward)\.svg"), ("key", r"q\d+\.json")):
        if (folder / sub).is_dir():
            stale += sorted(f"{sub}/{p.name}" for p in (folder / sub).iterdir()
                            if re.fullmatch(pattern, p.name) and p.resolve() not in kept)
    return stale
