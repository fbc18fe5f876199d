"""autograd.compiler.compile: the compiled path gives eager's numbers, or refuses.

Differential tests: every op of autograd/ops, compiled, against eager (forward and
gradients, float64 over broadcast shapes: bitwise, as a template runs the same numpy calls
as its op; float32 stays float32), each op's backward template against the op's own
backward method, and nn models trained 20 steps with a user's own update loop.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd
from autograd import Tensor
from autograd.compiler import compile

RNG = np.random.default_rng(1234)


def _tensor(shape, positive=False, dtype=np.float64, grad=True):
    a = RNG.standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    return Tensor(a.astype(dtype), requires_grad=grad)


# name: (function, input shapes, positive inputs)
OPS = {
    "add": (lambda a, b: a + b, [(3, 4), (4,)]),
    "add_scalar": (lambda a: a + 2.0, [(3, 4)]),
    "sub": (lambda a, b: a - b, [(3, 1), (1, 4)]),
    "rsub": (lambda a: 1.0 - a, [(3,)]),
    "mul": (lambda a, b: a * b, [(2, 3, 4), (3, 1)]),
    "div": (lambda a, b: a / b, [(3, 4), (4,)]),
    "rdiv": (lambda a: 2.0 / a, [(3, 4)], True),
    "neg": (lambda a: -a, [(5,)]),
    "pow": (lambda a, b: a**b, [(3, 4), (4,)], True),
    "pow_scalar": (lambda a: a**3, [(3, 4)]),
    "pow_half": (lambda a: a**0.5, [(3, 4)], True),
    "exp": (lambda a: a.exp(), [(3, 4)]),
    "log": (lambda a: a.log(), [(3, 4)], True),
    "sqrt": (lambda a: a.sqrt(), [(3, 4)], True),
    "abs": (lambda a: a.abs(), [(3, 4)]),
    "sin": (lambda a: a.sin(), [(3, 4)]),
    "cos": (lambda a: a.cos(), [(3, 4)]),
    "tanh": (lambda a: a.tanh(), [(3, 4)]),
    "sigmoid": (lambda a: a.sigmoid(), [(3, 4)]),
    "softplus": (lambda a: a.softplus(), [(3, 4)]),
    "relu": (lambda a: a.relu(), [(3, 4)]),
    "leaky_relu": (lambda a: a.leaky_relu(0.1), [(3, 4)]),
    "heaviside": (lambda a: a.heaviside(0.5) * a, [(3, 4)]),
    "clip": (lambda a: a.clip(-0.5, 0.5), [(3, 4)]),
    "clip_low": (lambda a: a.clip(min=0.1), [(3, 4)]),
    "maximum": (lambda a, b: a.maximum(b), [(3, 4), (4,)]),
    "minimum": (lambda a, b: a.minimum(b), [(3, 4), (3, 1)]),
    "where": (lambda a, b: autograd.where(np.arange(12).reshape(3, 4) % 3 == 0, a, b), [(3, 4), (4,)]),
    "sum": (lambda a: a.sum(), [(3, 4)]),
    "sum_axis": (lambda a: a.sum(axis=1), [(3, 4)]),
    "sum_keepdims": (lambda a: a.sum(axis=(0, 2), keepdims=True), [(2, 3, 4)]),
    "sum_0d": (lambda a: a.sum(axis=0) * a, [()]),
    "mean": (lambda a: a.mean(axis=0), [(3, 4)]),
    "var": (lambda a: a.var(axis=1), [(3, 4)]),
    "max": (lambda a: a.max(axis=1), [(3, 4)]),
    "max_all": (lambda a: a.max(), [(3, 4)]),
    "min_keepdims": (lambda a: a.min(axis=0, keepdims=True), [(3, 4)]),
    "logsumexp": (lambda a: a.logsumexp(axis=1), [(3, 4)]),
    "logsumexp_all": (lambda a: a.logsumexp(keepdims=True), [(3, 4)]),
    "softmax": (lambda a: a.softmax(axis=0), [(3, 4)]),
    "log_softmax": (lambda a: a.log_softmax(), [(3, 4)]),
    "matmul_2d": (lambda a, b: a @ b, [(3, 4), (4, 5)]),
    "matmul_dot": (lambda a, b: a @ b, [(4,), (4,)]),
    "matmul_vec_mat": (lambda a, b: a @ b, [(4,), (4, 5)]),
    "matmul_mat_vec": (lambda a, b: a @ b, [(3, 4), (4,)]),
    "matmul_batched": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "matmul_broadcast": (lambda a, b: a @ b, [(2, 1, 3, 4), (5, 4, 2)]),
    "linear_1d": (lambda x, w, b: autograd.linear(x, w, b), [(4,), (3, 4), (3,)]),
    "linear_2d": (lambda x, w, b: autograd.linear(x, w, b), [(5, 4), (3, 4), (3,)]),
    "linear_3d": (lambda x, w: autograd.linear(x, w), [(2, 5, 4), (3, 4)]),
    "linear_one_row": (lambda x, w, b: autograd.linear(x, w, b), [(1, 4), (3, 4), (3,)]),
    "reshape": (lambda a: a.reshape(4, 3) * 2, [(3, 4)]),
    "transpose": (lambda a: a.T * 1, [(3, 4)]),
    "permute": (lambda a: a.permute(2, 0, 1), [(2, 3, 4)]),
    "broadcast_to": (lambda a: a.broadcast_to((2, 3, 4)), [(3, 1)]),
    "getitem_slices": (lambda a: a[1:, ::2], [(3, 4)]),
    "getitem_int": (lambda a: a[1], [(3, 4)]),
    "getitem_array": (lambda a: a[np.array([0, 2, 0])], [(3, 4)]),
    "getitem_mask": (lambda a: a[np.array([True, False, True])], [(3, 4)]),
    "getitem_pairs": (lambda a: a[np.arange(3), np.array([1, 0, 3])], [(3, 4)]),
    "getitem_none_ellipsis": (lambda a: a[None, ..., 1], [(3, 4)]),
    "concat": (lambda a, b: autograd.concat([a, b], axis=1), [(3, 4), (3, 2)]),
    "stack": (lambda a, b: autograd.stack([a, b], axis=1), [(3, 4), (3, 4)]),
    "split": (lambda a: a.split(2, axis=1)[1], [(3, 4)]),
    "pad": (lambda a: a.pad(((1, 0), (2, 1)), value=0.5), [(3, 4)]),
    "cast": (lambda a: a.astype(np.float32) * 2, [(3, 4)]),
    "cross_entropy": (lambda a: autograd.softmax_cross_entropy(a, np.array([1, 0, 3])), [(3, 4)]),
    "cross_entropy_sum": (
        lambda a: autograd.softmax_cross_entropy(a, np.array([1, 0, 3]), reduction="sum"), [(3, 4)]),
    "cross_entropy_none": (
        lambda a: autograd.softmax_cross_entropy(a, np.array([1, 0, 3]), reduction="none"), [(3, 4)]),
    "cross_entropy_one": (lambda a: autograd.softmax_cross_entropy(a, np.array(2)), [(4,)]),
    "cross_entropy_3d": (
        lambda a: autograd.softmax_cross_entropy(a, np.array([[1, 0], [2, 2]]), axis=1), [(2, 3, 2)]),
    "scalar_chain": (lambda a, b: ((a * b + a).tanh() ** 2).sigmoid() / b - (a - b).relu(), [(), ()]),
}


def _run(fn, inputs, seed):
    out = fn(*inputs)
    out.backward(None if out.ndim == 0 else seed)
    grads = [t.grad.data.copy() for t in inputs]
    for t in inputs:
        t.grad = None
    return out.data, grads


def _assert_same(got, expected, exact):
    (out_a, grads_a), (out_b, grads_b) = got, expected
    for a, b in zip([out_a, *grads_a], [out_b, *grads_b]):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_op_compiled_equals_eager(name, dtype):
    fn, shapes, *positive = OPS[name]
    inputs = [_tensor(s, bool(positive), dtype) for s in shapes]
    compiled = compile(fn)
    for call in range(3):  # the first call compiles; the others run the compiled code
        if call == 2:  # new values: nothing of the first call may be baked in
            for t in inputs:
                t.data = (t.data * 1.5 + 0.25).astype(dtype)
        out = fn(*inputs)
        seed = RNG.standard_normal(out.shape).astype(dtype)
        expected = _run(fn, inputs, seed)
        got = _run(compiled, inputs, seed)
        scalar = compiled.last.program.mode == "scalar"
        _assert_same(got, expected, exact=not scalar)
    if dtype == np.float32 and name != "cast":
        assert got[0].dtype == np.float32 and all(g.dtype == np.float32 for g in got[1])


@pytest.mark.parametrize("name", sorted(OPS))
def test_template_backward_equals_the_ops_backward(name):
    """Each op's backward template, run alone, against ``op.backward`` on random gradients."""
    from autograd.engine import sum_to

    fn, shapes, *positive = OPS[name]
    inputs = [_tensor(s, bool(positive)) for s in shapes]
    compiled = compile(fn)
    compiled(*inputs)
    entry = compiled.last
    eager = fn(*inputs)
    g = RNG.standard_normal(eager.shape)
    datas = [(t if t is not None else inputs[arg])._data for t, arg, _ in entry.plan.inputs]
    extras = [t._data if t is not None else None for t, arg, _ in entry.plan.extras]
    out, saved = entry._numpy().forward(*datas, *extras)
    got = entry._numpy().backward(g, saved)
    with autograd.no_grad():  # eager's backward pass, by each op's own backward method
        grads, graph, seen, stack = {id(eager): g}, [], set(), [eager]
        while stack:
            t = stack.pop()
            if t._op is not None and id(t) not in seen:
                seen.add(id(t))
                graph.append(t)
                stack.extend(t._inputs)
        for t in sorted(graph, key=lambda t: -t._clock):
            gt = grads.pop(id(t))
            for i, gi in zip(t._inputs, t._op.backward(gt, t._data, *[i._data for i in t._inputs])):
                if gi is not None and i._requires_grad:
                    gi = sum_to(gi, i._data.shape) if np.shape(gi) != i._data.shape else gi
                    grads[id(i)] = grads[id(i)] + gi if id(i) in grads else gi
    for (_, arg, value), g_compiled in zip(entry.plan.inputs, got):
        if value.needs_grad:
            np.testing.assert_array_equal(g_compiled, grads[id(inputs[arg])])


def test_every_op_in_autograd_ops_has_a_template():
    from autograd.compiler.templates import TEMPLATES
    from autograd.graph import Op

    found, stack = [], [Op]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("autograd.ops.") and not cls.__name__.startswith("_"):
            found.append(cls)
    missing = [cls.__name__ for cls in found if cls not in TEMPLATES]
    assert not missing, f"ops without a compiled template: {missing}"


BROADCAST_PAIRS = [((), (3,)), ((3,), ()), ((2, 3), (3,)), ((2, 1), (1, 3)), ((4, 1, 3), (2, 1)),
                   ((1,), (2, 2)), ((2, 3, 1), (2, 1, 4))]
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "mixed": lambda a, b: (a * b + a / (b * b + 1)).tanh() - b.exp() * a,
}


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_over_broadcast_shape_pairs(name, shapes):
    fn = BINARY[name]
    inputs = [_tensor(s, positive=name == "pow") for s in shapes]
    compiled = compile(fn)
    out = fn(*inputs)
    seed = RNG.standard_normal(out.shape)
    for _ in range(2):
        expected = _run(fn, inputs, seed)
        got = _run(compiled, inputs, seed)
        _assert_same(got, expected, exact=compiled.last.program.mode == "numpy")
