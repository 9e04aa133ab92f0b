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


# -- ActivationExplorer(yours=...): a student's activations and derivatives over nblib's (issue 23) --


YOURS_COLOUR = "#ff7f0e"


def students_right():
    """Right answers written other ways than nblib's: tanh for the sigmoid, logaddexp for softplus, ..."""
    def sigmoid(z):
        return 0.5 * (1 + np.tanh(z / 2))        # sigma(z) = (1 + tanh(z / 2)) / 2

    def sigmoid_derivative(z):
        return 0.25 / np.cosh(z / 2) ** 2        # d/dz of the line above: sech^2(z / 2) / 4

    return {"sigmoid": sigmoid, "sigmoid_derivative": sigmoid_derivative,
            "relu": lambda z: z * (z > 0), "relu_derivative": lambda z: (z > 0).astype(float),
            "softplus": lambda z: np.logaddexp(0, z), "tanh_derivative": lambda z: 1 / np.cosh(z) ** 2}


def line_text(demo):
    return demo.yours_line.value.replace("&#x27;", "'")


@pytest.mark.parametrize("name", ["sigmoid", "relu", "softplus"])
def test_yours_right_activations_written_another_way_agree_and_are_drawn_on_the_plotted_x(name):
    demo = ActivationExplorer(activation=name, x_range=(-5.0, 3.5), yours=students_right())
    x = demo.their_line.get_xdata()
    assert 0.0 not in np.linspace(-5.0, 3.5, demo.points)
    assert 0.0 in x and len(x) == demo.points + 1  # with yours, 0 is added to the plotted x
    closed_form = {"sigmoid": 1 / (1 + np.exp(-x)), "relu": np.maximum(x, 0), "softplus": np.log1p(np.exp(x))}[name]
    np.testing.assert_allclose(demo.their_line.get_ydata(), closed_form, rtol=1e-12, atol=1e-15)
    assert f"your {name} agrees with nblib's" in line_text(demo)
    if name != "softplus":  # softplus_derivative is not among these: no line for it
        assert f"your {name}_derivative agrees" in line_text(demo)
        assert len(demo.their_derivative_line.get_xdata()) == len(x)
    assert len(demo.their_misses.get_xdata()) == 0
    labels = [t.get_text() for t in demo.ax.get_legend().get_texts()]
    assert "your g(x)" in labels and "yours first differs" not in labels


def test_yours_a_derivative_written_as_s_instead_of_s_times_1_minus_s_differs_from_the_first_x():
    right = students_right()
    demo = ActivationExplorer(activation="sigmoid", x_range=(-6.0, 6.0),
                              yours={**right, "sigmoid_derivative": right["sigmoid"]})
    s = 1 / (1 + np.exp(6.0))  # sigma(-6) = 0.002473; sigma'(-6) = s (1 - s) = 0.002467
    largest = (1 / (1 + np.exp(-6.0))) ** 2  # s - s (1 - s) = s^2, largest at x = 6: 0.9951
    assert (f"your sigmoid_derivative first differs at x = -6 [0]: {s:.4g} against nblib's {s * (1 - s):.4g} "
            f"(largest difference {largest:.2g})") in line_text(demo), line_text(demo)
    assert "your sigmoid agrees" in line_text(demo)
    assert demo.their_misses.get_xydata().tolist() == [[-6.0, pytest.approx(s, rel=1e-12)]]
    x, dy = demo.their_derivative_line.get_data()  # the dotted curve is theirs: sigma itself, not nblib's sigma'
    np.testing.assert_allclose(dy, 1 / (1 + np.exp(-x)), rtol=1e-12)


def test_yours_a_relu_derivative_that_is_1_at_0_differs_at_x_0_only():
    demo = ActivationExplorer(activation="relu", x_range=(-2.5, 4.0),
                              yours={"relu_derivative": lambda z: np.where(z >= 0, 1.0, 0.0)})
    x = demo.their_derivative_line.get_xdata()
    at = int(np.flatnonzero(x == 0.0)[0])
    assert f"your relu_derivative first differs at x = 0 [{at}]: 1 against nblib's 0 (largest difference 1)" \
        in line_text(demo), line_text(demo)
    assert demo.their_misses.get_xydata().tolist() == [[0.0, 1.0]]
    demo.x_range.value = (0.5, 4.0)  # without z = 0 the two agree
    assert "your relu_derivative agrees" in line_text(demo)


@pytest.mark.parametrize("function, said", [
    (lambda z: (_ for _ in ()).throw(NotImplementedError), "your sigmoid is not written yet (it raises NotImplementedError)"),
    (lambda z: z.reshape(-1, 2), "your sigmoid raised ValueError: cannot reshape array of size 401"),
    (lambda z: 1 / (1 + np.exp(-z[:10])), "your sigmoid returned shape (10,); nblib's has shape (401,)"),
    (lambda z: None, "your sigmoid returned None: is a return missing?"),
], ids=["unfinished", "raises", "wrong-shape", "none"])
def test_yours_an_unusable_function_is_described_and_nblibs_still_drawn(function, said):
    demo = ActivationExplorer(activation="sigmoid", x_range=(-6.0, 6.0), yours={"sigmoid": function})
    assert said in line_text(demo), line_text(demo)  # linspace(-6, 6, 401) holds 0 already: 401 points
    x, y = demo.line.get_data()
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-x)), rtol=1e-12)
    assert len(demo.their_line.get_xdata()) == 0 and demo.theirs[0] is None


def test_without_yours_nothing_changes(explorer):
    assert explorer.yours_line.layout.display == "none" and explorer.yours_line.value == ""
    for name in ("sigmoid", "relu"):
        explorer.activation.value = name
        assert len(explorer.line.get_xdata()) == explorer.points  # no 0 added
        labels = [t.get_text() for t in explorer.ax.get_legend().get_texts()]
        assert not [label for label in labels if "your" in label], labels
        assert not [h for h in explorer.ax.get_legend().legend_handles
                    if getattr(h, "get_color", lambda: None)() == YOURS_COLOUR]
        assert all(len(line.get_xdata()) == 0 for line in (explorer.their_line, explorer.their_derivative_line))
    with pytest.raises(ValueError, match="not 'tanh'"):
        ActivationExplorer(yours={"tanh": np.tanh})  # np.tanh is no exercise: only tanh_derivative is
