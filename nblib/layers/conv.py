"""Convolution and pooling layers: thin wrappers around the pairs in :mod:`nblib.conv`.

    Conv2D      params {"W": (KH, KW, C, M), "b": (M,)}    conv2d_forward / conv2d_backward
    MaxPool2D   no parameters                               maxpool_forward / maxpool_backward
    AvgPool2D   no parameters                               avgpool_forward / avgpool_backward

Images are (N, H, W, C), channels last as in Keras. With :class:`~nblib.layers.Flatten` and
:class:`~nblib.layers.Dense` they make a CNN that :func:`nblib.training.fit` trains:

>>> import numpy as np
>>> from nblib.layers import Activation, Dense, Flatten, Sequential
>>> rng = np.random.default_rng(0)
>>> model = Sequential([Conv2D(1, 4, 3, rng=rng), Activation("relu"), MaxPool2D(2),   # (N, 8, 8, 1) -> (N, 3, 3, 4)
...                     Flatten(), Dense(36, 10, rng=rng)])                          # -> (N, 36) -> (N, 10)
>>> for layer in model.layers:
...     print(layer)
Conv2D(1, 4, kernel=(3, 3), stride=(1, 1), padding='valid')
Activation('relu')
MaxPool2D(pool=(2, 2), stride=(2, 2), padding='valid')
Flatten()
Dense(36, 10)
>>> model.forward(np.ones((5, 8, 8, 1))).shape
(5, 10)
"""

from __future__ import annotations

import numpy as np

from nblib import conv, init
from nblib._validation import as_float_array, check_choice, check_int
from nblib.layers._base import Layer

__all__ = ["Conv2D", "MaxPool2D", "AvgPool2D"]


class Conv2D(Layer):
    """A 2-D convolution layer: M kernels (KH, KW, C) slid over (N, H, W, C) images.

    Parameters
    ----------
    n_in : int
        C, the input channels.
    n_out : int
        M, the number of kernels (Keras's ``filters``): the output channels.
    kernel : int or (int, int)
        (KH, KW).
    stride : int or (int, int)
    padding : {"valid", "same"}
    rng : np.random.Generator
        For the Glorot-uniform kernels; the biases start at 0 (Keras's defaults).

    Notes
    -----
    It has KH * KW * C * M + M parameters, whatever the image size: the same kernels are used
    at every position (weight sharing).
    """

    def __init__(self, n_in: int, n_out: int, kernel, *, stride=1, padding: str = "valid",
                 rng: np.random.Generator):
        super().__init__()
        n_in, n_out = check_int(n_in, "n_in", minimum=1), check_int(n_out, "n_out", minimum=1)
        self.kernel, self.stride = conv._pair(kernel, "kernel"), conv._pair(stride, "stride")
        self.padding = check_choice(padding, "padding", conv.PADDINGS)
        self.params = {"W": init.glorot_uniform((*self.kernel, n_in, n_out), rng=rng), "b": np.zeros(n_out)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    @classmethod
    def from_weights(cls, W, b, *, stride=1, padding: str = "valid") -> "Conv2D":
        """A Conv2D with the given kernels W (KH, KW, C, M) and biases b (M,) (copied), e.g.
        Keras's ``layer.get_weights()``."""
        W = as_float_array(W, "W")
        if W.ndim != 4:
            raise ValueError(f"W must have shape (KH, KW, C, M), got shape {W.shape}")
        layer = cls(W.shape[2], W.shape[3], W.shape[:2], stride=stride, padding=padding,
                    rng=np.random.default_rng(0))
        b = as_float_array(b, "b")
        if b.shape != (W.shape[3],):
            raise ValueError(f"b must have shape ({W.shape[3]},), one bias per kernel, got shape {b.shape}")
        layer.params = {"W": W.copy(), "b": b.copy()}
        layer.grads = {k: np.zeros_like(v) for k, v in layer.params.items()}
        return layer

    def _forward(self, x):
        return conv.conv2d_forward(x, self.params["W"], self.params["b"], stride=self.stride, padding=self.padding)

    def _backward(self, dout, cache):
        return conv.conv2d_backward(dout, cache)

    def __repr__(self) -> str:
        C, M = self.params["W"].shape[2:]
        return f"Conv2D({C}, {M}, kernel={self.kernel}, stride={self.stride}, padding={self.padding!r})"


class _Pool2D(Layer):
    """A pooling layer over (PH, PW) windows; the stride defaults to the window (Keras's default)."""

    def __init__(self, pool=2, *, stride=None, padding: str = "valid"):
        super().__init__()
        self.pool = conv._pair(pool, "pool")
        self.stride = self.pool if stride is None else conv._pair(stride, "stride")
        self.padding = check_choice(padding, "padding", conv.PADDINGS)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(pool={self.pool}, stride={self.stride}, padding={self.padding!r})"


class MaxPool2D(_Pool2D):
    """Max pooling (Keras's MaxPooling2D): the largest value of each window, per channel."""

    def _forward(self, x):
        return conv.maxpool_forward(x, pool=self.pool, stride=self.stride, padding=self.padding)

    def _backward(self, dout, cache):
        return conv.maxpool_backward(dout, cache)


class AvgPool2D(_Pool2D):
    """Average pooling (Keras's AveragePooling2D): the mean of each window, per channel."""

    def _forward(self, x):
        return conv.avgpool_forward(x, pool=self.pool, stride=self.stride, padding=self.padding)

    def _backward(self, dout, cache):
        return conv.avgpool_backward(dout, cache)
