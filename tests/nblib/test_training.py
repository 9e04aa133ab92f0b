"""nblib.training.fit: learns the digits about as well as scikit-learn's MLPClassifier of the
same shape and budget, keeps one History entry per epoch, uses every example once per epoch
in shuffled mini-batches, honours the callback, reproduces from its seed, stops with
TrainingDiverged when the loss stops being finite, and leaves X and y alone. sgd_train_step
(week 4's homework signature) takes one Keras SGD step and leaves its inputs alone."""

import math
import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from nblib import data, layers, optim
from nblib.training import History, TrainingDiverged, fit, sgd_train_step

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
        rng=np.random.default_rng(0), callback=callback)
    assert seen == [(1, 1), (2, 2), (3, 3), (4, 4)]  # returning None does not stop


def test_callback_returning_false_stops_early(digits):
    calls = []

    def stop_after_two(history):
        calls.append(history.epochs)
        return history.epochs < 2  # False once two epochs are done

    opt = optim.Adam(lr=LR)
    history = fit(new_model(), digits.X_train[:200], digits.y_train[:200], optimizer=opt, epochs=10,
                  rng=np.random.default_rng(0), callback=stop_after_two)
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


# --- sgd_train_step: week 4's homework signature, the stand-in while the student's train is tested ---

def test_sgd_train_step_by_hand():
    # One example, 2 -> 1 (ReLU) -> 2: z_1 = 2 - 1 = 1, logits (2, -1), p = softmax(2, -1), loss = log(1 + e^-3).
    # dlogits = p - (1, 0) = (-q, q) with q = e^-3 / (1 + e^-3); dW_2 = a_1.T dlogits; dz_1 = dlogits . (2, -1) = -3q.
    X, y = np.array([[2.0, 1.0]]), np.array([0])
    weights, biases = [np.array([[1.0], [-1.0]]), np.array([[2.0, -1.0]])], [np.zeros(1), np.zeros(2)]
    loss, new_weights, new_biases = sgd_train_step(X, y, weights, biases, lr=0.1)
    q = np.exp(-3) / (1 + np.exp(-3))
    assert isinstance(loss, float) and loss == pytest.approx(np.log1p(np.exp(-3)), rel=1e-12)
    np.testing.assert_allclose(new_weights[1], [[2 + 0.1 * q, -1 - 0.1 * q]], rtol=1e-12)
    np.testing.assert_allclose(new_biases[1], [0.1 * q, -0.1 * q], rtol=1e-12)
    np.testing.assert_allclose(new_weights[0], [[1 + 0.1 * 3 * q * 2], [-1 + 0.1 * 3 * q * 1]], rtol=1e-12)
    np.testing.assert_allclose(new_biases[0], [0.3 * q], rtol=1e-12)


@pytest.mark.parametrize("activation, sizes", [("relu", [4, 3]), ("tanh", [5, 8, 3]), ("sigmoid", [6, 5, 4, 3])])
def test_sgd_train_step_matches_one_keras_sgd_step(tf, keras, rng, activation, sizes):
    X, y = rng.normal(size=(10, sizes[0])), rng.integers(0, sizes[-1], size=10)
    weights = [rng.normal(size=(d, m)) for d, m in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(size=m) for m in sizes[1:]]
    model = keras.Sequential([keras.Input((sizes[0],), dtype="float64")]
                             + [keras.layers.Dense(m, activation=activation if i < len(sizes) - 2 else None, dtype="float64")
                                for i, m in enumerate(sizes[1:])])
    model.set_weights([p for pair in zip(weights, biases) for p in pair])
    scce = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    with tf.GradientTape() as tape:
        value = scce(y, model(X, training=True))
    keras.optimizers.SGD(learning_rate=0.5).apply_gradients(   # 0.5 is exact in float32
        zip(tape.gradient(value, model.trainable_variables), model.trainable_variables))
    loss, new_weights, new_biases = sgd_train_step(X, y, weights, biases, lr=0.5, activation=activation)
    assert loss == pytest.approx(float(value), rel=1e-9)
    after = model.get_weights()
    for ours, theirs in zip(new_weights + new_biases, after[0::2] + after[1::2]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_sgd_train_step_leaves_its_inputs_alone_and_returns_new_lists(rng):
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)
    weights, biases = [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))], [rng.normal(size=4), rng.normal(size=2)]
    saved = [p.copy() for p in weights + biases + [X, y]]
    _, new_weights, new_biases = sgd_train_step(X, y, weights, biases, lr=0.1, activation="tanh")
    for before, after in zip(saved, weights + biases + [X, y]):
        np.testing.assert_array_equal(before, after)
    assert all(new is not old for new, old in zip(new_weights + new_biases, weights + biases))


def test_sgd_train_step_can_be_switched_off_for_the_exercise_that_asks_for_it():
    from nblib._reference import ReferenceDisabled, disabled

    X, y = np.array([[2.0, 1.0]]), np.array([0])
    weights, biases = [np.array([[1.0], [-1.0]]), np.array([[2.0, -1.0]])], [np.zeros(1), np.zeros(2)]
    with disabled(sgd_train_step, exercise="Exercise 6 (sgd_train_step)"):
        with pytest.raises(ReferenceDisabled, match="Exercise 6"):
            sgd_train_step(X, y, weights, biases, lr=0.1)
    sgd_train_step(X, y, weights, biases, lr=0.1)
