"""Weight initialisation: where gradient descent starts, and why the scale matters.

All-zero (or all-equal) weights give every unit of a layer the same output and the same
gradient, so they stay equal for ever: the symmetry must be broken with random weights. Their
scale matters too: each layer multiplies the variance of its signal by about
``fan_in * Var(W)`` (times a factor of the activation), so through many layers the signal,
and the gradient, vanishes or explodes unless ``Var(W)`` is about ``1 / fan_in``.

=================  ================  ===================================  =======================
initializer        variance          for                                  reference
=================  ================  ===================================  =======================
``lecun_*``        1 / fan_in        tanh, SELU                           LeCun et al. (1998)
``glorot_*``       2 / (in + out)    tanh, sigmoid (forward and backward)  Glorot & Bengio (2010)
``he_*``           2 / fan_in        ReLU (which zeroes half the signal)  He et al. (2015)
=================  ================  ===================================  =======================

Each comes in two distributions with that variance, as in ``keras.initializers``:

- ``*_uniform``: U(-limit, limit) with limit = sqrt(3 * variance) (a uniform on [-a, a] has
  variance a^2 / 3);
- ``*_normal``: a **truncated** normal, as Keras draws it: values beyond two standard
  deviations are redrawn, which shrinks the standard deviation by the factor
  0.87962566103423978, so Keras divides the standard deviation by that factor first. The
  result has exactly the stated variance and no value beyond
  ``2 * sqrt(variance) / 0.87962566103423978``.

:func:`fans` counts fan-in and fan-out with Keras's rule (``compute_fans``): for a dense
kernel (D, M) they are D and M; for a convolution kernel (KH, KW, C, M) each output sees a
KH x KW window of C channels, so fan_in = KH * KW * C and fan_out = KH * KW * M (the
receptive field times the channels). Like Keras, a fan below 1 counts as 1.

Every function takes the shape first and the ``rng`` (a ``np.random.Generator``) as a
keyword; the global NumPy seed is never used. :data:`INITIALIZERS` finds them by name.

>>> import numpy as np
>>> fans((3, 3, 16, 32))            # a 3x3 convolution, 16 channels in, 32 out
(144, 288)
>>> W = he_normal((256, 128), rng=np.random.default_rng(0))
>>> W.shape, round(float(W.std() / np.sqrt(2 / 256)), 1)
((256, 128), 1.0)
"""

from __future__ import annotations

import math

import numpy as np

from nblib._reference import reference
from nblib._registry import Registry
from nblib._validation import as_scalar, check_choice

__all__ = [
    "fans", "zeros", "random_normal", "random_uniform", "truncated_normal", "variance_scaling",
    "lecun_normal", "lecun_uniform", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
    "orthogonal", "INITIALIZERS", "get", "TRUNCATED_STD",
]

# The standard deviation of N(0, 1) cut at +-2 (values beyond redrawn): Keras divides by it.
TRUNCATED_STD = 0.87962566103423978


# --- checks ------------------------------------------------------------------------------------

def _shape(shape) -> tuple[int, ...]:
    """``shape`` as a tuple of positive ints (an int n is the shape (n,))."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be a tuple of positive integers, got {shape!r}") from None
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_)) and d >= 1 for d in dims):
        raise ValueError(f"shape must be a tuple of positive integers, got {shape!r}")
    return tuple(int(d) for d in dims)


def _generator(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def _non_negative(value, name: str) -> float:
    v = as_scalar(value, name)
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


# --- fans ----------------------------------------------------------------------------------------

@reference
def fans(shape) -> tuple[int, int]:
    """Fan-in and fan-out of a kernel, by Keras's rule.

    Parameters
    ----------
    shape : tuple of int
        A dense kernel (D, M), or a convolution kernel (KH, KW, C, M) (any number of
        leading window axes: (K, C, M) in 1-D).

    Returns
    -------
    fan_in, fan_out : int
        (D, M) for a dense kernel; (KH * KW * C, KH * KW * M) for a convolution kernel.

    Examples
    --------
    >>> fans((64, 10))
    (64, 10)
    >>> fans((5, 5, 3, 8))
    (75, 200)
    """
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(f"fans needs a kernel shape (D, M) or (KH, KW, C, M), got {shape}")
    receptive_field = math.prod(shape[:-2])  # KH * KW, or 1 for a dense kernel
    return shape[-2] * receptive_field, shape[-1] * receptive_field


# --- the distributions ----------------------------------------------------------------------------

def zeros(shape, *, rng: np.random.Generator | None = None) -> np.ndarray:
    """All zeros (biases; ``rng`` is accepted for a uniform signature and not used).

    >>> zeros((2, 3))
    array([[0., 0., 0.],
           [0., 0., 0.]])
    """
    return np.zeros(_shape(shape))


def random_normal(shape, *, rng: np.random.Generator, mean: float = 0.0, stddev: float = 0.05) -> np.ndarray:
    """N(mean, stddev^2), untruncated: ``keras.initializers.RandomNormal`` (same defaults).

    >>> random_normal((1000, 100), rng=np.random.default_rng(0)).std().round(2)
    np.float64(0.05)
    """
    shape, stddev = _shape(shape), _non_negative(stddev, "stddev")
    return _generator(rng).normal(as_scalar(mean, "mean"), stddev, size=shape)


@reference
def random_uniform(shape, *, rng: np.random.Generator, minval: float = -0.05, maxval: float = 0.05) -> np.ndarray:
    """U(minval, maxval): ``keras.initializers.RandomUniform`` (same defaults).

    >>> W = random_uniform((100, 100), rng=np.random.default_rng(0))
    >>> bool(W.min() >= -0.05 and W.max() < 0.05)
    True
    """
    shape = _shape(shape)
    low, high = as_scalar(minval, "minval"), as_scalar(maxval, "maxval")
    if not low <= high:
        raise ValueError(f"minval must be <= maxval, got minval={minval!r} and maxval={maxval!r}")
    return _generator(rng).uniform(low, high, size=shape)


@reference
def truncated_normal(shape, *, rng: np.random.Generator, mean: float = 0.0, stddev: float = 0.05) -> np.ndarray:
    """N(mean, stddev^2) with every value beyond 2 stddev redrawn: ``keras.initializers.TruncatedNormal``.

    ``stddev`` is that of the normal before the cut; the values' standard deviation is
    ``stddev * TRUNCATED_STD`` (0.8796...), and none is farther than ``2 * stddev`` from the mean.

    >>> W = truncated_normal((200, 200), rng=np.random.default_rng(0), stddev=1.0)
    >>> bool(np.abs(W).max() <= 2.0), round(float(W.std()), 2)
    (True, 0.88)
    """
    shape, stddev = _shape(shape), _non_negative(stddev, "stddev")
    mean, rng = as_scalar(mean, "mean"), _generator(rng)
    z = rng.standard_normal(size=shape)
    outside = np.abs(z) > 2.0
    while outside.any():  # redraw the values beyond the cut (about 4.6% of them each round)
        z[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(z) > 2.0
    return mean + stddev * z


@reference
def variance_scaling(shape, *, rng: np.random.Generator, scale: float = 1.0, mode: str = "fan_in",
                     distribution: str = "truncated_normal") -> np.ndarray:
    """Random weights of variance ``scale / n``: ``keras.initializers.VarianceScaling``.

    Parameters
    ----------
    shape : tuple of int
        (D, M) or (KH, KW, C, M); see :func:`fans`.
    rng : np.random.Generator
    scale : float
        1 for LeCun and Glorot, 2 for He.
    mode : {"fan_in", "fan_out", "fan_avg"}
        n = fan_in, fan_out or (fan_in + fan_out) / 2 (at least 1).
    distribution : {"truncated_normal", "untruncated_normal", "uniform"}
        "truncated_normal": :func:`truncated_normal` with stddev sqrt(scale / n) / 0.8796...;
        "untruncated_normal": N(0, scale / n); "uniform": U(-sqrt(3 scale / n), sqrt(3 scale / n)).

    Returns
    -------
    W : ndarray, shape ``shape``
        Variance scale / n, mean 0.
    """
    shape = _shape(shape)
    check_choice(mode, "mode", {"fan_in", "fan_out", "fan_avg"})
    check_choice(distribution, "distribution", {"truncated_normal", "untruncated_normal", "uniform"})
    fan_in, fan_out = fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    variance = _non_negative(scale, "scale") / max(1.0, n)
    if distribution == "truncated_normal":
        return truncated_normal(shape, rng=rng, stddev=math.sqrt(variance) / TRUNCATED_STD)
    if distribution == "untruncated_normal":
        return random_normal(shape, rng=rng, stddev=math.sqrt(variance))
    limit = math.sqrt(3.0 * variance)
    return random_uniform(shape, rng=rng, minval=-limit, maxval=limit)


# --- the named schemes ------------------------------------------------------------------------------

def lecun_normal(shape, *, rng: np.random.Generator) -> np.ndarray:
    """Var(W) = 1 / fan_in, truncated normal (LeCun et al., 1998): ``keras.initializers.LecunNormal``."""
    return variance_scaling(shape, rng=rng, scale=1.0, mode="fan_in", distribution="truncated_normal")


def lecun_uniform(shape, *, rng: np.random.Generator) -> np.ndarray:
    """Var(W) = 1 / fan_in, U(-sqrt(3 / fan_in), sqrt(3 / fan_in)): ``keras.initializers.LecunUniform``."""
    return variance_scaling(shape, rng=rng, scale=1.0, mode="fan_in", distribution="uniform")


def glorot_normal(shape, *, rng: np.random.Generator) -> np.ndarray:
    """Var(W) = 2 / (fan_in + fan_out), truncated normal (Glorot & Bengio, 2010), a.k.a. Xavier.

    ``keras.initializers.GlorotNormal``.
    """
    return variance_scaling(shape, rng=rng, scale=1.0, mode="fan_avg", distribution="truncated_normal")


@reference
def glorot_uniform(shape, *, rng: np.random.Generator) -> np.ndarray:
    """Var(W) = 2 / (fan_in + fan_out): U(-r, r), r = sqrt(6 / (fan_in + fan_out)), Keras's default kernel.

    ``keras.initializers.GlorotUniform`` (Glorot & Bengio, 2010), a.k.a. Xavier uniform.

    >>> W = glorot_uniform((30, 20), rng=np.random.default_rng(0))
    >>> bool(np.abs(W).max() <= np.sqrt(6 / 50))
    True
    """
    return variance_scaling(shape, rng=rng, scale=1.0, mode="fan_avg", distribution="uniform")


@reference
def he_normal(shape, *, rng: np.random.Generator) -> np.ndarray:
    """Var(W) = 2 / fan_in, truncated normal (He et al., 2015): ``keras.initializers.HeNormal``."""
    return variance_scaling(shape, rng=rng, scale=2.0, mode="fan_in", distribution="truncated_normal")


def he_uniform(shape, *, rng: np.random.Generator) -> np.ndarray:
    """Var(W) = 2 / fan_in, U(-sqrt(6 / fan_in), sqrt(6 / fan_in)): ``keras.initializers.HeUniform``."""
    return variance_scaling(shape, rng=rng, scale=2.0, mode="fan_in", distribution="uniform")


def orthogonal(shape, *, rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """A random (rows, cols) matrix with orthonormal rows or columns: ``keras.initializers.Orthogonal``,
    the default recurrent kernel of Keras's RNN, LSTM and GRU layers.

    Notes
    -----
    The Q of the QR decomposition of a standard normal (max, min) matrix, its columns' signs
    fixed by the signs of R's diagonal so that Q is uniform over the orthogonal matrices
    (Saxe et al., 2014); transposed when there are more columns than rows. Multiplying by an
    orthogonal matrix keeps a vector's length, so repeated steps neither shrink nor blow up
    a recurrent state at the start of training.

    >>> Q = orthogonal((3, 12), rng=np.random.default_rng(0))     # an LSTM's (H, 4H) with H = 3
    >>> np.allclose(Q @ Q.T, np.eye(3))
    True
    """
    shape = _shape(shape)
    if len(shape) != 2:
        raise ValueError(f"an orthogonal matrix needs a shape (rows, cols), got {shape}")
    n_rows, n_cols = shape
    a = rng.normal(size=(max(n_rows, n_cols), min(n_rows, n_cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))                          # (max, min) * (min,)
    return gain * (q.T if n_rows < n_cols else q)


INITIALIZERS = Registry("initializer", {
    "zeros": zeros,
    "random_normal": random_normal,
    "random_uniform": random_uniform,
    "truncated_normal": truncated_normal,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
    "glorot_normal": glorot_normal,
    "glorot_uniform": glorot_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "orthogonal": orthogonal,
}, aliases={"xavier_normal": "glorot_normal", "xavier_uniform": "glorot_uniform", "kaiming_normal": "he_normal",
            "kaiming_uniform": "he_uniform", "zero": "zeros", "normal": "random_normal", "uniform": "random_uniform"})


def get(name: str):
    """An initializer by name: ``get("he_normal")(shape, rng=rng)``; names as in Keras.

    >>> get("xavier_uniform") is glorot_uniform
    True
    """
    return INITIALIZERS[name]
