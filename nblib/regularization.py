"""Regularization: ways to make a network generalise rather than memorise its training set.

- **L2 penalty** (weight decay): add ``factor * sum(W**2)`` over the kernels to the loss, so
  large weights cost something; its gradient ``2 * factor * W`` pulls every weight towards 0.
  As ``keras.regularizers.L2(factor)`` given as each layer's ``kernel_regularizer``: the
  kernels only (the parameters named "W": ``"W"`` in a layer's ``params``, ``"<i>.W"`` in
  ``Sequential.parameters()``), never the biases "b" nor a normalisation's gamma and beta.
  Mind the factor: Keras's ``l2`` multiplies sum(W**2) directly (no 1/2, no 1/N), so its
  gradient is 2 * l2 * W; scikit-learn's ``alpha`` is different (alpha / (2 N) sum W^2).
- **Inverted dropout** (Srivastava et al., 2014): in training each value is zeroed with
  probability ``rate`` and the survivors are scaled by 1 / (1 - rate), so the expected value
  is unchanged and inference is the identity (no rescaling there). The backward pass lets the
  gradient through the same mask, with the same scale.
- **Early stopping**: :class:`nblib.training.EarlyStopping` (patience, min_delta,
  restore_best_weights, as ``keras.callbacks.EarlyStopping``), re-exported here by name; there
  is one implementation.
- **Gradient clipping** (for exploding gradients), as Keras optimizers' options (``clipvalue``,
  ``clipnorm``, ``global_clipnorm``, in ``keras/src/optimizers/base_optimizer.py``):
  :func:`clip_by_value` clips each entry to [-c, c]; :func:`clip_by_norm` rescales each
  gradient array on its own to norm at most c, g * c / max(||g||, c); :func:`clip_by_global_norm`
  rescales all of them by one factor, c / max(||(g_1, g_2, ...)||, c), so their directions are
  kept. The optimizers of :mod:`nblib.optim` take the same three options.
- **Data augmentation**: :func:`shift_digits` moves each 8x8 digit image by at most a pixel
  or two, filling with zeros: new training examples the label does not change for.

>>> import numpy as np
>>> l2_penalty({"0.W": np.array([[1.0, 2.0]]), "0.b": np.array([5.0])}, factor=0.01)   # 0.01 * (1 + 4)
0.05
>>> out, cache = dropout_forward(np.ones((2, 4)), rate=0.5, rng=np.random.default_rng(0), training=True)
>>> sorted(set(out.ravel().tolist()))        # dropped, or kept and scaled by 1 / (1 - 0.5)
[0.0, 2.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nblib._reference import reference
from nblib._validation import as_batch, as_float_array, as_scalar, check_int

__all__ = [
    "KERNEL_NAMES", "is_kernel", "l2_penalty", "l2_gradient",
    "DropoutCache", "dropout_forward", "dropout_backward",
    "clip_by_value", "clip_by_norm", "global_norm", "clip_by_global_norm",
    "shift_digits", "EarlyStopping",
]

# Parameter names the L2 penalty applies to: the kernels (Keras's kernel_regularizer).
KERNEL_NAMES = ("W",)


def __getattr__(name):
    # EarlyStopping lives in nblib.training (which imports this module): looked up on first use.
    if name == "EarlyStopping":
        from nblib.training import EarlyStopping

        return EarlyStopping
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- checks ------------------------------------------------------------------------------------

def _factor(value, name: str = "factor") -> float:
    v = as_scalar(value, name)
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def _positive(value, name: str) -> float:
    v = as_scalar(value, name)
    if not v > 0 or not np.isfinite(v):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return v


def _params(params) -> dict:
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays ({{'0.W': W, '0.b': b, ...}}), "
                        f"got {type(params).__name__}")
    return params


def _generator(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def _rate(rate) -> float:
    r = as_scalar(rate, "rate")
    if not 0.0 <= r < 1.0:
        raise ValueError(f"rate must be in [0, 1) (the probability of dropping a value), got {rate!r}")
    return r


# --- L2 penalty ------------------------------------------------------------------------------------

def is_kernel(key: str) -> bool:
    """Whether the parameter ``key`` ("W", "0.W", "0.b", ...) is a kernel the L2 penalty applies to.

    >>> is_kernel("2.W"), is_kernel("2.b"), is_kernel("gamma")
    (True, False, False)
    """
    return key.rsplit(".", 1)[-1] in KERNEL_NAMES


@reference
def l2_penalty(params: dict, *, factor: float) -> float:
    """The L2 penalty ``factor * sum of W**2`` over the kernels of ``params``.

    Parameters
    ----------
    params : dict of str -> ndarray
        A layer's ``params`` or ``Sequential.parameters()``: the arrays named "W" (or "<i>.W")
        count, the biases "b" and anything else do not (see :data:`KERNEL_NAMES`).
    factor : float
        Keras's ``l2`` (``keras.regularizers.L2(l2)``, default 0.01 there), >= 0.

    Returns
    -------
    penalty : float
        factor * sum_kernels sum_ij W_ij^2, to add to the data loss.
    """
    factor = _factor(factor)
    return factor * sum(float(np.sum(np.square(as_float_array(w, k)))) for k, w in _params(params).items()
                        if is_kernel(k))


@reference
def l2_gradient(params: dict, *, factor: float) -> dict:
    """The gradient of :func:`l2_penalty`: ``2 * factor * W`` for each kernel, nothing for the rest.

    Returns
    -------
    grads : dict of str -> ndarray
        One new array per kernel key, the shape of its W; add it to that key's data gradient.

    >>> l2_gradient({"W": np.array([1.0, -2.0]), "b": np.array([3.0])}, factor=0.25)
    {'W': array([ 0.5, -1. ])}
    """
    factor = _factor(factor)
    return {k: 2.0 * factor * as_float_array(w, k) for k, w in _params(params).items() if is_kernel(k)}


# --- inverted dropout ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DropoutCache:
    """The scaled mask, (N, ...): 0 where dropped, 1 / (1 - rate) where kept; None at inference."""

    mask: np.ndarray | None


@reference
def dropout_forward(x, *, rate: float, rng: np.random.Generator, training: bool):
    """Inverted dropout: zero each value with probability ``rate``, scale the rest by 1 / (1 - rate).

    Parameters
    ----------
    x : array_like, shape (N, ...)
    rate : float in [0, 1)
        The probability of dropping a value (Keras's ``rate``; 1 - rate is the keep probability).
        Keras also takes 1 and returns zeros; here 1 is refused (the scale 1 / (1 - rate) has no value).
    rng : np.random.Generator
        Draws the mask (uniforms u, dropped where u < rate).
    training : bool
        Inference (False) is the identity: no mask, no scaling.

    Returns
    -------
    out : ndarray, shape (N, ...)
        x * mask, mask = (u >= rate) / (1 - rate), in training; a copy of x at inference.
    cache : DropoutCache
    """
    x, rate = as_batch(x, "x", min_ndim=1), _rate(rate)
    if not training:
        return x.copy(), DropoutCache(None)
    mask = (_generator(rng).random(size=x.shape) >= rate) / (1.0 - rate)  # (N, ...): 0 or 1 / (1 - rate)
    return x * mask, DropoutCache(mask)


@reference
def dropout_backward(dout, cache: DropoutCache):
    """dx = dout * mask: the gradient passes where the value was kept, with the same scale.

    Parameters
    ----------
    dout : array_like, shape (N, ...)
    cache : DropoutCache

    Returns
    -------
    dx : ndarray, shape (N, ...)
        dout * mask in training, dout (a copy) at inference.
    """
    dout = as_float_array(dout, "dout")
    if cache.mask is None:
        return dout.copy()
    if dout.shape != cache.mask.shape:
        raise ValueError(f"dout must have the shape of the layer's output, {cache.mask.shape}, got {dout.shape}")
    return dout * cache.mask


# --- gradient clipping --------------------------------------------------------------------------------

def clip_by_value(g, *, clipvalue: float) -> np.ndarray:
    """Each entry clipped to [-clipvalue, clipvalue]: Keras's ``clipvalue``.

    >>> clip_by_value(np.array([-3.0, 0.5, 2.0]), clipvalue=1.0)
    array([-1. ,  0.5,  1. ])
    """
    c = _positive(clipvalue, "clipvalue")
    return np.clip(as_float_array(g, "g"), -c, c)


def clip_by_norm(g, *, clipnorm: float) -> np.ndarray:
    """g rescaled to norm at most ``clipnorm``: g * c / max(||g||, c), Keras's ``clipnorm`` (per array).

    ||g|| is the Euclidean norm of the whole array (all entries). A gradient already within
    the bound is returned unchanged (as a new array); the direction is always kept.

    >>> clip_by_norm(np.array([3.0, 4.0]), clipnorm=1.0)     # ||g|| = 5
    array([0.6, 0.8])
    """
    c = _positive(clipnorm, "clipnorm")
    g = as_float_array(g, "g")
    return g * (c / max(float(np.sqrt(np.sum(np.square(g)))), c))


def global_norm(grads) -> float:
    """sqrt of the sum of squares of every entry of every array: the norm of all gradients as one vector.

    >>> global_norm({"W": np.array([3.0]), "b": np.array([4.0])})
    5.0
    """
    arrays = grads.values() if isinstance(grads, dict) else grads
    return math.sqrt(sum(float(np.sum(np.square(as_float_array(g, "g")))) for g in arrays))


def clip_by_global_norm(grads: dict, *, clipnorm: float) -> dict:
    """Every gradient scaled by c / max(global norm, c): Keras's ``global_clipnorm``.

    Parameters
    ----------
    grads : dict of str -> ndarray
    clipnorm : float
        The bound c on :func:`global_norm` of the result.

    Returns
    -------
    dict of str -> ndarray
        New arrays, the same keys and shapes. One factor for all, so the direction of the
        whole update is kept. If the global norm is inf or NaN every entry becomes NaN (as in
        Keras, where ``scale + (norm - norm)`` is NaN).

    >>> clip_by_global_norm({"W": np.array([3.0]), "b": np.array([4.0])}, clipnorm=1.0)
    {'W': array([0.6]), 'b': array([0.8])}
    """
    c = _positive(clipnorm, "clipnorm")
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}")
    norm = global_norm(grads)
    scale = c / max(norm, c) if math.isfinite(norm) else math.nan
    return {k: as_float_array(g, k) * scale for k, g in grads.items()}


# --- data augmentation ------------------------------------------------------------------------------

def shift_digits(X, *, rng: np.random.Generator, max_shift: int = 1, shape: tuple[int, int] = (8, 8)):
    """Each image moved by a random (dy, dx) in [-max_shift, max_shift]^2, zeros shifted in.

    Parameters
    ----------
    X : array_like, shape (N, H * W) or (N, H, W)
        Images, flattened row by row (scikit-learn's digits: (N, 64)) or not.
    rng : np.random.Generator
        Draws each image's shift, every (dy, dx) equally likely (including no shift).
    max_shift : int
        The largest move in pixels, in each direction.
    shape : (H, W)
        The image size.

    Returns
    -------
    ndarray, the shape of X
        out[n, i, j] = X[n, i - dy_n, j - dx_n] where that is inside the image, else 0
        (dy > 0 moves the picture down, dx > 0 to the right).

    >>> X = np.arange(1.0, 10.0).reshape(1, 9)          # one 3x3 image, 1..9
    >>> shift_digits(X, rng=np.random.default_rng(2), shape=(3, 3)).reshape(3, 3)  # dy = 1, dx = -1
    array([[0., 0., 0.],
           [2., 3., 0.],
           [5., 6., 0.]])
    """
    images, k = _images(X, shape), check_int(max_shift, "max_shift")
    n, h, w = images.shape
    shifts = _generator(rng).integers(-k, k + 1, size=(n, 2))  # (N, 2): dy, dx
    padded = np.pad(images, ((0, 0), (k, k), (k, k)))  # (N, H + 2k, W + 2k), zeros around
    rows = k - shifts[:, :1] + np.arange(h)  # (N, H): out row i reads padded row i + k - dy
    cols = k - shifts[:, 1:] + np.arange(w)  # (N, W)
    out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]  # (N, H, W)
    return out.reshape(np.shape(X))


def _images(X, shape) -> np.ndarray:
    X = as_float_array(X, "X")
    if len(shape) != 2 or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in shape):
        raise ValueError(f"shape must be (H, W), two positive integers, got {shape!r}")
    h, w = int(shape[0]), int(shape[1])
    if X.ndim == 2 and X.shape[1] == h * w:
        return X.reshape(-1, h, w)
    if X.ndim == 3 and X.shape[1:] == (h, w):
        return X
    raise ValueError(f"X must have shape (N, {h * w}) or (N, {h}, {w}), got {X.shape}")
