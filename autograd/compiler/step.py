"""``compile_step(model, loss_fn, optimizer)``: a whole training step as one generated function.

``step = compile_step(model, F.cross_entropy, opt)`` returns ``step(inputs, target) -> float``,
the same as::

    loss = loss_fn(model(inputs), target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()

but run as one function: the compiled forward, the compiled backward, and each parameter's
optimiser update on the gradient arrays, with no graph, no engine pass and no ``.grad``.
Parameters and the optimiser's state (momentum buffers, Adam's moments, ``step``) are
updated in place, so ``model.state_dict()`` and ``opt.state_dict()`` are true after every
step; hyper-parameters are read at each call (a scheduler changing ``lr`` takes effect);
parameter versions are bumped as ``opt.step()`` bumps them. ``keep_grads=True`` also leaves
each step's gradient in ``.grad`` (for logging; clip before the update needs eager code).

The updates are ``sgd_update`` (``nn.optim.SGD._update``'s rule, written out) and, for the
optimisers with a per-parameter rule (Adam, AdamW, RMSprop), that rule itself
(``opt._update``). Tracing, guards and checks are ``compile``'s (see ``api.py``).
"""

from __future__ import annotations

import builtins
import linecache
import weakref
from typing import Any

import numpy as np

from autograd import grad_mode
from autograd.compiler import codegen
from autograd.compiler.api import CompiledFunction, Entry, _Stale
from autograd.compiler.buffers import Block, lower
from autograd.compiler.trace import STATIC, CompileError, graph
from autograd.graph import VersionCounter, tick_change
from autograd.tensors import Tensor, traced_effects

__all__ = ["compile_step", "CompiledStep", "sgd_update", "rule_update"]


def sgd_update(param: np.ndarray, grad: Any, group: dict[str, Any], states: dict[int, Any], key: int) -> None:
    """``nn.optim.SGD._update`` for one parameter's data, in place (``.grad`` keeps the parameter's dtype).

    p ← p − lr·g; with momentum μ: b ← μ b + (1 − dampening) g (b = g at first), p ← p − lr·b
    (or p − lr·(g + μ b) with Nesterov); weight decay adds λ p to g first.
    """
    if grad.dtype != param.dtype:
        grad = np.asarray(grad, dtype=param.dtype)
    lr, momentum, decay = group["lr"], group["momentum"], group["weight_decay"]
    if momentum or decay:
        if decay:
            grad = grad + decay * param
        if momentum:
            buffers = states.setdefault(key, {})
            buf = buffers.get("momentum_buffer")
            if buf is None:
                buf = buffers["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buf *= momentum
                if group["dampening"]:
                    buf += (1 - group["dampening"]) * grad
                else:
                    buf += grad
            grad = grad + momentum * buf if group["nesterov"] else buf
    np.subtract(param, grad if lr == 1 else np.multiply(grad, lr), param)  # p.sub_(grad, alpha=lr)


def rule_update(optimizer: Any, param: np.ndarray, grad: Any, group: dict[str, Any], states: dict[int, Any],
                key: int) -> None:
    """``Optimizer.step`` for one parameter: ``p.sub_(opt._update(group, p, g, state))``."""
    if grad.dtype != param.dtype:
        grad = np.asarray(grad, dtype=param.dtype)
    np.subtract(param, optimizer._update(group, param, grad, states.setdefault(key, {})), param)


class CompiledStep:
    """A compiled training step: ``step(inputs, target) -> float``; ``.source`` shows it."""

    def __init__(self, model: Any, loss_fn: Any, optimizer: Any, keep_grads: bool = False,
                 cache_limit: int = 8, return_output: bool = False) -> None:
        self.model, self.loss_fn, self.optimizer, self.keep_grads = model, loss_fn, optimizer, keep_grads
        self.return_output = return_output
        sgd = type(optimizer).__name__ == "SGD" and type(optimizer).__module__ == "nn.optim"
        if not sgd and type(optimizer).step is not _base_step(optimizer):
            raise CompileError(
                f"compile_step: {type(optimizer).__name__} has its own step(); compile_step knows "
                "nn.optim's SGD and the optimisers with a per-parameter _update (Adam, AdamW, RMSprop)"
            )
        self.kind = "sgd" if sgd else "rule"

        traced: list[tuple[Tensor, Tensor, list[Tensor]]] = []  # (model output, loss, effects) per trace
        self._traced = traced

        def step_loss(inputs: Any, target: Any) -> Any:
            output = model(inputs)
            loss = loss_fn(output, target)
            traced.append((output, loss, traced_effects()))
            return loss

        step_loss.__name__ = "step"
        self.function = CompiledFunction(step_loss, cache_limit=cache_limit)
        self.function.fn = step_loss
        self.programs: dict[Any, tuple[Entry, Any]] = {}
        self.last: tuple[Entry, Any] | None = None
        self._fast: Any = None

    @property
    def source(self) -> str:
        """The generated step of the latest signature: forward, backward and updates."""
        if self.last is None:
            raise RuntimeError("nothing compiled yet: call the step once first")
        return self.last[1].source

    def prepare(self, inputs: Any, target: Any) -> None:
        """Compile for these arguments' signature without taking a step (to keep it out of timing)."""
        key = self.function._key((inputs, target), {})
        if key not in self.programs:
            self.programs[key] = self._compile(key, (inputs, target))
        self.last = self.programs[key]

    def __call__(self, inputs: Any, target: Any) -> float:
        fast = self._fast
        if fast is not None:  # the latest version's own caller: its guards written out
            loss = fast(inputs, target)
            if loss is not _MISS:
                return loss
        return self._call(inputs, target)

    def _call(self, inputs: Any, target: Any) -> float:
        function = self.function
        values = (inputs, target)
        key = function._key(values, {})
        for _ in range(2):
            compiled = self.programs.get(key)
            if compiled is None:
                if function.compilations >= function.cache_limit:
                    return self._eager(inputs, target)
                compiled = self.programs[key] = self._compile(key, values)
            try:
                loss = self._run(compiled, values)
            except _Stale:
                self.programs.pop(key, None)
                function.cache.pop(key, None)
                continue
            self.last = compiled
            self._fast = getattr(compiled[1], "fast", None)
            return loss
        self._fast = None
        return self._eager(inputs, target)

    def _eager(self, inputs: Any, target: Any) -> Any:
        self.function._eager((inputs, target), {})  # (the one warning)
        output = self.model(inputs)
        loss = self.loss_fn(output, target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        if self.return_output:
            return loss.item(), output.data
        return loss.item()

    def _run(self, compiled: tuple[Entry, Any], values: tuple[Any, Any]) -> float:
        entry, program = compiled
        entry.guard()
        fixed = entry.fixed
        datas = [t._data for t in fixed]
        last = entry.last_datas
        if last is None or not all(map(_is, datas, last)):
            for t, data in zip(fixed, datas):
                if type(data) is not np.ndarray and t._requires_grad:
                    t._writable_values()  # a 0-d parameter's data as a 0-d array, updated in place
            datas = [t._data for t in fixed]
            entry.check_datas(tuple(datas))
        datas += [values[i]._data for i in entry.tensor_args]
        extras = [values[i] for i in entry.extra_args]
        if entry.held:
            extras += entry.held_datas()
        result = program.step(*datas, *extras, self.optimizer.state)
        bump_versions(program.updated)
        if not (self.keep_grads or self.return_output):
            return float(result)
        loss, grads, output = result
        if self.keep_grads:
            for p, g in zip(program.graded, grads):
                p.grad = Tensor._leaf(np.array(g, dtype=p.dtype))
        return (float(loss), output) if self.return_output else float(loss)

    def _compile(self, key: Any, values: tuple[Any, Any]) -> tuple[Entry, Any]:
        function = self.function
        self._traced.clear()
        entry = function.cache.get(key) or function._compile(key, values, {})
        if entry.plan.output.shape != ():
            raise CompileError("compile_step: the loss must be a scalar (a 0-d tensor), as backward() needs")
        output = None
        if self.return_output:
            output = self._output_value(entry)
        self._traced.clear()
        program = build_step(entry, self.optimizer, self.kind, self.keep_grads, self.return_output, output)
        if not (self.keep_grads or self.return_output):
            program.fast = fast_caller(entry, program, self.optimizer)
        return entry, program

    def _output_value(self, entry: Entry) -> Any:
        """The plan's value of ``model(inputs)`` (from the first trace: its graph's node order)."""
        if not self._traced:
            raise CompileError("compile_step(return_output=True): compile a new signature to know the output")
        output, loss, effects = self._traced[0]
        if output._op is None:
            raise CompileError("compile_step(return_output=True): the model's output is not an op's result")
        nodes, _ = graph(loss, effects)
        for k, t in enumerate(nodes):
            if t is output:
                return entry.plan.nodes[k].out
        raise CompileError("compile_step(return_output=True): the model's output is not behind the loss")


def _is(a: Any, b: Any) -> bool:
    return a is b


def _base_step(optimizer: Any) -> Any:
    for cls in type(optimizer).__mro__:
        if cls.__name__ == "Optimizer" and cls.__module__ == "nn.optim":
            return cls.step
    return None


class StepProgram:
    """One compiled version of a step: ``source`` (plain), ``executed_source`` and its ``step``."""

    def __init__(self, source: str, executed: str, step: Any, updated: list[Tensor], graded: list[Tensor]):
        self.source, self.executed_source, self.step = source, executed, step
        self.updated, self.graded = updated, graded
        self.buffers: dict[str, np.ndarray] = {}  # the out= buffers, allocated once
        self.namespace: dict[str, Any] = {}

    def plain_step(self) -> Any:
        """``source`` compiled as it reads (fresh arrays, no buffers): to compare with ``step``."""
        namespace = dict(self.namespace)
        exec(builtins.compile(self.source, "<plain step>", "exec"), namespace)  # noqa: S102
        return namespace["step"]


def build_step(entry: Entry, optimizer: Any, kind: str, keep_grads: bool, return_output: bool = False,
               output: Any = None) -> StepProgram:
    """One function: the entry's forward and backward (numpy code), then the updates."""
    plan = entry.plan
    gen = codegen.Generator(plan, "numpy", entry.program_names.copy(), fused=True)
    for node in plan.nodes:
        for structure in node.attrs.values():
            for v in codegen._values_in(structure):
                if v.kind == "constant":
                    gen.namespace[v.name] = v.obj
    fwd, bwd, _ = gen.generate()
    fwd, bwd = fwd[:-1], bwd[:-1]  # without their returns
    out = plan.output
    seed = f"{gen.seed} = np.{out.dtype.type.__name__}(1.0)"
    groups = {id(p): (i, g) for i, g in enumerate(optimizer.param_groups) for p in g["params"]}
    per_group: dict[int, list[tuple[Any, str, str, bool]]] = {}
    updated, graded, grad_names = [], [], []
    for tensor, _, value in plan.inputs:
        if not value.needs_grad or tensor is None:
            continue  # (a tensor argument that requires grad: not the optimiser's)
        name = gen.grad_names[id(value)]
        graded.append(tensor)
        grad_names.append(name)
        if id(tensor) not in groups:
            continue
        index, group = groups[id(tensor)]
        gen.namespace[f"group{index}"] = group
        key_name = gen.names.fresh(f"key_{value.name}")
        gen.namespace[key_name] = id(tensor)
        same_dtype = entry.grad_dtypes.get(id(value)) == value.dtype
        per_group.setdefault(index, []).append((value, name, key_name, same_dtype))
        updated.append(tensor)
    updates: list[tuple[str, str]] = []
    for index, members in per_group.items():
        group = f"group{index}"
        if kind == "sgd" and all(same for *_, same in members):
            lr = gen.names.fresh(f"lr{index}")
            updates.append((f"{lr} = {group}['lr']", "hyper-parameters are read at each call"))
            updates.append((f"if not ({group}['momentum'] or {group}['weight_decay']):",
                             "plain SGD: p.sub_(g, alpha=lr), in place"))
            updates += [(f"    {v.name} -= {g} * {lr}", "") for v, g, _, _ in members]
            updates.append(("else:", "with momentum or weight decay: nn.optim.SGD._update's rule"))
            updates += [(f"    sgd_update({v.name}, {g}, {group}, state, {k})", "") for v, g, k, _ in members]
        elif kind == "sgd":
            updates += [(f"sgd_update({v.name}, {g}, {group}, state, {k})", "nn.optim.SGD._update's rule")
                        for v, g, k, _ in members]
        else:
            rule = f"{type(optimizer).__name__}._update"
            updates += [(f"rule_update(optimizer, {v.name}, {g}, {group}, state, {k})", rule)
                        for v, g, k, _ in members]
    gen.namespace.update(sgd_update=sgd_update, rule_update=rule_update, optimizer=optimizer)
    returned = f"return {out.name}"
    if keep_grads or return_output:
        grads_tuple = f"({', '.join(grad_names)},)" if keep_grads else "()"
        returned += f", {grads_tuple}, {output.name if return_output else 'None'}"
    params = [v.name for _, _, v in plan.inputs + plan.extras] + ["state"]
    head = f"def step({codegen._joined(params, 'def step(', parens=False)}):"
    body = [*fwd, (seed, "d loss / d loss"), *bwd, *updates, (returned, "")]
    blocks = _blocks(gen, fwd, bwd, updates, body)
    escaping = {output.name} if return_output else set()
    if kind == "rule" and type(optimizer).__module__ != "nn.optim":
        escaping |= set(grad_names)  # (another rule may keep the gradient array it is given)
    lines, buffers = lower(blocks, escaping, gen.names.fresh)
    gen.namespace.update(buffers)
    executed = "\n".join([head, *[f"    {code}" for code in lines], ""])
    title = entry.program.source.splitlines()[0].lstrip("# ")
    title = title.replace(" compiled by", " (a training step) compiled by")
    commented = [f"    {code}  # {c}" if c else f"    {code}" for code, c in body]
    source = "\n".join([f"# {title}", "", head, *commented, ""])
    filename = f"<compiled step {id(plan):x}>"
    code = builtins.compile(executed, filename, "exec")
    linecache.cache[filename] = (len(executed), None, executed.splitlines(True), filename)
    namespace = dict(gen.namespace)
    exec(code, namespace)  # noqa: S102  (the generated step)
    program = StepProgram(source, executed, namespace["step"], updated, graded)
    program.buffers, program.namespace = buffers, gen.namespace
    weakref.finalize(program, linecache.cache.pop, filename, None)
    return program


class _Miss:
    """What a fast caller returns when its guards fail: the ordinary path then decides."""


_MISS = _Miss()


def bump_versions(tensors: list[Tensor]) -> None:
    """``bump_version()`` on each tensor, as ``opt.step()`` bumps them, with one clock tick for all
    (an in-place change only needs to be later than every op that used the old value)."""
    tick = tick_change()
    for t in tensors:
        counter = t._versions
        if type(counter) is VersionCounter:
            counter.version += 1
            counter.changed_at = tick
        else:  # (no counter yet: the tensor makes one)
            t.bump_version()


def fast_caller(entry: Entry, program: StepProgram, optimizer: Any) -> Any:
    """One version's whole call as generated code: the signature and guards of ``CompiledStep``
    written out for this version's arguments, the step, the version bumps, ``float(loss)``.

    Returns ``_MISS`` wherever ``CompiledStep._call`` would do more than run this version
    (another signature, a guard to check, a parameter's array replaced); None (no fast caller)
    for arguments it does not write out (static ones, held tensors).
    """
    if entry.held or any(a.kind == STATIC or not isinstance(a.position, int) for a in entry.args):
        return None
    names = ["inputs", "target"]
    checks, passed = [], {}
    namespace: dict[str, Any] = {"MISS": _MISS, "grad_mode": grad_mode.state, "entry": entry,
                                 "step": program.step, "state": optimizer.state, "bump": bump_versions,
                                 "updated": program.updated, "Stale": _Stale}
    for j, arg in enumerate(entry.args):
        name = names[j]
        namespace[f"type{j}"] = arg.user_type
        checks.append(f"type({name}) is type{j}")
        data = name
        if arg.is_tensor:
            data = f"{name}._data"
            checks.append(f"{name}._requires_grad is {arg.requires_grad}")
        if arg.is_tensor or arg.user_type is np.ndarray:
            namespace[f"dtype{j}"] = arg.dtype
            checks += [f"{data}.shape == {arg.shape!r}",
                       f"({data}.dtype is dtype{j} or {data}.dtype == dtype{j})"]
        passed[j] = data
    lines = [f"def fast({', '.join(names)}):",
             f"    if not ({' and '.join(checks)} and grad_mode.enabled):", "        return MISS"]
    if entry.modules or entry.buffers or entry.constants:
        lines += ["    try:", "        entry.guard()", "    except Stale:", "        return MISS"]
    fixed = [f"p{i}" for i in range(len(entry.fixed))]
    namespace.update({f"p{i}": t for i, t in enumerate(entry.fixed)})
    datas = [f"d{i}" for i in range(len(fixed))]
    if fixed:
        # (d0 = p0._data for one parameter: "d0, = ..." would unpack the array itself)
        lines.append(f"    {', '.join(datas)} = {', '.join(f'{p}._data' for p in fixed)}")
        same = " or ".join(f"{d} is not last[{i}]" for i, d in enumerate(datas))
        lines += ["    last = entry.last_datas", f"    if last is None or {same}:", "        return MISS"]
    arguments = datas + [passed[i] for i in entry.tensor_args] + [passed[i] for i in entry.extra_args]
    lines += [f"    loss = step({', '.join(arguments + ['state'])})", "    bump(updated)",
              "    return float(loss)"]
    exec(builtins.compile("\n".join(lines) + "\n", f"<fast caller {id(program):x}>", "exec"), namespace)  # noqa: S102
    return namespace["fast"]


def _blocks(gen: codegen.Generator, fwd: list[Any], bwd: list[Any], updates: list[Any],
            body: list[Any]) -> list[Block]:
    """The step's statements as ``buffers.Block``s: the out= forms the generator recorded attached,
    the update section (an if/else) as one block."""
    blocks: list[Block] = []
    for lines, intos in ((fwd, gen.forward_into), (bwd, gen.backward_into)):
        i = 0
        while i < len(lines):
            into = intos.get(i)
            if into is None:
                blocks.append(Block([lines[i][0]]))
                i += 1
                continue
            end, name, shape, dtype, write = into
            if lines is bwd:  # (a gradient's form also takes the name it binds)
                write = (lambda w, n: lambda buf: w(buf, n))(write, name)
            blocks.append(Block([code for code, _ in lines[i:end]], name, shape, dtype, write))
            i = end
        if lines is fwd:
            blocks.append(Block([body[len(fwd)][0]]))  # the seed
    if updates:
        blocks.append(Block([code for code, _ in updates]))
    blocks.append(Block([body[-1][0]]))  # the return
    return blocks


def compile_step(model: Any, loss_fn: Any, optimizer: Any, *, keep_grads: bool = False,
                 cache_limit: int = 8, return_output: bool = False) -> CompiledStep:
    """Compile ``loss = loss_fn(model(inputs), target); zero_grad; backward; step`` into one function.

    >>> import numpy as np, nn
    >>> from nn import functional as F
    >>> from autograd.compiler.step import compile_step
    >>> model = nn.Linear(3, 2, generator=np.random.default_rng(0))
    >>> opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> step = compile_step(model, F.cross_entropy, opt)
    >>> x, y = np.ones((4, 3)), np.array([0, 1, 1, 0])
    >>> [round(step(x, y), 6) for _ in range(3)]  # the loss of each step, before its update
    [0.827393, 0.784011, 0.727574]
    >>> sorted(opt.state_dict()["state"][0])  # the optimiser's state is kept up to date
    ['momentum_buffer']
    """
    return CompiledStep(model, loss_fn, optimizer, keep_grads, cache_limit, return_output)
