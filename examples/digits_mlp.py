"""An MLP with BatchNorm and momentum on handwritten digits: the training of CMU 11-785 homework 1 (MyTorch).

    python examples/digits_mlp.py [--hiddens 64,32] [--batchnorm-layers 1] [--activation sigmoid]
                                  [--momentum 0.9] [--lr 0.05] [--epochs 20] [--batch-size 32]
                                  [--seed 0] [--out out]

The MyTorch handout trains ``MLP(784, 10, hiddens, activations, ..., lr, momentum, num_bn_layers)`` on
MNIST: each hidden layer is Linear -> BatchNorm (for the first ``num_bn_layers`` layers) ->
activation, the output is softmax cross-entropy on logits, and the update is momentum
SGD (dW <- beta dW - lr grad, W <- W + dW; ``nn.optim.SGD(momentum=...)`` takes the same
steps). Its ``get_training_stats`` reports, per epoch, the training loss and error
averaged over the batches as they were trained, and the validation loss and error after
the epoch; the training set is shuffled every epoch.

Here the data are scikit-learn's 8x8 digits (1797 images, bundled with scikit-learn: no
download), scaled to [0, 1] and split 80/20 into training and validation with ``--seed``.
The defaults reach more than 90% validation accuracy in a few seconds. Try
``--batchnorm-layers 0`` to see how much BatchNorm helps a sigmoid network start.

Writes to OUT: ``digits_training_stats.png`` (loss and error curves) and the graph of
one small batch's loss, forward (values) and backward (gradients), as SVG (and PNG when
Graphviz's ``dot`` is installed). Exits with status 2 if scikit-learn is not installed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from _output import EXAMPLES_EXTRA, needs, pyplot, report_graphs, require, save_figure  # noqa: E402  (a sibling file)

import autograd
import nn
from autograd import Tensor
from nn import functional as F


def load_data(seed: int, valid_fraction: float = 0.2):
    """(x_train, y_train, x_valid, y_valid): the 8x8 digits scaled to [0, 1], split at random."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.data / 16.0  # pixel intensities are 0..16
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_valid = int(round(valid_fraction * len(x)))
    valid, train = order[:n_valid], order[n_valid:]
    return x[train], y[train], x[valid], y[valid]


def get_training_stats(net, optimizer, data, epochs: int, batch_size: int, generator: np.random.Generator):
    """The MyTorch handout's training loop and statistics; returns four arrays, one value per epoch."""
    x_train, y_train, x_valid, y_valid = data
    training_losses, training_errors, validation_losses, validation_errors = [], [], [], []
    for _ in range(epochs):
        net.train()  # BatchNorm: normalise with batch statistics, update the running ones
        order = generator.permutation(len(x_train))  # shuffle: a list of indices, then a gather
        x_epoch, y_epoch = x_train[order], y_train[order]
        total_loss, wrong = 0.0, 0
        for start in range(0, len(x_epoch), batch_size):
            x, y = x_epoch[start : start + batch_size], y_epoch[start : start + batch_size]
            if len(x) < 2:  # BatchNorm needs two examples to have a variance
                continue
            logits = net(Tensor(x))
            loss = F.cross_entropy(logits, y)  # mean over the batch
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(x)  # statistics of the batch as it was trained
            wrong += int(np.sum(logits.numpy().argmax(axis=1) != y))
        seen = len(x_epoch) - (len(x_epoch) % batch_size == 1)
        training_losses.append(total_loss / seen)
        training_errors.append(wrong / seen)
        net.eval()  # BatchNorm: use the running mean and variance
        with autograd.no_grad():
            logits = net(Tensor(x_valid))
            validation_losses.append(F.cross_entropy(logits, y_valid).item())
            validation_errors.append(float(np.mean(logits.numpy().argmax(axis=1) != y_valid)))
    return tuple(
        np.array(v) for v in (training_losses, training_errors, validation_losses, validation_errors)
    )


def plot_stats(path: Path, stats, title: str) -> None:
    plt = pyplot()
    if plt is None:
        print(f"skipped {path}: matplotlib is not installed (pip install matplotlib)")
        return

    training_losses, training_errors, validation_losses, validation_errors = stats
    epochs = np.arange(1, len(training_losses) + 1)
    figure, (loss_axes, error_axes) = plt.subplots(1, 2, figsize=(10, 3.8))
    loss_axes.plot(epochs, training_losses, "-o", markersize=3, label="training (averaged over its batches)")
    loss_axes.plot(epochs, validation_losses, "-o", markersize=3, label="validation (after the epoch)")
    loss_axes.set_ylabel("mean cross-entropy")
    error_axes.plot(epochs, 100 * training_errors, "-o", markersize=3, label="training")
    error_axes.plot(epochs, 100 * validation_errors, "-o", markersize=3, label="validation")
    error_axes.set_ylabel("classification error (%)")
    error_axes.set_ylim(bottom=0)
    for axes in (loss_axes, error_axes):
        axes.set_xlabel("epoch")
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    save_figure(figure, path)
    print(f"wrote {path}")


def draw_batch_graph(net, data, out: Path) -> None:
    """The graph of one batch of four training images through the network to the loss."""
    x_train, y_train = data[0][:4], data[1][:4]
    net.train()
    x = Tensor(x_train, name="x")
    logits = net(x)
    logits.name = "logits"
    loss = F.cross_entropy(logits, Tensor(y_train, name="labels"))
    loss.name = "loss"
    report_graphs(loss, out, "digits_batch_graph", indent="", rankdir="TB")


# ---- output helpers ---------------------------------------------------------------------------


def sizes(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes like 64,32, not {text!r}"
        ) from None
    if any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("layer sizes must be positive")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=needs(f"scikit-learn (its digits) and matplotlib (its plots), from the examples extra: "
                     f"{EXAMPLES_EXTRA}"))
    parser.add_argument("--hiddens", type=sizes, default=[64, 32], help="hidden layer sizes (default 64,32)")
    parser.add_argument(
        "--batchnorm-layers",
        type=int,
        default=1,
        help="BatchNorm after the first k hidden layers (the MyTorch handout's num_bn_layers; default 1)",
    )
    parser.add_argument(
        "--activation",
        default="sigmoid",
        choices=["sigmoid", "tanh", "relu"],
        help="hidden activation (default sigmoid, as in the MyTorch handout's sample)",
    )
    parser.add_argument("--momentum", type=float, default=0.9, help="momentum (default 0.9)")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs (default 20)")
    parser.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the split, the weights and the shuffling")
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the images (default out/)")
    args = parser.parse_args(argv)
    require("digits_mlp.py", "sklearn")
    if args.epochs <= 0 or args.batch_size < 2 or not args.lr > 0:
        parser.error("--epochs must be positive, --batch-size at least 2 and --lr positive")
    if not 0 <= args.batchnorm_layers <= len(args.hiddens):
        parser.error(
            f"--batchnorm-layers must be between 0 and the number of hidden layers ({len(args.hiddens)})"
        )
    if not 0 <= args.momentum < 1:
        parser.error("--momentum must be in [0, 1)")
    try:
        data = load_data(args.seed)
    except ImportError:
        print(
            f"digits_mlp.py: needs scikit-learn for its digits, from the examples extra: {EXAMPLES_EXTRA}",
            file=sys.stderr,
        )
        return 2
    args.out.mkdir(parents=True, exist_ok=True)

    generator = np.random.default_rng(args.seed)
    net = nn.MLP(
        64, args.hiddens, 10, activation=args.activation, batchnorm=args.batchnorm_layers, generator=generator
    )
    optimizer = nn.optim.SGD(net.parameters(), lr=args.lr, momentum=args.momentum)
    print(f"digits: {len(data[0])} training and {len(data[2])} validation images of 8x8 pixels, 10 classes")
    print(net)
    print(f"SGD lr {args.lr}, momentum {args.momentum}; batch size {args.batch_size}; {args.epochs} epochs\n")

    stats = get_training_stats(net, optimizer, data, args.epochs, args.batch_size, generator)
    print("epoch | training loss | training error | validation loss | validation error")
    for epoch, (tl, te, vl, ve) in enumerate(zip(*stats), start=1):
        print(f"{epoch:5d} | {tl:13.4f} | {te:14.4f} | {vl:15.4f} | {ve:16.4f}")
    for values in stats:
        assert np.all(np.isfinite(values)) and len(values) == args.epochs
    assert np.all((stats[1] >= 0) & (stats[1] <= 1)) and np.all((stats[3] >= 0) & (stats[3] <= 1))
    accuracy = 1 - stats[3][-1]
    print(f"\nvalidation accuracy after {args.epochs} epochs: {accuracy:.4f}")

    hidden = ",".join(map(str, args.hiddens))
    title = (
        f"digits MLP {hidden}, {args.activation}, BatchNorm on {args.batchnorm_layers} layer(s), "
        f"SGD lr {args.lr}, momentum {args.momentum}, batch {args.batch_size}"
    )
    plot_stats(args.out / "digits_training_stats.png", stats, title)
    draw_batch_graph(net, data, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
