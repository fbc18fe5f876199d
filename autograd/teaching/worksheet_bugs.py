"""Find-the-bug questions: a chain-rule trace with one wrong local rule, the rest following from it.

``make_bug(rng, question)`` picks one line of the question's reverse trace whose op has a
classic wrong rule (``MISTAKES``: a sign dropped, the wrong factor of a product, σ without
its (1 − σ)...), puts that rule there, and replays the backward pass from it: every later
line applies its right rule to the numbers before it, so the mistake travels on exactly
as it would in a student's work. The trace's rows and its replay hold the wrong numbers;
``Question.correct_trace()`` gives the right one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd import engine
from autograd.teaching.formula import evaluate as evaluate_formula
from autograd.teaching.formula import parse as parse_formula
from autograd.teaching.replay import Replay, input_names, op_constants
from autograd.teaching.trace import ChainRuleTrace
from autograd.tensors import Tensor
from autograd.viz.graph import stored_array

if TYPE_CHECKING:
    from autograd.teaching.worksheet import Question

LARGEST = 1e3  # a wrong rule giving a value larger than this is not used

# Wrong local rules for "find the bug": (op, input) -> the rules a student might write instead.
MISTAKES: dict[tuple[str, int], tuple[str, ...]] = {
    ("sub", 1): ("g",),
    ("mul", 0): ("g · a",),
    ("mul", 1): ("g · b",),
    ("div", 0): ("g · b",),
    ("div", 1): ("g · a / b²", "−g / b²"),
    ("neg", 0): ("g",),
    ("pow", 0): ("g · a^(exponent − 1)", "g · exponent · a^exponent"),
    ("exp", 0): ("g · a · exp(a − 1)",),
    ("log", 0): ("−g / a²", "g · a"),
    ("sin", 0): ("−g · cos(a)", "g · sin(a)"),
    ("cos", 0): ("g · sin(a)",),
    ("tanh", 0): ("g · (1 + tanh(a)²)", "g · (1 − a²)"),
    ("sigmoid", 0): ("g · σ(a)", "g · (1 − σ(a))"),
    ("relu", 0): ("g", "g · a"),
}



@dataclass
class Bug:
    """The wrong line of a "find the bug" question.

    Attributes:
        line: its number in the reverse trace (1 is the start, ``f̄ = 1``).
        wrong_rule, right_rule: the local rule written, and the op's own (in ``g, a, b, out``).
        op: the operation whose rule is wrong (``"sigmoid"``); ``argument``: which input.
        node: the name of the node receiving the wrong value.
        wrong_value, right_value: what the line gives, and what it should.
        spoiled: numbers of the later lines whose values the mistake changed.
    """

    line: int
    wrong_rule: str
    right_rule: str
    op: str
    argument: int
    node: str
    wrong_value: np.ndarray
    right_value: np.ndarray
    spoiled: list[int]


def make_bug(rng: np.random.Generator, question: Question) -> Bug | None:
    """Put one wrong local rule into the question's trace; the lines after it follow from it."""
    trace = question.trace
    played = trace.replay
    candidates = []
    for line, row in enumerate(trace.adjoint, start=1):
        if row.kind != "edge":
            continue
        op = row.edge.consumer.grad_fn.op
        for wrong in MISTAKES.get((op.name, row.edge.argument), ()):
            if op.name == "pow" and not hasattr(op, "exponent"):
                continue
            candidates.append((line, row.edge, wrong))
    order = rng.permutation(len(candidates))
    for pick in order:
        line, edge, wrong = candidates[int(pick)]
        computed = _rule_value(played, edge, wrong, played.gradients[edge.consumer])
        if computed is None or np.allclose(computed[1], edge.sent, rtol=1e-3, atol=1e-6):
            continue
        sent = computed[1]
        before = [np.asarray(row.value).copy() for row in trace.adjoint]
        right_rule = edge.rule or ""
        if not _replay_with(played, edge, wrong):
            return None  # (the replay is changed now: the caller draws another question)
        _refresh_rows(trace)
        spoiled = [k for k, row in enumerate(trace.adjoint, start=1)
                   if k > line and not np.allclose(row.value, before[k - 1], rtol=1e-9, atol=1e-12)]
        return Bug(line, wrong, right_rule, edge.consumer.grad_fn.op.name, edge.argument,
                   played.name(edge.parent), np.asarray(sent), before[line - 1], spoiled)
    return None


def _rule_value(played: Replay, edge: Any, rule: str, grad: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """What ``rule`` sends along ``edge`` for the consumer's gradient ``grad``: (raw, summed to shape)."""
    node = edge.consumer.grad_fn
    values = {"g": np.asarray(grad), "out": stored_array(edge.consumer), **op_constants(node.op)}
    for key, parent in zip(input_names(node.op), node.inputs):
        values[key] = stored_array(parent)
    raw = np.broadcast_to(np.asarray(evaluate_formula(parse_formula(rule), values), dtype=float),
                          np.shape(edge.raw))
    sent = np.asarray(engine.sum_to(raw, np.shape(stored_array(edge.parent))))
    if not np.all(np.isfinite(sent)) or np.any(np.abs(sent) > LARGEST):
        return None
    return np.array(raw), sent


def _replay_with(played: Replay, bad: Any, wrong: str) -> bool:
    """Redo the backward pass with ``wrong`` as the rule of edge ``bad``: every later number follows."""
    grads: dict[Tensor, np.ndarray] = {played.output: np.asarray(played.gradients[played.output])}
    for step in played.steps:
        grad = grads[step.tensor]
        step.grad = grad
        for edge in step.edges:
            if edge is bad:
                computed = _rule_value(played, edge, wrong, grad)
                if computed is None:
                    return False
                edge.rule, (edge.raw, sent) = wrong, computed
            else:
                sent = played.local(edge, grad)
            edge.sent = np.asarray(sent)
            grads[edge.parent] = edge.sent if edge.parent not in grads else grads[edge.parent] + edge.sent
    for tensor in played.order:
        played.gradients[tensor] = grads[tensor]
    return all(np.all(np.isfinite(g)) for g in grads.values())


def _refresh_rows(trace: ChainRuleTrace) -> None:
    """The trace's rows take the replay's (changed) numbers."""
    played = trace.replay
    for row in trace.adjoint:
        if row.kind == "edge":
            row.value = np.asarray(row.edge.sent)
        elif row.kind == "sum":
            row.terms = [np.asarray(edge.sent) for edge in played.received[row.tensor]]
            row.value = np.asarray(played.gradients[row.tensor])
