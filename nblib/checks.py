"""Student-facing checks used by the homework's visible and hidden tests.

Each check compares what your function returned with what was expected and, when they
differ, raises :class:`CheckFailed` (an ``AssertionError``) whose message says which exercise
and which value, the expected and received shape and dtype, how large the error is against
the course tolerance, and, when the answer matches a known mistake, what that mistake is.

Tolerance, for the whole course (numpy's ``isclose`` rule, elementwise)::

    |got - expected| <= ATOL + RTOL * |expected|,  RTOL = 1e-6, ATOL = 1e-8

Example
-------
>>> import numpy as np
>>> from nblib import checks
>>> checks.assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]), name="z", exercise="Exercise 1")
>>> try:
...     checks.assert_close(np.array([2.0, 4.0]), np.array([1.0, 2.0]), name="z", exercise="Exercise 1")
... except checks.CheckFailed as failure:
...     print(str(failure).splitlines()[0])
Exercise 1: z is not close enough to the expected value.
"""

from __future__ import annotations

import contextlib
import numbers
import re

import numpy as np

from nblib._reference import ReferenceDisabled, disabled, standing_in

__all__ = [
    "RTOL", "ATOL", "CheckFailed", "ReferenceDisabled", "GENERIC_HINTS",
    "assert_close", "assert_equal", "assert_shape", "assert_that", "assert_unchanged",
    "own_work", "no_overflow", "standing_in",
]

RTOL = 1e-6
ATOL = 1e-8
TOLERANCE_TEXT = f"|got - expected| <= {ATOL:g} + {RTOL:g} * |expected|"


class CheckFailed(AssertionError):
    """A homework check failed; the message explains what and, if it can, why."""


@contextlib.contextmanager
def own_work(*references, exercise: str):
    """Context manager: nblib's reference answers for this exercise are switched off inside.

    In a test cell::

        with checks.own_work(perceptron.train, exercise="Exercise 4"):
            w, b, errors = train_perceptron(X, y)   # calling perceptron.train in here fails

    An exercise that calls an earlier one is tested with nblib's answer standing in for it,
    so that one wrong function costs one exercise::

        with checks.standing_in(train_perceptron=homework.train_perceptron), \
                checks.own_work(perceptron.converges, exercise="Exercise 5"):
            converges(X, y)                         # calls nblib's train_perceptron

    An error that numpy raises inside the student's function and that usually means one
    mistake (a matrix product with transposed weights, float labels used as indices, ...)
    becomes a :class:`CheckFailed` naming that mistake, with the original error attached.
    """
    with disabled(*references, exercise=exercise):
        try:
            yield
        except (IndexError, ValueError) as error:
            hint = _error_hint(error)
            if not hint:
                raise
            raise CheckFailed(f"{exercise}: your function raised {type(error).__name__}: {error}\n"
                              f"    Hint: {hint}.") from error


@contextlib.contextmanager
def no_overflow(*, exercise: str, hint: str = ""):
    """Context manager: numpy overflow, division by zero or an invalid operation fails the check.

    A stable implementation never overflows, even for inputs like z = -1000 where the naive
    exp(-z) = exp(1000) does (numpy would only warn and carry on with inf). ``hint`` names the
    likely mistake; by default it is chosen from what numpy reported (a log or an exp).
    """
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        try:
            yield
        except FloatingPointError as error:
            reported = str(error)
            hint = hint or next(h for word, h in OVERFLOW_HINTS if word in reported)
            raise CheckFailed(f"{exercise}: numpy reported '{reported}' inside your function.\n"
                              f"    Hint: {hint}.") from None


# What numpy says inside a student's function, and the mistake it usually means.
ERROR_HINTS = (
    (IndexError, ("must be of integer", "only integers, slices"),
     "labels used as indices must be integers, and these are floats (2.0 cannot pick a column): "
     "keep the labels' integer dtype, or convert them with y.astype(int) before indexing"),
    (ValueError, ("matmul: Input operand", "not aligned"),
     "the inner sizes of a matrix product differ: (N, D) @ (D, M) needs the same D on both sides. "
     "Write each operand's shape next to the product and check its order (X @ W, not W @ X) "
     "and whether a transpose (.T) is needed or is one too many"),
)
KEEPDIMS_HINT = ("these shapes do not broadcast: a sum or max over the last axis dropped that axis, so "
                 "(N, C) meets (N,); keep it with keepdims=True, and check that it runs over the classes (axis=1)")
BROADCAST_HINT = ("these shapes do not broadcast: write down the shape of each operand; two sizes must "
                  "be equal, or one of them 1")

# What numpy reports under ``no_overflow``, and the stable form that avoids it.
OVERFLOW_HINTS = (
    ("in log", "log(0) is -inf (and 0 * log(0) is nan): clip the probabilities into [eps, 1 - eps] "
               "with eps = 1e-7 before taking the log, or work from logits"),
    ("overflow", "exp of a large number overflows (exp(710) is already inf in float64). "
                 "Rewrite the formula so that exp only ever sees numbers <= 0"),
    ("divide by zero", "a division by zero: a denominator (a sum of exponentials that underflowed, "
                       "a root of 0 without its eps, a count of 0) reached 0; keep it away from 0"),
    ("invalid", "an invalid operation gave nan (0/0, inf - inf, inf/inf or the root of a negative "
                "number): usually an earlier step already under- or overflowed; rewrite the formula "
                "so that exp only ever sees numbers <= 0, and keep denominators away from 0"),
    ("", "a floating-point error: look for exp of large numbers, log of 0 and division by 0"),
)


# The hints the checks themselves give, each with a stable id and a phrase that is in every
# message giving it. The grader records which ones a failure gave (autograder.mistakes), next
# to the hints a homework's test names with a constant of its own (NO_SHIFT = "...").
GENERIC_HINTS = {
    "float_labels_as_indices": ERROR_HINTS[0][2],
    "matmul_shapes": ERROR_HINTS[1][2],
    "keepdims": KEEPDIMS_HINT,
    "broadcast": BROADCAST_HINT,
    **{f"numpy_{name}": hint for name, (_, hint) in zip(
        ("log_of_zero", "overflow", "division_by_zero", "invalid", "floating_point"), OVERFLOW_HINTS)},
    "reference_called": "asks you to write this yourself",
    "argument_changed": "the caller's array is not yours to change",
    "float32": "no .astype(np.float32)",
    "not_finite": "an overflow, e.g. exp of a large number or log(0)",
    "transposed": "your result is the transpose of the expected one",
    "reshaped": "the number of entries is right; check the reshape",
    "dimension_missing": "a dimension is missing; was the sum/mean taken over the wrong axis",
    "sign_flipped": "Hint: the sign is flipped",
    "scaled": "times the expected one: ",
}


def _error_hint(error: Exception) -> str:
    message = str(error)
    for kind, phrases, hint in ERROR_HINTS:
        if isinstance(error, kind) and any(phrase in message for phrase in phrases):
            return hint
    if isinstance(error, ValueError) and "could not be broadcast together" in message:
        return KEEPDIMS_HINT if _dropped_last_axis(message) else BROADCAST_HINT
    return ""


def _dropped_last_axis(message: str) -> bool:
    """Whether numpy's broadcast error shows (..., C) meeting (...,): the shape keepdims fixes."""
    shapes = [tuple(int(n) for n in found.split(",") if n.strip())
              for found in re.findall(r"\(([\d,\s]*)\)", message.split("shapes", 1)[-1])]
    return any(len(a) >= 2 and b == a[:-1] for a in shapes for b in shapes)


# --- the checks -------------------------------------------------------------------------------

def assert_that(condition, message: str, *, exercise: str) -> None:
    """Fail with ``message`` unless ``condition`` is true."""
    if not condition:
        raise CheckFailed(f"{exercise}: {message}")


def assert_shape(got, expected_shape, *, name: str, exercise: str) -> None:
    """Fail unless ``got`` is an array (or number) of shape ``expected_shape``."""
    arr = _numeric(got, name, exercise)
    expected_shape = tuple(expected_shape)
    if arr.shape != expected_shape:
        raise CheckFailed(_shape_message(arr, expected_shape, name, exercise))


def assert_equal(got, expected, *, name: str, exercise: str, integer: bool = False, context: str = "") -> None:
    """Fail unless ``got`` equals ``expected`` exactly (labels, counts, booleans).

    With ``integer=True``, ``got`` must also have an integer dtype.
    """
    expected = np.asarray(expected)
    arr = _numeric(got, name, exercise)
    if arr.shape != expected.shape:
        raise CheckFailed(_shape_message(arr, expected.shape, name, exercise))
    if integer and arr.dtype.kind not in "iu":
        raise CheckFailed(
            f"{exercise}: {name} must hold integers, got dtype {arr.dtype}. "
            f"Convert with .astype(int) (or build it from integer values)."
        )
    wrong = np.flatnonzero(np.asarray(arr != expected).ravel())
    if wrong.size:
        first = np.unravel_index(wrong[0], expected.shape) if expected.shape else ()
        lines = [
            f"{exercise}: {name} is wrong{_context(context)}: {wrong.size} of {expected.size} "
            f"entries differ (first at index {tuple(int(i) for i in first)}).",
            f"    expected: {_preview(expected)}",
            f"    got:      {_preview(arr)}",
        ]
        raise CheckFailed("\n".join(lines))


def assert_unchanged(argument, before, *, name: str, exercise: str) -> None:
    """Fail if the array ``argument`` that was passed to the student's function no longer
    equals ``before``, a copy taken before the call: the function changed its input in place.

    >>> w0 = np.array([0.5, -1.0]); before = w0.copy()
    >>> w = w0; w += 1.0    # w is w0: this changes the caller's array
    >>> try:
    ...     assert_unchanged(w0, before, name="w0", exercise="Exercise 4")
    ... except CheckFailed as failure:
    ...     print(str(failure).splitlines()[0])
    Exercise 4: your function changed its argument w0 in place (2 of 2 entries differ).
    """
    argument, before = np.asarray(argument), np.asarray(before)
    if argument.shape == before.shape and np.array_equal(argument, before, equal_nan=True):
        return
    differ = before.size if argument.shape != before.shape else int(np.sum(~_same(argument, before)))
    raise CheckFailed(
        f"{exercise}: your function changed its argument {name} in place ({differ} of {before.size} entries differ).\n"
        f"    Hint: the caller's array is not yours to change. `{name} -= ...`, `{name} *= ...` and "
        f"`{name}[mask] = 0` write into it, and so does `new = {name}` followed by `new += ...` (new is the "
        f"same array). Work on a copy, `new = {name}.copy()`, or write `new = {name} - ...` (a new array)."
    )


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b


def assert_close(
    got,
    expected,
    *,
    name: str,
    exercise: str,
    rtol: float = RTOL,
    atol: float = ATOL,
    mistakes: dict | None = None,
    factors: dict | None = None,
    dtype=None,
    context: str = "",
) -> None:
    """Fail unless ``got`` is close to ``expected`` within the course tolerance.

    Parameters
    ----------
    got : array_like or number
        What the student's function returned.
    expected : array_like or number
        The reference value.
    name, exercise : str
        Used in the message, e.g. ``name="w"``, ``exercise="Exercise 4 (train_perceptron)"``.
    rtol, atol : float
        Tolerances; the course's RTOL and ATOL by default.
    mistakes : dict of str -> array_like, optional
        Known wrong answers, e.g. ``{"the bias b was left out": X @ w}``. If ``got`` matches
        one, the message names it.
    factors : dict of str -> float, optional
        Known wrong scalings, as got / expected, e.g. ``{"the 1/N is missing": N}``. When
        every entry is off by one of them the message names it (a flipped sign is always
        named); with fewer than two nonzero entries nothing is inferred.
    dtype : numpy dtype, optional
        The dtype ``got`` must have, e.g. ``np.float64`` where the exercise asks for it
        (float32 arithmetic loses the tails: sigmoid(-700) = 9.9e-305 is 0.0 in float32).
    context : str
        Which input was used, e.g. ``"on the AND truth table"``.

    Tails: the absolute tolerance hides tiny values (0.0 passes for 1e-300); compare them
    with ``atol=0`` so that only the relative error counts.
    """
    as_given = np.asarray(expected)  # shown as given: integers stay integers in the message
    expected = np.asarray(expected, dtype=float)
    arr = _numeric(got, name, exercise)
    known = _matching_mistake(arr, mistakes or {}, rtol, atol)
    if arr.shape != expected.shape:
        if known:
            raise CheckFailed(_shape_message(arr, expected.shape, name, exercise, hint=False)
                              + f"\n    Hint: this matches a common mistake: {known}.")
        raise CheckFailed(_shape_message(arr, expected.shape, name, exercise, expected=expected, rtol=rtol, atol=atol))
    if dtype is not None and arr.dtype != np.dtype(dtype):
        raise CheckFailed(f"{exercise}: {name} must have dtype {np.dtype(dtype)}, got {arr.dtype}{_context(context)}.\n"
                          f"    Hint: keep the computation in {np.dtype(dtype)}: no .astype(np.float32), and build "
                          f"new arrays from the inputs (np.zeros_like(z, dtype=float), not np.zeros(n, dtype=np.float32)).")
    bad_finite = ~np.isfinite(arr) & np.isfinite(expected)
    if bad_finite.any():
        index = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        raise CheckFailed(
            f"{exercise}: {name} contains {int(bad_finite.sum())} nan/inf value(s){_context(context)} "
            f"(first at index {index}) where the expected value is finite.\n"
            f"    expected: {_preview(as_given)}\n"
            f"    got:      {_preview(arr)}\n"
            f"    Hint: an overflow, e.g. exp of a large number or log(0); use a numerically stable form."
        )
    if np.allclose(arr, expected, rtol=rtol, atol=atol, equal_nan=True):
        return
    error = np.abs(arr.astype(float) - expected)
    error = np.where(np.isnan(error), np.inf, error)
    # The entry that breaks the tolerance the most: a large error on a large value may be allowed.
    allowed = atol + rtol * np.abs(expected)
    excess = np.divide(error, allowed, out=np.where(error > 0, np.inf, 0.0), where=allowed > 0)
    worst = np.unravel_index(np.argmax(excess), expected.shape) if expected.shape else ()
    scale = abs(float(expected[worst]))
    relative = f"relative {error[worst] / scale:.3g}" if scale else "where 0 is expected"
    lines = [
        f"{exercise}: {name} is not close enough to the expected value{_context(context)}.",
        f"    expected: shape {expected.shape}, dtype {as_given.dtype}, {_preview(as_given)}",
        f"    got:      shape {arr.shape}, dtype {arr.dtype}, {_preview(arr)}",
        f"    worst error {error[worst]:.3g} at index {tuple(int(i) for i in worst)} "
        f"({relative}); allowed: |got - expected| <= {atol:g} + {rtol:g} * |expected|",
    ]
    hint = known or _generic_hint(arr, expected, rtol, atol, factors or {})
    if hint:
        lines.append(f"    Hint: {'this matches a common mistake: ' if known else ''}{hint}.")
    raise CheckFailed("\n".join(lines))


# --- helpers ----------------------------------------------------------------------------------

def _numeric(got, name: str, exercise: str) -> np.ndarray:
    """``got`` as a numeric array, or a CheckFailed explaining why it is not one."""
    if got is None:  # "forgot to return" only where the value is what the function returned
        returned = " Did the function forget to `return` its result?" if "(" in name else ""
        raise CheckFailed(f"{exercise}: {name} is None.{returned}")
    if isinstance(got, (str, bytes, dict, set)):
        raise CheckFailed(f"{exercise}: {name} must be a number or an array, got {type(got).__name__} {got!r:.60}")
    try:
        arr = np.asarray(got)
    except ValueError as error:  # ragged lists
        raise CheckFailed(f"{exercise}: {name} could not be turned into an array ({error}).") from None
    if arr.dtype.kind not in "biuf":
        raise CheckFailed(
            f"{exercise}: {name} must hold real numbers, got dtype {arr.dtype} "
            f"({type(got).__name__})."
        )
    return arr


def _shape_message(arr: np.ndarray, expected_shape: tuple, name: str, exercise: str, *, hint: bool = True,
                   expected=None, rtol: float = RTOL, atol: float = ATOL) -> str:
    """The shapes, and a hint only where it holds: "transposed" only when the transpose
    of ``arr`` is the ``expected`` value (known only to value checks)."""
    message = f"{exercise}: {name} has the wrong shape: expected {expected_shape}, got {arr.shape}."
    if not hint:
        return message
    if arr.ndim == 2 and arr.shape[::-1] == expected_shape:
        if expected is not None and np.allclose(arr.T, expected, rtol=rtol, atol=atol, equal_nan=True):
            message += ("\n    Hint: your result is the transpose of the expected one; check the order of the "
                        "matrix product (X @ W, not W @ X), or look for a .T too many.")
    elif arr.size == int(np.prod(expected_shape)):
        message += "\n    Hint: the number of entries is right; check the reshape, or a (N, 1) column where (N,) is expected."
    elif len(expected_shape) == arr.ndim + 1 or arr.ndim == 0:
        message += "\n    Hint: a dimension is missing; was the sum/mean taken over the wrong axis (or over all axes)?"
    return message


def _matching_mistake(arr: np.ndarray, mistakes: dict, rtol: float, atol: float) -> str:
    """The first known mistake that ``arr`` matches, in the test's order: list the specific
    before the general, and leave out mistakes that this input cannot tell apart (at N = 1,
    a missing 1/N and a sum are the same number)."""
    for label, wrong in mistakes.items():
        wrong = np.asarray(wrong, dtype=float)
        if wrong.shape == arr.shape and np.allclose(arr, wrong, rtol=rtol, atol=atol):
            return label
    return ""


def _generic_hint(arr: np.ndarray, expected: np.ndarray, rtol: float, atol: float, factors: dict) -> str:
    """A hint from the numbers alone, only where it is sure: several nonzero entries all off
    by -1 or by one of the named ``factors`` (N, 1/N, the learning rate, ...)."""
    nonzero = np.abs(expected) > atol
    if nonzero.sum() < 2 or not np.all(np.isfinite(arr)) or not np.allclose(arr[~nonzero], 0, atol=atol):
        return ""
    ratios = arr[nonzero] / expected[nonzero]
    ratio = float(np.median(ratios))
    if not np.allclose(ratios, ratio, rtol=1e-6):
        return ""
    if np.isclose(ratio, -1.0, rtol=1e-6):
        return "the sign is flipped"
    for label, factor in factors.items():
        if factor not in (0, 1) and np.isclose(ratio, factor, rtol=1e-6):
            return f"every value is {ratio:.6g} times the expected one: {label}"
    return ""


def _context(context: str) -> str:
    return f" {context}" if context else ""


def _preview(arr: np.ndarray) -> str:
    if arr.ndim == 0:
        value = arr.item()
        return f"{value:.8g}" if isinstance(value, numbers.Real) else repr(value)
    return np.array2string(arr, precision=6, threshold=12, edgeitems=3, separator=", ").replace("\n", " ")
