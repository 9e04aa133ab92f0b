"""nblib.widgets.approximation: UniversalApproximation.

What is drawn is checked against a forward pass written out here, the gradients against a
numerical gradient, and the training against Adam written out here. Plain tests run without an
event loop, so training finishes before the constructor returns; the "..._in_a_loop_..." tests
run as in a kernel (see helpers.py and conftest.py next to this file).
"""

import asyncio

import numpy as np
import pytest

from nblib import layers
from nblib.gradcheck import numerical_gradient
from nblib.widgets import UniversalApproximation
from nblib.widgets import approximation as UA
from tests.nblib.widgets.helpers import in_a_loop_returning, until


def network(x, model, activation):
    """The one-hidden-layer network, written out independently of nblib, with the model's weights."""
    p = weights(model)
    g = np.tanh if activation == "tanh" else (lambda z: np.maximum(z, 0.0))
    return g(x[:, None] * p["W1"][0] + p["b1"]) @ p["W2"][:, 0] + p["b2"][0]


def weights(model):
    """The demo network's four arrays: Dense(1, H) ("0.W", "0.b"), tanh or ReLU, Dense(H, 1) ("2.W", "2.b")."""
    p = model.parameters()
    assert sorted(p) == ["0.W", "0.b", "2.W", "2.b"]
    return {"W1": p["0.W"], "b1": p["0.b"], "W2": p["2.W"], "b2": p["2.b"]}


def drawn_fit(demo):
    return demo.fit_line.get_data()


def test_the_fit_drawn_is_the_networks_output_and_the_title_its_mse():
    demo = UniversalApproximation(width=5)
    x, y = drawn_fit(demo)
    np.testing.assert_allclose(y, network(x, demo.model, "tanh"), rtol=1e-10, atol=1e-12)
    x_train = np.linspace(-3, 3, 150)
    mse = np.mean((network(x_train, demo.model, "tanh") - np.sin(2 * x_train)) ** 2)
    assert demo.mse == pytest.approx(mse, rel=1e-10)
    assert f"MSE = {mse:.2e}" in demo.ax.get_title()
    steps, mses = demo.loss_line.get_data()
    assert steps[-1] == 3000 and mses[-1] == pytest.approx(mse, rel=1e-10)
    assert demo.run.status.value == "finished after 15 blocks"
    assert "finished after 3000 gradient steps" in demo.status.value


def test_more_hidden_units_fit_the_sine_better():
    demo = UniversalApproximation(target="sine", width=1)
    narrow, narrow_fit = demo.mse, drawn_fit(demo)[1].copy()
    demo.width.value = 32
    wide = demo.mse
    assert narrow > 0.3 and wide < narrow / 1000, (narrow, wide)  # one tanh cannot make a wave
    assert weights(demo.model)["W1"].shape == (1, 32) and not np.allclose(drawn_fit(demo)[1], narrow_fit)
    x, y = drawn_fit(demo)
    np.testing.assert_allclose(y, np.sin(2 * x), atol=0.05)  # the drawn fit follows the curve


def test_target_and_activation_controls_retrain_on_the_new_curve():
    demo = UniversalApproximation(target="sine", width=8)
    demo.target.value = "|x|"
    x, y = demo.target_line.get_data()
    np.testing.assert_array_equal(y, np.abs(x))
    demo.activation.value = "relu"
    x, y = drawn_fit(demo)
    np.testing.assert_allclose(y, network(x, demo.model, "relu"), rtol=1e-10, atol=1e-12)
    assert demo.mse < 1e-3 and "relu" in demo.ax.get_title() and "|x|" in demo.ax.get_title()


def test_a_fixed_seed_reproduces_the_fit_exactly():
    a, b = (UniversalApproximation(width=6, seed=3) for _ in range(2))
    other = UniversalApproximation(width=6, seed=4)
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(weights(a.model)[key], weights(b.model)[key])
    np.testing.assert_array_equal(drawn_fit(a)[1], drawn_fit(b)[1])
    assert not np.array_equal(drawn_fit(a)[1], drawn_fit(other)[1])
    a.retrain()
    np.testing.assert_array_equal(drawn_fit(a)[1], drawn_fit(b)[1])  # retraining starts from the same seed


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gradients_are_the_numerical_gradient_of_the_mse(activation, rng):
    model = UA.network(5, activation, rng)
    params = model.parameters()
    x, y = rng.uniform(-3, 3, size=(20, 1)), rng.normal(size=(20, 1))
    mse, d_y_hat = layers.mean_squared_error(model.forward(x), y)
    model.backward(d_y_hat)
    grads = {k: v.copy() for k, v in model.gradients().items()}
    assert mse == pytest.approx(np.mean((network(x[:, 0], model, activation) - y[:, 0]) ** 2), rel=1e-12)
    assert set(grads) == set(params)
    for key in params:
        def loss_of(value, key=key):
            saved = params[key].copy()
            params[key][...] = value
            loss = float(np.mean((network(x[:, 0], model, activation) - y[:, 0]) ** 2))
            params[key][...] = saved
            return loss
        np.testing.assert_allclose(grads[key], numerical_gradient(loss_of, params[key].copy()), rtol=1e-6,
                                   atol=1e-9, err_msg=key)


def test_training_is_adam_with_eps_1e_8_on_the_mse_gradient_written_out_here():
    demo = UniversalApproximation(width=3, steps=40, steps_per_block=20, seed=5)
    x, y = np.linspace(-3, 3, 150), np.sin(2 * np.linspace(-3, 3, 150))
    p = weights(UA.network(3, "tanh", np.random.default_rng(5)))
    w1, b1, w2, b2 = p["W1"][0], p["b1"], p["W2"][:, 0], p["b2"][0]
    m = v = np.zeros(10)
    for t in range(1, 41):
        h = np.tanh(np.outer(x, w1) + b1)                 # (N, 3)
        e = 2 * (h @ w2 + b2 - y) / len(x)                # dMSE/dy_hat
        dz = np.outer(e, w2) * (1 - h**2)                 # (N, 3)
        g = np.concatenate([x @ dz, dz.sum(0), h.T @ e, [e.sum()]])
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        alpha = 0.02 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)  # Keras's form: eps ("epsilon hat") added to sqrt(v)
        theta = np.concatenate([w1, b1, w2, [b2]]) - alpha * m / (np.sqrt(v) + 1e-8)
        w1, b1, w2, b2 = theta[:3], theta[3:6], theta[6:9], theta[9]
    got = weights(demo.model)
    np.testing.assert_allclose(got["W1"][0], w1, rtol=1e-10)
    np.testing.assert_allclose(got["b1"], b1, rtol=1e-10)
    np.testing.assert_allclose(got["W2"][:, 0], w2, rtol=1e-10)
    np.testing.assert_allclose(got["b2"][0], b2, rtol=1e-10)
    assert UA.ADAM_EPS == 1e-8 and not hasattr(UA, "Adam") and not hasattr(UA, "backward")


@pytest.mark.parametrize("kwargs, error, message", [
    ({"target": "cosine"}, ValueError, "target must be one of .*got 'cosine'"),
    ({"activation": "sigmoid"}, ValueError, "activation must be one of .*got 'sigmoid'"),
    ({"width": 0}, ValueError, "width must be >= 1, got 0"),
    ({"width": 65}, ValueError, "width must be between 1 and 64, got 65"),
    ({"width": 2.5}, TypeError, "width must be an integer"),
    ({"steps": 250}, ValueError, "steps must be a multiple of steps_per_block=200, got 250"),
    ({"lr": -0.1}, ValueError, "lr must be a positive number, got -0.1"),
])
def test_universal_approximation_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        UniversalApproximation(**kwargs)


# -- in a loop, as in a kernel ----------------------------------------------------------------


def test_approximation_in_a_loop_trains_in_the_background_and_stop_keeps_the_fit(slow_steps, slow_drawing):
    slow_steps(0.02)

    async def test():
        demo = UniversalApproximation(width=16, steps=3000)
        assert demo.run.running and demo.steps_done == 0  # the constructor returned before training
        await until(lambda: demo.run.count >= 3)
        assert demo.run.running and "training" in demo.status.value
        x, y = drawn_fit(demo)  # the plot follows the training
        np.testing.assert_allclose(y, network(x, demo.model, "tanh"), rtol=1e-10, atol=1e-12)
        assert len(demo.loss_line.get_data()[0]) >= 2 and len(slow_drawing) >= 2
        demo.run.stop_button.click()
        k = demo.run.count
        assert 3 <= k < 15 and demo.steps_done == 200 * k
        assert f"stopped after {200 * k} gradient steps" in demo.status.value
        kept = {key: value.copy() for key, value in demo.model.parameters().items()}
        np.testing.assert_allclose(drawn_fit(demo)[1], network(x, demo.model, "tanh"), rtol=1e-10, atol=1e-12)
        await asyncio.sleep(0.2)
        for key, value in kept.items():  # nothing trains after Stop
            np.testing.assert_array_equal(demo.model.parameters()[key], value)
        return k, kept

    k, kept = in_a_loop_returning(test)
    same = UniversalApproximation(width=16, steps=200 * k)  # plain Python: k blocks, all at once
    for key, value in kept.items():  # Stop kept exactly the first k blocks of the training
        np.testing.assert_array_equal(same.model.parameters()[key], value)


def test_approximation_in_a_loop_a_new_width_replaces_a_running_training(slow_steps):
    slow_steps(0.02)

    async def test():
        demo = UniversalApproximation(width=4)
        await until(lambda: demo.run.count >= 2)
        demo.width.value = 12
        assert demo._retrain_soon.pending and demo.fitted["width"] == 4  # settling; the old one goes on
        await until(lambda: demo.fitted["width"] == 12 and not demo.run.running, timeout=20)
        assert weights(demo.model)["W1"].shape == (1, 12) and demo.steps_done == 3000
        return {key: value.copy() for key, value in demo.model.parameters().items()}

    params = in_a_loop_returning(test)
    expected = UniversalApproximation(width=12).model.parameters()
    for key in params:
        np.testing.assert_array_equal(params[key], expected[key])
