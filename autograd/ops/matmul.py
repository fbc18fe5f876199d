"""Matrix multiplication, with numpy's rules for 1-d and batched operands.

For 2-d operands, ``out = a @ b`` has the backward rules every course derives
(Ray's backpropagation slides, U. Alberta: δX = δZ Wᵀ, δW = Xᵀ δZ):

    grad_a = g @ bᵀ,    grad_b = aᵀ @ g.

A 1-d ``a`` is treated as a row (1, n) and a 1-d ``b`` as a column (n, 1), exactly as
numpy does in the forward pass; batch axes broadcast, and the engine sums the
gradient of a broadcast operand back over them.
"""

from __future__ import annotations

import numpy as np

from autograd.graph import Op


class MatMul(Op):
    name = "matmul"
    backward_reads = ("a", "b")
    mismatch = "do not align"

    def forward(self, a, b):
        return np.matmul(a, b)

    rule = ("g @ bᵀ", "aᵀ @ g")

    def backward(self, g, out, a, b):
        if a.ndim == 1 and b.ndim == 1:  # dot product: out is a scalar
            return g * b, g * a
        a2 = a if a.ndim > 1 else a.reshape(1, -1)
        b2 = b if b.ndim > 1 else b.reshape(-1, 1)
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        grad_a = g2 @ b2.swapaxes(-1, -2)
        grad_b = a2.swapaxes(-1, -2) @ g2
        if a.ndim == 1:
            grad_a = grad_a[..., 0, :]
        if b.ndim == 1:
            grad_b = grad_b[..., 0]
        return grad_a, grad_b


matmul = MatMul()
