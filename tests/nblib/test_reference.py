"""nblib._reference: the guard that keeps a student from calling nblib's answer to the exercise
under test, and the stand-ins for earlier exercises.

The rule: while ``disabled(fn, exercise=...)`` holds, ``fn`` raises ReferenceDisabled when its
caller is not nblib's own code (here: this test file), under any alias; nblib calling its own
functions is never stopped. The guard looks at the immediate caller only, so code outside
nblib that nblib calls back (a callback, a function being gradient-checked) is stopped too.
"""

import inspect
import math
import sys

import numpy as np
import pytest

from nblib import activations, data, gradcheck, homework, layers, losses, mlp, optim, perceptron, training
from nblib._reference import ReferenceDisabled, disabled, reference, standing_in


def softmax_by_hand(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --- switched off from outside nblib, under any name -------------------------------------------------

def test_reference_can_be_switched_off_under_any_alias():
    from nblib.perceptron import train as alias

    X, y = data.logic_gate("and")
    stored = {"train": perceptron.train}
    with disabled(perceptron.train, exercise="Exercise 4"):
        for call in (alias, perceptron.train, stored["train"], lambda *a: perceptron.train(*a)):
            with pytest.raises(ReferenceDisabled, match="Exercise 4 asks you to write this yourself"):
                call(X, y)
        perceptron.predict(X, np.ones(2), 0.0)  # other functions still work
    assert alias(X, y).converged  # and it is back afterwards


def test_a_registry_entry_is_the_same_guarded_function():
    with disabled(activations.relu, exercise="Exercise 2 (relu)"):
        with pytest.raises(ReferenceDisabled, match=r"Exercise 2 \(relu\)"):
            activations.ACTIVATIONS["relu"](np.ones(3))
        with pytest.raises(ReferenceDisabled):
            activations.get("ReLU")[0](np.ones(3))


def test_the_message_says_which_exercise_and_which_function():
    with disabled(losses.softmax, exercise="Exercise 1 (softmax)"):
        with pytest.raises(ReferenceDisabled) as error:
            losses.softmax(np.zeros(2))
    assert str(error.value) == ("Exercise 1 (softmax) asks you to write this yourself, so nblib.losses.softmax() is "
                                "switched off while your function is tested. Write the computation with numpy instead.")
    assert isinstance(error.value, AssertionError)  # a failed test, to nbgrader and pytest


def test_guard_is_restored_after_an_error():
    with pytest.raises(RuntimeError):
        with disabled(perceptron.predict, exercise="Exercise 1"):
            raise RuntimeError("student code crashed")
    np.testing.assert_array_equal(perceptron.predict(np.zeros((1, 2)), np.ones(2), 0.0), [1])  # step(0) = 1


def test_nested_switches_restore_the_outer_exercise():
    with disabled(losses.softmax, exercise="Exercise 1"):
        with disabled(losses.softmax, losses.log_softmax, exercise="Exercise 2"):
            with pytest.raises(ReferenceDisabled, match="Exercise 2"):
                losses.softmax(np.zeros(2))
        with pytest.raises(ReferenceDisabled, match="Exercise 1"):  # still off, for the outer exercise
            losses.softmax(np.zeros(2))
        np.testing.assert_array_equal(losses.log_softmax(np.zeros(2)), [-math.log(2)] * 2)  # back on
    np.testing.assert_array_equal(losses.softmax(np.zeros(2)), [0.5, 0.5])


def test_the_signature_is_kept_and_the_unguarded_function_is_not_handed_out():
    assert list(inspect.signature(perceptron.train).parameters) == ["X", "y", "lr", "epochs", "w0", "b0"]
    assert not hasattr(perceptron.train, "__wrapped__")
    assert inspect.unwrap(perceptron.train) is perceptron.train
    assert perceptron.train.__name__ == "train" and "perceptron" in perceptron.train.__doc__.lower()
    assert perceptron.train.reference_name == "nblib.perceptron.train"


def test_only_references_can_be_switched_off():
    with pytest.raises(TypeError, match="is not an nblib reference function"):
        with disabled(math.exp, exercise="x"):
            pass
    with pytest.raises(TypeError, match="is not an nblib reference function"):
        with disabled(activations.swish, exercise="x"):  # not a homework answer, so never guarded
            pass


def test_a_reference_defined_outside_nblib_is_stopped_when_called_from_outside_nblib():
    @reference
    def answer(x):
        return 2 * x

    assert answer.reference_name.endswith(".answer")
    with disabled(answer, exercise="Exercise 7"), pytest.raises(ReferenceDisabled, match="Exercise 7"):
        answer(1)
    assert answer(2) == 4


def test_a_class_is_switched_off_through_its_constructor(rng):
    # Exercise 5 of week 6 asks for early stopping: nblib's EarlyStopping must not answer it, made
    # directly, under an alias or through a subclass written outside nblib.
    from nblib.training import EarlyStopping as alias

    class Mine(training.EarlyStopping):
        pass

    with disabled(training.EarlyStopping, exercise="Exercise 5 (early_stopping)"):
        for make in (training.EarlyStopping, alias, Mine):
            with pytest.raises(ReferenceDisabled, match=r"nblib.training.EarlyStopping\(\) is switched off"):
                make(patience=2)
    stopper = training.EarlyStopping(monitor="loss", patience=1)  # back afterwards, still a class
    assert isinstance(stopper, training.Callback) and isinstance(Mine(), training.EarlyStopping)
    assert list(inspect.signature(training.EarlyStopping).parameters) == [
        "monitor", "patience", "min_delta", "restore_best_weights"]


def test_layers_initialise_while_the_initializers_are_off():
    from nblib import init

    with disabled(init.fans, init.glorot_uniform, init.he_normal, init.variance_scaling, exercise="Exercise 2"):
        dense = layers.Dense(30, 20, rng=np.random.default_rng(0))   # nblib's own call to glorot_uniform
        with pytest.raises(ReferenceDisabled, match="nblib.init.glorot_uniform"):
            init.INITIALIZERS.get("glorot_uniform")((30, 20), rng=np.random.default_rng(0))
        with pytest.raises(ReferenceDisabled, match="nblib.init.fans"):
            init.fans((3, 3, 1, 8))
    limit = math.sqrt(6 / (30 + 20))
    assert np.abs(dense.params["W"]).max() <= limit and dense.params["W"].std() > limit / 3


# --- nblib calling nblib is never stopped --------------------------------------------------------------

def test_mlp_forward_uses_softmax_while_it_is_switched_off(rng):
    X, weights, biases = rng.normal(size=(5, 3)), [rng.normal(size=(3, 4))], [rng.normal(size=4)]
    with disabled(losses.softmax, exercise="Exercise 1 (softmax)"):
        out, _ = mlp.forward(X, weights, biases, output="softmax")
        with pytest.raises(ReferenceDisabled):
            losses.softmax(X)
    np.testing.assert_allclose(out, softmax_by_hand(X @ weights[0] + biases[0]), rtol=1e-14)


def test_higher_level_functions_run_while_the_functions_they_build_on_are_off():
    X, y = data.logic_gate("and")
    with disabled(perceptron.train, exercise="Exercise 4"):
        # the hand trace of test_perceptron: AND from zeros ends at w = (2, 1), b = -3, after 6 epochs
        w, b, errors = homework.train_perceptron(X, y)
        assert perceptron.converges(X, y)
    np.testing.assert_array_equal(w, [2.0, 1.0])
    assert b == -3.0 and errors == [2, 3, 3, 2, 1, 0]


def test_a_model_trains_while_its_layers_references_are_off(rng):
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)
    model = layers.Sequential.mlp([4, 5, 3], activation="relu", rng=np.random.default_rng(0))
    with disabled(layers.dense_forward, layers.dense_backward, layers.softmax_cross_entropy,
                  activations.relu, activations.relu_derivative, optim.adam_step, exercise="Exercise 3"):
        history = training.fit(model, X, y, optimizer=optim.Adam(lr=0.01), epochs=2, rng=rng)
        with pytest.raises(ReferenceDisabled):
            layers.dense_forward(X, np.ones((4, 2)), np.zeros(2))
    assert history.epochs == 2 and all(math.isfinite(v) for v in history.loss)


def test_the_guard_looks_at_the_immediate_caller_only(rng):
    # nblib calling back code from outside nblib does not make that code nblib's: a callback or a
    # function being gradient-checked that calls a switched-off reference is stopped.
    z = rng.normal(size=4)
    with disabled(losses.softmax, exercise="Exercise 1"):
        with pytest.raises(ReferenceDisabled, match="Exercise 1"):
            gradcheck.numerical_gradient(lambda v: float(losses.softmax(v)[0]), z)
        X, y = rng.normal(size=(10, 4)), rng.integers(0, 3, size=10)
        model = layers.Sequential.mlp([4, 3], rng=np.random.default_rng(0))
        with pytest.raises(ReferenceDisabled, match="Exercise 1"):
            training.fit(model, X, y, optimizer=optim.SGD(lr=0.1), epochs=1, rng=rng,
                         callbacks=lambda history: losses.softmax(np.zeros(2)))


def test_a_higher_level_function_is_kept_away_by_switching_it_off_too(rng):
    X, weights, biases = rng.normal(size=(2, 3)), [rng.normal(size=(3, 4))], [rng.normal(size=4)]
    with disabled(losses.softmax, mlp.forward, exercise="Exercise 1 (softmax)"):
        with pytest.raises(ReferenceDisabled, match="nblib.mlp.forward"):
            mlp.forward(X, weights, biases, output="softmax")


# --- standing_in: nblib's answer in the notebook's globals -----------------------------------------------

def test_standing_in_sets_the_notebook_globals_and_puts_them_back():
    namespace = sys.modules["__main__"].__dict__
    mine = object()
    had_sigmoid, old_sigmoid = "sigmoid" in namespace, namespace.get("sigmoid")
    assert "nblib_test_absent_name" not in namespace
    namespace["sigmoid"] = mine
    try:
        with standing_in(sigmoid=homework.sigmoid, nblib_test_absent_name=homework.relu):
            assert namespace["sigmoid"] is homework.sigmoid
            assert namespace["nblib_test_absent_name"] is homework.relu
        assert namespace["sigmoid"] is mine
        assert "nblib_test_absent_name" not in namespace  # a name that was not there is removed again
        with pytest.raises(RuntimeError):
            with standing_in(sigmoid=homework.sigmoid):
                raise RuntimeError("student code crashed")
        assert namespace["sigmoid"] is mine
    finally:
        if had_sigmoid:
            namespace["sigmoid"] = old_sigmoid
        else:
            namespace.pop("sigmoid", None)
