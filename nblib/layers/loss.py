"""The end of the chain: a loss on the network's output, and its gradient to start backward.

    loss, dout = softmax_cross_entropy(logits, y)      # classes that exclude each other
    loss, dout = sigmoid_cross_entropy(logits, y)      # yes/no outputs (binary cross-entropy)
    loss, dout = mean_squared_error(pred, y)           # regression

Each takes the raw output of the last layer (N, ..., K): the squashing (softmax, sigmoid)
is part of the loss, which is both stabler and simpler. The loss is the mean over every
example (and position), so its gradient carries a 1/count:

    softmax cross-entropy   d/dlogits = (softmax(logits) - Y) / N    Y one-hot, (N, C)
    sigmoid cross-entropy   d/dlogits = (sigmoid(logits) - y) / n    n = number of entries
    mean squared error      d/dpred   = 2 (pred - y) / n

Both cross-entropies are "predicted minus true": the derivative of the log cancels the
softmax's (or sigmoid's) Jacobian. The classes wrap the functions for :func:`nblib.training.fit`,
which takes them by name through :data:`LOSSES`.
"""

from __future__ import annotations

import numpy as np

from nblib import activations, losses
from nblib._reference import reference
from nblib._registry import Registry
from nblib._validation import as_batch, as_float_array, as_labels

__all__ = ["softmax_cross_entropy", "softmax_cross_entropy_backward", "sigmoid_cross_entropy",
           "mean_squared_error", "SoftmaxCrossEntropy", "SigmoidCrossEntropy", "MeanSquaredError", "LOSSES"]


@reference
def softmax_cross_entropy(logits, y):
    """The mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    Parameters
    ----------
    logits : array_like, shape (N, C) or (N, ..., C)
    y : array_like of int, shape (N,) or (N, ...)

    Returns
    -------
    loss : float
        mean_n -log softmax(logits_n)[y_n], computed with log-softmax (stable).
    dlogits : ndarray, the shape of logits
        (softmax(logits) - Y) / N.
    """
    logits = as_batch(logits, "logits")
    if np.shape(y) != logits.shape[:-1]:
        raise ValueError(f"y must have shape {logits.shape[:-1]}, one label for each row of scores in logits "
                         f"{logits.shape}, got shape {np.shape(y)}")
    rows = logits.reshape(-1, logits.shape[-1])                          # (N, C), every position a row
    y = as_labels(np.reshape(y, -1), "y", n_classes=rows.shape[1])        # (N,)
    log_p = losses.log_softmax(rows, axis=1)                             # (N, C), log-sum-exp inside
    picked = np.arange(len(y)), y
    dlogits = np.exp(log_p)                                              # softmax, (N, C)
    dlogits[picked] -= 1.0                                               # P - Y
    return float(-log_p[picked].mean()), (dlogits / len(y)).reshape(logits.shape)


@reference
def softmax_cross_entropy_backward(logits, y):
    """Gradient of the mean cross-entropy of softmax(logits) against integer labels.

    dLoss/dlogits = (softmax(logits) - Y) / N, with Y the one-hot labels: the softmax's
    Jacobian and the log's 1/p cancel, leaving "predicted minus true".

    Parameters
    ----------
    logits : array_like, shape (N, C)
    y : array_like of int, shape (N,)

    Returns
    -------
    dlogits : ndarray, shape (N, C)
    """
    return softmax_cross_entropy(logits, y)[1]


def sigmoid_cross_entropy(logits, y):
    """Binary cross-entropy of sigmoid(logits) against 0/1 targets of the same shape, and its gradient.

    Per entry, -[y log s + (1 - y) log(1 - s)] with s = sigmoid(z) equals softplus(z) - y z,
    which never takes the log of 0. Matches ``keras.losses.BinaryCrossentropy(from_logits=True)``.

    Returns
    -------
    loss : float
        The mean over every entry.
    dlogits : ndarray, the shape of logits
        (sigmoid(logits) - y) / n.
    """
    z, y = _pair(logits, y, "logits")
    if np.any((y < 0) | (y > 1)):
        raise ValueError(f"y must hold targets in [0, 1], got values from {y.min():.4g} to {y.max():.4g}")
    loss = activations.softplus(z) - y * z                               # -log-likelihood per entry
    return float(loss.mean()), (activations.sigmoid(z) - y) / z.size


def mean_squared_error(pred, y):
    """The mean of (pred - y)^2 over every entry, and its gradient 2 (pred - y) / n.

    Matches ``keras.losses.MeanSquaredError``.
    """
    pred, y = _pair(pred, y, "pred")
    error = pred - y
    return float(np.mean(error**2)), 2.0 * error / error.size


def _pair(out, y, name: str):
    out = as_batch(out, name, min_ndim=1)
    y = as_float_array(y, "y")
    if y.shape != out.shape and y.shape + (1,) == out.shape:
        y = y.reshape(out.shape)                                         # (N,) targets for one output unit
    if y.shape != out.shape:
        raise ValueError(f"y must have the shape of {name}, {out.shape}, got {y.shape}")
    return out, y


# --- the loss as an object, for fit ----------------------------------------------------------------

class _Loss:
    """``loss = head.forward(out, y)`` keeps the gradient; ``head.backward()`` returns it."""

    function = None
    classifies = True

    def __init__(self):
        self._dout = None

    def forward(self, out, y) -> float:
        loss, self._dout = type(self).function(out, y)
        return loss

    def backward(self):
        if self._dout is None:
            raise RuntimeError(f"{type(self).__name__}: call forward before backward")
        return self._dout

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SoftmaxCrossEntropy(_Loss):
    """The loss of a classifier on logits (N, C) and integer labels (N,); predicts the argmax."""

    function = staticmethod(softmax_cross_entropy)

    @staticmethod
    def predict(out):
        return out.argmax(axis=-1)


class SigmoidCrossEntropy(_Loss):
    """Binary cross-entropy on logits and 0/1 targets; predicts 1 where the logit is > 0 (p > 0.5)."""

    function = staticmethod(sigmoid_cross_entropy)

    @staticmethod
    def predict(out):
        return (out > 0).astype(np.int64)


class MeanSquaredError(_Loss):
    """Regression: the output is the prediction."""

    function = staticmethod(mean_squared_error)
    classifies = False

    @staticmethod
    def predict(out):
        return out


LOSSES = Registry("loss", {
    "softmax_cross_entropy": SoftmaxCrossEntropy,
    "sigmoid_cross_entropy": SigmoidCrossEntropy,
    "mean_squared_error": MeanSquaredError,
}, aliases={"binary_cross_entropy": "sigmoid_cross_entropy", "mse": "mean_squared_error"})
