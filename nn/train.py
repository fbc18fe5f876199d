"""A plain training loop: ``fit`` trains for some epochs and returns the history; ``evaluate`` scores.

>>> import numpy as np
>>> from nn import MLP, optim, functional as F
>>> from nn.data import TensorDataset, DataLoader
>>> from nn.train import fit
>>> x = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]]); y = np.array([0, 1, 1, 0])
>>> net = MLP(2, [8], 2, activation="tanh", generator=np.random.default_rng(0))
>>> history = fit(net, F.cross_entropy, optim.Adam(net.parameters(), lr=0.05),
...               DataLoader(TensorDataset(x, y), batch_size=4), epochs=200, progress=False)
>>> history["train_error"][-1]
0.0
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd
from autograd import Tensor


def _classification_errors(output: Tensor, target: Tensor) -> int | None:
    """How many predictions are wrong, when the output and target look like classification."""
    target_data = np.asarray(target.data)
    if output.ndim == 2 and target_data.ndim == 1 and target_data.dtype.kind in "iu":
        return int(np.sum(np.argmax(output.data, axis=1) != target_data))
    if output.shape == target_data.shape and np.isin(target_data, (0, 1)).all():
        return int(np.sum((output.data > 0) != (target_data > 0.5)))  # logits of a binary classifier
    return None


def evaluate(
    model: Callable[[Tensor], Tensor], loss_fn: Callable[..., Tensor], loader: Any
) -> dict[str, float]:
    """Mean loss over ``loader`` (and classification error, when it applies), in eval mode."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    total_loss, errors, count, classified = 0.0, 0, 0, True
    try:
        with autograd.no_grad():
            for x, y in loader:
                output = model(x)
                n = len(y) if y.ndim else 1
                total_loss += float(loss_fn(output, y).item()) * n
                wrong = _classification_errors(output, y)
                classified = classified and wrong is not None
                errors += wrong or 0
                count += n
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    if count == 0:
        raise ValueError("evaluate: the loader is empty (it yielded no examples)")
    result = {"loss": total_loss / count}
    if classified:
        result["error"] = errors / count
        result["accuracy"] = 1 - errors / count
    return result


def fit(
    model: Any,
    loss_fn: Callable[..., Tensor],
    optimizer: Any,
    train_loader: Any,
    epochs: int,
    valid_loader: Any = None,
    progress: bool = True,
    scheduler: Any = None,
    compile: bool = False,  # noqa: A002  (as torch.compile's flag is spelled)
) -> dict[str, list[float]]:
    """Train ``model`` for ``epochs`` passes over ``train_loader``.

    Each batch: forward, ``loss_fn(output, target)``, ``zero_grad``, ``backward``,
    ``optimizer.step()``. The training loss and error of an epoch are averaged over its
    batches as they are trained (``get_training_stats`` of CMU 11-785 homework 1,
    MyTorch); validation is scored after each epoch.

    Progress: a tqdm bar when tqdm is installed and the output is a terminal, else one
    line per epoch (``progress=False`` for silence).

    ``compile=True`` runs each batch's forward, loss, backward and update as one generated
    function (``nn.compile_step``): the same losses, errors and parameters as eager, without
    the graph. The step leaves no ``.grad`` on the parameters.

    Returns:
        ``{"train_loss": [...], "train_error": [...], "valid_loss": [...],
        "valid_error": [...]}``, one entry per epoch (errors only for classification,
        validation only with a ``valid_loader``).
    """
    if epochs <= 0:
        raise ValueError(f"fit: epochs must be positive, not {epochs}")
    for name, loader in (("train_loader", train_loader), ("valid_loader", valid_loader)):
        if loader is not None and hasattr(loader, "__len__") and len(loader) == 0:
            raise ValueError(f"fit: {name} is empty (no batches{_why_empty(loader)})")
    history: dict[str, list[float]] = {"train_loss": [], "train_error": []}
    if valid_loader is not None:
        history.update(valid_loss=[], valid_error=[])
    batches = len(train_loader) if hasattr(train_loader, "__len__") else None
    bar = _progress_bar(epochs * batches if batches is not None else None) if progress else None
    step = None
    if compile:
        from autograd.compiler import compile_step

        step = compile_step(model, loss_fn, optimizer, return_output=True)
    for epoch in range(1, epochs + 1):
        model.train()
        total_loss, errors, count, classified = 0.0, 0, 0, True
        for x, y in train_loader:
            if step is not None:
                loss_value, output_data = step(x, y)
                output = Tensor(output_data)
            else:
                output = model(x)
                loss = loss_fn(output, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                loss_value = loss.item()
            n = len(y) if y.ndim else 1
            total_loss += float(loss_value) * n
            wrong = _classification_errors(output, y)
            classified = classified and wrong is not None
            errors += wrong or 0
            count += n
            if bar is not None and count:
                bar.update(1)
                bar.set_postfix(epoch=epoch, loss=f"{total_loss / count:.4f}")
        if count == 0:  # an iterable without a length, or a one-shot iterator spent by epoch 1
            if bar is not None:
                bar.close()
            if epoch == 1:
                raise ValueError("fit: train_loader is empty (it yielded no examples)")
            raise ValueError(
                f"fit: train_loader yielded no examples in epoch {epoch} (a one-shot iterator? "
                "pass a DataLoader or a list, which can be iterated again)"
            )
        if scheduler is not None:
            scheduler.step()
        history["train_loss"].append(total_loss / count)
        if classified:
            history["train_error"].append(errors / count)
        line = f"epoch {epoch}/{epochs}: train loss {total_loss / count:.4f}"
        if classified:
            line += f", error {errors / count:.4f}"
        if valid_loader is not None:
            scores = evaluate(model, loss_fn, valid_loader)
            history["valid_loss"].append(scores["loss"])
            if "error" in scores:
                history["valid_error"].append(scores["error"])
                line += f"; valid loss {scores['loss']:.4f}, error {scores['error']:.4f}"
            else:
                line += f"; valid loss {scores['loss']:.4f}"
        if progress and bar is None:
            print(line, flush=True)
        elif bar is not None:
            bar.write(line)
    if bar is not None:
        bar.close()
    return {k: v for k, v in history.items() if v}


def _why_empty(loader: Any) -> str:
    """The likely reason a DataLoader has no batches."""
    dataset = getattr(loader, "dataset", None)
    if dataset is None or not hasattr(dataset, "__len__"):
        return ""
    if len(dataset) == 0:
        return ": its dataset has no examples"
    if getattr(loader, "drop_last", False):
        return f": drop_last drops all {len(dataset)} examples, fewer than batch_size {loader.batch_size}"
    return ""


def _progress_bar(total: int | None) -> Any:
    """A tqdm bar on a terminal, else None (plain lines instead)."""
    if not sys.stdout.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="batch", leave=False)
