"""nblib.widgets.progress: TrainingProgress and plot_history.

The bar and its label follow a real nblib.training.fit; plot_history draws each epoch's loss
and accuracy.
"""

import functools
import html

import numpy as np
import pytest

from nblib import data, layers, optim, training
from nblib.widgets import TrainingCurve, TrainingProgress, plot_history, progress


@pytest.fixture(scope="module")
def tiny_digits():
    X_train, X_test, y_train, y_test = data.digits()
    return X_train[:300], y_train[:300], X_test[:100], y_test[:100]


def test_progress_follows_a_real_fit_to_the_last_epoch(tiny_digits):
    X, y, X_val, y_val = tiny_digits
    rng = np.random.default_rng(0)
    model = layers.Sequential.mlp([64, 16, 10], rng=rng)
    bar = TrainingProgress(epochs=4)
    seen = []  # what the bar and the label showed after each epoch

    def watched(history):
        answer = bar(history)
        seen.append((bar.bar.value, bar.label.value, answer))
        return answer

    history = training.fit(model, X, y, optimizer=optim.Adam(0.01), epochs=4, batch_size=32, rng=rng,
                           validation=(X_val, y_val), callbacks=watched)
    assert history.epochs == 4  # the callback returned True each time: nothing stopped the training
    assert [(value, answer) for value, _, answer in seen] == [(1, True), (2, True), (3, True), (4, True)]
    for k, (_, label, _) in enumerate(seen):
        assert label == (f"epoch {k + 1}/4 · loss {history.loss[k]:.3f} · accuracy {100 * history.accuracy[k]:.1f}% · "
                         f"val loss {history.val_loss[k]:.3f} · val accuracy {100 * history.val_accuracy[k]:.1f}%")
    assert (bar.bar.value, bar.bar.max, bar.bar.bar_style) == (4, 4, "success")
    assert history.val_accuracy[-1] > 0.5  # it did learn


def test_progress_without_validation_and_with_a_keras_style_dict():
    bar = TrainingProgress(epochs=10)
    assert bar({"loss": [0.9, 0.41234], "accuracy": [0.5, 0.9134]}) is True
    assert bar.label.value == "epoch 2/10 · loss 0.412 · accuracy 91.3%"
    assert (bar.bar.value, bar.bar.bar_style) == (2, "")
    bar(training.History(loss=[1.0] * 12, accuracy=[0.5] * 12))  # more epochs than announced
    assert (bar.bar.value, bar.bar.max) == (12, 12)


def test_progress_shows_its_widget(monkeypatch):
    shown = []
    monkeypatch.setattr(progress, "display", shown.append)
    bar = TrainingProgress(3)
    bar._ipython_display_()
    assert shown == [bar.widget] and bar.label.value == "epoch 0/3" and bar.bar.max == 3


@pytest.mark.parametrize("bad, error, message", [
    ([1, 2], TypeError, "history must be an nblib.training.History or a dict with a 'loss' list, got list"),
])
def test_progress_rejects_what_is_not_a_history(bad, error, message):
    with pytest.raises(error, match=message):
        TrainingProgress(3)(bad)
    with pytest.raises(ValueError, match="epochs must be >= 1, got 0"):
        TrainingProgress(0)


def test_plot_history_draws_loss_and_accuracy_per_epoch():
    history = training.History(loss=[1.0, 0.5, 0.3], accuracy=[0.6, 0.8, 0.9], val_loss=[1.1, 0.6, 0.4],
                               val_accuracy=[0.55, 0.75, 0.85])
    figure = plot_history(history, title="digits")
    loss_ax, accuracy_ax = figure.axes
    assert (loss_ax.get_title(), accuracy_ax.get_title()) == ("Loss", "Accuracy")
    assert loss_ax.get_xlabel() == accuracy_ax.get_xlabel() == "epoch" and accuracy_ax.get_ylabel() == "accuracy"
    (train, val) = loss_ax.get_lines()
    np.testing.assert_array_equal(train.get_xydata(), [[1, 1.0], [2, 0.5], [3, 0.3]])
    np.testing.assert_array_equal(val.get_ydata(), [1.1, 0.6, 0.4])
    assert figure._suptitle.get_text() == "digits"
    no_validation = plot_history(training.History(loss=[1.0, 0.5], accuracy=[0.6, 0.8]))
    assert [len(ax.get_lines()) for ax in no_validation.axes] == [1, 1]


# --- TrainingCurve: week 4's loop on the irises, and the student's train beside it (issue 23) ------

def numpy_train(X, y, *, hidden=64, epochs=20, batch_size=32, lr=0.1, rng, mean="weighted"):
    """Week 4's training loop written out here with numpy alone, as exercise 7 describes it.

    ``mean="plain"`` makes a mistake students make: the epoch's loss as the plain mean of its
    batch losses, which differs from sum(batch loss * batch size) / N when the last batch is smaller.
    """
    rng = np.random.default_rng(rng)
    n, d = X.shape
    c = int(y.max()) + 1
    r1, r2 = np.sqrt(6 / (d + hidden)), np.sqrt(6 / (hidden + c))  # Glorot: U(-r, r), r = sqrt(6 / (fan_in + fan_out))
    W1, W2 = rng.uniform(-r1, r1, size=(d, hidden)), rng.uniform(-r2, r2, size=(hidden, c))
    b1, b2 = np.zeros(hidden), np.zeros(c)
    losses = []
    for _ in range(epochs):
        order, batch_losses, sizes = rng.permutation(n), [], []
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            Xb, yb, m = X[rows], y[rows], len(rows)
            Z1 = Xb @ W1 + b1                                    # (m, D) @ (D, H) -> (m, H)
            A1 = np.maximum(Z1, 0.0)
            Z2 = A1 @ W2 + b2                                    # (m, H) @ (H, C) -> (m, C)
            shifted = Z2 - Z2.max(axis=1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            batch_losses.append(-log_p[np.arange(m), yb].mean())
            sizes.append(m)
            dZ2 = (np.exp(log_p) - np.eye(c)[yb]) / m            # dL/dZ2 = (P - Y) / m
            dZ1 = (dZ2 @ W2.T) * (Z1 > 0)                        # back through ReLU: (m, H)
            W1, b1, W2, b2 = W1 - lr * Xb.T @ dZ1, b1 - lr * dZ1.sum(0), W2 - lr * A1.T @ dZ2, b2 - lr * dZ2.sum(0)
        weighted = np.dot(batch_losses, sizes) / n
        losses.append(weighted if mean == "weighted" else np.mean(batch_losses))
    return [W1, W2], [b1, b2], losses


def said(demo) -> str:
    """The demo's comparison line as text."""
    return html.unescape(demo.yours_line.value)


def iris_losses(**settings):
    split = data.iris()
    return np.array(numpy_train(split.X_train, split.y_train, hidden=16, rng=0, **settings)[2])


def test_training_curve_alone_draws_nblibs_losses_as_the_loop_written_out_computes_them():
    demo = TrainingCurve(lr=0.3, batch_size=32, epochs=5)
    losses = iris_losses(epochs=5, batch_size=32, lr=0.3)
    np.testing.assert_allclose(demo.losses, losses, rtol=1e-12)
    np.testing.assert_allclose(demo.curve.get_ydata(), losses, rtol=1e-12)
    assert demo.yours_line.layout.display == "none" and demo.theirs is None
    assert [t.get_text() for t in demo.ax.get_legend().get_texts()] == ["nblib's train"]
    assert demo.their_curve.get_xydata().size == 0
    assert "3 batches of 32 and a last one of 16" in demo.status.value


def test_training_curve_draws_a_correct_train_written_another_way_and_says_it_agrees():
    demo = TrainingCurve(lr=0.3, batch_size=32, epochs=5, yours={"train": numpy_train})
    assert demo.yours_line.layout.display == "flex"
    assert "your train agrees with nblib's" in said(demo)
    losses = iris_losses(epochs=5, batch_size=32, lr=0.3)
    np.testing.assert_array_equal(demo.theirs, losses)
    np.testing.assert_array_equal(demo.their_curve.get_ydata(), losses)
    assert [t.get_text() for t in demo.ax.get_legend().get_texts()] == ["nblib's train", "your train"]


def test_training_curve_names_where_a_wrong_train_first_differs_and_agrees_where_the_mistake_hides():
    plain = functools.partial(numpy_train, mean="plain")
    demo = TrainingCurve(lr=0.3, batch_size=32, epochs=3, yours={"train": plain})
    wrong, right = iris_losses(epochs=3, batch_size=32, lr=0.3, mean="plain"), iris_losses(epochs=3, batch_size=32, lr=0.3)
    assert (f"your train (output 3 of 3) first differs at [0]: {wrong[0]:.4g} against nblib's {right[0]:.4g}"
            in said(demo)), said(demo)
    np.testing.assert_array_equal(demo.theirs, wrong)
    demo.batch_size.value = 28  # 112 = 4 * 28: no smaller last batch, and the plain mean is the weighted one
    assert "your train agrees with nblib's" in said(demo)


def not_written(X, y, **settings):
    raise NotImplementedError("Exercise 7: replace this line with your code")


def per_batch(X, y, *, hidden, epochs, batch_size, lr, rng):
    """One loss per mini-batch (4 per epoch here) instead of one per epoch."""
    return [np.zeros((4, hidden)), np.zeros((hidden, 3))], [np.zeros(hidden), np.zeros(3)], np.zeros(4 * epochs)


@pytest.mark.parametrize("their_train, line", [
    (not_written, "your train is not written yet (it raises NotImplementedError): nblib's is drawn alone"),
    (lambda X, y, **settings: 1 / 0, "your train raised ZeroDivisionError: division by zero"),
    (per_batch, "your train (output 3 of 3) returned shape (12,); nblib's has shape (3,)"),
])
def test_training_curve_survives_an_unfinished_raising_or_misshapen_train(their_train, line):
    demo = TrainingCurve(lr=0.3, batch_size=32, epochs=3, yours={"train": their_train})
    assert line in said(demo)
    assert demo.theirs is None and demo.their_curve.get_xydata().size == 0
    assert len(demo.losses) == 3 and demo.curve.get_xydata().shape == (3, 2)  # nblib's is still drawn


def test_training_curve_says_when_nblibs_training_diverges_and_rejects_bad_settings():
    demo = TrainingCurve(lr=1.0, batch_size=1, epochs=40, yours={"train": numpy_train})
    assert "nblib's training diverged" in demo.status.value and demo.curve.get_xydata().size == 0
    with pytest.raises(ValueError, match="batch_size must be between 1 and 112"):
        TrainingCurve(batch_size=113)
    with pytest.raises(ValueError, match="TrainingCurve can show your train, not 'softmax'"):
        TrainingCurve(yours={"softmax": numpy_train})
