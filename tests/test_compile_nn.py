"""nn's side of the compiled path: ``nn.compile_step``, ``fit(compile=True)``, the OCR homework's step."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import autograd.compiler
import nn
from autograd import Tensor
from nn import functional as F
from nn.data import DataLoader, TensorDataset
from nn.optim.lr_scheduler import StepLR

OCR = Path(__file__).resolve().parents[1] / "examples" / "ocr"


def test_nn_reexports_compile_step():
    assert nn.compile_step is autograd.compiler.compile_step
    assert "compile_step" in nn.__all__


def _data(n=45, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, features)), rng.integers(0, classes, n)


@pytest.mark.parametrize("optimiser", ["sgd_momentum", "adam"])
def test_fit_compiled_gives_eagers_losses_errors_and_parameters(optimiser):
    x, y = _data()
    xv, yv = _data(20, seed=1)
    runs = []
    for compiled in (False, True):
        net = nn.MLP(6, [5], 3, activation="tanh", generator=np.random.default_rng(0))
        if optimiser == "adam":
            opt = nn.optim.Adam(net.parameters(), lr=0.01)
        else:
            opt = nn.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        # shuffled, with a short last batch (a second signature), a scheduler changing lr
        train = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=np.random.default_rng(2))
        valid = DataLoader(TensorDataset(xv, yv), batch_size=10)
        history = nn.train.fit(net, F.cross_entropy, opt, train, 3, valid, progress=False,
                               scheduler=StepLR(opt, step_size=1, gamma=0.5), compile=compiled)
        runs.append((history, [p.data.copy() for p in net.parameters()], opt.state_dict()))
    (h1, p1, s1), (h2, p2, s2) = runs
    assert h1.keys() == h2.keys()
    for key in h1:
        np.testing.assert_allclose(h2[key], h1[key], rtol=1e-12, atol=0)
    for a, b in zip(p1, p2):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)
    for k, state in s1["state"].items():
        for name, value in state.items():
            np.testing.assert_allclose(s2["state"][k][name], value, rtol=1e-12, atol=1e-15)


def test_fit_compiled_per_example_regression():
    rng = np.random.default_rng(3)
    x, y = rng.random((30, 4)), rng.random((30, 2))
    runs = []
    for compiled in (False, True):
        net = nn.Linear(4, 2, generator=np.random.default_rng(0))
        opt = nn.optim.SGD(net.parameters(), lr=0.05)
        history = nn.train.fit(net, F.mse_loss, opt, DataLoader(TensorDataset(x, y), batch_size=1), 2,
                               progress=False, compile=compiled)
        runs.append((history, [p.data.copy() for p in net.parameters()]))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_compile_step_returns_the_models_output_before_the_update():
    x, y = _data(8)
    net = nn.MLP(6, [5], 3, activation="sigmoid", generator=np.random.default_rng(0))
    step = nn.compile_step(net, F.cross_entropy, nn.optim.SGD(net.parameters(), lr=0.1), return_output=True)
    for _ in range(3):
        expected = net(Tensor(x)).data
        loss, output = step(x, y)
        np.testing.assert_array_equal(output, expected)
        assert isinstance(loss, float)


def _neuralnet():
    sys.path.insert(0, str(OCR))
    try:
        import neuralnet
    finally:
        sys.path.pop(0)
    return neuralnet


def test_the_homeworks_compiled_step_is_bitwise_its_eager_step():
    neuralnet = _neuralnet()
    rng = np.random.default_rng(0)
    x, y = (rng.random((40, 12)) < 0.4).astype(float), rng.integers(0, 10, 40)
    nets, losses = [], []
    for compiled in (False, True):
        net = neuralnet.OCRNet(12, 7)
        neuralnet.initialise(net, 1, seed=5)
        step = neuralnet.make_step(net, 0.1) if compiled else None
        losses.append([neuralnet.sgd_step(net, row, int(label), 0.1, step=step) for row, label in zip(x, y)])
        nets.append(net)
    assert losses[0] == losses[1]
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_the_ocr_training_script_runs_compiled():
    sys.path.insert(0, str(OCR))
    try:
        import train as ocr_train
    finally:
        sys.path.pop(0)
    neuralnet = _neuralnet()
    rng = np.random.default_rng(1)
    x, y = (rng.random((30, 12)) < 0.4).astype(float), rng.integers(0, 10, 30)
    net, train_losses, valid_losses = ocr_train.run(x, y, x[:10], y[:10], 5, 2, 0.1, 1)
    # the same two epochs by hand, eagerly
    ref = neuralnet.OCRNet(12, 5)
    neuralnet.initialise(ref, 1, 0)
    for _ in range(2):
        for row, label in zip(x, y):
            neuralnet.sgd_step(ref, row, int(label), 0.1)
    for a, b in zip(net.parameters(), ref.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert train_losses[-1] == neuralnet.mean_cross_entropy(ref, x, y)
