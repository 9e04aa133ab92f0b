"""nblib.widgets.init_explorer: propagate and InitExplorer.

The statistics are checked against the same stack computed here with nblib's layers (forward and
backpropagation through ``Sequential``), the weights drawn in the same order from the same seed.
The variance rules of the lesson are checked on them: He keeps a ReLU stack's spread, tiny weights
make it vanish, large ones explode it or saturate tanh. Plain tests run without an event loop, so
controls act at once; the "..._in_a_loop_..." tests run as in a kernel (see helpers.py and conftest.py).
"""

import asyncio
import functools
import html
import re
import warnings

import numpy as np
import pytest

from nblib import activations, layers
from nblib.widgets import InitExplorer, init_explorer
from nblib.widgets.init_explorer import INITIALIZERS, propagate
from tests.nblib.widgets.helpers import WAIT, in_a_loop, in_a_loop_returning, until


def replay(depth, initializer, activation, *, width, batch, seed):
    """The explorer's stack rebuilt with nblib's layers from the same draws: (model, inputs, dout)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width))
    stack = []
    for _ in range(depth):
        W = INITIALIZERS[initializer]((width, width), rng=rng)
        stack += [layers.Dense.from_weights(W, np.zeros(width)), layers.Activation(activation)]
    dout = rng.standard_normal((batch, width))          # drawn after the weights, as the explorer does
    return layers.Sequential(stack), x, dout


@pytest.mark.parametrize("initializer, activation", [("he_normal", "relu"), ("glorot_uniform", "tanh"),
                                                     ("lecun_normal", "selu"), ("normal, std 1", "sigmoid")])
def test_statistics_and_gradients_match_nblib_layers(initializer, activation):
    depth, width, batch = 6, 16, 32
    stats = propagate(depth, initializer, activation, width=width, batch=batch, seed=3)
    model, x, dout = replay(depth, initializer, activation, width=width, batch=batch, seed=3)
    h = x
    for layer, s in zip(range(depth), stats):
        h = model.layers[2 * layer + 1].forward(model.layers[2 * layer].forward(h))
        assert s.std == pytest.approx(h.std(), rel=1e-12)
        assert s.dead == np.mean(h == 0)
        assert s.counts.sum() == pytest.approx(1.0)     # every value lands in a bin (the ends take the rest)
    model.forward(x)
    model.backward(dout)
    grads = model.gradients()
    for layer, s in enumerate(stats):
        assert s.grad_norm == pytest.approx(np.linalg.norm(grads[f"{2 * layer}.W"]), rel=1e-10)


def test_histograms_count_the_values_by_hand():
    stats = propagate(1, "he_normal", "linear", width=8, batch=10, seed=0)
    model, x, _ = replay(1, "he_normal", "linear", width=8, batch=10, seed=0)
    h = model.forward(x)
    edges = np.linspace(-4, 4, init_explorer.BINS + 1)
    expected = np.histogram(np.clip(h, -4, 4), bins=edges)[0] / h.size
    np.testing.assert_array_equal(stats[0].counts, expected)


def test_he_keeps_relu_steady_where_glorot_and_small_weights_shrink_and_large_ones_explode():
    he = propagate(30, "he_normal", "relu", width=128, batch=128)
    glorot = propagate(30, "glorot_uniform", "relu", width=128, batch=128)
    small = propagate(30, "normal, std 0.01", "relu", width=128, batch=128)
    large = propagate(30, "normal, std 1", "relu", width=128, batch=128)
    assert 0.3 < he[-1].std / he[0].std < 3
    # Glorot's variance 2 / (128 + 128) is half of He's: the second moment halves per layer
    assert glorot[-1].std / glorot[0].std == pytest.approx(2 ** -14.5, rel=0.5)
    assert small[-1].std < 1e-25 and large[-1].std > 1e20
    # a weight gradient is the layer's input times the gradient from above: both pass the whole stack
    assert max(s.grad_norm for s in small) < 1e-20          # vanishing, in every layer
    assert min(s.grad_norm for s in large) > 1e20           # exploding, in every layer
    assert max(s.grad_norm for s in he) < 1e3 * min(s.grad_norm for s in he)


def test_large_weights_saturate_tanh_and_its_gradients_grow_towards_the_first_layers():
    stats = propagate(20, "normal, std 1", "tanh", width=128, batch=128)
    edges = np.linspace(-1.2, 1.2, init_explorer.BINS + 1)
    outer = (np.abs(edges[:-1]) >= 0.95) | (np.abs(edges[1:]) >= 0.95)
    assert stats[-1].counts[outer].sum() > 0.8                # piled up at +-1
    assert stats[0].grad_norm > 1e3 * stats[-1].grad_norm     # the large weights win over the small slopes


def test_sigmoid_gradients_vanish_towards_the_first_layers():
    stats = propagate(20, "glorot_uniform", "sigmoid", width=128, batch=128)
    assert stats[0].grad_norm < 1e-6 * stats[-1].grad_norm   # a slope of at most 1/4 per layer


def test_zeros_give_a_dead_stack():
    for activation in ("relu", "tanh"):
        stats = propagate(5, "zeros", activation, width=8, batch=8)
        assert all(s.std == 0 and s.dead == 1 and s.grad_norm == 0 for s in stats)
    demo = InitExplorer(depth=5, initializer="zeros", activation="relu", width=8, batch=8)
    assert "100% of the last layer's values are 0" in demo.status.value


def test_explorer_draws_every_layer_and_reports_them():
    demo = InitExplorer(depth=12, initializer="he_normal", activation="relu", width=64, batch=64)
    assert len(demo.stats) == 12 and demo.run.count == 12 and not demo.run.running
    expected = propagate(12, "he_normal", "relu", width=64, batch=64)
    assert [s.std for s in demo.stats] == [s.std for s in expected]
    layers_drawn, stds = demo.std_line.get_data()
    np.testing.assert_array_equal(layers_drawn, np.arange(1, 13))
    np.testing.assert_allclose(stds, [s.std for s in expected])
    np.testing.assert_allclose(demo.grad_line.get_data()[1], [s.grad_norm for s in expected])
    assert demo.image.get_array().shape == (init_explorer.BINS, 12)
    assert f"layer 12 {expected[-1].std:.3g}" in demo.status.value and "finished: 12 layers" in demo.status.value
    assert f"layer 1 {expected[0].grad_norm:.3g}" in demo.status.value
    assert "12 layers, he_normal, relu" in demo.ax.get_title()


def test_each_control_recomputes_once_with_its_new_value():
    demo = InitExplorer(depth=5, width=32, batch=32)
    renders = demo.renders
    demo.depth.value = 8
    assert demo.computed["depth"] == 8 and len(demo.stats) == 8
    demo.initializer.value = "he_normal"
    demo.activation.value = "tanh"
    assert demo.computed == {"depth": 8, "initializer": "he_normal", "activation": "tanh"}
    assert [s.std for s in demo.stats] == [s.std for s in propagate(8, "he_normal", "tanh", width=32, batch=32)]
    assert demo.renders > renders


def test_exploding_stacks_draw_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        demo = InitExplorer(depth=50, initializer="normal, std 1", activation="linear", width=64, batch=64)
        assert all(np.isfinite(s.std) for s in demo.stats)
        demo.activation.value = "relu"
        demo.initializer.value = "normal, std 0.01"
        demo.figure.canvas.draw()
    assert demo.std_line.get_data()[1][-1] < 1e-40


@pytest.mark.parametrize("kwargs, error, message", [
    ({"depth": 0}, ValueError, "depth must be >= 1, got 0"),
    ({"depth": 51}, ValueError, "depth must be between 1 and 50, got 51"),
    ({"depth": 2.5}, TypeError, "depth must be an integer"),
    ({"initializer": "kaiming"}, ValueError, "initializer must be one of .*got 'kaiming'"),
    ({"activation": "softmax"}, ValueError, "activation must be one of .*got 'softmax'"),
    ({"width": 0}, ValueError, "width must be >= 1, got 0"),
])
def test_init_explorer_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        InitExplorer(**kwargs)


def test_every_activation_offered_is_nblibs():
    for name in init_explorer.ACTIVATIONS:
        assert activations.get(name)


# -- in a loop, as in a kernel ----------------------------------------------------------------


def test_in_a_loop_the_forward_pass_runs_in_the_background_and_stop_keeps_its_layers(slow_steps, slow_drawing):
    slow_steps(0.02)

    async def test():
        demo = InitExplorer(depth=40, initializer="he_normal", activation="relu", width=32, batch=32)
        assert demo.run.running and demo.stats == []        # the constructor returned before the first layer
        await until(lambda: demo.run.count >= 3)
        assert "computing" in demo.status.value and len(slow_drawing) >= 2
        demo.run.stop_button.click()
        k = demo.run.count
        assert 3 <= k < 40 and len(demo.stats) == k
        assert f"stopped after {k} of 40 layers" in demo.status.value
        assert all(np.isnan(s.grad_norm) for s in demo.stats)   # no backward pass without the whole forward pass
        await asyncio.sleep(0.2)
        assert len(demo.stats) == k                             # nothing computed after Stop
        return [s.std for s in demo.stats]

    stds = in_a_loop_returning(test)
    assert stds == [s.std for s in propagate(40, "he_normal", "relu", width=32, batch=32)][:len(stds)]


def test_in_a_loop_quick_changes_recompute_once_with_the_last_settings(slow_drawing):
    async def test():
        demo = InitExplorer(depth=10, width=16, batch=16)
        await until(lambda: not demo.run.running)
        starts = []
        original = demo.recompute
        demo.recompute = lambda: (starts.append(dict(demo.computed)), original())[1]
        demo._recompute_soon.action = lambda: demo.recompute()
        for depth in (11, 12, 13):
            demo.depth.value = depth
        demo.initializer.value = "lecun_normal"
        assert demo._recompute_soon.pending and demo.computed["depth"] == 10
        await asyncio.sleep(WAIT + 0.1)
        await until(lambda: not demo.run.running)
        assert len(starts) == 1
        assert demo.computed == {"depth": 13, "initializer": "lecun_normal", "activation": "relu"}
        assert len(demo.stats) == 13 and "finished: 13 layers" in demo.status.value

    in_a_loop(test)


# --- the student's initializers in the stack (issue 23) ---------------------------------------------

SMALL = dict(depth=6, width=32, batch=40, seed=3)


def said(demo) -> str:
    return html.unescape(re.sub(r"</?span[^>]*>", "", demo.yours_line.value))


def keras_he_normal(shape, *, rng, scale=2.0):
    """HeNormal written another way: redraw the tails with np.where until none is beyond 2 (Keras's rule)."""
    rng = np.random.default_rng(rng)
    z = rng.standard_normal(size=shape)
    while (np.abs(z) > 2).any():
        tails = np.abs(z) > 2
        z = np.where(tails, 0.0, z)
        z[tails] = rng.standard_normal(size=tails.sum())
    return z * np.sqrt(scale / shape[0]) / 0.87962566103423978   # std of N(0, 1) cut at ±2: 0.8796...


def keras_glorot_uniform(shape, *, rng):
    """GlorotUniform written another way: U(-r, r) as -r + 2r U(0, 1) would draw other numbers, so
    rng.uniform with the limit r = sqrt(3 * variance), variance 2 / (fan_in + fan_out)."""
    return np.random.default_rng(rng).uniform(-np.sqrt(3 * 2 / sum(shape)), np.sqrt(3 * 2 / sum(shape)), size=shape)


def their_spread(initializer, *, depth, width, batch, seed):
    """The std of each ReLU layer's activations with ``initializer``'s weights, written out: (depth,)."""
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((batch, width))
    stds = []
    for _ in range(depth):
        h = np.maximum(h @ initializer((width, width), rng=rng), 0.0)   # (N, W) @ (W, W) -> (N, W)
        stds.append(h.std())
    return np.array(stds)


def test_without_yours_the_explorer_shows_no_line_and_no_diamonds():
    demo = InitExplorer(initializer="he_normal", **SMALL)
    assert demo.yours_line.layout.display == "none"
    assert [t.get_text() for t in demo.ax_stats.get_legend().get_texts()] == ["std of activations h_l", "||dL/dW_l||"]
    assert np.isnan(demo.their_stds).all() and all(s.compared is None for s in demo.stats)


@pytest.mark.parametrize("name, theirs", [("he_normal", keras_he_normal), ("glorot_uniform", keras_glorot_uniform)])
def test_initializers_written_another_way_agree_and_their_stack_is_recomputed_here(name, theirs):
    demo = InitExplorer(initializer=name, yours={name: theirs}, **SMALL)
    assert f"your {name} agrees with nblib's" in said(demo)
    expected = their_spread(theirs, depth=6, width=32, batch=40, seed=3)
    np.testing.assert_allclose(demo.their_stds, expected, rtol=1e-12)
    np.testing.assert_allclose(demo.their_std_line.get_ydata(), expected, rtol=1e-12)
    np.testing.assert_allclose([s.std for s in demo.stats], expected, rtol=1e-12)  # nblib's stack, the same
    assert "std with your weights" in [t.get_text() for t in demo.ax_stats.get_legend().get_texts()]


def test_a_he_normal_without_the_factor_2_first_differs_at_layer_1s_first_weight():
    lecun = functools.partial(keras_he_normal, scale=1.0)           # Var(W) = 1 / fan_in: LeCun's, not He's
    demo = InitExplorer(initializer="he_normal", yours={"he_normal": lecun}, **SMALL)
    rng = np.random.default_rng(3)
    rng.standard_normal((40, 32))                                   # the inputs come first
    nblibs = keras_he_normal((32, 32), rng=rng)[0, 0]
    assert (f"your he_normal first differs at [0, 0]: {nblibs / np.sqrt(2):.4g} against nblib's {nblibs:.4g}"
            in said(demo)), said(demo)
    # through ReLU each layer keeps half of (1 / fan_in) * fan_in: the spread falls by about 1/sqrt(2) a layer
    np.testing.assert_allclose(demo.their_stds, their_spread(lecun, depth=6, width=32, batch=40, seed=3), rtol=1e-12)
    assert demo.their_stds[-1] < 0.3 * demo.stats[-1].std


def not_written(shape, *, rng):
    raise NotImplementedError("Exercise 1: replace this line with your code")


@pytest.mark.parametrize("theirs, line", [
    (not_written, "your he_normal is not written yet (it raises NotImplementedError): nblib's is drawn alone"),
    (lambda shape, *, rng: rng.standard_normal(shape) * shape[2], "your he_normal raised IndexError: tuple index "
                                                                    "out of range"),
    (lambda shape, *, rng: np.zeros((shape[0], shape[1] - 1)), "your he_normal returned shape (32, 31); nblib's has "
                                                               "shape (32, 32)"),
])
def test_unfinished_raising_and_misshapen_initializers_leave_nblibs_stack_drawn(theirs, line):
    demo = InitExplorer(initializer="he_normal", yours={"he_normal": theirs}, **SMALL)
    assert said(demo) == f"… {line}", said(demo)
    assert np.isnan(demo.their_stds).all() and len(demo.stats) == 6 and np.isfinite([s.std for s in demo.stats]).all()
