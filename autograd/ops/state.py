"""Ops that update state held outside the graph: recorded, so compiled code redoes them.

``RunningStats`` is BatchNorm's running-statistics update. It takes the batch mean and
variance as inputs (no gradient flows back through it) and updates the running mean,
running variance and batch count arrays in place, as PyTorch does:
``running = (1 − m)·running + m·batch`` with the *unbiased* batch variance, and
``m = 1 / count`` when ``momentum`` is None (a cumulative average). Eager mode runs it like
any op; while a function is traced for ``autograd.compiler`` it is recorded as an *effect*
(nothing downstream uses its result), and the compiled code calls the same ``forward``.
"""

from __future__ import annotations

import numpy as np

from autograd.graph import Op


class RunningStats(Op):
    """In place: count += 1; running_mean, running_var ← (1 − m)·running + m·(mean, unbiased var)."""

    name = "running_stats"
    backward_reads = ()
    effect = True  # updates state: kept by a trace although the result is not used

    def __init__(self, running_mean: np.ndarray, running_var: np.ndarray, count: np.ndarray,
                 momentum: float | None, n: int) -> None:
        self.running_mean, self.running_var, self.count = running_mean, running_var, count
        self.momentum = momentum
        self.n = n  # values per channel in the batch (for the unbiased variance)

    def forward(self, mean, var):
        self.count += 1
        m = 1.0 / self.count if self.momentum is None else self.momentum
        unbiased = var.reshape(-1) * (self.n / (self.n - 1))
        self.running_mean[...] = (1 - m) * self.running_mean + m * mean.reshape(-1)
        self.running_var[...] = (1 - m) * self.running_var + m * unbiased
        return np.zeros(())

    rule = (None, None)

    def backward(self, g, out, mean, var):
        return (None, None)
