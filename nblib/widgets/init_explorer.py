"""Week 6's initialization explorer: depth x initializer x activation -> what reaches each layer.

A plain stack of ``depth`` dense layers, each ``width`` units wide, no biases:

    h_0 = x                              # (N, W): N standard-normal inputs
    z_l = h_{l-1} @ W_l                  # (N, W) @ (W, W) -> (N, W),  W_l drawn by the initializer
    h_l = g(z_l)                         # the activation, elementwise

Each layer multiplies the variance of its signal by about ``W * Var(W_l)`` times a factor of
the activation (1/2 for ReLU, which zeroes half of it), so through many layers the signal
vanishes or explodes unless ``Var(W_l)`` is about ``1 / fan_in`` (LeCun, Glorot) or
``2 / fan_in`` (He, for ReLU). The backward pass does the same to the gradients: from a
random ``dL/dh_depth`` of unit entries,

    dz_l = dh_l * g'(z_l);   dW_l = h_{l-1}^T @ dz_l;   dh_{l-1} = dz_l @ W_l^T

and the demo shows the norm of every ``dW_l``. The weights come from :mod:`nblib.init` (Keras's
initializers), the activations from :mod:`nblib.activations`. :func:`propagate` is the
computation without widgets; :class:`InitExplorer` runs it one layer per step of a
:class:`~nblib.widgets.Run`, so a deep stack on a slow kernel shows its progress and stops.

Given a student's initializers (``yours={"he_normal": he_normal, "glorot_uniform":
glorot_uniform}``, week 6's homework), each layer's weights are also drawn by the student's
function from the same state of the random generator as nblib's, a second batch goes through
the stack with them, and the standard deviation of its activations is drawn beside nblib's;
a line says whether the student's weights agree with nblib's (:mod:`nblib.widgets.yours`).
"""

from __future__ import annotations

import copy
import html
import math
from dataclasses import dataclass, field
from typing import Callable

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from nblib import activations, init
from nblib._validation import check_choice, check_int
from nblib.widgets._core import WIDE, Debouncer, Demo, Run
from nblib.widgets.yours import Comparison, Yours

__all__ = ["InitExplorer", "INITIALIZERS", "ACTIVATIONS", "LayerStats", "propagate", "layer_steps"]

YOURS_COLOUR = "#ff7f0e"  # the student's results, in every demo
DEPTH_LIMITS = (1, 50)
BINS = 41  # histogram bins per layer, over [-limit, limit]


def _scaled_normal(std: float) -> Callable:
    def draw(shape, *, rng):
        return rng.normal(0.0, std, size=shape)
    return draw


# The weight initializers offered, by label: a function (shape, rng=...) -> array.
INITIALIZERS: dict[str, Callable] = {
    "zeros": init.zeros,
    "normal, std 0.01": _scaled_normal(0.01),
    "normal, std 1": _scaled_normal(1.0),
    "lecun_normal": init.lecun_normal,
    "glorot_uniform": init.glorot_uniform,
    "glorot_normal": init.glorot_normal,
    "he_normal": init.he_normal,
    "he_uniform": init.he_uniform,
}

# The activations offered: names in nblib.activations.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "selu")


@dataclass
class LayerStats:
    """What one layer's activations looked like, and the gradient of its weights.

    std : the standard deviation of h_l over the batch and the units
    dead : the fraction of h_l that is exactly 0
    counts : (BINS,) the histogram of h_l over the explorer's bins (values outside land in the end bins)
    grad_norm : ||dL/dW_l|| (Frobenius), filled in by the backward pass (nan until then)
    their_std : the std of the same layer's activations with the student's weights (nan without them)
    compared : how the student's W_l compared with nblib's (None when no student's initializer ran)
    """

    std: float
    dead: float
    counts: np.ndarray
    grad_norm: float = math.nan
    their_std: float = math.nan
    compared: Comparison | None = None


@dataclass
class _Pass:
    """One forward pass in progress: the weights and the activations so far, for the backward pass."""

    weights: list = field(default_factory=list)   # W_1 ... W_l, (W, W) each
    inputs: list = field(default_factory=list)    # h_0 ... h_{l-1}, (N, W) each
    pre: list = field(default_factory=list)       # z_1 ... z_l
    stats: list = field(default_factory=list)     # LayerStats per layer


def _limit(activation: str) -> float:
    """The histograms' range [-limit, limit]: where a well-scaled layer's values lie."""
    return {"tanh": 1.2, "sigmoid": 1.2}.get(activation, 4.0)


def layer_steps(depth: int, initializer: str, activation: str, *, width: int = 256, batch: int = 256,
                seed: int = 0, yours: Yours | None = None):
    """A generator: each ``next()`` computes one more layer and yields the :class:`LayerStats` so far.

    After the last layer it runs the backward pass and fills in every layer's ``grad_norm``
    before yielding the last time. Used one layer per step by :class:`InitExplorer`'s Run.
    With ``yours`` holding a student's function named ``initializer``, each layer's weights are
    also drawn by it, from a copy of the generator as nblib's draw found it, and a second
    signal goes through the student's stack (``their_std``, ``compared``).
    """
    depth = check_int(depth, "depth", minimum=1)
    check_choice(initializer, "initializer", INITIALIZERS)
    check_choice(activation, "activation", ACTIVATIONS)
    width, batch = check_int(width, "width", minimum=1), check_int(batch, "batch", minimum=1)
    f, df = activations.get(activation)
    draw = INITIALIZERS[initializer]
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((batch, width))            # (N, W): unit-variance inputs
    edges = np.linspace(-_limit(activation), _limit(activation), BINS + 1)
    run = _Pass()
    theirs = h if yours is not None and initializer in yours else None  # (N, W): the signal through the student's weights
    for layer in range(1, depth + 1):
        # numpy's error state is set around each layer's work only, never across a yield: a runaway signal
        # is reported in the statistics (inf), not warned about
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            state = copy.deepcopy(rng) if theirs is not None else None  # the generator as W_l's draw finds it
            Wl = draw((width, width), rng=rng)         # (W, W)
            z = h @ Wl                                 # (N, W) @ (W, W) -> (N, W)
            run.weights.append(Wl)
            run.inputs.append(h)
            run.pre.append(z)
            h = f(z)
            finite = h[np.isfinite(h)]
            counts, _ = np.histogram(np.clip(finite, edges[0], edges[-1]), bins=edges)
            std = float(np.std(h)) if finite.size == h.size else math.inf
            run.stats.append(LayerStats(std=std, dead=float(np.mean(h == 0)), counts=counts / h.size))
            if state is not None:
                # the student's W_l from the same generator state; the reference is the W_l just drawn
                mine = yours.compare(initializer, lambda shape, *, rng: Wl, (width, width), rng=state)
                run.stats[-1].compared = mine
                theirs = None if mine.theirs is None or theirs is None else f(theirs @ mine.theirs)  # (N, W)
                if theirs is not None:
                    run.stats[-1].their_std = float(np.std(theirs)) if np.isfinite(theirs).all() else math.inf
            if layer == depth:
                _backward(run, df, rng)
        yield run.stats


def _backward(run: _Pass, df: Callable, rng: np.random.Generator) -> None:
    """Fill in ||dL/dW_l|| for every layer, from a random unit-variance dL/dh at the top."""
    dh = rng.standard_normal(run.pre[-1].shape)       # (N, W)
    for layer in range(len(run.weights) - 1, -1, -1):
        dz = dh * df(run.pre[layer])                   # (N, W)
        dW = run.inputs[layer].T @ dz                  # (W, N) @ (N, W) -> (W, W)
        norm = float(np.sqrt(np.sum(np.square(dW))))
        run.stats[layer].grad_norm = norm if math.isfinite(norm) else math.inf
        dh = dz @ run.weights[layer].T                 # (N, W) @ (W, W) -> (N, W)


def propagate(depth: int, initializer: str, activation: str, *, width: int = 256, batch: int = 256,
              seed: int = 0) -> list[LayerStats]:
    """Every layer's :class:`LayerStats`, forward and backward, without widgets.

    Example
    -------
    >>> he = propagate(30, "he_normal", "relu")
    >>> small = propagate(30, "normal, std 0.01", "relu")
    >>> bool(0.3 < he[-1].std < 3), bool(small[-1].std < 1e-20)     # He keeps the signal; tiny weights lose it
    (True, True)
    """
    stats = []
    for stats in layer_steps(depth, initializer, activation, width=width, batch=batch, seed=seed):
        pass
    return stats


class InitExplorer(Demo):
    """Push a batch through a deep stack of dense layers and see what reaches each layer.

    Controls: the depth (1..50 layers), the weight initializer (zeros, normals of std 0.01 and
    1, LeCun, Glorot, He) and the activation (ReLU, tanh, sigmoid, linear, SELU). Below them,
    the progress bar and Stop of the forward pass, which runs one layer per step. Left: one
    histogram per layer, as a column of colour (dark: many values there), over a fixed range,
    so a signal that shrinks collapses onto the middle line and one that explodes leaves the
    picture. Right: the standard deviation of each layer's activations and the norm of the
    gradient of each layer's weights, on a log scale.

    Things to try: ReLU with glorot_uniform, then he_normal (He's factor 2 makes up for the half
    ReLU zeroes); tanh with normal std 1 (saturated at ±1, the gradients grow towards the first
    layers) and with std 0.01 (everything shrinks to 0); sigmoid with glorot_uniform (its slope of at
    most 1/4 makes the gradients vanish towards the first layers); zeros with any activation (nothing passes).

    Parameters
    ----------
    depth : int
        Layers, 1..50.
    initializer : str
        A key of :data:`INITIALIZERS`.
    activation : str
        One of :data:`ACTIVATIONS`.
    width, batch : int
        Units per layer and examples in the batch.
    seed : int
        The same settings always draw the same weights and inputs.
    yours : dict, optional
        A student's initializers, "he_normal" and/or "glorot_uniform" (week 6's homework,
        ``(shape, *, rng) -> W``): with that initializer chosen, each layer's weights are also
        drawn by the student's function from the same generator state, the std of the
        activations through the student's weights is drawn as orange diamonds, and a line says
        whether their weights agree with nblib's, or where the first layer that differs does
        (see :mod:`nblib.widgets.yours`).

    Example
    -------
    >>> demo = InitExplorer(depth=20, initializer="he_normal", activation="relu")
    >>> len(demo.stats), bool(0.3 < demo.stats[-1].std < 3)
    (20, True)
    """

    YOURS = ("he_normal", "glorot_uniform")

    def __init__(self, depth: int = 20, initializer: str = "glorot_uniform", activation: str = "relu", *,
                 width: int = 256, batch: int = 256, seed: int = 0, yours=None):
        depth = check_int(depth, "depth", minimum=1)
        if not DEPTH_LIMITS[0] <= depth <= DEPTH_LIMITS[1]:
            raise ValueError(f"depth must be between {DEPTH_LIMITS[0]} and {DEPTH_LIMITS[1]}, got {depth}")
        check_choice(initializer, "initializer", INITIALIZERS)
        check_choice(activation, "activation", ACTIVATIONS)
        self.width, self.batch = check_int(width, "width", minimum=1), check_int(batch, "batch", minimum=1)
        self.seed = check_int(seed, "seed")

        figure, (self.ax, self.ax_stats) = plt.subplots(1, 2, figsize=(10.5, 4.0), width_ratios=[3, 2])
        super().__init__(figure, yours)
        self.depth = W.IntSlider(value=depth, min=DEPTH_LIMITS[0], max=DEPTH_LIMITS[1], description="depth (layers)",
                                 continuous_update=True, style=WIDE)
        self.initializer = W.Dropdown(options=list(INITIALIZERS), value=initializer, description="initializer",
                                      style=WIDE)
        self.activation = W.Dropdown(options=list(ACTIVATIONS), value=activation, description="activation",
                                     style=WIDE)
        self.run = Run(unit="layer")
        self.status = W.HTML()
        self.stats: list[LayerStats] = []
        self.computed: dict = {}
        self.outcome = ""

        self.ax_stats.set_yscale("log")
        self.ax_stats.set_xlabel("layer")
        self.ax_stats.set_title("Spread of activations, size of gradients")
        self.ax_stats.grid(alpha=0.3, which="both")
        (self.std_line,) = self.ax_stats.plot([], [], "o-", ms=3, color="#1f77b4", label="std of activations h_l")
        (self.grad_line,) = self.ax_stats.plot([], [], "s-", ms=3, color="#d62728", label="||dL/dW_l||")
        (self.their_std_line,) = self.ax_stats.plot([], [], "D", ms=4, color=YOURS_COLOUR,
                                                    label="std with your weights" if self.yours else "_nolegend_")
        self.ax_stats.legend(loc="upper left", fontsize=8)
        self.image = None

        self._recompute_soon = Debouncer(lambda: self.recompute())
        for control in (self.depth, self.initializer, self.activation):
            control.observe(lambda _change: self._recompute_soon(), "value")
        self.widget = W.VBox([W.HBox([self.depth, self.initializer, self.activation]), self.run.widget,
                              self.status, self.yours_line, self.output])
        self.recompute()

    # -- computing ---------------------------------------------------------------------------------

    def recompute(self) -> None:
        """Run the forward pass afresh with the controls' settings, one layer per step of the Run.

        In a kernel it goes on in the background and this returns at once; in plain Python it
        has finished (backward pass included) when this returns.
        """
        self.computed = {"depth": self.depth.value, "initializer": self.initializer.value,
                         "activation": self.activation.value}
        self.stats, self.outcome = [], "computing &hellip;"
        steps = layer_steps(self.depth.value, self.initializer.value, self.activation.value, width=self.width,
                            batch=self.batch, seed=self.seed, yours=self.yours if self.yours else None)
        token = object()
        self._token = token
        self.show()
        self.run.start(steps, self.depth.value, on_step=self._record, on_progress=lambda _k: self.show(),
                       on_done=lambda stopped: self._done(token, stopped))

    def _record(self, stats: list, k: int) -> None:
        self.stats = list(stats)

    def _done(self, token, stopped: bool) -> None:
        if token is not self._token:  # a newer computation replaced this one
            return
        n = len(self.stats)
        self.outcome = (f"stopped after {n} of {self.computed['depth']} layers (the gradients need the whole "
                        f"forward pass)" if stopped else f"finished: {n} layers forward and back")
        self.show()

    # -- drawing -----------------------------------------------------------------------------------

    def show(self) -> None:
        """Draw the layers computed so far."""
        depth, name, activation = self.computed["depth"], self.computed["initializer"], self.computed["activation"]
        limit = _limit(activation)
        counts = np.zeros((BINS, depth))
        for layer, s in enumerate(self.stats):
            counts[:, layer] = s.counts
        if self.image is not None:
            self.image.remove()
        self.image = self.ax.imshow(np.sqrt(counts), origin="lower", aspect="auto", cmap="Greys", vmin=0, vmax=0.6,
                                    extent=(0.5, depth + 0.5, -limit, limit), interpolation="nearest")
        self.ax.set_xlim(0.5, depth + 0.5)
        self.ax.set_ylim(-limit, limit)
        self.ax.set_xlabel("layer")
        self.ax.set_ylabel("activation value h")
        self.ax.set_title(f"{depth} layers, {name}, {activation}: a histogram per layer", fontsize=10)
        layers = np.arange(1, len(self.stats) + 1)
        stds = np.array([s.std for s in self.stats])
        grads = np.array([s.grad_norm for s in self.stats])
        shown_std = np.where(stds > 0, stds, np.nan)  # log scale: a dead layer (std 0) is a gap
        shown_grad = np.where((grads > 0) & np.isfinite(grads), grads, np.nan)
        self.std_line.set_data(layers, np.where(np.isfinite(shown_std), shown_std, np.nan))
        self.grad_line.set_data(layers, shown_grad)
        their_stds = np.array([s.their_std for s in self.stats])
        self.their_std_line.set_data(layers, np.where(np.isfinite(their_stds) & (their_stds > 0), their_stds, np.nan))
        self.ax_stats.set_xlim(0.5, depth + 0.5)
        shown_theirs = their_stds[np.isfinite(their_stds) & (their_stds > 0)]
        values = np.concatenate([shown_std[np.isfinite(shown_std)], shown_grad[np.isfinite(shown_grad)], shown_theirs])
        if values.size:
            low, high = max(values.min(), 1e-300), min(values.max(), 1e300)
            self.ax_stats.set_ylim(low / 3, high * 3)
        self.status.value = self._summary()
        self._say(*self._compared())
        self._render()

    def _compared(self) -> list[Comparison]:
        """The comparison to show: the first layer whose weights are not the same as nblib's, else the last."""
        compared = [s.compared for s in self.stats if s.compared is not None]
        differing = [c for c in compared if not c.agrees]
        return differing[:1] or compared[-1:]

    @property
    def their_stds(self) -> np.ndarray:
        """The std of each layer's activations through the student's weights, (layers,); nan where none."""
        return np.array([s.their_std for s in self.stats])

    def _summary(self) -> str:
        """The first and last layer's spread, the gradient ratio, and how the run went (HTML)."""
        c = self.computed
        head = (f"<b>{c['depth']} layers</b>, {html.escape(c['initializer'])}, {html.escape(c['activation'])}")
        if not self.stats:
            return f"{head} &mdash; {self.outcome}"
        first, last = self.stats[0], self.stats[-1]
        parts = [f"std of h: layer 1 {first.std:.3g}, layer {len(self.stats)} {last.std:.3g}"]
        if last.dead > 0.5:
            parts.append(f"{last.dead:.0%} of the last layer's values are 0")
        if all(math.isfinite(s.grad_norm) for s in self.stats):
            parts.append(f"||dL/dW||: layer 1 {first.grad_norm:.3g}, layer {len(self.stats)} {last.grad_norm:.3g}")
        if self.yours and c["initializer"] not in self.yours:
            parts.append(f"your {' and '.join(self.yours.functions)} show{'s' if len(self.yours.functions) == 1 else ''} "
                         f"with the initializer of that name")
        return f"{head}: " + " &middot; ".join(parts) + f" &mdash; {self.outcome}"
