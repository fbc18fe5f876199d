"""Layers: Linear, activations, Sequential and MLP, Dropout, RNNCell/RNN, Embedding.

``BatchNorm1d`` lives in ``batchnorm.py`` (and is importable from here).

Parameter names and shapes are PyTorch's (``Linear.weight`` is (out, in)), so a state
dict moves between chainrule and the equivalent ``torch.nn`` model unchanged.
Every layer takes ``generator=`` (a ``numpy.random.Generator``) for its initial
weights; seed it for reproducible runs.

>>> import numpy as np
>>> from nn import MLP
>>> net = MLP(2, [2], 1, activation="sigmoid", generator=np.random.default_rng(0))
>>> net
MLP(
  (0): Linear(in_features=2, out_features=2, bias=True)
  (1): Sigmoid()
  (2): Linear(in_features=2, out_features=1, bias=True)
)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

import autograd
from autograd import Tensor, as_tensor
from nn import functional as F
from nn.batchnorm import BatchNorm1d
from nn.module import Module, Parameter


class Linear(Module):
    """y = x Wᵀ + b, with W of shape (out_features, in_features).

    Initialised as PyTorch does: W and b ~ U[-1/√in, 1/√in].
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        rng = generator if generator is not None else np.random.default_rng()
        bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
        self.weight = Parameter(rng.uniform(-bound, bound, size=(out_features, in_features)))
        self.bias = Parameter(rng.uniform(-bound, bound, size=out_features)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        try:
            return autograd.linear(x, self.weight, self.bias)
        except autograd.ShapeError:
            shape = np.shape(x.data if isinstance(x, Tensor) else x)
            raise autograd.ShapeError(
                f"{self._label}(in_features={self.in_features}, out_features={self.out_features}): "
                f"input of shape {shape} has {shape[-1] if shape else 0} features in its last "
                f"axis, expected {self.in_features} (weight shape {self.weight.shape})"
            ) from None

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


# ---- activations as modules -------------------------------------------------------------


class Identity(Module):
    def forward(self, x: Tensor) -> Tensor:
        return as_tensor(x)


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return as_tensor(x).sigmoid()


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return as_tensor(x).tanh()


class ReLU(Module):
    def forward(self, x: Tensor) -> Tensor:
        return as_tensor(x).relu()


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        if not isinstance(negative_slope, numbers.Real):  # refused now, not at the first call
            raise TypeError(
                f"leaky_relu: negative_slope must be a number, not {type(negative_slope).__name__}; "
                "pass a number such as 0.01 (a learnable slope is not supported)"
            )
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return as_tensor(x).leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return as_tensor(x).softmax(axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


ACTIVATIONS: dict[str, type[Module]] = {
    "identity": Identity,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
}


def _activation(spec: Any) -> Module:
    """An activation module from a name, a Module class, or a zero-argument factory."""
    if isinstance(spec, str):
        if spec.lower() not in ACTIVATIONS:
            raise ValueError(f"unknown activation {spec!r}; choose one of {sorted(ACTIVATIONS)}")
        return ACTIVATIONS[spec.lower()]()
    if isinstance(spec, Module):
        raise TypeError(
            "pass an activation class (e.g. nn.ReLU) or name, not an instance: each layer needs its own"
        )
    module = spec()
    if not isinstance(module, Module):
        raise TypeError(f"activation factory returned {type(module).__name__}, not a Module")
    return module


# ---- containers ---------------------------------------------------------------------------


class Sequential(Module):
    """Modules applied one after another; children are named "0", "1", ... as in PyTorch."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module: Module) -> Sequential:
        setattr(self, str(len(self._modules)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]


class MLP(Sequential):
    """A multi-layer perceptron: per hidden layer Linear [→ BatchNorm1d] → activation, then Linear.

    Args:
        in_features: input size.
        hidden_sizes: sizes of the hidden layers (any number, possibly none).
        out_features: output size (no activation after the last layer: it gives logits).
        activation: a name ("relu", "sigmoid", "tanh", "leaky_relu", "identity"), a Module
            class, or a factory; one instance per hidden layer.
        batchnorm: True for BatchNorm1d after every hidden Linear, or a number k for the
            first k hidden layers only (``num_bn_layers`` of CMU 11-785 homework 1,
            MyTorch).
        generator: seeds the initial weights.

    Being a Sequential, its state-dict keys ("0.weight", "1.running_mean", ...) are
    those of the equivalent ``torch.nn.Sequential``.
    """

    def __init__(
        self,
        in_features: int,
        hidden_sizes: Sequence[int],
        out_features: int,
        activation: Any = "relu",
        batchnorm: bool | int = False,
        generator: np.random.Generator | None = None,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        rng = generator if generator is not None else np.random.default_rng()
        sizes = [in_features, *hidden_sizes]
        bn_layers = len(hidden_sizes) if batchnorm is True else int(batchnorm)
        modules: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            modules.append(Linear(n_in, n_out, generator=rng))
            if i < bn_layers:
                modules.append(BatchNorm1d(n_out, eps=bn_eps, momentum=bn_momentum))
            modules.append(_activation(activation))
        modules.append(Linear(sizes[-1], out_features, generator=rng))
        super().__init__(*modules)


# ---- regularisation (BatchNorm1d is in batchnorm.py) ---------------------------------------------------


class Dropout(Module):
    """Zero elements with probability ``p`` during training (scaled by 1/(1-p)); identity in eval."""

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], not {p}")
        self.p = p
        self.generator = generator if generator is not None else np.random.default_rng()

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ---- recurrent layers ------------------------------------------------------------------------

_RNN_NONLINEARITIES = {"tanh": lambda t: t.tanh(), "relu": lambda t: t.relu(), "identity": lambda t: t}


class RNNCell(Module):
    """One step of an Elman RNN: h' = f(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh).

    ``nonlinearity`` is "tanh" (PyTorch's default), "relu", or "identity" (the linear
    RNN of CMU 10-601 homework 5, section 3).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if nonlinearity not in _RNN_NONLINEARITIES:
            raise ValueError(f"RNNCell: nonlinearity must be one of {sorted(_RNN_NONLINEARITIES)}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.nonlinearity = nonlinearity
        rng = generator if generator is not None else np.random.default_rng()
        bound = 1.0 / math.sqrt(hidden_size)
        self.weight_ih = Parameter(rng.uniform(-bound, bound, size=(hidden_size, input_size)))
        self.weight_hh = Parameter(rng.uniform(-bound, bound, size=(hidden_size, hidden_size)))
        self.bias_ih = Parameter(rng.uniform(-bound, bound, size=hidden_size)) if bias else None
        self.bias_hh = Parameter(rng.uniform(-bound, bound, size=hidden_size)) if bias else None

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        x = as_tensor(x)
        if x.shape[-1] != self.input_size:
            raise autograd.ShapeError(
                f"{self._label}: input of shape {x.shape} has {x.shape[-1]} features, "
                f"expected {self.input_size}"
            )
        if h is None:
            h = Tensor(np.zeros(x.shape[:-1] + (self.hidden_size,), dtype=x.dtype))
        pre = autograd.linear(x, self.weight_ih, self.bias_ih) + autograd.linear(
            h, self.weight_hh, self.bias_hh
        )
        return _RNN_NONLINEARITIES[self.nonlinearity](pre)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"


class RNN(Module):
    """An Elman RNN unrolled over time; backpropagating through it is BPTT.

    Input (T, N, input_size), or (N, T, input_size) with ``batch_first=True``, or
    unbatched (T, input_size). Returns ``(output, h_n)`` as PyTorch: the top layer's
    hidden state at every step, and every layer's last hidden state. Each time step
    runs in ``autograd.scope("t=k")`` (k from 1), so graph drawings group the steps.
    Parameter names (``weight_ih_l0``, ...) are PyTorch's.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if nonlinearity not in _RNN_NONLINEARITIES:
            raise ValueError(f"RNN: nonlinearity must be one of {sorted(_RNN_NONLINEARITIES)}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.nonlinearity = nonlinearity
        self.bias = bias
        self.batch_first = batch_first
        rng = generator if generator is not None else np.random.default_rng()
        bound = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            n_in = input_size if layer == 0 else hidden_size
            setattr(
                self, f"weight_ih_l{layer}", Parameter(rng.uniform(-bound, bound, size=(hidden_size, n_in)))
            )
            setattr(
                self,
                f"weight_hh_l{layer}",
                Parameter(rng.uniform(-bound, bound, size=(hidden_size, hidden_size))),
            )
            if bias:
                setattr(self, f"bias_ih_l{layer}", Parameter(rng.uniform(-bound, bound, size=hidden_size)))
                setattr(self, f"bias_hh_l{layer}", Parameter(rng.uniform(-bound, bound, size=hidden_size)))

    def _layer_params(self, layer: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        get = self.__dict__.get
        return (
            get(f"weight_ih_l{layer}"),
            get(f"weight_hh_l{layer}"),
            get(f"bias_ih_l{layer}"),
            get(f"bias_hh_l{layer}"),
        )

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x = as_tensor(x)
        unbatched = x.ndim == 2
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise autograd.ShapeError(
                f"{self._label}: expected input (T, N, {self.input_size}) or (T, {self.input_size}), "
                f"got {x.shape}"
            )
        if unbatched:
            x = x.reshape(x.shape[0], 1, self.input_size)
        elif self.batch_first:
            x = x.transpose(0, 1)
        steps, batch = x.shape[0], x.shape[1]
        if h0 is None:
            h0 = Tensor(np.zeros((self.num_layers, batch, self.hidden_size), dtype=x.dtype))
        else:
            h0 = as_tensor(h0)
            if unbatched:
                h0 = h0.reshape(self.num_layers, 1, self.hidden_size)
        activation = _RNN_NONLINEARITIES[self.nonlinearity]
        hidden = [h0[layer] for layer in range(self.num_layers)]
        outputs = []
        for t in range(steps):
            with autograd.scope(f"t={t + 1}"):
                inp = x[t]
                for layer in range(self.num_layers):
                    w_ih, w_hh, b_ih, b_hh = self._layer_params(layer)
                    pre = autograd.linear(inp, w_ih, b_ih) + autograd.linear(hidden[layer], w_hh, b_hh)
                    hidden[layer] = inp = activation(pre)
                outputs.append(inp)
        output = autograd.stack(outputs, axis=0)
        h_n = autograd.stack(hidden, axis=0)
        if unbatched:
            return output.reshape(steps, self.hidden_size), h_n.reshape(self.num_layers, self.hidden_size)
        if self.batch_first:
            output = output.transpose(0, 1)
        return output, h_n

    def extra_repr(self) -> str:
        extra = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            extra += f", num_layers={self.num_layers}"
        if self.nonlinearity != "tanh":
            extra += f", nonlinearity={self.nonlinearity!r}"
        if self.batch_first:
            extra += ", batch_first=True"
        return extra


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` (num_embeddings, embedding_dim) for index ``i``."""

    def __init__(
        self, num_embeddings: int, embedding_dim: int, generator: np.random.Generator | None = None
    ) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        rng = generator if generator is not None else np.random.default_rng()
        self.weight = Parameter(rng.standard_normal((num_embeddings, embedding_dim)))

    def forward(self, indices: Any) -> Tensor:
        array = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
        if array.dtype.kind not in "iu":
            raise TypeError(f"{self._label}: indices must be integers, not {array.dtype}")
        outside = (array < 0) | (array >= self.num_embeddings)
        if outside.any():
            raise IndexError(
                f"{self._label}: index {int(array[outside].flat[0])} is out of range "
                f"for {self.num_embeddings} embeddings"
            )
        return self.weight[array]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"

