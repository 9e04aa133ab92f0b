"""nblib.norm: batch, layer and group normalization, forward and backward, on (N, D) and
(N, H, W, C). Hand-worked examples (the biased variance, the running averages' momentum, the
gradient's invariances); check_op (centred differences and tf.GradientTape on the same forward
written with tf.nn.moments); keras.layers.BatchNormalization over several training steps and then
inference with the same gamma, beta and moving statistics (outputs, moving statistics, gradients);
LayerNormalization and GroupNormalization likewise; bad input; inputs never modified."""

import numpy as np
import pytest

from nblib import norm
from tests.nblib.layers.gradients import TF_TIGHT, check_op

CLOSE = dict(rtol=1e-12, atol=1e-13)  # a forward value against Keras's, float64 (another order of operations)
SHAPES = [(8, 3), (4, 3, 2, 3)]
IDS = ["N,D", "N,H,W,C"]


def bn(x, gamma, beta, rm, rv, training, **hyper):
    return norm.batchnorm_forward(x, gamma, beta, running_mean=rm, running_var=rv, training=training, **hyper)


# --- batch normalization by hand ---------------------------------------------------------------------------

def test_batchnorm_training_by_hand():
    # one channel, x = 1 and 3: mean 2, variance ((1-2)^2 + (3-2)^2) / 2 = 1 (biased: / N, not N - 1),
    # so x_hat = -1, 1 (eps 0); with gamma 2, beta 0.5: out = -1.5, 2.5.
    # running stats with momentum 0.9 from (0.5, 2): 0.9 * 0.5 + 0.1 * 2 = 0.65 and 0.9 * 2 + 0.1 * 1 = 1.9
    out, cache = bn(np.array([[1.0], [3.0]]), np.array([2.0]), np.array([0.5]), np.array([0.5]), np.array([2.0]),
                    True, momentum=0.9, eps=0.0)
    np.testing.assert_allclose(out, [[-1.5], [2.5]], rtol=1e-15)
    np.testing.assert_allclose(cache.running_mean, [0.65], rtol=1e-15)
    np.testing.assert_allclose(cache.running_var, [1.9], rtol=1e-15)


def test_batchnorm_uses_the_biased_variance_for_the_running_average_too():
    # x = 0, 2, 4: biased variance (4 + 0 + 4) / 3 = 8/3 (the unbiased one would be 4). With
    # momentum 0 the running variance is the batch's: 8/3, as in Keras 3.
    _, cache = bn(np.array([[0.0], [2.0], [4.0]]), np.ones(1), np.zeros(1), np.zeros(1), np.ones(1), True,
                  momentum=0.0)
    np.testing.assert_allclose(cache.running_var, [8 / 3], rtol=1e-15)
    np.testing.assert_allclose(cache.running_mean, [2.0], rtol=1e-15)


def test_batchnorm_inference_by_hand():
    # at inference the running statistics are used: mean 1, var 3, eps 1 -> x_hat = (x - 1) / 2;
    # x = 5 -> 2, times gamma 3 plus beta -1 = 5. The running statistics do not move.
    rm, rv = np.array([1.0]), np.array([3.0])
    out, cache = bn(np.array([[5.0], [1.0]]), np.array([3.0]), np.array([-1.0]), rm, rv, False, eps=1.0)
    np.testing.assert_allclose(out, [[5.0], [-1.0]], rtol=1e-15)
    np.testing.assert_array_equal(cache.running_mean, rm)
    np.testing.assert_array_equal(cache.running_var, rv)
    # backward: the statistics are constants, so dx = gamma * dout / sqrt(var + eps) = 3 * dout / 2
    dx, dgamma, dbeta = norm.batchnorm_backward(np.array([[1.0], [2.0]]), cache)
    np.testing.assert_allclose(dx, [[1.5], [3.0]], rtol=1e-15)
    np.testing.assert_allclose(dgamma, [1 * 2 + 2 * 0], rtol=1e-15)  # sum dout * x_hat, x_hat = 2, 0
    np.testing.assert_allclose(dbeta, [3.0], rtol=1e-15)


def test_batchnorm_backward_invariances_by_hand(rng):
    # In training, adding a constant to a channel's inputs, or scaling them, leaves x_hat alone
    # (eps = 0), so a dout along 1 or along x_hat has dx = 0; and dgamma = sum dout * x_hat,
    # dbeta = sum dout: for dout = x_hat that is sum x_hat^2 = N (variance 1) and 0.
    x = rng.normal(size=(6, 2))
    out, cache = bn(x, np.array([1.5, -2.0]), np.zeros(2), np.zeros(2), np.ones(2), True, eps=0.0)
    x_hat = (x - x.mean(axis=0)) / x.std(axis=0)
    np.testing.assert_allclose(cache.x_hat, x_hat, rtol=1e-12)
    for dout in (np.ones((6, 2)), x_hat):
        dx, dgamma, dbeta = norm.batchnorm_backward(dout, cache)
        np.testing.assert_allclose(dx, 0.0, atol=1e-13)
    np.testing.assert_allclose(dgamma, [6.0, 6.0], rtol=1e-12)
    np.testing.assert_allclose(dbeta, [0.0, 0.0], atol=1e-13)


# --- gradient checks --------------------------------------------------------------------------------------------

def tf_batchnorm(tf, axes, eps=1e-3):
    def forward(x, gamma, beta):
        mean, var = tf.nn.moments(x, axes=axes)  # biased variance
        return tf.nn.batch_normalization(x, mean, var, beta, gamma, eps)
    return forward


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_batchnorm_gradients(tf, rng, shape, training):
    C = shape[-1]
    x, gamma, beta = rng.normal(loc=1.0, scale=2.0, size=shape), rng.normal(size=C), rng.normal(size=C)
    rm, rv = rng.normal(size=C), rng.uniform(0.5, 2.0, size=C)
    hyper = dict(running_mean=rm, running_var=rv, training=training)
    def tf_inference(x, g, b):  # the running statistics are constants
        return tf.nn.batch_normalization(x, tf.constant(rm), tf.constant(rv), b, g, 1e-3)

    tf_forward = tf_batchnorm(tf, list(range(len(shape) - 1))) if training else tf_inference
    out, grads = check_op(norm.batchnorm_forward, norm.batchnorm_backward, (x, gamma, beta), hyper=hyper,
                          tf_forward=tf_forward)
    assert out.shape == shape and [g.shape for g in grads] == [shape, (C,), (C,)]


def tf_layernorm(tf, eps=1e-3):
    def forward(x, gamma, beta):
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) / tf.sqrt(var + eps) * gamma + beta
    return forward


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (2, 2, 3, 4)], ids=["N,D", "N,T,D", "N,H,W,C"])
def test_layernorm_gradients(tf, rng, shape):
    x, gamma, beta = rng.normal(size=shape), rng.normal(size=4), rng.normal(size=4)
    check_op(norm.layernorm_forward, norm.layernorm_backward, (x, gamma, beta), tf_forward=tf_layernorm(tf))


def tf_groupnorm(tf, groups, eps=1e-3):
    def forward(x, gamma, beta):
        shape = x.shape
        grouped = tf.reshape(x, shape[:-1] + [groups, shape[-1] // groups])
        axes = list(range(1, len(shape) - 1)) + [len(shape)]
        mean, var = tf.nn.moments(grouped, axes=axes, keepdims=True)
        x_hat = tf.reshape((grouped - mean) / tf.sqrt(var + eps), shape)
        return x_hat * gamma + beta
    return forward


@pytest.mark.parametrize("shape, groups", [((4, 6), 3), ((2, 3, 2, 6), 2), ((2, 2, 2, 4), 4), ((2, 2, 2, 4), 1)],
                         ids=["N,D G=3", "N,H,W,C G=2", "instance", "one group"])
def test_groupnorm_gradients(tf, rng, shape, groups):
    C = shape[-1]
    x, gamma, beta = rng.normal(size=shape), rng.normal(size=C), rng.normal(size=C)
    check_op(norm.groupnorm_forward, norm.groupnorm_backward, (x, gamma, beta), hyper={"groups": groups},
             tf_forward=tf_groupnorm(tf, groups))


# --- against Keras -------------------------------------------------------------------------------------------------

def keras_step(tf, layer, x, dout, training):
    """Keras's output and its gradients (x, gamma, beta) for dout."""
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        out = layer(xv, training=training)
    dx, dgamma, dbeta = tape.gradient(out, [xv, layer.gamma, layer.beta], output_gradients=tf.constant(dout))
    return out.numpy(), dx.numpy(), np.asarray(dgamma), np.asarray(dbeta)


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_batchnorm_matches_keras_over_training_steps_then_inference(tf, keras, rng, shape):
    C = shape[-1]
    gamma, beta = rng.normal(size=C), rng.normal(size=C)
    rm, rv = rng.normal(size=C), rng.uniform(0.5, 2.0, size=C)
    layer = keras.layers.BatchNormalization(dtype="float64")  # momentum 0.99, epsilon 1e-3
    layer.build((None,) + shape[1:])
    layer.set_weights([gamma, beta, rm, rv])
    start = rm.copy(), rv.copy()
    for step in range(3):  # batches of different means and spreads, so the running statistics move
        x = rng.normal(loc=step - 1.0, scale=1.0 + step, size=shape)
        dout = rng.normal(size=shape)
        out_k, dx_k, dgamma_k, dbeta_k = keras_step(tf, layer, x, dout, training=True)
        out, cache = norm.batchnorm_forward(x, gamma, beta, running_mean=rm, running_var=rv, training=True)
        rm, rv = cache.running_mean, cache.running_var
        np.testing.assert_allclose(out, out_k, **CLOSE)
        np.testing.assert_allclose(rm, layer.moving_mean.numpy(), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(rv, layer.moving_variance.numpy(), rtol=1e-13)
        dx, dgamma, dbeta = norm.batchnorm_backward(dout, cache)
        np.testing.assert_allclose(dx, dx_k, **TF_TIGHT)
        np.testing.assert_allclose(dgamma, dgamma_k, **TF_TIGHT)
        np.testing.assert_allclose(dbeta, dbeta_k, **TF_TIGHT)
    assert not np.allclose(rm, start[0], rtol=1e-3) and not np.allclose(rv, start[1], rtol=1e-3)  # they moved
    # inference on a fresh batch: the moving statistics, which stay where they are
    x, dout = rng.normal(size=shape), rng.normal(size=shape)
    out_k, dx_k, dgamma_k, dbeta_k = keras_step(tf, layer, x, dout, training=False)
    out, cache = norm.batchnorm_forward(x, gamma, beta, running_mean=rm, running_var=rv, training=False)
    np.testing.assert_allclose(out, out_k, **CLOSE)
    np.testing.assert_array_equal(cache.running_mean, layer.moving_mean.numpy())
    for ours, theirs in zip(norm.batchnorm_backward(dout, cache), (dx_k, dgamma_k, dbeta_k)):
        np.testing.assert_allclose(ours, theirs, **TF_TIGHT)


def test_batchnorm_momentum_and_eps_reach_keras_too(tf, keras, rng):
    x, gamma, beta = rng.normal(size=(6, 2)), rng.normal(size=2), rng.normal(size=2)
    layer = keras.layers.BatchNormalization(momentum=0.5, epsilon=0.25, dtype="float64")
    layer.build((None, 2))
    layer.set_weights([gamma, beta, np.zeros(2), np.ones(2)])
    out_k = layer(x, training=True).numpy()
    out, cache = norm.batchnorm_forward(x, gamma, beta, running_mean=np.zeros(2), running_var=np.ones(2),
                                        training=True, momentum=0.5, eps=0.25)
    np.testing.assert_allclose(out, out_k, **CLOSE)
    np.testing.assert_allclose(cache.running_var, layer.moving_variance.numpy(), rtol=1e-13)


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (2, 2, 3, 4)], ids=["N,D", "N,T,D", "N,H,W,C"])
def test_layernorm_matches_keras(tf, keras, rng, shape):
    x, dout, gamma, beta = rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=4), rng.normal(size=4)
    layer = keras.layers.LayerNormalization(dtype="float64")  # axis -1, epsilon 1e-3
    layer.build((None,) + shape[1:])
    layer.set_weights([gamma, beta])
    out_k, dx_k, dgamma_k, dbeta_k = keras_step(tf, layer, x, dout, training=True)
    out, cache = norm.layernorm_forward(x, gamma, beta)
    np.testing.assert_allclose(out, out_k, **CLOSE)
    for ours, theirs in zip(norm.layernorm_backward(dout, cache), (dx_k, dgamma_k, dbeta_k)):
        np.testing.assert_allclose(ours, theirs, **TF_TIGHT)


@pytest.mark.parametrize("shape, groups", [((4, 6), 3), ((3, 4, 3, 6), 2), ((3, 4, 3, 6), 6)],
                         ids=["N,D G=3", "N,H,W,C G=2", "N,H,W,C G=C"])
def test_groupnorm_matches_keras(tf, keras, rng, shape, groups):
    C = shape[-1]
    x, dout, gamma, beta = rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=C), rng.normal(size=C)
    layer = keras.layers.GroupNormalization(groups=groups, dtype="float64")  # epsilon 1e-3
    layer.build((None,) + shape[1:])
    layer.set_weights([gamma, beta])
    out_k, dx_k, dgamma_k, dbeta_k = keras_step(tf, layer, x, dout, training=True)
    out, cache = norm.groupnorm_forward(x, gamma, beta, groups=groups)
    np.testing.assert_allclose(out, out_k, **CLOSE)
    for ours, theirs in zip(norm.groupnorm_backward(dout, cache), (dx_k, dgamma_k, dbeta_k)):
        np.testing.assert_allclose(ours, theirs, **TF_TIGHT)


# --- layer and group normalization by hand -----------------------------------------------------------------------

def test_layernorm_and_groupnorm_by_hand():
    # layer norm of the row [1, 3, 5]: mean 3, variance (4 + 0 + 4) / 3 = 8/3 -> [-1, 0, 1] * sqrt(3/2)
    out, _ = norm.layernorm_forward(np.array([[1.0, 3.0, 5.0]]), np.ones(3), np.zeros(3), eps=0.0)
    np.testing.assert_allclose(out, [[-np.sqrt(1.5), 0.0, np.sqrt(1.5)]], rtol=1e-15)
    # group norm, 2 groups of 2 channels on one position: groups (1, 3) and (10, 30) -> [-1, 1] each;
    # with 1 group all four share mean 11 and variance (100 + 64 + 1 + 361) / 4 = 131.5
    x = np.array([[1.0, 3.0, 10.0, 30.0]])
    out, _ = norm.groupnorm_forward(x, np.ones(4), np.zeros(4), groups=2, eps=0.0)
    np.testing.assert_allclose(out, [[-1.0, 1.0, -1.0, 1.0]], rtol=1e-15)
    out, _ = norm.groupnorm_forward(x, np.ones(4), np.zeros(4), groups=1, eps=0.0)
    np.testing.assert_allclose(out, (x - 11.0) / np.sqrt(131.5), rtol=1e-14)
    # on images the group's statistics also run over the positions: (N, H, W, C) = (1, 2, 1, 2),
    # one group: values 0, 2, 4, 6 -> mean 3, variance 5
    x = np.array([[[[0.0, 2.0]], [[4.0, 6.0]]]])
    out, _ = norm.groupnorm_forward(x, np.ones(2), np.zeros(2), groups=1, eps=0.0)
    np.testing.assert_allclose(out, (x - 3.0) / np.sqrt(5.0), rtol=1e-14)


def test_layernorm_on_images_normalises_each_position_over_its_channels(rng):
    x = rng.normal(size=(2, 3, 3, 4))
    out, _ = norm.layernorm_forward(x, np.ones(4), np.zeros(4), eps=0.0)
    np.testing.assert_allclose(out.mean(axis=-1), 0.0, atol=1e-14)
    np.testing.assert_allclose(out.var(axis=-1), 1.0, rtol=1e-12)


# --- bad input ------------------------------------------------------------------------------------------------------

def test_bad_input_is_named():
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"x must have C = 4 channels on its last axis.*got x of shape \(4, 3\)"):
        bn(x, np.ones(4), np.zeros(3), np.zeros(3), np.ones(3), True)
    with pytest.raises(ValueError, match=r"running_var must have shape \(3,\), got shape \(2,\)"):
        bn(x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(2), True)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\], got 1.5"):
        bn(x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), True, momentum=1.5)
    with pytest.raises(ValueError, match=r"x must be batch first.*got shape \(3,\)"):
        norm.layernorm_forward(np.ones(3), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"beta must have shape \(3,\), got shape \(2,\)"):
        norm.layernorm_forward(x, np.ones(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"groups must divide the number of channels C = 3, got groups=2"):
        norm.groupnorm_forward(x, np.ones(3), np.zeros(3), groups=2)
    with pytest.raises(ValueError, match=r"eps must be a finite number >= 0, got -1"):
        norm.layernorm_forward(x, np.ones(3), np.zeros(3), eps=-1.0)
    _, cache = norm.layernorm_forward(x, np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"dout must have the shape of the layer's output, \(4, 3\), got \(3, 4\)"):
        norm.layernorm_backward(np.ones((3, 4)), cache)
    _, cache = norm.groupnorm_forward(np.ones((2, 2, 4)), np.ones(4), np.zeros(4), groups=2)
    with pytest.raises(ValueError, match=r"\(2, 2, 4\), got \(2, 4\)"):
        norm.groupnorm_backward(np.ones((2, 4)), cache)
