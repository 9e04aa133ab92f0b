"""Week 8's LSTM gate viewer: train a small LSTM on a toy memory task, then watch its gates.

The toy task (:func:`toy_sequences`): each sequence has T steps of two features. Feature 0 is a
value drawn uniformly from [-1, 1] at every step; feature 1 is a marker, 1 at one step in the
first half of the sequence and 0 elsewhere. The target, read after the last step, is the value
shown at the marked step (a regression, mean squared error). The distractors after the mark are
as large as the value to remember, so the network must *store* it and then ignore the rest.

An LSTM (:class:`nblib.layers.LSTM`, Keras's equations and initialization) with a dense layer on
its last hidden state is trained with Adam, one epoch per step of a :class:`~nblib.widgets.Run`.
:func:`gate_trace` replays one sequence through the trained cell and returns, at every step, the
input gate i, forget gate f, candidate g, output gate o, cell state c and hidden state h:

    z_t = x_t kernel + h_{t-1} recurrent_kernel + bias     (1, 4H), blocks i, f, c, o
    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o);  g = tanh(z_c)
    c_t = f * c_{t-1} + i * g;   h_t = o * tanh(c_t)

A cell that has learnt the task opens i (near 1) at the marker and keeps it low elsewhere, keeps
f near 1 after the marker so that c carries the value, and reads it out through o at the end.

With ``yours=`` (week 8's homework) a student's ``lstm_step`` replays the shown sequence through the
trained weights, step by step from nblib's states (:func:`your_states`; it never trains), and their
c and h are drawn as extra rows under nblib's (see :mod:`nblib.widgets.yours`).
"""

from __future__ import annotations

import dataclasses
import html
import math
from dataclasses import dataclass

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from nblib import layers, optim, recurrent, training
from nblib._validation import check_int
from nblib.widgets._core import WIDE, Debouncer, Demo, Run
from nblib.widgets.yours import Comparison, Yours

__all__ = ["LSTMGateViewer", "GATES", "GateTrace", "toy_sequences", "training_steps", "gate_trace"]

GATES = ("i", "f", "g", "o", "c", "h")   # the rows of the picture, per unit
GATE_NAMES = {"i": "input gate", "f": "forget gate", "g": "candidate", "o": "output gate", "c": "cell state",
              "h": "hidden state"}
LIMITS = {"units": (1, 4), "steps": (6, 30), "epochs": (5, 100)}
EXAMPLES = 8          # sequences of the validation set the viewer can show
YOURS_COLOUR = "#ff7f0e"  # the student's rows, labels and prediction


def toy_sequences(n: int, T: int, *, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The toy memory task: ``n`` sequences of ``T`` steps, each with a marked value to remember.

    Returns
    -------
    x : ndarray, shape (n, T, 2)
        Feature 0: values in [-1, 1]; feature 1: the marker (one 1 per sequence, in the first half).
    y : ndarray, shape (n, 1)
        The marked value.
    marks : ndarray of int, shape (n,)
        The marked step (0-based).

    Example
    -------
    >>> x, y, marks = toy_sequences(3, 6, rng=0)
    >>> x.shape, y.shape, bool(np.all(x[np.arange(3), marks, 0] == y[:, 0])), x[..., 1].sum(axis=1).tolist()
    ((3, 6, 2), (3, 1), True, [1.0, 1.0, 1.0])
    """
    n, T = check_int(n, "n", minimum=1), check_int(T, "T", minimum=2)
    rng = np.random.default_rng(rng)
    x = np.zeros((n, T, 2))
    x[:, :, 0] = rng.uniform(-1.0, 1.0, size=(n, T))
    marks = rng.integers(0, T // 2, size=n)
    x[np.arange(n), marks, 1] = 1.0
    return x, x[np.arange(n), marks, 0][:, None].copy(), marks


def _model(units: int, rng: np.random.Generator) -> layers.Sequential:
    return layers.Sequential([layers.LSTM(2, units, rng=rng), layers.Dense(units, 1, rng=rng)])


def training_steps(units: int, T: int, *, n: int = 256, lr: float = 0.03, batch_size: int = 32, seed: int = 0):
    """A generator: each ``next()`` trains one more epoch and yields ``(model, loss)``, the model
    (trained in place) and that epoch's mean training loss. The weights and data come from ``seed``."""
    units, T = check_int(units, "units", minimum=1), check_int(T, "T", minimum=2)
    rng = np.random.default_rng(seed)
    x, y, _ = toy_sequences(n, T, rng=rng)
    model, adam = _model(units, rng), optim.Adam(lr)
    while True:
        history = training.fit(model, x, y, optimizer=adam, epochs=1, batch_size=batch_size, rng=rng,
                               loss="mean_squared_error")
        yield model, history.loss[-1]


@dataclass
class GateTrace:
    """One sequence through the cell: every gate and state at every step, each (T, H), and the prediction."""

    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    h: np.ndarray
    prediction: float


def gate_trace(model: layers.Sequential, x) -> GateTrace:
    """Replay one sequence ``x`` (T, D) through the model's LSTM layer; its gates and states per step.

    Example
    -------
    >>> model = _model(2, np.random.default_rng(0))
    >>> trace = gate_trace(model, np.zeros((5, 2)))
    >>> trace.f.shape, bool(np.allclose(trace.f, 1 / (1 + np.exp(-1))))     # forget bias 1 at the start
    ((5, 2), True)
    """
    lstm, dense = model.layers[0], model.layers[1]
    x = np.asarray(x, dtype=float)[None]                                   # (1, T, D)
    _, _, cache = recurrent.lstm_forward(x, *lstm.params.values())
    H = lstm.units
    gates = cache.gates[0]                                                  # (T, 4H): i, f, g, o
    pieces = {name: gates[:, k * H:(k + 1) * H] for k, name in enumerate("ifgo")}
    prediction = float((cache.hs[0, -1] @ dense.params["W"] + dense.params["b"])[0])
    return GateTrace(**pieces, c=cache.cs[0], h=cache.hs[0], prediction=prediction)


def lstm_step_reference(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    """nblib's LSTM step as week 8's homework returns it: (h, c), each (N, H), no cache."""
    state, _ = recurrent.lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias)
    return state


def your_states(yours: Yours, lstm: layers.LSTM, x, trace: GateTrace):
    """A student's ``lstm_step`` over one sequence x (T, D), each step from nblib's previous states.

    Each step t gets nblib's h_{t-1}, c_{t-1} (zeros at t = 1), so a wrong step is judged on its
    own and does not spoil the later ones.

    Returns
    -------
    comparison : Comparison
        The first step that does not agree (its line says which step), else how close they all were.
    h, c : ndarray, shape (T, H), or None
        The student's states per step; None when a step gave nothing usable.
    """
    kernel, recurrent_kernel, bias = lstm.params.values()
    H = recurrent_kernel.shape[0]
    h_prev, c_prev = np.zeros((1, H)), np.zeros((1, H))                    # (1, H): a batch of one
    hs, cs, first, largest = [], [], None, 0.0
    for t, x_t in enumerate(np.asarray(x, dtype=float)):
        step = yours.compare("lstm_step", lstm_step_reference, x_t[None], h_prev, c_prev, kernel, recurrent_kernel,
                             bias)                                          # x_t (1, D) -> (h, c), each (1, H)
        if step.theirs is None:                                             # not written, raised, wrong shape
            return step, None, None
        (h, c), (h_ref, c_ref) = step.theirs, step.reference
        largest = max(largest, float(np.max(np.abs(np.concatenate([h - h_ref, c - c_ref])))))
        if first is None and not step.agrees:
            first = dataclasses.replace(step, line=step.line.replace("your lstm_step", f"your lstm_step at step t = "
                                                                                       f"{t + 1}:", 1))
        hs.append(h[0])
        cs.append(c[0])
        h_prev, c_prev = trace.h[t][None], trace.c[t][None]                # nblib's states for the next step
    if first is None:
        first = dataclasses.replace(step, line=f"your lstm_step agrees with nblib's at every step t = 1..{len(hs)} "
                                               f"(largest difference {largest:.2g})")
    return first, np.array(hs), np.array(cs)


class LSTMGateViewer(Demo):
    """Train a small LSTM on the toy memory task, then see each gate and state at every step.

    Controls: the LSTM's units (1..4), the sequences' length T (6..30) and the training epochs
    (5..100) retrain the cell (one epoch per step of the progress bar, with Stop); ``example``
    picks which of the validation sequences is shown, without retraining. Top: the sequence (the
    values, the marked step in red, the target and the prediction). Bottom: one row per gate or
    state and unit, one column per step: i, f, o in [0, 1] (white 0, dark 1), g, c, h in [-1, 1]
    (blue negative, red positive).

    Things to try: the default (2 units, T = 12): the input gate opens at the marker, the forget
    gate stays near 1 after it and c holds the value. One unit: a single cell state must both
    store and ignore; T = 30: the gradient that reaches the marked step is small and 40 epochs
    are not always enough. Stop the training early and see the gates before they have learnt.

    Parameters
    ----------
    units, steps, epochs : int
        The initial settings (H, T and the epochs of training).
    seed : int
        The same settings always train the same cell on the same data.
    yours : {"lstm_step": function}, optional
        A student's ``lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias)`` returning
        ``(h, c)`` (x_t (N, D), states (N, H), week 8's homework). At each drawing it replays the
        shown sequence through the weights trained so far (it never trains), each step from nblib's
        previous states; their c and h are drawn as orange rows under nblib's, their prediction as
        an orange diamond, and a line says at which step they first differ. Gates in another order
        than Keras's i, f, c, o differ from the first step; a cell that forgets c_prev, from the
        second.

    Example
    -------
    >>> viewer = LSTMGateViewer(units=2, steps=10, epochs=5)
    >>> len(viewer.losses), viewer.trace.i.shape
    (5, (10, 2))
    """

    YOURS = ("lstm_step",)

    def __init__(self, units: int = 2, steps: int = 12, epochs: int = 40, *, seed: int = 0, yours=None):
        settings = {"units": units, "steps": steps, "epochs": epochs}
        for name, value in settings.items():
            value = check_int(value, name, minimum=1)
            low, high = LIMITS[name]
            if not low <= value <= high:
                raise ValueError(f"{name} must be between {low} and {high}, got {value}")
        self.seed = check_int(seed, "seed")

        figure, (self.ax_seq, self.ax) = plt.subplots(2, 1, figsize=(10.0, 5.6), height_ratios=[1, 2.4],
                                                      sharex=True)
        super().__init__(figure, yours)
        self.units = W.IntSlider(value=units, min=1, max=4, description="units (H)", continuous_update=True,
                                 style=WIDE)
        self.steps = W.IntSlider(value=steps, min=6, max=30, description="steps (T)", continuous_update=True,
                                 style=WIDE)
        self.epochs = W.IntSlider(value=epochs, min=5, max=100, description="epochs", continuous_update=True,
                                  style=WIDE)
        self.example = W.IntSlider(value=0, min=0, max=EXAMPLES - 1, description="example", continuous_update=True,
                                   style=WIDE)
        self.run = Run(unit="epoch")
        self.status = W.HTML()
        self.model = None
        self.losses: list[float] = []
        self.computed: dict = {}
        self.outcome = ""
        self.trace: GateTrace | None = None
        self.comparison: Comparison | None = None     # the student's lstm_step on the shown sequence
        self.their_h = self.their_c = None            # their states (T, H), when their steps were usable
        self.their_prediction: float | None = None
        self.image = None

        self._retrain_soon = Debouncer(lambda: self.retrain())
        for control in (self.units, self.steps, self.epochs):
            control.observe(lambda _change: self._retrain_soon(), "value")
        # Only redrawn, but through a Debouncer too: it draws on the viewer's own thread, never on the
        # thread a widget message came in on while a training draws (matplotlib's axes are not thread-safe).
        self._show_soon = Debouncer(lambda: self.show())
        self.example.observe(lambda _change: self._show_soon(), "value")
        self.widget = W.VBox([W.HBox([self.units, self.steps, self.epochs]), W.HBox([self.example]),
                              self.run.widget, self.status, self.yours_line, self.output])
        self.retrain()

    # -- training ----------------------------------------------------------------------------------

    def retrain(self) -> None:
        """Train a fresh cell with the controls' settings, one epoch per step of the Run.

        In a kernel it goes on in the background and this returns at once; in plain Python it
        has finished when this returns.
        """
        self.computed = {"units": self.units.value, "steps": self.steps.value, "epochs": self.epochs.value}
        self.examples = toy_sequences(EXAMPLES, self.steps.value, rng=self.seed + 1)
        self.losses, self.outcome = [], "training &hellip;"
        steps = training_steps(self.units.value, self.steps.value, seed=self.seed)
        self.model = None
        token = object()
        self._token = token
        self.show()
        self.run.start(steps, self.epochs.value, on_step=self._record, on_progress=lambda _k: self.show(),
                       on_done=lambda stopped: self._done(token, stopped))

    def _record(self, result, k: int) -> None:
        self.model, loss = result
        self.losses.append(float(loss))

    def _done(self, token, stopped: bool) -> None:
        if token is not self._token:  # a newer training replaced this one
            return
        n = len(self.losses)
        self.outcome = (f"stopped after {n} of {self.computed['epochs']} epochs" if stopped
                        else f"finished: {n} epochs")
        self.show()

    # -- drawing -----------------------------------------------------------------------------------

    def show(self) -> None:
        """Draw the chosen example through the cell as trained so far."""
        x, y, marks = self.examples
        k = min(self.example.value, len(x) - 1)
        T, H = self.computed["steps"], self.computed["units"]
        steps = np.arange(1, T + 1)
        self.trace = gate_trace(self.model, x[k]) if self.model is not None else None
        if self.yours:
            self._compare_yours(x[k])

        self.ax_seq.clear()
        self.ax_seq.axhline(0, color="0.8", lw=0.8)
        self.ax_seq.plot(steps, x[k, :, 0], "o-", ms=3, color="0.35", label="value x_t")
        self.ax_seq.plot([marks[k] + 1], [y[k, 0]], "o", ms=9, mfc="none", mec="#d62728", mew=2,
                         label="marked value (the target)")
        if self.trace is not None:
            self.ax_seq.plot([T + 0.6], [self.trace.prediction], "s", ms=7, color="#1f77b4", label="prediction")
        if self.their_prediction is not None:
            self.ax_seq.plot([T + 0.6], [self.their_prediction], "D", ms=6, mfc="none", mec=YOURS_COLOUR, mew=2,
                             label="prediction from your h")
        self.ax_seq.set_ylim(-1.3, 1.3)
        self.ax_seq.set_ylabel("input")
        self.ax_seq.set_title(f"example {k}: remember the value at step {marks[k] + 1} (target {y[k, 0]:+.2f})",
                              fontsize=10)
        self.ax_seq.legend(loc="lower left", fontsize=7, ncol=3)

        names = [*GATES, *(("your c", "your h") if self.yours else ())]   # the student's rows last
        rows = np.full((len(names) * H, T), np.nan)
        if self.trace is not None:
            for r, name in enumerate(GATES):
                values = getattr(self.trace, name).T                        # (H, T)
                rows[r * H:(r + 1) * H] = np.clip(values, -1, 1)   # gates in [0, 1]: white to red
        if self.their_c is not None:
            start = len(GATES) * H
            rows[start:start + H] = np.clip(np.nan_to_num(self.their_c.T), -1, 1)          # (H, T)
            rows[start + H:start + 2 * H] = np.clip(np.nan_to_num(self.their_h.T), -1, 1)  # (H, T)
        if self.image is not None:
            self.image.remove()
        self.image = self.ax.imshow(rows, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest",
                                    extent=(0.5, T + 0.5, len(names) * H - 0.5, -0.5))
        self.ax.set_yticks(np.arange(len(names) * H))
        self.ax.set_yticklabels([f"{name} {u + 1}" if H > 1 else name for name in names for u in range(H)],
                                fontsize=8)
        for label in self.ax.get_yticklabels()[len(GATES) * H:]:
            label.set_color(YOURS_COLOUR)
        if self.yours:   # the student's rows move the separators: remove the last drawing's
            for line in self.ax.lines[:]:
                line.remove()
        for r in range(1, len(names)):
            self.ax.axhline(r * H - 0.5, color=YOURS_COLOUR if r == len(GATES) else "k",
                            lw=1.5 if r == len(GATES) else 0.6)
        self.ax.axvline(marks[k] + 1, color="#d62728", lw=1, ls=":")
        self.ax.set_xlim(0.5, T + 0.9)
        self.ax.set_xlabel("time step t")
        self.ax.set_title("gates i, f, o (white 0, red 1); candidate g, cell c, hidden h (blue -1, red +1)",
                          fontsize=9)
        self.status.value = self._summary()
        if self.yours and self.comparison is not None:
            self._say(self.comparison)
        elif self.yours:
            self.yours_line.value = ('<span style="color:#667085">… your lstm_step replays the sequence once the '
                                     'first epoch is trained</span>')
        self._render()

    def _compare_yours(self, x) -> None:
        """The student's lstm_step through the shown sequence x (T, D), with the weights trained so far."""
        self.comparison, self.their_h, self.their_c, self.their_prediction = None, None, None, None
        if self.trace is None:
            return
        self.comparison, self.their_h, self.their_c = your_states(self.yours, self.model.layers[0], x, self.trace)
        if self.their_h is not None:
            dense = self.model.layers[1]
            self.their_prediction = float((self.their_h[-1] @ dense.params["W"] + dense.params["b"])[0])

    def _summary(self) -> str:
        """The settings, the loss so far, the gates at the marked step, and how the run went (HTML)."""
        c = self.computed
        head = f"<b>LSTM, {c['units']} unit{'s' if c['units'] > 1 else ''}, T = {c['steps']}</b>"
        if not self.losses:
            return f"{head} &mdash; {self.outcome}"
        parts = [f"training loss {self.losses[-1]:.4f} after {len(self.losses)} epochs (predicting 0: about 0.33)"]
        if self.trace is not None:
            x, y, marks = self.examples
            k = min(self.example.value, len(x) - 1)
            m = marks[k]
            after = self.trace.f[m + 1:] if m + 1 < len(self.trace.f) else self.trace.f[m:]
            parts.append(f"at the marked step i = {self._fmt(self.trace.i[m])}; after it, mean f = "
                         f"{self._fmt(after.mean(axis=0))}; prediction {self.trace.prediction:+.2f} for "
                         f"{y[k, 0]:+.2f}")
        return f"{head}: " + " &middot; ".join(html.escape(p) for p in parts) + f" &mdash; {self.outcome}"

    @staticmethod
    def _fmt(values) -> str:
        return ", ".join(f"{v:.2f}" if math.isfinite(v) else "nan" for v in np.atleast_1d(values))
