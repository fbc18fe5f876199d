"""CPU instructions per scalar node and per training step: a speed measure that noise cannot move.

Run from the repository root (Linux only: it reads the CPU's instruction counter through
``perf_event_open``)::

    python benchmarks/count_instructions.py

Wall-clock ratios on a shared 2-core machine swing by 15% or more between runs; the
number of user-space instructions a piece of Python executes is the same to within
about 1%. This script counts them for the workloads of ``bench_scalar.py`` and
``bench_training.py`` (same code, same data), with the garbage collector off, so each
change to the engine can be judged by a figure that is stable. Instructions are not
time: Python's interpreter runs fewer instructions per cycle than numpy's loops, and
the collector's cost (large for micrograd) is left out. The goals are judged by the
timing scripts; this one tells you whether a change helped and by how much.
"""

from __future__ import annotations

import ctypes
import fcntl
import gc
import os
import platform
import statistics
import struct
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scalar  # noqa: E402  (the workloads, shared with the timing scripts)
import bench_training  # noqa: E402

try:
    import threadpoolctl
except ImportError:  # pragma: no cover - optional
    threadpoolctl = None

_SYS_PERF_EVENT_OPEN = {"x86_64": 298, "aarch64": 241}
_PERF_EVENT_IOC_ENABLE = 0x2400


class InstructionCounter:
    """User-space instructions retired by this process (a hardware counter)."""

    def __init__(self) -> None:
        number = _SYS_PERF_EVENT_OPEN.get(platform.machine())
        if sys.platform != "linux" or number is None:
            raise OSError(f"needs Linux on x86_64 or aarch64, not {sys.platform} {platform.machine()}")
        attr = bytearray(128)  # struct perf_event_attr
        struct.pack_into("IIQ", attr, 0, 0, len(attr), 1)  # PERF_TYPE_HARDWARE, size, INSTRUCTIONS
        struct.pack_into("Q", attr, 40, 1 | 1 << 5 | 1 << 6)  # disabled, exclude_kernel, exclude_hv
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.syscall(number, (ctypes.c_char * len(attr)).from_buffer(attr), 0, -1, -1, 0)
        if fd < 0:
            error = ctypes.get_errno()
            raise OSError(error, f"perf_event_open failed ({os.strerror(error)}); "
                          "see /proc/sys/kernel/perf_event_paranoid (needs 2 or less)")
        self.fd = fd
        fcntl.ioctl(fd, _PERF_EVENT_IOC_ENABLE, 0)

    def read(self) -> int:
        return struct.unpack("Q", os.read(self.fd, 8))[0]

    def per_call(self, fn: Callable[[], object], calls: int, repeats: int = 5) -> float:
        """Median instructions per ``fn()`` over ``repeats`` batches, minus an empty call's."""
        def batch(f: Callable[[], object]) -> float:
            start = self.read()
            for _ in range(calls):
                f()
            return (self.read() - start) / calls

        gc.collect()
        gc.disable()
        try:
            fn()  # warm up (imports, caches, the interpreter's specialisation)
            fn()
            work = statistics.median(batch(fn) for _ in range(repeats))
            empty = statistics.median(batch(lambda: None) for _ in range(repeats))
        finally:
            gc.enable()
        return work - empty


def scalar_rows(counter: InstructionCounter) -> list[tuple[str, float, float]]:
    """(engine, instructions per node built, per node built and backpropagated)."""
    problem = bench_scalar.make_problem()
    engines = [e for e in bench_scalar.make_engines() if e.available and e.backward is not None]
    ours = engines[0]  # chainrule: its graph is counted; the others build the same one
    nodes = bench_scalar.count_chainrule_nodes(
        bench_scalar.mlp_loss(*bench_scalar.mlp_leaves(ours, problem), ours.relu))
    rows = []
    for engine in engines:
        layers, xs, neg_ys = bench_scalar.mlp_leaves(engine, problem)

        def build(engine=engine, layers=layers, xs=xs, neg_ys=neg_ys):
            return bench_scalar.mlp_loss(layers, xs, neg_ys, engine.relu)

        def both(engine=engine, build=build):
            engine.backward(build())

        rows.append((engine.name, counter.per_call(build, 3) / nodes, counter.per_call(both, 3) / nodes))
    return rows


def step_rows(counter: InstructionCounter, work: bench_training.Workload) -> list[tuple[str, float]]:
    """(engine, instructions per training step) on the float64 rows of a workload."""
    pairs = bench_training.batches(work, np.dtype("float64"))[:200]
    rows = []
    for engine in bench_training.make_engines(work, ("float64",)):
        trainer = engine.make(work)
        data = engine.prepare(pairs)
        rows.append((engine.name, counter.per_call(lambda t=trainer, d=data: t.epoch(d), 1) / len(data)))
    return rows


def main() -> int:
    # BLAS worker threads would escape a per-thread counter: keep the work on this thread
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(1, user_api="blas")
    if bench_training.torch is not None:
        bench_training.torch.set_num_threads(1)
    try:
        counter = InstructionCounter()
    except OSError as error:
        print(f"count_instructions: {error}", file=sys.stderr)
        return 1
    print(f"python {platform.python_version()}, numpy {np.__version__}; user-space instructions, "
          "garbage collector off")
    print("\n(a) the scalar MLP graph of bench_scalar.py, per node")
    rows = scalar_rows(counter)
    print(f"  {'engine':12s} {'build':>9s} {'backward':>9s} {'total':>9s}")
    for name, build, total in rows:
        print(f"  {name:12s} {build:9,.0f} {total - build:9,.0f} {total:9,.0f}")
    by_name = {name: total for name, _, total in rows}
    if "micrograd" in by_name:
        print(f"  chainrule/micrograd total: {by_name['chainrule'] / by_name['micrograd']:.2f}x")
    for work in (bench_training.per_example_workload(200), bench_training.minibatch_workload("sigmoid")):
        print(f"\n{work.title}, per step (float64)")
        rows = step_rows(counter, work)
        floor = dict(rows).get("numpy (hand-written)")
        for label, count in rows:
            ratio = f"{count / floor:6.2f}x numpy" if floor else ""
            print(f"  {label:22s} {count:12,.0f}  {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
