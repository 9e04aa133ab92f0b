"""The training loop of the whole course: forward, loss, backward, update, over mini-batches.

    for each epoch:                        # one pass over the training set
        shuffle the examples
        for each mini-batch (X_b, y_b):    # batch_size examples, the last one maybe fewer
            out  = model.forward(X_b)      # in training mode
            loss = loss_fn.forward(out, y_b)
            model.backward(loss_fn.backward())   # fills every layer's grads
            optimizer.step(params, grads)  # w <- w - lr * (something made of the gradient)
        evaluate on the validation set     # in inference mode
        every callback sees the history    # a progress bar, early stopping, ...

One epoch of N examples is ceil(N / batch_size) updates. Shuffling each epoch gives every
batch a fresh mix of classes, so consecutive gradients are not biased the same way.

``X`` is any batch-first array ((N, D), (N, T, D), (N, H, W, C)) that the model takes; the
loss is one of :data:`nblib.layers.LOSSES` ("softmax_cross_entropy" on logits with integer
labels, "sigmoid_cross_entropy" for yes/no targets, "mean_squared_error" for regression).
Accuracy is recorded for the two classification losses.

Callbacks are one mechanism: a :class:`Callback` (``on_train_begin(model)``,
``on_epoch_end(history)``, ``on_train_end(history)``), or a plain function of the history
(:class:`nblib.widgets.TrainingProgress` is one). ``on_epoch_end`` returning ``False`` stops
the training: that is how :class:`EarlyStopping` works.

``fit(..., l2=factor)`` adds an L2 penalty (weight decay) on every kernel, as Keras's
``kernel_regularizer=keras.regularizers.L2(factor)`` on each layer: factor * sum(W**2) over the
parameters named "W" (never the biases or a batch norm's gamma and beta) is added to each
batch's loss, and 2 * factor * W to those kernels' gradients before the optimizer step. Like
Keras, the recorded ``loss`` and ``val_loss`` include the penalty (:mod:`nblib.regularization`).
Dropout and batch normalization need nothing more: :func:`fit` switches the model to training
mode for the batches and to inference mode for the validation set.

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

from nblib import regularization
from nblib._reference import reference
from nblib._validation import as_batch, check_int
from nblib.layers import LOSSES

__all__ = ["fit", "evaluate", "History", "Callback", "EarlyStopping", "TrainingDiverged", "BLOWN_UP"]

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


class Callback:
    """Something :func:`fit` calls: once before training, after every epoch, once after."""

    model = None

    def on_train_begin(self, model) -> None:
        self.model = model

    def on_epoch_end(self, history: History):
        """Return ``False`` to stop the training after this epoch."""

    def on_train_end(self, history: History) -> None:
        pass


class _Function(Callback):
    """A plain function of the history, as a callback."""

    def __init__(self, function):
        self.function = function

    def on_epoch_end(self, history):
        return self.function(history)


@reference
class EarlyStopping(Callback):
    """Stop when a monitored value has not improved for ``patience`` epochs, as in Keras.

    An epoch improves on the best so far when its value is lower by more than ``min_delta``
    (higher, for accuracies). After ``patience`` epochs in a row without improvement the
    training stops; with ``restore_best_weights`` the model gets back the parameters of its
    best epoch when the training ends, stopped early or not (as Keras 3 does), and, like
    Keras's ``get_weights``, its state too (batch norm's running statistics).

    Parameters
    ----------
    monitor : str
        A field of :class:`History`: "val_loss" (the default), "loss", "val_accuracy", ...
    patience : int
    min_delta : float
    restore_best_weights : bool
    """

    def __init__(self, monitor: str = "val_loss", *, patience: int = 0, min_delta: float = 0.0,
                 restore_best_weights: bool = False):
        if monitor not in History.__dataclass_fields__:
            raise ValueError(f"monitor must be a field of History, {sorted(History.__dataclass_fields__)}, "
                             f"got {monitor!r}")
        self.monitor, self.patience = monitor, check_int(patience, "patience")
        self.min_delta, self.restore_best_weights = abs(float(min_delta)), restore_best_weights
        self.sign = -1.0 if "accuracy" in monitor else 1.0     # minimise the loss, maximise accuracy

    def on_train_begin(self, model):
        super().on_train_begin(model)
        self.best, self.best_epoch, self.wait, self.stopped_epoch, self.best_weights = np.inf, 0, 0, 0, None

    def on_epoch_end(self, history):
        values = getattr(history, self.monitor)
        if not values:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which fit did not record "
                             f"(give fit a validation set for val_*)")
        value = self.sign * values[-1]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, history.epochs, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.copy() for k, v in _weights(self.model).items()}
            return True
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = history.epochs
            return False
        return True

    def on_train_end(self, history):
        if self.restore_best_weights and self.best_weights is not None:
            for key, value in _weights(self.model).items():
                value[...] = self.best_weights[key]


def _weights(model) -> dict:
    """Every array of the model that restoring the best weights puts back: parameters and state."""
    arrays = {("param", k): v for k, v in model.parameters().items()}
    state = getattr(model, "state", None)
    if callable(state):  # Sequential.state(): running statistics, which Keras's weights include
        arrays.update({("state", k): v for k, v in state().items()})
    return arrays


def fit(model, X, y, *, optimizer, epochs: int, batch_size: int = 32, rng: np.random.Generator,
        loss: str = "softmax_cross_entropy", validation=None, callbacks=(), l2: float = 0.0) -> History:
    """Train ``model`` on (X, y) with mini-batch gradient descent; returns the History.

    Parameters
    ----------
    model : nblib.layers.Sequential
        Any model with forward, backward, parameters, gradients and train/eval; trained in place.
    X : array_like, shape (N, ...)
        Batch first: (N, D), (N, T, D), (N, H, W, C).
    y : array_like, shape (N, ...)
        Integer labels for "softmax_cross_entropy"; targets the shape of the output otherwise.
    optimizer : nblib.optim.Optimizer
    epochs, batch_size : int
    rng : np.random.Generator
        Shuffles the examples each epoch.
    loss : str
        A name in :data:`nblib.layers.LOSSES`.
    validation : (X_val, y_val), optional
        Evaluated after each epoch, in inference mode.
    callbacks : Callback or function, or a sequence of them
        See :class:`Callback`; a function is called with the history after each epoch.
    l2 : float
        The L2 penalty factor on the kernels (Keras's ``L2(l2)``); 0 for none. The penalty is
        part of the recorded loss and val_loss, as in Keras.

    Raises
    ------
    TrainingDiverged
        When a batch's loss is not finite or above :data:`BLOWN_UP`.
    """
    X, y = as_batch(X, "X"), np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X and y must have one entry per example, got {len(X)} and {len(y)}")
    loss_fn = LOSSES[loss]()  # each loss checks its targets
    epochs = check_int(epochs, "epochs", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    callbacks = _callbacks(callbacks)
    l2 = regularization._factor(l2, "l2")
    history, was_training = History(), model.training
    for cb in callbacks:
        cb.on_train_begin(model)
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is caught by the loss check
            for epoch in range(1, epochs + 1):
                model.train()
                mean_loss, accuracy = _epoch(model, X, y, loss_fn, optimizer, epoch=epoch, batch_size=batch_size,
                                             rng=rng, l2=l2)
                _record(history, "", mean_loss, accuracy)
                if validation is not None:
                    model.eval()
                    _record(history, "val_", *evaluate(model, *validation, loss=loss, l2=l2))
                if any([cb.on_epoch_end(history) is False for cb in callbacks]):  # every callback sees each epoch
                    break
    finally:
        model.train(was_training)
    for cb in callbacks:
        cb.on_train_end(history)
    return history


def evaluate(model, X, y, *, loss: str = "softmax_cross_entropy", l2: float = 0.0) -> tuple[float, float | None]:
    """The mean loss on (X, y) (plus the L2 penalty, if ``l2``) and the accuracy (None for
    regression), in the model's current mode."""
    loss_fn = LOSSES[loss]()
    out = model.forward(X)
    value = loss_fn.forward(out, y) + _penalty(model, l2)
    return value, _accuracy(loss_fn, out, y) if loss_fn.classifies else None


def _epoch(model, X, y, loss_fn, optimizer, *, epoch: int, batch_size: int, rng,
           l2: float = 0.0) -> tuple[float, float | None]:
    """One pass over the shuffled training set; returns its mean loss and accuracy."""
    order = rng.permutation(len(X))
    total_loss, correct = 0.0, 0.0
    for batch, start in enumerate(range(0, len(X), batch_size), start=1):
        rows = order[start:start + batch_size]
        out = model.forward(X[rows])                                  # (B, ...)
        loss = loss_fn.forward(out, y[rows]) + _penalty(model, l2)     # at the weights before the step
        if not loss < BLOWN_UP:  # also true for nan
            raise TrainingDiverged(_diverged(loss, epoch, batch, optimizer))
        model.backward(loss_fn.backward())                            # fills every layer's grads
        optimizer.step(model.parameters(), _gradients(model, l2))
        total_loss += loss * len(rows)
        if loss_fn.classifies:
            correct += _accuracy(loss_fn, out, y[rows]) * len(rows)
    return total_loss / len(X), correct / len(X) if loss_fn.classifies else None


def _penalty(model, l2: float) -> float:
    return regularization.l2_penalty(model.parameters(), factor=l2) if l2 else 0.0


def _gradients(model, l2: float) -> dict:
    """The model's gradients, plus 2 * l2 * W on the kernels (new arrays; the layers' grads stay)."""
    grads = model.gradients()
    if not l2:
        return grads
    decay = regularization.l2_gradient(model.parameters(), factor=l2)
    return {k: g + decay[k] if k in decay else g for k, g in grads.items()}


def _accuracy(loss_fn, out, y) -> float:
    y = np.asarray(y)
    return float(np.mean(np.reshape(loss_fn.predict(out), y.shape) == y))


def _record(history: History, prefix: str, loss: float, accuracy) -> None:
    getattr(history, f"{prefix}loss").append(loss)
    if accuracy is not None:
        getattr(history, f"{prefix}accuracy").append(accuracy)


def _callbacks(given) -> list[Callback]:
    if given is None:
        return []
    given = list(given) if isinstance(given, (list, tuple)) else [given]
    return [cb if isinstance(cb, Callback) else _Function(cb) for cb in given]


def _diverged(loss: float, epoch: int, batch: int, optimizer) -> str:
    lr = getattr(optimizer, "learning_rate", None)
    at = f" {lr:g}" if isinstance(lr, (int, float)) else ""
    return (f"the loss became {loss} at epoch {epoch}, batch {batch}: the weights have blown up. "
            f"The learning rate{at} is probably too large; try one 10 times smaller.")
