"""nblib.optim against Keras 3's optimizers fed the same gradients, hand-worked steps, tests
showing that each Keras convention changes the numbers, the registry, and bad input.

Every comparison runs 10 steps with the same random float64 gradients through our update
rule and through the Keras class (``opt.apply(grads, variables)`` on float64
``keras.Variable``s) and asks for agreement to ~1e-12 relative.

Float32 inside Keras' float64 updates: Keras stores a float ``learning_rate`` as a float32
variable (``keras.config.floatx()``), and ``ops.cast(self.momentum, variable.dtype)`` (also
beta_1, beta_2 in Adam's bias correction, AdamW's weight_decay, ExponentialDecay's
decay_rate, CosineDecay's warmup_target) goes through ``tf.cast``, which first makes a
float32 tensor of the Python float: momentum 0.9 reaches the update as 0.899999976. So the
tight comparisons use hyperparameters that float32 holds exactly (powers of two, 0.875,
1 - 2**-10); ``test_keras_rounds_python_hyperparameters_to_float32`` pins that fact. A NumPy
``np.float64`` hyperparameter survives ``tf.cast`` exactly, which
``test_default_hyperparameters_are_keras_defaults`` uses to compare the 0.9s and 0.999s.
Schedules built on ``np.float64(initial_learning_rate)`` compute in float64.
"""

import numpy as np
import pytest

from nblib import optim as O
from nblib._reference import ReferenceDisabled, disabled

LR = 2.0**-5  # 0.03125, exact in float32
ADAM_LR = 2.0**-7  # 0.0078125
MOMENTUM = 0.875  # exact in float32 (0.9 is not)
BETA1, BETA2 = 0.875, 1 - 2.0**-10  # 0.9990234375
WEIGHT_DECAY = 2.0**-5
SHAPES = [(4, 3), (3,), (2, 2, 2)]
N_STEPS = 10
TIGHT = dict(rtol=1e-12, atol=1e-14)


@pytest.fixture
def problem(rng):
    """Start weights for three parameter shapes and 10 steps of gradients for each."""
    weights = [rng.normal(size=s) for s in SHAPES]
    # gradients of varying scale from step to step, so the moving averages matter
    grads = [[rng.normal(scale=rng.uniform(0.1, 3.0), size=s) for s in SHAPES] for _ in range(N_STEPS)]
    return weights, grads


def keras_run(keras, optimizer, weights, grads):
    """The weights after Keras' optimizer applied each step's gradients in turn."""
    variables = [keras.Variable(w, dtype="float64") for w in weights]
    for step_grads in grads:
        optimizer.apply([keras.ops.convert_to_tensor(g, dtype="float64") for g in step_grads], variables)
    return [np.asarray(v.numpy()) for v in variables]


def pure_run(step, weights, grads, n_state):
    """Our pure update function applied per parameter, state starting at zeros, t = 1, 2, ..."""
    finals = []
    for i, w in enumerate(weights):
        state = tuple(np.zeros_like(w) for _ in range(n_state))
        for t, step_grads in enumerate(grads, start=1):
            out = step(w, step_grads[i], state, t)
            w, state = (out, ()) if n_state == 0 else (out[0], tuple(out[1:]))
        finals.append(w)
    return finals


def assert_all_close(ours, theirs, **tol):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, **(tol or TIGHT))


# --- hand-worked steps ------------------------------------------------------------------------

def test_sgd_step_by_hand():
    # w - lr g = [1 - 0.1 * 0.5, 2 - 0.1 * (-1)] = [0.95, 2.1]
    np.testing.assert_allclose(O.sgd_step(np.array([1.0, 2.0]), np.array([0.5, -1.0]), lr=0.1), [0.95, 2.1], rtol=1e-15)


def test_momentum_two_steps_by_hand():
    # step 1: v = 0.9 * 0 - 0.1 * 1 = -0.1;           w = 1 - 0.1 = 0.9
    # step 2: v = 0.9 * (-0.1) - 0.1 * 1 = -0.19;     w = 0.9 - 0.19 = 0.71
    w, v = O.momentum_step(np.array([1.0]), np.array([1.0]), np.array([0.0]), lr=0.1, momentum=0.9)
    np.testing.assert_allclose([w[0], v[0]], [0.9, -0.1], rtol=1e-15)
    w, v = O.momentum_step(w, np.array([1.0]), v, lr=0.1, momentum=0.9)
    np.testing.assert_allclose([w[0], v[0]], [0.71, -0.19], rtol=1e-14)


def test_nesterov_first_step_by_hand():
    # v = 0.9 * 0 - 0.1 * 1 = -0.1; w = 1 + 0.9 * (-0.1) - 0.1 * 1 = 0.81 (a look-ahead: plain momentum gives 0.9)
    w, v = O.nesterov_step(np.array([1.0]), np.array([1.0]), np.array([0.0]), lr=0.1, momentum=0.9)
    np.testing.assert_allclose([w[0], v[0]], [0.81, -0.1], rtol=1e-15)


def test_rmsprop_first_step_by_hand():
    # s = 0.9 * 0 + 0.1 * 2^2 = 0.4; w = 1 - 0.1 * 2 / sqrt(0.4 + 1e-7)
    w, s = O.rmsprop_step(np.array([1.0]), np.array([2.0]), np.array([0.0]), lr=0.1)
    np.testing.assert_allclose(s, [0.4], rtol=1e-15)
    np.testing.assert_allclose(w, [1 - 0.2 / np.sqrt(0.4 + 1e-7)], rtol=1e-15)


def test_adam_first_step_is_about_lr_times_the_sign_of_the_gradient():
    # t = 1 from m = v = 0: m = 0.1 g, v = 0.001 g^2, alpha = lr sqrt(1 - 0.999) / (1 - 0.9),
    # so the step is alpha m / (sqrt(v) + eps) = lr |g| sqrt(0.001) / (|g| sqrt(0.001) + eps) * sign(g):
    # lr * 0.99999842 for g = 2, whatever the gradient's size (bias correction at work).
    w, m, v = O.adam_step(np.array([1.0, 1.0]), np.array([2.0, -2.0]), np.zeros(2), np.zeros(2), 1, lr=0.01)
    np.testing.assert_allclose(m, [0.2, -0.2], rtol=1e-15)
    np.testing.assert_allclose(v, [0.004, 0.004], rtol=1e-13)
    size = 0.01 * 2 * np.sqrt(0.001) / (2 * np.sqrt(0.001) + 1e-7)
    np.testing.assert_allclose(w, [1 - size, 1 + size], rtol=1e-15)


# --- pure functions against Keras --------------------------------------------------------------

def test_keras_rounds_python_hyperparameters_to_float32(keras, problem):
    # Why the hyperparameters below are float32-exact: Keras SGD(momentum=0.9) on float64
    # variables is exactly our rule with momentum = float32(0.9) = 0.89999997615814...
    weights, grads = problem
    theirs = keras_run(keras, keras.optimizers.SGD(learning_rate=LR, momentum=0.9), weights, grads)
    f32 = float(np.float32(0.9))
    assert_all_close(pure_run(lambda w, g, s, t: O.momentum_step(w, g, s[0], lr=LR, momentum=f32), weights, grads, 1),
                     theirs)
    ours = pure_run(lambda w, g, s, t: O.momentum_step(w, g, s[0], lr=LR, momentum=0.9), weights, grads, 1)
    assert max(np.max(np.abs(a - b)) for a, b in zip(ours, theirs)) > 1e-10  # 0.9 itself does not match


def test_sgd_step_matches_keras(keras, problem):
    # Keras SGD(momentum=0): w = w - lr * g.
    weights, grads = problem
    ours = pure_run(lambda w, g, s, t: O.sgd_step(w, g, lr=LR), weights, grads, 0)
    assert_all_close(ours, keras_run(keras, keras.optimizers.SGD(learning_rate=LR), weights, grads))


@pytest.mark.parametrize("momentum", [MOMENTUM, 0.5])
def test_momentum_step_matches_keras(keras, problem, momentum):
    # Keras SGD(momentum=...) keeps velocity = momentum * velocity - lr * g (the learning rate
    # is inside the velocity, not applied to it as in PyTorch), then w = w + velocity.
    weights, grads = problem
    ours = pure_run(lambda w, g, s, t: O.momentum_step(w, g, s[0], lr=LR, momentum=momentum), weights, grads, 1)
    theirs = keras_run(keras, keras.optimizers.SGD(learning_rate=LR, momentum=momentum), weights, grads)
    assert_all_close(ours, theirs)


def test_nesterov_step_matches_keras(keras, problem):
    # Keras SGD(momentum=..., nesterov=True): velocity = momentum * velocity - lr * g, then
    # w = w + momentum * velocity - lr * g (the new velocity, looked ahead one more step).
    weights, grads = problem
    ours = pure_run(lambda w, g, s, t: O.nesterov_step(w, g, s[0], lr=LR, momentum=MOMENTUM), weights, grads, 1)
    theirs = keras_run(keras, keras.optimizers.SGD(learning_rate=LR, momentum=MOMENTUM, nesterov=True),
                       weights, grads)
    assert_all_close(ours, theirs)


def test_rmsprop_step_matches_keras(keras, problem):
    # Keras RMSprop(rho=0.9): s = rho * s + (1 - rho) * g^2, w = w - lr * g / sqrt(s + eps):
    # eps (1e-7) sits INSIDE the square root. (rho and eps reach Keras' update as float64.)
    weights, grads = problem
    ours = pure_run(lambda w, g, s, t: O.rmsprop_step(w, g, s[0], lr=LR), weights, grads, 1)
    assert_all_close(ours, keras_run(keras, keras.optimizers.RMSprop(learning_rate=LR, rho=0.9), weights, grads))


def test_rmsprop_hyperparameters_reach_the_update(keras, problem):
    # eps = 1e-3 is large enough to change every step, so a dropped or misplaced eps shows.
    weights, grads = problem
    ours = pure_run(lambda w, g, s, t: O.rmsprop_step(w, g, s[0], lr=LR, rho=0.7, eps=1e-3), weights, grads, 1)
    theirs = keras_run(keras, keras.optimizers.RMSprop(learning_rate=LR, rho=0.7, epsilon=1e-3), weights, grads)
    assert_all_close(ours, theirs)


@pytest.mark.parametrize("eps", [1e-7, 1e-3])
def test_adam_step_matches_keras(keras, problem, eps):
    # Keras Adam: t counts from 1 (local_step = iterations + 1);
    # alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t); w = w - alpha * m / (sqrt(v) + eps).
    # eps is the paper's "epsilon hat", added to sqrt(v), not to sqrt(v_hat).
    weights, grads = problem
    hyper = dict(beta1=BETA1, beta2=BETA2, eps=eps)
    ours = pure_run(lambda w, g, s, t: O.adam_step(w, g, s[0], s[1], t, lr=ADAM_LR, **hyper), weights, grads, 2)
    theirs = keras_run(keras, keras.optimizers.Adam(learning_rate=ADAM_LR, beta_1=BETA1, beta_2=BETA2, epsilon=eps),
                       weights, grads)
    assert_all_close(ours, theirs)


def test_adamw_step_matches_keras(keras, problem):
    # Keras AdamW: decoupled weight decay w = w - lr * weight_decay * w, applied to the variable
    # BEFORE the Adam update of the same step (BaseOptimizer._apply_weight_decay, then
    # update_step); the Adam update itself never sees the decay.
    weights, grads = problem
    hyper = dict(weight_decay=WEIGHT_DECAY, beta1=BETA1, beta2=BETA2)
    ours = pure_run(lambda w, g, s, t: O.adamw_step(w, g, s[0], s[1], t, lr=ADAM_LR, **hyper), weights, grads, 2)
    keras_opt = keras.optimizers.AdamW(learning_rate=ADAM_LR, weight_decay=WEIGHT_DECAY, beta_1=BETA1, beta_2=BETA2)
    assert_all_close(ours, keras_run(keras, keras_opt, weights, grads))


def keras_defaults_as_float64(keras, name):
    """Keras' own default hyperparameters, as np.float64 so that ``tf.cast`` keeps them exact."""
    k = getattr(keras.optimizers, name)()
    names = {"SGD": ["momentum"], "RMSprop": ["rho", "epsilon"], "Adam": ["beta_1", "beta_2", "epsilon"],
             "AdamW": ["beta_1", "beta_2", "epsilon", "weight_decay"]}[name]
    return {n: np.float64(getattr(k, n)) for n in names}


def test_default_hyperparameters_are_keras_defaults(keras, problem):
    # Our defaults (rho 0.9, beta1 0.9, beta2 0.999, eps 1e-7, weight_decay 0.004) are read off
    # Keras' default-constructed optimizers and handed back to Keras as np.float64 (a NumPy
    # float64 survives tf.cast unrounded; a Python float does not, see the module docstring).
    weights, grads = problem
    cases = [
        (lambda w, g, s, t: O.rmsprop_step(w, g, s[0], lr=LR), 1,
         keras.optimizers.RMSprop(learning_rate=LR, **keras_defaults_as_float64(keras, "RMSprop"))),
        (lambda w, g, s, t: O.adam_step(w, g, s[0], s[1], t, lr=ADAM_LR), 2,
         keras.optimizers.Adam(learning_rate=ADAM_LR, **keras_defaults_as_float64(keras, "Adam"))),
        (lambda w, g, s, t: O.adamw_step(w, g, s[0], s[1], t, lr=2.0**-3), 2,
         keras.optimizers.AdamW(learning_rate=2.0**-3, **keras_defaults_as_float64(keras, "AdamW"))),
        # Keras' SGD defaults to momentum 0; the contract's default momentum is 0.9
        (lambda w, g, s, t: O.momentum_step(w, g, s[0], lr=LR), 1,
         keras.optimizers.SGD(learning_rate=LR, momentum=np.float64(0.9))),
        (lambda w, g, s, t: O.nesterov_step(w, g, s[0], lr=LR), 1,
         keras.optimizers.SGD(learning_rate=LR, momentum=np.float64(0.9), nesterov=True)),
    ]
    for step, n_state, keras_opt in cases:
        assert_all_close(pure_run(step, weights, grads, n_state), keras_run(keras, keras_opt, weights, grads))


# --- the conventions change the numbers ---------------------------------------------------------

def textbook_adam(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    """Algorithm 1 of Kingma & Ba (2015): eps added to sqrt(v_hat)."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def run_both(step_a, step_b, w, grads):
    a, b = w.copy(), w.copy()
    sa = sb = (np.zeros_like(w), np.zeros_like(w))
    for t, g in enumerate(grads, start=1):
        a, *sa = step_a(a, g, *sa, t, lr=ADAM_LR)
        b, *sb = step_b(b, g, *sb, t, lr=ADAM_LR)
    return a - w, b - w  # the total moves


def test_epsilon_hat_matters_for_tiny_gradients(rng):
    # Keras' form equals the textbook one with eps replaced by eps * sqrt(1 - beta2^t): at t = 1
    # that is 1e-7 / sqrt(0.001) = 3.2e-6. Gradients of 1e-8 give sqrt(v_hat) ~ 1e-8, so the two
    # epsilons set the step size and the moves differ by orders of magnitude...
    w = rng.normal(size=20)
    tiny = [rng.normal(scale=1e-8, size=20) for _ in range(5)]
    keras_move, textbook_move = run_both(O.adam_step, textbook_adam, w, tiny)
    assert np.linalg.norm(keras_move) < 0.2 * np.linalg.norm(textbook_move)
    # ... while for ordinary gradients eps is negligible in both and they agree to ~1e-5.
    ordinary = [rng.normal(size=20) for _ in range(5)]
    keras_move, textbook_move = run_both(O.adam_step, textbook_adam, w, ordinary)
    assert np.max(np.abs(keras_move - textbook_move)) < 1e-4 * np.max(np.abs(textbook_move))


def test_textbook_adam_does_not_match_keras_on_tiny_gradients(keras, rng):
    w = rng.normal(size=(6,))
    grads = [[rng.normal(scale=1e-8, size=6)] for _ in range(N_STEPS)]
    hyper = dict(beta1=BETA1, beta2=BETA2)
    theirs = keras_run(keras, keras.optimizers.Adam(learning_rate=ADAM_LR, beta_1=BETA1, beta_2=BETA2), [w], grads)[0]
    ours = pure_run(lambda w, g, s, t: O.adam_step(w, g, s[0], s[1], t, lr=ADAM_LR, **hyper), [w], grads, 2)[0]
    textbook = pure_run(lambda w, g, s, t: textbook_adam(w, g, s[0], s[1], t, lr=ADAM_LR, **hyper), [w], grads, 2)[0]
    np.testing.assert_allclose(ours, theirs, **TIGHT)
    assert not np.allclose(textbook - w, theirs - w, rtol=0.5)


def test_rmsprop_epsilon_inside_the_square_root_matters(rng):
    # For g ~ 1e-5, s ~ 1e-11: sqrt(s + 1e-7) ~ 3e-4 but sqrt(s) + 1e-7 ~ 3e-6, a 100x bigger step.
    w, g, s = rng.normal(size=10), rng.normal(scale=1e-5, size=10), np.zeros(10)
    ours, _ = O.rmsprop_step(w, g, s, lr=LR)
    s_new = 0.1 * g**2
    outside = w - LR * g / (np.sqrt(s_new) + 1e-7)
    np.testing.assert_allclose(ours, w - LR * g / np.sqrt(s_new + 1e-7), rtol=1e-14)
    assert np.all(np.abs(ours - w) < 0.05 * np.abs(outside - w))


def pytorch_momentum(params_w, grads, lrs, momentum=MOMENTUM):
    """PyTorch's form: b = momentum * b + g, w = w - lr * b (the learning rate outside)."""
    w, b = params_w.copy(), np.zeros_like(params_w)
    for g, lr in zip(grads, lrs):
        b = momentum * b + g
        w = w - lr * b
    return w


def test_keras_momentum_form_differs_from_pytorch_when_the_learning_rate_changes(keras, rng):
    # With a constant lr the two forms are the same sequence (velocity = -lr * b). With a
    # schedule, Keras' velocity remembers the old learning rates and PyTorch's does not.
    w = rng.normal(size=(5,))
    grads = [rng.normal(size=5) for _ in range(N_STEPS)]
    lrs = [0.1 * 0.5 ** (k / 3) for k in range(N_STEPS)]
    schedule = keras.optimizers.schedules.ExponentialDecay(np.float64(0.1), 3, 0.5)
    theirs = keras_run(keras, keras.optimizers.SGD(learning_rate=schedule, momentum=MOMENTUM), [w],
                       [[g] for g in grads])[0]
    opt = O.SGD(lr=lambda k: 0.1 * 0.5 ** (k / 3), momentum=MOMENTUM)
    params = {"w": w.copy()}
    for g in grads:
        opt.step(params, {"w": g})
    np.testing.assert_allclose(params["w"], theirs, **TIGHT)
    assert not np.allclose(pytorch_momentum(w, grads, lrs), theirs, rtol=1e-3, atol=0)
    # constant lr: the two forms agree
    constant = pytorch_momentum(w, grads, [LR] * N_STEPS)
    np.testing.assert_allclose(constant, pure_run(
        lambda w, g, s, t: O.momentum_step(w, g, s[0], lr=LR, momentum=MOMENTUM), [w], [[g] for g in grads], 1)[0],
        rtol=1e-12)


def test_nesterov_differs_from_plain_momentum(rng):
    w, g, v = rng.normal(size=8), rng.normal(size=8), rng.normal(size=8)
    plain, v1 = O.momentum_step(w, g, v, lr=LR)
    ahead, v2 = O.nesterov_step(w, g, v, lr=LR)
    np.testing.assert_allclose(v1, v2, rtol=1e-15)  # same velocity ...
    np.testing.assert_allclose(ahead, w + 0.9 * v1 - LR * g, rtol=1e-14)  # ... different move
    assert not np.allclose(plain, ahead)


def test_adamw_decay_is_decoupled_and_applied_before_the_adam_step(rng):
    w, g = rng.normal(size=10), rng.normal(size=10)
    m, v = rng.normal(size=10), rng.uniform(0.1, 1.0, size=10)
    lr, wd = 0.01, 0.1
    ours, m1, v1 = O.adamw_step(w, g, m, v, 3, lr=lr, weight_decay=wd)
    adam, m2, v2 = O.adam_step(w * (1 - lr * wd), g, m, v, 3, lr=lr)
    np.testing.assert_allclose(ours, adam, rtol=1e-14)
    np.testing.assert_allclose(m1, m2, rtol=1e-15)
    np.testing.assert_allclose(v1, v2, rtol=1e-15)
    # decaying after the Adam step differs by lr * wd * (Adam's move): small but not zero
    after = O.adam_step(w, g, m, v, 3, lr=lr)[0]
    after = after * (1 - lr * wd)
    assert np.max(np.abs(after - ours)) > 1e-9
    # L2 regularisation (wd * w added to the gradient) is a different method altogether
    l2 = O.adam_step(w, g + wd * w, m, v, 3, lr=lr)[0]
    assert np.max(np.abs(l2 - ours)) > 1e-5


# --- pure functions: inputs untouched, new arrays ------------------------------------------------

def test_pure_functions_do_not_modify_their_inputs(rng):
    w, g, a, b = (rng.normal(size=(3, 4)) for _ in range(4))
    b = np.abs(b)
    originals = [x.copy() for x in (w, g, a, b)]
    outs = [
        O.sgd_step(w, g, lr=LR),
        *O.momentum_step(w, g, a, lr=LR),
        *O.nesterov_step(w, g, a, lr=LR),
        *O.rmsprop_step(w, g, b, lr=LR),
        *O.adam_step(w, g, a, b, 2, lr=LR),
        *O.adamw_step(w, g, a, b, 2, lr=LR),
    ]
    for x, original in zip((w, g, a, b), originals):
        np.testing.assert_array_equal(x, original)
    for out in outs:
        assert out.shape == (3, 4)
        assert not any(np.shares_memory(out, x) for x in (w, g, a, b))


def test_defaults_are_the_contracts(rng):
    # Small gradients (1e-6) and a small second moment so that eps changes the result.
    w, g, a = rng.normal(size=6), rng.normal(scale=1e-6, size=6), rng.normal(scale=1e-6, size=6)
    b = a**2
    pairs = [
        (O.momentum_step(w, g, a, lr=LR), O.momentum_step(w, g, a, lr=LR, momentum=0.9)),
        (O.nesterov_step(w, g, a, lr=LR), O.nesterov_step(w, g, a, lr=LR, momentum=0.9)),
        (O.rmsprop_step(w, g, b, lr=LR), O.rmsprop_step(w, g, b, lr=LR, rho=0.9, eps=1e-7)),
        (O.adam_step(w, g, a, b, 2, lr=LR), O.adam_step(w, g, a, b, 2, lr=LR, beta1=0.9, beta2=0.999, eps=1e-7)),
        (O.adamw_step(w, g, a, b, 2, lr=LR),
         O.adamw_step(w, g, a, b, 2, lr=LR, weight_decay=0.004, beta1=0.9, beta2=0.999, eps=1e-7)),
    ]
    for default, explicit in pairs:
        for x, y in zip(default, explicit):
            np.testing.assert_array_equal(x, y)
    # and eps does matter at this scale, so the comparison above could fail
    assert not np.allclose(O.adam_step(w, g, a, b, 2, lr=LR)[0], O.adam_step(w, g, a, b, 2, lr=LR, eps=1e-8)[0],
                           rtol=1e-12, atol=0)


def test_class_defaults_are_the_contracts():
    assert O.SGD().learning_rate == 0.01
    for cls in (O.RMSprop, O.Adam, O.AdamW):
        assert cls().learning_rate == 0.001


# --- classes ---------------------------------------------------------------------------------

# Our class and the Keras class with the same (float32-exact) hyperparameters.
CLASSES = {
    "sgd": (lambda lr: O.SGD(lr=lr), lambda k, lr: k.optimizers.SGD(learning_rate=lr)),
    "momentum": (lambda lr: O.SGD(lr=lr, momentum=MOMENTUM),
                 lambda k, lr: k.optimizers.SGD(learning_rate=lr, momentum=MOMENTUM)),
    "nesterov": (lambda lr: O.SGD(lr=lr, momentum=MOMENTUM, nesterov=True),
                 lambda k, lr: k.optimizers.SGD(learning_rate=lr, momentum=MOMENTUM, nesterov=True)),
    "rmsprop": (lambda lr: O.RMSprop(lr=lr, rho=0.8, eps=1e-4),
                lambda k, lr: k.optimizers.RMSprop(learning_rate=lr, rho=0.8, epsilon=1e-4)),
    "adam": (lambda lr: O.Adam(lr=lr, beta1=BETA1, beta2=BETA2, eps=1e-4),
             lambda k, lr: k.optimizers.Adam(learning_rate=lr, beta_1=BETA1, beta_2=BETA2, epsilon=1e-4)),
    "adamw": (lambda lr: O.AdamW(lr=lr, weight_decay=WEIGHT_DECAY, beta1=BETA1, beta2=BETA2),
              lambda k, lr: k.optimizers.AdamW(learning_rate=lr, weight_decay=WEIGHT_DECAY,
                                               beta_1=BETA1, beta_2=BETA2)),
}


def class_run(opt, weights, grads):
    params = {"W": weights[0].copy(), "b": weights[1].copy()}
    live = dict(params)  # the same array objects: step must update them in place
    for k, step_grads in enumerate(grads):
        assert opt.iterations == k
        opt.step(params, {"W": step_grads[0], "b": step_grads[1]})
    assert opt.iterations == len(grads)
    assert all(params[key] is live[key] for key in params)
    return [params["W"], params["b"]]


@pytest.mark.parametrize("name", list(CLASSES))
def test_classes_match_keras_with_a_constant_learning_rate(keras, problem, name):
    ours_cls, keras_cls = CLASSES[name]
    weights, grads = problem
    weights, grads = weights[:2], [g[:2] for g in grads]
    opt = ours_cls(ADAM_LR)
    assert opt.iterations == 0
    ours = class_run(opt, weights, grads)
    assert_all_close(ours, keras_run(keras, keras_cls(keras, ADAM_LR), weights, grads))
    assert opt.learning_rate == ADAM_LR


@pytest.mark.parametrize("name", list(CLASSES))
def test_classes_match_keras_with_a_schedule(keras, problem, name):
    # Keras evaluates a LearningRateSchedule at optimizer.iterations: 0 on the first step (and
    # AdamW's decay uses that same learning rate). decay_steps = 6 < 10 steps: past the end too.
    from nblib import schedules

    ours_cls, keras_cls = CLASSES[name]
    weights, grads = problem
    weights, grads = weights[:2], [g[:2] for g in grads]
    lr = schedules.schedule("cosine", initial_lr=0.05, decay_steps=6, alpha=0.1)
    opt = ours_cls(lr)
    ours = class_run(opt, weights, grads)
    keras_opt = keras_cls(keras, keras.optimizers.schedules.CosineDecay(np.float64(0.05), 6, alpha=0.1))
    assert_all_close(ours, keras_run(keras, keras_opt, weights, grads))
    assert opt.learning_rate == pytest.approx(float(keras_opt.learning_rate), rel=1e-12)  # lr for the next step


def test_a_plain_callable_schedule_sees_the_iteration_count(keras, problem):
    seen = []

    def lr(iteration):
        seen.append(int(iteration))
        return 0.01 / (1 + iteration)

    opt = O.Adam(lr=lr)
    class_run(opt, problem[0][:2], [g[:2] for g in problem[1]][:4])
    assert sorted(set(seen)) == [0, 1, 2, 3]


def test_class_step_does_not_modify_the_gradients(problem):
    weights, grads = problem
    g = {"W": grads[0][0].copy(), "b": grads[0][1].copy()}
    O.Adam(lr=ADAM_LR).step({"W": weights[0].copy(), "b": weights[1].copy()}, g)
    np.testing.assert_array_equal(g["W"], grads[0][0])
    np.testing.assert_array_equal(g["b"], grads[0][1])


def test_each_parameter_keeps_its_own_state(problem):
    # Two steps on {W, b} together equal two steps on each alone: no state shared across keys.
    weights, grads = problem
    together = O.Adam(lr=ADAM_LR)
    params = {"W": weights[0].copy(), "b": weights[1].copy()}
    alone = {key: O.Adam(lr=ADAM_LR) for key in params}
    separate = {key: params[key].copy() for key in params}
    for step_grads in grads[:3]:
        g = {"W": step_grads[0], "b": step_grads[1]}
        together.step(params, g)
        for key in separate:
            alone[key].step({key: separate[key]}, {key: g[key]})
    for key in params:
        np.testing.assert_array_equal(params[key], separate[key])


# --- registry ---------------------------------------------------------------------------------

def test_registry_names():
    assert set(O.OPTIMIZERS) == {"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"}


@pytest.mark.parametrize("name, hyper, keras_factory", [
    ("sgd", {}, lambda k: k.optimizers.SGD(learning_rate=LR)),
    ("momentum", {"momentum": MOMENTUM}, lambda k: k.optimizers.SGD(learning_rate=LR, momentum=MOMENTUM)),
    ("nesterov", {"momentum": MOMENTUM},
     lambda k: k.optimizers.SGD(learning_rate=LR, momentum=MOMENTUM, nesterov=True)),
    ("rmsprop", {"rho": 0.8}, lambda k: k.optimizers.RMSprop(learning_rate=LR, rho=0.8)),
    ("adam", {"beta1": BETA1, "beta2": BETA2},
     lambda k: k.optimizers.Adam(learning_rate=LR, beta_1=BETA1, beta_2=BETA2)),
    ("adamw", {"beta1": BETA1, "beta2": BETA2, "weight_decay": WEIGHT_DECAY},
     lambda k: k.optimizers.AdamW(learning_rate=LR, beta_1=BETA1, beta_2=BETA2, weight_decay=WEIGHT_DECAY)),
])
def test_get_builds_the_named_optimizer(keras, problem, name, hyper, keras_factory):
    weights, grads = problem
    weights, grads = weights[:2], [g[:2] for g in grads][:4]
    ours = class_run(O.get(name, lr=LR, **hyper), weights, grads)
    assert_all_close(ours, keras_run(keras, keras_factory(keras), weights, grads))


def test_get_momentum_and_nesterov_default_to_momentum_0_9(problem):
    weights, grads = problem
    weights, grads = weights[:2], [g[:2] for g in grads][:4]
    for name, nesterov in (("momentum", False), ("nesterov", True)):
        expected = class_run(O.SGD(lr=LR, momentum=0.9, nesterov=nesterov), weights, grads)
        assert_all_close(class_run(O.get(name, lr=LR), weights, grads), expected)


def test_get_rejects_an_unknown_name_and_lists_the_known_ones():
    with pytest.raises(ValueError, match="adamm") as error:
        O.get("adamm")
    for known in ("sgd", "rmsprop", "adam"):
        assert known in str(error.value)


def test_the_references_can_be_switched_off():
    with disabled(O.adam_step, exercise="Exercise 3 (adam)"):
        with pytest.raises(ReferenceDisabled, match="Exercise 3"):
            O.adam_step(np.ones(1), np.ones(1), np.zeros(1), np.zeros(1), 1, lr=0.1)
    O.adam_step(np.ones(1), np.ones(1), np.zeros(1), np.zeros(1), 1, lr=0.1)  # on again afterwards


# --- gradient clipping, as Keras optimizers' clipvalue, clipnorm and global_clipnorm ----------------------------

CLIPPING = [("clipvalue", 0.5), ("clipnorm", 1.5), ("global_clipnorm", 2.0)]  # exact in float32
CLIPPED = {  # ours and Keras's, with a clipping option
    "sgd": (lambda **clip: O.SGD(lr=LR, **clip), lambda k, **clip: k.optimizers.SGD(learning_rate=LR, **clip)),
    "momentum": (lambda **clip: O.SGD(lr=LR, momentum=MOMENTUM, **clip),
                 lambda k, **clip: k.optimizers.SGD(learning_rate=LR, momentum=MOMENTUM, **clip)),
    "adam": (lambda **clip: O.Adam(lr=ADAM_LR, beta1=BETA1, beta2=BETA2, **clip),
             lambda k, **clip: k.optimizers.Adam(learning_rate=ADAM_LR, beta_1=BETA1, beta_2=BETA2, **clip)),
}


@pytest.mark.parametrize("option, value", CLIPPING)
@pytest.mark.parametrize("name", list(CLIPPED))
def test_clipping_options_match_keras(keras, problem, name, option, value):
    # 10 steps with gradients of norms ~0.3 to ~10, some clipped and some not, through the update rule
    ours_cls, keras_cls = CLIPPED[name]
    weights, grads = problem
    weights, grads = weights[:2], [g[:2] for g in grads]
    ours = class_run(ours_cls(**{option: value}), weights, grads)
    assert_all_close(ours, keras_run(keras, keras_cls(keras, **{option: value}), weights, grads))
    # without clipping the result differs, so the comparison above could fail
    unclipped = class_run(ours_cls(), weights, grads)
    assert not np.allclose(unclipped[0], ours[0], rtol=1e-6)


def test_clipping_happens_before_the_update_rule_by_hand():
    # SGD, lr 0.1: g = [30, 40] has norm 50; clipnorm 1 makes it [0.6, 0.8]; w = 1 - 0.1 g
    w = {"W": np.array([1.0, 1.0])}
    g = {"W": np.array([30.0, 40.0])}
    O.SGD(lr=0.1, clipnorm=1.0).step(w, g)
    np.testing.assert_allclose(w["W"], [0.94, 0.92], rtol=1e-15)
    np.testing.assert_array_equal(g["W"], [30.0, 40.0])  # the caller's gradient is left alone
    # clipvalue 1: [1, 1]; global_clipnorm 5 over {W: [30, 40], b: [0]}: scale 5 / 50
    w = {"W": np.array([1.0, 1.0])}
    O.SGD(lr=0.1, clipvalue=1.0).step(w, g)
    np.testing.assert_allclose(w["W"], [0.9, 0.9], rtol=1e-15)
    w = {"W": np.array([1.0, 1.0]), "b": np.array([2.0])}
    O.SGD(lr=0.1, global_clipnorm=5.0).step(w, {"W": g["W"], "b": np.array([0.0])})
    np.testing.assert_allclose(w["W"], [1 - 0.1 * 3.0, 1 - 0.1 * 4.0], rtol=1e-15)


def test_clipping_options_are_checked_and_shown():
    with pytest.raises(ValueError, match=r"set at most one of clipvalue, clipnorm and global_clipnorm.*"
                                         r"'clipvalue': 1.0, 'clipnorm': 2.0"):
        O.Adam(clipvalue=1.0, clipnorm=2.0)
    with pytest.raises(ValueError, match=r"clipnorm must be a positive number, got -1"):
        O.SGD(clipnorm=-1)
    with pytest.raises(TypeError, match="clip_norm"):
        O.RMSprop(clip_norm=1.0)
    assert "clipnorm" not in repr(O.Adam()) and "clipnorm=2.0" in repr(O.Adam(clipnorm=2.0))
    assert O.get("nesterov", lr=0.1, global_clipnorm=1.0).global_clipnorm == 1.0
