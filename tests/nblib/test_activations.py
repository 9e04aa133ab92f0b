"""nblib.activations against hand-worked values, keras.activations, tf.GradientTape and
numerical derivatives; plus extreme and bad inputs."""

import math

import numpy as np
import pytest

from nblib import activations as A
from nblib.gradcheck import numerical_derivative

# The lecture's table, plus the three modern activations the course adds.
TABLE = ["linear", "binary_step", "sigmoid", "tanh", "relu", "softplus", "leaky_relu", "elu"]
MODERN = ["gelu", "selu", "swish"]

# name -> the keras.activations call with matching parameters (binary_step has no Keras twin).
KERAS = {
    "linear": lambda k, x: k.activations.linear(x),
    "sigmoid": lambda k, x: k.activations.sigmoid(x),
    "tanh": lambda k, x: k.activations.tanh(x),
    "relu": lambda k, x: k.activations.relu(x),
    "leaky_relu": lambda k, x: k.activations.leaky_relu(x, negative_slope=0.01),
    "elu": lambda k, x: k.activations.elu(x, alpha=1.0),
    "softplus": lambda k, x: k.activations.softplus(x),
    "gelu": lambda k, x: k.activations.gelu(x, approximate=False),
    "selu": lambda k, x: k.activations.selu(x),
    "swish": lambda k, x: k.activations.silu(x),
}


def sample(rng, n=400):
    """Points spread over the interesting range, none exactly at a kink (0)."""
    x = rng.normal(scale=4.0, size=n)
    return x[np.abs(x) > 1e-3]


def test_registry_holds_every_activation_of_the_course():
    assert set(TABLE + MODERN) == set(A.ACTIVATIONS) == set(A.DERIVATIVES)


@pytest.mark.parametrize(
    "name, x, expected",
    [
        # sigma(-20) = 1 / (1 + e^20), e^20 = 4.85165e8, so 2.06115e-9: the lecture's neuron
        ("sigmoid", -20.0, 1 / (1 + math.exp(20))),
        ("sigmoid", 0.0, 0.5),
        ("tanh", 0.0, 0.0),
        # tanh(1) = (e - 1/e) / (e + 1/e) = 2.35040 / 3.08616
        ("tanh", 1.0, (math.e - 1 / math.e) / (math.e + 1 / math.e)),
        ("relu", -2.0, 0.0),
        ("relu", 3.0, 3.0),
        ("leaky_relu", -2.0, -0.02),  # 0.01 * -2
        ("elu", -1.0, math.exp(-1) - 1),  # alpha (e^x - 1) with alpha = 1
        ("softplus", 0.0, math.log(2)),  # ln(1 + e^0)
        ("binary_step", 0.0, 1.0),  # the table: 1 if x >= 0
        ("binary_step", -0.5, 0.0),
        ("linear", -7.5, -7.5),
        ("selu", 1.0, 1.0507009873554805),  # scale * x for x > 0
        ("gelu", 0.0, 0.0),
        ("gelu", 1.0, 0.5 * (1 + math.erf(1 / math.sqrt(2)))),  # 1 * Phi(1) = 0.841345
        ("swish", 1.0, 1 / (1 + math.exp(-1))),  # 1 * sigma(1)
    ],
)
def test_hand_worked_values(name, x, expected):
    assert float(A.ACTIVATIONS[name](x)) == pytest.approx(expected, rel=1e-12, abs=1e-15)


# Keras keeps some constants in float32 even for float64 input: leaky ReLU's slope
# (0.01 -> 0.0099999998) and TensorFlow's GELU (good to ~5e-7 relative; we check GELU against
# math.erf below). Every other activation agrees to round-off.
KERAS_RTOL = {"gelu": 1e-6, "leaky_relu": 1e-7}


@pytest.mark.parametrize("name", sorted(KERAS))
def test_matches_keras(name, rng, keras):
    x = np.concatenate([sample(rng), [-1000.0, -50.0, 50.0, 1000.0]])
    expected = np.asarray(KERAS[name](keras, x))
    np.testing.assert_allclose(A.ACTIVATIONS[name](x), expected, rtol=KERAS_RTOL.get(name, 1e-12), atol=1e-12)


def test_gelu_matches_math_erf_to_round_off(rng):
    x = sample(rng)
    expected = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x]
    # atol: in the far left tail 1 + erf(x) cancels catastrophically in the reference itself
    np.testing.assert_allclose(A.gelu(x), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(KERAS))
def test_derivative_matches_gradient_tape(name, rng, keras, tf):
    x = tf.Variable(sample(rng))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(KERAS[name](keras, x))  # elementwise f, so d sum / dx_i = f'(x_i)
    expected = tape.gradient(y, x).numpy()
    np.testing.assert_allclose(A.DERIVATIVES[name](x.numpy()), expected, rtol=KERAS_RTOL.get(name, 1e-10), atol=1e-12)


@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS))
def test_derivative_matches_numerical_derivative(name, rng):
    x = sample(rng)
    numeric = numerical_derivative(A.ACTIVATIONS[name], x, h=1e-6)
    np.testing.assert_allclose(A.DERIVATIVES[name](x), numeric, rtol=1e-6, atol=1e-8)


def test_approximate_gelu_and_its_derivative(rng, keras):
    x = sample(rng)
    np.testing.assert_allclose(
        A.gelu(x, approximate=True), keras.activations.gelu(x, approximate=True), rtol=1e-6, atol=1e-12
    )
    numeric = numerical_derivative(lambda v: A.gelu(v, approximate=True), x, h=1e-6)
    np.testing.assert_allclose(A.gelu_derivative(x, approximate=True), numeric, rtol=1e-6, atol=1e-8)


def test_parameters_change_the_negative_side():
    x = np.array([-2.0, 2.0])
    np.testing.assert_allclose(A.leaky_relu(x, negative_slope=0.2), [-0.4, 2.0])
    np.testing.assert_allclose(A.elu(x, alpha=2.0), [2.0 * (math.exp(-2) - 1), 2.0])
    np.testing.assert_allclose(A.leaky_relu_derivative(x, negative_slope=0.2), [0.2, 1.0])


# --- extreme inputs: finite, correct, and no overflow warnings ------------------------------

LIMITS = {  # f(-1000), f(1000)
    "linear": (-1000.0, 1000.0),
    "binary_step": (0.0, 1.0),
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, 1000.0),
    "leaky_relu": (-10.0, 1000.0),
    "elu": (-1.0, 1000.0),
    "softplus": (0.0, 1000.0),
    "gelu": (0.0, 1000.0),
    "selu": (-A.SELU_SCALE * A.SELU_ALPHA, A.SELU_SCALE * 1000.0),
    "swish": (0.0, 1000.0),
}


@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS))
def test_extreme_inputs_are_finite_and_exact(name):
    x = np.array([-1000.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # e^-1000 may underflow to 0
        y = A.ACTIVATIONS[name](x)
        dy = A.DERIVATIVES[name](x)
    np.testing.assert_allclose(y, LIMITS[name], rtol=1e-12, atol=1e-300)
    assert np.all(np.isfinite(dy))


def test_saturated_sigmoid_has_vanishing_gradient():
    assert A.sigmoid_derivative(np.array([-1000.0, 1000.0])).max() == 0.0
    assert A.sigmoid_derivative(0.0) == pytest.approx(0.25)


# --- dtypes and inputs ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS))
def test_float32_stays_float32_and_ints_become_float64(name):
    assert A.ACTIVATIONS[name](np.ones(3, dtype=np.float32)).dtype == np.float32
    assert A.DERIVATIVES[name](np.ones(3, dtype=np.float32)).dtype == np.float32
    assert A.ACTIVATIONS[name]([1, 2, 3]).dtype == np.float64


@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS))
def test_input_is_not_modified_and_shape_is_kept(name, rng):
    x = rng.normal(size=(3, 4, 2))
    before = x.copy()
    out = A.ACTIVATIONS[name](x)
    A.DERIVATIVES[name](x)
    assert out.shape == x.shape
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("bad, message", [("abc", "x must contain real numbers, got dtype <U3"),
                                          (None, "got None"),
                                          (np.array([1 + 2j]), "got dtype complex128")])
def test_non_numeric_input_is_a_type_error(bad, message):
    with pytest.raises(TypeError, match=message.replace("(", r"\(")):
        A.relu(bad)


def test_get_returns_pairs_and_accepts_sklearn_names():
    f, df = A.get("logistic")
    assert f is A.sigmoid and df is A.sigmoid_derivative
    assert A.get("identity")[0] is A.linear
    assert A.get("ReLU")[0] is A.relu


def test_get_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match=r"unknown activation 'rleu'.*Did you mean 'relu'"):
        A.get("rleu")
    with pytest.raises(TypeError, match="must be a string"):
        A.get(3)


def test_bad_parameter_type_is_named():
    with pytest.raises(TypeError, match="negative_slope must be a real number"):
        A.leaky_relu(np.ones(2), negative_slope="small")
