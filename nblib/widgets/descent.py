"""Week 4's gradient-descent demo: one learning rate too small, good, too large, divergent.

Gradient descent repeats one update, x_{k+1} = x_k - lr * grad f(x_k), from a start x_0.
On f(x) = x² the update is x_{k+1} = (1 - 2 lr) x_k, so x_k = (1 - 2 lr)^k x_0 and the
learning rate alone decides what happens:

- 0 < lr < 0.5: 0 < 1 - 2 lr < 1, every step goes part of the way (too small lr: barely moves);
- lr = 0.5: one step lands on the minimum;
- 0.5 < lr < 1: -1 < 1 - 2 lr < 0, every step jumps past the minimum, and still converges;
- lr > 1: |1 - 2 lr| > 1, every jump lands further out: divergence.

A quadratic with curvature L (f'' = L) has the same thresholds at lr = 1/L and lr = 2/L.
In several dimensions each direction has its own curvature, and the steepest one sets the
limit for all of them (the ill-conditioned bowl).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from nblib import plots
from nblib._validation import as_float_array, as_scalar, check_choice, check_int, check_positive
from nblib.widgets._core import WIDE, Debouncer, Demo

__all__ = ["GradientDescent", "FUNCTIONS", "Function", "descend", "classify", "clip_path"]

LR_LIMITS = (1e-3, 3.0)  # the learning-rate slider's ends (a log scale)
MAX_STEPS = 200
BOUND = 1e6  # an iterate this far out has diverged: the run stops there (nothing overflows)
CONVERGED = 1e-2  # the gradient shrank to this fraction of its start: converged
NEGLIGIBLE = 1e-9  # steps shorter than this fraction of the longest are rounding noise


@dataclass(frozen=True)
class Function:
    """A function to descend, with its gradient written out and how to plot it.

    Points are arrays of shape (..., d) with d = 1 or 2, so ``f`` also works on a grid.

    Attributes
    ----------
    formula : str
        f as a matplotlib mathtext string, for the titles.
    f : callable
        f(p) for p (..., d) -> (...).
    grad : callable
        grad f(p) for p (d,) -> (d,).
    start : tuple of float
        The default x_0 (d values).
    box : tuple of pairs
        The plotted region: ((x_low, x_high), (y_low, y_high)). In 1-D, y is f's axis.
    minimum : tuple of float
        Where f is smallest (its global minimum), d values.
    regimes : str
        The learning rates of each regime, for the caption.
    """

    formula: str
    f: Callable
    grad: Callable
    start: tuple
    box: tuple
    minimum: tuple
    regimes: str

    @property
    def dim(self) -> int:
        return len(self.start)

    @property
    def f_min(self) -> float:
        return float(self.f(np.array(self.minimum)))


def _double_well_minimum() -> float:
    """The global minimum of (x² - 1)² + 0.3x: the smallest real root of f' = 4x³ - 4x + 0.3."""
    roots = np.roots([4.0, 0.0, -4.0, 0.3])
    return float(roots.real.min())


FUNCTIONS = {
    # f(x) = x², f'(x) = 2x, f'' = 2
    "quadratic": Function(
        formula="$f(x) = x^2$",
        f=lambda p: p[..., 0] ** 2,
        grad=lambda p: 2.0 * p,
        start=(2.0,), box=((-2.6, 2.6), (-0.4, 7.0)), minimum=(0.0,),
        regimes="x<sub>k+1</sub> = (1 &minus; 2 lr) x<sub>k</sub>: smooth for lr &lt; 0.5, "
                "overshooting but converging for 0.5 &lt; lr &lt; 1, diverging for lr &gt; 1."),
    # f(x) = (x² - 1)² + 0.3 x, f'(x) = 4x (x² - 1) + 0.3, f'' = 12x² - 4
    "double well": Function(
        formula="$f(x) = (x^2 - 1)^2 + 0.3x$",
        f=lambda p: (p[..., 0] ** 2 - 1.0) ** 2 + 0.3 * p[..., 0],
        grad=lambda p: 4.0 * p * (p**2 - 1.0) + 0.3,
        start=(2.0,), box=((-2.0, 2.3), (-0.8, 10.5)), minimum=(_double_well_minimum(),),
        regimes="two minima: the right one at x &asymp; 0.96 (f &asymp; 0.29) and the lower one at "
                "x &asymp; &minus;1.04 (f &asymp; &minus;0.31), where f'' &asymp; 8.9: overshooting for "
                "lr &gt; 0.11 and diverging for lr &gt; 0.22 there. Which minimum you reach depends on lr."),
    # f(x, y) = (x² + y²) / 2, grad = (x, y), curvature 1 in every direction
    "bowl": Function(
        formula="$f(x, y) = (x^2 + y^2)/2$",
        f=lambda p: 0.5 * (p[..., 0] ** 2 + p[..., 1] ** 2),
        grad=lambda p: np.array([p[0], p[1]]),
        start=(-2.5, 1.5), box=((-3.0, 3.0), (-3.0, 3.0)), minimum=(0.0, 0.0),
        regimes="each coordinate is multiplied by (1 &minus; lr) per step: smooth for lr &lt; 1, "
                "overshooting for 1 &lt; lr &lt; 2, diverging for lr &gt; 2."),
    # f(x, y) = (x² + 10 y²) / 2, grad = (x, 10 y), curvatures 1 and 10
    "ill-conditioned bowl": Function(
        formula="$f(x, y) = (x^2 + 10y^2)/2$",
        f=lambda p: 0.5 * (p[..., 0] ** 2 + 10.0 * p[..., 1] ** 2),
        grad=lambda p: np.array([p[0], 10.0 * p[1]]),
        start=(-4.5, 1.5), box=((-5.0, 5.0), (-2.0, 2.0)), minimum=(0.0, 0.0),
        regimes="x is multiplied by (1 &minus; lr), y by (1 &minus; 10 lr): y overshoots for lr &gt; 0.1 and "
                "diverges for lr &gt; 0.2, while x still crawls; the steep direction limits the learning rate."),
}


def descend(grad: Callable, start, *, lr: float, steps: int, bound: float = BOUND):
    """Gradient descent x_{k+1} = x_k - lr * grad(x_k) from ``start``, stopping early if it diverges.

    Parameters
    ----------
    grad : callable
        grad(x) for x (d,) -> (d,).
    start : array_like, shape (d,)
    lr : float
        The learning rate.
    steps : int
        Updates to take.
    bound : float
        An iterate with a coordinate beyond ``±bound`` (or not finite) ends the run: it has
        diverged, and going on would only overflow.

    Returns
    -------
    iterates : ndarray, shape (K + 1, d)
        x_0, x_1, ..., x_K; K = ``steps`` unless the run stopped early.
    stopped : int or None
        The step k at which x_k left the bound, or None.

    Example
    -------
    >>> iterates, stopped = descend(lambda x: 2 * x, [2.0], lr=0.25, steps=3)  # x_k = 2 * 0.5^k
    >>> iterates[:, 0].tolist(), stopped
    ([2.0, 1.0, 0.5, 0.25], None)
    >>> descend(lambda x: 2 * x, [2.0], lr=3.0, steps=100)[1]  # x_k = 2 * (-5)^k
    9
    """
    x = np.array(start, dtype=float)  # (d,)
    iterates = [x]
    with np.errstate(over="ignore", invalid="ignore"):  # a runaway run is reported, not warned about
        for k in range(1, steps + 1):
            x = x - lr * grad(x)
            iterates.append(x)
            if not (np.all(np.isfinite(x)) and np.max(np.abs(x)) <= bound):
                return np.array(iterates), k
    return np.array(iterates), None


def _reversals(iterates: np.ndarray) -> tuple[int, int]:
    """How often a step turns back in some coordinate, out of how many pairs of steps.

    For each coordinate, count the consecutive steps with opposite signs (an overshoot of
    the minimum along that axis); the answer is the coordinate that turns most. Steps
    shorter than NEGLIGIBLE times that coordinate's longest step are rounding noise near a
    minimum and not counted.
    """
    steps = np.diff(iterates, axis=0)                  # (K, d)
    best = (0, 0)
    for column in steps.T:                             # (K,) each
        size = np.abs(column)
        if not len(size) or not np.isfinite(size).all() or size.max() == 0:
            continue
        real = size > NEGLIGIBLE * size.max()
        pairs = real[:-1] & real[1:]                   # (K - 1,)
        turns = pairs & (column[:-1] * column[1:] < 0)
        best = max(best, (int(turns.sum()), int(pairs.sum())))
    return best


def classify(function: Function, iterates: np.ndarray, stopped: int | None) -> tuple[str, str]:
    """Name the regime of a gradient-descent run, and say why in a sentence (HTML).

    Returns
    -------
    regime : {"too small", "good", "oscillating", "diverges"}
        - "diverges": the run left the bound (stopped), or ended with a larger loss than it started;
        - "oscillating": the steps keep turning back along some axis (at least 2 turns, and in
          at least a quarter of the pairs of steps): the minimum is overshot;
        - "good": the gradient shrank below 1% of its start without oscillating;
        - "too small": none of those: the run moves steadily, but not far enough in its steps.
    message : str
    """
    K = len(iterates) - 1
    if stopped is not None:
        return "diverges", (f"every step lands further out: |x| passed {BOUND:.0e} after {stopped} steps, "
                            f"where the run was stopped. Use a smaller learning rate.")
    f0, fK = float(function.f(iterates[0])), float(function.f(iterates[-1]))
    if fK > f0 + 1e-12 * max(1.0, abs(f0)):
        return "diverges", f"the loss grew from {f0:.3g} to {fK:.3g} in {K} steps. Use a smaller learning rate."
    g0 = np.linalg.norm(function.grad(iterates[0]))
    gK = np.linalg.norm(function.grad(iterates[-1]))
    if g0 == 0:
        return "good", "the start is already a stationary point (gradient 0): nothing moves."
    left = gK / g0
    reversals, pairs = _reversals(iterates)
    if reversals >= 2 and reversals >= pairs / 4:
        if left <= CONVERGED:
            return "oscillating", (f"every step overshoots: the step turned back {reversals} times in {K} steps, "
                                   f"yet it converges (loss {f0:.3g} &rarr; {fK:.3g}).")
        return "oscillating", (f"the steps jump back and forth ({reversals} turns in {K} steps) and have not "
                               f"settled: the gradient is still {left:.0%} of its start "
                               f"(loss {f0:.3g} &rarr; {fK:.3g}).")
    if left <= CONVERGED:
        local = fK - function.f_min > 1e-3 * max(1.0, f0 - function.f_min)
        where = f" A local minimum: the lowest value of f is {function.f_min:.3g}." if local else ""
        return "good", (f"converged smoothly: in {K} steps |gradient| fell from {g0:.3g} to {gK:.2g} "
                        f"(loss {f0:.3g} &rarr; {fK:.3g}).{where}")
    return "too small", (f"the steps are too short: in {K} steps |gradient| only fell from {g0:.3g} to {gK:.2g}, "
                         f"{left:.0%} of where it started (loss {f0:.3g} &rarr; {fK:.3g}). "
                         f"A larger learning rate gets there sooner.")


def clip_path(points: np.ndarray, box) -> np.ndarray:
    """The parts of a path inside ``box``, for drawing: segments cut at the box's edges, gaps as NaN rows.

    A diverging path's last points are astronomically far away; drawing them only strains
    the plotting. Each segment is cut to the part inside the box (Liang & Barsky, 1984),
    so the lines drawn point exactly where the path goes; a path that leaves and comes
    back is drawn as separate pieces, with a row of NaN (a gap) in between.

    Parameters
    ----------
    points : ndarray, shape (K, 2)
        The path, finite.
    box : ((x_low, x_high), (y_low, y_high))

    Returns
    -------
    ndarray, shape (K', 2)
        The points inside the box, in order, plus the points where segments cross its edge.

    Example
    -------
    >>> clip_path(np.array([[0.0, 0.0], [0.5, 0.5], [4.0, 1.0], [1e9, 0.0]]), ((-1, 1), (-1, 1))).tolist()
    [[0.0, 0.0], [0.5, 0.5], [1.0, 0.5714285714285714]]
    >>> clip_path(np.array([[0.0, 0.0], [3.0, 0.0], [0.5, 0.0]]), ((-1, 1), (-1, 1))).tolist()
    [[0.0, 0.0], [1.0, 0.0], [nan, nan], [1.0, 0.0], [0.5, 0.0]]
    """
    low = np.array([box[0][0], box[1][0]], dtype=float)
    high = np.array([box[0][1], box[1][1]], dtype=float)
    out: list = []
    drawing = False  # whether the last row of ``out`` is where the path is now
    for a, b in zip(points[:-1], points[1:]):
        with np.errstate(over="ignore", divide="ignore"):  # a tiny step along an edge: t = ±inf, which is right
            cut = _clip_segment(a, b, low, high)
        if cut is None:  # the whole segment is outside
            if drawing:
                out.append([np.nan, np.nan])
            drawing = False
            continue
        t0, t1 = cut
        if not drawing or t0 > 0:  # (re)enters the box: start a new piece
            if out and not np.isnan(out[-1][0]):
                out.append([np.nan, np.nan])
            out.append(a + t0 * (b - a))
        out.append(b if t1 == 1.0 else a + t1 * (b - a))
        drawing = t1 == 1.0
    if len(points) == 1 and np.all((low <= points[0]) & (points[0] <= high)):
        out.append(points[0])
    while out and np.isnan(out[-1][0]):
        out.pop()
    return np.array(out, dtype=float).reshape(-1, 2)


def _clip_segment(a: np.ndarray, b: np.ndarray, low: np.ndarray, high: np.ndarray):
    """The part t in [t0, t1] of the segment a + t (b - a), 0 <= t <= 1, inside the box; None if none."""
    t0, t1 = 0.0, 1.0
    d = b - a
    for p, q in ((-d, a - low), (d, high - a)):  # inside: p * t <= q for each coordinate
        for p_i, q_i in zip(p, q):
            if p_i == 0:
                if q_i < 0:
                    return None  # parallel to this edge and outside it
                continue
            t = q_i / p_i
            if p_i < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return (t0, t1) if t0 <= t1 else None


class GradientDescent(Demo):
    """Watch gradient descent on a 1-D or 2-D function, and find the learning rate that works.

    Controls: the function (x², a double well, a round bowl, an ill-conditioned bowl), the
    learning rate lr (log scale, 0.001 to 3) and the number of steps. Left: the function
    with the iterates x_0, x_1, ... as dots joined by lines (in 2-D, on its contour lines);
    right: the loss f(x_k) - f_min at each step on a log scale. The status line names the
    regime: "too small", "good", "oscillating" or "diverges".

    Things to try, on x²: lr = 0.01 (too small), 0.1 (good), 0.5 (one step), 0.8
    (oscillating), 1.2 (diverges). On the ill-conditioned bowl: no single lr is good in 30
    steps, because y diverges before x gets anywhere; raise the steps. On the double well:
    lr decides which of the two minima you end up in.

    Parameters
    ----------
    function : str
        A key of :data:`FUNCTIONS`: "quadratic", "double well", "bowl", "ill-conditioned bowl".
    lr : float
        The learning rate, in [0.001, 3].
    steps : int
        Gradient steps, 1..200.
    start : float or pair of float, optional
        x_0 for ``function`` (a number in 1-D, (x, y) in 2-D), inside the plotted box; by
        default the function's own start. Other functions picked later start at their own.

    Notes
    -----
    x_{k+1} = x_k - lr * grad f(x_k). On f = x²: x_k = (1 - 2 lr)^k x_0, so the run is smooth
    for lr < 0.5, overshoots but converges for 0.5 < lr < 1, and diverges for lr > 1. On
    a quadratic with curvature L the thresholds are 1/L and 2/L. A diverging run is stopped
    when |x| passes 1e6 (no overflow, no warnings), and the status says so.

    Example
    -------
    >>> demo = GradientDescent(function="quadratic", lr=0.25, steps=3)
    >>> demo.iterates[:, 0].tolist()  # x_k = 2 * (1 - 2 * 0.25)^k
    [2.0, 1.0, 0.5, 0.25]
    >>> demo.lr.value = 1.5  # no event loop here: redrawn at once
    >>> demo.regime
    'diverges'
    """

    def __init__(self, function: str = "quadratic", lr: float = 0.1, steps: int = 30, start=None):
        check_choice(function, "function", FUNCTIONS)
        lr = check_positive(lr, "lr")
        if not LR_LIMITS[0] <= lr <= LR_LIMITS[1]:
            raise ValueError(f"lr must be between {LR_LIMITS[0]:g} and {LR_LIMITS[1]:g}, got {lr!r}")
        steps = check_int(steps, "steps", minimum=1)
        if steps > MAX_STEPS:
            raise ValueError(f"steps must be between 1 and {MAX_STEPS}, got {steps}")
        self.starts = {name: np.array(fn.start) for name, fn in FUNCTIONS.items()}
        if start is not None:
            self.starts[function] = _check_start(start, function)

        figure, (self.ax, self.ax_loss) = plt.subplots(1, 2, figsize=(10, 4), width_ratios=[3, 2])
        super().__init__(figure)
        self.function = W.Dropdown(options=list(FUNCTIONS), value=function, description="function", style=WIDE)
        self.lr = W.FloatLogSlider(value=lr, base=10, min=np.log10(LR_LIMITS[0]), max=np.log10(LR_LIMITS[1]),
                                   step=0.05, description="learning rate lr", continuous_update=True,
                                   readout_format=".3f", style=WIDE, layout=W.Layout(width="380px"))
        self.steps = W.IntSlider(value=steps, min=1, max=MAX_STEPS, description="steps", continuous_update=True,
                                 style=WIDE)
        self.status = W.HTML()
        self.caption = W.HTML()

        (self.loss_line,) = self.ax_loss.plot([], [], ".-", color="#d62728", ms=4, lw=1)
        self.ax_loss.set_yscale("log")
        self.ax_loss.set_xlabel("step k")
        self.ax_loss.set_ylabel("$f(x_k) - f_{min}$ (log scale)")
        self.ax_loss.set_title("Loss at each step")
        self.ax_loss.grid(alpha=0.3)
        self.shown_function: str | None = None  # the function the left panel is set up for

        self._draw_soon = Debouncer(lambda: self.draw())
        for control in (self.function, self.lr, self.steps):
            control.observe(lambda _change: self._draw_soon(), "value")
        self.widget = W.VBox([W.HBox([self.function, self.lr, self.steps]), self.status, self.yours_line, self.output,
                              self.caption])  # yours_line: Demo's, hidden (this demo takes no student's function yet)
        self.draw()

    # -- drawing ----------------------------------------------------------------------------------

    def _set_up(self, name: str) -> None:
        """Draw what does not depend on lr or steps: the curve or the contours, the start and the minimum."""
        fn = FUNCTIONS[name]
        ax = self.ax
        ax.clear()
        (x_low, x_high), (y_low, y_high) = fn.box
        start = self.starts[name]
        if fn.dim == 1:
            x = np.linspace(x_low, x_high, 400)
            ax.plot(x, fn.f(x[:, None]), color="0.3", lw=1.5, label=fn.formula)
            ax.plot(fn.minimum[0], fn.f_min, "*", color="#2ca02c", ms=12, label="minimum")
            ax.plot(start[0], fn.f(start), "o", color="black", ms=7, mfc="none", label="start $x_0$")
            ax.set_ylabel("f(x)")
        else:
            plots.loss_contours(ax, fn.f, fn.box, floor=fn.f_min)
            ax.plot(*fn.minimum, "*", color="#2ca02c", ms=12, label="minimum")
            ax.plot(*start, "o", color="black", ms=7, mfc="none", label="start $x_0$")
            ax.set_aspect("equal", adjustable="box")
            ax.set_ylabel("y")
        (self.path_line,) = ax.plot([], [], "o-", color="#d62728", ms=3.5, lw=1, label="iterates $x_k$")
        ax.set_xlim(x_low, x_high)
        ax.set_ylim(y_low, y_high)
        ax.set_xlabel("x")
        ax.legend(loc="best", fontsize=8)
        self.shown_function = name

    def draw(self) -> None:
        """Run gradient descent with the controls' function, lr and steps, and draw it."""
        name, lr, steps = self.function.value, self.lr.value, self.steps.value
        fn = FUNCTIONS[name]
        if name != self.shown_function:
            self._set_up(name)
        self.iterates, self.stopped = descend(fn.grad, self.starts[name], lr=lr, steps=steps)  # (K + 1, d)
        self.losses = fn.f(self.iterates)  # (K + 1,)
        self.regime, why = classify(fn, self.iterates, self.stopped)

        points = np.column_stack([self.iterates[:, 0], self.losses]) if fn.dim == 1 else self.iterates
        (x_low, x_high), (y_low, y_high) = fn.box
        margin_x, margin_y = 0.1 * (x_high - x_low), 0.1 * (y_high - y_low)  # cut just outside the view
        self.path_line.set_data(*clip_path(points, ((x_low - margin_x, x_high + margin_x),
                                                    (y_low - margin_y, y_high + margin_y))).T)
        self.ax.set_title(f"{fn.formula}, lr = {lr:.3g}: {self.regime}")

        gap = self.losses - fn.f_min
        shown = np.isfinite(gap) & (gap < 1e300)  # the loss of an iterate at the bound is huge, but finite
        gap = np.maximum(gap, 1e-16)  # the log scale cannot show 0
        k = np.arange(len(gap))
        self.loss_line.set_data(k[shown], gap[shown])
        self.ax_loss.set_xlim(-0.5, steps + 0.5)
        if shown.any():
            self.ax_loss.set_ylim(gap[shown].min() / 5, gap[shown].max() * 5)

        last = ", ".join(f"{v:.4g}" for v in self.iterates[-1])
        self.status.value = (f"<b>{self.regime}</b> (lr = {lr:.3g}): {why} "
                             f"x<sub>{len(self.iterates) - 1}</sub> = ({last}).")
        self.caption.value = f"<i>{html.escape(name)}: {fn.regimes}</i>"
        self._render()


def _check_start(start, name: str) -> np.ndarray:
    """``start`` as an array of shape (d,) inside the plotted box of FUNCTIONS[name]."""
    fn = FUNCTIONS[name]
    if fn.dim == 1:
        p = np.array([as_scalar(start, "start")])
    else:
        p = as_float_array(start, "start")
        if p.shape != (2,):
            raise ValueError(f"start must be a point (x, y) for the 2-D function {name!r}, got shape {p.shape}")
    box = np.array(fn.box[: fn.dim])  # (d, 2): each coordinate's (low, high)
    if not np.all((box[:, 0] <= p) & (p <= box[:, 1])):
        raise ValueError(f"start must lie in the plotted box {fn.box[:fn.dim]} of {name!r}, got {start!r}")
    return p
