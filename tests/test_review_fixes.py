"""Cases an adversarial review found still silently wrong after the aliasing work; each now errs or matches torch."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import InPlaceModificationError, Tensor, no_grad


def _torch():
    return pytest.importorskip("torch", reason="install torch to run the PyTorch comparisons")


@pytest.mark.parametrize("change", [
    lambda h, w: h.add_(w),
    lambda h, w: h.copy_(w * 2),
    lambda h, w: h.mul_(w),
], ids=["add_", "copy_", "mul_"])
def test_an_in_place_op_with_an_operand_that_requires_grad_is_refused_while_recording(change):
    # before: h changed, but w's gradient through h was silently lost
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = Tensor(np.zeros(3))
    with pytest.raises(RuntimeError, match="requires grad"):
        change(h, w)
    with no_grad():
        change(h, w)  # outside the graph it is just arithmetic


def test_data_minus_equals_keeps_the_aliases_counter():
    # before: w.data -= 0.1 gave w a fresh counter; c.mul_(10) then went unseen: w.grad x10
    w = Tensor([1.0, 2.0], requires_grad=True)
    c = w.detach()
    w.data -= 0.1
    y = (w * w).sum()
    c.mul_(10)
    with pytest.raises(InPlaceModificationError):
        y.backward()


def test_data_minus_equals_is_seen_by_graphs_that_used_an_alias():
    w = Tensor([1.0, 2.0], requires_grad=True)
    c = w.detach()
    x = Tensor([1.0, 1.0], requires_grad=True)
    y = (x * c).sum()
    w.data -= 10
    with pytest.raises(InPlaceModificationError):
        y.backward()


def test_augmented_assignment_on_a_view_while_recording_is_refused():
    # before: v *= 3 rebound v, and h (its base) silently kept its old values
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = w * 1
    v = h[0:2]
    with pytest.raises(RuntimeError, match="shares memory"):
        v *= 3
    buf = Tensor(np.zeros(3))
    view = buf[0:2]
    with pytest.raises(RuntimeError, match="shares memory"):
        view += w[0:2]


def test_augmented_assignment_on_a_plain_tensor_still_rebinds():
    x = Tensor(2.0, requires_grad=True)
    y = x * 1
    y += 1
    y *= 3
    y.backward()
    assert x.grad.item() == 3.0


def test_accumulating_into_grad_is_an_in_place_change_of_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([1.0, 1.0], requires_grad=True)
    (x * x).sum().backward()
    uses_grad = (x.grad * w).sum()
    (x * x).sum().backward()  # x.grad += ...: the value uses_grad read is gone
    with pytest.raises(InPlaceModificationError):
        uses_grad.backward()


def test_accumulating_into_grad_in_torch_is_an_error_too():
    torch = _torch()
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.ones(2, requires_grad=True)
    (x * x).sum().backward()
    uses_grad = (x.grad * w).sum()
    (x * x).sum().backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        uses_grad.backward()


def test_an_op_that_returns_its_input_array_shares_the_counter():
    from autograd import Op

    class Identity(Op):
        name = "identity"

        def forward(self, a):
            return a

        def backward(self, g, out, a):
            return (g,)

    base = Tensor([1.0, 2.0])
    w = Tensor([1.0, 1.0], requires_grad=True)
    same = Identity()(base)
    y = (w * same).sum()
    base.mul_(10)
    with pytest.raises(InPlaceModificationError):
        y.backward()


def test_a_hook_sees_its_tensors_dtype_and_may_return_it():
    x32 = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    seen = []
    x32.register_hook(lambda g: seen.append(g.dtype) or g * 2)
    (x32 * np.array([1.0, 1.0])).sum().backward()  # the product is float64
    assert seen == [np.float32] and x32.grad.dtype == np.float32
    np.testing.assert_array_equal(x32.grad.data, [2.0, 2.0])


def test_np_sum_where_does_not_broadcast_the_tensor():
    t = Tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        np.sum(t, where=np.ones((2, 3), bool))  # numpy raises too; before: 12


def test_np_logical_and_or_on_integers_are_logical():
    a, b = Tensor(np.array([1, 2])), Tensor(np.array([2, 0]))
    np.testing.assert_array_equal(np.logical_and(a, b).data, [True, False])
    np.testing.assert_array_equal(np.logical_or(a, b).data, [True, True])


def test_split_refuses_negative_sizes_and_transpose_of_0d_is_itself():
    t = Tensor(np.arange(4.0))
    with pytest.raises(ValueError, match="negative"):
        t.split([5, -1])
    s = Tensor(3.0)
    assert s.transpose(0, -1) is s
