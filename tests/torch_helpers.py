"""Shared helpers of the PyTorch-parity tests of ``nn`` (test_nn_torch_*.py, test_optim_torch.py).

Tolerances, comparison helpers (``close``, ``grads_close``, ``run_both``), ``sync`` (copies
chainrule's state dict into a torch module), ``torch_mlp`` (the torch.nn.Sequential that
nn.MLP claims to equal) and the small training set and loops the optimiser, state-dict and
MyTorch-convention tests share. Importing it without torch skips the importing test module,
as each test module's own ``pytest.importorskip`` does first.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="install torch to run the PyTorch comparisons")

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
