"""Week 2's universal-approximation demo: one hidden layer, wider and wider, fits a curve.

The network is nblib's own (:class:`nblib.layers.Sequential`), small enough to read:

    h = g(x @ W + b)         # Dense(1, H), then the activation: (N, 1) @ (1, H) + (H,) -> (N, H)
    y_hat = h @ W + b        # Dense(H, 1): (N, H) @ (H, 1) + (1,) -> (N, 1)
    loss = mean((y_hat - y)^2)

trained by full-batch gradient steps on all four arrays with the course's training loop
(:func:`nblib.training.fit`): the gradients by backpropagation (week 4), the step by Adam (:class:`nblib.optim.Adam`, week 5), which trains every width
from 1 to 64 with the same learning rate.
"""

from __future__ import annotations

import html

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from nblib import layers, optim, training
from nblib._validation import check_choice, check_int, check_positive
from nblib.widgets._core import WIDE, Debouncer, Demo, Run

__all__ = ["UniversalApproximation", "TARGETS", "network"]

DOMAIN = (-3.0, 3.0)

# The curves to fit, each y = f(x) on DOMAIN, with the formula shown in the title.
TARGETS = {
    "sine": (lambda x: np.sin(2 * x), "sin(2x)"),
    "step": (lambda x: np.where(x >= 0, 1.0, -1.0), "sign(x)"),
    "|x|": (lambda x: np.abs(x), "|x|"),
    "bump": (lambda x: np.exp(-4 * x**2), "exp(-4x²)"),
}
HIDDEN = ("tanh", "relu")  # the hidden layer's activation (the output layer is linear)
MAX_WIDTH = 64


def network(width: int, activation: str, rng: np.random.Generator) -> layers.Sequential:
    """A network with ``width`` hidden units and random starting weights.

    Each unit's "kink" (where x W + b = 0) is placed uniformly in DOMAIN, with a slope of
    either sign and size 0.5..3, so the units start spread over the curve; the output
    weights are small, N(0, 1/H).

    Returns
    -------
    Sequential
        Dense(1, H), Activation(activation), Dense(H, 1): parameters "0.W" (1, H), "0.b" (H,),
        "2.W" (H, 1), "2.b" (1,).
    """
    centres = rng.uniform(*DOMAIN, size=width)                            # (H,)
    slopes = rng.uniform(0.5, 3.0, size=width) * rng.choice([-1.0, 1.0], size=width)
    return layers.Sequential([
        layers.Dense.from_weights(slopes[None, :], -slopes * centres),     # (1, H), (H,)
        layers.Activation(activation),
        layers.Dense.from_weights(rng.normal(0.0, 1.0 / np.sqrt(width), size=(width, 1)), np.zeros(1)),
    ])


ADAM_EPS = 1e-8  # the paper's epsilon (Keras's default is 1e-7)


class UniversalApproximation(Demo):
    """Fit a 1-D curve with one hidden layer of H units, and see wider layers fit it better.

    Controls: the target curve (sine, step, |x|, bump on [-3, 3]), the hidden activation
    (tanh or ReLU) and the width H (1..64). Below them, the training's progress bar and
    Stop button. Left: the target and the network's fit, the mean squared error in the
    title; right: the MSE during training (log scale). The fit is redrawn as it trains.

    Things to try: sine with H = 1 (one tanh can make one S-shape, not a wave), then 2, 4,
    8, 32; ReLU fits with straight pieces, one kink per unit (|x| needs only two); the step
    cannot be fitted exactly by any finite width, but wider gets closer.

    Parameters
    ----------
    target : str
        The curve shown first, a key of :data:`TARGETS`.
    activation : {"tanh", "relu"}
        The hidden layer's activation.
    width : int
        Hidden units H, 1..64.
    steps : int
        Gradient steps per training (a multiple of ``steps_per_block``).
    steps_per_block : int
        Gradient steps per step of the :class:`Run` (the plot is redrawn between them).
    lr : float
        Adam's learning rate.
    points : int
        Training points N, evenly spaced on [-3, 3].
    seed : int
        Seed of ``np.random.default_rng`` for the starting weights: the same settings train
        to the same fit.

    Notes
    -----
    y_hat(x) = sum_j W2_j g(W1_j x + b1_j) + b2, trained by full-batch gradient descent
    (with Adam's step) on MSE = mean_i (y_hat(x_i) - y_i)^2. The universal approximation
    theorem (Cybenko, 1989; Hornik, 1991) says some finite width fits any continuous curve
    on an interval as closely as you like; it does not say how wide, or that training
    finds those weights. Every change of a control retrains from the seeded start.

    Example
    -------
    >>> narrow = UniversalApproximation(width=1)
    >>> wide = UniversalApproximation(width=32)
    >>> bool(wide.mse < narrow.mse / 100)
    True
    """

    def __init__(self, *, target: str = "sine", activation: str = "tanh", width: int = 8, steps: int = 3000,
                 steps_per_block: int = 200, lr: float = 0.02, points: int = 150, seed: int = 0):
        check_choice(target, "target", TARGETS)
        check_choice(activation, "activation", HIDDEN)
        width = check_int(width, "width", minimum=1)
        if width > MAX_WIDTH:
            raise ValueError(f"width must be between 1 and {MAX_WIDTH}, got {width}")
        self.steps_per_block = check_int(steps_per_block, "steps_per_block", minimum=1)
        steps = check_int(steps, "steps", minimum=1)
        if steps % self.steps_per_block:
            raise ValueError(f"steps must be a multiple of steps_per_block={self.steps_per_block}, got {steps}")
        self.blocks = steps // self.steps_per_block
        self.lr = check_positive(lr, "lr")
        self.seed = check_int(seed, "seed")
        points = check_int(points, "points", minimum=2)
        self.x = np.linspace(*DOMAIN, points)[:, None]       # (N, 1) training inputs
        self.x_plot = np.linspace(*DOMAIN, 400)[:, None]     # (P, 1) where the fit is drawn

        figure, (self.ax, self.ax_loss) = plt.subplots(1, 2, figsize=(9.5, 3.8), width_ratios=[3, 2])
        super().__init__(figure)
        self.target = W.Dropdown(options=list(TARGETS), value=target, description="target", style=WIDE)
        self.activation = W.Dropdown(options=list(HIDDEN), value=activation, description="hidden activation",
                                     style=WIDE)
        self.width = W.IntSlider(value=width, min=1, max=MAX_WIDTH, description="hidden units H",
                                 continuous_update=False, style=WIDE)
        self.run = Run(unit="block")
        self.status = W.HTML()

        (self.target_line,) = self.ax.plot([], [], color="0.3", lw=3, alpha=0.35, label="target")
        (self.fit_line,) = self.ax.plot([], [], color="#d62728", lw=1.8, label="network")
        self.ax.set_xlim(*DOMAIN)
        self.ax.set_xlabel("x")
        self.ax.set_ylabel("y")
        self.ax.legend(loc="lower right", fontsize=9)
        (self.loss_line,) = self.ax_loss.plot([], [], color="#1f77b4")
        self.ax_loss.set_yscale("log")
        self.ax_loss.set_xlim(0, steps)
        self.ax_loss.set_xlabel("gradient steps")
        self.ax_loss.set_ylabel("MSE (log scale)")
        self.ax_loss.set_title("Training error")

        self._retrain_soon = Debouncer(lambda: self.retrain())
        for control in (self.target, self.activation, self.width):
            control.observe(lambda _change: self._retrain_soon(), "value")
        self.widget = W.VBox([W.HBox([self.target, self.activation, self.width]), self.run.widget, self.status,
                              self.yours_line, self.output])  # yours_line: Demo's, hidden (this demo takes no yours)
        self.retrain()

    # -- state ---------------------------------------------------------------------------------

    def retrain(self) -> None:
        """Train afresh, from the seeded start, with the current target, activation and width.

        In a kernel the training runs in the background and this returns at once; in plain
        Python it has finished when this returns.
        """
        f, formula = TARGETS[self.target.value]
        self.y = f(self.x)  # (N, 1)
        # What this training fits with; the controls may move on before the next retraining.
        self.fitted = {"target": self.target.value, "activation": self.activation.value, "width": self.width.value}
        rng = np.random.default_rng(self.seed)
        model = self.model = network(self.width.value, self.activation.value, rng)
        self.steps_done, self.history = 0, []  # history: (gradient steps, MSE) after each block
        self.mse = self._mse()
        self.outcome = "training &hellip;"
        ylim = (self.y.min(), self.y.max())
        pad = 0.25 * (ylim[1] - ylim[0])
        self.ax.set_ylim(ylim[0] - pad, ylim[1] + pad)
        self.target_line.set_data(self.x_plot[:, 0], f(self.x_plot)[:, 0])
        self.target_line.set_label(f"target {formula}")
        self.ax.legend(loc="lower right", fontsize=9)
        self.show()
        self.run.start(self._blocks(model, self.x, self.y), self.blocks, on_step=self._record,
                       on_progress=lambda _k: self.show(),
                       on_done=lambda stopped: self._training_over(model, stopped))

    def _blocks(self, model: layers.Sequential, x: np.ndarray, y: np.ndarray):
        """One block of ``steps_per_block`` gradient steps on ``model`` per ``next()``; yields the MSE after it.

        The course's one training loop, :func:`nblib.training.fit`, with the whole set as one
        batch: each of its epochs is one gradient step.
        """
        adam = optim.Adam(self.lr, eps=ADAM_EPS)
        order = np.random.default_rng(0)  # fit shuffles; with a single batch only the summation order changes
        while True:
            training.fit(model, x, y, loss="mean_squared_error", optimizer=adam, epochs=self.steps_per_block,
                         batch_size=len(x), rng=order)
            yield layers.mean_squared_error(model.forward(x), y)[0]

    def _mse(self) -> float:
        return layers.mean_squared_error(self.model.forward(self.x), self.y)[0]

    def _record(self, mse: float, k: int) -> None:
        self.steps_done, self.mse = k * self.steps_per_block, mse
        self.history.append((self.steps_done, mse))

    def _training_over(self, model: layers.Sequential, stopped: bool) -> None:
        if model is not self.model:  # a newer training has replaced this one
            return
        self.outcome = f"{'stopped' if stopped else 'finished'} after {self.steps_done} gradient steps"
        self.show()

    # -- drawing ----------------------------------------------------------------------------------

    def show(self) -> None:
        """Draw the network's current fit and the error so far."""
        target, activation, width = self.fitted["target"], self.fitted["activation"], self.fitted["width"]
        y_hat = self.model.forward(self.x_plot)
        self.fit_line.set_data(self.x_plot[:, 0], y_hat[:, 0])
        self.fit_line.set_label(f"network, H = {width} {activation} units")
        self.ax.legend(loc="lower right", fontsize=9)
        self.ax.set_title(f"{target}, H = {width} {activation}: MSE = {self.mse:.2e}")
        if self.history:
            steps, mses = np.array(self.history).T
            self.loss_line.set_data(steps, mses)
            low, high = max(mses.min(), 1e-12), mses.max()
            self.ax_loss.set_ylim(low / 2, high * 2)
        else:
            self.loss_line.set_data([], [])
        self.status.value = (f"<b>{html.escape(target)}</b>, H = {width} {activation} units: "
                             f"MSE = {self.mse:.3g} after {self.steps_done} gradient steps &mdash; {self.outcome}")
        self._render()
