"""Week 5's optimizer race: SGD, momentum, Nesterov, RMSprop and Adam on the same 2-D surface.

Each racer starts at the same point and takes the same number of steps with the same
learning rate, each with its own update rule from :mod:`nblib.optim` (Keras's conventions):

    SGD        w <- w - lr g
    momentum   v <- beta v - lr g;            w <- w + v
    Nesterov   v <- beta v - lr g;            w <- w + beta v - lr g
    RMSprop    s <- beta2 s + (1 - beta2) g²; w <- w - lr g / sqrt(s + eps)
    Adam       m <- beta m + (1 - beta) g;    v <- beta2 v + (1 - beta2) g²
               w <- w - lr sqrt(1 - beta2^t) / (1 - beta^t) m / (sqrt(v) + eps)

The beta slider is momentum's coefficient and Adam's beta1; the beta2 slider is RMSprop's
rho and Adam's beta2.

Given a student's update rules (``yours={"adam_step": adam_step, ...}``, week 5's homework),
each of those racers also races with the student's rule from the same start: its path is
drawn dashed beside nblib's, and a line per rule says whether the two paths agree or at
which step and coordinate they first differ (:mod:`nblib.widgets.yours`).
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from typing import Callable

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from nblib import optim, plots
from nblib._validation import as_scalar, check_choice, check_int
from nblib.widgets._core import WIDE, Debouncer, Demo
from nblib.widgets.descent import BOUND, clip_path
from nblib.widgets.yours import Yours

__all__ = ["OptimizerRace", "SURFACES", "Surface", "RACERS", "race", "race_path"]

LR_LIMITS = (1e-4, 1.0)
BETA_LIMITS = (0.0, 0.99)
BETA2_LIMITS = (0.5, 0.999)
STEPS_LIMITS = (10, 1000)

# The racers, in the order they are listed, with their colours.
RACERS = {
    "SGD": "#1f77b4",
    "momentum": "#ff7f0e",
    "Nesterov": "#2ca02c",
    "RMSprop": "#9467bd",
    "Adam": "#d62728",
}

# The racers a student's update rule can drive: racer -> the homework's function name.
YOURS_RACERS = {"momentum": "momentum_step", "Nesterov": "nesterov_step", "RMSprop": "rmsprop_step",
                "Adam": "adam_step"}
YOURS_COLOUR = "#ff7f0e"  # the student's results, in every demo (here: the markers of their paths)


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface, its gradient written out, a start that shows the racers' differences.

    Attributes
    ----------
    formula : str
        f as matplotlib mathtext, for the title.
    f : callable
        f(p) for points p of shape (..., 2) -> (...).
    grad : callable
        grad f(p) for p (2,) -> (2,).
    start : tuple
        (x_0, y_0), where every racer starts.
    box : tuple
        ((x_low, x_high), (y_low, y_high)), the plotted region.
    minimum : tuple or None
        Where f is smallest; None when f is unbounded below (the saddle).
    lr : float
        The learning rate shown first on this surface.
    note : str
        What to look for, for the caption (HTML).
    """

    formula: str
    f: Callable
    grad: Callable
    start: tuple
    box: tuple
    minimum: tuple | None
    lr: float
    note: str

    @property
    def bounded(self) -> bool:
        """Whether f has a minimum. Without one, a path that leaves the box has escaped downhill."""
        return self.minimum is not None


SURFACES = {
    # f = (x² + 10 y²) / 2, grad = (x, 10 y): curvature 1 along x, 10 along y (week 4's bowl)
    "ill-conditioned bowl": Surface(
        formula="$f(x, y) = (x^2 + 10y^2)/2$",
        f=lambda p: 0.5 * (p[..., 0] ** 2 + 10.0 * p[..., 1] ** 2),
        grad=lambda p: np.array([p[0], 10.0 * p[1]]),
        start=(-4.5, 1.5), box=((-5.0, 5.0), (-2.0, 2.0)), minimum=(0.0, 0.0), lr=0.02,
        note="SGD's learning rate is limited by the steep y direction (lr &lt; 0.2), so it crawls along the flat "
             "x valley; momentum builds up speed along x, where the gradients agree, and cancels the y zig-zag. "
             "RMSprop and Adam divide each coordinate's step by its own gradient size."),
    # Rosenbrock (1960): f = (1 - x)² + 100 (y - x²)², a curved valley with its minimum at (1, 1)
    # grad = (-2 (1 - x) - 400 x (y - x²), 200 (y - x²))
    "rosenbrock": Surface(
        formula="$f(x, y) = (1 - x)^2 + 100\\,(y - x^2)^2$",
        f=lambda p: (1.0 - p[..., 0]) ** 2 + 100.0 * (p[..., 1] - p[..., 0] ** 2) ** 2,
        grad=lambda p: np.array([-2.0 * (1.0 - p[0]) - 400.0 * p[0] * (p[1] - p[0] ** 2),
                                 200.0 * (p[1] - p[0] ** 2)]),
        start=(-1.2, 1.0), box=((-2.0, 2.0), (-1.0, 3.0)), minimum=(1.0, 1.0), lr=0.002,
        note="A narrow, curved valley: the walls are steep (gradients in the hundreds), the floor almost flat. "
             "SGD and momentum multiply the gradient by lr, so above lr &asymp; 0.003 they blow up on the walls; "
             "RMSprop and Adam take steps of about lr whatever the gradient, and need a larger one "
             "(try 0.05 for RMSprop, 0.2 for Adam). One learning rate does not suit every optimizer."),
    # f = x² - y², grad = (2x, -2y): a minimum along x, a maximum along y, unbounded below
    "saddle": Surface(
        formula="$f(x, y) = x^2 - y^2$",
        f=lambda p: p[..., 0] ** 2 - p[..., 1] ** 2,
        grad=lambda p: np.array([2.0 * p[0], -2.0 * p[1]]),
        start=(-2.0, 0.01), box=((-2.5, 2.5), (-2.5, 2.5)), minimum=None, lr=0.01,
        note="The start is almost on the ridge (y = 0.01), where the gradient points at the saddle point: the "
             "way down, along y, starts with a gradient of only 0.02. SGD grows y by (1 + 2 lr) per step and "
             "lingers; momentum builds up speed; Adam's steps are about lr from the start. A racer that leaves "
             "the box has escaped downhill (f has no minimum)."),
}


def race(racer: str, surface: Surface, *, lr: float, beta: float, beta2: float, steps: int, rule=None):
    """One racer's path on ``surface``, with nblib.optim's update rule (or ``rule``).

    Parameters
    ----------
    racer : str
        A key of :data:`RACERS`.
    surface : Surface
    lr, beta, beta2 : float
        The learning rate; momentum's coefficient and Adam's beta1; RMSprop's rho and Adam's beta2.
    steps : int
    rule : callable, optional
        The racer's update in the signature of nblib.optim's (``momentum_step(w, g, velocity, *,
        lr, momentum)``, ..., ``adam_step(w, g, m, v, t, *, lr, beta1, beta2)``), a student's
        for instance; nblib's by default. Its new w must have w's shape (2,).

    Returns
    -------
    path : ndarray, shape (K + 1, 2)
        w_0 (the start), w_1, ..., w_K; K = ``steps`` unless the racer stopped early.
    outcome : str
        "finished", "diverged" (left ±1e6 or not finite) or "escaped" (left the saddle's box).

    Example
    -------
    >>> path, outcome = race("SGD", SURFACES["saddle"], lr=0.5, beta=0.9, beta2=0.999, steps=3)
    >>> path.tolist(), outcome  # (x, y) <- (x - 0.5 * 2x, y + 0.5 * 2y) = (0, 2y)
    ([[-2.0, 0.01], [0.0, 0.02], [0.0, 0.04], [0.0, 0.08]], 'finished')
    """
    check_choice(racer, "racer", RACERS)
    (x_low, x_high), (y_low, y_high) = surface.box
    w = np.array(surface.start, dtype=float)  # (2,)
    velocity, m, s = np.zeros(2), np.zeros(2), np.zeros(2)  # each racer's state, the shape of w
    path = [w]
    with np.errstate(over="ignore", invalid="ignore"):  # a runaway racer is reported, not warned about
        for t in range(1, steps + 1):
            g = surface.grad(w)
            if racer == "SGD":
                w = (rule or optim.sgd_step)(w, g, lr=lr)
            elif racer == "momentum":
                w, velocity = (rule or optim.momentum_step)(w, g, velocity, lr=lr, momentum=beta)
            elif racer == "Nesterov":
                w, velocity = (rule or optim.nesterov_step)(w, g, velocity, lr=lr, momentum=beta)
            elif racer == "RMSprop":
                w, s = (rule or optim.rmsprop_step)(w, g, s, lr=lr, rho=beta2)
            else:
                w, m, s = (rule or optim.adam_step)(w, g, m, s, t, lr=lr, beta1=beta, beta2=beta2)
            w = np.asarray(w, dtype=float)
            if w.shape != (2,):
                raise ValueError(f"the new w at step {t} has shape {w.shape}, not the shape of w, (2,)")
            path.append(w)
            if not (np.all(np.isfinite(w)) and np.max(np.abs(w)) <= BOUND):
                return np.array(path), "diverged"
            if not surface.bounded and not (x_low <= w[0] <= x_high and y_low <= w[1] <= y_high):
                return np.array(path), "escaped"
    return np.array(path), "finished"


class OptimizerRace(Demo):
    """Race SGD, momentum, Nesterov, RMSprop and Adam down a 2-D loss surface.

    Controls: the surface (an ill-conditioned bowl, Rosenbrock's valley, a saddle), the
    learning rate (log scale, shared by all racers; a new surface starts at its own), beta
    (momentum's coefficient and Adam's beta1), beta2 (RMSprop's rho and Adam's beta2), the
    number of steps, and a checkbox per racer. Left: the contour lines with each racer's
    path; right: each racer's loss at every step. The status line gives each racer's final
    loss, or the step where it diverged or escaped.

    Things to try: on the bowl, momentum and Nesterov overtake SGD; raise beta to 0.99 and
    watch momentum overshoot and spiral. On Rosenbrock, find a learning rate for SGD, then
    one for Adam: they differ by ten times or more. On the saddle, SGD lingers where the
    gradient is small. Lower beta2 to 0.9 (Keras's RMSprop default): with beta2 = 0.999,
    RMSprop's first steps are sqrt(1000) &asymp; 32 times lr, because unlike Adam it does
    not correct the bias of its running mean s, which starts at 0.

    Parameters
    ----------
    surface : str
        A key of :data:`SURFACES`: "ill-conditioned bowl", "rosenbrock", "saddle".
    lr : float, optional
        The learning rate, in [1e-4, 1]; by default the surface's own (0.02, 0.002, 0.01).
    beta : float
        Momentum's coefficient and Adam's beta1, in [0, 0.99].
    beta2 : float
        RMSprop's rho and Adam's beta2, in [0.5, 0.999].
    steps : int
        Steps per racer, 10..1000.
    racers : sequence of str
        The racers shown first (checked), keys of :data:`RACERS`; all by default.
    yours : dict, optional
        A student's update rules by name, among "momentum_step", "nesterov_step",
        "rmsprop_step" and "adam_step" (week 5's homework, nblib.optim's signatures): the
        racer of each (momentum, Nesterov, RMSprop, Adam) races again with the student's rule,
        drawn as a dashed path in the racer's colour with orange diamonds, and a line per rule
        says whether its path agrees with nblib's or where it first differs: ``[k, 0]`` is x
        after step k, ``[k, 1]`` is y (see :mod:`nblib.widgets.yours`).

    Notes
    -----
    Every racer uses the pure update functions of :mod:`nblib.optim` (``sgd_step``,
    ``momentum_step``, ``nesterov_step``, ``rmsprop_step``, ``adam_step``) with Keras's
    conventions and eps = 1e-7. A racer is stopped when a coordinate passes ±1e6
    ("diverged") or, on the saddle, when it leaves the plotted box ("escaped").

    Example
    -------
    >>> demo = OptimizerRace(surface="ill-conditioned bowl", lr=0.01, steps=150)
    >>> bool(demo.losses["momentum"][-1] < 1e-4 < demo.losses["SGD"][-1])  # momentum wins here
    True
    """

    YOURS = tuple(YOURS_RACERS.values())

    def __init__(self, surface: str = "ill-conditioned bowl", lr: float | None = None, beta: float = 0.9,
                 beta2: float = 0.999, steps: int = 150, racers=tuple(RACERS), yours=None):
        check_choice(surface, "surface", SURFACES)
        lr = SURFACES[surface].lr if lr is None else _check_range(lr, "lr", LR_LIMITS)
        beta = _check_range(beta, "beta", BETA_LIMITS)
        beta2 = _check_range(beta2, "beta2", BETA2_LIMITS)
        steps = check_int(steps, "steps", minimum=1)
        if not STEPS_LIMITS[0] <= steps <= STEPS_LIMITS[1]:
            raise ValueError(f"steps must be between {STEPS_LIMITS[0]} and {STEPS_LIMITS[1]}, got {steps}")
        if isinstance(racers, str):
            raise TypeError(f"racers must be a list of names such as ['SGD', 'Adam'], got the string {racers!r}")
        for name in racers:
            check_choice(name, "racers", RACERS)

        figure, (self.ax, self.ax_loss) = plt.subplots(1, 2, figsize=(10.5, 4.2), width_ratios=[3, 2])
        super().__init__(figure, yours)
        # The student's rules lifted to whole races, so that compare() compares paths: racer -> name.
        self.their_racers = {r: name for r, name in YOURS_RACERS.items() if name in self.yours}
        self._their_races = Yours({name: _their_race(self.yours.functions[name]) for name in self.their_racers.values()},
                                  accepted=self.YOURS, demo=type(self).__name__)
        self.their_paths: dict[str, np.ndarray | None] = {}  # racer -> the student's path (steps + 1, 2), or None
        self.surface = W.Dropdown(options=list(SURFACES), value=surface, description="surface", style=WIDE)
        self.lr = W.FloatLogSlider(value=lr, base=10, min=np.log10(LR_LIMITS[0]), max=np.log10(LR_LIMITS[1]),
                                   step=0.05, description="learning rate lr", continuous_update=True,
                                   readout_format=".4f", style=WIDE, layout=W.Layout(width="380px"))
        self.beta = W.FloatSlider(value=beta, min=BETA_LIMITS[0], max=BETA_LIMITS[1], step=0.01,
                                  description="beta (momentum, Adam β1)", continuous_update=True,
                                  readout_format=".2f", style=WIDE, layout=W.Layout(width="440px"))
        self.beta2 = W.FloatSlider(value=beta2, min=BETA2_LIMITS[0], max=BETA2_LIMITS[1], step=0.001,
                                   description="beta2 (RMSprop ρ, Adam β2)", continuous_update=True,
                                   readout_format=".3f", style=WIDE, layout=W.Layout(width="440px"))
        self.steps = W.IntSlider(value=steps, min=STEPS_LIMITS[0], max=STEPS_LIMITS[1], step=10,
                                 description="steps", continuous_update=True, style=WIDE)
        self.shown = {name: W.Checkbox(value=name in racers, description=name, indent=False, style=WIDE,
                                       layout=W.Layout(width="auto", margin="0 12px 0 0"))
                      for name in RACERS}
        self.status = W.HTML()
        self.caption = W.HTML()

        self.ax_loss.set_xlabel("step")
        self.ax_loss.set_title("Loss at each step")
        self.ax_loss.grid(alpha=0.3)
        self.loss_lines = {name: self.ax_loss.plot([], [], color=colour, lw=1.5, label=name)[0]
                           for name, colour in RACERS.items()}
        self.their_loss_lines = {r: self.ax_loss.plot([], [], "--", color=RACERS[r], lw=1.2)[0]
                                 for r in self.their_racers}
        self.yours_key = Line2D([], [], ls="--", color="0.3", marker="D", mfc=YOURS_COLOUR, mec=YOURS_COLOUR, ms=4,
                                label="yours (dashed)")
        self.shown_surface: str | None = None  # the surface the contour panel is set up for
        self._resetting = False  # True while draw() moves the lr slider to a new surface's own lr

        self._draw_soon = Debouncer(lambda: self.draw())
        for control in (self.surface, self.beta, self.beta2, self.steps, *self.shown.values()):
            control.observe(lambda _change: self._draw_soon(), "value")
        self.lr.observe(lambda _change: None if self._resetting else self._draw_soon(), "value")
        self.widget = W.VBox([
            W.HBox([self.surface, self.lr, self.steps]),
            W.HBox([self.beta, self.beta2]),
            W.HBox([W.HTML("racers:&nbsp;"), *self.shown.values()]),
            self.status, self.yours_line, self.output, self.caption])
        self.draw()

    # -- drawing ----------------------------------------------------------------------------------

    def _set_up(self, name: str) -> None:
        """Draw what depends on the surface only: its contour lines, the start, the minimum."""
        sf = SURFACES[name]
        ax = self.ax
        ax.clear()
        (x_low, x_high), (y_low, y_high) = sf.box
        if sf.bounded:  # log-spaced levels above the minimum, where the valley floor is
            plots.loss_contours(ax, sf.f, sf.box, floor=sf.f(np.array(sf.minimum)), resolution=240, levels=14,
                                depth=1e-4)
            ax.plot(*sf.minimum, "*", color="black", ms=12, label="minimum")
        else:
            plots.loss_contours(ax, sf.f, sf.box, resolution=240, levels=15)
            ax.plot(0.0, 0.0, "x", color="black", ms=9, label="saddle point")
        ax.plot(*sf.start, "o", color="black", ms=7, mfc="none", label="start")
        ax.legend(loc="lower right", fontsize=7)  # the racers' colours are in the loss panel's legend
        self.path_lines = {r: ax.plot([], [], "o-", color=colour, ms=2, lw=1.3)[0] for r, colour in RACERS.items()}
        self.their_path_lines = {r: ax.plot([], [], "D--", color=RACERS[r], mfc=YOURS_COLOUR, mec=YOURS_COLOUR, ms=3,
                                            lw=1.0)[0] for r in self.their_racers}
        ax.set_xlim(x_low, x_high)
        ax.set_ylim(y_low, y_high)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        self.ax_loss.set_yscale("log" if sf.bounded else "linear")
        self.ax_loss.set_ylabel("$f(x, y) - f_{min}$ (log scale)" if sf.bounded else "$f(x, y)$")
        first, self.shown_surface = self.shown_surface is None, name
        if not first and self.lr.value != sf.lr:  # each new surface starts at its own learning rate
            self._resetting = True
            try:
                self.lr.value = sf.lr
            finally:
                self._resetting = False

    def draw(self) -> None:
        """Race every racer with the controls' settings; draw the checked ones."""
        name = self.surface.value
        sf = SURFACES[name]
        if name != self.shown_surface:
            self._set_up(name)
        lr, beta, beta2, steps = self.lr.value, self.beta.value, self.beta2.value, self.steps.value
        self.paths, self.outcomes, self.losses = {}, {}, {}
        (x_low, x_high), (y_low, y_high) = sf.box
        margin_x, margin_y = 0.05 * (x_high - x_low), 0.05 * (y_high - y_low)
        view = ((x_low - margin_x, x_high + margin_x), (y_low - margin_y, y_high + margin_y))
        f_min = sf.f(np.array(sf.minimum)) if sf.bounded else 0.0
        lowest, highest = np.inf, -np.inf
        for racer in RACERS:
            path, outcome = race(racer, sf, lr=lr, beta=beta, beta2=beta2, steps=steps)
            self.paths[racer], self.outcomes[racer] = path, outcome
            with np.errstate(over="ignore", invalid="ignore"):
                self.losses[racer] = loss = sf.f(path)  # (K + 1,)
            shown = self.shown[racer].value
            self.path_lines[racer].set_data(*clip_path(path, view).T)
            self.path_lines[racer].set_visible(shown)
            drawn = loss - f_min
            keep = np.isfinite(drawn) & (np.abs(drawn) < 1e100)  # a diverged racer's last loss is off the chart
            if sf.bounded:
                drawn = np.maximum(drawn, 1e-20)
            self.loss_lines[racer].set_data(np.arange(len(drawn))[keep], drawn[keep])
            self.loss_lines[racer].set_visible(shown)
            if shown and keep.any():
                lowest, highest = min(lowest, drawn[keep].min()), max(highest, drawn[keep].max())
        comparisons = [self._race_theirs(racer, sf, view, f_min, lr=lr, beta=beta, beta2=beta2, steps=steps)
                       for racer in self.their_racers]
        self.ax_loss.set_xlim(0, steps)
        if np.isfinite(lowest):
            if sf.bounded:  # a diverging racer's loss runs off the top, 1000 times above the start
                start_gap = float(sf.f(np.array(sf.start))) - f_min
                self.ax_loss.set_ylim(lowest / 5, min(highest, 1e3 * start_gap) * 5)
            else:
                pad = 0.05 * max(highest - lowest, 1e-9)
                self.ax_loss.set_ylim(lowest - pad, highest + pad)
        visible = [r for r in RACERS if self.shown[r].value]
        if visible:
            key = [self.yours_key] if self.their_racers else []
            self.ax_loss.legend(handles=[self.loss_lines[r] for r in visible] + key, loc="upper right", fontsize=8)
        elif self.ax_loss.get_legend() is not None:
            self.ax_loss.get_legend().remove()
        self.ax.set_title(f"{sf.formula}\nlr = {lr:.3g}, beta = {beta:.2f}, beta2 = {beta2:.3f}", fontsize=10)
        self.status.value = self._summary(visible, steps) if visible else "Check a racer to see its path."
        self.caption.value = f"<i>{sf.note}</i>"
        self._say(*comparisons)
        self._render()

    def _race_theirs(self, racer: str, sf: Surface, view, f_min: float, **settings):
        """Race ``racer`` with the student's rule, compare its path with nblib's, draw it dashed."""
        name = self.their_racers[racer]
        mine = self._their_races.compare(name, race_path, racer, sf, **settings)
        path = self.their_paths[racer] = mine.theirs  # (steps + 1, 2) or None
        shown = self.shown[racer].value and path is not None
        finite = path[np.isfinite(path).all(axis=1)] if path is not None else np.zeros((0, 2))
        self.their_path_lines[racer].set_data(*clip_path(finite, view).T if len(finite) else ([], []))
        self.their_path_lines[racer].set_visible(shown)
        with np.errstate(over="ignore", invalid="ignore"):
            drawn = sf.f(finite) - f_min  # (K + 1,)
        keep = np.isfinite(drawn) & (np.abs(drawn) < 1e100)
        self.their_loss_lines[racer].set_data(np.arange(len(drawn))[keep],
                                              np.maximum(drawn, 1e-20)[keep] if sf.bounded else drawn[keep])
        self.their_loss_lines[racer].set_visible(shown)
        return mine

    def _summary(self, racers: list[str], steps: int) -> str:
        """Each racer's result: its final loss, or where it diverged or escaped (HTML)."""
        parts = []
        for racer in racers:
            path, outcome, loss = self.paths[racer], self.outcomes[racer], self.losses[racer]
            k = len(path) - 1
            if outcome == "diverged":
                result = f"diverged at step {k}"
            elif outcome == "escaped":
                result = f"escaped at step {k}"
            else:
                result = f"f = {loss[-1]:.3g}"
            parts.append(f'<b style="color:{RACERS[racer]}">{html.escape(racer)}</b> {result}')
        return f"after {steps} steps: " + " &middot; ".join(parts)


def race_path(racer: str, surface: Surface, *, steps: int, rule=None, **settings) -> np.ndarray:
    """A racer's path for comparing: (steps + 1, 2), a path that stopped early held at its last point.

    Two paths that stop at the same step agree; one that stops earlier differs from the step
    where the other goes on. ``settings``: lr, beta and beta2, as for :func:`race`.
    """
    path, _ = race(racer, surface, steps=steps, rule=rule, **settings)
    return np.concatenate([path, np.repeat(path[-1:], steps + 1 - len(path), axis=0)])  # (steps + 1, 2)


def _their_race(rule):
    """The student's ``rule`` as a function of race_path's arguments, for Yours.compare; None stays None."""
    return None if rule is None else functools.partial(_race_with, rule)


def _race_with(rule, racer, surface, **settings):
    return race_path(racer, surface, rule=rule, **settings)


def _check_range(value, name: str, limits: tuple[float, float]) -> float:
    low, high = limits
    v = as_scalar(value, name)
    if not low <= v <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return v

