"""The engines' training loops: the ``Trainer`` interface, chainrule's and PyTorch's.

A Trainer owns a model and an optimiser, built from the workload's initial weights.
``epoch`` is the timed loop, written the way a user of that engine would write it;
``forward / loss / zero_grad / backward / step`` are the same step cut into phases,
used only by the instrumented (phase) pass. The hand-written numpy floors are in
``numpy_trainers.py``.
"""

from __future__ import annotations

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

from .workloads import Workload


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


class CompiledStepLoop:
    """The loop of a trainer whose ``self.step`` is an ``nn.compile_step``: one call per batch
    (``bench_compile.py``'s MLP trainer and ``training/rnn.py``'s RNN trainer share it)."""

    step: Any

    @property
    def compile_seconds(self) -> float:
        return self.step.last[0].compile_seconds

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        step = self.step
        if losses is None:
            for x, y in data:
                step(x, y)
        else:
            for x, y in data:
                losses.append(step(x, y))


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

    def step_loss(self, x: Any, y: Any) -> Tensor:
        """The loss of one step: ``bench_compile.py``'s compiled trainer swaps in its compiled function."""
        return F.cross_entropy(self.model(x), y)

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        step_loss = self.step_loss
        if self.manual:
            params, lr = self.params, self.lr
            for x, y in data:
                loss = step_loss(x, y)
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
            loss = step_loss(x, y)
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
