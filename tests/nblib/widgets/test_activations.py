"""nblib.widgets.activations: ActivationExplorer.

Moving a control must change what is drawn: each test reads the matplotlib artists' data and
checks it against an independent computation (Keras, a numerical derivative, a closed form).
"""

import math

import numpy as np
import pytest

import nblib.widgets
from nblib import activations
from nblib.widgets import ActivationExplorer


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
