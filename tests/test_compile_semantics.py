"""autograd.compiler.compile: training loops, per-call inputs, guards, and what it refuses.

Each test states one promise of docs/compile.md: compiled and eager give the same numbers;
values that change between calls are read at each call; what cannot be replayed is a
CompileError, never a silently wrong result.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor
from autograd.compiler import CompileError, compile
from autograd.engine import GraphFreedError, InPlaceModificationError
from nn import functional as F


def _mlp(sizes=(12, 7, 5), activation="sigmoid", seed=0, dtype=np.float64):
    model = nn.MLP(sizes[0], list(sizes[1:-1]), sizes[-1], activation=activation,
                   generator=np.random.default_rng(seed))
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    return model


def _params(model):
    return [p.data.copy() for p in model.parameters()]


# ---- training loops: the same parameters as eager, bitwise -------------------------------


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("labels", ["numpy int", "python int", "0-d array"])
def test_per_example_sgd_with_the_users_update_loop_matches_eager(activation, labels):
    data_rng = np.random.default_rng(1)
    X = data_rng.random((20, 12))
    Y = data_rng.integers(0, 5, 20)
    convert = {"numpy int": np.int64, "python int": int, "0-d array": np.array}[labels]
    runs = []
    for compiled in (False, True):
        model = _mlp(activation=activation)
        params = list(model.parameters())
        loss_fn = lambda x, y, model=model: F.cross_entropy(model(x), y)  # noqa: E731
        step_loss = compile(loss_fn) if compiled else loss_fn
        losses = []
        for x, y in zip(X, Y):
            loss = step_loss(Tensor(x), convert(y))
            for p in params:
                p.grad = None
            loss.backward()
            for p in params:
                p.data -= 0.1 * p.grad.data
            losses.append(loss.item())
        runs.append((losses, _params(model)))
    (losses_e, params_e), (losses_c, params_c) = runs
    assert losses_c == losses_e
    for a, b in zip(params_c, params_e):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_minibatch_momentum_sgd_with_optimiser_matches_eager(dtype):
    data_rng = np.random.default_rng(2)
    X = data_rng.random((23, 12)).astype(dtype)
    Y = data_rng.integers(0, 5, 23)
    runs = []
    for compiled in (False, True):
        model = _mlp(sizes=(12, 9, 8, 5), dtype=dtype)
        opt = nn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        loss_fn = lambda x, y, model=model: F.cross_entropy(model(x), y)  # noqa: E731
        step_loss = compile(loss_fn) if compiled else loss_fn
        losses = []
        for step in range(20):
            rows = slice((step * 5) % 20, (step * 5) % 20 + (5 if step % 7 else 3))  # some short batches
            loss = step_loss(X[rows], Y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        runs.append((losses, _params(model), opt.state_dict()))
    (losses_e, params_e, state_e), (losses_c, params_c, state_c) = runs
    assert losses_c == losses_e
    for a, b in zip(params_c, params_e):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
    for k in state_e["state"]:
        np.testing.assert_array_equal(state_c["state"][k]["momentum_buffer"],
                                      state_e["state"][k]["momentum_buffer"])


def test_mse_regression_with_adam_and_a_linear_model():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((16, 4)), rng.standard_normal((16, 2))
    results = []
    for compiled in (False, True):
        layer = nn.Linear(4, 2, generator=np.random.default_rng(0))
        opt = nn.optim.Adam(layer.parameters(), lr=0.01)
        fn = lambda x, y, layer=layer: F.mse_loss(layer(x).tanh(), y)  # noqa: E731
        fn = compile(fn) if compiled else fn
        for _ in range(20):
            loss = fn(Tensor(X), Tensor(Y))
            opt.zero_grad()
            loss.backward()
            opt.step()
        results.append(_params(layer))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_rnn_bptt_and_embedding_match_eager_and_are_named_by_scope():
    rng = np.random.default_rng(8)
    emb = nn.Embedding(7, 3, generator=rng)
    rnn = nn.RNN(3, 4, generator=rng)
    head = nn.Linear(4, 2, generator=rng)
    params = [*emb.parameters(), *rnn.parameters(), *head.parameters()]

    def loss(tokens, y):  # tokens (T, N): embedded, run through the RNN, classified at the end
        out, _ = rnn(emb(tokens))
        return F.cross_entropy(head(out[-1]), y)

    f = compile(loss)
    for _ in range(3):
        tokens, y = rng.integers(0, 7, (5, 2)), rng.integers(0, 2, 2)
        results = []
        for fn in (f, loss):
            out = fn(tokens, y)
            out.backward()
            results.append([out.item()] + [p.grad.data.copy() for p in params])
            for p in params:
                p.grad = None
        for a, b in zip(*results):
            np.testing.assert_array_equal(a, b)
    assert f.compilations == 1
    for name in ("rnn_weight_ih_l0", "t1_tanh", "t5_tanh", "g_t3_tanh", "embedding_weight", "check_index(tokens"):
        assert name in f.source


def test_per_call_indices_are_range_checked_as_eager_validates_them():
    emb = nn.Embedding(5, 2, generator=np.random.default_rng(0))
    f = compile(lambda idx: emb(idx).sum())
    f(np.array([0, 4]))
    for bad in (np.array([0, 5]), np.array([-1, 2])):
        with pytest.raises(IndexError, match="out of range"):
            f(bad)
        with pytest.raises(IndexError):
            emb(bad)
    w = Tensor(np.arange(6.0), requires_grad=True)
    g = compile(lambda i: w[i] * 2)
    assert g(-1).item() == 10.0 and g(-2).item() == 8.0  # traced with a negative index: allowed


# ---- what the result is ------------------------------------------------------------------


def test_the_result_backpropagates_through_the_engine():
    w = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    f = compile(lambda x: (x * w).sin().sum())
    x = Tensor(np.array([1.0, 2.0, 3.0]))
    out = f(x)
    assert out.requires_grad and out.grad_fn is not None
    assert out.grad_fn.name.startswith("compiled")
    seen = []
    w.register_hook(lambda g: seen.append(g.data.copy()))
    out.backward()
    first = w.grad.data.copy()
    f(x).backward()  # gradients accumulate, as in eager
    np.testing.assert_array_equal(w.grad.data, 2 * first)
    assert len(seen) == 2
    np.testing.assert_array_equal(first, x.data * np.cos(x.data * w.data))


def test_second_backward_needs_retain_graph_as_in_eager():
    w = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    f = compile(lambda x: (x * w).exp().sum())
    out = f(np.array([1.0, 2.0]))
    out.backward(retain_graph=True)
    once = w.grad.data.copy()
    out.backward()
    np.testing.assert_array_equal(w.grad.data, 2 * once)
    with pytest.raises(GraphFreedError):
        out.backward()


def test_changing_a_parameter_between_forward_and_backward_is_caught():
    w = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    f = compile(lambda x: (x * w).tanh().sum())
    out = f(np.array([1.0, 2.0]))
    with autograd.no_grad():
        w.sub_(Tensor(np.array([0.1, 0.1])))
    with pytest.raises(InPlaceModificationError):
        out.backward()


def test_create_graph_through_a_compiled_function_is_refused():
    w = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    f = compile(lambda x: (x * w).tanh().sum())
    out = f(np.array([1.0, 2.0]))
    with pytest.raises(CompileError, match="create_graph"):
        autograd.grad(out, w, create_graph=True)


def test_gradients_reach_arguments_that_require_grad_and_graphs_before_the_call():
    w = Tensor(np.array([[0.5, -1.0], [2.0, 0.25]]), requires_grad=True)
    f = compile(lambda h: (h @ w).tanh().sum())
    a = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    for use_compiled in (False, True):
        a.grad = w.grad = None
        h = a * 2.0  # a graph made before the call: the gradient flows back into it
        out = (f if use_compiled else f.__wrapped__)(h)
        out.backward()
        if not use_compiled:
            expected = a.grad.data.copy(), w.grad.data.copy()
    np.testing.assert_array_equal(a.grad.data, expected[0])
    np.testing.assert_array_equal(w.grad.data, expected[1])


def test_non_scalar_result_takes_a_gradient_argument():
    w = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    f = compile(lambda x: (x * w).sigmoid())
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]])
    g = np.arange(6.0).reshape(2, 3)
    f(x).backward(g)
    compiled = w.grad.data.copy()
    w.grad = None
    f.__wrapped__(x).backward(g)
    np.testing.assert_array_equal(compiled, w.grad.data)


def test_under_no_grad_the_result_is_a_plain_tensor():
    model = _mlp()
    f = compile(lambda x: model(x).softmax())
    x = np.random.default_rng(0).random((3, 12))
    with autograd.no_grad():
        out = f(x)
    assert not out.requires_grad
    np.testing.assert_array_equal(out.data, model(x).softmax().data)


# ---- per-call values are read at each call -----------------------------------------------


def test_targets_and_inputs_change_between_calls():
    model = _mlp()
    f = compile(lambda x, y: F.cross_entropy(model(x), y))
    rng = np.random.default_rng(4)
    for y in ([0, 1, 2], np.array([4, 4, 0]), np.array([3, 1, 2], dtype=np.int32)):
        x = rng.random((3, 12))
        np.testing.assert_array_equal(f(x, np.asarray(y)).data, F.cross_entropy(model(x), np.asarray(y)).data)


def test_an_out_of_range_target_is_still_an_error():
    model = _mlp()
    f = compile(lambda x, y: F.cross_entropy(model(x), y))
    x = np.zeros((2, 12))
    f(x, np.array([0, 1]))
    with pytest.raises(IndexError, match="out of range"):
        f(x, np.array([0, 5]))


def test_integer_and_float_arguments_are_per_call_values():
    w = Tensor(np.arange(12.0).reshape(3, 4) / 10, requires_grad=True)
    f = compile(lambda i, scale: (w[i] * scale).sum())
    for i, scale in ((0, 2.0), (2, -1.5), (np.int64(1), 0.5)):
        assert f(i, scale).item() == (w.data[i] * scale).sum()
    assert f.compilations <= 2  # a Python int and a numpy int are two signatures; values are not


def test_parameters_replaced_or_loaded_between_calls_are_seen():
    model = _mlp()
    f = compile(lambda x: model(x).sum())
    x = np.random.default_rng(5).random(12)
    f(x)
    model[0].weight.data = model[0].weight.data * 2  # a new array
    assert f(x).item() == model(x).sum().item()
    state = {k: v * 0.5 for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    assert f(x).item() == model(x).sum().item()
    assert f.compilations == 1


def test_a_closure_array_changed_in_place_is_seen():
    w = Tensor(np.ones(3), requires_grad=True)
    offset = np.array([1.0, 2.0, 3.0])
    f = compile(lambda x: ((x + Tensor(offset)) * w).sum())
    x = np.zeros(3)
    assert f(x).item() == 6.0
    offset += 1
    assert f(x).item() == 9.0


def test_batchnorm_in_eval_mode_reads_its_running_statistics_at_each_call():
    model = nn.Sequential(nn.Linear(4, 3, generator=np.random.default_rng(0)), nn.BatchNorm1d(3))
    model.eval()
    f = compile(lambda x: model(x).sum())
    x = np.random.default_rng(6).random((5, 4))
    assert f(x).item() == model(x).sum().item()
    model[1].running_mean += 0.5  # in place
    assert f(x).item() == model(x).sum().item()
    model[1].running_var = np.full(3, 2.0)  # a new array: a guard sees it
    assert f(x).item() == model(x).sum().item()


# ---- signatures and the cache ------------------------------------------------------------


def test_a_new_shape_compiles_another_version_and_past_the_limit_runs_eagerly():
    w = Tensor(np.array([0.5]), requires_grad=True)
    f = compile(lambda x: (x * w).sum(), cache_limit=3)
    for n in (2, 3, 2, 4):
        f(np.ones(n))
    assert f.compilations == 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert f(np.ones(5)).item() == 2.5
        assert f(np.ones(6)).item() == 3.0
    assert len([w for w in caught if "cache_limit" in str(w.message)]) == 1
    assert f.compilations == 3


def test_switching_train_and_eval_compiles_another_version():
    model = nn.Sequential(nn.Linear(4, 3, generator=np.random.default_rng(0)), nn.Dropout(0.5))
    model.eval()
    f = compile(lambda x: model(x).sum())
    x = np.ones((2, 4))
    f(x)
    model.train()
    twin = nn.Sequential(nn.Linear(4, 3, generator=np.random.default_rng(0)), nn.Dropout(0.5))
    twin[1].generator.bit_generator.state = model[1].generator.bit_generator.state
    for _ in range(3):  # a train-mode version: the mask drawn at each call, as eager draws it
        assert f(x).item() == twin(x).sum().item()
    assert f.compilations == 2


def test_static_arguments_join_the_signature():
    w = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    f = compile(lambda axis: w.sum(axis=axis).sum() * 2, static_argnums=0)
    assert f(0).item() == f(1).item() == 30.0
    assert f.compilations == 2


def test_keyword_arguments():
    w = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    f = compile(lambda x, scale=1.0: (x * w * scale).sum())
    assert f(np.ones(2), scale=2.0).item() == 10.0
    assert f(np.ones(2), scale=3.0).item() == 15.0


# ---- what cannot be traced says so ---------------------------------------------------------


def _refused(fn, *args, match=None):
    with pytest.raises(CompileError, match=match):
        compile(fn)(*args)


W = Tensor(np.array([0.5, -1.0]), requires_grad=True)


def test_python_control_flow_on_a_traced_value_is_refused():
    _refused(lambda x: x * 2 if x.sum().item() > 0 else x * 3, np.ones(2), match=r"\.item\(\)")
    _refused(lambda x: (x * W).sum() if bool((x * W).sum() > 0) else x.sum(), np.ones(2), match="comparison")
    _refused(lambda x: x * W if float(W.sum()) else x, np.ones(2), match="float")
    _refused(lambda x: (x * W).sum() if x else W.sum(), Tensor(np.ones(1)), match="bool")
    _refused(lambda x: W[: x].sum(), 1, match="slice|index or size")
    _refused(lambda n: W.sum() * 2 if n == 1 else W.sum(), 1, match="bool")
    _refused(lambda n: sum(W[i] for i in range(n)), 2, match="a size, a range")


def test_values_read_through_data_are_refused():
    def weight_decay(x):  # the .data value would be frozen at its traced value
        return (x * W).sum() + 0.1 * float((W.data ** 2).sum())

    _refused(weight_decay, np.ones(2), match=r"\.data")
    _refused(lambda x: (x * W).sum() * Tensor(np.abs(W.data)).sum(), np.ones(2), match=r"\.data")


def test_a_mask_computed_from_data_is_refused():
    _refused(lambda x: autograd.where(x.data > 0, x * W, W), Tensor(np.array([1.0, 2.0])), match=r"\.data")
    _refused(lambda x: autograd.where(x > 0, x * W, W), Tensor(np.array([1.0, 2.0])), match="comparison")
    # numpy on a raw array argument is not recorded: the result changes with the input
    _refused(lambda x: autograd.where(x > 0, W * 2, W), np.array([1.0, -2.0]), match="outside the graph")


def test_library_code_that_reads_only_shapes_is_allowed():
    w = Tensor(np.arange(12.0).reshape(3, 4) / 10, requires_grad=True)
    f = compile(lambda x, p: F.cross_entropy(x @ w, p) + (x @ w + autograd.zeros_like(x @ w)).sum())
    x = np.ones((2, 3))
    for target in (np.full((2, 4), 0.25), np.array([[1.0, 0, 0, 0], [0, 0, 0.5, 0.5]])):  # soft targets
        expected = F.cross_entropy(Tensor(x) @ w, target) + (Tensor(x) @ w).sum()
        assert f(x, target).item() == expected.item()
    # class indices stored as floats are values: refused (by the second trace)
    _refused(lambda x, y: F.cross_entropy(x @ w, y), x, np.array([1.0, 3.0]), match="second time")
    # binary_cross_entropy checks its probabilities in Python: refused (use the logits version)
    _refused(lambda x, t: F.binary_cross_entropy((x @ w).sigmoid(), t), x, np.ones((2, 4)), match=r"\.data")


def test_random_draws_are_refused():
    rng = np.random.default_rng(0)
    _refused(lambda x: (x * W * Tensor(rng.random(2))).sum(), np.ones(2), match="random")


def test_module_side_effects_are_refused_and_undone():
    class Counting(nn.Module):  # a side effect no op records
        def __init__(self):
            super().__init__()
            self.register_buffer("calls", np.zeros(1))

        def forward(self, x):
            self.calls += 1
            return x * W

    module = Counting()
    with pytest.raises(CompileError, match="changed"):
        compile(lambda x: module(x).sum())(np.random.default_rng(0).random((4, 2)))
    assert module.calls[0] == 0


def test_other_refusals_name_the_reason():
    _refused(lambda x: x, np.ones(2), match="nothing to compile")
    _refused(lambda x: (x * W).sum().item(), np.ones(2), match="returned a float|item")
    _refused(lambda x: (x * Tensor(np.ones(2), requires_grad=True)).sum(), np.ones(2), match="inside the function")
    outer = W * 2

    _refused(lambda x: (x * outer).sum(), np.ones(2), match="before it was called")

    def hooked(x):
        y = x * W
        y.register_hook(lambda g: g)
        return y.sum()

    _refused(hooked, np.ones(2), match="hooks")

    class Double(autograd.Op):
        name = "double"

        def forward(self, a):
            return a * 2

        def backward(self, g, out, a):
            return (g * 2,)

    _refused(lambda x: Double()(x * W).sum(), np.ones(2), match="no compiled form")
    _refused(lambda xs: (xs[0] * W).sum(), [np.ones(2)], match="list")


# ---- the source --------------------------------------------------------------------------


def test_source_is_readable_and_runs():
    model = _mlp((12, 7, 5))
    f = compile(lambda x, y: F.cross_entropy(model(x), y))
    x, y = np.random.default_rng(7).random(12), np.int64(3)
    out = f(x, y)
    source = f.source
    for name in ("def forward", "def backward", "linear0", "sigmoid1", "cross_entropy", "g_linear0_weight"):
        assert name in source
    assert "# linear: x Wᵀ + b" in source
    assert f.executed_source.replace(" ", "") in "".join(
        line.split("  #")[0].rstrip() + "\n" for line in source.splitlines()[1:]).replace(" ", "") + "\n"
    # the readable source runs too, and gives eager's numbers
    namespace = dict(f.last.program.namespace)
    exec(compile_source(source), namespace)
    datas = [p.data for p in model.parameters()]
    loss, saved = namespace["forward"](*datas, x, y)
    grads = namespace["backward"](np.float64(1.0), saved)
    eager = F.cross_entropy(model(Tensor(x)), y)
    eager.backward()
    assert loss == eager.item() == out.item()
    for g, p in zip(grads, model.parameters()):
        np.testing.assert_array_equal(g, p.grad.data)


def compile_source(source):
    import builtins

    return builtins.compile(source, "<source>", "exec")


# ---- scalar graphs -------------------------------------------------------------------------


def _scalar_problem():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from bench_scalar import make_problem, mlp_loss

    layers, xs, neg_ys = make_problem(0)
    params = [[([Tensor(w, requires_grad=True) for w in ws], Tensor(b, requires_grad=True)) for ws, b in layer]
              for layer in layers]
    X = [[Tensor(v) for v in x] for x in xs]
    Y = [Tensor(v) for v in neg_ys]
    flat = [p for layer in params for ws, b in layer for p in (*ws, b)]
    return (lambda: mlp_loss(params, X, Y, lambda t: t.relu())), flat


def test_a_10k_node_scalar_graph_compiles_to_float_code_and_matches_eager():
    # (how fast it compiles is benchmarks/bench_compile.py's to measure, not a test's)
    loss, params = _scalar_problem()
    f = compile(loss)
    out = f()
    assert f.last.program.mode == "scalar" and "math.tanh" not in f.source and "np." not in f.source
    for _ in range(3):
        out = f()
        out.backward()
        compiled = [p.grad.item() for p in params]
        for p in params:
            p.grad = None
        eager = loss()
        eager.backward()
        assert abs(out.item() - eager.item()) <= 1e-12 * abs(eager.item())
        for a, p in zip(compiled, params):
            assert abs(a - p.grad.item()) <= 1e-12 * max(abs(p.grad.item()), 1e-300)
        for p in params:  # a gradient-descent step, rebinding each 0-d parameter's data
            p.data -= 0.01 * p.grad.data
            p.grad = None
    assert f.compilations == 1


def test_scalar_code_falls_back_to_numpy_where_python_floats_raise():
    a = Tensor(1.0, requires_grad=True)
    f = compile(lambda x: (a * x).log() + (a / x))
    assert f(2.0).item() == (a * Tensor(2.0)).log().item() + 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = f(0.0)  # log(0) and 1/0: numpy gives -inf and inf, as eager does
        assert np.isnan(out.item()) or out.item() == (a * Tensor(0.0)).log().item() + a.item() / 0.0
        out.backward()
    assert f.compilations == 1


def test_the_docs_example_shows_the_source_compile_writes_today():
    import contextlib
    import io
    import re

    page = (Path(__file__).resolve().parent.parent / "docs" / "compile.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", page, re.S).group(1)
    shown = re.search(r"<!-- expected-output -->\n```text\n(.*?)```", page, re.S).group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile_source(code), {"__name__": "docs_example"})
    assert printed.getvalue().rstrip("\n") == shown.rstrip("\n")
