"""``compile(fn)``: trace once, check, generate code, and call the code from then on.

The first call with a new signature (argument kinds, shapes and dtypes, which arguments
are Tensors that require grad, grad mode) traces ``fn`` twice (``trace``), compares the
traces (``analyze``), generates a forward and a backward (``codegen``), and checks that
the generated code gives eager's numbers on both traces' values (so a template error is a
``CompileError``, never a wrong gradient). Later calls with that signature run the forward
only; the result is a Tensor recorded with one ``CompiledCall`` op whose inputs are the
parameters and tensor arguments, so ``.backward()``, the version check, hooks on ``.grad``
and optimisers all go through the ordinary engine.

Guards at each call (a microsecond or two): the shapes and dtypes of the parameters' data
(checked again only when a parameter's array was replaced), the train/eval flags of the
modules found behind ``fn`` whose forward reads them, the identity of their buffers, and
whether a constant tensor started to require grad. A failed guard traces again. Past
``cache_limit`` compilations, new signatures run eagerly (one warning).

This module is the compiling half: the signature cache and the pipeline above. What a call
runs once compiled (``Entry``: the guards, the inputs, the programs; the ``CompiledCall``
op) is in ``entry.py``.
"""

from __future__ import annotations

import functools
import gc
import inspect
import time
import warnings
from typing import Any

import numpy as np

from autograd.compiler import analyze as an
from autograd.compiler import codegen, state, trace
from autograd.compiler.entry import CompiledCall, Entry, _Stale
from autograd.compiler.trace import STATIC, CompileError
from autograd.grad_mode import is_grad_enabled
from autograd.ops.random import DropoutMask
from autograd.tensors import Tensor

# Entry and _Stale are used here and also imported from here (step.py): they live in entry.py.

_PERTURB_SEED = 0x5EED


class CompiledFunction:
    """``fn`` compiled: call it like ``fn``; ``.source`` shows the code it runs.

    See ``autograd.compiler.compile``.
    """

    def __init__(self, fn: Any, static_argnums: tuple[int, ...] = (), cache_limit: int = 8,
                 check: bool = True) -> None:
        self.fn = fn
        self.static_argnums = set(static_argnums)
        self.cache_limit = cache_limit
        self.check = check
        self.cache: dict[Any, Entry] = {}
        self.compilations = 0
        self.last: Entry | None = None
        self._warned = False
        self._parameters = _parameter_names(fn)
        self._title = getattr(fn, "__name__", None) or type(fn).__name__
        functools.update_wrapper(self, fn, updated=())

    # ---- the code, for reading --------------------------------------------------------

    @property
    def source(self) -> str:
        """The generated Python of the latest signature: forward, then backward, formulas as comments."""
        return self._latest().source

    @property
    def executed_source(self) -> str:
        """The code that runs (the readable ``source`` without its comments)."""
        return self._latest().executed_source

    def _latest(self) -> Entry:
        if self.last is None:
            raise RuntimeError("nothing compiled yet: call the function once first")
        return self.last

    # ---- calling ----------------------------------------------------------------------

    def _key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        key = [is_grad_enabled()]
        for i, a in enumerate(args):
            key.append(_signature(a) if i not in self.static_argnums else ("static", a))
        for k in sorted(kwargs):
            key.append((k, _signature(kwargs[k])))
        return tuple(key)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = self._key(args, kwargs)
        try:
            entry = self.cache.get(key)
        except TypeError:  # an unhashable argument (a list of tensors, a dict)
            names = list(args) + [kwargs[k] for k in sorted(kwargs)]
            bad = next(a for a in names if not _hashable(a))
            raise CompileError(
                f"an argument is a {type(bad).__name__}: a compiled function takes Tensors, arrays, "
                "numbers and hashable constants (pass a list of tensors as separate arguments, or "
                "capture it in a closure)"
            ) from None
        values = args if not kwargs else list(args) + [kwargs[k] for k in sorted(kwargs)]
        for _ in range(2):
            if entry is None:
                if self.compilations >= self.cache_limit:
                    return self._eager(args, kwargs)
                entry = self._compile(key, args, kwargs)
            try:
                result = entry(values)
            except _Stale:
                self.cache.pop(key, None)
                entry = None
                continue
            self.last = entry
            return result
        return self._eager(args, kwargs)

    def _eager(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"compile({self._title}): {self.compilations} compilations reached cache_limit="
                f"{self.cache_limit}; new signatures now run eagerly",
                RuntimeWarning, stacklevel=3,
            )
        return self.fn(*args, **kwargs)

    # ---- compiling --------------------------------------------------------------------

    def _compile(self, key: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Entry:
        self.compilations += 1
        positions: list[int | str] = list(range(len(args))) + sorted(kwargs)
        values = list(args) + [kwargs[k] for k in sorted(kwargs)]
        names = {}
        specs = []
        for j, (position, value) in enumerate(zip(positions, values)):
            name = position if isinstance(position, str) else (
                self._parameters[position] if position < len(self._parameters) else f"arg{position}")
            names[j] = name
            specs.append(trace.classify(value, position, name, position in self.static_argnums))
        entry = compile_entry(self.fn, specs, values, names, self._title, self.check)
        self.cache[key] = entry
        return entry


def _parameter_names(fn: Any) -> list[str]:
    """The names of ``fn``'s positional parameters (a module's ``forward``'s), for the code."""
    target = getattr(fn, "forward", fn) if state._is_module(fn) else fn
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return []
    names = []
    for p in parameters:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        names.append(p.name)
    return names


def _hashable(value: Any) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False


def _signature(a: Any) -> Any:
    t = type(a)
    if isinstance(a, Tensor):
        d = a._data
        return (t, d.shape, d.dtype, a._requires_grad)
    if t is np.ndarray or isinstance(a, np.ndarray):
        return (t, a.shape, a.dtype)
    if t is int or t is float or isinstance(a, (np.integer, np.floating)):
        return t
    return ("static", t, a)  # bools, strings, None, tuples: their value is part of the signature


def compile_entry(fn: Any, specs: list[trace.Arg], values: list[Any], names: dict[int, str],
                  title: str, check: bool) -> Entry:
    """Trace ``fn`` on ``values`` twice, analyse, generate and check: the compiled entry.

    The garbage collector is paused meanwhile: a large graph is many objects, and the
    collector would walk them again and again while the code is built (a third of the
    compile time of a 10,000-node scalar graph).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _compile_entry(fn, specs, values, names, title, check)
    finally:
        if collecting:
            gc.enable()


def _compile_entry(fn: Any, specs: list[trace.Arg], values: list[Any], names: dict[int, str],
                   title: str, check: bool) -> Entry:
    clock = time.perf_counter
    timings = {"start": clock()}
    early = state.find_modules(fn, [])
    snapshot = state.module_state(early)
    generators = state.find_generators(fn, early)
    random_before = state.random_states(generators)
    try:
        r1 = trace.run(fn, specs, values, None, watch=True)
    except CompileError:
        state.restore_modules(snapshot)  # the call did not happen
        state.restore_random_states(generators, random_before)
        raise
    timings["trace"] = clock()
    changed = _unrecorded_changes(snapshot, r1)
    if not changed:  # only recorded state updates (BatchNorm's running statistics): undone, replayed
        state.restore_modules(snapshot)
    # draws by recorded random ops (dropout's mask) are replayed by the compiled code; any
    # other draw would be frozen
    drawing = {id(t._op.generator) for t in r1.nodes if type(t._op) is DropoutMask}
    after_r1 = state.random_states(generators)
    drew = not state._same_state(random_before[0], after_r1[0]) or any(
        not state._same_state(a, b) for g, a, b in zip(generators, random_before[1:], after_r1[1:])
        if id(g) not in drawing)
    if drawing and not drawing <= {id(g) for g in generators}:
        state.restore_modules(snapshot)
        state.restore_random_states(generators, random_before)
        raise CompileError(
            "the function draws a dropout mask from a generator made during the call (dropout "
            "without generator=): a compiled function draws from one generator at every call; "
            "give it one (nn.Dropout holds its own), or run it eagerly")
    if changed or drew:
        state.restore_modules(snapshot)
        state.restore_random_states(generators, random_before)
        raise CompileError(_side_effect(changed) if changed else (
            "the function draws random numbers (dropout in train mode, a random mask): a "
            "compiled function would repeat the traced draw at every call. Draw outside and "
            "pass the values in as an argument, call model.eval(), or run it eagerly"))
    params = [t for t in r1.leaves if t._requires_grad and id(t) not in r1.standins]
    modules = state.find_modules(fn, params)
    late = [m for m in modules if all(m is not s[0] for s in snapshot)]
    snapshot += state.module_state(late)
    snaps = an.snapshots(r1)
    to_perturb: dict[int, Tensor] = {id(p): p for p in params}
    for m in modules:
        for p in m._parameters.values():
            if p is not None:
                to_perturb.setdefault(id(p), p)
    rng = np.random.default_rng(_PERTURB_SEED)
    swapped: dict[int, tuple[Tensor, Any, Any]] = {}
    try:
        for key, p in to_perturb.items():
            new = trace.like(p._data, trace.perturbed(np.asarray(p._data), rng))
            swapped[key] = (p, trace.swap_data(p, new), new)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                r2 = trace.run(fn, specs, values, rng)
        except CompileError:
            raise
        except Exception as error:  # noqa: BLE001
            raise CompileError(
                "the function failed when traced a second time with other values (that is how "
                f"compile checks that nothing is computed outside the graph): {type(error).__name__}: "
                f"{error}"
            ) from error
        timings["second trace"] = clock()
        changed = _unrecorded_changes(snapshot, r2)
        if changed:
            raise CompileError(_side_effect(changed))
        state.restore_modules(snapshot)
        plan = an.analyze(r1, r2, specs, snaps, swapped)
        timings["analysis"] = clock()
        mode = "scalar" if codegen.scalar_eligible(plan) else "numpy"
        names_ = codegen.Names()
        codegen.assign_names(plan, names, names_)
        shown = ", ".join(_describe(a) for a in specs)
        heading = (f"{title} compiled by autograd.compiler.compile({shown}): {len(plan.nodes)} ops, "
                   f"{len(plan.params)} parameters")
        program = codegen.build(plan, mode, names, heading, names=names_)
        timings["code generation"] = clock()
        entry = Entry(plan, program, specs, modules, title, names)
        entry.program_names = names_
        if check:
            state.restore_random_states(generators, after_r1)  # the code draws what the trace drew
            _check(entry, r2, swapped)
    finally:
        for p, old, _ in swapped.values():
            trace.swap_data(p, old)
        state.restore_modules(snapshot) if state.changed_modules(snapshot) else None
        if drawing:  # the first compiled call draws what an eager call would have
            state.restore_random_states(generators, random_before)
    if check:
        _check(entry, r1, {})
        if drawing:
            state.restore_random_states(generators, random_before)
        if state.changed_modules(snapshot):  # the check ran the state updates
            state.restore_modules(snapshot)
    timings["check"] = clock()
    entry.timings = {k: b - a for (k, b), a in zip(list(timings.items())[1:], list(timings.values()))}
    entry.compile_seconds = timings["check"] - timings["start"]
    return entry


def _unrecorded_changes(snapshot: list[tuple[Any, ...]], run: trace.Run) -> list[str]:
    """Module changes made by the traced call other than recorded state updates (``op.effect``:
    BatchNorm's running statistics, written in place into the buffers the op holds)."""
    held = {id(a) for e in run.effects for a in vars(e._op).values() if isinstance(a, np.ndarray)}
    changed = state.changed_modules(snapshot)
    recorded = set()
    for m, _, registries, _ in snapshot:
        for k, v in registries[1].items():
            if id(v) in held and m._buffers.get(k) is v:
                recorded.add(f"{m._label}.{k}")
    return [c for c in changed if c not in recorded]


def _describe(arg: trace.Arg) -> str:
    if arg.kind == STATIC:
        return f"{arg.name}=<static>"
    grad = ", requires grad" if arg.requires_grad else ""
    return f"{arg.name}: {arg.dtype} {arg.shape}{grad}"


def _side_effect(changed: list[str]) -> str:
    return (
        f"the function changed {', '.join(changed)} while tracing (e.g. BatchNorm's running "
        "statistics in train mode): a compiled function cannot replay that yet; call "
        "model.eval() first, or run the function eagerly"
    )


def _check(entry: Entry, run: trace.Run, swapped: dict[int, Any]) -> None:
    """Run the generated code on a trace's values and compare with eager's rules on its graph."""
    plan = entry.plan
    datas, wanted = [], []
    for tensor, arg, value in plan.inputs:
        source = tensor if tensor is not None else run.inputs[arg]
        datas.append(_plain(source._data))
        if value.needs_grad:
            wanted.append(source)
    extras = [_plain(run.plain[arg]) if arg is not None else tensor._data for tensor, arg, _ in plan.extras]
    out_ref, grads_ref = trace.reference_gradients(run, wanted)
    op = CompiledCall.__new__(CompiledCall)
    op.entry, op.name, op.extras, op.datas = entry, entry.op_name, extras, tuple(datas)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        out = entry.run_forward(op, tuple(datas))
        seed = np.asarray(out_ref).dtype.type(1) if np.ndim(out_ref) == 0 else np.ones_like(out_ref)
        grads = entry.run_backward(op, seed)
    _compare("the result", out, out_ref, entry.program.mode)
    got = [g for g, (_, _, v) in zip(grads, plan.inputs) if v.needs_grad]
    entry.grad_dtypes = {id(v): np.asarray(g).dtype for g, (_, _, v) in zip(grads, plan.inputs)
                         if v.needs_grad}
    for (_, _, value), g, ref in zip([i for i in plan.inputs if i[2].needs_grad], got, grads_ref):
        _compare(f"the gradient of {value.name}", g, ref, entry.program.mode)


def _plain(value: Any) -> Any:
    return np.asarray(value) if isinstance(value, trace.TracedInt) else value


def _compare(what: str, got: Any, expected: Any, mode: str) -> None:
    if expected is None:
        expected = 0.0
    a, b = np.asarray(got), np.asarray(expected)
    same_kind = a.shape == b.shape and (mode == "scalar" or a.dtype == b.dtype)
    scale = float(np.max(np.abs(b[np.isfinite(b)]))) if b.size and np.isfinite(b).any() else 0.0
    if not same_kind or not np.allclose(a, b, rtol=1e-9, atol=1e-12 * max(scale, 1.0), equal_nan=True):
        detail = (f"shape {a.shape} {a.dtype} vs {b.shape} {b.dtype}" if not same_kind
                  else f"max difference {float(np.max(np.abs(a - b))):.3g}")
        raise CompileError(
            f"internal error: the generated code and eager disagree on {what} ({detail}); please "
            "report it with the function, and call it eagerly meanwhile"
        )
