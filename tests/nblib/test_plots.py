"""nblib.plots: the drawn geometry is right, axes are labelled, bad input is refused."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from nblib import data, perceptron, plots


@pytest.mark.parametrize("w, b", [([5.0, -3.0], 1.0), ([1.0, 0.0], -0.2), ([0.1, 4.0], 0.3), ([-2.0, 2.0], 0.0)])
def test_boundary_line_lies_on_w_dot_x_plus_b_equals_zero(w, b):
    _, ax = plt_axes()
    line = plots.boundary_line(w, b, ax=ax)
    points = line.get_xydata()
    assert len(points) == 2
    np.testing.assert_allclose(points @ np.array(w) + b, 0.0, atol=1e-9)


def test_zero_weights_draw_no_line():
    _, ax = plt_axes()
    line = plots.boundary_line([0.0, 0.0], 1.0, ax=ax)
    assert len(line.get_xydata()) == 0


def test_decision_boundary_shades_what_the_classifier_predicts():
    X, y = data.linearly_separable(40, seed=2)
    fit = perceptron.train(X, y)
    ax = plots.decision_boundary(lambda P: perceptron.predict(P, fit.w, fit.b), X, y, resolution=50)
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$" and ax.get_title()
    assert len(ax.collections) >= 3  # filled regions + one scatter per class
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["class 0", "class 1"]


def test_training_curves_pair_training_and_validation():
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.8, 0.9]}
    figure = plots.training_curves(history, title="digits")
    loss_ax, acc_ax = figure.axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["training", "validation"]
    np.testing.assert_array_equal(loss_ax.get_lines()[1].get_xdata(), [1, 2, 3])
    assert loss_ax.get_xlabel() == "epoch" and acc_ax.get_ylabel() == "accuracy"
    with pytest.raises(TypeError, match="history must be a non-empty dict"):
        plots.training_curves([1, 2])


def test_scatter_refuses_non_2d_points():
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\), got shape \(3, 3\)"):
        plots.scatter_classes(np.zeros((3, 3)), np.zeros(3, dtype=int))


def plt_axes():
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    return figure, ax


def test_loss_contours_are_log_spaced_above_the_floor_or_even_without_one():
    # f(x, y) = x^2 + y^2 + 5 on [-2, 2]^2: f - floor runs from 0 to 8 (the corners), so the
    # lines sit at 8 * 10^-3 ... 8, equally spaced in log; without a floor, matplotlib picks
    # round, evenly spaced heights of f itself, spanning its range 5 .. 13.
    f = lambda p: p[..., 0] ** 2 + p[..., 1] ** 2 + 5.0
    _, ax = plt.subplots()
    lines = plots.loss_contours(ax, f, ((-2.0, 2.0), (-2.0, 2.0)), floor=5.0, levels=4, depth=1e-3)
    np.testing.assert_allclose(lines.levels, [8e-3, 8e-2, 8e-1, 8.0])
    even = plots.loss_contours(ax, f, ((-2.0, 2.0), (-2.0, 2.0)), levels=4)
    steps = np.diff(even.levels)
    np.testing.assert_allclose(steps, steps[0])
    assert even.levels.min() <= 5.0 and even.levels.max() >= 13.0  # f itself, 5 .. 13, not f - 5
    plt.close("all")
