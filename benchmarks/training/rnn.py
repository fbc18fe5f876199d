"""The tanh RNN benchmark's workload and the engines it times (``benchmarks/bench_rnn.py``).

What is trained, and by what: the sizes and the learning rate of issue 13's vanilla RNN,
the synthetic problem (initial weights and the batches of sequences), the hand-written
numpy BPTT (the floor, and the batched-over-time variant shown as context), chainrule's
three ways of training it (eager, ``autograd.compile`` + ``nn.optim.SGD``,
``nn.compile_step``) and PyTorch's. They live apart from ``bench_rnn.py`` so that script
holds only the benchmark itself (the agreement check, the timing, the summary and
``--profile``), as ``bench_training.py``'s workloads and trainers live in this package.
``bench_rnn.py`` re-exports every name defined here.

Every engine has the same small interface: built from a ``Problem`` (it copies the initial
weights), ``epoch(data, losses=None)`` trains one step per ``(x, y)`` in ``data``, and
``parameters()`` returns float64 copies in the common layout ``PARAMETERS``. The compiled
ones also have ``warm(data)`` (compile before timing) and ``compile_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import autograd
import nn
from autograd import Tensor, compile, scope
from nn import functional as F

# torch is trainers.py's optional import (None where not installed), not a second copy of it
from .trainers import CompiledStepLoop, torch

torch_F = torch.nn.functional if torch is not None else None

INPUT, HIDDEN, OUTPUT = 32, 64, 10
STEPS_T = 50  # time steps per sequence
LR = 0.05
BATCHES = (1, 64)
PARAMETERS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")  # the common layout of parameters()


# ---- the problem ------------------------------------------------------------------------------


@dataclass
class Problem:
    batch: int
    weights: list[np.ndarray]  # [W_xh (H, I), W_hh (H, H), b_h (H,), W_hy (O, H), b_y (O,)], float64
    data: list[tuple[np.ndarray, np.ndarray]]  # per training step: X (T, N, I), labels (N,) int64


def make_problem(batch: int, steps: int, seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(HIDDEN)  # PyTorch's nn.RNN initialisation (and nn.Linear's for the readout)
    shapes = ((HIDDEN, INPUT), (HIDDEN, HIDDEN), (HIDDEN,), (OUTPUT, HIDDEN), (OUTPUT,))
    weights = [rng.uniform(-bound, bound, shape) for shape in shapes]
    data = [(rng.standard_normal((STEPS_T, batch, INPUT)), rng.integers(0, OUTPUT, batch))
            for _ in range(steps)]
    return Problem(batch, weights, data)


# ---- the floor, and the context row -------------------------------------------------------------


class NumpyBPTT:
    """The floor: forward storing the hidden states, backward through time, SGD in place."""

    def __init__(self, problem: Problem) -> None:
        self.W_xh, self.W_hh, self.b_h, self.W_hy, self.b_y = (w.copy() for w in problem.weights)

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        forward, loss_grad, backward, update = self.forward, self.loss_grad, self.backward, self.update
        for X, y in data:
            hs, z = forward(X)
            loss, dz = loss_grad(z, y)
            update(backward(X, hs, dz))
            if losses is not None:
                losses.append(float(loss))

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """hs[t] = tanh(x_t W_xhᵀ + h_{t-1} W_hhᵀ + b_h) with h_0 = 0; z = h_T W_hyᵀ + b_y."""
        W_xh, W_hh, b_h = self.W_xh, self.W_hh, self.b_h
        T, N = X.shape[:2]
        hs = np.empty((T, N, HIDDEN))
        a = X[0] @ W_xh.T
        a += b_h
        np.tanh(a, out=hs[0])
        for t in range(1, T):
            a = X[t] @ W_xh.T
            a += hs[t - 1] @ W_hh.T
            a += b_h
            np.tanh(a, out=hs[t])
        z = hs[-1] @ self.W_hy.T
        z += self.b_y
        return hs, z

    def loss_grad(self, z: np.ndarray, y: np.ndarray) -> tuple[Any, np.ndarray]:
        """Mean softmax cross-entropy (log-sum-exp, max subtracted) and dz = (softmax - onehot) / N, in z."""
        N = len(y)
        rows = np.arange(N)
        z -= z.max(axis=1, keepdims=True)
        picked = z[rows, y]
        np.exp(z, out=z)
        total = z.sum(axis=1, keepdims=True)
        loss = np.log(total).mean() - picked.mean()
        z /= total
        z[rows, y] -= 1.0
        z /= N
        return loss, z

    def backward(self, X: np.ndarray, hs: np.ndarray, dz: np.ndarray) -> tuple[np.ndarray, ...]:
        """Through time from the last step, the weight gradients accumulated at each step."""
        W_hh = self.W_hh
        gW_hy = dz.T @ hs[-1]
        gb_y = dz.sum(axis=0)
        dh = dz @ self.W_hy
        gW_xh = np.zeros_like(self.W_xh)
        gW_hh = np.zeros_like(W_hh)
        gb_h = np.zeros_like(self.b_h)
        for t in range(len(X) - 1, -1, -1):
            h = hs[t]
            da = dh * (1.0 - h * h)  # through tanh
            gW_xh += da.T @ X[t]
            gb_h += da.sum(axis=0)
            if t:
                gW_hh += da.T @ hs[t - 1]
                dh = da @ W_hh
        return gW_xh, gW_hh, gb_h, gW_hy, gb_y

    def update(self, grads: tuple[np.ndarray, ...]) -> None:
        for w, g in zip((self.W_xh, self.W_hh, self.b_h, self.W_hy, self.b_y), grads):
            w -= LR * g

    def parameters(self) -> list[np.ndarray]:
        return [w.copy() for w in (self.W_xh, self.W_hh, self.b_h, self.W_hy, self.b_y)]


class NumpyBatchedBPTT(NumpyBPTT):
    """Context: the input projection before the loop, the weight gradients after it, one matmul each."""

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        T, N = X.shape[:2]
        A = (X.reshape(T * N, INPUT) @ self.W_xh.T).reshape(T, N, HIDDEN)
        A += self.b_h
        hs = np.empty((T, N, HIDDEN))
        np.tanh(A[0], out=hs[0])
        for t in range(1, T):
            a = hs[t - 1] @ self.W_hh.T
            a += A[t]
            np.tanh(a, out=hs[t])
        z = hs[-1] @ self.W_hy.T
        z += self.b_y
        return hs, z

    def backward(self, X: np.ndarray, hs: np.ndarray, dz: np.ndarray) -> tuple[np.ndarray, ...]:
        T, N = X.shape[:2]
        W_hh = self.W_hh
        gW_hy = dz.T @ hs[-1]
        gb_y = dz.sum(axis=0)
        dh = dz @ self.W_hy
        das = np.empty((T, N, HIDDEN))
        for t in range(T - 1, -1, -1):
            h = hs[t]
            da = np.multiply(dh, 1.0 - h * h, out=das[t])
            if t:
                dh = da @ W_hh
        flat_da = das.reshape(T * N, HIDDEN)
        gW_xh = flat_da.T @ X.reshape(T * N, INPUT)
        gW_hh = flat_da[N:].T @ hs[:-1].reshape((T - 1) * N, HIDDEN)
        gb_h = flat_da.sum(axis=0)
        return gW_xh, gW_hh, gb_h, gW_hy, gb_y


# ---- chainrule: eager, compile + the user's loop, compile_step --------------------------------


class TanhRNN(nn.Module):
    """h_t = tanh(x_t W_xhᵀ + h_{t-1} W_hhᵀ + b_h) over the sequence x (T, N, I); a linear readout of h_T."""

    def __init__(self, weights: list[np.ndarray]) -> None:
        super().__init__()
        W_xh, W_hh, b_h, W_hy, b_y = (w.copy() for w in weights)
        self.weight_xh = nn.Parameter(W_xh)
        self.weight_hh = nn.Parameter(W_hh)
        self.bias_h = nn.Parameter(b_h)
        self.readout = nn.Linear(HIDDEN, OUTPUT)
        self.readout.weight.data = W_hy
        self.readout.bias.data = b_y

    def forward(self, x: Any) -> Tensor:
        h = None
        for t in range(x.shape[0]):
            with scope(f"t={t + 1}"):
                a = autograd.linear(x[t], self.weight_xh, self.bias_h)
                if h is not None:  # h_0 = 0: no W_hh term at the first step
                    a = a + autograd.linear(h, self.weight_hh)
                h = a.tanh()
        return self.readout(h)

    def flat_parameters(self) -> list[Any]:
        return [self.weight_xh, self.weight_hh, self.bias_h, self.readout.weight, self.readout.bias]


class EagerTrainer:
    """The model above, ``F.cross_entropy``, ``nn.optim.SGD``: zero_grad, backward, step."""

    def __init__(self, problem: Problem) -> None:
        self.model = model = TanhRNN(problem.weights)
        self.opt = nn.optim.SGD(model.flat_parameters(), lr=LR)
        self.loss_fn = lambda x, y: F.cross_entropy(model(x), y)

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        loss_fn, opt = self.loss_fn, self.opt
        for x, y in data:
            loss = loss_fn(x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if losses is not None:
                losses.append(loss.item())

    def parameters(self) -> list[np.ndarray]:
        return [np.array(p.data, dtype=np.float64) for p in self.model.flat_parameters()]


class CompiledTrainer(EagerTrainer):
    """``autograd.compile`` of the same loss function; the same ``nn.optim.SGD`` loop around it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.loss_fn = compile(self.loss_fn)

    def warm(self, data: list) -> None:
        self.loss_fn(*data[0])  # compile before timing (every batch has the same signature)

    @property
    def compile_seconds(self) -> float:
        return self.loss_fn.last.compile_seconds


class StepTrainer(CompiledStepLoop, EagerTrainer):
    """``nn.compile_step(model, F.cross_entropy, opt)``: one generated function per step."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.step = nn.compile_step(self.model, F.cross_entropy, self.opt)

    def warm(self, data: list) -> None:
        self.step.prepare(*data[0])  # compiles, takes no step


# ---- PyTorch ----------------------------------------------------------------------------------


class TorchTrainer:
    """The same module in PyTorch (float64, one thread), ``torch.optim.SGD``."""

    def __init__(self, problem: Problem) -> None:
        self.params = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in problem.weights]
        self.opt = torch.optim.SGD(self.params, lr=LR)

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        W_xh, W_hh, b_h, W_hy, b_y = self.params
        linear, tanh, cross_entropy, opt = torch_F.linear, torch.tanh, torch_F.cross_entropy, self.opt
        for x, y in data:
            h = tanh(linear(x[0], W_xh, b_h))
            for t in range(1, x.shape[0]):
                h = tanh(linear(x[t], W_xh, b_h) + linear(h, W_hh))
            loss = cross_entropy(linear(h, W_hy, b_y), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if losses is not None:
                losses.append(loss.item())

    def parameters(self) -> list[np.ndarray]:
        return [p.detach().numpy().astype(np.float64) for p in self.params]
