"""CMU 10-601 homework 5's OCR network, built on chainrule: gradients come from .backward().

    python examples/ocr/neuralnet.py <train_input> <validation_input> <train_out> \\
        <validation_out> <metrics_out> <num_epoch> <hidden_units> <init_flag> <learning_rate>

One hidden sigmoid layer, a softmax output over the 10 letter classes, cross-entropy,
and per-example SGD in file order. The network and its gradients are chainrule's
(``nn``, ``.backward()``); the training step runs compiled (``nn.compile_step``: the
forward, backward and update of one example as one generated numpy function, with the
same numbers as eager). ``init_flag`` 1 is RANDOM (weights ~ U[-0.1, 0.1]),
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

All or nothing: the three outputs are written to temporary files beside them and
renamed over them only when all three are complete. Anything wrong (bad arguments,
an unreadable, non-UTF-8 or malformed CSV, an output path given twice or naming an
input, more hidden units than memory holds, a learning rate that makes the loss
non-finite, an output that cannot be written) exits with status 2 and one line on
stderr, leaving every output as it was; Ctrl-C exits with status 130 the same way.
A CSV may start with the byte-order mark Excel writes.
"""

from __future__ import annotations

import sys

try:  # imports take a moment (numpy's most): a Ctrl-C meanwhile gets the line a later one gets
    import logging
    import math
    import os
    from collections.abc import Callable
    from dataclasses import dataclass
    from pathlib import Path

    import numpy as np

    import autograd
    import nn
    from autograd import Tensor
    from autograd.files import WriteError, write_files_atomically
    from nn import functional as F
    from nn.data import MAX_CSV_BYTES, DataError, load_csv_classification
except KeyboardInterrupt:
    if __name__ != "__main__":
        raise
    print("neuralnet.py: interrupted; no output was changed", file=sys.stderr)
    sys.exit(130)

NUM_CLASSES = 10  # the handout's label space {0, ..., 9}
USAGE = (
    "usage: neuralnet.py <train_input> <validation_input> <train_out> <validation_out> "
    "<metrics_out> <num_epoch> <hidden_units> <init_flag> <learning_rate> [--trace] [--seed N]"
)
MAX_INPUT_BYTES = MAX_CSV_BYTES  # 64 MiB: a larger CSV is refused (the handout's largest is ~2.3 MB)


class UsageError(Exception):
    """Bad command-line input: reported in one line, exit status 2."""


class OutputError(Exception):
    """An output could not be written; the message names the user's path (exit status 2)."""


class DivergedError(Exception):
    """The loss or the weights stopped being finite numbers (exit status 2, nothing written)."""


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


def read_examples(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The handout's CSV: one example per line, the label (0-9), then the features.

    Returns ``(features, labels)``, float64 (N, M) and int64 (N,), as
    ``nn.data.load_csv_classification`` reads them: UTF-8 text (ASCII is) of at most
    ``MAX_INPUT_BYTES``, a leading byte-order mark skipped; a ``DataError`` names the
    file and the line otherwise.
    """
    return load_csv_classification(path, num_classes=NUM_CLASSES, max_bytes=MAX_INPUT_BYTES)


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same inode when both exist, else the same resolved path."""
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass  # one of them does not exist (yet)
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def check_paths(config: Config) -> None:
    """Each output its own file, and none of them an input (which writing would destroy)."""
    inputs = {"train_input": config.train_input, "validation_input": config.validation_input}
    outputs = {"train_out": config.train_out, "validation_out": config.validation_out,
               "metrics_out": config.metrics_out}  # fmt: skip
    seen: dict[str, Path] = {}
    for name, path in outputs.items():
        for input_name, input_path in inputs.items():
            if _same_file(path, input_path):
                raise UsageError(
                    f"{name} {path} is the {input_name} {input_path}: writing it would destroy it"
                )
        for other, other_path in seen.items():
            if _same_file(path, other_path):
                raise UsageError(
                    f"{other} and {name} are the same file ({other_path}, {path}): give each its own"
                )
        seen[name] = path


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


def check_memory(hidden_units: int, num_features: int, num_examples: int) -> None:
    """Refuse, before allocating anything, a network that cannot fit in this machine's memory.

    Counted, in float64: the weights, their gradients and an update's temporary, and the
    activations of scoring a whole data set at once (``mean_cross_entropy``).
    """
    weights = hidden_units * (num_features + 1) + NUM_CLASSES * (hidden_units + 1)
    need = 8 * (3 * weights + 3 * num_examples * (hidden_units + NUM_CLASSES))
    have = _memory_limit()
    if have is not None and need > have:
        raise UsageError(
            f"hidden_units {hidden_units} needs about {_gib(need)} of memory ({weights} weights, and "
            f"the activations of {num_examples} examples), more than the {_gib(have)} this machine has"
        )


def _memory_limit() -> int | None:
    """Physical memory, or a container's (cgroup) limit when that is smaller; None if unknown."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    for cgroup in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            limits.append(int(Path(cgroup).read_text().strip()))
        except (OSError, ValueError):  # absent, or "max"
            pass
    limits = [n for n in limits if n > 0]
    return min(limits) if limits else None


def _gib(n: int) -> str:
    return f"{n / 2**30:.3g} GiB" if n < 2**40 else f"{n / 2**40:.3g} TiB"


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


def make_step(net: OCRNet, rate: float, keep_grads: bool = False) -> Callable[..., float]:
    """The handout's SGD step compiled: forward, cross-entropy, backward and ``θ ← θ − rate·g``
    in one generated function (``nn.compile_step``; print ``step.source`` to read it).

    ``keep_grads``: also leave each step's gradients in ``.grad`` (for the trace's log).
    """
    optimizer = nn.optim.SGD(net.parameters(), lr=rate)
    return nn.compile_step(net, F.cross_entropy, optimizer, keep_grads=keep_grads)


def sgd_step(
    net: OCRNet, x_row: np.ndarray, label: int, rate: float, log: logging.Logger | None = None,
    step: Callable[..., float] | None = None,
) -> float:
    """One SGD update on one example; returns its cross-entropy (Equation 2).

    ``step`` (from ``make_step``) runs it compiled, with eager's exact numbers; without one it
    runs eagerly: ``loss.backward()``, then ``p.data -= rate * p.grad.data``. With ``log``
    the forward values and the gradients of ``a``, ``z`` and ``b`` come from an eager pass
    (a fused step keeps no intermediate values); the update, and the gradients of α and β it
    used, from ``step`` when given (made with ``keep_grads=True``).
    """
    x_batch, target = x_row.reshape(1, -1), np.array([label])
    if step is not None and log is None:
        return step(x_batch, target)
    x = Tensor(x_batch)
    a = net.hidden(x)
    z = a.sigmoid()
    b = net.output(z)
    if log is not None:
        for t in (a, z, b):
            t.retain_grad()
    loss = F.cross_entropy(b, target)
    net.zero_grad()
    loss.backward()
    if step is not None:
        loss_value = step(x_batch, target)  # the update; with keep_grads, its gradients in .grad
    else:
        loss_value = float(loss.item())
        with autograd.no_grad():
            for p in net.parameters():
                p.data -= rate * p.grad.data  # the plain SGD update of the handout
    if log is not None:
        _log_step(log, net, a, z, b, loss_value)
        log.info("\t\tUpdate weights")
        hidden, output = net.hidden, net.output
        log.info("\t\t\tNew alpha:\n%s", _with_bias_column(hidden.weight.data, hidden.bias.data))
        log.info("\t\t\tNew beta:\n%s", _with_bias_column(output.weight.data, output.bias.data))
    return loss_value


def _log_step(log: logging.Logger, net: OCRNet, a: Tensor, z: Tensor, b: Tensor, loss: float) -> None:
    ones = np.ones((1, 1))
    log.info("\t\tBegin forward pass")
    log.info("\t\t\tValue of a (before sigmoid):\n%s", a.data)
    log.info("\t\t\tValue of z (after sigmoid):\n%s", np.hstack([ones, z.data]))
    log.info("\t\t\tValue of b (before softmax):\n%s", b.data)
    log.info("\t\t\tValue of y_hat (after softmax):\n%s", b.softmax(axis=1).data)
    log.info("\t\t\tCross entropy: %r", loss)
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
    """Train as the handout says; returns the network and the metric lines.

    Raises:
        DivergedError: the loss of a step, a metric, or a weight stopped being finite (a
            learning rate too large), rather than going on to write NaN metrics.
        MemoryError: the weights do not fit in memory.
    """
    try:
        net = OCRNet(x_train.shape[1], config.hidden_units)
    except (ValueError, OverflowError) as error:  # numpy's "array is too big", "dimension exceeded"
        raise MemoryError(
            f"cannot allocate the weights of {config.hidden_units} hidden units ({error})"
        ) from None
    initialise(net, config.init_flag, config.seed)
    log = logging.getLogger("Output for tiny dataset") if config.trace else None
    step = make_step(net, config.learning_rate, keep_grads=log is not None)
    lines = []
    for epoch in range(1, config.num_epoch + 1):
        if log is not None:
            log.info("Epoch %d", epoch - 1)
        for i, (row, label) in enumerate(zip(x_train, y_train)):
            if log is not None:
                log.info("\tSGD with respect to sample %d", i)
            loss = sgd_step(net, row, int(label), config.learning_rate, log, step)
            if not math.isfinite(loss):
                raise _diverged(
                    config, f"the loss of example {i + 1} in epoch {epoch} is non-finite ({loss})"
                )
        if not all(np.isfinite(p.data).all() for p in net.parameters()):
            raise _diverged(config, f"some weights are non-finite after epoch {epoch}")
        for name, x, y in (("train", x_train, y_train), ("validation", x_valid, y_valid)):
            loss = mean_cross_entropy(net, x, y)
            if not math.isfinite(loss):
                raise _diverged(config, f"crossentropy({name}) after epoch {epoch} is non-finite ({loss})")
            lines.append(f"epoch={epoch} crossentropy({name}): {_number(loss)}")
    return net, lines


def _diverged(config: Config, what: str) -> DivergedError:
    return DivergedError(
        f"learning_rate {config.learning_rate:g} made training diverge: {what}; "
        "nothing written (try a smaller learning rate)"
    )


def _number(value: float) -> str:
    """As the handout prints numbers (Python 2's str): 12 significant digits, always a point.

    2.18506276114, 0.77, 1.0.
    """
    text = format(value, ".12g")
    return text if any(c in text for c in ".einf") else text + ".0"


def _labels_text(labels: np.ndarray) -> str:
    return "".join(f"{int(label)}\n" for label in labels)


def write_outputs(files: dict[Path, str]) -> None:
    """Write every file to a temporary beside it, then rename them all: all or nothing.

    ``autograd.files`` does the writing: each output gets the permissions a plain ``open``
    would give it (an existing file's own, or 0666 less the umask). A rename can still
    fail, or be interrupted, after others succeeded; the error then says which outputs
    were replaced and which were not.

    Raises:
        OutputError: naming the user's path (never the temporary) and the reason.
        KeyboardInterrupt: while renaming, with the same account of what was replaced.
    """
    replaced: list[Path] = []

    def account() -> str:
        if not replaced:
            return "no output was changed"
        left = [str(path) for path in files if path not in replaced]
        return f"{', '.join(map(str, replaced))} replaced, {', '.join(left)} left as before"

    contents = [(path, text.encode("utf-8")) for path, text in files.items()]
    try:
        write_files_atomically(contents, replaced)
    except WriteError as error:
        raise OutputError(f"cannot write {error.path}: {error.strerror}; {account()}") from None
    except KeyboardInterrupt:
        if replaced:
            raise KeyboardInterrupt(f"while renaming the outputs: {account()}") from None
        raise


def main(argv: list[str] | None = None) -> int:
    try:
        config = parse_args(sys.argv[1:] if argv is None else argv)
        check_paths(config)
        check_writable([config.train_out, config.validation_out, config.metrics_out])
        x_train, y_train = read_examples(config.train_input)
        x_valid, y_valid = read_examples(config.validation_input)
        if x_valid.shape[1] != x_train.shape[1]:
            raise UsageError(
                f"{config.validation_input} has {x_valid.shape[1]} features per row, "
                f"but {config.train_input} has {x_train.shape[1]}"
            )
        check_memory(config.hidden_units, x_train.shape[1], max(len(x_train), len(x_valid)))
        if config.trace:
            logging.basicConfig(
                level=logging.INFO, format="%(levelname)s:%(name)s:%(message)s", stream=sys.stderr
            )
        # an overflow on the way to a finite result is fine (e^1000 in a sigmoid gives 0);
        # train() checks that the loss and the weights stay finite, so the warnings are noise
        with np.errstate(all="ignore"):
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
    except (UsageError, DataError, OutputError, DivergedError) as error:
        return _fail(str(error))
    except MemoryError as error:
        return _fail(f"out of memory: {error or 'no detail'}; nothing written (fewer hidden_units?)")
    except OSError as error:  # not expected: the ones above name what they were doing
        return _fail(f"{error}; no output was changed")
    except KeyboardInterrupt as error:
        return _fail(
            f"interrupted {error}" if str(error) else "interrupted; no output was changed", status=130
        )
    return 0


def _fail(message: str, status: int = 2) -> int:
    print(f"neuralnet.py: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
