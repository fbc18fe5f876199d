"""Never silently wrong: aliases share one version counter, and grad mode and scopes belong to a thread.

Each case here gave a wrong gradient (or changed another thread's recording) before
version counters were shared and grad mode became per thread. Where PyTorch has the
behaviour, the test runs the same case under torch too.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autograd
from autograd import InPlaceModificationError, Tensor, no_grad
from nn import Linear, Parameter
from nn.optim import SGD


def _torch():
    return pytest.importorskip("torch", reason="install torch to run the PyTorch comparisons")


# ---- in-place changes through an alias -----------------------------------------------


def test_detach_shares_the_version_counter():
    # Before: the gradient came out as 2 * 10x (x.grad = [20, 40]) with no error.
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.detach().mul_(10)
    with pytest.raises(InPlaceModificationError, match="mul"):
        y.backward()


def test_detach_shares_the_version_counter_in_torch_too():
    torch = _torch()
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.detach().mul_(10)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_tensor_built_from_a_tensor_shares_memory_and_version():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    alias = Tensor(x)
    assert np.shares_memory(alias.data, x.data)
    alias.mul_(10)
    assert x._version == alias._version == 1
    with pytest.raises(InPlaceModificationError):
        y.backward()


def test_a_converted_copy_does_not_share_the_version():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    copy = Tensor(x, dtype=np.float32)
    copy.mul_(10)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_slice_view_modified_through_an_overlapping_slice():
    # w * h[0:2] saves the view h[0:2] for w's gradient; h[1:3] overlaps it.
    h = Tensor([1.0, 2.0, 3.0])
    w = Tensor([1.0, 1.0], requires_grad=True)
    y = (w * h[0:2]).exp().sum()
    v = h[1:3]
    v.mul_(0)  # before: w.grad silently used h[1] = 0
    with pytest.raises(InPlaceModificationError):
        y.backward()


def test_exp_of_a_slice_view_then_in_place_change_of_an_overlapping_slice():
    x = Tensor([0.5, 1.0, 1.5], requires_grad=True)
    base = x.detach()
    a = base[0:2]
    e = Tensor([1.0, 1.0], requires_grad=True)
    y = (e * a).exp().sum()  # the product's gradient for e reads a
    base[1:3].mul_(0)
    with pytest.raises(InPlaceModificationError):
        y.backward()


def test_column_view_and_base_share_a_counter():
    h = Tensor(np.arange(6.0).reshape(2, 3))
    column = h[:, 1]
    assert np.shares_memory(column.data, h.data)
    column.add_(1.0)
    assert h._version == 1 and column._version == 1


def test_exp_of_2x_then_in_place_change_through_a_reshape_view():
    # exp's backward reads its output e; v is a view of e's memory.
    x = Tensor(np.linspace(0.1, 0.6, 6), requires_grad=True)
    e = (2 * x).exp()
    v = e.reshape(2, 3)
    y = e.sum()
    with no_grad():
        v.mul_(0)  # before: x.grad silently came out as 0
    with pytest.raises(InPlaceModificationError, match="modified in place"):
        y.backward()


def test_in_place_change_of_the_base_after_a_reshape_view_was_used():
    base = Tensor(np.linspace(0.1, 0.6, 6))
    r = base.reshape(2, 3)
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    y = (w * r).exp().sum()  # the product's gradient for w reads r
    base.add_(1.0)  # before: w.grad used the new values of r
    with pytest.raises(InPlaceModificationError):
        y.backward()


def test_exp_through_a_view_in_torch_is_an_error_too():
    torch = _torch()
    x = torch.linspace(0.1, 0.6, 6, dtype=torch.float64, requires_grad=True)
    e = (2 * x).exp()
    v = e.view(2, 3)
    y = e.sum()
    with torch.no_grad():
        v.mul_(0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


@pytest.mark.parametrize("make_view", [
    lambda t: t.T,
    lambda t: t.transpose(0, 1),
    lambda t: t.reshape(6),
    lambda t: t.view(3, 2),
    lambda t: t[0],
    lambda t: t[:, ::2],
    lambda t: t.unsqueeze(0),
], ids=["T", "transpose", "reshape", "view", "row", "strided", "unsqueeze"])
def test_views_share_the_version_of_their_base(make_view):
    base = Tensor(np.arange(6.0).reshape(2, 3))
    view = make_view(base)
    assert np.shares_memory(view.data, base.data)
    base.add_(1.0)
    assert view._version == 1
    view.add_(1.0)
    assert base._version == 2


def test_expand_view_sees_changes_of_its_base():
    base = Tensor([1.0, 2.0])
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    y = (w * base.expand(3, 2)).sum()
    base.mul_(3.0)
    with pytest.raises(InPlaceModificationError):
        y.backward()


def test_advanced_indexing_copies_and_shares_nothing():
    base = Tensor([1.0, 2.0, 3.0])
    picked = base[[0, 2]]
    w = Tensor([1.0, 1.0], requires_grad=True)
    y = (w * picked).sum()
    base.mul_(0)
    y.backward()  # picked is a copy: its values are still 1 and 3
    np.testing.assert_array_equal(w.grad.data, [1.0, 3.0])


def test_views_in_torch_share_the_version_counter():
    torch = _torch()
    h = torch.tensor([1.0, 2.0, 3.0])
    w = torch.ones(2, requires_grad=True)
    y = (w * h[0:2]).exp().sum()
    h[1:3].mul_(0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_optimiser_update_through_a_parameter_alias_is_seen():
    layer = Linear(2, 1)
    x = Tensor([[1.0, 2.0]])
    loss = layer(x).sum()
    alias = Parameter(layer.weight)  # the same memory: Tensor(t) shares it
    with no_grad():
        alias.mul_(2.0)
    with pytest.raises(InPlaceModificationError):
        loss.backward()


def test_optimiser_step_between_forward_and_backward_is_an_error():
    layer = Linear(2, 1)
    opt = SGD(layer.parameters(), lr=0.1)
    loss = layer(Tensor([[1.0, 2.0]])).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(InPlaceModificationError):
        loss.backward()


def test_data_writes_stay_untracked_as_in_pytorch():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data[0] = 5.0  # documented: writes into .data are not counted
    assert x._version == 0
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [10.0, 4.0])


def test_assigning_new_data_leaves_the_old_aliases_alone():
    x = Tensor([1.0, 2.0], requires_grad=True)
    old = x.detach()
    w = Tensor([1.0, 1.0], requires_grad=True)
    y = (w * old).sum()
    x.data = np.array([7.0, 8.0])  # x's memory is new; old's is unchanged
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0])
    z = (x * x).sum()
    old.mul_(0)  # no longer x's memory: x's graph is still good
    z.backward()
    np.testing.assert_array_equal(x.grad.data, [14.0, 16.0])


def test_in_place_ops_on_every_alias_bump_the_shared_version():
    x = Tensor([1.0, 2.0])
    alias = x.detach()
    for change in (lambda t: t.mul_(2), lambda t: t.add_(1), lambda t: t.copy_(np.ones(2)),
                   lambda t: t.zero_(), lambda t: t.__iadd__(1.0), lambda t: t.fill_(3.0)):
        before = x._version
        change(alias)
        assert x._version == before + 1


# ---- grad mode and scope belong to the thread -----------------------------------------


def _run_in_thread(target) -> None:
    errors: list[BaseException] = []

    def wrapped():
        try:
            target()
        except BaseException as error:  # noqa: BLE001  (re-raised in the main thread)
            errors.append(error)

    thread = threading.Thread(target=wrapped)
    thread.start()
    return thread, errors


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    inside, release = threading.Event(), threading.Event()

    def worker():
        with no_grad():
            inside.set()
            release.wait(10)

    thread, errors = _run_in_thread(worker)
    assert inside.wait(10)
    try:
        assert autograd.is_grad_enabled()  # before: False, the worker's no_grad was global
        x = Tensor(2.0, requires_grad=True)
        assert (x * x).requires_grad
    finally:
        release.set()
        thread.join(10)
    assert not errors


def test_interleaved_no_grad_blocks_in_two_threads_leave_grad_mode_on():
    # A enters, B enters, A leaves, B leaves: with one global flag B restored A's False.
    a_entered, b_entered, a_left = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def thread_a():
        with no_grad():
            a_entered.set()
            b_entered.wait(10)
        a_left.set()
        seen["a after"] = autograd.is_grad_enabled()

    def thread_b():
        a_entered.wait(10)
        with no_grad():
            b_entered.set()
            a_left.wait(10)
        seen["b after"] = autograd.is_grad_enabled()

    (ta, ea), (tb, eb) = _run_in_thread(thread_a), _run_in_thread(thread_b)
    ta.join(10)
    tb.join(10)
    assert not ea and not eb
    assert seen == {"a after": True, "b after": True}
    assert autograd.is_grad_enabled()


def test_one_no_grad_object_shared_by_two_threads():
    shared = no_grad()
    a_entered, b_entered, a_left = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def thread_a():
        with shared:
            a_entered.set()
            b_entered.wait(10)
        a_left.set()
        seen["a"] = autograd.is_grad_enabled()

    def thread_b():
        a_entered.wait(10)
        with autograd.enable_grad():
            with shared:
                b_entered.set()
                a_left.wait(10)
            seen["b"] = autograd.is_grad_enabled()

    (ta, ea), (tb, eb) = _run_in_thread(thread_a), _run_in_thread(thread_b)
    ta.join(10)
    tb.join(10)
    assert not ea and not eb and seen == {"a": True, "b": True}


def test_a_backward_pass_in_one_thread_does_not_stop_recording_in_another():
    in_hook, release = threading.Event(), threading.Event()

    def worker():
        x = Tensor(3.0, requires_grad=True)
        y = x * x

        def hook(g):
            in_hook.set()  # the backward pass is running here, with recording off
            release.wait(10)

        y.register_hook(hook)
        y.backward()

    thread, errors = _run_in_thread(worker)
    assert in_hook.wait(10)
    try:
        assert autograd.is_grad_enabled()
        z = Tensor(1.0, requires_grad=True) * 2
        assert z.requires_grad and z.grad_fn is not None
    finally:
        release.set()
        thread.join(10)
    assert not errors


def test_set_grad_enabled_in_a_thread_is_per_thread_as_in_pytorch():
    torch = _torch()
    done = threading.Event()

    def worker():
        torch.set_grad_enabled(False)
        autograd.set_grad_enabled(False)
        done.set()

    thread, errors = _run_in_thread(worker)
    thread.join(10)
    assert done.is_set() and not errors
    assert torch.is_grad_enabled() and autograd.is_grad_enabled()


def test_scope_labels_belong_to_the_thread():
    inside, release = threading.Event(), threading.Event()

    def worker():
        with autograd.scope("worker"):
            inside.set()
            release.wait(10)

    thread, errors = _run_in_thread(worker)
    assert inside.wait(10)
    try:
        assert autograd.current_scope() is None
        with autograd.scope("main"):
            y = Tensor(1.0, requires_grad=True) * 2
        assert y.grad_fn.scope == ("main",)
    finally:
        release.set()
        thread.join(10)
    assert not errors


def test_one_module_called_from_two_threads_keeps_each_threads_scope():
    layer = Linear(2, 2)
    a_inside, b_done = threading.Event(), threading.Event()
    scopes = {}
    original_forward = layer.forward

    def forward(x):
        if threading.current_thread().name == "A":
            a_inside.set()
            b_done.wait(10)
        return original_forward(x)

    layer.forward = forward

    def thread(name):
        def run():
            if name == "B":
                a_inside.wait(10)
            out = layer(Tensor([[1.0, 2.0]]))
            scopes[name] = out.grad_fn.scope
            if name == "B":
                b_done.set()
        return run

    ta = threading.Thread(target=thread("A"), name="A")
    tb = threading.Thread(target=thread("B"), name="B")
    ta.start()
    tb.start()
    ta.join(10)
    tb.join(10)
    assert scopes["A"] == scopes["B"] == ("Linear",)
    assert autograd.current_scope() is None


# ---- hooks ----------------------------------------------------------------------------


def test_a_hook_that_changes_the_shape_is_an_error_not_unbroadcast():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)

    def wrong_shape(g):
        return Tensor(np.ones((2, 3)))

    x.register_hook(wrong_shape)
    with pytest.raises(RuntimeError, match=r"wrong_shape.*size.*\(3,\).*\(2, 3\)"):
        (x * 2).sum().backward()
    assert x.grad is None  # before: summed back to (3,) and stored as [2, 2, 2]


def test_a_hook_that_changes_the_dtype_is_an_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: Tensor(np.array([1, 2])))  # integers
    with pytest.raises(RuntimeError, match=r"type.*float64.*int64"):
        (x * 2).sum().backward()
    assert x.grad is None


def test_a_hook_on_a_computed_tensor_is_checked_too():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: Tensor(np.ones(1)))
    with pytest.raises(RuntimeError, match="size"):
        y.sum().backward()


def test_torch_refuses_a_hook_that_changes_the_size():
    torch = _torch()
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.register_hook(lambda g: torch.ones(2, 3))
    with pytest.raises(RuntimeError, match="changed the size"):
        (x * 2).sum().backward()


def test_a_hook_returning_a_same_shaped_gradient_still_replaces_it():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 3)
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])
