"""Benchmark: nblib's LSTM forward and backward against keras.layers.LSTM, eager and compiled.

    python -m tests.benchmarks.lstm [repeats]        (default 15)

A batch of 64 sequences of 50 steps with 32 inputs, an LSTM of 64 units returning the last
hidden state (Keras's default), the same float32 weights for all. "Forward" is the output
alone; "forward + backward" is the output and the gradients with respect to the input and the
three weights, given an upstream gradient dout (N, H): ``lstm_backward`` for nblib,
``tf.GradientTape`` for Keras. Keras is timed called eagerly and inside a ``tf.function``
(traced once, before timing). nblib is also timed in float64, the precision the course's
gradient checks use, and in float32 with OpenBLAS held to one thread (numpy's matrix products are
small here, 64 x 64 by 64 x 256 per step, and on a busy machine OpenBLAS's threads can cost far more
than they save). Each repetition times every implementation once, in turn (interleaved,
so a busy moment slows all alike); the table gives the medians and each one's time as a
multiple of nblib's float32 time. This is a script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import contextlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from nblib import init, recurrent  # noqa: E402

N, T, D, H = 64, 50, 32, 64


def nblib_calls(x, weights, dout, dtype):
    x, dout = x.astype(dtype), dout.astype(dtype)
    weights = [w.astype(dtype) for w in weights]

    def forward():
        return recurrent.lstm_forward(x, *weights, return_sequences=False)[0]

    def forward_backward():
        out, _, cache = recurrent.lstm_forward(x, *weights, return_sequences=False)
        return recurrent.lstm_backward(dout, cache)

    return forward, forward_backward


def keras_calls(x, weights, dout, *, compiled: bool):
    import keras
    import tensorflow as tf

    layer = keras.layers.LSTM(H)  # float32, return_sequences=False
    layer.build((None, T, D))
    layer.set_weights(weights)
    x, dout = tf.constant(x, dtype=tf.float32), tf.constant(dout, dtype=tf.float32)
    variables = [layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias]

    def forward():
        return layer(x)

    def forward_backward():
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = layer(x)
        return tape.gradient(out, [x, *variables], output_gradients=dout)

    if compiled:
        forward, forward_backward = tf.function(forward), tf.function(forward_backward)
    return forward, forward_backward


def blas_threads(limit):
    """A context holding numpy's BLAS to ``limit`` threads (None: as it is)."""
    if limit is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    return threadpool_limits(limits=limit, user_api="blas")


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS threads unknown"
    return ", ".join(f"{i['internal_api']} {i['version']} with {i['num_threads']} threads" for i in threadpool_info())


def finished(result):
    """Wait for TensorFlow's result (its ops may run asynchronously): read every value back."""
    for value in result if isinstance(result, (list, tuple)) else [result]:
        np.asarray(value)


def timed(call) -> float:
    start = time.perf_counter()
    finished(call())
    return time.perf_counter() - start


def main(repeats: int = 15) -> None:
    rng = np.random.default_rng(0)
    x, dout = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    weights = [0.1 * rng.normal(size=(D, 4 * H)), init.orthogonal((H, 4 * H), rng=rng), recurrent.lstm_bias(H)]
    blas, load = blas_description(), os.getloadavg()[0]  # a busy machine slows everything
    implementations = {  # name: (forward, forward_backward), BLAS thread limit
        "nblib `lstm_forward` / `lstm_backward` (float32)": (nblib_calls(x, weights, dout, np.float32), None),
        "nblib (float64)": (nblib_calls(x, weights, dout, np.float64), None),
        "nblib (float32), OpenBLAS on 1 thread": (nblib_calls(x, weights, dout, np.float32), 1),
        "`keras.layers.LSTM`, eager (float32)": (keras_calls(x, weights, dout, compiled=False), None),
        "`keras.layers.LSTM` in a `tf.function` (float32)": (keras_calls(x, weights, dout, compiled=True), None),
    }
    reference = np.asarray(implementations["`keras.layers.LSTM`, eager (float32)"][0][0]())
    for name, ((forward, forward_backward), _) in implementations.items():  # warm up: traces, and agreement
        finished(forward_backward())
        np.testing.assert_allclose(np.asarray(forward()), reference, atol=1e-4, err_msg=name)
    runs = {name: ([], []) for name in implementations}
    for repeat in range(repeats):
        for name, (calls, limit) in implementations.items():
            with blas_threads(limit):
                for seconds, call in zip(runs[name], calls):
                    seconds.append(timed(call))
        print(f"repeat {repeat + 1}/{repeats} done", file=sys.stderr)
    medians = {name: [statistics.median(s) for s in pair] for name, pair in runs.items()}
    base = medians[next(iter(medians))]
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()}; LSTM of {H} units on a batch of {N} sequences of {T} steps with {D} inputs, "
          f"last state returned; median of {repeats} interleaved runs; numpy's BLAS: {blas}; "
          f"1-minute load average at the start {load:.1f}\n")
    print("| implementation | forward | x nblib | forward + backward | x nblib |\n|---|---|---|---|---|")
    for name, (fwd, both) in medians.items():
        print(f"| {name} | {1e3 * fwd:.1f} ms | {fwd / base[0]:.2f} | {1e3 * both:.1f} ms | {both / base[1]:.2f} |")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
