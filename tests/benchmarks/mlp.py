"""Benchmark: nblib's MLP against scikit-learn's and Keras's, same model, same data.

    python -m tests.benchmarks.mlp [epochs] [repeats]     (defaults: 50 epochs, 7 repeats)

The digits (1,347 training and 450 test images of 8 x 8 pixels, scaled to [0, 1]), one
hidden layer of 64 ReLU units, softmax output, Adam (lr 0.001, betas 0.9 / 0.999, eps 1e-8),
mini-batches of 32, shuffled every epoch, no L2 penalty, no early stopping, the same number
of epochs for all three. Each is trained ``repeats`` times with seeds 0, 1, ...; the table
shows the median training wall time and the mean test accuracy.

Target (DESIGN.md): nblib at least as fast as ``MLPClassifier``, to the same accuracy within
one point. This is a script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from nblib import data, layers, optim, training  # noqa: E402

HIDDEN, BATCH, LR, EPS = 64, 32, 1e-3, 1e-8


def nblib_mlp(X_train, y_train, X_test, y_test, *, epochs: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    model = layers.Sequential.mlp([X_train.shape[1], HIDDEN, 10], activation="relu", rng=rng)
    start = time.perf_counter()
    training.fit(model, X_train, y_train, optimizer=optim.Adam(LR, eps=EPS), epochs=epochs,
                 batch_size=BATCH, rng=rng)
    return time.perf_counter() - start, model.accuracy(X_test, y_test)


def sklearn_mlp(X_train, y_train, X_test, y_test, *, epochs: int, seed: int) -> tuple[float, float]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier((HIDDEN,), activation="relu", solver="adam", alpha=0.0, batch_size=BATCH,
                          learning_rate_init=LR, epsilon=EPS, max_iter=epochs, shuffle=True,
                          tol=0.0, n_iter_no_change=epochs + 1, random_state=seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # "max_iter reached": what we asked for
        model.fit(X_train, y_train)
    return time.perf_counter() - start, model.score(X_test, y_test)


def keras_mlp(X_train, y_train, X_test, y_test, *, epochs: int, seed: int) -> tuple[float, float]:
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((X_train.shape[1],)), keras.layers.Dense(HIDDEN, activation="relu"),
                              keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(LR, epsilon=EPS),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    start = time.perf_counter()
    model.fit(X_train, y_train, epochs=epochs, batch_size=BATCH, shuffle=True, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(model.predict(X_test, verbose=0).argmax(axis=1) == y_test))
    return seconds, accuracy


def main(epochs: int = 50, repeats: int = 7) -> None:
    X_train, X_test, y_train, y_test = data.digits()
    implementations = {"nblib `Sequential` + `fit`": nblib_mlp, "scikit-learn `MLPClassifier`": sklearn_mlp,
                       "Keras `Sequential.fit` (TensorFlow, float32)": keras_mlp}
    runs = {name: [] for name in implementations}
    for seed in range(repeats):  # interleaved, so a busy moment slows all three alike
        for name, train in implementations.items():
            runs[name].append(train(X_train, y_train, X_test, y_test, epochs=epochs, seed=seed))
            print(f"seed {seed}, {name}: {runs[name][-1][0]:.2f} s, {runs[name][-1][1]:.1%}", file=sys.stderr)
    rows = [(name, statistics.median(s for s, _ in r), statistics.mean(a for _, a in r)) for name, r in runs.items()]
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()}; digits, 64 ReLU, Adam, batch {BATCH}, {epochs} epochs, "
          f"median of {repeats} runs\n")
    print("| implementation | training wall time | test accuracy |\n|---|---|---|")
    for name, seconds, accuracy in rows:
        print(f"| {name} | {seconds:.2f} s | {accuracy:.1%} |")
    (_, ours, ours_acc), (_, theirs, theirs_acc) = rows[:2]
    verdict = "meets" if ours <= theirs and ours_acc >= theirs_acc - 0.01 else "MISSES"
    print(f"\nnblib takes {ours / theirs:.2f}x scikit-learn's time, accuracy {100 * (ours_acc - theirs_acc):+.1f} "
          f"points: {verdict} the target (as fast, within one point).")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
