"""Normalization layers: batch, layer and group normalization, forward and backward.

All three standardise values with a mean and a variance, then give each channel back a
learned scale gamma and shift beta (so the network can undo the standardisation if it helps):

    x_hat = (x - mean) / sqrt(var + eps)        out = gamma * x_hat + beta      gamma, beta: (C,)

They differ in which values share a mean and a variance:

====================  ==========================================  =============================
operation             statistics over                             Keras
====================  ==========================================  =============================
batch normalization   the batch (and positions), per channel      ``BatchNormalization``
layer normalization   the last axis, per example (and position)   ``LayerNormalization``
group normalization   positions and a group of channels, per      ``GroupNormalization``
                      example
====================  ==========================================  =============================

Inputs are (N, D) or channels last (N, H, W, C) (any (N, ..., C)). Batch normalization is
the only one that depends on the other examples of the batch, so it is the only one with two
modes: in training it uses the batch's statistics and updates running averages of them; at
inference it uses those running averages, so a prediction does not depend on its batch.

Keras 3's conventions, read in ``keras/src/layers/normalization/batch_normalization.py``
(Keras 3.15) and followed here:

- ``momentum`` (0.99) is the weight of the *old* running value:
  ``moving = moving * momentum + batch * (1 - momentum)``.
- ``epsilon`` is 1e-3 (not the paper's 1e-5), added to the variance inside the square root.
- The variance is the biased (population) one, mean((x - mean)^2) (``ops.moments``, i.e.
  ``tf.nn.moments``), both to normalise the batch and in the moving variance: Keras 3 applies
  no N / (N - 1) correction (Keras 2's fused kernel and PyTorch do, for the running variance).
- The running statistics start at mean 0 and variance 1, and are updated only in training mode.
- LayerNormalization and GroupNormalization use epsilon 1e-3 too, and the biased variance.

Each operation follows the layer contract (:mod:`nblib.layers`): ``out, cache = *_forward(x,
gamma, beta, *, hyper)`` and ``dx, dgamma, dbeta = *_backward(dout, cache)``. Batch norm's
cache also carries the new running statistics (``cache.running_mean``, ``cache.running_var``).

The backward pass is the same for all three, over the axes the statistics were taken on
(m values each): with dx_hat = dout * gamma,

    dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps)
    dgamma = sum of dout * x_hat,   dbeta = sum of dout       (over everything but the channel)

(at inference batch norm's mean and variance are constants, so dx = dx_hat / sqrt(var + eps)).

References: Ioffe & Szegedy (2015), Ba, Kiros & Hinton (2016), Wu & He (2018).

>>> import numpy as np
>>> x = np.array([[1.0], [3.0]])                  # two examples, one channel: mean 2, variance 1
>>> out, cache = batchnorm_forward(x, np.ones(1), np.zeros(1), running_mean=np.zeros(1),
...                                running_var=np.ones(1), training=True, eps=0.0)
>>> out.ravel(), cache.running_mean, cache.running_var    # 0.99 * 0 + 0.01 * 2, 0.99 * 1 + 0.01 * 1
(array([-1.,  1.]), array([0.02]), array([1.]))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nblib._reference import reference
from nblib._validation import as_batch, as_float_array, as_scalar, as_vector, check_int

__all__ = [
    "BatchNormCache", "batchnorm_forward", "batchnorm_backward",
    "NormCache", "layernorm_forward", "layernorm_backward",
    "groupnorm_forward", "groupnorm_backward",
]


# --- caches ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NormCache:
    """What a normalization's backward pass needs.

    x_hat : (N, ..., C) the standardised input (grouped, (N, ..., G, C // G), for group norm)
    inv_std : 1 / sqrt(var + eps), broadcastable to x_hat
    gamma : (C,)
    axes : the axes of x_hat the statistics were taken over (None: constants, batch norm at inference)
    """

    x_hat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    axes: tuple | None


@dataclass(frozen=True)
class BatchNormCache(NormCache):
    """:class:`NormCache` plus the running statistics after this call, (C,) each."""

    running_mean: np.ndarray
    running_var: np.ndarray


# --- checks ------------------------------------------------------------------------------------------

def _check(x, gamma, beta, eps):
    """x (N, ..., C), gamma and beta (C,), eps > 0, as float arrays."""
    x, gamma = as_batch(x, "x"), as_vector(gamma, "gamma")
    if x.shape[-1] != gamma.shape[0]:
        raise ValueError(f"x must have C = {gamma.shape[0]} channels on its last axis, the length of gamma, "
                         f"got x of shape {x.shape}")
    beta = as_vector(beta, "beta", length=x.shape[-1])
    eps = as_scalar(eps, "eps")
    if not eps >= 0 or not np.isfinite(eps):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    return x, gamma, beta, eps


def _unit_interval(value, name: str) -> float:
    v = as_scalar(value, name)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return v


def _check_dout(dout, x_shape) -> np.ndarray:
    dout = as_float_array(dout, "dout")
    if dout.shape != x_shape:
        raise ValueError(f"dout must have the shape of the layer's output, {x_shape}, got {dout.shape}")
    return dout


# --- the shared maths ---------------------------------------------------------------------------------

def _moments(x, axes):
    """The mean and the biased variance of x over ``axes`` (kept as axes of length 1)."""
    mean = x.mean(axis=axes, keepdims=True)
    var = np.square(x - mean).mean(axis=axes, keepdims=True)  # biased: divide by m, not m - 1
    return mean, var


def _backward(dout, cache: NormCache, x_shape):
    """dx, dgamma, dbeta for out = gamma * x_hat + beta, x_hat standardised over cache.axes."""
    dout = _check_dout(dout, x_shape)
    x_hat = cache.x_hat.reshape(x_shape)  # (N, ..., C), ungrouped
    channel_axes = tuple(range(len(x_shape) - 1))  # everything but C
    dgamma, dbeta = (dout * x_hat).sum(axis=channel_axes), dout.sum(axis=channel_axes)  # (C,), (C,)
    dx_hat = (dout * cache.gamma).reshape(cache.x_hat.shape)  # grouped, for group norm
    if cache.axes is None:  # constant statistics
        return (dx_hat * cache.inv_std).reshape(x_shape), dgamma, dbeta
    dx = cache.inv_std * (dx_hat - dx_hat.mean(axis=cache.axes, keepdims=True)
                          - cache.x_hat * (dx_hat * cache.x_hat).mean(axis=cache.axes, keepdims=True))
    return dx.reshape(x_shape), dgamma, dbeta


# --- batch normalization -------------------------------------------------------------------------------

@reference
def batchnorm_forward(x, gamma, beta, *, running_mean, running_var, training: bool, momentum: float = 0.99,
                      eps: float = 1e-3):
    """Batch normalization, per channel, with Keras 3's conventions (see the module notes).

    Parameters
    ----------
    x : array_like, shape (N, C) or (N, H, W, C)
        Any (N, ..., C): the statistics are over every axis but the last.
    gamma, beta : array_like, shape (C,)
        The learned scale and shift.
    running_mean, running_var : array_like, shape (C,)
        The running statistics so far (Keras starts them at 0 and 1); not modified.
    training : bool
        True: normalise with the batch's mean and (biased) variance and update the running
        statistics; False: normalise with the running statistics, which stay as they are.
    momentum : float in [0, 1]
        The weight of the old running value: new = old * momentum + batch * (1 - momentum).
    eps : float
        Added to the variance inside the square root.

    Returns
    -------
    out : ndarray, shape of x
        gamma * (x - mean) / sqrt(var + eps) + beta.
    cache : BatchNormCache
        For :func:`batchnorm_backward`; ``cache.running_mean`` and ``cache.running_var``, (C,),
        are the running statistics after this call.
    """
    x, gamma, beta, eps = _check(x, gamma, beta, eps)
    running_mean = as_vector(running_mean, "running_mean", length=x.shape[-1])
    running_var = as_vector(running_var, "running_var", length=x.shape[-1])
    momentum = _unit_interval(momentum, "momentum")
    axes = tuple(range(x.ndim - 1))  # (0,) for (N, C); (0, 1, 2) for (N, H, W, C)
    if training:
        mean, var = _moments(x, axes)  # (1, ..., 1, C) each
        running_mean = running_mean * momentum + mean.reshape(-1) * (1.0 - momentum)
        running_var = running_var * momentum + var.reshape(-1) * (1.0 - momentum)
    else:
        mean, var, axes = running_mean, running_var, None  # constants: no gradient through them
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std  # (N, ..., C)
    cache = BatchNormCache(x_hat, inv_std, gamma, axes, running_mean=running_mean.copy(),
                           running_var=running_var.copy())
    return gamma * x_hat + beta, cache


@reference
def batchnorm_backward(dout, cache: BatchNormCache):
    """Gradients of batch normalization, given dout = dLoss/dout.

    Parameters
    ----------
    dout : array_like, shape (N, ..., C)
    cache : BatchNormCache
        From :func:`batchnorm_forward`.

    Returns
    -------
    dx : ndarray, shape (N, ..., C)
        In training, (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps),
        means per channel, dx_hat = gamma * dout (every value moves the batch's mean and variance);
        at inference gamma * dout / sqrt(running_var + eps).
    dgamma, dbeta : ndarray, shape (C,)
        sum(dout * x_hat) and sum(dout) over everything but the channel.

    >>> x = np.array([[1.0], [3.0]])
    >>> out, cache = batchnorm_forward(x, np.ones(1), np.zeros(1), running_mean=np.zeros(1),
    ...                                running_var=np.ones(1), training=True, eps=0.0)
    >>> batchnorm_backward(np.array([[1.0], [1.0]]), cache)   # shifting both x leaves out alone
    (array([[0.],
           [0.]]), array([0.]), array([2.]))
    """
    return _backward(dout, cache, cache.x_hat.shape)


# --- layer normalization -------------------------------------------------------------------------------

@reference
def layernorm_forward(x, gamma, beta, *, eps: float = 1e-3):
    """Layer normalization over the last axis, as ``keras.layers.LayerNormalization()`` (eps 1e-3).

    Parameters
    ----------
    x : array_like, shape (N, D) or (N, ..., D)
        Each example (and each position) is standardised over its D features on its own.
    gamma, beta : array_like, shape (D,)
    eps : float

    Returns
    -------
    out : ndarray, shape of x
        gamma * (x - mean) / sqrt(var + eps) + beta, mean and (biased) var over the last axis.
    cache : NormCache

    >>> out, _ = layernorm_forward(np.array([[1.0, 3.0]]), np.ones(2), np.zeros(2), eps=0.0)
    >>> out
    array([[-1.,  1.]])
    """
    x, gamma, beta, eps = _check(x, gamma, beta, eps)
    axes = (x.ndim - 1,)
    mean, var = _moments(x, axes)  # (N, ..., 1) each
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, NormCache(x_hat, inv_std, gamma, axes)


@reference
def layernorm_backward(dout, cache: NormCache):
    """Gradients of :func:`layernorm_forward`: dx (N, ..., D), dgamma (D,), dbeta (D,).

    dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps), means over
    the last axis, dx_hat = gamma * dout.
    """
    return _backward(dout, cache, cache.x_hat.shape)


# --- group normalization ---------------------------------------------------------------------------------

@reference
def groupnorm_forward(x, gamma, beta, *, groups: int, eps: float = 1e-3):
    """Group normalization, channels last, as ``keras.layers.GroupNormalization(groups)`` (eps 1e-3).

    The C channels are split into ``groups`` groups of C // G consecutive channels (channel c
    is in group c // (C // G)); each example is standardised over its positions and the
    channels of one group. G = 1 standardises each example over everything; G = C is instance
    normalization.

    Parameters
    ----------
    x : array_like, shape (N, C) or (N, H, W, C)
    gamma, beta : array_like, shape (C,)
    groups : int
        G, which must divide C.
    eps : float

    Returns
    -------
    out : ndarray, shape of x
    cache : NormCache
        x_hat grouped, (N, ..., G, C // G).

    >>> x = np.array([[1.0, 3.0, 10.0, 30.0]])        # two groups: (1, 3) and (10, 30)
    >>> out, _ = groupnorm_forward(x, np.ones(4), np.zeros(4), groups=2, eps=0.0)
    >>> out
    array([[-1.,  1., -1.,  1.]])
    """
    x, gamma, beta, eps = _check(x, gamma, beta, eps)
    channels = x.shape[-1]
    groups = check_int(groups, "groups", minimum=1)
    if channels % groups:
        raise ValueError(f"groups must divide the number of channels C = {channels}, got groups={groups}")
    grouped = x.reshape(x.shape[:-1] + (groups, channels // groups))  # (N, ..., C) -> (N, ..., G, C // G)
    axes = tuple(range(1, grouped.ndim - 2)) + (grouped.ndim - 1,)  # positions and channels in a group
    mean, var = _moments(grouped, axes)  # (N, 1, ..., G, 1)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (grouped - mean) * inv_std
    return gamma * x_hat.reshape(x.shape) + beta, NormCache(x_hat, inv_std, gamma, axes)


@reference
def groupnorm_backward(dout, cache: NormCache):
    """Gradients of :func:`groupnorm_forward`: dx (N, ..., C), dgamma (C,), dbeta (C,).

    The formula of the module notes, with means over each group's positions and channels.
    """
    x_shape = cache.x_hat.shape[:-2] + (cache.x_hat.shape[-2] * cache.x_hat.shape[-1],)  # (N, ..., C)
    return _backward(dout, cache, x_shape)
