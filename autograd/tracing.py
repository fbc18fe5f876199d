"""The compiler's watch while it traces a function (``autograd.compiler``), one per thread.

While a thread traces, ``Tensor`` calls ``traced_read(tensor, what)`` wherever Python asks
for a tensor's value (``bool``, ``.item()``, ``.data``, comparisons, ...): the compiler's
reader raises ``CompileError`` for a traced tensor, whose value a compiled function could
not replay. ``records_all_ops()``: ops on tensors that do not require grad are recorded
too (their results keep ``requires_grad`` False), so a trace sees ``x / 255`` on data
alone. Outside tracing none of this runs: ``TRACING[0]``, the number of threads tracing,
is 0.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class _TraceState(threading.local):
    """Per thread: the compiler's reader, whether all ops are recorded, the effects seen."""

    reader: Callable[[Any, str], None] | None = None
    recording = False
    effects: list[Any] | None = None  # results of ops that update state (``op.effect``)


_tracing = _TraceState()
TRACING = [0]  # how many threads are tracing (a list, so that it is changed in place)


def begin_tracing(reader: Callable[[Any, str], None] | None, record: bool = True) -> tuple[Any, ...]:
    """Start tracing in this thread (for ``autograd.compiler``); returns what ``end_tracing`` restores."""
    previous = (_tracing.reader, _tracing.recording, _tracing.effects)
    _tracing.reader, _tracing.recording, _tracing.effects = reader, record, []
    TRACING[0] += 1
    return previous


def end_tracing(previous: tuple[Any, ...]) -> None:
    TRACING[0] -= 1
    _tracing.reader, _tracing.recording, _tracing.effects = previous


def traced_effects() -> list[Any]:
    """The results of state-updating ops (``op.effect``) recorded since ``begin_tracing``."""
    return list(_tracing.effects or ())


def traced_read(tensor: Any, what: str) -> None:
    """While this thread traces: let the compiler refuse Python reading a traced value.

    Called directly by the Tensor method that reads the value (the compiler looks three
    frames up from its reader for the user's line: reader, this, the method, its caller).
    """
    reader = _tracing.reader
    if reader is not None:
        reader(tensor, what)


def records_all_ops() -> bool:
    """While this thread traces: record ops on data alone too (the compiled code redoes them)."""
    return TRACING[0] > 0 and _tracing.recording


def note_effect(op: Any, result: Any) -> None:
    """While this thread traces: keep the result of an op that updates state (``op.effect``)."""
    if TRACING[0] and _tracing.effects is not None and getattr(op, "effect", False):
        _tracing.effects.append(result)
