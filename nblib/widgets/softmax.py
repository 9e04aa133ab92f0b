"""Week 3's softmax explorer: logit sliders and a temperature turn into probability bars."""

from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from nblib import losses
from nblib._validation import as_vector
from nblib.widgets._core import WIDE, Debouncer, Demo

__all__ = ["SoftmaxExplorer", "entropy"]

LOGIT_LIMITS = (-10.0, 10.0)
TEMPERATURE_LIMITS = (0.1, 10.0)
MAX_CLASSES = 10

CAPTION = ("Dividing the logits by a temperature T &gt; 1 flattens the distribution towards uniform "
           "(1/C each), while T &lt; 1 sharpens it towards one-hot on the largest logit; "
           "the order of the classes never changes.")


def entropy(p) -> float:
    """Shannon entropy H(p) = -sum_k p_k ln p_k in nats (0 ln 0 = 0).

    0 for a one-hot distribution, ln C (its maximum) for the uniform one over C classes.

    Example
    -------
    >>> round(entropy([0.5, 0.5]), 4)  # ln 2
    0.6931
    """
    p = np.asarray(p, dtype=float)
    nonzero = p[p > 0]
    return float(-(nonzero * np.log(nonzero)).sum())


def _check_temperature(temperature) -> float:
    low, high = TEMPERATURE_LIMITS
    if not isinstance(temperature, (int, float, np.floating, np.integer)) or isinstance(temperature, bool) \
            or not low <= temperature <= high:
        raise ValueError(f"temperature must be a number between {low:g} and {high:g}, got {temperature!r}")
    return float(temperature)


class SoftmaxExplorer(Demo):
    """Move C logits and a temperature T, and watch the probabilities softmax(z / T) change.

    Controls: one slider per logit z_k (class k), and the temperature T on a log scale from
    0.1 to 10. The bars are the probabilities, each annotated with its value; the status
    line lists them with their sum (always 1) and their entropy.

    Things to try: raise one logit and watch every other probability fall (they share a total
    of 1); add the same amount to every logit (nothing changes); push T up to 10 (towards
    uniform, entropy towards ln C) and down to 0.1 (towards one-hot, entropy towards 0).

    Parameters
    ----------
    logits : sequence of float, shape (C,)
        The logits shown first, 2 <= C <= 10, each in [-10, 10].
    temperature : float
        The temperature shown first, in [0.1, 10].
    labels : sequence of str, optional
        The classes' names (default "class 0", "class 1", ...), one per logit.
    yours : {"softmax": function}, optional
        A student's ``softmax(Z)`` (logits ``(N, C)`` to probabilities ``(N, C)``, week 3's
        homework): its probabilities are drawn as diamonds on nblib's bars, and a line says
        whether they agree (see :mod:`nblib.widgets.yours`). A slider then adds the same number
        c, up to ±1000, to every logit: the probabilities do not change, unless a softmax
        without the max shift overflows (exp(710) is inf in float64).

    Notes
    -----
    p_k = exp(z_k / T) / sum_j exp(z_j / T), computed by :func:`nblib.losses.softmax`
    (max-shifted, so no logit overflows). T = 1 is the plain softmax.

    Example
    -------
    >>> demo = SoftmaxExplorer(logits=[2.0, 1.0, 0.1], temperature=1.0)
    >>> demo.probabilities.round(3)
    array([0.659, 0.242, 0.099])
    >>> demo.temperature.value = 10.0  # no event loop here: redrawn at once
    >>> demo.probabilities.round(3)
    array([0.366, 0.331, 0.303])
    """

    YOURS = ("softmax",)

    def __init__(self, *, logits=(2.0, 1.0, 0.1, -1.0), temperature: float = 1.0, labels=None, yours=None):
        z = as_vector(logits, "logits")
        low, high = LOGIT_LIMITS
        if not 2 <= len(z) <= MAX_CLASSES:
            raise ValueError(f"logits must hold between 2 and {MAX_CLASSES} values (one per class), got {len(z)}")
        if not np.all((low <= z) & (z <= high)):
            raise ValueError(f"every logit must be between {low:g} and {high:g}, got {z.tolist()}")
        temperature = _check_temperature(temperature)
        labels = [f"class {k}" for k in range(len(z))] if labels is None else [str(s) for s in labels]
        if len(labels) != len(z):
            raise ValueError(f"labels must name each of the {len(z)} classes, got {len(labels)} labels")
        self.labels = labels
        figure, self.ax = plt.subplots(figsize=(7, 3.6))
        super().__init__(figure, yours)

        self.logits = [W.FloatSlider(value=float(v), min=low, max=high, step=0.1, description=f"z ({label})",
                                     continuous_update=True, readout_format=".1f", style=WIDE)
                       for v, label in zip(z, labels)]
        self.temperature = W.FloatLogSlider(value=temperature, base=10, min=np.log10(TEMPERATURE_LIMITS[0]),
                                            max=np.log10(TEMPERATURE_LIMITS[1]), step=0.05,
                                            description="temperature T", continuous_update=True,
                                            readout_format=".2f", style=WIDE)
        # Only beside a student's softmax (every widget made must be on the page): it shows overflow.
        self.shift = W.FloatSlider(value=0.0, min=-1000.0, max=1000.0, step=10.0, description="add c to every logit",
                                   continuous_update=True, readout_format=".0f", style=WIDE) if self.yours else None
        self.status = W.HTML()
        self.caption = W.HTML(f"<i>{CAPTION}</i>")

        C = len(z)
        self.bars = self.ax.bar(np.arange(C), np.zeros(C), color="#1f77b4")
        self.annotations = [self.ax.text(k, 0.0, "", ha="center", va="bottom", fontsize=9) for k in range(C)]
        self.ax.set_xticks(np.arange(C), labels)
        self.ax.set_ylim(0.0, 1.0)
        self.ax.set_ylabel("probability")
        self.ax.axhline(1.0 / C, color="0.6", lw=0.8, ls=":", label=f"uniform, 1/{C}")
        self.theirs = None  # the student's probabilities, (C,), when their softmax gave usable ones
        self.their_marks, = self.ax.plot([], [], "D", color="#ff7f0e", markersize=7,
                                         label="your softmax" if self.yours else "_nolegend_")
        self.ax.legend(loc="upper right", fontsize=9)
        self.probabilities = np.full(C, 1.0 / C)

        self._draw_soon = Debouncer(lambda: self.draw())
        for control in (*self.logits, self.temperature, *([self.shift] if self.shift else [])):
            control.observe(lambda _change: self._draw_soon(), "value")
        self.widget = W.VBox([W.HBox([W.VBox(self.logits), W.VBox([self.temperature, *([self.shift] if self.shift else []),
                                                                    self.status])]),
                              self.yours_line, self.output, self.caption])
        self.draw()

    def draw(self) -> None:
        """Draw softmax(z / T) for the sliders' logits z and temperature T."""
        z = np.array([s.value for s in self.logits])  # (C,)
        T = self.temperature.value
        c = self.shift.value if self.shift else 0.0  # softmax(z / T + c) = softmax(z / T): only overflow shows it
        mine = self.yours.compare("softmax", losses.softmax, (z / T + c)[None, :])  # a batch of one row: (1, C)
        p = self.probabilities = mine.reference[0]  # (C,)
        self.theirs = None if mine.theirs is None else mine.theirs[0]
        self.their_marks.set_data(*((np.arange(len(p)), self.theirs) if self.theirs is not None else ([], [])))
        for bar, text, p_k in zip(self.bars, self.annotations, p):
            bar.set_height(p_k)
            text.set_position((bar.get_x() + bar.get_width() / 2, min(p_k, 0.92) + 0.01))
            text.set_text(f"{p_k:.3f}")
        self.ax.set_title(f"softmax(z / T) with T = {T:.2f}" + (f", every logit + {c:g}" if c else ""))
        H, H_max = entropy(p), np.log(len(p))
        listed = ", ".join(f"{label}: {p_k:.3f}" for label, p_k in zip(self.labels, p))
        self.status.value = (f"p = [{listed}]<br>sum = {p.sum():.6f}; entropy = {H:.3f} nats "
                             f"(0 for one-hot, ln {len(p)} = {H_max:.3f} for uniform)")
        self._say(mine)
        self._render()
