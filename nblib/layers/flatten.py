"""Flatten: (N, d1, d2, ...) -> (N, d1 * d2 * ...), the bridge from images to dense layers.

Nothing is computed, so the backward pass only puts the gradient back in the input's shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nblib._validation import as_batch, as_float_array
from nblib.layers._base import Layer

__all__ = ["FlattenCache", "flatten_forward", "flatten_backward", "Flatten"]


@dataclass(frozen=True)
class FlattenCache:
    """The input's shape, (N, d1, d2, ...)."""

    shape: tuple


def flatten_forward(x):
    """Each example as one row: (N, d1, d2, ...) -> (N, d1 * d2 * ...), in C order like Keras."""
    x = as_batch(x, "x")
    return x.reshape(len(x), -1), FlattenCache(x.shape)


def flatten_backward(dout, cache: FlattenCache):
    """The gradient reshaped back to the input's shape."""
    dout = as_float_array(dout, "dout")
    flat = (cache.shape[0], int(np.prod(cache.shape[1:])))
    if dout.shape != flat:
        raise ValueError(f"dout must have the shape of the flattened output, {flat}, got {dout.shape}")
    return dout.reshape(cache.shape)


class Flatten(Layer):
    def _forward(self, x):
        return flatten_forward(x)

    def _backward(self, dout, cache):
        return flatten_backward(dout, cache)
