"""nblib.losses against hand-worked values, keras.losses, sklearn.metrics.log_loss and
numerical gradients; plus extreme logits and bad input."""

import math

import numpy as np
import pytest
from sklearn.metrics import log_loss

from nblib import losses as L
from nblib.gradcheck import numerical_gradient


def random_problem(rng, n=16, c=5):
    logits = rng.normal(scale=3.0, size=(n, c))
    labels = rng.integers(0, c, size=n)
    one_hot = np.eye(c)[labels]
    return logits, labels, one_hot


# --- softmax -------------------------------------------------------------------------------

def test_softmax_hand_worked():
    # exp(0) = 1 and exp(ln 3) = 3, so the probabilities are 1/4 and 3/4.
    np.testing.assert_allclose(L.softmax(np.array([0.0, math.log(3)])), [0.25, 0.75], rtol=1e-15)


def test_softmax_and_log_softmax_match_keras(rng, keras):
    z = rng.normal(scale=5.0, size=(20, 7))
    np.testing.assert_allclose(L.softmax(z), keras.activations.softmax(z), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(L.log_softmax(z), keras.activations.log_softmax(z), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(L.softmax(z, axis=0), keras.activations.softmax(z, axis=0), rtol=1e-12, atol=1e-15)


def test_softmax_of_extreme_logits_is_finite_and_exact():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = L.softmax(np.array([[1000.0, -1000.0, 0.0], [1000.0, 1000.0, -1000.0]]))
        log_p = L.log_softmax(np.array([1000.0, -1000.0]))
    np.testing.assert_allclose(p, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], atol=1e-300)
    # log softmax = z - logsumexp(z) = z - 1000 - log(1 + e^-2000) = [0, -2000] exactly
    np.testing.assert_array_equal(log_p, [0.0, -2000.0])


def test_softmax_of_two_classes_is_the_sigmoid(rng):
    from nblib.activations import sigmoid

    z = rng.normal(scale=4.0, size=50)
    two = np.column_stack([np.zeros_like(z), z])  # logits (0, z): p_1 = e^z / (1 + e^z)
    np.testing.assert_allclose(L.softmax(two)[:, 1], sigmoid(z), rtol=1e-14)


# --- cross-entropies against Keras ----------------------------------------------------------

@pytest.mark.parametrize("reduction, keras_reduction", [("mean", "sum_over_batch_size"), ("sum", "sum"), ("none", None)])
def test_categorical_cross_entropy_matches_keras(rng, keras, reduction, keras_reduction):
    logits, _, one_hot = random_problem(rng)
    for from_logits, y_pred in ((True, logits), (False, L.softmax(logits))):
        loss = keras.losses.CategoricalCrossentropy(from_logits=from_logits, reduction=keras_reduction, dtype="float64")
        expected = np.asarray(loss(one_hot, y_pred))
        got = L.categorical_cross_entropy(one_hot, y_pred, from_logits=from_logits, reduction=reduction)
        np.testing.assert_allclose(got, expected, rtol=1e-7)


def test_sparse_categorical_cross_entropy_matches_keras_and_sklearn(rng, keras):
    logits, labels, _ = random_problem(rng, n=30, c=4)
    probs = L.softmax(logits)
    for from_logits, y_pred in ((True, logits), (False, probs)):
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, dtype="float64")
        got = L.sparse_categorical_cross_entropy(labels, y_pred, from_logits=from_logits)
        np.testing.assert_allclose(got, float(loss(labels, y_pred)), rtol=1e-7)
    np.testing.assert_allclose(
        L.sparse_categorical_cross_entropy(labels, probs), log_loss(labels, probs, labels=range(4)), rtol=1e-10
    )


def test_binary_cross_entropy_matches_keras(rng, keras):
    for shape in [(25,), (25, 3)]:
        z = rng.normal(scale=3.0, size=shape)
        y = rng.integers(0, 2, size=shape).astype(float)
        for from_logits, y_pred in ((True, z), (False, 1 / (1 + np.exp(-z)))):
            loss = keras.losses.BinaryCrossentropy(from_logits=from_logits, dtype="float64")
            expected = float(loss(y if len(shape) > 1 else y[:, None], y_pred if len(shape) > 1 else y_pred[:, None]))
            got = L.binary_cross_entropy(y, y_pred, from_logits=from_logits)
            np.testing.assert_allclose(got, expected, rtol=1e-7)


def test_mean_squared_error_matches_keras(rng, keras):
    y, y_hat = rng.normal(size=(10, 3)), rng.normal(size=(10, 3))
    np.testing.assert_allclose(
        L.mean_squared_error(y, y_hat), float(keras.losses.MeanSquaredError(dtype="float64")(y, y_hat)), rtol=1e-12
    )
    # hand-worked: errors 1 and 3 -> (1 + 9) / 2 = 5
    assert L.mean_squared_error([0.0, 0.0], [1.0, -3.0]) == 5.0


def test_one_hot_and_sparse_forms_agree(rng):
    logits, labels, one_hot = random_problem(rng)
    np.testing.assert_allclose(
        L.categorical_cross_entropy(one_hot, logits, from_logits=True, reduction="none"),
        L.sparse_categorical_cross_entropy(labels, logits, from_logits=True, reduction="none"),
        rtol=1e-14,
    )


# --- extremes -------------------------------------------------------------------------------

def test_cross_entropy_from_extreme_logits_is_exact():
    z = np.array([[1000.0, -1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        # wrong by 2000 in logit space: -log softmax(z)_1 = -(-1000 - 1000) = 2000
        assert L.sparse_categorical_cross_entropy(np.array([1]), z, from_logits=True) == 2000.0
        assert L.sparse_categorical_cross_entropy(np.array([0]), z, from_logits=True) == 0.0
        # BCE from logit 1000 with target 0: max(z, 0) - 0 + log(1 + e^-1000) = 1000
        assert L.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1000.0, -1000.0]), from_logits=True) == 1000.0


def test_probabilities_are_clipped_like_keras():
    # p = 0 for the true class would be -log 0 = inf; clipping to eps = 1e-7 gives 16.118
    loss = L.sparse_categorical_cross_entropy(np.array([1]), np.array([[1.0, 0.0]]))
    assert loss == pytest.approx(-math.log(1e-7))


# --- gradient: d(mean CE)/dz = (softmax(z) - Y) / N ------------------------------------------

def test_cross_entropy_gradient_is_p_minus_y_over_n(rng):
    logits, labels, one_hot = random_problem(rng, n=6, c=4)
    numeric = numerical_gradient(lambda z: L.categorical_cross_entropy(one_hot, z, from_logits=True), logits)
    np.testing.assert_allclose(numeric, (L.softmax(logits) - one_hot) / len(labels), rtol=1e-6, atol=1e-9)


# --- bad input -------------------------------------------------------------------------------

def test_mismatched_shapes_name_both():
    with pytest.raises(ValueError, match=r"y_true and y_pred must have the same shape, got \(3, 2\) and \(3, 3\)"):
        L.categorical_cross_entropy(np.zeros((3, 2)), np.full((3, 3), 1 / 3))


def test_float_labels_are_a_type_error():
    with pytest.raises(TypeError, match=r"y_true must hold integer class labels, got dtype float64; convert"):
        L.sparse_categorical_cross_entropy(np.array([0.0, 1.0]), np.zeros((2, 2)), from_logits=True)


def test_labels_out_of_range_name_the_range():
    with pytest.raises(ValueError, match=r"labels in \[0, 2\], got values from 0 to 5"):
        L.sparse_categorical_cross_entropy(np.array([0, 5]), np.zeros((2, 3)), from_logits=True)
    with pytest.raises(ValueError, match=r"y_true must have shape \(3,\) to match the inputs, got shape \(2,\)"):
        L.sparse_categorical_cross_entropy(np.array([0, 1]), np.zeros((3, 3)), from_logits=True)


def test_logits_passed_as_probabilities_are_caught():
    with pytest.raises(ValueError, match="from_logits=True"):
        L.categorical_cross_entropy(np.eye(2), np.array([[2.0, -1.0], [0.5, 0.1]]))
    with pytest.raises(ValueError, match="sum to 1"):
        L.sparse_categorical_cross_entropy(np.array([0, 1]), np.array([[0.2, 0.2], [0.5, 0.1]]))
    with pytest.raises(ValueError, match="from_logits=True"):
        L.binary_cross_entropy(np.array([0.0, 1.0]), np.array([-3.0, 4.0]))


def test_targets_outside_zero_one_and_unknown_reduction():
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]"):
        L.binary_cross_entropy(np.array([0.0, 2.0]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"reduction must be one of \['mean', 'none', 'sum'\], got 'avg'"):
        L.mean_squared_error(np.zeros(2), np.zeros(2), reduction="avg")


def test_inputs_are_not_modified(rng):
    logits, labels, one_hot = random_problem(rng)
    before = logits.copy()
    L.softmax(logits)
    L.categorical_cross_entropy(one_hot, logits, from_logits=True)
    np.testing.assert_array_equal(logits, before)
