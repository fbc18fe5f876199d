"""Grad mode: whether operations on tensors are being recorded into the graph.

Recording is on by default. ``no_grad()`` switches it off (for evaluation and for
optimiser updates); ``enable_grad()`` switches it back on inside a ``no_grad`` block.
Both work as context managers and as decorators and restore the previous state on
exit, even when the block raises.

The state is one process-wide flag (PyTorch keeps one per thread).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_enabled = True


def is_grad_enabled() -> bool:
    """True when new operations are recorded into the graph."""
    return _enabled


class _GradMode:
    """Context manager and decorator that sets grad mode to ``self.mode`` while active."""

    mode = True

    def __enter__(self) -> None:
        global _enabled
        self._previous = _enabled
        _enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global _enabled
        _enabled = self._previous

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
        global _enabled
        self.mode = bool(mode)
        self._previous = _enabled
        _enabled = self.mode

    def __enter__(self) -> None:
        pass  # already switched in __init__, as torch.set_grad_enabled does

    def __call__(self, fn: F) -> F:
        self.__exit__()  # used as a decorator: only switch during calls
        return super().__call__(fn)
