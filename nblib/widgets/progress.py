"""Week 4's training progress: a bar and a line of metrics that :func:`nblib.training.fit` updates each epoch.

    progress = TrainingProgress(epochs=20)
    display(progress)                     # or make it a cell's last expression
    history = training.fit(model, X, y, optimizer=..., epochs=20, rng=rng, callbacks=progress)
    plot_history(history)                 # the loss and accuracy curves

:class:`TrainingCurve` trains nblib's reference loop (:func:`nblib.homework.train`) on the iris
data with the controls' settings and draws its loss per epoch; given a student's ``train``
(``yours={"train": train}``, the week-4 homework's), it trains theirs with the same seed and
draws both curves.

The training runs in the cell, on the kernel's main thread, and calls ``progress(history)``
after every epoch on that same thread: each call changes the widgets' values, which
ipywidgets sends to the page at once, while the cell is still running.
"""

from __future__ import annotations

import html

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from nblib import data, homework, plots, training
from nblib._validation import check_int
from nblib.widgets._core import WIDE, Debouncer, Demo

__all__ = ["TrainingProgress", "plot_history", "TrainingCurve"]

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def _records(history) -> dict[str, list]:
    """The per-epoch lists of a :class:`nblib.training.History` (or a Keras-style dict) that hold values."""
    if isinstance(history, dict):
        found = {k: list(history[k]) for k in METRICS if k in history}
    else:
        found = {k: list(getattr(history, k)) for k in METRICS if hasattr(history, k)}
    if "loss" not in found:
        raise TypeError(f"history must be an nblib.training.History or a dict with a 'loss' list, "
                        f"got {type(history).__name__}")
    return {k: v for k, v in found.items() if v}


class TrainingProgress:
    """A progress bar and the latest metrics, updated by :func:`nblib.training.fit` after every epoch.

    Pass it to fit in ``callbacks``; show it first with ``display(progress)`` (or as the last
    expression of a cell) to watch it move. After epoch 3 of 20 the line reads
    ``epoch 3/20 · loss 0.412 · accuracy 91.3% · val accuracy 90.1%`` (the validation part
    only when fit has a validation set).

    Parameters
    ----------
    epochs : int
        The epochs fit was asked for: the bar's end.

    Attributes
    ----------
    bar : ipywidgets.IntProgress
        Epochs done, out of ``epochs``; green once all are done.
    label : ipywidgets.HTML
        The line of metrics.
    widget : ipywidgets.HBox
        The two together: what is shown.

    Example
    -------
    >>> import numpy as np
    >>> from nblib import data, layers, optim, training
    >>> X_train, X_test, y_train, y_test = data.digits()
    >>> rng = np.random.default_rng(0)
    >>> model = layers.Sequential.mlp([64, 16, 10], rng=rng)
    >>> progress = TrainingProgress(epochs=3)
    >>> history = training.fit(model, X_train, y_train, optimizer=optim.Adam(0.01), epochs=3, rng=rng,
    ...                        callbacks=progress)
    >>> progress.bar.value, progress.label.value.startswith("epoch 3/3 · loss ")
    (3, True)
    """

    def __init__(self, epochs: int):
        self.epochs = check_int(epochs, "epochs", minimum=1)
        self.bar = W.IntProgress(value=0, min=0, max=self.epochs, description="training", style=WIDE,
                                 layout=W.Layout(width="320px"))
        self.label = W.HTML(f"epoch 0/{self.epochs}")
        self.widget = W.HBox([self.bar, self.label], layout=W.Layout(align_items="center"))
        self.widget.add_class("nnf-training-progress")

    def __call__(self, history) -> bool:
        """Show the epoch ``history`` ends with; returns True (go on training)."""
        records = _records(history)
        epoch = len(records["loss"])
        self.bar.max = max(self.epochs, epoch)  # more epochs than announced: the bar grows
        self.bar.value = epoch
        self.bar.bar_style = "success" if epoch >= self.epochs else ""
        parts = [f"epoch {epoch}/{self.epochs}"]
        for key, name, percent in (("loss", "loss", False), ("accuracy", "accuracy", True),
                                   ("val_loss", "val loss", False), ("val_accuracy", "val accuracy", True)):
            if key in records:
                value = records[key][-1]
                parts.append(f"{name} {100 * value:.1f}%" if percent else f"{name} {value:.3f}")
        self.label.value = " · ".join(parts)
        return True

    def _ipython_display_(self) -> None:
        display(self.widget)


def plot_history(history, *, title: str | None = None):
    """Plot a training's loss and accuracy per epoch, training and validation together.

    Parameters
    ----------
    history : nblib.training.History or dict
        What :func:`nblib.training.fit` returned (or a Keras ``History.history`` dict).
    title : str, optional
        A title over both panels.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per metric (loss, accuracy), titled, with the epoch on the x axis. In a
        notebook, end the line with ``;`` so the figure is not shown twice.
    """
    return plots.training_curves(_records(history), title=title)


YOURS_COLOUR = "#ff7f0e"  # the student's results, in every demo
MAX_EPOCHS = 40


def reference_train(X, y, **settings):
    """nblib's ``train`` with its result as tuples, the structure :meth:`Yours.compare` compares by:
    ((W_1 (D, H), W_2 (H, C)), (b_1 (H,), b_2 (C,)), losses (epochs,))."""
    weights, biases, losses = homework.train(X, y, **settings)
    return tuple(weights), tuple(biases), np.array(losses)


class TrainingCurve(Demo):
    """The loss per epoch of week 4's training loop on the iris data, for the controls' settings.

    Controls: the learning rate, the batch size and the epochs. nblib's reference loop
    (:func:`nblib.homework.train`: Glorot-uniform weights, a new order of the 112 training
    irises each epoch, one SGD step per mini-batch) is trained with a fixed seed, and its mean
    loss per epoch drawn. The status line says how the examples fall into batches: with a
    batch size that does not divide N, the last batch is smaller.

    Parameters
    ----------
    lr : float
        The learning rate, in [0.01, 1].
    batch_size : int
        1..112 (the training irises).
    epochs : int
        1..40.
    hidden : int
        Hidden ReLU units (fixed).
    seed : int
        The ``rng`` given to both trainings: same weights, same orders.
    yours : {"train": function}, optional
        A student's ``train(X, y, *, hidden, epochs, batch_size, lr, rng)`` (week 4's
        homework), returning (weights, biases, losses): it is trained with the same settings
        and seed, its losses drawn as orange diamonds on a dashed line over nblib's curve, and a
        line says whether its weights, biases and losses agree with nblib's (see
        :mod:`nblib.widgets.yours`). A plain mean of the batch losses, or a dropped last batch,
        agrees only when the batch size divides N.

    Example
    -------
    >>> demo = TrainingCurve(lr=0.3, batch_size=32, epochs=5)
    >>> len(demo.losses), bool(demo.losses[-1] < demo.losses[0])
    (5, True)
    """

    YOURS = ("train",)

    def __init__(self, *, lr: float = 0.3, batch_size: int = 32, epochs: int = 20, hidden: int = 16, seed: int = 0,
                 yours=None):
        split = data.iris()
        self.X, self.y = split.X_train, split.y_train  # (112, 4), labels in 0..2
        n = len(self.X)
        lr = float(lr)
        if not 0.01 <= lr <= 1.0:
            raise ValueError(f"lr must be between 0.01 and 1, got {lr!r}")
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        if batch_size > n:
            raise ValueError(f"batch_size must be between 1 and {n} (the training irises), got {batch_size}")
        epochs = check_int(epochs, "epochs", minimum=1)
        if epochs > MAX_EPOCHS:
            raise ValueError(f"epochs must be between 1 and {MAX_EPOCHS}, got {epochs}")
        self.hidden, self.seed = check_int(hidden, "hidden", minimum=1), check_int(seed, "seed", minimum=0)
        figure, self.ax = plt.subplots(figsize=(7, 3.6))
        super().__init__(figure, yours)

        self.lr = W.FloatSlider(value=lr, min=0.01, max=1.0, step=0.01, description="learning rate lr",
                                continuous_update=True, readout_format=".2f", style=WIDE)
        self.batch_size = W.IntSlider(value=batch_size, min=1, max=n, description="batch size",
                                      continuous_update=True, style=WIDE)
        self.epochs = W.IntSlider(value=epochs, min=1, max=MAX_EPOCHS, description="epochs", continuous_update=True,
                                  style=WIDE)
        self.status = W.HTML()

        (self.curve,) = self.ax.plot([], [], "o-", color="#1f77b4", ms=4, lw=1.5, label="nblib's train")
        (self.their_curve,) = self.ax.plot([], [], "D--", color=YOURS_COLOUR, ms=5, lw=1.2,
                                           label="your train" if self.yours else "_nolegend_")
        self.ax.set_xlabel("epoch")
        self.ax.set_ylabel("mean cross-entropy over the epoch (nats)")
        self.ax.grid(alpha=0.3)
        self.ax.legend(loc="upper right", fontsize=9)
        self.theirs = None  # the student's losses, (epochs,), when their train gave usable results

        self._draw_soon = Debouncer(lambda: self.draw())
        for control in (self.lr, self.batch_size, self.epochs):
            control.observe(lambda _change: self._draw_soon(), "value")
        self.widget = W.VBox([W.HBox([self.lr, self.batch_size, self.epochs]), self.status, self.yours_line,
                              self.output])
        self.draw()

    def draw(self) -> None:
        """Train nblib's loop (and the student's) with the controls' settings, and draw the losses."""
        lr, batch_size, epochs = self.lr.value, self.batch_size.value, self.epochs.value
        settings = dict(hidden=self.hidden, epochs=epochs, batch_size=batch_size, lr=lr, rng=self.seed)
        try:
            mine = self.yours.compare("train", reference_train, self.X, self.y, **settings)
        except training.TrainingDiverged as error:  # nblib's weights blew up: nothing to compare with
            self._diverged(str(error))
            return
        self.losses = mine.reference[2]  # (epochs,)
        self.theirs = None if mine.theirs is None else mine.theirs[2]
        k = np.arange(1, epochs + 1)
        self.curve.set_data(k, self.losses)
        self.their_curve.set_data(*((k, self.theirs) if self.theirs is not None else ([], [])))
        shown = np.concatenate([self.losses, [] if self.theirs is None else self.theirs[np.isfinite(self.theirs)]])
        self.ax.set_xlim(0.5, epochs + 0.5)
        self.ax.set_ylim(0.0, 1.1 * max(float(shown.max()), 1e-3))
        self.ax.set_title(f"Training loss on the irises: lr = {lr:.3g}, batches of {batch_size}")

        n = len(self.X)
        full, last = divmod(n, batch_size)
        batches = f"{full} batches of {batch_size}" + (f" and a last one of {last}" if last else ", none smaller")
        self.status.value = (f"N = {n} training irises, {self.hidden} hidden ReLU units: {batches} per epoch. "
                             f"Loss after epoch 1: {self.losses[0]:.4f}; after epoch {epochs}: {self.losses[-1]:.4f}.")
        self._say(mine)
        self._render()

    def _diverged(self, why: str) -> None:
        """nblib's training blew up (a learning rate too large for small batches): say so, draw nothing."""
        self.losses, self.theirs = np.array([]), None
        self.curve.set_data([], [])
        self.their_curve.set_data([], [])
        self.ax.set_title("Training loss on the irises: diverged")
        self.status.value = f"<b>nblib's training diverged</b>: {html.escape(why)}"
        self.yours_line.value = ""
        self._render()
