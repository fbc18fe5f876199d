"""What a benchmark ran on: the machine, its load, numpy's BLAS, the library versions, the code measured.

Shared by the benchmark scripts, so every run's header says the same things the same way.
"""

from __future__ import annotations

import gc
import hashlib
import os
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path

import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover - optional
    torch = None

try:
    import threadpoolctl
except ImportError:  # pragma: no cover - optional
    threadpoolctl = None

ROOT = Path(__file__).resolve().parent.parent


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> None:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print(f"python {platform.python_version()} ({platform.python_implementation()}) on "
          f"{platform.platform()}; CPU {cpu}, {os.cpu_count()} logical cores")
    print(f"numpy {np.__version__}; chainrule {version('chainrule')}; torch "
          + (f"{torch.__version__} (threads={torch.get_num_threads()}, "
             f"MKL={torch.backends.mkl.is_available()}, "
             f"CPU capability {torch.backends.cpu.get_cpu_capability()})" if torch else "not installed"))
    env = {name: os.environ.get(name, "<unset>") for name in
           ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_") and k not in env})
    print("env: " + ", ".join(f"{k}={v}" for k, v in env.items()))
    print(f"numpy BLAS: {numpy_blas()}")
    print(f"chainrule code: {code_fingerprint()}")
    print(f"perf_counter resolution {time.get_clock_info('perf_counter').resolution:.0e} s; "
          f"gc enabled during timing: {gc.isenabled()}; {load()}")


def load() -> str:
    """The 1/5/15-minute load averages: other processes on a small machine skew the numbers
    (and a multi-threaded BLAS suffers most when a core it counts on is busy)."""
    try:
        return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "load average unknown"


def numpy_blas() -> str:
    if threadpoolctl is not None:
        libs = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"
                and "numpy" in i.get("filepath", "")] or [
            i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        if libs:
            return "; ".join(
                f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')} kernels, "
                f"{i.get('threading_layer', '?')}, num_threads={i.get('num_threads')}) "
                f"{Path(i.get('filepath', '')).name}" for i in libs)
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')} (threads unknown: no threadpoolctl)"
    except Exception:  # noqa: BLE001
        return "unknown"


def code_fingerprint() -> str:
    """Which chainrule code ran: git HEAD, dirty flags, and a hash of autograd/ and nn/ sources."""
    digest = hashlib.sha1()
    for package in ("autograd", "nn"):
        for path in sorted((ROOT / package).rglob("*.py")):
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = [p for p in ("autograd", "nn") if subprocess.run(
            ["git", "status", "--porcelain", "--", p], cwd=ROOT, text=True, capture_output=True,
            check=True).stdout.strip()]
        git = f"git {head}" + (f" + uncommitted changes in {', '.join(p + '/' for p in dirty)}"
                               if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        git = "not a git checkout"
    return f"{git}; autograd/ + nn/ *.py sha1 {digest.hexdigest()[:12]}"
