"""nblib.regularization: the L2 penalty and its gradient by hand and against keras.regularizers.L2
(value, tf.GradientTape gradient, and a Keras Dense layer's kernel_regularizer, which leaves the bias
alone); inverted dropout by hand, its statistics, check_op, and against keras.layers.Dropout's
properties; gradient clipping by hand and against a Keras SGD step with clipvalue, clipnorm and
global_clipnorm; shifted digits against shifts written out here; EarlyStopping re-exported; bad
input; inputs never modified."""

import numpy as np
import pytest

from nblib import regularization as R
from nblib import training
from tests.nblib.layers.gradients import check_op

FACTOR = 2.0**-6  # exact in float32: Keras casts the l2 factor through float32


# --- L2 penalty ---------------------------------------------------------------------------------------------

def test_l2_by_hand():
    # kernels "0.W" and "2.W": squares 1 + 4 + 9 + 0 and 1, sum 15; the bias (10) does not count.
    # penalty = 0.5 * 15 = 7.5; gradient 2 * 0.5 * W = W, for the kernels only.
    params = {"0.W": np.array([[1.0, 2.0], [3.0, 0.0]]), "0.b": np.array([10.0]), "2.W": np.array([[-1.0]])}
    assert R.l2_penalty(params, factor=0.5) == 7.5
    grads = R.l2_gradient(params, factor=0.5)
    assert set(grads) == {"0.W", "2.W"}
    np.testing.assert_array_equal(grads["0.W"], params["0.W"])
    np.testing.assert_array_equal(grads["2.W"], [[-1.0]])
    assert R.l2_penalty(params, factor=0.0) == 0.0
    assert R.l2_penalty({"b": np.ones(3)}, factor=1.0) == 0.0  # no kernel, no penalty


def test_which_parameters_are_kernels():
    assert [R.is_kernel(k) for k in ("W", "0.W", "12.W", "b", "0.b", "3.gamma", "3.beta", "Wx")] == \
        [True, True, True, False, False, False, False, False]


def test_l2_matches_keras_regularizer_value_and_gradient(tf, keras, rng):
    kernels = {"0.W": rng.normal(size=(5, 4)), "2.W": rng.normal(size=(4, 3))}
    params = {**kernels, "0.b": rng.normal(size=4), "2.b": rng.normal(size=3)}
    before = {k: v.copy() for k, v in params.items()}
    regularizer = keras.regularizers.L2(FACTOR)
    variables = {k: tf.Variable(v) for k, v in kernels.items()}
    with tf.GradientTape() as tape:
        expected = sum(regularizer(v) for v in variables.values())
    expected_grads = tape.gradient(expected, variables)
    assert R.l2_penalty(params, factor=FACTOR) == pytest.approx(float(expected), rel=1e-13)
    grads = R.l2_gradient(params, factor=FACTOR)
    assert set(grads) == set(kernels)
    for k in kernels:
        np.testing.assert_allclose(grads[k], expected_grads[k].numpy(), rtol=1e-13)
    for k in params:  # inputs left alone
        np.testing.assert_array_equal(params[k], before[k])


def test_l2_is_a_keras_dense_kernel_regularizer_not_the_bias(keras, rng):
    W, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    dense = keras.layers.Dense(2, kernel_regularizer=keras.regularizers.L2(FACTOR), dtype="float64")
    dense.build((None, 3))
    dense.set_weights([W, b])
    dense(np.ones((1, 3)))
    (penalty,) = dense.losses
    assert R.l2_penalty({"W": W, "b": b}, factor=FACTOR) == pytest.approx(float(penalty), rel=1e-13)
    # with the bias counted too, it would differ
    assert FACTOR * (np.sum(W**2) + np.sum(b**2)) != pytest.approx(float(penalty), rel=1e-6)


def test_l2_bad_input():
    with pytest.raises(ValueError, match=r"factor must be a finite number >= 0, got -0.1"):
        R.l2_penalty({"W": np.ones(2)}, factor=-0.1)
    with pytest.raises(TypeError, match=r"params must be a dict of arrays.*got list"):
        R.l2_gradient([np.ones(2)], factor=0.1)


# --- inverted dropout ---------------------------------------------------------------------------------------

def test_dropout_by_hand():
    # rate 0.25: a value survives where the uniform draw u >= 0.25, and is then scaled by
    # 1 / (1 - 0.25) = 4/3; so x = 3 becomes 0 or 4. The draws of default_rng(0) for 8 values:
    x = np.full((2, 4), 3.0)
    u = np.random.default_rng(0).random((2, 4))
    out, cache = R.dropout_forward(x, rate=0.25, rng=np.random.default_rng(0), training=True)
    np.testing.assert_array_equal(out, np.where(u >= 0.25, 4.0, 0.0))
    assert 0 < np.count_nonzero(out) < 8  # this seed drops some and keeps some
    # backward: the same mask, the same scale: dout = 1 everywhere gives 4/3 where kept, 0 where dropped
    dx = R.dropout_backward(np.ones((2, 4)), cache)
    np.testing.assert_allclose(dx, np.where(u >= 0.25, 4 / 3, 0.0), rtol=1e-15)


def test_dropout_keeps_the_expected_value_and_drops_the_rate():
    x = np.ones((400, 250))
    out, _ = R.dropout_forward(x, rate=0.3, rng=np.random.default_rng(1), training=True)
    assert np.mean(out == 0) == pytest.approx(0.3, abs=0.005)
    assert out.mean() == pytest.approx(1.0, abs=0.01)  # inverted: E[out] = x
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-15)


def test_dropout_is_the_identity_at_inference_and_at_rate_0():
    x = np.arange(6.0).reshape(2, 3)
    out, cache = R.dropout_forward(x, rate=0.5, rng=np.random.default_rng(0), training=False)
    np.testing.assert_array_equal(out, x)
    assert out is not x  # a new array: changing it cannot change x
    dout = np.full((2, 3), 2.0)
    np.testing.assert_array_equal(R.dropout_backward(dout, cache), dout)
    out, _ = R.dropout_forward(x, rate=0.0, rng=np.random.default_rng(0), training=True)
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 3, 2)])
def test_dropout_gradients(tf, rng, shape):
    # the same seed each call, so every forward pass of the numerical check draws the same mask
    x = rng.normal(size=shape)
    mask = np.random.default_rng(3).random(shape) >= 0.4

    def forward(x):
        return R.dropout_forward(x, rate=0.4, rng=np.random.default_rng(3), training=True)

    out, (dx,) = check_op(forward, R.dropout_backward, (x,), tf_forward=lambda v: v * (mask / 0.6))
    np.testing.assert_array_equal(out == 0, ~mask)


def test_dropout_has_the_properties_of_keras_dropout(keras):
    # Keras draws its own mask, so the comparison is of properties: the same values kept and scaled
    # by 1 / (1 - rate), about the same fraction dropped, and the identity at inference
    x = np.random.default_rng(0).uniform(1, 2, size=(200, 100))
    layer = keras.layers.Dropout(0.25, seed=1, dtype="float64")
    theirs = np.asarray(layer(x, training=True))
    ours, _ = R.dropout_forward(x, rate=0.25, rng=np.random.default_rng(1), training=True)
    for out in (ours, theirs):
        kept = out != 0
        np.testing.assert_allclose(out[kept], x[kept] / 0.75, rtol=1e-15)
        assert np.mean(~kept) == pytest.approx(0.25, abs=0.01)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), R.dropout_forward(
        x, rate=0.25, rng=np.random.default_rng(1), training=False)[0])


def test_dropout_draws_a_new_mask_each_call_and_leaves_the_global_rng_alone():
    state = np.random.get_state()
    rng = np.random.default_rng(0)
    a, _ = R.dropout_forward(np.ones((10, 10)), rate=0.5, rng=rng, training=True)
    b, _ = R.dropout_forward(np.ones((10, 10)), rate=0.5, rng=rng, training=True)
    assert not np.array_equal(a, b)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1])


def test_dropout_bad_input():
    for rate in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=rf"rate must be in \[0, 1\).*got {rate}"):
            R.dropout_forward(np.ones((2, 2)), rate=rate, rng=np.random.default_rng(0), training=True)
    with pytest.raises(TypeError, match=r"rng must be a np.random.Generator.*got int"):
        R.dropout_forward(np.ones((2, 2)), rate=0.5, rng=0, training=True)
    _, cache = R.dropout_forward(np.ones((2, 3)), rate=0.5, rng=np.random.default_rng(0), training=True)
    with pytest.raises(ValueError, match=r"dout must have the shape of the layer's output, \(2, 3\), got \(3, 2\)"):
        R.dropout_backward(np.ones((3, 2)), cache)


# --- gradient clipping ----------------------------------------------------------------------------------------

def test_clipping_by_hand():
    g = np.array([-3.0, 0.5, 2.0])
    np.testing.assert_array_equal(R.clip_by_value(g, clipvalue=1.0), [-1.0, 0.5, 1.0])
    # ||[3, 4]|| = 5 > 1: scaled by 1/5; ||[0.3, 0.4]|| = 0.5 <= 1: unchanged; zeros stay zeros
    np.testing.assert_allclose(R.clip_by_norm(np.array([3.0, 4.0]), clipnorm=1.0), [0.6, 0.8], rtol=1e-15)
    np.testing.assert_array_equal(R.clip_by_norm(np.array([0.3, 0.4]), clipnorm=1.0), [0.3, 0.4])
    np.testing.assert_array_equal(R.clip_by_norm(np.zeros(3), clipnorm=1.0), np.zeros(3))
    # the global norm of {[3], [4]} is 5: both scaled by 2/5 for clipnorm 2, keeping their ratio 3:4
    # (clip_by_norm on each alone would give [2] and [2])
    grads = {"W": np.array([3.0]), "b": np.array([4.0])}
    assert R.global_norm(grads) == 5.0
    clipped = R.clip_by_global_norm(grads, clipnorm=2.0)
    np.testing.assert_allclose(clipped["W"], [1.2], rtol=1e-15)
    np.testing.assert_allclose(clipped["b"], [1.6], rtol=1e-15)
    assert R.clip_by_global_norm(grads, clipnorm=10.0)["W"][0] == 3.0
    np.testing.assert_array_equal(grads["W"], [3.0])  # the input is left alone
    # an infinite norm makes everything NaN (Keras: scale + (norm - norm))
    assert np.isnan(R.clip_by_global_norm({"W": np.array([np.inf, 1.0])}, clipnorm=1.0)["W"]).all()


@pytest.mark.parametrize("option, value", [("clipvalue", 0.5), ("clipnorm", 1.5), ("global_clipnorm", 2.5)])
def test_clipping_matches_a_keras_sgd_step(keras, rng, option, value):
    # with SGD at learning rate 1, w - w_new is exactly the clipped gradient Keras used
    weights = [rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(2, 2))]
    grads = [rng.normal(scale=s, size=w.shape) for s, w in zip((2.0, 0.1, 1.0), weights)]  # some above, some below
    variables = [keras.Variable(w, dtype="float64") for w in weights]
    keras.optimizers.SGD(learning_rate=1.0, **{option: value}).apply(
        [keras.ops.convert_to_tensor(g, dtype="float64") for g in grads], variables)
    expected = [w - np.asarray(v.numpy()) for w, v in zip(weights, variables)]
    if option == "clipvalue":
        ours = [R.clip_by_value(g, clipvalue=value) for g in grads]
    elif option == "clipnorm":
        ours = [R.clip_by_norm(g, clipnorm=value) for g in grads]
    else:
        ours = list(R.clip_by_global_norm(dict(enumerate(grads)), clipnorm=value).values())
    for a, e, g in zip(ours, expected, grads):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-14)
    assert any(not np.allclose(a, g) for a, g in zip(ours, grads))  # something was clipped


def test_clipping_bad_input():
    with pytest.raises(ValueError, match=r"clipvalue must be a positive number, got 0"):
        R.clip_by_value(np.ones(2), clipvalue=0)
    with pytest.raises(ValueError, match=r"clipnorm must be a positive number, got -1"):
        R.clip_by_norm(np.ones(2), clipnorm=-1)
    with pytest.raises(TypeError, match=r"grads must be a dict of arrays, got list"):
        R.clip_by_global_norm([np.ones(2)], clipnorm=1.0)


# --- shifted digits ------------------------------------------------------------------------------------------

def shifted(image, dy, dx):
    """The image moved dy rows down and dx columns right, zeros coming in (written out with slices)."""
    h, w = image.shape
    out = np.zeros_like(image)
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def test_shifted_helper_by_hand():
    image = np.arange(1.0, 10.0).reshape(3, 3)
    np.testing.assert_array_equal(shifted(image, 1, -1), [[0, 0, 0], [2, 3, 0], [5, 6, 0]])


@pytest.mark.parametrize("max_shift", [1, 2])
def test_shift_digits_moves_each_image_by_a_small_shift(rng, max_shift):
    X = rng.uniform(0, 16, size=(300, 64))
    before = X.copy()
    out = R.shift_digits(X, rng=np.random.default_rng(0), max_shift=max_shift)
    assert out.shape == X.shape
    np.testing.assert_array_equal(X, before)
    moves = range(-max_shift, max_shift + 1)
    seen = set()
    for x, o in zip(X, out):
        image = x.reshape(8, 8)
        match = [(dy, dx) for dy in moves for dx in moves if np.array_equal(o.reshape(8, 8), shifted(image, dy, dx))]
        assert len(match) == 1, "each output is exactly one small shift of its input"
        seen.add(match[0])
    assert len(seen) == len(moves) ** 2  # every shift, the null one included, occurs


def test_shift_digits_on_the_digits_keeps_the_shape_and_ink(rng):
    from nblib import data

    X = data.digits().X_train[:50]
    images = X.reshape(-1, 8, 8)
    out = R.shift_digits(images, rng=rng)
    assert out.shape == (50, 8, 8)
    assert np.all(out.sum(axis=(1, 2)) <= images.sum(axis=(1, 2)) + 1e-12)  # ink only leaves at the border
    np.testing.assert_array_equal(R.shift_digits(X, rng=rng, max_shift=0), X)


def test_shift_digits_bad_input():
    with pytest.raises(ValueError, match=r"X must have shape \(N, 64\) or \(N, 8, 8\), got \(5, 63\)"):
        R.shift_digits(np.ones((5, 63)), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"max_shift must be >= 0, got -1"):
        R.shift_digits(np.ones((5, 64)), rng=np.random.default_rng(0), max_shift=-1)
    with pytest.raises(TypeError, match=r"rng must be a np.random.Generator.*got NoneType"):
        R.shift_digits(np.ones((5, 64)), rng=None)


# --- early stopping ---------------------------------------------------------------------------------------------

def test_early_stopping_is_the_one_in_training():
    assert R.EarlyStopping is training.EarlyStopping
    assert "EarlyStopping" in R.__all__
    from nblib.regularization import EarlyStopping

    assert EarlyStopping is training.EarlyStopping
    with pytest.raises(AttributeError, match="no attribute 'Early'"):
        R.Early
