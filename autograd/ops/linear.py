"""The affine map of a neural-network layer, ``x @ weight.T + bias``, as one node.

For one example (a 1-d ``x``, per-example SGD) the forward is a matrix-vector product and
the weight's gradient an outer product; for a batch, matrix products. The backward rules
are the ones every course derives (CMU 10-315 homework 2's LINEARBACKWARD; Ray's
backpropagation slides, U. Alberta: δX = δZ W, δW = δZᵀ X).
"""

from __future__ import annotations

import numpy as np

from autograd.graph import Op


class Linear(Op):
    """The affine map of a neural-network layer, ``x @ weight.T + bias``, as one node.

    ``weight`` has shape (out, in) as in PyTorch; ``x`` has shape (..., in). Fused
    because it is the hot path of every network: one node instead of three.

        grad_x = g @ weight,   grad_weight = gᵀ x (summed over the batch),   grad_bias = g
    """

    name = "linear"
    mismatch = "do not align"
    backward_reads = ("x", "weight")  # (g itself gives the bias its gradient)

    def __init__(self, input_needs_grad: bool = True) -> None:
        # A first layer's input is data: skip its gradient (a matrix product) altogether.
        self.input_needs_grad = input_needs_grad

    def forward(self, x, weight, bias=None):
        # one example: weight · x, a matrix-vector product (np.dot is numpy's cheapest call to it)
        out = np.dot(weight, x) if x.ndim == 1 else x @ weight.T
        if bias is not None:
            out += bias  # in place: the product is a fresh array
        return out

    rule = ("g @ weight", "gᵀ @ x", "{g}, summed over the batch")

    def backward(self, g, out, x, weight, bias=None):
        grad_x = g @ weight if self.input_needs_grad else None
        if g.ndim == 1:  # one example (per-example SGD): an outer product, and the bias gets g
            # As a broadcast multiply it is ~3x cheaper than a one-column BLAS product.
            grad_weight = g[:, None] * x
            return (grad_x, grad_weight) if bias is None else (grad_x, grad_weight, g)
        if g.ndim == 2:  # a batch (N, out): the common case, nothing to flatten
            g2, x2 = g, x
        else:  # a batch of any shape, flattened to (N, out) and (N, in)
            g2, x2 = g.reshape(-1, weight.shape[0]), x.reshape(-1, weight.shape[1])
        grad_weight = g2.T * x2 if g2.shape[0] == 1 else g2.T @ x2
        if bias is None:
            return grad_x, grad_weight
        return grad_x, grad_weight, g2.sum(axis=0)  # the bias is broadcast over the batch


linear = Linear()
linear_of_data = Linear(input_needs_grad=False)
