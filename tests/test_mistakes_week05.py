"""Week 5's homework tests reject the common wrong answers, each with a hint that names it.

Each case replaces one answer cell of the solution homework with a plausible wrong version
and runs that exercise's tests (visible, then hidden) until one fails; the failure must name
the mistake. ``where`` says which test cell must catch it: the visible one when a student
should learn about the mistake before submitting.
"""

import pytest

from tests import mistakes

WEEK = "week05_optimizers"

RIGHT_EXPONENTIAL = """
def exponential_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** (np.asarray(step) / decay_steps)
"""
RIGHT_COSINE = """
def cosine_decay(step, *, initial_lr, decay_steps, alpha=0.0):
    fraction = np.minimum(step, decay_steps) / decay_steps
    return initial_lr * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * fraction)) + alpha)
"""

CASES = {
    # -- momentum
    "momentum: velocity = m*v + lr*g, w = w + velocity": ("momentum_step", "momentum_visible", "w moved uphill", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity + lr * g
    return w + velocity, velocity
"""),
    "momentum: w = w - velocity": ("momentum_step", "momentum_visible", "w moved uphill", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity - lr * g
    return w - velocity, velocity
"""),
    "momentum: velocity of the opposite sign (w right)": ("momentum_step", "momentum_visible", "the velocity has the opposite sign", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity + lr * g
    return w - velocity, velocity
"""),
    "momentum: PyTorch's velocity": ("momentum_step", "momentum_visible", "PyTorch's velocity", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity + g
    return w - lr * velocity, velocity
"""),
    "momentum: w moved by the old velocity": ("momentum_step", "momentum_visible", "w moved by the old velocity", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    return w + velocity, momentum * velocity - lr * g
"""),
    "momentum: velocity not decayed": ("momentum_step", "momentum_visible", "not multiplied by momentum", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = velocity - lr * g
    return w + velocity, velocity
"""),
    "momentum: updates its inputs in place": ("momentum_step", "momentum_visible", "changed one of its inputs", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity *= momentum
    velocity -= lr * g
    w += velocity
    return w, velocity
"""),
    "momentum: returns only w": ("momentum_step", "momentum_visible", "must return the pair (w, velocity)", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    return w + momentum * velocity - lr * g
"""),
    # -- Nesterov
    "Nesterov computed as plain momentum": ("nesterov_step", "nesterov_visible", "plain momentum", """
def nesterov_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity - lr * g
    return w + velocity, velocity
"""),
    "Nesterov look-ahead with the old velocity": ("nesterov_step", "nesterov_visible", "look-ahead with the old velocity", """
def nesterov_step(w, g, velocity, *, lr, momentum=0.9):
    return w + momentum * velocity - lr * g, momentum * velocity - lr * g
"""),
    "Nesterov: velocity of the opposite sign": ("nesterov_step", "nesterov_visible", "w moved uphill", """
def nesterov_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity + lr * g
    return w + momentum * velocity + lr * g, velocity
"""),
    # -- RMSProp
    "RMSprop: eps outside the square root": ("rmsprop_step", "rmsprop_visible", "eps is outside the square root", """
def rmsprop_step(w, g, s, *, lr, rho=0.9, eps=1e-7):
    s = rho * s + (1 - rho) * g**2
    return w - lr * g / (np.sqrt(s) + eps), s
"""),
    "RMSprop: rho and 1 - rho swapped": ("rmsprop_step", "rmsprop_visible", "rho and 1 - rho are swapped", """
def rmsprop_step(w, g, s, *, lr, rho=0.9, eps=1e-7):
    s = (1 - rho) * s + rho * g**2
    return w - lr * g / np.sqrt(s + eps), s
"""),
    "RMSprop: no square root": ("rmsprop_step", "rmsprop_visible", "the square root is missing", """
def rmsprop_step(w, g, s, *, lr, rho=0.9, eps=1e-7):
    s = rho * s + (1 - rho) * g**2
    return w - lr * g / (s + eps), s
"""),
    # -- Adam
    "Adam without bias correction": ("adam_step", "adam_visible", "the bias correction is missing", """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return w - lr * m / (np.sqrt(v) + eps), m, v
"""),
    "Adam with t from 0 (Python floats: ZeroDivisionError)": ("adam_step", "adam_visible", "t counts from 1", """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    alpha = lr * (1 - beta2 ** (t - 1)) ** 0.5 / (1 - beta1 ** (t - 1))
    return w - alpha * m / (np.sqrt(v) + eps), m, v
"""),
    "Adam with t from 0 (numpy arrays: division by zero)": ("adam_step", "adam_visible", "t counts from 1", """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1 ** (t - 1))
    v_hat = v / (1 - beta2 ** (t - 1))
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
"""),
    "Adam with t + 1 in the correction": ("adam_step", "adam_visible", "uses t + 1", """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    alpha = lr * np.sqrt(1 - beta2 ** (t + 1)) / (1 - beta1 ** (t + 1))
    return w - alpha * m / (np.sqrt(v) + eps), m, v
"""),
    "Adam returns m_hat and v_hat as the state": ("adam_step", "adam_visible", "m_hat and v_hat as the state", """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = (beta1 * m + (1 - beta1) * g) / (1 - beta1**t)
    v = (beta2 * v + (1 - beta2) * g**2) / (1 - beta2**t)
    return w - lr * m / (np.sqrt(v) + eps), m, v
"""),
    "Adam in the textbook epsilon form": ("adam_step", "adam_visible", "this is the textbook form", """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
"""),
    # -- AdamW
    "AdamW with the decay coupled into the gradient": ("adamw_step", "adamw_visible", "the decay went into the gradient", """
def adamw_step(w, g, m, v, t, *, lr, weight_decay=0.004, beta1=0.9, beta2=0.999, eps=1e-7):
    return adam_step(w, g + weight_decay * w, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
"""),
    "AdamW decay without the learning rate": ("adamw_step", "adamw_visible", "not multiplied by the learning rate", """
def adamw_step(w, g, m, v, t, *, lr, weight_decay=0.004, beta1=0.9, beta2=0.999, eps=1e-7):
    return adam_step(w - weight_decay * w, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
"""),
    "AdamW decay after the Adam step": ("adamw_step", "adamw_visible", "the decay came after the Adam step", """
def adamw_step(w, g, m, v, t, *, lr, weight_decay=0.004, beta1=0.9, beta2=0.999, eps=1e-7):
    w, m, v = adam_step(w, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    return w - lr * weight_decay * w, m, v
"""),
    # -- step and exponential decay
    "step_decay without the floor": ("step_decay", "decay_visible", "step_decay without the floor", """
def step_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** (np.asarray(step) / decay_steps)
""" + RIGHT_EXPONENTIAL),
    "step_decay with np.round": ("step_decay", "decay_visible", "np.round is not the floor", """
def step_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** np.round(np.asarray(step) / decay_steps)
""" + RIGHT_EXPONENTIAL),
    "exponential_decay with a floor": ("step_decay", "decay_visible", "exponential_decay decays smoothly", """
def step_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** (np.asarray(step) // decay_steps)


def exponential_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** (np.asarray(step) // decay_steps)
"""),
    # -- cosine decay and warm-up
    "cosine without the clamp": ("cosine_decay", "cosine_visible", "the rate climbs back up after decay_steps", """
def cosine_decay(step, *, initial_lr, decay_steps, alpha=0.0):
    return initial_lr * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * np.asarray(step) / decay_steps)) + alpha)


def warmup_cosine_decay(step, *, initial_lr, warmup_target, warmup_steps, decay_steps, alpha=0.0):
    step = np.asarray(step)
    return np.where(step < warmup_steps, initial_lr + (warmup_target - initial_lr) * step / warmup_steps,
                    cosine_decay(step - warmup_steps, initial_lr=warmup_target, decay_steps=decay_steps, alpha=alpha))
"""),
    "cosine with Python's min on an array": ("cosine_decay", "cosine_visible", "use np.minimum(step, decay_steps)", """
def cosine_decay(step, *, initial_lr, decay_steps, alpha=0.0):
    fraction = min(step, decay_steps) / decay_steps
    return initial_lr * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * fraction)) + alpha)
"""),
    "cosine floor not scaled by initial_lr": ("cosine_decay", "cosine_visible", "alpha is a fraction of initial_lr", """
def cosine_decay(step, *, initial_lr, decay_steps, alpha=0.0):
    fraction = np.minimum(step, decay_steps) / decay_steps
    return initial_lr * (1 - alpha) * 0.5 * (1 + np.cos(np.pi * fraction)) + alpha
"""),
    "warm-up: the cosine not restarted at warmup_steps": ("cosine_decay", "cosine_visible", "use step - warmup_steps", RIGHT_COSINE + """
def warmup_cosine_decay(step, *, initial_lr, warmup_target, warmup_steps, decay_steps, alpha=0.0):
    step = np.asarray(step)
    return np.where(step < warmup_steps, initial_lr + (warmup_target - initial_lr) * step / warmup_steps,
                    cosine_decay(step, initial_lr=warmup_target, decay_steps=decay_steps, alpha=alpha))
"""),
    "warm-up: the cosine decays from initial_lr": ("cosine_decay", "cosine_visible", "must decay from warmup_target", RIGHT_COSINE + """
def warmup_cosine_decay(step, *, initial_lr, warmup_target, warmup_steps, decay_steps, alpha=0.0):
    step = np.asarray(step)
    return np.where(step < warmup_steps, initial_lr + (warmup_target - initial_lr) * step / warmup_steps,
                    cosine_decay(step - warmup_steps, initial_lr=initial_lr, decay_steps=decay_steps, alpha=alpha))
"""),
    "warm-up: an if on an array of steps": ("cosine_decay", "cosine_visible", "np.where(step < warmup_steps", RIGHT_COSINE + """
def warmup_cosine_decay(step, *, initial_lr, warmup_target, warmup_steps, decay_steps, alpha=0.0):
    if step < warmup_steps:
        return initial_lr + (warmup_target - initial_lr) * step / warmup_steps
    return cosine_decay(step - warmup_steps, initial_lr=warmup_target, decay_steps=decay_steps, alpha=alpha)
"""),
    "warm-up: alpha not passed on (only the hidden tests use alpha)": (
        "cosine_decay", "cosine_hidden", "against CosineDecay(warmup_target=..., warmup_steps=...)", RIGHT_COSINE + """
def warmup_cosine_decay(step, *, initial_lr, warmup_target, warmup_steps, decay_steps, alpha=0.0):
    step = np.asarray(step)
    return np.where(step < warmup_steps, initial_lr + (warmup_target - initial_lr) * step / warmup_steps,
                    cosine_decay(np.maximum(step - warmup_steps, 0), initial_lr=warmup_target, decay_steps=decay_steps))
"""),
}


@pytest.mark.parametrize("case", CASES)
def test_the_tests_name_the_mistake(case):
    mistakes.assert_named(WEEK, *CASES[case])


def test_the_right_answers_pass_every_test():
    mistakes.assert_solution_passes(WEEK, CASES)
