"""CMU 10-601 HW5's OCR network (seed 001), built on chainrule: gradients come from .backward().

    python examples/ocr/neuralnet.py <train_input> <validation_input> <train_out> \\
        <validation_out> <metrics_out> <num_epoch> <hidden_units> <init_flag> <learning_rate>

One hidden sigmoid layer, a softmax output over the 10 letter classes, cross-entropy,
and per-example SGD in file order. ``init_flag`` 1 is RANDOM (weights ~ U[-0.1, 0.1]),
2 is ZERO; biases start at zero either way. Writes the predicted labels (one per
line, ties to the smallest index) and the metrics file in the handout's format:

    epoch=1 crossentropy(train): 2.18506276114
    epoch=1 crossentropy(validation): 2.18827302588
    ...
    error(train): 0.77
    error(validation): 0.78

Add ``--trace`` (after the nine arguments) to log every forward and backward value
of every SGD step in the layout of the handout's ``tinyOutput.txt`` (alpha and beta
with their bias column first), and ``--seed N`` to choose the RANDOM initialisation.

Bad input (wrong arguments, unreadable or malformed data, an unwritable output)
exits with status 2 and a one-line message, and leaves no output file behind.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import autograd
import nn
from autograd import Tensor
from nn import functional as F
from nn.data import DataError, load_csv_classification

NUM_CLASSES = 10  # the handout's label space {0, ..., 9}
USAGE = (
    "usage: neuralnet.py <train_input> <validation_input> <train_out> <validation_out> "
    "<metrics_out> <num_epoch> <hidden_units> <init_flag> <learning_rate> [--trace] [--seed N]"
)


class UsageError(Exception):
    """Bad command-line input: reported in one line, exit status 2."""


@dataclass
class Config:
    train_input: Path
    validation_input: Path
    train_out: Path
    validation_out: Path
    metrics_out: Path
    num_epoch: int
    hidden_units: int
    init_flag: int
    learning_rate: float
    trace: bool = False
    seed: int = 0


def _positive_int(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{what} must be a positive integer, not {text!r}") from None
    if value <= 0:
        raise UsageError(f"{what} must be a positive integer, not {text!r}")
    return value


def parse_args(argv: list[str]) -> Config:
    trace = "--trace" in argv
    argv = [a for a in argv if a != "--trace"]
    seed = 0
    if "--seed" in argv:
        i = argv.index("--seed")
        if i + 1 >= len(argv):
            raise UsageError("--seed needs a value")
        try:
            seed = int(argv[i + 1])
        except ValueError:
            raise UsageError(f"--seed must be an integer, not {argv[i + 1]!r}") from None
        argv = argv[:i] + argv[i + 2 :]
    if len(argv) != 9:
        raise UsageError(f"expected 9 arguments, got {len(argv)}; {USAGE}")
    epochs = _positive_int(argv[5], "num_epoch")
    hidden = _positive_int(argv[6], "hidden_units")
    if argv[7] not in ("1", "2"):
        raise UsageError(f"init_flag must be 1 (RANDOM) or 2 (ZERO), not {argv[7]!r}")
    try:
        rate = float(argv[8])
    except ValueError:
        raise UsageError(f"learning_rate must be a positive number, not {argv[8]!r}") from None
    if not np.isfinite(rate) or rate <= 0:
        raise UsageError(f"learning_rate must be a positive number, not {argv[8]!r}")
    paths = [Path(a) for a in argv[:5]]
    return Config(*paths, epochs, hidden, int(argv[7]), rate, trace, seed)


class OCRNet(nn.Module):
    """x → a = αx (+bias) → z = σ(a) → b = βz (+bias) → softmax."""

    def __init__(self, num_features: int, hidden_units: int, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.hidden = nn.Linear(num_features, hidden_units)
        self.output = nn.Linear(hidden_units, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.output(self.hidden(x).sigmoid())  # logits b; softmax is in the loss


def initialise(net: OCRNet, init_flag: int, seed: int = 0) -> None:
    if init_flag == 1:
        nn.init.init_random_(net, bound=0.1, generator=np.random.default_rng(seed))
    else:
        nn.init.init_zero_(net)


def mean_cross_entropy(net: OCRNet, x: np.ndarray, y: np.ndarray) -> float:
    """Equation (1): the average of −log ŷ_y over the data set."""
    with autograd.no_grad():
        return float(F.cross_entropy(net(x), y).item())


def predict(net: OCRNet, x: np.ndarray) -> np.ndarray:
    """The most probable class of each row (np.argmax: ties go to the smallest index)."""
    with autograd.no_grad():
        return np.argmax(net(x).data, axis=1)


def _with_bias_column(weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The handout's layout: the bias as column 0 of the weight matrix."""
    return np.column_stack([bias, weight])


def sgd_step(
    net: OCRNet, x_row: np.ndarray, label: int, rate: float, log: logging.Logger | None = None
) -> float:
    """One SGD update on one example; returns its cross-entropy (Equation 2)."""
    x = Tensor(x_row.reshape(1, -1))
    a = net.hidden(x)
    z = a.sigmoid()
    b = net.output(z)
    if log is not None:
        for t in (a, z, b):
            t.retain_grad()
    loss = F.cross_entropy(b, [label])
    net.zero_grad()
    loss.backward()
    if log is not None:
        _log_step(log, net, a, z, b, loss)
    with autograd.no_grad():
        for p in net.parameters():
            p.data -= rate * p.grad.data  # the plain SGD update of the handout
    if log is not None:
        log.info("\t\tUpdate weights")
        hidden, output = net.hidden, net.output
        log.info("\t\t\tNew alpha:\n%s", _with_bias_column(hidden.weight.data, hidden.bias.data))
        log.info("\t\t\tNew beta:\n%s", _with_bias_column(output.weight.data, output.bias.data))
    return float(loss.item())


def _log_step(log: logging.Logger, net: OCRNet, a: Tensor, z: Tensor, b: Tensor, loss: Tensor) -> None:
    ones = np.ones((1, 1))
    log.info("\t\tBegin forward pass")
    log.info("\t\t\tValue of a (before sigmoid):\n%s", a.data)
    log.info("\t\t\tValue of z (after sigmoid):\n%s", np.hstack([ones, z.data]))
    log.info("\t\t\tValue of b (before softmax):\n%s", b.data)
    log.info("\t\t\tValue of y_hat (after softmax):\n%s", b.softmax(axis=1).data)
    log.info("\t\t\tCross entropy: %r", float(loss.item()))
    log.info("\t\tBegin backward pass")
    log.info("\t\t\td(loss)/d(b):\n%s", b.grad.data)
    hidden, output = net.hidden, net.output
    log.info("\t\t\td(loss)/d(beta):\n%s", _with_bias_column(output.weight.grad.data, output.bias.grad.data))
    log.info("\t\t\td(loss)/d(z):\n%s", z.grad.data)
    log.info("\t\t\td(loss)/d(a):\n%s", a.grad.data)
    log.info("\t\t\td(loss)/d(alpha):\n%s", _with_bias_column(hidden.weight.grad.data, hidden.bias.grad.data))


def train(
    config: Config, x_train: np.ndarray, y_train: np.ndarray, x_valid: np.ndarray, y_valid: np.ndarray
) -> tuple[OCRNet, list[str]]:
    """Train as the handout says; returns the network and the metric lines."""
    net = OCRNet(x_train.shape[1], config.hidden_units)
    initialise(net, config.init_flag, config.seed)
    log = logging.getLogger("Output for tiny dataset") if config.trace else None
    lines = []
    for epoch in range(1, config.num_epoch + 1):
        if log is not None:
            log.info("Epoch %d", epoch - 1)
        for i, (row, label) in enumerate(zip(x_train, y_train)):
            if log is not None:
                log.info("\tSGD with respect to sample %d", i)
            sgd_step(net, row, int(label), config.learning_rate, log)
        lines.append(
            f"epoch={epoch} crossentropy(train): {_number(mean_cross_entropy(net, x_train, y_train))}"
        )
        lines.append(
            f"epoch={epoch} crossentropy(validation): {_number(mean_cross_entropy(net, x_valid, y_valid))}"
        )
    return net, lines


def _number(value: float) -> str:
    """As the handout prints numbers (Python 2's str): 12 significant digits, always a point.

    2.18506276114, 0.77, 1.0.
    """
    text = format(value, ".12g")
    return text if any(c in text for c in ".einf") else text + ".0"


def _labels_text(labels: np.ndarray) -> str:
    return "".join(f"{int(label)}\n" for label in labels)


def write_outputs(files: dict[Path, str]) -> None:
    """Write every file to a temporary beside it, then rename them all: all or nothing."""
    temporaries: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            temporaries.append((temporary, path))
            with os.fdopen(handle, "w") as stream:
                stream.write(text)
        for temporary, path in temporaries:
            os.replace(temporary, path)
    finally:
        for temporary, _ in temporaries:
            if os.path.exists(temporary):
                os.unlink(temporary)


def check_writable(paths: list[Path]) -> None:
    """Fail before training, not after, when an output cannot be written."""
    for path in paths:
        directory = path.parent if str(path.parent) else Path(".")
        if path.is_dir():
            raise UsageError(f"cannot write {path}: it is a directory")
        if not directory.is_dir():
            raise UsageError(f"cannot write {path}: directory {directory} does not exist")
        if not os.access(directory, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise UsageError(f"cannot write {path}: permission denied")


def main(argv: list[str] | None = None) -> int:
    try:
        config = parse_args(sys.argv[1:] if argv is None else argv)
        x_train, y_train = load_csv_classification(config.train_input, num_classes=NUM_CLASSES)
        x_valid, y_valid = load_csv_classification(config.validation_input, num_classes=NUM_CLASSES)
        if x_valid.shape[1] != x_train.shape[1]:
            raise UsageError(
                f"{config.validation_input} has {x_valid.shape[1]} features per row, "
                f"but {config.train_input} has {x_train.shape[1]}"
            )
        outputs = [config.train_out, config.validation_out, config.metrics_out]
        check_writable(outputs)
        if config.trace:
            logging.basicConfig(
                level=logging.INFO, format="%(levelname)s:%(name)s:%(message)s", stream=sys.stderr
            )
        net, lines = train(config, x_train, y_train, x_valid, y_valid)
        train_labels = predict(net, x_train)
        valid_labels = predict(net, x_valid)
        lines.append(f"error(train): {_number(float(np.mean(train_labels != y_train)))}")
        lines.append(f"error(validation): {_number(float(np.mean(valid_labels != y_valid)))}")
        write_outputs(
            {
                config.train_out: _labels_text(train_labels),
                config.validation_out: _labels_text(valid_labels),
                config.metrics_out: "".join(line + "\n" for line in lines),
            }
        )
    except (UsageError, DataError) as error:
        print(f"neuralnet.py: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"neuralnet.py: cannot write output: {error.strerror or error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
