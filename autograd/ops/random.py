"""Random draws as ops: recorded like any op, so a compiled function draws again at every call.

``DropoutMask`` has no inputs and no gradient: it draws ``keep = generator.random(shape) ≥ p``
and returns ``keep / (1 − p)`` in the given dtype, exactly what ``nn.functional.dropout``
multiplies by. Eager mode records nothing for it (no input requires grad); while a function
is being traced for ``autograd.compiler`` it is recorded, and the compiled code makes the
same call on the same generator, so compiled and eager draw the same stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.graph import Op


class DropoutMask(Op):
    """keep / (1 − p) with keep = U[0, 1) ≥ p, drawn from ``generator``: no inputs, no gradient."""

    name = "dropout_mask"
    backward_reads = ()

    def __init__(self, generator: np.random.Generator, shape: tuple[int, ...], p: float, dtype: Any) -> None:
        self.generator = generator
        self.shape = tuple(shape)
        self.p = p
        self.dtype = np.dtype(dtype)

    def forward(self):
        keep = self.generator.random(self.shape) >= self.p
        return keep.astype(self.dtype) / (1.0 - self.p)

    rule = ()

    def backward(self, g, out):
        return ()
