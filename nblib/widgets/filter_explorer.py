"""Week 7's filter explorer: a 3x3 kernel slides over a digit; the feature map, after ReLU, after pooling.

One image x (H, W) and one kernel K (3, 3), as a convolution layer with one input channel and
one filter computes them (cross-correlation, as Keras: the kernel is not flipped):

    feature[i, j] = sum_{p, q} x_pad[i + p, j + q] K[p, q]      # (H', W'), H' = H - 2 ("valid") or H ("same")
    relu = max(feature, 0)                                       # (H', W')
    pooled[i, j] = max of relu[2i:2i+2, 2j:2j+2]                 # (H' // 2, W' // 2)

The arithmetic is :mod:`nblib.conv`'s. :func:`filter_maps` is the computation without widgets;
:func:`feature_rows` makes the feature map one row at a time, which :class:`FilterExplorer` runs
one row per step of a :class:`~nblib.widgets.Run`: on a slow kernel the map fills in row by row
under a progress bar, and Stop keeps the rows made so far.

With ``yours=`` (week 7's homework) a student's ``conv2d_forward`` and ``maxpool_forward`` are
called once the Run's last row is made, on the whole image and on nblib's ReLU map, and drawn in
a second row of panels under nblib's (see :mod:`nblib.widgets.yours`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from nblib import conv
from nblib._validation import check_choice, check_int
from nblib.widgets._core import WIDE, Debouncer, Demo, Run
from nblib.widgets.yours import ATOL, RTOL

__all__ = ["FilterExplorer", "KERNELS", "PRESETS", "SCALES", "FilterMaps", "filter_maps", "feature_rows"]

# Hand-made 3x3 kernels, by label: integer weights (rows top to bottom, as laid on the image) and a
# factor, so that a blur reads as what it is, an average (its weights over their sum).
SCALES = {"1": 1.0, "1/9": 1 / 9, "1/16": 1 / 16}
PRESETS: dict[str, tuple] = {
    "vertical edge (Sobel)": ([[1, 0, -1], [2, 0, -2], [1, 0, -1]], "1"),
    "horizontal edge (Sobel)": ([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], "1"),
    "diagonal edge": ([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]], "1"),
    "outline (Laplacian)": ([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], "1"),
    "blur (box)": ([[1, 1, 1], [1, 1, 1], [1, 1, 1]], "1/9"),
    "blur (Gaussian)": ([[1, 2, 1], [2, 4, 2], [1, 2, 1]], "1/16"),
    "sharpen": ([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], "1"),
    "identity": ([[0, 0, 0], [0, 1, 0], [0, 0, 0]], "1"),
}
KERNELS: dict[str, np.ndarray] = {name: np.array(ints, dtype=float) * SCALES[scale]
                                  for name, (ints, scale) in PRESETS.items()}
ENTRY_LIMITS = (-8, 8)
CUSTOM = "custom (move the sliders)"
PADDINGS = ("valid", "same")
YOURS_COLOUR = "#ff7f0e"  # the student's results: titles and the first differing cell


def conv_reference(x, W, b, *, padding="valid"):
    """nblib's convolution as week 7's homework returns it: out (N, H', W', M), no cache."""
    out, _ = conv.conv2d_forward(x, W, b, padding=padding)
    return out


def maxpool_reference(x, *, pool=2):
    """nblib's max pooling as week 7's homework returns it: out (N, H // pool, W // pool, C), no cache."""
    out, _ = conv.maxpool_forward(x, pool=pool)
    return out


@dataclass
class FilterMaps:
    """One image through one filter: feature (H', W'), relu (H', W'), pooled (H' // 2, W' // 2)."""

    feature: np.ndarray
    relu: np.ndarray
    pooled: np.ndarray


def _image(image) -> np.ndarray:
    x = np.asarray(image, dtype=float)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[:, :, 0]
    if x.ndim != 2 or min(x.shape) < 3:
        raise ValueError(f"image must have shape (H, W) or (H, W, 1) with H, W >= 3, got {np.shape(image)}")
    return x


def _kernel(kernel) -> np.ndarray:
    K = np.asarray(kernel, dtype=float)
    if K.shape != (3, 3):
        raise ValueError(f"kernel must have shape (3, 3), got {K.shape}")
    return K


def feature_rows(image, kernel, *, padding: str = "valid"):
    """A generator: each ``next()`` computes one more row of the feature map and yields the map so far.

    The map has shape (H', W'); rows not computed yet are nan. The padding is TensorFlow's
    (:func:`nblib.conv.pad_same`), the products nblib's :func:`~nblib.conv.conv2d_forward`.
    """
    x, K = _image(image), _kernel(kernel)
    check_choice(padding, "padding", PADDINGS)
    x4 = x[None, :, :, None]                                           # (1, H, W, 1)
    if padding == "same":
        x4 = conv.pad_same(x4, 3)
    Ho, Wo = x4.shape[1] - 2, x4.shape[2] - 2
    feature = np.full((Ho, Wo), np.nan)
    for i in range(Ho):
        row, _ = conv.conv2d_forward(x4[:, i:i + 3], K[:, :, None, None], np.zeros(1))   # (1, 1, W', 1)
        feature[i] = row[0, 0, :, 0]
        yield feature


def _after(feature: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ReLU and 2x2 max pooling of a complete feature map."""
    relu = np.maximum(feature, 0.0)
    pooled, _ = conv.maxpool_forward(relu[None, :, :, None], pool=2)   # (1, H'//2, W'//2, 1)
    return relu, pooled[0, :, :, 0]


def filter_maps(image, kernel, *, padding: str = "valid") -> FilterMaps:
    """The feature map of ``image`` under ``kernel``, after ReLU and after 2x2 max pooling.

    Example
    -------
    >>> x = np.zeros((6, 6)); x[:, 3:] = 1.0                  # dark left half, bright right half
    >>> maps = filter_maps(x, KERNELS["vertical edge (Sobel)"])
    >>> maps.feature[0], maps.pooled.shape                    # left minus right: -4 on the edge
    (array([ 0., -4., -4.,  0.]), (2, 2))
    """
    feature = None
    for feature in feature_rows(image, kernel, padding=padding):
        pass
    relu, pooled = _after(feature)
    return FilterMaps(feature.copy(), relu, pooled)


class FilterExplorer(Demo):
    """Slide a 3x3 filter over a digit and see the feature map, after ReLU and after 2x2 max pooling.

    Controls: which digit, a hand-made kernel (edges, outline, blurs, sharpen, identity) or your
    own (move any of the nine weights, whole numbers from -8 to 8, or their common factor: the
    kernel becomes "custom"), and the padding. Below them the
    progress bar and Stop of the computation, which makes the feature map one row per step.
    Four panels: the digit with the window where the filter is now; the feature map (red
    negative, blue positive); after ReLU (only the positive responses survive); after pooling
    (each 2x2 block's largest value: half the size, and a small shift of the digit hardly
    changes it).

    Things to try: the vertical-edge kernel finds the left and right sides of strokes (positive on
    one side, negative on the other), the horizontal one their tops and bottoms; negate a kernel
    and ReLU keeps the other side; the blurs smear, the outline finds every edge at once; the
    identity returns the digit itself (cut by the border with "valid").

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, H, W, 1), optional
        The images to choose from; by default the first 20 test digits of
        :func:`nblib.data.digits_28x28` (28x28).
    kernel : str
        A key of :data:`KERNELS`.
    index : int
        The image shown first.
    padding : {"valid", "same"}
    yours : {"conv2d_forward": function, "maxpool_forward": function}, optional
        A student's ``conv2d_forward(x, W, b, *, padding)`` (x (N, H, W, C), W (KH, KW, C, M),
        b (M,) to out (N, H', W', M)) and ``maxpool_forward(x, *, pool)`` (x (N, H, W, C) to
        (N, H // pool, W // pool, C)), week 7's homework. When the map is finished, their
        convolution of the digit (N = C = M = 1) and their pooling of nblib's ReLU map are drawn
        under nblib's, with the difference of the two feature maps, and a line each says whether
        they agree. A flipped kernel shows on the edge kernels (the Sobel flipped is its
        negative) but not on the symmetric ones (the blurs, the outline); wrong padding shows
        with "same".

    Example
    -------
    >>> demo = FilterExplorer(images=np.eye(8)[None], kernel="identity")
    >>> demo.maps.feature.shape, demo.maps.pooled.shape      # "valid": 8 -> 6, pooled 3
    ((6, 6), (3, 3))
    """

    YOURS = ("conv2d_forward", "maxpool_forward")

    def __init__(self, images=None, *, kernel: str = "vertical edge (Sobel)", index: int = 0, padding: str = "valid",
                 yours=None):
        if images is None:
            from nblib import data
            images = data.digits_28x28(source="digits").X_test[:20]
        images = np.asarray(images, dtype=float)
        if images.ndim == 4 and images.shape[-1] == 1:
            images = images[..., 0]
        if images.ndim != 3 or len(images) == 0:
            raise ValueError(f"images must have shape (N, H, W) or (N, H, W, 1), got {np.shape(images)}")
        self.images = images
        check_choice(kernel, "kernel", KERNELS)
        check_choice(padding, "padding", PADDINGS)
        index = check_int(index, "index", minimum=0)
        if index >= len(images):
            raise ValueError(f"index must be below the number of images, {len(images)}, got {index}")

        hooked = bool(yours)
        figure, axes = plt.subplots(2 if hooked else 1, 4, figsize=(12, 6.6 if hooked else 3.4), squeeze=False)
        self.ax_image, self.ax_feature, self.ax_relu, self.ax_pooled = axes[0]
        # The student's row, under nblib's: (unused), their feature map, theirs - nblib's, their pooling.
        self.ax_theirs = axes[1] if hooked else ()
        super().__init__(figure, yours)
        self.index = W.IntSlider(value=index, min=0, max=len(images) - 1, description="digit",
                                 continuous_update=True, style=WIDE)
        self.kernel = W.Dropdown(options=[*KERNELS, CUSTOM], value=kernel, description="kernel", style=WIDE)
        self.padding = W.Dropdown(options=list(PADDINGS), value=padding, description="padding", style=WIDE)
        ints, scale = PRESETS[kernel]
        self.entries = [W.IntSlider(value=int(v), min=ENTRY_LIMITS[0], max=ENTRY_LIMITS[1], description=f"K[{p},{q}]",
                                    continuous_update=True, layout=W.Layout(width="200px"),
                                    style={"description_width": "40px"})
                        for (p, q), v in np.ndenumerate(np.array(ints))]
        self.scale = W.Dropdown(options=list(SCALES), value=scale, description="times", style=WIDE,
                                layout=W.Layout(width="140px"))
        self.run = Run(unit="row")
        self.status = W.HTML()
        self.maps: FilterMaps | None = None
        self.feature = np.full((1, 1), np.nan)
        self.computed: dict = {}
        self.outcome = ""
        self.comparisons = ()          # how the student's functions compared on the last finished map
        self.their_feature = None      # their feature map (H', W'), when their conv2d_forward gave a usable one
        self.their_pooled = None       # their pooling of nblib's ReLU map (H' // 2, W' // 2), likewise
        self._filling = False   # True while a preset writes the nine entries

        self._recompute_soon = Debouncer(lambda: self.recompute())
        self.kernel.observe(self._kernel_chosen, "value")
        for entry in (*self.entries, self.scale):
            entry.observe(self._entry_edited, "value")
        for control in (self.index, self.padding):
            control.observe(lambda _change: self._recompute_soon(), "value")
        grid = W.VBox([W.HBox(self.entries[3 * p:3 * p + 3]) for p in range(3)] + [self.scale])
        self.widget = W.VBox([W.HBox([W.VBox([self.index, self.kernel, self.padding]), grid]), self.run.widget,
                              self.status, self.yours_line, self.output])
        self.recompute()

    # -- controls ----------------------------------------------------------------------------------

    def kernel_values(self) -> np.ndarray:
        """The 3x3 kernel the nine entries and the factor make now."""
        return np.array([e.value for e in self.entries], dtype=float).reshape(3, 3) * SCALES[self.scale.value]

    def _kernel_chosen(self, change) -> None:
        if change["new"] != CUSTOM:
            ints, scale = PRESETS[change["new"]]
            self._filling = True
            try:
                for entry, v in zip(self.entries, np.ravel(ints)):
                    entry.value = int(v)
                self.scale.value = scale
            finally:
                self._filling = False
        self._recompute_soon()

    def _entry_edited(self, _change) -> None:
        if self._filling:
            return
        if self.kernel.value != CUSTOM:
            self.kernel.value = CUSTOM      # (its observer asks for the recomputation)
        else:
            self._recompute_soon()

    # -- computing ---------------------------------------------------------------------------------

    def recompute(self) -> None:
        """Make the feature map afresh with the controls' settings, one row per step of the Run.

        In a kernel it goes on in the background and this returns at once; in plain Python it
        has finished (ReLU and pooling included) when this returns.
        """
        K = self.kernel_values()
        self.computed = {"index": self.index.value, "kernel": self.kernel.value, "padding": self.padding.value,
                         "weights": K.tolist()}
        image = self.images[self.index.value]
        size = (image.shape[0] - 2, image.shape[1] - 2) if self.padding.value == "valid" else image.shape
        self.feature, self.maps, self.outcome = np.full(size, np.nan), None, "computing &hellip;"
        self.comparisons, self.their_feature, self.their_pooled = (), None, None
        steps = feature_rows(image, K, padding=self.padding.value)
        token = object()
        self._token = token
        self.show()
        self.run.start(steps, size[0], on_step=self._record, on_progress=lambda _k: self.show(),
                       on_done=lambda stopped: self._done(token, stopped))

    def _record(self, feature: np.ndarray, k: int) -> None:
        self.feature = feature.copy()

    def _done(self, token, stopped: bool) -> None:
        if token is not self._token:  # a newer computation replaced this one
            return
        rows = int(np.sum(~np.isnan(self.feature[:, 0])))
        if stopped:
            self.outcome = (f"stopped after {rows} of {self.feature.shape[0]} rows (ReLU and pooling need the "
                            f"whole map)")
        else:
            relu, pooled = _after(self.feature)
            self.maps = FilterMaps(self.feature.copy(), relu, pooled)
            self.outcome = f"finished: {rows} rows"
            if self.yours:
                self._compare_yours()
        self.show()

    def _compare_yours(self) -> None:
        """The student's convolution of the whole digit, and their pooling of nblib's ReLU map.

        Called once per finished map, in the Run's last step (never while rows are coming).
        Each function gets nblib's inputs, so a wrong convolution does not spoil the pooling.
        """
        c = self.computed
        x = self.images[c["index"]][None, :, :, None]                       # (1, H, W, 1)
        K = np.array(c["weights"])[:, :, None, None]                        # (3, 3, 1, 1)
        convolved = self.yours.compare("conv2d_forward", conv_reference, x, K, np.zeros(1), padding=c["padding"])
        pooled = self.yours.compare("maxpool_forward", maxpool_reference, self.maps.relu[None, :, :, None], pool=2)
        self.comparisons = (convolved, pooled)
        self.their_feature = None if convolved.theirs is None else convolved.theirs[0, :, :, 0]   # (H', W')
        self.their_pooled = None if pooled.theirs is None else pooled.theirs[0, :, :, 0]          # (H'//2, W'//2)

    # -- drawing -----------------------------------------------------------------------------------

    def show(self) -> None:
        """Draw the image, the window, and the maps computed so far."""
        c = self.computed
        image = self.images[c["index"]]
        rows = int(np.sum(~np.isnan(self.feature[:, 0])))
        for ax in (self.ax_image, self.ax_feature, self.ax_relu, self.ax_pooled):
            ax.clear()
            ax.set_xticks([])
            ax.set_yticks([])
        self.ax_image.imshow(image, cmap="gray")
        offset = -1 if c["padding"] == "same" else 0       # the window's top-left corner, in image pixels
        row = max(rows - 1, 0)
        self.window = Rectangle((offset - 0.5, row + offset - 0.5), 3, 3, fill=False, edgecolor="#ff7f0e",
                                linewidth=2)
        self.ax_image.add_patch(self.window)
        self.ax_image.set_title(f"digit {c['index']} ({image.shape[0]}x{image.shape[1]})", fontsize=10)
        finite = self.feature[np.isfinite(self.feature)]
        limit = max(float(np.abs(finite).max()) if finite.size else 1.0, 1e-12)
        self.ax_feature.imshow(self.feature, cmap="RdBu", vmin=-limit, vmax=limit)
        h, w = self.feature.shape
        self.ax_feature.set_title(f"feature map {h}x{w} ({c['padding']})", fontsize=10)
        if self.maps is not None:
            self.ax_relu.imshow(self.maps.relu, cmap="Blues", vmin=0, vmax=limit)
            self.ax_pooled.imshow(self.maps.pooled, cmap="Blues", vmin=0, vmax=limit)
            ph, pw = self.maps.pooled.shape
            self.ax_pooled.set_title(f"2x2 max pooling: {ph}x{pw}", fontsize=10)
        else:
            self.ax_pooled.set_title("2x2 max pooling", fontsize=10)
        self.ax_relu.set_title("after ReLU", fontsize=10)
        if self.yours:
            self._show_yours(limit)
        self.figure.tight_layout()
        self.status.value = self._summary()
        self._render()

    def _show_yours(self, limit: float) -> None:
        """The student's row: their feature map, theirs - nblib's (first difference boxed), their pooling."""
        blank, ax_feature, ax_difference, ax_pooled = self.ax_theirs
        for ax in self.ax_theirs:
            ax.clear()
            ax.set_xticks([])
            ax.set_yticks([])
        blank.axis("off")
        if self.their_feature is not None:
            ax_feature.imshow(self.their_feature, cmap="RdBu", vmin=-limit, vmax=limit)
            difference = self.their_feature - self.maps.feature                 # (H', W')
            worst = max(float(np.nanmax(np.abs(difference), initial=0.0)), 1e-12)
            ax_difference.imshow(difference, cmap="PuOr", vmin=-worst, vmax=worst)
            wrong = np.argwhere(~np.isclose(self.their_feature, self.maps.feature, rtol=RTOL, atol=ATOL))
            if len(wrong):
                i, j = wrong[0]
                ax_difference.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=YOURS_COLOUR,
                                                  linewidth=2))
        if self.their_pooled is not None:
            ax_pooled.imshow(self.their_pooled, cmap="Blues", vmin=0, vmax=limit)
        ax_feature.set_title("your conv2d_forward", fontsize=10, color=YOURS_COLOUR)
        ax_difference.set_title("yours - nblib's (first difference boxed)", fontsize=10, color=YOURS_COLOUR)
        ax_pooled.set_title("your maxpool_forward (of nblib's ReLU)", fontsize=10, color=YOURS_COLOUR)
        if self.comparisons:
            self._say(*self.comparisons)
        else:
            self.yours_line.value = ('<span style="color:#667085">… your functions are called when nblib\'s '
                                     'map is finished</span>')

    def _summary(self) -> str:
        """The kernel, the feature map's range, what ReLU removed, and how the run went (HTML)."""
        c = self.computed
        head = f"<b>{html.escape(c['kernel'])}</b>, digit {c['index']}, {c['padding']}"
        finite = self.feature[np.isfinite(self.feature)]
        if not finite.size:
            return f"{head} &mdash; {self.outcome}"
        parts = [f"feature map from {finite.min():.3g} to {finite.max():.3g}"]
        if self.maps is not None:
            parts.append(f"ReLU zeroes {np.mean(self.maps.relu == 0):.0%}")
            parts.append(f"pooled max {self.maps.pooled.max():.3g}")
        return f"{head}: " + " &middot; ".join(parts) + f" &mdash; {self.outcome}"
