"""nblib.layers.conv: Conv2D, MaxPool2D and AvgPool2D as layers.

Against keras.layers.Conv2D, MaxPooling2D, AveragePooling2D and Flatten with the same float64
weights: each layer alone, and a whole CNN (conv, ReLU, max pool, conv "same" stride 2, avg
pool, flatten, dense) forward and backward against a keras.Sequential; the Glorot-uniform
initialisation Keras uses for kernels; a small CNN that learns with nblib's fit alone; bad input.
"""

import math

import numpy as np
import pytest

from nblib import data, optim, training
from nblib.layers import Activation, Dense, Flatten, Sequential
from nblib import init
from nblib.layers.conv import AvgPool2D, Conv2D, MaxPool2D
from tests.nblib.layers.gradients import TF_TIGHT


def keras_gradients(tf, model, x, dout, variables):
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        out = model(xv)
    grads = tape.gradient(out, [xv, *variables], output_gradients=tf.constant(dout))
    return out.numpy(), [np.asarray(g) for g in grads]


# --- each layer against Keras's -------------------------------------------------------------------

@pytest.mark.parametrize("stride, padding", [(1, "valid"), (2, "same"), ((3, 1), "same")])
def test_conv2d_layer_matches_keras(tf, keras, rng, stride, padding):
    x = rng.normal(size=(3, 9, 8, 2))
    layer = Conv2D(2, 5, 3, stride=stride, padding=padding, rng=rng)
    layer.params["b"][...] = rng.normal(size=5)  # a non-zero bias, written into the live array
    theirs = keras.layers.Conv2D(5, 3, strides=stride, padding=padding, dtype="float64")
    theirs.build(x.shape)
    theirs.set_weights([layer.params["W"], layer.params["b"]])
    out = layer.forward(x)
    dout = rng.normal(size=out.shape)
    expected, (dx_k, dW_k, db_k) = keras_gradients(tf, theirs, x, dout, [theirs.kernel, theirs.bias])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.backward(dout), dx_k, **TF_TIGHT)
    assert list(layer.grads) == ["W", "b"]
    np.testing.assert_allclose(layer.grads["W"], dW_k, **TF_TIGHT)
    np.testing.assert_allclose(layer.grads["b"], db_k, **TF_TIGHT)


@pytest.mark.parametrize("ours, theirs", [(MaxPool2D, "MaxPooling2D"), (AvgPool2D, "AveragePooling2D")])
@pytest.mark.parametrize("pool, stride, padding", [(2, None, "valid"), (3, 2, "same"), ((2, 3), 1, "valid")])
def test_pooling_layers_match_keras(tf, keras, rng, ours, theirs, pool, stride, padding):
    x = rng.normal(size=(2, 7, 8, 3))
    layer = ours(pool, stride=stride, padding=padding)
    keras_layer = getattr(keras.layers, theirs)(pool, strides=stride, padding=padding, dtype="float64")
    out = layer.forward(x)
    dout = rng.normal(size=out.shape)
    expected, (dx_k,) = keras_gradients(tf, keras_layer, x, dout, [])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.backward(dout), dx_k, **TF_TIGHT)
    assert layer.params == {} and layer.grads == {} and layer.state == {}


def keras_twin(keras, model, input_shape):
    """A keras.Sequential with the same layers and weights as nblib's ``model``."""
    twins = [keras.Input(input_shape[1:], dtype="float64")]
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            twins.append(keras.layers.Conv2D(layer.params["W"].shape[3], layer.kernel, strides=layer.stride,
                                             padding=layer.padding, dtype="float64"))
        elif isinstance(layer, (MaxPool2D, AvgPool2D)):
            kind = keras.layers.MaxPooling2D if isinstance(layer, MaxPool2D) else keras.layers.AveragePooling2D
            twins.append(kind(layer.pool, strides=layer.stride, padding=layer.padding, dtype="float64"))
        elif isinstance(layer, Activation):
            twins.append(keras.layers.Activation(layer.name, dtype="float64"))
        elif isinstance(layer, Flatten):
            twins.append(keras.layers.Flatten(dtype="float64"))
        else:
            twins.append(keras.layers.Dense(layer.params["W"].shape[1], dtype="float64"))
    twin = keras.Sequential(twins)
    for ours, theirs in zip(model.layers, twin.layers):
        if ours.params:
            theirs.set_weights([ours.params["W"], ours.params["b"]])
    return twin


def test_a_cnn_matches_keras_forward_and_backward(tf, keras, rng):
    # (N, 10, 9, 2) -conv 3x3 valid-> (N, 8, 7, 4) -relu, max 2-> (N, 4, 3, 4) -conv 3x3 same, stride 2->
    # (N, 2, 2, 6) -avg 2 same-> (N, 1, 1, 6) -flatten-> (N, 6) -dense-> (N, 3)
    model = Sequential([Conv2D(2, 4, 3, rng=rng), Activation("relu"), MaxPool2D(2),
                        Conv2D(4, 6, 3, stride=2, padding="same", rng=rng), Activation("tanh"),
                        AvgPool2D(2, padding="same"), Flatten(), Dense(6, 3, rng=rng)])
    for key, value in model.parameters().items():
        if key.endswith(".b"):
            value[...] = rng.normal(size=value.shape)
    x = rng.normal(size=(4, 10, 9, 2))
    twin = keras_twin(keras, model, x.shape)
    out = model.forward(x)
    assert out.shape == (4, 3)
    dout = rng.normal(size=out.shape)
    expected, (dx_k, *dparams_k) = keras_gradients(tf, twin, x, dout, twin.trainable_variables)
    np.testing.assert_allclose(out, expected, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(model.backward(dout), dx_k, **TF_TIGHT)
    grads = model.gradients()
    assert list(grads) == ["0.W", "0.b", "3.W", "3.b", "7.W", "7.b"]
    for (key, ours), theirs in zip(grads.items(), dparams_k):
        np.testing.assert_allclose(ours, theirs, **TF_TIGHT, err_msg=key)


# --- initialisation -------------------------------------------------------------------------------

def test_conv2d_initialisation_is_keras_glorot_uniform(keras):
    # Keras's GlorotUniform for a kernel (KH, KW, C, M): fan_in = KH*KW*C, fan_out = KH*KW*M,
    # limit = sqrt(6 / (fan_in + fan_out)); here 5*5*16 = 400 and 5*5*32 = 800.
    limit = math.sqrt(6 / (400 + 800))
    state = np.random.get_state()
    layer = Conv2D(16, 32, 5, rng=np.random.default_rng(0))
    W, b = layer.params["W"], layer.params["b"]
    assert W.shape == (5, 5, 16, 32) and b.shape == (32,)
    assert limit * 0.99 < np.abs(W).max() <= limit
    assert W.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)
    np.testing.assert_array_equal(b, 0.0)
    theirs = keras.layers.Conv2D(32, 5)
    theirs.build((None, 28, 28, 16))
    kernel = np.asarray(theirs.kernel)
    assert limit * 0.99 < np.abs(kernel).max() <= limit * (1 + 1e-6)  # the same bound, from Keras
    np.testing.assert_array_equal(Conv2D(16, 32, 5, rng=np.random.default_rng(0)).params["W"], W)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1])  # the global RNG is untouched
    assert init.glorot_uniform((3, 3, 1, 8), rng=np.random.default_rng(1)).shape == (3, 3, 1, 8)


def test_conv2d_from_weights_copies(rng):
    W, b = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=5)
    layer = Conv2D.from_weights(W, b, stride=2, padding="same")
    assert layer.kernel == (2, 3) and layer.stride == (2, 2) and layer.padding == "same"
    np.testing.assert_array_equal(layer.params["W"], W)
    layer.params["W"][...] = 0
    assert W.any()  # a copy, not the caller's array
    with pytest.raises(ValueError, match=r"b must have shape \(5,\).*got shape \(4,\)"):
        Conv2D.from_weights(W, np.zeros(4))


def test_reprs_show_the_hyperparameters():
    rng = np.random.default_rng(0)
    assert repr(Conv2D(1, 32, 3, rng=rng)) == "Conv2D(1, 32, kernel=(3, 3), stride=(1, 1), padding='valid')"
    assert repr(MaxPool2D(3, stride=1, padding="same")) == "MaxPool2D(pool=(3, 3), stride=(1, 1), padding='same')"
    assert repr(AvgPool2D()) == "AvgPool2D(pool=(2, 2), stride=(2, 2), padding='valid')"


# --- a CNN trained with nblib alone --------------------------------------------------------------

def test_a_small_cnn_learns_the_digits_with_fit():
    # the 8x8 digits as images (N, 8, 8, 1): conv 3x3 -> (N, 6, 6, 8), max pool -> (N, 3, 3, 8),
    # flatten -> (N, 72), dense -> 10 logits. Chance is 10%; a few epochs of Adam reach > 90%.
    X_train, X_test, y_train, y_test = data.digits()
    X_train, X_test = X_train.reshape(-1, 8, 8, 1), X_test.reshape(-1, 8, 8, 1)
    rng = np.random.default_rng(0)
    model = Sequential([Conv2D(1, 8, 3, rng=rng), Activation("relu"), MaxPool2D(2), Flatten(),
                        Dense(72, 10, rng=rng)])
    before = model.accuracy(X_test, y_test)
    history = training.fit(model, X_train, y_train, optimizer=optim.Adam(0.01), epochs=4, batch_size=32, rng=rng,
                           validation=(X_test, y_test))
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert before < 0.3 and history.val_accuracy[-1] > 0.9


# --- bad input ------------------------------------------------------------------------------------

def test_a_conv2d_layer_given_the_wrong_channels_says_so(rng):
    layer = Conv2D(3, 4, 3, rng=rng)
    with pytest.raises(ValueError, match=r"C = 1, the channels of x \(2, 8, 8, 1\); got \(3, 3, 3, 4\) with C = 3"):
        layer.forward(np.ones((2, 8, 8, 1)))
    with pytest.raises(RuntimeError, match="call forward before backward"):
        Conv2D(3, 4, 3, rng=rng).backward(np.ones((2, 6, 6, 4)))


def test_layers_reject_bad_hyperparameters(rng):
    with pytest.raises(ValueError, match="padding must be one of"):
        Conv2D(1, 4, 3, padding="full", rng=rng)
    with pytest.raises(ValueError, match="n_out must be >= 1, got 0"):
        Conv2D(1, 0, 3, rng=rng)
    with pytest.raises(ValueError, match="kernel must be >= 1, got 0"):
        Conv2D(1, 4, 0, rng=rng)
    with pytest.raises(ValueError, match="pool must be an int or a pair"):
        MaxPool2D((2, 2, 2))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        AvgPool2D(2, stride=0)
