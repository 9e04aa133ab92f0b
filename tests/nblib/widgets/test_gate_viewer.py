"""nblib.widgets.gate_viewer: toy_sequences, training_steps, gate_trace and LSTMGateViewer.

The traced gates are checked against the LSTM equations written out here, step by step, from the
layer's weights in Keras's layout (blocks i, f, c, o), and against nblib's own LSTM layer; the
training against nblib's fit run by hand. Plain tests run without an event loop, so controls act at
once; the "..._in_a_loop_..." tests run as in a kernel (see helpers.py and conftest.py).
"""

import asyncio

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
