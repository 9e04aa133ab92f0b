"""nblib.layers.sequential: a Sequential of Dense, Activation and Flatten layers against the
same network in TensorFlow and Keras (float64, same weights), against centred differences,
its parameter and gradient dicts, train()/eval(), state(), predictions and bad input."""

import numpy as np
import pytest

from nblib import layers
from tests.nblib.layers.gradients import TF_TIGHT, assert_gradient_checks, mean_cross_entropy, tf_mlp_gradients


def two_layer_model(rng, activation="relu"):
    first, second = layers.Dense(5, 4, rng=rng), layers.Dense(4, 3, rng=rng)
    for layer in (first, second):
        layer.params["b"][...] = rng.normal(scale=0.1, size=layer.params["b"].shape)
    return layers.Sequential([first, layers.Activation(activation), second]), first, second


def sequential_gradients(model, X, y):
    head = layers.SoftmaxCrossEntropy()
    logits = model.forward(X)
    loss = head.forward(logits, y)
    dX = model.backward(head.backward())
    return logits, loss, dX, model.gradients()


def assert_sequential_matches_tensorflow(tf, keras, model, X, y, activation):
    params = {k: v.copy() for k, v in model.parameters().items()}
    keys = sorted({k.split(".")[0] for k in params}, key=int)
    weights, biases = [params[f"{k}.W"] for k in keys], [params[f"{k}.b"] for k in keys]
    dX_tf, dW_tf, db_tf, logits_tf = tf_mlp_gradients(tf, keras, X, y, weights, biases, activation)
    logits, loss, dX, grads = sequential_gradients(model, X, y)
    np.testing.assert_allclose(logits, logits_tf, rtol=1e-12, atol=1e-14)
    assert loss == pytest.approx(mean_cross_entropy(logits_tf, y), rel=1e-12)
    assert set(grads) == set(params)
    np.testing.assert_allclose(dX, dX_tf, **TF_TIGHT)
    assert dX.shape == X.shape
    for k, dW, db in zip(keys, dW_tf, db_tf):
        assert grads[f"{k}.W"].shape == params[f"{k}.W"].shape and grads[f"{k}.b"].shape == params[f"{k}.b"].shape
        np.testing.assert_allclose(grads[f"{k}.W"], dW, **TF_TIGHT)
        np.testing.assert_allclose(grads[f"{k}.b"], db, **TF_TIGHT)


# --- against TensorFlow, Keras and centred differences ----------------------------------------------

@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_two_layer_sequential_matches_tensorflow(tf, keras, rng, classification, activation):
    X, y = classification
    model, _, _ = two_layer_model(rng, activation)
    assert set(model.parameters()) == {"0.W", "0.b", "2.W", "2.b"}
    assert_sequential_matches_tensorflow(tf, keras, model, X, y, activation)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_three_layer_mlp_matches_tensorflow(tf, keras, classification, activation):
    X, y = classification
    model = layers.Sequential.mlp([5, 6, 4, 3], activation=activation, rng=np.random.default_rng(3))
    assert set(model.parameters()) == {"0.W", "0.b", "2.W", "2.b", "4.W", "4.b"}
    shapes = {k: v.shape for k, v in model.parameters().items()}
    assert shapes == {"0.W": (5, 6), "0.b": (6,), "2.W": (6, 4), "2.b": (4,), "4.W": (4, 3), "4.b": (3,)}
    for key in ("0.b", "2.b", "4.b"):  # non-zero biases, so their gradients' use is tested
        model.parameters()[key][...] = np.random.default_rng(4).normal(scale=0.1, size=shapes[key])
    assert_sequential_matches_tensorflow(tf, keras, model, X, y, activation)


def test_mlp_constructor_uses_relu_by_default(tf, keras, classification):
    X, y = classification
    model = layers.Sequential.mlp([5, 6, 3], rng=np.random.default_rng(5))
    assert [type(layer) for layer in model.layers] == [layers.Dense, layers.Activation, layers.Dense]
    model.parameters()["0.b"][...] = np.linspace(-0.5, 0.5, 6)  # some units off for some rows
    assert_sequential_matches_tensorflow(tf, keras, model, X, y, "relu")


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_sequential_backward_passes_a_gradient_check(classification, activation):
    X, y = classification
    model = layers.Sequential.mlp([5, 6, 4, 3], activation=activation, rng=np.random.default_rng(6))
    params = model.parameters()
    for key in ("0.b", "2.b", "4.b"):
        params[key][...] = np.random.default_rng(7).normal(scale=0.1, size=params[key].shape)
    _, _, dX, grads = sequential_gradients(model, X, y)
    grads = {k: g.copy() for k, g in grads.items()}

    def loss_with(key):
        def f(value):
            saved = params[key].copy()
            params[key][...] = value  # the live array: the model sees the probe
            try:
                return mean_cross_entropy(model.forward(X), y)
            finally:
                params[key][...] = saved
        return f

    for key in params:
        assert_gradient_checks(loss_with(key), params[key], grads[key])
    assert_gradient_checks(lambda x: mean_cross_entropy(model.forward(x), y), X, dX)


def test_an_image_classifier_matches_keras(tf, keras, rng):
    # Flatten -> Dense -> relu -> Dense on (N, H, W, C) images, the same float64 weights in Keras
    X, y = rng.normal(size=(4, 3, 2, 2)), np.array([0, 2, 1, 2])
    model = layers.Sequential([layers.Flatten(), layers.Dense(12, 5, rng=rng), layers.Activation("relu"),
                               layers.Dense(5, 3, rng=rng)])
    params = model.parameters()
    assert list(params) == ["1.W", "1.b", "3.W", "3.b"]
    for key in ("1.b", "3.b"):
        params[key][...] = rng.normal(scale=0.1, size=params[key].shape)
    net = keras.Sequential([keras.Input(shape=(3, 2, 2), dtype="float64"), keras.layers.Flatten(dtype="float64"),
                            keras.layers.Dense(5, activation="relu", dtype="float64"),
                            keras.layers.Dense(3, dtype="float64")])
    net.set_weights([params[k] for k in ("1.W", "1.b", "3.W", "3.b")])
    Xv = tf.Variable(X)
    with tf.GradientTape() as tape:
        logits_k = net(Xv)
        loss_k = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")(y, logits_k)
    dX_k, *dparams_k = tape.gradient(loss_k, [Xv, *net.trainable_weights])

    logits, loss, dX, grads = sequential_gradients(model, X, y)
    np.testing.assert_allclose(logits, logits_k.numpy(), rtol=1e-12, atol=1e-14)
    assert loss == pytest.approx(float(loss_k), rel=1e-12)
    assert dX.shape == X.shape
    np.testing.assert_allclose(dX, dX_k.numpy(), **TF_TIGHT)
    for key, expected in zip(("1.W", "1.b", "3.W", "3.b"), dparams_k):
        np.testing.assert_allclose(grads[key], np.asarray(expected), **TF_TIGHT, err_msg=key)


# --- parameters, gradients, state and mode ------------------------------------------------------------

def test_parameters_are_live_references(rng, classification):
    X, _ = classification
    model, first, second = two_layer_model(rng)
    params = model.parameters()
    assert params["0.W"] is first.params["W"] and params["2.b"] is second.params["b"]
    before = model.forward(X)
    params["2.b"][...] += 1.0  # adding 1 to every logit
    np.testing.assert_allclose(model.forward(X), before + 1.0, rtol=1e-14)


def test_gradients_are_the_layers_grads(rng, classification):
    X, y = classification
    model, first, second = two_layer_model(rng)
    _, _, _, grads = sequential_gradients(model, X, y)
    assert set(grads) == {"0.W", "0.b", "2.W", "2.b"}
    np.testing.assert_array_equal(grads["0.W"], first.grads["W"])
    np.testing.assert_array_equal(grads["2.b"], second.grads["b"])


def test_parameter_and_gradient_keys_are_index_dot_name(rng):
    model = layers.Sequential.mlp([4, 8, 6, 3], rng=rng)
    keys = ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert list(model.parameters()) == keys
    assert list(model.gradients()) == keys  # zeros before the first backward pass, the same keys
    for key, g in model.gradients().items():
        assert g.shape == model.parameters()[key].shape
        np.testing.assert_array_equal(g, 0.0)


def test_state_is_empty_for_dense_activation_and_flatten(rng):
    model = layers.Sequential([layers.Flatten(), layers.Dense(6, 2, rng=rng), layers.Activation("tanh")])
    assert model.state() == {}
    model.forward(np.ones((3, 2, 3)))
    model.backward(np.ones((3, 2)))
    assert model.state() == {}


def test_train_and_eval_set_every_layers_flag(rng):
    model = layers.Sequential([layers.Flatten(), *layers.Sequential.mlp([6, 4, 2], rng=rng).layers])
    assert model.training and all(layer.training for layer in model.layers)  # layers start in training mode
    assert model.eval() is model
    assert not model.training
    assert [layer.training for layer in model.layers] == [False] * 4
    assert model.train() is model
    assert model.training and [layer.training for layer in model.layers] == [True] * 4
    model.train(False)
    assert [layer.training for layer in model.layers] == [False] * 4
    model.layers[2].training = True  # one layer in training mode is not the whole model
    assert not model.training


def test_eval_mode_does_not_change_these_layers_outputs(rng, classification):
    X, _ = classification
    model, _, _ = two_layer_model(rng)
    train_out = model.forward(X)
    np.testing.assert_array_equal(model.eval().forward(X), train_out)


# --- predictions ----------------------------------------------------------------------------------

def test_predictions_match_keras_softmax(keras, rng, classification):
    X, y = classification
    model, _, _ = two_layer_model(rng)
    logits = model.forward(X)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba, np.asarray(keras.activations.softmax(logits)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(model.predict(X), np.argmax(logits, axis=1))
    assert model.accuracy(X, y) == pytest.approx(np.mean(np.argmax(logits, axis=1) == y))


def test_accuracy_by_hand():
    # one Dense layer with W = identity, b = 0: the prediction is the argmax of x itself
    layer = layers.Dense(2, 2, rng=np.random.default_rng(0))
    layer.params["W"][...] = np.eye(2)
    model = layers.Sequential([layer])
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])
    np.testing.assert_array_equal(model.predict(X), [0, 1, 0, 1])
    assert model.accuracy(X, np.array([0, 1, 1, 1])) == 0.75


def test_the_classes_do_not_modify_their_inputs(rng, classification):
    X, y = classification
    model, _, _ = two_layer_model(rng)
    X0, y0 = X.copy(), y.copy()
    logits = model.forward(X)
    head = layers.SoftmaxCrossEntropy()
    head.forward(logits, y)
    dlogits = head.backward()
    d0, logits0 = dlogits.copy(), logits.copy()
    model.backward(dlogits)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(dlogits, d0)
    np.testing.assert_array_equal(logits, logits0)


def test_repr_lists_the_layers(rng):
    model = layers.Sequential.mlp([4, 8, 3], activation="tanh", rng=rng)
    assert repr(model) == "Sequential([Dense(4, 8), Activation('tanh'), Dense(8, 3)])"


# --- bad input ------------------------------------------------------------------------------------

def test_backward_before_forward_raises(rng):
    model = layers.Sequential.mlp([4, 3], rng=rng)
    with pytest.raises(RuntimeError, match="forward before backward"):
        model.backward(np.ones((2, 3)))


def test_bad_construction_is_named(rng):
    with pytest.raises(ValueError, match="at least one layer"):
        layers.Sequential([])
    with pytest.raises(ValueError, match=r"sizes must list the input size and at least one layer, got \[4\]"):
        layers.Sequential.mlp([4], rng=rng)
    with pytest.raises(ValueError, match="unknown activation 'rleu'"):
        layers.Sequential.mlp([4, 3, 2], activation="rleu", rng=rng)


def test_input_of_the_wrong_width_names_the_shapes(rng):
    model = layers.Sequential.mlp([5, 4, 3], rng=rng)
    with pytest.raises(ValueError, match=r"x of shape \(2, 6\), got \(5, 4\)"):
        model.forward(np.ones((2, 6)))
    with pytest.raises(ValueError, match=r"X must be batch first.*got shape \(5,\)"):
        model.forward(np.ones(5))


def test_from_weights_is_the_mlp_of_the_functional_api_and_scikit_learn():
    # the same arrays in both layouts: a fitted MLPClassifier's coefs_/intercepts_ as layers
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from nblib import data, mlp

    X_train, X_test, y_train, _ = data.digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(16, 8), activation="tanh", max_iter=5, random_state=0)
        clf.fit(X_train, y_train)
    model = layers.Sequential.from_weights(clf.coefs_, clf.intercepts_, activation="tanh")
    np.testing.assert_allclose(model.predict_proba(X_test), clf.predict_proba(X_test), rtol=1e-10, atol=1e-12)
    params = model.parameters()
    assert sorted(params) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    np.testing.assert_array_equal(params["2.W"], clf.coefs_[1])
    assert params["2.W"] is not clf.coefs_[1]  # copied: training the layers leaves the classifier alone
    logits, _ = mlp.logits(X_test, clf.coefs_, clf.intercepts_, activation="tanh")
    np.testing.assert_allclose(model.forward(X_test), logits, rtol=1e-12)
    with pytest.raises(ValueError, match="one bias vector per weight matrix"):
        layers.Sequential.from_weights(clf.coefs_, clf.intercepts_[:1])
