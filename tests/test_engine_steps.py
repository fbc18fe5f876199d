"""engine.backward_steps: the one backward loop that Tensor.backward, autograd.grad and the drawings share.

Values are derived by hand in each test (d(x*y)/dx = y, a broadcast operand's gradient is
summed over the broadcast axes, ...), not by calling the engine twice.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd
from autograd import GraphFreedError, Tensor, engine
from autograd.ops import elementwise as ew
from autograd.ops.matmul import matmul
from autograd.tensors import apply
from autograd.viz.graph import GraphView, backward_steps, final_gradients


def test_every_tensor_is_one_step_leaves_included_in_reverse_topological_order():
    x = Tensor(2.0, requires_grad=True, name="x")
    y = Tensor(5.0, requires_grad=True, name="y")
    h = x * y  # 10
    h.name = "h"
    z = h + x  # 12
    steps = list(engine.backward_steps([z], [np.float64(1.0)]))
    assert [tensor for tensor, _, _, _ in steps] == [z, h, x, y]
    grads = {tensor.name: float(grad) for tensor, grad, _, _ in steps}
    assert grads == {None: 1.0, "h": 1.0, "x": 1.0 + 5.0, "y": 2.0}  # dz/dx = 1 + y, dz/dy = x
    (_, _, op, sent), (_, _, op_h, sent_h) = steps[:2]
    assert op is ew.add and [float(g) for g in sent] == [1.0, 1.0]
    assert op_h is ew.mul and [float(g) for g in sent_h] == [5.0, 2.0]
    assert steps[2][2] is None and len(steps[2][3]) == 0  # a leaf: the pass ends there
    assert x.grad is None and y.grad is None  # the steps alone touch no .grad


def test_input_gradients_are_summed_to_each_inputs_shape_and_none_where_no_gradient_is_needed():
    row = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    grid = Tensor(np.ones((2, 3)))  # data: needs no gradient
    out = row * grid
    (_, _, _, sent), *_ = engine.backward_steps([out], [np.full((2, 3), 0.5)])
    assert sent[1] is None
    np.testing.assert_array_equal(sent[0], [1.0, 1.0, 1.0])  # 0.5 * 1 summed over the 2 rows


def test_the_two_input_rule_call_and_the_general_one_agree_on_every_two_input_op():
    # A plain pass writes out the call for two inputs; create_graph takes the general line
    # (*inputs). Both must give the same gradients on every two-input op of the catalogue.
    rng = np.random.default_rng(0)
    ops = [ew.add, ew.sub, ew.mul, ew.div, ew.pow_, ew.maximum, ew.minimum, matmul]
    for op in ops:
        a = Tensor(rng.uniform(0.5, 2.0, (3, 3)), requires_grad=True)
        b = Tensor(rng.uniform(0.5, 2.0, (3, 3)), requires_grad=True)
        out = apply(op, (a, b))
        np.testing.assert_array_equal(out.data, op.forward(a.data, b.data))  # apply's twin, too
        seed = rng.standard_normal((3, 3))
        plain = list(engine.backward_steps([out], [seed], retain_graph=True))
        recorded = list(engine.backward_steps([out], [Tensor(seed)], retain_graph=True, create_graph=True))
        for (t1, g1, _, _), (t2, g2, _, _) in zip(plain, recorded):
            assert t1 is t2
            np.testing.assert_allclose(np.asarray(g1), g2.data, rtol=1e-14, err_msg=op.name)


def test_a_three_input_op_takes_the_general_call():
    cond = Tensor(np.array([True, False, True]))
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([4.0, 5.0, 6.0], requires_grad=True)
    autograd.where(cond, a, b).sum().backward()
    assert a.grad.data.tolist() == [1.0, 0.0, 1.0] and b.grad.data.tolist() == [0.0, 1.0, 0.0]


def test_autograd_grad_stops_early_and_leaves_the_captured_node_usable():
    x = Tensor(3.0, requires_grad=True)
    h = x * 2.0
    y = h * h
    (dh,) = autograd.grad(y, h)  # retain_graph False: y's node is consumed, h's is not
    assert dh.item() == 12.0  # 2h
    (h * 1.0).backward()
    assert x.grad.item() == 2.0
    with pytest.raises(GraphFreedError):
        y.backward()


def test_the_first_deposit_into_grad_is_a_copy():
    seed = np.ones(2)
    a = Tensor([1.0, 2.0], requires_grad=True)
    (a * 1.0).backward(seed)
    a.grad.data[0] = 7.0
    assert seed.tolist() == [1.0, 1.0]


def test_drawings_take_the_engines_steps_and_change_nothing():
    x = Tensor(2.0, requires_grad=True, name="x")
    calls = []
    x.register_hook(lambda g: calls.append(g))
    y = x * x + x  # dy/dx = 2x + 1 = 5
    y.backward()  # consumes the graph
    gradients = final_gradients(GraphView([y]))  # replays it anyway
    assert float(gradients[x]) == 5.0 and x.grad.item() == 5.0
    assert len(calls) == 1  # the replay ran no hook
    totals: dict = {}
    steps = list(backward_steps(GraphView([y]), totals))
    assert [len(step.sent) for step in steps] == [2, 2]  # add, then mul (leaves are not drawn as steps)
    with pytest.raises(GraphFreedError):
        y.backward()  # the replays marked nothing; the user's own pass did
