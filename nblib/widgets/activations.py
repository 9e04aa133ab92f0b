"""Week 2's activation explorer: an activation, its derivative, its range and where it saturates."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from nblib import activations
from nblib._validation import check_choice, check_int
from nblib.widgets._core import WIDE, Debouncer, Demo
from nblib.widgets.yours import ATOL, RTOL

__all__ = ["ActivationExplorer", "RANGES", "SATURATION"]

# Each activation's output range (the lecture's table). Written out, not computed from the
# plot: on a finite x range the curve shows only part of it.
RANGES = {
    "linear": "(-∞, ∞)",
    "binary_step": "{0, 1}",
    "sigmoid": "(0, 1)",
    "tanh": "(-1, 1)",
    "relu": "[0, ∞)",
    "leaky_relu": "(-∞, ∞)",
    "elu": "(-1, ∞)",
    "softplus": "(0, ∞)",
    "gelu": "[-0.17, ∞)",
    "selu": "(-1.758, ∞)",
    "swish": "[-0.278, ∞)",
}

SATURATION = 0.05  # |g'(x)| below this: the gradient through the unit (nearly) vanishes
X_LIMITS = (-10.0, 10.0)  # the x-range slider's ends
YOURS_COLOUR = "#ff7f0e"  # the student's curves and the points where they differ from nblib's
YOURS = ("sigmoid", "relu", "leaky_relu", "elu", "softplus",  # week 2's homework, exercises 1 and 2
         "sigmoid_derivative", "tanh_derivative", "relu_derivative", "leaky_relu_derivative", "elu_derivative",
         "softplus_derivative")


def _check_x_range(x_range) -> tuple[float, float]:
    """Return ``x_range`` as (low, high), raising unless X_LIMITS[0] <= low < high <= X_LIMITS[1]."""
    lo_limit, hi_limit = X_LIMITS
    try:
        low, high = (float(v) for v in x_range)
    except (TypeError, ValueError):
        raise ValueError(f"x_range must be a pair (low, high) of numbers, got {x_range!r}") from None
    if not lo_limit <= low < high <= hi_limit:
        raise ValueError(f"x_range must satisfy {lo_limit:g} <= low < high <= {hi_limit:g}, got {x_range!r}")
    return low, high


def saturated_spans(x: np.ndarray, derivative: np.ndarray, threshold: float = SATURATION) -> list[tuple[float, float]]:
    """The intervals of ``x`` where ``|derivative| < threshold``, as (start, end) pairs.

    Parameters
    ----------
    x : ndarray, shape (P,)
        Increasing sample points.
    derivative : ndarray, shape (P,)
        g'(x) at those points.

    Example
    -------
    >>> x = np.linspace(-2, 2, 5)
    >>> saturated_spans(x, activations.relu_derivative(x))
    [(-2.0, 0.0)]
    """
    flat = np.abs(derivative) < threshold
    edges = np.flatnonzero(np.diff(flat.astype(np.int8)))  # the last index before each change
    starts = [0] + list(edges + 1)
    ends = list(edges) + [len(x) - 1]
    return [(float(x[s]), float(x[e])) for s, e in zip(starts, ends) if flat[s]]


class ActivationExplorer(Demo):
    """Plot an activation function g and its derivative g', and shade where g saturates.

    Controls: the activation (every name in :data:`nblib.activations.ACTIVATIONS`), the x
    range, and "show derivative". The plot shades the x where |g'(x)| < 0.05: there a unit
    passes (almost) no gradient back, so the weights feeding it stop learning. The status
    line gives the output range and g(0), g'(0).

    Things to try: sigmoid and tanh saturate on both sides (and tanh'(0) = 1 is four times
    sigmoid'(0) = 1/4); ReLU is flat for every x < 0 (a unit stuck there "dies"), leaky ReLU
    and ELU are not quite; binary_step is flat everywhere, so gradient descent cannot train it;
    GELU and swish dip below zero before they rise.

    Parameters
    ----------
    activation : str
        The activation shown first, a key of ``nblib.activations.ACTIVATIONS``.
    x_range : (float, float)
        The plotted interval (low, high), within [-10, 10].
    show_derivative : bool
        Whether g' is drawn too.
    points : int
        How many x the curves are sampled at (>= 2).
    yours : dict of str -> function, optional
        A student's activations and derivatives by name (week 2's homework: ``sigmoid``,
        ``relu``, ``leaky_relu``, ``elu``, ``softplus`` and ``sigmoid_derivative``,
        ``tanh_derivative``, ``relu_derivative``, ``elu_derivative``, ``softplus_derivative``),
        each taking the array of plotted x, shape (P,), to g(x) or g'(x), shape (P,). For the
        chosen activation the student's g and g' are drawn dashed in orange over nblib's, the
        points where they differ circled, and a line says whether they agree or where they
        first differ (see :mod:`nblib.widgets.yours`). The sampled x then include 0 whenever the
        range does: the kink of ReLU's derivative sits there.

    Notes
    -----
    g and g' come from :func:`nblib.activations.get`; g' is the analytic derivative, e.g.
    sigmoid'(x) = sigmoid(x) (1 - sigmoid(x)) and tanh'(x) = 1 - tanh(x)^2.

    Example
    -------
    >>> demo = ActivationExplorer(activation="tanh", x_range=(-4, 4))
    >>> [(round(a, 2), round(b, 2)) for a, b in demo.saturated]  # where |tanh'(x)| < 0.05
    [(-4.0, -2.18), (2.18, 4.0)]
    """

    YOURS = YOURS

    def __init__(self, *, activation: str = "relu", x_range=(-6.0, 6.0), show_derivative: bool = True,
                 points: int = 401, yours=None):
        check_choice(activation, "activation", activations.ACTIVATIONS)
        x_range = _check_x_range(x_range)
        self.points = check_int(points, "points", minimum=2)
        figure, self.ax = plt.subplots(figsize=(7, 3.8))
        super().__init__(figure, yours)

        self.activation = W.Dropdown(options=list(activations.ACTIVATIONS), value=activation,
                                     description="activation", style=WIDE)
        self.x_range = W.FloatRangeSlider(value=x_range, min=X_LIMITS[0], max=X_LIMITS[1], step=0.5,
                                          description="x range", continuous_update=True, readout_format=".1f",
                                          style=WIDE)
        self.show_derivative = W.Checkbox(value=bool(show_derivative), description="show derivative",
                                          indent=False, style=WIDE)
        self.status = W.HTML()

        self.ax.axhline(0.0, color="0.6", lw=0.8)
        self.ax.axvline(0.0, color="0.6", lw=0.8)
        (self.line,) = self.ax.plot([], [], color="#1f77b4", lw=2, label="g(x)")
        (self.derivative_line,) = self.ax.plot([], [], color="#d62728", lw=1.5, ls="--", label="g'(x)")
        (self.their_line,) = self.ax.plot([], [], color=YOURS_COLOUR, lw=2, ls=(0, (4, 3)), label="_nolegend_")
        (self.their_derivative_line,) = self.ax.plot([], [], color=YOURS_COLOUR, lw=1.5, ls=":", label="_nolegend_")
        (self.their_misses,) = self.ax.plot([], [], "o", color=YOURS_COLOUR, mfc="none", markersize=7, label="_nolegend_")
        self.theirs = (None, None)  # the student's g(x) and g'(x), (P,) each, when usable
        self.ax.set_xlabel("x (pre-activation)")
        self.ax.set_ylabel("output")
        self.shading: list = []  # the saturation spans drawn (matplotlib patches)
        self.saturated: list[tuple[float, float]] = []

        self._draw_soon = Debouncer(lambda: self.draw())
        for control in (self.activation, self.x_range, self.show_derivative):
            control.observe(lambda _change: self._draw_soon(), "value")
        self.widget = W.VBox([W.HBox([self.activation, self.x_range, self.show_derivative]), self.status,
                              self.yours_line, self.output])
        self.draw()

    def draw(self) -> None:
        """Draw the chosen activation over the chosen x range."""
        name = self.activation.value
        g, dg = activations.get(name)
        low, high = self.x_range.value
        x = np.linspace(low, high, self.points)
        if self.yours and low < 0 < high:
            x = np.union1d(x, [0.0])  # (P,) or (P + 1,): z = 0 itself, where ReLU's derivative is decided
        mine = self.yours.compare(name, g, x)
        mine_d = self.yours.compare(f"{name}_derivative", dg, x)
        y, dy = mine.reference, mine_d.reference
        self.line.set_data(x, y)
        self.derivative_line.set_data(x, dy)
        self.derivative_line.set_visible(self.show_derivative.value)
        self.derivative_line.set_label("g'(x)" if self.show_derivative.value else "_hidden")  # "_": not in the legend

        for patch in self.shading:
            patch.remove()
        self.saturated = saturated_spans(x, dy)
        self.shading = [self.ax.axvspan(a, b, color="#ff7f0e", alpha=0.15, lw=0,
                                        label=f"|g'(x)| < {SATURATION}: gradients vanish here" if i == 0 else None)
                        for i, (a, b) in enumerate(self.saturated)]

        shown = [y, dy] if self.show_derivative.value else [y]
        if self.yours:
            shown += self._draw_theirs(x, mine, mine_d)
        bottom, top = min(v.min() for v in shown), max(v.max() for v in shown)
        pad = 0.08 * max(top - bottom, 1.0)
        self.ax.set_xlim(low, high)
        self.ax.set_ylim(bottom - pad, top + pad)
        self.ax.set_title(f"{name}: output range {RANGES.get(name, '?')}")
        self.ax.legend(loc="upper left", fontsize=9)

        g0, dg0 = float(g(0.0)), float(dg(0.0))
        flat = "nowhere" if not self.saturated else ", ".join(f"[{a:.1f}, {b:.1f}]" for a, b in self.saturated)
        self.status.value = (f"<b>{name}</b>: output range {RANGES.get(name, '?')}; on this x range from "
                             f"{y.min():.3g} to {y.max():.3g}. g(0) = {_short(g0)}, g'(0) = {_short(dg0)}. "
                             f"Saturated (|g'| &lt; {SATURATION}): {flat}.")
        if self.yours:
            self._say(*(_at_x(c, x) for c in (mine, *([mine_d] if self.show_derivative.value else []))))
        self._render()

    def _draw_theirs(self, x, mine, mine_d) -> list:
        """Draw the student's g and g' (where usable), and circle the first point where each differs from nblib's.

        Returns the student's drawn values (finite ones), for the axes' limits.
        """
        self.theirs = (mine.theirs, mine_d.theirs)
        drawn, missed_x, missed_y = [], [], []
        for line, comparison, shown, label in ((self.their_line, mine, True, "your g(x)"),
                                               (self.their_derivative_line, mine_d, self.show_derivative.value,
                                                "your g'(x)")):
            theirs = comparison.theirs if shown else None  # (P,) or None
            line.set_data(*((x, theirs) if theirs is not None else ([], [])))
            line.set_label(label if theirs is not None else "_nolegend_")
            if theirs is not None:
                differ = np.flatnonzero(~np.isclose(theirs, comparison.reference, rtol=RTOL, atol=ATOL))[:1]
                missed_x.append(x[differ])  # the first x where yours.py's "agrees" fails, if any
                missed_y.append(theirs[differ])
                drawn.append(theirs[np.isfinite(theirs)])
        missed_x, missed_y = (np.concatenate(v) if v else np.empty(0) for v in (missed_x, missed_y))
        self.their_misses.set_data(missed_x, missed_y)
        self.their_misses.set_label("yours first differs" if len(missed_x) else "_nolegend_")
        return [v for v in drawn if v.size]


def _at_x(comparison, x):
    """The comparison, its line naming the x where the student's curve first differs: "at x = 0 [200]"."""
    return replace(comparison, line=re.sub(r"at \[(\d+)\]", lambda m: f"at x = {x[int(m[1])]:.3g} [{m[1]}]",
                                           comparison.line, count=1))


def _short(value: float) -> str:
    """0.25 -> '0.25', 0.5413... -> '0.541', 1.0 -> '1'."""
    return "0" if value == 0 else f"{value:.3g}" if math.isfinite(value) else str(value)
