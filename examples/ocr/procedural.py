"""CMU 10-315 homework 2: the one-hidden-layer network written procedurally, by hand, in numpy.

This is the homework's own API — every derivative derived on paper — so it can be
set beside the engine: ``tests/test_ocr_procedural.py`` checks every backward
function against chainrule's ``.backward()`` and against finite differences, and
``train_and_valid`` against ``neuralnet.py``.

Shapes follow the handout: ``x`` is one example with the bias feature x₀ = 1 prepended
(length M+1), α is D×(M+1), β is K×(D+1), labels are integers 0..K-1 (``y`` one-hot
where a function takes it).

Forward (Algorithm 1):  a = linearForward(x, α); z = sigmoidForward(a);
b = linearForward(z, β) (with z₀ = 1 prepended); ŷ = softmaxForward(b);
J = crossEntropy(y, ŷ).
Backward (Algorithm 2): g_b = softmaxBackward(y, ŷ); g_β, g_z = linearBackward(z, β, g_b);
g_a = sigmoidBackward(z, g_z); g_α, g_x = linearBackward(x, α, g_a).
"""

from __future__ import annotations

import numpy as np


def linearForward(input: np.ndarray, p: np.ndarray) -> np.ndarray:  # noqa: A002, N802
    """a = p · input, where ``input`` already carries its bias feature at index 0."""
    return p @ input


def sigmoidForward(a: np.ndarray) -> np.ndarray:  # noqa: N802
    """z = 1 / (1 + e^-a), computed without overflow."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def softmaxForward(b: np.ndarray) -> np.ndarray:  # noqa: N802
    """ŷ_k = e^{b_k} / Σ_l e^{b_l}, shifted by max(b) so it never overflows."""
    e = np.exp(b - np.max(b))
    return e / e.sum()


def crossEntropy(y: np.ndarray, y_hat: np.ndarray) -> float:  # noqa: N802
    """J = −Σ_k y_k log ŷ_k for a one-hot ``y`` (Equation 1.3)."""
    return float(-np.sum(y * np.log(y_hat)))


def NNForward(x: np.ndarray, y: np.ndarray, alpha: np.ndarray, beta: np.ndarray):  # noqa: N802
    """Algorithm 1. ``x`` has its bias feature; returns x, a, z (with z₀ = 1), b, ŷ, J."""
    a = linearForward(x, alpha)
    z = np.concatenate([[1.0], sigmoidForward(a)])
    b = linearForward(z, beta)
    y_hat = softmaxForward(b)
    return x, a, z, b, y_hat, crossEntropy(y, y_hat)


def softmaxBackward(y: np.ndarray, y_hat: np.ndarray) -> np.ndarray:  # noqa: N802
    """dJ/db for softmax followed by cross-entropy: ŷ − y (the terms cancel)."""
    return y_hat - y


def linearBackward(prev: np.ndarray, p: np.ndarray, grad_curr: np.ndarray):  # noqa: N802
    """For curr = p · prev: dJ/dp = grad_curr prevᵀ and dJ/dprev = pᵀ grad_curr.

    Returns ``(g_p, g_prev)``; ``g_prev`` excludes the bias entry (nothing flows into
    the constant 1).
    """
    g_p = np.outer(grad_curr, prev)
    g_prev = p[:, 1:].T @ grad_curr
    return g_p, g_prev


def sigmoidBackward(curr: np.ndarray, grad_curr: np.ndarray) -> np.ndarray:  # noqa: N802
    """For z = σ(a): dJ/da = dJ/dz · z (1 − z). ``curr`` is z, with or without z₀ = 1."""
    z = curr[1:] if curr.shape != grad_curr.shape else curr
    return grad_curr * z * (1 - z)


def NNBackward(x, y, alpha, beta, z, y_hat):  # noqa: N802
    """Algorithm 2: returns g_α, g_β, g_b, g_z, g_a."""
    g_b = softmaxBackward(y, y_hat)
    g_beta, g_z = linearBackward(z, beta, g_b)
    g_a = sigmoidBackward(z, g_z)
    g_alpha, _ = linearBackward(x, alpha, g_a)  # g_x is discarded
    return g_alpha, g_beta, g_b, g_z, g_a


def _with_bias(x: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(x)), x])


def _one_hot(label: int, num_classes: int) -> np.ndarray:
    y = np.zeros(num_classes)
    y[int(label)] = 1.0
    return y


def _initial_parameters(M, D, K, init_flag, rng):
    if init_flag:  # RANDOM: weights ~ U[-0.1, 0.1], biases 0
        alpha = np.column_stack([np.zeros(D), rng.uniform(-0.1, 0.1, size=(D, M))])
        beta = np.column_stack([np.zeros(K), rng.uniform(-0.1, 0.1, size=(K, D))])
    else:  # ZERO
        alpha, beta = np.zeros((D, M + 1)), np.zeros((K, D + 1))
    return alpha, beta


def _mean_cross_entropy(X, Y, alpha, beta, num_classes):
    return float(np.mean([NNForward(x, _one_hot(y, num_classes), alpha, beta)[5] for x, y in zip(X, Y)]))


def SGD(tr_x, tr_y, valid_x, valid_y, hidden_units, num_epoch, init_flag, learning_rate,
        num_classes=10, seed=0):  # noqa: N802  # fmt: skip
    """Algorithm 3: per-example SGD in file order.

    ``tr_x``/``valid_x`` are N×M (without the bias column); ``init_flag`` True/1 is
    RANDOM, False/2... is ZERO (anything but 1/True). Returns α, β and the per-epoch
    mean training and validation cross-entropies.
    """
    tr_x, valid_x = _with_bias(np.asarray(tr_x, float)), _with_bias(np.asarray(valid_x, float))
    tr_y, valid_y = np.asarray(tr_y).reshape(-1), np.asarray(valid_y).reshape(-1)
    random = init_flag is True or init_flag == 1
    alpha, beta = _initial_parameters(tr_x.shape[1] - 1, hidden_units, num_classes, random,
                                      np.random.default_rng(seed))  # fmt: skip
    train_losses, valid_losses = [], []
    for _ in range(num_epoch):
        for x, label in zip(tr_x, tr_y):
            y = _one_hot(label, num_classes)
            x, a, z, b, y_hat, J = NNForward(x, y, alpha, beta)
            g_alpha, g_beta, *_ = NNBackward(x, y, alpha, beta, z, y_hat)
            alpha = alpha - learning_rate * g_alpha
            beta = beta - learning_rate * g_beta
        train_losses.append(_mean_cross_entropy(tr_x, tr_y, alpha, beta, num_classes))
        valid_losses.append(_mean_cross_entropy(valid_x, valid_y, alpha, beta, num_classes))
    return alpha, beta, train_losses, valid_losses


def prediction(tr_x, tr_y, valid_x, valid_y, tr_alpha, tr_beta, num_classes=10):
    """Algorithm 4: returns train_error, valid_error, train_predictions, valid_predictions."""
    results = []
    for X, Y in ((tr_x, tr_y), (valid_x, valid_y)):
        X, Y = _with_bias(np.asarray(X, float)), np.asarray(Y).reshape(-1)
        labels = [
            int(np.argmax(NNForward(x, _one_hot(y, num_classes), tr_alpha, tr_beta)[4]))  # ties: smallest
            for x, y in zip(X, Y)
        ]
        results.append((float(np.mean(np.array(labels) != Y)), labels))
    (train_error, train_labels), (valid_error, valid_labels) = results
    return train_error, valid_error, train_labels, valid_labels


def train_and_valid(X_train, y_train, X_val, y_val, num_epoch, num_hidden, init_rand, learning_rate,
                    seed=0):  # noqa: N803  # fmt: skip
    """Q5: train, then predict. Returns, in order: the per-epoch training and validation
    cross-entropies (lists), the training and validation errors, and the predicted
    labels (lists of ints)."""
    alpha, beta, train_losses, valid_losses = SGD(
        X_train, y_train, X_val, y_val, num_hidden, num_epoch, init_rand, learning_rate, seed=seed
    )
    err_train, err_val, y_hat_train, y_hat_val = prediction(X_train, y_train, X_val, y_val, alpha, beta)
    return train_losses, valid_losses, err_train, err_val, y_hat_train, y_hat_val
