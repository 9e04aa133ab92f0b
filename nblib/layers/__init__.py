"""Layers: one contract for every operation of the course, and the networks built from them.

Backpropagation is the chain rule applied layer by layer, from the loss back to the input.
Each operation needs only its own local derivative and the gradient arriving from above, so
every operation is written as the same pair of pure functions:

    out, cache = op_forward(x, param_1, ..., *, hyper=...)     x batch first: (N, ...)
    dx, dparam_1, ... = op_backward(dout, cache)               each the shape of what it is of

``dout`` is dLoss/dout and has the shape of ``out``; ``dx`` has the shape of ``x``. The cache
is a small frozen dataclass holding what the backward pass needs from the forward pass (x
for dW, the pre-activation for g'). An operation without parameters returns ``dx`` alone.

A layer class is a thin wrapper around its pair (:class:`Layer`): ``params`` and ``grads``
dicts with matching keys, ``state`` for what is not a parameter (running statistics, which
no optimizer updates), and a ``training`` flag. :class:`Sequential` chains layers, and
:func:`nblib.training.fit` trains any of them with any loss in :data:`LOSSES`.

=================  =====================================  ======================================
module             operations                             layer
=================  =====================================  ======================================
``dense``          ``dense_forward``, ``dense_backward``  :class:`Dense`
``activation``     ``activation_forward``, ``..._backward``  :class:`Activation`
``flatten``        ``flatten_forward``, ``..._backward``  :class:`Flatten`
``dropout``        ``regularization.dropout_forward``...  :class:`Dropout`
``batchnorm``      ``norm.batchnorm_forward``, ...        :class:`BatchNorm`
``conv``           ``conv.conv2d_forward``, ``maxpool_``  :class:`Conv2D`, :class:`MaxPool2D`,
                   ``forward``, ``avgpool_forward``, ...  :class:`AvgPool2D`
``recurrent``      ``recurrent.rnn_forward``,             :class:`SimpleRNN`, :class:`LSTM`,
                   ``lstm_forward``, ``gru_forward``, ... :class:`GRU`
``loss``           ``softmax_cross_entropy``, ...         :class:`SoftmaxCrossEntropy`, ...
``sequential``                                            :class:`Sequential`
=================  =====================================  ======================================

The operations of a topic with a module of its own (``nblib.regularization``, ``nblib.norm``,
``nblib.conv``, ``nblib.recurrent``) live there; the layer modules here wrap them. Each new
week adds its pair and its layer (attention is next), and nothing else changes.

>>> import numpy as np
>>> from nblib import layers
>>> x, W, b = np.ones((2, 3)), np.ones((3, 4)), np.zeros(4)
>>> out, cache = layers.dense_forward(x, W, b)              # (2, 3) @ (3, 4) + (4,) -> (2, 4)
>>> dx, dW, db = layers.dense_backward(np.ones_like(out), cache)
>>> dx.shape, dW.shape, db.shape
((2, 3), (3, 4), (4,))
"""

from nblib.layers._base import Layer
from nblib.layers.activation import Activation, ActivationCache, activation_backward, activation_forward
from nblib.layers.dense import Dense, DenseCache, dense_backward, dense_forward, glorot_uniform
from nblib.layers.flatten import Flatten, FlattenCache, flatten_backward, flatten_forward
from nblib.layers.loss import (LOSSES, MeanSquaredError, SigmoidCrossEntropy, SoftmaxCrossEntropy,
                               mean_squared_error, sigmoid_cross_entropy, softmax_cross_entropy,
                               softmax_cross_entropy_backward)
from nblib.layers.sequential import Sequential
from nblib.layers.batchnorm import BatchNorm
from nblib.layers.conv import AvgPool2D, Conv2D, MaxPool2D
from nblib.layers.dropout import Dropout
from nblib.layers.recurrent import GRU, LSTM, SimpleRNN

__all__ = [
    "Layer", "Sequential",
    "dense_forward", "dense_backward", "DenseCache", "Dense", "glorot_uniform",
    "activation_forward", "activation_backward", "ActivationCache", "Activation",
    "flatten_forward", "flatten_backward", "FlattenCache", "Flatten",
    "Dropout", "BatchNorm", "Conv2D", "MaxPool2D", "AvgPool2D", "SimpleRNN", "LSTM", "GRU",
    "softmax_cross_entropy", "softmax_cross_entropy_backward", "sigmoid_cross_entropy", "mean_squared_error",
    "SoftmaxCrossEntropy", "SigmoidCrossEntropy", "MeanSquaredError", "LOSSES",
]
