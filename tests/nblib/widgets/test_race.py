"""nblib.widgets.race: OptimizerRace.

Each racer's path is checked against its update in Keras's form, written out in helpers.py
(keras_rules). A diverging run must not warn (numpy's overflow warnings are errors here).
Plain tests run without an event loop, so controls act at once; the "..._in_a_loop_..." tests
run as in a kernel (see helpers.py and conftest.py next to this file).
"""

import asyncio
import html
import re
import warnings

import numpy as np
import pytest

from nblib import optim
from nblib.gradcheck import numerical_gradient
from nblib.widgets import OptimizerRace, race
from nblib.widgets.race import RACERS
from tests.nblib.widgets.helpers import WAIT, bowl_gradient, in_a_loop, keras_rules, until


def test_each_racer_takes_its_keras_step_written_out_here():
    demo = OptimizerRace(surface="ill-conditioned bowl")
    demo.lr.value, demo.beta.value, demo.beta2.value, demo.steps.value = 0.03, 0.8, 0.95, 40
    for racer, (rule, state) in keras_rules(0.03, 0.8, 0.95).items():
        w, path = np.array([-4.5, 1.5]), [np.array([-4.5, 1.5])]
        for t in range(1, 41):
            w, state = rule(w, bowl_gradient(w), state, t)
            path.append(w)
        np.testing.assert_allclose(demo.paths[racer], path, rtol=1e-10, atol=1e-14, err_msg=racer)
        np.testing.assert_allclose(demo.losses[racer], [0.5 * (x**2 + 10 * y**2) for x, y in path], rtol=1e-10,
                                   atol=1e-300)


def test_first_steps_by_hand():
    # From (-4.5, 1.5) the gradient is g = (-4.5, 15). lr = 0.1, beta = 0.5, beta2 = 0.75:
    demo = OptimizerRace(lr=0.1, beta=0.5, beta2=0.75, steps=10)
    w0, g = np.array([-4.5, 1.5]), np.array([-4.5, 15.0])
    first = {
        "SGD": w0 - 0.1 * g,                                      # (-4.05, 0)
        "momentum": w0 - 0.1 * g,                                 # v = -lr g; w + v: the same first step
        "Nesterov": w0 - 0.1 * g * 1.5,                           # w + beta v - lr g = w - lr g (1 + beta)
        "RMSprop": w0 - 0.1 * g / np.sqrt(0.25 * g**2 + 1e-7),    # s = (1 - rho) g²: about 2 lr sign(g)
        "Adam": w0 - 0.1 * g / (np.abs(g) + 1e-7 / np.sqrt(0.25)),  # m_hat = g, v_hat = g²: about lr sign(g)
    }
    for racer, expected in first.items():
        np.testing.assert_allclose(demo.paths[racer][1], expected, rtol=1e-12, err_msg=racer)
    np.testing.assert_allclose(demo.paths["SGD"][1], [-4.05, 0.0], atol=1e-15)
    np.testing.assert_allclose(demo.paths["Adam"][1], [-4.4, 1.4], rtol=1e-7)


def test_racers_use_nblib_optim(monkeypatch):
    calls = []
    for name in ("sgd_step", "momentum_step", "nesterov_step", "rmsprop_step", "adam_step"):
        rule = getattr(optim, name)
        monkeypatch.setattr(optim, name,
                            lambda *a, _rule=rule, _name=name, **kw: calls.append(_name) or _rule(*a, **kw))
    OptimizerRace(steps=10)
    assert sorted(set(calls)) == ["adam_step", "momentum_step", "nesterov_step", "rmsprop_step", "sgd_step"]
    assert len(calls) == 50


@pytest.mark.parametrize("name", list(race.SURFACES))
def test_surface_gradients_are_the_numerical_gradient(name, rng):
    sf = race.SURFACES[name]
    for _ in range(3):
        p = rng.uniform(-1.5, 1.5, size=2)
        np.testing.assert_allclose(sf.grad(p), numerical_gradient(lambda q: float(sf.f(q)), p), rtol=1e-6, atol=1e-6)


def test_momentum_beats_sgd_along_the_bowls_valley():
    demo = OptimizerRace()  # lr 0.02, beta 0.9, 150 steps
    final = {racer: loss[-1] for racer, loss in demo.losses.items()}
    assert final["momentum"] < 1e-4 < final["SGD"] and final["Nesterov"] < final["momentum"]
    assert f"SGD</b> f = {final['SGD']:.3g}" in demo.status.value


def test_saddle_racers_that_leave_the_box_escape_and_stop_there():
    demo = OptimizerRace(surface="saddle")
    assert demo.lr.value == 0.01 and demo.ax_loss.get_yscale() == "linear"
    # SGD: y_k = 0.01 (1 + 2 lr)^k, still near the ridge after 150 steps
    np.testing.assert_allclose(demo.paths["SGD"][:, 1], 0.01 * 1.02 ** np.arange(151), rtol=1e-12)
    assert demo.outcomes["SGD"] == "finished"
    for racer in ("momentum", "Nesterov"):
        path = demo.paths[racer]
        assert demo.outcomes[racer] == "escaped" and len(path) < 151
        assert np.all(np.abs(path[:-1]) <= 2.5) and np.max(np.abs(path[-1])) > 2.5  # stopped at the first exit
        assert f"{racer}</b> escaped at step {len(path) - 1}" in demo.status.value
        steps, f = demo.loss_lines[racer].get_data()
        np.testing.assert_allclose(f, path[:, 0] ** 2 - path[:, 1] ** 2)  # f itself: no minimum to subtract


@pytest.mark.parametrize("surface", list(race.SURFACES))
def test_large_learning_rates_diverge_without_warnings(surface):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        demo = OptimizerRace(surface=surface)
        demo.lr.value, demo.beta.value, demo.steps.value = 1.0, 0.99, 1000
        for racer, path in demo.paths.items():
            assert np.all(np.isfinite(path)), racer
            if demo.outcomes[racer] == "diverged":
                assert f"{racer}</b> diverged at step {len(path) - 1}" in demo.status.value
        assert demo.outcomes["SGD"] == ("escaped" if surface == "saddle" else "diverged")
        demo.figure.canvas.draw()


def test_rosenbrock_sgd_blows_up_where_adam_does_not():
    demo = OptimizerRace(surface="rosenbrock", lr=0.01)
    assert demo.outcomes["SGD"] == "diverged" and demo.outcomes["Adam"] == "finished"
    steps, gap = demo.loss_lines["Adam"].get_data()
    x, y = demo.paths["Adam"].T
    np.testing.assert_allclose(gap, np.maximum((1 - x) ** 2 + 100 * (y - x**2) ** 2, 1e-20))
    assert demo.ax_loss.get_ylim()[1] <= 5e3 * 24.2 * 1.0001  # a diverging loss does not squash the others


def test_a_new_surface_starts_at_its_own_learning_rate_and_redraws_once():
    demo = OptimizerRace(lr=0.3)
    assert demo.lr.value == 0.3
    renders = demo.renders
    demo.surface.value = "rosenbrock"
    assert demo.lr.value == race.SURFACES["rosenbrock"].lr and demo.renders == renders + 1
    assert demo.paths["SGD"][0].tolist() == [-1.2, 1.0] and "100" in demo.ax.get_title()


def test_unchecked_racers_are_hidden_and_left_out_of_the_status():
    demo = OptimizerRace(racers=["SGD", "Adam"])
    assert [r for r, box in demo.shown.items() if box.value] == ["SGD", "Adam"]
    assert demo.path_lines["SGD"].get_visible() and not demo.path_lines["momentum"].get_visible()
    assert "momentum" not in demo.status.value and "Adam" in demo.status.value
    assert [t.get_text() for t in demo.ax_loss.get_legend().get_texts()] == ["SGD", "Adam"]
    for box in demo.shown.values():
        box.value = False
    assert "Check a racer" in demo.status.value and demo.ax_loss.get_legend() is None


@pytest.mark.parametrize("kwargs, error, message", [
    ({"surface": "himmelblau"}, ValueError, "surface must be one of .*got 'himmelblau'"),
    ({"lr": 2.0}, ValueError, "lr must be between 0.0001 and 1, got 2.0"),
    ({"beta": 1.0}, ValueError, "beta must be between 0 and 0.99, got 1.0"),
    ({"beta2": 0.9999}, ValueError, "beta2 must be between 0.5 and 0.999, got 0.9999"),
    ({"steps": 5}, ValueError, "steps must be between 10 and 1000, got 5"),
    ({"racers": "Adam"}, TypeError, "racers must be a list of names"),
    ({"racers": ["adam"]}, ValueError, "racers must be one of .*got 'adam'"),
    ({"lr": "fast"}, TypeError, "lr must be a real number"),
])
def test_optimizer_race_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        OptimizerRace(**kwargs)


# -- in a loop, as in a kernel ----------------------------------------------------------------


def test_race_in_a_loop_a_new_surface_and_its_lr_reset_draw_once(slow_drawing):
    async def test():
        demo = OptimizerRace()
        slow_drawing.clear()
        demo.surface.value = "saddle"
        demo.steps.value = 300
        await until(lambda: slow_drawing, timeout=5)
        await asyncio.sleep(WAIT + 0.1)
        assert len(slow_drawing) == 1 and demo.lr.value == 0.01 and "x^2 - y^2" in demo.ax.get_title()
        # SGD's y_k = 0.01 * 1.02^k passes 2.5 at k = 279 (ln 250 / ln 1.02 = 278.8): within the 300 steps
        assert len(demo.paths["SGD"]) == 280 and demo.outcomes["SGD"] == "escaped"

    in_a_loop(test)


# --- the student's update rules racing nblib's (issue 23) -----------------------------------------

def homework_rules():
    """Week 5's four rules in the homework's signatures, written another way: through keras_rules's
    updates (Adam in the textbook form with Keras's "epsilon hat"), the state passed as a tuple."""
    def rule(racer, *hyper_names):
        def step(w, g, *state_and_t, lr, **hyper):
            *state, t = state_and_t if racer == "Adam" else (*state_and_t, 0)
            beta = hyper.get("momentum", hyper.get("beta1", 0.9))
            beta2 = hyper.get("rho", hyper.get("beta2", 0.999))
            update, _ = keras_rules(lr, beta, beta2)[racer]
            w, new_state = update(w, g, tuple(state) if racer == "Adam" else state[0], t)
            return (w, *new_state) if racer == "Adam" else (w, new_state)
        return step
    return {"momentum_step": rule("momentum"), "nesterov_step": rule("Nesterov"), "rmsprop_step": rule("RMSprop"),
            "adam_step": rule("Adam")}


def said(demo) -> str:
    """The demo's comparison lines as text, one per rule separated by <br>."""
    return html.unescape(re.sub(r"</?span[^>]*>", "", demo.yours_line.value))


def test_without_yours_the_race_shows_no_line_and_no_dashed_paths():
    demo = OptimizerRace(steps=20)
    assert demo.yours_line.layout.display == "none" and demo.their_racers == {}
    assert [t.get_text() for t in demo.ax_loss.get_legend().get_texts()] == list(RACERS)
    assert len(demo.ax.get_lines()) == 2 + len(RACERS)  # the minimum, the start and one path per racer


def test_correct_rules_written_another_way_race_along_nblibs_paths():
    demo = OptimizerRace(steps=40, yours=homework_rules())
    lines = said(demo).split("<br>")
    assert len(lines) == 4 and all("agrees with nblib's" in line for line in lines), said(demo)
    for racer, (rule, state) in keras_rules(0.02, 0.9, 0.999).items():  # the paths, written out once more
        if racer == "SGD":
            continue
        w, path = np.array([-4.5, 1.5]), [np.array([-4.5, 1.5])]
        for t in range(1, 41):
            w, state = rule(w, bowl_gradient(w), state, t)
            path.append(w)
        np.testing.assert_allclose(demo.their_paths[racer], path, rtol=1e-10, atol=1e-14, err_msg=racer)
        np.testing.assert_allclose(demo.their_path_lines[racer].get_xydata(), path, rtol=1e-10, atol=1e-14)
    assert "yours (dashed)" in [t.get_text() for t in demo.ax_loss.get_legend().get_texts()]


def test_an_adam_without_bias_correction_first_differs_at_step_1():
    def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g**2
        return w - lr * m / (np.sqrt(v) + eps), m, v              # no division by 1 - beta^t

    demo = OptimizerRace(steps=20, yours={"adam_step": adam_step})
    # Step 1 from (-4.5, 1.5), g = (-4.5, 15), lr = 0.02: m = 0.1 g, v = 0.001 g², so without the correction
    # x moves by lr * 0.1 * 4.5 / (sqrt(0.001) * 4.5 + 1e-7); with it (Keras's form) by lr * 4.5 / (4.5 + 1e-7 / sqrt(0.001)).
    theirs = -4.5 + 0.02 * 0.1 * 4.5 / (np.sqrt(0.001) * 4.5 + 1e-7)
    nblibs = -4.5 + 0.02 * 4.5 / (4.5 + 1e-7 / np.sqrt(0.001))
    assert f"your adam_step first differs at [1, 0]: {theirs:.4g} against nblib's {nblibs:.4g}" in said(demo), said(demo)
    assert demo.their_paths["Adam"][1, 0] == pytest.approx(theirs, rel=1e-12)
    assert demo.paths["Adam"][1, 0] == pytest.approx(nblibs, rel=1e-12)


def test_unfinished_raising_and_misshapen_rules_leave_nblibs_racers_drawn():
    def not_written(*args, **kwargs):
        raise NotImplementedError("Exercise 1: replace this line with your code")

    demo = OptimizerRace(steps=20, yours={"momentum_step": not_written, "nesterov_step": lambda *a, **k: 1 / 0,
                                          "rmsprop_step": lambda w, g, s, **k: (w[None, :], s)})
    lines = said(demo).split("<br>")
    assert lines[0].endswith("your momentum_step is not written yet (it raises NotImplementedError): nblib's is drawn alone")
    assert lines[1].endswith("your nesterov_step raised ZeroDivisionError: division by zero")
    assert lines[2].endswith("your rmsprop_step raised ValueError: the new w at step 1 has shape (1, 2), not the shape of w, (2,)")
    for racer in ("momentum", "Nesterov", "RMSprop"):
        assert demo.their_paths[racer] is None and not demo.their_path_lines[racer].get_visible()
        assert demo.path_lines[racer].get_xydata().shape == (21, 2)  # nblib's path, all 20 steps
