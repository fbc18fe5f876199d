"""Differential tests of ``nn``'s losses (``nn.functional`` and the loss modules) against torch.

Cross-entropy (class indices, probabilities, spatial, unbatched, extreme logits), NLL,
BCE with logits, BCE (saturated probabilities included), MSE and the loss modules, for each
reduction. Everything runs in float64 and must agree with PyTorch to ~1e-10: the loss and
its gradient with respect to the input (with a random upstream gradient).

The last test checks a convention of CMU 11-785 homework 1 (MyTorch): batch-averaged dW.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="install torch to run the PyTorch comparisons")

from torch_helpers import (  # noqa: E402
    REDUCTIONS,
    TF,
    X_TRAIN,
    Y_TRAIN,
    close,
    leaves,
    rng,
    sync,
)

import nn  # noqa: E402
from autograd import Tensor  # noqa: E402
from nn import functional as F  # noqa: E402

# ---- losses ---------------------------------------------------------------------------------------


def _loss_both(ours_fn, theirs_fn, x, target_c, target_t, reduction, seed=0):
    xc, xt = leaves(x)
    lc = ours_fn(xc, target_c, reduction=reduction)
    lt = theirs_fn(xt, target_t, reduction=reduction)
    close(lc, lt, f"loss value ({reduction})")
    up = rng(seed).standard_normal(lt.shape)
    lc.backward(up)
    lt.backward(torch.from_numpy(up))
    close(xc.grad, xt.grad, f"loss grad ({reduction})")
    return lc, lt


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ["ndarray", "list", "Tensor", "int32"])
def test_cross_entropy_indices(reduction, kind):
    g = rng(1)
    x = 3 * g.standard_normal((6, 5))
    y = g.integers(0, 5, 6)
    target = {"ndarray": y, "list": y.tolist(), "Tensor": Tensor(y), "int32": y.astype(np.int32)}[kind]
    _loss_both(F.cross_entropy, TF.cross_entropy, x, target, torch.from_numpy(y), reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities(reduction):
    g = rng(2)
    x = 3 * g.standard_normal((6, 5))
    p = g.dirichlet(np.ones(5), size=6)
    _loss_both(F.cross_entropy, TF.cross_entropy, x, p, torch.from_numpy(p), reduction)
    onehot = np.eye(5)[g.integers(0, 5, 6)]
    _loss_both(F.cross_entropy, TF.cross_entropy, x, Tensor(onehot), torch.from_numpy(onehot), reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial(reduction):
    g = rng(3)
    x = g.standard_normal((4, 5, 3))
    y = g.integers(0, 5, (4, 3))
    _loss_both(F.cross_entropy, TF.cross_entropy, x, y, torch.from_numpy(y), reduction)
    p = np.moveaxis(g.dirichlet(np.ones(5), size=(4, 3)), -1, 1).copy()
    _loss_both(F.cross_entropy, TF.cross_entropy, x, p, torch.from_numpy(p), reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_unbatched_and_extreme(reduction):
    x = np.array([2.0, -1.0, 0.5])
    _loss_both(F.cross_entropy, TF.cross_entropy, x, np.array(1), torch.tensor(1), reduction)
    big = np.array([[1000.0, -1000.0, 0.0], [-500.0, 800.0, 799.0]])
    y = np.array([1, 2])
    lc, _ = _loss_both(F.cross_entropy, TF.cross_entropy, big, y, torch.from_numpy(y), reduction)
    assert np.all(np.isfinite(lc.data))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2)])
def test_nll_loss(reduction, shape):
    g = rng(4)
    logp = np.log(g.dirichlet(np.ones(4), size=(shape[0],) + shape[2:]))
    logp = np.moveaxis(logp, -1, 1).copy()
    y = g.integers(0, 4, (shape[0],) + shape[2:])
    _loss_both(F.nll_loss, TF.nll_loss, logp, y, torch.from_numpy(y), reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction):
    g = rng(5)
    z = np.concatenate([3 * g.standard_normal(8), [1000.0, -1000.0, 1000.0, -1000.0, 0.0, 40.0, -40.0]])
    y = np.concatenate([g.uniform(0, 1, 8), [1.0, 0.0, 0.0, 1.0, 0.5, 0.0, 1.0]])
    lc, _ = _loss_both(
        F.binary_cross_entropy_with_logits,
        TF.binary_cross_entropy_with_logits,
        z,
        y,
        torch.from_numpy(y),
        reduction,
    )
    assert np.all(np.isfinite(lc.data))
    # and on a 2-d batch
    z2, y2 = z[:12].reshape(3, 4), y[:12].reshape(3, 4)
    _loss_both(
        F.binary_cross_entropy_with_logits,
        TF.binary_cross_entropy_with_logits,
        z2,
        y2,
        torch.from_numpy(y2),
        reduction,
    )


def test_bce_with_logits_extreme_values_exact():
    z = Tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_array_equal(loss.data, [0.0, 0.0, 1000.0, 1000.0])
    loss.sum().backward()
    np.testing.assert_array_equal(z.grad.data, [0.0, 0.0, 1.0, -1.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(reduction):
    g = rng(6)
    p = g.uniform(0.01, 0.99, (5, 3))
    y = g.uniform(0, 1, (5, 3))
    y[0] = [0.0, 1.0, 0.0]
    _loss_both(F.binary_cross_entropy, TF.binary_cross_entropy, p, y, torch.from_numpy(y), reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_saturated_values(reduction):
    """Probabilities exactly 0 or 1: the logs clamp at -100 as in PyTorch (values only)."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.3])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    with np.errstate(divide="ignore", invalid="ignore"):
        lc = F.binary_cross_entropy(Tensor(p), y, reduction=reduction)
    lt = TF.binary_cross_entropy(torch.from_numpy(p), torch.from_numpy(y), reduction=reduction)
    close(lc, lt, "saturated BCE")


def test_bce_gradient_finite_at_saturated_probabilities():
    p = Tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    with np.errstate(divide="raise", invalid="raise"):
        loss = F.binary_cross_entropy(p, y, reduction="sum")
        loss.backward()
    assert loss.item() == 200.0  # each log clamped at -100, as torch
    assert np.all(np.isfinite(p.grad.data)), p.grad.data


def test_bce_gradient_near_saturation_is_exact():
    """Just inside (0, 1) the gradient is the exact (p - y) / (p (1 - p)).

    (torch is deliberately not the reference here: it divides by max(p (1 - p), 1e-12), which
    gives 1e-288 instead of 1 at p = 1e-300, y = 0.)
    """
    p = Tensor(np.array([1e-300, 1 - 2**-52, 1e-6, 1 - 1e-6]), requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    F.binary_cross_entropy(p, y, reduction="sum").backward()
    q = p.data
    expected = np.where(y == 1, -1 / q, 1 / (1 - q))
    np.testing.assert_allclose(p.grad.data, expected, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2)])
def test_mse(reduction, shape):
    g = rng(7)
    x, y = g.standard_normal(shape), g.standard_normal(shape)
    _loss_both(F.mse_loss, TF.mse_loss, x, y, torch.from_numpy(y), reduction)
    # gradient w.r.t. the target as well
    xc, xt = leaves(x)
    yc, yt = leaves(y)
    F.mse_loss(xc, yc, reduction="sum").backward()
    TF.mse_loss(xt, yt, reduction="sum").backward()
    close(yc.grad, yt.grad, "mse d/dtarget")


@pytest.mark.parametrize(
    "ours, theirs, make",
    [
        (nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, "indices"),
        (nn.NLLLoss, torch.nn.NLLLoss, "logp"),
        (nn.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss, "binary"),
        (nn.BCELoss, torch.nn.BCELoss, "prob"),
        (nn.MSELoss, torch.nn.MSELoss, "real"),
    ],
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_modules(ours, theirs, make, reduction):
    g = rng(8)
    x = g.standard_normal((5, 4))
    if make in ("indices", "logp"):
        if make == "logp":
            x = np.log(g.dirichlet(np.ones(4), 5))
        y = g.integers(0, 4, 5)
    elif make == "prob":
        x = g.uniform(0.05, 0.95, (5, 4))
        y = g.uniform(0, 1, (5, 4))
    else:
        y = g.uniform(0, 1, (5, 4)) if make == "binary" else g.standard_normal((5, 4))
    _loss_both(
        lambda a, b, reduction: ours(reduction=reduction)(a, b),
        lambda a, b, reduction: theirs(reduction=reduction)(a, b),
        x,
        y,
        torch.from_numpy(y),
        reduction,
    )


# ---- the MyTorch handout's batch-averaged dW --------------------------------------------------------


def test_mytorch_dw_is_batch_average():
    """dW = gradient of the batch-averaged loss = (1/m) Σ_i per-example gradients (the MyTorch handout, 3.4.2)."""
    m = X_TRAIN.shape[0]
    layer = nn.Linear(4, 3, generator=rng(31))
    F.cross_entropy(layer(Tensor(X_TRAIN)), Y_TRAIN, reduction="mean").backward()
    batch_dw, batch_db = layer.weight.grad.data.copy(), layer.bias.grad.data.copy()
    sum_dw, sum_db = np.zeros_like(batch_dw), np.zeros_like(batch_db)
    for i in range(m):
        layer.zero_grad()
        F.cross_entropy(layer(Tensor(X_TRAIN[i : i + 1])), Y_TRAIN[i : i + 1]).backward()
        sum_dw += layer.weight.grad.data
        sum_db += layer.bias.grad.data
    np.testing.assert_allclose(batch_dw, sum_dw / m, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(batch_db, sum_db / m, rtol=1e-12, atol=1e-15)
    # closed form: dW = (softmax(z) - Y)ᵀ X / m, in the MyTorch handout's (in, out) orientation it is its transpose
    z = X_TRAIN @ layer.weight.data.T + layer.bias.data
    s = np.exp(z - z.max(axis=1, keepdims=True))
    s /= s.sum(axis=1, keepdims=True)
    delta = (s - np.eye(3)[Y_TRAIN]) / m
    np.testing.assert_allclose(batch_dw, delta.T @ X_TRAIN, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(batch_db, delta.sum(axis=0), rtol=1e-12, atol=1e-15)
    # and torch agrees
    theirs = sync(layer, torch.nn.Linear(4, 3))
    TF.cross_entropy(theirs(torch.from_numpy(X_TRAIN)), torch.from_numpy(Y_TRAIN)).backward()
    close(batch_dw, theirs.weight.grad, "dW vs torch")
