"""The Dropout layer: inverted dropout in training, the identity at inference.

    training    out = x * mask,  mask = (u >= rate) / (1 - rate),  u ~ U(0, 1) drawn anew each call
    inference   out = x
    backward    dx = dout * mask  (the same mask; dx = dout at inference)

The operations are :func:`nblib.regularization.dropout_forward` and ``dropout_backward``; the
layer holds the rate, its own generator and the ``training`` flag (set by
``Sequential.train()`` / ``eval()`` and by :func:`nblib.training.fit`).

>>> import numpy as np
>>> layer = Dropout(0.5, rng=np.random.default_rng(4))
>>> layer.forward(np.ones((1, 4)))               # kept values scaled by 1 / (1 - 0.5)
array([[2., 2., 2., 0.]])
>>> layer.backward(np.full((1, 4), 3.0))           # through the same mask
array([[6., 6., 6., 0.]])
>>> layer.training = False
>>> layer.forward(np.ones((1, 4)))
array([[1., 1., 1., 1.]])
"""

from __future__ import annotations

import numpy as np

from nblib.layers._base import Layer
from nblib.regularization import _generator, _rate, dropout_backward, dropout_forward

__all__ = ["Dropout"]


class Dropout(Layer):
    """Inverted dropout with probability ``rate`` of dropping each value: ``keras.layers.Dropout(rate)``.

    Parameters
    ----------
    rate : float in [0, 1)
    rng : np.random.Generator
        Draws the masks; the layer keeps it and draws a fresh mask on every training call.
    """

    def __init__(self, rate: float, *, rng: np.random.Generator):
        super().__init__()
        self.rate, self.rng = _rate(rate), _generator(rng)

    def _forward(self, x):
        return dropout_forward(x, rate=self.rate, rng=self.rng, training=self.training)

    def _backward(self, dout, cache):
        return dropout_backward(dout, cache)

    def __repr__(self) -> str:
        return f"Dropout({self.rate:g})"
