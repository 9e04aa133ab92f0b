"""nblib.widgets.perceptron: PerceptronPlayground, tested without a browser.

Moving a control changes what is drawn. Plain tests run without an event loop, so controls
act at once and training finishes before the constructor returns; the "..._in_a_loop_..."
tests run as in a kernel (see helpers.py and conftest.py next to this file).
"""

import asyncio
import time

import numpy as np
import pytest

from nblib import data, perceptron
from nblib.widgets import PerceptronPlayground
from tests.nblib.widgets.helpers import WAIT, datasets, in_a_loop, until


def drawn_line(pg):
    return pg.line.get_xydata()


def assert_line_is(pg, w, b):
    """The drawn points lie on w . x + b = 0."""
    np.testing.assert_allclose(drawn_line(pg) @ w + b, 0.0, atol=1e-9)


# -- PerceptronPlayground without an event loop -----------------------------------------------


def test_epoch_slider_moves_the_line_to_that_epochs_weights(playground):
    fit = playground.fit
    assert playground.epoch.max == playground.epoch.value == len(fit.errors)  # shows the end
    for epoch in range(len(fit.errors) + 1):
        playground.epoch.value = epoch
        assert_line_is(playground, fit.weights[epoch], fit.biases[epoch])
        assert f"<b>epoch {epoch}</b>" in playground.status.value
    assert f"training converged after {len(fit.errors)} epochs" in playground.status.value


def test_learning_rate_retrains_and_shows_the_last_epoch(playground):
    playground.epoch.value = 1
    before = playground.fit
    playground.lr.value = 0.01
    assert not np.allclose(before.weights[1], playground.fit.weights[1])
    expected = perceptron.train(*playground.datasets["separable"], lr=0.01, epochs=15, w0=[1.0, -0.5], b0=0.5)
    np.testing.assert_allclose(playground.fit.w, expected.w)
    assert playground.epoch.value == playground.epoch.max == playground.play.max == len(expected.errors)
    assert_line_is(playground, expected.w, expected.b)


def test_from_zero_the_learning_rate_does_not_move_the_line(playground):
    playground.from_zero.value = True
    playground.epoch.value = playground.epoch.max
    line_a = drawn_line(playground).copy()
    playground.lr.value = 5.0
    playground.epoch.value = playground.epoch.max
    np.testing.assert_allclose(drawn_line(playground), line_a, atol=1e-9)


def test_xor_is_reported_as_not_converging(playground):
    playground.dataset.value = "XOR"
    assert playground.epoch.max == 15
    assert "not converged after 15 epochs" in playground.status.value
    assert playground.run.status.value == "finished after 15 epochs"


def test_needs_a_dataset():
    with pytest.raises(ValueError, match="at least one"):
        PerceptronPlayground({})


def test_labels_are_not_cut_off_and_the_run_sits_under_the_settings(playground):
    for control in (playground.dataset, playground.lr, playground.from_zero, playground.epoch):
        assert control.style.description_width == "initial", control.description
    settings, run_row = playground.widget.children[:2]
    assert playground.lr in settings.children
    assert run_row is playground.run.widget


def misclassified(X, y, w, b):
    return perceptron.predict(X, np.asarray(w, dtype=float), b) != y


def test_a_hand_slider_stops_training_and_shows_its_line_and_mistakes(playground):
    X, y = playground.datasets["separable"]
    assert not playground.by_hand.value and playground.epoch.max > 0  # trained on creation
    playground.w1.value = -1.0  # (-1, -0.5), 0.5: a poor line
    assert playground.by_hand.value and not playground.run.running
    assert playground.epoch.max == playground.epoch.value == 0  # nothing trained
    assert_line_is(playground, [-1.0, -0.5], 0.5)
    wrong = misclassified(X, y, [-1.0, -0.5], 0.5)
    assert 0 < wrong.sum() < len(y)
    assert f"{wrong.sum()} of {len(y)} points misclassified" in playground.status.value
    np.testing.assert_array_equal(playground.crosses.get_offsets(), X[wrong])
    for b in (-1.0, 0.0, 2.5):  # live: every move redraws the line and recounts
        playground.b.value = b
        assert_line_is(playground, [-1.0, -0.5], b)
        wrong = misclassified(X, y, [-1.0, -0.5], b)
        assert f"{wrong.sum()} of {len(y)} points misclassified" in playground.status.value
        assert len(playground.crosses.get_offsets()) == wrong.sum()


def test_a_dataset_change_keeps_the_hand_set_weights_and_recounts(playground):
    playground.dataset.value = "XOR"
    playground.by_hand.value = True
    for slider, value in ((playground.w1, 1.0), (playground.w2, 1.0), (playground.b, -0.5)):
        slider.value = value
    assert "1 of 4 points misclassified" in playground.status.value  # XOR: OR's line gets (1, 1) wrong
    playground.dataset.value = "separable"  # a dataset change keeps the hand-set weights
    assert playground.by_hand.value and playground.start[1] == -0.5
    w, b = playground.fit.weights[-1], playground.fit.biases[-1]
    X, y = playground.datasets["separable"]
    assert f"{misclassified(X, y, w, b).sum()} of {len(y)} points" in playground.status.value


def test_unticking_trains_from_the_hand_set_weights(playground):
    playground.w1.value, playground.w2.value, playground.b.value = -2.0, 1.5, 0.3
    playground.by_hand.value = False
    X, y = playground.datasets["separable"]
    expected = perceptron.train(X, y, lr=0.5, epochs=15, w0=[-2.0, 1.5], b0=0.3)
    np.testing.assert_allclose(playground.fit.weights, expected.weights)
    assert playground.epoch.value == playground.epoch.max == len(expected.errors)
    assert f"training converged after {len(expected.errors)} epochs" in playground.status.value
    assert len(playground.crosses.get_offsets()) == 0  # converged: every point on its side


def test_a_training_setting_leaves_setting_by_hand(playground):
    playground.w2.value = 2.0
    assert playground.by_hand.value
    playground.from_zero.value = True  # trains from zero, not from the hand-set weights
    assert not playground.by_hand.value
    expected = perceptron.train(*playground.datasets["separable"], lr=0.5, epochs=15)
    np.testing.assert_allclose(playground.fit.weights, expected.weights)
    playground.by_hand.value = True  # back to the hand-set line, even with "from zero" ticked
    assert_line_is(playground, [1.0, 2.0], 0.5)
    playground.lr.value = 0.01
    assert not playground.by_hand.value and playground.epoch.max > 0


def test_zero_hand_weights_draw_no_line_and_the_start_is_checked():
    pg = PerceptronPlayground(datasets(), start=((0.0, 0.0), 0.0))
    pg.by_hand.value = True
    assert len(drawn_line(pg)) == 0
    X, y = pg.datasets["separable"]  # w = 0, b = 0: z = 0 everywhere, so every point is called 1
    assert f"{(y == 0).sum()} of {len(y)} points misclassified" in pg.status.value
    with pytest.raises(ValueError, match=r"every value in \[-5.0, 5.0\], got \(\(9"):
        PerceptronPlayground(datasets(), start=((9.0, 0.0), 0.0))


def test_epoch_by_epoch_training_equals_one_call_to_train(monkeypatch):
    calls = []
    train = perceptron.train

    def counting_train(*args, **kwargs):
        calls.append(kwargs["epochs"])
        return train(*args, **kwargs)

    monkeypatch.setattr(perceptron, "train", counting_train)  # looked up at call time
    pg = PerceptronPlayground({**datasets(), "moons": data.moons(60, noise=0.15, seed=0)}, lr=0.3, max_epochs=20)
    for name in pg.datasets:
        for from_zero in (False, True):
            pg.dataset.value, pg.from_zero.value = name, from_zero
            calls.clear()
            pg.retrain()
            X, y = pg.datasets[name]
            w0, b0 = ([0.0, 0.0], 0.0) if from_zero else ([1.0, -0.5], 0.5)
            expected = train(X, y, lr=0.3, epochs=20, w0=w0, b0=b0)
            assert calls == [1] * len(expected.errors), "one epoch per step"
            for field in ("errors", "weights", "biases", "w"):
                np.testing.assert_array_equal(getattr(pg.fit, field), getattr(expected, field), err_msg=field)
            assert pg.fit.b == expected.b and pg.fit.converged == expected.converged


# -- PerceptronPlayground in a loop, as in a kernel -------------------------------------------


def test_playground_in_a_loop_trains_in_the_background():
    async def test():
        pg = PerceptronPlayground(datasets(), lr=0.5, max_epochs=15)
        await until(lambda: not pg.run.running)
        X, y = pg.datasets["separable"]
        expected = perceptron.train(X, y, lr=0.5, epochs=15, w0=[1.0, -0.5], b0=0.5)
        np.testing.assert_array_equal(pg.fit.weights, expected.weights)
        assert pg.epoch.value == pg.epoch.max == len(expected.errors)
        assert f"training converged after {len(expected.errors)} epochs" in pg.status.value

    in_a_loop(test)


def test_playground_in_a_loop_draws_a_dragged_epoch_slider_once(slow_drawing):
    async def test():
        pg = PerceptronPlayground(datasets(), lr=0.5, max_epochs=15)
        await until(lambda: not pg.run.running)
        fit, last = pg.fit, pg.epoch.max
        assert last >= 3
        slow_drawing.clear()
        moved = []  # when each position was set
        for sweep in range(3):  # drag back and forth, 10 ms per position
            for epoch in [*range(last, -1, -1), *range(1, last)]:
                pg.epoch.value = epoch
                moved.append(time.perf_counter())
                await asyncio.sleep(0.01)
        final = pg.epoch.value
        # Nothing drawn while the slider moves, unless the machine stalled the loop for a whole wait
        # between two positions (the Debouncer then rightly draws that quiet moment's position).
        stalls = sum(b - a >= WAIT for a, b in zip(moved, moved[1:]))
        during = len(slow_drawing)
        assert final == last - 1 and during <= stalls, (during, stalls)
        await asyncio.sleep(WAIT + 0.2)
        assert 1 <= len(slow_drawing) - during <= 2  # ... then once (twice if the machine hiccupped)
        assert_line_is(pg, fit.weights[final], fit.biases[final])
        assert pg.shown_epoch == final and f"<b>epoch {final}</b>" in pg.status.value

    in_a_loop(test)


def test_playground_in_a_loop_stopped_keeps_the_epochs_so_far(slow_steps):
    slow_steps(0.01)

    async def test():
        pg = PerceptronPlayground({"XOR": data.logic_gate("xor")}, lr=0.5, max_epochs=500)  # never converges
        await until(lambda: pg.epoch.max >= 3)  # live: the slider grows while training runs
        assert pg.run.running and "training" in pg.status.value
        assert pg.epoch.value == pg.shown_epoch == pg.epoch.max  # the plot shows the newest epoch
        pg.run.stop_button.click()
        k = len(pg.fit.errors)
        assert 3 <= k < 500 and f"stopped after {k} epochs" in pg.status.value
        expected = perceptron.train(*data.logic_gate("xor"), lr=0.5, epochs=k, w0=[1.0, -0.5], b0=0.5)
        np.testing.assert_array_equal(pg.fit.weights, expected.weights)
        assert pg.epoch.value == pg.epoch.max == k and pg.play.max == k
        assert_line_is(pg, expected.w, expected.b)
        await asyncio.sleep(0.2)
        assert len(pg.fit.errors) == k and f"stopped after {k} epochs" in pg.status.value

    in_a_loop(test)


def test_playground_in_a_loop_a_new_setting_replaces_a_running_training(slow_steps):
    slow_steps(0.01)

    async def test():
        pg = PerceptronPlayground({"XOR": data.logic_gate("xor"), "separable": data.linearly_separable(40, seed=1)},
                                  lr=0.5, max_epochs=500)  # XOR first: it trains until replaced
        pg._retrain_soon.wait = 1.0  # settle time: a loaded machine must not stretch the 0.05 s below past it
        statuses, retrains = [], []
        pg.status.observe(lambda change: statuses.append(change["new"]), "value")
        retrain = pg.retrain
        pg.retrain = lambda: (retrains.append(pg.dataset.value), retrain())
        await until(lambda: pg.epoch.max >= 3)
        pg.dataset.value = "separable"
        assert pg.run.running and pg._retrain_soon.pending  # XOR goes on while the setting settles
        await asyncio.sleep(0.05)
        pg.from_zero.value = True  # within the wait: one retraining for both changes
        await until(lambda: not pg._retrain_soon.pending and not pg.run.running)
        assert retrains == ["separable"]
        X, y = pg.datasets["separable"]
        expected = perceptron.train(X, y, lr=0.5, epochs=500)  # from zero
        np.testing.assert_array_equal(pg.fit.weights, expected.weights)
        assert f"training converged after {len(expected.errors)} epochs" in pg.status.value
        assert not [s for s in statuses if "stopped" in s], "the replaced training reported over the new one"

    in_a_loop(test)


def test_playground_in_a_loop_a_hand_slider_stops_a_running_training(slow_steps):
    slow_steps(0.01)

    async def test():
        pg = PerceptronPlayground({"XOR": data.logic_gate("xor")}, lr=0.5, max_epochs=500)  # never converges
        await until(lambda: pg.epoch.max >= 3)
        pg.b.value = -0.5
        pg.w2.value = 1.0  # two quick moves, the line drawn once the Debouncers settle
        await until(lambda: not pg._retrain_soon.pending and not pg._hand_soon.pending)
        assert not pg.run.running and pg.by_hand.value
        assert_line_is(pg, [1.0, 1.0], -0.5)
        assert "<b>w and b set by hand</b>: 1 of 4 points misclassified" in pg.status.value  # OR's line on XOR
        await asyncio.sleep(0.1)
        assert pg.epoch.max == 0 and len(pg.fit.errors) == 0, "the stopped training went on recording"
        assert "stopped" not in pg.status.value

    in_a_loop(test)


def test_playground_in_a_loop_draws_quick_hand_moves_once(slow_drawing):
    async def test():
        pg = PerceptronPlayground(datasets(), lr=0.5, max_epochs=15)
        await until(lambda: not pg.run.running)
        pg.by_hand.value = True
        await until(lambda: not pg._retrain_soon.pending)
        slow_drawing.clear()
        for k in range(10):  # a slider dragged, 10 ms per position
            pg.w1.value = round(1.0 - 0.1 * (k + 1), 1)
            await asyncio.sleep(0.01)
        assert not slow_drawing  # nothing drawn while the slider moves
        await asyncio.sleep(WAIT + 0.2)
        assert 1 <= len(slow_drawing) <= 2  # ... then once (twice if the machine hiccupped)
        assert_line_is(pg, [0.0, -0.5], 0.5)
        X, y = pg.datasets["separable"]
        assert f"{misclassified(X, y, [0.0, -0.5], 0.5).sum()} of {len(y)} points" in pg.status.value

    in_a_loop(test)


# -- PerceptronPlayground(yours=...): a student's train_perceptron beside nblib's (issue 23) ---------


YOURS_COLOUR = "#ff7f0e"


def rosenblatt(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):
    """The rule written out here, as the homework asks: (w, b, errors), one example at a time.

    For each (x, t): y_hat = 1 if x . w + b >= 0 else 0; w += lr (t - y_hat) x; b += lr (t - y_hat);
    stop after the first epoch without an update.
    """
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
    b, errors = float(b0), []
    for _ in range(epochs):
        updates = 0
        for x, t in zip(X, y):
            step = t - int(x @ w + b >= 0)
            if step:
                w, b, updates = w + lr * step * x, b + lr * step, updates + 1
        errors.append(updates)
        if updates == 0:
            break
    return w, b, errors


def with_labels_pm1(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):
    """The same rule written another way: labels in {-1, +1}, an update on a wrong sign, a while loop."""
    w = np.zeros(X.shape[1]) if w0 is None else np.asarray(w0, dtype=float).copy()
    b, errors, s = float(b0), [], 2 * np.asarray(y) - 1  # s = +1 for class 1, -1 for class 0
    while len(errors) < epochs and (not errors or errors[-1]):
        wrong = 0
        for x, s_i in zip(X, s):
            predicted = 1 if x @ w + b >= 0 else -1
            if predicted != s_i:  # t - y_hat = (s - predicted) / 2 = s
                w, b, wrong = w + lr * s_i * x, b + lr * s_i, wrong + 1
        errors.append(wrong)
    return w, b, np.array(errors)


def hooked(train, **kwargs):
    return PerceptronPlayground(datasets(), lr=0.5, max_epochs=15, yours={"train_perceptron": train}, **kwargs)


def line_text(pg):
    return pg.yours_line.value.replace("&#x27;", "'")


def test_yours_a_right_rule_written_another_way_agrees_and_draws_its_line_and_mistakes():
    pg = hooked(with_labels_pm1)
    X, y = pg.datasets["separable"]
    w, b, errors = rosenblatt(X, y, lr=0.5, epochs=15, w0=[1.0, -0.5], b0=0.5)
    assert "agrees with nblib's" in line_text(pg) and pg.yours_line.layout.display == "flex"
    assert len(pg.compared) == len(errors) == pg.epoch.value and all(c.agrees for c in pg.compared)
    np.testing.assert_allclose(pg.their_line.get_xydata() @ w + b, 0.0, atol=1e-9)  # on the test's own line
    np.testing.assert_array_equal(pg.their_errors.get_xydata(), np.c_[np.arange(1, len(errors) + 1), errors])
    for epoch in (1, 2):  # the epoch slider moves their line too: k epochs of the rule
        pg.epoch.value = epoch
        w_k, b_k, errors_k = rosenblatt(X, y, lr=0.5, epochs=epoch, w0=[1.0, -0.5], b0=0.5)
        np.testing.assert_allclose(pg.their_line.get_xydata() @ w_k + b_k, 0.0, atol=1e-9)
        assert pg.their_errors.get_xydata()[:, 1].tolist() == errors_k
    assert "your train_perceptron" in [t.get_text() for t in pg.ax.get_legend().get_texts()]


def test_yours_a_rule_without_the_learning_rate_says_after_which_epoch_and_where_it_first_differs():
    def without_lr(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):
        return rosenblatt(X, y, lr=1.0, epochs=epochs, w0=w0, b0=b0)

    pg = hooked(without_lr)
    X, y = pg.datasets["separable"]
    w_right, _, _ = rosenblatt(X, y, lr=0.5, epochs=1, w0=[1.0, -0.5], b0=0.5)
    w_wrong, b_wrong, _ = rosenblatt(X, y, lr=1.0, epochs=1, w0=[1.0, -0.5], b0=0.5)
    assert w_right[0] != w_wrong[0]  # both start at w1 = 1: the first epoch's updates differ by lr
    assert (f"your train_perceptron after epoch 1: (output 1 of 3) first differs at [0]: {w_wrong[0]:.4g} "
            f"against nblib's {w_right[0]:.4g}") in line_text(pg), line_text(pg)
    pg.epoch.value = 1
    np.testing.assert_allclose(pg.their_line.get_xydata() @ w_wrong + b_wrong, 0.0, atol=1e-9)
    assert pg.their_line.get_label() == "your train_perceptron"
    w_all, b_all, errors_all = rosenblatt(X, y, lr=1.0, epochs=15, w0=[1.0, -0.5], b0=0.5)
    nblib_epochs = len(pg.fit.errors)
    assert len(errors_all) < nblib_epochs  # theirs stops first: after nblib's last epoch their errors are shorter
    pg.epoch.value = nblib_epochs  # so their newest usable epoch is drawn, and named
    assert pg.their_line.get_label() == f"your train_perceptron (epoch {len(errors_all)})"
    np.testing.assert_allclose(pg.their_line.get_xydata() @ w_all + b_all, 0.0, atol=1e-9)
    assert pg.their_errors.get_xydata()[:, 1].tolist() == errors_all
    pg.lr.value = 1.0  # at lr = 1 the rule without lr is the rule
    assert "agrees with nblib's" in line_text(pg)


def test_yours_a_strict_step_agrees_until_a_point_lies_on_the_line():
    def strict_step(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):  # y_hat = 1 only where z > 0
        w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
        b, errors = float(b0), []
        for _ in range(epochs):
            errors.append(0)
            for x, t in zip(X, y):
                step = t - int(x @ w + b > 0)
                w, b, errors[-1] = w + lr * step * x, b + lr * step, errors[-1] + abs(step)
            if errors[-1] == 0:
                break
        return w, b, errors

    pg = hooked(strict_step)
    assert "agrees" in line_text(pg)  # no z = 0 on these points from these weights
    pg.dataset.value, pg.from_zero.value = "XOR", True  # from zero weights, z = 0 at (0, 0)
    # XOR, lr = 0.5, from w = (0, 0), b = 0, by hand. nblib (1 where z >= 0):
    #   (0,0) t=0: z=0 -> 1, w=(0,0) b=-0.5;  (0,1) t=1: z=-0.5 -> 0, w=(0,0.5) b=0;
    #   (1,0) t=1: z=0 -> 1;  (1,1) t=0: z=0.5 -> 1, w=(-0.5,0) b=-0.5.
    # The strict step: (0,0): z=0 -> 0, right;  (0,1): z=0 -> 0, w=(0,0.5) b=0.5;  (1,0): z=0.5 -> 1;
    #   (1,1) t=0: z=1 -> 1, w=(-0.5,0) b=0.  Same w, b = 0 against -0.5.
    assert "your train_perceptron after epoch 1: (output 2 of 3) first differs: 0 against nblib's -0.5" in line_text(pg), \
        line_text(pg)


def test_yours_an_unfinished_rule_is_not_written_yet_and_nblibs_is_drawn_alone():
    def train_perceptron(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):
        raise NotImplementedError("replace this line with your code")

    pg = hooked(train_perceptron)
    expected = perceptron.train(*pg.datasets["separable"], lr=0.5, epochs=15, w0=[1.0, -0.5], b0=0.5)
    assert "your train_perceptron is not written yet (it raises NotImplementedError)" in line_text(pg)
    np.testing.assert_array_equal(pg.fit.weights, expected.weights)
    assert_line_is(pg, expected.w, expected.b)
    assert len(pg.their_line.get_xydata()) == 0 and len(pg.their_errors.get_xydata()) == 0


@pytest.mark.parametrize("train, said", [
    (lambda X, y, **kw: X[len(X)], "raised IndexError: index 40 is out of bounds"),
    (lambda X, y, **kw: rosenblatt(X, y, **kw)[:2], "returned a tuple of 2; nblib's returns 3 values"),
    (lambda X, y, **kw: (np.zeros(3), 0.0, [1]), "(output 1 of 3) returned shape (3,); nblib's has shape (2,)"),
    (lambda X, y, **kw: None, "returned a NoneType; nblib's returns 3 values"),
], ids=["raises", "two-values", "wrong-shape", "none"])
def test_yours_a_rule_that_fails_is_described_and_nblibs_still_drawn(train, said):
    pg = hooked(train)
    assert said in line_text(pg), line_text(pg)
    assert len(pg.their_line.get_xydata()) == 0 and pg.fit.converged
    assert_line_is(pg, pg.fit.w, pg.fit.b)


def test_without_yours_nothing_changes(playground):
    assert playground.yours_line.layout.display == "none" and playground.yours_line.value == ""
    assert playground.compared == [] and len(playground.their_line.get_xydata()) == 0
    for ax in (playground.ax, playground.ax_errors):
        legend = ax.get_legend()
        labels = [] if legend is None else [t.get_text() for t in legend.get_texts()]
        assert not [label for label in labels if "your" in label], labels
        assert not [h for h in ([] if legend is None else legend.legend_handles)
                    if getattr(h, "get_color", lambda: None)() == YOURS_COLOUR]
    with pytest.raises(ValueError, match="can show your train_perceptron, not 'train'"):
        PerceptronPlayground(datasets(), yours={"train": rosenblatt})


def test_yours_in_a_loop_runs_the_students_training_in_the_run_steps(slow_steps):
    slow_steps(0.005)
    calls = []

    def counting(X, y, **kwargs):
        calls.append(kwargs["epochs"])
        return rosenblatt(X, y, **kwargs)

    async def test():
        pg = hooked(counting)
        assert calls == []  # the first epoch is a step of the background run, not of the constructor
        await until(lambda: not pg.run.running)
        assert calls == list(range(1, len(pg.fit.errors) + 1))  # after epoch k: their k epochs, once
        assert "agrees" in line_text(pg)

    in_a_loop(test)
