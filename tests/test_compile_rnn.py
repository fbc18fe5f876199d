"""The tanh RNN trained by BPTT (benchmarks/bench_rnn.py's workload, small): compiled = eager = numpy.

A vanilla RNN, h_t = tanh(x_t W_xhᵀ + h_{t-1} W_hhᵀ + b_h) with h_0 = 0, unrolled over T steps
(each in ``autograd.scope(f"t={t}")``), a linear readout of the last hidden state, mean softmax
cross-entropy, SGD with momentum (so the optimiser has state). Trained 20 steps three ways from
the same weights — eager, ``autograd.compile`` of the loss with the user's own update loop, and
``nn.compile_step`` — the losses, gradients, parameters and momentum buffers agree within
1e-12 (relative to each array's scale), in float64 and in float32 (float32 throughout). The
eager run is checked against BPTT written out in numpy here (an independent derivation), and
the compiled code's values are named after the scopes (``t3_tanh``).
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor, compile, scope
from nn import functional as F

INPUT, HIDDEN, OUTPUT, T = 3, 5, 4, 6
STEPS = 20
LR, MOMENTUM = 0.1, 0.9
SAME = 1e-12  # compiled vs eager: relative to the array's largest value
NUMPY = {np.float64: 1e-10, np.float32: 1e-4}  # eager vs the numpy derivation (summation order differs)


class TanhRNN(nn.Module):
    def __init__(self, weights: list[np.ndarray]) -> None:
        super().__init__()
        W_xh, W_hh, b_h, W_hy, b_y = (w.copy() for w in weights)
        self.weight_xh = nn.Parameter(W_xh)
        self.weight_hh = nn.Parameter(W_hh)
        self.bias_h = nn.Parameter(b_h)
        self.readout = nn.Linear(HIDDEN, OUTPUT)
        self.readout.weight.data = W_hy
        self.readout.bias.data = b_y

    def forward(self, x):
        h = None
        for t in range(x.shape[0]):
            with scope(f"t={t + 1}"):
                a = autograd.linear(x[t], self.weight_xh, self.bias_h)
                if h is not None:
                    a = a + autograd.linear(h, self.weight_hh)
                h = a.tanh()
        return self.readout(h)

    def flat(self):
        return [self.weight_xh, self.weight_hh, self.bias_h, self.readout.weight, self.readout.bias]


def _problem(batch, dtype):
    rng = np.random.default_rng(batch)
    bound = 1.0 / np.sqrt(HIDDEN)
    shapes = ((HIDDEN, INPUT), (HIDDEN, HIDDEN), (HIDDEN,), (OUTPUT, HIDDEN), (OUTPUT,))
    weights = [rng.uniform(-bound, bound, s).astype(dtype) for s in shapes]
    data = [(rng.standard_normal((T, batch, INPUT)).astype(dtype), rng.integers(0, OUTPUT, batch))
            for _ in range(STEPS)]
    return weights, data


def _record(losses, grads, loss, params):
    losses.append(loss)
    grads.append([p.grad.data.copy() for p in params])


def _train(mode, batch, dtype):
    """20 steps; returns (losses, gradients per step, parameters, momentum buffers, the trainer)."""
    weights, data = _problem(batch, dtype)
    model = TanhRNN(weights)
    params = model.flat()
    opt = nn.optim.SGD(params, lr=LR, momentum=MOMENTUM)
    losses, grads = [], []
    handle = None
    if mode == "eager":
        for x, y in data:
            loss = F.cross_entropy(model(Tensor(x)), y)
            opt.zero_grad()
            loss.backward()
            _record(losses, grads, loss.item(), params)
            opt.step()
    elif mode == "compile":
        handle = loss_fn = compile(lambda x, y: F.cross_entropy(model(x), y))
        for x, y in data:
            loss = loss_fn(x, y)
            opt.zero_grad()
            loss.backward()
            _record(losses, grads, loss.item(), params)
            opt.step()
        assert loss_fn.compilations == 1
    else:  # compile_step; keep_grads leaves each step's gradient in .grad
        handle = step = nn.compile_step(model, F.cross_entropy, opt, keep_grads=mode == "compile_step_grads")
        for x, y in data:
            loss = step(x, y)
            if mode == "compile_step_grads":
                _record(losses, grads, loss, params)
            else:
                losses.append(loss)
    state = opt.state_dict()["state"]
    buffers = [state[k]["momentum_buffer"] for k in sorted(state)]
    return losses, grads, [p.data.copy() for p in params], buffers, handle


def _numpy_bptt(batch, dtype):
    """The same training written out: forward storing hs, backward through time, PyTorch's momentum."""
    weights, data = _problem(batch, dtype)
    W_xh, W_hh, b_h, W_hy, b_y = params = [w.copy() for w in weights]
    buffers = [None] * 5
    losses, grads = [], []
    for X, y in data:
        N = len(y)
        hs = []
        h = np.zeros((N, HIDDEN), dtype)
        for t in range(T):
            a = X[t] @ W_xh.T + b_h + (h @ W_hh.T if t else 0)
            h = np.tanh(a)
            hs.append(h)
        z = h @ W_hy.T + b_y
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        losses.append(float(np.mean(np.log(e.sum(axis=1)) - z[np.arange(N), y])))
        dz = p.copy()
        dz[np.arange(N), y] -= 1
        dz /= N
        g = [np.zeros_like(w) for w in params]
        g[3], g[4] = dz.T @ hs[-1], dz.sum(axis=0)
        dh = dz @ W_hy
        for t in reversed(range(T)):
            da = dh * (1 - hs[t] ** 2)
            g[0] += da.T @ X[t]
            g[2] += da.sum(axis=0)
            if t:
                g[1] += da.T @ hs[t - 1]
            dh = da @ W_hh
        grads.append(g)
        for k, (w, gk) in enumerate(zip(params, g)):
            buffers[k] = gk.copy() if buffers[k] is None else MOMENTUM * buffers[k] + gk
            w -= LR * buffers[k]
    return losses, grads, params, buffers


def _close(a, b, rtol, what):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, what
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    assert float(np.max(np.abs(a - b), initial=0.0)) <= rtol * scale, f"{what}: {np.max(np.abs(a - b))}"


def _same_training(got, expected, rtol, dtype, with_grads=True):
    losses, grads, params, buffers, _ = got
    ref_losses, ref_grads, ref_params, ref_buffers = expected[:4]
    _close(losses, ref_losses, rtol, "losses")
    if with_grads:
        assert len(grads) == len(ref_grads) == STEPS
        for step, (gs, ref) in enumerate(zip(grads, ref_grads)):
            for k, (g, r) in enumerate(zip(gs, ref)):
                assert g.dtype == dtype
                _close(g, r, rtol, f"gradient {k} at step {step}")
    for k, (p, r) in enumerate(zip(params, ref_params)):
        assert p.dtype == dtype
        _close(p, r, rtol, f"parameter {k}")
    for k, (b, r) in enumerate(zip(buffers, ref_buffers)):
        assert b.dtype == dtype
        _close(b, r, rtol, f"momentum buffer {k}")


@pytest.fixture(scope="module")
def eager_runs():
    return {(batch, dtype): _train("eager", batch, dtype)
            for batch in (1, 4) for dtype in (np.float64, np.float32)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch", [1, 4])
def test_eager_matches_numpy_bptt(eager_runs, batch, dtype):
    eager = eager_runs[batch, dtype]
    _same_training(eager, _numpy_bptt(batch, dtype), NUMPY[dtype], dtype)


@pytest.mark.parametrize("mode", ["compile", "compile_step_grads", "compile_step"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch", [1, 4])
def test_compiled_matches_eager(eager_runs, mode, batch, dtype):
    compiled = _train(mode, batch, dtype)
    _same_training(compiled, eager_runs[batch, dtype], SAME, dtype, with_grads=mode != "compile_step")
    assert all(isinstance(loss, float) for loss in compiled[0])


@pytest.mark.parametrize("mode", ["compile", "compile_step"])
def test_source_names_values_after_scopes(mode):
    *_, handle = _train(mode, 4, np.float64)
    source = handle.source
    for t in range(1, T + 1):
        assert f"t{t}_tanh = np.tanh(" in source, t  # each step's hidden state, named after its scope
        assert f"(TanhRNN/t={t})" in source
    assert "t1_linear_1" not in source  # h_0 = 0: no W_hh term at the first step
    assert f"t{T}_linear_1 = t{T - 1}_tanh @ " in source  # h_{T-1} W_hhᵀ feeds step T
    assert "g_t3_tanh = " in source  # gradients are named after their values
    if mode == "compile_step":
        assert "def step(" in source
    else:
        assert "def forward(" in source and "def backward(" in source
