"""Differential tests of ``nn`` against ``torch.nn``: layers, losses, state dicts (optimisers: test_optim_torch.py).

Everything runs in float64 and must agree with PyTorch to ~1e-10: outputs, input
gradients and parameter gradients (with a random upstream gradient), BatchNorm's
running statistics, and whole 20-step optimisation trajectories. Both sides start
from identical parameters (chainrule's state dict copied into the torch module with
``torch.from_numpy``).

The last part checks the conventions of CMU 11-785 homework 1 (MyTorch): the momentum
form m = βm − η∇; W += m, BatchNorm with alpha=0.9 and eps=1e-8 (and its *biased*
running variance), and batch-averaged dW.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="install torch to run the PyTorch comparisons")

import autograd  # noqa: E402
import nn  # noqa: E402
from autograd import Tensor  # noqa: E402
from nn import functional as F  # noqa: E402

torch.set_num_threads(1)
TF = torch.nn.functional

RTOL = 1e-10
ATOL = 1e-10
REDUCTIONS = ["mean", "sum", "none"]


# ---- helpers --------------------------------------------------------------------------------


def _arr(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy(force=True)
    if isinstance(x, Tensor):
        return x.data
    return np.asarray(x)


def close(actual, expected, what="", rtol=RTOL, atol=ATOL):
    a, e = _arr(actual), _arr(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != torch {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def leaves(array):
    """The same float64 data as a chainrule leaf and a torch leaf, both requiring grad."""
    array = np.asarray(array, dtype=np.float64)
    return Tensor(array.copy(), requires_grad=True), torch.tensor(array, requires_grad=True)


def sync(ours, theirs):
    """Copy chainrule's parameters and buffers into the torch module (strict: same names)."""
    theirs.double()
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    return theirs


def grads_close(ours, theirs, what=""):
    """Parameter gradients by name (None counts as zeros)."""
    ours_p = dict(ours.named_parameters())
    theirs_p = dict(theirs.named_parameters())
    assert list(ours_p) == list(theirs_p), f"{what}: parameter names differ"
    for name, p in ours_p.items():
        q = theirs_p[name]
        a = np.zeros(p.shape) if p.grad is None else p.grad.data
        e = np.zeros(tuple(q.shape)) if q.grad is None else q.grad
        close(a, e, f"{what}: grad of {name}")


def run_both(ours, theirs, x, seed=0, extra=()):
    """Forward both modules on x, backpropagate one random upstream gradient; compare everything."""
    xc, xt = leaves(x)
    out_c, out_t = ours(xc, *extra), theirs(xt, *extra)
    close(out_c, out_t, f"{type(ours).__name__} output")
    upstream = np.random.default_rng(seed).standard_normal(out_t.shape)
    out_c.backward(upstream)
    out_t.backward(torch.from_numpy(upstream))
    close(xc.grad, xt.grad, f"{type(ours).__name__} input grad")
    grads_close(ours, theirs, type(ours).__name__)
    return out_c, out_t


def rng(seed=0):
    return np.random.default_rng(seed)


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


def _torch_activation(name):
    return {
        "relu": torch.nn.ReLU,
        "tanh": torch.nn.Tanh,
        "sigmoid": torch.nn.Sigmoid,
        "leaky_relu": torch.nn.LeakyReLU,
        "identity": torch.nn.Identity,
    }[name]()


def torch_mlp(in_features, hidden, out_features, activation="relu", batchnorm=False, eps=1e-5, momentum=0.1):
    """The torch.nn.Sequential that nn.MLP claims to equal."""
    sizes = [in_features, *hidden]
    bn_layers = len(hidden) if batchnorm is True else int(batchnorm)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < bn_layers:
            layers.append(torch.nn.BatchNorm1d(b, eps=eps, momentum=momentum))
        layers.append(_torch_activation(activation))
    layers.append(torch.nn.Linear(sizes[-1], out_features))
    return torch.nn.Sequential(*layers).double()


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


# ---- training, for the optimiser tests (test_optim_torch.py) and the state dicts -----------------

X_TRAIN = np.random.default_rng(100).standard_normal((16, 4))
Y_TRAIN = np.random.default_rng(101).integers(0, 3, 16)


def _models(batchnorm=False):
    ours = nn.MLP(4, [8], 3, activation="tanh", batchnorm=batchnorm, generator=rng(11))
    theirs = sync(ours, torch_mlp(4, [8], 3, "tanh", batchnorm))
    return ours, theirs


def _train_ours(model, opt, steps, scheduler=None):
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(Tensor(X_TRAIN)), Y_TRAIN).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()


def _train_theirs(model, opt, steps, scheduler=None):
    x, y = torch.from_numpy(X_TRAIN), torch.from_numpy(Y_TRAIN)
    for _ in range(steps):
        opt.zero_grad()
        TF.cross_entropy(model(x), y).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()


def _params_close(ours, theirs, what, rtol=RTOL, atol=ATOL):
    for key, value in theirs.state_dict().items():
        close(ours.state_dict()[key], value, f"{what}: {key}", rtol=rtol, atol=atol)


# ---- state dicts ----------------------------------------------------------------------------------


def _trained_bn_mlp():
    ours = nn.MLP(4, [8, 6], 3, activation="relu", batchnorm=True, generator=rng(12))
    opt = nn.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    _train_ours(ours, opt, 5)
    return ours


def test_save_load_round_trip(tmp_path):
    ours = _trained_bn_mlp()
    path = tmp_path / "mlp.npz"
    nn.save(ours, path)
    state = nn.load(path)
    assert list(state) == list(ours.state_dict())
    other = nn.MLP(4, [8, 6], 3, activation="relu", batchnorm=True, generator=rng(13))
    other.load_state_dict(state)
    x = Tensor(rng(14).standard_normal((5, 4)))
    for mode in ("eval", "train"):
        getattr(ours, mode)()
        getattr(other, mode)()
        np.testing.assert_array_equal(other(x).data, ours(x).data)
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[key], value, err_msg=key)
        assert other.state_dict()[key].dtype == value.dtype


def test_chainrule_state_into_torch():
    ours = _trained_bn_mlp()
    theirs = torch_mlp(4, [8, 6], 3, "relu", batchnorm=True)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = rng(15).standard_normal((6, 4))
    ours.eval()
    theirs.eval()
    close(ours(Tensor(x)), theirs(torch.from_numpy(x)), "eval outputs", rtol=1e-12, atol=1e-12)
    assert int(theirs.state_dict()["1.num_batches_tracked"]) == 5


def test_torch_state_into_chainrule():
    torch.manual_seed(0)
    theirs = torch_mlp(4, [8, 6], 3, "relu", batchnorm=True)
    opt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    _train_theirs(theirs, opt, 4)  # moves the BatchNorm running statistics
    ours = nn.MLP(4, [8, 6], 3, activation="relu", batchnorm=True, generator=rng(16))
    missing, unexpected = ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert missing == [] and unexpected == []
    x = rng(17).standard_normal((6, 4))
    ours.eval()
    theirs.eval()
    close(ours(Tensor(x)), theirs(torch.from_numpy(x)), "eval outputs", rtol=1e-12, atol=1e-12)
    assert int(ours.state_dict()["1.num_batches_tracked"]) == 4
    ours.train()
    theirs.train()
    close(ours(Tensor(x)), theirs(torch.from_numpy(x)), "train outputs", rtol=1e-12, atol=1e-12)


def test_rnn_state_dict_both_ways():
    theirs = torch.nn.RNN(3, 4, num_layers=2).double()
    ours = nn.RNN(3, 4, num_layers=2, generator=rng(0))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng(1).standard_normal((5, 2, 3))
    close(ours(Tensor(x))[0], theirs(torch.from_numpy(x))[0], "RNN from torch state")
    theirs2 = sync(nn.RNN(3, 4, num_layers=2, generator=rng(2)), torch.nn.RNN(3, 4, num_layers=2))
    assert list(theirs2.state_dict()) == list(ours.state_dict())


# ---- the MyTorch handout's conventions -------------------------------------------------------------


def test_mytorch_momentum_trajectory():
    """m ← βm − η∇W;  W ← W + m (the MyTorch handout, 3.5.3), in numpy, equals nn.optim.SGD(momentum=β)."""
    beta, lr = 0.9, 0.05
    ours = nn.MLP(4, [8], 3, activation="tanh", generator=rng(21))
    reference = nn.MLP(4, [8], 3, activation="tanh", generator=rng(21))
    opt = nn.optim.SGD(ours.parameters(), lr=lr, momentum=beta)
    velocity = {name: np.zeros(p.shape) for name, p in reference.named_parameters()}
    for _ in range(20):
        _train_ours(ours, opt, 1)
        reference.zero_grad()
        F.cross_entropy(reference(Tensor(X_TRAIN)), Y_TRAIN).backward()
        for name, p in reference.named_parameters():
            velocity[name] = beta * velocity[name] - lr * p.grad.data
            p.data += velocity[name]
    for key, value in reference.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value, rtol=1e-10, atol=1e-12, err_msg=key)


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
