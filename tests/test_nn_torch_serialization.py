"""Differential tests of ``nn``'s state dicts against ``torch.nn``: ``nn.save``/``nn.load``
round trips, and state dicts (BatchNorm running statistics included) carried from chainrule
into torch and back, for an MLP with BatchNorm and for a two-layer RNN.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="install torch to run the PyTorch comparisons")

from torch_helpers import (  # noqa: E402
    _train_ours,
    _train_theirs,
    close,
    rng,
    sync,
    torch_mlp,
)

import nn  # noqa: E402
from autograd import Tensor  # noqa: E402

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
