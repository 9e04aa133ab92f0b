"""Week 9's attention explorer: move a query among five keys; the weights, the output, and softmax saturation.

Attention is a soft dictionary lookup. One query q (d_k,) meets n keys K (n, d_k), each with a value
V (n, d_v); the scores say how well the query matches each key, softmax turns them into weights,
and the output is the weighted mean of the values:

    s_j = q . k_j / sqrt(d_k)          # (n,)   (without the scaling: q . k_j)
    s_j = -inf where the mask forbids key j (padding, or a future position under a causal mask)
    w = softmax(s)                     # (n,)   w_j >= 0, sum_j w_j = 1, w_j = 0 where masked
    out = w @ V                        # (d_v,)

The left panels do this in the plane (d_k = d_v = 2, the values are the keys' own points):
:func:`lookup` is the computation without widgets. The right panel shows why the scores are divided
by sqrt(d_k): for a query and keys of d_k independent N(0, 1) entries, q . k has variance d_k, so
without the scaling the scores spread out as d_k grows and softmax puts nearly all the weight on one
key (it saturates, and its gradient vanishes); divided by sqrt(d_k) they have variance 1 whatever
d_k. :func:`saturation_batches` samples that, one batch (a "round") per step of a
:class:`~nblib.widgets.Run`: on a slow kernel the histograms fill in under a progress bar, and Stop
keeps the rounds so far.

With ``yours=`` (week 9's homework) a student's ``scaled_dot_product_attention`` looks the query up
beside nblib's in the same debounced drawing, and their ``causal_mask`` or ``padding_mask`` makes the
mask chosen; their weights and output are drawn in orange over nblib's (see :mod:`nblib.widgets.yours`).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from nblib import attention
from nblib._validation import check_choice, check_int
from nblib.widgets._core import WIDE, Debouncer, Demo, Run

__all__ = ["AttentionExplorer", "KEYS", "MASKS", "D_K_CHOICES", "Lookup", "lookup", "masked_softmax",
           "saturation_batches"]

# Five keys in the plane, (n, 2) = (5, 2); the values are the same points (d_v = 2).
KEYS = np.array([[1.0, 0.0], [0.4, 1.1], [-0.9, 0.6], [-0.7, -0.8], [0.5, -1.2]])
# Which keys each mask lets the query see (True: may attend), as nblib.attention's masks say it.
MASKS = {
    "no mask": np.array([True, True, True, True, True]),
    "padding: the sequence has 3 tokens (keys 4, 5 are padding)": np.array([True, True, True, False, False]),
    "causal: the query is position 2 (keys 3-5 are its future)": np.array([True, True, False, False, False]),
}
# How week 9's masks make each of MASKS: (the function, its arguments, the row the query sees).
PADDING, CAUSAL = list(MASKS)[1:]
MASK_MAKERS = {
    PADDING: ("padding_mask", attention.padding_mask, (np.array([3]), 5), lambda m: m[0, 0]),  # (1, 1, 5) -> (5,)
    CAUSAL: ("causal_mask", attention.causal_mask, (5,), lambda m: m[1]),                    # (5, 5): query 2's row
}
YOURS_COLOUR = "#ff7f0e"  # the student's weights, output and mask
D_K_CHOICES = (2, 8, 32, 128, 512)
LENGTH_LIMITS = (0.0, 8.0)
BATCHES, BATCH_SIZE, KEYS_SAMPLED = 20, 100, 5     # the saturation panel: 20 batches of 100 queries, 5 keys each
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")


def masked_softmax(scores, mask=None) -> np.ndarray:
    """softmax over the last axis, with the entries where ``mask`` is False given weight 0.

    The masked scores are set to -inf before the softmax (exp(-inf) = 0), and the largest allowed
    score is subtracted first, so that exp never overflows. A row with every key masked is an error.

    Example
    -------
    >>> masked_softmax([0.0, np.log(3.0), 5.0], [True, True, False]).round(4)   # e^0 : e^ln3 = 1 : 3
    array([0.25, 0.75, 0.  ])
    """
    s = np.asarray(scores, dtype=float)
    allowed = np.ones(s.shape, dtype=bool) if mask is None else np.broadcast_to(np.asarray(mask, dtype=bool), s.shape)
    if not allowed.any(axis=-1).all():
        raise ValueError("mask must allow at least one key for every query")
    s = np.where(allowed, s, -np.inf)
    e = np.exp(s - s.max(axis=-1, keepdims=True))        # (..., n); masked entries: exp(-inf) = 0
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class Lookup:
    """One query through the lookup: query (2,), scores (n,) (-inf where masked), weights (n,), output (2,)."""

    query: np.ndarray
    scores: np.ndarray
    weights: np.ndarray
    output: np.ndarray


def query_vector(angle: float, length: float) -> np.ndarray:
    """The query in the plane: ``length`` along ``angle`` degrees from the x axis, shape (2,)."""
    theta = math.radians(angle)
    return length * np.array([math.cos(theta), math.sin(theta)])


def lookup(query, *, keys=KEYS, values=None, scaled: bool = True, mask=None) -> Lookup:
    """Scaled dot-product attention for one query: scores, weights and the output.

    Parameters
    ----------
    query : array_like, shape (d_k,)
    keys : array_like, shape (n, d_k)
    values : array_like, shape (n, d_v), optional
        By default the keys themselves.
    scaled : bool
        Divide the scores by sqrt(d_k) (True, as the transformer does) or not.
    mask : array_like of bool, shape (n,), optional
        True where the query may attend.

    Example
    -------
    >>> result = lookup([2.0, 0.0], keys=[[1.0, 0.0], [-1.0, 0.0]], scaled=False)
    >>> result.scores, result.weights.round(4)          # softmax(2, -2): e^2 / (e^2 + e^-2) = 0.982
    (array([ 2., -2.]), array([0.982, 0.018]))
    """
    q = np.asarray(query, dtype=float)
    K = np.asarray(keys, dtype=float)
    V = K if values is None else np.asarray(values, dtype=float)
    if q.ndim != 1 or K.ndim != 2 or K.shape[1] != q.shape[0] or V.ndim != 2 or len(V) != len(K):
        raise ValueError(f"query (d_k,), keys (n, d_k) and values (n, d_v) do not fit: got {q.shape}, {K.shape}, "
                         f"{V.shape}")
    scores = K @ q                                         # (n, d_k) @ (d_k,) -> (n,)
    if scaled:
        scores = scores / math.sqrt(q.shape[0])
    weights = masked_softmax(scores, mask)                 # (n,)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return Lookup(q, scores, weights, weights @ V)         # (n,) @ (n, d_v) -> (d_v,)


def saturation_batches(d_k: int, *, n: int = KEYS_SAMPLED, batch_size: int = BATCH_SIZE, seed: int = 0):
    """A generator: each ``next()`` samples one batch of random queries and keys and yields its numbers.

    Every query q (d_k,) and key (d_k,) has independent N(0, 1) entries, so each score q . k is a sum of
    d_k products of variance 1: its variance is d_k. Each batch is ``batch_size`` queries, each against
    its own ``n`` keys.

    Yields
    ------
    dict with, each of shape (batch_size * n,) or (batch_size,):
        ``"scores"``: the raw scores q . k, (batch_size * n,);
        ``"largest_raw"``: the largest softmax weight of each query without the scaling, (batch_size,);
        ``"largest_scaled"``: the same with the scores divided by sqrt(d_k), (batch_size,).
    """
    d_k = check_int(d_k, "d_k", minimum=1)
    rng = np.random.default_rng(seed)
    while True:
        q = rng.normal(size=(batch_size, 1, d_k))
        k = rng.normal(size=(batch_size, n, d_k))
        scores = (k @ q.transpose(0, 2, 1))[:, :, 0]     # (B, n, d_k) @ (B, d_k, 1) -> (B, n)
        yield {"scores": scores.ravel(),
               "largest_raw": masked_softmax(scores).max(axis=1),
               "largest_scaled": masked_softmax(scores / math.sqrt(d_k)).max(axis=1)}


class AttentionExplorer(Demo):
    """Move a query among five keys and see the attention weights and the output; then softmax saturation.

    Controls: the query's angle (degrees) and length (how large the scores are), whether the scores
    are divided by sqrt(d_k), and a mask (none; padding: keys 4 and 5 are not part of the sequence;
    causal: the query is at position 2 and may not see keys 3 to 5). Left: the keys (arrows, each
    key's value is its own point), the query (black) and the output (a star, the weighted mean of
    the values); masked keys are grey. Middle: the weights as bars. Right: for random queries and
    keys of ``d_k`` entries each, how large the largest of five weights is, with and without the
    scaling; the sampling goes one batch per step with a progress bar and Stop.

    Things to try: turn the query round and watch the weight follow the key it points at; make it
    longer (larger scores: the weights become one-hot, the output jumps from key to key); switch a
    mask on (the masked keys get exactly 0). On the right, raise d_k: without the scaling the largest
    weight piles up at 1 (saturated softmax, almost no gradient); with it, nothing changes with d_k.

    Parameters
    ----------
    angle : float
        The query's direction, degrees from the x axis.
    length : float
        The query's length, 0 to 8.
    scaled : bool
        Divide the scores by sqrt(d_k).
    mask : str
        A key of :data:`MASKS`.
    d_k : int
        One of :data:`D_K_CHOICES`, for the saturation panel.
    seed : int
        The saturation panel's random draws.
    yours : {"scaled_dot_product_attention": function, "causal_mask": function, "padding_mask": function}, optional
        A student's ``scaled_dot_product_attention(q, k, v, mask=None)`` returning ``(out, weights)``
        (q (1, 2), k = v = the keys (5, 2), mask (1, 5); week 9's homework), and their masks
        ``causal_mask(T)`` (T, T) and ``padding_mask(lengths, T)`` (N, 1, T). Their weights are drawn
        as orange diamonds on nblib's bars, their output as an orange diamond in the plane, the keys
        their mask hides as orange crosses; a line each says whether they agree. The homework's
        attention always divides by sqrt(d_k); with the scaling switched off it is given sqrt(d_k) q,
        so that it computes softmax(q . k) too. Attention without the scaling, or a softmax over the
        queries instead of the keys, differs at once; a mask that is upper triangular or hides the
        real tokens shows when that mask is chosen.

    Example
    -------
    >>> demo = AttentionExplorer(angle=0, length=2, d_k=8)
    >>> demo.result.weights.argmax(), demo.sampled["largest_raw"].shape      # the query points at key 1
    (np.int64(0), (2000,))
    """

    YOURS = ("scaled_dot_product_attention", "causal_mask", "padding_mask")

    def __init__(self, angle: float = 30.0, length: float = 2.0, *, scaled: bool = True, mask: str = "no mask",
                 d_k: int = 32, seed: int = 0, yours=None):
        check_choice(mask, "mask", MASKS)
        if d_k not in D_K_CHOICES:
            raise ValueError(f"d_k must be one of {D_K_CHOICES}, got {d_k!r}")
        if not LENGTH_LIMITS[0] <= length <= LENGTH_LIMITS[1]:
            raise ValueError(f"length must be between {LENGTH_LIMITS[0]:g} and {LENGTH_LIMITS[1]:g}, got {length!r}")
        self.seed = check_int(seed, "seed")

        figure, (self.ax_plane, self.ax_weights, self.ax_saturation) = plt.subplots(
            1, 3, figsize=(13, 4.0), width_ratios=[1.1, 1, 1.3])
        super().__init__(figure, yours)
        self.angle = W.FloatSlider(value=angle % 360, min=0, max=355, step=5, description="query angle (°)",
                                   continuous_update=True, style=WIDE)
        self.length = W.FloatSlider(value=length, min=LENGTH_LIMITS[0], max=LENGTH_LIMITS[1], step=0.25,
                                    description="query length", continuous_update=True, style=WIDE)
        self.scaled = W.Checkbox(value=bool(scaled), description="divide the scores by √d_k", indent=False)
        self.mask = W.Dropdown(options=list(MASKS), value=mask, description="mask", style=WIDE,
                               layout=W.Layout(width="470px"))
        self.d_k = W.SelectionSlider(options=list(D_K_CHOICES), value=d_k, description="d_k (right panel)",
                                     continuous_update=True, style=WIDE)
        self.run = Run(unit="round")   # one round: 100 random queries
        self.status = W.HTML()
        self.result: Lookup | None = None
        self.sampled: dict = {}
        self.computed: dict = {}
        self.outcome = ""
        self.comparisons = ()          # how the student's functions compared in the last drawing
        self.their_weights = self.their_output = self.their_mask = None   # (5,), (2,), (5,) bool, when usable

        self._draw_soon = Debouncer(lambda: self.show())
        self._resample_soon = Debouncer(lambda: self.resample())
        for control in (self.angle, self.length, self.scaled, self.mask):
            control.observe(lambda _change: self._draw_soon(), "value")
        self.d_k.observe(lambda _change: self._resample_soon(), "value")
        self.widget = W.VBox([W.HBox([W.VBox([self.angle, self.length]), W.VBox([self.scaled, self.mask])]),
                              W.HBox([self.d_k]), self.run.widget, self.status, self.yours_line, self.output])
        self.resample()

    # -- the saturation panel's sampling -----------------------------------------------------------

    def resample(self) -> None:
        """Sample afresh for the chosen d_k, one batch of 100 queries (a round) per step of the Run.

        In a kernel it goes on in the background and this returns at once; in plain Python it has
        finished when this returns.
        """
        self.computed = {"d_k": self.d_k.value, "seed": self.seed}
        self.sampled, self.outcome = {}, "sampling &hellip;"
        steps = saturation_batches(self.d_k.value, seed=self.seed)
        token = object()
        self._token = token
        self.show()
        self.run.start(steps, BATCHES, on_step=self._record, on_progress=lambda _k: self.show(),
                       on_done=lambda stopped: self._done(token, stopped))

    def _record(self, batch: dict, k: int) -> None:
        self.sampled = {name: np.concatenate([self.sampled[name], values]) if self.sampled else values
                        for name, values in batch.items()}

    def _done(self, token, stopped: bool) -> None:
        if token is not self._token:  # a newer sampling replaced this one
            return
        rounds = len(self.sampled.get("largest_raw", ())) // BATCH_SIZE
        self.outcome = f"stopped after {rounds} of {BATCHES} rounds" if stopped else f"finished: {rounds} rounds"
        self.show()

    # -- drawing -----------------------------------------------------------------------------------

    def settings(self) -> dict:
        """The lookup's settings as the controls show them now."""
        return {"angle": float(self.angle.value), "length": float(self.length.value),
                "scaled": bool(self.scaled.value), "mask": self.mask.value}

    def show(self) -> None:
        """Draw the lookup for the controls' query and mask, and the saturation sampled so far."""
        s = self.settings()
        allowed = MASKS[s["mask"]]
        self.result = lookup(query_vector(s["angle"], s["length"]), scaled=s["scaled"], mask=allowed)
        if self.yours:
            self._compare_yours(s)
        self._draw_plane(allowed)
        self._draw_weights(allowed)
        self._draw_saturation()
        self.figure.tight_layout()
        self.status.value = self._summary()
        if self.yours:
            self._say(*self.comparisons)
        self._render()

    def _compare_yours(self, s: dict) -> None:
        """The student's attention for the query shown (and their mask, if one is chosen), beside nblib's."""
        q = self.result.query                                                  # (2,)
        # Their attention always divides by sqrt(d_k): unscaled, it gets sqrt(d_k) q, whose scores are q . k.
        given = q if s["scaled"] else q * math.sqrt(len(q))
        mask = None if s["mask"] == "no mask" else MASKS[s["mask"]][None]      # (1, 5): nblib's, one judgement each
        attended = self.yours.compare("scaled_dot_product_attention", attention.scaled_dot_product_attention,
                                      given[None], KEYS, KEYS, mask)          # (1, 2), (5, 2), (5, 2) -> (1, 2), (1, 5)
        self.comparisons = (attended,)
        self.their_output, self.their_weights = ((None, None) if attended.theirs is None
                                                 else (attended.theirs[0][0], attended.theirs[1][0]))
        self.their_mask = None
        name, reference, args, row = MASK_MAKERS.get(s["mask"], (None,) * 4)
        if name in self.yours:
            masked = self.yours.compare(name, reference, *args)
            self.comparisons += (masked,)
            self.their_mask = None if masked.theirs is None else row(masked.theirs) != 0

    def _draw_plane(self, allowed: np.ndarray) -> None:
        ax, r = self.ax_plane, self.result
        ax.clear()
        ax.axhline(0, color="0.9", lw=0.8)
        ax.axvline(0, color="0.9", lw=0.8)
        for j, (key, ok) in enumerate(zip(KEYS, allowed)):
            colour = COLOURS[j] if ok else "0.75"
            ax.annotate("", xy=key, xytext=(0, 0),
                        arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.5, "ls": "-" if ok else "--"})
            ax.text(*(key * 1.18), f"k{j + 1}", color=colour, ha="center", va="center", fontsize=9)
        shown = r.query if np.linalg.norm(r.query) <= 2 else r.query * 2 / np.linalg.norm(r.query)
        ax.annotate("", xy=shown, xytext=(0, 0), arrowprops={"arrowstyle": "-|>", "color": "k", "lw": 2})
        ax.text(*(shown * 1.1 + 0.05), f"q (|q| = {np.linalg.norm(r.query):g})", fontsize=8)
        ax.plot(*r.output, "*", ms=16, color="gold", mec="k", label="output = Σ w_j v_j")
        if self.their_output is not None:
            ax.plot(*self.their_output, "D", ms=8, mfc="none", mec=YOURS_COLOUR, mew=2, label="your output")
        ax.set_xlim(-2.3, 2.3)
        ax.set_ylim(-2.3, 2.3)
        ax.set_aspect("equal")
        ax.set_xlabel("coordinate 1")
        ax.set_ylabel("coordinate 2")
        ax.set_title("keys (= values), query, output", fontsize=10)
        ax.legend(loc="lower left", fontsize=7)

    def _draw_weights(self, allowed: np.ndarray) -> None:
        ax, r = self.ax_weights, self.result
        ax.clear()
        positions = np.arange(1, len(KEYS) + 1)
        bars = ax.bar(positions, r.weights, color=[c if ok else "0.85" for c, ok in zip(COLOURS, allowed)],
                      edgecolor="k", hatch=None)
        for bar, w, ok in zip(bars, r.weights, allowed):
            ax.text(bar.get_x() + bar.get_width() / 2, w + 0.02, f"{w:.2f}" if ok else "masked", ha="center",
                    fontsize=8)
        ax.set_xticks(positions, [f"k{j}" for j in positions])
        if self.their_weights is not None:
            ax.plot(positions, self.their_weights, "D", ms=8, color=YOURS_COLOUR, mec="k", label="your weights")  # k2's bar is orange too
        if self.their_mask is not None and not self.their_mask.all():
            hidden = positions[~self.their_mask]
            ax.plot(hidden, np.full(len(hidden), 0.04), "x", ms=10, mew=2, color=YOURS_COLOUR,
                    label="hidden by your mask")
        if self.yours and ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper right", fontsize=7)
        ax.set_ylim(0, 1.12)
        ax.set_ylabel("attention weight w_j")
        how = "q·k / √2" if self.scaled.value else "q·k"
        ax.set_title(f"weights = softmax({how})", fontsize=10)

    def _draw_saturation(self) -> None:
        ax, d_k = self.ax_saturation, self.computed["d_k"]
        ax.clear()
        bins = np.linspace(1 / KEYS_SAMPLED, 1, 21)
        if self.sampled:
            ax.hist(self.sampled["largest_raw"], bins=bins, alpha=0.6, color="#d62728", label="q·k (no scaling)")
            ax.hist(self.sampled["largest_scaled"], bins=bins, alpha=0.6, color="#1f77b4", label="q·k / √d_k")
            ax.legend(loc="upper center", fontsize=7)
        ax.set_xlim(1 / KEYS_SAMPLED, 1)
        ax.set_xlabel(f"largest of {KEYS_SAMPLED} weights (1/{KEYS_SAMPLED}: even, 1: one-hot)")
        ax.set_ylabel("random queries")
        ax.set_title(f"random q, k with d_k = {d_k} entries N(0, 1)", fontsize=10)

    def _summary(self) -> str:
        """The lookup's weights and output, the saturation so far, and how the sampling went (HTML)."""
        s, r = self.settings(), self.result
        weights = ", ".join(f"{w:.3f}" for w in r.weights)
        head = (f"<b>query at {s['angle']:g}°, length {s['length']:g}</b>, "
                f"{'scaled' if s['scaled'] else 'not scaled'}, {html.escape(s['mask'].split(':')[0])}: "
                f"weights {weights} &middot; output ({r.output[0]:.3f}, {r.output[1]:.3f})")
        d_k = self.computed["d_k"]
        if not self.sampled:
            return f"{head}<br>d_k = {d_k} &mdash; {self.outcome}"
        n = len(self.sampled["largest_raw"])
        sampled = (f"d_k = {d_k}, {n} random queries: std of q·k {self.sampled['scores'].std():.3g} "
                   f"(√d_k = {math.sqrt(d_k):.3g}); mean largest weight: not scaled "
                   f"{self.sampled['largest_raw'].mean():.3f}, scaled {self.sampled['largest_scaled'].mean():.3f}")
        return f"{head}<br>{sampled} &mdash; {self.outcome}"
