"""compile_step: a fused training step gives eager's losses, parameters and optimiser state."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd import Tensor
from autograd.compiler import CompileError
from autograd.compiler.step import compile_step
from autograd.engine import InPlaceModificationError
from nn import functional as F

OPTIMISERS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.05, momentum=0.9)),
    "sgd_nesterov_decay": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "sgd_dampening": ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3)),
    "adam": ("Adam", dict(lr=0.01)),
    "adam_decay": ("Adam", dict(lr=0.01, weight_decay=0.1)),
    "adamw": ("AdamW", dict(lr=0.01)),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop_centered_momentum": ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01)),
}


def _train(compiled, optimiser, steps=20, per_example=False, dtype=np.float64, keep_grads=False, schedule=None):
    model = nn.MLP(6, [5], 3, activation="tanh", generator=np.random.default_rng(0))
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    name, kwargs = OPTIMISERS[optimiser]
    opt = getattr(nn.optim, name)(model.parameters(), **kwargs)
    step = compile_step(model, F.cross_entropy, opt, keep_grads=keep_grads) if compiled else None
    rng = np.random.default_rng(1)
    losses, grads = [], []
    for i in range(steps):
        if schedule:
            schedule(opt, i)
        if per_example:
            x, y = rng.random(6).astype(dtype), int(rng.integers(0, 3))
        else:
            n = 4 if i % 5 else 3  # a shorter batch now and then: a second signature
            x, y = rng.random((n, 6)).astype(dtype), rng.integers(0, 3, n)
        if compiled:
            losses.append(step(x, y))
        else:
            loss = F.cross_entropy(model(Tensor(x)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        grads.append([None if p.grad is None else p.grad.data.copy() for p in model.parameters()])
    return losses, [p.data.copy() for p in model.parameters()], opt.state_dict(), grads, step


def _assert_same_training(a, b):
    assert a[0] == b[0]
    for x, y in zip(a[1], b[1]):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)
    state_a, state_b = a[2]["state"], b[2]["state"]
    assert state_a.keys() == state_b.keys()
    for k in state_a:
        assert state_a[k].keys() == state_b[k].keys()
        for name in state_a[k]:
            np.testing.assert_array_equal(state_a[k][name], state_b[k][name])
    assert a[2]["param_groups"] == b[2]["param_groups"]


@pytest.mark.parametrize("optimiser", sorted(OPTIMISERS))
def test_compiled_steps_equal_eager_steps(optimiser):
    _assert_same_training(_train(True, optimiser), _train(False, optimiser))


@pytest.mark.parametrize("optimiser", ["sgd", "sgd_momentum"])
def test_per_example_and_float32(optimiser):
    _assert_same_training(_train(True, optimiser, per_example=True), _train(False, optimiser, per_example=True))
    _assert_same_training(_train(True, optimiser, dtype=np.float32), _train(False, optimiser, dtype=np.float32))


def test_hyper_parameters_are_read_at_each_call():
    def schedule(opt, i):  # a decaying learning rate, and momentum switched on half way
        opt.param_groups[0]["lr"] = 0.1 * 0.9**i
        opt.param_groups[0]["momentum"] = 0.9 if i >= 10 else 0.0

    _assert_same_training(_train(True, "sgd", schedule=schedule), _train(False, "sgd", schedule=schedule))


def test_keep_grads_leaves_each_steps_gradient():
    compiled, eager = _train(True, "adam", keep_grads=True), _train(False, "adam")
    for step_c, step_e in zip(compiled[3], eager[3]):
        for a, b in zip(step_c, step_e):
            np.testing.assert_array_equal(a, b)
    assert all(g is None for g in _train(True, "adam", steps=2)[3][-1])  # without keep_grads: untouched


def test_a_step_bumps_parameter_versions_as_the_optimiser_does():
    model = nn.Linear(3, 2, generator=np.random.default_rng(0))
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    step = compile_step(model, F.cross_entropy, opt)
    x, y = np.ones((2, 3)), np.array([0, 1])
    earlier = (model(x) * 2).sum()  # a graph that used the weights before the step
    step(x, y)
    with pytest.raises(InPlaceModificationError):
        earlier.backward()


def test_parameters_outside_the_graph_or_the_optimiser():
    model = nn.Linear(3, 2, generator=np.random.default_rng(0))
    unused = nn.Parameter(np.ones(2))  # optimised, but not in the graph: no gradient, no update
    results = []
    for compiled in (True, False):
        model.weight.data = np.arange(6.0).reshape(2, 3) / 10
        model.bias.data = np.zeros(2)
        opt = nn.optim.SGD([model.weight, unused], lr=0.1, momentum=0.9)  # the bias is not optimised
        step = compile_step(model, F.cross_entropy, opt)
        for _ in range(3):
            x, y = np.ones((2, 3)), np.array([0, 1])
            if compiled:
                step(x, y)
            else:
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
        results.append((model.weight.data.copy(), model.bias.data.copy(), unused.data.copy(), len(opt.state)))
        model.bias.grad = model.weight.grad = None
    for a, b in zip(results[0][:3], results[1][:3]):
        np.testing.assert_array_equal(a, b)
    assert results[0][3] == results[1][3] == 1  # a momentum buffer for the weight only


def test_source_shows_the_whole_step():
    model = nn.MLP(4, [3], 2, generator=np.random.default_rng(0))
    step = compile_step(model, F.cross_entropy, nn.optim.SGD(model.parameters(), lr=0.1))
    step(np.ones(4), 1)
    source = step.source
    for piece in ("def step(", "cross_entropy", "g_linear0_weight", "linear0_weight -= g_linear0_weight * lr",
                  "sgd_update(", "return cross_entropy"):
        assert piece in source


def test_an_optimiser_with_its_own_step_is_refused():
    class Custom(nn.optim.SGD):
        def step(self):
            super().step()

    model = nn.Linear(2, 2)
    with pytest.raises(CompileError, match="its own step"):
        compile_step(model, F.cross_entropy, Custom(model.parameters(), lr=0.1))


def test_compile_errors_reach_the_caller():
    model = nn.Linear(2, 2)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)

    def loss_with_item(out, y):
        return out.sum() * (1 if out.sum().item() > 0 else 2)

    with pytest.raises(CompileError, match="item"):
        compile_step(model, loss_with_item, opt)(np.ones((2, 2)), np.array([0, 1]))
