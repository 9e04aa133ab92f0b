"""nblib.widgets.filter_explorer: feature_rows, filter_maps and FilterExplorer.

The maps are checked against keras.layers.Conv2D, ReLU and MaxPooling2D with the same kernel, and
against sums written out here; the hand-made kernels against what they are for (an edge kernel
answers an edge, a blur keeps the mean). Plain tests run without an event loop, so controls act at
once; the "..._in_a_loop_..." tests run as in a kernel (see helpers.py and conftest.py).
"""

import asyncio
import os

import numpy as np
import pytest

from nblib import data
from nblib.widgets import FilterExplorer
from nblib.widgets.filter_explorer import CUSTOM, KERNELS, PRESETS, SCALES, feature_rows, filter_maps
from tests.nblib.widgets.helpers import WAIT, in_a_loop, in_a_loop_returning, until

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="module")
def digits():
    return data.digits_28x28(source="digits").X_test[:4, :, :, 0].astype(float)   # (4, 28, 28)


def by_hand(image, kernel, padding):
    """The feature map written out: every output a sum of nine products (TensorFlow's 'same': one zero all round)."""
    x = np.pad(image, 1) if padding == "same" else image
    H, W = x.shape[0] - 2, x.shape[1] - 2
    return np.array([[np.sum(x[i:i + 3, j:j + 3] * kernel) for j in range(W)] for i in range(H)])


@pytest.mark.parametrize("name", list(KERNELS))
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_maps_match_keras_conv2d_relu_and_max_pooling(digits, name, padding):
    import keras

    image, kernel = digits[1], KERNELS[name]
    maps = filter_maps(image, kernel, padding=padding)
    layer = keras.layers.Conv2D(1, 3, padding=padding, use_bias=False, dtype="float64")
    layer.build((None, 28, 28, 1))
    layer.set_weights([kernel[:, :, None, None]])
    feature = np.asarray(layer(image[None, :, :, None]))[0, :, :, 0]
    np.testing.assert_allclose(maps.feature, feature, atol=1e-12)
    np.testing.assert_allclose(maps.feature, by_hand(image, kernel, padding), atol=1e-12)
    np.testing.assert_allclose(maps.relu, np.maximum(feature, 0), atol=1e-12)
    pooled = np.asarray(keras.layers.MaxPooling2D(2, dtype="float64")(maps.relu[None, :, :, None]))[0, :, :, 0]
    np.testing.assert_array_equal(maps.pooled, pooled)          # the same relu map pooled by Keras: exact
    assert maps.feature.shape == ((26, 26) if padding == "valid" else (28, 28))
    assert maps.pooled.shape == ((13, 13) if padding == "valid" else (14, 14))


def test_rows_come_one_at_a_time_and_end_as_the_whole_map(digits):
    kernel = KERNELS["horizontal edge (Sobel)"]
    steps = feature_rows(digits[0], kernel)
    first = next(steps).copy()
    assert np.isfinite(first[0]).all() and np.isnan(first[1:]).all()
    rest = list(steps)
    assert len(rest) == 25
    np.testing.assert_allclose(rest[-1], filter_maps(digits[0], kernel).feature)


def test_hand_made_kernels_do_what_they_are_for():
    step = np.zeros((8, 8))
    step[:, 4:] = 1.0                                                 # dark left, bright right: a vertical edge
    vertical = filter_maps(step, KERNELS["vertical edge (Sobel)"]).feature
    horizontal = filter_maps(step, KERNELS["horizontal edge (Sobel)"]).feature
    assert np.all(vertical[:, [2, 3]] == -4) and np.all(vertical[:, [0, 1, 4, 5]] == 0)   # left minus right
    assert np.all(horizontal == 0)                                    # nothing changes from top to bottom
    blurred = filter_maps(step, KERNELS["blur (box)"]).feature
    assert blurred.min() >= 0 and blurred.max() <= 1 and np.isclose(blurred[0, 2], 1 / 3)
    identity = filter_maps(step, KERNELS["identity"], padding="same").feature
    np.testing.assert_array_equal(identity, step)
    for name in ("blur (box)", "blur (Gaussian)", "sharpen", "identity"):
        assert np.isclose(KERNELS[name].sum(), 1.0), name              # a flat image stays as it is
    for name in ("vertical edge (Sobel)", "horizontal edge (Sobel)", "diagonal edge", "outline (Laplacian)"):
        assert KERNELS[name].sum() == 0, name                           # ... or gives 0


def test_explorer_draws_the_maps_and_reports_them(digits):
    demo = FilterExplorer(images=digits, kernel="outline (Laplacian)", index=2)
    expected = filter_maps(digits[2], KERNELS["outline (Laplacian)"])
    assert not demo.run.running and demo.run.count == 26
    np.testing.assert_array_equal(demo.maps.feature, expected.feature)
    np.testing.assert_array_equal(demo.maps.pooled, expected.pooled)
    np.testing.assert_array_equal(demo.ax_pooled.images[0].get_array(), expected.pooled)
    assert "finished: 26 rows" in demo.status.value
    assert f"ReLU zeroes {np.mean(expected.relu == 0):.0%}" in demo.status.value
    assert f"from {expected.feature.min():.3g} to {expected.feature.max():.3g}" in demo.status.value
    assert "feature map 26x26 (valid)" in demo.ax_feature.get_title()
    assert demo.ax_pooled.get_title() == "2x2 max pooling: 13x13"
    assert demo.window.get_xy() == (-0.5, 24.5)                       # the window over the last row made


def test_controls_recompute_with_their_new_values(digits):
    demo = FilterExplorer(images=digits)
    renders = demo.renders
    demo.index.value = 3
    demo.padding.value = "same"
    assert demo.computed["index"] == 3 and demo.maps.feature.shape == (28, 28)
    demo.kernel.value = "blur (Gaussian)"
    np.testing.assert_allclose(demo.kernel_values(), KERNELS["blur (Gaussian)"])
    np.testing.assert_allclose(demo.maps.feature, filter_maps(digits[3], KERNELS["blur (Gaussian)"], padding="same").feature)
    assert demo.renders > renders


def test_editing_a_number_makes_the_kernel_custom_and_uses_it(digits):
    demo = FilterExplorer(images=digits, kernel="identity")
    demo.entries[4].value = -1                                        # the centre: identity becomes its negative
    assert demo.kernel.value == CUSTOM and demo.computed["kernel"] == CUSTOM
    np.testing.assert_allclose(demo.maps.feature, -filter_maps(digits[0], KERNELS["identity"]).feature)
    assert np.all(demo.maps.relu == 0)                                # ink is positive: nothing survives ReLU
    demo.kernel.value = "sharpen"                                     # a preset writes all nine numbers back
    np.testing.assert_allclose(demo.kernel_values(), KERNELS["sharpen"])
    assert demo.computed["kernel"] == "sharpen"
    demo.kernel.value = "blur (box)"                                  # ... and its factor
    assert demo.scale.value == "1/9" and [e.value for e in demo.entries] == [1] * 9
    demo.scale.value = "1/16"                                         # the factor alone: custom too
    assert demo.computed["kernel"] == CUSTOM
    np.testing.assert_allclose(demo.computed["weights"], np.ones((3, 3)) / 16)


def test_every_preset_is_whole_numbers_times_a_factor_within_the_sliders():
    for name, (ints, scale) in PRESETS.items():
        assert np.all(np.abs(ints) <= 8) and np.array_equal(ints, np.round(ints)), name
        np.testing.assert_allclose(KERNELS[name], np.array(ints) * SCALES[scale])


@pytest.mark.parametrize("kwargs, error, message", [
    ({"kernel": "emboss"}, ValueError, "kernel must be one of .*got 'emboss'"),
    ({"padding": "full"}, ValueError, "padding must be one of .*got 'full'"),
    ({"index": 9}, ValueError, "index must be below the number of images, 4, got 9"),
    ({"index": -1}, ValueError, "index must be >= 0, got -1"),
])
def test_filter_explorer_rejects_bad_arguments(digits, kwargs, error, message):
    with pytest.raises(error, match=message):
        FilterExplorer(images=digits, **kwargs)


@pytest.mark.parametrize("image, kernel, message", [
    (np.zeros((2, 5)), np.zeros((3, 3)), r"image must have shape \(H, W\)"),
    (np.zeros((5, 5)), np.zeros((2, 2)), r"kernel must have shape \(3, 3\), got \(2, 2\)"),
])
def test_filter_maps_rejects_bad_shapes(image, kernel, message):
    with pytest.raises(ValueError, match=message):
        filter_maps(image, kernel)


# -- in a loop, as in a kernel ----------------------------------------------------------------


def test_in_a_loop_the_map_fills_in_row_by_row_and_stop_keeps_its_rows(digits, slow_steps, slow_drawing):
    slow_steps(0.02)

    async def test():
        demo = FilterExplorer(images=digits, kernel="vertical edge (Sobel)")
        assert demo.run.running and np.isnan(demo.feature).all()    # the constructor returned before the first row
        await until(lambda: demo.run.count >= 3)
        assert "computing" in demo.status.value and len(slow_drawing) >= 2
        demo.run.stop_button.click()
        k = demo.run.count
        rows = int(np.sum(~np.isnan(demo.feature[:, 0])))
        assert 3 <= k < 26 and rows == k and demo.maps is None
        assert f"stopped after {k} of 26 rows" in demo.status.value
        await asyncio.sleep(0.2)
        assert int(np.sum(~np.isnan(demo.feature[:, 0]))) == k       # nothing computed after Stop
        return demo.feature.copy(), k

    feature, k = in_a_loop_returning(test)
    np.testing.assert_allclose(feature[:k], filter_maps(digits[0], KERNELS["vertical edge (Sobel)"]).feature[:k])


def test_in_a_loop_quick_changes_recompute_once_with_the_last_settings(digits, slow_drawing):
    async def test():
        demo = FilterExplorer(images=digits)
        await until(lambda: not demo.run.running)
        starts = []
        original = demo.recompute
        demo.recompute = lambda: (starts.append(dict(demo.computed)), original())[1]
        demo._recompute_soon.action = lambda: demo.recompute()
        for index in (1, 2, 3):
            demo.index.value = index
        demo.kernel.value = "blur (box)"                              # nine entries written: still one recomputation
        demo.entries[0].value = 2                                     # 2/9 in the corner
        assert demo._recompute_soon.pending and demo.computed["index"] == 0
        await asyncio.sleep(WAIT + 0.1)
        await until(lambda: not demo.run.running)
        assert len(starts) == 1
        kernel = KERNELS["blur (box)"].copy()
        kernel[0, 0] = 2 / 9
        assert demo.computed["index"] == 3 and demo.computed["kernel"] == CUSTOM
        np.testing.assert_allclose(demo.computed["weights"], kernel)
        np.testing.assert_allclose(demo.maps.feature, filter_maps(digits[3], kernel).feature)
        assert "finished: 26 rows" in demo.status.value

    in_a_loop(test)


# -- yours=: a student's conv2d_forward and maxpool_forward beside nblib's (issue 23) -------------


def conv_by_windows(x, W, b, *, stride=1, padding="valid"):
    """A correct convolution written another way: every window at once, then one einsum."""
    if padding == "same":
        x = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))               # 3x3 at stride 1: one zero all round
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))   # (N, H', W', C, 3, 3)
    return np.einsum("nijcpq,pqcm->nijm", windows, W) + b


def pool_by_blocks(x, *, pool=2, stride=None):
    """A correct 2x2 max pooling written another way: cut into blocks, take each block's max."""
    N, H, W, C = x.shape
    blocks = x[:, :H // pool * pool, :W // pool * pool].reshape(N, H // pool, pool, W // pool, pool, C)
    return blocks.max(axis=(2, 4))


def flipped_conv(x, W, b, *, stride=1, padding="valid"):
    """A mathematician's convolution: the kernel turned by 180 degrees (a typical mistake)."""
    return conv_by_windows(x, W[::-1, ::-1], b, padding=padding)


def unpadded_conv(x, W, b, *, stride=1, padding="valid"):
    """Ignores padding='same' (a typical mistake): always 'valid'."""
    return conv_by_windows(x, W, b)


def not_written(*args, **kwargs):
    raise NotImplementedError()


def yours_demo(digits, kernel="vertical edge (Sobel)", padding="valid", **yours):
    return FilterExplorer(images=digits, kernel=kernel, padding=padding, yours=yours)


def test_yours_correct_functions_written_another_way_agree_and_are_drawn(digits):
    demo = yours_demo(digits, padding="same", conv2d_forward=conv_by_windows, maxpool_forward=pool_by_blocks)
    convolved, pooled = demo.comparisons
    assert convolved.agrees and pooled.agrees, demo.yours_line.value
    assert "your conv2d_forward agrees with nblib&#x27;s" in demo.yours_line.value
    assert "your maxpool_forward agrees with nblib&#x27;s" in demo.yours_line.value
    assert demo.yours_line.layout.display == "flex"
    feature = by_hand(digits[0], KERNELS["vertical edge (Sobel)"], "same")            # (28, 28), written out
    pooled_by_hand = np.maximum(feature, 0).reshape(14, 2, 14, 2).max(axis=(1, 3))   # (14, 14)
    _, ax_feature, ax_difference, ax_pooled = demo.ax_theirs
    np.testing.assert_allclose(ax_feature.images[0].get_array(), feature, atol=1e-12)
    np.testing.assert_allclose(ax_pooled.images[0].get_array(), pooled_by_hand, atol=1e-12)
    np.testing.assert_allclose(ax_difference.images[0].get_array(), 0, atol=1e-12)
    assert not ax_difference.patches                                                 # nothing to box
    assert ax_feature.title.get_color() == "#ff7f0e"


def test_yours_flipped_kernel_names_the_first_differing_position(digits):
    demo = yours_demo(digits, conv2d_forward=flipped_conv)
    K = KERNELS["vertical edge (Sobel)"]
    right, wrong = by_hand(digits[0], K, "valid"), by_hand(digits[0], K[::-1, ::-1], "valid")   # flipped Sobel = -Sobel
    i, j = np.argwhere(~np.isclose(wrong, right))[0]
    line = demo.comparisons[0].line
    assert f"first differs at [0, {i}, {j}, 0]: {wrong[i, j]:.4g} against nblib's {right[i, j]:.4g}" in line, line
    assert "✗" in demo.yours_line.value
    box = demo.ax_theirs[2].patches[0]
    assert box.get_xy() == (j - 0.5, i - 0.5)                                        # the first difference, boxed
    demo.kernel.value = "blur (box)"                                                 # symmetric: flipping changes nothing
    assert demo.comparisons[0].agrees, demo.comparisons[0].line


def test_yours_wrong_padding_shows_with_same(digits):
    demo = yours_demo(digits, conv2d_forward=unpadded_conv)
    assert demo.comparisons[0].agrees
    demo.padding.value = "same"
    assert demo.comparisons[0].line == ("your conv2d_forward returned shape (1, 26, 26, 1); "
                                        "nblib's has shape (1, 28, 28, 1)")
    assert demo.their_feature is None and demo.maps.feature.shape == (28, 28)       # nblib's still drawn


def test_yours_unfinished_raising_or_wrong_shape_never_breaks_the_demo(digits):
    def raises(x, W, b, **kwargs):
        return x[0, 99]

    demo = yours_demo(digits, conv2d_forward=not_written, maxpool_forward=lambda x, pool=2: x[0])
    assert "your conv2d_forward is not written yet" in demo.comparisons[0].line
    assert demo.comparisons[1].line == "your maxpool_forward returned shape (26, 26, 1); nblib's has shape (1, 13, 13, 1)"
    assert demo.their_feature is None and demo.their_pooled is None
    np.testing.assert_array_equal(demo.maps.feature, filter_maps(digits[0], KERNELS["vertical edge (Sobel)"]).feature)
    assert demo.ax_feature.images and not demo.ax_theirs[1].images                   # nblib's alone
    demo = yours_demo(digits, conv2d_forward=raises)
    assert demo.comparisons[0].line.startswith("your conv2d_forward raised IndexError: index 99 is out of bounds")
    assert "finished: 26 rows" in demo.status.value


def test_yours_is_called_once_per_finished_map(digits):
    calls = []
    demo = yours_demo(digits, conv2d_forward=lambda *a, **k: calls.append(k) or conv_by_windows(*a, **k))
    demo.padding.value = "same"
    demo.index.value = 2
    assert calls == [{"padding": "valid"}, {"padding": "same"}, {"padding": "same"}]


def test_without_yours_the_explorer_is_as_before(digits):
    demo = FilterExplorer(images=digits)
    assert demo.yours_line.layout.display == "none" and demo.yours_line.value == ""
    assert len(demo.figure.axes) == 4 and demo.ax_theirs == ()
    assert demo.comparisons == () and demo.their_feature is None
    with pytest.raises(ValueError, match="FilterExplorer can show your conv2d_forward, maxpool_forward, not 'conv2d'"):
        FilterExplorer(images=digits, yours={"conv2d": conv_by_windows})
