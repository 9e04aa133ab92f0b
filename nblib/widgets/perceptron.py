"""Week 1's demo: train a perceptron epoch by epoch and watch its decision line move."""

from __future__ import annotations

from dataclasses import replace

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from nblib import perceptron, plots
from nblib._validation import check_int
from nblib.widgets._core import Debouncer, Demo, Run

__all__ = ["PerceptronPlayground"]

HAND_LIMIT = 5.0  # the w1, w2 and b sliders run from -HAND_LIMIT to HAND_LIMIT
YOURS_COLOUR = "#ff7f0e"  # the student's line and mistakes


def _trained(X, y, **settings):
    """nblib's training as week 1's homework ``train_perceptron`` returns it: (w (D,), b, errors (E,))."""
    fit = perceptron.train(X, y, **settings)
    return fit.w, np.array(fit.b), fit.errors  # b as a 0-d array: yours.difference indexes it with ()


class _History:
    """A perceptron's weights before training and after each epoch so far."""

    def __init__(self, w0, b0):
        self.weights, self.biases, self.errors = [np.array(w0, dtype=float)], [float(b0)], []

    def add(self, epoch: perceptron.PerceptronFit) -> None:
        """Append one epoch, trained from the weights of the previous one."""
        self.weights.append(epoch.w)
        self.biases.append(epoch.b)
        self.errors.extend(epoch.errors)

    def fit(self) -> perceptron.PerceptronFit:
        """The epochs so far, as :func:`perceptron.train` would report them."""
        return perceptron.PerceptronFit(
            w=self.weights[-1], b=self.biases[-1], errors=np.array(self.errors, dtype=np.int64),
            weights=np.array(self.weights), biases=np.array(self.biases),
        )


class PerceptronPlayground(Demo):
    """Train a perceptron epoch by epoch and step through the epochs.

    Controls: the dataset, the learning rate, whether training starts from zero weights;
    below them the training's progress bar and Stop button; then the epoch (with a play
    button); then the weights w1, w2 and bias b set by hand. Left: the data and the decision
    line w . x + b = 0 after the chosen epoch, the points it misclassifies crossed out.
    Right: mistakes per epoch, the chosen epoch highlighted.

    Setting w and b by hand: moving w1, w2 or b (or ticking "set w and b by hand") stops
    training and shows the line of those weights, with the number of points it
    misclassifies, as the sliders move. Unticking the box, or changing the learning rate or
    "start from zero weights", trains again: from the hand-set weights, unless "start from
    zero weights" is ticked.

    Parameters
    ----------
    datasets : dict of str -> (X, y)
        2-D datasets to choose from; X (N, 2), y (N,) in {0, 1}.
    lr : float
        Initial learning rate.
    max_epochs : int
        Training stops here if the data are not separated earlier (XOR never is).
    start : (w0, b0)
        The initial values of the w1, w2 and b sliders, from which training starts unless
        "start from zero" is ticked. Each must lie in [-5, 5].
    yours : {"train_perceptron": function}, optional
        A student's ``train_perceptron(X, y, *, lr, epochs, w0, b0) -> (w, b, errors)`` (week 1's
        homework). After each epoch k of nblib's training it is run for k epochs with the same
        settings: its line after the chosen epoch is drawn dashed in orange over nblib's, its
        mistakes per epoch as orange diamonds on nblib's bars, and a line says whether the two
        trainings agree or after which epoch and where they first differ (see
        :mod:`nblib.widgets.yours`).

    Notes
    -----
    From zero weights, every update is lr times a sum of +-x and +-1 terms, so w and b
    are just scaled by lr and the line never changes: the learning rate has no effect.
    From other starting weights it matters. Try both.

    Changing a setting retrains, one epoch per step of a :class:`Run`: the plot follows the
    newest epoch, and Stop keeps the epochs trained so far. Settings and the epoch slider
    act through a :class:`Debouncer`, so a slow kernel draws only where they come to rest.
    """

    YOURS = ("train_perceptron",)

    def __init__(self, datasets: dict, *, lr: float = 0.1, max_epochs: int = 25, start=((1.0, -0.5), 0.5),
                 yours=None):
        if not datasets:
            raise ValueError("datasets must name at least one (X, y) pair")
        figure, (self.ax, self.ax_errors) = plt.subplots(1, 2, figsize=(9, 3.8))
        super().__init__(figure, yours)
        self.datasets = datasets
        self.max_epochs = check_int(max_epochs, "max_epochs", minimum=1)
        w_start, b_start = np.asarray(start[0], dtype=float), float(start[1])
        if w_start.shape != (2,) or not all(-HAND_LIMIT <= v <= HAND_LIMIT for v in (*w_start, b_start)):
            raise ValueError(f"start must be ((w1, w2), b) with every value in [-{HAND_LIMIT}, {HAND_LIMIT}], "
                             f"got {start!r}")

        wide = {"description_width": "initial"}  # show the whole label, e.g. "learning rate"
        self.dataset = W.Dropdown(options=list(datasets), description="data", style=wide)
        self.lr = W.FloatLogSlider(value=lr, base=10, min=-3, max=1, step=0.25, description="learning rate",
                                   continuous_update=False, readout_format=".3f", style=wide)
        self.from_zero = W.Checkbox(value=False, description="start from zero weights", indent=False, style=wide)
        self.epoch = W.IntSlider(value=0, min=0, max=0, description="epoch", continuous_update=True, style=wide)
        self.play = W.Play(interval=700, min=0, max=0, description="play")
        W.jslink((self.play, "value"), (self.epoch, "value"))
        self.run = Run(unit="epoch")
        hand = dict(min=-HAND_LIMIT, max=HAND_LIMIT, step=0.1, continuous_update=True, readout_format=".1f", style=wide)
        self.w1 = W.FloatSlider(value=w_start[0], description="w1", **hand)
        self.w2 = W.FloatSlider(value=w_start[1], description="w2", **hand)
        self.b = W.FloatSlider(value=b_start, description="b", **hand)
        self.by_hand = W.Checkbox(value=False, description="set w and b by hand", indent=False, style=wide)
        self.status = W.HTML()

        self.line, self.bars, self.shown_epoch = None, [], 0
        self.compared = []  # the student's training against nblib's after each epoch k: compared[k - 1]
        self.theirs = None  # the student's (w, b, errors) after the shown epoch, when usable
        self._retrain_soon = Debouncer(lambda: self.retrain())
        self._show_soon = Debouncer(self._show_if_moved)
        self._hand_soon = Debouncer(self._show_hand)
        self.dataset.observe(lambda _change: self._retrain_soon(), "value")  # keeps the mode
        for control in (self.lr, self.from_zero):  # training settings: back to training
            control.observe(lambda _change: self._train_again(), "value")
        for control in (self.w1, self.w2, self.b):
            control.observe(lambda _change: self._hand_moved(), "value")
        self.by_hand.observe(lambda _change: self._retrain_soon(), "value")
        self.epoch.observe(lambda change: self._show_soon(change["new"]), "value")
        self.widget = W.VBox([
            W.HBox([self.dataset, self.lr, self.from_zero]),
            self.run.widget,
            W.HBox([self.play, self.epoch]),
            W.HBox([self.w1, self.w2, self.b, self.by_hand]),
            self.status,
            self.yours_line,
            self.output,
        ])
        self.retrain()

    # -- state ---------------------------------------------------------------------------------

    @property
    def start(self):
        """The hand-set weights (w1, w2) and bias b: where training starts unless from zero."""
        return np.array([self.w1.value, self.w2.value]), float(self.b.value)

    def retrain(self) -> None:
        """Train afresh on the selected dataset with the current settings.

        In a kernel the training runs in the background and this returns at once; in plain
        Python it has finished when this returns. With "set w and b by hand" ticked it trains
        nothing: it stops any training and shows the hand-set line.
        """
        X, y = self.datasets[self.dataset.value]
        by_hand = self.by_hand.value
        w0, b0 = (np.zeros(X.shape[1]), 0.0) if self.from_zero.value and not by_hand else self.start
        self._show_soon.cancel()  # a slider position from the old training means nothing now
        self.settings = dict(lr=self.lr.value, w0=w0, b0=b0)  # the student's training gets the same
        self.compared = []
        history = self.history = _History(w0, b0)
        self.fit = history.fit()
        self._draw_data(X, y, w0, b0)
        if by_hand:
            self.run.stop()  # the old training reports to a replaced history: ignored
            self.outcome = "set by hand: untick the box to train from these weights"
            self._follow(0)
            return
        self.outcome = "training &hellip;"
        self._follow(0)
        self.run.start(self._epochs(X, y, self.lr.value, w0, b0), self.max_epochs,
                       on_step=self._record, on_progress=self._follow,
                       on_done=lambda stopped: self._training_over(history, stopped))

    def show(self, epoch: int) -> None:
        """Draw the line after ``epoch`` epochs (0 = before training)."""
        epochs = len(self.fit.errors)
        if not 0 <= epoch <= epochs:
            raise ValueError(f"epoch must be between 0 and {epochs} (the epochs trained), got {epoch}")
        w, b = self.fit.weights[epoch], self.fit.biases[epoch]
        plots.set_boundary_line(self.line, w, b)
        X, y = self.datasets[self.dataset.value]
        wrong = perceptron.predict(X, w, b) != y
        self.crosses.set_offsets(X[wrong] if wrong.any() else np.empty((0, 2)))
        if len(self.bars) != epochs:
            self._draw_errors()
        for i, bar in enumerate(self.bars):
            bar.set_alpha(1.0 if i + 1 == epoch else 0.35)
        self.ax.set_title(f"After epoch {epoch}: w = [{w[0]:.2f}, {w[1]:.2f}], b = {b:.2f}")
        mistakes = "" if epoch == 0 else f", {self.fit.errors[epoch - 1]} mistake(s) in this epoch"
        if self.by_hand.value:
            self.ax.set_title(f"Set by hand: w = [{w[0]:.2f}, {w[1]:.2f}], b = {b:.2f}")
            self.status.value = (f"<b>w and b set by hand</b>: {int(wrong.sum())} of {len(y)} points "
                                 f"misclassified &mdash; {self.outcome}")
        else:
            self.status.value = f"<b>epoch {epoch}</b>{mistakes} &mdash; {self.outcome}"
        self.shown_epoch = epoch
        if self.yours:
            self._show_theirs(epoch)
        self._render()

    def _hand_moved(self) -> None:
        """A hand slider moved: show its line (switching to setting by hand if needed)."""
        if self.by_hand.value:
            self._hand_soon()
        else:
            self.by_hand.value = True  # whose observer redraws everything

    def _show_hand(self) -> None:
        """Move the line to the hand-set weights, without redrawing the data."""
        if not self.by_hand.value or self._retrain_soon.pending:
            return  # training again, or a full redrawing is on its way: it reads the sliders too
        w0, b0 = self.start
        self.history = _History(w0, b0)
        self.fit = self.history.fit()
        self.show(0)

    def _train_again(self) -> None:
        """A training setting changed: leave setting by hand, and train."""
        if self.by_hand.value:
            self.by_hand.value = False  # whose observer retrains
        else:
            self._retrain_soon()

    @staticmethod
    def _epochs(X, y, lr, w, b):
        """One epoch per ``next()``, each from the weights the previous one ended with.

        Stops after the first epoch without a mistake, as :func:`perceptron.train` does, and
        makes the same updates: chaining ``epochs=1`` calls is one call with more epochs.
        """
        while True:
            fit = perceptron.train(X, y, lr=lr, epochs=1, w0=w, b0=b)
            yield fit
            if fit.converged:
                return
            w, b = fit.w, fit.b

    def _record(self, epoch_fit: perceptron.PerceptronFit, k: int) -> None:
        self.history.add(epoch_fit)
        self.fit = self.history.fit()
        if self.yours:  # in the same Run step: the student's training for the k epochs so far
            X, y = self.datasets[self.dataset.value]
            self.compared.append(self.yours.compare("train_perceptron", _trained, X, y, epochs=k, **self.settings))

    def _show_theirs(self, epoch: int) -> None:
        """The student's line and mistakes after ``epoch`` epochs of their training, and the comparison line.

        When their result after ``epoch`` epochs is unusable (e.g. their training stopped earlier than
        nblib's, so ``errors`` is shorter), the newest usable epoch before it is drawn, and the legend says which.
        """
        usable = [k for k in range(min(epoch, len(self.compared)), 0, -1) if self.compared[k - 1].theirs is not None]
        theirs = self.theirs = self.compared[usable[0] - 1].theirs if usable else None  # (w (2,), b (), errors (k,))
        label = "your train_perceptron" + (f" (epoch {usable[0]})" if usable and usable[0] != epoch else "")
        if label != self.their_line.get_label():
            self.their_line.set_label(label)
            self.ax.legend(loc="best", fontsize="small")
        if theirs is not None and np.isfinite(theirs[0]).all() and np.isfinite(theirs[1]):
            plots.set_boundary_line(self.their_line, theirs[0], theirs[1])
        else:
            self.their_line.set_data([], [])
        errors = [] if theirs is None else theirs[2]
        self.their_errors.set_data(np.arange(1, len(errors) + 1), errors)
        counted = np.asarray(errors)[np.isfinite(errors)]
        if counted.size:  # the student's counts may run above nblib's bars
            self.ax_errors.set_ylim(top=max(self.ax_errors.get_ylim()[1], counted.max() + 0.5))
        self._say(*self._first_difference())

    def _first_difference(self) -> tuple:
        """The comparison after the first epoch where the student's training differs, else the newest one."""
        for k, mine in enumerate(self.compared, 1):
            if not mine.agrees:
                if mine.theirs is None and k == 1:  # raised, not written yet or unusable from the start
                    return (mine,)
                rest = mine.line.removeprefix("your train_perceptron ")
                return (replace(mine, line=f"your train_perceptron after epoch {k}: {rest}"),)
        return tuple(self.compared[-1:])

    def _follow(self, epoch: int) -> None:
        """Show ``epoch`` and move the epoch slider there, its range ending at the newest epoch."""
        self.show(epoch)
        self.epoch.max = self.play.max = len(self.fit.errors)
        self.epoch.value = epoch  # no second drawing: _show_if_moved sees it is shown

    def _show_if_moved(self, epoch: int) -> None:
        if epoch != self.shown_epoch:
            self.show(epoch)

    def _training_over(self, history: _History, stopped: bool) -> None:
        if history is not self.history:  # a newer training has replaced this one
            return
        epochs = len(self.fit.errors)
        if stopped:
            self.outcome = f"stopped after {epochs} epochs"
        elif self.fit.converged:
            self.outcome = f"training converged after {epochs} epochs: every point ends on its side"
        else:
            self.outcome = f"not converged after {epochs} epochs"
        self._follow(epochs)

    # -- drawing ----------------------------------------------------------------------------------

    def _draw_data(self, X, y, w0, b0) -> None:
        self.ax.clear()
        plots.scatter_classes(X, y, ax=self.ax)
        pad = 0.3
        self.ax.set_xlim(X[:, 0].min() - pad, X[:, 0].max() + pad)
        self.ax.set_ylim(X[:, 1].min() - pad, X[:, 1].max() + pad)
        self.line = plots.boundary_line(w0, b0, ax=self.ax)
        self.crosses = self.ax.scatter([], [], marker="x", s=60, color="black", linewidth=1.5,
                                       label="misclassified", zorder=4)
        self.their_line, = self.ax.plot([], [], "--", color=YOURS_COLOUR, linewidth=2, zorder=3,
                                        label="your train_perceptron" if self.yours else "_nolegend_")
        if self.yours:
            self.ax.legend(loc="best", fontsize="small")
        self._draw_errors()
        self.figure.tight_layout()

    def _draw_errors(self) -> None:
        ax, errors = self.ax_errors, self.fit.errors
        ax.clear()
        self.bars = ax.bar(np.arange(1, len(errors) + 1), errors, color="#d62728",
                           label="nblib's" if self.yours else "_nolegend_")
        self.their_errors, = ax.plot([], [], "D", color=YOURS_COLOUR, markersize=6, zorder=3,
                                     label="yours" if self.yours else "_nolegend_")
        if self.yours:
            ax.legend(loc="upper right", fontsize="small")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mistakes (updates)")
        ax.set_title("Mistakes per epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
