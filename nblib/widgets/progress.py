"""Week 4's training progress: a bar and a line of metrics that :func:`nblib.training.fit` updates each epoch.

    progress = TrainingProgress(epochs=20)
    display(progress)                     # or make it a cell's last expression
    history = training.fit(model, X, y, optimizer=..., epochs=20, rng=rng, callbacks=progress)
    plot_history(history)                 # the loss and accuracy curves

The training runs in the cell, on the kernel's main thread, and calls ``progress(history)``
after every epoch on that same thread: each call changes the widgets' values, which
ipywidgets sends to the page at once, while the cell is still running.
"""

from __future__ import annotations

import ipywidgets as W
from IPython.display import display

from nblib import plots
from nblib._validation import check_int
from nblib.widgets._core import WIDE

__all__ = ["TrainingProgress", "plot_history"]

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
