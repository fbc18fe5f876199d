"""Grad mode: whether operations on tensors are being recorded into the graph.

Recording is on by default. ``no_grad()`` switches it off (for evaluation and for
optimiser updates); ``enable_grad()`` switches it back on inside a ``no_grad`` block.
Both work as context managers and as decorators and restore the previous state on
exit, even when the block raises.

The state belongs to the thread, as in PyTorch: a ``no_grad`` block in one thread
never changes what another thread records, and a backward pass running in one thread
(which switches recording off while it runs) leaves the others recording.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _ThreadState(threading.local):
    """Each thread sees its own copy of these attributes, starting from the class values."""

    enabled = True

    def __init__(self) -> None:
        # The states saved by the blocks this thread is inside, innermost last. Kept per
        # thread, not on the context-manager object, so one ``no_grad()`` object may be
        # entered by several threads at once.
        self.saved: list[bool] = []


state = _ThreadState()


def is_grad_enabled() -> bool:
    """True when new operations are recorded into the graph (in this thread)."""
    return state.enabled


class _GradMode:
    """Context manager and decorator that sets grad mode to ``self.mode`` while active."""

    mode = True

    def __enter__(self) -> None:
        state.saved.append(state.enabled)
        state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state.enabled = state.saved.pop()

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _fixed_mode(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class _fixed_mode(_GradMode):
    def __init__(self, mode: bool) -> None:
        self.mode = mode


class no_grad(_GradMode):
    """Do not record operations: results have no ``grad_fn`` and do not require grad.

    >>> import autograd
    >>> x = autograd.Tensor(2.0, requires_grad=True)
    >>> with autograd.no_grad():
    ...     y = x * 3
    >>> y.requires_grad
    False
    """

    mode = False


class enable_grad(_GradMode):
    """Record operations again, e.g. inside a ``no_grad`` block or a decorated function.

    >>> import autograd
    >>> with autograd.no_grad(), autograd.enable_grad():
    ...     autograd.is_grad_enabled()
    True
    """

    mode = True


class set_grad_enabled(_GradMode):
    """Set grad mode to ``mode`` at once; as a context manager, restore it on exit.

    >>> import autograd
    >>> with autograd.set_grad_enabled(False):
    ...     autograd.is_grad_enabled()
    False
    >>> autograd.is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous = state.enabled
        state.enabled = self.mode  # switched at once, as torch.set_grad_enabled does

    def __enter__(self) -> None:
        state.saved.append(self._previous)  # __exit__ restores the state before __init__

    def __call__(self, fn: F) -> F:
        state.enabled = self._previous  # used as a decorator: only switch during calls
        return super().__call__(fn)
