"""Layers with a forward and a backward pass, and the Sequential network built from them.

Backpropagation is the chain rule, applied layer by layer from the loss back to the input.
Each layer needs only its own local derivative and the gradient arriving from above:

    dense       Z = X @ W + b        dX = dZ @ W.T   (N, M) @ (M, D) -> (N, D)
                                     dW = X.T @ dZ   (D, N) @ (N, M) -> (D, M)
                                     db = sum_n dZ   (M,)
    activation  A = g(Z)             dZ = dA * g'(Z)    elementwise, (N, M)
    softmax + cross-entropy          dlogits = (softmax(logits) - Y) / N

Here dX means dLoss/dX, always the shape of X. The 1/N comes from the loss being the *mean*
over the batch. Every backward formula uses values of the forward pass (X for dW, Z for
g'(Z)), which is why the forward pass keeps them: its cache.

The pure functions :func:`dense_backward`, :func:`activation_backward` and
:func:`softmax_cross_entropy_backward` are the maths. The classes wrap them with the cache
and the ``params`` / ``grads`` dicts an optimizer updates:

>>> import numpy as np
>>> from nblib.layers import Sequential
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

from nblib import activations, losses
from nblib._reference import reference
from nblib._validation import as_labels, as_matrix, check_int

__all__ = [
    "dense_backward", "activation_backward", "softmax_cross_entropy_backward", "softmax_cross_entropy",
    "Dense", "Activation", "SoftmaxCrossEntropy", "Sequential",
]


# --- the backward passes, as pure functions --------------------------------------------------

@reference
def dense_backward(dZ, X, W):
    """Gradients of a dense layer Z = X @ W + b, given dZ = dLoss/dZ.

    Parameters
    ----------
    dZ : array_like, shape (N, M)
        Gradient of the loss with respect to the layer's output.
    X : array_like, shape (N, D)
        The layer's input, from the forward pass.
    W : array_like, shape (D, M)
        The layer's weights.

    Returns
    -------
    dX : ndarray, shape (N, D)
        dZ @ W.T: each input feeds every output through its row of W.
    dW : ndarray, shape (D, M)
        X.T @ dZ: a sum over the batch of input x output-gradient.
    db : ndarray, shape (M,)
        dZ summed over the batch (b is added to every example).
    """
    dZ, X, W = as_matrix(dZ, "dZ"), as_matrix(X, "X"), as_matrix(W, "W")
    if X.shape[0] != dZ.shape[0] or W.shape != (X.shape[1], dZ.shape[1]):
        raise ValueError(f"dZ (N, M), X (N, D) and W (D, M) do not fit: got dZ {dZ.shape}, X {X.shape}, W {W.shape}")
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)  # (N, M) @ (M, D); (D, N) @ (N, M); (M,)


@reference
def activation_backward(dA, Z, activation: str):
    """Gradient through an elementwise activation A = g(Z): dZ = dA * g'(Z).

    Parameters
    ----------
    dA : array_like, shape (N, M)
    Z : array_like, shape (N, M)
        The pre-activations from the forward pass (not A: g' is evaluated at Z).
    activation : str
        Any name :func:`nblib.activations.get` knows ("relu", "tanh", "sigmoid", ...).

    Returns
    -------
    dZ : ndarray, shape (N, M)
    """
    _, derivative = activations.get(activation)
    dA, Z = np.asarray(dA, dtype=float), np.asarray(Z, dtype=float)
    if dA.shape != Z.shape:
        raise ValueError(f"dA and Z must have the same shape, got {dA.shape} and {Z.shape}")
    return dA * derivative(Z)


@reference
def softmax_cross_entropy_backward(logits, y):
    """Gradient of the mean cross-entropy of softmax(logits) against integer labels.

    dLoss/dlogits = (softmax(logits) - Y) / N, with Y the one-hot labels: the softmax's
    Jacobian and the log's 1/p cancel, leaving "predicted minus true".

    Parameters
    ----------
    logits : array_like, shape (N, C)
    y : array_like of int, shape (N,)

    Returns
    -------
    dlogits : ndarray, shape (N, C)
    """
    log_p, y = _log_softmax(logits, y)
    dlogits = np.exp(log_p)                                     # softmax, (N, C)
    dlogits[np.arange(len(y)), y] -= 1.0                        # P - Y
    return dlogits / len(y)


def softmax_cross_entropy(logits, y):
    """The mean softmax cross-entropy and its gradient.

    Returns
    -------
    loss : float
        mean_n -log softmax(logits_n)[y_n], computed with log-softmax (stable).
    dlogits : ndarray, shape (N, C)
        (softmax(logits) - Y) / N, from :func:`softmax_cross_entropy_backward`.
    """
    log_p, y = _log_softmax(logits, y)
    return float(-log_p[np.arange(len(y)), y].mean()), softmax_cross_entropy_backward(logits, y)


def _log_softmax(logits, y):
    """log softmax(logits) (N, C), by the log-sum-exp trick, and the checked labels (N,)."""
    logits = as_matrix(logits, "logits")
    y = as_labels(y, "y", n_classes=logits.shape[1], length=logits.shape[0])
    shifted = logits - logits.max(axis=1, keepdims=True)      # every exponent <= 0
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)), y


# --- layers: the forward pass keeps what the backward pass needs --------------------------------

class Dense:
    """A fully connected layer, Z = X @ W + b, with W (D, M) Glorot-uniform and b = 0.

    Glorot & Bengio (2010): W ~ U(-r, r), r = sqrt(6 / (D + M)), Keras's default, keeps the
    variance of the signal roughly constant from layer to layer (week 6 says more).
    """

    def __init__(self, n_in: int, n_out: int, *, rng: np.random.Generator):
        n_in, n_out = check_int(n_in, "n_in", minimum=1), check_int(n_out, "n_out", minimum=1)
        limit = np.sqrt(6.0 / (n_in + n_out))
        self.params = {"W": rng.uniform(-limit, limit, size=(n_in, n_out)), "b": np.zeros(n_out)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._X = None

    def forward(self, X):
        self._X = X
        return X @ self.params["W"] + self.params["b"]  # (N, D) @ (D, M) + (M,) -> (N, M)

    def backward(self, dZ):
        dX, self.grads["W"], self.grads["b"] = dense_backward(dZ, self._X, self.params["W"])
        return dX

    def __repr__(self) -> str:
        return f"Dense{self.params['W'].shape}"


class Activation:
    """An elementwise activation, A = g(Z), by name (see :mod:`nblib.activations`)."""

    def __init__(self, name: str):
        self.name = name
        self._g, _ = activations.get(name)  # rejects unknown names now, not mid-training
        self.params, self.grads = {}, {}
        self._Z = None

    def forward(self, Z):
        self._Z = Z
        return self._g(Z)

    def backward(self, dA):
        return activation_backward(dA, self._Z, self.name)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


class SoftmaxCrossEntropy:
    """The loss of a classifier on logits: softmax, then the mean cross-entropy."""

    def __init__(self):
        self._dlogits = None

    def forward(self, logits, y) -> float:
        loss, self._dlogits = softmax_cross_entropy(logits, y)
        return loss

    def backward(self):
        return self._dlogits


class Sequential:
    """Layers applied in order; the output is the logits (softmax is part of the loss).

    ``parameters()`` and ``gradients()`` give every layer's arrays in one dict, keyed
    ``"<layer index>.<name>"``, the form :meth:`nblib.optim.Optimizer.step` takes.
    """

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

    def forward(self, X):
        out = as_matrix(X, "X")
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

    def predict_proba(self, X):
        """Class probabilities, (N, C)."""
        return losses.softmax(self.forward(X))

    def predict(self, X):
        """The most probable class of each row, (N,)."""
        return self.forward(X).argmax(axis=1)

    def accuracy(self, X, y) -> float:
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def __repr__(self) -> str:
        return f"Sequential([{', '.join(map(repr, self.layers))}])"
