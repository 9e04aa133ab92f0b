"""nblib.layers.loss: softmax cross-entropy, sigmoid cross-entropy and mean squared error,
values and gradients against Keras's losses (float64, through tf.GradientTape) and centred
differences; hand-worked examples; extreme logits; the loss classes, LOSSES and bad input."""

import math

import numpy as np
import pytest

from nblib import layers
from tests.nblib.layers.gradients import TF_TIGHT, assert_gradient_checks, check_loss, mean_cross_entropy


def sparse_cce(keras):
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")


def binary_ce(keras):
    return keras.losses.BinaryCrossentropy(from_logits=True, dtype="float64")


def keras_mse(keras):
    return keras.losses.MeanSquaredError(dtype="float64")


def tf_mean_cce(tf, keras, logits, y):
    """Keras' mean sparse categorical cross-entropy from logits and its gradient, float64."""
    lv = tf.Variable(logits)
    with tf.GradientTape() as tape:
        loss = sparse_cce(keras)(y, lv)
    return float(loss), tape.gradient(loss, lv).numpy()


# --- softmax cross-entropy -----------------------------------------------------------------------

def test_softmax_cross_entropy_by_hand():
    # logits (0, ln 3): p = (1/4, 3/4). True class 1: loss = -ln(3/4) = ln(4/3), and
    # dloss/dlogits = p - onehot = (1/4, 3/4 - 1) = (1/4, -1/4), divided by N = 1.
    logits, y = np.array([[0.0, math.log(3)]]), np.array([1])
    loss, dlogits = layers.softmax_cross_entropy(logits, y)
    assert loss == pytest.approx(math.log(4 / 3), rel=1e-15)
    np.testing.assert_allclose(dlogits, [[0.25, -0.25]], rtol=1e-14)
    np.testing.assert_allclose(layers.softmax_cross_entropy_backward(logits, y), [[0.25, -0.25]], rtol=1e-14)


def test_softmax_cross_entropy_matches_keras_and_tensorflow(tf, keras, rng):
    logits, y = rng.normal(scale=3.0, size=(9, 4)), rng.integers(0, 4, size=9)
    loss_expected, grad_expected = tf_mean_cce(tf, keras, logits, y)
    loss, dlogits = layers.softmax_cross_entropy(logits, y)
    assert isinstance(loss, float)
    assert loss == pytest.approx(loss_expected, rel=1e-12)
    np.testing.assert_allclose(dlogits, grad_expected, **TF_TIGHT)
    np.testing.assert_allclose(layers.softmax_cross_entropy_backward(logits, y), grad_expected, **TF_TIGHT)


def test_softmax_cross_entropy_backward_passes_a_gradient_check(rng):
    logits, y = rng.normal(scale=3.0, size=(6, 4)), rng.integers(0, 4, size=6)
    logits0, y0 = logits.copy(), y.copy()
    dlogits = layers.softmax_cross_entropy_backward(logits, y)
    assert_gradient_checks(lambda z: mean_cross_entropy(z, y), logits, dlogits)
    # each row of p - onehot sums to 0: the gradient cannot shift all logits together
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-16)
    np.testing.assert_array_equal(logits, logits0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("logits_shape", [(9, 4), (3, 5, 4), (2, 3, 2, 4)], ids=["N,C", "N,T,C", "N,H,W,C"])
def test_softmax_cross_entropy_gradients(keras, rng, logits_shape):
    # numerical gradients, Keras through tf.GradientTape and inputs left alone, in one call.
    # Unit-scale logits: centred differences of a loss near 1 carry ~1e-11 of round-off, too
    # much for 1e-6 relative on the 1e-8 gradients of very unlikely classes.
    logits, y = rng.normal(size=logits_shape), rng.integers(0, 4, size=logits_shape[:-1])
    check_loss(layers.softmax_cross_entropy, logits, y, tf_loss=sparse_cce(keras))


def test_softmax_cross_entropy_on_sequences_matches_keras(tf, keras, rng):
    # (N, T, C) logits and (N, T) labels: the mean over all N * T positions, as Keras
    logits, y = rng.normal(scale=3.0, size=(3, 5, 4)), rng.integers(0, 4, size=(3, 5))
    loss_expected, grad_expected = tf_mean_cce(tf, keras, logits, y)
    loss, dlogits = layers.softmax_cross_entropy(logits, y)
    assert loss == pytest.approx(loss_expected, rel=1e-12)
    assert dlogits.shape == logits.shape
    np.testing.assert_allclose(dlogits, grad_expected, **TF_TIGHT)
    # and the same as the (N * T, C) rows, one per position
    loss_rows, drows = layers.softmax_cross_entropy(logits.reshape(15, 4), y.reshape(15))
    assert loss == pytest.approx(loss_rows, rel=1e-15)
    np.testing.assert_allclose(dlogits.reshape(15, 4), drows, rtol=1e-15)


def test_softmax_cross_entropy_of_extreme_logits_is_exact():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dlogits = layers.softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))
    # -log softmax(z)_1 = 2000; p = (1, 0), so p - onehot = (1, -1)
    assert loss == 2000.0
    np.testing.assert_array_equal(dlogits, [[1.0, -1.0]])


def test_softmax_cross_entropy_class_matches_keras(tf, keras, rng):
    logits, y = rng.normal(scale=3.0, size=(9, 4)), rng.integers(0, 4, size=9)
    loss_expected, grad_expected = tf_mean_cce(tf, keras, logits, y)
    head = layers.SoftmaxCrossEntropy()
    loss = head.forward(logits, y)
    assert isinstance(loss, float) and loss == pytest.approx(loss_expected, rel=1e-12)
    np.testing.assert_allclose(head.backward(), grad_expected, **TF_TIGHT)
    np.testing.assert_array_equal(head.predict(logits), np.argmax(logits, axis=1))
    assert head.classifies


def test_softmax_cross_entropy_rejects_bad_labels():
    logits = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels in \[0, 3\], got values from 0 to 4"):
        layers.softmax_cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"y must have shape \(3,\).*got shape \(2,\)"):
        layers.softmax_cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(TypeError, match="integer class labels, got dtype float64"):
        layers.softmax_cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"logits must be batch first.*got shape \(4,\)"):
        layers.softmax_cross_entropy(np.zeros(4), np.array([1]))


@pytest.mark.parametrize("logits_shape, y_shape", [((2, 6, 4), (3, 4)), ((12, 4), (3, 4)), ((2, 6, 4), (12,))])
def test_softmax_cross_entropy_labels_must_match_the_positions(logits_shape, y_shape):
    # logits (N, ..., C) score the positions (N, ...); labels of another shape with as many
    # entries belong to other positions, and a silent reshape pairs them with the wrong scores
    # (keras.losses.SparseCategoricalCrossentropy rejects all three with a ValueError)
    with pytest.raises(ValueError, match=r"y must have shape") as error:
        layers.softmax_cross_entropy(np.zeros(logits_shape), np.zeros(y_shape, dtype=int))
    assert str(logits_shape[:-1]) in str(error.value) and str(y_shape) in str(error.value)


def test_softmax_cross_entropy_on_sequences_names_the_given_shapes():
    # (2, 6) positions and (2, 5) labels: the message names those, not the flattened (12,) and (10,)
    with pytest.raises(ValueError, match=r"y must have shape \(2, 6\).*got shape \(2, 5\)"):
        layers.softmax_cross_entropy(np.zeros((2, 6, 4)), np.zeros((2, 5), dtype=int))


# --- sigmoid cross-entropy -------------------------------------------------------------------------

def test_sigmoid_cross_entropy_by_hand():
    # z = (0, ln 3): s = sigmoid(z) = (1/2, 3/4). Targets y = (1, 0):
    #   losses -ln(1/2) = ln 2 and -ln(1 - 3/4) = ln 4, mean (ln 2 + 2 ln 2) / 2 = 3/2 ln 2
    #   dloss/dz = (s - y) / n = (-1/2, 3/4) / 2 = (-1/4, 3/8)
    loss, dz = layers.sigmoid_cross_entropy(np.array([0.0, math.log(3)]), np.array([1.0, 0.0]))
    assert loss == pytest.approx(1.5 * math.log(2), rel=1e-15)
    np.testing.assert_allclose(dz, [-0.25, 0.375], rtol=1e-15)


@pytest.mark.parametrize("logits_shape, y_shape", [((8,), (8,)), ((8, 1), (8, 1)), ((8, 1), (8,)), ((8, 3), (8, 3))],
                         ids=["N", "N,1", "N,1 with y N", "N,K"])
def test_sigmoid_cross_entropy_matches_keras(keras, rng, logits_shape, y_shape):
    logits = rng.normal(scale=3.0, size=logits_shape)
    y = rng.integers(0, 2, size=y_shape).astype(np.float64)
    y.flat[0] = 0.3  # a soft target too
    bce = binary_ce(keras)
    out, (dlogits,) = check_loss(layers.sigmoid_cross_entropy, logits, y,
                                 tf_loss=lambda y, p: bce(y.reshape(logits_shape), p))
    assert dlogits.shape == logits_shape
    # softplus(z) - y z, the mean over every entry, written out here
    expected = np.mean(np.logaddexp(0.0, logits) - y.reshape(logits_shape) * logits)
    assert float(out) == pytest.approx(expected, rel=1e-12)


def test_sigmoid_cross_entropy_of_extreme_logits_is_exact():
    # z = 1000 with y = 0 costs softplus(1000) = 1000, z = -1000 with y = 1 costs
    # softplus(-1000) + 1000 = 1000: mean 1000, gradient (sigmoid(z) - y) / 2 = (1/2, -1/2)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        loss, dz = layers.sigmoid_cross_entropy(np.array([[1000.0], [-1000.0]]), np.array([0.0, 1.0]))
        assert loss == 1000.0
        np.testing.assert_array_equal(dz, [[0.5], [-0.5]])
        # and right answers cost nothing
        loss, dz = layers.sigmoid_cross_entropy(np.array([[1000.0], [-1000.0]]), np.array([1.0, 0.0]))
    assert loss == 0.0
    np.testing.assert_array_equal(dz, [[0.0], [0.0]])


def test_sigmoid_cross_entropy_rejects_bad_targets():
    with pytest.raises(ValueError, match=r"targets in \[0, 1\].*-1.*2"):
        layers.sigmoid_cross_entropy(np.zeros(3), np.array([-1.0, 0.0, 2.0]))
    with pytest.raises(ValueError, match=r"y must have the shape of logits, \(4, 2\), got \(4,\)"):
        layers.sigmoid_cross_entropy(np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"\(4, 1\), got \(3,\)"):
        layers.sigmoid_cross_entropy(np.zeros((4, 1)), np.zeros(3))


# --- mean squared error ---------------------------------------------------------------------------

def test_mean_squared_error_by_hand():
    # errors pred - y = [[0, 2], [3, 0]]: mean of squares (0 + 4 + 9 + 0) / 4 = 3.25,
    # gradient 2 (pred - y) / 4 = [[0, 1], [1.5, 0]]
    loss, dpred = layers.mean_squared_error(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [0.0, 4.0]]))
    assert loss == 3.25
    np.testing.assert_array_equal(dpred, [[0.0, 1.0], [1.5, 0.0]])


@pytest.mark.parametrize("pred_shape, y_shape", [((8,), (8,)), ((8, 1), (8, 1)), ((8, 1), (8,)), ((8, 3), (8, 3)),
                                                 ((4, 5, 2), (4, 5, 2))],
                         ids=["N", "N,1", "N,1 with y N", "N,K", "N,T,K"])
def test_mean_squared_error_matches_keras(keras, rng, pred_shape, y_shape):
    pred, y = rng.normal(size=pred_shape), rng.normal(size=y_shape)
    mse = keras_mse(keras)
    out, (dpred,) = check_loss(layers.mean_squared_error, pred, y, tf_loss=lambda y, p: mse(y.reshape(pred_shape), p))
    assert dpred.shape == pred_shape
    assert float(out) == pytest.approx(np.mean((pred - y.reshape(pred_shape)) ** 2), rel=1e-14)


def test_mean_squared_error_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"y must have the shape of pred, \(4, 2\), got \(2, 4\)"):
        layers.mean_squared_error(np.zeros((4, 2)), np.zeros((2, 4)))


# --- the loss classes and LOSSES -------------------------------------------------------------------

def test_sigmoid_and_mse_classes_match_keras(tf, keras, rng):
    logits, y = rng.normal(size=(6, 2)), rng.integers(0, 2, size=(6, 2)).astype(np.float64)
    for head, loss in ((layers.SigmoidCrossEntropy(), binary_ce(keras)), (layers.MeanSquaredError(), keras_mse(keras))):
        lv = tf.Variable(logits)
        with tf.GradientTape() as tape:
            expected = loss(y, lv)
        value = head.forward(logits, y)
        assert isinstance(value, float) and value == pytest.approx(float(expected), rel=1e-12)
        np.testing.assert_allclose(head.backward(), tape.gradient(expected, lv).numpy(), **TF_TIGHT)


def test_predictions_of_the_classes():
    out = np.array([[-0.5, 0.0, 2.0], [3.0, -1.0, 0.1]])
    np.testing.assert_array_equal(layers.SoftmaxCrossEntropy.predict(out), [2, 0])
    np.testing.assert_array_equal(layers.SigmoidCrossEntropy.predict(out), [[0, 0, 1], [1, 0, 1]])  # p > 1/2
    np.testing.assert_array_equal(layers.MeanSquaredError.predict(out), out)
    assert layers.SigmoidCrossEntropy.classifies and not layers.MeanSquaredError.classifies


@pytest.mark.parametrize("cls", [layers.SoftmaxCrossEntropy, layers.SigmoidCrossEntropy, layers.MeanSquaredError])
def test_loss_backward_before_forward_raises(cls):
    with pytest.raises(RuntimeError, match="forward before backward"):
        cls().backward()


def test_losses_registry_names_and_aliases():
    assert set(layers.LOSSES) == {"softmax_cross_entropy", "sigmoid_cross_entropy", "mean_squared_error"}
    assert layers.LOSSES["softmax_cross_entropy"] is layers.SoftmaxCrossEntropy
    assert layers.LOSSES["sigmoid_cross_entropy"] is layers.SigmoidCrossEntropy
    assert layers.LOSSES["binary_cross_entropy"] is layers.SigmoidCrossEntropy
    assert layers.LOSSES["mean_squared_error"] is layers.MeanSquaredError
    assert layers.LOSSES["mse"] is layers.MeanSquaredError
    with pytest.raises(ValueError, match=r"unknown loss 'mse2'.*'mse'"):
        layers.LOSSES["mse2"]
