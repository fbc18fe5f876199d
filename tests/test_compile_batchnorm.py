"""BatchNorm1d in train mode inside compiled code: the running statistics and the batch count
are updated at every call (by the op eager runs, in place), bitwise as eager updates them."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd import Tensor
from autograd.compiler import compile
from autograd.ops.state import RunningStats
from nn import functional as F


def _model(momentum):
    model = nn.Sequential(
        nn.Linear(6, 8, generator=np.random.default_rng(0)), nn.BatchNorm1d(8, momentum=momentum),
        nn.Tanh(), nn.Linear(8, 3, generator=np.random.default_rng(1)),
    )
    return model, nn.optim.Adam(model.parameters(), lr=0.01)


def _buffers(model):
    bn = model[1]
    return [bn.running_mean.copy(), bn.running_var.copy(), bn.num_batches_tracked.copy()]


@pytest.mark.parametrize("momentum", [0.1, None])
def test_compile_step_updates_running_statistics_as_eager_over_20_steps(momentum):
    (m1, o1), (m2, o2) = _model(momentum), _model(momentum)
    step = nn.compile_step(m2, F.cross_entropy, o2)
    rng = np.random.default_rng(3)
    for i in range(20):
        n = 5 if i % 6 else 4  # a second signature now and then
        x, y = rng.random((n, 6)), rng.integers(0, 3, n)
        if i == 14:  # eval for a step: the statistics are read, not updated
            m1.eval(), m2.eval()
        if i == 15:
            m1.train(), m2.train()
        loss = F.cross_entropy(m1(Tensor(x)), y)
        o1.zero_grad()
        loss.backward()
        o1.step()
        assert step(x, y) == loss.item()
        for a, b in zip(_buffers(m1), _buffers(m2)):
            np.testing.assert_array_equal(a, b)
    assert m2[1].num_batches_tracked == 19
    for a, b in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert m1.state_dict().keys() == m2.state_dict().keys()


def test_compile_with_batchnorm_in_train_mode_and_compiling_leaves_the_statistics_alone():
    (m1, _), (m2, _) = _model(0.1), _model(0.1)
    f = compile(lambda x: m2(x).sum())
    x = np.random.default_rng(4).random((5, 6))
    out = f(x)  # compiling traces (and checks) several times; only the call updates
    assert m2[1].num_batches_tracked == 1
    assert out.item() == m1(x).sum().item()
    for a, b in zip(_buffers(m1), _buffers(m2)):
        np.testing.assert_array_equal(a, b)


def test_the_running_stats_op_is_eagers_update():
    mean, var = np.array([1.0, 2.0]), np.array([0.5, 4.0])
    rm, rv, count = np.zeros(2), np.ones(2), np.array(0, dtype=np.int64)
    RunningStats(rm, rv, count, 0.1, 5).forward(mean, var)
    np.testing.assert_array_equal(rm, 0.9 * np.zeros(2) + 0.1 * mean)
    np.testing.assert_array_equal(rv, 0.9 * np.ones(2) + 0.1 * (var * (5 / 4)))
    assert count == 1
