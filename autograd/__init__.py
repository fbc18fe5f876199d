"""chainrule's engine: tensors that record their computation, and reverse-mode autodiff.

Read in this order to see how backpropagation works:

1. ``graph.py`` — an ``Op`` (forward and backward side by side), the clock that orders
   recorded ops, and ``Node`` (how a computed tensor was made: its ``grad_fn``);
2. ``ops/`` — every primitive operation and its vector-Jacobian product;
3. ``tensors.py`` — the Tensor and ``apply``, which runs an op and records it (the rest of
   the Tensor's methods: ``tensor_methods.py``, ``tensor_values.py``);
4. ``engine.py`` — the backward pass: reverse topological order and the chain rule;
5. ``api.py`` — the functions users call (``autograd.sin``, ``autograd.grad``, ``autograd.tensor``);
6. ``grad_mode.py``, ``gradcheck.py``, ``functional.py`` (Jacobians, Hessians) — switches and checks.

>>> from autograd import Tensor
>>> x = Tensor(2.0, requires_grad=True)
>>> y = x ** 3
>>> y.backward()
>>> x.grad
Tensor(12.)
"""

from autograd import functional, numpy_protocol  # noqa: F401  (autograd.functional; np.sin(t))
from autograd.api import *  # noqa: F403  (the functional API: exactly the names api.__all__ lists)
from autograd.api import __all__ as _API
from autograd.engine import GraphFreedError, InPlaceModificationError
from autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autograd.graph import Node, Op, current_scope, scope
from autograd.tensors import ShapeError, Tensor

__version__ = "0.1.0"

# The drawing functions live in ``autograd.viz`` and are imported on first use, so
# that ``import autograd`` does not load graphviz until a graph is drawn.
_DRAWING = (
    "draw",
    "save_graph",
    "backprop_frames",
    "save_backprop_html",
    "save_backprop_animation",
    "save_backprop_pdf",
)
# The compiled path (``autograd.compiler``: trace once, replay generated numpy) likewise.
_COMPILER = ("compile", "compile_step", "CompileError")
# And the tools for a backpropagation course (``autograd.teaching``).
_TEACHING = (
    "check_gradients",
    "GradientReport",
    "chain_rule_trace",
    "ChainRuleTrace",
    "stepper",
    "Stepper",
    "worksheet",
    "Worksheet",
)
_LAZY = {
    **{name: "autograd.viz" for name in _DRAWING},
    **{name: "autograd.compiler" for name in _COMPILER},
    **{name: "autograd.teaching" for name in _TEACHING},
}
_SUBPACKAGES = ("viz", "compiler", "teaching")

__all__ = [
    "__version__",
    # the Tensor, ops and graph records
    "Tensor", "Op", "Node", "scope", "current_scope",
    # errors
    "ShapeError", "GraphFreedError", "InPlaceModificationError", "GradcheckError",
    # grad mode and checks
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "gradcheck", "gradgradcheck",
    *_API,  # the functional API (autograd/api.py lists it)
    # loaded on first use: drawings, the compiled path, teaching tools
    *_DRAWING, *_COMPILER, *_TEACHING,
]


def __dir__() -> list[str]:
    # the lazily loaded names should still be offered by tab completion
    return sorted(set(globals()) | set(__all__) | set(_SUBPACKAGES))


def __getattr__(name: str):
    import importlib

    if name in _SUBPACKAGES:
        return importlib.import_module(f"autograd.{name}")  # sets autograd.<name>: no second call
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")
