"""compile_step's fast caller: each version's signature and guards written out as code.

After the first call of a version, ``step(x, y)`` runs that version's generated caller,
which checks the argument types, shapes and dtypes, grad mode, the module guards and the
identity of every parameter's array, and otherwise hands over to the ordinary path. Each
test changes one of those between steps and compares with eager on the same steps.
"""

from __future__ import annotations

import numpy as np

import autograd
import nn
from autograd.compiler.step import _MISS, compile_step
from nn import functional as F


def _model():
    return nn.MLP(5, [4], 3, activation="sigmoid", generator=np.random.default_rng(7))


def _eager_step(model, opt, x, y):
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def _both(change, inputs):
    """Run the same steps eagerly and compiled, calling ``change(model, i)`` before step i."""
    results = []
    for compiled in (False, True):
        model = _model()
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        step = compile_step(model, F.cross_entropy, opt) if compiled else None
        losses = []
        for i, (x, y) in enumerate(inputs):
            change(model, i)
            losses.append(step(x, y) if compiled else _eager_step(model, opt, x, y))
        results.append((losses, [p.data.copy() for p in model.parameters()], step))
    (eager_losses, eager_params, _), (losses, params, step) = results
    assert losses == eager_losses
    assert all(np.array_equal(a, b) for a, b in zip(params, eager_params))
    return step


def _inputs(n, batch=None, seed=1):
    g = np.random.default_rng(seed)
    shape = (5,) if batch is None else (batch, 5)
    return [(g.standard_normal(shape), int(g.integers(3)) if batch is None else g.integers(0, 3, batch))
            for _ in range(n)]


def test_the_fast_caller_runs_from_the_second_call():
    step = _both(lambda m, i: None, _inputs(6))
    assert step._fast is not None and step.function.compilations == 1
    x, y = _inputs(1, seed=5)[0]
    assert step._fast(x, y) is not _MISS


def test_a_replaced_parameter_array_is_read():
    def change(model, i):
        if i == 3:
            model[0].weight.data = np.full((4, 5), 0.25)  # a new array: the identity guard misses
    _both(change, _inputs(6))


def test_another_shape_or_label_type_compiles_another_version():
    inputs = _inputs(3) + _inputs(3, batch=4) + [(x, np.int64(y)) for x, y in _inputs(2)] + _inputs(2)
    step = _both(lambda m, i: None, inputs)
    assert step.function.compilations == 3


def test_float32_arguments_miss_a_float64_version():
    model = _model()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    step = compile_step(model, F.cross_entropy, opt)
    x, y = _inputs(1)[0]
    step(x, y)
    assert step._fast(x.astype(np.float32), y) is _MISS
    assert step._fast(x[:4], y) is _MISS
    assert step._fast(list(x), y) is _MISS
    with autograd.no_grad():
        assert step._fast(x, y) is _MISS


def test_train_and_eval_switches_are_guarded():
    inputs = _inputs(6, batch=4)
    results = []
    for compiled in (False, True):
        model = nn.Sequential(nn.Linear(5, 6, generator=np.random.default_rng(4)),
                              nn.Dropout(0.5, generator=np.random.default_rng(5)),
                              nn.Linear(6, 3, generator=np.random.default_rng(6)))
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        step = compile_step(model, F.cross_entropy, opt) if compiled else None
        losses = []
        for i, (x, y) in enumerate(inputs):
            model.train(i % 2 == 0)
            losses.append(step(x, y) if compiled else _eager_step(model, opt, x, y))
        results.append(losses)
    assert results[0] == results[1]
