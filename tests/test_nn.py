"""nn's own contract: modules, parameters, state dicts, data, training, errors, and learning."""

import os

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor
from nn import functional as F
from nn.data import DataError, DataLoader, TensorDataset, load_csv_classification

# ---- modules and parameters --------------------------------------------------------


def test_parameters_are_registered_in_order_with_pytorch_names():
    net = nn.MLP(4, [8, 6], 3, activation="tanh", batchnorm=True, generator=np.random.default_rng(0))
    names = [name for name, _ in net.named_parameters()]
    assert names == [
        "0.weight", "0.bias", "1.weight", "1.bias",
        "3.weight", "3.bias", "4.weight", "4.bias",
        "6.weight", "6.bias",
    ]  # fmt: skip
    assert list(net.state_dict()) == [
        "0.weight", "0.bias",
        "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
        "3.weight", "3.bias",
        "4.weight", "4.bias", "4.running_mean", "4.running_var", "4.num_batches_tracked",
        "6.weight", "6.bias",
    ]  # fmt: skip
    assert net[0].weight.shape == (8, 4)  # (out, in) as in PyTorch
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert len(list(net.children())) == 7


def test_shared_parameter_is_listed_once_and_reassignment_replaces_it():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3, generator=np.random.default_rng(0))
            self.b = nn.Linear(3, 3, generator=np.random.default_rng(1))
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    tied = Tied()
    assert [n for n, _ in tied.named_parameters()] == ["a.weight", "a.bias", "b.bias"]
    tied.b.bias = None
    assert [n for n, _ in tied.named_parameters()] == ["a.weight", "a.bias"]


def test_module_repr_is_nested():
    net = nn.Sequential(nn.Linear(2, 3, generator=np.random.default_rng(0)), nn.LeakyReLU(0.2))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n"
        ")"
    )


def test_train_eval_and_zero_grad_reach_every_module():
    net = nn.MLP(3, [4], 2, batchnorm=True, generator=np.random.default_rng(0))
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    F.cross_entropy(net(np.ones((5, 3)) * np.arange(5)[:, None]), [0, 1, 0, 1, 1]).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_module_call_runs_in_a_named_scope():
    net = nn.Sequential(nn.Linear(2, 2, generator=np.random.default_rng(0)), nn.Tanh())
    out = net(Tensor([1.0, 2.0]))
    assert out.grad_fn.scope == ("Sequential", "1: Tanh")
    assert out.grad_fn.inputs[0].grad_fn.scope == ("Sequential", "0: Linear")


# ---- bad input -----------------------------------------------------------------------


def test_linear_wrong_feature_count_names_layer_and_shapes():
    net = nn.Sequential(nn.Linear(4, 3, generator=np.random.default_rng(0)))
    with pytest.raises(autograd.ShapeError) as error:
        net(np.ones((2, 5)))
    message = str(error.value)
    assert "0: Linear(in_features=4, out_features=3)" in message
    assert "(2, 5)" in message and "expected 4" in message and "(3, 4)" in message


def test_cross_entropy_target_out_of_range_says_which():
    logits = Tensor(np.zeros((4, 3)), requires_grad=True)
    with pytest.raises(IndexError, match=r"target 7 at position 2 is out of range for 3 classes"):
        F.cross_entropy(logits, [0, 1, 7, 2])
    with pytest.raises(IndexError, match=r"target -1 at position 0"):
        F.cross_entropy(logits, np.array([-1, 0, 0, 0]))
    with pytest.raises(ValueError, match=r"target of shape \(3,\) does not match logits of shape \(4, 3\)"):
        F.cross_entropy(logits, [0, 1, 2])
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(logits, [0, 1, 2, 0], reduction="average")


def test_load_state_dict_names_missing_unexpected_and_misshaped_keys():
    net = nn.MLP(3, [4], 2, generator=np.random.default_rng(0))
    state = net.state_dict()
    state.pop("2.bias")
    state["extra"] = np.zeros(1)
    state["0.weight"] = np.zeros((5, 3))
    with pytest.raises(KeyError) as error:
        net.load_state_dict(state)
    message = str(error.value)
    assert "missing keys ['2.bias']" in message
    assert "unexpected keys ['extra']" in message
    assert "0.weight: expected (4, 3), got (5, 3)" in message


# ---- state dicts and files -------------------------------------------------------------


def test_save_load_round_trip_reproduces_outputs(tmp_path):
    rng = np.random.default_rng(0)
    net = nn.MLP(5, [7, 6], 3, activation="sigmoid", batchnorm=1, generator=rng)
    x = Tensor(rng.standard_normal((8, 5)))
    net(x)  # one training step of batch statistics
    net.eval()
    expected = net(x).data
    path = tmp_path / "model.npz"
    nn.save(net, path)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary left behind
    twin = nn.MLP(5, [7, 6], 3, activation="sigmoid", batchnorm=1, generator=np.random.default_rng(9))
    twin.load_state_dict(nn.load(path))
    twin.eval()
    np.testing.assert_array_equal(twin(x).data, expected)
    with np.load(path, allow_pickle=False) as archive:  # plain arrays, no pickle needed
        assert "1.running_var" in archive.files


# ---- init --------------------------------------------------------------------------------


def test_handout_init_schemes_are_one_call_each():
    net = nn.MLP(128, [50], 10, activation="sigmoid", generator=np.random.default_rng(0))
    nn.init.init_random_(net, generator=np.random.default_rng(1))
    weights = [p.data for n, p in net.named_parameters() if n.endswith("weight")]
    biases = [p.data for n, p in net.named_parameters() if n.endswith("bias")]
    assert all(np.abs(w).max() <= 0.1 and np.abs(w).max() > 0.09 for w in weights)
    assert all(not b.any() for b in biases)
    nn.init.init_zero_(net)
    assert all(not p.data.any() for p in net.parameters())


def test_init_functions_are_seeded_and_follow_their_formulas():
    a = nn.Parameter(np.empty((300, 200)))
    b = nn.Parameter(np.empty((300, 200)))
    nn.init.xavier_uniform_(a, generator=np.random.default_rng(5))
    nn.init.xavier_uniform_(b, generator=np.random.default_rng(5))
    np.testing.assert_array_equal(a.data, b.data)
    bound = np.sqrt(6 / (200 + 300))
    assert np.abs(a.data).max() <= bound and np.abs(a.data).max() > 0.99 * bound
    nn.init.kaiming_normal_(a, nonlinearity="relu", generator=np.random.default_rng(0))
    assert a.data.std() == pytest.approx(np.sqrt(2 / 200), rel=0.02)
    nn.init.constant_(a, 0.5)
    assert (a.data == 0.5).all()


# ---- data ----------------------------------------------------------------------------------


def test_dataloader_batches_shuffles_reproducibly_and_drops_last():
    data = TensorDataset(np.arange(20.0).reshape(10, 2), np.arange(10))
    batches = list(DataLoader(data, batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    assert len(DataLoader(data, batch_size=4, drop_last=True)) == 2
    first = [y.tolist() for _, y in DataLoader(data, 3, shuffle=True, generator=np.random.default_rng(7))]
    again = [y.tolist() for _, y in DataLoader(data, 3, shuffle=True, generator=np.random.default_rng(7))]
    assert first == again and sorted(sum(first, [])) == list(range(10)) and first[0] != [0, 1, 2]


def test_load_csv_reads_handout_format(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("7,0,1,1,1,0\n9,0,0,0,1,0")  # no trailing newline, as the handout's files
    x, y = load_csv_classification(path)
    assert x.shape == (2, 5) and x.dtype == np.float64
    assert y.tolist() == [7, 9] and y.dtype == np.int64


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the file is empty"),
        ("1,0,1\n2,0\n", ":2: 2 values, but earlier rows have 3"),
        ("1,0,1\n2,0,x\n", ":2: 'x' is not a number"),
        ("1.5,0,1\n", ":1: label 1.5 is out of range"),
        ("12,0,1\n", ":1: label 12 is out of range (0..9)"),
    ],
)
def test_load_csv_errors_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError) as error:
        load_csv_classification(path, num_classes=10)
    assert str(path) in str(error.value) and message in str(error.value)


def test_load_csv_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        load_csv_classification(tmp_path / "nope.csv")


# ---- learning ------------------------------------------------------------------------------


def test_mlp_learns_xor_like_rays_slides():
    x = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # the slides' truth table
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    net = nn.MLP(2, [2], 1, activation="sigmoid", generator=np.random.default_rng(3))
    optimizer = nn.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
    for _ in range(2000):
        loss = F.binary_cross_entropy_with_logits(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    predictions = (net(x).data > 0).astype(float)
    np.testing.assert_array_equal(predictions, y)


def test_fit_history_and_evaluate_on_separable_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    train = DataLoader(TensorDataset(x[:150], y[:150]), 16, shuffle=True, generator=rng)
    valid = DataLoader(TensorDataset(x[150:], y[150:]), 50)
    net = nn.MLP(2, [8], 2, generator=np.random.default_rng(1))
    history = nn.train.fit(net, F.cross_entropy, nn.optim.Adam(net.parameters(), lr=0.05), train, 15, valid,
                           progress=False)  # fmt: skip
    assert set(history) == {"train_loss", "train_error", "valid_loss", "valid_error"}
    assert all(len(v) == 15 for v in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0] / 3
    scores = nn.train.evaluate(net, F.cross_entropy, valid)
    assert scores["error"] == history["valid_error"][-1] and scores["error"] < 0.06
    assert scores["accuracy"] == pytest.approx(1 - scores["error"])
    assert net.training  # evaluate restores the mode


def test_fit_prints_plain_lines_when_not_a_terminal(capsys):
    data = DataLoader(TensorDataset(np.ones((4, 2)), np.array([0, 1, 0, 1])), 2)
    net = nn.MLP(2, [], 2, generator=np.random.default_rng(0))
    nn.train.fit(net, F.cross_entropy, nn.optim.SGD(net.parameters(), lr=0.1), data, 2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("epoch 1/2: train loss") and lines[1].startswith("epoch 2/2")


def test_digits_mlp_with_batchnorm_and_momentum_beats_90_percent():
    datasets = pytest.importorskip("sklearn.datasets", reason="install scikit-learn (the test extra) to train on the digits data")
    digits = datasets.load_digits()
    x = digits.data / 16.0
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    rng = np.random.default_rng(1)
    train = DataLoader(TensorDataset(x[:1400], y[:1400]), 50, shuffle=True, generator=rng)
    valid = DataLoader(TensorDataset(x[1400:], y[1400:]), 200)
    net = nn.MLP(64, [64, 32], 10, activation="sigmoid", batchnorm=True, generator=np.random.default_rng(2))
    optimizer = nn.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    history = nn.train.fit(net, F.cross_entropy, optimizer, train, 8, valid, progress=False)
    assert 1 - history["valid_error"][-1] > 0.90


# ---- recurrent layers group their steps ---------------------------------------------


def test_rnn_steps_are_scoped_and_bptt_reaches_first_input():
    rnn = nn.RNN(3, 4, generator=np.random.default_rng(0))
    x = Tensor(np.random.default_rng(1).standard_normal((5, 2, 3)), requires_grad=True)
    output, h_n = rnn(x)
    assert output.shape == (5, 2, 4) and h_n.shape == (1, 2, 4)
    np.testing.assert_array_equal(output.data[-1], h_n.data[0])
    scopes = set()
    stack = [output]
    while stack:
        t = stack.pop()
        if t.grad_fn is not None:
            scopes.add(t.grad_fn.scope)
            stack.extend(t.grad_fn.inputs)
    assert {("RNN", f"t={k}") for k in range(1, 6)} <= scopes
    h_n.sum().backward()
    assert np.abs(x.grad.data[0]).sum() > 0  # the last state depends on the first input


def test_float32_model_trains_in_float32_end_to_end():
    """A float32 network's backward pass stays float32 (a float64 one-hot once upcast it all)."""
    net = nn.MLP(6, [5], 3, generator=np.random.default_rng(0))
    for p in net.parameters():
        p.data = p.data.astype(np.float32)
    logits = net(np.ones((4, 6), dtype=np.float32))
    assert logits.dtype == np.float32
    logits.retain_grad()
    loss = F.cross_entropy(logits, [0, 1, 2, 0])
    assert loss.dtype == np.float32
    loss.backward()
    assert logits.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in net.parameters())
    single = Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)  # one example, 1-d logits
    F.cross_entropy(single, 2).backward()
    np.testing.assert_allclose(single.grad.data, [1 / 3, 1 / 3, -2 / 3], rtol=1e-6)
    assert single.grad.dtype == np.float32
