"""tests/nblib/layers/gradients.py: the gradient helper passes a right operation and catches
each kind of wrong one (a wrong derivative, a forward that differs from TensorFlow's, an
input modified in place), so a passing check means something."""

import numpy as np
import pytest

from nblib import layers
from tests.nblib.layers.gradients import check_loss, check_op


def square_forward(x, *, scale):
    return scale * x**2, x


def square_backward(dout, x, *, factor=2.0):
    return dout * factor * x  # d(scale x^2)/dx = 2 scale x, with scale = 1 below


def test_a_right_operation_passes(tf, rng):
    x = rng.normal(size=(3, 4))
    out, (dx,) = check_op(square_forward, square_backward, (x,), hyper={"scale": 1.0}, tf_forward=tf.math.square)
    np.testing.assert_array_equal(out, x**2)


def test_a_wrong_derivative_fails_the_numerical_check(rng):
    x = rng.normal(size=(3, 4))
    with pytest.raises(AssertionError, match="gradient check FAILED"):
        check_op(square_forward, lambda dout, x: square_backward(dout, x, factor=2.001), (x,), hyper={"scale": 1.0})


def test_a_gradient_that_differs_from_tensorflow_fails(tf, rng):
    # right by centred differences (within 1e-6), wrong by 1e-8 relative: only TensorFlow sees it
    x = rng.normal(size=(3, 4))
    with pytest.raises(AssertionError, match="gradient 0 differs from TensorFlow's"):
        check_op(square_forward, lambda dout, x: square_backward(dout, x, factor=2.0 + 2e-8), (x,),
                 hyper={"scale": 1.0}, tf_forward=tf.math.square)


def test_a_forward_that_differs_from_tensorflow_fails(tf, rng):
    x = rng.normal(size=(3, 4))
    with pytest.raises(AssertionError, match="forward differs from TensorFlow's"):
        check_op(square_forward, square_backward, (x,), hyper={"scale": 1.0}, tf_forward=tf.math.abs)


def test_an_input_modified_in_place_fails(rng):
    def forward(x):
        x += 0.0 * x + 1.0  # changes the caller's array
        return x.copy(), None

    with pytest.raises(AssertionError, match="modified in place"):
        check_op(forward, lambda dout, cache: dout, (rng.normal(size=(2, 3)),))


def test_a_wrong_number_of_gradients_fails(rng):
    x, W, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    with pytest.raises(AssertionError, match="2 gradients for 3 inputs"):
        check_op(layers.dense_forward, lambda dout, cache: layers.dense_backward(dout, cache)[:2], (x, W, b))


def test_a_loss_with_a_wrong_gradient_fails(rng):
    def half_gradient_mse(pred, y):
        loss, dpred = layers.mean_squared_error(pred, y)
        return loss, dpred / 2  # forgot the 2 of the square

    with pytest.raises(AssertionError, match="gradient check FAILED"):
        check_loss(half_gradient_mse, rng.normal(size=(4, 2)), rng.normal(size=(4, 2)))


def test_float32_input_is_refused(rng):
    with pytest.raises(AssertionError, match="float64"):
        check_op(square_forward, square_backward, (rng.normal(size=3).astype(np.float32),), hyper={"scale": 1.0})
