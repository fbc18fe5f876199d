"""What the worked examples share for their output: plots, text and graph drawings, written safely.

Each example imports these from its own folder (``from _output import ...``); they are
not part of the library.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import autograd
from autograd import files
from autograd.files import WriteError

EXAMPLES_EXTRA = "pip install -e \".[examples]\""  # matplotlib, tqdm and scikit-learn
PLOTS_OPTIONAL = f"chainrule only; its plots need matplotlib ({EXAMPLES_EXTRA}), and are skipped without it"


def needs(text: str) -> str:
    """The last line of every example's --help: what it needs beyond chainrule."""
    return f"Needs: {text}."


def require(script: str, *modules: str) -> None:
    """Exit with one line (status 2) when a module of the examples extra is missing."""
    import importlib.util

    for module in modules:
        if importlib.util.find_spec(module) is None:
            package = {"sklearn": "scikit-learn"}.get(module, module)
            print(f"{script}: needs {package}, from the examples extra: {EXAMPLES_EXTRA}", file=sys.stderr)
            raise SystemExit(2)


def pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` on a new temporary file beside ``path``, then rename it over ``path``
    (``autograd.files.write_atomically``), creating missing parent folders first.

    An ``OSError`` names ``path``, never the temporary.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WriteError(path, error) from None
    files.write_atomically(path, write)


def save_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, line ends as given, atomically (``write_atomically``)."""
    write_atomically(path, lambda stream: stream.write(text.encode("utf-8")))


def save_figure(figure: Any, path: Path, dpi: int = 100) -> None:
    """Save a matplotlib figure atomically (``write_atomically``) and close it, saved or not.

    The format comes from ``path``'s suffix (PNG when it has none), as ``savefig`` would choose.
    """
    import matplotlib.pyplot as plt

    path = Path(path)
    try:
        fmt = path.suffix[1:].lower() or None  # None: matplotlib's default (savefig.format)
        write_atomically(path, lambda stream: figure.savefig(stream, format=fmt, dpi=dpi))
    finally:
        plt.close(figure)


def describe(error: OSError) -> str:
    """One line for a user: ``PATH: reason`` (``write_atomically``'s errors name the user's path)."""
    if error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error) or type(error).__name__


def report_graphs(root: autograd.Tensor, out: Path, stem: str, indent: str = "   ", **options: Any) -> None:
    """Draw ``root``'s graph forward (values) and backward (gradients): SVG always, PNG with ``dot``."""
    formats = ["svg", "png"] if shutil.which("dot") else ["svg"]
    for show in ("forward", "backward"):
        graph = autograd.draw(root, show=show, **options)
        for extension in formats:
            target = out / f"{stem}_{show}.{extension}"
            try:
                autograd.save_graph(graph, target)
            except autograd.viz.GraphvizNotFoundError as error:
                target = autograd.save_graph(graph, target.with_suffix(".dot"))
                print(f"{indent}(no SVG renderer: {error}; wrote the DOT text instead)")
            print(f"{indent}wrote {target}")
