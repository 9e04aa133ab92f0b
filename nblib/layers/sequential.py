"""Sequential: layers applied in order, and backpropagation through them in reverse.

    forward    x -> layer_1 -> layer_2 -> ... -> out          (the logits, for a classifier)
    backward   dx <- layer_1 <- layer_2 <- ... <- dout         (the chain rule, from the loss)

``parameters()`` and ``gradients()`` gather every layer's arrays in one dict keyed
``"<layer index>.<name>"`` ("0.W", "0.b", "2.W", ...), the form :meth:`nblib.optim.Optimizer.step`
takes; ``state()`` gathers what is not a parameter. ``train()`` and ``eval()`` switch every
layer's ``training`` flag (dropout and batch norm read it).

>>> import numpy as np
>>> model = Sequential.mlp([4, 8, 3], activation="relu", rng=np.random.default_rng(0))
>>> model
Sequential([Dense(4, 8), Activation('relu'), Dense(8, 3)])
>>> model.forward(np.ones((5, 4))).shape      # logits, (N, C)
(5, 3)
>>> sorted(model.parameters())
['0.W', '0.b', '2.W', '2.b']
"""

from __future__ import annotations

import numpy as np

from nblib import losses
from nblib._validation import as_batch, check_int
from nblib.layers.activation import Activation
from nblib.layers.dense import Dense

__all__ = ["Sequential"]


class Sequential:
    """Layers applied in order; a classifier outputs logits (softmax is part of the loss)."""

    def __init__(self, layers):
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("a Sequential needs at least one layer")

    @classmethod
    def mlp(cls, sizes, *, activation: str = "relu", rng: np.random.Generator) -> "Sequential":
        """A multi-layer perceptron: sizes = [D, H_1, ..., C], activations between layers."""
        sizes = [check_int(s, "each size", minimum=1) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"sizes must list the input size and at least one layer, got {sizes}")
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [Dense(n_in, n_out, rng=rng), Activation(activation)]
        return cls(layers[:-1])  # no activation after the last layer: it outputs logits

    @classmethod
    def from_weights(cls, weights, biases, *, activation: str = "relu") -> "Sequential":
        """The MLP of :func:`nblib.mlp.forward` (lists W_l (D_l, M_l), b_l (M_l,), scikit-learn's
        ``coefs_`` and ``intercepts_``) as layers: layer 2l holds W_l and b_l as "W" and "b"."""
        weights, biases = list(weights), list(biases)
        if not weights or len(weights) != len(biases):
            raise ValueError(f"give one bias vector per weight matrix, at least one layer: "
                             f"got {len(weights)} weight matrices and {len(biases)} bias vectors")
        layers = []
        for W, b in zip(weights, biases):
            layers += [Dense.from_weights(W, b), Activation(activation)]
        return cls(layers[:-1])  # logits out

    def forward(self, x):
        out = as_batch(x, "X")
        for layer in self.layers:
            out = layer.forward(out)
        return out

    def backward(self, dout):
        for layer in reversed(self.layers):  # the chain rule, from the loss back to the input
            dout = layer.backward(dout)
        return dout

    def parameters(self) -> dict:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    def gradients(self) -> dict:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    def state(self) -> dict:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.state.items()}

    @property
    def training(self) -> bool:
        return all(layer.training for layer in self.layers)

    def train(self, mode: bool = True) -> "Sequential":
        """Switch every layer to training mode (or to inference with ``mode=False``)."""
        for layer in self.layers:
            layer.training = bool(mode)
        return self

    def eval(self) -> "Sequential":
        """Switch every layer to inference mode."""
        return self.train(False)

    def predict_proba(self, X):
        """Class probabilities, (N, C)."""
        return losses.softmax(self.forward(X), axis=-1)

    def predict(self, X):
        """The most probable class of each row, (N,)."""
        return self.forward(X).argmax(axis=-1)

    def accuracy(self, X, y) -> float:
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def __repr__(self) -> str:
        return f"Sequential([{', '.join(map(repr, self.layers))}])"
