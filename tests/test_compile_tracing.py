"""Tensor's tracing hooks: the compiler's read check, ops on data alone recorded, bump_version."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from autograd import Tensor
from autograd.compiler import CompileError, compile
from autograd.engine import InPlaceModificationError


def _weights():
    return Tensor(np.random.default_rng(0).normal(size=(3, 4)), requires_grad=True)


def test_an_op_on_integer_data_alone_is_recorded_and_replayed():
    w = _weights()

    def f(pixels):  # an integer array argument, converted and scaled by ops that need no grad
        x = Tensor(pixels).astype(np.float64) / 255.0
        return (w @ x).tanh().sum()

    compiled = compile(f)
    rng = np.random.default_rng(1)
    for _ in range(4):
        pixels = rng.integers(0, 256, 4)
        got, want = compiled(pixels), f(pixels)
        assert got.item() == want.item()
        w.grad = None
        got.backward()
        g = w.grad.data.copy()
        w.grad = None
        want.backward()
        np.testing.assert_array_equal(g, w.grad.data)


def test_data_only_results_do_not_require_grad_and_recording_ends_with_the_trace():
    seen = []

    def f(x):
        c = Tensor(np.ones(3)) * 2.0  # data alone
        seen.append((c.requires_grad, c._op is not None))
        return (x * c).sum()

    compile(f)(np.arange(3.0))
    assert seen[0] == (False, True)  # recorded while tracing, still without grad
    c = Tensor(np.ones(3)) * 2.0
    assert c._op is None and not c.requires_grad  # eager records nothing for it
    assert sys.modules["autograd.tensors"]._TRACING[0] == 0


@pytest.mark.parametrize("read", ["data", "item", "bool", "float", "compare", "asarray", "set_data"])
def test_reading_a_traced_value_names_the_users_line(read):
    w = _weights()

    def f(x):
        y = (w @ x).sum()
        if read == "data":
            return y * float(np.sum(w.data))
        if read == "item":
            return y * y.item()
        if read == "bool":
            return y if y else -y
        if read == "float":
            return y * float(y)
        if read == "compare":
            return y if (y > 0).all() else -y
        if read == "asarray":
            return y * np.asarray(y).sum()
        w.data = w.data * 2
        return y

    with pytest.raises(CompileError, match="test_compile_tracing.py"):
        compile(f)(np.ones(4))
    assert sys.modules["autograd.tensors"]._TRACING[0] == 0


def test_another_threads_trace_does_not_touch_this_thread():
    w = _weights()
    inside, done = threading.Event(), threading.Event()

    def f(x):
        inside.set()
        done.wait(5)
        return (w @ x).sum()

    thread = threading.Thread(target=lambda: compile(f)(np.ones(4)))
    thread.start()
    try:
        assert inside.wait(5)
        t = Tensor([1.0, 2.0], requires_grad=True) * 3.0
        assert t.data.tolist() == [3.0, 6.0] and bool((t > 0).data.all()) and t.sum().item() == 9.0  # read freely here
        assert (Tensor(np.ones(2)) * 2.0)._op is None  # and data-only ops are not recorded here
    finally:
        done.set()
        thread.join()


def test_bump_version_makes_a_graph_that_used_the_old_value_refuse_backward():
    w = _weights()
    loss = (w * w).sum()
    w.data[0, 0] += 1.0  # through the array: the tensor cannot know
    w.bump_version()
    with pytest.raises(InPlaceModificationError):
        loss.backward()
