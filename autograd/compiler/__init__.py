"""The compiled path: trace a function once, replay it as straight-line numpy.

``compile(fn)`` runs ``fn`` eagerly, reads the graph it recorded, and generates a Python
forward (one line per op, calling numpy directly) and backward (one line per gradient, in
reverse). Later calls run the generated code; the result is a Tensor whose ``.backward()``
leaves ``.grad`` on the parameters exactly as eager would. The eager engine stays the
textbook; this is the fast path beside it (see ``docs/compile.md``).

* ``trace.py`` — stand-ins for the arguments, running ``fn``, reading its graph;
* ``state.py`` — the modules and random generators behind ``fn``: guards and side effects;
* ``analyze.py`` — comparing a real and a perturbed trace: where each value comes from;
* ``templates.py``, ``array_templates.py`` — each op's forward and backward as code;
* ``codegen.py`` — the forward and backward functions, names, ``exec``;
* ``kernels.py`` — the helpers the generated code calls, each tested against its op;
* ``api.py`` — ``compile`` and the signature cache (tracing a new signature);
* ``entry.py`` — what runs at each call of a compiled version: the guards, the compiled op;
* ``step.py`` — ``compile_step``: forward, backward and the optimiser's update in one function.

>>> import numpy as np
>>> from autograd import Tensor
>>> from autograd.compiler import compile
>>> w = Tensor(np.array([0.5, -1.0]), requires_grad=True, name="w")
>>> @compile
... def loss(x):
...     return (x * w).tanh().sum()
>>> out = loss(Tensor(np.array([1.0, 2.0])))
>>> out.backward()
>>> w.grad.data.round(4)
array([0.7864, 0.1413])
"""

from __future__ import annotations

from typing import Any

from autograd.compiler.api import CompiledFunction
from autograd.compiler.trace import CompileError

__all__ = ["compile", "compile_step", "CompileError", "CompiledFunction"]


def compile(  # noqa: A001  (autograd.compile, as torch.compile and jax.jit's siblings)
    fn: Any = None, *, static_argnums: tuple[int, ...] | int = (), cache_limit: int = 8, check: bool = True
) -> Any:
    """Compile ``fn`` (also a decorator, with or without arguments).

    ``fn`` takes Tensors, arrays and numbers and returns one Tensor. Each new signature
    (argument kinds, shapes, dtypes, ``requires_grad``, grad mode) is traced and compiled
    once; past ``cache_limit`` compilations new signatures run eagerly, with one warning.
    ``static_argnums`` names arguments whose *value* shapes the computation (a size, a
    flag): their value joins the signature. ``check=False`` skips comparing the generated
    code with eager at compile time (not recommended).

    Raises ``CompileError`` when ``fn`` does something a trace cannot replay: data-dependent
    control flow, values computed outside the graph or drawn at random, module state
    changed as a side effect, ops without a compiled form.
    """
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    if fn is None:
        return lambda f: CompiledFunction(f, tuple(static_argnums), cache_limit, check)
    return CompiledFunction(fn, tuple(static_argnums), cache_limit, check)


def compile_step(model: Any, loss_fn: Any, optimizer: Any, *, keep_grads: bool = False,
                 cache_limit: int = 8, return_output: bool = False) -> Any:
    """A whole training step as one generated function (see ``autograd.compiler.step``)."""
    from autograd.compiler.step import compile_step as build

    return build(model, loss_fn, optimizer, keep_grads=keep_grads, cache_limit=cache_limit,
                 return_output=return_output)
