"""nblib.schedules against keras.optimizers.schedules at every step 0..300 (past the end of
the decay too), hand-worked values, scalar and array input, and the registry.

Keras computes a schedule in the dtype of ``initial_learning_rate``, and rounds Python-float
``decay_rate`` and ``warmup_target`` to float32 (``ops.cast`` -> ``tf.cast``); handing it
``np.float64`` values keeps the whole computation in float64, so we can ask for 1e-12.
"""

import math

import numpy as np
import pytest

from nblib import schedules as S
from nblib._reference import ReferenceDisabled, disabled

STEPS = np.arange(301)
TIGHT = dict(rtol=1e-12, atol=1e-18)
f64 = np.float64


def keras_values(schedule, steps=STEPS, vectorised=True):
    """Keras' schedule at each step: on the whole array, or one int step at a time."""
    if vectorised:
        return np.asarray(schedule(steps))
    return np.array([float(schedule(int(s))) for s in steps])


def ours_one_at_a_time(fn, steps=STEPS, **hyper):
    values = []
    for s in steps:
        value = fn(int(s), **hyper)
        assert np.ndim(value) == 0, f"an int step should give a scalar, got shape {np.shape(value)}"
        values.append(float(value))
    return np.array(values)


# --- hand-worked -------------------------------------------------------------------------------

def test_step_decay_by_hand():
    # 0.1 * 0.5^floor(120 / 50) = 0.1 * 0.5^2 = 0.025; steps 0..49 keep 0.1, step 50 halves it
    assert S.step_decay(120, initial_lr=0.1, decay_steps=50, decay_rate=0.5) == pytest.approx(0.025, rel=1e-15)
    assert S.step_decay(49, initial_lr=0.1, decay_steps=50, decay_rate=0.5) == pytest.approx(0.1, rel=1e-15)
    assert S.step_decay(50, initial_lr=0.1, decay_steps=50, decay_rate=0.5) == pytest.approx(0.05, rel=1e-15)


def test_exponential_decay_by_hand():
    # 0.1 * 0.25^(25 / 50) = 0.1 * sqrt(0.25) = 0.05: the same factor spread smoothly
    assert S.exponential_decay(25, initial_lr=0.1, decay_steps=50, decay_rate=0.25) == pytest.approx(0.05, rel=1e-15)


def test_cosine_decay_by_hand():
    # halfway, cos(pi / 2) = 0: 1 * ((1 - 0.1) * 0.5 * (1 + 0) + 0.1) = 0.55
    assert S.cosine_decay(50, initial_lr=1.0, decay_steps=100, alpha=0.1) == pytest.approx(0.55, rel=1e-15)
    # at and after the end, cos(pi) = -1: alpha * initial_lr = 0.1, and it stays there
    assert S.cosine_decay(100, initial_lr=1.0, decay_steps=100, alpha=0.1) == pytest.approx(0.1, rel=1e-15)
    assert S.cosine_decay(250, initial_lr=1.0, decay_steps=100, alpha=0.1) == pytest.approx(0.1, rel=1e-15)


def test_warmup_cosine_decay_by_hand():
    hyper = dict(initial_lr=0.0, warmup_target=0.2, warmup_steps=10, decay_steps=100)
    # warm-up: 0 + (0.2 - 0) * 5 / 10 = 0.1; at step 10 the target; then the cosine from 0.2:
    # step 60 is halfway through the decay, 0.2 * 0.5 * (1 + cos(pi / 2)) = 0.1
    assert S.warmup_cosine_decay(5, **hyper) == pytest.approx(0.1, rel=1e-15)
    assert S.warmup_cosine_decay(10, **hyper) == pytest.approx(0.2, rel=1e-15)
    assert S.warmup_cosine_decay(60, **hyper) == pytest.approx(0.1, rel=1e-14)
    assert S.warmup_cosine_decay(500, **hyper) == pytest.approx(0.0, abs=1e-18)


# --- against Keras -----------------------------------------------------------------------------

@pytest.mark.parametrize("initial_lr, decay_steps, decay_rate", [(0.1, 50, 0.5), (0.01, 7, 0.96)])
def test_step_decay_matches_keras_exponential_decay_with_staircase(keras, initial_lr, decay_steps, decay_rate):
    # ExponentialDecay(staircase=True): initial * rate^floor(step / decay_steps)
    theirs = keras.optimizers.schedules.ExponentialDecay(f64(initial_lr), decay_steps, f64(decay_rate), staircase=True)
    hyper = dict(initial_lr=initial_lr, decay_steps=decay_steps, decay_rate=decay_rate)
    np.testing.assert_allclose(S.step_decay(STEPS, **hyper), keras_values(theirs), **TIGHT)
    np.testing.assert_allclose(ours_one_at_a_time(S.step_decay, **hyper), keras_values(theirs, vectorised=False),
                               **TIGHT)


@pytest.mark.parametrize("initial_lr, decay_steps, decay_rate", [(0.1, 50, 0.5), (0.01, 7, 0.96)])
def test_exponential_decay_matches_keras(keras, initial_lr, decay_steps, decay_rate):
    # ExponentialDecay(staircase=False): initial * rate^(step / decay_steps), a real exponent
    theirs = keras.optimizers.schedules.ExponentialDecay(f64(initial_lr), decay_steps, f64(decay_rate))
    hyper = dict(initial_lr=initial_lr, decay_steps=decay_steps, decay_rate=decay_rate)
    np.testing.assert_allclose(S.exponential_decay(STEPS, **hyper), keras_values(theirs), **TIGHT)
    np.testing.assert_allclose(ours_one_at_a_time(S.exponential_decay, **hyper),
                               keras_values(theirs, vectorised=False), **TIGHT)


@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_cosine_decay_matches_keras(keras, alpha):
    # CosineDecay: step clipped to decay_steps, so steps 200..300 stay at alpha * initial_lr
    theirs = keras.optimizers.schedules.CosineDecay(f64(0.05), 200, alpha=alpha)
    hyper = dict(initial_lr=0.05, decay_steps=200, alpha=alpha)
    np.testing.assert_allclose(S.cosine_decay(STEPS, **hyper), keras_values(theirs), **TIGHT)
    np.testing.assert_allclose(ours_one_at_a_time(S.cosine_decay, **hyper), keras_values(theirs, vectorised=False),
                               **TIGHT)
    np.testing.assert_allclose(S.cosine_decay(STEPS[200:], **hyper), alpha * 0.05, **TIGHT)


def test_cosine_decay_with_the_default_alpha_matches_keras(keras):
    theirs = keras.optimizers.schedules.CosineDecay(f64(0.05), 120)
    np.testing.assert_allclose(S.cosine_decay(STEPS, initial_lr=0.05, decay_steps=120), keras_values(theirs), **TIGHT)


@pytest.mark.parametrize("initial_lr, alpha", [(0.0, 0.0), (0.01, 0.05)])
def test_warmup_cosine_decay_matches_keras(keras, initial_lr, alpha):
    # CosineDecay(warmup_target=, warmup_steps=): linear from initial_lr to warmup_target over
    # warmup_steps, then the cosine of warmup_target on step - warmup_steps, clipped at
    # warmup_steps + decay_steps = 250 (steps 250..300 stay at alpha * warmup_target).
    # Keras' version takes one step at a time (it branches with ops.cond).
    theirs = keras.optimizers.schedules.CosineDecay(f64(initial_lr), 200, alpha=alpha, warmup_target=f64(0.1),
                                                    warmup_steps=50)
    hyper = dict(initial_lr=initial_lr, warmup_target=0.1, warmup_steps=50, decay_steps=200, alpha=alpha)
    expected = keras_values(theirs, vectorised=False)
    np.testing.assert_allclose(S.warmup_cosine_decay(STEPS, **hyper), expected, **TIGHT)
    np.testing.assert_allclose(ours_one_at_a_time(S.warmup_cosine_decay, **hyper), expected, **TIGHT)
    assert expected[50] == pytest.approx(0.1) and np.all(np.diff(expected[:51]) > 0)  # the Keras shape we expect


# --- array input --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, fn, hyper", [
    ("step", S.step_decay, dict(initial_lr=0.1, decay_steps=10, decay_rate=0.5)),
    ("exponential", S.exponential_decay, dict(initial_lr=0.1, decay_steps=10, decay_rate=0.5)),
    ("cosine", S.cosine_decay, dict(initial_lr=0.1, decay_steps=10, alpha=0.2)),
    ("warmup_cosine", S.warmup_cosine_decay, dict(initial_lr=0.0, warmup_target=0.1, warmup_steps=5, decay_steps=10)),
])
def test_arrays_of_any_shape_are_vectorised_and_not_modified(name, fn, hyper):
    steps = np.arange(24).reshape(4, 6)
    original = steps.copy()
    out = fn(steps, **hyper)
    assert isinstance(out, np.ndarray) and out.shape == (4, 6)
    np.testing.assert_array_equal(steps, original)
    np.testing.assert_allclose(out.ravel(), [float(fn(int(s), **hyper)) for s in steps.ravel()], rtol=1e-15)
    # and schedule(name, **hyper) is the same function of the step
    lr = S.schedule(name, **hyper)
    np.testing.assert_allclose(lr(steps), out, rtol=0, atol=0)
    assert float(lr(7)) == float(fn(7, **hyper))


def test_schedules_registry_and_unknown_names():
    assert set(S.SCHEDULES) == {"step", "exponential", "cosine", "warmup_cosine"}
    with pytest.raises(ValueError, match="cosin") as error:
        S.schedule("cosin", initial_lr=0.1, decay_steps=10)
    assert "exponential" in str(error.value) and "warmup_cosine" in str(error.value)  # lists the known names


def test_a_schedule_drives_an_optimizer_like_a_float():
    # lr evaluated at iterations 0, 1, 2: three SGD steps on w with gradient 1 move it by
    # 0.1 + 0.05 + 0.025 (step decay halving every step)
    from nblib.optim import SGD

    lr = S.schedule("step", initial_lr=0.1, decay_steps=1, decay_rate=0.5)
    params = {"w": np.array([1.0])}
    opt = SGD(lr=lr)
    for _ in range(3):
        opt.step(params, {"w": np.array([1.0])})
    np.testing.assert_allclose(params["w"], [1 - 0.175], rtol=1e-15)


def test_the_references_can_be_switched_off():
    with disabled(S.cosine_decay, exercise="Exercise 5 (cosine)"):
        with pytest.raises(ReferenceDisabled, match="Exercise 5"):
            S.cosine_decay(0, initial_lr=0.1, decay_steps=10)
    assert S.cosine_decay(0, initial_lr=0.1, decay_steps=10) == pytest.approx(0.1)
    assert math.isclose(float(S.cosine_decay(5, initial_lr=0.1, decay_steps=10)), 0.05)
