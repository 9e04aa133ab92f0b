"""The BatchNorm layer: batch statistics in training, running averages at inference.

    params  {"gamma": (C,) ones, "beta": (C,) zeros}                 learned, by the optimizer
    state   {"running_mean": (C,) zeros, "running_var": (C,) ones}   updated by forward in training

In training mode each ``forward`` normalises with the batch's statistics and moves the running
statistics towards them (weight ``momentum`` on the old value); in inference mode it uses the
running statistics and changes nothing. The operations, and Keras 3's conventions they follow,
are in :mod:`nblib.norm`. The state arrays are updated in place, so ``Sequential.state()``
always shows the current values; no optimizer sees them (they are not in ``params``).

>>> import numpy as np
>>> layer = BatchNorm(2)
>>> out = layer.forward(np.array([[0.0, 10.0], [2.0, 30.0]]))     # training: batch statistics
>>> out.round(4)                                 # (x - mean) / sqrt(var + 0.001), var = 1 and 100
array([[-0.9995, -1.    ],
       [ 0.9995,  1.    ]])
>>> layer.state["running_mean"]                                    # 0.99 * 0 + 0.01 * [1, 20]
array([0.01, 0.2 ])
"""

from __future__ import annotations

import numpy as np

from nblib._validation import check_int
from nblib.layers._base import Layer
from nblib.norm import _unit_interval, batchnorm_backward, batchnorm_forward

__all__ = ["BatchNorm"]


class BatchNorm(Layer):
    """Batch normalization over the last axis (channels): ``keras.layers.BatchNormalization()``.

    Parameters
    ----------
    features : int
        C, the size of the last axis of the input ((N, C) or (N, H, W, C)).
    momentum : float
        Weight of the old running value, 0.99 as in Keras.
    eps : float
        1e-3 as in Keras.
    """

    def __init__(self, features: int, *, momentum: float = 0.99, eps: float = 1e-3):
        super().__init__()
        features = check_int(features, "features", minimum=1)
        self.momentum, self.eps = _unit_interval(momentum, "momentum"), float(eps)
        self.params = {"gamma": np.ones(features), "beta": np.zeros(features)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.state = {"running_mean": np.zeros(features), "running_var": np.ones(features)}

    def _forward(self, x):
        out, cache = batchnorm_forward(x, self.params["gamma"], self.params["beta"],
                                       running_mean=self.state["running_mean"],
                                       running_var=self.state["running_var"],
                                       training=self.training, momentum=self.momentum, eps=self.eps)
        if self.training:  # in place: whoever holds the state arrays sees the new values
            self.state["running_mean"][...] = cache.running_mean
            self.state["running_var"][...] = cache.running_var
        return out, cache

    def _backward(self, dout, cache):
        return batchnorm_backward(dout, cache)

    def __repr__(self) -> str:
        return f"BatchNorm({self.params['gamma'].shape[0]})"
