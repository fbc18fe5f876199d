"""CMU 10-601 homework 5's empirical questions, answered with plots and a markdown table.

1. Hidden units: average train and validation cross-entropy after training, for 5, 20, 50,
   100 and 200 hidden units (learning rate 0.01).
2. Learning rate: cross-entropy per epoch for 0.1, 0.01 and 0.001 (50 hidden units).
3. Initialisation: ZERO against RANDOM. With ZERO, every hidden unit computes the same
   thing and gets the same gradient, so they stay identical for ever — the symmetry
   problem, made visible by plotting how different the hidden units are.

    python examples/ocr/experiments.py [--data-dir DIR] [--epochs 100] [--quick] [--out out]

``--data-dir`` points at the handout's CSVs (train.csv/validation.csv, or the handout's
names smallTrain.csv/smallValidation.csv...); without it the synthetic letters are used.
``--quick`` uses 3 epochs and fewer settings. Writes ``OUT/ocr_*.png`` and
``OUT/ocr_experiments.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_letters  # noqa: E402  (puts examples/ on sys.path too, for _output)
import neuralnet  # noqa: E402
from _output import EXAMPLES_EXTRA, describe, needs, require, save_figure, save_text  # noqa: E402
from train import progress, save_plot  # noqa: E402

from nn.data import DataError, load_csv_classification  # noqa: E402


def find_data(data_dir: Path) -> tuple[Path, Path]:
    for train_name, valid_name in (
        ("train.csv", "validation.csv"),
        ("smallTrain.csv", "smallValidation.csv"),
        ("mediumTrain.csv", "mediumValidation.csv"),
        ("largeTrain.csv", "largeValidation.csv"),
    ):
        if (data_dir / train_name).exists() and (data_dir / valid_name).exists():
            return data_dir / train_name, data_dir / valid_name
    raise DataError(f"{data_dir}: no train.csv/validation.csv (or the handout's small/medium/large files)")


def train_curves(data, hidden: int, epochs: int, rate: float, init_flag: int):
    x_train, y_train, x_valid, y_valid = data
    net = neuralnet.OCRNet(x_train.shape[1], hidden)
    neuralnet.initialise(net, init_flag)
    train_losses, valid_losses, spread = [], [], []
    bar = progress(epochs * len(x_train))
    try:
        for _ in range(epochs):
            for row, label in zip(x_train, y_train):
                neuralnet.sgd_step(net, row, int(label), rate)
                bar.update(1)
            train_losses.append(neuralnet.mean_cross_entropy(net, x_train, y_train))
            valid_losses.append(neuralnet.mean_cross_entropy(net, x_valid, y_valid))
            # how different the hidden units are: spread of their incoming weight vectors
            spread.append(float(net.hidden.weight.data.std(axis=0).mean()))
    finally:
        bar.close()
    return train_losses, valid_losses, spread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=needs(f"matplotlib (its plots), from the examples extra: {EXAMPLES_EXTRA}; "
                     "with tqdm, a progress bar shows on a terminal"))
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="the handout's train.csv and validation.csv (or smallTrain.csv... too); "
                        "default: the synthetic letters of make_letters.py, made in OUT/letters")
    parser.add_argument("--epochs", type=int, default=100,
                        help="epochs per setting (default 100, the handout's)")
    parser.add_argument("--quick", action="store_true",
                        help="3 epochs and hidden units 5, 20, 50 only: a quick look (default: the handout's "
                        "settings, hidden units 5, 20, 50, 100, 200 and learning rates 0.1, 0.01, 0.001)")
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="folder for ocr_experiments.md and the plots (default out/)")
    args = parser.parse_args(argv)
    require("experiments.py", "matplotlib")
    if hasattr(sys.stdout, "reconfigure"):  # each result line shows as it comes, even into a pipe or a log
        sys.stdout.reconfigure(line_buffering=True)
    epochs = 3 if args.quick else args.epochs
    if epochs <= 0:
        parser.error("--epochs must be positive")
    try:
        return _experiments(args, epochs)
    except DataError as error:
        print(f"experiments.py: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # writing a plot or the report: the error names the user's path
        print(f"experiments.py: cannot write {describe(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("experiments.py: interrupted", file=sys.stderr)
        return 130


def _experiments(args: argparse.Namespace, epochs: int) -> int:
    if args.data_dir is None:
        data_dir = args.out / "letters"
        if not (data_dir / "train.csv").exists():
            status = make_letters.main(["--out", str(data_dir)])
            if status:
                return status  # make_letters.py said why
        train_path, valid_path = data_dir / "train.csv", data_dir / "validation.csv"
    else:
        train_path, valid_path = find_data(args.data_dir)
    data = (*load_csv_classification(train_path, 10), *load_csv_classification(valid_path, 10))
    if data[2].shape[1] != data[0].shape[1]:
        raise DataError(
            f"{valid_path} has {data[2].shape[1]} features per row, but {train_path} has {data[0].shape[1]}"
        )

    hidden_sizes = [5, 20, 50] if args.quick else [5, 20, 50, 100, 200]
    rates = [0.1, 0.01, 0.001]
    report = [f"# OCR experiments ({train_path.name}, {epochs} epochs)", ""]

    runs = len(hidden_sizes) + len(rates) + 2
    print(f"{runs} trainings of {epochs} epochs on {len(data[0])} examples; each line below appears as its "
          "training ends (a progress bar shows on a terminal with tqdm)", flush=True)
    print("1. hidden units")
    rows = []
    for hidden in hidden_sizes:
        train_losses, valid_losses, _ = train_curves(data, hidden, epochs, 0.01, 1)
        rows.append((hidden, train_losses[-1], valid_losses[-1]))
        print(f"   {hidden:4d} hidden units: train {train_losses[-1]:.4f}, validation {valid_losses[-1]:.4f}")
    report += [
        "## Cross-entropy after training against hidden units (lr 0.01, RANDOM)",
        "",
        "| hidden units | train | validation |",
        "|---:|---:|---:|",
    ]
    report += [f"| {h} | {t:.4f} | {v:.4f} |" for h, t, v in rows]
    _plot_xy(
        args.out / "ocr_hidden_units.png",
        [r[0] for r in rows],
        {"train": [r[1] for r in rows], "validation": [r[2] for r in rows]},
        "hidden units",
        f"mean cross-entropy after {epochs} epochs",
    )

    print("2. learning rate")
    curves, rate_rows = {}, []
    for rate in rates:
        train_losses, valid_losses, _ = train_curves(data, 50, epochs, rate, 1)
        curves[f"train, lr {rate}"] = train_losses
        curves[f"validation, lr {rate}"] = valid_losses
        rate_rows.append((rate, train_losses[-1], valid_losses[-1]))
        print(f"   lr {rate}: train {train_losses[-1]:.4f}, validation {valid_losses[-1]:.4f}")
    _plot_rates(args.out / "ocr_learning_rates.png", rates, curves)
    report += [
        "",
        "## Learning rate (50 hidden units, RANDOM): final cross-entropy",
        "",
        "| learning rate | train | validation |",
        "|---:|---:|---:|",
    ]
    report += [f"| {r} | {t:.4f} | {v:.4f} |" for r, t, v in rate_rows]

    print("3. ZERO against RANDOM initialisation")
    init_rows, spreads = [], {}
    for name, flag in (("RANDOM", 1), ("ZERO", 2)):
        train_losses, valid_losses, spread = train_curves(data, 50, epochs, 0.01, flag)
        init_rows.append((name, train_losses[-1], valid_losses[-1], spread[-1]))
        spreads[name] = spread
        print(
            f"   {name}: train {train_losses[-1]:.4f}, validation {valid_losses[-1]:.4f}, "
            f"hidden-unit spread {spread[-1]:.2e}"
        )
    save_plot(
        args.out / "ocr_zero_vs_random.png",
        spreads,
        "ZERO vs RANDOM init: are the hidden units different?",
        ylabel="spread between hidden units' weights",
    )
    report += [
        "",
        "## ZERO against RANDOM initialisation (50 hidden units, lr 0.01)",
        "",
        "| init | train | validation | spread between hidden units |",
        "|---|---:|---:|---:|",
    ]
    report += [f"| {n} | {t:.4f} | {v:.4f} | {s:.2e} |" for n, t, v, s in init_rows]
    report += [
        "",
        "With ZERO every hidden unit starts equal, receives the same gradient and stays equal "
        "(spread 0): the 50 units act as one. RANDOM breaks the symmetry.",
    ]
    save_text(args.out / "ocr_experiments.md", "\n".join(report) + "\n")
    print(f"wrote {args.out / 'ocr_experiments.md'} and the plots in {args.out}")
    return 0


def _plot_rates(path: Path, rates: list[float], curves: dict[str, list[float]]) -> None:
    """One colour per learning rate; solid for training, dashed for validation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for colour, rate in zip(("tab:blue", "tab:orange", "tab:green"), rates):
        train, valid = curves[f"train, lr {rate}"], curves[f"validation, lr {rate}"]
        epochs = range(1, len(train) + 1)
        axes.plot(epochs, train, color=colour, label=f"lr {rate} (train)")
        axes.plot(epochs, valid, color=colour, linestyle="--", label=f"lr {rate} (validation)")
    axes.set_xlabel("epoch")
    axes.set_ylabel("mean cross-entropy")
    axes.set_title("cross-entropy per epoch, 50 hidden units")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, path, dpi=120)


def _plot_xy(path: Path, xs, series: dict, xlabel: str, ylabel: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for label, values in series.items():
        axes.plot(xs, values, marker="o", label=label)
    axes.set_xscale("log")
    axes.set_xticks(xs, [str(x) for x in xs])
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    save_figure(figure, path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
