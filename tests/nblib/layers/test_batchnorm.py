"""nblib.layers.batchnorm: the BatchNorm layer against keras.layers.BatchNormalization over
several training steps then inference (outputs, gradients, moving statistics); Keras's initial
values; running statistics in ``state``, updated in place in training mode only and never seen by
the optimizer; a Sequential with BatchNorm trained by fit; bad input."""

import numpy as np
import pytest

from nblib import data, layers, optim
from nblib.layers.batchnorm import BatchNorm
from nblib.training import fit
from tests.nblib.layers.gradients import TF_TIGHT


def test_starts_where_keras_starts(keras):
    keras_layer = keras.layers.BatchNormalization(dtype="float64")
    keras_layer.build((None, 3))
    gamma, beta, moving_mean, moving_var = keras_layer.get_weights()
    layer = BatchNorm(3)
    np.testing.assert_array_equal(layer.params["gamma"], gamma)
    np.testing.assert_array_equal(layer.params["beta"], beta)
    np.testing.assert_array_equal(layer.state["running_mean"], moving_mean)
    np.testing.assert_array_equal(layer.state["running_var"], moving_var)
    assert (layer.momentum, layer.eps) == (keras_layer.momentum, keras_layer.epsilon) == (0.99, 1e-3)
    assert set(layer.grads) == set(layer.params) == {"gamma", "beta"}


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 2, 3)], ids=["N,D", "N,H,W,C"])
def test_matches_keras_over_training_steps_then_inference(tf, keras, rng, shape):
    C = shape[-1]
    layer = BatchNorm(C)
    layer.params["gamma"][...] = rng.normal(size=C)
    layer.params["beta"][...] = rng.normal(size=C)
    keras_layer = keras.layers.BatchNormalization(dtype="float64")
    keras_layer.build((None,) + shape[1:])
    keras_layer.set_weights([layer.params["gamma"], layer.params["beta"], layer.state["running_mean"],
                             layer.state["running_var"]])
    for step, training in enumerate([True, True, True, False, False]):
        layer.training = training
        x, dout = rng.normal(loc=step, scale=1 + step, size=shape), rng.normal(size=shape)
        xv = tf.Variable(x)
        with tf.GradientTape() as tape:
            expected = keras_layer(xv, training=training)
        dx_k, dgamma_k, dbeta_k = tape.gradient(expected, [xv, keras_layer.gamma, keras_layer.beta],
                                                output_gradients=tf.constant(dout))
        np.testing.assert_allclose(layer.forward(x), expected.numpy(), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(layer.backward(dout), dx_k.numpy(), **TF_TIGHT)
        np.testing.assert_allclose(layer.grads["gamma"], np.asarray(dgamma_k), **TF_TIGHT)
        np.testing.assert_allclose(layer.grads["beta"], np.asarray(dbeta_k), **TF_TIGHT)
        np.testing.assert_allclose(layer.state["running_mean"], keras_layer.moving_mean.numpy(), rtol=1e-13)
        np.testing.assert_allclose(layer.state["running_var"], keras_layer.moving_variance.numpy(), rtol=1e-13)


def test_running_statistics_change_in_place_in_training_only(rng):
    layer = BatchNorm(2)
    model = layers.Sequential([layer])
    running_mean = layer.state["running_mean"]
    x = rng.normal(loc=5.0, size=(10, 2))
    model.forward(x)
    assert layer.state["running_mean"] is running_mean  # the same array, updated
    np.testing.assert_allclose(running_mean, 0.01 * x.mean(axis=0), rtol=1e-12)  # 0.99 * 0 + 0.01 * mean
    np.testing.assert_array_equal(model.state()["0.running_mean"], running_mean)
    before = {k: v.copy() for k, v in layer.state.items()}
    model.eval()
    model.forward(x + 100)
    for k in before:
        np.testing.assert_array_equal(layer.state[k], before[k])
    assert set(model.parameters()) == {"0.gamma", "0.beta"}  # the optimizer never sees the state


def test_fit_trains_a_network_with_batch_norm():
    digits = data.digits()
    rng = np.random.default_rng(0)
    bn = BatchNorm(32)
    model = layers.Sequential([layers.Dense(64, 32, rng=rng), bn, layers.Activation("relu"),
                               layers.Dense(32, 10, rng=rng)])
    history = fit(model, digits.X_train, digits.y_train, optimizer=optim.Adam(0.01), epochs=3, rng=rng,
                  validation=(digits.X_test, digits.y_test))
    assert history.val_accuracy[-1] > 0.9
    # after 3 * 43 updates at momentum 0.99 the running mean has moved most of the way to the
    # mean of the first layer's outputs on the training set
    hidden = model.layers[0].forward(digits.X_train)
    assert np.corrcoef(bn.state["running_mean"], hidden.mean(axis=0))[0, 1] > 0.9
    assert not np.allclose(bn.params["gamma"], 1.0)


def test_repr_and_bad_input():
    assert repr(BatchNorm(4)) == "BatchNorm(4)"
    with pytest.raises(ValueError, match="features must be >= 1, got 0"):
        BatchNorm(0)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\], got 2"):
        BatchNorm(3, momentum=2)
    with pytest.raises(ValueError, match=r"x must have C = 4 channels on its last axis.*got x of shape \(2, 3\)"):
        BatchNorm(4).forward(np.ones((2, 3)))
