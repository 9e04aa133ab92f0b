"""The fully connected (dense) layer: every output a weighted sum of every input.

    forward    out = x @ W + b          (N, ..., D) @ (D, M) + (M,) -> (N, ..., M)
    backward   dx  = dout @ W.T         (N, ..., M) @ (M, D) -> (N, ..., D)
               dW  = x.T @ dout         summed over every example (and position): (D, M)
               db  = sum of dout        over every example (and position): (M,)

dx means dLoss/dx and always has the shape of x. Extra axes between the batch and the
features, (N, T, D) for sequences, are more examples of the same layer, as in Keras's Dense.

>>> import numpy as np
>>> x, W, b = np.array([[1.0, 2.0]]), np.array([[1.0, 0.0, -1.0], [0.5, 1.0, 0.0]]), np.zeros(3)
>>> out, cache = dense_forward(x, W, b)
>>> out
array([[ 2.,  2., -1.]])
>>> dx, dW, db = dense_backward(np.ones((1, 3)), cache)
>>> dx, db
(array([[0. , 1.5]]), array([1., 1., 1.]))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nblib import init
from nblib._reference import reference
from nblib._validation import as_batch, as_float_array, as_matrix, as_vector, check_int
from nblib.layers._base import Layer

__all__ = ["DenseCache", "dense_forward", "dense_backward", "glorot_uniform", "Dense"]


@dataclass(frozen=True)
class DenseCache:
    """What :func:`dense_backward` needs: the input x (N, ..., D) and the weights W (D, M)."""

    x: np.ndarray
    W: np.ndarray


@reference
def dense_forward(x, W, b):
    """out = x @ W + b, and the cache for :func:`dense_backward`.

    Parameters
    ----------
    x : array_like, shape (N, ..., D)
    W : array_like, shape (D, M)
    b : array_like, shape (M,)

    Returns
    -------
    out : ndarray, shape (N, ..., M)
    cache : DenseCache
    """
    x = as_batch(x, "x")
    W = as_matrix(W, "W")
    if W.shape[0] != x.shape[-1]:
        transposed = " (transposed?)" if W.shape[1] == x.shape[-1] else ""
        raise ValueError(f"W must have shape (D, M) = ({x.shape[-1]}, M) to match x of shape {x.shape}, "
                         f"got {W.shape}{transposed}")
    b = as_vector(b, "b", length=W.shape[1])
    return x @ W + b, DenseCache(x, W)  # (N, ..., D) @ (D, M) + (M,) -> (N, ..., M)


@reference
def dense_backward(dout, cache: DenseCache):
    """Gradients of out = x @ W + b, given dout = dLoss/dout.

    Parameters
    ----------
    dout : array_like, shape (N, ..., M)
    cache : DenseCache
        From :func:`dense_forward`.

    Returns
    -------
    dx : ndarray, shape (N, ..., D)
        dout @ W.T: each input feeds every output through its row of W.
    dW : ndarray, shape (D, M)
        x.T @ dout, a sum over the batch of input times output-gradient.
    db : ndarray, shape (M,)
        dout summed over the batch (b is added to every example).
    """
    x, W = cache.x, cache.W
    dout = as_float_array(dout, "dout")
    if dout.shape != x.shape[:-1] + W.shape[1:]:
        raise ValueError(f"dout must have the shape of the layer's output, {x.shape[:-1] + W.shape[1:]}, "
                         f"got {dout.shape}")
    rows, drows = x.reshape(-1, W.shape[0]), dout.reshape(-1, W.shape[1])  # every position is an example
    return dout @ W.T, rows.T @ drows, drows.sum(axis=0)  # (N, ..., D); (D, M); (M,)


def glorot_uniform(n_in: int, n_out: int, *, rng: np.random.Generator):
    """W ~ U(-r, r), r = sqrt(6 / (D + M)): Keras's default kernel (Glorot & Bengio, 2010).

    It keeps the variance of the signal roughly constant from layer to layer (week 6 says more).
    """
    return init.glorot_uniform((n_in, n_out), rng=rng)


class Dense(Layer):
    """A fully connected layer, out = x @ W + b, with W (D, M) Glorot-uniform and b = 0."""

    def __init__(self, n_in: int, n_out: int, *, rng: np.random.Generator):
        super().__init__()
        n_in, n_out = check_int(n_in, "n_in", minimum=1), check_int(n_out, "n_out", minimum=1)
        self.params = {"W": glorot_uniform(n_in, n_out, rng=rng), "b": np.zeros(n_out)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    @classmethod
    def from_weights(cls, W, b) -> "Dense":
        """A Dense layer with the given weights W (D, M) and biases b (M,) (copied)."""
        W = as_matrix(W, "W")
        layer = cls.__new__(cls)
        Layer.__init__(layer)
        layer.params = {"W": W.copy(), "b": as_vector(b, "b", length=W.shape[1]).copy()}
        layer.grads = {k: np.zeros_like(v) for k, v in layer.params.items()}
        return layer

    def _forward(self, x):
        return dense_forward(x, self.params["W"], self.params["b"])

    def _backward(self, dout, cache):
        return dense_backward(dout, cache)

    def __repr__(self) -> str:
        return f"Dense{self.params['W'].shape}"
