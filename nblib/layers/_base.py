"""The layer class every operation is wrapped in: parameters, gradients, state and a mode.

A layer owns what an operation needs between calls and nothing else:

    params    {"W": (D, M), "b": (M,)}   what the optimizer updates
    grads     the same keys and shapes     filled by ``backward``
    state     e.g. running statistics      kept apart: no optimizer ever touches it
    training  True while fitting           dropout and batch norm behave differently at inference

Subclasses define two methods, the layer's ``op_forward`` and ``op_backward`` with the
parameters filled in: ``_forward(x) -> (out, cache)`` and ``_backward(dout, cache) -> dx``
or ``(dx, dparam_1, ...)`` in the order of ``params``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Layer"]


class Layer:
    """Base class: ``out = layer.forward(x)``, then ``dx = layer.backward(dout)``."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}
        self.training = True
        self._cache = None

    def forward(self, x):
        out, self._cache = self._forward(x)
        return out

    def backward(self, dout):
        if self._cache is None:
            raise RuntimeError(f"{self!r}: call forward before backward")
        if not self.params:
            return self._backward(dout, self._cache)
        dx, *dparams = self._backward(dout, self._cache)
        self.grads = dict(zip(self.params, dparams))  # the same keys, in the same order
        return dx

    def _forward(self, x):
        raise NotImplementedError

    def _backward(self, dout, cache):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
