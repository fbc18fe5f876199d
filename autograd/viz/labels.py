"""What a drawing writes inside its boxes: op symbols, numbers, summaries, escaped text.

Everything here returns plain Python strings; ``draw.py`` decides where they go. Text
that comes from the user (tensor names, scope labels) may contain anything, so it
passes through ``html_text`` before it enters a Graphviz HTML label: the drawing must
show a name like ``<b>" ]; x -> y {`` as those characters, never obey them.

>>> op_symbol_for("mul", None)
'×'
>>> format_number(-0.421894)
'-0.4219'
>>> html_text('<b>" ]; x -> y {')
'&lt;b&gt;&quot; ]; x -&gt; y {'
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

# How each engine op is written in a drawing. Binary ops whose argument order matters
# say so in the symbol ("a − b"), and their input edges are labelled "a" and "b".
OP_SYMBOLS: dict[str, str] = {
    "add": "+",
    "sub": "a − b",
    "mul": "×",
    "div": "a ÷ b",
    "neg": "−",
    "pow": "a ^ b",
    "exp": "exp",
    "log": "log",
    "sqrt": "√",
    "abs": "|·|",
    "sin": "sin",
    "cos": "cos",
    "tanh": "tanh",
    "sigmoid": "σ",
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "threshold": "step",
    "clip": "clip",
    "maximum": "max",
    "minimum": "min",
    "where": "where",
    "cast": "cast",
    "sum": "Σ",
    "max": "max",
    "min": "min",
    "logsumexp": "log Σ exp",
    "softmax": "softmax",
    "log_softmax": "log softmax",
    "reshape": "reshape",
    "transpose": "transpose",
    "broadcast_to": "broadcast",
    "getitem": "[ ]",
    "scatter_add": "scatter add",
    "concat": "concat",
    "stack": "stack",
    "pad": "pad",
    "matmul": "A @ B",
}

# Ops whose inputs can be swapped without changing the result: their edges need no names.
COMMUTATIVE = {"add", "mul", "maximum", "minimum"}

# Names for the input edges of ops where order matters (others are numbered 1, 2, ...).
INPUT_ROLES: dict[str, tuple[str, ...]] = {
    "sub": ("a", "b"),
    "div": ("a", "b"),
    "pow": ("a", "b"),
    "matmul": ("A", "B"),
    "where": ("if", "then", "else"),
}

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

MAX_TEXT = 40  # longest user text (a name, a scope label) shown before it is cut with "…"


def op_symbol_for(name: str, op: Any) -> str:
    """The symbol for an op, with its constant parameters when it has any.

    >>> from autograd.ops.elementwise import PowScalar
    >>> op_symbol_for("pow", PowScalar(2))
    '(·)²'
    >>> op_symbol_for("sum", None)
    'Σ'
    """
    exponent = getattr(op, "exponent", None)
    if name == "pow" and exponent is not None:  # x ** 3 records the 3 on the op, not as a node
        if float(exponent).is_integer() and abs(exponent) < 100:
            return "(·)" + str(int(exponent)).translate(_SUPERSCRIPTS)
        return f"(·) ^ {format_number(exponent)}"
    symbol = OP_SYMBOLS.get(name, name)
    axis = getattr(op, "axis", None)
    if name in {"sum", "max", "min", "logsumexp", "softmax", "log_softmax", "concat", "stack"}:
        if axis is not None:
            symbol += f" (axis {axis})"
    elif name in {"reshape", "broadcast_to"} and getattr(op, "shape", None) is not None:
        symbol += " " + format_shape(op.shape)
    elif name == "transpose" and getattr(op, "axes", None) is not None:
        symbol += " " + str(tuple(op.axes))
    elif name == "getitem" and hasattr(op, "index"):
        symbol = "[" + format_index(op.index) + "]"
    elif name == "clip":
        low, high = getattr(op, "low", None), getattr(op, "high", None)
        low_text = "−∞" if low is None else format_number(low)
        high_text = "∞" if high is None else format_number(high)
        symbol += f" [{low_text}, {high_text}]"
    elif name == "leaky_relu" and hasattr(op, "negative_slope"):
        symbol += f" ({format_number(op.negative_slope)})"
    elif name == "cast" and hasattr(op, "dtype"):
        symbol += f" → {op.dtype}"
    return symbol


def format_index(index: Any) -> str:
    """An index as it would be typed: ``0``, ``1:3``, ``:, 0``; arrays by their shape."""
    parts = index if isinstance(index, tuple) else (index,)
    texts = []
    for part in parts:
        if isinstance(part, slice):
            start = "" if part.start is None else str(part.start)
            stop = "" if part.stop is None else str(part.stop)
            step = "" if part.step is None else f":{part.step}"
            texts.append(f"{start}:{stop}{step}")
        elif part is None:
            texts.append("None")
        elif part is Ellipsis:
            texts.append("...")
        elif isinstance(part, np.ndarray):
            kind = "mask" if part.dtype == bool else "indices"
            texts.append(f"{kind} {format_shape(part.shape)}")
        else:
            texts.append(str(part))
    return shorten(", ".join(texts), 24)


def format_shape(shape: tuple[int, ...]) -> str:
    """``(3, 4)`` written as ``3×4``; a 1-d shape as ``(5,)``."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "×".join(str(n) for n in shape)


ROUNDING_RELATIVE = 1e-12  # below this fraction of the largest number shown with it: zero
ROUNDING_ABSOLUTE = 1e-15  # below this magnitude: zero, whatever it is shown with


def format_number(value: Any, scale: float | None = None) -> str:
    """A number with 4 significant digits: short enough for a slide, exact for small integers.

    A value that is zero up to floating-point rounding is written ``0``, not
    ``2.776e-17``: one whose magnitude is below ``1e-15``, or below ``1e-12`` times
    ``scale`` (the largest magnitude among the numbers it is shown with, e.g. every
    gradient of a drawing). A genuinely small value such as ``1e-08`` keeps its digits.

    >>> format_number(3.0), format_number(0.1234567), format_number(1e-7), format_number(True)
    ('3', '0.1235', '1e-07', 'True')
    >>> format_number(2.7755575615628914e-17), format_number(3e-13, scale=2.0), format_number(1e-8, scale=2.0)
    ('0', '0', '1e-08')
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if value == 0 or is_rounding_zero(value, scale):
        return "0"  # also for -0.0: a sign on zero only confuses
    return f"{value:.4g}"


def is_rounding_zero(value: float, scale: float | None = None) -> bool:
    """Whether ``value`` is zero up to rounding (see ``format_number``); never for nan or inf."""
    magnitude = abs(value)
    if not np.isfinite(magnitude):
        return False
    if magnitude < ROUNDING_ABSOLUTE:
        return True
    return scale is not None and bool(np.isfinite(scale)) and magnitude < ROUNDING_RELATIVE * abs(scale)


def largest_magnitude(arrays: Any) -> float:
    """The largest finite magnitude among numeric arrays (0.0 if none): a ``scale``."""
    largest = 0.0
    for array in arrays:
        array = np.asarray(array)
        if array.size == 0 or array.dtype.kind not in "iuf":
            continue
        magnitudes = np.abs(array.astype(np.float64, copy=False))
        finite = magnitudes[np.isfinite(magnitudes)]
        if finite.size:
            largest = max(largest, float(finite.max()))
    return largest


def summarize(array: Any, max_items: int = 6, scale: float | None = None) -> list[str]:
    """The values of an array as one or two short lines, never a wall of numbers.

    Small arrays are written out; larger ones are summarised by mean, spread and range.
    Numbers that are zero up to rounding, next to the array's largest value or ``scale``
    (see ``format_number``), are written ``0``.

    >>> summarize(np.array(2.5))
    ['2.5']
    >>> summarize(np.array([1.0, 2.0, 3.0]))
    ['[1, 2, 3]']
    >>> summarize(np.arange(100.0))
    ['mean 49.5, std 28.87', 'range [0, 99]']
    >>> summarize(np.array([0.1, 0.2, -0.3, 5.551115123125783e-17]))
    ['[0.1, 0.2, -0.3, 0]']
    """
    array = np.asarray(array)
    scale = max(largest_magnitude([array]), abs(scale) if scale is not None and np.isfinite(scale) else 0.0)

    def number(value: Any) -> str:
        return format_number(value, scale)

    if array.ndim == 0:
        return [number(array.item())]
    if array.size == 0:
        return ["(empty)"]
    if array.size <= max_items and array.ndim <= 2:
        if array.ndim == 1:
            return ["[" + ", ".join(number(v) for v in array.tolist()) + "]"]
        rows = ("[" + ", ".join(number(v) for v in row) + "]" for row in array.tolist())
        return ["[" + ", ".join(rows) + "]"]
    if array.dtype.kind == "b":
        return [f"{int(array.sum())} of {array.size} true"]
    if array.dtype.kind not in "iuf":  # complex, objects: say what it is, not what it holds
        return [f"{array.dtype} values"]
    values = array.astype(np.float64, copy=False)
    finite = values[np.isfinite(values)]
    lines = []
    if finite.size:
        lines.append(f"mean {number(finite.mean())}, std {number(finite.std())}")
        lines.append(f"range [{number(finite.min())}, {number(finite.max())}]")
    bad = []
    for label, count in (("nan", np.isnan(values).sum()), ("inf", np.isinf(values).sum())):
        if count:
            bad.append(f"{count} {label}")
    if bad:
        lines.append(", ".join(bad))
    return lines


def summarize_short(array: Any, max_items: int = 3, scale: float | None = None) -> str:
    """One short line for an array: the values if few, else its shape (edge labels)."""
    array = np.asarray(array)
    if array.ndim == 0 or array.size <= max_items:
        return summarize(array, max_items, scale)[0]
    return f"{format_shape(array.shape)} values"


def shorten(text: str, limit: int = MAX_TEXT) -> str:
    """Cut long text with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def printable(text: str) -> str:
    """Replace control characters (newlines, NUL, escapes) by their backslash form.

    They cannot be shown in a label, and some are not even allowed in SVG.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def html_text(text: Any, limit: int = MAX_TEXT) -> str:
    """User text made safe for a Graphviz HTML label: printable, short, and escaped.

    Escaping ``& < > "`` is all HTML labels need: inside ``<...>`` Graphviz reads no
    other syntax (no backslash escapes, no quotes, no DOT keywords).
    """
    return html.escape(shorten(printable(str(text)), limit), quote=True)
