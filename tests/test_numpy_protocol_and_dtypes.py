"""Never silently wrong: numpy functions on Tensors, constants and dtypes, shapes at the edges.

Each case here was silently wrong before (a dropped keyword, a promoted dtype, a wrapped
axis) or raised the wrong kind of error; PyTorch's behaviour is checked beside ours where
it has one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd
from autograd import ShapeError, Tensor

AxisError = getattr(np, "exceptions", np).AxisError


def _torch():
    return pytest.importorskip("torch", reason="install torch to run the PyTorch comparisons")


def _x(shape=(2, 3)):
    return Tensor(np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape), requires_grad=True)


# ---- numpy functions: every keyword honoured or refused by name -----------------------


def test_np_sum_where_is_honoured():
    x = _x()
    mask = np.array([[True, False, True], [False, True, True]])
    total = np.sum(x, where=mask)
    assert total.item() == np.sum(x.data, where=mask)  # before: the mask was dropped (21)
    total.backward()
    np.testing.assert_array_equal(x.grad.data, mask.astype(float))


def test_np_sum_initial_and_dtype_are_honoured():
    x = _x()
    assert np.sum(x, initial=10.0).item() == 31.0
    assert np.sum(x, dtype=np.float32).dtype == np.float32


def test_np_mean_where_and_dtype_are_honoured():
    x = _x()
    mask = np.array([True, False, True])
    got = np.mean(x, axis=1, where=mask)
    np.testing.assert_allclose(got.data, np.mean(x.data, axis=1, where=mask))
    got.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.broadcast_to(mask / 2.0, (2, 3)))
    assert np.mean(x, dtype=np.float32).dtype == np.float32


def test_np_max_initial_and_where_are_refused_by_name():
    x = _x()
    with pytest.raises(TypeError, match="initial"):
        np.max(x, initial=100.0)  # before: 6, the initial value dropped
    with pytest.raises(TypeError, match="where"):
        np.min(x, where=np.ones((2, 3), bool))


def test_np_reshape_order_f_is_honoured():
    x = _x()
    got = np.reshape(x, (3, 2), order="F")
    np.testing.assert_array_equal(got.data, np.reshape(x.data, (3, 2), order="F"))
    got.backward(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(x.grad.data, np.reshape(np.arange(6.0).reshape(3, 2), (2, 3), order="F"))
    np.testing.assert_array_equal(np.reshape(x, -1, order="F").data, x.data.ravel(order="F"))
    with pytest.raises(TypeError, match="order"):
        np.reshape(x, (3, 2), order="A")


@pytest.mark.parametrize("call", [
    lambda t: np.sum(t, out=np.empty(())),
    lambda t: np.mean(t, out=np.empty(())),
    lambda t: np.add(t, 1.0, out=np.empty((2, 3))),
    lambda t: np.exp(t, where=np.ones((2, 3), bool)),
    lambda t: np.multiply(t, 2.0, dtype=np.float32),
    lambda t: np.concatenate([t, t], dtype=np.float32),
    lambda t: np.clip(t, 0.0, 1.0, out=np.empty((2, 3))),
], ids=["sum-out", "mean-out", "add-out", "exp-where", "multiply-dtype", "concatenate-dtype", "clip-out"])
def test_keywords_that_cannot_be_honoured_are_refused_by_name(call):
    with pytest.raises(TypeError, match=r"(out|where|dtype)=") as error:
        call(_x())
    assert "numpy." in str(error.value)


def test_zeros_like_honours_shape_and_dtype():
    x = _x()
    z = np.zeros_like(x, shape=(4,))  # before: the shape was dropped
    assert z.shape == (4,)
    assert np.ones_like(x, dtype=np.float32).dtype == np.float32


def test_a_keyword_a_handler_does_not_know_is_named():
    with pytest.raises(TypeError, match=r"numpy\.squeeze\(\.\.\., bogus=\.\.\.\)"):
        autograd.numpy_protocol.array_function(np.squeeze, (_x(),), {"bogus": 1})


def test_explicit_defaults_are_accepted():
    x = _x()
    assert np.sum(x, out=None, keepdims=False).item() == 21.0
    assert np.add(x, 1.0, out=None).shape == (2, 3)


def test_numpy_functions_still_serve_create_graph_backward_rules():
    x = Tensor([0.5, 1.5], requires_grad=True)
    (g,) = autograd.grad((x.softmax() * x).sum(), x, create_graph=True)
    g.sum().backward()
    assert x.grad is not None and np.all(np.isfinite(x.grad.data))


# ---- a Python or 0-d constant never promotes a float tensor ---------------------------


def test_where_with_a_python_zero_keeps_float32():
    x32 = Tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
    y = autograd.where(x32.data > 0, x32, 0.0)
    assert y.dtype == np.float32  # before: float64
    y.sum().backward()
    assert x32.grad.dtype == np.float32


def test_np_where_with_a_constant_keeps_float32():
    x32 = Tensor(np.array([1.0, -2.0], dtype=np.float32))
    assert np.where(x32.data > 0, 0.0, x32).dtype == np.float32


@pytest.mark.parametrize("constant", [np.array(2.0), np.float64(2.0), np.array(2), 2.0, 2],
                         ids=["0-d array", "np.float64", "0-d int array", "float", "int"])
def test_a_0d_constant_keeps_float32(constant):
    x32 = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    for y in (x32 * constant, constant * x32, x32 + constant, x32 - constant, x32 / constant):
        assert y.dtype == np.float32
    assert autograd.maximum(x32, constant).dtype == np.float32


def test_float32_times_0d_constant_matches_torch():
    torch = _torch()
    t = torch.tensor([1.0, 2.0], dtype=torch.float32)
    assert (t * torch.tensor(2.0, dtype=torch.float64)).dtype == torch.float32
    assert torch.where(t > 0, t, 0.0).dtype == torch.float32
    x32 = Tensor(np.array([1.0, 2.0], dtype=np.float32))
    assert (x32 * np.array(2.0)).dtype == np.float32


def test_a_1d_float64_array_still_promotes_as_in_numpy_and_torch():
    x32 = Tensor(np.array([1.0, 2.0], dtype=np.float32))
    assert (x32 * np.array([2.0, 2.0])).dtype == np.float64


# ---- complex numbers --------------------------------------------------------------------


def test_complex_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="complex"):
        Tensor([1 + 2j], requires_grad=True)
    t = Tensor([1 + 2j])
    with pytest.raises(TypeError, match="complex"):
        t.requires_grad_()


def test_a_complex_constant_meeting_a_real_leaf_is_an_error_not_a_dropped_imaginary_part():
    x = Tensor(2.0, requires_grad=True)
    y = (x * 1j) * 1j  # -x, computed through complex numbers
    with pytest.raises(TypeError, match="complex"):
        y.backward()
    assert x.grad is None


# ---- shapes at the edges ----------------------------------------------------------------


def test_mean_over_a_zero_length_axis_is_nan_as_torch():
    t = Tensor(np.zeros((0, 3)), requires_grad=True)
    with pytest.warns(RuntimeWarning, match="nan"):
        m = t.mean(axis=0)  # before: ZeroDivisionError
    assert np.all(np.isnan(m.data)) and m.shape == (3,)
    m.sum().backward()
    assert t.grad.shape == (0, 3)
    with pytest.warns(RuntimeWarning):
        assert np.isnan(Tensor(np.zeros(0)).mean().item())


def test_var_over_a_zero_length_axis_is_nan():
    t = Tensor(np.zeros((0, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = t.var(axis=0)
    assert np.all(np.isnan(v.data))


def test_empty_mean_and_var_match_torch():
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that var has no degrees of freedom
        assert torch.isnan(torch.zeros(0, 3).mean(dim=0)).all()
        assert torch.isnan(torch.zeros(0, 3).var(dim=0)).all()


def test_out_of_range_index_is_an_index_error_and_a_shape_error():
    t = Tensor([1.0, 2.0, 3.0])
    with pytest.raises(IndexError) as error:
        t[5]
    assert isinstance(error.value, ShapeError)
    assert "getitem" in str(error.value) and "5" in str(error.value)


@pytest.mark.parametrize("call", [
    lambda t: t.sum(axis=3),
    lambda t: t.mean(axis=-3),
    lambda t: t.permute(0, 5),
    lambda t: t.transpose(0, 2),
    lambda t: t.squeeze(4),
    lambda t: t.unsqueeze(4),
    lambda t: t.flatten(0, 7),
    lambda t: t.split(1, axis=2),
], ids=["sum", "mean", "permute", "transpose", "squeeze", "unsqueeze", "flatten", "split"])
def test_out_of_range_axis_is_an_axis_error_and_a_shape_error(call):
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(AxisError) as error:
        call(t)
    assert isinstance(error.value, ShapeError) and isinstance(error.value, IndexError)


def test_permute_no_longer_wraps_an_out_of_range_axis():
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(IndexError):
        t.permute(2, 1)  # before: 2 % 2 = 0, a silent transpose


def test_squeeze_of_an_axis_that_is_not_1_leaves_the_tensor_as_torch():
    t = Tensor(np.ones((2, 1, 3)), requires_grad=True)
    assert t.squeeze(0).shape == (2, 1, 3)  # before: ValueError from numpy
    assert t.squeeze(1).shape == (2, 3)
    assert t.squeeze((0, 1)).shape == (2, 3)
    assert t.squeeze().shape == (2, 3)
    torch = pytest.importorskip("torch", reason="install torch to run the PyTorch comparisons")
    tt = torch.ones(2, 1, 3)
    assert tuple(tt.squeeze(0).shape) == (2, 1, 3)
    assert tuple(tt.squeeze((0, 1)).shape) == (2, 3)


def test_unsqueeze_accepts_minus_ndim_minus_1_to_ndim():
    t = Tensor(np.ones((2, 3)))
    assert t.unsqueeze(2).shape == (2, 3, 1)
    assert t.unsqueeze(-3).shape == (1, 2, 3)
