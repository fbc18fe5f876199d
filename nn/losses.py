"""Losses as modules (``nn.CrossEntropyLoss()(logits, target)``), wrapping ``nn.functional``."""

from __future__ import annotations

from typing import Any

from autograd import Tensor
from nn import functional as F
from nn.module import Module


class _Loss(Module):
    function = staticmethod(F.mse_loss)

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', not {reduction!r}"
            )
        self.reduction = reduction

    def forward(self, prediction: Tensor, target: Any) -> Tensor:
        return type(self).function(prediction, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits; targets are class indices or probabilities."""

    function = staticmethod(F.cross_entropy)


class NLLLoss(_Loss):
    function = staticmethod(F.nll_loss)


class BCEWithLogitsLoss(_Loss):
    function = staticmethod(F.binary_cross_entropy_with_logits)


class BCELoss(_Loss):
    function = staticmethod(F.binary_cross_entropy)


class MSELoss(_Loss):
    function = staticmethod(F.mse_loss)
