"""nblib.widgets.attention_explorer: masked_softmax, lookup, saturation_batches and AttentionExplorer.

The lookup is checked against hand-worked examples (the softmax written out in the comments) and
against nblib.attention's scaled_dot_product_attention, a separate implementation; the sampling
against the theory (q . k of d_k independent N(0, 1) products has variance d_k) and against its
own draws redone here. Plain tests run without an event loop, so controls act at once; the
"..._in_a_loop_..." tests run as in a kernel (see helpers.py and conftest.py).
"""

import asyncio
import math

import numpy as np
import pytest

from nblib.widgets import AttentionExplorer, attention_explorer
from nblib.widgets.attention_explorer import (BATCH_SIZE, BATCHES, KEYS, MASKS, lookup, masked_softmax,
                                              query_vector, saturation_batches)
from tests.nblib.widgets.helpers import WAIT, in_a_loop, in_a_loop_returning, until

PADDING, CAUSAL = list(MASKS)[1], list(MASKS)[2]


def test_masked_softmax_by_hand():
    # softmax(0, ln 3) = (1, 3) / 4; the third score is masked: weight 0 however large it is
    np.testing.assert_allclose(masked_softmax([0.0, math.log(3), 50.0], [True, True, False]), [0.25, 0.75, 0.0])
    # 1000 and 999 would overflow exp without the max shift: e^1 : e^0
    np.testing.assert_allclose(masked_softmax([1000.0, 999.0]), [math.e / (math.e + 1), 1 / (math.e + 1)])
    with pytest.raises(ValueError, match="at least one key"):
        masked_softmax([1.0, 2.0], [False, False])


def test_lookup_by_hand_with_and_without_the_scaling():
    # q = (2, 0), k1 = (1, 0), k2 = (0, 1): q.k = (2, 0); scaled by 1/sqrt(2): (sqrt 2, 0)
    keys, values = [[1.0, 0.0], [0.0, 1.0]], [[10.0, 0.0], [0.0, 10.0]]
    raw = lookup([2.0, 0.0], keys=keys, values=values, scaled=False)
    w1 = math.exp(2) / (math.exp(2) + 1)                       # softmax(2, 0)
    np.testing.assert_allclose(raw.weights, [w1, 1 - w1])
    np.testing.assert_allclose(raw.output, [10 * w1, 10 * (1 - w1)])
    scaled = lookup([2.0, 0.0], keys=keys, values=values)
    w1 = math.exp(math.sqrt(2)) / (math.exp(math.sqrt(2)) + 1)  # softmax(sqrt 2, 0): flatter
    np.testing.assert_allclose(scaled.scores, [math.sqrt(2), 0.0])
    np.testing.assert_allclose(scaled.weights, [w1, 1 - w1])


def test_lookup_is_scaled_dot_product_attention():
    attention = pytest.importorskip("nblib.attention")
    rng = np.random.default_rng(9)
    q, K, V = rng.normal(size=4), rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    mask = np.array([True, False, True, True, False, True])
    ours = lookup(q, keys=K, values=V, mask=mask)
    out, weights = attention.scaled_dot_product_attention(q[None], K, V, mask=mask[None])
    np.testing.assert_allclose(ours.weights, np.asarray(weights)[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours.output, np.asarray(out)[0], rtol=1e-12)


def test_a_long_query_picks_the_key_it_points_at_and_a_mask_zeroes_the_masked_keys():
    for j, key in enumerate(KEYS):
        angle = math.degrees(math.atan2(key[1], key[0]))
        result = lookup(query_vector(angle, 8.0))
        assert result.weights.argmax() == j and result.weights[j] > 0.9
    for name, allowed in MASKS.items():
        result = lookup(query_vector(200.0, 3.0), mask=allowed)
        assert np.all(result.weights[~allowed] == 0) and result.weights.sum() == pytest.approx(1)
        assert np.all(np.isneginf(result.scores[~allowed]))
    short = lookup(query_vector(10.0, 0.0))                    # a zero query scores every key 0: even weights
    np.testing.assert_allclose(short.weights, 0.2)
    np.testing.assert_allclose(short.output, KEYS.mean(axis=0))


def test_saturation_batches_have_score_variance_d_k_and_saturate_only_without_scaling():
    for d_k in (2, 512):
        steps = saturation_batches(d_k, seed=3)
        batches = [next(steps) for _ in range(10)]
        scores = np.concatenate([b["scores"] for b in batches])
        raw = np.concatenate([b["largest_raw"] for b in batches])
        scaled = np.concatenate([b["largest_scaled"] for b in batches])
        assert scores.shape == (10 * BATCH_SIZE * 5,) and raw.shape == scaled.shape == (10 * BATCH_SIZE,)
        assert scores.var() == pytest.approx(d_k, rel=0.1)     # Var(sum of d_k products of N(0, 1)) = d_k
        assert raw.mean() > scaled.mean()                        # a wider spread: a sharper softmax
        if d_k == 512:
            assert raw.mean() > 0.95                            # std 22.6: nearly one-hot
            # |q|^2 / d_k is near 1 for d_k = 512, so the scaled scores are about 5 independent N(0, 1):
            # the mean largest softmax weight of those, sampled here directly
            z = np.random.default_rng(11).normal(size=(20_000, 5))
            e = np.exp(z)
            assert scaled.mean() == pytest.approx((e / e.sum(axis=1, keepdims=True)).max(axis=1).mean(), abs=0.03)
    # The draws are those of a Generator seeded the same way: queries first, then keys.
    rng = np.random.default_rng(4)
    q, k = rng.normal(size=(BATCH_SIZE, 1, 8)), rng.normal(size=(BATCH_SIZE, 5, 8))
    first = next(saturation_batches(8, seed=4))
    expected = np.einsum("bd,bnd->bn", q[:, 0], k)
    np.testing.assert_allclose(first["scores"], expected.ravel(), rtol=1e-12)
    e = np.exp(expected / math.sqrt(8))
    np.testing.assert_allclose(first["largest_scaled"], (e / e.sum(axis=1, keepdims=True)).max(axis=1), rtol=1e-12)


def test_explorer_draws_the_lookup_and_the_sampling_and_reports():
    demo = AttentionExplorer(angle=90, length=3, d_k=128)
    expected = lookup(query_vector(90, 3))
    np.testing.assert_allclose([bar.get_height() for bar in demo.ax_weights.patches], expected.weights)
    assert demo.result.weights.argmax() == 1                   # k2 = (0.4, 1.1) points most nearly up
    assert len(demo.sampled["largest_raw"]) == BATCHES * BATCH_SIZE and demo.run.count == BATCHES
    text = demo.status.value
    assert "query at 90°, length 3</b>, scaled, no mask" in text and "finished: 20 rounds" in text
    assert "weights " + ", ".join(f"{w:.3f}" for w in expected.weights) in text
    steps = saturation_batches(128, seed=0)
    batches = [next(steps) for _ in range(BATCHES)]
    std = np.concatenate([b["scores"] for b in batches]).std()
    raw = np.concatenate([b["largest_raw"] for b in batches]).mean()
    assert f"std of q·k {std:.3g} (√d_k = 11.3)" in text and f"not scaled {raw:.3f}" in text


def test_lookup_controls_redraw_without_resampling_and_d_k_resamples_once():
    demo = AttentionExplorer(d_k=8)
    sampled, renders = demo.sampled, demo.renders
    demo.scaled.value = False
    demo.mask.value = CAUSAL
    demo.angle.value = 180
    assert demo.sampled is sampled and demo.renders == renders + 3
    np.testing.assert_allclose(demo.result.weights, lookup(query_vector(180, 2), scaled=False,
                                                           mask=MASKS[CAUSAL]).weights)
    assert "not scaled, causal" in demo.status.value and demo.ax_weights.get_title() == "weights = softmax(q·k)"
    demo.d_k.value = 512
    assert demo.computed["d_k"] == 512 and demo.sampled["largest_raw"].mean() > 0.95


@pytest.mark.parametrize("kwargs, error, message", [
    ({"mask": "future"}, ValueError, "mask must be one of"),
    ({"d_k": 64}, ValueError, r"d_k must be one of \(2, 8, 32, 128, 512\), got 64"),
    ({"length": 9}, ValueError, "length must be between 0 and 8, got 9"),
    ({"seed": 1.5}, TypeError, "seed must be an integer"),
])
def test_explorer_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        AttentionExplorer(**kwargs)


# -- in a loop, as in a kernel ----------------------------------------------------------------


def test_in_a_loop_sampling_runs_in_the_background_and_stop_keeps_the_batches_so_far(slow_steps, slow_drawing):
    slow_steps(0.02)

    async def test():
        demo = AttentionExplorer(d_k=32)
        assert demo.run.running and demo.sampled == {}            # returned before batch 1
        await until(lambda: demo.run.count >= 3)
        assert "sampling" in demo.status.value and len(slow_drawing) >= 2
        demo.run.stop_button.click()
        k = demo.run.count
        assert 3 <= k < BATCHES and len(demo.sampled["largest_raw"]) == k * BATCH_SIZE
        assert f"stopped after {k} of {BATCHES} rounds" in demo.status.value
        await asyncio.sleep(0.2)
        assert len(demo.sampled["largest_raw"]) == k * BATCH_SIZE   # nothing sampled after Stop
        return demo.sampled["scores"]

    scores = in_a_loop_returning(test)
    steps = saturation_batches(32, seed=0)
    expected = np.concatenate([next(steps)["scores"] for _ in range(len(scores) // (BATCH_SIZE * 5))])
    np.testing.assert_allclose(scores, expected, rtol=1e-12)


def test_in_a_loop_quick_changes_resample_once_with_the_last_d_k(slow_drawing):
    async def test():
        demo = AttentionExplorer(d_k=2)
        await until(lambda: not demo.run.running)
        starts = []
        original = demo.resample
        demo.resample = lambda: (starts.append(demo.d_k.value), original())[1]
        demo._resample_soon.action = lambda: demo.resample()
        for d_k in (8, 32, 128):
            demo.d_k.value = d_k
        demo.length.value = 5.0
        assert demo._resample_soon.pending and demo.computed["d_k"] == 2
        await asyncio.sleep(WAIT + 0.1)
        await until(lambda: not demo.run.running)
        assert starts == [128] and demo.computed["d_k"] == 128
        assert "length 5</b>" in demo.status.value and "finished: 20 rounds" in demo.status.value

    in_a_loop(test)


def test_module_is_exported():
    assert AttentionExplorer is attention_explorer.AttentionExplorer


# -- yours=: a student's attention and masks beside nblib's (issue 23) ---------------------------


def attention_by_einsum(q, k, v, mask=None):
    """Correct attention written another way: einsum scores, masked with -inf, softmax through logaddexp."""
    scores = np.einsum("qd,kd->qk", q, k) / math.sqrt(q.shape[-1])            # (Tq, Tk)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - np.logaddexp.reduce(scores, axis=-1, keepdims=True))
    return np.einsum("qk,kd->qd", weights, v), weights


def attention_unscaled(q, k, v, mask=None):
    """A typical mistake: the scores are not divided by sqrt(d_k)."""
    return attention_by_einsum(q * math.sqrt(q.shape[-1]), k, v, mask)


def attention_softmax_over_queries(q, k, v, mask=None):
    """A typical mistake: the softmax normalises over the queries (axis -2), not the keys."""
    scores = q @ k.T / math.sqrt(q.shape[-1])
    e = np.exp(scores - scores.max(axis=-2, keepdims=True))
    weights = e / e.sum(axis=-2, keepdims=True)                                # one query: every weight 1
    return weights @ v, weights


def weights_by_hand(q, scaled=True, allowed=(True,) * 5):
    """softmax over the keys of q . k (/ sqrt 2), written out; masked keys weigh 0."""
    scores = np.array([q @ key for key in KEYS]) / (math.sqrt(2) if scaled else 1.0)
    e = np.where(allowed, np.exp(scores - scores.max()), 0.0)
    return e / e.sum()


def yours_explorer(**yours):
    return AttentionExplorer(angle=30, length=2, d_k=2, yours=yours)


def test_yours_correct_attention_written_another_way_agrees_and_is_drawn():
    explorer = yours_explorer(scaled_dot_product_attention=attention_by_einsum)
    assert explorer.comparisons[0].agrees, explorer.comparisons[0].line
    q = 2 * np.array([math.cos(math.radians(30)), math.sin(math.radians(30))])
    for scaled in (True, False):                                               # unscaled: it gets sqrt(2) q
        explorer.scaled.value = scaled
        assert explorer.comparisons[0].agrees, explorer.comparisons[0].line
        diamonds = next(line for line in explorer.ax_weights.lines if line.get_label() == "your weights")
        np.testing.assert_allclose(diamonds.get_ydata(), weights_by_hand(q, scaled), rtol=1e-12)
        output = next(line for line in explorer.ax_plane.lines if line.get_label() == "your output")
        np.testing.assert_allclose(np.ravel(output.get_xydata()), weights_by_hand(q, scaled) @ KEYS, rtol=1e-12)
    explorer.mask.value = PADDING
    np.testing.assert_allclose(explorer.their_weights, weights_by_hand(q, False, MASKS[PADDING]), atol=1e-15)
    assert explorer.their_weights[3:].tolist() == [0.0, 0.0]
    assert "agrees" in explorer.comparisons[0].line and len(explorer.comparisons) == 1   # no padding_mask given


def test_yours_unscaled_or_wrong_axis_attention_names_the_first_difference():
    q = 2 * np.array([math.cos(math.radians(30)), math.sin(math.radians(30))])
    right = weights_by_hand(q) @ KEYS                                          # out (2,): the first output compared
    wrong = weights_by_hand(q, scaled=False) @ KEYS
    j = np.argwhere(~np.isclose(wrong, right, rtol=1e-6, atol=1e-9))[0][0]
    line = yours_explorer(scaled_dot_product_attention=attention_unscaled).comparisons[0].line
    assert line.startswith(f"your scaled_dot_product_attention (output 1 of 2) first differs at [0, {j}]: "
                           f"{wrong[j]:.4g} against nblib's {right[j]:.4g}"), line
    summed = KEYS.sum(axis=0)                                                  # weights all 1: out is the keys' sum
    line = yours_explorer(scaled_dot_product_attention=attention_softmax_over_queries).comparisons[0].line
    assert line.startswith(f"your scaled_dot_product_attention (output 1 of 2) first differs at [0, 0]: "
                           f"{summed[0]:.4g} against nblib's {right[0]:.4g}"), line


def test_yours_masks_are_judged_when_their_mask_is_chosen():
    explorer = yours_explorer(scaled_dot_product_attention=attention_by_einsum,
                              causal_mask=lambda T: np.triu(np.ones((T, T), dtype=bool)),      # upper: the future
                              padding_mask=lambda lengths, T: (np.arange(T) <= lengths[:, None])[:, None, :])  # one too many
    assert len(explorer.comparisons) == 1                                     # no mask chosen: attention only
    explorer.mask.value = CAUSAL
    attended, masked = explorer.comparisons
    assert attended.agrees                                                     # given nblib's mask: judged alone
    assert masked.line == "your causal_mask first differs at [0, 1]: 1 against nblib's 0 (largest difference 1)"
    assert explorer.their_mask.tolist() == [False, True, True, True, True]    # row 2 of the upper triangle
    crosses = next(line for line in explorer.ax_weights.lines if line.get_label() == "hidden by your mask")
    assert crosses.get_xdata().tolist() == [1]
    explorer.mask.value = PADDING
    assert explorer.comparisons[1].line == ("your padding_mask first differs at [0, 0, 3]: 1 against nblib's 0 "
                                            "(largest difference 1)")


def test_yours_unfinished_raising_or_wrong_shape_never_break_the_explorer():
    def not_written(*args, **kwargs):
        raise NotImplementedError()

    explorer = AttentionExplorer(d_k=2, mask=CAUSAL, yours={"scaled_dot_product_attention": not_written,
                                                            "causal_mask": not_written})
    lines = [c.line for c in explorer.comparisons]
    assert "your scaled_dot_product_attention is not written yet" in lines[0]
    assert "your causal_mask is not written yet" in lines[1]
    assert explorer.their_weights is None and explorer.their_mask is None
    np.testing.assert_allclose([bar.get_height() for bar in explorer.ax_weights.patches], explorer.result.weights)
    assert explorer.ax_weights.get_legend() is None                           # nothing of theirs drawn
    explorer = yours_explorer(scaled_dot_product_attention=lambda q, k, v, mask=None: attention_by_einsum(q, k, v)[1])
    assert explorer.comparisons[0].line == "your scaled_dot_product_attention returned a ndarray; nblib's returns 2 values"
    explorer = yours_explorer(scaled_dot_product_attention=lambda q, k, v, mask=None: q @ k)
    assert explorer.comparisons[0].line.startswith("your scaled_dot_product_attention raised ValueError: matmul")


def test_without_yours_the_explorer_is_as_before():
    explorer = AttentionExplorer(d_k=2)
    assert explorer.yours_line.layout.display == "none" and explorer.yours_line.value == ""
    assert explorer.comparisons == () and explorer.their_weights is None
    assert explorer.ax_weights.get_legend() is None
    assert all(not line.get_label().startswith("your") for line in explorer.ax_plane.lines)


def test_the_masks_the_explorer_shows_are_nblib_masks():
    from nblib import attention

    assert attention.padding_mask(np.array([3]), 5)[0, 0].tolist() == MASKS[PADDING].tolist()
    assert attention.causal_mask(5)[1].tolist() == MASKS[CAUSAL].tolist()
