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
    assert "worst error 0.5 at index (1,) (relative 0.25)" in lines[3]


def test_the_reported_entry_is_the_one_that_breaks_the_tolerance_most():
    # 1000.0005 vs 1000: error 5e-4 is within 1e-8 + 1e-6 * 1000 = 1e-3; 1e-4 vs 0 is 1e4 times too far.
    message = failure(checks.assert_close, np.array([1000.0005, 1e-4]), np.array([1000.0, 0.0]), name="p", exercise=EX)
    assert "worst error 0.0001 at index (1,) (where 0 is expected)" in message


def test_known_mistake_is_named():
    X, w, b = np.array([[1.0, 2.0]]), np.array([0.5, 0.5]), 3.0
    forgot_bias = X @ w
    message = failure(checks.assert_close, forgot_bias, X @ w + b, name="z", exercise=EX,
                      mistakes={"the bias b was left out": forgot_bias})
    assert "Hint: this matches a common mistake: the bias b was left out." in message


def test_generic_hints_sign_and_named_factors_fire_where_they_hold():
    expected = np.array([0.2, -0.4, 0.6])
    assert "Hint: the sign is flipped" in failure(checks.assert_close, -expected, expected, name="g", exercise=EX)
    factors = {"the 1/N is missing (N = 32)": 32, "the learning rate 0.1 is applied twice": 0.1}
    message = failure(checks.assert_close, expected * 32, expected, name="g", exercise=EX, factors=factors)
    assert "Hint: every value is 32 times the expected one: the 1/N is missing (N = 32)." in message
    message = failure(checks.assert_close, expected * 0.1, expected, name="g", exercise=EX, factors=factors)
    assert "the learning rate 0.1 is applied twice" in message


@pytest.mark.parametrize("got, expected, factors", [
    ([0.0, 0.0, 3.2], [0.0, 0.0, 0.1], {"the 1/N is missing": 32}),      # one nonzero entry: a ratio means nothing
    ([-5.0], [5.0], {}),                                                 # a single number: no "flipped sign"
    ([0.2 * 7, -0.4 * 7, 0.6 * 7], [0.2, -0.4, 0.6], {"the 1/N is missing": 32}),  # a factor nobody named
    ([0.4, -0.4, 0.6], [0.2, -0.4, 0.6], {"the 1/N is missing": 2}),     # not one ratio for all entries
])
def test_generic_hints_stay_silent_where_they_would_guess(got, expected, factors):
    message = failure(checks.assert_close, np.array(got), np.array(expected), name="g", exercise=EX, factors=factors)
    assert "Hint" not in message


def test_shape_messages_and_hints():
    expected = np.arange(12.0).reshape(4, 3)
    message = failure(checks.assert_close, expected.T, expected, name="Z", exercise=EX)
    assert "Z has the wrong shape: expected (4, 3), got (3, 4)." in message and "the transpose of the expected" in message
    message = failure(checks.assert_close, expected.reshape(3, 4), expected, name="Z", exercise=EX)  # transposing won't fix it
    assert "expected (4, 3), got (3, 4)" in message and "transpose" not in message.split("got (3, 4).")[1]
    assert "transpose" not in failure(checks.assert_shape, np.zeros((3, 4)), (4, 3), name="Z", exercise=EX).split(".", 1)[1]
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
        (None, "p is None."),
        ("0.5", "p must be a number or an array, got str '0.5'"),
        ([[1.0], [1.0, 2.0]], "p could not be turned into an array"),
        (np.array([object()]), "p must hold real numbers, got dtype object"),
    ],
)
def test_wrong_types_are_explained(got, text):
    assert text in failure(checks.assert_close, got, np.array([0.5]), name="p", exercise=EX)


def test_forgot_to_return_only_when_the_function_itself_returned_none():
    message = failure(checks.assert_close, None, np.array([0.5]), name="sigmoid(z)", exercise=EX)
    assert "sigmoid(z) is None. Did the function forget to `return` its result?" in message
    message = failure(checks.assert_close, None, 0.5, name="b", exercise=EX)  # b of `w, b, errors = train(...)`
    assert "b is None." in message and "return" not in message


def test_assert_unchanged_names_the_argument_and_the_fix():
    w0 = np.array([0.5, -1.0, np.nan])
    before = w0.copy()
    checks.assert_unchanged(w0, before, name="w0", exercise=EX)  # untouched (a nan equals itself here)
    w = w0
    w += 1.0
    message = failure(checks.assert_unchanged, w0, before, name="w0", exercise=EX)
    assert f"{EX}: your function changed its argument w0 in place (2 of 3 entries differ)." in message
    assert "new = w0.copy()" in message and "`w0 -= ...`" in message

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
    (transposed_weights, (np.ones((4, 3)), np.ones((3, 2)), np.zeros(2)), "whether a transpose (.T) is needed"),
    (float_labels, (np.array([0, 2]), np.full((2, 3), 1 / 3)), "convert them with y.astype(int)"),
    (no_keepdims, (np.zeros((4, 3)),), "keepdims=True"),
    (lambda a, b: a + b, (np.zeros((4, 3)), np.zeros((3, 4))), "two sizes must be equal, or one of them 1"),
])
def test_own_work_names_the_mistake_behind_a_numpy_error(wrong, args, named):
    message = failure(lambda: _run_in(checks.own_work(exercise=EX), wrong, *args))
    assert message.startswith(f"{EX}: your function raised") and named in message
    if "two sizes" in named:
        assert "keepdims" not in message  # (4, 3) + (3, 4): keepdims would not fix it


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


def test_dtype_is_checked_where_the_exercise_asks_for_float64():
    z = np.array([-700.0, 0.0])
    expected = 1 / (1 + np.exp(-z))  # 9.86e-305 and 0.5
    checks.assert_close(expected, expected, name="sigmoid(z)", exercise=EX, dtype=np.float64)
    message = failure(checks.assert_close, expected.astype(np.float32), expected, name="sigmoid(z)", exercise=EX,
                      dtype=np.float64)
    assert "sigmoid(z) must have dtype float64, got float32" in message
    # The tail: float32 rounds 9.86e-305 to 0, inside the default atol but not with atol=0.
    checks.assert_close([0.0, 0.5], expected, name="sigmoid(z)", exercise=EX)
    assert "relative 1" in failure(checks.assert_close, [0.0, 0.5], expected, name="sigmoid(z)", exercise=EX, atol=0)


def test_the_first_matching_mistake_is_named_in_the_tests_order():
    expected = np.array([0.5, 0.25])
    known = {"the sign is flipped": -expected, "the 1/N is missing (N = 2)": expected * 2,
             "every value is larger than expected": expected * 2}   # true too, but less specific: listed last
    message = failure(checks.assert_close, expected * 2, expected, name="g", exercise=EX, mistakes=known)
    assert "the 1/N is missing (N = 2)" in message and "larger than expected" not in message
    assert "Hint" not in failure(checks.assert_close, expected * 3, expected, name="g", exercise=EX, mistakes=known)


@pytest.mark.parametrize("formula, named", [
    (lambda z: np.exp(z), "exp of a large number overflows"),
    (lambda z: np.log(z - z), "log(0) is -inf"),
    (lambda z: z / (z - z), "a division by zero"),
    (lambda z: (z - z) / (z - z), "an invalid operation gave nan (0/0"),
])
def test_no_overflow_names_what_numpy_reported(formula, named):
    message = failure(lambda: _run_in(checks.no_overflow(exercise=EX), formula, np.array([1000.0])))
    assert named in message
    assert sum(hint in message for _, hint in checks.OVERFLOW_HINTS) == 1


def test_exact_comparison_with_no_allowance_reports_the_wrong_entry():
    with np.errstate(all="raise"):  # no division by a zero allowance on the way
        message = failure(checks.assert_close, np.array([64.0, 101.0]), np.array([64, 100]), name="sizes",
                          exercise=EX, rtol=0, atol=0)
    assert "worst error 1 at index (1,)" in message
