"""Helpers the widget tests share: an event loop to run a test in, and small computations.

Plain tests run without an event loop: there a Debouncer acts at once and a Run finishes
before ``start`` returns. A test that wants the kernel's behaviour (timers wait, runs go on in
the background) runs its coroutine with :func:`in_a_loop`. The fixtures ``slow_steps``,
``slow_drawing`` and ``playground`` are in conftest.py next to this file.
"""

import asyncio
import time

import numpy as np

from nblib import data


WAIT = 0.15  # the Debouncer's default


def datasets():
    return {"separable": data.linearly_separable(40, seed=1), "XOR": data.logic_gate("xor")}


def in_a_loop(test):
    """Run ``await test()`` in a fresh event loop; fail if the loop swallowed an error."""
    swallowed = []

    async def main():
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: swallowed.append(context))
        await test()

    asyncio.run(main())
    assert not swallowed, swallowed


def in_a_loop_returning(test):
    """``in_a_loop`` for a test coroutine with a result."""
    result = []

    async def wrapped():
        result.append(await test())

    in_a_loop(wrapped)
    return result[0]


async def until(condition, timeout=10.0):
    """Let the loop run until ``condition()`` holds."""
    deadline = time.perf_counter() + timeout
    while not condition():
        assert time.perf_counter() < deadline, "timed out"
        await asyncio.sleep(0.005)


def bar_heights(demo):
    return np.array([bar.get_height() for bar in demo.bars])


def keras_rules(lr, beta, beta2, eps=1e-7):
    """Each racer's update, written out here in Keras's form: (w, g, state, t) -> (w, state)."""
    def sgd(w, g, state, t):
        return w - lr * g, state

    def momentum(w, g, v, t):
        v = beta * v - lr * g
        return w + v, v

    def nesterov(w, g, v, t):
        v = beta * v - lr * g
        return w + beta * v - lr * g, v

    def rmsprop(w, g, s, t):
        s = beta2 * s + (1 - beta2) * g**2
        return w - lr * g / np.sqrt(s + eps), s

    def adam(w, g, state, t):
        m, v = state
        m, v = beta * m + (1 - beta) * g, beta2 * v + (1 - beta2) * g**2
        m_hat, v_hat = m / (1 - beta**t), v / (1 - beta2**t)  # the paper's bias correction, and Keras's
        # "epsilon hat": eps is added to sqrt(v), which next to sqrt(v_hat) is eps / sqrt(1 - beta2^t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps / np.sqrt(1 - beta2**t)), (m, v)

    zero = np.zeros(2)
    return {"SGD": (sgd, None), "momentum": (momentum, zero), "Nesterov": (nesterov, zero),
            "RMSprop": (rmsprop, zero), "Adam": (adam, (zero, zero))}


def bowl_gradient(p):
    return np.array([p[0], 10 * p[1]])  # f = (x² + 10 y²) / 2
