"""nblib.widgets.descent: GradientDescent.

What is drawn must be right: each test reads the demo's iterates or the matplotlib artists'
data and checks them against a computation written out here (the closed form
x_k = (1 - 2 lr)^k x_0, a numerical gradient). A diverging run must not warn (numpy's overflow
warnings are errors here).
"""

import warnings

import numpy as np
import pytest

from nblib.gradcheck import numerical_gradient
from nblib.widgets import GradientDescent, descent


# For f = x²: x_{k+1} = x_k - lr * 2 x_k = (1 - 2 lr) x_k. 1 - 2 lr in (0, 1): smooth; in (-1, 0):
# overshooting but converging; -1 (lr = 1): bouncing between ±x_0; below -1: diverging.
QUADRATIC_REGIMES = [(0.001, "too small"), (0.01, "too small"), (0.1, "good"), (0.3, "good"), (0.6, "oscillating"),
                     (0.9, "oscillating"), (1.0, "oscillating"), (1.2, "diverges"), (3.0, "diverges")]


@pytest.mark.parametrize("lr, regime", QUADRATIC_REGIMES)
def test_quadratic_iterates_are_the_closed_form_and_the_status_names_the_regime(lr, regime):
    demo = GradientDescent(function="quadratic", lr=0.1, steps=30)
    demo.lr.value = lr
    x = demo.iterates[:, 0]
    k = np.arange(len(x))
    np.testing.assert_allclose(x, 2.0 * (1 - 2 * lr) ** k, rtol=1e-12)
    assert demo.regime == regime
    assert demo.status.value.startswith(f"<b>{regime}</b>") and regime in demo.ax.get_title()
    stop = int(np.ceil(np.log(1e6 / 2) / np.log(abs(1 - 2 * lr)))) if lr > 1 else None  # 2 |1 - 2 lr|^k > 1e6
    if stop is not None and stop <= 30:  # the run stops where it passes 1e6
        assert demo.stopped == stop == len(x) - 1 and "stopped" in demo.status.value
    elif regime == "diverges":  # lr = 1.2: 2 * 1.4^30 = 48,000, still under 1e6, but the loss grew
        assert demo.stopped is None and len(x) == 31 and "the loss grew from 4 to" in demo.status.value
    else:
        assert len(x) == 31 and demo.stopped is None


def test_quadratic_drawn_path_is_the_iterates_on_the_curve_and_the_loss_panel_their_loss():
    demo = GradientDescent(function="quadratic", lr=0.8, steps=12)
    x = 2.0 * (1 - 1.6) ** np.arange(13)
    np.testing.assert_allclose(demo.path_line.get_xydata(), np.column_stack([x, x**2]), rtol=1e-12)
    steps, loss = demo.loss_line.get_data()
    np.testing.assert_array_equal(steps, np.arange(13))
    np.testing.assert_allclose(loss, np.maximum(x**2, 1e-16), rtol=1e-12)  # f_min = 0
    assert demo.ax_loss.get_yscale() == "log" and demo.ax_loss.get_xlim() == (-0.5, 12.5)
    assert "turned back 11 times in 12 steps" in demo.status.value  # 11 pairs of steps, each reversing


def test_lr_half_lands_on_the_minimum_in_one_step():
    demo = GradientDescent(lr=0.5, steps=5)
    np.testing.assert_array_equal(demo.iterates[:, 0], [2.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert demo.regime == "good"


def test_the_lr_slider_reaches_every_regime_on_every_function():
    demo = GradientDescent()
    for name in descent.FUNCTIONS:
        demo.function.value = name
        seen = set()
        exponent = demo.lr.min
        while exponent <= demo.lr.max + 1e-9:  # every position of the slider
            demo.lr.value = 10**exponent
            seen.add(demo.regime)
            exponent += demo.lr.step
        expected = {"too small", "oscillating", "diverges"} | ({"good"} if name != "ill-conditioned bowl" else set())
        assert seen == expected, name
    demo.steps.value = 200  # with more steps, the ill-conditioned bowl has a good lr too
    demo.lr.value = 0.05
    assert demo.regime == "good"


@pytest.mark.parametrize("lr, regime", [(0.05, "too small"), (0.09, "too small"), (0.15, "oscillating"),
                                        (0.25, "diverges")])
def test_ill_conditioned_bowl_each_coordinate_has_its_own_factor(lr, regime):
    # grad = (x, 10 y): x_k = (1 - lr)^k x_0, y_k = (1 - 10 lr)^k y_0; y overshoots for lr > 0.1
    demo = GradientDescent(function="ill-conditioned bowl", lr=lr, steps=30)
    k = np.arange(len(demo.iterates))
    np.testing.assert_allclose(demo.iterates, np.column_stack([-4.5 * (1 - lr) ** k, 1.5 * (1 - 10 * lr) ** k]),
                               rtol=1e-12)
    assert demo.regime == regime


def test_double_well_iterates_follow_the_update_and_lr_picks_the_minimum():
    demo = GradientDescent(function="double well", lr=0.05, steps=30)
    x = [2.0]
    for _ in range(30):
        x.append(x[-1] - 0.05 * (4 * x[-1] * (x[-1] ** 2 - 1) + 0.3))  # f'(x) = 4x (x² - 1) + 0.3
    np.testing.assert_allclose(demo.iterates[:, 0], x, rtol=1e-12)
    assert demo.regime == "good" and abs(x[-1] - 0.96) < 0.01  # the higher, right-hand minimum
    assert "A local minimum" in demo.status.value
    demo.lr.value = 0.1  # the first step jumps over the hump, into the lower well
    x_min = descent.FUNCTIONS["double well"].minimum[0]
    assert 4 * x_min * (x_min**2 - 1) + 0.3 == pytest.approx(0, abs=1e-12) and x_min < -1
    assert demo.regime == "good" and demo.iterates[-1, 0] == pytest.approx(x_min, abs=1e-6)
    assert "local minimum" not in demo.status.value
    demo.lr.value = 0.15  # f'' = 8.9 at that minimum: 1 - 0.15 * 8.9 < 0, every step there overshoots
    steps = np.diff(demo.iterates[:, 0])
    real = np.abs(steps) > 1e-9 * np.abs(steps).max()  # smaller steps are rounding noise at the minimum
    turns = np.sum((steps[:-1] * steps[1:] < 0) & real[:-1] & real[1:])
    assert demo.regime == "oscillating" and 8 <= turns < real.sum() - 1  # the first steps, on the way down, do not turn
    assert f"turned back {turns} times in 30 steps, yet it converges" in demo.status.value


@pytest.mark.parametrize("name", list(descent.FUNCTIONS))
def test_gradients_are_the_numerical_gradient(name, rng):
    fn = descent.FUNCTIONS[name]
    for _ in range(3):
        p = rng.uniform(-2, 2, size=fn.dim)
        np.testing.assert_allclose(fn.grad(p), numerical_gradient(lambda q: float(fn.f(q)), p), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", list(descent.FUNCTIONS))
def test_divergence_is_stopped_and_reported_without_warnings(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any overflow or invalid-value warning fails
        demo = GradientDescent(function=name, lr=3.0, steps=200)
        assert demo.regime == "diverges" and "stopped" in demo.status.value
        assert demo.stopped is not None and np.all(np.isfinite(demo.iterates))
        assert np.max(np.abs(demo.iterates[-2])) <= descent.BOUND < np.max(np.abs(demo.iterates[-1]))
        drawn = demo.path_line.get_xydata()
        (x_low, x_high), (y_low, y_high) = descent.FUNCTIONS[name].box
        finite = drawn[np.isfinite(drawn).all(axis=1)]
        assert len(finite) >= 2 and np.all(np.abs(finite[:, 0]) <= 2 * max(-x_low, x_high))  # cut at the view
        assert np.all(np.isfinite(demo.loss_line.get_ydata()))
        demo.figure.canvas.draw()  # and matplotlib draws it without complaint


def test_a_bouncing_path_that_leaves_the_view_and_comes_back_is_drawn_in_pieces():
    path = np.array([[0.0, 0.0], [3.0, 0.0], [0.5, 0.0], [0.5, 5.0], [0.5, -5.0], [0.2, 0.2]])
    drawn = descent.clip_path(path, ((-1, 1), (-1, 1)))
    np.testing.assert_array_equal(drawn, [[0, 0], [1, 0], [np.nan, np.nan], [1, 0], [0.5, 0], [0.5, 1],
                                          [np.nan, np.nan], [0.5, 1], [0.5, -1], [np.nan, np.nan],
                                          [0.5 - 0.3 * 4 / 5.2, -1], [0.2, 0.2]])


def test_start_is_used_for_its_function_only():
    demo = GradientDescent(function="bowl", start=(1.0, -2.0), lr=0.5, steps=3)
    np.testing.assert_allclose(demo.iterates, [[1.0, -2.0], [0.5, -1.0], [0.25, -0.5], [0.125, -0.25]])
    demo.function.value = "quadratic"
    assert demo.iterates[0, 0] == 2.0 and demo.iterates.shape == (4, 1)
    demo.function.value = "bowl"
    np.testing.assert_array_equal(demo.iterates[0], [1.0, -2.0])


def test_changing_the_function_redraws_the_left_panel():
    demo = GradientDescent()
    assert len(demo.ax.collections) == 0 and "x^2" in demo.ax.get_title()
    demo.function.value = "bowl"
    assert len(demo.ax.collections) > 0 and demo.ax.get_ylabel() == "y"  # contour lines
    assert "(x^2 + y^2)/2" in demo.ax.get_title() and "bowl" in demo.caption.value
    demo.function.value = "double well"
    assert len(demo.ax.collections) == 0 and demo.ax.get_ylabel() == "f(x)"
    x, y = demo.ax.get_lines()[0].get_data()
    np.testing.assert_allclose(y, (x**2 - 1) ** 2 + 0.3 * x)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"function": "cubic"}, ValueError, "function must be one of .*got 'cubic'"),
    ({"lr": 0}, ValueError, "lr must be a positive number, got 0"),
    ({"lr": 5.0}, ValueError, "lr must be between 0.001 and 3, got 5.0"),
    ({"steps": 0}, ValueError, "steps must be >= 1, got 0"),
    ({"steps": 201}, ValueError, "steps must be between 1 and 200, got 201"),
    ({"steps": 2.5}, TypeError, "steps must be an integer"),
    ({"start": (1.0, 2.0)}, TypeError, "start must be a real number"),
    ({"function": "bowl", "start": 1.0}, ValueError, r"start must be a point \(x, y\) .* got shape \(\)"),
    ({"function": "bowl", "start": (9.0, 0.0)}, ValueError, r"start must lie in the plotted box"),
])
def test_gradient_descent_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        GradientDescent(**kwargs)
