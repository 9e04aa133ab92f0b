"""nblib.mlp: the forward pass against scikit-learn's MLPClassifier and a Keras model with
the same weights, a hand-set XOR network, the cache, and bad input; the backward pass
against tf.GradientTape on the same float64 weights (to ~1e-10) and centred differences."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from nblib import activations, data, losses, mlp
from nblib._reference import ReferenceDisabled, disabled
from tests.nblib.layers.gradients import TF_TIGHT, assert_gradient_checks, mean_cross_entropy, tf_mlp_gradients


def fitted(split, *, hidden, activation, max_iter=60, seed=0):
    model = MLPClassifier(hidden_layer_sizes=hidden, activation=activation, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few epochs are enough to compare
        return model.fit(split.X_train, split.y_train)


@pytest.fixture(scope="module")
def digits():
    return data.digits()


@pytest.fixture(scope="module")
def digits_relu(digits):
    return fitted(digits, hidden=(100, 50), activation="relu")


def test_reproduces_mlpclassifier_predict_proba_on_the_digits(digits, digits_relu):
    ours = mlp.predict_proba(digits.X_test, **mlp.from_sklearn(digits_relu))
    np.testing.assert_allclose(ours, digits_relu.predict_proba(digits.X_test), rtol=0, atol=1e-8)
    assert ours.shape == (len(digits.X_test), 10)


@pytest.mark.parametrize("activation, hidden", [("tanh", (32,)), ("logistic", (20, 10, 5)), ("identity", (16,))])
def test_reproduces_other_sizes_and_activations(digits, activation, hidden):
    model = fitted(digits, hidden=hidden, activation=activation, max_iter=20, seed=3)
    ours = mlp.predict_proba(digits.X_test, **mlp.from_sklearn(model))
    np.testing.assert_allclose(ours, model.predict_proba(digits.X_test), rtol=0, atol=1e-8)


def test_binary_classifier_has_one_sigmoid_unit_and_two_probability_columns():
    split = data.breast_cancer()
    model = fitted(split, hidden=(8,), activation="relu", max_iter=30)
    assert model.out_activation_ == "logistic" and model.coefs_[-1].shape == (8, 1)
    ours = mlp.predict_proba(split.X_test, **mlp.from_sklearn(model))
    np.testing.assert_allclose(ours, model.predict_proba(split.X_test), rtol=0, atol=1e-8)


def test_matches_a_keras_model_with_the_same_weights(keras, digits, digits_relu):
    params = mlp.from_sklearn(digits_relu)
    layers = [keras.Input(shape=(64,), dtype="float64")]
    for i, W in enumerate(params["weights"]):
        last = i == len(params["weights"]) - 1
        layers.append(keras.layers.Dense(W.shape[1], activation="softmax" if last else "relu", dtype="float64"))
    model = keras.Sequential(layers)
    model.set_weights([p for pair in zip(params["weights"], params["biases"]) for p in pair])
    theirs = np.asarray(model(digits.X_test[:50]))
    out, _ = mlp.forward(digits.X_test[:50], **params)
    np.testing.assert_allclose(out, theirs, rtol=0, atol=1e-10)


def test_cache_holds_each_layers_input_preactivation_and_output(digits, digits_relu):
    X = digits.X_test[:7]
    out, cache = mlp.forward(X, **mlp.from_sklearn(digits_relu))
    assert [z.shape for z in cache.z] == [(7, 100), (7, 50), (7, 10)]
    assert cache.inputs[0] is not None and np.array_equal(cache.inputs[0], X)
    for layer in range(3):
        W, b = digits_relu.coefs_[layer], digits_relu.intercepts_[layer]
        np.testing.assert_allclose(cache.z[layer], cache.inputs[layer] @ W + b, rtol=0, atol=1e-12)
        g = losses.softmax if layer == 2 else activations.relu
        np.testing.assert_array_equal(cache.a[layer], g(cache.z[layer]))
        if layer < 2:
            assert cache.inputs[layer + 1] is cache.a[layer]
    assert out is cache.a[-1] and (cache.activation, cache.output) == ("relu", "softmax")


def test_xor_with_hand_set_weights():
    # Hidden units: h1 = relu(x1 + x2), h2 = relu(x1 + x2 - 1); output y = h1 - 2 h2.
    # (0,0): h = (0, 0), y = 0.  (0,1) and (1,0): h = (1, 0), y = 1.  (1,1): h = (2, 1), y = 2 - 2 = 0.
    W1, b1 = np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([0.0, -1.0])
    W2, b2 = np.array([[1.0], [-2.0]]), np.array([0.0])
    X, y = data.logic_gate("xor")
    out, cache = mlp.forward(X, [W1, W2], [b1, b2], activation="relu", output="identity")
    np.testing.assert_array_equal(out.ravel(), y)
    np.testing.assert_array_equal(cache.a[0], [[0, 0], [1, 0], [1, 0], [2, 1]])


def test_inputs_are_not_modified(digits_relu, digits):
    X = digits.X_test[:5].copy()
    weights = [W.copy() for W in digits_relu.coefs_]
    mlp.forward(X, weights, digits_relu.intercepts_)
    np.testing.assert_array_equal(X, digits.X_test[:5])
    for W, original in zip(weights, digits_relu.coefs_):
        np.testing.assert_array_equal(W, original)


def test_bad_input_is_named():
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"layer 1: W must have shape \(D, M\) = \(3, M\).*\(transposed\?\)"):
        mlp.forward(X, [np.ones((5, 3))], [np.ones(5)])
    with pytest.raises(ValueError, match="one bias vector per weight matrix"):
        mlp.forward(X, [np.ones((3, 2))], [])
    with pytest.raises(ValueError,
                       match=r"unknown output 'softplus'; expected one of \['linear', 'sigmoid', 'softmax'\]"):
        mlp.forward(X, [np.ones((3, 2))], [np.ones(2)], output="softplus")
    with pytest.raises(ValueError, match="unknown activation 'rleu'.*'relu'"):
        mlp.forward(X, [np.ones((3, 2))], [np.ones(2)], activation="rleu")
    with pytest.raises(TypeError, match="fitted sklearn MLPClassifier"):
        mlp.from_sklearn(MLPClassifier())


def test_the_reference_can_be_switched_off_for_an_exercise():
    with disabled(mlp.forward, exercise="Exercise 4 (mlp_forward)"):
        with pytest.raises(ReferenceDisabled, match="Exercise 4"):
            mlp.forward(np.ones((1, 1)), [np.ones((1, 1))], [np.ones(1)])


# --- backward --------------------------------------------------------------------------------------

@pytest.fixture
def classification(rng):
    X = rng.normal(size=(8, 5))
    y = rng.integers(0, 3, size=8)
    y[:3] = [0, 1, 2]  # every class present
    return X, y


def random_mlp(rng, sizes):
    weights = [rng.normal(scale=1 / np.sqrt(m), size=(m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(scale=0.1, size=n) for n in sizes[1:]]
    return weights, biases


def mlp_backward(X, y, weights, biases, activation):
    out, cache = mlp.forward(X, weights, biases, activation=activation, output="softmax")
    dZ_out = (out - np.eye(out.shape[1])[y]) / len(y)  # softmax + mean CE: (P - Y) / N
    return mlp.backward(dZ_out, cache, weights)


@pytest.mark.parametrize("activation", ["tanh", "relu", "logistic"])
@pytest.mark.parametrize("sizes", [[5, 4, 3], [5, 6, 4, 3]])
def test_mlp_backward_matches_tensorflow(tf, keras, rng, classification, activation, sizes):
    X, y = classification
    weights, biases = random_mlp(rng, sizes)
    _, dW_tf, db_tf, _ = tf_mlp_gradients(tf, keras, X, y, weights, biases, activation)
    dweights, dbiases = mlp_backward(X, y, weights, biases, activation)
    assert len(dweights) == len(dbiases) == len(weights)
    for ours, theirs, W in zip(dweights, dW_tf, weights):
        assert ours.shape == W.shape
        np.testing.assert_allclose(ours, theirs, **TF_TIGHT)
    for ours, theirs, b in zip(dbiases, db_tf, biases):
        assert ours.shape == b.shape
        np.testing.assert_allclose(ours, theirs, **TF_TIGHT)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_mlp_backward_passes_a_gradient_check(rng, classification, activation):
    X, y = classification
    weights, biases = random_mlp(rng, [5, 6, 4, 3])
    dweights, dbiases = mlp_backward(X, y, weights, biases, activation)

    def loss(Ws, bs):
        logits, _ = mlp.forward(X, Ws, bs, activation=activation, output="identity")
        return mean_cross_entropy(logits, y)

    for layer in range(3):
        def with_W(w, layer=layer):
            return loss(weights[:layer] + [w] + weights[layer + 1:], biases)

        def with_b(c, layer=layer):
            return loss(weights, biases[:layer] + [c] + biases[layer + 1:])

        assert_gradient_checks(with_W, weights[layer], dweights[layer])
        assert_gradient_checks(with_b, biases[layer], dbiases[layer])


def test_mlp_backward_takes_any_output_gradient(tf, rng):
    # Regression: identity output, loss = sum((out - T)^2) / (2N); dZ_out = (out - T) / N.
    X, T = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    weights, biases = random_mlp(rng, [3, 4, 2])
    out, cache = mlp.forward(X, weights, biases, activation="tanh", output="identity")
    dweights, dbiases = mlp.backward((out - T) / len(X), cache, weights)
    Ws, bs = [tf.Variable(W) for W in weights], [tf.Variable(b) for b in biases]
    with tf.GradientTape() as tape:
        pred = tf.matmul(tf.math.tanh(tf.matmul(X, Ws[0]) + bs[0]), Ws[1]) + bs[1]
        loss = tf.reduce_sum((pred - T) ** 2) / (2 * len(X))
    dW_tf, db_tf = tape.gradient(loss, [Ws, bs])
    for ours, theirs in zip(dweights + dbiases, dW_tf + db_tf):
        np.testing.assert_allclose(ours, theirs.numpy(), **TF_TIGHT)


def test_mlp_backward_does_not_modify_the_cache_or_weights(rng, classification):
    X, y = classification
    weights, biases = random_mlp(rng, [5, 6, 3])
    out, cache = mlp.forward(X, weights, biases, activation="relu")
    dZ_out = (out - np.eye(3)[y]) / len(y)
    snapshot = [a.copy() for a in (*cache.inputs, *cache.z, *cache.a, *weights, dZ_out)]
    mlp.backward(dZ_out, cache, weights)
    for a, original in zip((*cache.inputs, *cache.z, *cache.a, *weights, dZ_out), snapshot):
        np.testing.assert_array_equal(a, original)


def test_mlp_backward_bad_input_is_named(rng, classification):
    X, _ = classification
    weights, biases = random_mlp(rng, [5, 6, 3])
    out, cache = mlp.forward(X, weights, biases)
    with pytest.raises(ValueError, match=r"dZ_out must have the shape of the output, \(8, 3\), got \(8, 2\)"):
        mlp.backward(np.ones((8, 2)), cache, weights)
    with pytest.raises(ValueError, match="the cache has 2 layers but 1 weight matrices"):
        mlp.backward(out, cache, weights[:1])
