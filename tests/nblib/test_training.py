"""nblib.training.fit: learns the digits about as well as scikit-learn's MLPClassifier of the
same shape and budget, and a regression about as well as MLPRegressor; keeps one History entry
per epoch (accuracy for classification losses only); uses every example once per epoch in
shuffled mini-batches; takes any batch-first X ((N, D), (N, T, D), (N, H, W, C)) and any loss of
nblib.layers.LOSSES by name, its values checked against Keras; trains in training mode and
validates in inference mode, then gives the model back its mode; calls its callbacks (Callback
objects and plain functions) and stops when one returns False; EarlyStopping stops at the epoch
keras.callbacks.EarlyStopping stops at on the same values; reproduces from its seed; stops with
TrainingDiverged when the loss stops being finite, and leaves X and y alone."""

import math
import re
import types
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from nblib import data, layers, optim
from nblib.training import Callback, EarlyStopping, History, TrainingDiverged, evaluate, fit

EPOCHS, LR = 5, 0.01


@pytest.fixture(scope="module")
def digits():
    return data.digits()


def new_model(seed=0, sizes=(64, 32, 10)):
    return layers.Sequential.mlp(list(sizes), rng=np.random.default_rng(seed))


def mean_cross_entropy(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


@pytest.fixture(scope="module")
def trained(digits):
    model = new_model()
    history = fit(model, digits.X_train, digits.y_train, optimizer=optim.Adam(lr=LR), epochs=EPOCHS,
                  rng=np.random.default_rng(1), validation=(digits.X_test, digits.y_test))
    return model, history


def test_fit_learns_the_digits_like_sklearn(digits, trained):
    # scikit-learn's MLPClassifier with the same architecture (64-32-10, ReLU, softmax output),
    # Adam at the same learning rate, batches of 32, no L2 penalty, the same number of epochs.
    model, _ = trained
    ours = model.accuracy(digits.X_test, digits.y_test)
    reference = MLPClassifier(hidden_layer_sizes=(32,), activation="relu", solver="adam", alpha=0.0, batch_size=32,
                              learning_rate_init=LR, max_iter=EPOCHS, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs is the point
        theirs = reference.fit(digits.X_train, digits.y_train).score(digits.X_test, digits.y_test)
    assert ours >= 0.9
    assert theirs >= 0.9  # the comparison is between two working networks
    assert abs(ours - theirs) <= 0.04, f"nblib {ours:.3f}, sklearn {theirs:.3f}"


def test_history_has_one_entry_per_epoch(digits, trained):
    model, history = trained
    assert isinstance(history, History)
    assert history.epochs == EPOCHS
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        values = getattr(history, name)
        assert len(values) == EPOCHS, name
        assert all(math.isfinite(v) for v in values), name
    assert history.loss[-1] < history.loss[0]
    assert all(0.0 <= a <= 1.0 for a in history.accuracy + history.val_accuracy)
    # the last validation numbers are those of the final model, measured independently here
    assert history.val_accuracy[-1] == pytest.approx(np.mean(model.predict(digits.X_test) == digits.y_test), abs=1e-12)
    assert history.val_loss[-1] == pytest.approx(mean_cross_entropy(model.forward(digits.X_test), digits.y_test),
                                                 rel=1e-9)


def test_one_optimizer_step_per_mini_batch_and_a_smaller_last_batch(digits):
    n = len(digits.X_train)  # 1347 = 42 * 32 + 3: the last batch has 3 examples
    opt = optim.SGD(lr=0.05)
    fit(new_model(), digits.X_train, digits.y_train, optimizer=opt, epochs=2, rng=np.random.default_rng(0))
    assert opt.iterations == 2 * math.ceil(n / 32)
    opt = optim.SGD(lr=0.05)
    fit(new_model(), digits.X_train, digits.y_train, optimizer=opt, epochs=1, batch_size=500,
        rng=np.random.default_rng(0))
    assert opt.iterations == 3  # 500 + 500 + 347


class Recorder:
    """Wraps a model and records every batch it is asked to forward."""

    def __init__(self, model):
        self.model, self.batches = model, []
        original = model.forward

        def forward(X):
            self.batches.append(np.array(X, copy=True))
            return original(X)

        model.forward = forward  # an instance attribute, so the model's own methods use it too


def test_each_epoch_uses_every_example_once_in_a_new_order(rng):
    # 250 distinct rows, batches of 100: each epoch must show batches 100, 100, 50 covering
    # all rows once, and the second epoch must order them differently (reshuffled).
    X = rng.normal(size=(250, 6))
    y = rng.integers(0, 3, size=250)
    model = new_model(sizes=(6, 5, 3))
    recorder = Recorder(model)
    fit(model, X, y, optimizer=optim.SGD(lr=0.01), epochs=2, batch_size=100, rng=np.random.default_rng(0))
    training = [b for b in recorder.batches if len(b) < 250]  # leave out any whole-set evaluation
    assert [len(b) for b in training] == [100, 100, 50, 100, 100, 50]
    epochs = [np.concatenate(training[:3]), np.concatenate(training[3:])]
    order = []
    for rows in epochs:
        index = {row.tobytes(): i for i, row in enumerate(X)}
        positions = [index[row.tobytes()] for row in rows]
        assert sorted(positions) == list(range(250))
        order.append(positions)
    assert order[0] != order[1]
    assert order[0] != list(range(250))


def test_callback_is_called_once_per_epoch_with_the_history(digits):
    seen = []

    def callback(history):
        seen.append((history.epochs, len(history.loss)))

    fit(new_model(), digits.X_train[:200], digits.y_train[:200], optimizer=optim.Adam(lr=LR), epochs=4,
        rng=np.random.default_rng(0), callbacks=callback)
    assert seen == [(1, 1), (2, 2), (3, 3), (4, 4)]  # returning None does not stop


def test_callback_returning_false_stops_early(digits):
    calls = []

    def stop_after_two(history):
        calls.append(history.epochs)
        return history.epochs < 2  # False once two epochs are done

    opt = optim.Adam(lr=LR)
    history = fit(new_model(), digits.X_train[:200], digits.y_train[:200], optimizer=opt, epochs=10,
                  rng=np.random.default_rng(0), callbacks=[stop_after_two])
    assert calls == [1, 2]
    assert history.epochs == 2 and len(history.loss) == 2 and len(history.accuracy) == 2
    assert opt.iterations == 2 * math.ceil(200 / 32)


def test_the_same_seeds_give_identical_results_and_another_seed_does_not(digits):
    def run(fit_seed):
        model = new_model(seed=0)
        history = fit(model, digits.X_train[:300], digits.y_train[:300], optimizer=optim.Adam(lr=LR), epochs=2,
                      rng=np.random.default_rng(fit_seed))
        return history, model.parameters()

    (h1, p1), (h2, p2), (h3, p3) = run(5), run(5), run(6)
    assert h1.loss == h2.loss and h1.accuracy == h2.accuracy
    for key in p1:
        np.testing.assert_array_equal(p1[key], p2[key])
    assert h1.loss != h3.loss  # the shuffling comes from the rng
    assert not np.array_equal(p1["0.W"], p3["0.W"])


def test_a_huge_learning_rate_raises_training_diverged(digits):
    # SGD with lr = 1e200 overflows the weights on the first steps, so the loss becomes nan.
    assert issubclass(TrainingDiverged, RuntimeError)
    with pytest.raises(TrainingDiverged) as error:
        fit(new_model(), digits.X_train, digits.y_train, optimizer=optim.SGD(lr=1e200), epochs=3,
            rng=np.random.default_rng(0))
    message = str(error.value)
    assert re.search(r"epoch\W*1\b", message, re.IGNORECASE), message
    assert re.search(r"batch\W*\d", message, re.IGNORECASE), message
    assert "1e+200" in message, message
    assert "smaller" in message, message


def test_a_loss_that_explodes_but_stays_finite_also_raises(digits):
    # lr = 1e6: the weights reach ~1e20 but stay finite, and so does the stable cross-entropy;
    # a mean loss above 1e4 (true-class probabilities of e^-10000) counts as diverged.
    with pytest.raises(TrainingDiverged, match=r"1e\+06 is probably too large"):
        fit(new_model(), digits.X_train, digits.y_train, optimizer=optim.SGD(lr=1e6), epochs=3,
            rng=np.random.default_rng(0))


def test_fit_does_not_modify_x_or_y(digits):
    X, y = digits.X_train[:100].copy(), digits.y_train[:100].copy()
    fit(new_model(), X, y, optimizer=optim.SGD(lr=0.1), epochs=2, rng=np.random.default_rng(0),
        validation=(X, y))
    np.testing.assert_array_equal(X, digits.X_train[:100])
    np.testing.assert_array_equal(y, digits.y_train[:100])


# --- losses by name: regression and yes/no classification ---------------------------------------------

@pytest.fixture(scope="module")
def regression():
    # y = sin(2 x_0) + x_1 x_2 on the cube [-1, 1]^3: smooth, so a 16-unit tanh layer fits it well
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(500, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    return X[:400], X[400:], y[:400], y[400:]


def test_mean_squared_error_fits_a_regression_like_sklearns_mlpregressor(regression):
    # The same network (3-16-1, tanh, linear output), Adam at the same rate, batches of 32, no L2
    # penalty, 60 epochs: both test errors must be tiny next to the targets' variance, and close.
    X_train, X_test, y_train, y_test = regression
    model = layers.Sequential.mlp([3, 16, 1], activation="tanh", rng=np.random.default_rng(0))
    history = fit(model, X_train, y_train, optimizer=optim.Adam(lr=0.01), epochs=60, rng=np.random.default_rng(0),
                  loss="mean_squared_error", validation=(X_test, y_test))
    ours = float(np.mean((model.forward(X_test)[:, 0] - y_test) ** 2))
    reference = MLPRegressor(hidden_layer_sizes=(16,), activation="tanh", solver="adam", alpha=0.0, batch_size=32,
                             learning_rate_init=0.01, max_iter=60, tol=0.0, n_iter_no_change=1000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = float(np.mean((reference.fit(X_train, y_train).predict(X_test) - y_test) ** 2))
    assert ours < 0.02 * np.var(y_test) and theirs < 0.02 * np.var(y_test)  # two working regressions
    assert 1 / 3 <= ours / theirs <= 3, f"nblib {ours:.4g}, sklearn {theirs:.4g}"
    assert history.val_loss[-1] == pytest.approx(ours, rel=1e-12)
    assert history.loss[-1] < history.loss[0] / 10


def test_mean_squared_error_of_one_epoch_is_keras_mse_on_the_same_outputs(keras, regression):
    # One batch holding the whole set: the epoch's loss is the loss before the one update, so it
    # is Keras's MSE on the untrained model's outputs; the validation loss is Keras's MSE on the
    # outputs after the update. Targets given as (N,) or (N, 1) are the same thing.
    X_train, X_test, y_train, y_test = regression
    mse = keras.losses.MeanSquaredError(dtype="float64")
    for name, targets in (("mean_squared_error", y_train), ("mse", y_train[:, None])):
        model = layers.Sequential.mlp([3, 8, 1], activation="tanh", rng=np.random.default_rng(1))
        before = model.forward(X_train)                                          # (N, 1)
        history = fit(model, X_train, targets, optimizer=optim.SGD(lr=0.1), epochs=1, batch_size=len(X_train),
                      rng=np.random.default_rng(0), loss=name, validation=(X_test, y_test))
        assert history.loss[0] == pytest.approx(float(mse(y_train[:, None], before)), rel=1e-12)
        after = model.forward(X_test)
        assert history.val_loss[0] == pytest.approx(float(mse(y_test[:, None], after)), rel=1e-12)
        loss, accuracy = evaluate(model, X_test, y_test, loss=name)
        assert loss == pytest.approx(float(mse(y_test[:, None], after)), rel=1e-12) and accuracy is None


def test_no_accuracy_is_recorded_for_a_regression(regression):
    X_train, X_test, y_train, y_test = regression
    model = layers.Sequential.mlp([3, 4, 1], rng=np.random.default_rng(0))
    history = fit(model, X_train, y_train, optimizer=optim.SGD(lr=0.05), epochs=3, rng=np.random.default_rng(0),
                  loss="mse", validation=(X_test, y_test))
    assert len(history.loss) == len(history.val_loss) == history.epochs == 3
    assert history.accuracy == [] and history.val_accuracy == []


def test_binary_cross_entropy_learns_a_yes_no_problem():
    # breast cancer, malignant or benign: one output unit, its logit; p > 0.5 where the logit is > 0
    split = data.breast_cancer()
    model = layers.Sequential.mlp([30, 16, 1], rng=np.random.default_rng(0))
    history = fit(model, split.X_train, split.y_train, optimizer=optim.Adam(lr=0.01), epochs=10,
                  rng=np.random.default_rng(1), loss="binary_cross_entropy", validation=(split.X_test, split.y_test))
    assert len(history.accuracy) == len(history.val_accuracy) == 10
    assert all(0.0 <= a <= 1.0 for a in history.accuracy + history.val_accuracy)
    logits = model.forward(split.X_test)[:, 0]
    by_hand = float(np.mean((logits > 0).astype(int) == split.y_test))
    assert history.val_accuracy[-1] == pytest.approx(by_hand, abs=1e-12)
    assert by_hand >= 0.9 and history.accuracy[-1] >= 0.9
    assert history.loss[-1] < history.loss[0]


def test_binary_cross_entropy_values_are_keras_binary_crossentropy_from_logits(keras):
    split = data.breast_cancer()
    bce = keras.losses.BinaryCrossentropy(from_logits=True, dtype="float64")
    for name in ("binary_cross_entropy", "sigmoid_cross_entropy"):  # an alias and its canonical name
        model = layers.Sequential.mlp([30, 8, 1], rng=np.random.default_rng(2))
        before = model.forward(split.X_train)
        history = fit(model, split.X_train, split.y_train, optimizer=optim.SGD(lr=0.1), epochs=1,
                      batch_size=len(split.X_train), rng=np.random.default_rng(0), loss=name,
                      validation=(split.X_test, split.y_test))
        assert history.loss[0] == pytest.approx(float(bce(split.y_train[:, None].astype(float), before)), rel=1e-12)
        after = model.forward(split.X_test)
        assert history.val_loss[0] == pytest.approx(float(bce(split.y_test[:, None].astype(float), after)), rel=1e-12)
        # the epoch's accuracy is that of the untrained model: logits > 0 against the labels
        assert history.accuracy[0] == pytest.approx(np.mean((before[:, 0] > 0) == split.y_train), abs=1e-12)


def test_an_unknown_loss_is_named_with_the_closest_one(digits):
    with pytest.raises(ValueError, match=r"unknown loss 'mean_squared_eror'.*Did you mean 'mean_squared_error'"):
        fit(new_model(), digits.X_train[:10], digits.y_train[:10], optimizer=optim.SGD(lr=0.1), epochs=1,
            rng=np.random.default_rng(0), loss="mean_squared_eror")


# --- batch-first inputs of any rank -------------------------------------------------------------------

def test_sequences_n_t_d_train_through_flatten(rng):
    # (N, T, D) = (200, 5, 3); the class is the feature with the largest sum over time,
    # a linear function of the flattened input
    X = rng.normal(size=(200, 5, 3))
    y = X.sum(axis=1).argmax(axis=1)                                             # (N, T, D) -> (N, D) -> (N,)
    model = layers.Sequential([layers.Flatten(), layers.Dense(15, 16, rng=rng), layers.Activation("relu"),
                               layers.Dense(16, 3, rng=rng)])
    history = fit(model, X, y, optimizer=optim.Adam(lr=0.01), epochs=10, rng=rng, validation=(X[:50], y[:50]))
    assert history.epochs == 10 and len(history.accuracy) == 10
    assert history.loss[-1] < history.loss[0] / 2
    assert history.accuracy[-1] > 0.8  # chance is about 1/3
    assert model.forward(X[:4]).shape == (4, 3)                                  # (4, 5, 3) -> (4, 15) -> (4, 3)
    assert model.backward(np.ones((4, 3))).shape == (4, 5, 3)


def test_images_n_h_w_c_train_through_flatten(rng):
    # (N, H, W, C) = (200, 6, 6, 2); the class says which channel is brighter on average
    X = rng.normal(size=(200, 6, 6, 2))
    y = (X[..., 0].mean(axis=(1, 2)) > X[..., 1].mean(axis=(1, 2))).astype(np.int64)
    model = layers.Sequential([layers.Flatten(), layers.Dense(72, 16, rng=rng), layers.Activation("relu"),
                               layers.Dense(16, 2, rng=rng)])
    history = fit(model, X, y, optimizer=optim.Adam(lr=0.01), epochs=10, rng=rng)
    assert history.loss[-1] < history.loss[0] / 2
    assert history.accuracy[-1] > 0.8  # chance is about 1/2
    assert model.forward(X[:4]).shape == (4, 2)                                  # (4, 6, 6, 2) -> (4, 72) -> (4, 2)
    assert model.backward(np.ones((4, 2))).shape == (4, 6, 6, 2)


# --- training mode for the batches, inference mode for validation -------------------------------------

class ModeSpy(layers.Layer):
    """Passes x through unchanged and records (batch size, training flag) on each forward."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def _forward(self, x):
        self.seen.append((len(x), self.training))
        return x, x.shape

    def _backward(self, dout, cache):
        return dout


@pytest.mark.parametrize("mode_before", [True, False])
def test_batches_run_in_training_mode_validation_in_inference_and_the_mode_is_restored(rng, mode_before):
    # 50 examples in batches of 20 (20, 20, 10) and a validation set of 7 (a size no batch has)
    X, y = rng.normal(size=(50, 4)), rng.integers(0, 3, size=50)
    spy = ModeSpy()
    model = layers.Sequential([layers.Dense(4, 3, rng=rng), spy])
    model.train(mode_before)
    fit(model, X, y, optimizer=optim.SGD(lr=0.1), epochs=2, batch_size=20, rng=rng, validation=(X[:7], y[:7]))
    assert spy.seen == [(20, True), (20, True), (10, True), (7, False)] * 2
    assert model.training is mode_before and all(layer.training is mode_before for layer in model.layers)


def test_the_mode_is_restored_when_the_training_diverges(digits):
    model = new_model()
    model.eval()
    with pytest.raises(TrainingDiverged):
        fit(model, digits.X_train, digits.y_train, optimizer=optim.SGD(lr=1e200), epochs=2,
            rng=np.random.default_rng(0))
    assert model.training is False, "fit left the model in training mode after TrainingDiverged"


# --- callbacks ---------------------------------------------------------------------------------------

class Recording(Callback):
    """Logs every call; on_epoch_end returns False at ``stop_at``."""

    def __init__(self, log, name, stop_at=None):
        self.log, self.name, self.stop_at = log, name, stop_at

    def on_train_begin(self, model):
        super().on_train_begin(model)
        self.log.append((self.name, "begin", model))

    def on_epoch_end(self, history):
        self.log.append((self.name, "epoch", history.epochs))
        if history.epochs == self.stop_at:
            return False

    def on_train_end(self, history):
        self.log.append((self.name, "end", history))


def test_a_callback_sees_the_start_every_epoch_and_the_end(digits):
    log = []
    model = new_model()
    callback = Recording(log, "a")
    history = fit(model, digits.X_train[:100], digits.y_train[:100], optimizer=optim.SGD(lr=0.1), epochs=3,
                  rng=np.random.default_rng(0), callbacks=callback)
    assert log == [("a", "begin", model), ("a", "epoch", 1), ("a", "epoch", 2), ("a", "epoch", 3),
                   ("a", "end", history)]
    assert log[-1][2] is history and callback.model is model
    assert Callback().on_epoch_end(History()) is None  # the base class never stops anything


def test_every_callback_sees_each_epoch_even_when_the_first_one_stops(digits):
    log, seen = [], []
    history = fit(new_model(), digits.X_train[:100], digits.y_train[:100], optimizer=optim.SGD(lr=0.1), epochs=10,
                  rng=np.random.default_rng(0),
                  callbacks=[Recording(log, "a", stop_at=2), lambda h: seen.append(h.epochs), Recording(log, "b")])
    assert history.epochs == 2
    assert seen == [1, 2]
    assert [entry[:2] if entry[1] != "epoch" else entry for entry in log] == [
        ("a", "begin"), ("b", "begin"), ("a", "epoch", 1), ("b", "epoch", 1), ("a", "epoch", 2), ("b", "epoch", 2),
        ("a", "end"), ("b", "end")]


# --- EarlyStopping, against keras.callbacks.EarlyStopping ----------------------------------------------

def keras_epochs_run(keras, values, monitor, **options):
    """How many epochs Keras's EarlyStopping lets run on these values (one per epoch).

    Keras's fit calls ``on_train_begin()``, then ``on_epoch_end(epoch, logs)`` with epochs
    counted from 0, and stops when the callback sets ``model.stop_training``: a stub model
    with that attribute is all the callback touches (without restore_best_weights).
    """
    callback = keras.callbacks.EarlyStopping(monitor=monitor, **options)
    model = types.SimpleNamespace(stop_training=False)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, logs={monitor: value})
        if model.stop_training:
            return epoch + 1
    return len(values)


def nblib_epochs_run(values, monitor, **options):
    """How many epochs nblib's EarlyStopping lets run on these values, driven as fit drives it."""
    callback = EarlyStopping(monitor, **options)
    callback.on_train_begin(model=None)
    history = History()
    for value in values:
        history.loss.append(value if monitor == "loss" else 1.0)  # one entry per epoch
        if monitor != "loss":
            getattr(history, monitor).append(value)
        if callback.on_epoch_end(history) is False:
            return history.epochs
    return len(values)


def random_curve(seed, n=30):
    """A noisy, flattening learning curve on a grid of 1/8, so every comparison is exact (ties too)."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(-3, 3, size=n) + np.linspace(-2, 1, n).round()        # drifting down, then up
    return list((40 + np.cumsum(steps)) / 8)


@pytest.mark.parametrize("patience", [0, 1, 2, 4])
@pytest.mark.parametrize("min_delta", [0.0, 0.125, 0.375])
@pytest.mark.parametrize("monitor", ["val_loss", "loss"])
def test_early_stopping_stops_where_keras_stops_on_the_same_losses(keras, patience, min_delta, monitor):
    for seed in range(8):
        values = random_curve(seed)
        expected = keras_epochs_run(keras, values, monitor, patience=patience, min_delta=min_delta)
        assert nblib_epochs_run(values, monitor, patience=patience, min_delta=min_delta) == expected, (seed, values)


@pytest.mark.parametrize("patience", [0, 1, 3])
@pytest.mark.parametrize("min_delta", [0.0, 1 / 64, 1 / 32])  # accuracies here move in steps of 1/128
def test_early_stopping_on_val_accuracy_maximises_like_keras_in_max_mode(keras, patience, min_delta):
    for seed in range(8):
        values = [1 - v / 16 for v in random_curve(seed)]  # the curve upside down: rising, then falling
        expected = keras_epochs_run(keras, values, "val_accuracy", patience=patience, min_delta=min_delta, mode="max")
        assert nblib_epochs_run(values, "val_accuracy", patience=patience, min_delta=min_delta) == expected


@pytest.mark.parametrize("values, options, epochs", [
    # patience 2: best 1.0, 0.9; 0.95 and 0.92 are two epochs without improvement -> stop after epoch 4
    ([1.0, 0.9, 0.95, 0.92, 0.91, 0.8], dict(patience=2), 4),
    # patience 3: 0.91 is the third such epoch -> stop after epoch 5
    ([1.0, 0.9, 0.95, 0.92, 0.91, 0.8], dict(patience=3), 5),
    # patience 0: the first epoch that does not improve stops (epoch 3: 0.95 > 0.9)
    ([1.0, 0.9, 0.95, 0.92, 0.91, 0.8], dict(patience=0), 3),
    # an equal value is no improvement: 0.5, 0.5 -> stop after epoch 2 with patience 0
    ([0.5, 0.5, 0.1], dict(patience=0), 2),
    # min_delta 0.05: 0.97 and 0.96 improve on 1.0 by less than 0.05, so they count as no improvement
    ([1.0, 0.97, 0.96, 0.5], dict(patience=2, min_delta=0.05), 3),
    # ... while 0.9 improves by 0.1 and resets the count: 0.97 (1), 0.9 (reset), 0.88 (1), 0.87 (2) -> 5
    ([1.0, 0.97, 0.9, 0.88, 0.87, 0.5], dict(patience=2, min_delta=0.05), 5),
    # improving all the way: never stops
    ([1.0, 0.8, 0.6, 0.4], dict(patience=0), 4),
])
def test_early_stopping_patience_and_min_delta_by_hand(values, options, epochs):
    assert nblib_epochs_run(values, "val_loss", **options) == epochs


def test_early_stopping_on_val_accuracy_waits_for_a_higher_value():
    # 0.5, then 0.75 is better (higher); 0.625 is worse -> with patience 1 stop after epoch 3.
    # Minimising instead would stop after epoch 2, since 0.75 > 0.5.
    assert nblib_epochs_run([0.5, 0.75, 0.625, 0.9], "val_accuracy", patience=1) == 3


def test_early_stopping_in_fit_stops_where_keras_would_and_restores_the_best_weights(keras, digits):
    # 150 training examples and a 64-unit layer: the validation loss falls, then wobbles upwards
    model = layers.Sequential.mlp([64, 64, 10], rng=np.random.default_rng(0))
    snapshots = []  # the parameters after each epoch, taken by a callback listed first
    stopper = EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    history = fit(model, digits.X_train[:150], digits.y_train[:150], optimizer=optim.Adam(lr=0.01), epochs=80,
                  batch_size=16, rng=np.random.default_rng(1), validation=(digits.X_test, digits.y_test),
                  callbacks=[lambda h: snapshots.append({k: v.copy() for k, v in model.parameters().items()}),
                             stopper])
    assert history.epochs < 80, "the setting should stop early"
    assert history.epochs == keras_epochs_run(keras, history.val_loss, "val_loss", patience=2)
    best = int(np.argmin(history.val_loss))  # the first of equal minima, as "improves" is strict
    assert best < history.epochs - 1
    for key, value in model.parameters().items():
        np.testing.assert_array_equal(value, snapshots[best][key])
    assert not np.array_equal(model.parameters()["0.W"], snapshots[-1]["0.W"])


def test_restore_best_weights_by_hand():
    # A stub model whose one parameter is set to the epoch number: the values 3, 1, 2, 2 are best
    # at epoch 2, and patience 2 stops after epoch 4; the parameter must then read 2 again.
    w = np.zeros(2)
    stub = types.SimpleNamespace(parameters=lambda: {"w": w})
    stopper = EarlyStopping("loss", patience=2, restore_best_weights=True)
    stopper.on_train_begin(stub)
    history = History()
    for epoch, value in enumerate([3.0, 1.0, 2.0, 2.0], start=1):
        w[...] = epoch
        history.loss.append(value)
        answer = stopper.on_epoch_end(history)
    assert answer is False
    stopper.on_train_end(history)
    np.testing.assert_array_equal(w, [2.0, 2.0])
    # without restore_best_weights the last weights stay
    w[...] = 4.0
    plain = EarlyStopping("loss", patience=0)
    plain.on_train_begin(stub)
    history = History(loss=[1.0])
    plain.on_epoch_end(history)
    history.loss.append(2.0)
    assert plain.on_epoch_end(history) is False
    plain.on_train_end(history)
    np.testing.assert_array_equal(w, [4.0, 4.0])


def test_early_stopping_can_be_used_for_a_second_fit(digits):
    stopper = EarlyStopping("loss", patience=0)
    stopper.on_train_begin(None)
    stopper.on_epoch_end(History(loss=[0.01]))  # a low best left over from an earlier training
    history = fit(new_model(), digits.X_train[:200], digits.y_train[:200], optimizer=optim.Adam(lr=LR), epochs=3,
                  rng=np.random.default_rng(0), callbacks=[stopper])
    assert history.epochs == 3  # the training loss falls each epoch, and the old best is forgotten


def test_early_stopping_rejects_what_it_cannot_monitor(digits):
    with pytest.raises(ValueError, match=r"monitor must be a field of History.*got 'val_los'"):
        EarlyStopping("val_los")
    with pytest.raises(ValueError, match=r"'val_loss'.*give fit a validation set"):
        fit(new_model(), digits.X_train[:50], digits.y_train[:50], optimizer=optim.SGD(lr=0.1), epochs=3,
            rng=np.random.default_rng(0), callbacks=[EarlyStopping("val_loss")])
    with pytest.raises(ValueError, match=r"'accuracy'"):  # no accuracy for a regression
        fit(layers.Sequential.mlp([64, 1], rng=np.random.default_rng(0)), digits.X_train[:50],
            digits.y_train[:50].astype(float), optimizer=optim.SGD(lr=0.01), epochs=2, rng=np.random.default_rng(0),
            loss="mse", callbacks=[EarlyStopping("accuracy")])


def test_evaluate_is_keras_sparse_categorical_cross_entropy_and_the_accuracy(keras, digits, trained):
    model, _ = trained
    logits = model.forward(digits.X_test)
    loss, accuracy = evaluate(model, digits.X_test, digits.y_test)
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")(digits.y_test, logits)
    assert loss == pytest.approx(float(expected), rel=1e-12)
    assert accuracy == pytest.approx(np.mean(logits.argmax(axis=1) == digits.y_test), abs=1e-12)


# --- L2 penalty (weight decay) in fit, against Keras's kernel_regularizer ---------------------------------------

L2_FACTOR, L2_LR = 2.0**-5, 2.0**-2  # exact in float32: Keras casts both through float32


def test_l2_in_fit_matches_keras_kernel_regularizers(keras, rng):
    # The same 5-4-3 network, weights and data in Keras with kernel_regularizer=L2 on both Dense
    # layers (not the biases), full-batch SGD (so the shuffling cannot matter), 3 epochs. Keras's
    # history loss and val_loss include the penalty (compute_loss adds model.losses); the weights
    # after training agree to float64 rounding.
    X, y, X_val, y_val = rng.normal(size=(24, 5)), rng.integers(0, 3, size=24), rng.normal(size=(10, 5)), \
        rng.integers(0, 3, size=10)
    weights = [rng.normal(size=(5, 4)), rng.normal(scale=0.5, size=4), rng.normal(size=(4, 3)),
               rng.normal(scale=0.5, size=3)]
    floatx = keras.config.floatx()
    keras.config.set_floatx("float64")  # fit's loss sum needs one dtype throughout; restored below
    keras.backend.clear_session()       # nothing built before (a float32 metric) may take part
    try:
        reg = keras.regularizers.L2(L2_FACTOR)
        k_model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu", kernel_regularizer=reg),
                                    keras.layers.Dense(3, kernel_regularizer=reg)])
        k_model.set_weights(weights)
        k_model.compile(optimizer=keras.optimizers.SGD(learning_rate=L2_LR), run_eagerly=True,
                        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        k_history = k_model.fit(X, y, batch_size=24, epochs=3, shuffle=False, validation_data=(X_val, y_val),
                                verbose=0).history
    finally:
        keras.config.set_floatx(floatx)

    model = layers.Sequential.from_weights(weights[::2], weights[1::2], activation="relu")
    history = fit(model, X, y, optimizer=optim.SGD(lr=L2_LR), epochs=3, batch_size=24, rng=np.random.default_rng(0),
                  validation=(X_val, y_val), l2=L2_FACTOR)
    np.testing.assert_allclose(history.loss, k_history["loss"], rtol=1e-10)
    np.testing.assert_allclose(history.val_loss, k_history["val_loss"], rtol=1e-10)
    for ours, theirs in zip([model.parameters()[k] for k in ("0.W", "0.b", "2.W", "2.b")], k_model.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)
    # and the penalty made a difference that the comparison would see
    plain = layers.Sequential.from_weights(weights[::2], weights[1::2], activation="relu")
    plain_history = fit(plain, X, y, optimizer=optim.SGD(lr=L2_LR), epochs=3, batch_size=24,
                        rng=np.random.default_rng(0))
    assert history.loss[0] - plain_history.loss[0] == pytest.approx(
        L2_FACTOR * (np.sum(weights[0] ** 2) + np.sum(weights[2] ** 2)), rel=1e-12)  # by hand, epoch 1
    assert not np.allclose(plain.parameters()["0.W"], model.parameters()["0.W"], rtol=1e-6)


def test_l2_decays_the_kernels_but_not_the_biases():
    # With a zero data gradient (all-zero inputs reach the first layer's kernel with zero gradient),
    # one SGD step with l2 multiplies that kernel by (1 - 2 * lr * l2) and leaves its bias to the data.
    model = layers.Sequential.mlp([3, 2], rng=np.random.default_rng(0))
    W, b = model.parameters()["0.W"].copy(), model.parameters()["0.b"].copy()
    fit(model, np.zeros((4, 3)), np.array([0, 1, 0, 1]), optimizer=optim.SGD(lr=0.5), epochs=1, batch_size=4,
        rng=np.random.default_rng(0), l2=0.1)
    np.testing.assert_allclose(model.parameters()["0.W"], W * (1 - 2 * 0.5 * 0.1), rtol=1e-15)
    np.testing.assert_array_equal(model.parameters()["0.b"], b)  # labels balanced, logits equal: zero gradient


def test_evaluate_with_l2_adds_the_penalty(digits, trained):
    model, _ = trained
    plain, _ = evaluate(model, digits.X_test, digits.y_test)
    with_l2, _ = evaluate(model, digits.X_test, digits.y_test, l2=0.01)
    kernels = sum(np.sum(v**2) for k, v in model.parameters().items() if k.endswith(".W"))
    assert with_l2 - plain == pytest.approx(0.01 * kernels, rel=1e-12)


def test_fit_rejects_a_negative_l2(digits):
    with pytest.raises(ValueError, match=r"l2 must be a finite number >= 0, got -0.1"):
        fit(new_model(), digits.X_train, digits.y_train, optimizer=optim.SGD(), epochs=1,
            rng=np.random.default_rng(0), l2=-0.1)


def test_restore_best_weights_also_restores_batch_norm_statistics(digits):
    # Keras's restore_best_weights restores get_weights(), which holds the moving statistics too.
    from nblib.layers.batchnorm import BatchNorm

    rng = np.random.default_rng(0)
    bn = BatchNorm(16)
    model = layers.Sequential([layers.Dense(64, 16, rng=rng), bn, layers.Activation("relu"),
                               layers.Dense(16, 10, rng=rng)])
    # by hand: best at epoch 1, the statistics change, epoch 2 is worse: the epoch-1 values come back
    stopper = EarlyStopping("loss", patience=0, restore_best_weights=True)
    stopper.on_train_begin(model)
    stopper.on_epoch_end(History(loss=[1.0]))
    saved = bn.state["running_mean"].copy()
    bn.state["running_mean"][...] += 1.0
    assert stopper.on_epoch_end(History(loss=[1.0, 2.0])) is False
    stopper.on_train_end(History(loss=[1.0, 2.0]))
    np.testing.assert_array_equal(bn.state["running_mean"], saved)
    # through fit, on the validation loss of a small training set
    snapshots = []
    history = fit(model, digits.X_train[:100], digits.y_train[:100], optimizer=optim.Adam(0.05), epochs=12,
                  batch_size=20, rng=rng, validation=(digits.X_test[:60], digits.y_test[:60]),
                  callbacks=[lambda h: snapshots.append(bn.state["running_var"].copy()),
                             EarlyStopping("val_loss", patience=3, restore_best_weights=True)])
    best = int(np.argmin(history.val_loss))
    np.testing.assert_array_equal(bn.state["running_var"], snapshots[best])
