"""Every op's ``backward_reads`` against its real backward.

The compiled path reuses the memory of a value once no later backward reads it, trusting
each op's declaration; a missing name would give silently wrong gradients. So each op's
backward runs with every *undeclared* array (``out`` or an input) replaced by NaNs of the
same shape and dtype: its gradients must not change. And every *declared* array, replaced
the same way, must change the gradients in at least one case (no name is declared that is
never read, so the declarations stay tight enough to be worth something).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from autograd.graph import Op
from autograd.ops import elementwise as ew
from autograd.ops import linear as lin
from autograd.ops import matmul as mm
from autograd.ops import random as rnd
from autograd.ops import reduce as red
from autograd.ops import shape as sh
from autograd.ops import softmax as sm
from autograd.ops import state as st

RNG = np.random.default_rng(5)
MODULES = (ew, red, sm, sh, mm, lin, rnd, st)


def signed(*shape):
    return RNG.standard_normal(shape) + 0.1


def positive(*shape):
    return np.abs(RNG.standard_normal(shape)) + 0.5


def _running_stats():
    return st.RunningStats(np.zeros(3), np.ones(3), np.zeros((), dtype=np.int64), 0.1, 4)


# (op, inputs): several cases per op where its backward has branches
CASES = [
    (ew.Add(), [signed(3, 4), signed(4)]),
    (ew.Sub(), [signed(3, 4), signed(3, 4)]),
    (ew.Mul(), [signed(3, 4), signed(4)]),
    (ew.Div(), [signed(3, 4), positive(4)]),
    (ew.Neg(), [signed(5)]),
    (ew.Pow(), [positive(3, 4), signed(4)]),
    (ew.Pow(), [np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, -1.0])]),
    (ew.PowScalar(3), [signed(3, 4)]),
    (ew.PowScalar(0), [signed(3, 4)]),
    (ew.PowScalar(0.5), [positive(3)]),
    (ew.Exp(), [signed(3, 4)]),
    (ew.Log(), [positive(3, 4)]),
    (ew.Sqrt(), [positive(3, 4)]),
    (ew.Abs(), [np.array([-1.5, 0.0, 2.0])]),
    (ew.Sin(), [signed(3)]),
    (ew.Cos(), [signed(3)]),
    (ew.Tanh(), [signed(3)]),
    (ew.Sigmoid(), [signed(3, 2)]),
    (ew.Sigmoid(), [np.float64(0.3)]),
    (ew.Softplus(), [signed(3)]),
    (ew.ReLU(), [np.array([-1.0, 0.0, 2.0])]),
    (ew.ReLU(), [np.float64(2.0)]),
    (ew.LeakyReLU(0.1), [np.array([-1.0, 0.0, 2.0])]),
    (ew.Heaviside(0.5), [np.array([-1.0, 0.0, 2.0])]),
    (ew.Clip(-0.5, 0.5), [np.array([-1.0, -0.5, 0.2, 0.5, 3.0])]),
    (ew.Clip(None, 0.5), [np.array([-1.0, 0.2, 3.0])]),
    (ew.Maximum(), [np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])]),
    (ew.Minimum(), [np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])]),
    (ew.Where(), [np.array([True, False, True]), signed(3), signed(3)]),
    (ew.Cast(np.float32), [signed(3)]),
    (red.Sum(), [signed(3, 4)]),
    (red.Sum(axis=1, keepdims=True), [signed(3, 4)]),
    (red.Max(axis=1), [np.array([[1.0, 3.0, 3.0], [0.0, -1.0, 2.0]])]),
    (red.Min(), [signed(3, 4)]),
    (red.LogSumExp(axis=0), [signed(3, 4)]),
    (sm.Softmax(axis=1), [signed(3, 4)]),
    (sm.LogSoftmax(axis=0), [signed(3, 4)]),
    (sm.SoftmaxCrossEntropy(-1, "mean"), [signed(4, 5), np.array([0, 4, 4, 1])]),
    (sm.SoftmaxCrossEntropy(-1, "sum"), [signed(5), np.array(3)]),
    (sm.SoftmaxCrossEntropy(1, "none"), [signed(2, 3, 4), np.array([[0, 1, 2, 2], [1, 1, 0, 2]])]),
    (sh.Reshape((4, 3)), [signed(3, 4)]),
    (sh.Transpose((1, 0)), [signed(3, 4)]),
    (sh.BroadcastTo((2, 3, 4)), [signed(3, 4)]),
    (sh.GetItem(np.s_[1:, ::2]), [signed(3, 4)]),
    (sh.GetItem(np.array([0, 2, 0])), [signed(3, 4)]),
    (sh.ScatterAdd(np.array([0, 2, 0]), (3, 4)), [signed(3, 4)]),
    (sh.Concat(0), [signed(2, 3), signed(1, 3)]),
    (sh.Stack(1), [signed(2, 3), signed(2, 3)]),
    (sh.Pad(((1, 0), (0, 2))), [signed(2, 3)]),
    (mm.MatMul(), [signed(3, 4), signed(4, 2)]),
    (mm.MatMul(), [signed(4), signed(4)]),
    (mm.MatMul(), [signed(4), signed(4, 2)]),
    (mm.MatMul(), [signed(2, 3, 4), signed(4)]),
    (lin.Linear(), [signed(4), signed(3, 4), signed(3)]),
    (lin.Linear(), [signed(5, 4), signed(3, 4), signed(3)]),
    (lin.Linear(), [signed(1, 4), signed(3, 4), signed(3)]),
    (lin.Linear(), [signed(2, 5, 4), signed(3, 4)]),
    (lin.Linear(input_needs_grad=False), [signed(5, 4), signed(3, 4), signed(3)]),
    (rnd.DropoutMask(np.random.default_rng(0), (3,), 0.5, np.float64), []),
    (_running_stats(), [signed(1, 3), positive(1, 3)]),
]


def op_classes():
    for module in MODULES:
        for name, value in vars(module).items():
            if (isinstance(value, type) and issubclass(value, Op) and value.__module__ == module.__name__
                    and not name.startswith("_")):
                yield value


def names_for(op, n_inputs):
    params = list(inspect.signature(op.backward).parameters.values())[2:]  # (g, out)
    if params and params[-1].kind == params[-1].VAR_POSITIONAL:
        return [p.name for p in params[:-1]] + [params[-1].name] * (n_inputs - len(params) + 1)
    return [p.name for p in params][:n_inputs]


def poisoned(value):
    """An array of the same shape and dtype as ``value`` whose values are all wrong."""
    a = np.asarray(value)
    if a.dtype.kind == "f":
        bad = np.full(a.shape, np.nan, dtype=a.dtype)
    elif a.dtype.kind == "b":
        bad = ~a
    else:  # class indices: other classes (still valid ones, so the op runs)
        bad = np.where(a > 0, a - 1, a + 1).astype(a.dtype)
    return bad if isinstance(value, np.ndarray) else bad[()]


def run_backward(op, g, out, inputs):
    copies = [np.copy(x) if isinstance(x, np.ndarray) else x for x in inputs]
    with np.errstate(all="ignore"):
        grads = op.backward(g, np.copy(out) if isinstance(out, np.ndarray) else out, *copies)
    return [None if x is None else np.asarray(x) for x in grads]


def same(a, b):
    return all((x is None and y is None) or (x is not None and y is not None and x.shape == y.shape
               and np.array_equal(x, y, equal_nan=True)) for x, y in zip(a, b))


def test_every_op_declares_what_its_backward_reads():
    for kind in op_classes():
        reads = getattr(kind, "backward_reads", None)
        assert isinstance(reads, tuple), f"{kind.__name__}: declare backward_reads (see autograd/ops/__init__.py)"
        allowed = set(inspect.signature(kind.backward).parameters) - {"self", "g", "grad"}
        assert set(reads) <= allowed, (kind.__name__, reads, allowed)


def test_every_op_has_a_case_here():
    covered = {type(op) for op, _ in CASES}
    missing = [k.__name__ for k in op_classes() if k not in covered]
    assert not missing, f"add cases for {missing}"


@pytest.mark.parametrize("op, inputs", CASES, ids=lambda v: type(v).__name__ if isinstance(v, Op) else "")
def test_undeclared_arrays_are_not_read(op, inputs):
    out = op.forward(*[np.copy(x) if isinstance(x, np.ndarray) else x for x in inputs])
    g = RNG.standard_normal(np.shape(out)).astype(np.asarray(out).dtype)
    g = g if np.ndim(out) else g[()]
    expected = run_backward(op, g, out, inputs)
    names = names_for(op, len(inputs))
    if "out" not in op.backward_reads:
        assert same(run_backward(op, g, poisoned(out), inputs), expected), f"{op.name} reads out"
    for i, name in enumerate(names):
        if name not in op.backward_reads:
            changed = list(inputs)
            changed[i] = poisoned(inputs[i])
            assert same(run_backward(op, g, out, changed), expected), f"{op.name} reads {name}"


def test_each_declared_array_is_read_in_some_case():
    read: dict[type, set[str]] = {}
    for op, inputs in CASES:
        out = op.forward(*[np.copy(x) if isinstance(x, np.ndarray) else x for x in inputs])
        g = np.ones(np.shape(out), dtype=np.asarray(out).dtype)
        g = g if np.ndim(out) else g[()]
        expected = run_backward(op, g, out, inputs)
        found = read.setdefault(type(op), set())
        if not same(run_backward(op, g, poisoned(out), inputs), expected):
            found.add("out")
        for i, name in enumerate(names_for(op, len(inputs))):
            changed = list(inputs)
            changed[i] = poisoned(inputs[i])
            if not same(run_backward(op, g, out, changed), expected):
                found.add(name)
    for kind, found in read.items():
        assert set(kind.backward_reads) <= found, (kind.__name__, kind.backward_reads, found)


def test_a_wrong_declaration_would_be_caught():
    # the check itself: Exp's backward reads out; declaring () must fail the poisoning test
    class Exp(ew.Exp):
        backward_reads = ()

    with pytest.raises(AssertionError, match="reads out"):
        test_undeclared_arrays_are_not_read(Exp(), [signed(3)])


def test_the_code_generator_checks_each_template_against_the_declaration(monkeypatch):
    from autograd import Tensor
    from autograd.compiler import CompileError, compile
    from autograd.compiler.templates import TEMPLATES

    w = Tensor(signed(3), requires_grad=True)
    monkeypatch.setattr(TEMPLATES[ew.Exp], "backward_reads", (), raising=False)  # wrong: it reads out
    with pytest.raises(CompileError, match="backward of exp reads exp, which Exp.backward_reads"):
        compile(lambda x: (x * w).exp().sum())(signed(3))
    monkeypatch.undo()
    assert compile(lambda x: (x * w).exp().sum())(signed(3)).requires_grad
