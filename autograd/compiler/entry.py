"""One compiled signature at call time: its guards, the op it records, the programs it runs.

``Entry`` holds what ``compile`` made for one signature (the plan and the generated
program) and does what every later call does: check the guards (the parameters' shapes
and dtypes, the modules' train flags and buffers, the constants' ``requires_grad``;
``_Stale`` when one fails), feed the program its inputs, and record one ``CompiledCall``
op, whose forward and backward run the scalar program (falling back to numpy on a float
exception) or the numpy one.

It is apart from ``api.py`` because it is the other half of the work: ``api.py`` decides
*when* to compile (the signature cache) and *how* (tracing, analysis, the compile-time
check); this module is what runs on every call afterwards, and what ``compile_step``
(``step.py``) builds its training step on. ``api.py`` imports from here, never the other
way round.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from autograd.compiler import analyze as an
from autograd.compiler import codegen, trace
from autograd.compiler.trace import CompileError
from autograd.graph import Op
from autograd.tensors import Tensor, _apply

_requires_grad = operator.attrgetter("_requires_grad")
_new = object.__new__
_training = operator.attrgetter("training")


class _Stale(Exception):
    """A guard failed inside a call: trace again."""


class _Passthrough(Exception):  # noqa: N818  (carries an error past _apply's ShapeError wrapping)
    def __init__(self, error: BaseException) -> None:
        self.error = error


class CompiledCall(Op):
    """One call of a compiled function: the node ``.backward()`` goes through."""

    name = "compiled"
    backward_reads = ()  # its backward reads what its forward saved on the instance (op.saved)

    def forward(self, *datas: Any) -> Any:
        entry = self.entry
        fixed = entry.n_fixed
        last = entry.last_datas
        if last is None or not all(map(operator.is_, datas[:fixed], last)):
            entry.check_datas(datas[:fixed])
        self.datas = datas
        try:
            return entry.run_forward(self, datas)
        except (ValueError, IndexError) as error:
            raise _Passthrough(error) from None

    def backward(self, grad: Any, out: Any, *datas: Any) -> tuple[Any, ...]:
        if isinstance(grad, Tensor):
            raise CompileError(
                f"{self.name}: create_graph=True (a differentiable backward) through a compiled "
                "function is not supported; call the function eagerly for higher derivatives"
            )
        return self.entry.run_backward(self, grad)


class Entry:
    """The compiled code for one signature, and what each call feeds it."""

    def __init__(self, plan: an.Plan, program: codegen.Program, args: list[trace.Arg],
                 modules: list[Any], title: str, arg_names: dict[int, str]) -> None:
        self.plan, self.program, self.args, self.title = plan, program, args, title
        self.arg_names = arg_names
        self.numpy_program: codegen.Program | None = program if program.mode == "numpy" else None
        self.fixed = tuple(t for t, arg, _ in plan.inputs if arg is None)
        self.n_fixed = len(self.fixed)
        self.tensor_args = [arg for t, arg, _ in plan.inputs if arg is not None]
        self.extra_args = [arg for t, arg, _ in plan.extras if arg is not None]
        self.held = [t for t, arg, _ in plan.extras if arg is None]  # parameters read without a gradient
        self.held_specs = [(np.shape(t._data), t._data.dtype) for t in self.held]
        self.fixed_specs = [(np.shape(t._data), t._data.dtype) for t in self.fixed]
        # A parameter whose requires_grad is switched off needs no new code (the engine skips
        # its gradient); a constant switched on does: its gradient was not generated.
        self.constants = [t for t in self.fixed if not t._requires_grad]
        self.all_modules = modules
        self.modules = [m for m in modules if not _ignores_training(m)]  # whose train flag matters
        self.flags = list(map(_training, self.modules))
        self.buffers = [(m, k, v) for m in modules for k, v in m._buffers.items()]
        self.last_datas: tuple[Any, ...] | None = None
        self.program_names: codegen.Names | None = None
        self.grad_dtypes: dict[int, np.dtype] = {}  # each gradient's dtype, seen by the compile-time check
        self.op_name = f"compiled {title}"

    @property
    def source(self) -> str:
        return self.program.source

    @property
    def executed_source(self) -> str:
        return self.program.executed_source

    def check_datas(self, datas: tuple[Any, ...]) -> None:
        for data, (shape, dtype) in zip(datas, self.fixed_specs):
            if np.shape(data) != shape or data.dtype != dtype:
                raise _Stale
        self.last_datas = datas

    def guard(self) -> None:
        """Raise ``_Stale`` if a module's train flag or buffer, or a constant's requires_grad changed."""
        if self.modules and list(map(_training, self.modules)) != self.flags:
            raise _Stale
        if self.buffers:
            for m, k, v in self.buffers:
                if m._buffers.get(k) is not v:
                    raise _Stale
        if self.constants and any(map(_requires_grad, self.constants)):
            raise _Stale

    def held_datas(self) -> list[Any]:
        """The data of the tensors read without a gradient, shape-checked."""
        held = [t._data for t in self.held]
        for data, (shape, dtype) in zip(held, self.held_specs):
            if np.shape(data) != shape or data.dtype != dtype:
                raise _Stale
        return held

    def __call__(self, values: tuple[Any, ...] | list[Any]) -> Tensor:
        self.guard()
        inputs = self.fixed + tuple([values[i] for i in self.tensor_args]) if self.tensor_args else self.fixed
        op = _new(CompiledCall)
        op.entry = self
        op.name = self.op_name
        op.extras = [values[i] for i in self.extra_args]
        if self.held:
            op.extras += self.held_datas()
        try:
            return _apply(op, inputs)
        except _Passthrough as carried:
            raise carried.error from None

    # ---- running the programs (scalar programs fall back to numpy on a float exception) ----

    def _numpy(self) -> codegen.Program:
        if self.numpy_program is None:
            self.numpy_program = codegen.build(self.plan, "numpy", self.arg_names, self.title,
                                               names=self.program_names)
        return self.numpy_program

    def run_forward(self, op: CompiledCall, datas: tuple[Any, ...]) -> Any:
        program = self.program
        if program.mode == "scalar":  # Python floats in, Python floats out
            try:
                out, op.saved = program.forward(*map(float, datas), *map(float, op.extras))
                op.mode = "scalar"
                return out
            except (ArithmeticError, ValueError):
                program = self._numpy()
        out, op.saved = program.forward(*datas, *op.extras)
        op.mode = "numpy"
        return out

    def run_backward(self, op: CompiledCall, grad: Any) -> tuple[Any, ...]:
        if op.mode == "scalar":
            try:
                return self.program.backward(float(grad), op.saved)
            except (ArithmeticError, ValueError):
                _, op.saved = self._numpy().forward(*op.datas, *op.extras)
                op.mode = "numpy"
        return self._numpy().backward(grad, op.saved)


_TRAINING_BLIND = ("Linear", "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Sequential",
                   "MLP", "RNNCell", "RNN", "Embedding")


def _ignores_training(module: Any) -> bool:
    """True for nn's own layers whose forward does not read ``training`` (not Dropout, BatchNorm)."""
    cls = type(module)
    return cls.__module__ == "nn.layers" and cls.__name__ in _TRAINING_BLIND
