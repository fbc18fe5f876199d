"""Training-loop speed: chainrule vs hand-written numpy and PyTorch on the course documents' two networks.

Run from the repository root::

    python benchmarks/bench_training.py             # full: 5 repeats (20 minibatch), 9,000 per-example steps
    python benchmarks/bench_training.py --quick     # 3 repeats (12 minibatch), 2,000 per-example steps
    python benchmarks/bench_training.py --profile   # also cProfile chainrule on both workloads

Two workloads, each one epoch of (forward, loss, zero_grad, backward, step):

(1) the MLP of CMU 11-785 homework 1 (MyTorch), 784-64-64-32-10, sigmoid hidden
    activations (``--activation relu`` for ReLU), softmax cross-entropy (mean over the
    batch), batch 100, SGD lr 0.008 with momentum 0.9 (PyTorch's form b <- 0.9 b + g;
    p <- p - lr b), on 5,000 synthetic MNIST-shaped examples (784 values in [0, 1),
    10 classes): 50 steps.
(2) the per-example SGD of CMU 10-601 homework 5: 128-50-10, sigmoid hidden layer,
    softmax cross-entropy, plain SGD lr 0.1, batch size 1 (1-d input vectors), over
    9,000 synthetic binary 0/1 inputs once (2,000 with --quick).

Engines: hand-written numpy (the floor: explicit forward/backward formulas, in-place
updates; the goals are judged against it), for (2) also CMU 10-315 homework 2's own
procedural numpy code as the handout has students write it (context only), chainrule
(``nn.MLP``, ``nn.functional.cross_entropy``, ``nn.optim.SGD``) and PyTorch on the CPU with one
thread (``torch.nn.Sequential``, ``F.cross_entropy``, ``torch.optim.SGD``); float64 rows
and, for (1), float32 rows. Every engine starts from the same initial weights (PyTorch's
U[-1/sqrt(in), 1/sqrt(in)], copied) and sees the
same batches in the same order.

Before anything is timed, every engine trains 3 steps and then one full (untimed,
warm-up) epoch from the initial weights; per-step losses and final parameters must
match the numpy float64 engine to 1e-8 (float64 rows) or 1e-3 (float32 rows), else the
script stops. Timings are medians over repeats of one epoch; the engines run round-robin
within each repeat (each from freshly copied weights and a fresh optimiser, built outside
the timed region), ``gc.collect()`` runs before each, and the collector stays enabled
while timing. A second, instrumented pass splits each step into phases. This is a
script, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import math
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

import nn
from autograd import Tensor
from nn import functional as F

try:
    import torch
    import torch.nn.functional as torch_F
except ImportError:  # pragma: no cover - optional
    torch = None

try:
    import threadpoolctl
except ImportError:  # pragma: no cover - optional
    threadpoolctl = None

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(ROOT / "examples" / "ocr"))
import procedural  # noqa: E402  (the 10-315 handout's procedural numpy API, for the context row)

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

CHECK_STEPS = 3
TOLERANCE = {"float64": 1e-8, "float32": 1e-3}  # vs numpy float64, absolute (losses, params)

NOISY = 1.25  # a row whose median is this much above its fastest repeat is flagged as noisy
MB_REPEATS_FACTOR = 4  # a minibatch epoch takes ~0.1 s: more repeats, a steadier median

GOAL_MINIBATCH = 1.2  # chainrule / numpy, minibatch
GOAL_PER_EXAMPLE = 2.0  # chainrule / numpy, per-example (and faster than torch)


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


# ---- engines ----------------------------------------------------------------------------
#
# A Trainer owns a model and an optimiser, built from the workload's initial weights.
# ``epoch`` is the timed loop, written the way a user of that engine would write it;
# ``forward / loss / zero_grad / backward / step`` are the same step cut into phases,
# used only by the instrumented (phase) pass.


class Trainer:
    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        raise NotImplementedError

    def parameters(self) -> list[np.ndarray]:
        """Float64 copies, in the common layout [W1 (out, in), b1, W2, b2, ...]."""
        raise NotImplementedError

    def forward(self, x: Any) -> Any:
        raise NotImplementedError

    def loss(self, out: Any, y: Any) -> Any:
        raise NotImplementedError

    def zero_grad(self) -> None:
        pass

    def backward(self, loss: Any) -> None:
        raise NotImplementedError

    def step(self) -> None:
        raise NotImplementedError


class NumpyMinibatch(Trainer):
    """The floor for (1): explicit formulas, weights stored (in, out), in-place where it helps.

    Forward: z = h W + b; sigmoid as 1 / (1 + e^-z) in place; softmax cross-entropy with
    the max subtracted. Backward: dz = (p - onehot) / n, dW = hᵀ dz, db = Σ dz,
    dh = dz Wᵀ, dz = dh ⊙ h(1 - h) (the input layer's dx is not computed). Step:
    v <- μ v + g; W <- W - lr v.
    """

    def __init__(self, work: Workload, dtype: Any) -> None:
        self.W = [np.ascontiguousarray(w.T, dtype=dtype) for w, _ in work.weights]
        self.b = [b.astype(dtype) for _, b in work.weights]
        self.vW = [np.zeros_like(w) for w in self.W]
        self.vb = [np.zeros_like(b) for b in self.b]
        self.gW: list[np.ndarray] = [None] * len(self.W)  # type: ignore[list-item]
        self.gb: list[np.ndarray] = [None] * len(self.b)  # type: ignore[list-item]
        self.lr, self.mu = work.lr, work.momentum
        self.relu = work.activation == "relu"
        self.rows = np.arange(work.batch)
        self.acts: list[np.ndarray] = []
        self.p: np.ndarray | None = None
        self.y: np.ndarray | None = None
        self.batch_rows = self.rows

    def forward(self, x: np.ndarray) -> np.ndarray:
        acts = [x]
        h = x
        for W, b in zip(self.W[:-1], self.b[:-1]):
            z = h @ W
            z += b
            if self.relu:
                np.maximum(z, 0, out=z)
            else:
                np.negative(z, out=z)
                np.exp(z, out=z)
                z += 1.0
                np.reciprocal(z, out=z)
            acts.append(z)
            h = z
        self.acts = acts
        logits = h @ self.W[-1]
        logits += self.b[-1]
        return logits

    def loss(self, logits: np.ndarray, y: np.ndarray) -> float:
        rows = self.rows if len(y) == len(self.rows) else np.arange(len(y))
        logits -= logits.max(axis=1, keepdims=True)
        picked = logits[rows, y]
        np.exp(logits, out=logits)
        total = logits.sum(axis=1, keepdims=True)
        loss = np.log(total).mean() - picked.mean()
        logits /= total  # softmax probabilities
        self.p, self.y, self.batch_rows = logits, y, rows
        return loss

    def backward(self, loss: float) -> None:
        g = self.p
        g[self.batch_rows, self.y] -= 1.0
        g /= len(self.y)
        for i in range(len(self.W) - 1, -1, -1):
            a = self.acts[i]
            self.gW[i] = a.T @ g
            self.gb[i] = g.sum(axis=0)
            if i:
                g = g @ self.W[i].T
                if self.relu:
                    g *= a > 0
                else:
                    d = 1.0 - a
                    d *= a
                    g *= d

    def step(self) -> None:
        lr, mu = self.lr, self.mu
        for W, v, g in zip(self.W + self.b, self.vW + self.vb, self.gW + self.gb):
            v *= mu
            v += g
            W -= lr * v

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        forward, loss_fn, backward, step = self.forward, self.loss, self.backward, self.step
        for x, y in data:
            loss = loss_fn(forward(x), y)
            backward(loss)
            step()
            if losses is not None:
                losses.append(float(loss))

    def parameters(self) -> list[np.ndarray]:
        return [a for W, b in zip(self.W, self.b) for a in (W.T.astype(np.float64), b.astype(np.float64))]


class NumpyPerExample(Trainer):
    """The floor for (2): one example (1-d x) at a time, one hidden sigmoid layer.

    h = σ(W1 x + b1); p = softmax(W2 h + b2); loss = log Σ e^z - z_y;
    dz2 = p - onehot(y); dW2 = dz2 hᵀ; dz1 = (W2ᵀ dz2) ⊙ h(1 - h); dW1 = dz1 xᵀ;
    W <- W - lr dW.
    """

    def __init__(self, work: Workload, dtype: Any) -> None:
        assert len(work.weights) == 2, "the per-example floor is written for one hidden layer"
        (W1, b1), (W2, b2) = work.weights
        self.W1, self.b1 = W1.astype(dtype), b1.astype(dtype)
        self.W2, self.b2 = W2.astype(dtype), b2.astype(dtype)
        self.lr = work.lr

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        W1, b1, W2, b2, lr = self.W1, self.b1, self.W2, self.b2, self.lr
        exp, log, outer = np.exp, math.log, np.multiply.outer
        for x, y in data:
            # forward
            h = W1 @ x
            h += b1
            np.negative(h, out=h)
            exp(h, out=h)
            h += 1.0
            np.reciprocal(h, out=h)
            z = W2 @ h
            z += b2
            # loss: log-sum-exp with the max subtracted
            z -= z.max()
            picked = z[y]
            exp(z, out=z)
            total = z.sum()
            loss = log(total) - picked
            if losses is not None:
                losses.append(float(loss))
            z /= total  # p
            # backward
            z[y] -= 1.0  # dz2
            dh = z @ W2  # W2ᵀ dz2, before W2 changes
            dh *= h
            dh *= 1.0 - h
            # step
            W2 -= lr * outer(z, h)
            b2 -= lr * z
            W1 -= lr * outer(dh, x)
            b1 -= lr * dh

    # the same step cut into phases (for the phase table only)
    def forward(self, x: np.ndarray) -> np.ndarray:
        h = self.W1 @ x
        h += self.b1
        np.negative(h, out=h)
        np.exp(h, out=h)
        h += 1.0
        np.reciprocal(h, out=h)
        self.x, self.h = x, h
        z = self.W2 @ h
        z += self.b2
        return z

    def loss(self, z: np.ndarray, y: Any) -> float:
        z -= z.max()
        picked = z[y]
        np.exp(z, out=z)
        total = z.sum()
        loss = math.log(total) - picked
        z /= total
        self.p, self.y = z, y
        return loss

    def backward(self, loss: float) -> None:
        dz = self.p
        dz[self.y] -= 1.0
        dh = dz @ self.W2
        dh *= self.h
        dh *= 1.0 - self.h
        self.grads = (np.multiply.outer(dz, self.h), dz, np.multiply.outer(dh, self.x), dh)

    def step(self) -> None:
        lr = self.lr
        for p, g in zip((self.W2, self.b2, self.W1, self.b1), self.grads):
            p -= lr * g

    def parameters(self) -> list[np.ndarray]:
        return [a.astype(np.float64) for a in (self.W1, self.b1, self.W2, self.b2)]


class SeedProcedural(Trainer):
    """Context for (2), not a goal: the 10-315 handout's own numpy code, as students write it.

    ``examples/ocr/procedural.py``: NNForward / NNBackward (linearForward, sigmoidForward,
    softmaxForward, crossEntropy and their backward functions), biases folded into α and β
    as column 0 (x carries a leading 1), a one-hot target per example, and the out-of-place
    update α ← α − lr g_α of the handout's SGD loop.
    """

    def __init__(self, work: Workload, dtype: Any) -> None:
        assert len(work.weights) == 2, "the 10-315 handout's procedural API has one hidden layer"
        (W1, b1), (W2, b2) = work.weights
        self.alpha = np.column_stack([b1, W1]).astype(dtype)
        self.beta = np.column_stack([b2, W2]).astype(dtype)
        self.lr, self.classes = work.lr, work.sizes[-1]

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        forward, backward, one_hot = procedural.NNForward, procedural.NNBackward, procedural._one_hot
        alpha, beta, lr, classes = self.alpha, self.beta, self.lr, self.classes
        for x, label in data:  # as in procedural.SGD
            y = one_hot(label, classes)
            x, a, z, b, y_hat, J = forward(x, y, alpha, beta)
            g_alpha, g_beta, *_ = backward(x, y, alpha, beta, z, y_hat)
            alpha = alpha - lr * g_alpha
            beta = beta - lr * g_beta
            if losses is not None:
                losses.append(J)
        self.alpha, self.beta = alpha, beta

    # the same step cut into phases (NNForward's body split into forward and loss; NNBackward as
    # is), for the phase table only
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x, self.a = x, procedural.linearForward(x, self.alpha)
        self.z = np.concatenate([[1.0], procedural.sigmoidForward(self.a)])
        return procedural.linearForward(self.z, self.beta)

    def loss(self, b: np.ndarray, label: Any) -> float:
        self.y = procedural._one_hot(label, self.classes)
        self.y_hat = procedural.softmaxForward(b)
        return procedural.crossEntropy(self.y, self.y_hat)

    def backward(self, loss: float) -> None:
        self.g_alpha, self.g_beta, *_ = procedural.NNBackward(
            self.x, self.y, self.alpha, self.beta, self.z, self.y_hat
        )

    def step(self) -> None:
        self.alpha = self.alpha - self.lr * self.g_alpha
        self.beta = self.beta - self.lr * self.g_beta

    def parameters(self) -> list[np.ndarray]:
        return [np.array(a, dtype=np.float64) for a in
                (self.alpha[:, 1:], self.alpha[:, 0], self.beta[:, 1:], self.beta[:, 0])]


class ChainruleTrainer(Trainer):
    """``nn.MLP`` + ``nn.functional.cross_entropy`` + ``nn.optim.SGD`` (or a manual update)."""

    def __init__(self, work: Workload, dtype: Any, manual: bool = False) -> None:
        self.model = nn.MLP(work.sizes[0], list(work.sizes[1:-1]), work.sizes[-1],
                            activation=work.activation, generator=np.random.default_rng(0))
        linears = [m for m in self.model if isinstance(m, nn.Linear)]
        for layer, (W, b) in zip(linears, work.weights):
            layer.weight.data = W.astype(dtype)  # fresh copies in the engine's dtype
            layer.bias.data = b.astype(dtype)
        self.params = list(self.model.parameters())
        self.manual = manual
        self.lr = work.lr
        if manual:
            assert work.momentum == 0.0, "the manual update is plain SGD"
        else:
            self.opt = nn.optim.SGD(self.params, lr=work.lr, momentum=work.momentum)

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        model, cross_entropy = self.model, F.cross_entropy
        if self.manual:
            params, lr = self.params, self.lr
            for x, y in data:
                loss = cross_entropy(model(x), y)
                for p in params:
                    p.grad = None
                loss.backward()
                for p in params:
                    p.data -= lr * p.grad.data
                if losses is not None:
                    losses.append(loss.item())
            return
        opt = self.opt
        for x, y in data:
            loss = cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if losses is not None:
                losses.append(loss.item())

    def forward(self, x: Any) -> Tensor:
        return self.model(x)

    def loss(self, out: Tensor, y: Any) -> Tensor:
        return F.cross_entropy(out, y)

    def zero_grad(self) -> None:
        if self.manual:
            for p in self.params:
                p.grad = None
        else:
            self.opt.zero_grad()

    def backward(self, loss: Tensor) -> None:
        loss.backward()

    def step(self) -> None:
        if self.manual:
            for p in self.params:
                p.data -= self.lr * p.grad.data
        else:
            self.opt.step()

    def parameters(self) -> list[np.ndarray]:
        return [np.array(p.data, dtype=np.float64) for p in self.params]

    def dtypes(self) -> set[str]:
        return {str(p.dtype) for p in self.params}


class TorchTrainer(Trainer):
    """``torch.nn.Sequential`` of Linear + activation, ``F.cross_entropy``, ``torch.optim.SGD``."""

    def __init__(self, work: Workload, dtype: Any) -> None:
        act = torch.nn.ReLU if work.activation == "relu" else torch.nn.Sigmoid
        layers: list[Any] = []
        for i, (n_in, n_out) in enumerate(zip(work.sizes[:-1], work.sizes[1:])):
            layers.append(torch.nn.Linear(n_in, n_out, dtype=dtype))
            if i < len(work.sizes) - 2:
                layers.append(act())
        self.model = torch.nn.Sequential(*layers)
        linears = [m for m in self.model if isinstance(m, torch.nn.Linear)]
        with torch.no_grad():
            for layer, (W, b) in zip(linears, work.weights):
                layer.weight.copy_(torch.from_numpy(W))
                layer.bias.copy_(torch.from_numpy(b))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=work.lr, momentum=work.momentum)

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        model, opt, cross_entropy = self.model, self.opt, torch_F.cross_entropy
        for x, y in data:
            loss = cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if losses is not None:
                losses.append(loss.item())

    def forward(self, x: Any) -> Any:
        return self.model(x)

    def loss(self, out: Any, y: Any) -> Any:
        return torch_F.cross_entropy(out, y)

    def zero_grad(self) -> None:
        self.opt.zero_grad()

    def backward(self, loss: Any) -> None:
        loss.backward()

    def step(self) -> None:
        self.opt.step()

    def parameters(self) -> list[np.ndarray]:
        return [p.detach().numpy().astype(np.float64) for p in self.model.parameters()]


@dataclass
class Engine:
    name: str
    dtype: str  # "float64" / "float32"
    kind: str  # "numpy" / "chainrule" / "torch": which rows the ratios are taken against
    make: Callable[[Workload], Trainer]
    prepare: Callable[[list], list]  # numpy (x, y) pairs -> what this engine's loop consumes
    note: str = ""


def _numpy_data(pairs: list) -> list:
    return pairs


def _seed_data(pairs: list) -> list:
    # the 10-315 handout's SGD adds the bias feature to the whole matrix before its loop
    return [(np.concatenate([[1.0], x]), y) for x, y in pairs]


def _chainrule_data(pairs: list) -> list:
    # inputs as Tensors made outside the timed loop (as torch gets tensors); targets
    # stay integer arrays (or numpy ints per example), which cross_entropy accepts
    return [(Tensor(x), y) for x, y in pairs]


def _torch_data(pairs: list) -> list:
    return [(torch.from_numpy(np.asarray(x)), torch.as_tensor(y)) for x, y in pairs]


def make_engines(work: Workload, dtypes: tuple[str, ...]) -> list[Engine]:
    engines: list[Engine] = []
    per_example = work.batch is None
    for dtype in dtypes:
        np_dtype = np.dtype(dtype)
        floor = NumpyPerExample if per_example else NumpyMinibatch
        engines.append(Engine("numpy (hand-written)", dtype, "numpy",
                              lambda w, c=floor, d=np_dtype: c(w, d), _numpy_data, "the floor"))
        optimiser = "nn.optim.SGD" + ("" if per_example else "(momentum=0.9)")
        engines.append(Engine("chainrule", dtype, "chainrule",
                              lambda w, d=np_dtype: ChainruleTrainer(w, d), _chainrule_data,
                              f"nn.MLP, F.cross_entropy, {optimiser}"))
        if per_example and dtype == "float64":
            engines.append(Engine("numpy (10-315 HW2)", dtype, "seed",
                                  lambda w, d=np_dtype: SeedProcedural(w, d), _seed_data,
                                  "context: the handout's procedural code"))
        if per_example:
            engines.append(Engine("chainrule manual", dtype, "chainrule-manual",
                                  lambda w, d=np_dtype: ChainruleTrainer(w, d, manual=True),
                                  _chainrule_data, "p.grad = None; p.data -= lr * p.grad.data"))
        if torch is not None:
            t_dtype = getattr(torch, dtype)
            engines.append(Engine("torch", dtype, "torch", lambda w, d=t_dtype: TorchTrainer(w, d),
                                  _torch_data, "1 thread; nn.Sequential, torch.optim.SGD"))
    return engines


# ---- measuring ----------------------------------------------------------------------------


@dataclass
class Result:
    engine: Engine
    times: list[float] = field(default_factory=list)
    phases: dict[str, list[float]] = field(default_factory=dict)
    error: str = ""
    note: str = ""


def max_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def check_agreement(work: Workload, engines: list[Engine], data: dict[str, list],
                    results: dict[str, Result]) -> None:
    """Train CHECK_STEPS steps, then a full warm-up epoch, with every engine; compare."""
    for label, count in ((f"{CHECK_STEPS} steps", CHECK_STEPS), ("1 epoch", None)):
        reference: tuple[list[float], list[np.ndarray]] | None = None
        for engine in engines:
            result = results[key(engine)]
            if result.error:
                continue
            gc.collect()
            try:
                trainer = engine.make(work)
                losses: list[float] = []
                trainer.epoch(data[key(engine)][:count], losses)
                params = trainer.parameters()
            except Exception as error:  # noqa: BLE001 - reported in the table
                result.error = f"{type(error).__name__}: {error}"[:160]
                print(f"  {label:>8}: {key(engine):<28} FAILED ({result.error})")
                continue
            if isinstance(trainer, ChainruleTrainer) and trainer.dtypes() != {engine.dtype}:
                result.note = f"parameters became {sorted(trainer.dtypes())}"
            if reference is None:  # the first engine: numpy float64
                reference = (losses, params)
                print(f"  {label:>8}: {key(engine):<28} reference: loss {losses[0]:.10f} -> "
                      f"{losses[-1]:.10f} over {len(losses)} steps")
                continue
            ref_losses, ref_params = reference
            d_loss = max(abs(a - b) for a, b in zip(losses, ref_losses))
            d_param = max_diff(params, ref_params)
            tol = TOLERANCE[engine.dtype]
            ok = d_loss <= tol and d_param <= tol and len(losses) == len(ref_losses)
            print(f"  {label:>8}: {key(engine):<28} max |loss diff| {d_loss:.1e}, "
                  f"max |param diff| {d_param:.1e} (tol {tol:.0e}) {'ok' if ok else 'MISMATCH'}")
            if not ok:
                raise SystemExit(f"{work.key}: {key(engine)} disagrees with numpy float64")


def key(engine: Engine) -> str:
    return f"{engine.name} {engine.dtype}"


def measure(work: Workload, engines: list[Engine], repeats: int,
            phase_repeats: int) -> dict[str, Result]:
    pairs = {dtype: batches(work, dtype) for dtype in {e.dtype for e in engines}}
    data = {key(e): e.prepare(pairs[e.dtype]) for e in engines}
    results = {key(e): Result(e) for e in engines}
    check_agreement(work, engines, data, results)
    live = [e for e in engines if not results[key(e)].error]
    for _ in range(repeats):
        for engine in live:
            trainer = engine.make(work)
            gc.collect()
            t0 = time.perf_counter()
            trainer.epoch(data[key(engine)])
            results[key(engine)].times.append(time.perf_counter() - t0)
            del trainer
    for _ in range(phase_repeats):
        for engine in live:
            trainer = engine.make(work)
            gc.collect()
            phases = phased_epoch(trainer, data[key(engine)])
            for name, seconds in phases.items():
                results[key(engine)].phases.setdefault(name, []).append(seconds)
            del trainer
    gc.collect()
    return results


PHASES = ("forward", "loss", "zero_grad", "backward", "step")


def phased_epoch(trainer: Trainer, data: list) -> dict[str, float]:
    """One epoch with a perf_counter between phases (adds ~0.3 µs per step of timer calls)."""
    clock = time.perf_counter
    forward, loss_fn, zero_grad = trainer.forward, trainer.loss, trainer.zero_grad
    backward, step = trainer.backward, trainer.step
    totals = [0.0] * 5
    for x, y in data:
        t0 = clock()
        out = forward(x)
        t1 = clock()
        loss = loss_fn(out, y)
        t2 = clock()
        zero_grad()
        t3 = clock()
        backward(loss)
        t4 = clock()
        step()
        t5 = clock()
        totals[0] += t1 - t0
        totals[1] += t2 - t1
        totals[2] += t3 - t2
        totals[3] += t4 - t3
        totals[4] += t5 - t4
    return dict(zip(PHASES, totals))


def count_nodes(work: Workload) -> int:
    """Graph nodes recorded by one chainrule training step's forward + loss."""
    trainer = ChainruleTrainer(work, np.float64)
    x, y = _chainrule_data(batches(work, np.float64)[:1])[0]
    loss = trainer.loss(trainer.forward(x), y)
    seen, stack = set(), [loss]
    while stack:
        node = stack.pop().grad_fn
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(node.inputs)
    return len(seen)


# ---- reporting ------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(work: Workload, results: dict[str, Result]) -> None:
    steps = work.steps
    print(f"  {'engine':<22}{'dtype':<9}{'s/epoch':>9}{'min':>9}{'µs/step':>10}"
          f"{'s/1k steps':>11}{'vs numpy':>10}{'vs torch':>10}   note")
    by_kind = {(r.engine.kind, r.engine.dtype): r for r in results.values() if r.times}
    for r in results.values():
        e = r.engine
        if not r.times:
            print(f"  {e.name:<22}{e.dtype:<9}{'skipped':>9}   {r.error or e.note}")
            continue
        t = median(r.times)
        ratios = []
        for kind in ("numpy", "torch"):
            base = by_kind.get((kind, e.dtype))
            ratios.append(f"{t / median(base.times):9.2f}x" if base and base is not r else f"{'-':>10}")
        flag = f"NOISY (median {t / min(r.times):.1f}x min)" if noisy(r) else ""
        note = "; ".join(n for n in (flag, e.note, r.note) if n)
        print(f"  {e.name:<22}{e.dtype:<9}{t:9.3f}{min(r.times):9.3f}{t / steps * 1e6:10.1f}"
              f"{t / steps * 1e3:11.3f}{ratios[0]}{ratios[1]}   {note}")
    print(f"  (ratios are against the numpy / torch row of the same dtype; >1: slower; "
          f"{steps:,} steps per epoch)")
    # Engines run round-robin within a repeat, so each repeat's chainrule/numpy ratio compares
    # two runs made seconds apart: a drift in the machine's speed cancels out of it.
    for r in results.values():
        base = by_kind.get(("numpy", r.engine.dtype))
        if r.engine.kind != "chainrule" or base is None or len(r.times) != len(base.times):
            continue
        if len(r.times) < 2:
            continue
        paired = sorted(c / n for c, n in zip(r.times, base.times))
        print(f"  chainrule/numpy {r.engine.dtype} per repeat: median {median(paired):.2f}x, "
              f"{paired[0]:.2f}x to {paired[-1]:.2f}x over {len(paired)} repeats")


def noisy(r: Result) -> bool:
    return bool(r.times) and median(r.times) > NOISY * min(r.times)


def print_phases(work: Workload, results: dict[str, Result]) -> None:
    steps = work.steps
    print("  phase split, µs per step (median of instrumented epochs; numpy's 'loss' "
          "includes softmax, its zero_grad is nothing):")
    print(f"  {'engine':<22}{'dtype':<9}" + "".join(f"{p:>10}" for p in PHASES) + f"{'sum':>10}"
          f"{'/timed':>8}")
    for r in results.values():
        if not r.phases:
            continue
        values = [median(r.phases[p]) / steps * 1e6 for p in PHASES]
        ratio = sum(values) / (median(r.times) / steps * 1e6) if r.times else float("nan")
        flag = "   NOISY: disagrees with the timed median" if not 1 / NOISY <= ratio <= NOISY else ""
        print(f"  {r.engine.name:<22}{r.engine.dtype:<9}" + "".join(f"{v:10.1f}" for v in values)
              + f"{sum(values):10.1f}{ratio:7.2f}x{flag}")


def print_overhead(work: Workload, results: dict[str, Result], nodes: int) -> None:
    floor = next((r for r in results.values() if r.engine.kind == "numpy"
                  and r.engine.dtype == "float64" and r.times), None)
    if floor is None:
        return
    for kind in ("chainrule", "chainrule-manual"):
        r = next((r for r in results.values() if r.engine.kind == kind
                  and r.engine.dtype == "float64" and r.times), None)
        if r is None:
            continue
        extra = (median(r.times) - median(floor.times)) / work.steps
        print(f"  {r.engine.name} float64 above the numpy floor: {extra * 1e6:.1f} µs per step; "
              f"over its {nodes} graph nodes per step that is {extra / nodes * 1e6:.2f} µs per node "
              "(if it were all per-node overhead)")


def goal_line(label: str, ok: bool, detail: str) -> str:
    return f"  [{'PASS' if ok else 'FAIL'}] {label}: {detail}"


def goals(mb: dict[str, Result] | None, pe: dict[str, Result] | None) -> list[str]:
    shaky: list[str] = []

    def t(results: dict[str, Result], kind: str) -> float | None:
        r = next((r for r in results.values() if r.engine.kind == kind
                  and r.engine.dtype == "float64" and r.times), None)
        if r is not None and noisy(r):
            shaky.append(key(r.engine))
        return median(r.times) if r else None

    lines = []
    if mb is not None:
        c, n = t(mb, "chainrule"), t(mb, "numpy")
        if c and n:
            lines.append(goal_line(f"minibatch within {GOAL_MINIBATCH}x numpy", c / n <= GOAL_MINIBATCH,
                                   f"chainrule/numpy = {c / n:.2f}x (float64)"))
    if pe is not None:
        n, tt = t(pe, "numpy"), t(pe, "torch")
        for kind in ("chainrule", "chainrule-manual"):
            c = t(pe, kind)
            if not (c and n and tt):
                continue
            ok = c / n <= GOAL_PER_EXAMPLE and c < tt
            name = "" if kind == "chainrule" else " (manual-update row, for information)"
            lines.append(goal_line(
                f"per-example within {GOAL_PER_EXAMPLE}x numpy and faster than torch{name}", ok,
                f"chainrule/numpy = {c / n:.2f}x, chainrule/torch = {c / tt:.2f}x (float64)"))
        c, seed = t(pe, "chainrule"), t(pe, "seed")
        if c and seed and n:
            lines.append(f"  (context, not a goal: the 10-315 handout's own numpy code is "
                         f"{seed / n:.2f}x the floor; "
                         f"chainrule/handout code = {c / seed:.2f}x)")
    if shaky:
        lines.append(f"  (NOISY rows behind these verdicts: {', '.join(sorted(set(shaky)))}; the machine was "
                     "busy: rerun, or try --blas-threads 1)")
    return lines


# ---- environment ---------------------------------------------------------------------------


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> None:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print(f"python {platform.python_version()} ({platform.python_implementation()}) on "
          f"{platform.platform()}; CPU {cpu}, {os.cpu_count()} logical cores")
    print(f"numpy {np.__version__}; chainrule {version('chainrule')}; torch "
          + (f"{torch.__version__} (threads={torch.get_num_threads()}, "
             f"MKL={torch.backends.mkl.is_available()}, "
             f"CPU capability {torch.backends.cpu.get_cpu_capability()})" if torch else "not installed"))
    env = {name: os.environ.get(name, "<unset>") for name in
           ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_") and k not in env})
    print("env: " + ", ".join(f"{k}={v}" for k, v in env.items()))
    print(f"numpy BLAS: {numpy_blas()}")
    print(f"chainrule code: {code_fingerprint()}")
    print(f"perf_counter resolution {time.get_clock_info('perf_counter').resolution:.0e} s; "
          f"gc enabled during timing: {gc.isenabled()}; {load()}")


def load() -> str:
    """The 1/5/15-minute load averages: other processes on a small machine skew the numbers
    (and a multi-threaded BLAS suffers most when a core it counts on is busy)."""
    try:
        return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "load average unknown"


def numpy_blas() -> str:
    if threadpoolctl is not None:
        libs = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"
                and "numpy" in i.get("filepath", "")] or [
            i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        if libs:
            return "; ".join(
                f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')} kernels, "
                f"{i.get('threading_layer', '?')}, num_threads={i.get('num_threads')}) "
                f"{Path(i.get('filepath', '')).name}" for i in libs)
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')} (threads unknown: no threadpoolctl)"
    except Exception:  # noqa: BLE001
        return "unknown"


def code_fingerprint() -> str:
    """Which chainrule code ran: git HEAD, dirty flags, and a hash of autograd/ and nn/ sources."""
    digest = hashlib.sha1()
    for package in ("autograd", "nn"):
        for path in sorted((ROOT / package).rglob("*.py")):
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = [p for p in ("autograd", "nn") if subprocess.run(
            ["git", "status", "--porcelain", "--", p], cwd=ROOT, text=True, capture_output=True,
            check=True).stdout.strip()]
        git = f"git {head}" + (f" + uncommitted changes in {', '.join(p + '/' for p in dirty)}"
                               if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        git = "not a git checkout"
    return f"{git}; autograd/ + nn/ *.py sha1 {digest.hexdigest()[:12]}"


# ---- profiling ------------------------------------------------------------------------------


def _category(filename: str, function: str) -> str:
    path = filename.replace("\\", "/")
    if "/autograd/ops/" in path:
        return "op rules: autograd/ops/* forward/backward (numpy + BLAS run inside)"
    if "/autograd/" in path:
        return "engine: autograd/tensors.py, engine.py, graph.py, grad_mode.py"
    if "/nn/" in path and "site-packages" not in path:
        return "nn: layers, module, functional, optim"
    if "/numpy/" in path:
        return "numpy Python-level wrappers (fromnumeric, shape_base, ...)"
    if path == "~" or filename.startswith("<"):
        return "built-in / C calls (np.* C functions, isinstance, dict ops, ...)"
    if "bench_training" in path:
        return "benchmark loop"
    return "other Python"


def profile_chainrule(work: Workload, top: int = 20) -> None:
    engine = next(e for e in make_engines(work, ("float64",)) if e.kind == "chainrule")
    data = engine.prepare(batches(work, np.float64))
    engine.make(work).epoch(data[:5])  # warm-up
    trainer = engine.make(work)
    gc.collect()
    t0 = time.perf_counter()
    trainer.epoch(data)
    plain = time.perf_counter() - t0
    trainer = engine.make(work)
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    trainer.epoch(data)
    profiler.disable()
    stats = pstats.Stats(profiler)
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    start = text.find("ncalls")
    header = text[:start].strip().splitlines()
    print(f"  unprofiled epoch {plain:.3f} s; {header[0].strip() if header else ''}")
    for line in text[start:].rstrip().splitlines():
        print("  " + line.replace(str(ROOT) + "/", "").replace(sys.prefix, "<venv>"))
    totals: dict[str, float] = {}
    for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():
        name = _category(filename, function)
        totals[name] = totals.get(name, 0.0) + tottime
    whole = sum(totals.values())
    print(f"  tottime by where the code lives (profiled total {whole:.3f} s; cProfile inflates "
          f"Python-heavy parts):")
    for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"    {seconds:8.3f} s {seconds / whole:6.1%}  {name}")


def _op_classes() -> list[type]:
    from autograd.graph import Op

    found, stack = [], [Op]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def op_rule_split(work: Workload, floor_seconds: float | None) -> None:
    """Time spent inside op rules (Op.forward / Op.backward: the numpy and BLAS work) vs outside.

    Every Op subclass's forward and backward is wrapped, for this one epoch only, with a
    perf_counter pair (outermost call only, so a rule calling another op is counted
    once). Outside the rules is everything else: graph recording, the backward pass's
    bookkeeping, module calls, loss plumbing, the optimiser (including its numpy update).
    """
    engine = next(e for e in make_engines(work, ("float64",)) if e.kind == "chainrule")
    data = engine.prepare(batches(work, np.float64))
    clock = time.perf_counter
    per_rule: dict[str, list] = {}  # "linear.backward" -> [seconds, calls]
    depth = [0]

    def timed(fn: Callable, label: str) -> Callable:
        def wrapper(self: Any, *args: Any) -> Any:
            if depth[0]:
                return fn(self, *args)
            depth[0] = 1
            t0 = clock()
            try:
                return fn(self, *args)
            finally:
                entry = per_rule.setdefault(f"{self.name}.{label}", [0.0, 0])
                entry[0] += clock() - t0
                entry[1] += 1
                depth[0] = 0

        return wrapper

    patched = []
    for cls in _op_classes():
        for name in ("forward", "backward"):
            if name in cls.__dict__:
                patched.append((cls, name, cls.__dict__[name]))
                setattr(cls, name, timed(cls.__dict__[name], name))
    try:
        engine.make(work).epoch(data[:5])  # warm-up
        per_rule.clear()
        trainer = engine.make(work)
        gc.collect()
        t0 = clock()
        trainer.epoch(data)
        total = clock() - t0
    finally:
        for cls, name, fn in patched:
            setattr(cls, name, fn)
    steps = work.steps
    rules = sum(seconds for seconds, _ in per_rule.values())
    calls = sum(n for _, n in per_rule.values())
    outside = total - rules
    print(f"  op-rule split, chainrule float64, {work.key} (wrapped epoch {total:.3f} s, "
          f"{calls / steps:.0f} rule calls per step):")
    print("    " + ", ".join(f"{label} {seconds / steps * 1e6:.1f}" for label, (seconds, _) in
                             sorted(per_rule.items(), key=lambda kv: -kv[1][0])) + "  (µs/step)")
    print(f"    inside op rules (numpy + BLAS)  {rules / steps * 1e6:9.1f} µs/step  {rules / total:6.1%}")
    print(f"    outside op rules (Python)       {outside / steps * 1e6:9.1f} µs/step  {outside / total:6.1%}"
          f"   ({outside / calls * 1e6:.2f} µs per rule call)")
    if floor_seconds:
        print(f"    numpy floor, forward+loss+backward {floor_seconds / steps * 1e6:6.1f} µs/step"
              f"   -> chainrule's op rules take {rules / floor_seconds:.2f}x as long")


# ---- main -----------------------------------------------------------------------------------


def run_workload(work: Workload, dtypes: tuple[str, ...], repeats: int,
                 phase_repeats: int) -> dict[str, Result]:
    nodes = count_nodes(work)
    print(f"\n{work.title}")
    print(f"  {len(work.X):,} examples -> {work.steps:,} steps per epoch; chainrule records "
          f"{nodes} graph nodes per step")
    engines = make_engines(work, dtypes)
    results = measure(work, engines, repeats, phase_repeats)
    print(f"  {load()} after timing")
    print()
    print_table(work, results)
    print()
    print_phases(work, results)
    print_overhead(work, results, nodes)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"3 repeats, {PE_EXAMPLES_QUICK:,} per-example steps")
    parser.add_argument("--repeats", type=int, help="override the number of timed repeats")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of chainrule (float64) on both workloads")
    parser.add_argument("--activation", choices=("sigmoid", "relu"), default="sigmoid",
                        help="hidden activation of the minibatch MLP (default sigmoid)")
    parser.add_argument("--only", choices=("minibatch", "per-example"), help="run one workload")
    parser.add_argument("--blas-threads", type=int,
                        help="limit numpy's BLAS threads via threadpoolctl (default: leave as is)")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    phase_repeats = min(3, repeats)
    per_example_n = PE_EXAMPLES_QUICK if args.quick else PE_EXAMPLES

    limiter = None
    if args.blas_threads is not None:
        if threadpoolctl is None:
            raise SystemExit("--blas-threads needs threadpoolctl")
        limiter = threadpoolctl.threadpool_limits(args.blas_threads, user_api="blas")
    if torch is not None:
        torch.set_num_threads(1)

    print("=" * 110)
    minibatch_note = ("" if args.only == "per-example"
                      else f" ({MB_REPEATS_FACTOR * repeats} for the short minibatch epoch)")
    print(f"chainrule training benchmark: medians over {repeats} repeats of one epoch{minibatch_note}"
          f"{' (--quick)' if args.quick else ''}, wall-clock time.perf_counter")
    environment()
    fingerprint = code_fingerprint()
    print("=" * 110)

    mb = pe = None
    if args.only in (None, "minibatch"):
        mb = run_workload(minibatch_workload(args.activation), ("float64", "float32"),
                          MB_REPEATS_FACTOR * repeats, phase_repeats)
    if args.only in (None, "per-example"):
        pe = run_workload(per_example_workload(per_example_n), ("float64",), repeats, phase_repeats)

    print("\nGoals")
    for line in goals(mb, pe):
        print(line)

    now = code_fingerprint()
    if now.rsplit(" ", 1)[-1] != fingerprint.rsplit(" ", 1)[-1]:  # the sources' hash, not git HEAD
        print(f"\nWARNING: autograd/ or nn/ changed during the run (now {now}); "
              "the numbers may mix two versions of the engine")

    if args.profile:
        runs = ([(minibatch_workload(args.activation), mb)] if mb is not None else []) + (
            [(per_example_workload(per_example_n), pe)] if pe is not None else [])
        for work, results in runs:
            floor = next((r for r in results.values() if r.engine.kind == "numpy"
                          and r.engine.dtype == "float64" and r.phases), None)
            floor_math = sum(median(floor.phases[p]) for p in ("forward", "loss", "backward")) \
                if floor else None
            print(f"\ncProfile of chainrule float64, one epoch of {work.key} ({work.steps:,} steps), "
                  f"top 20 by tottime (profiling adds overhead):")
            profile_chainrule(work)
            op_rule_split(work, floor_math)
    if limiter is not None:
        limiter.restore_original_limits()


if __name__ == "__main__":
    main()
