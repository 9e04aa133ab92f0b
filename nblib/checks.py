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

import numpy as np

from nblib._reference import ReferenceDisabled, disabled

__all__ = [
    "RTOL", "ATOL", "CheckFailed", "ReferenceDisabled",
    "assert_close", "assert_equal", "assert_shape", "assert_that", "own_work", "no_overflow",
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
     "Check whether the weights are transposed (W.T) or the operands swapped (W @ X instead of X @ W)"),
    (ValueError, ("could not be broadcast together",),
     "these shapes do not broadcast: a sum or max over one axis drops that axis, so (N, C) / (N,) "
     "fails; keep it with keepdims=True, and check that the sum runs over the classes (axis=1)"),
)

# What numpy reports under ``no_overflow``, and the stable form that avoids it.
OVERFLOW_HINTS = (
    ("log", "log(0) is -inf (and 0 * log(0) is nan): clip the probabilities into [eps, 1 - eps] "
            "with eps = 1e-7 before taking the log, or work from logits"),
    ("", "exp of a large number overflows (exp(710) is already inf in float64). "
         "Rewrite the formula so that exp only ever sees numbers <= 0"),
)


def _error_hint(error: Exception) -> str:
    message = str(error)
    for kind, phrases, hint in ERROR_HINTS:
        if isinstance(error, kind) and any(phrase in message for phrase in phrases):
            return hint
    return ""


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


def assert_close(
    got,
    expected,
    *,
    name: str,
    exercise: str,
    rtol: float = RTOL,
    atol: float = ATOL,
    mistakes: dict | None = None,
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
    context : str
        Which input was used, e.g. ``"on the AND truth table"``.
    """
    expected_dtype = np.asarray(expected).dtype
    expected = np.asarray(expected, dtype=float)
    arr = _numeric(got, name, exercise)
    known = _matching_mistake(arr, mistakes or {}, rtol, atol)
    if arr.shape != expected.shape:
        if known:
            raise CheckFailed(_shape_message(arr, expected.shape, name, exercise, hint=False)
                              + f"\n    Hint: this matches a common mistake: {known}.")
        raise CheckFailed(_shape_message(arr, expected.shape, name, exercise))
    bad_finite = ~np.isfinite(arr) & np.isfinite(expected)
    if bad_finite.any():
        index = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        raise CheckFailed(
            f"{exercise}: {name} contains {int(bad_finite.sum())} nan/inf value(s){_context(context)} "
            f"(first at index {index}) where the expected value is finite.\n"
            f"    expected: {_preview(expected)}\n"
            f"    got:      {_preview(arr)}\n"
            f"    Hint: an overflow, e.g. exp of a large number or log(0); use a numerically stable form."
        )
    if np.allclose(arr, expected, rtol=rtol, atol=atol, equal_nan=True):
        return
    error = np.abs(arr.astype(float) - expected)
    error = np.where(np.isnan(error), np.inf, error)
    worst = np.unravel_index(np.argmax(error), expected.shape) if expected.shape else ()
    scale = abs(float(expected[worst]))
    relative = f"relative {error[worst] / scale:.3g}" if scale else "where 0 is expected"
    lines = [
        f"{exercise}: {name} is not close enough to the expected value{_context(context)}.",
        f"    expected: shape {expected.shape}, dtype {expected_dtype}, {_preview(expected)}",
        f"    got:      shape {arr.shape}, dtype {arr.dtype}, {_preview(arr)}",
        f"    largest error {error[worst]:.3g} at index {tuple(int(i) for i in worst)} "
        f"({relative}); allowed: |got - expected| <= {atol:g} + {rtol:g} * |expected|",
    ]
    hint = known or _generic_hint(arr, expected, rtol, atol)
    if hint:
        lines.append(f"    Hint: {'this matches a common mistake: ' if known else ''}{hint}.")
    raise CheckFailed("\n".join(lines))


# --- helpers ----------------------------------------------------------------------------------

def _numeric(got, name: str, exercise: str) -> np.ndarray:
    """``got`` as a numeric array, or a CheckFailed explaining why it is not one."""
    if got is None:
        raise CheckFailed(f"{exercise}: {name} is None. Did the function forget to `return` its result?")
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


def _shape_message(arr: np.ndarray, expected_shape: tuple, name: str, exercise: str, *, hint: bool = True) -> str:
    message = f"{exercise}: {name} has the wrong shape: expected {expected_shape}, got {arr.shape}."
    if not hint:
        return message
    if arr.ndim == 2 and arr.shape[::-1] == expected_shape:
        message += "\n    Hint: the shape is transposed; check the order of the matrix product (X @ W, not W @ X)."
    elif arr.size == int(np.prod(expected_shape)):
        message += "\n    Hint: the number of entries is right; check the reshape, or a (N, 1) column where (N,) is expected."
    elif len(expected_shape) == arr.ndim + 1 or arr.ndim == 0:
        message += "\n    Hint: a dimension is missing; was the sum/mean taken over the wrong axis (or over all axes)?"
    return message


def _matching_mistake(arr: np.ndarray, mistakes: dict, rtol: float, atol: float) -> str:
    for label, wrong in mistakes.items():
        wrong = np.asarray(wrong, dtype=float)
        if wrong.shape == arr.shape and np.allclose(arr, wrong, rtol=rtol, atol=atol):
            return label
    return ""


def _generic_hint(arr: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str:
    if np.any(expected != 0) and np.allclose(arr, -expected, rtol=rtol, atol=atol):
        return "the sign is flipped"
    nonzero = np.abs(expected) > atol
    if nonzero.any() and np.all(np.isfinite(arr)):
        ratios = arr[nonzero] / expected[nonzero]
        if np.allclose(ratios, ratios.flat[0], rtol=1e-6) and np.allclose(arr[~nonzero], 0, atol=atol):
            return f"every value is off by the same factor, {ratios.flat[0]:.6g} (a missing or extra 1/N or learning rate?)"
    return ""


def _context(context: str) -> str:
    return f" {context}" if context else ""


def _preview(arr: np.ndarray) -> str:
    if arr.ndim == 0:
        value = arr.item()
        return f"{value:.8g}" if isinstance(value, numbers.Real) else repr(value)
    return np.array2string(arr, precision=6, threshold=12, edgeitems=3, separator=", ").replace("\n", " ")
