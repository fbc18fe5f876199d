"""The hand-written numpy floors, and the 10-315 handout's own procedural numpy code (context).

Explicit forward and backward formulas and in-place updates: what a training step costs
without any autodiff, against which the goals are judged.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .trainers import Trainer
from .workloads import Workload

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "ocr"))
import procedural  # noqa: E402  (the 10-315 handout's procedural numpy API, for the context row)


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
