"""The primitive operations, each a small ``Op`` class with forward and backward side by side.

* ``elementwise`` — arithmetic and pointwise functions (broadcasting binary ops);
* ``reduce`` — sums, maxima, log-sum-exp;
* ``softmax`` — softmax, log-softmax, and softmax cross-entropy (its target an input);
* ``shape`` — reshape, transpose, broadcast, indexing, concatenation, padding;
* ``matmul`` — matrix products; ``linear`` — a layer's ``x @ weight.T + bias`` as one node;
* ``random`` — dropout's mask, drawn by an op; ``state`` — BatchNorm's running statistics.

Everything else (``mean``, ``var``, ``split``, ``flatten``, ...) is composed from these
in ``autograd.tensors``.

Each op also writes its local rule out, in ``rule``, right above its ``backward``: one
entry per input (one entry for all inputs of ``concat`` and ``stack``; ``None`` for an
input with no gradient) saying what that input receives, in terms of ``g`` (the gradient
arriving at the output), ``out``, the input names of ``backward`` and the op's own
attributes (``exponent``, ``negative_slope``, ``low``, ``high``). An entry is either a
formula (``"g · cos(a)"``; ``·`` multiplies, ``^`` raises, ``@`` and ``ᵀ`` are matrix
product and transpose, ``[a > 0]`` is 1 where true and 0 elsewhere, ``Σ`` sums over the
op's axis) or, for ops that only move values around, a sentence with the names in braces
(``"{g}, reshaped back to the shape of {a}"``). ``autograd.teaching`` prints these in the
chain-rule trace and the gradient checker's explanations; a test evaluates every formula
against its ``backward``, so the text cannot drift from the code.

Each op also declares, in ``backward_reads``, which of ``backward``'s arrays it reads the
*values* of: a tuple of its parameter names, ``"out"`` and the input names (``Exp``:
``("out",)``, since d/da e^a = e^a = out; ``Mul``: ``("a", "b")``; ``Add``: ``()``). Shapes
and dtypes do not count (``Sum`` reads only ``a.shape``: ``()``). The compiled path
(``autograd.compiler``) relies on it: a value that no later backward declares it reads is
dead once the forward has used it, and its memory is reused. A wrong declaration would give
silently wrong gradients, so ``tests/test_ops_backward_reads.py`` runs every op's backward
with each undeclared array replaced by NaNs (the gradients must not change) and each
declared one replaced (some case must change them); and the code generator checks the
lines each template writes against it.
"""
