"""Numerical gradients by centred differences, and the relative error used to compare them.

A backward pass is only trusted once it agrees with the slow, obviously-correct numerical
gradient. The centred difference

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)

has error O(h^2) (the O(h) terms of the two Taylor expansions cancel), against O(h) for the
one-sided (f(x + h) - f(x)) / h. Round-off grows like eps_machine / h, so h = 1e-5 in float64
balances the two; in float32 round-off alone is ~1e-3 and the check is meaningless, which is
why these functions insist on float64.

Example
-------
>>> import numpy as np
>>> from nblib.gradcheck import numerical_gradient, relative_error
>>> x = np.array([1.0, -2.0, 3.0])
>>> g = numerical_gradient(lambda v: np.sum(v ** 2), x)  # d/dx sum x^2 = 2x
>>> relative_error(g, 2 * x) < 1e-9
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from nblib._reference import reference
from nblib._validation import as_float_array, check_positive

__all__ = ["numerical_gradient", "numerical_derivative", "relative_error", "check_gradient", "GradientCheck",
           "variance", "largest", "log_sum_exp", "length"]


def _float64(x, name: str) -> np.ndarray:
    arr = as_float_array(x, name)
    if arr.dtype != np.float64:
        raise TypeError(
            f"{name} must be float64 for a gradient check, got {arr.dtype}: float32 round-off "
            f"(~1e-7 relative) swamps the differences being measured; use {name}.astype(np.float64)"
        )
    return arr


@reference
def numerical_gradient(f, x, *, h: float = 1e-5) -> np.ndarray:
    """Gradient of a scalar function by centred differences, one coordinate at a time.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, a scalar-valued function of an array.
    x : ndarray of float64, any shape
        The point. It is not modified (``f`` sees perturbed copies).
    h : float
        Step size.

    Returns
    -------
    grad : ndarray, same shape as x
        grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h).
    """
    x = _float64(x, "x")
    h = check_positive(h, "h")
    grad = np.zeros_like(x)
    probe = x.copy()  # perturb a copy, never the caller's array
    for i in np.ndindex(x.shape):
        original = probe[i]
        probe[i] = original + h
        f_plus = _scalar(f(probe))
        probe[i] = original - h
        f_minus = _scalar(f(probe))
        probe[i] = original
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_derivative(f, x, *, h: float = 1e-5) -> np.ndarray:
    """Elementwise derivative of an elementwise function: (f(x + h) - f(x - h)) / (2h).

    For activations, where output i depends only on input i, this gives every f'(x_i) in
    two calls instead of 2 x.size.
    """
    x = _float64(x, "x")
    h = check_positive(h, "h")
    return (np.asarray(f(x + h)) - np.asarray(f(x - h))) / (2 * h)


@reference
def relative_error(a, b, *, floor: float = 1e-8) -> float:
    """max_i |a_i - b_i| / max(|a_i| + |b_i|, floor).

    Scale-free: 1e-7 or less means agreement in float64; around 1e-2 or more means a bug.
    ``floor`` stops two near-zero entries from reporting a large relative error.
    """
    a = as_float_array(a, "a")
    b = as_float_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    return float(_relative_errors(a, b, floor).max(initial=0.0))


def _relative_errors(a: np.ndarray, b: np.ndarray, floor: float = 1e-8) -> np.ndarray:
    """Entrywise |a - b| / max(|a| + |b|, floor)."""
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)


@dataclass(frozen=True)
class GradientCheck:
    """Result of :func:`check_gradient`: ``ok`` and the numbers behind it."""

    relative_error: float
    tolerance: float
    worst_index: tuple
    analytic: float
    numerical: float

    @property
    def ok(self) -> bool:
        return self.relative_error <= self.tolerance

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        return (
            f"gradient check {verdict}: relative error {self.relative_error:.2e} "
            f"(tolerance {self.tolerance:.0e}); worst at index {self.worst_index}: "
            f"analytic {self.analytic:.6g}, numerical {self.numerical:.6g}"
        )


@reference
def check_gradient(f, x, analytic_grad, *, h: float = 1e-5, tol: float = 1e-6) -> GradientCheck:
    """Compare an analytic gradient with the numerical one at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    x : ndarray of float64
    analytic_grad : ndarray, same shape as x
        The gradient your backward pass computed.
    tol : float
        Largest acceptable relative error.

    Returns
    -------
    GradientCheck
        ``.ok``, ``.relative_error`` and the worst entry; ``print`` it for a summary.
    """
    x = _float64(x, "x")
    analytic = as_float_array(analytic_grad, "analytic_grad")
    if analytic.shape != x.shape:
        raise ValueError(
            f"analytic_grad must have the shape of x, {x.shape}, got {analytic.shape}"
        )
    if x.size == 0:
        raise ValueError("x is empty: there is no gradient to check")
    numerical = numerical_gradient(f, x, h=h)
    per_entry = _relative_errors(analytic, numerical)
    worst = np.unravel_index(np.argmax(per_entry), x.shape)
    return GradientCheck(
        relative_error=float(per_entry[worst]),
        tolerance=tol,
        worst_index=tuple(int(i) for i in worst),
        analytic=float(analytic[worst]),
        numerical=float(numerical[worst]),
    )


def _scalar(value) -> float:
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"f must return a scalar, got an array of shape {arr.shape}")
    return float(arr.reshape(()))


# --- functions whose gradients we know -------------------------------------------------------------
# Scalar functions of a whole array, to test a gradient check on (week 4, exercise 5). They are
# plain functions, not references: a test hands them to the student's gradient_check.

def variance(x) -> float:
    """np.var(x), the variance of all the entries. Gradient: 2 (x - mean(x)) / x.size."""
    return float(np.var(x))


def largest(x) -> float:
    """np.max(x). Gradient: 1 at the (single) largest entry, 0 everywhere else."""
    return float(np.max(x))


def log_sum_exp(x) -> float:
    """log(sum(exp(x))) over all the entries. Gradient: exp(x) / sum(exp(x)), the softmax of all the entries."""
    return float(logsumexp(x))


def length(x) -> float:
    """The Euclidean length sqrt(sum(x**2)) of all the entries. Gradient: x / length(x)."""
    return float(np.linalg.norm(x))
