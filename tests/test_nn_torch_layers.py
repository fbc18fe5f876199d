"""Differential tests of ``nn``'s layers against ``torch.nn``: Linear, activations, Sequential,
MLP, BatchNorm1d, Dropout, RNNCell, RNN, Embedding (losses: test_nn_torch_losses.py, state
dicts: test_nn_torch_serialization.py, optimisers: test_optim_torch.py).

Everything runs in float64 and must agree with PyTorch to ~1e-10: outputs, input
gradients and parameter gradients (with a random upstream gradient) and BatchNorm's
running statistics. Both sides start from identical parameters (chainrule's state dict
copied into the torch module with ``torch.from_numpy``; helpers in torch_helpers.py).

The last part checks the MyTorch (CMU 11-785 homework 1) BatchNorm convention: alpha=0.9
and eps=1e-8, and its *biased* running variance.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="install torch to run the PyTorch comparisons")

from torch_helpers import (  # noqa: E402
    _models,
    close,
    grads_close,
    leaves,
    rng,
    run_both,
    sync,
    torch_mlp,
)

import autograd  # noqa: E402
import nn  # noqa: E402
from autograd import Tensor  # noqa: E402

# ---- layers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5,), (4, 5), (2, 3, 5)])
def test_linear(bias, shape):
    ours = nn.Linear(5, 3, bias=bias, generator=rng(1))
    theirs = sync(ours, torch.nn.Linear(5, 3, bias=bias))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    run_both(ours, theirs, rng(2).standard_normal(shape))


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (nn.Identity(), torch.nn.Identity()),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.LeakyReLU(), torch.nn.LeakyReLU()),
        (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
        (nn.Softmax(dim=0), torch.nn.Softmax(dim=0)),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
        (nn.Softmax(dim=-1), torch.nn.Softmax(dim=-1)),
        (nn.Softmax(), torch.nn.Softmax(dim=-1)),
    ],
    ids=lambda m: repr(m).replace("\n", ""),
)
def test_activation_modules(ours, theirs):
    x = 3 * rng(3).standard_normal((4, 3, 5))
    run_both(ours, theirs, x)
    run_both(ours, theirs, x[0], seed=1)  # 2-d as well


def test_sequential():
    g = rng(4)
    ours = nn.Sequential(nn.Linear(4, 6, generator=g), nn.Tanh(), nn.Linear(6, 2, generator=g), nn.Sigmoid())
    theirs = sync(
        ours,
        torch.nn.Sequential(
            torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2), torch.nn.Sigmoid()
        ),
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    run_both(ours, theirs, rng(5).standard_normal((7, 4)))
    assert len(ours) == 4 and isinstance(ours[1], nn.Tanh)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "identity"])
@pytest.mark.parametrize("batchnorm", [False, True, 1])
def test_mlp(activation, batchnorm):
    ours = nn.MLP(4, [8, 6], 3, activation=activation, batchnorm=batchnorm, generator=rng(6))
    theirs = torch_mlp(4, [8, 6], 3, activation, batchnorm)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    sync(ours, theirs)
    for step in range(3):  # train mode: BatchNorm statistics move each step
        ours.zero_grad()
        theirs.zero_grad()
        run_both(ours, theirs, rng(7 + step).standard_normal((10, 4)), seed=step)
    for key, value in theirs.state_dict().items():
        close(ours.state_dict()[key], value, f"state {key}")
    ours.eval()
    theirs.eval()
    ours.zero_grad()
    theirs.zero_grad()
    run_both(ours, theirs, rng(20).standard_normal((5, 4)), seed=9)


# ---- BatchNorm1d ---------------------------------------------------------------------------


def _bn_state_close(ours, theirs, what):
    close(ours.running_mean, theirs.running_mean, f"{what} running_mean")
    close(ours.running_var, theirs.running_var, f"{what} running_var")
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked), what


@pytest.mark.parametrize("shape", [(8, 4), (6, 4, 5)], ids=["2d", "3d"])
@pytest.mark.parametrize("momentum", [0.1, 0.5, 0.01, 1.0])
@pytest.mark.parametrize("eps", [1e-5, 1e-8, 0.1])
def test_batchnorm1d_train_then_eval(shape, momentum, eps):
    ours = nn.BatchNorm1d(4, eps=eps, momentum=momentum)
    theirs = torch.nn.BatchNorm1d(4, eps=eps, momentum=momentum).double()
    # non-trivial affine parameters
    ours.weight.data[:] = rng(1).uniform(0.5, 2.0, 4)
    ours.bias.data[:] = rng(2).standard_normal(4)
    sync(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    g = rng(3)
    for step in range(4):
        ours.zero_grad()
        theirs.zero_grad()
        x = 2.0 + 3.0 * g.standard_normal(shape)
        run_both(ours, theirs, x, seed=step)
        _bn_state_close(ours, theirs, f"train step {step}")
    ours.eval()
    theirs.eval()
    for step in range(2):
        ours.zero_grad()
        theirs.zero_grad()
        run_both(ours, theirs, g.standard_normal(shape), seed=10 + step)
        _bn_state_close(ours, theirs, f"eval step {step}")  # eval leaves the statistics alone


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
def test_batchnorm1d_options(affine, track):
    ours = nn.BatchNorm1d(3, affine=affine, track_running_stats=track)
    theirs = torch.nn.BatchNorm1d(3, affine=affine, track_running_stats=track).double()
    sync(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    g = rng(4)
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        ours.zero_grad()
        theirs.zero_grad()
        run_both(ours, theirs, g.standard_normal((5, 3)))
        if track:
            _bn_state_close(ours, theirs, mode)


# ---- Dropout -----------------------------------------------------------------------------------


def test_dropout_identity_cases():
    x = rng(5).standard_normal((6, 7))
    for module, training in ((nn.Dropout(0.0), True), (nn.Dropout(0.5), False), (nn.Dropout(1.0), False)):
        module.train(training)
        run_both(module, torch.nn.Identity(), x)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_train_scaling_and_grad(p):
    x = rng(6).uniform(0.5, 1.5, (200, 50)) * rng(7).choice([-1, 1], (200, 50))  # no zeros
    xc = Tensor(x.copy(), requires_grad=True)
    out = nn.Dropout(p, generator=rng(8))(xc)
    mask = out.data != 0
    np.testing.assert_allclose(out.data, np.where(mask, x / (1 - p), 0.0), rtol=1e-15)
    assert abs(mask.mean() - (1 - p)) < 0.03  # 10,000 Bernoulli draws
    upstream = rng(9).standard_normal(x.shape)
    out.backward(upstream)
    np.testing.assert_allclose(xc.grad.data, upstream * mask / (1 - p), rtol=1e-15)


def test_dropout_p1_train_is_zero():
    xc = Tensor(rng(1).standard_normal((3, 4)), requires_grad=True)
    out = nn.Dropout(1.0)(xc)
    assert not out.data.any()
    out.sum().backward()
    assert not xc.grad.data.any()


# ---- RNNCell, RNN -------------------------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_h", [True, False])
def test_rnn_cell(nonlinearity, bias, batched, with_h):
    ours = nn.RNNCell(3, 5, bias=bias, nonlinearity=nonlinearity, generator=rng(1))
    theirs = sync(ours, torch.nn.RNNCell(3, 5, bias=bias, nonlinearity=nonlinearity))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    g = rng(2)
    x = g.standard_normal((4, 3) if batched else (3,))
    if not with_h:
        run_both(ours, theirs, x)
        return
    h = g.standard_normal((4, 5) if batched else (5,))
    xc, xt = leaves(x)
    hc, ht = leaves(h)
    out_c, out_t = ours(xc, hc), theirs(xt, ht)
    close(out_c, out_t, "RNNCell h'")
    up = g.standard_normal(out_c.shape)
    out_c.backward(up)
    out_t.backward(torch.from_numpy(up))
    close(xc.grad, xt.grad, "dx")
    close(hc.grad, ht.grad, "dh")
    grads_close(ours, theirs, "RNNCell")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("layout", ["batched", "unbatched"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_rnn(nonlinearity, num_layers, batch_first, layout, with_h0):
    T, N, D, H = 5, 3, 4, 6
    ours = nn.RNN(
        D,
        H,
        num_layers=num_layers,
        nonlinearity=nonlinearity,
        batch_first=batch_first,
        generator=rng(num_layers),
    )
    theirs = torch.nn.RNN(D, H, num_layers=num_layers, nonlinearity=nonlinearity, batch_first=batch_first)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    sync(ours, theirs)
    g = rng(3)
    if layout == "unbatched":
        x, h0 = g.standard_normal((T, D)), g.standard_normal((num_layers, H))
    else:
        x = g.standard_normal((N, T, D) if batch_first else (T, N, D))
        h0 = g.standard_normal((num_layers, N, H))
    xc, xt = leaves(x)
    hc, ht = leaves(h0)
    out_c, hn_c = ours(xc, hc) if with_h0 else ours(xc)
    out_t, hn_t = theirs(xt, ht) if with_h0 else theirs(xt)
    close(out_c, out_t, "output")
    close(hn_c, hn_t, "h_n")
    up_out, up_h = g.standard_normal(out_t.shape), g.standard_normal(hn_t.shape)
    ((out_c * up_out).sum() + (hn_c * up_h).sum()).backward()
    ((out_t * torch.from_numpy(up_out)).sum() + (hn_t * torch.from_numpy(up_h)).sum()).backward()
    close(xc.grad, xt.grad, "dx")
    if with_h0:
        close(hc.grad, ht.grad, "dh0")
    grads_close(ours, theirs, "RNN")


def test_rnn_no_bias():
    ours = nn.RNN(3, 4, num_layers=2, bias=False, generator=rng(0))
    theirs = sync(ours, torch.nn.RNN(3, 4, num_layers=2, bias=False))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    xc, xt = leaves(rng(1).standard_normal((4, 2, 3)))
    (out_c, hn_c), (out_t, hn_t) = ours(xc), theirs(xt)
    close(out_c, out_t, "output")
    close(hn_c, hn_t, "h_n")
    up = rng(2).standard_normal(tuple(out_t.shape))
    out_c.backward(up)
    out_t.backward(torch.from_numpy(up))
    close(xc.grad, xt.grad, "dx")
    grads_close(ours, theirs, "RNN without bias")


# ---- Embedding ----------------------------------------------------------------------------------


@pytest.mark.parametrize("index_shape", [(), (5,), (3, 4)])
def test_embedding(index_shape):
    ours = nn.Embedding(7, 3, generator=rng(1))
    theirs = sync(ours, torch.nn.Embedding(7, 3))
    idx = rng(2).integers(0, 7, size=index_shape)
    if idx.size > 1:
        idx.flat[0] = idx.flat[-1]  # a repeated index: its gradient rows must add up
    out_c, out_t = ours(idx), theirs(torch.from_numpy(np.asarray(idx)))
    close(out_c, out_t, "embedding")
    up = rng(3).standard_normal(out_t.shape)
    out_c.backward(up)
    out_t.backward(torch.from_numpy(up))
    grads_close(ours, theirs, "Embedding")
    out_list = ours(idx.tolist()) if idx.ndim else ours(int(idx))
    close(out_list, out_t, "embedding, list indices")


# ---- the MyTorch handout's BatchNorm, no_grad inference -------------------------------------------


def _mytorch_batchnorm(x, gamma, beta, running_mean, running_var, alpha=0.9, eps=1e-8):
    """The MyTorch handout's BatchNorm forward (eqs. 38-41) and inference update (46-47), in numpy."""
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)  # biased
    norm = (x - mean) / np.sqrt(var + eps)
    out = gamma * norm + beta
    running_mean = alpha * running_mean + (1 - alpha) * mean
    running_var = alpha * running_var + (1 - alpha) * var
    return out, norm, mean, var, running_mean, running_var


def _mytorch_batchnorm_backward(delta, x, norm, mean, var, gamma, eps=1e-8):
    """The MyTorch handout's appendix C backward: eqs. 42-45, 27 and 37, written out literally."""
    m = x.shape[0]
    dnorm = delta * gamma  # (42)
    dbeta = delta.sum(axis=0)  # (43)
    dgamma = (delta * norm).sum(axis=0)  # (44)
    dvar = -0.5 * (dnorm * (x - mean) * (var + eps) ** -1.5).sum(axis=0)  # (45) with (20)
    dmean = -(dnorm * (var + eps) ** -0.5).sum(axis=0) - 2 / m * dvar * (x - mean).sum(axis=0)  # (27)
    dx = dnorm * (var + eps) ** -0.5 + dvar * (2 / m * (x - mean)) + dmean / m  # (37)
    return dx, dgamma, dbeta


def test_mytorch_batchnorm():
    """MyTorch BatchNorm(alpha=0.9), eps=1e-8 == BatchNorm1d(n, eps=1e-8, momentum=0.1) except running_var.

    Training outputs, gradients (appendix C) and the running mean agree. The running variance
    differs: the MyTorch handout averages the *biased* batch variance σ²_B (eq. 47), we (and PyTorch) the
    unbiased one m/(m-1)·σ²_B. So the two running variances obey

        ours_k − mytorch_k = 0.9 (ours_{k−1} − mytorch_{k−1}) + 0.1 σ²_B,k / (m − 1),

    i.e. only the batch term 0.1·σ²_B differs by the factor m/(m-1); the running variance as a
    whole is *not* (m-1)/m times ours (the 0.9·Var part is shared). After the first step from
    Var = 1: mytorch = 0.9 + 0.1 σ², ours = 0.9 + 0.1 σ² m/(m-1).
    """
    n, m = 4, 5
    ours = nn.BatchNorm1d(n, eps=1e-8, momentum=0.1)
    gamma, beta = rng(1).uniform(0.5, 2, n), rng(2).standard_normal(n)
    ours.weight.data[:] = gamma
    ours.bias.data[:] = beta
    mytorch_mean, mytorch_var = np.zeros(n), np.ones(n)
    expected_gap = np.zeros(n)
    g = rng(3)
    for step in range(5):
        x = 1.5 + 2 * g.standard_normal((m, n))
        delta = g.standard_normal((m, n))
        ours.zero_grad()
        xc = Tensor(x.copy(), requires_grad=True)
        out = ours(xc)
        out.backward(delta)
        ref_out, norm, mean, var, mytorch_mean, mytorch_var = _mytorch_batchnorm(
            x, gamma, beta, mytorch_mean, mytorch_var
        )
        np.testing.assert_allclose(out.data, ref_out, rtol=1e-12, atol=1e-12)
        dx, dgamma, dbeta = _mytorch_batchnorm_backward(delta, x, norm, mean, var, gamma)
        np.testing.assert_allclose(xc.grad.data, dx, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(ours.weight.grad.data, dgamma, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours.bias.grad.data, dbeta, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours.running_mean, mytorch_mean, rtol=1e-14, atol=1e-15)
        # the documented difference, exactly
        expected_gap = 0.9 * expected_gap + 0.1 * var / (m - 1)
        np.testing.assert_allclose(ours.running_var - mytorch_var, expected_gap, rtol=1e-12, atol=1e-15)
        if step == 0:
            np.testing.assert_allclose(mytorch_var, 0.9 + 0.1 * var, rtol=1e-15)
            np.testing.assert_allclose(ours.running_var, 0.9 + 0.1 * var * m / (m - 1), rtol=1e-15)
            # the batch contributions differ by exactly (m-1)/m ...
            np.testing.assert_allclose((mytorch_var - 0.9) / (ours.running_var - 0.9), (m - 1) / m, rtol=1e-12)
            # ... but the running variances themselves do not
            assert not np.allclose(mytorch_var / ours.running_var, (m - 1) / m)
    # at inference each side normalises with its own statistics
    x = g.standard_normal((3, n))
    ours.eval()
    mytorch_eval = gamma * (x - mytorch_mean) / np.sqrt(mytorch_var + 1e-8) + beta
    ours_eval = gamma * (x - ours.running_mean) / np.sqrt(ours.running_var + 1e-8) + beta
    np.testing.assert_allclose(ours(Tensor(x)).data, ours_eval, rtol=1e-12)
    assert not np.allclose(ours_eval, mytorch_eval)


def test_autograd_no_grad_in_eval_forward():
    """A forward under no_grad (inference) gives the same numbers and no graph."""
    ours, theirs = _models(batchnorm=True)
    ours.eval()
    theirs.eval()
    x = rng(40).standard_normal((4, 4))
    with autograd.no_grad():
        out = ours(Tensor(x))
    assert not out.requires_grad
    close(out, theirs(torch.from_numpy(x)), "no_grad eval")


def test_batchnorm_momentum_none_is_a_cumulative_average():
    rng_ = np.random.default_rng(11)
    ours = nn.BatchNorm1d(3, momentum=None)
    theirs = torch.nn.BatchNorm1d(3, momentum=None).double()
    for _ in range(4):
        x = rng_.standard_normal((6, 3)) * 2 + 1
        ours(Tensor(x))
        theirs(torch.from_numpy(x))
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
