"""The affine map of a neural-network layer, ``x @ weight.T + bias``, as one node.

One formula serves one example (a 1-d ``x``) and a batch. The backward rules are the ones
every course derives (CMU 10-315 homework 2's LINEARBACKWARD; Ray's backpropagation
slides, U. Alberta: δX = δZ W, δW = δZᵀ X).
"""

from __future__ import annotations

import math

from autograd.graph import Op


class Linear(Op):
    """The affine map of a neural-network layer, ``x @ weight.T + bias``, as one node.

    ``weight`` has shape (out, in) as in PyTorch; ``x`` has shape (..., in). One node
    for the layer, as the handouts draw it, instead of a product, a transpose and a sum.

        grad_x = g @ weight,   grad_weight = gᵀ x (summed over the batch),   grad_bias = g
    """

    name = "linear"
    mismatch = "do not align"
    backward_reads = ("x", "weight")  # (g itself gives the bias its gradient)

    def __init__(self, input_needs_grad: bool = True) -> None:
        # A first layer's input is data: skip its gradient (a matrix product) altogether.
        self.input_needs_grad = input_needs_grad

    def forward(self, x, weight, bias=None):
        out = x @ weight.T
        return out if bias is None else out + bias

    rule = ("g @ weight", "gᵀ @ x", "{g}, summed over the batch")

    def backward(self, g, out, x, weight, bias=None):
        grad_x = g @ weight if self.input_needs_grad else None
        # The examples as rows (one example: one row; a batch of any shape: flattened), so
        # that the weight's gradient sums gᵀ x over the batch in one matrix product.
        rows = math.prod(x.shape[:-1])  # (not -1: a layer may have 0 features)
        g2 = g.reshape(rows, weight.shape[0])
        x2 = x.reshape(rows, weight.shape[1])
        grad_weight = g2.T @ x2
        if bias is None:
            return grad_x, grad_weight
        return grad_x, grad_weight, g2.sum(axis=0)  # the bias is broadcast over the batch


linear = Linear()
linear_of_data = Linear(input_needs_grad=False)
