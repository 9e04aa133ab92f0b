"""nblib.layers.activation: activation_forward / activation_backward for every name nblib
knows, against centred differences and tf.GradientTape (to ~1e-10 in float64); hand-worked
derivatives; the Activation layer; bad input."""

import dataclasses

import numpy as np
import pytest

from nblib import activations, layers
from nblib.layers import ActivationCache
from tests.nblib.layers.gradients import TF_TIGHT, check_op, tf_activation

# every canonical name and every alias: a new activation without a TensorFlow twin fails here
NAMES = sorted([*activations.ACTIVATIONS, *activations.ACTIVATIONS.aliases])


def test_every_name_is_tested():
    # the names the course has used so far, so that a registry that lost one fails here
    assert {"relu", "tanh", "sigmoid", "logistic", "identity", "linear", "elu", "leaky_relu", "softplus",
            "gelu", "selu", "swish", "silu", "binary_step", "step"} <= set(NAMES)


def test_relu_backward_by_hand():
    # relu'(z) = 1 for z > 0, else 0: the gradient passes where the unit was on, stops elsewhere
    dZ = layers.activation_backward(np.array([[5.0, 7.0, 3.0]]), ActivationCache(np.array([[-1.0, 2.0, -0.5]]), "relu"))
    np.testing.assert_array_equal(dZ, [[0.0, 7.0, 0.0]])


def test_sigmoid_and_tanh_backward_by_hand():
    # sigmoid'(0) = 1/4 and tanh'(0) = 1 - tanh(0)^2 = 1; sigmoid(0) = 1/2 and tanh(0) = 0
    out, cache = layers.activation_forward(np.array([[0.0]]), name="sigmoid")
    np.testing.assert_array_equal(out, [[0.5]])
    np.testing.assert_allclose(layers.activation_backward(np.array([[2.0]]), cache), [[0.5]])
    out, cache = layers.activation_forward(np.array([[0.0]]), name="tanh")
    np.testing.assert_array_equal(out, [[0.0]])
    np.testing.assert_allclose(layers.activation_backward(np.array([[2.0]]), cache), [[2.0]])


@pytest.mark.parametrize("name", NAMES)
def test_activation_gradients(tf, rng, name):
    # numerical gradients, tf.GradientTape and inputs left alone, in one call
    x = rng.normal(scale=2.0, size=(7, 4))
    check_op(layers.activation_forward, layers.activation_backward, (x,), hyper={"name": name},
             tf_forward=tf_activation(tf, name))


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4), (2, 3, 2, 2)])
def test_activation_gradients_on_any_shape(tf, rng, shape):
    check_op(layers.activation_forward, layers.activation_backward, (rng.normal(size=shape),),
             hyper={"name": "tanh"}, tf_forward=tf.math.tanh)


def test_the_cache_holds_the_input_and_the_canonical_name():
    x = np.array([[-1.0, 2.0]])
    _, cache = layers.activation_forward(x, name="Logistic")
    np.testing.assert_array_equal(cache.x, x)
    assert cache.name == "sigmoid"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cache.name = "relu"


# --- the Activation layer -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "elu", "leaky_relu"])
def test_activation_class_matches_tensorflow(tf, rng, name):
    Z, dA = rng.normal(scale=2.0, size=(6, 4)), rng.normal(size=(6, 4))
    layer = layers.Activation(name)
    Zv = tf.Variable(Z)
    with tf.GradientTape() as tape:
        A_tf = tf_activation(tf, name)(Zv)
    np.testing.assert_allclose(layer.forward(Z), A_tf.numpy(), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(layer.backward(dA), tape.gradient(A_tf, Zv, output_gradients=tf.constant(dA)).numpy(),
                               **TF_TIGHT)
    assert layer.params == {} and layer.grads == {} and layer.state == {}


# --- bad input ------------------------------------------------------------------------------------

def test_unknown_activation_names_the_closest_one():
    with pytest.raises(ValueError, match=r"unknown activation 'rleu'.*'relu'"):
        layers.activation_forward(np.ones((2, 2)), name="rleu")
    with pytest.raises(ValueError, match=r"unknown activation 'rleu'.*'relu'"):
        layers.Activation("rleu")
    with pytest.raises(ValueError, match="rleu"):
        layers.Activation("rleu").forward(np.ones((2, 2)))


def test_activation_backward_with_a_mismatched_dout_names_the_shapes():
    _, cache = layers.activation_forward(np.ones((2, 3)), name="relu")
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        layers.activation_backward(np.ones((3, 2)), cache)
