"""nblib.widgets.progress: TrainingProgress and plot_history.

The bar and its label follow a real nblib.training.fit; plot_history draws each epoch's loss
and accuracy.
"""

import numpy as np
import pytest

from nblib import data, layers, optim, training
from nblib.widgets import TrainingProgress, plot_history, progress


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
