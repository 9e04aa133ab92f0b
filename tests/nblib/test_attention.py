"""nblib.attention: scaled dot-product attention, masks, heads, multi-head attention, positions, the block.

Multi-head attention against keras.layers.MultiHeadAttention given the same float64 weights
(self- and cross-attention, ``attention_mask``, ``use_causal_mask``, the scores from
``return_attention_scores=True``), its gradients against tf.GradientTape on that layer and
against centred differences; hand-worked examples with their derivation; the transformer block
against the same block built from Keras layers; bad input and inputs left alone.
"""

import numpy as np
import pytest

from nblib import attention
from nblib.gradcheck import check_gradient

TIGHT = dict(rtol=1e-10, atol=1e-12)   # float64 against float64
# Keras scales by 1 / sqrt(key_dim) rounded to float32 (``ops.cast`` of a Python float goes through float32) even
# in a float64 layer: exact for key_dim = 1, 4, 16 (1, 0.5, 0.25), so the tight comparisons use those key_dims.
# (Not key_dim = 1: Keras 3.15's EinsumDense adds the bias (heads, 1) along the wrong axis when Tq == heads.)


def mha_weights(rng, Dq, Dk, Dv, heads, key_dim, value_dim, D_out):
    """Random weights in keras.layers.MultiHeadAttention's layout, as a dict of attention.MHA_WEIGHTS."""
    shapes = dict(Wq=(Dq, heads, key_dim), bq=(heads, key_dim), Wk=(Dk, heads, key_dim), bk=(heads, key_dim),
                  Wv=(Dv, heads, value_dim), bv=(heads, value_dim), Wo=(heads, value_dim, D_out), bo=(D_out,))
    return {name: rng.normal(size=shape) / 2 for name, shape in shapes.items()}


def keras_mha(keras, w, query, value, key=None, *, output_shape=None):
    """A float64 keras.layers.MultiHeadAttention holding the weights w."""
    heads, key_dim = w["Wq"].shape[1:]
    layer = keras.layers.MultiHeadAttention(heads, key_dim, value_dim=w["Wv"].shape[2], output_shape=output_shape,
                                            dtype="float64")
    layer.build(query.shape, value.shape, None if key is None else key.shape)
    assert [tuple(v.shape) for v in layer.get_weights()] == [w[n].shape for n in attention.MHA_WEIGHTS]
    layer.set_weights([w[n] for n in attention.MHA_WEIGHTS])
    return layer


def random_mask(rng, shape):
    """A random boolean mask in which every query may attend to at least one key."""
    mask = rng.random(shape) < 0.6
    mask[..., 0] |= ~mask.any(axis=-1)
    return mask


# --- scaled dot-product attention -------------------------------------------------------------------------

def test_attention_by_hand():
    # q = (1, 0), keys (1, 0) and (0, 1): scores (1, 0) / sqrt(2) = (0.7071, 0); softmax:
    # e^0.7071 = 2.0281, so the weights are 2.0281 / 3.0281 = 0.66976 and 1 / 3.0281 = 0.33024;
    # out = 0.66976 * 10 + 0.33024 * 20 = 13.3024.
    out, weights = attention.scaled_dot_product_attention([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[10.0], [20.0]])
    np.testing.assert_allclose(weights, [[0.669762, 0.330238]], atol=1e-6)
    np.testing.assert_allclose(out, [[13.30238]], atol=1e-5)


def test_a_mask_zeroes_the_weights_before_the_softmax(rng):
    q, k, v = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 6, 2))
    mask = random_mask(rng, (2, 1, 4, 6))
    out, weights = attention.scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (2, 3, 4, 2) and weights.shape == (2, 3, 4, 6)
    np.testing.assert_array_equal(weights[np.broadcast_to(~mask, weights.shape)], 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, **TIGHT)
    # the visible keys share the weight as a softmax over them alone
    scores = q[0, 1, 2] @ k[0, 1].T / np.sqrt(5)
    visible = mask[0, 0, 2]
    expected = np.exp(scores[visible]) / np.exp(scores[visible]).sum()
    np.testing.assert_allclose(weights[0, 1, 2, visible], expected, **TIGHT)


def test_large_scores_do_not_overflow_and_a_fully_masked_row_is_uniform():
    q = np.array([[1000.0, 0.0]])
    out, weights = attention.scaled_dot_product_attention(q, np.array([[1000.0, 0.0], [-1000.0, 0.0]]),
                                                          np.array([[1.0], [2.0]]))
    np.testing.assert_array_equal(weights, [[1.0, 0.0]])
    _, weights = attention.scaled_dot_product_attention(np.ones((2, 2)), np.ones((3, 2)), np.ones((3, 1)),
                                                        mask=np.array([[True, False, True], [False, False, False]]))
    np.testing.assert_allclose(weights, [[0.5, 0.0, 0.5], [1 / 3, 1 / 3, 1 / 3]], **TIGHT)  # as Keras's Softmax


def test_the_attention_gradient_against_centred_differences(rng):
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 3))
    mask, dout = random_mask(rng, (2, 3, 5)), rng.normal(size=(2, 3, 3))
    out, weights = attention.scaled_dot_product_attention(q, k, v, mask)
    grads = attention.scaled_dot_product_attention_backward(dout, q, k, v, weights, mask)
    for i, x in enumerate((q, k, v)):
        def loss(value, i=i):
            args = [q, k, v]
            args[i] = value
            return np.sum(dout * attention.scaled_dot_product_attention(*args, mask)[0])
        assert check_gradient(loss, x.copy(), grads[i], tol=1e-6).ok


# --- masks and heads ---------------------------------------------------------------------------------------

def test_the_masks():
    np.testing.assert_array_equal(attention.causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    assert attention.causal_mask(4).dtype == bool
    mask = attention.padding_mask(np.array([1, 3, 0]), 3)
    assert mask.shape == (3, 1, 3) and mask.dtype == bool
    np.testing.assert_array_equal(mask[:, 0], [[1, 0, 0], [1, 1, 1], [0, 0, 0]])


def test_split_heads_takes_consecutive_features_and_merge_heads_undoes_it(rng):
    x = rng.normal(size=(3, 5, 12))
    heads = attention.split_heads(x, 4)
    assert heads.shape == (3, 4, 5, 3)
    for h in range(4):  # head h holds the features 3h .. 3h + 2 of every step
        np.testing.assert_array_equal(heads[:, h], x[:, :, 3 * h:3 * h + 3])
    np.testing.assert_array_equal(attention.merge_heads(heads), x)


# --- multi-head attention against Keras --------------------------------------------------------------------

@pytest.mark.parametrize("case", ["self", "cross", "mask", "causal", "padding and causal"])
def test_mha_matches_keras_multi_head_attention(keras, rng, case):
    N, Tq, Tk, D = 3, 4, 4, 6
    query = rng.normal(size=(N, Tq, D))
    value, key, kwargs, ours = query, None, {}, {}
    w = mha_weights(rng, D, D, D, 2, 4, 4, D)
    if case == "cross":   # Tq != Tk, a key of its own, value_dim != key_dim, an output size of its own
        Tk = 7
        value, key = rng.normal(size=(N, Tk, 5)), rng.normal(size=(N, Tk, 2))
        w = mha_weights(rng, D, 2, 5, 3, 4, 3, 8)
    elif case == "mask":
        ours["mask"] = kwargs["attention_mask"] = random_mask(rng, (N, Tq, Tk))
    elif case == "causal":
        ours["causal"] = kwargs["use_causal_mask"] = True
    else:
        ours["mask"] = kwargs["attention_mask"] = np.broadcast_to(attention.padding_mask(np.array([4, 2, 3]), Tk),
                                                                  (N, Tq, Tk))
        ours["causal"] = kwargs["use_causal_mask"] = True
    layer = keras_mha(keras, w, query, value, key, output_shape=w["Wo"].shape[-1] if case == "cross" else None)
    theirs, scores = layer(query, value, key, return_attention_scores=True, **kwargs)
    out, cache = attention.mha_forward(query, value, key, **w, **ours)
    np.testing.assert_allclose(out, np.asarray(theirs), **TIGHT)
    np.testing.assert_allclose(cache.weights, np.asarray(scores), **TIGHT)
    listed, listed_scores = attention.multi_head_attention(query, value, layer.get_weights(), key=key, **ours)
    np.testing.assert_allclose(listed, out, **TIGHT)
    np.testing.assert_allclose(listed_scores, cache.weights, **TIGHT)


def test_keras_rounds_the_scale_to_float32_for_other_key_dims(keras, rng):
    # key_dim = 3: Keras's 1 / sqrt(3) is 0.57735026 (float32), ours 0.5773502691896258; the outputs agree to
    # about 1e-7 relative, well inside the homework's tolerance (1e-6 relative), and not to float64's precision.
    x, w = rng.normal(size=(2, 4, 6)), mha_weights(rng, 6, 6, 6, 2, 3, 3, 6)
    theirs, scores = keras_mha(keras, w, x, x)(x, x, return_attention_scores=True)
    out, cache = attention.mha_forward(x, x, **w)
    np.testing.assert_allclose(out, np.asarray(theirs), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(cache.weights, np.asarray(scores), rtol=1e-6, atol=1e-9)
    assert not np.allclose(cache.weights, np.asarray(scores), **TIGHT)


@pytest.mark.parametrize("key_given", [False, True])
def test_mha_gradients_match_tf_gradient_tape_on_the_keras_layer(keras, tf, rng, key_given):
    N, Tq, Tk, D = 2, 3, 5, 4
    query, value = rng.normal(size=(N, Tq, D)), rng.normal(size=(N, Tk, 3))
    key = rng.normal(size=(N, Tk, 2)) if key_given else None
    w = mha_weights(rng, D, 2 if key_given else 3, 3, 2, 4 if key_given else 16, 2, D)
    mask = random_mask(rng, (N, Tq, Tk))
    layer = keras_mha(keras, w, query, value, key)
    dout = rng.normal(size=(N, Tq, D))
    inputs = [tf.Variable(a) for a in (query, value) + ((key,) if key_given else ())]
    with tf.GradientTape() as tape:
        out_k = layer(*inputs, attention_mask=mask)
    theirs = tape.gradient(out_k, inputs + list(layer.trainable_variables), output_gradients=tf.constant(dout))
    out, cache = attention.mha_forward(query, value, key, **w, mask=mask)
    np.testing.assert_allclose(out, np.asarray(out_k), **TIGHT)
    dquery, dvalue, dkey, *dweights = attention.mha_backward(dout, cache)
    ours = [dquery, dvalue] + ([dkey] if key_given else []) + dweights
    assert dkey is None or key_given
    names = [v.path for v in layer.trainable_variables]
    assert len(names) == 8 and names[0].endswith("query/kernel") and names[-1].endswith("attention_output/bias")
    for got, expected in zip(ours, theirs):
        np.testing.assert_allclose(got, np.asarray(expected), **TIGHT)


def test_mha_gradients_against_centred_differences(rng):
    query, value, key = rng.normal(size=(1, 2, 3)), rng.normal(size=(1, 3, 2)), rng.normal(size=(1, 3, 3))
    w = mha_weights(rng, 3, 3, 2, 2, 2, 2, 3)
    dout = rng.normal(size=(1, 2, 3))
    args = {"query": query, "value": value, "key": key, **w}
    out, cache = attention.mha_forward(query, value, key, **w, causal=True)
    grads = dict(zip(["query", "value", "key", *attention.MHA_WEIGHTS], attention.mha_backward(dout, cache)))
    for name, x in args.items():
        def loss(changed, name=name):
            a = dict(args, **{name: changed})
            q, v, k = a.pop("query"), a.pop("value"), a.pop("key")
            return np.sum(dout * attention.mha_forward(q, v, k, **a, causal=True)[0])
        result = check_gradient(loss, x.copy(), grads[name], tol=1e-6)
        assert result.ok, f"{name}: {result}"


def test_mha_leaves_its_inputs_alone(rng):
    x, w = rng.normal(size=(2, 3, 4)), mha_weights(rng, 4, 4, 4, 2, 2, 2, 4)
    for a in [x, *w.values()]:
        a.setflags(write=False)           # any write raises
    out, cache = attention.mha_forward(x, x, **w, mask=attention.causal_mask(3))
    attention.mha_backward(np.ones_like(out), cache)


def test_bad_input_is_named(rng):
    with pytest.raises(ValueError, match="same last axis d_k"):
        attention.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        attention.scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 1)), mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match="multiple of heads"):
        attention.split_heads(np.ones((1, 2, 5)), 2)
    with pytest.raises(ValueError, match="Wq must have shape"):
        attention.mha_forward(np.ones((1, 2, 3)), np.ones((1, 2, 3)), **mha_weights(rng, 4, 3, 3, 2, 2, 2, 3))
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, T\]"):
        attention.padding_mask(np.array([5]), 4)


# --- positions -------------------------------------------------------------------------------------------------

def test_positional_encoding_by_hand():
    pe = attention.positional_encoding(4, 6)
    assert pe.shape == (4, 6)
    # D = 6: dimensions 2i and 2i+1 turn at 1 / 10000^(2i/6), i = 0, 1, 2: 1, 10000^(-1/3) = 0.0464159, 10000^(-2/3)
    # = 0.00215443. At t = 3: sin(3) = 0.141120, cos(3) = -0.989992, sin(3 * 0.0464159) = sin(0.139248) = 0.138798,
    # cos(0.139248) = 0.990321, sin(3 * 0.00215443) = 0.00646325, cos(0.00646330) = 0.999979.
    np.testing.assert_allclose(pe[3], [0.141120, -0.989992, 0.138798, 0.990321, 0.00646325, 0.999979], atol=2e-6)
    np.testing.assert_array_equal(pe[0], [0, 1, 0, 1, 0, 1])                   # t = 0: sin 0 and cos 0
    assert attention.positional_encoding(3, 5).shape == (3, 5)                  # an odd D ends with a sine
    np.testing.assert_allclose(attention.positional_encoding(3, 5)[2, 4], np.sin(2 / 10000 ** 0.8), **TIGHT)


# --- the transformer block --------------------------------------------------------------------------------------

def test_the_block_matches_a_block_built_from_keras_layers(keras, rng):
    N, T, D, heads, key_dim, F = 2, 5, 6, 2, 4, 10
    x, mask = rng.normal(size=(N, T, D)), random_mask(rng, (N, T, T))
    params = dict(mha_weights(rng, D, D, D, heads, key_dim, key_dim, D),
                  gamma1=rng.normal(size=D), beta1=rng.normal(size=D), W1=rng.normal(size=(D, F)) / 2,
                  b1=rng.normal(size=F), W2=rng.normal(size=(F, D)) / 2, b2=rng.normal(size=D),
                  gamma2=rng.normal(size=D), beta2=rng.normal(size=D))
    mha = keras_mha(keras, params, x, x)
    norm1, norm2 = keras.layers.LayerNormalization(dtype="float64"), keras.layers.LayerNormalization(dtype="float64")
    dense1 = keras.layers.Dense(F, activation="relu", dtype="float64")
    dense2 = keras.layers.Dense(D, dtype="float64")
    for layer, names in ((norm1, ("gamma1", "beta1")), (dense1, ("W1", "b1")), (dense2, ("W2", "b2")),
                         (norm2, ("gamma2", "beta2"))):
        layer.build((None, T, params[names[0]].shape[0]))
        layer.set_weights([params[n] for n in names])
    h1 = norm1(x + mha(x, x, attention_mask=mask))
    theirs = np.asarray(norm2(h1 + dense2(dense1(h1))))
    out, cache = attention.transformer_block_forward(x, params, heads=heads, mask=mask)
    np.testing.assert_allclose(out, theirs, **TIGHT)
    assert cache.attention.weights.shape == (N, heads, T, T)


def test_the_reverse_task(rng):
    x, y = attention.reverse_task(50, 7, vocab=5, rng=3)
    assert x.shape == y.shape == (50, 7) and x.dtype.kind == "i"
    np.testing.assert_array_equal(y, x[:, ::-1])
    assert set(np.unique(x)) == set(range(5))
    np.testing.assert_array_equal(attention.reverse_task(50, 7, vocab=5, rng=3)[0], x)  # the seed fixes the draw
