"""Optimisers: SGD (with momentum and Nesterov), Adam, AdamW, RMSprop — PyTorch's update rules.

An optimiser holds parameter groups (``param_groups``: dicts with the parameters and
their hyper-parameters) and per-parameter state (momentum buffers, moment estimates).
``step()`` updates the parameters in place, outside the graph; ``zero_grad()`` clears
their gradients.

>>> import numpy as np
>>> from nn import Parameter, optim
>>> w = Parameter([1.0, -2.0])
>>> opt = optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w.data
array([ 0.8, -1.6])
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

import autograd
from autograd import Tensor
from nn.optim import lr_scheduler  # noqa: F401  (nn.optim.lr_scheduler.StepLR)


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``step``, ``zero_grad`` and ``state_dict``.

    Each optimiser writes one method, ``_update``: the rule for one parameter. ``step`` calls
    it for every parameter that has a gradient. (``nn.compile_step`` calls the same
    ``_update`` from its generated training step.)
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups: list[dict[str, Any]] = []
        for group in groups:
            group = {**self.defaults, **group, "params": list(group["params"])}
            for p in group["params"]:
                if not isinstance(p, Tensor) or not p.requires_grad:
                    raise TypeError(f"{type(self).__name__}: can only optimise tensors that require grad")
            self.param_groups.append(group)
        self.state: dict[int, dict[str, Any]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None if set_to_none or p.grad is None else Tensor(np.zeros_like(p.data))

    def step(self) -> None:
        """Update every parameter that has a gradient, in place under ``no_grad``: p ← p − update."""
        with autograd.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state.get(id(p), {})
                    p.sub_(self._update(group, p.data, p.grad.data, state))
                    if state:  # kept once the rule stores something (plain SGD keeps none, as PyTorch's)
                        self.state[id(p)] = state

    def _update(
        self, group: dict[str, Any], value: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> np.ndarray:
        """The amount to subtract from the parameter: ``step`` does ``p ← p − update``.

        ``value`` and ``grad`` are the parameter's and its gradient's arrays (read them, do not
        change them); ``state`` is this parameter's dict of buffers, which the rule may fill.
        """
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters and state, with parameters numbered in group order (as PyTorch)."""
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {
            index[key]: {
                k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v) for k, v in s.items()
            }
            for key, s in self.state.items()
            if key in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        params = [p for group in self.param_groups for p in group["params"]]
        for group, saved in zip(self.param_groups, state_dict["param_groups"]):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {
            id(params[i]): {
                k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v) for k, v in s.items()
            }
            for i, s in state_dict["state"].items()
        }

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's form).

    With momentum μ: b ← μ b + (1 − dampening) g (b = g on the first step), then
    p ← p − lr·b (or p − lr·(g + μ b) with ``nesterov``). For a constant learning
    rate this is the same trajectory as the update of CMU 11-785 homework 1 (MyTorch),
    m ← μ m − lr g; p ← p + m (m = −lr·b).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError("SGD: lr, momentum and weight_decay must be non-negative")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening 0")
        super().__init__(
            params,
            dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov),
        )

    def _update(self, group, value, grad, state):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * value
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:  # the first step: the buffer starts as g
                buf = state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        return group["lr"] * grad


class Adam(Optimizer):
    """Adam (Kingma and Ba): bias-corrected first and second moment estimates."""

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        if lr < 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{type(self).__name__}: invalid lr, eps or betas")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    def _update(self, group, value, grad, state):
        beta1, beta2 = group["betas"]
        lr, decay = group["lr"], group["weight_decay"]
        shrink = 0.0
        if decay and self._decoupled:
            shrink = lr * decay  # AdamW: decay the weights directly
        elif decay:
            grad = grad + decay * value
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(value)
            state["exp_avg_sq"] = np.zeros_like(value)
        state["step"] += 1
        step = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        m_hat_scale = lr / (1 - beta1**step)
        denominator = np.sqrt(v) / math.sqrt(1 - beta2**step) + group["eps"]
        update = m_hat_scale * m / denominator
        if shrink:
            # p ← p(1 − lr·λ) − update, computed from the value before decay
            update = update + shrink * value
        return update


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter); default decay 0.01."""

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


class RMSprop(Optimizer):
    """RMSprop: divide by a running root-mean-square of the gradients (PyTorch's form)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        if lr < 0 or eps < 0 or not 0 <= alpha <= 1:
            raise ValueError("RMSprop: invalid lr, eps or alpha")
        super().__init__(
            params,
            dict(
                lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered
            ),
        )

    def _update(self, group, value, grad, state):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * value
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(value)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(value)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(value)
        state["step"] += 1
        alpha = group["alpha"]
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = np.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / avg
            return group["lr"] * buf
        return group["lr"] * grad / avg


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
