"""The training loop: forward, loss, backward, update, over mini-batches and epochs.

    for each epoch:                        # one pass over the training set
        shuffle the examples
        for each mini-batch (X_b, y_b):    # batch_size examples, the last one maybe fewer
            logits = model.forward(X_b)
            loss   = mean cross-entropy of softmax(logits) against y_b
            model.backward(dloss/dlogits)  # fills every layer's grads
            optimizer.step(params, grads)  # w <- w - lr * (something made of the gradient)

One epoch of N examples is ceil(N / batch_size) updates. Shuffling each epoch gives every
batch a fresh mix of classes, so consecutive gradients are not biased the same way.

If the loss becomes inf or NaN, or passes :data:`BLOWN_UP` (a learning rate too large sends
the weights off towards infinity), :func:`fit` stops at once with :class:`TrainingDiverged`,
saying where.

Example
-------
>>> import numpy as np
>>> from nblib import data, layers, optim, training
>>> X_train, X_test, y_train, y_test = data.digits()
>>> rng = np.random.default_rng(0)
>>> model = layers.Sequential.mlp([64, 32, 10], rng=rng)
>>> history = training.fit(model, X_train, y_train, optimizer=optim.Adam(0.01), epochs=5, rng=rng)
>>> history.epochs, model.accuracy(X_test, y_test) > 0.9
(5, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nblib import mlp
from nblib._reference import reference
from nblib._validation import as_labels, as_matrix, check_int
from nblib.layers import SoftmaxCrossEntropy, softmax_cross_entropy

__all__ = ["fit", "History", "TrainingDiverged", "BLOWN_UP", "sgd_train_step"]

# A mean cross-entropy this large means probabilities of e^-10000 for the true classes: not a
# hard batch but weights that have blown up. (With logits the loss is computed stably, so it
# can stay finite, ~1e20, long after the weights are useless.)
BLOWN_UP = 1e4


class TrainingDiverged(RuntimeError):
    """The loss became infinite or NaN during :func:`fit`."""


@dataclass
class History:
    """Per-epoch records of a :func:`fit`: the mean training loss and accuracy over the
    epoch's batches, and the loss and accuracy on the validation set if one was given."""

    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.loss)


def fit(model, X, y, *, optimizer, epochs: int, batch_size: int = 32, rng: np.random.Generator,
        validation=None, callback=None) -> History:
    """Train ``model`` on (X, y) with mini-batch gradient descent; returns the History.

    Parameters
    ----------
    model : nblib.layers.Sequential
        Outputs logits (N, C); trained in place.
    X : array_like, shape (N, D)
    y : array_like of int, shape (N,)
    optimizer : nblib.optim.Optimizer
    epochs, batch_size : int
    rng : np.random.Generator
        Shuffles the examples each epoch.
    validation : (X_val, y_val), optional
        Evaluated after each epoch.
    callback : callable, optional
        ``callback(history)`` after each epoch, e.g. :class:`nblib.widgets.TrainingProgress`;
        returning ``False`` stops the training.

    Raises
    ------
    TrainingDiverged
        When a batch's loss is not finite or above :data:`BLOWN_UP`.
    """
    X = as_matrix(X, "X")
    y = as_labels(y, "y", length=len(X))
    epochs = check_int(epochs, "epochs", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    history = History()
    with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is caught by the loss check
        for epoch in range(1, epochs + 1):
            loss, accuracy = _epoch(model, X, y, optimizer, epoch=epoch, batch_size=batch_size, rng=rng)
            history.loss.append(loss)
            history.accuracy.append(accuracy)
            if validation is not None:
                X_val, y_val = validation
                history.val_loss.append(SoftmaxCrossEntropy().forward(model.forward(X_val), y_val))
                history.val_accuracy.append(model.accuracy(X_val, y_val))
            if callback is not None and callback(history) is False:
                break
    return history


def _epoch(model, X, y, optimizer, *, epoch: int, batch_size: int, rng) -> tuple[float, float]:
    """One pass over the shuffled training set; returns its mean loss and accuracy."""
    loss_fn = SoftmaxCrossEntropy()
    order = rng.permutation(len(X))
    total_loss, correct = 0.0, 0
    for batch, start in enumerate(range(0, len(X), batch_size), start=1):
        rows = order[start:start + batch_size]
        logits = model.forward(X[rows])                               # (B, C)
        loss = loss_fn.forward(logits, y[rows])
        if not loss < BLOWN_UP:  # also true for nan
            raise TrainingDiverged(_diverged(loss, epoch, batch, optimizer))
        model.backward(loss_fn.backward())                            # fills every layer's grads
        optimizer.step(model.parameters(), model.gradients())
        total_loss += loss * len(rows)
        correct += int((logits.argmax(axis=1) == y[rows]).sum())
    return total_loss / len(X), correct / len(X)


def _diverged(loss: float, epoch: int, batch: int, optimizer) -> str:
    lr = getattr(optimizer, "learning_rate", None)
    at = f" {lr:g}" if isinstance(lr, (int, float)) else ""
    return (f"the loss became {loss} at epoch {epoch}, batch {batch}: the weights have blown up. "
            f"The learning rate{at} is probably too large; try one 10 times smaller.")


# --- week 4's homework signature ----------------------------------------------------------------

@reference
def sgd_train_step(X, y, weights, biases, *, lr: float, activation: str = "relu"):
    """One step of plain SGD on an MLP's mean softmax cross-entropy, in the signature of week 4's
    homework ``sgd_train_step`` (it stands in for the student's while their ``train`` is tested).

    Parameters
    ----------
    X : array_like, shape (N, D)
    y : array_like of int, shape (N,)
    weights, biases : sequences of ndarray
        W_l (D_l, M_l) and b_l (M_l,), as for :func:`nblib.mlp.forward`; not modified.
    lr : float
        The learning rate.
    activation : str
        The hidden layers' activation; the last layer outputs logits.

    Returns
    -------
    loss : float
        The mean cross-entropy on the batch, before the update.
    new_weights, new_biases : list of ndarray
        W_l - lr dW_l and b_l - lr db_l, new arrays.

    Notes
    -----
    Every gradient is computed with the weights of the forward pass, then all are updated.

    Example
    -------
    >>> X, y = np.array([[2.0, 1.0]]), np.array([0])
    >>> weights, biases = [np.array([[1.0], [-1.0]]), np.array([[2.0, -1.0]])], [np.zeros(1), np.zeros(2)]
    >>> loss, new_weights, new_biases = sgd_train_step(X, y, weights, biases, lr=0.1)
    >>> round(loss, 6), new_biases[1]            # loss = log(1 + e^-3); db_2 = softmax(2, -1) - (1, 0)
    (0.048587, array([ 0.00474259, -0.00474259]))
    """
    logits, cache = mlp.forward(X, weights, biases, activation=activation, output="identity")   # (N, C)
    loss, dlogits = softmax_cross_entropy(logits, y)
    dweights, dbiases = mlp.backward(dlogits, cache, weights)
    new_weights = [np.asarray(W, dtype=float) - lr * dW for W, dW in zip(weights, dweights)]
    new_biases = [np.asarray(b, dtype=float) - lr * db for b, db in zip(biases, dbiases)]
    return loss, new_weights, new_biases
