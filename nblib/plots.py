"""Plots the lessons use again and again: decision boundaries, training curves, loss surfaces.

Every function draws on a matplotlib ``Axes`` (a new figure when none is given), labels its
axes and returns what it drew, so a notebook can add to it or a test can inspect it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.ticker import MaxNLocator

from nblib._validation import as_labels, as_matrix, as_scalar, as_vector

__all__ = ["scatter_classes", "decision_boundary", "boundary_line", "set_boundary_line", "training_curves", "loss_contours",
           "CLASS_COLORS"]

CLASS_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    return ax


def scatter_classes(X, y, *, ax=None, labels=None):
    """Scatter 2-D points coloured by class, with a legend. X (N, 2), y (N,) ints."""
    X = as_matrix(X, "X", n_cols=2)
    y = as_labels(y, "y", length=len(X))
    ax = _axes(ax)
    for k in np.unique(y):
        name = labels[k] if labels is not None else f"class {k}"
        ax.scatter(*X[y == k].T, s=28, color=CLASS_COLORS[k % len(CLASS_COLORS)], edgecolor="white", linewidth=0.5, label=name, zorder=3)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best", fontsize="small")
    return ax


def decision_boundary(predict, X, y, *, ax=None, resolution: int = 200, padding: float = 0.5, title: str | None = None):
    """Shade the regions a classifier assigns to each class, with the data on top.

    Parameters
    ----------
    predict : callable
        ``predict(points) -> labels``, points (M, 2) -> (M,) integer classes
        (e.g. ``lambda P: perceptron.predict(P, w, b)`` or ``model.predict``).
    X : array_like, shape (N, 2)
    y : array_like of int, shape (N,)
    resolution : int
        Grid points per axis.

    Returns
    -------
    matplotlib.axes.Axes
    """
    X = as_matrix(X, "X", n_cols=2)
    ax = _axes(ax)
    (x_min, y_min), (x_max, y_max) = X.min(axis=0) - padding, X.max(axis=0) + padding
    gx, gy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])  # (resolution^2, 2)
    regions = np.asarray(predict(grid)).reshape(gx.shape)
    n_classes = int(max(regions.max(), np.max(y))) + 1
    cmap = ListedColormap(CLASS_COLORS[:n_classes])
    ax.contourf(gx, gy, regions, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.18)
    scatter_classes(X, y, ax=ax)
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.set_title(title or "Decision regions")
    return ax


def boundary_line(w, b, *, ax=None, **style):
    """Draw the line w1 x1 + w2 x2 + b = 0 across the current axes; returns the ``Line2D``.

    Fix the axes limits first (e.g. by plotting the data): the line spans them.
    """
    ax = _axes(ax)
    (line,) = ax.plot([], [], **{"color": "black", "linewidth": 2, "label": "boundary", **style})
    set_boundary_line(line, w, b)
    return line


def set_boundary_line(line, w, b) -> None:
    """Move an existing boundary line to w . x + b = 0 (used by the widgets)."""
    w = as_vector(w, "w", length=2)
    b = as_scalar(b, "b")
    ax = line.axes
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    if abs(w[1]) >= abs(w[0]) and w[1] != 0:   # solve for x2: x2 = -(w1 x1 + b) / w2
        xs = np.array([x0, x1])
        ys = -(w[0] * xs + b) / w[1]
    elif w[0] != 0:                            # steep line: solve for x1 instead
        ys = np.array([y0, y1])
        xs = -(w[1] * ys + b) / w[0]
    else:                                      # w = 0: no boundary to draw
        xs = ys = np.array([])
    line.set_data(xs, ys)


def training_curves(history: dict, *, title: str | None = None, axes=None):
    """Plot per-epoch metrics, one panel per metric, training and validation together.

    Parameters
    ----------
    history : dict of str -> sequence
        E.g. Keras' ``model.fit(...).history``: {"loss": [...], "val_loss": [...],
        "accuracy": [...]}; or {"mistakes": fit.errors} for the perceptron.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(history, dict) or not history:
        raise TypeError(f"history must be a non-empty dict of metric name -> values per epoch, got {type(history).__name__}")
    metrics = list(dict.fromkeys(k.removeprefix("val_") for k in history))
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.5), squeeze=False)
        axes = axes[0]
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        for key, label, style in ((metric, "training", "-"), (f"val_{metric}", "validation", "--")):
            if key in history:
                values = np.asarray(history[key], dtype=float)
                ax.plot(np.arange(1, len(values) + 1), values, style, marker="o" if len(values) < 30 else None, label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(metric.replace("_", " "))
        ax.set_title(metric.replace("_", " ").capitalize())
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    figure = np.atleast_1d(axes)[0].figure
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def loss_contours(ax, f, box, *, floor=None, resolution: int = 200, levels: int = 12, depth: float = 1e-3):
    """Contour lines of a loss surface f(x, y) over ``box``.

    Parameters
    ----------
    ax : matplotlib Axes
    f : callable
        f(points) for points (..., 2) -> (...).
    box : ((x_low, x_high), (y_low, y_high))
    floor : float, optional
        f's minimum. Given, the lines are of f - floor at ``levels`` log-spaced heights from
        ``depth`` x the highest to the highest, so the valley floor, where descent spends
        its time, gets as many lines as the walls. Without it (a surface unbounded below),
        ``levels`` evenly spaced lines of f.
    resolution : int
        Grid points per axis.

    Returns
    -------
    matplotlib.contour.QuadContourSet
    """
    (x_low, x_high), (y_low, y_high) = box
    x, y = np.meshgrid(np.linspace(x_low, x_high, resolution), np.linspace(y_low, y_high, resolution))
    z = f(np.stack([x, y], axis=-1))  # (resolution, resolution)
    style = {"cmap": "viridis", "linewidths": 0.8}
    if floor is None:
        return ax.contour(x, y, z, levels=levels, **style)
    top = max(float((z - floor).max()), 1e-6)
    return ax.contour(x, y, z - floor, levels=np.geomspace(top * depth, top, levels), **style)
