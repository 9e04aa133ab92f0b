"""Learning-rate schedules: the learning rate as a function of the step count.

A large learning rate makes fast progress early; near a minimum it makes the weights bounce
around it. A schedule starts large and shrinks; a warm-up first grows from small, because
at step 1 Adam's running averages rest on a single gradient and a full-size step can throw
the weights far away.

Each schedule is a pure function ``f(step, *, hyper...) -> lr``, vectorised over ``step``
(a number or an array of step counts, 0 on the first update), equal to the matching
``keras.optimizers.schedules`` class:

==========================  ===================================================  ======================================
function                    lr at step s                                          Keras
==========================  ===================================================  ======================================
``step_decay``              lr0 * rate ** floor(s / decay_steps)                 ``ExponentialDecay(staircase=True)``
``exponential_decay``       lr0 * rate ** (s / decay_steps)                      ``ExponentialDecay``
``cosine_decay``            lr0 * ((1 - alpha) * (1 + cos(pi * s' / S)) / 2      ``CosineDecay``
                            + alpha), s' = min(s, S)
``warmup_cosine_decay``     linear lr0 -> target over W steps, then             ``CosineDecay(warmup_target=,
                            cosine_decay of target at s - W                      warmup_steps=)``
==========================  ===================================================  ======================================

An optimizer takes a schedule as its ``lr``: ``Adam(lr=schedule("cosine", initial_lr=1e-3,
decay_steps=1000))``.

Example
-------
>>> from nblib import schedules
>>> schedules.step_decay([0, 99, 100, 250], initial_lr=0.1, decay_steps=100, decay_rate=0.5)
array([0.1  , 0.1  , 0.05 , 0.025])
"""

from __future__ import annotations

import functools

import numpy as np

from nblib._reference import reference
from nblib._registry import Registry
from nblib._validation import as_float_array, check_positive

__all__ = ["step_decay", "exponential_decay", "cosine_decay", "warmup_cosine_decay", "SCHEDULES", "schedule"]


def _steps(step) -> np.ndarray:
    s = as_float_array(step, "step")
    if np.any(s < 0):
        raise ValueError(f"step counts start at 0, got {s[s < 0].ravel()[:3]}")
    return s


def _out(value: np.ndarray):
    return float(value) if value.ndim == 0 else value


@reference
def step_decay(step, *, initial_lr: float, decay_steps: int, decay_rate: float):
    """Multiply the learning rate by ``decay_rate`` every ``decay_steps`` steps.

    lr(s) = initial_lr * decay_rate ** floor(s / decay_steps)
    """
    s, decay_steps = _steps(step), check_positive(decay_steps, "decay_steps")
    return _out(initial_lr * decay_rate ** np.floor(s / decay_steps))


@reference
def exponential_decay(step, *, initial_lr: float, decay_steps: int, decay_rate: float):
    """Shrink the learning rate smoothly by ``decay_rate`` per ``decay_steps`` steps.

    lr(s) = initial_lr * decay_rate ** (s / decay_steps)
    """
    s, decay_steps = _steps(step), check_positive(decay_steps, "decay_steps")
    return _out(initial_lr * decay_rate ** (s / decay_steps))


@reference
def cosine_decay(step, *, initial_lr: float, decay_steps: int, alpha: float = 0.0):
    """Half a cosine from ``initial_lr`` down to ``alpha * initial_lr`` over ``decay_steps``.

    lr(s) = initial_lr * ((1 - alpha) * (1 + cos(pi * min(s, S) / S)) / 2 + alpha),
    S = decay_steps; after S steps it stays at ``alpha * initial_lr`` (Loshchilov & Hutter, 2017).
    """
    s, decay_steps = _steps(step), check_positive(decay_steps, "decay_steps")
    fraction = np.minimum(s, decay_steps) / decay_steps  # 0 -> 1, then held at 1
    return _out(initial_lr * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * fraction)) + alpha))


@reference
def warmup_cosine_decay(step, *, initial_lr: float, warmup_target: float, warmup_steps: int,
                        decay_steps: int, alpha: float = 0.0):
    """Linear warm-up from ``initial_lr`` to ``warmup_target``, then a cosine decay.

    lr(s) = initial_lr + (warmup_target - initial_lr) * s / W          for s < W
          = cosine_decay(s - W, initial_lr=warmup_target, decay_steps)   afterwards
    """
    s = _steps(step)
    warmup_steps = check_positive(warmup_steps, "warmup_steps")
    warming = initial_lr + (warmup_target - initial_lr) * s / warmup_steps
    decaying = cosine_decay(np.maximum(s - warmup_steps, 0.0), initial_lr=warmup_target,
                            decay_steps=decay_steps, alpha=alpha)
    return _out(np.where(s < warmup_steps, warming, decaying))


SCHEDULES = Registry("schedule", {
    "step": step_decay,
    "exponential": exponential_decay,
    "cosine": cosine_decay,
    "warmup_cosine": warmup_cosine_decay,
})


def schedule(name: str, **hyper):
    """A schedule as a one-argument function of the step, for an optimizer's ``lr``.

    >>> lr = schedule("exponential", initial_lr=0.1, decay_steps=10, decay_rate=0.5)
    >>> lr(10)
    0.05
    """
    return functools.partial(SCHEDULES[name], **hyper)
