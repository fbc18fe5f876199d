"""Computing a checked expression of ``chainrule draw`` with the engine: ``evaluate``.

The tree comes from ``autograd.expression.parse_expression``, which has refused
everything outside the language; here each piece is applied with the engine's functions
(``FUNCTIONS``), bottom up with an explicit stack, so a long sum cannot overflow Python's
stack. Sizes are checked before a value is computed (``MAX_TOTAL_ELEMENTS``).

>>> from autograd import Tensor
>>> from autograd.expression import parse_expression
>>> tree, names = parse_expression("x * sin(y) + x")
>>> evaluate(tree, {"x": Tensor(2.0), "y": Tensor(0.0)})
Tensor(2.)
"""

from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np

from autograd.expression import (
    _BINARY,
    _MATRIX_PRODUCTS,
    _UNARY,
    CONSTANTS,
    FUNCTIONS,
    MAX_EXPONENT,
    MAX_TOTAL_ELEMENTS,
    SLOPE_MUST_BE_A_NUMBER,
    UsageError,
    _is_call_to,
    _piece,
    _where,
    column_of,
)
from autograd.tensors import Tensor

__all__ = ["evaluate", "non_finite", "RELU_AT_ZERO"]


def evaluate(tree: ast.Expression, variables: dict[str, Any], text: str = "",
             notes: list[str] | None = None) -> Any:
    """Compute a checked expression with the engine (a Tensor, or a float for constants).

    Post-order with an explicit stack: a long sum ``1+1+...+1`` nests deeply, and
    nothing here recurses. ``text`` is the expression that was parsed, for messages.
    If ``notes`` is a list, a sentence is added to it for the first piece of the
    expression whose value is infinite or nan while its inputs were finite.
    Numpy's floating-point warnings are silenced: the note says it instead.

    Raises:
        UsageError: the values would be too large (``MAX_TOTAL_ELEMENTS``), an
            exponent is too large (``MAX_EXPONENT``), or a leaky_relu slope is not a number.
    """
    values: list[Any] = []
    stack: list[tuple[ast.AST, bool]] = [(tree.body, False)]
    total_elements = 0
    noted_non_finite = False
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
            total_elements += _result_size(node, arguments)
            if total_elements > MAX_TOTAL_ELEMENTS:
                raise UsageError(f"the values would hold more than {MAX_TOTAL_ELEMENTS:,} numbers in all "
                                 f"(at {_where(text, node)}): use smaller --at values")
            value = _apply(node, arguments, variables, text)
            if notes is None:
                pass
            elif not noted_non_finite and children and not _all_finite(value):
                if all(_all_finite(argument) for argument in arguments):
                    notes.append(f"{_piece(text, node)} {non_finite(value)} ({column_of(text, node)})")
                    noted_non_finite = True
            if notes is not None and isinstance(node, ast.Call) and _at_a_kink(node, arguments):
                notes.append(f"the input of {_piece(text, node)} is exactly 0 ({column_of(text, node)}): "
                             + RELU_AT_ZERO)
            values.append(value)
    return values[0]


RELU_AT_ZERO = ("ReLU'(0) is taken as 0 here, as in PyTorch; CMU 10-601 homework 5 takes 1 "
                "(chainrule check or trace --conventions cmu-10601 uses 1)")


def _at_a_kink(node: ast.Call, arguments: list[Any]) -> bool:
    """Whether a relu (or leaky_relu) call has an input that is exactly 0."""
    if not (_is_call_to(node, "relu") or _is_call_to(node, "leaky_relu")) or not arguments:
        return False
    data = arguments[0].data if isinstance(arguments[0], Tensor) else np.asarray(arguments[0])
    return bool(np.any(data == 0))


def non_finite(value: Any) -> str | None:
    """``"is inf"``, ``"is nan"``, ``"has nan and -inf values"``...; None if all is finite."""
    data = np.asarray(value.data if isinstance(value, Tensor) else value, dtype=np.float64)
    bad = data[~np.isfinite(data)]
    if bad.size == 0:
        return None
    if data.ndim == 0:
        return f"is {data.item()}"
    kinds = sorted({"nan" if np.isnan(v) else "inf" if v > 0 else "-inf" for v in bad[:1000]})
    return f"has {' and '.join(kinds)} values"


def _all_finite(value: Any) -> bool:
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    return math.isfinite(data.item()) if data.size == 1 else bool(np.isfinite(data).all())


def _children(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _result_size(node: ast.AST, arguments: list[Any]) -> int:
    """How many numbers ``node``'s value will hold, known before it is computed.

    Broadcasting (``x * y`` of shapes (n,) and (n, 1)) and matrix products can make a
    value far larger than their inputs; this is how such a value is refused before
    memory is asked for. Shapes that do not fit count 0: the operation raises its own error.
    """
    shapes = [argument.shape for argument in arguments if isinstance(argument, Tensor)]
    if not shapes:  # a number, a variable (whose value exists already), or numbers only
        return 1
    try:
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult)) or (
                isinstance(node, ast.Call) and node.func.id in _MATRIX_PRODUCTS):
            return _matmul_size(*(getattr(argument, "shape", ()) for argument in arguments))
        if shapes.count(shapes[0]) == len(shapes):  # (a number, as a leaky_relu slope, fits any shape)
            return math.prod(shapes[0])
        return math.prod(np.broadcast_shapes(*shapes))
    except ValueError:
        return 0


def _matmul_size(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """The size of ``a @ b`` by numpy's rules (1-d operands get an axis, batches broadcast)."""
    if not a or not b:
        return 0
    a = (1, *a) if len(a) == 1 else a
    b = (*b, 1) if len(b) == 1 else b
    return math.prod(np.broadcast_shapes(a[:-2], b[:-2])) * a[-2] * b[-1]


def _apply(node: ast.AST, arguments: list[Any], variables: dict[str, Any], text: str) -> Any:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id in variables:
            return variables[node.id]
        return CONSTANTS[node.id]
    numbers_only = all(isinstance(a, float) for a in arguments)
    if isinstance(node, ast.BinOp):
        function = _BINARY[type(node.op)]
        exponent = arguments[1]
        if isinstance(node.op, ast.Pow) and isinstance(exponent, float) and abs(exponent) > MAX_EXPONENT:
            raise UsageError(f"the exponent {exponent:g} is too large (at most {MAX_EXPONENT:,} when it "
                             f"does not depend on a variable): {_where(text, node)}")
        if numbers_only:  # numpy arithmetic: 1/0 is inf and (-8)**0.5 is nan, as on tensors
            return float(function(np.float64(arguments[0]), np.float64(arguments[1])))
        return function(*arguments)
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](arguments[0])
    if isinstance(node, ast.Call):
        if node.func.id == "leaky_relu" and len(arguments) == 2 and not isinstance(arguments[1], float):
            # parse_expression refuses a variable there; this is pi or e given with --at
            raise UsageError(f"{SLOPE_MUST_BE_A_NUMBER}: {_where(text, node.args[1])}")
        return FUNCTIONS[node.func.id][2](*arguments)
    raise AssertionError(f"unchecked node {type(node).__name__}")  # parse_expression rejects it
