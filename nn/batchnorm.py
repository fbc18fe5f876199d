"""``BatchNorm1d``: batch normalisation, whose training and evaluation modes differ.

In training it normalises with the batch's statistics and updates running ones; in
evaluation it uses the running ones. Names, shapes and state dict are PyTorch's.
"""

from __future__ import annotations

import numpy as np

import autograd
from autograd import Tensor, as_tensor
from nn.module import Module, Parameter


class BatchNorm1d(Module):
    """Batch normalisation over the batch axis (and the length axis of (N, C, L) input).

    Training: normalise with the batch mean and (biased) variance, then scale by
    ``weight`` (γ) and shift by ``bias`` (β); update the running statistics as
    ``running = (1 - momentum) * running + momentum * batch``, the running variance
    with the *unbiased* batch variance (as PyTorch). Evaluation: use the running
    statistics.

    The MyTorch handout's BatchNorm with ``alpha=0.9, eps=1e-8`` is
    ``BatchNorm1d(n, eps=1e-8, momentum=0.1)``: identical training outputs, gradients and
    running mean. Its running variance mixes in the *biased* batch variance σ², ours
    the unbiased σ²·m/(m−1) (batch of m), so the two differ by 0.1·σ²/(m−1) after one
    step and the gap then evolves as gap ← 0.9·gap + 0.1·σ²/(m−1) (a documented
    difference; ``tests/test_nn_torch_layers.py`` checks it exactly).

    ``momentum=None`` keeps a cumulative average instead (as PyTorch).
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.weight = Parameter(np.ones(num_features)) if affine else None
        self.bias = Parameter(np.zeros(num_features)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features))
            self.register_buffer("running_var", np.ones(num_features))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise autograd.ShapeError(
                f"{self._label}({self.num_features}): expected input of shape (N, {self.num_features}) "
                f"or (N, {self.num_features}, L), got {x.shape}"
            )
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, self.num_features) + ((1,) if x.ndim == 3 else ())
        if self.training or not self.track_running_stats:
            count = x.size // self.num_features
            if count < 2 and self.training:
                raise ValueError(
                    f"{self._label}: expected more than 1 value per channel when training, "
                    f"got input of shape {x.shape}"
                )
            mean = x.mean(axis=axes, keepdims=True)
            centred = x - mean  # computed once: it is also the numerator below
            var = (centred * centred).mean(axis=axes, keepdims=True)  # biased, as the paper
            if self.training and self.track_running_stats:
                # in place, as PyTorch: count += 1, running ← (1 − m)·running + m·batch (the
                # unbiased variance); an op, so a compiled step redoes it at every call
                for name in ("running_mean", "running_var", "num_batches_tracked"):
                    buffer = getattr(self, name)
                    if type(buffer) is not np.ndarray or not buffer.flags.writeable:
                        setattr(self, name, np.array(buffer))
                Tensor.update_running_stats(mean, var, self.running_mean, self.running_var,
                                            self.num_batches_tracked, self.momentum, count)
        else:
            centred = x - Tensor(self.running_mean.reshape(shape))
            var = Tensor(self.running_var.reshape(shape))
        normalised = centred / (var + self.eps).sqrt()
        if self.affine:
            normalised = normalised * self.weight.reshape(shape) + self.bias.reshape(shape)
        return normalised

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"
