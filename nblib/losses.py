"""Softmax and the loss functions of classification and regression.

Shapes: a batch of N examples and C classes. ``logits`` z and probabilities p are (N, C);
one-hot targets Y are (N, C); integer labels y are (N,) with values in [0, C).

Every loss returns the mean over the batch by default (``reduction="mean"``, which Keras
calls ``"sum_over_batch_size"``); ``reduction="sum"`` adds, ``"none"`` returns one loss per
example, shape (N,).

Stability, in one line each:
- softmax subtracts the row maximum first: softmax(z) = softmax(z - max z), and exp(<= 0)
  cannot overflow;
- log-softmax is z - max z - log(sum exp(z - max z)) (the log-sum-exp trick), never log(0);
- losses "from logits" use log-softmax / log-sigmoid directly, so they stay exact for
  logits of +-1000;
- losses from probabilities clip p into [eps, 1 - eps] with eps = 1e-7, as Keras does,
  so a confident wrong answer costs -log(1e-7) = 16.1 instead of infinity.

Example
-------
>>> import numpy as np
>>> from nblib import losses
>>> losses.softmax(np.array([[1000.0, 1000.0]]))
array([[0.5, 0.5]])
>>> round(losses.sparse_categorical_cross_entropy(np.array([0]), np.array([[2.0, 0.0]]), from_logits=True), 4)
0.1269
"""

from __future__ import annotations

import numpy as np

from nblib._reference import reference
from nblib._registry import Registry
from nblib._validation import as_float_array, as_labels, as_matrix, check_choice, check_same_shape
from nblib.activations import sigmoid

__all__ = [
    "EPSILON", "softmax", "log_softmax", "binary_cross_entropy", "categorical_cross_entropy",
    "sparse_categorical_cross_entropy", "mean_squared_error", "LOSSES",
]

EPSILON = 1e-7  # same as keras.config.epsilon()

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(per_example: np.ndarray, reduction: str):
    check_choice(reduction, "reduction", _REDUCTIONS)
    if reduction == "none":
        return per_example
    total = per_example.sum() if reduction == "sum" else per_example.mean()
    return float(total)


def _check_axis(z: np.ndarray, axis: int) -> None:
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {z.shape}")


# --- softmax --------------------------------------------------------------------------------

@reference
def softmax(z, axis: int = -1):
    """Softmax: p_k = exp(z_k) / sum_j exp(z_j), along ``axis`` (the class axis).

    Parameters
    ----------
    z : array_like, shape (N, C) or any shape
        Logits (unnormalised scores).
    axis : int
        Axis holding the classes; every slice along it sums to 1.

    Returns
    -------
    p : ndarray, same shape as z
        Probabilities in [0, 1].

    Notes
    -----
    softmax is unchanged by adding a constant to every logit, so we subtract the maximum:
    the largest exponent becomes exp(0) = 1 and none can overflow.
    """
    z = as_float_array(z, "z")
    _check_axis(z, axis)
    e = np.exp(z - z.max(axis=axis, keepdims=True))  # every exponent <= 0
    return e / e.sum(axis=axis, keepdims=True)


@reference
def log_softmax(z, axis: int = -1):
    """log(softmax(z)) computed without taking the log of a tiny number.

    Notes
    -----
    log p_k = z_k - logsumexp(z), with logsumexp(z) = m + log(sum_j exp(z_j - m)), m = max z.
    For z = [1000, -1000] this gives [0, -2000] exactly, where log(softmax(z)) gives -inf.
    """
    z = as_float_array(z, "z")
    _check_axis(z, axis)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# --- binary cross-entropy ---------------------------------------------------------------------

@reference
def binary_cross_entropy(y_true, y_pred, *, from_logits: bool = False, reduction: str = "mean"):
    """Binary cross-entropy: L = -[y log p + (1 - y) log(1 - p)], averaged.

    Parameters
    ----------
    y_true : array_like, shape (N,) or (N, K)
        Targets in [0, 1] (0/1 labels, or soft labels). K > 1 is multi-label.
    y_pred : array_like, same shape as y_true
        Probabilities p = sigmoid(z), or logits z when ``from_logits=True``.
    from_logits : bool
        Use the exact logit form (recommended).
    reduction : {"mean", "sum", "none"}
        "none" returns one value per example: the mean over the K outputs, shape (N,).

    Notes
    -----
    With logits, -[y log sigmoid(z) + (1 - y) log sigmoid(-z)] simplifies to
    max(z, 0) - z y + log(1 + exp(-|z|)), which never overflows.
    Matches ``keras.losses.BinaryCrossentropy(from_logits=...)``.
    """
    y, z = _pair(y_true, y_pred)
    if np.any((y < 0) | (y > 1)):
        raise ValueError(f"y_true must hold targets in [0, 1], got values from {y.min()} to {y.max()}")
    if from_logits:
        elementwise = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    else:
        _check_probabilities(z, "y_pred")
        p = np.clip(z, EPSILON, 1 - EPSILON)
        elementwise = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    per_example = elementwise if elementwise.ndim == 1 else elementwise.mean(axis=-1)
    return _reduce(per_example, reduction)


# --- categorical cross-entropy ---------------------------------------------------------------

@reference
def categorical_cross_entropy(y_true, y_pred, *, from_logits: bool = False, reduction: str = "mean"):
    """Categorical cross-entropy with one-hot targets: L_n = -sum_k Y_nk log p_nk.

    Parameters
    ----------
    y_true : array_like, shape (N, C)
        One-hot rows (or any probability rows, e.g. label smoothing).
    y_pred : array_like, shape (N, C)
        Probabilities (rows sum to 1), or logits when ``from_logits=True``.
    from_logits : bool
        Compute log p with ``log_softmax`` (exact and stable).
    reduction : {"mean", "sum", "none"}

    Notes
    -----
    For one-hot Y only the true class's term survives: L_n = -log p_{n, y_n}.
    Matches ``keras.losses.CategoricalCrossentropy(from_logits=...)``.
    """
    y = as_matrix(y_true, "y_true")
    z = as_matrix(y_pred, "y_pred")
    check_same_shape(y, z, ("y_true", "y_pred"))
    log_p = _log_probabilities(z, from_logits)
    per_example = -(y * log_p).sum(axis=1)  # (N, C) -> (N,)
    return _reduce(per_example, reduction)


@reference
def sparse_categorical_cross_entropy(y_true, y_pred, *, from_logits: bool = False, reduction: str = "mean"):
    """Cross-entropy with integer labels: L_n = -log p_{n, y_n}.

    The same loss as ``categorical_cross_entropy`` with Y = one_hot(y), without building Y.

    Parameters
    ----------
    y_true : array_like of int, shape (N,)
        Class labels in [0, C).
    y_pred : array_like, shape (N, C)
        Probabilities, or logits when ``from_logits=True``.

    Notes
    -----
    Matches ``keras.losses.SparseCategoricalCrossentropy(from_logits=...)``.
    """
    z = as_matrix(y_pred, "y_pred")
    n, c = z.shape
    y = as_labels(y_true, "y_true", n_classes=c, length=n)
    log_p = _log_probabilities(z, from_logits)
    per_example = -log_p[np.arange(n), y]  # pick the true class in each row
    return _reduce(per_example, reduction)


# --- regression -----------------------------------------------------------------------------------

@reference
def mean_squared_error(y_true, y_pred, *, reduction: str = "mean"):
    """Mean squared error: L = mean((y - y_hat)^2).

    Parameters
    ----------
    y_true, y_pred : array_like, same shape (N,) or (N, K)

    Notes
    -----
    With reduction="none" each example's loss is the mean over its K outputs, shape (N,).
    Matches ``keras.losses.MeanSquaredError``.
    """
    y, y_hat = _pair(y_true, y_pred)
    squared = (y - y_hat) ** 2
    per_example = squared if squared.ndim == 1 else squared.mean(axis=-1)
    return _reduce(per_example, reduction)


LOSSES = Registry("loss", {
    "binary_cross_entropy": binary_cross_entropy,
    "categorical_cross_entropy": categorical_cross_entropy,
    "sparse_categorical_cross_entropy": sparse_categorical_cross_entropy,
    "mean_squared_error": mean_squared_error,
})


# --- helpers ----------------------------------------------------------------------------------------

def _pair(y_true, y_pred):
    """Targets and predictions as float arrays of one shape, (N,) or (N, K)."""
    y = as_float_array(y_true, "y_true")
    z = as_float_array(y_pred, "y_pred")
    check_same_shape(y, z, ("y_true", "y_pred"))
    if y.ndim not in (1, 2):
        raise ValueError(f"y_true must have shape (N,) or (N, K), got shape {y.shape}")
    return y, z


def _check_probabilities(p: np.ndarray, name: str) -> None:
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError(
            f"{name} must hold probabilities in [0, 1], got values from {np.nanmin(p):.4g} "
            f"to {np.nanmax(p):.4g}; if these are logits, pass from_logits=True"
        )


def _log_probabilities(z: np.ndarray, from_logits: bool) -> np.ndarray:
    """log p for each class, shape (N, C), from logits or from probability rows."""
    if from_logits:
        return log_softmax(z, axis=1)
    _check_probabilities(z, "y_pred")
    sums = z.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-3):
        raise ValueError(
            f"each row of y_pred must sum to 1, got row sums from {sums.min():.4g} to "
            f"{sums.max():.4g}; apply softmax first or pass from_logits=True"
        )
    return np.log(np.clip(z, EPSILON, 1 - EPSILON))
