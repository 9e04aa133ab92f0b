"""nblib.widgets, weeks 4 and 5: GradientDescent, OptimizerRace, TrainingProgress and plot_history.

Moving a control must change what is drawn, and what is drawn must be right: each test
reads the matplotlib artists' data (or the demo's iterates) and checks it against a
computation written out here (the closed form x_k = (1 - 2 lr)^k x_0, each optimizer's
update in Keras's form). A diverging run must not warn (numpy's overflow warnings are
errors here). Plain tests run without an event loop, so controls act at once; the
"..._in_a_loop_..." tests run as in a kernel (see tests/nblib/test_widgets.py).
"""

import asyncio
import warnings

import ipywidgets as W
import numpy as np
import pytest

import nblib.widgets
from nblib import data, layers, optim, training
from nblib.gradcheck import numerical_gradient
from nblib.widgets import GradientDescent, OptimizerRace, TrainingProgress, plot_history
from nblib.widgets import descent, progress, race
from tests.nblib.test_widgets import WAIT, in_a_loop, slow_drawing, until  # noqa: F401 (fixtures)
from tests.nblib.test_widgets_weeks_2_3 import labelled_controls


def test_the_package_exports_the_new_demos():
    for name in ("GradientDescent", "OptimizerRace", "TrainingProgress", "plot_history"):
        assert name in nblib.widgets.__all__ and hasattr(nblib.widgets, name)
        assert f"{name}`" in nblib.widgets.__doc__  # listed in the package's module list
    for cls in (GradientDescent, OptimizerRace):
        assert issubclass(cls, nblib.widgets.Demo) and "_render" not in vars(cls), "never override _render"


@pytest.mark.parametrize("make", [GradientDescent, OptimizerRace, lambda: TrainingProgress(5)])
def test_labels_are_not_cut_off(make):
    demo = make()
    controls = labelled_controls(demo.widget)
    assert controls
    for control in controls:
        assert control.style.description_width == "initial", control.description


# -- moving every control ---------------------------------------------------------------------


def controls(widget):
    """Every slider, dropdown and checkbox below ``widget``."""
    found = [widget] if isinstance(widget, (W.FloatLogSlider, W.FloatSlider, W.IntSlider, W.Dropdown,
                                            W.Checkbox)) else []
    for child in getattr(widget, "children", ()):
        found += controls(child)
    return found


def another_value(control):
    """A different value for ``control``, a few of its steps away, inside its range."""
    if isinstance(control, W.Checkbox):
        return not control.value
    if isinstance(control, W.Dropdown):
        return next(option for option in control.options if option != control.value)
    if isinstance(control, W.FloatLogSlider):
        exponent = np.log10(control.value)
        exponent += 4 * control.step if exponent + 4 * control.step <= control.max else -4 * control.step
        return control.base**exponent
    change = 4 * control.step
    return control.value + change if control.value + change <= control.max else control.value - change


def fingerprint(demo):
    """What the figure shows (every line's data and visibility, titles, limits, scales) and the status."""
    seen = [demo.status.value]
    for ax in demo.figure.axes:
        seen += [ax.get_title(), ax.get_xlim(), ax.get_ylim(), ax.get_yscale(), len(ax.collections)]
        seen += [(line.get_visible(), np.asarray(line.get_xydata(), dtype=float).tobytes())
                 for line in ax.get_lines()]
    return repr(seen)


@pytest.mark.parametrize("make", [GradientDescent, OptimizerRace], ids=["GradientDescent", "OptimizerRace"])
def test_every_control_changes_the_figure(make):
    demo = make()
    found = controls(demo.widget)
    assert len(found) >= (3 if make is GradientDescent else 10)
    for control in found:
        before, renders = fingerprint(demo), demo.renders
        control.value = another_value(control)
        assert demo.renders > renders, f"{control.description}: not redrawn"
        assert fingerprint(demo) != before, f"{control.description}: the figure did not change"


# -- GradientDescent ---------------------------------------------------------------------------

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


# -- OptimizerRace -------------------------------------------------------------------------------


def keras_rules(lr, beta, beta2, eps=1e-7):
    """Each racer's update, written out here in Keras's form: (w, g, state, t) -> (w, state)."""
    def sgd(w, g, state, t):
        return w - lr * g, state

    def momentum(w, g, v, t):
        v = beta * v - lr * g
        return w + v, v

    def nesterov(w, g, v, t):
        v = beta * v - lr * g
        return w + beta * v - lr * g, v

    def rmsprop(w, g, s, t):
        s = beta2 * s + (1 - beta2) * g**2
        return w - lr * g / np.sqrt(s + eps), s

    def adam(w, g, state, t):
        m, v = state
        m, v = beta * m + (1 - beta) * g, beta2 * v + (1 - beta2) * g**2
        m_hat, v_hat = m / (1 - beta**t), v / (1 - beta2**t)  # the paper's bias correction, and Keras's
        # "epsilon hat": eps is added to sqrt(v), which next to sqrt(v_hat) is eps / sqrt(1 - beta2^t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps / np.sqrt(1 - beta2**t)), (m, v)

    zero = np.zeros(2)
    return {"SGD": (sgd, None), "momentum": (momentum, zero), "Nesterov": (nesterov, zero),
            "RMSprop": (rmsprop, zero), "Adam": (adam, (zero, zero))}


def bowl_gradient(p):
    return np.array([p[0], 10 * p[1]])  # f = (x² + 10 y²) / 2


def test_each_racer_takes_its_keras_step_written_out_here():
    demo = OptimizerRace(surface="ill-conditioned bowl")
    demo.lr.value, demo.beta.value, demo.beta2.value, demo.steps.value = 0.03, 0.8, 0.95, 40
    for racer, (rule, state) in keras_rules(0.03, 0.8, 0.95).items():
        w, path = np.array([-4.5, 1.5]), [np.array([-4.5, 1.5])]
        for t in range(1, 41):
            w, state = rule(w, bowl_gradient(w), state, t)
            path.append(w)
        np.testing.assert_allclose(demo.paths[racer], path, rtol=1e-10, atol=1e-14, err_msg=racer)
        np.testing.assert_allclose(demo.losses[racer], [0.5 * (x**2 + 10 * y**2) for x, y in path], rtol=1e-10,
                                   atol=1e-300)


def test_first_steps_by_hand():
    # From (-4.5, 1.5) the gradient is g = (-4.5, 15). lr = 0.1, beta = 0.5, beta2 = 0.75:
    demo = OptimizerRace(lr=0.1, beta=0.5, beta2=0.75, steps=10)
    w0, g = np.array([-4.5, 1.5]), np.array([-4.5, 15.0])
    first = {
        "SGD": w0 - 0.1 * g,                                      # (-4.05, 0)
        "momentum": w0 - 0.1 * g,                                 # v = -lr g; w + v: the same first step
        "Nesterov": w0 - 0.1 * g * 1.5,                           # w + beta v - lr g = w - lr g (1 + beta)
        "RMSprop": w0 - 0.1 * g / np.sqrt(0.25 * g**2 + 1e-7),    # s = (1 - rho) g²: about 2 lr sign(g)
        "Adam": w0 - 0.1 * g / (np.abs(g) + 1e-7 / np.sqrt(0.25)),  # m_hat = g, v_hat = g²: about lr sign(g)
    }
    for racer, expected in first.items():
        np.testing.assert_allclose(demo.paths[racer][1], expected, rtol=1e-12, err_msg=racer)
    np.testing.assert_allclose(demo.paths["SGD"][1], [-4.05, 0.0], atol=1e-15)
    np.testing.assert_allclose(demo.paths["Adam"][1], [-4.4, 1.4], rtol=1e-7)


def test_racers_use_nblib_optim(monkeypatch):
    calls = []
    for name in ("sgd_step", "momentum_step", "nesterov_step", "rmsprop_step", "adam_step"):
        rule = getattr(optim, name)
        monkeypatch.setattr(optim, name,
                            lambda *a, _rule=rule, _name=name, **kw: calls.append(_name) or _rule(*a, **kw))
    OptimizerRace(steps=10)
    assert sorted(set(calls)) == ["adam_step", "momentum_step", "nesterov_step", "rmsprop_step", "sgd_step"]
    assert len(calls) == 50


@pytest.mark.parametrize("name", list(race.SURFACES))
def test_surface_gradients_are_the_numerical_gradient(name, rng):
    sf = race.SURFACES[name]
    for _ in range(3):
        p = rng.uniform(-1.5, 1.5, size=2)
        np.testing.assert_allclose(sf.grad(p), numerical_gradient(lambda q: float(sf.f(q)), p), rtol=1e-6, atol=1e-6)


def test_momentum_beats_sgd_along_the_bowls_valley():
    demo = OptimizerRace()  # lr 0.02, beta 0.9, 150 steps
    final = {racer: loss[-1] for racer, loss in demo.losses.items()}
    assert final["momentum"] < 1e-4 < final["SGD"] and final["Nesterov"] < final["momentum"]
    assert f"SGD</b> f = {final['SGD']:.3g}" in demo.status.value


def test_saddle_racers_that_leave_the_box_escape_and_stop_there():
    demo = OptimizerRace(surface="saddle")
    assert demo.lr.value == 0.01 and demo.ax_loss.get_yscale() == "linear"
    # SGD: y_k = 0.01 (1 + 2 lr)^k, still near the ridge after 150 steps
    np.testing.assert_allclose(demo.paths["SGD"][:, 1], 0.01 * 1.02 ** np.arange(151), rtol=1e-12)
    assert demo.outcomes["SGD"] == "finished"
    for racer in ("momentum", "Nesterov"):
        path = demo.paths[racer]
        assert demo.outcomes[racer] == "escaped" and len(path) < 151
        assert np.all(np.abs(path[:-1]) <= 2.5) and np.max(np.abs(path[-1])) > 2.5  # stopped at the first exit
        assert f"{racer}</b> escaped at step {len(path) - 1}" in demo.status.value
        steps, f = demo.loss_lines[racer].get_data()
        np.testing.assert_allclose(f, path[:, 0] ** 2 - path[:, 1] ** 2)  # f itself: no minimum to subtract


@pytest.mark.parametrize("surface", list(race.SURFACES))
def test_large_learning_rates_diverge_without_warnings(surface):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        demo = OptimizerRace(surface=surface)
        demo.lr.value, demo.beta.value, demo.steps.value = 1.0, 0.99, 1000
        for racer, path in demo.paths.items():
            assert np.all(np.isfinite(path)), racer
            if demo.outcomes[racer] == "diverged":
                assert f"{racer}</b> diverged at step {len(path) - 1}" in demo.status.value
        assert demo.outcomes["SGD"] == ("escaped" if surface == "saddle" else "diverged")
        demo.figure.canvas.draw()


def test_rosenbrock_sgd_blows_up_where_adam_does_not():
    demo = OptimizerRace(surface="rosenbrock", lr=0.01)
    assert demo.outcomes["SGD"] == "diverged" and demo.outcomes["Adam"] == "finished"
    steps, gap = demo.loss_lines["Adam"].get_data()
    x, y = demo.paths["Adam"].T
    np.testing.assert_allclose(gap, np.maximum((1 - x) ** 2 + 100 * (y - x**2) ** 2, 1e-20))
    assert demo.ax_loss.get_ylim()[1] <= 5e3 * 24.2 * 1.0001  # a diverging loss does not squash the others


def test_a_new_surface_starts_at_its_own_learning_rate_and_redraws_once():
    demo = OptimizerRace(lr=0.3)
    assert demo.lr.value == 0.3
    renders = demo.renders
    demo.surface.value = "rosenbrock"
    assert demo.lr.value == race.SURFACES["rosenbrock"].lr and demo.renders == renders + 1
    assert demo.paths["SGD"][0].tolist() == [-1.2, 1.0] and "100" in demo.ax.get_title()


def test_unchecked_racers_are_hidden_and_left_out_of_the_status():
    demo = OptimizerRace(racers=["SGD", "Adam"])
    assert [r for r, box in demo.shown.items() if box.value] == ["SGD", "Adam"]
    assert demo.path_lines["SGD"].get_visible() and not demo.path_lines["momentum"].get_visible()
    assert "momentum" not in demo.status.value and "Adam" in demo.status.value
    assert [t.get_text() for t in demo.ax_loss.get_legend().get_texts()] == ["SGD", "Adam"]
    for box in demo.shown.values():
        box.value = False
    assert "Check a racer" in demo.status.value and demo.ax_loss.get_legend() is None


@pytest.mark.parametrize("kwargs, error, message", [
    ({"surface": "himmelblau"}, ValueError, "surface must be one of .*got 'himmelblau'"),
    ({"lr": 2.0}, ValueError, "lr must be between 0.0001 and 1, got 2.0"),
    ({"beta": 1.0}, ValueError, "beta must be between 0 and 0.99, got 1.0"),
    ({"beta2": 0.9999}, ValueError, "beta2 must be between 0.5 and 0.999, got 0.9999"),
    ({"steps": 5}, ValueError, "steps must be between 10 and 1000, got 5"),
    ({"racers": "Adam"}, TypeError, "racers must be a list of names"),
    ({"racers": ["adam"]}, ValueError, "racers must be one of .*got 'adam'"),
    ({"lr": "fast"}, TypeError, "lr must be a real number"),
])
def test_optimizer_race_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        OptimizerRace(**kwargs)


# -- TrainingProgress and plot_history ---------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_digits():
    X_train, X_test, y_train, y_test = data.digits()
    return X_train[:300], y_train[:300], X_test[:100], y_test[:100]


def test_progress_follows_a_real_fit_to_the_last_epoch(tiny_digits):
    X, y, X_val, y_val = tiny_digits
    rng = np.random.default_rng(0)
    model = layers.Sequential.mlp([64, 16, 10], rng=rng)
    bar = TrainingProgress(epochs=4)
    seen = []  # what the bar and the label showed after each epoch

    def watched(history):
        answer = bar(history)
        seen.append((bar.bar.value, bar.label.value, answer))
        return answer

    history = training.fit(model, X, y, optimizer=optim.Adam(0.01), epochs=4, batch_size=32, rng=rng,
                           validation=(X_val, y_val), callback=watched)
    assert history.epochs == 4  # the callback returned True each time: nothing stopped the training
    assert [(value, answer) for value, _, answer in seen] == [(1, True), (2, True), (3, True), (4, True)]
    for k, (_, label, _) in enumerate(seen):
        assert label == (f"epoch {k + 1}/4 · loss {history.loss[k]:.3f} · accuracy {100 * history.accuracy[k]:.1f}% · "
                         f"val loss {history.val_loss[k]:.3f} · val accuracy {100 * history.val_accuracy[k]:.1f}%")
    assert (bar.bar.value, bar.bar.max, bar.bar.bar_style) == (4, 4, "success")
    assert history.val_accuracy[-1] > 0.5  # it did learn


def test_progress_without_validation_and_with_a_keras_style_dict():
    bar = TrainingProgress(epochs=10)
    assert bar({"loss": [0.9, 0.41234], "accuracy": [0.5, 0.9134]}) is True
    assert bar.label.value == "epoch 2/10 · loss 0.412 · accuracy 91.3%"
    assert (bar.bar.value, bar.bar.bar_style) == (2, "")
    bar(training.History(loss=[1.0] * 12, accuracy=[0.5] * 12))  # more epochs than announced
    assert (bar.bar.value, bar.bar.max) == (12, 12)


def test_progress_shows_its_widget(monkeypatch):
    shown = []
    monkeypatch.setattr(progress, "display", shown.append)
    bar = TrainingProgress(3)
    bar._ipython_display_()
    assert shown == [bar.widget] and bar.label.value == "epoch 0/3" and bar.bar.max == 3


@pytest.mark.parametrize("bad, error, message", [
    ([1, 2], TypeError, "history must be an nblib.training.History or a dict with a 'loss' list, got list"),
])
def test_progress_rejects_what_is_not_a_history(bad, error, message):
    with pytest.raises(error, match=message):
        TrainingProgress(3)(bad)
    with pytest.raises(ValueError, match="epochs must be >= 1, got 0"):
        TrainingProgress(0)


def test_plot_history_draws_loss_and_accuracy_per_epoch():
    history = training.History(loss=[1.0, 0.5, 0.3], accuracy=[0.6, 0.8, 0.9], val_loss=[1.1, 0.6, 0.4],
                               val_accuracy=[0.55, 0.75, 0.85])
    figure = plot_history(history, title="digits")
    loss_ax, accuracy_ax = figure.axes
    assert (loss_ax.get_title(), accuracy_ax.get_title()) == ("Loss", "Accuracy")
    assert loss_ax.get_xlabel() == accuracy_ax.get_xlabel() == "epoch" and accuracy_ax.get_ylabel() == "accuracy"
    (train, val) = loss_ax.get_lines()
    np.testing.assert_array_equal(train.get_xydata(), [[1, 1.0], [2, 0.5], [3, 0.3]])
    np.testing.assert_array_equal(val.get_ydata(), [1.1, 0.6, 0.4])
    assert figure._suptitle.get_text() == "digits"
    no_validation = plot_history(training.History(loss=[1.0, 0.5], accuracy=[0.6, 0.8]))
    assert [len(ax.get_lines()) for ax in no_validation.axes] == [1, 1]


# -- in a loop, as in a kernel ------------------------------------------------------------------


@pytest.mark.parametrize("which", ["descent", "race"])
def test_demos_in_a_loop_draw_quick_moves_once_with_the_last_values(slow_drawing, which):
    async def test():
        if which == "descent":
            demo = GradientDescent()
            moves = [(demo.lr, 10 ** (-2 + 0.05 * i)) for i in range(20)] + [(demo.steps, 40 + i) for i in range(10)]
        else:
            demo = OptimizerRace()
            moves = [(demo.beta, 0.5 + 0.01 * i) for i in range(20)]
            moves += [(demo.beta2, 0.9 + 0.001 * i) for i in range(10)]
        slow_drawing.clear()
        for control, value in moves:
            control.value = value
            await asyncio.sleep(0.005)
        assert not slow_drawing  # nothing drawn while the controls move
        await asyncio.sleep(WAIT + 0.2)
        assert len(slow_drawing) == 1
        if which == "descent":  # the drawing is of the last lr and steps
            lr = 10 ** (-2 + 0.05 * 19)
            np.testing.assert_allclose(demo.iterates[:, 0], 2.0 * (1 - 2 * lr) ** np.arange(50), rtol=1e-12)
        else:
            rule, state = keras_rules(0.02, 0.69, 0.909)["Adam"]
            w = np.array([-4.5, 1.5])
            for t in range(1, 151):
                w, state = rule(w, bowl_gradient(w), state, t)
            np.testing.assert_allclose(demo.paths["Adam"][-1], w, rtol=1e-9)

    in_a_loop(test)


def test_race_in_a_loop_a_new_surface_and_its_lr_reset_draw_once(slow_drawing):
    async def test():
        demo = OptimizerRace()
        slow_drawing.clear()
        demo.surface.value = "saddle"
        demo.steps.value = 300
        await until(lambda: slow_drawing, timeout=5)
        await asyncio.sleep(WAIT + 0.1)
        assert len(slow_drawing) == 1 and demo.lr.value == 0.01 and "x^2 - y^2" in demo.ax.get_title()
        # SGD's y_k = 0.01 * 1.02^k passes 2.5 at k = 279 (ln 250 / ln 1.02 = 278.8): within the 300 steps
        assert len(demo.paths["SGD"]) == 280 and demo.outcomes["SGD"] == "escaped"

    in_a_loop(test)
