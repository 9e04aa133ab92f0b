"""nblib.layers.dropout: the Dropout layer drops and rescales in training and is the identity at
inference (switched by Sequential.train()/eval() and by fit); its backward pass uses the mask of
its last forward pass; a fresh mask each call; a Sequential with Dropout against tf.GradientTape
with the same mask; fit trains through it and validates without it; bad input."""

import numpy as np
import pytest

from nblib import data, layers, optim
from nblib.layers.dropout import Dropout
from nblib.training import evaluate, fit
from tests.nblib.layers.gradients import TF_TIGHT, mean_cross_entropy


def test_training_drops_and_rescales_and_backward_uses_the_same_mask(rng):
    layer = Dropout(0.5, rng=np.random.default_rng(0))
    x = rng.uniform(1, 2, size=(20, 10))
    out = layer.forward(x)
    kept = out != 0
    # kept values are x / (1 - 0.5) = 2x; the rest 0
    np.testing.assert_allclose(out[kept], 2 * x[kept], rtol=1e-15)
    assert 0.35 < kept.mean() < 0.65
    dout = rng.normal(size=x.shape)
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, np.where(kept, 2 * dout, 0.0), rtol=1e-15)
    assert layer.params == {} and layer.grads == {}


def test_a_new_mask_each_forward_pass():
    layer = Dropout(0.5, rng=np.random.default_rng(0))
    x = np.ones((10, 10))
    assert not np.array_equal(layer.forward(x), layer.forward(x))


def test_inference_is_the_identity_and_sequential_switches_it(rng):
    layer = Dropout(0.9, rng=np.random.default_rng(0))
    model = layers.Sequential([layer])
    x = rng.normal(size=(4, 3))
    model.eval()
    assert layer.training is False
    np.testing.assert_array_equal(model.forward(x), x)
    np.testing.assert_array_equal(model.backward(np.ones((4, 3))), np.ones((4, 3)))
    model.train()
    assert np.count_nonzero(model.forward(x)) < x.size


def test_a_sequential_with_dropout_matches_tensorflow_with_the_same_mask(tf, keras, rng):
    # Dense(5, 4) -> ReLU -> Dropout(0.25) -> Dense(4, 3), softmax cross-entropy; the TensorFlow twin
    # multiplies by the mask the layer drew (read from its cache)
    first, second = layers.Dense(5, 4, rng=rng), layers.Dense(4, 3, rng=rng)
    dropout = Dropout(0.25, rng=np.random.default_rng(2))
    model = layers.Sequential([first, layers.Activation("relu"), dropout, second])
    X, y = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
    head = layers.SoftmaxCrossEntropy()
    logits = model.forward(X)
    loss = head.forward(logits, y)
    dX = model.backward(head.backward())
    mask = dropout._cache.mask
    assert set(np.unique(mask)) == {0.0, 4 / 3}
    W1, b1, W2, b2 = (tf.Variable(a) for a in (first.params["W"], first.params["b"], second.params["W"],
                                                second.params["b"]))
    Xv = tf.Variable(X)
    with tf.GradientTape() as tape:
        z = tf.nn.relu(Xv @ W1 + b1) * tf.constant(mask) @ W2 + b2
        loss_tf = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")(y, z)
    expected = tape.gradient(loss_tf, [Xv, W1, b1, W2, b2])
    np.testing.assert_allclose(logits, z.numpy(), rtol=1e-12)
    assert loss == pytest.approx(mean_cross_entropy(z.numpy(), y), rel=1e-12)
    ours = [dX, first.grads["W"], first.grads["b"], second.grads["W"], second.grads["b"]]
    for a, e in zip(ours, expected):
        np.testing.assert_allclose(a, e.numpy(), **TF_TIGHT)


def test_fit_trains_through_dropout_and_validates_without_it():
    digits = data.digits()
    rng = np.random.default_rng(0)
    model = layers.Sequential([layers.Dense(64, 64, rng=rng), layers.Activation("relu"),
                               Dropout(0.2, rng=np.random.default_rng(1)), layers.Dense(64, 10, rng=rng)])
    history = fit(model, digits.X_train, digits.y_train, optimizer=optim.Adam(0.01), epochs=4, rng=rng,
                  validation=(digits.X_test, digits.y_test))
    assert model.training  # the mode is given back
    assert history.val_accuracy[-1] > 0.9
    # the recorded validation numbers are those of the model in inference mode: deterministic
    model.eval()
    assert evaluate(model, digits.X_test, digits.y_test) == evaluate(model, digits.X_test, digits.y_test)
    assert history.val_loss[-1] == pytest.approx(evaluate(model, digits.X_test, digits.y_test)[0], rel=1e-12)
    model.train()
    assert evaluate(model, digits.X_test, digits.y_test) != evaluate(model, digits.X_test, digits.y_test)


def test_repr_and_bad_input():
    assert repr(Dropout(0.25, rng=np.random.default_rng(0))) == "Dropout(0.25)"
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\).*got 1"):
        Dropout(1, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"rng must be a np.random.Generator.*got int"):
        Dropout(0.5, rng=0)
    with pytest.raises(RuntimeError, match="call forward before backward"):
        Dropout(0.5, rng=np.random.default_rng(0)).backward(np.ones((2, 2)))
