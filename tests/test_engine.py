"""The engine's contract: tensors, backward semantics, graph lifetime, grad mode, hooks,
higher-order derivatives. Expected values are closed-form derivatives."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import autograd
from autograd import GraphFreedError, InPlaceModificationError, Op, ShapeError, Tensor
from autograd.functional import hessian, hvp, jacobian, vjp

# ---- the Tensor --------------------------------------------------------------------


def test_python_numbers_become_float64_and_arrays_keep_dtype():
    assert Tensor(2).dtype == np.float64
    assert Tensor([1, 2, 3]).dtype == np.float64
    assert Tensor(2.5).dtype == np.float64
    assert Tensor(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.arange(3).dtype  # integer arrays stay integer
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.arange(3), requires_grad=True)


def test_attributes_and_conversions():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="w")
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == np.float64
    assert t.is_leaf and t.grad_fn is None and t.grad is None and t.name == "w"
    assert t.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert np.asarray(t) is t.data and t.numpy() is t.data
    assert Tensor(3.5).item() == 3.5 and float(Tensor(2.0)) == 2.0
    assert len(t) == 2 and [r.shape for r in t] == [(3,), (3,)]
    y = t * 2
    assert not y.is_leaf and y.grad_fn.name == "mul" and y.grad_fn.inputs[0] is t
    with pytest.raises(ValueError, match="one element"):
        t.item()


def test_repr_is_readable():
    assert repr(Tensor(2.0)) == "Tensor(2.)"
    assert repr(Tensor(2.0, requires_grad=True)) == "Tensor(2., requires_grad=True)"
    assert "grad_fn=<MulBackward>" in repr(Tensor(2.0, requires_grad=True) * 3)
    assert "dtype=float32" in repr(Tensor(np.float32(1)))
    big = repr(Tensor(np.zeros((100, 100))))
    assert "..." in big and len(big) < 600  # summarised, never a wall of numbers


def test_scalar_micrograd_use_case():
    x = Tensor(2.0, requires_grad=True)
    y = Tensor(3.0, requires_grad=True)
    z = x * y + x.sin()
    z.backward()
    assert x.grad.item() == pytest.approx(3.0 + np.cos(2.0), abs=1e-15)
    assert y.grad.item() == pytest.approx(2.0, abs=1e-15)


def test_ndarray_operand_on_the_left_records_a_node():
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = np.array([2.0, 3.0, 4.0]) * w
    assert isinstance(out, Tensor) and out.grad_fn is not None
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 3.0, 4.0])
    z = np.sin(w)  # numpy functions dispatch to the engine too
    assert isinstance(z, Tensor) and z.grad_fn.name == "sin"


def test_float32_stays_float32_through_ops_and_gradients():
    w = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    y = (w * 2.0 + 1).sigmoid().sum()
    assert y.dtype == np.float32
    y.backward()
    assert w.grad.dtype == np.float32


def test_comparisons_give_boolean_tensors_outside_the_graph():
    x = Tensor([1.0, -2.0], requires_grad=True)
    mask = x > 0
    assert mask.dtype == bool and not mask.requires_grad and mask.grad_fn is None
    assert (x == x).tolist() == [True, True]
    assert ((x > 0) & (x < 5)).tolist() == [True, False]


# ---- backward ----------------------------------------------------------------------


def test_tensor_used_twice_gets_the_sum():
    a = Tensor(3.0, requires_grad=True)
    (a + a).backward()
    assert a.grad.item() == 2.0
    b = Tensor(3.0, requires_grad=True)
    (b * b * b).backward()  # 3 b^2
    assert b.grad.item() == 27.0


def test_gradients_accumulate_across_backward_calls_until_reset():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [3 + 2, 3 + 4])
    w.grad = None
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [3, 3])


def test_leaf_gradients_do_not_alias_each_other():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # add hands the same gradient array to both inputs
    a.grad.data *= 10
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


def _shares(a: Tensor, b) -> bool:
    return np.shares_memory(np.asarray(a.data), np.asarray(b.data if isinstance(b, Tensor) else b))


def test_gradients_a_hook_keeps_or_returns_never_become_another_tensors_grad():
    # a logging hook on a leaf: b.grad must not be the array the log holds
    a, b = Tensor([1.0, 2.0, 3.0], requires_grad=True), Tensor([1.0, 2.0, 3.0], requires_grad=True)
    log = []
    a.register_hook(lambda g: log.append(g))
    ((a + b) * 2).sum().backward()
    assert not _shares(log[0], b.grad) and not _shares(a.grad, b.grad)
    # a hook on a retained intermediate, and one that returns an array it keeps
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x + 0).retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g))
    (y * 2).sum().backward()
    assert not _shares(seen[0], x.grad) and not _shares(y.grad, x.grad)
    kept = np.ones(3)
    x2 = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y2 = x2 + 0
    y2.register_hook(lambda g: kept)
    (y2 * 1).sum().backward()
    np.testing.assert_array_equal(x2.grad.data, kept)
    assert not _shares(x2.grad, kept)
    # a hook given an array another leaf already holds as its .grad gets its own copy
    c, d = Tensor([1.0, 1.0], requires_grad=True), Tensor([1.0, 1.0], requires_grad=True)

    def scale_in_place(g):
        g.data *= 10  # (torch asks hooks not to do this; it must not reach c.grad either way)

    d.register_hook(scale_in_place)
    ((c + d) * 2).sum().backward()  # add hands one writable array to both
    np.testing.assert_array_equal(c.grad.data, [2.0, 2.0])
    np.testing.assert_array_equal(d.grad.data, [20.0, 20.0])


def test_create_graph_gradients_are_distinct_tensors_and_not_the_seed():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    ((a + b) * 2).sum().backward(create_graph=True)
    assert a.grad is not b.grad and not _shares(a.grad, b.grad)
    np.testing.assert_array_equal(a.grad.data, [2.0, 2.0])
    x = Tensor([1.0, 2.0], requires_grad=True)
    seed = Tensor([5.0, 6.0])
    (x + 0).backward(seed, create_graph=True)
    assert x.grad is not seed and not _shares(x.grad, seed)
    np.testing.assert_array_equal(x.grad.data, [5.0, 6.0])


def test_accumulated_gradient_keeps_the_leaf_dtype():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    w = Tensor(np.array([0.5, 0.25]))  # float64 data
    for _ in range(2):
        (x * w).sum().backward()
        assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.5])
    s = Tensor(np.float32(2.0), requires_grad=True)  # 0-d: a 0-d float32 array
    for _ in range(2):
        (s * Tensor(3.0)).backward()
        assert s.grad.dtype == np.float32
    assert s.grad.item() == 6.0


def test_nonscalar_output_needs_a_gradient():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"non-scalar output of shape \(2,\)"):
        y.backward()
    with pytest.raises(ShapeError, match=r"gradient of shape \(3,\) does not match output of shape \(2,\)"):
        y.backward(np.ones(3))


def test_vector_backward_with_gradient_argument():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(gradient=np.array([1.0, 0.5, 0.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 0.0])


def test_backward_on_a_constant_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor(2.0) * 3).backward()


def test_second_backward_through_freed_graph_says_retain_graph():
    x = Tensor(2.0, requires_grad=True)
    y = x.exp() * 3
    y.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_repeated_backward():
    x = Tensor(2.0, requires_grad=True)
    y = x.exp() * 3
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 3 * np.exp(2.0))


def test_graph_shared_by_two_losses_needs_retain_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x.tanh()
    h.sum().backward()
    with pytest.raises(GraphFreedError):
        (h * 2).sum().backward()


def test_leaf_backward():
    x = Tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_million_op_chain_backprops_without_recursion():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y + 1e-6
    y.backward()
    assert x.grad.item() == 1.0
    assert y.item() == pytest.approx(2.0)
    del y  # freeing a million-deep graph must not overflow the C stack either


# ---- in-place changes and versions -------------------------------------------------


def test_sgd_update_through_data_is_allowed():
    w = Tensor([1.0, -1.0], requires_grad=True)
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        w.data -= 0.25 * w.grad.data  # the course documents' update rule
        w.grad = None
    np.testing.assert_allclose(w.data, [0.125, -0.125])


def test_add_and_sub_with_alpha_update_in_place_as_pytorch():
    w = Tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
    g = Tensor([4.0, 8.0])
    before = w.data  # the same array is updated, not replaced
    with autograd.no_grad():
        assert w.sub_(g, alpha=0.25) is w
        np.testing.assert_array_equal(w.data, [0.0, -4.0])  # 1 - 0.25*4, -2 - 0.25*8
        w.add_([1.0, 1.0], alpha=-2)  # a list operand is fine
        np.testing.assert_array_equal(w.data, [-2.0, -6.0])
        w.add_(np.float32(0.5))
    assert w.data is before and w.dtype == np.float32
    np.testing.assert_array_equal(w.data, [-1.5, -5.5])
    with pytest.raises(RuntimeError, match="no_grad"):  # recording: refused as without alpha
        w.sub_(g, alpha=0.1)


def test_changing_a_saved_input_before_backward_is_detected():
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.data -= 1  # the gradient 2w would now use the wrong w
    with pytest.raises(InPlaceModificationError, match="mul: an input of shape \\(2,\\) was modified"):
        loss.backward()


def test_changing_a_saved_output_before_backward_is_detected():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # exp's backward uses its own output
    with autograd.no_grad():
        y.add_(1.0)
    with pytest.raises(InPlaceModificationError, match="exp: its output"):
        y.backward(np.ones(2))


def test_inplace_on_leaf_requiring_grad_while_recording_is_refused():
    w = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w += 1
    with pytest.raises(RuntimeError, match="no_grad"):
        w.mul_(2)
    with autograd.no_grad():
        w -= 0.5
        w.mul_(2)
    np.testing.assert_array_equal(w.data, [1.0])
    assert w._version == 2


def test_augmented_assignment_inside_graph_is_out_of_place():
    x = Tensor(2.0, requires_grad=True)
    y = x * 3
    before = y
    y += x  # rebinds y to a new node; the old node is untouched
    assert y is not before and before.item() == 6.0
    y.backward()
    assert x.grad.item() == 4.0


# ---- graph lifetime ----------------------------------------------------------------


def test_nodes_do_not_reference_their_outputs():
    x = Tensor(2.0, requires_grad=True)
    y = x * 3
    node = y.grad_fn
    ref = weakref.ref(y)
    del y
    assert ref() is None  # freed by reference counting alone: no cycle through the node
    assert node.inputs[0] is x


def test_training_loop_memory_is_flat_without_the_garbage_collector():
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((8, 4)) * 0.1, requires_grad=True)
    b = Tensor(np.zeros(4), requires_grad=True)
    x = Tensor(rng.standard_normal((16, 8)))
    target = Tensor(rng.standard_normal((16, 4)))

    def step():
        loss = (((x @ w + b).tanh() - target) ** 2).mean()
        loss.backward()
        w.data -= 0.1 * w.grad.data
        b.data -= 0.1 * b.grad.data
        w.grad = b.grad = None

    gc.collect()
    gc.disable()
    try:
        # Warm up past CPython's free lists (up to 2000 tuples of each size), which
        # tracemalloc counts as allocated while they fill.
        tracemalloc.start()
        for _ in range(2500):
            step()
        base, _ = tracemalloc.get_traced_memory()
        for i in range(1000):
            step()
            if i == 99:
                after_100, _ = tracemalloc.get_traced_memory()
        after_1000, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert gc.collect() == 0  # nothing was left for the cycle collector
    finally:
        gc.enable()
    assert after_1000 - after_100 < 16_384, (base, after_100, after_1000)


def test_topological_order_is_deterministic():
    def build():
        a = Tensor(1.0, requires_grad=True, name="a")
        b = Tensor(2.0, requires_grad=True, name="b")
        c = a * b
        d = c + a
        return (d * c).sin()

    def labels():
        order = autograd.engine.topological_order([build()])
        return [t.grad_fn.name if t.grad_fn else t.name for t in order]

    first = labels()
    assert first[0] == "sin" and set(first[-2:]) == {"a", "b"}
    for _ in range(5):
        assert labels() == first


# ---- grad mode ---------------------------------------------------------------------


def test_no_grad_records_nothing_and_restores_state():
    x = Tensor(1.0, requires_grad=True)
    with autograd.no_grad():
        y = x * 2
        assert not autograd.is_grad_enabled()
        with autograd.enable_grad():
            z = x * 2
    assert autograd.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None

    with pytest.raises(ValueError), autograd.no_grad():
        raise ValueError
    assert autograd.is_grad_enabled()


def test_backward_records_only_for_create_graph_and_restores_grad_mode():
    seen = []
    x = Tensor(2.0, requires_grad=True)
    x.register_hook(lambda g: seen.append(autograd.is_grad_enabled()))
    (x * x).backward()
    (x * x).backward(create_graph=1)  # any truthy value, as in torch
    assert seen == [False, True] and all(type(s) is bool for s in seen)
    assert autograd.is_grad_enabled()

    def fail(g):
        raise KeyError("from a hook")

    y = Tensor(1.0, requires_grad=True)
    y.register_hook(fail)
    z = y * 3
    with pytest.raises(KeyError, match="from a hook"):
        z.backward(retain_graph=True)
    assert autograd.is_grad_enabled() is True  # restored after the error
    with autograd.no_grad():
        with pytest.raises(KeyError):
            z.backward()
        assert autograd.is_grad_enabled() is False  # and an enclosing no_grad is kept


def test_grad_mode_decorators():
    @autograd.no_grad()
    def evaluate(t):
        return t * 2

    @autograd.enable_grad()
    def train(t):
        return t * 2

    x = Tensor(1.0, requires_grad=True)
    assert evaluate(x).grad_fn is None
    with autograd.no_grad():
        assert train(x).grad_fn is not None
    assert autograd.is_grad_enabled()

    @autograd.set_grad_enabled(False)
    def frozen(t):
        return t * 2

    assert autograd.is_grad_enabled()  # decorating does not switch the mode
    assert frozen(x).grad_fn is None
    with autograd.set_grad_enabled(False):
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()


def test_detach_and_requires_grad_():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad
    np.testing.assert_array_equal(d.data, [2.0, 4.0])
    c = Tensor([1.0]).requires_grad_()
    assert c.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad = False


# ---- hooks and retain_grad ---------------------------------------------------------


def test_retain_grad_keeps_inner_gradient():
    x = Tensor(2.0, requires_grad=True)
    h = (x * 3).retain_grad()
    (h * h).backward()
    assert h.grad.item() == 12.0  # d(h^2)/dh = 2h
    assert x.grad.item() == 36.0


def test_hook_sees_and_can_replace_the_gradient():
    x = Tensor(2.0, requires_grad=True)
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append(g.item()))
    remove = h.register_hook(lambda g: g * 0.5)
    (h * h).backward(retain_graph=True)
    assert seen == [12.0]
    assert x.grad.item() == 18.0  # 3 * (12 * 0.5)
    remove()
    x.grad = None
    (h * h).backward()
    assert x.grad.item() == 36.0


def test_leaf_hook_fires_once_with_the_total():
    x = Tensor(2.0, requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.item()))
    (x * 3 + x * 4).backward()
    assert calls == [7.0]


# ---- higher order ------------------------------------------------------------------


def test_second_and_third_derivatives_of_sin():
    for v in [-1.3, 0.0, 0.5, 2.0]:
        x = Tensor(v, requires_grad=True)
        (d1,) = autograd.grad(x.sin(), x, create_graph=True)
        (d2,) = autograd.grad(d1, x, create_graph=True)
        (d3,) = autograd.grad(d2, x)
        assert d1.item() == pytest.approx(np.cos(v), abs=1e-15)
        assert d2.item() == pytest.approx(-np.sin(v), abs=1e-15)
        assert d3.item() == pytest.approx(-np.cos(v), abs=1e-15)


def test_backward_with_create_graph_leaves_differentiable_grad():
    x = Tensor(1.5, requires_grad=True)
    (x**4).backward(create_graph=True)
    g = x.grad  # 4 x^3, itself a graph
    assert g.requires_grad
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(12 * 1.5**2)


def test_hessian_vector_product_matches_closed_form():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 4))
    q = a @ a.T  # f(x) = x^T Q x / 2 + sum(sin x): H = Q - diag(sin x)
    x0 = rng.standard_normal(4)
    v = rng.standard_normal(4)

    def f(t):
        return (t @ Tensor(q) @ t) * 0.5 + t.sin().sum()

    expected = q @ v - np.sin(x0) * v
    np.testing.assert_allclose(hvp(f, Tensor(x0), v).data, expected, rtol=1e-12)
    np.testing.assert_allclose(hessian(f, Tensor(x0)).data, q - np.diag(np.sin(x0)), rtol=1e-12)


def test_jacobian_and_vjp():
    x0 = np.array([0.3, -0.7, 1.1])
    jac = jacobian(lambda t: t.exp() * t.sum(), Tensor(x0))
    expected = np.diag(np.exp(x0)) * x0.sum() + np.outer(np.exp(x0), np.ones(3))
    np.testing.assert_allclose(jac.data, expected, rtol=1e-13)
    out, g = vjp(lambda t: t * t, Tensor(x0), np.ones(3))
    np.testing.assert_allclose(g.data, 2 * x0)
    ja, jb = jacobian(lambda a, b: a * b, (Tensor(x0), Tensor(2 * x0)))
    np.testing.assert_allclose(ja.data, np.diag(2 * x0))
    np.testing.assert_allclose(jb.data, np.diag(x0))


# ---- autograd.grad -----------------------------------------------------------------


def test_grad_returns_gradients_without_touching_dot_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    y = h.sum()
    gx, gh = autograd.grad(y, [x, h])
    np.testing.assert_array_equal(gx.data, [2.0, 4.0])
    np.testing.assert_array_equal(gh.data, [1.0, 1.0])
    assert x.grad is None


def test_grad_unused_input():
    x = Tensor(1.0, requires_grad=True)
    unused = Tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        autograd.grad(x * 2, [x, unused], retain_graph=True)
    gx, gu = autograd.grad(x * 2, [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_grad_of_several_outputs_with_grad_outputs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = autograd.grad([x * 2, x * x], x, grad_outputs=[np.ones(2), np.array([1.0, 0.0])])
    np.testing.assert_array_equal(g.data, [2 + 2, 2 + 0])


# ---- errors name the op and the shapes --------------------------------------------


def test_shape_errors_name_op_and_shapes():
    with pytest.raises(ShapeError, match=r"^matmul: shapes \(3, 4\) and \(5, 2\) do not align"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 2)))
    with pytest.raises(ShapeError, match=r"^add: shapes \(3,\) and \(4,\) cannot be broadcast"):
        Tensor(np.ones(3)) + np.ones(4)
    with pytest.raises(ShapeError, match=r"^reshape: shape \(2, 3\)"):
        Tensor(np.ones((2, 3))).reshape(4, 2)
    with pytest.raises(ShapeError, match=r"^concat: shapes \(2, 3\) and \(2, 4\)"):
        autograd.concat([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))])
    with pytest.raises(ShapeError, match=r"permute"):
        Tensor(np.ones((2, 3))).permute(0, 0)


def test_unsupported_numpy_function_is_a_clear_error():
    with pytest.raises(TypeError, match="numpy.cumsum is not supported on Tensors"):
        np.cumsum(Tensor([1.0, 2.0], requires_grad=True))


# ---- scopes (graph drawings group nodes by them) ----------------------------------


def test_scopes_label_nodes_and_nest():
    x = Tensor(1.0, requires_grad=True)
    with autograd.scope("rnn"):
        a = x * 2
        with autograd.scope("t=1"):
            b = a.sin()
            assert autograd.current_scope() == ("rnn", "t=1")
    c = b + 1
    assert a.grad_fn.scope == ("rnn",)
    assert b.grad_fn.scope == ("rnn", "t=1")
    assert c.grad_fn.scope is None and autograd.current_scope() is None
    with pytest.raises(KeyError), autograd.scope("broken"):
        raise KeyError
    assert autograd.current_scope() is None


# ---- fused and stable primitives used by nn -----------------------------------------


@pytest.mark.parametrize("x_shape", [(4,), (5, 4), (2, 5, 4)])
def test_linear_is_x_wT_plus_b_with_correct_gradients(x_shape):
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = Tensor(rng.standard_normal(3), requires_grad=True)
    x = Tensor(rng.standard_normal(x_shape), requires_grad=True)
    np.testing.assert_allclose(autograd.linear(x, w, b).data, x.data @ w.data.T + b.data, rtol=1e-14)
    assert autograd.gradcheck(lambda x, w, b: autograd.linear(x, w, b), (x, w, b))
    assert autograd.gradgradcheck(lambda x, w, b: autograd.linear(x, w, b).sin(), (x, w, b))
    assert autograd.gradcheck(lambda x, w: autograd.linear(x, w), (x, w))
    with pytest.raises(ShapeError, match=r"linear: input of shape \(2, 5\) does not fit weight of shape"):
        autograd.linear(Tensor(np.ones((2, 5))), w)
    data = Tensor(rng.standard_normal(x_shape))  # an input without gradient: linear_of_data
    assert autograd.gradcheck(lambda w, b: autograd.linear(data, w, b).sin(), (w, b))
    with pytest.raises(ShapeError, match=r"weight must be 2-d"):
        autograd.linear(Tensor(np.ones(4)), Tensor(np.ones(4)))


def test_softplus_is_stable_and_its_gradient_is_sigmoid():
    z = Tensor([-1000.0, -3.0, 0.0, 2.0, 1000.0], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = z.softplus()
    np.testing.assert_allclose(out.data, np.logaddexp(0, z.data), rtol=1e-15)
    out.sum().backward()
    expected = [0.0, 1 / (1 + np.exp(3.0)), 0.5, 1 / (1 + np.exp(-2.0)), 1.0]
    np.testing.assert_allclose(z.grad.data, expected, rtol=1e-15, atol=1e-300)
    assert z.grad.data[2] == 0.5  # exactly σ(0), where relu/abs compositions give 0
    x = Tensor(np.random.default_rng(1).standard_normal((3, 2)), requires_grad=True)
    assert autograd.gradcheck(autograd.softplus, x) and autograd.gradgradcheck(autograd.softplus, x)


def test_drawing_is_loaded_on_first_use():
    import importlib
    import subprocess
    import sys

    code = "import sys, autograd; assert 'graphviz' not in sys.modules; autograd.viz.RenderError; autograd.draw"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
    assert importlib.import_module("autograd").viz is importlib.import_module("autograd.viz")


def test_calling_an_op_lifts_constants_like_the_operators_do():
    from autograd.ops.elementwise import mul

    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    assert mul(x, 2.0).dtype == np.float32 and mul(2.0, x).dtype == np.float32  # as x * 2.0
    assert (x * 2.0).dtype == np.float32


@pytest.mark.parametrize("arity", [1, 2, 3])
def test_a_rule_returning_the_wrong_number_of_gradients_is_named(arity):
    class Broken(Op):
        name = "broken"

        def forward(self, *arrays):
            return sum(arrays)

        def backward(self, grad, out, *inputs):
            return (grad,) * (len(inputs) + 1)

    xs = [Tensor(float(i), requires_grad=True) for i in range(arity)]
    with pytest.raises(RuntimeError, match=f"broken: backward returned {arity + 1} gradients for {arity} inputs"):
        Broken()(*xs).backward()


def test_a_scalar_gradient_for_an_input_that_is_not_0d_is_an_error():
    class Squeeze(Op):  # a broken rule: forgets to give the gradient its input's shape
        name = "squeeze"

        def forward(self, a, b):
            return a.reshape(()) * b

        def backward(self, grad, out, a, b):
            return grad * b, grad * a.reshape(())

    x = Tensor(np.array([2.0]), requires_grad=True)
    y = Tensor(3.0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"squeeze \(inputs of shapes \(1,\), \(\)\): backward rule: "
                       r"gradient of shape \(\) does not fit input of shape \(1,\)"):
        Squeeze()(x, y).backward()


def test_a_number_returned_as_a_gradient_is_a_clear_error():
    class Constant(Op):  # a broken rule: returns the derivative, not the gradient times it
        name = "constant_slope"

        def forward(self, a):
            return a * 2

        def backward(self, grad, out, a):
            return (2.0,)

    for x in (Tensor(1.5, requires_grad=True), Tensor([1.0, 2.0], requires_grad=True)):
        with pytest.raises(RuntimeError, match="constant_slope: backward returned a float as a gradient"):
            Constant()(x).sum().backward()


def test_grad_fn_is_the_same_node_each_time_and_read_only():
    x = Tensor(2.0, requires_grad=True)
    y = x * 3
    assert y.grad_fn is y.grad_fn and y.grad_fn.inputs == (x, y.grad_fn.inputs[1])
    assert y.grad_fn.clock > 0 and y.grad_fn.scope is None and x.grad_fn is None
    with pytest.raises(AttributeError):
        y.grad_fn = None


def test_leaves_copy_and_pickle_but_computed_tensors_refuse():
    import copy
    import pickle

    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    for twin in (copy.copy(x), copy.deepcopy(x), pickle.loads(pickle.dumps(x))):
        assert twin is not x and twin.requires_grad and twin.is_leaf and twin.name == "x"
        assert twin.data.tolist() == [1.0, 2.0]
    y = x * 3
    for copier in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(RuntimeError, match="only leaf tensors can be copied or pickled.*mul"):
            copier(y)
    y.sum().backward()  # the graph is untouched by the refusals
    assert x.grad.data.tolist() == [3.0, 3.0]
    assert copy.deepcopy(y.detach()).data.tolist() == [3.0, 6.0]


def test_ndarray_subclasses_are_summed_back_and_never_share_a_gradient():
    a = Tensor(np.ma.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    b = Tensor(np.ma.array(np.full((2, 3), 2.0)), requires_grad=True)
    (a * b).backward(np.ones((2, 3)))
    assert a.grad.shape == (1, 3) and a.grad.data.tolist() == [[4.0, 4.0, 4.0]]
    c = Tensor(np.ma.array([1.0, 2.0]), requires_grad=True)
    d = Tensor(np.ma.array([3.0, 4.0]), requires_grad=True)
    ((c + d) * Tensor(np.ma.array([5.0, 6.0]))).sum().backward()
    assert c.grad.data is not d.grad.data
    c.grad.data[...] = 0.0
    assert d.grad.data.tolist() == [5.0, 6.0]


def test_mixed_precision_scalar_gradients_keep_each_leafs_dtype():
    x = Tensor(np.float32(1.5), requires_grad=True)
    y = Tensor(2.0, requires_grad=True)
    (x * y + x.relu() * 2.0).backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
    assert x.grad.item() == 4.0 and y.grad.item() == 1.5


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
def test_relu_of_a_numpy_scalar_matches_np_maximum(dtype):
    for value in [-2.0, -0.0, 0.0, 3.0, np.inf, -np.inf, np.nan]:
        a = dtype(value)
        got = Tensor(a).relu()._data
        want = np.maximum(a, dtype(0))
        assert type(got) is type(want)
        assert (np.isnan(got) and np.isnan(want)) or got == want  # (the sign of a zero is free)


def test_a_rule_that_returns_a_bare_array_is_named():
    class Bare(Op):
        name = "bare"

        def forward(self, a, b):
            return a * b

        def backward(self, grad, out, a, b):
            return grad * b  # forgot the tuple

    x, y = Tensor(2.0, requires_grad=True), Tensor(3.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="bare: backward must return a tuple with one gradient per input"):
        Bare()(x, y).backward()


def test_data_of_a_single_number_is_an_array_and_reading_it_changes_nothing():
    x = Tensor(2.0, requires_grad=True)
    assert type(x._data) is np.ndarray and x._data.shape == ()  # a tensor you make: writable
    x.data -= 0.5  # the plain SGD update on a 0-d parameter
    assert x.item() == 1.5
    y = x * 3  # an op's single number stays as numpy returns it
    kept = y._data
    assert isinstance(kept, np.float64)
    seen = y.data
    assert y._data is kept  # the getter has no side effect
    assert isinstance(seen, np.ndarray) and seen.shape == () and seen == 4.5
    with pytest.raises(ValueError, match="read-only"):
        seen[()] = 7.0  # writing into it would be lost: an error instead
    assert y.item() == 4.5
    y.backward()
    assert x.grad.item() == 3.0


def test_a_computed_number_made_a_leaf_that_requires_grad_is_writable():
    with autograd.no_grad():
        y = Tensor(2.0) * 3
    y.requires_grad = True
    y.data -= 1.0
    assert y.item() == 5.0
    w = Tensor(1.0, requires_grad=True)
    w.data = Tensor(2.0) * 2  # .data = a tensor holding a numpy scalar
    w.data += 1.0
    assert w.item() == 5.0


def test_in_place_updates_of_an_ops_single_number_reach_it():
    with autograd.no_grad():
        y = Tensor(2.0) * 3
        y += 1
        assert y.item() == 7.0
        y.add_(1).mul_(2)
        assert y.item() == 16.0
        y.zero_()
        assert y.item() == 0.0


def test_writing_into_one_element_is_an_error_not_a_lost_write():
    x = Tensor([1.0, 2.0])
    with autograd.no_grad():
        with pytest.raises(RuntimeError, match=r"read-only tensor of shape \(\): it is a copy of one element"):
            x[0].add_(5)  # PyTorch's x[0] is a view and changes x; numpy's x[0] is a copy
        x[0:1].add_(5)  # a slice is a view: this reaches x
    np.testing.assert_array_equal(x.data, [6.0, 2.0])
    with pytest.raises(RuntimeError, match="broadcast view"):
        x.expand(2, 2).add_(1)
    np.testing.assert_array_equal(x.data, [6.0, 2.0])
    with pytest.raises(ValueError, match="read-only"):
        x[1].data[()] = 9.0
    assert x[1].item() == 2.0


def test_reading_an_element_leaves_in_place_updates_possible():
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = w * 2
    assert h[0].item() == 2.0 and float(h[1]) == 4.0
    h += 1  # recorded out of place: no view of h is alive
    h.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 2.0, 2.0])


def test_in_place_updates_inside_a_compiled_function_are_refused():
    w = Tensor(2.0, requires_grad=True)

    def f(x, w):
        with autograd.no_grad():
            x.add_(1)  # would run once, at trace time, and never again
        return (x * w).sum()

    with pytest.raises(autograd.CompileError):
        autograd.compile(f)(Tensor([1.0, 2.0, 3.0]), w)


def test_a_read_only_data_array_becomes_a_writable_copy_where_it_is_written():
    y = Tensor(2.0) * 3  # its .data is read-only
    p = autograd.Tensor(y.data, requires_grad=True)
    (p * p).backward()
    with autograd.no_grad():
        p.data -= 0.1 * p.grad.data
    assert p.item() == 6.0 - 0.1 * 12.0
    q = Tensor(1.0, requires_grad=True)
    q.data = y.data
    q.data += 1.0
    assert q.item() == 7.0 and y.item() == 6.0


def test_gradcheck_with_an_ops_single_number_as_input():
    x = Tensor(0.3, requires_grad=True) * 2
    assert autograd.gradcheck(lambda t: t.sigmoid(), [x])
    assert x.item() == 0.6
