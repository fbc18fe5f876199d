"""What the worked examples share for their output: plots and graph drawings, written safely.

Each example imports these from its own folder (``from _output import ...``); they are
not part of the library.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import autograd


def pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, path: Path, dpi: int = 100) -> None:
    """Save a matplotlib figure atomically (a temporary file, then a rename)."""
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp{path.suffix}")
    figure.savefig(temporary, dpi=dpi)
    plt.close(figure)
    temporary.replace(path)


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
