"""The course documents' two training workloads: the networks, the data, the initial weights.

(1) the MLP of CMU 11-785 homework 1 (MyTorch), minibatch SGD with momentum;
(2) the per-example SGD of CMU 10-601 homework 5.
See ``bench_training.py``'s docstring for the details.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# (1) the MyTorch handout: MLP, minibatch SGD with momentum
MB_SIZES = (784, 64, 64, 32, 10)
MB_EXAMPLES = 5_000
MB_BATCH = 100
MB_LR = 0.008
MB_MOMENTUM = 0.9

# (2) the 10-601 handout: per-example SGD
PE_SIZES = (128, 50, 10)
PE_EXAMPLES = 9_000
PE_EXAMPLES_QUICK = 2_000
PE_LR = 0.1



# ---- problem: data and initial weights, as float64 numpy --------------------------------


@dataclass
class Workload:
    key: str
    title: str
    sizes: tuple[int, ...]
    activation: str
    lr: float
    momentum: float
    batch: int | None  # None: one example at a time, as 1-d vectors
    X: np.ndarray
    y: np.ndarray
    weights: list[tuple[np.ndarray, np.ndarray]]  # [(W (out, in), b (out,)), ...] float64

    @property
    def steps(self) -> int:
        return len(self.X) if self.batch is None else math.ceil(len(self.X) / self.batch)


def init_weights(sizes: tuple[int, ...], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """PyTorch's nn.Linear initialisation, W, b ~ U[-1/sqrt(in), 1/sqrt(in)], seeded."""
    rng = np.random.default_rng(seed)
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(n_in)
        weights.append((rng.uniform(-bound, bound, (n_out, n_in)), rng.uniform(-bound, bound, n_out)))
    return weights


def minibatch_workload(activation: str) -> Workload:
    rng = np.random.default_rng(2)
    X = rng.random((MB_EXAMPLES, MB_SIZES[0]))  # MNIST-shaped: pixel intensities in [0, 1)
    y = rng.integers(0, MB_SIZES[-1], MB_EXAMPLES)
    return Workload(
        "minibatch", f"MyTorch (CMU 11-785 HW1) MLP {'-'.join(map(str, MB_SIZES))} ({activation}), "
        f"batch {MB_BATCH}, SGD lr {MB_LR} momentum {MB_MOMENTUM}",
        MB_SIZES, activation, MB_LR, MB_MOMENTUM, MB_BATCH, X, y, init_weights(MB_SIZES, 20),
    )


def per_example_workload(examples: int) -> Workload:
    rng = np.random.default_rng(1)
    X = rng.integers(0, 2, (examples, PE_SIZES[0])).astype(np.float64)  # binary 0/1 inputs
    y = rng.integers(0, PE_SIZES[-1], examples)
    return Workload(
        "per-example", f"CMU 10-601 HW5 per-example SGD {'-'.join(map(str, PE_SIZES))} (sigmoid), "
        f"batch 1, SGD lr {PE_LR}",
        PE_SIZES, "sigmoid", PE_LR, 0.0, None, X, y, init_weights(PE_SIZES, 10),
    )


def batches(work: Workload, dtype: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """The epoch's (x, y) pairs as numpy arrays (views): 2-d batches, or 1-d rows and ints."""
    X = work.X.astype(dtype)
    if work.batch is None:
        return [(X[i], work.y[i]) for i in range(len(X))]
    return [(X[i : i + work.batch], work.y[i : i + work.batch]) for i in range(0, len(X), work.batch)]
