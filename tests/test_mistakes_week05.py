"""Week 5's homework tests: every common wrong answer loses its whole exercise, with a hint that names it.

Each case replaces one answer cell of the solution homework with a plausible wrong version and
grades the exercise the way ``python -m autograder grade`` does (:mod:`tests.mistakes`): every
test cell of the exercise, visible and hidden, must fail, and the first failure, the one a
student sees before submitting, must name the mistake. The right answers written another way
(loops, lists, other stable formulas, numpy scalars) must keep every point.
"""


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
WARMUP = """
def warmup_cosine_decay(step, *, initial_lr, warmup_target, warmup_steps, decay_steps, alpha=0.0):
    step = np.asarray(step)
    return np.where(step < warmup_steps, WARMING, DECAYING)
"""


def warmup_with(warming="initial_lr + (warmup_target - initial_lr) * step / warmup_steps",
                decaying="cosine_decay(np.maximum(step - warmup_steps, 0), initial_lr=warmup_target, "
                         "decay_steps=decay_steps, alpha=alpha)"):
    return RIGHT_COSINE + WARMUP.replace("WARMING", warming).replace("DECAYING", decaying)


ADAM = """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=EPS):
    m = M
    v = V
    alpha = ALPHA
    return W, RETURNED
"""


def adam_with(m="beta1 * m + (1 - beta1) * g", v="beta2 * v + (1 - beta2) * g**2",
              alpha="lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)", w="w - alpha * m / (np.sqrt(v) + eps)",
              returned="m, v", eps="1e-7"):
    return (ADAM.replace("EPS", eps).replace("M", m, 1).replace("V", v, 1).replace("ALPHA", alpha)
            .replace("W, RETURNED", f"{w}, {returned}"))


WRONG = {
    # -- exercise 1: momentum
    "momentum: velocity = m*v + lr*g, w = w + velocity": ("momentum_step", "w moved uphill", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity + lr * g
    return w + velocity, velocity
"""),
    "momentum: w = w - velocity": ("momentum_step", "w moved uphill", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity - lr * g
    return w - velocity, velocity
"""),
    "momentum: velocity of the opposite sign (w right)": ("momentum_step", "the velocity has the opposite sign", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity + lr * g
    return w - velocity, velocity
"""),
    "momentum: PyTorch's velocity": ("momentum_step", "PyTorch's velocity", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity + g
    return w - lr * velocity, velocity
"""),
    "momentum: w moved by the old velocity": ("momentum_step", "w moved by the old velocity", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    return w + velocity, momentum * velocity - lr * g
"""),
    "momentum: velocity not decayed": ("momentum_step", "not multiplied by momentum", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = velocity - lr * g
    return w + velocity, velocity
"""),
    "momentum: plain gradient descent": ("momentum_step", "plain gradient descent", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    return w - lr * g, -lr * g
"""),
    "momentum: updates its inputs in place": ("momentum_step", "changed its argument", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity *= momentum
    velocity -= lr * g
    w += velocity
    return w, velocity
"""),
    "momentum: w = w0, then w += velocity": ("momentum_step", "changed its argument w in place", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity - lr * g
    w_new = w
    w_new += velocity
    return w_new, velocity
"""),
    "momentum: returns only w": ("momentum_step", "must return the pair (w, velocity)", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    return w + momentum * velocity - lr * g
"""),
    "momentum: no default momentum": ("momentum_step", "missing 1 required keyword-only argument: 'momentum'", """
def momentum_step(w, g, velocity, *, lr, momentum):
    velocity = momentum * velocity - lr * g
    return w + velocity, velocity
"""),
    # -- exercise 2: Nesterov
    "Nesterov computed as plain momentum": ("nesterov_step", "plain momentum", """
def nesterov_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity - lr * g
    return w + velocity, velocity
"""),
    "Nesterov look-ahead with the old velocity": ("nesterov_step", "look-ahead with the old velocity", """
def nesterov_step(w, g, velocity, *, lr, momentum=0.9):
    return w + momentum * velocity - lr * g, momentum * velocity - lr * g
"""),
    "Nesterov: velocity of the opposite sign": ("nesterov_step", "w moved uphill", """
def nesterov_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity + lr * g
    return w + momentum * velocity + lr * g, velocity
"""),
    "Nesterov: PyTorch's velocity": ("nesterov_step", "PyTorch's Nesterov velocity", """
def nesterov_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity + g
    return w - lr * (g + momentum * velocity), velocity
"""),
    "Nesterov: updates the velocity in place": ("nesterov_step", "changed its argument velocity in place", """
def nesterov_step(w, g, velocity, *, lr, momentum=0.9):
    velocity *= momentum
    velocity -= lr * g
    return w + momentum * velocity - lr * g, velocity
"""),
    # -- exercise 3: RMSProp
    "RMSprop: eps outside the square root": ("rmsprop_step", "eps is outside the square root", """
def rmsprop_step(w, g, s, *, lr, rho=0.9, eps=1e-7):
    s = rho * s + (1 - rho) * g**2
    return w - lr * g / (np.sqrt(s) + eps), s
"""),
    "RMSprop: rho and 1 - rho swapped": ("rmsprop_step", "rho and 1 - rho are swapped", """
def rmsprop_step(w, g, s, *, lr, rho=0.9, eps=1e-7):
    s = (1 - rho) * s + rho * g**2
    return w - lr * g / np.sqrt(s + eps), s
"""),
    "RMSprop: no square root": ("rmsprop_step", "the square root is missing", """
def rmsprop_step(w, g, s, *, lr, rho=0.9, eps=1e-7):
    s = rho * s + (1 - rho) * g**2
    return w - lr * g / (s + eps), s
"""),
    "RMSprop: g not squared": ("rmsprop_step", "g is not squared", """
def rmsprop_step(w, g, s, *, lr, rho=0.9, eps=1e-7):
    s = rho * s + (1 - rho) * g
    return w - lr * g / np.sqrt(s + eps), s
"""),
    "RMSprop: no eps (0 / 0 for a zero gradient)": ("rmsprop_step", "eps is missing", """
def rmsprop_step(w, g, s, *, lr, rho=0.9, eps=1e-7):
    s = rho * s + (1 - rho) * g**2
    return w - lr * g / np.sqrt(s), s
"""),
    "RMSprop: PyTorch's default rho": ("rmsprop_step", "the default rho must be Keras's 0.9", """
def rmsprop_step(w, g, s, *, lr, rho=0.99, eps=1e-7):
    s = rho * s + (1 - rho) * g**2
    return w - lr * g / np.sqrt(s + eps), s
"""),
    "RMSprop: PyTorch's default eps": ("rmsprop_step", "the default eps must be Keras's 1e-7", """
def rmsprop_step(w, g, s, *, lr, rho=0.9, eps=1e-8):
    s = rho * s + (1 - rho) * g**2
    return w - lr * g / np.sqrt(s + eps), s
"""),
    "RMSprop: updates s in place": ("rmsprop_step", "changed its argument s in place", """
def rmsprop_step(w, g, s, *, lr, rho=0.9, eps=1e-7):
    s *= rho
    s += (1 - rho) * g**2
    return w - lr * g / np.sqrt(s + eps), s
"""),
    # -- exercise 4: Adam
    "Adam without bias correction": ("adam_step", "the bias correction is missing", adam_with(alpha="lr")),
    "Adam with t from 0 (Python floats: ZeroDivisionError)": ("adam_step", "t counts from 1", """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    alpha = lr * (1 - beta2 ** (t - 1)) ** 0.5 / (1 - beta1 ** (t - 1))
    return w - alpha * m / (np.sqrt(v) + eps), m, v
"""),
    "Adam with t from 0 (numpy arrays: division by zero)": ("adam_step", "t counts from 1", """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1 ** (t - 1))
    v_hat = v / (1 - beta2 ** (t - 1))
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
"""),
    "Adam with t + 1 in the correction": ("adam_step", "uses t + 1",
                                          adam_with(alpha="lr * np.sqrt(1 - beta2 ** (t + 1)) / (1 - beta1 ** (t + 1))")),
    "Adam with the correction of step 1 at every step": ("adam_step", "t is ignored",
                                                         adam_with(alpha="lr * np.sqrt(1 - beta2) / (1 - beta1)")),
    "Adam returns m_hat and v_hat as the state": ("adam_step", "m_hat and v_hat as the state", """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = (beta1 * m + (1 - beta1) * g) / (1 - beta1**t)
    v = (beta2 * v + (1 - beta2) * g**2) / (1 - beta2**t)
    return w - lr * m / (np.sqrt(v) + eps), m, v
"""),
    "Adam in the textbook epsilon form": ("adam_step", "this is the textbook form", """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
"""),
    "Adam with beta1 and 1 - beta1 swapped": ("adam_step", "beta1 and 1 - beta1 are swapped",
                                              adam_with(m="(1 - beta1) * m + beta1 * g")),
    "Adam with beta2 and 1 - beta2 swapped": ("adam_step", "beta2 and 1 - beta2 are swapped",
                                              adam_with(v="(1 - beta2) * v + beta2 * g**2")),
    "Adam moves w uphill": ("adam_step", "w moved uphill", adam_with(w="w + alpha * m / (np.sqrt(v) + eps)")),
    "Adam with the paper's default eps": ("adam_step", "the default eps must be Keras's 1e-7", adam_with(eps="1e-8")),
    "Adam without eps (0 / 0 for a zero gradient)": ("adam_step", "add eps to sqrt(v)", adam_with(w="w - alpha * m / np.sqrt(v)")),
    "Adam updates m and v in place": ("adam_step", "changed its argument m in place", """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g**2
    alpha = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return w - alpha * m / (np.sqrt(v) + eps), m, v
"""),
    "Adam returns only (w, m)": ("adam_step", "must return the triple (w, m, v)", adam_with(returned="m")),
    # -- exercise 5: AdamW (nblib's adam_step stands in for the student's)
    "AdamW with the decay coupled into the gradient": ("adamw_step", "the decay went into the gradient", """
def adamw_step(w, g, m, v, t, *, lr, weight_decay=0.004, beta1=0.9, beta2=0.999, eps=1e-7):
    return adam_step(w, g + weight_decay * w, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
"""),
    "AdamW decay without the learning rate": ("adamw_step", "not multiplied by the learning rate", """
def adamw_step(w, g, m, v, t, *, lr, weight_decay=0.004, beta1=0.9, beta2=0.999, eps=1e-7):
    return adam_step(w - weight_decay * w, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
"""),
    "AdamW decay after the Adam step": ("adamw_step", "the decay came after the Adam step", """
def adamw_step(w, g, m, v, t, *, lr, weight_decay=0.004, beta1=0.9, beta2=0.999, eps=1e-7):
    w, m, v = adam_step(w, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    return w - lr * weight_decay * w, m, v
"""),
    "AdamW without the decay": ("adamw_step", "the weight decay is missing", """
def adamw_step(w, g, m, v, t, *, lr, weight_decay=0.004, beta1=0.9, beta2=0.999, eps=1e-7):
    return adam_step(w, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
"""),
    "AdamW with PyTorch's default weight_decay": ("adamw_step", "the default weight_decay must be Keras's 0.004", """
def adamw_step(w, g, m, v, t, *, lr, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-7):
    w = w - lr * weight_decay * w
    return adam_step(w, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
"""),
    "AdamW does not pass the betas and eps on": ("adamw_step", "must be passed on to adam_step", """
def adamw_step(w, g, m, v, t, *, lr, weight_decay=0.004, beta1=0.9, beta2=0.999, eps=1e-7):
    w = w - lr * weight_decay * w
    return adam_step(w, g, m, v, t, lr=lr)
"""),
    "AdamW passes t = 1 on": ("adamw_step", "t must be passed on to adam_step", """
def adamw_step(w, g, m, v, t, *, lr, weight_decay=0.004, beta1=0.9, beta2=0.999, eps=1e-7):
    w = w - lr * weight_decay * w
    return adam_step(w, g, m, v, 1, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
"""),
    "AdamW decays the weights in place": ("adamw_step", "changed its argument w in place", """
def adamw_step(w, g, m, v, t, *, lr, weight_decay=0.004, beta1=0.9, beta2=0.999, eps=1e-7):
    w *= 1 - lr * weight_decay
    return adam_step(w, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
"""),
    # -- exercise 6: step and exponential decay
    "step_decay without the floor": ("step_decay", "step_decay without the floor", """
def step_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** (np.asarray(step) / decay_steps)
""" + RIGHT_EXPONENTIAL),
    "step_decay with np.round": ("step_decay", "np.round is not the floor", """
def step_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** np.round(np.asarray(step) / decay_steps)
""" + RIGHT_EXPONENTIAL),
    "step_decay with np.ceil": ("step_decay", "np.ceil is not the floor", """
def step_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** np.ceil(np.asarray(step) / decay_steps)
""" + RIGHT_EXPONENTIAL),
    "step_decay one step late (steps counted from 1)": ("step_decay", "the decay comes one step late", """
def step_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** np.floor(np.maximum(np.asarray(step) - 1, 0) / decay_steps)
""" + RIGHT_EXPONENTIAL),
    "step_decay with math.floor (one number only)": ("step_decay", "take one number, not an array", """
import math


def step_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** math.floor(step / decay_steps)
""" + RIGHT_EXPONENTIAL),
    "exponential_decay with a floor": ("step_decay", "exponential_decay decays smoothly", """
def step_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** (np.asarray(step) // decay_steps)


def exponential_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** (np.asarray(step) // decay_steps)
"""),
    "exponential_decay: ** binds tighter than /": ("step_decay", "** binds tighter than /", """
def step_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** np.floor(np.asarray(step) / decay_steps)


def exponential_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** np.asarray(step) / decay_steps
"""),
    # -- exercise 7: cosine decay and warm-up
    "cosine without the clamp": ("cosine_decay", "the rate climbs back up after decay_steps", """
def cosine_decay(step, *, initial_lr, decay_steps, alpha=0.0):
    return initial_lr * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * np.asarray(step) / decay_steps)) + alpha)


def warmup_cosine_decay(step, *, initial_lr, warmup_target, warmup_steps, decay_steps, alpha=0.0):
    step = np.asarray(step)
    return np.where(step < warmup_steps, initial_lr + (warmup_target - initial_lr) * step / warmup_steps,
                    cosine_decay(step - warmup_steps, initial_lr=warmup_target, decay_steps=decay_steps, alpha=alpha))
"""),
    "cosine with Python's min on an array": ("cosine_decay", "use np.minimum(step, decay_steps)", """
def cosine_decay(step, *, initial_lr, decay_steps, alpha=0.0):
    fraction = min(step, decay_steps) / decay_steps
    return initial_lr * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * fraction)) + alpha)
""" + warmup_with()[len(RIGHT_COSINE):]),
    "cosine floor not scaled by initial_lr": ("cosine_decay", "alpha is a fraction of initial_lr", """
def cosine_decay(step, *, initial_lr, decay_steps, alpha=0.0):
    fraction = np.minimum(step, decay_steps) / decay_steps
    return initial_lr * (1 - alpha) * 0.5 * (1 + np.cos(np.pi * fraction)) + alpha
""" + warmup_with()[len(RIGHT_COSINE):]),
    "cosine ignores alpha": ("cosine_decay", "alpha was ignored", """
def cosine_decay(step, *, initial_lr, decay_steps, alpha=0.0):
    fraction = np.minimum(step, decay_steps) / decay_steps
    return initial_lr * 0.5 * (1 + np.cos(np.pi * fraction))
""" + warmup_with()[len(RIGHT_COSINE):]),
    "cosine not shifted and halved": ("cosine_decay", "the cosine must be shifted and halved", """
def cosine_decay(step, *, initial_lr, decay_steps, alpha=0.0):
    fraction = np.minimum(step, decay_steps) / decay_steps
    return initial_lr * ((1 - alpha) * np.cos(np.pi * fraction) + alpha)
""" + warmup_with()[len(RIGHT_COSINE):]),
    "warm-up: the cosine not restarted at warmup_steps": ("cosine_decay", "use step - warmup_steps", warmup_with(
        decaying="cosine_decay(step, initial_lr=warmup_target, decay_steps=decay_steps, alpha=alpha)")),
    "warm-up: the cosine decays from initial_lr": ("cosine_decay", "must decay from warmup_target", warmup_with(
        decaying="cosine_decay(step - warmup_steps, initial_lr=initial_lr, decay_steps=decay_steps, alpha=alpha)")),
    "warm-up: an if on an array of steps": ("cosine_decay", "np.where(step < warmup_steps", RIGHT_COSINE + """
def warmup_cosine_decay(step, *, initial_lr, warmup_target, warmup_steps, decay_steps, alpha=0.0):
    if step < warmup_steps:
        return initial_lr + (warmup_target - initial_lr) * step / warmup_steps
    return cosine_decay(step - warmup_steps, initial_lr=warmup_target, decay_steps=decay_steps, alpha=alpha)
"""),
    "warm-up: alpha not passed on": ("cosine_decay", "alpha must be passed on", warmup_with(
        decaying="cosine_decay(np.maximum(step - warmup_steps, 0), initial_lr=warmup_target, decay_steps=decay_steps)")),
    "warm-up: starts at 0 instead of initial_lr": ("cosine_decay", "the warm-up must start at initial_lr", warmup_with(
        warming="warmup_target * step / warmup_steps")),
}

# Right answers written unusually: each keeps every point of its exercise.
RIGHT = {
    "momentum: a list, np.multiply, in-place on a copy": ("momentum_step", """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = velocity.copy()
    velocity *= momentum
    velocity -= np.multiply(lr, g)
    return [np.add(w, velocity), velocity]
"""),
    "Nesterov through momentum_step (nblib's stands in)": ("nesterov_step", """
def nesterov_step(w, g, velocity, *, lr, momentum=0.9):
    _, velocity = momentum_step(w, g, velocity, lr=lr, momentum=momentum)
    return w + momentum * velocity - lr * g, velocity
"""),
    "RMSprop: an elementwise loop": ("rmsprop_step", """
import math


def rmsprop_step(w, g, s, *, lr, rho=0.9, eps=1e-7):
    w_new, s_new = np.empty_like(w), np.empty_like(s)
    for i in np.ndindex(*np.shape(w)):
        s_new[i] = rho * s[i] + (1 - rho) * g[i] * g[i]
        w_new[i] = w[i] - lr * g[i] / math.sqrt(s_new[i] + eps)
    return w_new, s_new
"""),
    "Adam: m_hat and v_hat, with eps scaled to Keras's": ("adam_step", """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * np.square(g)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    eps_hat = eps / np.sqrt(1 - beta2**t)
    return (w - lr * m_hat / (np.sqrt(v_hat) + eps_hat), m, v)
"""),
    "AdamW: decay as a factor, a list": ("adamw_step", """
def adamw_step(w, g, m, v, t, *, lr, weight_decay=0.004, beta1=0.9, beta2=0.999, eps=1e-7):
    shrunk = (1.0 - lr * weight_decay) * w
    return list(adam_step(shrunk, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps))
"""),
    "decays with // and exp(log)": ("step_decay", """
def step_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * decay_rate ** (np.asarray(step) // decay_steps)


def exponential_decay(step, *, initial_lr, decay_steps, decay_rate):
    return initial_lr * np.exp(np.log(decay_rate) * np.asarray(step) / decay_steps)
"""),
    "decays: a Python loop, a float for a number": ("step_decay", """
import math


def _each(step, rate_at):
    if np.ndim(step) == 0:
        return rate_at(int(step))
    return np.array([rate_at(int(s)) for s in np.ravel(step)]).reshape(np.shape(step))


def step_decay(step, *, initial_lr, decay_steps, decay_rate):
    return _each(step, lambda s: initial_lr * decay_rate ** (s // decay_steps))


def exponential_decay(step, *, initial_lr, decay_steps, decay_rate):
    return _each(step, lambda s: initial_lr * math.pow(decay_rate, s / decay_steps))
"""),
    "cosine: np.clip, a loop with math.cos, np.piecewise": ("cosine_decay", """
import math


def cosine_decay(step, *, initial_lr, decay_steps, alpha=0.0):
    def one(s):
        s = min(s, decay_steps)
        return initial_lr * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)
    if np.ndim(step) == 0:
        return one(step)
    return np.array([one(s) for s in np.ravel(step)]).reshape(np.shape(step))


def warmup_cosine_decay(step, *, initial_lr, warmup_target, warmup_steps, decay_steps, alpha=0.0):
    step = np.asarray(step, dtype=float)
    after = np.clip(step - warmup_steps, 0, None)
    return np.piecewise(step, [step < warmup_steps],
                        [lambda s: initial_lr + (warmup_target - initial_lr) * s / warmup_steps,
                         lambda s: cosine_decay(np.clip(s - warmup_steps, 0, None), initial_lr=warmup_target,
                                                decay_steps=decay_steps, alpha=alpha)])
"""),
}


# Nesterov may call exercise 1's momentum_step, AdamW calls exercise 4's adam_step: wrong ones in
# the kernel cost them nothing.
WRONG_EARLIER = {
    "nesterov_step": """
def momentum_step(w, g, velocity, *, lr, momentum=0.9):
    velocity = momentum * velocity + lr * g          # the sign is flipped
    return w + velocity, velocity


def nesterov_step(w, g, velocity, *, lr, momentum=0.9):
    _, velocity = momentum_step(w, g, velocity, lr=lr, momentum=momentum)
    return w + momentum * velocity - lr * g, velocity
""",
    "adamw_step": """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return w - lr * m / (np.sqrt(v) + eps), m, v     # no bias correction
""",
}


class TestWeek05(mistakes.WeekTests):
    WEEK, WRONG, RIGHT, WRONG_EARLIER = WEEK, WRONG, RIGHT, WRONG_EARLIER
