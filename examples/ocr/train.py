"""Train the OCR network on the letters, with a progress bar and a learning-curve plot — no download needed.

    python examples/ocr/train.py [--data-dir DIR] [--epochs 20] [--hidden 50] [--lr 0.01]
                                 [--init random|zero] [--out out]

Without ``--data-dir`` it uses ``out/letters`` and generates it there first if missing
(``make_letters.py``). Prints the handout's metrics and writes
``OUT/ocr_learning_curve.png`` (mean cross-entropy per epoch, train and validation).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_letters  # noqa: E402  (puts examples/ on sys.path too, for _output)
import neuralnet  # noqa: E402
from _output import describe, save_figure  # noqa: E402

from nn.data import DataError, load_csv_classification  # noqa: E402


def progress(total: int):
    """A tqdm bar on a terminal, else a no-op with the same interface."""
    if sys.stderr.isatty():
        try:
            from tqdm import tqdm

            return tqdm(total=total, unit="example", leave=False)
        except ImportError:
            pass

    class Silent:
        def update(self, n: int = 1) -> None: ...
        def close(self) -> None: ...

    return Silent()


def run(
    x_train, y_train, x_valid, y_valid, hidden: int, epochs: int, rate: float, init_flag: int, seed: int = 0
):
    """Train and return ``(net, train_losses, valid_losses)``, one loss per epoch."""
    net = neuralnet.OCRNet(x_train.shape[1], hidden)
    neuralnet.initialise(net, init_flag, seed)
    step = neuralnet.make_step(net, rate)  # forward, backward and update compiled into one function
    train_losses, valid_losses = [], []
    bar = progress(epochs * len(x_train))
    try:
        for _ in range(epochs):
            for row, label in zip(x_train, y_train):
                neuralnet.sgd_step(net, row, int(label), rate, step=step)
                bar.update(1)
            train_losses.append(neuralnet.mean_cross_entropy(net, x_train, y_train))
            valid_losses.append(neuralnet.mean_cross_entropy(net, x_valid, y_valid))
    finally:
        bar.close()
    return net, train_losses, valid_losses


def save_plot(
    path: Path, curves: dict[str, list[float]], title: str, ylabel: str = "mean cross-entropy"
) -> None:
    """Plot one curve per entry against the epoch, saved with ``save_figure`` (atomically).

    Raises:
        OSError: the plot cannot be written; the message names ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for label, values in curves.items():
        axes.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=label)
    axes.set_xlabel("epoch")
    axes.set_ylabel(ylabel)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    save_figure(figure, path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="directory with train.csv and validation.csv")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=50)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--init", choices=["random", "zero"], default="random")
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args(argv)
    if args.epochs <= 0 or args.hidden <= 0 or not args.lr > 0:
        parser.error("--epochs, --hidden and --lr must be positive")
    try:
        return _train(args)
    except DataError as error:
        print(f"train.py: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # writing the plot: the error names the user's path
        print(f"train.py: cannot write {describe(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("train.py: interrupted", file=sys.stderr)
        return 130


def _train(args: argparse.Namespace) -> int:
    data_dir = args.data_dir
    if data_dir is None:
        data_dir = args.out / "letters"
        if not (data_dir / "train.csv").exists():
            status = make_letters.main(["--out", str(data_dir)])
            if status:
                return status  # make_letters.py said why
    x_train, y_train = load_csv_classification(data_dir / "train.csv", num_classes=10)
    x_valid, y_valid = load_csv_classification(data_dir / "validation.csv", num_classes=10)
    if x_valid.shape[1] != x_train.shape[1]:
        raise DataError(
            f"{data_dir / 'validation.csv'} has {x_valid.shape[1]} features per row, "
            f"but {data_dir / 'train.csv'} has {x_train.shape[1]}"
        )
    init_flag = 1 if args.init == "random" else 2
    net, train_losses, valid_losses = run(
        x_train, y_train, x_valid, y_valid, args.hidden, args.epochs, args.lr, init_flag
    )
    for epoch, (tl, vl) in enumerate(zip(train_losses, valid_losses), start=1):
        print(f"epoch={epoch} crossentropy(train): {neuralnet._number(tl)}")
        print(f"epoch={epoch} crossentropy(validation): {neuralnet._number(vl)}")
    train_error = float(np.mean(neuralnet.predict(net, x_train) != y_train))
    valid_error = float(np.mean(neuralnet.predict(net, x_valid) != y_valid))
    print(f"error(train): {neuralnet._number(train_error)}")
    print(f"error(validation): {neuralnet._number(valid_error)}")
    plot = args.out / "ocr_learning_curve.png"
    save_plot(plot, {"train": train_losses, "validation": valid_losses},
              f"OCR net: {args.hidden} hidden units, lr {args.lr}, {args.init} init")  # fmt: skip
    print(f"wrote {plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
