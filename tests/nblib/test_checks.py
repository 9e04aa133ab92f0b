"""nblib.checks: the messages students read when a homework test fails."""

import re

import numpy as np
import pytest

from nblib import checks, perceptron

EX = "Exercise 2 (sigmoid_neuron)"


def failure(fn, *args, **kwargs) -> str:
    with pytest.raises(checks.CheckFailed) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, AssertionError)  # nbgrader and pytest treat it as a failed test
    return str(info.value)


def test_close_values_pass_within_the_course_tolerance():
    expected = np.array([1.0, -2.0, 3e-9])
    checks.assert_close(expected * (1 + 0.5e-6), expected, name="p", exercise=EX)
    checks.assert_close([1, -2, 0], expected, name="p", exercise=EX)  # lists and ints are fine
    message = failure(checks.assert_close, expected * (1 + 5e-6), expected, name="p", exercise=EX)
    assert "allowed: |got - expected| <= 1e-08 + 1e-06 * |expected|" in message


def test_value_message_names_exercise_variable_shapes_and_error():
    message = failure(checks.assert_close, np.array([1.0, 2.5]), np.array([1.0, 2.0]), name="p", exercise=EX,
                      context="on the worked example")
    lines = message.splitlines()
    assert lines[0] == f"{EX}: p is not close enough to the expected value on the worked example."
    assert "expected: shape (2,), dtype float64, [1., 2.]" in lines[1]
    assert "got:      shape (2,), dtype float64, [1. , 2.5]" in lines[2]
    assert "largest error 0.5 at index (1,) (relative 0.25)" in lines[3]


def test_known_mistake_is_named():
    X, w, b = np.array([[1.0, 2.0]]), np.array([0.5, 0.5]), 3.0
    forgot_bias = X @ w
    message = failure(checks.assert_close, forgot_bias, X @ w + b, name="z", exercise=EX,
                      mistakes={"the bias b was left out": forgot_bias})
    assert "Hint: this matches a common mistake: the bias b was left out." in message


def test_generic_hints_sign_and_constant_factor():
    expected = np.array([0.2, -0.4, 0.6])
    assert "the sign is flipped" in failure(checks.assert_close, -expected, expected, name="g", exercise=EX)
    message = failure(checks.assert_close, expected * 32, expected, name="g", exercise=EX)
    assert "off by the same factor, 32" in message and "1/N" in message


def test_shape_messages_and_hints():
    expected = np.zeros((4, 3))
    message = failure(checks.assert_close, np.zeros((3, 4)), expected, name="Z", exercise=EX)
    assert "Z has the wrong shape: expected (4, 3), got (3, 4)." in message and "transposed" in message
    assert "(N, 1) column" in failure(checks.assert_close, np.zeros((4, 1)), np.zeros(4), name="z", exercise=EX)
    assert "wrong axis" in failure(checks.assert_close, np.zeros(3), expected, name="Z", exercise=EX)
    assert "expected (2,), got (3,)" in failure(checks.assert_shape, np.zeros(3), (2,), name="w", exercise=EX)


def test_nan_and_overflow_are_explained():
    message = failure(checks.assert_close, np.array([0.5, np.nan]), np.array([0.5, 1.0]), name="p", exercise=EX)
    assert "p contains 1 nan/inf value(s)" in message and "(first at index (1,))" in message
    assert "numerically stable" in message


@pytest.mark.parametrize(
    "got, text",
    [
        (None, "p is None. Did the function forget to `return` its result?"),
        ("0.5", "p must be a number or an array, got str '0.5'"),
        ([[1.0], [1.0, 2.0]], "p could not be turned into an array"),
        (np.array([object()]), "p must hold real numbers, got dtype object"),
    ],
)
def test_wrong_types_are_explained(got, text):
    assert text in failure(checks.assert_close, got, np.array([0.5]), name="p", exercise=EX)


def test_assert_equal_counts_mismatches_and_checks_integer_dtype():
    message = failure(checks.assert_equal, np.array([0, 1, 1, 1]), np.array([0, 1, 0, 0]),
                      name="labels", exercise=EX, context="on XOR")
    assert "labels is wrong on XOR: 2 of 4 entries differ (first at index (2,))" in message
    message = failure(checks.assert_equal, np.array([0.0, 1.0]), np.array([0, 1]), name="labels", exercise=EX,
                      integer=True)
    assert "labels must hold integers, got dtype float64" in message
    checks.assert_equal(np.array([0, 1]), [0, 1], name="labels", exercise=EX, integer=True)
    checks.assert_equal(np.array([True, False]), [1, 0], name="labels", exercise=EX)


def test_assert_that_prefixes_the_exercise():
    checks.assert_that(True, "unused", exercise=EX)
    assert failure(checks.assert_that, False, "XOR should not converge", exercise=EX) == f"{EX}: XOR should not converge"


def test_own_work_switches_off_the_reference():
    with checks.own_work(perceptron.sigmoid_neuron, exercise=EX):
        with pytest.raises(checks.ReferenceDisabled, match=re.escape(f"{EX} asks you to write this yourself")):
            perceptron.sigmoid_neuron(np.zeros((1, 2)), np.zeros(2), 0.0)
    assert perceptron.sigmoid_neuron(np.zeros((1, 2)), np.zeros(2), 0.0)[0] == 0.5


def test_no_overflow_turns_a_naive_sigmoid_into_a_failure_with_a_hint():
    naive = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    z = np.array([-1000.0, 0.0, 1000.0])
    message = failure(lambda: _run_in(checks.no_overflow(exercise=EX), naive, z))
    assert "overflow encountered in exp" in message and "exp only ever sees numbers <= 0" in message
    with checks.no_overflow(exercise=EX):
        e = np.exp(-np.abs(z))
        np.where(z >= 0, 1 / (1 + e), e / (1 + e))  # the stable form passes


def _run_in(context, fn, *args):
    with context:
        return fn(*args)


# Wrong student code, and the mistake own_work names when numpy fails inside it.
def transposed_weights(X, W, b):
    return X @ W.T + b          # W is (D, M): W.T is (M, D)


def float_labels(y, P):
    y = np.asarray(y, dtype=float)                 # copied from a loss that wants float targets
    return -np.log(P[np.arange(len(y)), y]).mean()


def no_keepdims(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)                       # (N, C) / (N,)


@pytest.mark.parametrize("wrong, args, named", [
    (transposed_weights, (np.ones((4, 3)), np.ones((3, 2)), np.zeros(2)), "whether the weights are transposed (W.T)"),
    (float_labels, (np.array([0, 2]), np.full((2, 3), 1 / 3)), "convert them with y.astype(int)"),
    (no_keepdims, (np.zeros((4, 3)),), "keepdims=True"),
])
def test_own_work_names_the_mistake_behind_a_numpy_error(wrong, args, named):
    message = failure(lambda: _run_in(checks.own_work(exercise=EX), wrong, *args))
    assert message.startswith(f"{EX}: your function raised") and named in message


def test_own_work_names_the_mistake_for_errors_carried_over_from_a_student_kernel():
    from autograder.trusted import student_error  # how the grader re-raises the student's IndexError
    error = student_error({"ename": "IndexError", "evalue": "arrays used as indices must be of integer (or boolean) type"})
    message = failure(lambda: _run_in(checks.own_work(exercise=EX), _raise, error))
    assert "y.astype(int)" in message


def test_own_work_lets_other_errors_through_unchanged():
    with pytest.raises(ValueError, match="^something else$"):
        _run_in(checks.own_work(exercise=EX), _raise, ValueError("something else"))


def test_no_overflow_names_log_of_zero_or_the_given_mistake():
    p = np.array([0.0, 0.5, 1.0])
    message = failure(lambda: _run_in(checks.no_overflow(exercise=EX), lambda q: -np.log(q).mean(), p))
    assert "divide by zero encountered in log" in message and "clip the probabilities" in message
    naive_softmax = lambda z: np.exp(z) / np.exp(z).sum()  # noqa: E731
    message = failure(lambda: _run_in(checks.no_overflow(exercise=EX, hint="softmax without the max shift"),
                                      naive_softmax, np.array([1000.0, 0.0])))
    assert message.endswith("Hint: softmax without the max shift.")


def _raise(error):
    raise error
