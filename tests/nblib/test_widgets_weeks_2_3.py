"""nblib.widgets, weeks 2 and 3: ActivationExplorer, SoftmaxExplorer, UniversalApproximation.

Moving a control must change what is drawn: each test reads the matplotlib artists' data
and checks it against an independent computation (Keras, scipy, a numerical derivative, a
forward pass written out here). Plain tests run without an event loop, so controls act at
once and training finishes before the constructor returns; the "..._in_a_loop_..." tests
run as in a kernel (see tests/nblib/test_widgets.py for the helpers).
"""

import asyncio
import math

import numpy as np
import pytest
from scipy import special, stats

import nblib.widgets
from nblib import activations
from nblib.gradcheck import numerical_gradient
from nblib.widgets import ActivationExplorer, SoftmaxExplorer, UniversalApproximation
from nblib.widgets import approximation as UA
from tests.nblib.test_widgets import WAIT, in_a_loop, slow_drawing, slow_steps, until  # noqa: F401 (fixtures)


def test_the_package_exports_every_demo_and_the_attributes_tests_patch():
    for name in ("PerceptronPlayground", "Debouncer", "Run", "Demo", "ActivationExplorer", "SoftmaxExplorer",
                 "UniversalApproximation"):
        assert name in nblib.widgets.__all__ and hasattr(nblib.widgets, name)
    for cls in (ActivationExplorer, SoftmaxExplorer, UniversalApproximation):
        assert issubclass(cls, nblib.widgets.Demo) and "_render" not in vars(cls), "never override _render"
    assert callable(nblib.widgets.Run._take_step) and callable(nblib.widgets.PerceptronPlayground.retrain)


def labelled_controls(widget):
    """Every control below ``widget`` that shows a description label (buttons excepted)."""
    found = []
    if getattr(widget, "description", "") and hasattr(widget.style, "description_width"):
        found.append(widget)
    for child in getattr(widget, "children", ()):
        found += labelled_controls(child)
    return found


@pytest.mark.parametrize("make", [ActivationExplorer, SoftmaxExplorer, lambda: UniversalApproximation(steps=200)])
def test_labels_are_not_cut_off(make):
    demo = make()
    controls = labelled_controls(demo.widget)
    assert len(controls) >= 3
    for control in controls:
        assert control.style.description_width == "initial", control.description
    assert demo.output in demo.widget.children and demo.renders >= 1


# -- ActivationExplorer -----------------------------------------------------------------------


@pytest.fixture
def explorer():
    return ActivationExplorer(activation="relu", x_range=(-6.0, 6.0))


KERAS = {  # name -> keras.activations call with our parameters
    "sigmoid": lambda k, x: k.activations.sigmoid(x),
    "tanh": lambda k, x: k.activations.tanh(x),
    "elu": lambda k, x: k.activations.elu(x, alpha=1.0),
    "selu": lambda k, x: k.activations.selu(x),
    "gelu": lambda k, x: k.activations.gelu(x, approximate=False),
    "swish": lambda k, x: k.activations.silu(x),
}


@pytest.mark.parametrize("name", sorted(KERAS))
def test_activation_curve_is_keras_on_the_plotted_x(explorer, keras, name):
    explorer.activation.value = name
    x, y = explorer.line.get_data()
    assert x[0] == -6.0 and x[-1] == 6.0 and len(x) == explorer.points
    expected = np.asarray(KERAS[name](keras, x.astype(np.float32)), dtype=float)  # Keras computes in float32
    np.testing.assert_allclose(y, expected, atol=1e-6)
    assert name in explorer.ax.get_title()


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "gelu", "swish", "elu", "relu", "leaky_relu", "selu"])
def test_derivative_curve_is_the_centred_difference_of_the_function(explorer, name):
    explorer.activation.value = name
    explorer.x_range.value = (-5.0, 3.0)
    x, dy = explorer.derivative_line.get_data()
    assert explorer.derivative_line.get_visible()
    g = activations.ACTIVATIONS[name]
    h = 1e-5
    numeric = (g(x + h) - g(x - h)) / (2 * h)
    away_from_kink = np.abs(x) > 2 * h  # relu, leaky ReLU and SELU have a kink at 0
    np.testing.assert_allclose(dy[away_from_kink], numeric[away_from_kink], atol=1e-6)


def test_x_range_slider_moves_the_curves_and_the_axes(explorer):
    explorer.activation.value = "sigmoid"
    explorer.x_range.value = (-2.0, 8.5)
    x, y = explorer.line.get_data()
    assert (x[0], x[-1]) == (-2.0, 8.5) and explorer.ax.get_xlim() == (-2.0, 8.5)
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_array_equal(explorer.derivative_line.get_data()[0], x)


def test_show_derivative_hides_the_derivative_and_its_legend_entry(explorer):
    explorer.activation.value = "tanh"
    explorer.show_derivative.value = False
    assert not explorer.derivative_line.get_visible() and explorer.line.get_visible()
    assert "g'(x)" not in [t.get_text() for t in explorer.ax.get_legend().get_texts()]
    assert explorer.ax.get_ylim()[1] < 1.5  # scaled to tanh alone
    explorer.show_derivative.value = True
    assert explorer.derivative_line.get_visible()
    assert "g'(x)" in [t.get_text() for t in explorer.ax.get_legend().get_texts()]


def shaded(explorer):
    """The x intervals the saturation shading covers, read from the patches."""
    return [(p.get_x(), p.get_x() + p.get_width()) for p in explorer.shading]


def test_saturation_zone_is_where_the_derivative_is_below_0_05(explorer):
    explorer.x_range.value = (-6.0, 6.0)
    explorer.activation.value = "sigmoid"
    # sigmoid'(x) = s (1 - s) = 0.05  <=>  s = (1 + sqrt(0.8)) / 2 = 0.9472  <=>  |x| = ln(s / (1 - s)) = 2.887
    edge = math.log((1 + math.sqrt(0.8)) / (1 - math.sqrt(0.8)))
    (left_a, left_b), (right_a, right_b) = shaded(explorer)
    step = 12.0 / (explorer.points - 1)
    assert left_a == -6.0 and right_b == 6.0
    assert -edge - step <= left_b <= -edge and edge <= right_a <= edge + step
    assert "|g'(x)| < 0.05: gradients vanish here" in [t.get_text() for t in explorer.ax.get_legend().get_texts()]

    explorer.activation.value = "relu"  # flat for every x <= 0 (relu'(0) = 0)
    assert shaded(explorer) == [(-6.0, 0.0)]
    explorer.activation.value = "binary_step"  # flat everywhere
    assert shaded(explorer) == [(-6.0, 6.0)]
    explorer.activation.value = "linear"  # never flat: no shading, no legend entry
    assert shaded(explorer) == [] and len(explorer.ax.patches) == 0
    assert "|g'(x)| < 0.05: gradients vanish here" not in [t.get_text() for t in explorer.ax.get_legend().get_texts()]
    assert "nowhere" in explorer.status.value


def test_status_and_title_give_the_range_and_the_derivative_at_0(explorer):
    explorer.activation.value = "sigmoid"
    assert "(0, 1)" in explorer.ax.get_title()
    assert "g(0) = 0.5" in explorer.status.value and "g'(0) = 0.25" in explorer.status.value
    explorer.activation.value = "tanh"
    assert "(-1, 1)" in explorer.ax.get_title() and "g'(0) = 1" in explorer.status.value


def test_every_activation_has_a_range_and_draws():
    demo = ActivationExplorer()
    assert list(demo.activation.options) == list(activations.ACTIVATIONS)
    assert set(nblib.widgets.activations.RANGES) == set(activations.ACTIVATIONS)
    for name in activations.ACTIVATIONS:
        demo.activation.value = name
        y = demo.line.get_data()[1]
        assert np.all(np.isfinite(y)) and "?" not in demo.ax.get_title()


@pytest.mark.parametrize("kwargs, message", [
    ({"activation": "relu6"}, "activation must be one of .*got 'relu6'"),
    ({"x_range": (3.0, -3.0)}, r"x_range must satisfy -10 <= low < high <= 10, got \(3.0, -3.0\)"),
    ({"x_range": (-20, 0)}, r"got \(-20, 0\)"),
    ({"x_range": 5}, "x_range must be a pair"),
    ({"points": 1}, "points must be >= 2, got 1"),
])
def test_activation_explorer_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ActivationExplorer(**kwargs)


# -- SoftmaxExplorer --------------------------------------------------------------------------


@pytest.fixture
def softmax_demo():
    return SoftmaxExplorer()


def bar_heights(demo):
    return np.array([bar.get_height() for bar in demo.bars])


def test_softmax_bars_are_scipy_softmax_of_the_logits_over_t(softmax_demo):
    demo = softmax_demo
    z = np.array([2.0, 1.0, 0.1, -1.0])
    np.testing.assert_allclose(bar_heights(demo), special.softmax(z), rtol=1e-12)
    for slider, value in zip(demo.logits, [-3.0, 4.5, 0.0, 4.4]):
        slider.value = value
    demo.temperature.value = 2.5
    z, T = np.array([-3.0, 4.5, 0.0, 4.4]), demo.temperature.value
    expected = special.softmax(z / T)
    np.testing.assert_allclose(bar_heights(demo), expected, rtol=1e-12)
    assert bar_heights(demo).sum() == pytest.approx(1.0, abs=1e-12)
    assert [t.get_text() for t in demo.annotations] == [f"{p:.3f}" for p in expected]
    assert demo.ax.get_ylim() == (0.0, 1.0) and "T = 2.50" in demo.ax.get_title()
    assert "sum = 1.000000" in demo.status.value and f"{stats.entropy(expected):.3f} nats" in demo.status.value


def test_temperature_flattens_or_sharpens_the_distribution(softmax_demo):
    demo, seen = softmax_demo, {}
    for T in (0.1, 1.0, 10.0):
        demo.temperature.value = T
        p = bar_heights(demo)
        seen[T] = p
        assert f"{stats.entropy(p):.3f} nats" in demo.status.value
    H = {T: stats.entropy(p) for T, p in seen.items()}
    assert H[0.1] < H[1.0] < H[10.0] < math.log(4)
    assert seen[0.1].max() > 0.99 and np.argmax(seen[0.1]) == 0      # nearly one-hot on the largest logit
    assert seen[10.0].max() - seen[10.0].min() < 0.1                  # nearly uniform
    assert [np.argsort(p).tolist() for p in seen.values()] == [[3, 2, 1, 0]] * 3  # the order never changes
    assert "flattens" in demo.caption.value and "one-hot" in demo.caption.value


def test_adding_a_constant_to_every_logit_changes_nothing(softmax_demo):
    before = bar_heights(softmax_demo)
    for slider in softmax_demo.logits:
        slider.value = slider.value + 5.0
    np.testing.assert_allclose(bar_heights(softmax_demo), before, rtol=1e-12)


def test_extreme_logits_and_temperature_do_not_overflow():
    demo = SoftmaxExplorer(logits=[10.0, -10.0, 9.9], temperature=0.1, labels=["cat", "dog", "fox"])
    p = bar_heights(demo)  # z / T = [100, -100, 99]
    assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(p, special.softmax([100.0, -100.0, 99.0]), rtol=1e-12)
    assert [t.get_text() for t in demo.ax.get_xticklabels()] == ["cat", "dog", "fox"]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"logits": [1.0]}, ValueError, "between 2 and 10 values .* got 1"),
    ({"logits": list(range(11))}, ValueError, "got 11"),
    ({"logits": [0.0, 20.0]}, ValueError, r"between -10 and 10, got \[0.0, 20.0\]"),
    ({"temperature": 0}, ValueError, "temperature must be a number between 0.1 and 10, got 0"),
    ({"temperature": 100.0}, ValueError, "got 100.0"),
    ({"labels": ["a", "b"]}, ValueError, "labels must name each of the 4 classes, got 2"),
    ({"logits": "abc"}, TypeError, "logits"),
])
def test_softmax_explorer_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        SoftmaxExplorer(**kwargs)


# -- UniversalApproximation -------------------------------------------------------------------


def network(x, params, activation):
    """The one-hidden-layer network, written out independently of nblib."""
    g = np.tanh if activation == "tanh" else (lambda z: np.maximum(z, 0.0))
    return g(x[:, None] * params["W1"][0] + params["b1"]) @ params["W2"][:, 0] + params["b2"][0]


def drawn_fit(demo):
    return demo.fit_line.get_data()


def test_the_fit_drawn_is_the_networks_output_and_the_title_its_mse():
    demo = UniversalApproximation(width=5)
    x, y = drawn_fit(demo)
    np.testing.assert_allclose(y, network(x, demo.params, "tanh"), rtol=1e-10, atol=1e-12)
    x_train = np.linspace(-3, 3, 150)
    mse = np.mean((network(x_train, demo.params, "tanh") - np.sin(2 * x_train)) ** 2)
    assert demo.mse == pytest.approx(mse, rel=1e-10)
    assert f"MSE = {mse:.2e}" in demo.ax.get_title()
    steps, mses = demo.loss_line.get_data()
    assert steps[-1] == 3000 and mses[-1] == pytest.approx(mse, rel=1e-10)
    assert demo.run.status.value == "finished after 15 blocks"
    assert "finished after 3000 gradient steps" in demo.status.value


def test_more_hidden_units_fit_the_sine_better():
    demo = UniversalApproximation(target="sine", width=1)
    narrow, narrow_fit = demo.mse, drawn_fit(demo)[1].copy()
    demo.width.value = 32
    wide = demo.mse
    assert narrow > 0.3 and wide < narrow / 1000, (narrow, wide)  # one tanh cannot make a wave
    assert demo.params["W1"].shape == (1, 32) and not np.allclose(drawn_fit(demo)[1], narrow_fit)
    x, y = drawn_fit(demo)
    np.testing.assert_allclose(y, np.sin(2 * x), atol=0.05)  # the drawn fit follows the curve


def test_target_and_activation_controls_retrain_on_the_new_curve():
    demo = UniversalApproximation(target="sine", width=8)
    demo.target.value = "|x|"
    x, y = demo.target_line.get_data()
    np.testing.assert_array_equal(y, np.abs(x))
    demo.activation.value = "relu"
    x, y = drawn_fit(demo)
    np.testing.assert_allclose(y, network(x, demo.params, "relu"), rtol=1e-10, atol=1e-12)
    assert demo.mse < 1e-3 and "relu" in demo.ax.get_title() and "|x|" in demo.ax.get_title()


def test_a_fixed_seed_reproduces_the_fit_exactly():
    a, b = (UniversalApproximation(width=6, seed=3) for _ in range(2))
    other = UniversalApproximation(width=6, seed=4)
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(a.params[key], b.params[key])
    np.testing.assert_array_equal(drawn_fit(a)[1], drawn_fit(b)[1])
    assert not np.array_equal(drawn_fit(a)[1], drawn_fit(other)[1])
    a.retrain()
    np.testing.assert_array_equal(drawn_fit(a)[1], drawn_fit(b)[1])  # retraining starts from the same seed


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gradients_are_the_numerical_gradient_of_the_mse(activation, rng):
    params = UA.init_params(5, rng)
    x, y = rng.uniform(-3, 3, size=(20, 1)), rng.normal(size=(20, 1))

    def loss(p):
        return float(np.mean((UA.forward(x, p, activation)[0] - y) ** 2))

    grads = UA.gradients(x, y, params, activation)
    assert set(grads) == set(params)
    for key in params:
        def loss_of(value, key=key):
            return loss({**params, key: value})
        np.testing.assert_allclose(grads[key], numerical_gradient(loss_of, params[key]), rtol=1e-6, atol=1e-9,
                                   err_msg=key)


def test_training_is_adam_with_eps_1e_8_on_the_mse_gradient_written_out_here():
    demo = UniversalApproximation(width=3, steps=40, steps_per_block=20, seed=5)
    x, y = np.linspace(-3, 3, 150), np.sin(2 * np.linspace(-3, 3, 150))
    p = UA.init_params(3, np.random.default_rng(5))
    w1, b1, w2, b2 = p["W1"][0], p["b1"], p["W2"][:, 0], p["b2"][0]
    m = v = np.zeros(10)
    for t in range(1, 41):
        h = np.tanh(np.outer(x, w1) + b1)                 # (N, 3)
        e = 2 * (h @ w2 + b2 - y) / len(x)                # dMSE/dy_hat
        dz = np.outer(e, w2) * (1 - h**2)                 # (N, 3)
        g = np.concatenate([x @ dz, dz.sum(0), h.T @ e, [e.sum()]])
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        alpha = 0.02 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)  # Keras's form: eps ("epsilon hat") added to sqrt(v)
        theta = np.concatenate([w1, b1, w2, [b2]]) - alpha * m / (np.sqrt(v) + 1e-8)
        w1, b1, w2, b2 = theta[:3], theta[3:6], theta[6:9], theta[9]
    np.testing.assert_allclose(demo.params["W1"][0], w1, rtol=1e-10)
    np.testing.assert_allclose(demo.params["b1"], b1, rtol=1e-10)
    np.testing.assert_allclose(demo.params["W2"][:, 0], w2, rtol=1e-10)
    np.testing.assert_allclose(demo.params["b2"][0], b2, rtol=1e-10)
    assert UA.ADAM_EPS == 1e-8 and not hasattr(UA, "Adam") and not hasattr(UA, "backward")


@pytest.mark.parametrize("kwargs, error, message", [
    ({"target": "cosine"}, ValueError, "target must be one of .*got 'cosine'"),
    ({"activation": "sigmoid"}, ValueError, "activation must be one of .*got 'sigmoid'"),
    ({"width": 0}, ValueError, "width must be >= 1, got 0"),
    ({"width": 65}, ValueError, "width must be between 1 and 64, got 65"),
    ({"width": 2.5}, TypeError, "width must be an integer"),
    ({"steps": 250}, ValueError, "steps must be a multiple of steps_per_block=200, got 250"),
    ({"lr": -0.1}, ValueError, "lr must be a positive number, got -0.1"),
])
def test_universal_approximation_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        UniversalApproximation(**kwargs)


# -- in a loop, as in a kernel ------------------------------------------------------------------


def test_approximation_in_a_loop_trains_in_the_background_and_stop_keeps_the_fit(slow_steps, slow_drawing):
    slow_steps(0.02)

    async def test():
        demo = UniversalApproximation(width=16, steps=3000)
        assert demo.run.running and demo.steps_done == 0  # the constructor returned before training
        await until(lambda: demo.run.count >= 3)
        assert demo.run.running and "training" in demo.status.value
        x, y = drawn_fit(demo)  # the plot follows the training
        np.testing.assert_allclose(y, network(x, demo.params, "tanh"), rtol=1e-10, atol=1e-12)
        assert len(demo.loss_line.get_data()[0]) >= 2 and len(slow_drawing) >= 2
        demo.run.stop_button.click()
        k = demo.run.count
        assert 3 <= k < 15 and demo.steps_done == 200 * k
        assert f"stopped after {200 * k} gradient steps" in demo.status.value
        kept = {key: value.copy() for key, value in demo.params.items()}
        np.testing.assert_allclose(drawn_fit(demo)[1], network(x, kept, "tanh"), rtol=1e-10, atol=1e-12)
        await asyncio.sleep(0.2)
        for key, value in kept.items():  # nothing trains after Stop
            np.testing.assert_array_equal(demo.params[key], value)
        return k, kept

    k, kept = in_a_loop_returning(test)
    same = UniversalApproximation(width=16, steps=200 * k)  # plain Python: k blocks, all at once
    for key, value in kept.items():  # Stop kept exactly the first k blocks of the training
        np.testing.assert_array_equal(same.params[key], value)


def test_approximation_in_a_loop_a_new_width_replaces_a_running_training(slow_steps):
    slow_steps(0.02)

    async def test():
        demo = UniversalApproximation(width=4)
        await until(lambda: demo.run.count >= 2)
        demo.width.value = 12
        assert demo._retrain_soon.pending and demo.fitted["width"] == 4  # settling; the old one goes on
        await until(lambda: demo.fitted["width"] == 12 and not demo.run.running, timeout=20)
        assert demo.params["W1"].shape == (1, 12) and demo.steps_done == 3000
        return {key: value.copy() for key, value in demo.params.items()}

    params = in_a_loop_returning(test)
    expected = UniversalApproximation(width=12).params
    for key in params:
        np.testing.assert_array_equal(params[key], expected[key])


@pytest.mark.parametrize("demo_and_moves", ["softmax", "activation"])
def test_explorers_in_a_loop_draw_a_dragged_control_once(slow_drawing, demo_and_moves):
    async def test():
        if demo_and_moves == "softmax":
            demo = SoftmaxExplorer()
            control, values = demo.temperature, [0.1 * 1.1**i for i in range(40)]
        else:
            demo = ActivationExplorer(activation="sigmoid")
            control, values = demo.x_range, [(-6.0 + 0.1 * i, 6.0) for i in range(40)]
        slow_drawing.clear()
        for value in values:
            control.value = value
            await asyncio.sleep(0.005)
        assert not slow_drawing  # nothing drawn while the control moves
        await asyncio.sleep(WAIT + 0.2)
        assert 1 <= len(slow_drawing) <= 2
        if demo_and_moves == "softmax":
            z = np.array([2.0, 1.0, 0.1, -1.0])
            np.testing.assert_allclose(bar_heights(demo), special.softmax(z / control.value))
        else:
            assert demo.line.get_data()[0][0] == pytest.approx(control.value[0])

    in_a_loop(test)


def in_a_loop_returning(test):
    """``in_a_loop`` for a test coroutine with a result."""
    result = []

    async def wrapped():
        result.append(await test())

    in_a_loop(wrapped)
    return result[0]
