"""Input checks shared by nblib's public functions.

Each helper either returns a clean ``np.ndarray`` or raises a ``TypeError`` / ``ValueError``
whose message names what was expected and what came in, e.g.
``X must have shape (N, D), got shape (64,)``. Keeping them here keeps the maths readable.
"""

from __future__ import annotations

import numbers

import numpy as np


def describe(value) -> str:
    """Short description of a value for error messages: type, and shape/dtype for arrays."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:80]


def as_float_array(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as a real floating-point array (a new array only when needed).

    Integer and boolean input becomes float64; float16/32/64 keep their precision.
    Strings, objects, complex numbers and ``None`` raise ``TypeError``.
    """
    if x is None:
        raise TypeError(f"{name} must be a number or an array of numbers, got None")
    arr = np.asarray(x)
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{name} must contain real numbers, got dtype {arr.dtype} "
            f"({describe(x)})"
        )
    return arr


def as_matrix(x, name: str = "X", *, n_cols: int | None = None) -> np.ndarray:
    """Return ``x`` as a 2-D float array of shape (N, D), checking D when given."""
    arr = as_float_array(x, name)
    if arr.ndim != 2:
        expected = f"(N, {n_cols})" if n_cols is not None else "(N, D)"
        hint = " (one row per example; use x.reshape(1, -1) for a single example)" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must have shape {expected}, got shape {arr.shape}{hint}")
    if n_cols is not None and arr.shape[1] != n_cols:
        raise ValueError(f"{name} must have shape (N, {n_cols}), got shape {arr.shape}")
    return arr


def as_batch(x, name: str = "x", *, min_ndim: int = 2) -> np.ndarray:
    """Return ``x`` as a batch-first float array, (N, ...) with at least ``min_ndim`` axes."""
    arr = as_float_array(x, name)
    if arr.ndim < min_ndim:
        hint = " (one row per example; use x.reshape(1, -1) for a single example)" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be batch first with at least {min_ndim} axes, (N, ..., D), "
                         f"got shape {arr.shape}{hint}")
    return arr


def as_vector(x, name: str, *, length: int | None = None) -> np.ndarray:
    """Return ``x`` as a 1-D float array, checking its length when given."""
    arr = as_float_array(x, name)
    if arr.ndim != 1:
        expected = f"({length},)" if length is not None else "(D,)"
        raise ValueError(f"{name} must have shape {expected}, got shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have shape ({length},), got shape {arr.shape}")
    return arr


def as_scalar(x, name: str) -> float:
    """Return ``x`` as a Python float; accepts numbers and size-1 arrays."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, np.ndarray)):
        raise TypeError(f"{name} must be a real number, got {describe(x)}")
    arr = np.asarray(x)
    if arr.size != 1 or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number, got {describe(x)}")
    return float(arr.reshape(()))


def as_labels(y, name: str = "y", *, n_classes: int | None = None, length: int | None = None) -> np.ndarray:
    """Return integer class labels of shape (N,), checking range [0, n_classes) and N.

    Float labels are refused even when they hold whole numbers: indexing with them fails
    later in a confusing way, so we say so here.
    """
    arr = np.asarray(y)
    if arr.dtype.kind == "f":
        raise TypeError(
            f"{name} must hold integer class labels, got dtype {arr.dtype}; "
            f"convert with {name}.astype(int)"
        )
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class labels, got {describe(y)}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must have shape (N,), got shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have shape ({length},) to match the inputs, got shape {arr.shape}")
    if n_classes is not None and arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(
            f"{name} must hold labels in [0, {n_classes - 1}], "
            f"got values from {arr.min()} to {arr.max()}"
        )
    return arr.astype(np.int64, copy=False)


def as_layer(X, W, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A dense layer's inputs checked together: X (N, D), W (D, M), b (M,)."""
    X = as_matrix(X, "X")
    W = as_matrix(W, "W")
    if W.shape[0] != X.shape[1]:
        transposed = " (transposed?)" if W.shape[1] == X.shape[1] else ""
        raise ValueError(f"W must have shape (D, M) = ({X.shape[1]}, M) to match X of shape {X.shape}, "
                         f"got {W.shape}{transposed}")
    return X, W, as_vector(b, "b", length=W.shape[1])


def check_same_shape(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, "
            f"got {a.shape} and {b.shape}"
        )


def check_positive(value, name: str) -> float:
    """Return ``value`` as a float, raising unless it is a finite number > 0."""
    v = as_scalar(value, name)
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return v


def check_int(value, name: str, *, minimum: int = 0) -> int:
    """Return ``value`` as an int, raising unless it is an integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral,)):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_choice(value, name: str, choices) -> str:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value
