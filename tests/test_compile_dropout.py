"""Dropout inside compiled code: the mask is drawn at every call from the module's generator,
the same stream as eager, so compiled and eager training are bitwise equal."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd import Tensor
from autograd.compiler import CompileError, compile
from nn import functional as F


def _model():
    model = nn.Sequential(
        nn.Linear(6, 8, generator=np.random.default_rng(0)), nn.Tanh(),
        nn.Dropout(0.3, generator=np.random.default_rng(7)),
        nn.Linear(8, 3, generator=np.random.default_rng(1)),
    )
    return model, nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def _data(steps=20):
    rng = np.random.default_rng(3)
    return [(rng.random((5 if i % 7 else 4, 6)), rng.integers(0, 3, 5 if i % 7 else 4)) for i in range(steps)]


def _eager_step(model, opt, x, y):
    loss = F.cross_entropy(model(Tensor(x)), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def test_compile_step_with_dropout_is_bitwise_eager_over_20_steps_and_eval_switches():
    (m1, o1), (m2, o2) = _model(), _model()
    step = nn.compile_step(m2, F.cross_entropy, o2)
    for i, (x, y) in enumerate(_data()):
        if i == 10:  # eval for two steps (no mask drawn), then training again
            m1.eval(), m2.eval()
        if i == 12:
            m1.train(), m2.train()
        assert step(x, y) == _eager_step(m1, o1, x, y)
    for a, b in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    # the generator has drawn exactly what eager's drew: the next draws agree
    assert m1[2].generator.random() == m2[2].generator.random()


def test_compile_with_dropout_gives_eagers_gradients():
    (m1, o1), (m2, o2) = _model(), _model()

    @compile
    def loss_fn(x, y):
        return F.cross_entropy(m2(x), y)

    for x, y in _data(6):
        expected = F.cross_entropy(m1(Tensor(x)), y)
        got = loss_fn(x, y)
        assert got.item() == expected.item()
        o1.zero_grad(), o2.zero_grad()
        expected.backward(), got.backward()
        for a, b in zip(m1.parameters(), m2.parameters()):
            np.testing.assert_array_equal(a.grad.data, b.grad.data)
        o1.step(), o2.step()
    assert "generator.random((5, 8)) >= 0.3" in loss_fn.source


def test_dropout_without_a_generator_is_refused():
    w = Tensor(np.ones((3, 4)), requires_grad=True)

    def f(x):
        return F.dropout(w @ x, 0.5).sum()

    with pytest.raises(CompileError, match="generator"):
        compile(f)(np.ones(4))


def test_the_mask_is_dropouts_own_draw():
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    mask = Tensor.dropout_mask((4, 3), 0.25, np.float32, a)
    keep = b.random((4, 3)) >= 0.25
    np.testing.assert_array_equal(mask.data, keep.astype(np.float32) / 0.75)
    assert mask.dtype == np.float32 and not mask.requires_grad and mask.grad_fn is None
