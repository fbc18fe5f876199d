"""compile_step's reused storage: ``out=`` buffers allocated once per compiled version.

The executed code (``.executed_source``) writes values into buffers that a later value of
the same shape reuses once the first is dead; ``.source`` is the plain form. Both come from
one trace. Here: the plain source, executed, gives the executed code's numbers and eager's
(float64: within 1e-12 relative; they are in fact bitwise equal, as the same numpy calls
run), views of a buffered value keep its buffer alive, what leaves the step has no buffer,
and memory stays flat over 10,000 steps.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import nn
from autograd.compiler.buffers import Block, lower
from autograd.compiler.step import compile_step
from nn import functional as F


class Views(nn.Module):
    """A network whose values pass through views (reshape, transpose, a slice) between layers."""

    def __init__(self) -> None:
        super().__init__()
        g = np.random.default_rng(3)
        self.fc1 = nn.Linear(6, 8, generator=g)
        self.fc2 = nn.Linear(8, 8, generator=g)
        self.fc3 = nn.Linear(8, 3, generator=g)

    def forward(self, x):
        h = self.fc1(x).tanh()
        flipped = h.reshape(-1, 4, 2).permute(0, 2, 1).reshape(-1, 8)  # a view chain of h's buffer
        k = self.fc2(flipped).relu()
        return self.fc3(k * flipped + h[:, ::-1])


MODELS = {
    "per-example sigmoid MLP": (lambda: nn.MLP(12, [7], 4, activation="sigmoid",
                                               generator=np.random.default_rng(0)), None, 12, 4),
    "batch tanh MLP": (lambda: nn.MLP(12, [9, 7], 4, activation="tanh", generator=np.random.default_rng(0)),
                       16, 12, 4),
    "batch relu MLP": (lambda: nn.MLP(12, [9, 9], 4, activation="relu", generator=np.random.default_rng(0)),
                       16, 12, 4),
    "views": (Views, 5, 6, 3),
}
OPTIMISERS = {"sgd": ("SGD", dict(lr=0.1)), "momentum": ("SGD", dict(lr=0.05, momentum=0.9)),
              "adam": ("Adam", dict(lr=0.01))}


def _data(batch, features, classes, steps=20):
    rng = np.random.default_rng(9)
    shape = (features,) if batch is None else (batch, features)
    ys = rng.integers(0, classes, steps if batch is None else (steps, batch))
    return [(rng.standard_normal(shape), y) for y in ys]


def _train(model_name, optimiser, how, dtype=np.float64):
    make, batch, features, classes = MODELS[model_name]
    model = make()
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    name, kwargs = OPTIMISERS[optimiser]
    opt = getattr(nn.optim, name)(model.parameters(), **kwargs)
    data = [(x.astype(dtype), y) for x, y in _data(batch, features, classes)]
    losses = []
    if how == "eager":
        for x, y in data:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    else:
        step = compile_step(model, F.cross_entropy, opt)
        step.prepare(*data[0])
        program = step.last[1]
        if how == "plain":
            program.step = program.plain_step()
        losses = [step(x, y) for x, y in data]
        assert step.function.compilations == 1
    return losses, [p.data.copy() for p in model.parameters()], step if how != "eager" else None


@pytest.mark.parametrize("optimiser", list(OPTIMISERS))
@pytest.mark.parametrize("model_name", list(MODELS))
def test_plain_source_executed_and_eager_agree(model_name, optimiser):
    eager_losses, eager_params, _ = _train(model_name, optimiser, "eager")
    losses, params, step = _train(model_name, optimiser, "executed")
    plain_losses, plain_params, plain = _train(model_name, optimiser, "plain")
    program = step.last[1]
    assert "out=" in program.executed_source and "out=" not in program.source and program.buffers
    for got_losses, got_params in ((losses, params), (plain_losses, plain_params)):
        np.testing.assert_allclose(got_losses, eager_losses, rtol=1e-12, atol=0)
        for a, b in zip(got_params, eager_params):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    # the same numpy calls run in all three, so in fact the same bits
    assert losses == eager_losses == plain_losses
    assert all(np.array_equal(a, b) for a, b in zip(params, eager_params))


def test_float32_stays_float32_and_bitwise():
    eager_losses, eager_params, _ = _train("batch tanh MLP", "momentum", "eager", np.float32)
    losses, params, step = _train("batch tanh MLP", "momentum", "executed", np.float32)
    assert all(b.dtype == np.float32 for b in step.last[1].buffers.values())
    assert losses == eager_losses and all(np.array_equal(a, b) for a, b in zip(params, eager_params))


def test_buffers_are_allocated_once_and_shared_by_dead_values():
    _, _, step = _train("batch relu MLP", "sgd", "executed")
    program = step.last[1]
    before = {name: id(array) for name, array in program.buffers.items()}
    x, y = _data(16, 12, 4, 1)[0]
    step(x, y)
    assert {name: id(array) for name, array in program.buffers.items()} == before
    writes = program.executed_source.count("out=")
    assert writes > len(program.buffers)  # some buffer holds two values, one after the other


def _block(code, name=None, shape=(3,)):
    write = (lambda buf: [code.replace(")", f", out={buf})", 1)]) if name else None
    return Block([code], name, shape, np.float64, write)


def _names():
    counter = iter(range(100))
    return lambda base: f"{base}{next(counter)}"


def test_a_dead_values_buffer_is_reused():
    blocks = [_block("a = np.exp(x)", "a"), _block("b = np.sin(a)", "b"), _block("c = np.cos(b)", "c"),
              _block("return c")]
    lines, buffers = lower(blocks, set(), _names())
    assert len(buffers) == 2 and lines[2] == "c = np.cos(b, out=buffer0)"  # a's buffer: a is dead


def test_a_view_of_a_buffered_value_keeps_its_buffer():
    blocks = [_block("a = np.exp(x)", "a"), _block("v = a.reshape((3, 1))"), _block("b = np.sin(x)", "b"),
              _block("c = np.cos(b)", "c"), _block("return v + c")]
    lines, buffers = lower(blocks, set(), _names())
    assert len(buffers) == 3  # a's buffer is busy while its view v lives: c takes a third one
    assert lines[3] == "c = np.cos(b, out=buffer2)"


def test_what_leaves_the_step_gets_no_buffer_nor_what_it_views():
    blocks = [_block("a = np.exp(x)", "a"), _block("v = a[1:]"), _block("b = np.sin(v)", "b"),
              _block("return b, v")]
    lines, buffers = lower(blocks, {"v"}, _names())
    assert lines[0] == "a = np.exp(x)" and len(buffers) == 1


def test_the_output_a_step_returns_is_not_overwritten_by_the_next():
    model = nn.MLP(12, [9], 4, activation="tanh", generator=np.random.default_rng(0))
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    step = compile_step(model, F.cross_entropy, opt, return_output=True)
    (x1, y1), (x2, y2) = _data(16, 12, 4, 2)
    _, out1 = step(x1, y1)
    kept = out1.copy()
    step(x2, y2)
    np.testing.assert_array_equal(out1, kept)


def test_memory_is_flat_over_ten_thousand_steps():
    model = nn.MLP(128, [50], 10, activation="sigmoid", generator=np.random.default_rng(0))
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    step = compile_step(model, F.cross_entropy, opt)
    rng = np.random.default_rng(2)
    xs = rng.integers(0, 2, (100, 128)).astype(np.float64)
    ys = [int(v) for v in rng.integers(0, 10, 100)]
    for i in range(200):  # warm: compiled, caches filled
        step(xs[i % 100], ys[i % 100])
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for i in range(10_000):
            step(xs[i % 100], ys[i % 100])
        end, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 100_000, f"grew by {end - start} bytes over 10,000 steps"
    assert peak - start < 200_000  # (no step holds much beyond its buffers)
