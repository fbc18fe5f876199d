"""The primitive operations, each a small ``Op`` class with forward and backward side by side.

* ``elementwise`` — arithmetic and pointwise functions (broadcasting binary ops);
* ``reduce`` — sums, maxima, log-sum-exp, softmax;
* ``shape`` — reshape, transpose, broadcast, indexing, concatenation, padding;
* ``matmul`` — matrix products.

Everything else (``mean``, ``var``, ``split``, ``flatten``, ...) is composed from these
in ``autograd.tensor``.
"""
