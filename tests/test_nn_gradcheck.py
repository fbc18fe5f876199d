"""Finite-difference checks of every ``nn`` module (CMU 10-601 homework 5, A.6): d(output)/d(input)
and d(output)/d(every parameter), whole Jacobians, via ``autograd.gradcheck`` in float64.

Parameters are leaf tensors that require grad, so they are passed to ``gradcheck`` as
inputs themselves: ``gradcheck`` perturbs ``param.data`` in place, which the module reads
on its next call. The checked function therefore takes ``(x, *params)`` and ignores the
parameters it is handed (they are the module's own).
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor
from nn import functional as F

REDUCTIONS = ["mean", "sum", "none"]


def rng(seed=0):
    return np.random.default_rng(seed)


def leaf(array):
    return Tensor(np.asarray(array, dtype=np.float64).copy(), requires_grad=True)


def check_module(module, x, *extra):
    """gradcheck of module(x, *extra) w.r.t. x (if it requires grad) and every parameter."""
    params = list(module.parameters())
    assert params, "module has no parameters"
    for p in params:
        assert p.dtype == np.float64

    def f(inp, *_):
        out = module(inp, *extra)
        return out

    assert autograd.gradcheck(f, [x, *params])


# ---- layers ------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 2, 3)])
def test_linear(bias, shape):
    check_module(nn.Linear(3, 2, bias=bias, generator=rng(1)), leaf(rng(2).standard_normal(shape)))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "leaky_relu"])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_mlp(activation, batchnorm):
    net = nn.MLP(3, [4, 3], 2, activation=activation, batchnorm=batchnorm, generator=rng(3))
    check_module(net, leaf(rng(4).standard_normal((5, 3))))


def test_mlp_batchnorm_eval():
    net = nn.MLP(3, [4], 2, activation="tanh", batchnorm=True, generator=rng(5))
    for _ in range(3):
        net(Tensor(rng(6).standard_normal((6, 3))))  # move the running statistics
    net.eval()
    check_module(net, leaf(rng(7).standard_normal((4, 3))))


@pytest.mark.parametrize(
    "module",
    [nn.Identity(), nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(0.1), nn.Softmax(dim=0), nn.Softmax(dim=-1)],
    ids=lambda m: repr(m),
)
def test_activations(module):
    x = leaf(rng(8).standard_normal((3, 4)) + 0.05)  # keep clear of the kink at 0
    assert autograd.gradcheck(module, [x])


def test_relu_away_from_kink():
    x = leaf(rng(9).choice([-1, 1], (3, 4)) * rng(10).uniform(0.1, 1, (3, 4)))
    assert autograd.gradcheck(nn.ReLU(), [x])


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)], ids=["2d", "3d"])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_train(shape, affine):
    bn = nn.BatchNorm1d(3, eps=1e-5, momentum=0.1, affine=affine)
    if affine:
        bn.weight.data[:] = rng(11).uniform(0.5, 2, 3)
        bn.bias.data[:] = rng(12).standard_normal(3)
    x = leaf(rng(13).standard_normal(shape))
    if affine:
        check_module(bn, x)
    else:
        assert autograd.gradcheck(bn, [x])


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)], ids=["2d", "3d"])
def test_batchnorm_eval(shape):
    bn = nn.BatchNorm1d(3)
    bn.weight.data[:] = rng(14).uniform(0.5, 2, 3)
    bn.bias.data[:] = rng(15).standard_normal(3)
    for _ in range(3):
        bn(Tensor(rng(16).standard_normal(shape) * 2 + 1))
    bn.eval()
    check_module(bn, leaf(rng(17).standard_normal(shape)))


def test_dropout_with_fixed_mask():
    """With the generator re-seeded before each call the mask is fixed, so dropout is differentiable."""
    drop = nn.Dropout(0.4)

    def f(x):
        drop.generator = np.random.default_rng(0)
        return drop(x)

    x = leaf(rng(18).standard_normal((4, 5)))
    assert autograd.gradcheck(f, [x])


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "identity"])
@pytest.mark.parametrize("with_h", [False, True])
def test_rnn_cell(nonlinearity, with_h):
    cell = nn.RNNCell(3, 4, nonlinearity=nonlinearity, generator=rng(19))
    x = leaf(rng(20).standard_normal((2, 3)))
    if not with_h:
        check_module(cell, x)
        return
    h = leaf(rng(21).standard_normal((2, 4)))
    params = list(cell.parameters())
    assert autograd.gradcheck(lambda a, b, *_: cell(a, b), [x, h, *params])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_two_layers(batch_first, nonlinearity):
    rnn = nn.RNN(2, 3, num_layers=2, nonlinearity=nonlinearity, batch_first=batch_first, generator=rng(22))
    x = leaf(rng(23).standard_normal((2, 3, 2)))  # (T, N, I) or (N, T, I)
    h0 = leaf(rng(24).standard_normal((2, 3 if not batch_first else 2, 3)))
    params = list(rnn.parameters())
    assert len(params) == 8
    # output and h_n together (a tuple), w.r.t. x, h0 and all eight parameters
    assert autograd.gradcheck(lambda a, b, *_: rnn(a, b), [x, h0, *params])


def test_rnn_unbatched_no_h0():
    rnn = nn.RNN(2, 3, num_layers=2, generator=rng(25))
    check_module(_Wrap(rnn), leaf(rng(26).standard_normal((4, 2))))


class _Wrap(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x)


def test_embedding_params():
    emb = nn.Embedding(5, 3, generator=rng(27))
    idx = np.array([[0, 3, 3], [4, 1, 0]])  # repeats accumulate
    assert autograd.gradcheck(lambda w: emb(idx) * emb(idx[::-1]), [emb.weight])


# ---- losses (w.r.t. their input; and w.r.t. the target where it is differentiable) -------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_indices(reduction):
    x = leaf(rng(30).standard_normal((4, 3)))
    y = np.array([0, 2, 1, 2])
    assert autograd.gradcheck(lambda z: F.cross_entropy(z, y, reduction=reduction), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities(reduction):
    x = leaf(rng(31).standard_normal((4, 3)))
    p = leaf(rng(32).dirichlet(np.ones(3), 4))
    assert autograd.gradcheck(lambda z, t: F.cross_entropy(z, t, reduction=reduction), [x, p])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial(reduction):
    x = leaf(rng(33).standard_normal((2, 3, 2)))
    y = np.array([[0, 2], [1, 1]])
    assert autograd.gradcheck(lambda z: F.cross_entropy(z, y, reduction=reduction), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    x = leaf(np.log(rng(34).dirichlet(np.ones(3), 4)))
    y = np.array([2, 0, 1, 1])
    assert autograd.gradcheck(lambda z: F.nll_loss(z, y, reduction=reduction), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction):
    z = leaf(np.array([-3.0, -0.5, 0.2, 1.7, 25.0, -25.0]))
    y = leaf(np.array([0.0, 1.0, 0.3, 1.0, 0.0, 1.0]))
    assert autograd.gradcheck(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction), [z, y]
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(reduction):
    p = leaf(rng(35).uniform(0.1, 0.9, (3, 2)))
    y = leaf(rng(36).uniform(0, 1, (3, 2)))
    assert autograd.gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), [p, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse(reduction):
    x = leaf(rng(37).standard_normal((3, 2)))
    y = leaf(rng(38).standard_normal((3, 2)))
    assert autograd.gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, y])


@pytest.mark.parametrize(
    "loss, target",
    [
        (nn.CrossEntropyLoss(), np.array([1, 0, 2])),
        (nn.NLLLoss(reduction="sum"), np.array([1, 0, 2])),
        (nn.BCEWithLogitsLoss(), np.full((3, 3), 0.25)),
        (nn.MSELoss(reduction="none"), np.ones((3, 3))),
    ],
    ids=lambda v: type(v).__name__,
)
def test_loss_modules(loss, target):
    x = leaf(rng(39).standard_normal((3, 3)))
    assert autograd.gradcheck(lambda z: loss(z, target), [x])


def test_bce_module():
    p = leaf(rng(40).uniform(0.2, 0.8, 5))
    assert autograd.gradcheck(lambda a: nn.BCELoss()(a, np.array([0, 1, 1, 0, 1.0])), [p])


# ---- a whole training objective, through every layer kind ---------------------------------------


def test_end_to_end_loss_wrt_all_parameters():
    net = nn.MLP(3, [4], 3, activation="tanh", batchnorm=True, generator=rng(41))
    x = Tensor(rng(42).standard_normal((6, 3)))
    y = np.array([0, 1, 2, 2, 1, 0])
    params = list(net.parameters())
    assert autograd.gradcheck(lambda *_: F.cross_entropy(net(x), y), params)


def test_end_to_end_second_order():
    """Second derivatives too (gradgradcheck): the backward pass of an MLP + loss is itself differentiable."""
    net = nn.MLP(2, [3], 2, activation="tanh", generator=rng(43))
    x = leaf(rng(44).standard_normal((3, 2)))
    y = np.array([0, 1, 1])
    assert autograd.gradgradcheck(lambda a, *_: F.cross_entropy(net(a), y), [x, *net.parameters()])
