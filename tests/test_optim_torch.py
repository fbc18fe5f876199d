"""Differential tests of ``nn.optim`` against ``torch.optim``: 20-step trajectories, groups, StepLR, state.

Both sides start from identical parameters (``torch_helpers.py``) and train the
same small MLP on the same data; parameters must agree to 1e-10 (float64), and the
optimiser state (momentum buffers, moments, step counts) has torch's structure and values.
SGD is checked with momentum, Nesterov, dampening and weight decay; Adam, AdamW, RMSprop
with their options. The last test checks the MyTorch handout's momentum form
m = βm − η∇; W += m.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="install torch to run the PyTorch comparisons")

from torch_helpers import (  # noqa: E402
    ATOL,
    X_TRAIN,
    Y_TRAIN,
    _models,
    _params_close,
    _train_ours,
    _train_theirs,
    close,
    rng,
    sync,
    torch_mlp,
)

import nn  # noqa: E402
from autograd import Tensor  # noqa: E402
from nn import functional as F  # noqa: E402

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, alpha=0.9)),
]


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS, ids=[f"{n}-{k}" for n, k in OPTIMIZERS])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_optimizer_trajectory(name, kwargs, batchnorm):
    ours, theirs = _models(batchnorm)
    opt_c = getattr(nn.optim, name)(ours.parameters(), **kwargs)
    opt_t = getattr(torch.optim, name)(theirs.parameters(), foreach=False, **kwargs)
    _train_ours(ours, opt_c, 20)
    _train_theirs(theirs, opt_t, 20)
    if batchnorm:
        # The bias of a Linear followed by BatchNorm has zero gradient in exact arithmetic, so both
        # sides see only rounding noise (~1e-17), which Adam and RMSprop divide by sqrt(v) + eps and
        # magnify to ~lr * 1e-9 over 20 steps; the running mean follows that bias. Those two agree
        # to 1e-8 only; everything else (which the noise cannot reach) to 1e-10.
        noisy = ("0.bias", "1.running_mean")
        for key, value in theirs.state_dict().items():
            tol = 1e-8 if key in noisy else ATOL
            close(ours.state_dict()[key], value, f"{name}{kwargs}: {key}", atol=tol)
    else:
        _params_close(ours, theirs, f"{name}{kwargs}")
    # the same per-parameter state entries (plain SGD keeps none, as torch's)
    assert sorted(opt_c.state_dict()["state"]) == sorted(opt_t.state_dict()["state"])


def test_optimizer_param_groups():
    ours, theirs = _models()
    groups = lambda m: [  # noqa: E731
        {"params": [p for n, p in m.named_parameters() if n.endswith("weight")], "lr": 0.05},
        {"params": [p for n, p in m.named_parameters() if n.endswith("bias")]},
    ]
    opt_c = nn.optim.SGD(groups(ours), lr=0.2, momentum=0.9)
    opt_t = torch.optim.SGD(groups(theirs), lr=0.2, momentum=0.9, foreach=False)
    _train_ours(ours, opt_c, 20)
    _train_theirs(theirs, opt_t, 20)
    _params_close(ours, theirs, "param groups")


@pytest.mark.parametrize("step_size, gamma", [(3, 0.5), (1, 0.9), (5, 0.1)])
def test_steplr(step_size, gamma):
    ours, theirs = _models()
    opt_c = nn.optim.SGD(ours.parameters(), lr=0.3, momentum=0.9)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.3, momentum=0.9, foreach=False)
    sched_c = nn.optim.lr_scheduler.StepLR(opt_c, step_size=step_size, gamma=gamma)
    sched_t = torch.optim.lr_scheduler.StepLR(opt_t, step_size=step_size, gamma=gamma)
    rates_c, rates_t = [], []
    for _ in range(12):
        rates_c.append(opt_c.param_groups[0]["lr"])
        rates_t.append(opt_t.param_groups[0]["lr"])
        _train_ours(ours, opt_c, 1, sched_c)
        _train_theirs(theirs, opt_t, 1, sched_t)
        assert sched_c.get_last_lr() == pytest.approx(sched_t.get_last_lr(), rel=1e-14)
    assert rates_c == pytest.approx(rates_t, rel=1e-14)
    _params_close(ours, theirs, "StepLR")


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
        ("Adam", dict(lr=0.01, weight_decay=0.1)),
        ("AdamW", dict(lr=0.01)),
        ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ],
)
def test_optimizer_state_dict_round_trip(name, kwargs):
    cls = getattr(nn.optim, name)
    # uninterrupted: 20 steps
    straight = nn.MLP(4, [8], 3, activation="tanh", generator=rng(11))
    _train_ours(straight, cls(straight.parameters(), **kwargs), 20)
    # 10 steps, save model + optimiser, restore into fresh objects, 10 more
    first = nn.MLP(4, [8], 3, activation="tanh", generator=rng(11))
    opt = cls(first.parameters(), **kwargs)
    _train_ours(first, opt, 10)
    model_state, opt_state = first.state_dict(), opt.state_dict()
    _train_ours(first, opt, 3)  # must not leak into the saved copies
    second = nn.MLP(4, [8], 3, activation="tanh", generator=rng(99))
    second.load_state_dict(model_state)
    opt2 = cls(second.parameters(), lr=123.0)
    opt2.load_state_dict(opt_state)
    _train_ours(second, opt2, 10)
    for key, value in straight.state_dict().items():
        np.testing.assert_array_equal(second.state_dict()[key], value, err_msg=key)
    # and the torch optimiser state has the same structure and values
    theirs = sync(nn.MLP(4, [8], 3, activation="tanh", generator=rng(11)), torch_mlp(4, [8], 3, "tanh"))
    opt_t = getattr(torch.optim, name)(theirs.parameters(), foreach=False, **kwargs)
    _train_theirs(theirs, opt_t, 10)
    torch_state = opt_t.state_dict()
    assert sorted(opt_state["state"]) == sorted(torch_state["state"])
    for i, s in torch_state["state"].items():
        for key, value in s.items():
            if key in opt_state["state"][i]:
                close(np.asarray(opt_state["state"][i][key], dtype=np.float64), value, f"state {i} {key}")


# ---- the MyTorch handout's momentum ----------------------------------------------------------------


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
