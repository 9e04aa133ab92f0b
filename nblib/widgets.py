"""Interactive demos for the lessons (ipywidgets + matplotlib).

Each demo is a small class: it builds its controls, keeps the matplotlib artists it moves,
and shows itself when it is the last expression of a cell. The drawing code is separate from
the widget plumbing, so tests can move a slider and inspect the plot without a browser.
"""

from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from IPython import get_ipython
from IPython.display import clear_output, display
from matplotlib.ticker import MaxNLocator

from nblib import perceptron, plots

__all__ = ["PerceptronPlayground"]


class PerceptronPlayground:
    """Step through perceptron training one epoch at a time.

    Controls: the dataset, the epoch (with a play button), the learning rate, and whether
    training starts from zero weights. Left: the data and the current decision line
    w . x + b = 0. Right: mistakes per epoch, the current epoch highlighted.

    Parameters
    ----------
    datasets : dict of str -> (X, y)
        2-D datasets to choose from; X (N, 2), y (N,) in {0, 1}.
    lr : float
        Initial learning rate.
    max_epochs : int
        Training stops here if the data are not separated earlier (XOR never is).
    start : (w0, b0)
        The initial weights used unless "start from zero" is ticked.

    Notes
    -----
    From zero weights, every update is lr times a sum of +-x and +-1 terms, so w and b
    are just scaled by lr and the line never changes: the learning rate has no effect.
    From other starting weights it matters. Try both.
    """

    def __init__(self, datasets: dict, *, lr: float = 0.1, max_epochs: int = 25, start=((1.0, -0.5), 0.5)):
        if not datasets:
            raise ValueError("datasets must name at least one (X, y) pair")
        self.datasets = datasets
        self.max_epochs = max_epochs
        self.start = (np.asarray(start[0], dtype=float), float(start[1]))

        self.dataset = W.Dropdown(options=list(datasets), description="data")
        self.epoch = W.IntSlider(value=0, min=0, max=1, description="epoch", continuous_update=True)
        self.play = W.Play(interval=700, min=0, max=1, description="play")
        W.jslink((self.play, "value"), (self.epoch, "value"))
        self.lr = W.FloatLogSlider(value=lr, base=10, min=-3, max=1, step=0.25, description="learning rate",
                                   continuous_update=False, readout_format=".3f")
        self.from_zero = W.Checkbox(value=False, description="start from zero weights")
        self.status = W.HTML()
        self.output = W.Output()

        self.figure, (self.ax, self.ax_errors) = plt.subplots(1, 2, figsize=(9, 3.8))
        plt.close(self.figure)  # shown through self.output only, never twice
        self.line = None

        for control in (self.dataset, self.lr, self.from_zero):
            control.observe(lambda _change: self.retrain(), "value")
        self.epoch.observe(lambda change: self.show(change["new"]), "value")
        self.widget = W.VBox([
            W.HBox([self.dataset, self.lr, self.from_zero]),
            W.HBox([self.play, self.epoch]),
            self.status,
            self.output,
        ])
        self.retrain()

    # -- state ---------------------------------------------------------------------------------

    def retrain(self) -> None:
        """Train on the selected dataset with the current settings and show epoch 0."""
        X, y = self.datasets[self.dataset.value]
        w0, b0 = (np.zeros(X.shape[1]), 0.0) if self.from_zero.value else self.start
        self.fit = perceptron.train(X, y, lr=self.lr.value, epochs=self.max_epochs, w0=w0, b0=b0)
        last = len(self.fit.errors)
        self._draw_data(X, y)
        self.epoch.max = self.play.max = last
        if self.epoch.value == 0:
            self.show(0)
        else:
            self.epoch.value = 0  # triggers show(0)

    def show(self, epoch: int) -> None:
        """Draw the line after ``epoch`` epochs (0 = before training)."""
        w, b = self.fit.weights[epoch], self.fit.biases[epoch]
        plots.set_boundary_line(self.line, w, b)
        for i, bar in enumerate(self.bars):
            bar.set_alpha(1.0 if i + 1 == epoch else 0.35)
        mistakes = "" if epoch == 0 else f", {self.fit.errors[epoch - 1]} mistake(s) in this epoch"
        self.ax.set_title(f"After epoch {epoch}: w = [{w[0]:.2f}, {w[1]:.2f}], b = {b:.2f}")
        epochs = len(self.fit.errors)
        verdict = (f"training converged after {epochs} epochs: every point ends on its side"
                   if self.fit.converged else f"not converged after {epochs} epochs")
        self.status.value = f"<b>epoch {epoch}</b>{mistakes} &mdash; {verdict}"
        self._render()

    # -- drawing ----------------------------------------------------------------------------------

    def _draw_data(self, X, y) -> None:
        self.ax.clear()
        plots.scatter_classes(X, y, ax=self.ax)
        pad = 0.3
        self.ax.set_xlim(X[:, 0].min() - pad, X[:, 0].max() + pad)
        self.ax.set_ylim(X[:, 1].min() - pad, X[:, 1].max() + pad)
        self.line = plots.boundary_line(self.fit.w, self.fit.b, ax=self.ax)
        self.ax_errors.clear()
        epochs = np.arange(1, len(self.fit.errors) + 1)
        self.bars = self.ax_errors.bar(epochs, self.fit.errors, color="#d62728")
        self.ax_errors.set_xlabel("epoch")
        self.ax_errors.set_ylabel("mistakes (updates)")
        self.ax_errors.set_title("Mistakes per epoch")
        self.ax_errors.xaxis.set_major_locator(MaxNLocator(integer=True))
        self.ax_errors.yaxis.set_major_locator(MaxNLocator(integer=True))
        self.figure.tight_layout()

    def _render(self) -> None:
        if get_ipython() is None:  # plain Python (tests): the figure is updated, nothing to show
            return
        with self.output:
            clear_output(wait=True)
            display(self.figure)

    # -- display ----------------------------------------------------------------------------------

    def _ipython_display_(self) -> None:
        display(self.widget)
