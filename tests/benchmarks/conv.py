"""Benchmark: nblib's conv2d against keras.layers.Conv2D, eager and compiled, same shapes.

    python -m tests.benchmarks.conv [repeats] [threads]    (defaults: 15 repeats, all threads)

``threads`` limits numpy's BLAS (threadpoolctl) and TensorFlow's thread pools alike; 1 gives
a one-core comparison that suffers less when other work shares the machine.

Two course-sized batches, "valid" padding, stride 1 (the seed's CNN): 64 images of 28x28x1
with 32 3x3 kernels (its first layer), and 64 of 14x14x32 with 64 3x3 kernels (its second,
after pooling). Timed, for each:

- nblib's vectorised :func:`nblib.conv.conv2d_forward` / :func:`~nblib.conv.conv2d_backward`
  on float64 arrays (the course's default) and on float32 arrays (which stay float32);
- ``keras.layers.Conv2D`` (TensorFlow backend, float32, Keras's default) called eagerly, and
  inside a ``tf.function`` (compiled to a graph, traced once before timing); its backward is
  ``tf.GradientTape.gradient`` for x, the kernel and the bias with the same upstream gradient
  (eager: the gradient call alone; compiled: forward and backward in one function, so only
  the sum is shown);
- nblib's loop versions (:func:`~nblib.conv.conv2d_forward_loops`), on 1 image, multiplied by
  64: the lesson's reason to vectorise.

Each repeat runs every implementation once, in turn (interleaved, so a busy moment slows all
alike); the table shows medians. Target (DESIGN.md): nblib's forward no slower than Keras
eager, and within 2x of the compiled call. This is a script, not a test: timings depend on the
machine and on what else runs on it.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from nblib import conv  # noqa: E402

CASES = {"64 x 28x28x1, 32 3x3 kernels": (64, 28, 1, 32), "64 x 14x14x32, 64 3x3 kernels": (64, 14, 32, 64)}
LOOP_IMAGES = 1  # the loop version runs on this many images, scaled to 64


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def nblib_timers(x, W, b, dout):
    """(forward, backward) timers of nblib's vectorised conv2d on these arrays."""
    def forward():
        return timed(lambda: conv.conv2d_forward(x, W, b))

    def backward():
        _, cache = conv.conv2d_forward(x, W, b)
        return timed(lambda: conv.conv2d_backward(dout, cache))

    return forward, backward


def loop_timers(x, W, b, dout, scale):
    x, dout = x[:LOOP_IMAGES], dout[:LOOP_IMAGES]

    def forward():
        return scale * timed(lambda: conv.conv2d_forward_loops(x, W, b))

    def backward():
        _, cache = conv.conv2d_forward_loops(x, W, b)
        return scale * timed(lambda: conv.conv2d_backward_loops(dout, cache))

    return forward, backward


def keras_timers(x, W, b, dout):
    """(forward, backward, compiled forward, compiled forward+backward) timers for keras.layers.Conv2D."""
    import keras
    import tensorflow as tf

    layer = keras.layers.Conv2D(W.shape[3], W.shape[:2], dtype="float32")
    layer.build(x.shape)
    layer.set_weights([W, b])
    xt, dt = tf.constant(x), tf.constant(dout)

    def gradients():
        with tf.GradientTape() as tape:
            tape.watch(xt)
            out = layer(xt)
        return tape, out

    def backward():
        tape, out = gradients()
        return timed(lambda: [g.numpy() for g in tape.gradient(out, [xt, layer.kernel, layer.bias],
                                                                 output_gradients=dt)])

    compiled_forward = tf.function(lambda v: layer(v))

    @tf.function
    def compiled_both(v, d):
        with tf.GradientTape() as tape:
            tape.watch(v)
            out = layer(v)
        return out, tape.gradient(out, [v, layer.kernel, layer.bias], output_gradients=d)

    compiled_forward(xt), compiled_both(xt, dt)  # trace once, before timing
    return (lambda: timed(lambda: layer(xt).numpy()), backward,
            lambda: timed(lambda: compiled_forward(xt).numpy()),
            lambda: timed(lambda: [t.numpy() for t in tf.nest.flatten(compiled_both(xt, dt))]))


def measure(case, repeats: int) -> dict:
    N, H, C, M = case
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(N, H, H, C)), rng.normal(size=(3, 3, C, M)) * 0.1, rng.normal(size=M)
    dout = rng.normal(size=(N, H - 2, H - 2, M))
    f32 = [a.astype(np.float32) for a in (x, W, b, dout)]
    k_forward, k_backward, c_forward, c_both = keras_timers(*f32)
    timers = {
        ("nblib vectorised, float64", "forward"): nblib_timers(x, W, b, dout)[0],
        ("nblib vectorised, float64", "backward"): nblib_timers(x, W, b, dout)[1],
        ("nblib vectorised, float32", "forward"): nblib_timers(*f32)[0],
        ("nblib vectorised, float32", "backward"): nblib_timers(*f32)[1],
        ("Keras Conv2D eager, float32", "forward"): k_forward,
        ("Keras Conv2D eager, float32", "backward"): k_backward,
        ("Keras Conv2D in tf.function, float32", "forward"): c_forward,
        ("Keras Conv2D in tf.function, float32", "forward + backward"): c_both,
        (f"nblib loops, float64 ({LOOP_IMAGES} image x {N})", "forward"): loop_timers(x, W, b, dout, N)[0],
        (f"nblib loops, float64 ({LOOP_IMAGES} image x {N})", "backward"): loop_timers(x, W, b, dout, N)[1],
    }
    for timer in timers.values():  # warm up: first calls allocate, load kernels
        timer()
    runs = {key: [] for key in timers}
    for repeat in range(repeats):
        for key, timer in timers.items():
            if "loops" in key[0] and repeat >= 3:  # seconds per call: 3 runs are enough
                continue
            runs[key].append(timer())
    return {key: statistics.median(values) for key, values in runs.items()}


def table(name: str, medians: dict) -> list[str]:
    rows = {}
    for (impl, phase), seconds in medians.items():
        rows.setdefault(impl, {})[phase] = seconds
    for phases in rows.values():
        if "forward + backward" not in phases:
            phases["forward + backward"] = phases["forward"] + phases["backward"]
    eager, compiled = rows["Keras Conv2D eager, float32"], rows["Keras Conv2D in tf.function, float32"]
    lines = [f"**{name}**\n", "| implementation | forward | backward | forward + backward "
             "| forward / Keras eager | forward / compiled | fwd+bwd / compiled |", "|---|---|---|---|---|---|---|"]
    for impl, phases in rows.items():
        backward = f"{1e3 * phases['backward']:.2f} ms" if "backward" in phases else "-"
        lines.append(f"| {impl} | {1e3 * phases['forward']:.2f} ms | {backward} | "
                     f"{1e3 * phases['forward + backward']:.2f} ms | {phases['forward'] / eager['forward']:.2f} | "
                     f"{phases['forward'] / compiled['forward']:.2f} | "
                     f"{phases['forward + backward'] / compiled['forward + backward']:.2f} |")
    return lines


def verdict(name: str, medians: dict) -> str:
    eager = medians[("Keras Conv2D eager, float32", "forward")]
    compiled = medians[("Keras Conv2D in tf.function, float32", "forward")]
    parts = []
    for dtype in ("float64", "float32"):
        ours = medians[(f"nblib vectorised, {dtype}", "forward")]
        ok = ours <= eager and ours <= 2 * compiled
        parts.append(f"{dtype} {'meets' if ok else 'MISSES'} the target ({ours / eager:.2f}x eager, "
                     f"{ours / compiled:.2f}x compiled)")
    return f"- {name}: nblib forward in " + "; in ".join(parts)


def main(repeats: int = 15, threads: int | None = None) -> None:
    import tensorflow as tf

    if threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)  # numpy's BLAS, for the rest of the process
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)

    results, load_before = {}, os.getloadavg()[0]
    for name, case in CASES.items():
        print(f"measuring {name} ...", file=sys.stderr)
        results[name] = measure(case, repeats)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}, TensorFlow {tf.__version__}, {platform.system()}; "
          f"stride 1, 'valid' padding; {threads or 'default'} threads; median of {repeats} interleaved runs "
          f"(loops: 3). "
          f"Load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after: "
          f"other work on the machine slows every row.\n")
    for name, medians in results.items():
        print("\n".join(table(name, medians)) + "\n")
    print("\n".join(verdict(name, medians) for name, medians in results.items()))


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
