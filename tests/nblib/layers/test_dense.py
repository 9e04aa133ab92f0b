"""nblib.layers.dense: dense_forward / dense_backward on (N, D), (N, T, D) and (N, H, W, C)
inputs against centred differences, tf.GradientTape and keras.layers.Dense with the same
float64 weights; a hand-worked example; the Dense layer (Glorot initialisation) and bad input."""

import dataclasses
import math

import numpy as np
import pytest

from nblib import layers
from nblib.layers import DenseCache
from tests.nblib.layers.gradients import TF_TIGHT, check_op


def tf_dense(tf):
    """out = x W + b with TensorFlow ops, for x of any rank (N, ..., D)."""
    return lambda x, W, b: tf.tensordot(x, W, axes=1) + b


# --- dense_forward / dense_backward -----------------------------------------------------------------

def test_dense_by_hand():
    # One input, one output, two examples: Z = X W + b with X = [[2], [3]], W = [[0.5]], b = 0,
    # so Z = [[1.0], [1.5]]. With upstream gradient dZ = [[1], [-2]] (dL/dZ, L = sum(dZ * Z)):
    #   dW = sum_n x_n dZ_n = 2 * 1 + 3 * (-2) = -4      (X.T @ dZ)
    #   db = sum_n dZ_n     = 1 - 2 = -1                  (dZ.sum(0))
    #   dX_n = dZ_n * W     = [[0.5], [-1.0]]             (dZ @ W.T)
    X, W = np.array([[2.0], [3.0]]), np.array([[0.5]])
    dZ = np.array([[1.0], [-2.0]])
    dX, dW, db = layers.dense_backward(dZ, DenseCache(X, W))
    np.testing.assert_array_equal(dW, [[-4.0]])
    np.testing.assert_array_equal(db, [-1.0])
    np.testing.assert_array_equal(dX, [[0.5], [-1.0]])
    # the same through dense_forward's cache
    Z, cache = layers.dense_forward(X, W, np.zeros(1))
    np.testing.assert_array_equal(Z, [[1.0], [1.5]])
    for ours, expected in zip(layers.dense_backward(dZ, cache), (dX, dW, db)):
        np.testing.assert_array_equal(ours, expected)


def test_dense_over_positions_by_hand():
    # A sequence (N, T, D) = (1, 2, 1) is two examples of the same layer: with W = [[3]], b = [1],
    # x = [[[1], [2]]] gives out = [[[4], [7]]]. With dout = [[[1], [10]]]:
    #   dW = 1 * 1 + 2 * 10 = 21 (summed over positions), db = 1 + 10 = 11, dx = dout * 3.
    out, cache = layers.dense_forward(np.array([[[1.0], [2.0]]]), np.array([[3.0]]), np.array([1.0]))
    np.testing.assert_array_equal(out, [[[4.0], [7.0]]])
    dx, dW, db = layers.dense_backward(np.array([[[1.0], [10.0]]]), cache)
    np.testing.assert_array_equal(dW, [[21.0]])
    np.testing.assert_array_equal(db, [11.0])
    np.testing.assert_array_equal(dx, [[[3.0], [30.0]]])


@pytest.mark.parametrize("x_shape", [(6, 5), (3, 4, 5), (2, 3, 2, 5)], ids=["N,D", "N,T,D", "N,H,W,C"])
def test_dense_gradients(tf, rng, x_shape):
    # numerical gradients, tf.GradientTape and inputs left alone, in one call
    x, W, b = rng.normal(size=x_shape), rng.normal(size=(5, 4)), rng.normal(size=4)
    out, (dx, dW, db) = check_op(layers.dense_forward, layers.dense_backward, (x, W, b), tf_forward=tf_dense(tf))
    assert out.shape == x_shape[:-1] + (4,)
    assert (dx.shape, dW.shape, db.shape) == (x.shape, W.shape, b.shape)


@pytest.mark.parametrize("x_shape", [(3, 4, 5), (2, 3, 2, 5)], ids=["N,T,D", "N,H,W,C"])
def test_dense_matches_a_keras_dense_layer(tf, keras, rng, x_shape):
    # Keras's Dense applies its kernel to the last axis of any-rank input, as ours does
    x, W, b, dout = (rng.normal(size=x_shape), rng.normal(size=(5, 4)), rng.normal(size=4),
                     rng.normal(size=x_shape[:-1] + (4,)))
    dense = keras.layers.Dense(4, dtype="float64")
    dense.build((None,) + x_shape[1:])
    dense.set_weights([W, b])
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        expected = dense(xv)
    dx_k, dW_k, db_k = tape.gradient(expected, [xv, dense.kernel, dense.bias], output_gradients=tf.constant(dout))

    out, cache = layers.dense_forward(x, W, b)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-12, atol=1e-14)
    dx, dW, db = layers.dense_backward(dout, cache)
    np.testing.assert_allclose(dx, dx_k.numpy(), **TF_TIGHT)
    np.testing.assert_allclose(dW, np.asarray(dW_k), **TF_TIGHT)
    np.testing.assert_allclose(db, np.asarray(db_k), **TF_TIGHT)


def test_the_cache_is_frozen_and_holds_x_and_W(dense_problem):
    _, X, W, b = dense_problem
    _, cache = layers.dense_forward(X, W, b)
    np.testing.assert_array_equal(cache.x, X)
    np.testing.assert_array_equal(cache.W, W)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cache.W = W.T


# --- the Dense layer ------------------------------------------------------------------------------

def test_dense_initialisation_is_glorot_uniform_from_the_given_rng():
    # Glorot & Bengio (2010): W ~ U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)), so the
    # standard deviation is limit / sqrt(3) = sqrt(2 / (fan_in + fan_out)); biases start at 0.
    state = np.random.get_state()
    layer = layers.Dense(300, 200, rng=np.random.default_rng(0))
    W, b = layer.params["W"], layer.params["b"]
    assert W.shape == (300, 200) and b.shape == (200,) and set(layer.params) == {"W", "b"}
    limit = math.sqrt(6 / 500)
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.99 * limit
    assert W.std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    assert abs(W.mean()) < 0.01 * limit
    np.testing.assert_array_equal(b, np.zeros(200))
    # reproducible from the seed, different for another seed, and the global RNG is untouched
    np.testing.assert_array_equal(layers.Dense(300, 200, rng=np.random.default_rng(0)).params["W"], W)
    assert not np.array_equal(layers.Dense(300, 200, rng=np.random.default_rng(1)).params["W"], W)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_dense_class_matches_tensorflow(tf, rng, dense_problem):
    dZ, X, _, b = dense_problem
    layer = layers.Dense(5, 4, rng=rng)
    layer.params["b"][...] = b  # a non-zero bias, written into the live array
    W = layer.params["W"].copy()
    Z = layer.forward(X)
    np.testing.assert_allclose(Z, X @ W + b, rtol=1e-14)
    dX = layer.backward(dZ)
    Xv, Wv, bv = tf.Variable(X), tf.Variable(W), tf.Variable(b)
    with tf.GradientTape() as tape:
        Zt = tf.matmul(Xv, Wv) + bv
    dX_tf, dW_tf, db_tf = tape.gradient(Zt, [Xv, Wv, bv], output_gradients=tf.constant(dZ))
    assert set(layer.grads) == set(layer.params)
    np.testing.assert_allclose(dX, dX_tf.numpy(), **TF_TIGHT)
    np.testing.assert_allclose(layer.grads["W"], dW_tf.numpy(), **TF_TIGHT)
    np.testing.assert_allclose(layer.grads["b"], db_tf.numpy(), **TF_TIGHT)
    assert layer.grads["W"].shape == (5, 4) and layer.grads["b"].shape == (4,)


def test_dense_class_on_sequences_matches_keras(tf, keras, rng):
    x, dout = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 4, 2))
    layer = layers.Dense(5, 2, rng=rng)
    layer.params["b"][...] = rng.normal(size=2)
    dense = keras.layers.Dense(2, dtype="float64")
    dense.build((None, 4, 5))
    dense.set_weights([layer.params["W"], layer.params["b"]])
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        expected = dense(xv)
    dx_k, dW_k, db_k = tape.gradient(expected, [xv, dense.kernel, dense.bias], output_gradients=tf.constant(dout))
    np.testing.assert_allclose(layer.forward(x), expected.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.backward(dout), dx_k.numpy(), **TF_TIGHT)
    np.testing.assert_allclose(layer.grads["W"], np.asarray(dW_k), **TF_TIGHT)
    np.testing.assert_allclose(layer.grads["b"], np.asarray(db_k), **TF_TIGHT)


def test_dense_repr_gives_the_shape():
    assert repr(layers.Dense(3, 7, rng=np.random.default_rng(0))) == "Dense(3, 7)"


# --- bad input ------------------------------------------------------------------------------------

def test_dense_backward_with_mismatched_rows_names_the_shapes():
    # x (4, 5) and W (5, 2) give an output (4, 2); a dout of (3, 2) cannot be its gradient
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(3, 2\)"):
        layers.dense_backward(np.ones((3, 2)), DenseCache(np.ones((4, 5)), np.ones((5, 2))))
    # the same on sequences: out (2, 3, 4), dout (2, 4, 4)
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*\(2, 4, 4\)"):
        layers.dense_backward(np.ones((2, 4, 4)), DenseCache(np.ones((2, 3, 5)), np.ones((5, 4))))


def test_dense_forward_with_bad_shapes_names_them():
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"W must have shape \(D, M\) = \(3, M\).*\(4, 3\).*\(5, 3\) \(transposed\?\)"):
        layers.dense_forward(x, np.ones((5, 3)), np.ones(5))
    with pytest.raises(ValueError, match=r"b must have shape \(2,\), got shape \(3,\)"):
        layers.dense_forward(x, np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"x must be batch first.*got shape \(3,\)"):
        layers.dense_forward(np.ones(3), np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):  # sequences: D = 4 does not match W's 3 rows
        layers.Dense(3, 2, rng=np.random.default_rng(0)).forward(np.ones((2, 3, 4)))


def test_dense_layer_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_out must be >= 1, got 0"):
        layers.Dense(3, 0, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="n_in must be an integer"):
        layers.Dense(3.0, 2, rng=np.random.default_rng(0))
