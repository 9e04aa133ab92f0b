"""nblib.widgets.gate_viewer: toy_sequences, training_steps, gate_trace and LSTMGateViewer.

The traced gates are checked against the LSTM equations written out here, step by step, from the
layer's weights in Keras's layout (blocks i, f, c, o), and against nblib's own LSTM layer; the
training against nblib's fit run by hand. Plain tests run without an event loop, so controls act at
once; the "..._in_a_loop_..." tests run as in a kernel (see helpers.py and conftest.py).
"""

import asyncio
import threading

import numpy as np
import pytest

from nblib import layers, optim, training
from nblib.widgets import LSTMGateViewer, gate_viewer
from nblib.widgets.gate_viewer import gate_trace, toy_sequences, training_steps
from tests.nblib.widgets.helpers import WAIT, in_a_loop, in_a_loop_returning, until


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_toy_sequences_mark_one_step_in_the_first_half_and_its_value_is_the_target():
    x, y, marks = toy_sequences(200, 10, rng=3)
    assert x.shape == (200, 10, 2) and y.shape == (200, 1) and marks.shape == (200,)
    assert np.all(x[..., 1].sum(axis=1) == 1) and np.all(x[np.arange(200), marks, 1] == 1)
    assert marks.min() == 0 and marks.max() == 4                  # the first half: steps 1..5
    np.testing.assert_array_equal(y[:, 0], x[np.arange(200), marks, 0])
    assert np.abs(x[..., 0]).max() <= 1 and x[..., 0].std() > 0.5  # distractors as large as the value
    again = toy_sequences(200, 10, rng=3)
    assert all(np.array_equal(a, b) for a, b in zip((x, y, marks), again))


def test_gate_trace_follows_the_lstm_equations_in_keras_order():
    model = layers.Sequential([layers.LSTM(2, 3, rng=np.random.default_rng(1)),
                               layers.Dense(3, 1, rng=np.random.default_rng(2))])
    lstm, dense = model.layers
    kernel, recurrent_kernel, bias = (p.copy() for p in lstm.params.values())
    x = np.random.default_rng(4).normal(size=(7, 2))
    trace = gate_trace(model, x)
    h, c, H = np.zeros(3), np.zeros(3), 3
    for t in range(7):
        z = x[t] @ kernel + h @ recurrent_kernel + bias                # (4H,): blocks i, f, c, o
        i, f, g, o = sigmoid(z[:H]), sigmoid(z[H:2 * H]), np.tanh(z[2 * H:3 * H]), sigmoid(z[3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        for name, value in zip("ifgoch", (i, f, g, o, c, h)):
            np.testing.assert_allclose(getattr(trace, name)[t], value, rtol=1e-12, atol=1e-14)
    assert trace.prediction == pytest.approx(float((h @ dense.params["W"] + dense.params["b"])[0]), rel=1e-12)
    assert trace.prediction == pytest.approx(float(model.forward(x[None])[0, 0]), rel=1e-12)


def test_a_fresh_cell_has_keras_forget_gate():
    model = gate_viewer._model(2, np.random.default_rng(0))
    trace = gate_trace(model, np.zeros((4, 2)))
    np.testing.assert_allclose(trace.f, sigmoid(1.0))   # no input, zero states: z is the bias, forget block 1
    np.testing.assert_allclose(trace.i[0], 0.5)


def test_training_steps_are_nblib_fit_one_epoch_at_a_time():
    steps = training_steps(2, 8, n=64, seed=5)
    results = [next(steps) for _ in range(3)]
    rng = np.random.default_rng(5)
    x, y, _ = toy_sequences(64, 8, rng=rng)
    model, adam = gate_viewer._model(2, rng), optim.Adam(0.03)
    losses = [training.fit(model, x, y, optimizer=adam, epochs=1, batch_size=32, rng=rng,
                           loss="mean_squared_error").loss[-1] for _ in range(3)]
    assert [loss for _, loss in results] == pytest.approx(losses, rel=1e-12)
    trained = results[-1][0]
    for key, value in model.parameters().items():
        np.testing.assert_allclose(trained.parameters()[key], value, rtol=1e-12)


def test_the_default_cell_learns_to_open_its_input_gate_at_the_mark_and_remember():
    viewer = LSTMGateViewer(units=2, steps=12, epochs=40)
    assert viewer.losses[-1] < 0.02 < 0.3 < viewer.losses[0]           # predicting 0 costs about 0.33
    x, y, marks = viewer.examples
    errors, opened = [], []
    for k in range(len(x)):
        viewer.example.value = k
        trace = viewer.trace
        errors.append(abs(trace.prediction - y[k, 0]))
        m = marks[k]
        others = np.delete(trace.i, m, axis=0)
        opened.append(trace.i[m].max() > others.max(axis=1).mean())  # the gate is more open at the mark
    assert np.mean(errors) < 0.15 and np.mean(opened) >= 0.75


def test_viewer_draws_every_gate_of_every_unit_and_reports():
    viewer = LSTMGateViewer(units=3, steps=8, epochs=6)
    assert len(viewer.losses) == 6 and viewer.run.count == 6 and not viewer.run.running
    assert viewer.image.get_array().shape == (6 * 3, 8)
    labels = [t.get_text() for t in viewer.ax.get_yticklabels()]
    assert labels[:4] == ["i 1", "i 2", "i 3", "f 1"] and labels[-1] == "h 3"
    trace = viewer.trace
    np.testing.assert_allclose(viewer.image.get_array()[3:6], trace.f.T)   # the forget gate's rows, per unit
    assert "LSTM, 3 units, T = 8" in viewer.status.value and "finished: 6 epochs" in viewer.status.value
    assert f"training loss {viewer.losses[-1]:.4f} after 6 epochs" in viewer.status.value


def test_each_control_retrains_once_and_example_only_redraws():
    viewer = LSTMGateViewer(units=1, steps=6, epochs=5)
    viewer.units.value = 2
    assert viewer.computed == {"units": 2, "steps": 6, "epochs": 5} and len(viewer.losses) == 5
    viewer.steps.value = 9
    viewer.epochs.value = 7
    assert viewer.computed == {"units": 2, "steps": 9, "epochs": 7} and len(viewer.losses) == 7
    model, renders = viewer.model, viewer.renders
    viewer.example.value = 3
    assert viewer.model is model and len(viewer.losses) == 7 and viewer.renders == renders + 1
    assert "example 3" in viewer.ax_seq.get_title()


@pytest.mark.parametrize("kwargs, error, message", [
    ({"units": 0}, ValueError, "units must be >= 1, got 0"),
    ({"units": 5}, ValueError, "units must be between 1 and 4, got 5"),
    ({"steps": 40}, ValueError, "steps must be between 6 and 30, got 40"),
    ({"epochs": 2.5}, TypeError, "epochs must be an integer"),
])
def test_gate_viewer_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        LSTMGateViewer(**kwargs)


# -- in a loop, as in a kernel ----------------------------------------------------------------


def test_in_a_loop_training_runs_in_the_background_and_stop_keeps_the_cell_so_far(slow_steps, slow_drawing):
    slow_steps(0.02)

    async def test():
        viewer = LSTMGateViewer(units=2, steps=8, epochs=80)
        assert viewer.run.running and viewer.losses == [] and viewer.trace is None   # returned before epoch 1
        await until(lambda: viewer.run.count >= 3)
        assert "training" in viewer.status.value and len(slow_drawing) >= 2
        viewer.run.stop_button.click()
        k = viewer.run.count
        assert 3 <= k < 80 and len(viewer.losses) == k
        assert f"stopped after {k} of 80 epochs" in viewer.status.value
        await asyncio.sleep(0.2)
        assert len(viewer.losses) == k                               # nothing trained after Stop
        return viewer.losses, viewer.trace.h

    losses, h = in_a_loop_returning(test)
    steps = training_steps(2, 8)
    expected = [next(steps) for _ in range(len(losses))]
    assert losses == pytest.approx([loss for _, loss in expected], rel=1e-12)
    x, _, _ = toy_sequences(gate_viewer.EXAMPLES, 8, rng=1)
    np.testing.assert_allclose(h, gate_trace(expected[-1][0], x[0]).h, rtol=1e-12)


def test_in_a_loop_quick_changes_retrain_once_with_the_last_settings(slow_drawing):
    async def test():
        viewer = LSTMGateViewer(units=1, steps=6, epochs=5)
        await until(lambda: not viewer.run.running)
        starts = []
        original = viewer.retrain
        viewer.retrain = lambda: (starts.append(dict(viewer.computed)), original())[1]
        viewer._retrain_soon.action = lambda: viewer.retrain()
        for steps in (7, 8, 9):
            viewer.steps.value = steps
        viewer.units.value = 2
        assert viewer._retrain_soon.pending and viewer.computed["steps"] == 6
        await asyncio.sleep(WAIT + 0.1)
        await until(lambda: not viewer.run.running)
        assert len(starts) == 1
        assert viewer.computed == {"units": 2, "steps": 9, "epochs": 5}
        assert len(viewer.losses) == 5 and "finished: 5 epochs" in viewer.status.value

    in_a_loop(test)



def test_in_a_loop_an_example_chosen_on_another_thread_is_drawn_on_the_viewers_own():
    """A widget message can arrive on a subshell thread while the viewer's own thread draws a
    training's progress; two threads drawing one figure at once broke its legend (CI saw
    matplotlib's "No artists with labels found"). The example is drawn on the viewer's thread."""
    async def test():
        viewer = LSTMGateViewer(units=1, steps=6, epochs=5)
        await until(lambda: not viewer.run.running)
        drawn_on, show = [], viewer.show
        viewer.show = lambda: (drawn_on.append(threading.current_thread()), show())[1]
        message = threading.Thread(target=setattr, args=(viewer.example, "value", 3), name="subshell")
        message.start()
        message.join()
        await until(lambda: drawn_on)
        assert drawn_on == [threading.main_thread()]
        assert "example 3" in viewer.ax_seq.get_title()

    in_a_loop(test)

# -- yours=: a student's lstm_step replays the shown sequence (issue 23) ----------------------------


def step_by_split(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    """A correct LSTM step written another way: np.split into the blocks i, f, c, o, sigmoid as 1 / (1 + e^-z)."""
    z_i, z_f, z_c, z_o = np.split(x_t @ kernel + h_prev @ recurrent_kernel + bias, 4, axis=1)
    c = sigmoid(z_f) * c_prev + sigmoid(z_i) * np.tanh(z_c)
    return sigmoid(z_o) * np.tanh(c), c


def step_with_gates_i_f_o_c(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    """A typical mistake: the blocks read as i, f, o, c (CS231n's order), not Keras's i, f, c, o."""
    z_i, z_f, z_o, z_c = np.split(x_t @ kernel + h_prev @ recurrent_kernel + bias, 4, axis=1)
    c = sigmoid(z_f) * c_prev + sigmoid(z_i) * np.tanh(z_c)
    return sigmoid(z_o) * np.tanh(c), c


def step_without_c_prev(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    """A typical mistake: the old cell state is forgotten (c = i * g)."""
    z_i, z_f, z_c, z_o = np.split(x_t @ kernel + h_prev @ recurrent_kernel + bias, 4, axis=1)
    c = sigmoid(z_i) * np.tanh(z_c)
    return sigmoid(z_o) * np.tanh(c), c


def lstm_by_hand(viewer):
    """The shown sequence through the viewer's LSTM, the equations written out: h, c each (T, H)."""
    kernel, recurrent_kernel, bias = viewer.model.layers[0].params.values()
    x = viewer.examples[0][viewer.example.value]                          # (T, 2)
    H = recurrent_kernel.shape[0]
    h, c, hs, cs = np.zeros(H), np.zeros(H), [], []
    for x_t in x:
        z = x_t @ kernel + h @ recurrent_kernel + bias                      # (4H,): blocks i, f, c, o
        c = sigmoid(z[H:2 * H]) * c + sigmoid(z[:H]) * np.tanh(z[2 * H:3 * H])
        h = sigmoid(z[3 * H:]) * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.array(hs), np.array(cs)


def yours_viewer(step, **kwargs):
    return LSTMGateViewer(units=2, steps=6, epochs=5, yours={"lstm_step": step}, **kwargs)


def test_yours_correct_step_written_another_way_agrees_and_its_states_are_drawn():
    viewer = yours_viewer(step_by_split)
    assert viewer.comparison.agrees, viewer.comparison.line
    assert viewer.comparison.line.startswith("your lstm_step agrees with nblib's at every step t = 1..6")
    viewer.example.value = 3                                              # another sequence: replayed again
    h, c = lstm_by_hand(viewer)
    rows = viewer.image.get_array()                                       # (8H, T): i, f, g, o, c, h, your c, your h
    assert rows.shape == (8 * 2, 6)
    np.testing.assert_allclose(rows[12:14], np.clip(c.T, -1, 1), rtol=1e-12)
    np.testing.assert_allclose(rows[14:16], np.clip(h.T, -1, 1), rtol=1e-12)
    dense = viewer.model.layers[1].params
    assert viewer.their_prediction == pytest.approx(float(h[-1] @ dense["W"][:, 0] + dense["b"][0]), rel=1e-12)
    labels = viewer.ax.get_yticklabels()
    assert [t.get_text() for t in labels[12:]] == ["your c 1", "your c 2", "your h 1", "your h 2"]
    assert labels[12].get_color() == "#ff7f0e"
    assert "prediction from your h" in [t.get_text() for t in viewer.ax_seq.get_legend().get_texts()]


def test_yours_swapped_gates_differ_from_the_first_step():
    viewer = yours_viewer(step_with_gates_i_f_o_c)
    kernel, _, bias = viewer.model.layers[0].params.values()
    x_1 = viewer.examples[0][0, 0]                                        # (2,): the first step, from zero states
    z = x_1 @ kernel + bias                                               # (4H,) = (8,)
    right = sigmoid(z[6:]) * np.tanh(sigmoid(z[:2]) * np.tanh(z[4:6]))    # o * tanh(i * g), Keras's blocks
    wrong = sigmoid(z[4:6]) * np.tanh(sigmoid(z[:2]) * np.tanh(z[6:]))    # the blocks c and o exchanged
    u = np.argwhere(~np.isclose(wrong, right, rtol=1e-6, atol=1e-9))[0][0]
    line = viewer.comparison.line
    assert line.startswith(f"your lstm_step at step t = 1: (output 1 of 2) first differs at [0, {u}]: "
                           f"{wrong[u]:.4g} against nblib's {right[u]:.4g}"), line
    assert "✗" in viewer.yours_line.value


def test_yours_forgotten_cell_state_differs_from_the_second_step():
    viewer = yours_viewer(step_without_c_prev)
    assert viewer.comparison.line.startswith("your lstm_step at step t = 2:"), viewer.comparison.line


def test_yours_unfinished_raising_wrong_shape_or_meddling_never_break_the_viewer():
    def not_written(*args):
        raise NotImplementedError()

    def meddles(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
        kernel *= 0.0                                                     # in place: on a copy, not the model's
        return step_by_split(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias)

    viewer = yours_viewer(not_written)
    assert "your lstm_step is not written yet" in viewer.comparison.line
    assert viewer.their_c is None and viewer.their_prediction is None
    rows = np.ma.filled(viewer.image.get_array(), np.nan)                 # (8H, T); nan (masked) where not drawn
    assert np.isfinite(rows[:12]).all() and np.isnan(rows[12:]).all()     # nblib's gates alone
    viewer = yours_viewer(lambda *args: args[1])
    assert viewer.comparison.line == "your lstm_step returned a ndarray; nblib's returns 2 values"
    viewer = yours_viewer(lambda *args: args[99])
    assert viewer.comparison.line == "your lstm_step raised IndexError: tuple index out of range"
    viewer = yours_viewer(meddles)
    assert viewer.comparison.line.startswith("your lstm_step at step t = 1:")
    h, _ = lstm_by_hand(viewer)
    np.testing.assert_allclose(viewer.trace.h, h, rtol=1e-12)             # the model's kernel is intact


def test_yours_only_replays_the_trained_weights():
    calls = []
    viewer = yours_viewer(lambda *args: calls.append(args[0]) or step_by_split(*args))
    assert len(viewer.losses) == 5 and len(calls) == 6                    # one drawing after training: T = 6 steps
    reference = LSTMGateViewer(units=2, steps=6, epochs=5)
    assert viewer.losses == reference.losses                              # the training is nblib's alone


def test_without_yours_the_viewer_is_as_before():
    viewer = LSTMGateViewer(units=2, steps=6, epochs=5)
    assert viewer.yours_line.layout.display == "none" and viewer.yours_line.value == ""
    assert viewer.image.get_array().shape == (6 * 2, 6) and viewer.comparison is None
    assert "prediction from your h" not in [t.get_text() for t in viewer.ax_seq.get_legend().get_texts()]
    assert all(t.get_color() != "#ff7f0e" for t in viewer.ax.get_yticklabels())
