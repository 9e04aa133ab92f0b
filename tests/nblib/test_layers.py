"""nblib.layers and nblib.mlp.backward: every gradient against tf.GradientTape on the same
float64 weights and data (to ~1e-10) and against centred-difference numerical gradients (to
~1e-6), hand-worked examples, shapes, inputs left alone, the layer classes and bad input.

TensorFlow is the independent source: the forward computation is rebuilt with tf ops
(``tf.matmul``, ``tf.nn.*``, ``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``)
and differentiated automatically; ``output_gradients=dZ`` gives the vector-Jacobian product
that a backward function computes (the gradient of sum(dZ * Z)).
"""

import math

import numpy as np
import pytest

from nblib import activations, layers, mlp
from nblib._reference import ReferenceDisabled, disabled
from nblib.gradcheck import check_gradient

TF_TIGHT = dict(rtol=1e-10, atol=1e-13)
ACTIVATIONS = ["relu", "tanh", "sigmoid", "logistic", "identity", "elu", "leaky_relu", "softplus", "gelu", "swish"]


def tf_activation(tf, name):
    """The same activation written with TensorFlow ops, exact in float64.

    Two TensorFlow float64 traps: ``tf.nn.leaky_relu``'s alpha is a float32 op attribute
    (0.01 becomes 0.0099999998), so leaky ReLU is written with tf.where (with nblib's slope
    0.01, not TF's 0.2); ``tf.nn.gelu`` is off by ~4e-9 in float64, so GELU is written out as
    x Phi(x) with erf.
    """
    return {
        "relu": tf.nn.relu, "tanh": tf.math.tanh, "sigmoid": tf.math.sigmoid, "logistic": tf.math.sigmoid,
        "identity": tf.identity, "elu": tf.nn.elu,
        "leaky_relu": lambda z: tf.where(z > 0, z, np.float64(0.01) * z),
        "softplus": tf.math.softplus, "gelu": lambda z: 0.5 * z * (1.0 + tf.math.erf(z / np.sqrt(2.0))),
        "swish": tf.nn.silu,
    }[name]


def mean_cross_entropy(logits, y):
    """Mean sparse cross-entropy from logits, written out here: mean(logsumexp(z) - z_y)."""
    z = logits - logits.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


def assert_gradient_checks(f, x, analytic):
    """Centred differences agree with the analytic gradient (and it has x's shape)."""
    assert analytic.shape == x.shape
    result = check_gradient(f, x.copy(), analytic, tol=1e-6)
    assert result.ok, str(result)


@pytest.fixture
def dense_problem(rng):
    N, D, M = 6, 5, 4
    return rng.normal(size=(N, M)), rng.normal(size=(N, D)), rng.normal(size=(D, M)), rng.normal(size=M)


@pytest.fixture
def classification(rng):
    X = rng.normal(size=(8, 5))
    y = rng.integers(0, 3, size=8)
    y[:3] = [0, 1, 2]  # every class present
    return X, y


# --- dense_backward ------------------------------------------------------------------------------

def test_dense_backward_by_hand():
    # One input, one output, two examples: Z = X W + b with X = [[2], [3]], W = [[0.5]].
    # With upstream gradient dZ = [[1], [-2]] (dL/dZ, L = sum(dZ * Z)):
    #   dW = sum_n x_n dZ_n = 2 * 1 + 3 * (-2) = -4      (X.T @ dZ)
    #   db = sum_n dZ_n     = 1 - 2 = -1                  (dZ.sum(0))
    #   dX_n = dZ_n * W     = [[0.5], [-1.0]]             (dZ @ W.T)
    dX, dW, db = layers.dense_backward(np.array([[1.0], [-2.0]]), np.array([[2.0], [3.0]]), np.array([[0.5]]))
    np.testing.assert_array_equal(dW, [[-4.0]])
    np.testing.assert_array_equal(db, [-1.0])
    np.testing.assert_array_equal(dX, [[0.5], [-1.0]])


def test_dense_backward_matches_tensorflow(tf, dense_problem):
    dZ, X, W, b = dense_problem
    Xv, Wv, bv = tf.Variable(X), tf.Variable(W), tf.Variable(b)
    with tf.GradientTape() as tape:
        Z = tf.matmul(Xv, Wv) + bv
    expected = tape.gradient(Z, [Xv, Wv, bv], output_gradients=tf.constant(dZ))
    for ours, theirs, wrt in zip(layers.dense_backward(dZ, X, W), expected, (X, W, b)):
        assert ours.shape == wrt.shape
        np.testing.assert_allclose(ours, theirs.numpy(), **TF_TIGHT)


def test_dense_backward_passes_a_gradient_check(dense_problem):
    dZ, X, W, b = dense_problem
    dX, dW, db = layers.dense_backward(dZ, X, W)
    assert_gradient_checks(lambda x: np.sum(dZ * (x @ W + b)), X, dX)
    assert_gradient_checks(lambda w: np.sum(dZ * (X @ w + b)), W, dW)
    assert_gradient_checks(lambda c: np.sum(dZ * (X @ W + c)), b, db)


# --- activation_backward -------------------------------------------------------------------------

def test_relu_backward_by_hand():
    # relu'(z) = 1 for z > 0, else 0: the gradient passes where the unit was on, stops elsewhere
    dZ = layers.activation_backward(np.array([[5.0, 7.0, 3.0]]), np.array([[-1.0, 2.0, -0.5]]), "relu")
    np.testing.assert_array_equal(dZ, [[0.0, 7.0, 0.0]])


def test_sigmoid_and_tanh_backward_by_hand():
    # sigmoid'(0) = 1/4 and tanh'(0) = 1 - tanh(0)^2 = 1
    np.testing.assert_allclose(layers.activation_backward(np.array([[2.0]]), np.array([[0.0]]), "sigmoid"), [[0.5]])
    np.testing.assert_allclose(layers.activation_backward(np.array([[2.0]]), np.array([[0.0]]), "tanh"), [[2.0]])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_matches_tensorflow(tf, rng, name):
    Z, dA = rng.normal(scale=2.0, size=(7, 4)), rng.normal(size=(7, 4))
    Zv = tf.Variable(Z)
    with tf.GradientTape() as tape:
        A = tf_activation(tf, name)(Zv)
    expected = tape.gradient(A, Zv, output_gradients=tf.constant(dA)).numpy()
    ours = layers.activation_backward(dA, Z, name)
    assert ours.shape == Z.shape
    np.testing.assert_allclose(ours, expected, **TF_TIGHT)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_passes_a_gradient_check(rng, name):
    Z, dA = rng.normal(scale=2.0, size=(5, 3)), rng.normal(size=(5, 3))
    forward, _ = activations.get(name)
    assert_gradient_checks(lambda z: np.sum(dA * forward(z)), Z, layers.activation_backward(dA, Z, name))


# --- softmax cross-entropy -----------------------------------------------------------------------

def test_softmax_cross_entropy_by_hand():
    # logits (0, ln 3): p = (1/4, 3/4). True class 1: loss = -ln(3/4) = ln(4/3), and
    # dloss/dlogits = p - onehot = (1/4, 3/4 - 1) = (1/4, -1/4), divided by N = 1.
    logits, y = np.array([[0.0, math.log(3)]]), np.array([1])
    loss, dlogits = layers.softmax_cross_entropy(logits, y)
    assert loss == pytest.approx(math.log(4 / 3), rel=1e-15)
    np.testing.assert_allclose(dlogits, [[0.25, -0.25]], rtol=1e-14)
    np.testing.assert_allclose(layers.softmax_cross_entropy_backward(logits, y), [[0.25, -0.25]], rtol=1e-14)


def tf_mean_cce(tf, keras, logits, y):
    """Keras' mean sparse categorical cross-entropy from logits and its gradient, float64."""
    lv = tf.Variable(logits)
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")(y, lv)
    return float(loss), tape.gradient(loss, lv).numpy()


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
    dlogits = layers.softmax_cross_entropy_backward(logits, y)
    assert_gradient_checks(lambda z: mean_cross_entropy(z, y), logits, dlogits)
    # each row of p - onehot sums to 0: the gradient cannot shift all logits together
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-16)


def test_softmax_cross_entropy_of_extreme_logits_is_exact():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dlogits = layers.softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))
    # -log softmax(z)_1 = 2000; p = (1, 0), so p - onehot = (1, -1)
    assert loss == 2000.0
    np.testing.assert_array_equal(dlogits, [[1.0, -1.0]])


# --- the pure functions leave their inputs alone --------------------------------------------------

def test_pure_functions_do_not_modify_their_inputs(dense_problem, rng):
    dZ, X, W, b = dense_problem
    logits, y = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    arrays = (dZ, X, W, logits, y)
    originals = [a.copy() for a in arrays]
    layers.dense_backward(dZ, X, W)
    for name in ACTIVATIONS:
        layers.activation_backward(dZ, logits, name)
    layers.softmax_cross_entropy_backward(logits, y)
    layers.softmax_cross_entropy(logits, y)
    for a, original in zip(arrays, originals):
        np.testing.assert_array_equal(a, original)


# --- nblib.mlp.backward --------------------------------------------------------------------------

def random_mlp(rng, sizes):
    weights = [rng.normal(scale=1 / np.sqrt(m), size=(m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(scale=0.1, size=n) for n in sizes[1:]]
    return weights, biases


def tf_mlp_gradients(tf, keras, X, y, weights, biases, activation):
    """d(mean CE)/d(each W, b) for the MLP built with tf ops: hidden g, linear logits."""
    g = tf_activation(tf, activation)
    Ws, bs = [tf.Variable(W) for W in weights], [tf.Variable(b) for b in biases]
    Xv = tf.Variable(X)
    with tf.GradientTape() as tape:
        a = Xv
        for layer, (W, b) in enumerate(zip(Ws, bs)):
            z = tf.matmul(a, W) + b
            a = z if layer == len(Ws) - 1 else g(z)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")(y, a)
    dX, dWs, dbs = tape.gradient(loss, [Xv, Ws, bs])
    return dX.numpy(), [d.numpy() for d in dWs], [d.numpy() for d in dbs], a.numpy()


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


# --- the layer classes ---------------------------------------------------------------------------

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


def test_softmax_cross_entropy_class_matches_keras(tf, keras, rng):
    logits, y = rng.normal(scale=3.0, size=(9, 4)), rng.integers(0, 4, size=9)
    loss_expected, grad_expected = tf_mean_cce(tf, keras, logits, y)
    head = layers.SoftmaxCrossEntropy()
    loss = head.forward(logits, y)
    assert isinstance(loss, float) and loss == pytest.approx(loss_expected, rel=1e-12)
    np.testing.assert_allclose(head.backward(), grad_expected, **TF_TIGHT)


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


# --- bad input ------------------------------------------------------------------------------------

def test_dense_backward_with_mismatched_rows_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(3, 2\)") as error:
        layers.dense_backward(np.ones((3, 2)), np.ones((4, 5)), np.ones((5, 2)))
    assert "(4, 5)" in str(error.value)


def test_unknown_activation_names_the_closest_one():
    with pytest.raises(ValueError, match=r"unknown activation 'rleu'.*'relu'"):
        layers.activation_backward(np.ones((2, 2)), np.ones((2, 2)), "rleu")
    with pytest.raises(ValueError, match="rleu"):
        layers.Activation("rleu").forward(np.ones((2, 2)))


def test_the_references_can_be_switched_off(dense_problem):
    dZ, X, W, _ = dense_problem
    with disabled(layers.dense_backward, mlp.backward, exercise="Exercise 2 (dense_backward)"):
        with pytest.raises(ReferenceDisabled, match="Exercise 2"):
            layers.dense_backward(dZ, X, W)
    layers.dense_backward(dZ, X, W)
