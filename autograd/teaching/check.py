"""Check a student's hand-derived gradients, and say where the first mistake is.

``check_gradients(J, {"v12": 0.5, "m22": -0.506})`` compares each answer with the
gradient the engine computes (replayed from the recorded values: no ``.grad`` is
touched) and walks the answers in the engine's backward order. A gradient depends only
on gradients that come before it in that order, so the **first** wrong answer is where
a mistake was made; a later wrong answer that is exactly what the chain rule gives from
the student's own earlier answers *follows from* it, and is marked so, while a later
answer that is wrong even given the student's earlier answers is another mistake.

For the first mistake the report writes the chain rule out, with the graph's names and
then with numbers: which tensors use the node, the local rule of each (from the op's
``rule``, the text next to its ``backward``) and the upstream values it combines.

>>> from autograd import Tensor
>>> x = Tensor(2.0, requires_grad=True, name="x")
>>> y = Tensor(3.0, requires_grad=True, name="y")
>>> f = x * y
>>> f.name = "f"
>>> report = check_gradients(f, {"x": 3.0, "y": 3.0})
>>> report.ok, report.first_error.name
(False, 'y')
>>> print(report.first_error.explanation()[0])
∂f/∂y = ∂f/∂f · x
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd.teaching.formula_text import render
from autograd.teaching.replay import CONVENTIONS, Replay, forward_formula, replay
from autograd.teaching.trace import edge_texts
from autograd.tensors import Tensor
from autograd.viz.graph import stored_array
from autograd.viz.labels import format_index, format_number, summarize

RIGHT, WRONG, FOLLOWS = "right", "wrong", "follows"
SMALL = 4  # arrays with at most this many values are written out in explanations


@dataclass
class AnswerCheck:
    """One answer, checked.

    Attributes:
        name: the node's name, as the drawings print it.
        tensor: the node.
        given: the student's value (an array).
        expected: the engine's ∂output/∂node (under the report's conventions).
        status: ``"right"``; ``"wrong"`` (a mistake made at this node); or
            ``"follows"`` (wrong, but what the chain rule gives from the student's own
            earlier answers: a consequence of an earlier mistake).
        index: for a tensor node, the first wrong index (None for a scalar or a right answer).
        wrong_count: how many entries are wrong.
        from_your_answers: what the chain rule gives here from the student's earlier answers.
        follows_from: for ``"follows"``, the names of the earlier wrong answers it came from.
        shape_problem: set when the answer's shape is not the node's.
    """

    name: str
    tensor: Tensor
    given: np.ndarray
    expected: np.ndarray
    status: str
    index: tuple | None = None
    wrong_count: int = 0
    from_your_answers: np.ndarray | None = None
    follows_from: list[str] = field(default_factory=list)
    shape_problem: str | None = None
    report: GradientReport | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == RIGHT

    def values(self) -> tuple[str, str]:
        """(given, expected) as short text: at the first wrong index for a tensor."""
        if self.index is not None and self.shape_problem is None:
            return format_number(self.given[self.index]), format_number(self.expected[self.index])
        return _short(self.given), _short(self.expected)

    def explanation(self) -> list[str]:
        """The chain rule that gives the expected value: symbols, then numbers, then the result."""
        return self.report._explain(self.tensor) if self.report is not None else []


@dataclass
class GradientReport:
    """The verdict on a set of answers; ``str(report)`` is the readable text.

    Attributes:
        output_name: the output's name (``J``).
        checks: every answer, in the engine's backward order.
        conventions: which derivative conventions the expected values follow.
        unanswered: names of nodes that have a gradient but no answer.
        hint: a note when the answers are right under a course's conventions instead.
    """

    output_name: str
    checks: list[AnswerCheck]
    conventions: str
    unanswered: list[str]
    replay: Replay = field(repr=False)
    hint: str | None = None

    @property
    def ok(self) -> bool:
        """True when every answer is right."""
        return all(check.ok for check in self.checks)

    @property
    def first_error(self) -> AnswerCheck | None:
        """The first wrong answer in backward order: where the first mistake was made."""
        return next((check for check in self.checks if not check.ok), None)

    @property
    def right(self) -> list[AnswerCheck]:
        return [check for check in self.checks if check.ok]

    @property
    def consequences(self) -> list[AnswerCheck]:
        """Wrong answers that follow from an earlier mistake."""
        return [check for check in self.checks if check.status == FOLLOWS]

    @property
    def other_mistakes(self) -> list[AnswerCheck]:
        """Wrong answers after the first that are mistakes of their own."""
        first = self.first_error
        return [check for check in self.checks if check.status == WRONG and check is not first]

    def __str__(self) -> str:
        return _report_text(self)

    def __repr__(self) -> str:
        first = self.first_error
        verdict = "all right" if first is None else f"first wrong: {first.name}"
        count = len(self.checks)
        return f"<GradientReport: {count} answer{'' if count == 1 else 's'}, {verdict}>"

    def draw(self, **draw_options: Any) -> Any:
        """The graph with the verdicts: right green, the first mistake red with both values,
        answers that follow from it grey (see ``autograd.teaching.check_drawing``).

        ``draw_options`` are ``autograd.draw``'s (``rankdir="TB"``...). Returns a
        ``graphviz.Digraph``: ``autograd.save_graph(report.draw(), "report.svg")`` writes it.
        """
        from autograd.teaching.check_drawing import draw_report

        return draw_report(self, **draw_options)

    def _symbol(self, tensor: Tensor) -> str:
        return f"∂{self.output_name}/∂{self.replay.name(tensor)}"

    def _explain(self, tensor: Tensor) -> list[str]:
        return explain(self.replay, tensor, self._symbol)


# ---- the check --------------------------------------------------------------------------------


def check_gradients(
    output: Tensor,
    answers: Mapping[Any, Any],
    *,
    rtol: float = 1e-3,
    atol: float = 1e-6,
    conventions: str | Mapping[str, float] | None = None,
) -> GradientReport:
    """Check hand-computed gradients ∂output/∂node against the engine's.

    Args:
        output: the tensor differentiated (usually the loss ``J``); for one with several
            entries, the gradients are those of their sum (as ``output.sum().backward()``).
        answers: node name → the student's value of ∂output/∂node: a number, or an
            array (a nested list) of the node's shape. Names are tensors' ``name``s and
            the ``v1 … vN`` (``p1``, ``d1``, ``out``) that ``autograd.draw`` prints for
            unnamed tensors; a Tensor itself may be a key too.
        rtol, atol: an answer is right where ``|given − expected| ≤ atol + rtol·|expected|``
            (numpy's ``isclose``): three significant digits by default.
        conventions: ``None`` (the engine's, PyTorch's), ``"cmu-10601"`` (CMU 10-601
            homework 5: ReLU'(0) = 1), or a dict such as ``{"relu_grad_at_0": 1}``
            (``autograd.teaching.CONVENTION_KEYS`` lists the choices). The engine itself
            is not changed.

    Returns:
        a ``GradientReport``: ``ok``, ``first_error``, ``str(report)``, ``draw()``.

    Raises:
        KeyError: a name that is not a node with a gradient; the message lists the valid ones.
        TypeError: an answer that is not a number or an array of numbers.
        ValueError: ``output`` needs no gradient; bad tolerances or conventions.
    """
    for label, tolerance in (("rtol", rtol), ("atol", atol)):
        if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) or not tolerance >= 0:
            raise ValueError(f"{label} must be a number ≥ 0, not {tolerance!r}")
    if not isinstance(answers, Mapping):
        raise TypeError(f"answers must be a dict of node name → value, not {type(answers).__name__}")
    result = replay(output, conventions)
    by_tensor = _resolve(result, answers)
    report = GradientReport(result.name(output), [], result.conventions.description, [], result)
    believed: dict[Tensor, np.ndarray] = {}  # the student's answer where given, else what follows from them
    wrong_sources: dict[Tensor, list[str]] = {}  # the wrong answers a node's belief came from
    for tensor in result.order:
        expected = np.asarray(result.gradients[tensor])
        edges = result.received.get(tensor, [])
        if tensor is output:
            from_yours, sources = np.ones_like(expected), []
        else:
            from_yours = sum(result.local(edge, believed[edge.consumer]) for edge in edges)
            sources = []
            for edge in edges:
                for name in wrong_sources.get(edge.consumer, []):
                    if name not in sources:
                        sources.append(name)
        from_yours = np.asarray(from_yours, dtype=float)
        if tensor not in by_tensor:
            believed[tensor] = from_yours
            wrong_sources[tensor] = sources
            report.unanswered.append(result.name(tensor))
            continue
        given = by_tensor[tensor]
        check = _compare(result.name(tensor), tensor, given, expected, from_yours, rtol, atol)
        check.report = report
        if check.status != RIGHT and check.status != WRONG:
            check.follows_from = sources
        report.checks.append(check)
        if check.shape_problem is None:
            believed[tensor] = given.reshape(expected.shape)
        else:
            believed[tensor] = from_yours
        wrong_sources[tensor] = {RIGHT: [], WRONG: [check.name], FOLLOWS: sources}[check.status]
    if not report.ok and conventions is None:
        report.hint = _convention_hint(output, answers, rtol, atol)
    return report


def _convention_hint(output: Tensor, answers: Mapping[Any, Any], rtol: float, atol: float) -> str | None:
    """Say so when the answers are all right under a course's conventions (ReLU'(0) = 1...)."""
    for name, (description, choices) in CONVENTIONS.items():
        if not choices:
            continue
        if check_gradients(output, answers, rtol=rtol, atol=atol, conventions=name).ok:
            return (f"Note: all your answers are right under the conventions of {description}; the engine "
                    f"follows PyTorch's. Check with conventions={name!r} (chainrule check --conventions "
                    f"{name}) if your course defines them so.")
    return None


def _resolve(result: Replay, answers: Mapping[Any, Any]) -> dict[Tensor, np.ndarray]:
    """Answers by tensor, each an array of floats; clear errors for unknown names or values."""
    by_name: dict[str, list[Tensor]] = {}
    for tensor in result.order:
        by_name.setdefault(result.name(tensor), []).append(tensor)
    resolved: dict[Tensor, np.ndarray] = {}
    for key, value in answers.items():
        if isinstance(key, Tensor):
            if key not in result.gradients:
                raise KeyError(f"that tensor has no gradient in the graph of {result.name(result.output)}")
            tensor = key
        else:
            name = str(key)
            if name not in by_name:
                raise KeyError(_unknown_name(result, name, sorted(by_name, key=_natural)))
            if len(by_name[name]) > 1:
                raise KeyError(f"{len(by_name[name])} nodes are named {name!r}: give them different names "
                               "(tensor.name = ...) to check them")
            tensor = by_name[name][0]
        resolved[tensor] = _as_array(key if not isinstance(key, Tensor) else result.name(key), value)
    return resolved


def _unknown_name(result: Replay, name: str, valid: list[str]) -> str:
    view = result.view
    others = [t for t in view.tensors if view.name(t) == name]
    if others:
        kind = "a constant" if view.is_constant(others[0]) else "data (it does not require grad)"
        reason = f"{name!r} has no gradient: it is {kind}"
    else:
        reason = f"there is no node named {name!r} in the graph of {result.name(result.output)}"
    return f"{reason}; the nodes with gradients are: {', '.join(valid)}"


def _natural(name: str) -> tuple:
    """v2 before v10."""
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    return (head, int(tail) if tail else -1, name)


def _as_array(name: Any, value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        value = stored_array(value)
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        raise TypeError(f"the answer for {name} must be a number or an array of numbers, not {value!r}")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"the answer for {name} must be a number or an array of numbers, "
                        f"not {type(value).__name__}") from None
    return array


def _compare(name: str, tensor: Tensor, given: np.ndarray, expected: np.ndarray, from_yours: np.ndarray,
             rtol: float, atol: float) -> AnswerCheck:
    if given.shape != expected.shape and not (given.size == expected.size == 1):
        if expected.ndim == 0:
            problem = (f"your answer has shape {given.shape}, but {name} is one number, so its gradient "
                       "is one too")
        else:
            problem = (f"your answer has shape {given.shape}, but {name} has shape {expected.shape}, "
                       "and its gradient has the same shape")
        return AnswerCheck(name, tensor, given, expected, WRONG, wrong_count=expected.size,
                           from_your_answers=from_yours, shape_problem=problem)
    given = given.reshape(expected.shape)
    close = np.isclose(given, expected, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return AnswerCheck(name, tensor, given, expected, RIGHT, from_your_answers=from_yours)
    index = tuple(int(i) for i in np.argwhere(~close)[0]) if expected.ndim else None
    consistent = np.isclose(given, from_yours, rtol=rtol, atol=atol, equal_nan=True).all()
    status = FOLLOWS if consistent else WRONG
    return AnswerCheck(name, tensor, given, expected, status, index, int((~close).sum()), from_yours)


# ---- explaining ----------------------------------------------------------------------------


def explain(result: Replay, tensor: Tensor, symbol: Any) -> list[str]:
    """Lines: ``∂J/∂x = <rule in names>``, ``= <rule in numbers>``, ``= <value>``."""
    expected = result.gradients[tensor]
    if tensor is result.output:
        return [f"{symbol(tensor)} = 1: backpropagation starts at the output."]
    edges = result.received.get(tensor, [])
    symbolic, numeric = [], []
    for edge in edges:
        names, values, note = edge_texts(result, edge, result.name, symbol, _short)
        symbolic.append(names)
        numeric.append(values)
    lines = [f"{symbol(tensor)} = " + " + ".join(symbolic)]
    if all(text is not None for text in numeric):
        lines.append("= " + " + ".join(f"({text})" if text.startswith("−") and k else text
                                       for k, text in enumerate(numeric)))
    lines.append("= " + _short(expected))
    return lines


def _short(value: Any) -> str:
    text = summarize(np.asarray(value), SMALL)[0]
    return text.replace("-", "−")


def _forward_text(result: Replay, tensor: Tensor) -> str:
    node = tensor.grad_fn
    names = [result.name(parent) for parent in node.inputs]
    formula = render(forward_formula(tensor), lambda n: names[int(n[1:])])
    return f"{result.name(tensor)} = {formula}"


# ---- the text -----------------------------------------------------------------------------------


def _report_text(report: GradientReport) -> str:
    lines = [f"Checked {len(report.checks)} answer{'s' if len(report.checks) != 1 else ''} for the "
             f"gradients of {report.output_name}, in backward order (conventions: {report.conventions})."]
    first = report.first_error
    if first is None:
        if report.checks:
            lines.append(f"All right: {', '.join(report._symbol(c.tensor) for c in report.checks)}.")
    else:
        lines.append("")
        lines += _first_error_text(report, first)
        for check in report.checks:
            if check is first or check.ok:
                continue
            lines.append("")
            lines += _later_text(report, check)
        right = report.right
        lines.append("")
        if right:
            lines.append(f"Right ({len(right)}): {', '.join(report._symbol(c.tensor) for c in right)}.")
        else:
            lines.append("None of the answers is right yet.")
    if report.unanswered:
        shown = report.unanswered[:12]
        more = f" and {len(report.unanswered) - 12} more" if len(report.unanswered) > 12 else ""
        lines.append(f"Not answered (not checked): {', '.join(shown)}{more}.")
    if report.hint:
        lines.append(report.hint)
    return "\n".join(lines)


def _first_error_text(report: GradientReport, check: AnswerCheck) -> list[str]:
    result = report.replay
    symbol = report._symbol(check.tensor)
    given, expected = check.values()
    lines = [f"✗ First mistake: {symbol}."]
    if check.shape_problem:
        lines.append(f"  {check.shape_problem[0].upper()}{check.shape_problem[1:]}.")
    elif check.index is not None:
        where = format_index(check.index)
        lines.append(f"  At [{where}] you wrote {given}; it should be {expected} "
                     f"({check.wrong_count} of {check.expected.size} entries are wrong).")
    else:
        lines.append(f"  You wrote {given}; it should be {expected}.")
    name = result.name(check.tensor)
    edges = result.received.get(check.tensor, [])
    if check.tensor is not result.output:
        users = "; ".join(_forward_text(result, e.consumer) for e in edges)
        if len(edges) == 1:
            lines.append(f"  {name} is used by {users}.")
        else:
            times = "twice" if len(edges) == 2 else f"{len(edges)} times"
            lines.append(f"  {name} is used {times}, so {symbol} is the sum over its uses: {users}.")
        lines.append("  The chain rule, with each op's local rule:")
    lines += ["    " + line for line in _aligned(report._explain(check.tensor))]
    if check.tensor is result.output:
        return lines
    answered = {c.tensor for c in report.checks}
    upstream = []
    for edge in edges:
        if (edge.consumer not in answered and edge.consumer is not result.output
                and result.name(edge.consumer) not in upstream):
            upstream.append(result.name(edge.consumer))
    if not upstream:
        lines.append("  The upstream gradients it combines were answered right, so the mistake is in this "
                     "step: the local rule or the arithmetic.")
    else:
        listed = ", ".join(f"∂{report.output_name}/∂{u}" for u in upstream)
        lines.append(f"  Every answer before it is right, so the mistake is in this step or in {listed}, "
                     "which you did not give: work those out to find which.")
    return lines


def _later_text(report: GradientReport, check: AnswerCheck) -> list[str]:
    symbol = report._symbol(check.tensor)
    given, expected = check.values()
    at = f" at [{format_index(check.index)}]" if check.index is not None else ""
    if check.status == FOLLOWS:
        sources = ", ".join(f"∂{report.output_name}/∂{name}" for name in check.follows_from)
        first = report.first_error
        which = "the first mistake" if first is not None and first.name in check.follows_from else \
            "an earlier mistake"
        return [f"✗ {symbol} follows from {which} ({sources}): you wrote {given}{at}, which is what the "
                f"chain rule gives from your earlier answers; with the right values it is {expected}."]
    if check.shape_problem:
        return [f"✗ {symbol} is another mistake: {check.shape_problem}."]
    yours = check.from_your_answers[check.index] if check.index is not None else check.from_your_answers
    expected_here = check.expected[check.index] if check.index is not None else check.expected
    if np.allclose(yours, expected_here, equal_nan=True):
        return [f"✗ {symbol} is also wrong: you wrote {given}{at}; it should be {expected}."]
    return [f"✗ {symbol} is another mistake: you wrote {given}{at}; it should be {expected}, and even from "
            f"your own earlier answers the chain rule gives {_short(yours)}."]


def _aligned(lines: list[str]) -> list[str]:
    """Line up the ``=`` of continuation lines under the first one's."""
    if not lines:
        return lines
    head = lines[0]
    column = head.find(" = ")
    if column < 0:
        return lines
    return [head] + [" " * (column + 1) + line for line in lines[1:]]
