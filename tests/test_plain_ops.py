"""The plain ops of the textbook engine at the edges a review found: float16 sigmoid, a float32
sigmoid meeting float64 values (eager and compiled give the same bits and dtypes), a layer
with no input or no output features, and a compiled step of a model with one parameter."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd
from autograd import Tensor


def test_float16_sigmoid_is_computed_in_float32_as_pytorch_does():
    a = np.array([-16.0, -14.0, -12.0, -11.5, -3.0, 0.0, 3.0, 12.0, np.inf, -np.inf], np.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        got = autograd.sigmoid(Tensor(a)).data
    assert got.dtype == np.float16
    expected = (1 / (1 + np.exp(-a.astype(np.float64)))).astype(np.float16)  # the closed form, rounded once
    np.testing.assert_array_equal(got, expected)
    assert got[0] > 0  # σ(−16) ≈ 1.1e-7 is a float16 subnormal, not 0
    torch = pytest.importorskip("torch", reason="install torch to compare with PyTorch")
    np.testing.assert_array_equal(got, torch.sigmoid(torch.tensor(a)).numpy())


def test_float32_sigmoid_times_float64_compiles_to_eager_bits():
    rng = np.random.default_rng(3)
    x = Tensor(rng.standard_normal(200).astype(np.float32), requires_grad=True)
    c = Tensor(rng.standard_normal(200))  # float64

    def f(x, c):
        return ((x * 1.3).sigmoid() * c).sum()

    eager = f(x, c)
    eager.backward()
    expected = x.grad.data.copy()
    x.grad = None
    compiled = autograd.compile(f)
    out = compiled(x, c)
    out.backward()
    assert out.item() == eager.item()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, expected)


@pytest.mark.parametrize("in_features, out_features", [(0, 4), (3, 0)])
def test_a_layer_with_no_features_differentiates(in_features, out_features):
    x = Tensor(np.ones((2, in_features)), requires_grad=True)
    w = Tensor(np.ones((out_features, in_features)), requires_grad=True)
    b = Tensor(np.arange(out_features, dtype=float), requires_grad=True)
    y = autograd.linear(x, w, b)
    assert y.shape == (2, out_features)
    y.sum().backward()
    assert x.grad.shape == (2, in_features) and w.grad.shape == (out_features, in_features)
    np.testing.assert_array_equal(b.grad.data, np.full(out_features, 2.0))  # the batch of 2
    np.testing.assert_array_equal(x.grad.data, np.full((2, in_features), float(out_features)))


def test_compile_step_of_a_model_with_one_parameter():
    import nn
    from nn import functional as F

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    models = [nn.Linear(3, 2, bias=False) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    step = nn.compile_step(models[0], F.mse_loss, nn.optim.SGD(models[0].parameters(), lr=0.1))
    opt = nn.optim.SGD(models[1].parameters(), lr=0.1)
    for _ in range(3):  # the second call runs the generated fast caller
        loss = step(x, y)
        opt.zero_grad()
        eager = F.mse_loss(models[1](x), y)
        eager.backward()
        opt.step()
        assert loss == eager.item()
    np.testing.assert_array_equal(models[0].weight.data, models[1].weight.data)
