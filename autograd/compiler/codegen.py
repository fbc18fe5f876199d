"""Code generation: a plan (``analyze``) becomes Python source for a forward and a backward.

``forward(<inputs>, <extras>)`` computes one line per op, the values named after the
tensors, modules and scopes they come from (``linear0``, ``sigmoid1``, ``t3_tanh``), and
returns ``(output, saved)``: the values the backward reads. ``backward(g_output, saved)``
applies the chain rule in reverse, one line per gradient, with ``sum_to`` only where the
trace saw a broadcast, and returns one gradient per input of the compiled op (None where
none is wanted).

Two modes: "numpy" (the op templates' numpy calls) and "scalar" (every value a 0-d
float64: Python-float arithmetic and ``math``, many times faster on micrograd-style
graphs). ``Program.source`` carries the op formulas as comments; ``executed_source`` is the
same code without them (what is compiled and run).
"""

from __future__ import annotations

import inspect
import linecache
import math
import re
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd.compiler import kernels
from autograd.compiler.analyze import Node, Plan, Value
from autograd.compiler.naming import Names, _values_in, assign_names  # noqa: F401  (codegen.Names, .assign_names)
from autograd.compiler.trace import CompileError


def _literal(value: Any) -> str:
    """Python source for a constant op parameter (numbers, tuples, dtypes, slices)."""
    if isinstance(value, float):
        if math.isnan(value):
            return "math.nan"
        if math.isinf(value):
            return "math.inf" if value > 0 else "-math.inf"
        return repr(value)
    if isinstance(value, np.dtype):
        return f"np.{value.type.__name__}"
    if isinstance(value, type) and issubclass(value, np.generic):
        return f"np.{value.__name__}"
    if isinstance(value, np.generic):
        return f"np.{type(value).__name__}({_literal(value.item())})"
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, slice):
        return f"slice({_literal(value.start)}, {_literal(value.stop)}, {_literal(value.step)})"
    if value is Ellipsis:
        return "..."
    return repr(value)


@dataclass
class Program:
    source: str  # readable: the op formulas as comments
    executed_source: str  # what runs
    forward: Any
    backward: Any
    namespace: dict[str, Any]
    saved: list[str]
    mode: str


class Step:
    """What a template sees of one op: names, shapes, dtypes, needed gradients, parameters."""

    def __init__(self, gen: Generator, node: Node) -> None:
        self.gen, self.node, self.op = gen, node, node.op
        self.out = node.out.name
        self.extras: list[str] = []
        inputs = node.inputs
        needs = gen.needs
        self.need = [needs[id(v)] for v in inputs]
        self.ins = [v.name if v.kind != "literal" else gen.expr(v, [w.dtype for w in inputs if w is not v])
                    for v in inputs]
        self.a = self.ins[0] if self.ins else ""
        self.b = self.ins[1] if len(self.ins) > 1 else ""

    @property
    def in_shapes(self) -> list[tuple[int, ...]]:
        return [v.shape for v in self.node.inputs]

    @property
    def in_dtypes(self) -> list[np.dtype]:
        return [v.dtype for v in self.node.inputs]

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self.node.out.shape

    @property
    def out_dtype(self) -> np.dtype:
        return self.node.out.dtype

    def value(self, name: str) -> Any:
        return getattr(self.op, name)

    def lit(self, value: Any) -> str:
        return self.gen.literal(value)

    def attr(self, name: str) -> str:
        return self.gen.render(self.node.attrs[name], subscript=False)

    def subscript(self, name: str) -> str:
        return self.gen.render(self.node.attrs[name], subscript=True)

    def tmp(self, suffix: str) -> str:
        return self.gen.names.fresh(f"{self.out}_{suffix}")

    def extra(self, suffix: str) -> str:
        """A second value the forward defines for this op (the backward may read it)."""
        key = (id(self.node), suffix)
        if key not in self.gen.extra_names:
            self.gen.extra_names[key] = name = self.gen.names.fresh(f"{self.out}_{suffix}")
            self.extras.append(name)
        return self.gen.extra_names[key]


class Generator:
    """Writes one plan's forward and backward. ``fused``: for a training step's one function,
    where no value is read after the step, so templates may work in place (``+=``, no copy)."""

    def __init__(self, plan: Plan, mode: str, names: Names | None = None, fused: bool = False) -> None:
        self.plan, self.mode, self.fused = plan, mode, fused
        self.names = names or Names()
        self.namespace: dict[str, Any] = {"np": np, "math": math, "f64": np.float64, **kernels.NAMES}
        self.extra_names: dict[Any, str] = {}
        self.generator_names: dict[int, str] = {}  # random generators the code draws from
        # a fused step's out= forms (``buffers``): {line index: (end, value name, shape, dtype, write)}
        self.forward_into: dict[int, tuple[Any, ...]] = {}
        self.backward_into: dict[int, tuple[Any, ...]] = {}
        self.buffered = fused and mode == "numpy" and _one_float_dtype(plan)
        self.needs: dict[int, bool] = {}
        for _, _, v in plan.inputs:
            self.needs[id(v)] = v.needs_grad
        for node in plan.nodes:
            for v in node.inputs:
                self.needs.setdefault(id(v), v.needs_grad)
            self.needs[id(node.out)] = any(self.needs[id(v)] for v in node.inputs)

    # ---- rendering values and parameters --------------------------------------------------

    def expr(self, value: Value, others: list[np.dtype]) -> str:
        if value.kind != "literal":
            return value.name
        obj = value.obj
        if self.mode == "scalar":
            return _literal(float(obj))
        plain = obj.item()
        if type(plain) in (int, float) and np.result_type(*others, obj) == np.result_type(*others, plain):
            return _literal(plain)  # a Python number gives the same result here: write it plainly
        return _literal(obj)

    def literal(self, value: Any) -> str:
        if isinstance(value, np.ndarray):
            name = self.names.fresh("const")
            self.namespace[name] = value
            return name
        return _literal(value)

    def render(self, structure: Any, subscript: bool) -> str:
        if isinstance(structure, Value):
            return self.expr(structure, [])
        if isinstance(structure, np.ndarray):
            return self.literal(structure)
        if subscript:
            parts = structure if isinstance(structure, tuple) else (structure,)
            if isinstance(structure, tuple) and not structure:
                return "()"
            return ", ".join(self._subscript_part(p) for p in parts) + ("," if len(parts) == 1 and isinstance(
                structure, tuple) else "")
        if isinstance(structure, tuple):
            if any(isinstance(p, slice) or p is Ellipsis for p in structure):
                return f"np.s_[{self.render(structure, True)}]"
            inner = ", ".join(self.render(p, False) for p in structure)
            return f"({inner},)" if len(structure) == 1 else f"({inner})"
        if isinstance(structure, slice):
            return f"np.s_[{self._subscript_part(structure)}]"
        return _literal(int(structure) if isinstance(structure, np.integer) else structure)

    def _subscript_part(self, part: Any) -> str:
        if isinstance(part, slice):
            bounds = (part.start, part.stop, part.step)
            text = ":".join("" if v is None else self.render(v, False) for v in bounds)
            return text[:-1] if text.endswith(":") and part.step is None else text
        if part is Ellipsis:
            return "..."
        return self.render(part, False)

    # ---- the two functions ------------------------------------------------------------------

    def generate(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]:
        """(forward lines, backward lines, saved names); each line is (code, comment)."""
        plan, scalar = self.plan, self.mode == "scalar"
        fwd: list[tuple[str, str]] = []
        defined: list[str] = [v.name for _, _, v in plan.inputs + plan.extras]
        for v in plan.derived:
            fwd.append((f"{v.name} = {self._conversion(v)}", ""))
            defined.append(v.name)
        for v in {id(v): v for n in plan.nodes for v in n.inputs if v.kind == "constant"}.values():
            self.namespace[v.name] = v.obj
            if scalar:  # read at each call: the array may be a view of memory that changes
                fwd.append((f"{v.name} = float({v.name}_array)", ""))
                self.namespace[f"{v.name}_array"] = v.obj
                defined.append(v.name)
        comments: dict[int, tuple[str, str]] = {}
        steps = []
        for node in plan.nodes:
            step = Step(self, node)
            steps.append(step)
            template = node.template
            code = template.sforward(step) if scalar else template.forward(step)
            comment = comments.get(id(template))
            if comment is None:
                forward, _, derivative = template.formula.partition(";")
                derivative = derivative.strip()
                name = node.op.name
                comment = comments[id(template)] = (
                    f"{name}: {forward}", f"{name}: {derivative}" if derivative else name)
            scope = f"  ({'/'.join(node.out.scope)})" if node.out.scope else ""
            start = len(fwd)
            if isinstance(code, str):
                fwd.append((f"{step.out} = {code}", comment[0] + scope))
            else:  # the comment goes on the line that defines the op's value
                main = next((i for i, line in enumerate(code) if line.startswith(
                    (f"{step.out} =", f"{step.out},"))), 0)
                fwd += [(line, comment[0] + scope if i == main else "") for i, line in enumerate(code)]
            defined.append(step.out)
            defined += step.extras
            held = node.out if template.into_extra is None else node.inputs[0]  # what the buffer holds
            write = template.forward_into(step) if self.buffered and _bufferable(held) else None
            if write is not None:
                name = step.out if template.into_extra is None else step.extra(template.into_extra)
                self.forward_into[start] = (len(fwd), name, held.shape, held.dtype, write)
        bwd: list[tuple[str, str]] = []
        defined_set = set(defined)
        saved_set: set[str] = set()  # what the backwards that run read
        grads: dict[int, str] = {}  # the variable that holds each value's gradient so far
        owned: dict[int, str] = {}  # the variable made for each value (a shared one is never rebound)
        out = plan.output
        grads[id(out)] = self.seed = self.names.fresh(f"g_{out.name}")
        needs, fresh = self.needs, self.names.fresh
        for node, step in zip(reversed(plan.nodes), reversed(steps)):
            if not needs[id(node.out)]:
                continue
            g = grads.get(id(node.out))
            if g is None:  # an effect (a state update): nothing downstream, no gradient
                continue
            template = node.template
            code, exprs = template.sbackward(step, g) if scalar else template.backward(step, g)
            lines = list(code)
            writes: dict[int, tuple[Any, ...]] = {}
            for i, (v, e) in enumerate(zip(node.inputs, exprs)):
                if e is None or not step.need[i]:
                    continue
                if not scalar and tuple(template.grad_shape(step, i)) != tuple(v.shape):
                    e = f"sum_to({e}, {_literal(tuple(v.shape))})"
                key = id(v)
                name = grads.get(key)
                if name is None and e.isidentifier():  # passed on as it is (add): a second name, no line
                    grads[key] = e
                elif name is None:
                    grads[key] = owned[key] = new = fresh(f"g_{v.name}")
                    lines.append(f"{new} = {e}")
                    write = template.backward_into(step, g, i) if self.buffered and _bufferable(v) else None
                    if write is not None and not e.startswith("sum_to("):
                        writes[len(lines) - 1] = (new, v.shape, v.dtype, write)
                else:  # accumulate, as the engine does: the earlier sum plus this contribution
                    target = name if owned.get(key) == name else fresh(f"g_{v.name}")
                    grads[key] = owned[key] = target
                    lines.append(f"{target} = {name} + {e if e.isidentifier() else f'({e})'}")
            declared = self._declared_reads(node, step)
            read = _names_read(lines) & defined_set if lines else set()
            undeclared = read - declared
            if undeclared:
                raise CompileError(
                    f"internal error: the compiled backward of {node.op.name} reads "
                    f"{', '.join(sorted(undeclared))}, which {type(node.op).__name__}.backward_reads "
                    f"(or its template's) does not declare; please report it")
            saved_set |= read  # (within the declaration; less where a gradient is not wanted)
            for j, (new, shape, dtype, write) in writes.items():
                self.backward_into[len(bwd) + j] = (len(bwd) + j + 1, new, shape, dtype, write)
            if lines:
                bwd.append((lines[0], comments[id(template)][1]))
                bwd += [(line, "") for line in lines[1:]]
        self.grad_names = grads  # {id(value): the variable of its gradient}, for compile_step
        returned = []
        for _, _, v in plan.inputs:
            name = grads.get(id(v)) if v.needs_grad else None
            returned.append("None" if name is None else (f"f64({name})" if scalar else name))
        bwd.append((f"return {_joined(returned, 'return ')}" if returned else "return ()", ""))
        saved = [n for n in dict.fromkeys(defined) if n in saved_set]
        fwd.append((f"return {out.name}, ({', '.join(saved)}{',' if len(saved) == 1 else ''})", ""))
        return fwd, bwd, saved

    def _declared_reads(self, node: Node, step: Step) -> set[str]:
        """The forward names a node's backward may read: the values its op (or template)
        declares in ``backward_reads``, the template's own extras and the op's parameters."""
        reads_out, positions = _declaration(node.op, node.template, len(node.inputs))
        inputs = node.inputs
        declared = {inputs[i].name for i in positions}
        if reads_out:
            declared.add(step.out)
        declared.update(step.extras)
        for structure in node.attrs.values():
            declared.update(v.name for v in _values_in(structure))
        return declared

    def _conversion(self, v: Value) -> str:
        source = v.source.name
        if v.convert == "int64":
            return f"as_int64({source})"
        if self.mode == "scalar":
            return f"float({source})"
        if v.shape == ():
            return f"np.{np.dtype(v.convert).type.__name__}({source})"
        return f"np.asarray({source}, dtype=np.{np.dtype(v.convert).type.__name__})"


def _bufferable(v: Value) -> bool:
    """A value a buffer can hold: a float array with elements (a 0-d value stays a numpy scalar)."""
    return len(v.shape) >= 1 and v.dtype.kind == "f" and all(v.shape)


def _one_float_dtype(plan: Plan) -> bool:
    """Every float value of the plan has one dtype: then every gradient has it too, and an
    ``out=`` buffer of the value's dtype holds exactly what the plain call returns."""
    values = [v for n in plan.nodes for v in n.inputs if v.kind != "literal"] + [n.out for n in plan.nodes]
    return len({v.dtype for v in values if v.dtype.kind == "f"}) <= 1


_STRING = re.compile(r"'[^']*'|\"[^\"]*\"")
# a name that is read: not an attribute (.T), not a keyword argument or assignment target (axis=)
_READ = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(?!\w|\s*=(?!=))")


def _names_read(lines: list[str]) -> set[str]:
    """The variables that lines of code read (not attributes, keywords or strings).

    (A regular expression, not ``ast``: it runs on every op of a 10,000-node scalar graph.)
    """
    return set(_READ.findall(_STRING.sub("", "\n".join(lines))))


_INPUT_NAMES: dict[tuple[type, int], list[str]] = {}
_DECLARATIONS: dict[tuple[Any, ...], tuple[bool, tuple[int, ...]]] = {}


def _declaration(op: Any, template: Any, n_inputs: int) -> tuple[bool, tuple[int, ...]]:
    """(whether the backward reads ``out``, the positions of the inputs it reads), from the
    template's ``backward_reads`` or else the op's (undeclared: everything; nothing is reused)."""
    reads = template.backward_reads
    if reads is None:
        reads = getattr(op, "backward_reads", None)
    key = (type(op), reads, n_inputs)
    found = _DECLARATIONS.get(key)
    if found is None:
        names = input_names(op, n_inputs)
        if reads is None:
            reads = ("out", *names)
        found = _DECLARATIONS[key] = ("out" in reads, tuple(i for i, n in enumerate(names) if n in reads))
    return found


def input_names(op: Any, n_inputs: int) -> list[str]:
    """The names ``op.backward`` gives its inputs (a variadic ``*arrays`` names them all)."""
    key = (type(op), n_inputs)
    names = _INPUT_NAMES.get(key)
    if names is None:  # (inspect is slow, and a scalar graph has thousands of ops of one type)
        params = list(inspect.signature(op.backward).parameters.values())[2:]  # (g, out)
        if params and params[-1].kind == params[-1].VAR_POSITIONAL:
            names = [p.name for p in params[:-1]] + [params[-1].name] * (n_inputs - len(params) + 1)
        else:
            names = [p.name for p in params][:n_inputs]
        _INPUT_NAMES[key] = names
    return names


def _joined(items: list[str], prefix: str, width: int = 100, parens: bool = True) -> str:
    """``a, b, c`` wrapped to ``width`` columns (inside parentheses, unless ``parens`` is False)."""
    text = ", ".join(items)
    if len(text) + len(prefix) + 4 <= width:
        return text + ("," if len(items) == 1 and parens else "")
    lines, line = [], ""
    for item in items:
        if line and len(line) + len(item) + 2 > width - 8:
            lines.append(line)
            line = ""
        line = f"{line}{item}, " if line or item else item
    lines.append(line.rstrip().rstrip(","))
    body = "\n        ".join(lines)
    return f"({body})" if parens else body


def build(plan: Plan, mode: str, arg_names: dict[int, str], title: str,
          names: Names | None = None) -> Program:
    """Generate, compile and load the program for ``plan`` in ``mode`` ("numpy" or "scalar")."""
    if names is None:
        names = Names()
        assign_names(plan, arg_names, names)
    gen = Generator(plan, mode, names.copy())  # (temporaries and gradients: fresh for each build)
    for node in plan.nodes:  # constants used by op parameters live in the namespace
        for structure in node.attrs.values():
            for v in _values_in(structure):
                if v.kind == "constant":
                    gen.namespace[v.name] = v.obj
    fwd, bwd, saved = gen.generate()
    params = [v.name for _, _, v in plan.inputs + plan.extras]
    define_forward = f"def forward({_joined(params, 'def forward(', parens=False)}):"
    define_backward = ["", "", f"def backward({gen.seed}, saved):"]
    if saved:
        define_backward.append(f"    {_joined(saved, '')} = saved")

    def lines(body: list[tuple[str, str]], comments: bool) -> list[str]:
        return [f"    {code}  # {comment}" if comments and comment else f"    {code}"
                for code, comment in body]

    executed = "\n".join([define_forward, *lines(fwd, False), *define_backward, *lines(bwd, False), ""])
    source = "\n".join([f"# {title}", "", define_forward, *lines(fwd, True), *define_backward,
                        *lines(bwd, True), ""])
    filename = f"<compiled {title.split(' ')[0]} {mode} {id(plan):x}>"
    code = compile(executed, filename, "exec")
    linecache.cache[filename] = (len(executed), None, executed.splitlines(True), filename)
    namespace = dict(gen.namespace)
    exec(code, namespace)  # noqa: S102  (the generated program: this is the compiled path)
    program = Program(source, executed, namespace["forward"], namespace["backward"], gen.namespace,
                      saved, mode)
    weakref.finalize(program, linecache.cache.pop, filename, None)  # (tracebacks show the lines meanwhile)
    return program


def scalar_eligible(plan: Plan) -> bool:
    """Every value a 0-d float64 and every op with a Python-float form: generate float code."""
    values = [v for n in plan.nodes for v in n.inputs] + [n.out for n in plan.nodes]
    values += [v for _, _, v in plan.inputs + plan.extras] + plan.derived
    return (all(v.shape == () and v.dtype == np.float64 for v in values)
            and all(n.template.scalar for n in plan.nodes)
            and not any(n.attrs.get(a) is not None and isinstance(n.attrs.get(a), np.ndarray)
                        for n in plan.nodes for a in n.attrs))
