"""nblib.layers.recurrent: the SimpleRNN, LSTM and GRU layers against keras.layers.SimpleRNN, LSTM
and GRU with the same float64 weights (outputs, input gradients, weight gradients), their
Keras-style initialisation, Sequential + fit learning a small sequence task, and bad input."""

import math

import numpy as np
import pytest

from nblib import optim, training
from nblib.layers import Dense, Sequential
from nblib.layers.recurrent import GRU, LSTM, SimpleRNN
from tests.nblib.layers.gradients import FORWARD_TIGHT, TF_TIGHT

N, T, D, H = 3, 5, 4, 6
LAYERS = {"SimpleRNN": (SimpleRNN, 1), "LSTM": (LSTM, 4), "GRU": (GRU, 3)}  # class, gates


# --- against Keras ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_keras_with_the_same_weights(tf, keras, rng, name, return_sequences):
    cls, _ = LAYERS[name]
    layer = cls(D, H, return_sequences=return_sequences, rng=rng)
    for value in layer.params.values():  # not the initial values: a bias of zeros would hide a swapped bias
        value[...] = rng.normal(scale=0.5, size=value.shape)
    x = rng.normal(size=(N, T, D))
    dout = rng.normal(size=(N, T, H) if return_sequences else (N, H))

    theirs = getattr(keras.layers, name)(H, return_sequences=return_sequences, dtype="float64")
    theirs.build((None, T, D))
    theirs.set_weights(list(layer.params.values()))  # the same order as Keras's get_weights()
    xv = tf.Variable(x)
    weights = [theirs.cell.kernel, theirs.cell.recurrent_kernel, theirs.cell.bias]
    with tf.GradientTape() as tape:
        expected = theirs(xv)
    dx_k, *dweights_k = tape.gradient(expected, [xv, *weights], output_gradients=tf.constant(dout))

    np.testing.assert_allclose(layer.forward(x), expected.numpy(), **FORWARD_TIGHT)
    np.testing.assert_allclose(layer.backward(dout), dx_k.numpy(), **TF_TIGHT)
    assert list(layer.grads) == list(layer.params)
    for key, dw in zip(layer.params, dweights_k):
        assert layer.grads[key].shape == layer.params[key].shape
        np.testing.assert_allclose(layer.grads[key], np.asarray(dw), **TF_TIGHT, err_msg=key)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_from_weights_takes_keras_get_weights(keras, rng, name):
    cls, _ = LAYERS[name]
    theirs = getattr(keras.layers, name)(H, return_sequences=True, dtype="float64")
    x = rng.normal(size=(N, T, D))
    expected = np.asarray(theirs(x))  # Keras's own random initial weights
    ours = cls.from_weights(*theirs.get_weights(), return_sequences=True)
    np.testing.assert_allclose(ours.forward(x), expected, **FORWARD_TIGHT)
    assert repr(ours) == f"{name}({D}, {H}, return_sequences=True)"


# --- initialisation ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", LAYERS)
def test_initialisation_is_keras_s(keras, name):
    # Keras: kernel Glorot-uniform, limit sqrt(6 / (fan_in + fan_out)) with fan_out = gates * H;
    # recurrent kernel orthogonal (H, gates * H), so its rows are orthonormal; bias zeros, but 1 on
    # the LSTM's forget gate (unit_forget_bias). Keras's own layer is checked for the same properties.
    cls, gates = LAYERS[name]
    state = np.random.get_state()
    D_big, H_big = 40, 30
    ours = list(cls(D_big, H_big, rng=np.random.default_rng(0)).params.values())
    theirs = getattr(keras.layers, name)(H_big)
    theirs.build((None, 2, D_big))
    limit = math.sqrt(6 / (D_big + gates * H_big))
    for kernel, recurrent_kernel, bias in (ours, [np.asarray(w, dtype=np.float64) for w in theirs.get_weights()]):
        assert kernel.shape == (D_big, gates * H_big) and recurrent_kernel.shape == (H_big, gates * H_big)
        assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.98 * limit
        assert kernel.std() == pytest.approx(limit / math.sqrt(3), rel=0.05)
        np.testing.assert_allclose(recurrent_kernel @ recurrent_kernel.T, np.eye(H_big), atol=1e-5)
        expected_bias = np.zeros(bias.shape)
        if name == "LSTM":
            expected_bias[H_big:2 * H_big] = 1.0
        np.testing.assert_array_equal(bias, expected_bias)
    # reproducible from the seed, and the global RNG untouched
    again = cls(D_big, H_big, rng=np.random.default_rng(0)).params.values()
    for a, b in zip(ours, again):
        np.testing.assert_array_equal(a, b)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1])


# --- in a Sequential, trained with fit -----------------------------------------------------------------------

def first_sign_task(rng, n, steps=8):
    """Sequences of noise (n, steps, 1); the label is whether the *first* value was positive."""
    x = rng.normal(size=(n, steps, 1))
    return x, (x[:, 0, 0] > 0).astype(int)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_sequential_with_a_recurrent_layer_learns_to_remember_the_first_step(name, rng):
    # The answer is at t = 1 and seven noise steps follow: the layer must carry it to the end.
    cls, _ = LAYERS[name]
    X_train, y_train = first_sign_task(rng, 256)
    X_test, y_test = first_sign_task(rng, 200)
    model = Sequential([cls(1, 8, rng=rng), Dense(8, 2, rng=rng)])
    assert model.accuracy(X_test, y_test) < 0.75  # not solved before training
    history = training.fit(model, X_train, y_train, optimizer=optim.Adam(0.03), epochs=25, rng=rng,
                           validation=(X_test, y_test))
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert model.accuracy(X_test, y_test) >= 0.9  # 0.94 to 1.0 over seeds 0 to 5 (chance: 0.5)


def test_a_recurrent_layer_returning_sequences_feeds_another(rng):
    # stacked: SimpleRNN (N, T, D) -> (N, T, H) -> LSTM -> (N, H) -> Dense -> (N, 2); gradients reach the first layer
    model = Sequential([SimpleRNN(D, H, return_sequences=True, rng=rng), LSTM(H, 5, rng=rng), Dense(5, 2, rng=rng)])
    x = rng.normal(size=(N, T, D))
    assert model.forward(x).shape == (N, 2)
    dx = model.backward(np.ones((N, 2)))
    assert dx.shape == x.shape
    assert set(model.gradients()) == {"0.Wx", "0.Wh", "0.b", "1.kernel", "1.recurrent_kernel", "1.bias", "2.W", "2.b"}
    assert np.abs(model.gradients()["0.Wx"]).sum() > 0


# --- repr and bad input --------------------------------------------------------------------------------------

def test_repr_gives_the_sizes():
    rng = np.random.default_rng(0)
    assert repr(SimpleRNN(3, 7, rng=rng)) == "SimpleRNN(3, 7)"
    assert repr(LSTM(2, 4, return_sequences=True, rng=rng)) == "LSTM(2, 4, return_sequences=True)"


def test_bad_sizes_and_inputs_are_named():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="units must be >= 1, got 0"):
        LSTM(3, 0, rng=rng)
    with pytest.raises(TypeError, match="n_in must be an integer"):
        SimpleRNN(3.0, 2, rng=rng)
    with pytest.raises(ValueError, match=r"kernel must have shape \(D, 4H\) = \(5, 4H\).*got \(3, 8\)"):
        LSTM(3, 2, rng=rng).forward(np.ones((2, 4, 5)))  # D = 5 does not match the layer's 3 inputs
    with pytest.raises(ValueError, match=r"x must be a batch of sequences of shape \(N, T, D\), got shape \(2, 3\)"):
        GRU(3, 2, rng=rng).forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"LSTM takes 3 weights .*got 2"):
        LSTM.from_weights(np.ones((3, 8)), np.ones((2, 8)))
    with pytest.raises(ValueError, match=r"recurrent_kernel must have shape \(H, 4H\) = \(2, 8\).*got \(3, 8\)"):
        LSTM.from_weights(np.ones((3, 8)), np.ones((3, 8)), np.ones(8))
    with pytest.raises(RuntimeError, match="call forward before backward"):
        LSTM(3, 2, rng=rng).backward(np.ones((2, 2)))
