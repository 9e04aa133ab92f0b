"""An elementwise activation as a layer: out = g(x), dx = dout * g'(x).

The derivative is evaluated at the layer's *input* x (the pre-activation), so that is what
the cache keeps. Any name :func:`nblib.activations.get` knows works ("relu", "tanh", ...).

>>> import numpy as np
>>> out, cache = activation_forward(np.array([[-1.0, 2.0]]), name="relu")
>>> out, activation_backward(np.array([[5.0, 5.0]]), cache)
(array([[0., 2.]]), array([[0., 5.]]))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nblib import activations
from nblib._reference import reference
from nblib._validation import as_float_array
from nblib.layers._base import Layer

__all__ = ["ActivationCache", "activation_forward", "activation_backward", "Activation"]


@dataclass(frozen=True)
class ActivationCache:
    """The input x of the activation (any shape) and the activation's canonical name."""

    x: np.ndarray
    name: str


def activation_forward(x, *, name: str):
    """out = g(x) elementwise, the same shape as x, and the cache for :func:`activation_backward`."""
    g, _ = activations.get(name)
    x = as_float_array(x, "x")
    return g(x), ActivationCache(x, activations.ACTIVATIONS.canonical(name))


@reference
def activation_backward(dout, cache: ActivationCache):
    """dx = dout * g'(x), elementwise; the shape of x."""
    _, derivative = activations.get(cache.name)
    dout = as_float_array(dout, "dout")
    if dout.shape != cache.x.shape:
        raise ValueError(f"dout must have the shape of the activation's input, {cache.x.shape}, got {dout.shape}")
    return dout * derivative(cache.x)


class Activation(Layer):
    """An elementwise activation by name, with no parameters."""

    def __init__(self, name: str):
        super().__init__()
        activations.get(name)  # rejects unknown names now, not mid-training
        self.name = name

    def _forward(self, x):
        return activation_forward(x, name=self.name)

    def _backward(self, dout, cache):
        return activation_backward(dout, cache)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"
