"""nblib.recurrent: the simple RNN, LSTM and GRU, one step and over a sequence.

Forward values and gradients against keras.layers.SimpleRNN, LSTM and GRU given the same
float64 weights (return_sequences true and false, return_state, an initial state), every
backward pass against centred differences and tf.GradientTape on a twin written with tf ops
(check_op), hand-worked examples with their derivation, the initialisers, bad input, and
inputs left alone (read-only arrays).
"""

import dataclasses
import math

import numpy as np
import pytest

from nblib import init, recurrent
from tests.nblib.layers.gradients import FORWARD_TIGHT, TF_TIGHT, check_op

N, T, D, H = 2, 4, 3, 3  # small: the numerical gradients perturb every entry


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


# --- TensorFlow twins, written with tf ops from the equations (not from nblib's code) -------------------

def tf_rnn(tf, *, return_sequences):
    def forward(x, Wx, Wh, b, h0):
        h, hs = h0, []
        for t in range(x.shape[1]):
            h = tf.tanh(x[:, t] @ Wx + h @ Wh + b)
            hs.append(h)
        return tf.stack(hs, axis=1) if return_sequences else h
    return forward


def tf_lstm_cell(tf, x_t, h, c, kernel, recurrent_kernel, bias):
    zi, zf, zc, zo = tf.split(x_t @ kernel + h @ recurrent_kernel + bias, 4, axis=1)
    c = tf.sigmoid(zf) * c + tf.sigmoid(zi) * tf.tanh(zc)
    return tf.sigmoid(zo) * tf.tanh(c), c


def tf_lstm(tf, *, return_sequences):
    """Outputs, h_T and c_T side by side, (N, T*H + 2H) or (N, 3H), as :func:`lstm_as_op` lays them out."""
    def forward(x, kernel, recurrent_kernel, bias, h0, c0):
        h, c, hs = h0, c0, []
        for t in range(x.shape[1]):
            h, c = tf_lstm_cell(tf, x[:, t], h, c, kernel, recurrent_kernel, bias)
            hs.append(h)
        out = tf.reshape(tf.stack(hs, axis=1), (x.shape[0], -1)) if return_sequences else h
        return tf.concat([out, h, c], axis=1)
    return forward


def tf_gru_cell(tf, x_t, h, kernel, recurrent_kernel, bias):
    xz, xr, xh = tf.split(x_t @ kernel + bias[0], 3, axis=1)
    hz, hr, hh = tf.split(h @ recurrent_kernel + bias[1], 3, axis=1)
    z, r = tf.sigmoid(xz + hz), tf.sigmoid(xr + hr)
    return z * h + (1.0 - z) * tf.tanh(xh + r * hh)


def tf_gru(tf, *, return_sequences):
    def forward(x, kernel, recurrent_kernel, bias, h0):
        h, hs = h0, []
        for t in range(x.shape[1]):
            h = tf_gru_cell(tf, x[:, t], h, kernel, recurrent_kernel, bias)
            hs.append(h)
        return tf.stack(hs, axis=1) if return_sequences else h
    return forward


# --- the ops with the initial state as an input, in check_op's form ---------------------------------------

def rnn_as_op():
    def forward(x, Wx, Wh, b, h0, *, return_sequences):
        return recurrent.rnn_forward(x, Wx, Wh, b, h0=h0, return_sequences=return_sequences)

    def backward(dout, cache):
        return recurrent.rnn_backward(dout, cache, initial_state_grads=True)
    return forward, backward


def lstm_as_op():
    """lstm_forward with out, h_T and c_T flattened side by side into one output, and its backward."""
    def forward(x, kernel, recurrent_kernel, bias, h0, c0, *, return_sequences):
        out, (h, c), cache = recurrent.lstm_forward(x, kernel, recurrent_kernel, bias, h0=h0, c0=c0,
                                                    return_sequences=return_sequences)
        return np.concatenate([out.reshape(len(x), -1), h, c], axis=1), cache

    def backward(dout, cache):
        units = cache.h0.shape[1]
        dh, dc = dout[:, -2 * units:-units], dout[:, -units:]
        dout = dout[:, :-2 * units].reshape(cache.hs.shape if cache.return_sequences else dh.shape)
        return recurrent.lstm_backward(dout, cache, dstate=(dh, dc), initial_state_grads=True)
    return forward, backward


def gru_as_op():
    def forward(x, kernel, recurrent_kernel, bias, h0, *, return_sequences):
        return recurrent.gru_forward(x, kernel, recurrent_kernel, bias, h0=h0, return_sequences=return_sequences)

    def backward(dout, cache):
        return recurrent.gru_backward(dout, cache, initial_state_grads=True)
    return forward, backward


def rnn_weights(rng):
    return rng.normal(size=(N, T, D)), rng.normal(size=(D, H)), rng.normal(size=(H, H)), rng.normal(size=H)


def lstm_weights(rng, gates=4, bias_shape=None):
    return (rng.normal(size=(N, T, D)), rng.normal(size=(D, gates * H)), rng.normal(size=(H, gates * H)),
            rng.normal(size=bias_shape or (gates * H,)))


# --- hand-worked examples ------------------------------------------------------------------------------------

def test_one_rnn_step_by_hand():
    # Scalars: x = 1, h_prev = 0.5, Wx = 0.4, Wh = -0.2, b = 0.1.
    #   a = x Wx + h_prev Wh + b = 0.4 - 0.1 + 0.1 = 0.4,   h = tanh(0.4)
    # With dL/dh = 2: da = 2 (1 - tanh(0.4)^2), and as for a dense layer
    #   dx = da Wx,  dh_prev = da Wh,  dWx = x da,  dWh = h_prev da,  db = da.
    h, cache = recurrent.rnn_step([[1.0]], [[0.5]], [[0.4]], [[-0.2]], [0.1])
    np.testing.assert_allclose(h, [[math.tanh(0.4)]], rtol=1e-15)
    da = 2.0 * (1.0 - math.tanh(0.4) ** 2)
    dx, dh_prev, dWx, dWh, db = recurrent.rnn_step_backward(np.array([[2.0]]), cache)
    for ours, expected in [(dx, 0.4 * da), (dh_prev, -0.2 * da), (dWx, da), (dWh, 0.5 * da), (db, da)]:
        np.testing.assert_allclose(ours, np.full_like(ours, expected), rtol=1e-14)


def test_two_rnn_steps_through_time_by_hand():
    # Scalars Wx = 1, Wh = w = 0.8, b = 0, h0 = 0.3, x = (0.5, -1.0), loss L = h_2 (the last output):
    #   h_1 = tanh(x_1 + w h_0),  h_2 = tanh(x_2 + w h_1).  With d_2 = 1 - h_2^2, d_1 = (1 - h_1^2) w d_2:
    #   dL/dx_2 = d_2,  dL/dx_1 = d_1,  dL/dh_0 = w d_1,
    #   dL/dWx = x_2 d_2 + x_1 d_1,  dL/dWh = h_1 d_2 + h_0 d_1,  dL/db = d_2 + d_1   (summed over the steps)
    w, h0, x1, x2 = 0.8, 0.3, 0.5, -1.0
    h1 = math.tanh(x1 + w * h0)
    h2 = math.tanh(x2 + w * h1)
    d2 = 1 - h2**2
    d1 = (1 - h1**2) * w * d2
    out, cache = recurrent.rnn_forward([[[x1], [x2]]], [[1.0]], [[w]], [0.0], h0=[[h0]], return_sequences=False)
    np.testing.assert_allclose(out, [[h2]], rtol=1e-15)
    dx, dWx, dWh, db, dh0 = recurrent.rnn_backward([[1.0]], cache, initial_state_grads=True)
    np.testing.assert_allclose(dx, [[[d1], [d2]]], rtol=1e-14)
    np.testing.assert_allclose(dWx, [[x2 * d2 + x1 * d1]], rtol=1e-14)
    np.testing.assert_allclose(dWh, [[h1 * d2 + h0 * d1]], rtol=1e-14)
    np.testing.assert_allclose(db, [d2 + d1], rtol=1e-14)
    np.testing.assert_allclose(dh0, [[w * d1]], rtol=1e-14)


def test_one_lstm_step_by_hand():
    # H = D = 1, x = 2, h_prev = -1, c_prev = 0.5; the kernel and recurrent kernel are rows
    # (k_i, k_f, k_c, k_o) = (0.1, 0.2, 0.3, 0.4) and (u_i, u_f, u_c, u_o) = (0.5, -0.5, 1.0, 0.0),
    # bias (0, 1, 0, 0): z_gate = 2 k + (-1) u + b
    #   z_i = 0.2 - 0.5 = -0.3, z_f = 0.4 + 0.5 + 1 = 1.9, z_c = 0.6 - 1 = -0.4, z_o = 0.8
    #   c = sigmoid(1.9) 0.5 + sigmoid(-0.3) tanh(-0.4),  h = sigmoid(0.8) tanh(c)
    kernel, recurrent_kernel, bias = [[0.1, 0.2, 0.3, 0.4]], [[0.5, -0.5, 1.0, 0.0]], [0.0, 1.0, 0.0, 0.0]
    (h, c), cache = recurrent.lstm_step([[2.0]], [[-1.0]], [[0.5]], kernel, recurrent_kernel, bias)
    c_expected = sigmoid(1.9) * 0.5 + sigmoid(-0.3) * math.tanh(-0.4)
    np.testing.assert_allclose(c, [[c_expected]], rtol=1e-15)
    np.testing.assert_allclose(h, [[sigmoid(0.8) * math.tanh(c_expected)]], rtol=1e-15)
    # With dL/dc = 1 only (dL/dh = 0) the gradient to c_prev is the forget gate, f = sigmoid(1.9),
    # and to the output gate's pre-activation nothing (h is not used)
    dx, dh_prev, dc_prev, dkernel, drecurrent_kernel, dbias = recurrent.lstm_step_backward((None, [[1.0]]), cache)
    np.testing.assert_allclose(dc_prev, [[sigmoid(1.9)]], rtol=1e-15)
    assert dbias[3] == 0.0
    # dz_f = dc * c_prev * f (1 - f), and dkernel_f = x dz_f = 2 dz_f
    dz_f = 0.5 * sigmoid(1.9) * (1 - sigmoid(1.9))
    np.testing.assert_allclose([dbias[1], dkernel[0, 1], drecurrent_kernel[0, 1]], [dz_f, 2 * dz_f, -dz_f],
                               rtol=1e-14)


def test_an_lstm_with_its_forget_gate_open_and_input_gate_shut_remembers():
    # f = sigmoid(40) = 1 - 4e-18 (1.0 in float64), i = sigmoid(-40): c_t = c_{t-1} at every step, whatever
    # the input; and the gradient reaches c_0 undiminished, dc_0 = dc_T (the LSTM's cure for vanishing gradients)
    rng = np.random.default_rng(0)
    bias = np.zeros(4 * H)
    bias[:H], bias[H:2 * H] = -40.0, 40.0
    x, c0 = rng.normal(size=(N, 50, D)), rng.normal(size=(N, H))
    kernel, recurrent_kernel = 0.1 * rng.normal(size=(D, 4 * H)), 0.1 * rng.normal(size=(H, 4 * H))
    _, (_, c), cache = recurrent.lstm_forward(x, kernel, recurrent_kernel, bias, c0=c0, return_sequences=False)
    np.testing.assert_allclose(c, c0, rtol=1e-15)
    dc_T = rng.normal(size=(N, H))
    *_, dh0, dc0 = recurrent.lstm_backward(np.zeros((N, H)), cache, dstate=(None, dc_T), initial_state_grads=True)
    np.testing.assert_allclose(dc0, dc_T, rtol=1e-15)


def test_gru_with_update_gate_shut_copies_the_candidate():
    # z = sigmoid(-40) ~ 0: h = hh = tanh(x K_h + b_h + r (h_prev R_h + b'_h)), with r = sigmoid(0) = 1/2
    # when the reset gate's weights and biases are 0. D = H = 1: x = 1, h_prev = 2, K_h = 0.3, R_h = 0.5,
    # b_h = 0.1, b'_h = -0.2: hh = tanh(0.3 + 0.1 + 0.5 (1.0 - 0.2)) = tanh(0.8)
    kernel, recurrent_kernel = [[0.0, 0.0, 0.3]], [[0.0, 0.0, 0.5]]
    bias = [[-40.0, 0.0, 0.1], [0.0, 0.0, -0.2]]
    h, _ = recurrent.gru_step([[1.0]], [[2.0]], kernel, recurrent_kernel, bias)
    np.testing.assert_allclose(h, [[math.tanh(0.8)]], rtol=1e-12)


# --- gradients: centred differences and tf.GradientTape ------------------------------------------------------

def test_rnn_step_gradients(tf, rng):
    x, Wx, Wh, b = rnn_weights(rng)
    h_prev = rng.normal(size=(N, H))
    check_op(recurrent.rnn_step, recurrent.rnn_step_backward, (x[:, 0], h_prev, Wx, Wh, b),
             tf_forward=lambda x, h, Wx, Wh, b: tf.tanh(x @ Wx + h @ Wh + b))


def test_lstm_step_gradients(tf, rng):
    x, kernel, recurrent_kernel, bias = lstm_weights(rng)
    h_prev, c_prev = rng.normal(size=(2, N, H))

    def forward(*args):
        (h, c), cache = recurrent.lstm_step(*args)
        return np.concatenate([h, c], axis=1), cache

    def backward(dout, cache):
        return recurrent.lstm_step_backward((dout[:, :H], dout[:, H:]), cache)

    def tf_forward(x, h, c, kernel, recurrent_kernel, bias):
        return tf.concat(tf_lstm_cell(tf, x, h, c, kernel, recurrent_kernel, bias), axis=1)

    check_op(forward, backward, (x[:, 0], h_prev, c_prev, kernel, recurrent_kernel, bias), tf_forward=tf_forward)


def test_gru_step_gradients(tf, rng):
    x, kernel, recurrent_kernel, bias = lstm_weights(rng, gates=3, bias_shape=(2, 3 * H))
    h_prev = rng.normal(size=(N, H))
    check_op(recurrent.gru_step, recurrent.gru_step_backward, (x[:, 0], h_prev, kernel, recurrent_kernel, bias),
             tf_forward=lambda *args: tf_gru_cell(tf, *args))


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_gradients_through_time(tf, rng, cell, return_sequences):
    # every input, the initial state included, against centred differences and tf.GradientTape
    if cell == "rnn":
        inputs, (forward, backward), twin = (*rnn_weights(rng), rng.normal(size=(N, H))), rnn_as_op(), tf_rnn
    elif cell == "lstm":
        inputs, (forward, backward), twin = (*lstm_weights(rng), *rng.normal(size=(2, N, H))), lstm_as_op(), tf_lstm
    else:
        inputs = (*lstm_weights(rng, gates=3, bias_shape=(2, 3 * H)), rng.normal(size=(N, H)))
        (forward, backward), twin = gru_as_op(), tf_gru
    _, grads = check_op(forward, backward, inputs, hyper={"return_sequences": return_sequences},
                        tf_forward=twin(tf, return_sequences=return_sequences))
    assert [g.shape for g in grads] == [a.shape for a in inputs]


def test_the_backward_passes_default_to_no_initial_state_gradient(rng):
    x, Wx, Wh, b = rnn_weights(rng)
    out, cache = recurrent.rnn_forward(x, Wx, Wh, b)
    assert len(recurrent.rnn_backward(np.ones_like(out), cache)) == 4
    x, kernel, recurrent_kernel, bias = lstm_weights(rng)
    out, _, cache = recurrent.lstm_forward(x, kernel, recurrent_kernel, bias)
    assert len(recurrent.lstm_backward(np.ones_like(out), cache)) == 4
    x, kernel, recurrent_kernel, bias = lstm_weights(rng, gates=3, bias_shape=(2, 3 * H))
    out, cache = recurrent.gru_forward(x, kernel, recurrent_kernel, bias)
    assert len(recurrent.gru_backward(np.ones_like(out), cache)) == 4


# --- against Keras's layers with the same weights -------------------------------------------------------------

def keras_gradients(tf, layer, x, initial_state, douts):
    """Keras's outputs, and the gradients of sum(dout * output) with respect to x, the weights and the initial state."""
    xv, states = tf.Variable(x), [tf.Variable(s) for s in initial_state]
    with tf.GradientTape() as tape:
        outputs = layer(xv, initial_state=states)
    weights = [layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias]
    grads = tape.gradient(outputs, [xv, *weights, *states], output_gradients=[tf.constant(d) for d in douts])
    return [o.numpy() for o in outputs], [np.asarray(g) for g in grads]


def with_final_state_gradient(dout, dh):
    """dout plus dh on the last step: the final state h_T is also the last output."""
    dlast = dout.copy()
    if dout.ndim == 3:
        dlast[:, -1] += dh
    else:
        dlast += dh
    return dlast


def assert_all_close(ours, theirs, tight, what):
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, **tight, err_msg=f"{what} {i} differs from Keras's")


@pytest.mark.parametrize("return_sequences", [True, False])
def test_rnn_matches_keras_simple_rnn(tf, keras, rng, return_sequences):
    x, Wx, Wh, b = rnn_weights(rng)
    h0 = rng.normal(size=(N, H))
    layer = keras.layers.SimpleRNN(H, return_sequences=return_sequences, return_state=True, dtype="float64")
    layer.build((None, T, D))
    layer.set_weights([Wx, Wh, b])
    out_shape = (N, T, H) if return_sequences else (N, H)
    dout, dh = rng.normal(size=out_shape), rng.normal(size=(N, H))
    (out_k, h_k), grads_k = keras_gradients(tf, layer, x, [h0], [dout, dh])

    out, cache = recurrent.rnn_forward(x, Wx, Wh, b, h0=h0, return_sequences=return_sequences)
    np.testing.assert_allclose(out, out_k, **FORWARD_TIGHT)
    np.testing.assert_allclose(out[:, -1] if return_sequences else out, h_k, **FORWARD_TIGHT)  # the final state
    dlast = with_final_state_gradient(dout, dh)
    assert_all_close(recurrent.rnn_backward(dlast, cache, initial_state_grads=True), grads_k, TF_TIGHT, "gradient")


@pytest.mark.parametrize("return_sequences", [True, False])
def test_lstm_matches_keras_lstm(tf, keras, rng, return_sequences):
    x, kernel, recurrent_kernel, bias = lstm_weights(rng)
    h0, c0 = rng.normal(size=(2, N, H))
    layer = keras.layers.LSTM(H, return_sequences=return_sequences, return_state=True, dtype="float64")
    layer.build((None, T, D))
    layer.set_weights([kernel, recurrent_kernel, bias])
    dout = rng.normal(size=(N, T, H) if return_sequences else (N, H))
    dh, dc = rng.normal(size=(2, N, H))
    (out_k, h_k, c_k), grads_k = keras_gradients(tf, layer, x, [h0, c0], [dout, dh, dc])

    out, (h, c), cache = recurrent.lstm_forward(x, kernel, recurrent_kernel, bias, h0=h0, c0=c0,
                                                return_sequences=return_sequences)
    assert_all_close([out, h, c], [out_k, h_k, c_k], FORWARD_TIGHT, "output")
    grads = recurrent.lstm_backward(dout, cache, dstate=(dh, dc), initial_state_grads=True)
    assert_all_close(grads, grads_k, TF_TIGHT, "gradient")


@pytest.mark.parametrize("return_sequences", [True, False])
def test_gru_matches_keras_gru(tf, keras, rng, return_sequences):
    x, kernel, recurrent_kernel, bias = lstm_weights(rng, gates=3, bias_shape=(2, 3 * H))
    h0 = rng.normal(size=(N, H))
    layer = keras.layers.GRU(H, return_sequences=return_sequences, return_state=True, dtype="float64")
    assert layer.cell.reset_after and layer.cell.recurrent_activation.__name__ == "sigmoid"  # the convention we follow
    layer.build((None, T, D))
    layer.set_weights([kernel, recurrent_kernel, bias])
    dout, dh = rng.normal(size=(N, T, H) if return_sequences else (N, H)), rng.normal(size=(N, H))
    (out_k, h_k), grads_k = keras_gradients(tf, layer, x, [h0], [dout, dh])

    out, cache = recurrent.gru_forward(x, kernel, recurrent_kernel, bias, h0=h0, return_sequences=return_sequences)
    np.testing.assert_allclose(out, out_k, **FORWARD_TIGHT)
    dlast = with_final_state_gradient(dout, dh)
    assert_all_close(recurrent.gru_backward(dlast, cache, initial_state_grads=True), grads_k, TF_TIGHT, "gradient")


def test_the_lstm_gate_order_and_activations_are_keras_defaults(keras):
    # what the layout above assumes: sigmoid gates (Keras 2.x's hard_sigmoid is gone), forget bias 1
    layer = keras.layers.LSTM(2)
    assert layer.cell.recurrent_activation.__name__ == "sigmoid" and layer.cell.unit_forget_bias
    layer.build((None, 3, 1))
    np.testing.assert_array_equal(layer.cell.bias.numpy(), recurrent.lstm_bias(2))


# --- the caches, dtypes, and inputs left alone ---------------------------------------------------------------

def read_only(*arrays):
    copies = tuple(np.array(a) for a in arrays)
    for a in copies:
        a.setflags(write=False)  # any write raises ValueError
    return copies


def test_no_input_is_written_to(rng):
    x, Wx, Wh, b, h0 = read_only(*rnn_weights(rng), rng.normal(size=(N, H)))
    for return_sequences in (True, False):
        out, cache = recurrent.rnn_forward(x, Wx, Wh, b, h0=h0, return_sequences=return_sequences)
        recurrent.rnn_backward(*read_only(np.ones_like(out)), cache, initial_state_grads=True)
    x, kernel, recurrent_kernel, bias, h0, c0 = read_only(*lstm_weights(rng), *rng.normal(size=(2, N, H)))
    out, state, cache = recurrent.lstm_forward(x, kernel, recurrent_kernel, bias, h0=h0, c0=c0)
    recurrent.lstm_backward(*read_only(np.ones_like(out)), cache, dstate=read_only(*state), initial_state_grads=True)
    x, kernel, recurrent_kernel, bias, h0 = read_only(*lstm_weights(rng, gates=3, bias_shape=(2, 3 * H)),
                                                      rng.normal(size=(N, H)))
    out, cache = recurrent.gru_forward(x, kernel, recurrent_kernel, bias, h0=h0)
    recurrent.gru_backward(*read_only(np.ones_like(out)), cache, initial_state_grads=True)


def test_changing_the_output_does_not_change_the_cache(rng):
    x, kernel, recurrent_kernel, bias = lstm_weights(rng)
    out, (h, c), cache = recurrent.lstm_forward(x, kernel, recurrent_kernel, bias)
    dout = rng.normal(size=out.shape)
    before = recurrent.lstm_backward(dout, cache)
    out[...], h[...], c[...] = 0.0, 0.0, 0.0
    assert_all_close(recurrent.lstm_backward(dout, cache), before, dict(rtol=0, atol=0), "gradient")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cache.hs = out


def test_float32_stays_float32(rng):
    x, kernel, recurrent_kernel, bias = (a.astype(np.float32) for a in lstm_weights(rng))
    out, (h, c), cache = recurrent.lstm_forward(x, kernel, recurrent_kernel, bias)
    assert out.dtype == h.dtype == c.dtype == np.float32
    assert all(g.dtype == np.float32 for g in recurrent.lstm_backward(np.ones_like(out), cache))
    out, cache = recurrent.rnn_forward(x, kernel[:, :H], recurrent_kernel[:, :H], bias[:H])
    assert out.dtype == np.float32


def test_one_time_step_is_one_cell_step(rng):
    x, kernel, recurrent_kernel, bias = lstm_weights(rng)
    h0, c0 = rng.normal(size=(2, N, H))
    out, (h, c), _ = recurrent.lstm_forward(x[:, :1], kernel, recurrent_kernel, bias, h0=h0, c0=c0)
    (h_step, c_step), _ = recurrent.lstm_step(x[:, 0], h0, c0, kernel, recurrent_kernel, bias)
    np.testing.assert_allclose(out[:, 0], h_step, rtol=1e-15)
    np.testing.assert_allclose(c, c_step, rtol=1e-15)


# --- initialisers ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5, 20), (20, 5), (6, 6)], ids=["wide", "tall", "square"])
def test_orthogonal_has_orthonormal_rows_or_columns(shape):
    state = np.random.get_state()
    Q = init.orthogonal(shape, rng=np.random.default_rng(0))
    assert Q.shape == shape
    small = min(shape)
    gram = Q @ Q.T if shape[0] <= shape[1] else Q.T @ Q
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    np.testing.assert_array_equal(init.orthogonal(shape, rng=np.random.default_rng(0)), Q)
    assert not np.array_equal(init.orthogonal(shape, rng=np.random.default_rng(1)), Q)
    np.testing.assert_allclose(init.orthogonal(shape, rng=np.random.default_rng(0), gain=2.0), 2 * Q)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1])


def test_lstm_bias_puts_one_on_the_forget_gate_only():
    bias = recurrent.lstm_bias(3)
    np.testing.assert_array_equal(bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(recurrent.lstm_bias(3, unit_forget_bias=False), np.zeros(12))
    with pytest.raises(ValueError, match="units must be >= 1, got 0"):
        recurrent.lstm_bias(0)


# --- bad input ------------------------------------------------------------------------------------------------

def test_a_sequence_must_be_three_dimensional():
    W, U, b = np.ones((3, 4)), np.ones((4, 4)), np.ones(4)
    with pytest.raises(ValueError, match=r"x must be a batch of sequences of shape \(N, T, D\), got shape \(5, 3\) "
                                         r"\(x\[None\] for one sequence \(T, D\)"):
        recurrent.rnn_forward(np.ones((5, 3)), W, U, b)
    with pytest.raises(ValueError, match=r"at least one time step, got shape \(2, 0, 3\)"):
        recurrent.rnn_forward(np.ones((2, 0, 3)), W, U, b)
    with pytest.raises(ValueError, match=r"x_t must have shape \(N, D\).*got shape \(2, 1, 3\)"):
        recurrent.rnn_step(np.ones((2, 1, 3)), np.zeros((2, 4)), W, U, b)
    with pytest.raises(TypeError, match="x must contain real numbers"):
        recurrent.rnn_forward(np.full((1, 2, 3), "a"), W, U, b)


def test_weights_of_the_wrong_shape_are_named():
    x = np.ones((2, 5, 3))
    with pytest.raises(ValueError, match=r"kernel must have shape \(D, 4H\) = \(3, 4H\).*got \(4, 8\)"):
        recurrent.lstm_forward(x, np.ones((4, 8)), np.ones((2, 8)), np.ones(8))
    with pytest.raises(ValueError, match=r"kernel must have shape \(D, 4H\) = \(3, 4H\).*got \(3, 6\)"):
        recurrent.lstm_forward(x, np.ones((3, 6)), np.ones((2, 8)), np.ones(8))  # 6 columns: not 4 gates
    with pytest.raises(ValueError, match=r"recurrent_kernel must have shape \(H, 4H\) = \(2, 8\).*got \(8, 2\)"):
        recurrent.lstm_forward(x, np.ones((3, 8)), np.ones((8, 2)), np.ones(8))
    with pytest.raises(ValueError, match=r"bias must have shape \(8,\).*got \(2,\)"):
        recurrent.lstm_forward(x, np.ones((3, 8)), np.ones((2, 8)), np.ones(2))
    with pytest.raises(ValueError, match=r"bias must have shape \(2, 6\).*got \(6,\)"):
        recurrent.gru_forward(x, np.ones((3, 6)), np.ones((2, 6)), np.ones(6))  # reset_after: two bias rows
    with pytest.raises(ValueError, match=r"kernel must have shape \(D, H\) = \(3, H\).*got \(2, 3\)"):
        recurrent.rnn_forward(x, np.ones((2, 3)), np.ones((3, 3)), np.ones(3))


def test_initial_states_and_gradients_of_the_wrong_shape_are_named(rng):
    x, Wx, Wh, b = rnn_weights(rng)
    with pytest.raises(ValueError, match=r"h0 must have shape \(N, H\) = \(2, 3\), got \(3, 2\)"):
        recurrent.rnn_forward(x, Wx, Wh, b, h0=np.zeros((3, 2)))
    x, kernel, recurrent_kernel, bias = lstm_weights(rng)
    with pytest.raises(ValueError, match=r"c0 must have shape \(N, H\) = \(2, 3\), got \(2,\)"):
        recurrent.lstm_forward(x, kernel, recurrent_kernel, bias, c0=np.zeros(2))
    out, _, cache = recurrent.lstm_forward(x, kernel, recurrent_kernel, bias, return_sequences=False)
    with pytest.raises(ValueError, match=r"dout must have the shape.*\(2, 3\), got \(2, 4, 3\)"):
        recurrent.lstm_backward(np.ones((N, T, H)), cache)  # the output was the last step only
    with pytest.raises(ValueError, match=r"dstate\[1\] \(dc\) must have the shape.*\(2, 3\), got \(3,\)"):
        recurrent.lstm_backward(np.ones_like(out), cache, dstate=(None, np.ones(3)))
