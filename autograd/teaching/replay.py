"""The backward pass replayed edge by edge, with each op's local rule, and course conventions.

``replay(output)`` walks the recorded graph exactly in the engine's order
(``autograd.engine``: computed tensors from the latest to the oldest, then the leaves)
and calls each op's own ``backward`` on the recorded values, like ``autograd.viz``'s
``backward_steps``, but keeps more: what every edge sends before and after it is summed
back to its input's shape, and the rule text that says how. Nothing is changed: no
``.grad`` is set, no hook runs, and a graph already used by ``backward()`` still works.

A course may define a derivative differently from the engine (PyTorch's choices) at a
kink: CMU 10-601 homework 5 takes ReLU'(0) = 1 where the engine takes 0. ``conventions``
replays the graph with such a choice, without changing the engine:

>>> from autograd import Tensor
>>> x = Tensor(0.0, requires_grad=True, name="x")
>>> y = x.relu()
>>> float(replay(y).gradients[x]), float(replay(y, "cmu-10601").gradients[x])
(0.0, 1.0)
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import engine, grad_mode
from autograd.graph import Op
from autograd.teaching.formula import Apply, Bin, Call, Neg, Num, Var
from autograd.tensors import Tensor
from autograd.viz.graph import GraphView, stored_array
from autograd.viz.labels import OP_SYMBOLS, format_index, format_number, format_shape

# ---- conventions -----------------------------------------------------------------------------

# What each convention key means, and the engine's own value (PyTorch's).
CONVENTION_KEYS: dict[str, str] = {
    "relu_grad_at_0": "ReLU'(0), the slope of ReLU at exactly 0 (engine: 0)",
    "leaky_relu_grad_at_0": "LeakyReLU'(0) (engine: the negative slope)",
    "abs_grad_at_0": "|x|' at 0 (engine: 0)",
}

# Named conventions: the course document that defines them, and the choices.
CONVENTIONS: dict[str, tuple[str, dict[str, float]]] = {
    "pytorch": ("PyTorch's (the engine's own)", {}),
    "cmu-10601": ("CMU 10-601 homework 5 (ReLU'(0) = 1)", {"relu_grad_at_0": 1.0}),
}


@dataclass(frozen=True)
class Conventions:
    """A checked set of convention choices; ``description`` names where they come from."""

    choices: Mapping[str, float]
    description: str

    def override(self, op: Op) -> tuple[Callable[..., tuple], tuple] | None:
        """A replacement (backward, rule) for ``op`` under these conventions, or None."""
        name = op.name
        if name == "relu" and "relu_grad_at_0" in self.choices:
            c = self.choices["relu_grad_at_0"]

            def relu_backward(g: Any, out: Any, a: Any) -> tuple:
                return (g * ((out != 0) + c * (a == 0)),)  # (out != 0: where a > 0, and NaN, as the engine)

            rule = "g · [a ≥ 0]" if c == 1 else f"g · ([a > 0] + {_number(c)} · [a = 0])"
            return relu_backward, (rule,)
        if name == "leaky_relu" and "leaky_relu_grad_at_0" in self.choices:
            c = self.choices["leaky_relu_grad_at_0"]
            slope = op.negative_slope

            def leaky_backward(g: Any, out: Any, a: Any) -> tuple:
                return (g * ((a > 0) + slope * (a < 0) + c * (a == 0)),)

            return leaky_backward, (f"g · ([a > 0] + negative_slope · [a < 0] + {_number(c)} · [a = 0])",)
        if name == "abs" and "abs_grad_at_0" in self.choices:
            c = self.choices["abs_grad_at_0"]

            def abs_backward(g: Any, out: Any, a: Any) -> tuple:
                return (g * ((a > 0) * 1.0 - (a < 0) + c * (a == 0)),)

            return abs_backward, (f"g · (sign(a) + {_number(c)} · [a = 0])",)
        return None


def _number(value: float) -> str:
    return repr(float(value)).removesuffix(".0") if float(value).is_integer() else repr(float(value))


def conventions_from(conventions: str | Mapping[str, float] | Conventions | None) -> Conventions:
    """Check a ``conventions`` argument: None, a name in ``CONVENTIONS``, or a dict of choices."""
    if conventions is None:
        return Conventions({}, CONVENTIONS["pytorch"][0])
    if isinstance(conventions, Conventions):
        return conventions
    if isinstance(conventions, str):
        if conventions not in CONVENTIONS:
            raise ValueError(f"unknown conventions {conventions!r}: use one of "
                             f"{', '.join(repr(k) for k in CONVENTIONS)}, or a dict such as "
                             "{'relu_grad_at_0': 1}")
        description, choices = CONVENTIONS[conventions]
        return Conventions(dict(choices), description)
    if not isinstance(conventions, Mapping):
        raise TypeError(f"conventions must be a name or a dict, not {type(conventions).__name__}")
    checked = {}
    for key, value in conventions.items():
        if key not in CONVENTION_KEYS:
            known = "; ".join(f"{k}: {meaning}" for k, meaning in CONVENTION_KEYS.items())
            raise ValueError(f"unknown convention {key!r}; known ones are {known}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"convention {key!r} must be a number, not {type(value).__name__}")
        checked[key] = float(value)
    text = ", ".join(f"{key} = {_number(value)}" for key, value in checked.items())
    return Conventions(checked, f"your conventions ({text})" if text else CONVENTIONS["pytorch"][0])


# ---- rules -------------------------------------------------------------------------------------

_INPUT_NAMES: dict[type, tuple[str, ...]] = {}


def input_names(op: Op) -> tuple[str, ...]:
    """The names ``op.backward`` gives its inputs (``("a", "b")`` for ``mul``), as ``rule`` uses."""
    kind = type(op)
    if kind not in _INPUT_NAMES:
        try:
            parameters = list(inspect.signature(kind.backward).parameters.values())[3:]
        except (TypeError, ValueError):
            parameters = []
        names = []
        for parameter in parameters:
            if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                break
            names.append(parameter.name)
        _INPUT_NAMES[kind] = tuple(names)
    return _INPUT_NAMES[kind]


def rule_entry(rule: tuple | None, argument: int, count: int) -> str | None:
    """The rule text for input ``argument`` of ``count``: one entry may serve every input."""
    if not rule:
        return None
    if len(rule) == 1 and count > 1:
        return rule[0]
    return rule[argument] if argument < len(rule) else None


def op_constants(op: Op) -> dict[str, Any]:
    """The op's numeric attributes a formula may name (``exponent``, ``negative_slope``...)."""
    found = {}
    for name, value in vars(op).items():
        if value is None or (isinstance(value, numbers.Real) and not isinstance(value, bool)):
            found[name] = value
    return found


# ---- the replay ----------------------------------------------------------------------------------


@dataclass
class Edge:
    """What one step sends along one edge: the local rule applied to the step's gradient.

    Attributes:
        consumer: the computed tensor whose step this is.
        argument: which input of its op the edge leads to.
        parent: that input.
        rule: the rule's text for this input (under the conventions), or None.
        raw: the rule's result, before being summed back to the parent's shape.
        sent: what the parent receives (``raw`` summed over broadcast axes).
    """

    consumer: Tensor
    argument: int
    parent: Tensor
    rule: str | None
    raw: np.ndarray
    sent: np.ndarray

    @property
    def broadcast(self) -> bool:
        """Whether the rule's result was summed back to a smaller shape."""
        return np.shape(self.raw) != np.shape(self.sent)


@dataclass
class Step:
    """One computed tensor, its complete gradient, and what it sends to its inputs."""

    tensor: Tensor
    grad: np.ndarray
    edges: list[Edge] = field(default_factory=list)


@dataclass
class Replay:
    """The whole backward pass of one output.

    Attributes:
        view: the graph (names as drawings print them).
        output: the tensor backpropagated from.
        steps: the computed tensors' steps, in the engine's order.
        gradients: the gradient of the output with respect to every tensor that needs one.
        order: those tensors in the order their gradients became complete: the output,
            the computed tensors, then the leaves (the engine's order).
        received: for every tensor, the edges that brought it gradient, in order.
        conventions: the conventions used.
    """

    view: GraphView
    output: Tensor
    steps: list[Step]
    gradients: dict[Tensor, np.ndarray]
    order: list[Tensor]
    received: dict[Tensor, list[Edge]]
    conventions: Conventions

    def name(self, tensor: Tensor) -> str:
        return self.view.name(tensor)

    def local(self, edge: Edge, grad: Any) -> np.ndarray:
        """What ``edge`` would send if its consumer's gradient were ``grad`` (rules are linear in it)."""
        backward = self.backward_of(edge.consumer.grad_fn.op)[0]
        node = edge.consumer.grad_fn
        with grad_mode.no_grad(), np.errstate(all="ignore"):
            results = backward(np.asarray(grad, dtype=np.result_type(grad, float)),
                               stored_array(edge.consumer), *[stored_array(t) for t in node.inputs])
            return engine.sum_to(np.asarray(results[edge.argument]), np.shape(stored_array(edge.parent)))

    def backward_of(self, op: Op) -> tuple[Callable[..., tuple], tuple | None]:
        """The op's backward and rule text, or the conventions' replacements."""
        replaced = self.conventions.override(op)
        return replaced if replaced is not None else (op.backward, getattr(op, "rule", None))


def replay(output: Tensor, conventions: Any = None) -> Replay:
    """Backpropagate from ``output`` on the recorded values, edge by edge (see the module)."""
    if not isinstance(output, Tensor):
        raise TypeError(f"backpropagation starts from a Tensor, not {type(output).__name__}")
    if not output.requires_grad:
        raise ValueError("nothing to backpropagate: the output does not depend on any tensor that "
                         "requires grad")
    chosen = conventions_from(conventions)
    view = GraphView([output])
    result = Replay(view, output, [], {}, [], {}, chosen)
    pending: dict[Tensor, Any] = {output: np.ones_like(stored_array(output))}  # as backward()
    computed, leaves = engine.reachable([output])
    computed.sort(key=lambda t: t.grad_fn.clock, reverse=True)
    with grad_mode.no_grad(), np.errstate(all="ignore"):
        for tensor in computed:
            grad = pending.pop(tensor, None)
            if grad is None:  # no path from the output carries a gradient here
                continue
            result.gradients[tensor] = grad
            result.order.append(tensor)
            node = tensor.grad_fn
            backward, rule = result.backward_of(node.op)
            inputs = node.inputs
            results = backward(grad, stored_array(tensor), *[stored_array(t) for t in inputs])
            step = Step(tensor, grad)
            for argument, (parent, raw) in enumerate(zip(inputs, results)):
                if raw is None or not parent.requires_grad:
                    continue
                raw = np.asarray(raw)
                sent = engine.sum_to(raw, np.shape(stored_array(parent)))
                edge = Edge(tensor, argument, parent, rule_entry(rule, argument, len(inputs)), raw, sent)
                step.edges.append(edge)
                result.received.setdefault(parent, []).append(edge)
                previous = pending.get(parent)
                pending[parent] = sent if previous is None else previous + sent
            result.steps.append(step)
    for leaf in leaves:
        if leaf in pending:
            result.gradients[leaf] = pending.pop(leaf)
            result.order.append(leaf)
    return result


# ---- the forward pass, written as formulas ------------------------------------------------------

_INFIX = {"add": "+", "sub": "−", "mul": "·", "div": "/", "matmul": "@", "pow": "^"}
_CALLS = {"exp": "exp", "log": "log", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tanh": "tanh",
          "sigmoid": "σ"}
_WITH_AXIS = {"sum", "max", "min", "logsumexp", "softmax", "log_softmax", "concat", "stack"}


def forward_formula(tensor: Tensor) -> Any:
    """How a computed tensor was made, as a formula over its inputs' names (``v1 · v2``).

    The tree's names are the inputs' positions as ``"#0"``, ``"#1"``... so that any
    naming (``v1``, ``v_{1}``, values) can be put in when it is rendered.
    """
    node = tensor.grad_fn
    op, name = node.op, node.op.name
    inputs = tuple(Var(f"#{k}") for k in range(len(node.inputs)))
    if name == "pow" and len(inputs) == 1:
        return Bin("^", inputs[0], Num(float(op.exponent)))
    if name in _INFIX and len(inputs) == 2:
        return Bin(_INFIX[name], *inputs)
    if name == "neg":
        return Neg(inputs[0])
    if name in _CALLS and len(inputs) == 1:
        return Call(_CALLS[name], inputs[0])
    if name == "getitem" and hasattr(op, "index"):
        return Apply(format_index(op.index), inputs, index=True)
    extra = ""
    if name in _WITH_AXIS and getattr(op, "axis", None) is not None:
        extra = f"axis {op.axis}"
    elif name in ("reshape", "broadcast_to") and getattr(op, "shape", None) is not None:
        extra = format_shape(tuple(op.shape))
    elif name == "transpose" and getattr(op, "axes", None) is not None:
        extra = "axes " + str(tuple(op.axes))
    elif name == "clip":
        low = "−∞" if op.low is None else format_number(op.low)
        high = "∞" if op.high is None else format_number(op.high)
        extra = f"[{low}, {high}]"
    elif name == "leaky_relu":
        extra = f"slope {format_number(op.negative_slope)}"
    elif name == "cast":
        extra = str(op.dtype)
    label = OP_SYMBOLS.get(name, name)
    if label in ("|·|",):
        label = "abs"
    return Apply(label, inputs, extra=extra)
