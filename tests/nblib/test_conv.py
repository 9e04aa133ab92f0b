"""nblib.conv: convolution and pooling, forward and backward, against Keras and TensorFlow.

- keras.layers.Conv2D, MaxPooling2D and AveragePooling2D (float64, the same kernels) on a
  seeded set of random configurations: channels, odd and even sizes, strides 1-3, both
  paddings; outputs and tf.GradientTape gradients (dx, dW, db);
- check_op: centred differences and tf.nn's ops in one call, inputs left alone;
- the loop versions against the vectorised ones (forward, backward, the same cache);
- hand-worked examples with their derivation; output sizes; max-pooling ties as TensorFlow;
- bad input: messages that name what was expected and what came in.
"""

import dataclasses

import numpy as np
import pytest

from nblib import conv
from tests.nblib.layers.gradients import TF_TIGHT, check_op

FORWARD = dict(rtol=1e-12, atol=1e-12)


def make_configs(n=12, seed=7):
    """n configurations: strides 1-3 and both paddings each met, H and W odd and even."""
    rng = np.random.default_rng(seed)
    configs = []
    for i in range(n):
        stride = 1 + i % 3                                       # 1, 2, 3, 1, ...
        padding = conv.PADDINGS[(i // 3) % 2]                    # three of each, then switch
        H, W = int(rng.integers(4, 10)), int(rng.integers(4, 10))
        if i in (4, 9):                                          # two non-square strides
            stride = (stride, 1 + (stride % 3))
        k = int(rng.integers(1, 5))
        kernel = (min(k, H), min(int(rng.integers(1, 5)), W))    # rectangular kernels too
        pool = (min(int(rng.integers(1, 4)), H), min(int(rng.integers(1, 4)), W))
        configs.append(dict(N=int(rng.integers(1, 4)), H=H, W=W, C=int(rng.integers(1, 4)),
                            M=int(rng.integers(1, 5)), kernel=kernel, pool=pool, stride=stride, padding=padding))
    return configs


CONFIGS = make_configs()
IDS = [f"{c['N']}x{c['H']}x{c['W']}x{c['C']}-k{c['kernel']}-p{c['pool']}-s{c['stride']}-{c['padding']}"
       for c in CONFIGS]


def test_the_configurations_cover_what_they_promise():
    strides = {s for c in CONFIGS for s in np.ravel(c["stride"])}
    assert strides == {1, 2, 3}
    assert {c["padding"] for c in CONFIGS} == {"valid", "same"}
    sizes = [c["H"] for c in CONFIGS] + [c["W"] for c in CONFIGS]
    assert any(s % 2 for s in sizes) and any(s % 2 == 0 for s in sizes)
    assert {c["C"] for c in CONFIGS} >= {1, 2, 3}


def conv_problem(config, rng):
    c = config
    x = rng.normal(size=(c["N"], c["H"], c["W"], c["C"]))
    W = rng.normal(size=(*c["kernel"], c["C"], c["M"]))
    return x, W, rng.normal(size=c["M"])


def keras_call(tf, layer, x, dout_rng, weights=()):
    """Keras's output, a random dout, and the tape's gradients for x and the weights."""
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        out = layer(xv)
    dout = dout_rng.normal(size=out.shape)
    grads = tape.gradient(out, [xv, *weights], output_gradients=tf.constant(dout))
    return out.numpy(), dout, [np.asarray(g) for g in grads]


def as_tuple(grads):
    return (grads,) if isinstance(grads, np.ndarray) else tuple(grads)


def strides2(stride):
    return tuple(np.broadcast_to(stride, 2).tolist())


# --- against Keras ------------------------------------------------------------------------------

@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_conv2d_matches_keras_conv2d(tf, keras, rng, config):
    x, W, b = conv_problem(config, rng)
    layer = keras.layers.Conv2D(config["M"], config["kernel"], strides=config["stride"], padding=config["padding"],
                                dtype="float64")
    layer.build(x.shape)
    layer.set_weights([W, b])
    expected, dout, (dx_k, dW_k, db_k) = keras_call(tf, layer, x, rng, [layer.kernel, layer.bias])

    out, cache = conv.conv2d_forward(x, W, b, stride=config["stride"], padding=config["padding"])
    assert out.shape == expected.shape == conv.output_shape(x.shape, W.shape, stride=config["stride"],
                                                            padding=config["padding"])
    np.testing.assert_allclose(out, expected, **FORWARD)
    dx, dW, db = conv.conv2d_backward(dout, cache)
    np.testing.assert_allclose(dx, dx_k, **TF_TIGHT)
    np.testing.assert_allclose(dW, dW_k, **TF_TIGHT)
    np.testing.assert_allclose(db, db_k, **TF_TIGHT)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_maxpool_matches_keras_maxpooling2d(tf, keras, rng, config):
    x = rng.normal(size=(config["N"], config["H"], config["W"], config["C"]))
    layer = keras.layers.MaxPooling2D(config["pool"], strides=config["stride"], padding=config["padding"],
                                      dtype="float64")
    expected, dout, (dx_k,) = keras_call(tf, layer, x, rng)
    out, cache = conv.maxpool_forward(x, pool=config["pool"], stride=config["stride"], padding=config["padding"])
    np.testing.assert_array_equal(out, expected)  # a maximum is one of the inputs: exact
    # the gradient is exact too, up to the order in which overlapping windows add up
    np.testing.assert_allclose(conv.maxpool_backward(dout, cache), dx_k, **TF_TIGHT)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_avgpool_matches_keras_averagepooling2d(tf, keras, rng, config):
    # with "same" TensorFlow divides by the number of image cells in the window, not PH * PW
    x = rng.normal(size=(config["N"], config["H"], config["W"], config["C"]))
    layer = keras.layers.AveragePooling2D(config["pool"], strides=config["stride"], padding=config["padding"],
                                          dtype="float64")
    expected, dout, (dx_k,) = keras_call(tf, layer, x, rng)
    out, cache = conv.avgpool_forward(x, pool=config["pool"], stride=config["stride"], padding=config["padding"])
    np.testing.assert_allclose(out, expected, **FORWARD)
    np.testing.assert_allclose(conv.avgpool_backward(dout, cache), dx_k, **TF_TIGHT)


@pytest.mark.parametrize("C", [1, conv.THIN // 9 + 1], ids=["thin rows: per image", "one product"])
@pytest.mark.parametrize("padding", conv.PADDINGS)
def test_both_matrix_product_paths_match_keras_and_the_loops(tf, keras, rng, C, padding):
    # rows of KH*KW*C = 9 numbers are multiplied image by image, of >= conv.THIN in one product
    x, W, b = rng.normal(size=(3, 7, 6, C)), rng.normal(size=(3, 3, C, 5)), rng.normal(size=5)
    layer = keras.layers.Conv2D(5, 3, strides=2, padding=padding, dtype="float64")
    layer.build(x.shape)
    layer.set_weights([W, b])
    expected, dout, keras_grads = keras_call(tf, layer, x, rng, [layer.kernel, layer.bias])
    out, cache = conv.conv2d_forward(x, W, b, stride=2, padding=padding)
    np.testing.assert_allclose(out, expected, **FORWARD)
    loop_grads = conv.conv2d_backward_loops(dout, cache)
    for ours, theirs, loops in zip(conv.conv2d_backward(dout, cache), keras_grads, loop_grads):
        np.testing.assert_allclose(ours, theirs, **TF_TIGHT)
        np.testing.assert_allclose(loops, ours, rtol=1e-12, atol=1e-12)


def test_keras_default_pool_stride_is_the_window(keras, rng):
    x = rng.normal(size=(2, 7, 6, 3))
    for ours, theirs in ((conv.maxpool_forward, keras.layers.MaxPooling2D),
                         (conv.avgpool_forward, keras.layers.AveragePooling2D)):
        expected = np.asarray(theirs(3, dtype="float64")(x))
        out, cache = ours(x, pool=3)
        assert cache.stride == (3, 3) and out.shape == expected.shape == (2, 2, 2, 3)
        np.testing.assert_allclose(out, expected, **FORWARD)


def test_maxpool_ties_go_to_the_first_maximum_as_in_tensorflow(tf, keras):
    # integer values 0..2 in small windows: most windows have a tie for their maximum;
    # overlapping windows (pool 3, stride 1 and 2) and "same" padding too
    x = np.random.default_rng(3).integers(0, 3, size=(2, 7, 6, 2)).astype(float)
    for pool, stride, padding in ((2, 2, "valid"), (3, 1, "valid"), (3, 2, "same"), (2, 1, "same")):
        layer = keras.layers.MaxPooling2D(pool, strides=stride, padding=padding, dtype="float64")
        expected, dout, (dx_k,) = keras_call(tf, layer, x, np.random.default_rng(pool * stride))
        out, cache = conv.maxpool_forward(x, pool=pool, stride=stride, padding=padding)
        np.testing.assert_array_equal(out, expected)
        # a winner gets exactly its window's dout; only sums over overlapping windows round
        np.testing.assert_allclose(conv.maxpool_backward(dout, cache), dx_k, **TF_TIGHT,
                                   err_msg=f"{pool}, {stride}, {padding}")
        np.testing.assert_allclose(conv.maxpool_backward_loops(dout, cache), dx_k, **TF_TIGHT)


# --- numerical gradients and tf.nn, in one call ----------------------------------------------------

@pytest.mark.parametrize("config", CONFIGS[::2], ids=IDS[::2])
def test_conv2d_gradients(tf, rng, config):
    # The numerical check at relative error 1e-5, not 1e-6: the error is entrywise, and an entry
    # of dx near 1e-4 (a corner pixel under one window) carries centred-difference round-off of
    # ~1e-10 from the ~100-term sum(dout * out). TensorFlow's gradient is still compared at 1e-10.
    x, W, b = conv_problem(config, rng)
    stride, padding = config["stride"], config["padding"]
    out, (dx, dW, db) = check_op(
        conv.conv2d_forward, conv.conv2d_backward, (x, W, b), hyper=dict(stride=stride, padding=padding),
        tf_forward=lambda x, W, b: tf.nn.conv2d(x, W, strides=strides2(stride), padding=padding.upper()) + b,
        tol=1e-5)
    assert (dx.shape, dW.shape, db.shape) == (x.shape, W.shape, b.shape)


@pytest.mark.parametrize("config", CONFIGS[1::2], ids=IDS[1::2])
def test_pooling_gradients(tf, rng, config):
    x = rng.normal(size=(config["N"], config["H"], config["W"], config["C"]))
    hyper = dict(pool=config["pool"], stride=config["stride"], padding=config["padding"])
    tf_args = dict(ksize=config["pool"], strides=strides2(config["stride"]), padding=config["padding"].upper())
    check_op(conv.maxpool_forward, conv.maxpool_backward, (x,), hyper=hyper,
             tf_forward=lambda v: tf.nn.max_pool2d(v, **tf_args))
    check_op(conv.avgpool_forward, conv.avgpool_backward, (x,), hyper=hyper,
             tf_forward=lambda v: tf.nn.avg_pool2d(v, **tf_args))


# --- loops against the vectorised versions ---------------------------------------------------------

@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_loops_and_vectorised_agree(rng, config):
    x, W, b = conv_problem(config, rng)
    conv_hyper = dict(stride=config["stride"], padding=config["padding"])
    pool_hyper = dict(pool=config["pool"], **conv_hyper)
    snapshot = [a.copy() for a in (x, W, b)]
    pairs = [
        (conv.conv2d_forward, conv.conv2d_forward_loops, conv.conv2d_backward, conv.conv2d_backward_loops,
         (x, W, b), conv_hyper),
        (conv.maxpool_forward, conv.maxpool_forward_loops, conv.maxpool_backward, conv.maxpool_backward_loops,
         (x,), pool_hyper),
        (conv.avgpool_forward, conv.avgpool_forward_loops, conv.avgpool_backward, conv.avgpool_backward_loops,
         (x,), pool_hyper),
    ]
    for forward, forward_loops, backward, backward_loops, args, hyper in pairs:
        out, cache = forward(*args, **hyper)
        out_loops, cache_loops = forward_loops(*args, **hyper)
        np.testing.assert_allclose(out_loops, out, rtol=1e-12, atol=1e-12, err_msg=forward.__name__)
        assert (cache_loops.stride, cache_loops.pads) == (cache.stride, cache.pads)
        dout = rng.normal(size=out.shape)
        grads = backward(dout, cache)
        grads_loops = backward_loops(dout, cache)  # the same cache works for both
        grads, grads_loops = as_tuple(grads), as_tuple(grads_loops)
        assert len(grads) == len(grads_loops) == len(args)
        for g, g_loops in zip(grads, grads_loops):
            np.testing.assert_allclose(g_loops, g, rtol=1e-12, atol=1e-12, err_msg=backward.__name__)
    for a, before in zip((x, W, b), snapshot):
        np.testing.assert_array_equal(a, before)  # no function modified its input


# --- hand-worked examples -----------------------------------------------------------------------

def test_conv2d_by_hand_with_two_channels():
    # One 2x3 image with two channels, one 2x2 kernel per channel, bias 1:
    #   channel 0      channel 1      kernel ch 0   kernel ch 1
    #   [[1, 2, 3],    [[0, 1, 0],    [[1, 0],      [[0, 0],
    #    [4, 5, 6]]     [1, 0, 1]]     [0, -1]]      [2, 0]]
    # Window at column 0: (1*1 + 5*-1) + (1*2) + 1 = -4 + 2 + 1 = -1
    # Window at column 1: (2*1 + 6*-1) + (0*2) + 1 = -4 + 0 + 1 = -3
    # (no kernel flip: the kernel's top left multiplies the window's top left)
    x = np.stack([np.array([[1.0, 2, 3], [4, 5, 6]]), np.array([[0.0, 1, 0], [1, 0, 1]])], axis=-1)[None]
    W = np.stack([np.array([[1.0, 0], [0, -1]]), np.array([[0.0, 0], [2, 0]])], axis=-1)[..., None]
    assert x.shape == (1, 2, 3, 2) and W.shape == (2, 2, 2, 1)
    out, cache = conv.conv2d_forward(x, W, np.array([1.0]))
    np.testing.assert_array_equal(out, [[[[-1.0], [-3.0]]]])
    # Backward with dout = [[10, 100]]: out_j = sum x[window_j] * W + b, so
    #   db = 10 + 100 = 110
    #   dW[p, q, c] = 10 * x[p, q, c] + 100 * x[p, q + 1, c]:
    #     channel 0: [[10*1 + 100*2, 10*2 + 100*3], [10*4 + 100*5, 10*5 + 100*6]] = [[210, 320], [540, 650]]
    #     channel 1: [[10*0 + 100*1, 10*1 + 100*0], [10*1 + 100*0, 10*0 + 100*1]] = [[100, 10], [10, 100]]
    #   dx[r, s, c] = 10 * W[r, s, c] + 100 * W[r, s - 1, c]  (the kernel laid down at each window):
    #     channel 0: [[10, 100, 0], [0, -10, -100]]; channel 1: [[0, 0, 0], [20, 200, 0]]
    dx, dW, db = conv.conv2d_backward(np.array([[[[10.0], [100.0]]]]), cache)
    np.testing.assert_array_equal(db, [110.0])
    np.testing.assert_array_equal(dW[..., 0, 0], [[210.0, 320.0], [540.0, 650.0]])
    np.testing.assert_array_equal(dW[..., 1, 0], [[100.0, 10.0], [10.0, 100.0]])
    np.testing.assert_array_equal(dx[0, ..., 0], [[10.0, 100.0, 0.0], [0.0, -10.0, -100.0]])
    np.testing.assert_array_equal(dx[0, ..., 1], [[0.0, 0.0, 0.0], [20.0, 200.0, 0.0]])


def test_conv2d_same_padding_puts_the_extra_row_at_the_bottom_by_hand():
    # H = W = 4, a 2x2 kernel of ones, stride 1, "same": H' = ceil(4 / 1) = 4, pad_total =
    # (4 - 1) * 1 + 2 - 4 = 1, top = 1 // 2 = 0, bottom = 1. So out[i, j] sums x[i:i+2, j:j+2]
    # with zeros past the bottom/right edge: the last row sums pairs of the last row only.
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    out, cache = conv.conv2d_forward(x, np.ones((2, 2, 1, 1)), np.zeros(1), padding="same")
    assert cache.pads == ((0, 1), (0, 1))
    rows = x[0, :, :, 0]
    np.testing.assert_array_equal(out[0, 0, 0, 0], rows[0, 0] + rows[0, 1] + rows[1, 0] + rows[1, 1])  # 0+1+4+5
    np.testing.assert_array_equal(out[0, 3, :, 0], [12 + 13, 13 + 14, 14 + 15, 15])
    np.testing.assert_array_equal(out[0, :, 3, 0], [3 + 7, 7 + 11, 11 + 15, 15])


def test_pooling_by_hand():
    # 4x4 image, 2x2 windows, stride 2:
    #   [[1, 5, 2, 0],      max:  [[6, 3],      mean: [[(1+5+0+6)/4, (2+0+3+1)/4],  = [[3, 1.5],
    #    [0, 6, 3, 1],             [8, 9]]              [(7+8+2+2)/4, (4+9+0+1)/4]]    [4.75, 3.5]]
    #    [7, 8, 4, 9],
    #    [2, 2, 0, 1]]
    x = np.array([[1.0, 5, 2, 0], [0, 6, 3, 1], [7, 8, 4, 9], [2, 2, 0, 1]]).reshape(1, 4, 4, 1)
    out, cache = conv.maxpool_forward(x, pool=2)
    np.testing.assert_array_equal(out[0, ..., 0], [[6.0, 3.0], [8.0, 9.0]])
    # the gradient goes to each window's maximum only: 6 at (1, 1), 3 at (1, 2), 8 at (2, 1), 9 at (2, 3)
    dx = conv.maxpool_backward(np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1), cache)
    expected = np.zeros((4, 4))
    expected[1, 1], expected[1, 2], expected[2, 1], expected[2, 3] = 1, 2, 3, 4
    np.testing.assert_array_equal(dx[0, ..., 0], expected)
    out, cache = conv.avgpool_forward(x, pool=2)
    np.testing.assert_array_equal(out[0, ..., 0], [[3.0, 1.5], [4.75, 3.5]])
    # each of a window's 4 cells gets a quarter of its dout
    dx = conv.avgpool_backward(np.array([[4.0, 8.0], [12.0, 16.0]]).reshape(1, 2, 2, 1), cache)
    np.testing.assert_array_equal(dx[0, ..., 0], [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])


def test_avgpool_same_averages_the_image_cells_only_by_hand():
    # 3x3, pool 2, stride 2, "same": H' = 2, pad_total = (2-1)*2 + 2 - 3 = 1, all at the bottom/right.
    # The windows hold 4, 2, 2 and 1 image cells: [[(1+2+4+5)/4, (3+6)/2], [(7+8)/2, 9/1]].
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    out, cache = conv.avgpool_forward(x, pool=2, padding="same")
    np.testing.assert_array_equal(out[0, ..., 0], [[3.0, 4.5], [7.5, 9.0]])
    dx = conv.avgpool_backward(np.ones((1, 2, 2, 1)), cache)
    np.testing.assert_array_equal(dx[0, ..., 0], [[0.25, 0.25, 0.5], [0.25, 0.25, 0.5], [0.5, 0.5, 1.0]])


@pytest.mark.parametrize("size, kernel, stride, valid, same", [
    (28, 3, 1, 26, 28),   # (28 - 3) / 1 + 1; 28 / 1
    (28, 2, 2, 14, 14),   # (28 - 2) // 2 + 1 = 14; ceil(28 / 2)
    (7, 3, 2, 3, 4),      # (7 - 3) // 2 + 1 = 3; ceil(7 / 2) = 4
    (5, 5, 3, 1, 2),      # the kernel fills the image: one window; ceil(5 / 3) = 2
    (6, 1, 3, 2, 2),      # (6 - 1) // 3 + 1 = 2
])
def test_output_size_by_hand(size, kernel, stride, valid, same):
    assert conv.output_size(size, kernel, stride, "valid") == valid
    assert conv.output_size(size, kernel, stride, "same") == same


def test_same_padding_is_tensorflows():
    # pad_total = max((ceil(H/S) - 1) * S + K - H, 0); the odd cell after
    assert conv.same_padding(5, 3, 1) == (1, 1)   # total 2
    assert conv.same_padding(6, 3, 2) == (0, 1)   # H' = 3: 2*2 + 3 - 6 = 1
    assert conv.same_padding(7, 4, 1) == (1, 2)   # total 3: 1 before, 2 after
    assert conv.same_padding(8, 2, 3) == (0, 0)   # H' = 3: 2*3 + 2 - 8 = 0
    padded = conv.pad_same(np.ones((1, 7, 5, 2)), (4, 1), stride=1, value=-1.0)
    assert padded.shape == (1, 10, 5, 2)
    assert (padded[:, :1] == -1).all() and (padded[:, -2:] == -1).all() and (padded[:, 1:8] == 1).all()


@pytest.mark.parametrize("config", CONFIGS[:6], ids=IDS[:6])
def test_output_shape_is_keras(keras, config):
    x_shape = (config["N"], config["H"], config["W"], config["C"])
    kernel = (*config["kernel"], config["C"], config["M"])
    layer = keras.layers.Conv2D(config["M"], config["kernel"], strides=config["stride"], padding=config["padding"])
    expected = layer.compute_output_shape(x_shape)
    assert conv.output_shape(x_shape, kernel, stride=config["stride"], padding=config["padding"]) == tuple(expected)
    pool = keras.layers.MaxPooling2D(config["pool"], strides=config["stride"], padding=config["padding"])
    assert conv.output_shape(x_shape, config["pool"], stride=config["stride"],
                             padding=config["padding"]) == tuple(pool.compute_output_shape(x_shape))


# --- dtypes, caches, inputs -----------------------------------------------------------------------

def test_float32_stays_float32_and_mixed_becomes_float64(rng):
    x, W, b = rng.normal(size=(2, 6, 6, 3)), rng.normal(size=(3, 3, 3, 4)), rng.normal(size=4)
    x32, W32, b32 = x.astype(np.float32), W.astype(np.float32), b.astype(np.float32)
    out32, cache = conv.conv2d_forward(x32, W32, b32)
    assert out32.dtype == np.float32
    dx, dW, db = conv.conv2d_backward(np.ones(out32.shape, np.float32), cache)
    assert dx.dtype == dW.dtype == db.dtype == np.float32
    np.testing.assert_allclose(out32, conv.conv2d_forward(x, W, b)[0], rtol=1e-4, atol=1e-4)
    assert conv.conv2d_forward(x32, W, b)[0].dtype == np.float64
    assert conv.maxpool_forward(x32)[0].dtype == conv.avgpool_forward(x32)[0].dtype == np.float32
    assert conv.conv2d_forward(np.ones((1, 3, 3, 1), dtype=int), np.ones((2, 2, 1, 1)), [0])[0].dtype == np.float64


def test_the_caches_are_frozen(rng):
    x = rng.normal(size=(1, 4, 4, 1))
    _, cache = conv.conv2d_forward(x, np.ones((2, 2, 1, 1)), np.zeros(1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cache.stride = (2, 2)
    _, cache = conv.maxpool_forward(x)
    assert (cache.pool, cache.stride, cache.pads) == ((2, 2), (2, 2), ((0, 0), (0, 0)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cache.pool = (3, 3)


# --- bad input ----------------------------------------------------------------------------------

def test_conv2d_names_a_channel_mismatch():
    with pytest.raises(ValueError, match=r"W must have shape \(KH, KW, C, M\) with C = 3.*\(2, 5, 5, 3\).*"
                                         r"got \(3, 3, 1, 8\) with C = 1"):
        conv.conv2d_forward(np.ones((2, 5, 5, 3)), np.ones((3, 3, 1, 8)), np.zeros(8))


def test_a_kernel_larger_than_the_image_needs_same_padding():
    with pytest.raises(ValueError, match=r"kernel 5 > size 4.*padding='same'"):
        conv.conv2d_forward(np.ones((1, 4, 6, 1)), np.ones((5, 5, 1, 1)), np.zeros(1))
    with pytest.raises(ValueError, match=r"kernel 3 > size 2"):
        conv.maxpool_forward(np.ones((1, 2, 2, 1)), pool=3)
    out, _ = conv.conv2d_forward(np.ones((1, 4, 6, 1)), np.ones((5, 5, 1, 1)), np.zeros(1), padding="same")
    assert out.shape == (1, 4, 6, 1)


@pytest.mark.parametrize("call, message", [
    (lambda: conv.conv2d_forward(np.ones((5, 5, 3)), np.ones((3, 3, 3, 2)), np.zeros(2)),
     r"x must have shape \(N, H, W, C\), got shape \(5, 5, 3\) \(one image\? use x\[None\]"),
    (lambda: conv.conv2d_forward(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3)), np.zeros(2)),
     r"W must have shape \(KH, KW, C, M\), got shape \(3, 3, 3\)"),
    (lambda: conv.conv2d_forward(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 2)), np.zeros(3)),
     r"b must have shape \(M,\) = \(2,\).*got shape \(3,\)"),
    (lambda: conv.conv2d_forward(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 2)), np.zeros(2), padding="full"),
     r"padding must be one of \['same', 'valid'\], got 'full'"),
    (lambda: conv.conv2d_forward(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 2)), np.zeros(2), stride=0),
     r"stride must be >= 1, got 0"),
    (lambda: conv.maxpool_forward(np.ones((1, 5, 5, 3)), pool=(2, 2, 2)),
     r"pool must be an int or a pair of ints"),
    (lambda: conv.avgpool_forward(np.ones((1, 5, 5, 3)), stride=1.5),
     r"stride must be an integer"),
    (lambda: conv.output_shape((5, 5, 3), (3, 3, 3, 2)),
     r"input_shape must be \(N, H, W, C\), got \(5, 5, 3\)"),
    (lambda: conv.output_shape((1, 5, 5, 3), (3, 3, 1, 2)),
     r"kernel_shape must be \(KH, KW, C, M\) with C = 3 input channels, got \(3, 3, 1, 2\)"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_backward_with_a_mismatched_dout_names_the_shapes():
    _, cache = conv.conv2d_forward(np.ones((2, 5, 5, 1)), np.ones((3, 3, 1, 4)), np.zeros(4))
    with pytest.raises(ValueError, match=r"convolution's output, \(2, 3, 3, 4\), got \(2, 3, 3, 1\)"):
        conv.conv2d_backward(np.ones((2, 3, 3, 1)), cache)
    with pytest.raises(ValueError, match=r"\(2, 3, 3, 4\), got \(3, 3, 4\)"):
        conv.conv2d_backward_loops(np.ones((3, 3, 4)), cache)
    _, cache = conv.maxpool_forward(np.ones((2, 5, 5, 1)), padding="same")
    for backward in (conv.maxpool_backward, conv.maxpool_backward_loops):
        with pytest.raises(ValueError, match=r"max pooling's output, \(2, 3, 3, 1\), got \(2, 2, 2, 1\)"):
            backward(np.ones((2, 2, 2, 1)), cache)
    _, cache = conv.avgpool_forward(np.ones((2, 5, 5, 1)))
    for backward in (conv.avgpool_backward, conv.avgpool_backward_loops):
        with pytest.raises(ValueError, match=r"average pooling's output, \(2, 2, 2, 1\), got \(2, 3, 3, 1\)"):
            backward(np.ones((2, 3, 3, 1)), cache)
