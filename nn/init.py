"""Weight initialisation, in place, from a ``numpy.random.Generator`` you can seed.

Every function takes ``generator=``; without one a fresh, unseeded generator is used
(there is no hidden global random state to reset). The formulas and defaults are
PyTorch's, so the same scheme gives the same distribution.

The two schemes of the CMU handouts are one call each:

>>> import numpy as np
>>> from nn import Linear, init
>>> layer = Linear(4, 3)
>>> init.init_random_(layer, generator=np.random.default_rng(0))   # RANDOM: U[-0.1, 0.1]
>>> bool(np.all(np.abs(layer.weight.data) <= 0.1)) and not layer.bias.data.any()
True
>>> init.init_zero_(layer)                                         # ZERO
>>> float(np.abs(layer.weight.data).sum())
0.0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd
from autograd import Tensor


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return generator if generator is not None else np.random.default_rng()


def _fill(tensor: Tensor, values: Any) -> Tensor:
    with autograd.no_grad():
        tensor.copy_(np.asarray(values, dtype=tensor.dtype))
    return tensor


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Fill with draws from U[a, b]."""
    return _fill(tensor, _rng(generator).uniform(a, b, size=tensor.shape))


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Fill with draws from N(mean, std²)."""
    return _fill(tensor, _rng(generator).normal(mean, std, size=tensor.shape))


def constant_(tensor: Tensor, value: float) -> Tensor:
    return _fill(tensor, np.full(tensor.shape, value))


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for an activation (PyTorch's table)."""
    gains = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0)}
    if nonlinearity in gains:
        return gains[nonlinearity]
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def _fans(tensor: Tensor) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, not {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """U[-b, b] with b = gain·√(6 / (fan_in + fan_out)) (Glorot and Bengio)."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """U[-b, b] with b = gain·√(3 / fan) (He et al.)."""
    fan = _fans(tensor)[0 if mode == "fan_in" else 1]
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    fan = _fans(tensor)[0 if mode == "fan_in" else 1]
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def _weights_and_biases(module: Any) -> tuple[list[Tensor], list[Tensor]]:
    weights, biases = [], []
    for name, param in module.named_parameters():
        (biases if name.rsplit(".", 1)[-1].startswith("bias") else weights).append(param)
    return weights, biases


def init_random_(module: Any, bound: float = 0.1, generator: np.random.Generator | None = None) -> None:
    """The handouts' RANDOM scheme: every weight ~ U[-bound, bound], every bias 0."""
    weights, biases = _weights_and_biases(module)
    rng = _rng(generator)
    for w in weights:
        uniform_(w, -bound, bound, rng)
    for b in biases:
        zeros_(b)


def init_zero_(module: Any) -> None:
    """The handouts' ZERO scheme: every weight and bias 0 (shows the symmetry problem)."""
    for param in module.parameters():
        zeros_(param)
