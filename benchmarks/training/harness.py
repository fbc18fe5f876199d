"""Running the engines on a workload: the agreement check, the round-robin timing, the phase split.

Before anything is timed, every engine trains ``CHECK_STEPS`` steps and then one full
(untimed, warm-up) epoch from the same initial weights, and must match the numpy float64
engine (``TOLERANCE``). Then each repeat runs every engine once, one after another, from
fresh weights and a fresh optimiser; a second, instrumented pass splits each step into
phases.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from autograd import Tensor

from .numpy_trainers import NumpyMinibatch, NumpyPerExample, SeedProcedural
from .trainers import ChainruleTrainer, TorchTrainer, Trainer, torch
from .workloads import Workload, batches

CHECK_STEPS = 3
TOLERANCE = {"float64": 1e-8, "float32": 1e-3}  # vs numpy float64, absolute (losses, params)


@dataclass
class Engine:
    name: str
    dtype: str  # "float64" / "float32"
    kind: str  # "numpy" / "chainrule" / "torch": which rows the ratios are taken against
    make: Callable[[Workload], Trainer]
    prepare: Callable[[list], list]  # numpy (x, y) pairs -> what this engine's loop consumes
    note: str = ""


def _numpy_data(pairs: list) -> list:
    return pairs


def _seed_data(pairs: list) -> list:
    # the 10-315 handout's SGD adds the bias feature to the whole matrix before its loop
    return [(np.concatenate([[1.0], x]), y) for x, y in pairs]


def _chainrule_data(pairs: list) -> list:
    # inputs as Tensors made outside the timed loop (as torch gets tensors); targets
    # stay integer arrays (or numpy ints per example), which cross_entropy accepts
    return [(Tensor(x), y) for x, y in pairs]


def _torch_data(pairs: list) -> list:
    return [(torch.from_numpy(np.asarray(x)), torch.as_tensor(y)) for x, y in pairs]


def make_engines(work: Workload, dtypes: tuple[str, ...]) -> list[Engine]:
    engines: list[Engine] = []
    per_example = work.batch is None
    for dtype in dtypes:
        np_dtype = np.dtype(dtype)
        floor = NumpyPerExample if per_example else NumpyMinibatch
        engines.append(Engine("numpy (hand-written)", dtype, "numpy",
                              lambda w, c=floor, d=np_dtype: c(w, d), _numpy_data, "the floor"))
        optimiser = "nn.optim.SGD" + ("" if per_example else "(momentum=0.9)")
        engines.append(Engine("chainrule", dtype, "chainrule",
                              lambda w, d=np_dtype: ChainruleTrainer(w, d), _chainrule_data,
                              f"nn.MLP, F.cross_entropy, {optimiser}"))
        if per_example and dtype == "float64":
            engines.append(Engine("numpy (10-315 HW2)", dtype, "seed",
                                  lambda w, d=np_dtype: SeedProcedural(w, d), _seed_data,
                                  "context: the handout's procedural code"))
        if per_example:
            engines.append(Engine("chainrule manual", dtype, "chainrule-manual",
                                  lambda w, d=np_dtype: ChainruleTrainer(w, d, manual=True),
                                  _chainrule_data, "p.grad = None; p.data -= lr * p.grad.data"))
        if torch is not None:
            t_dtype = getattr(torch, dtype)
            engines.append(Engine("torch", dtype, "torch", lambda w, d=t_dtype: TorchTrainer(w, d),
                                  _torch_data, "1 thread; nn.Sequential, torch.optim.SGD"))
    return engines


# ---- measuring ----------------------------------------------------------------------------


@dataclass
class Result:
    engine: Engine
    times: list[float] = field(default_factory=list)
    phases: dict[str, list[float]] = field(default_factory=dict)
    error: str = ""
    note: str = ""


def max_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def check_agreement(work: Workload, engines: list[Engine], data: dict[str, list],
                    results: dict[str, Result]) -> None:
    """Train CHECK_STEPS steps, then a full warm-up epoch, with every engine; compare."""
    for label, count in ((f"{CHECK_STEPS} steps", CHECK_STEPS), ("1 epoch", None)):
        reference: tuple[list[float], list[np.ndarray]] | None = None
        for engine in engines:
            result = results[key(engine)]
            if result.error:
                continue
            gc.collect()
            try:
                trainer = engine.make(work)
                losses: list[float] = []
                trainer.epoch(data[key(engine)][:count], losses)
                params = trainer.parameters()
            except Exception as error:  # noqa: BLE001 - reported in the table
                result.error = f"{type(error).__name__}: {error}"[:160]
                print(f"  {label:>8}: {key(engine):<28} FAILED ({result.error})")
                continue
            if isinstance(trainer, ChainruleTrainer) and trainer.dtypes() != {engine.dtype}:
                result.note = f"parameters became {sorted(trainer.dtypes())}"
            if reference is None:  # the first engine: numpy float64
                reference = (losses, params)
                print(f"  {label:>8}: {key(engine):<28} reference: loss {losses[0]:.10f} -> "
                      f"{losses[-1]:.10f} over {len(losses)} steps")
                continue
            ref_losses, ref_params = reference
            d_loss = max(abs(a - b) for a, b in zip(losses, ref_losses))
            d_param = max_diff(params, ref_params)
            tol = TOLERANCE[engine.dtype]
            ok = d_loss <= tol and d_param <= tol and len(losses) == len(ref_losses)
            print(f"  {label:>8}: {key(engine):<28} max |loss diff| {d_loss:.1e}, "
                  f"max |param diff| {d_param:.1e} (tol {tol:.0e}) {'ok' if ok else 'MISMATCH'}")
            if not ok:
                raise SystemExit(f"{work.key}: {key(engine)} disagrees with numpy float64")


def key(engine: Engine) -> str:
    return f"{engine.name} {engine.dtype}"


def measure(work: Workload, engines: list[Engine], repeats: int,
            phase_repeats: int) -> dict[str, Result]:
    pairs = {dtype: batches(work, dtype) for dtype in {e.dtype for e in engines}}
    data = {key(e): e.prepare(pairs[e.dtype]) for e in engines}
    results = {key(e): Result(e) for e in engines}
    check_agreement(work, engines, data, results)
    live = [e for e in engines if not results[key(e)].error]
    for _ in range(repeats):
        for engine in live:
            trainer = engine.make(work)
            gc.collect()
            t0 = time.perf_counter()
            trainer.epoch(data[key(engine)])
            results[key(engine)].times.append(time.perf_counter() - t0)
            del trainer
    for _ in range(phase_repeats):
        for engine in live:
            trainer = engine.make(work)
            gc.collect()
            phases = phased_epoch(trainer, data[key(engine)])
            for name, seconds in phases.items():
                results[key(engine)].phases.setdefault(name, []).append(seconds)
            del trainer
    gc.collect()
    return results


PHASES = ("forward", "loss", "zero_grad", "backward", "step")


def phased_epoch(trainer: Trainer, data: list) -> dict[str, float]:
    """One epoch with a perf_counter between phases (adds ~0.3 µs per step of timer calls)."""
    clock = time.perf_counter
    forward, loss_fn, zero_grad = trainer.forward, trainer.loss, trainer.zero_grad
    backward, step = trainer.backward, trainer.step
    totals = [0.0] * 5
    for x, y in data:
        t0 = clock()
        out = forward(x)
        t1 = clock()
        loss = loss_fn(out, y)
        t2 = clock()
        zero_grad()
        t3 = clock()
        backward(loss)
        t4 = clock()
        step()
        t5 = clock()
        totals[0] += t1 - t0
        totals[1] += t2 - t1
        totals[2] += t3 - t2
        totals[3] += t4 - t3
        totals[4] += t5 - t4
    return dict(zip(PHASES, totals))


def count_nodes(work: Workload) -> int:
    """Graph nodes recorded by one chainrule training step's forward + loss."""
    trainer = ChainruleTrainer(work, np.float64)
    x, y = _chainrule_data(batches(work, np.float64)[:1])[0]
    loss = trainer.loss(trainer.forward(x), y)
    seen, stack = set(), [loss]
    while stack:
        node = stack.pop().grad_fn
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(node.inputs)
    return len(seen)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
