"""nblib.layers.flatten: flatten_forward / flatten_backward against keras.layers.Flatten, centred
differences and tf.GradientTape; a hand-worked example; the Flatten layer; bad input."""

import dataclasses

import numpy as np
import pytest

from nblib import layers
from nblib.layers import FlattenCache
from tests.nblib.layers.gradients import check_op


def test_flatten_by_hand():
    # Two 2x2 one-channel images (N, H, W, C) = (2, 2, 2, 1): each becomes its 4 pixels in row
    # order, (2, 4); the gradient of each pixel is the entry of dout at the pixel's position.
    x = np.array([[[[1.0], [2.0]], [[3.0], [4.0]]],
                  [[[5.0], [6.0]], [[7.0], [8.0]]]])
    out, cache = layers.flatten_forward(x)
    np.testing.assert_array_equal(out, [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    assert cache.shape == (2, 2, 2, 1)
    dx = layers.flatten_backward(np.array([[10.0, 20.0, 30.0, 40.0], [50.0, 60.0, 70.0, 80.0]]), cache)
    np.testing.assert_array_equal(dx, 10 * x)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 5), (4, 3)], ids=["N,H,W,C", "N,T,D", "N,D"])
def test_flatten_gradients(tf, rng, shape):
    x = rng.normal(size=shape)
    out, (dx,) = check_op(layers.flatten_forward, layers.flatten_backward, (x,),
                          tf_forward=lambda v: tf.reshape(v, (shape[0], -1)))
    assert out.shape == (shape[0], int(np.prod(shape[1:])))


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 5), (1, 7, 1)])
def test_flatten_matches_keras(keras, rng, shape):
    x = rng.normal(size=shape)
    expected = np.asarray(keras.layers.Flatten(dtype="float64")(x))
    out, _ = layers.flatten_forward(x)
    np.testing.assert_array_equal(out, expected)


def test_flatten_layer_round_trip_matches_keras(tf, keras, rng):
    x, dout = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 60))
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        expected = keras.layers.Flatten(dtype="float64")(xv)
    dx_k = tape.gradient(expected, xv, output_gradients=tf.constant(dout)).numpy()
    layer = layers.Flatten()
    np.testing.assert_array_equal(layer.forward(x), expected.numpy())
    np.testing.assert_array_equal(layer.backward(dout), dx_k)
    assert layer.params == {} and layer.grads == {} and layer.state == {}


def test_the_cache_is_frozen():
    _, cache = layers.flatten_forward(np.ones((2, 3, 4)))
    assert cache.shape == (2, 3, 4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cache.shape = (6, 4)


# --- bad input ------------------------------------------------------------------------------------

def test_flatten_forward_needs_a_batch():
    with pytest.raises(ValueError, match=r"x must be batch first.*got shape \(5,\)"):
        layers.flatten_forward(np.ones(5))


@pytest.mark.parametrize("dout_shape", [(2, 59), (4, 30), (120,)])
def test_flatten_backward_with_a_mismatched_dout_names_the_shapes(dout_shape):
    # out was (2, 60); a dout of another shape is not its gradient, even with 120 entries
    # (reshaping those would silently scramble the gradient between examples)
    cache = FlattenCache((2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"\(2, 60\)") as error:
        layers.flatten_backward(np.ones(dout_shape), cache)
    assert str(dout_shape) in str(error.value)
