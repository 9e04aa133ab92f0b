"""The forward and backward passes of a multi-layer perceptron (MLP), batch first.

An MLP is layers of neurons; each layer takes the previous one's outputs. For layer l with
weights W_l (D_l, M_l) and biases b_l (M_l,), on a batch A_{l-1} (N, D_l):

    Z_l = A_{l-1} @ W_l + b_l        # (N, D_l) @ (D_l, M_l) + (M_l,) -> (N, M_l)
    A_l = g(Z_l)                     # the hidden activation (ReLU, tanh, ...), elementwise

with A_0 = X. The last layer uses the output activation instead: softmax for classes that
exclude each other (each row sums to 1), the sigmoid for yes/no outputs, the identity for
regression. Without the non-linearities g the layers would collapse into one matrix
product, a single linear layer, however many there are.

Backpropagation (week 4) needs every layer's input A_{l-1} and pre-activation Z_l again,
so :func:`forward` returns them in a :class:`Cache` next to the output, and
:func:`backward` turns the gradient at the output into one for every weight and bias.

The weights use scikit-learn's layout, ``coefs_[l]`` (D_l, M_l) and ``intercepts_[l]``
(M_l,), and Keras's (a Dense layer's kernel is (D, M)), so a fitted model's weights can be
fed in unchanged: :func:`predict_proba` reproduces ``MLPClassifier.predict_proba``.

Example
-------
>>> import numpy as np
>>> from nblib import mlp
>>> W1, b1 = np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([0.0, -1.0])   # XOR by hand
>>> W2, b2 = np.array([[1.0], [-2.0]]), np.array([0.0])
>>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
>>> out, cache = mlp.forward(X, [W1, W2], [b1, b2], activation="relu", output="linear")
>>> out.ravel()
array([0., 1., 1., 0.])
>>> [z.shape for z in cache.z]
[(4, 2), (4, 1)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nblib import activations, losses
from nblib._reference import reference
from nblib._registry import Registry
from nblib._validation import as_matrix
from nblib.layers import ActivationCache, DenseCache, activation_backward, dense_backward, dense_forward

__all__ = ["forward", "logits", "backward", "dense", "predict_proba", "from_sklearn", "Cache", "OUTPUTS"]

# The last layer's activation, by Keras's names; scikit-learn's are accepted too.
OUTPUTS = Registry("output", {
    "softmax": losses.softmax,       # each row a probability distribution over classes
    "sigmoid": activations.sigmoid,  # independent yes/no probabilities
    "linear": activations.linear,    # raw scores (regression, or logits)
}, aliases={"logistic": "sigmoid", "identity": "linear"})


@dataclass(frozen=True)
class Cache:
    """What the forward pass keeps for the backward pass, one entry per layer l = 1..L.

    Attributes
    ----------
    inputs : tuple of ndarray
        A_{l-1}, each (N, D_l): what layer l received (``inputs[0]`` is X).
    z : tuple of ndarray
        Z_l = A_{l-1} @ W_l + b_l, each (N, M_l): the pre-activations.
    a : tuple of ndarray
        A_l, each (N, M_l): the layer outputs; ``a[-1]`` is the network's output.
    activation, output : str
        The hidden and output activations used.
    """

    inputs: tuple
    z: tuple
    a: tuple
    activation: str
    output: str


@reference
def dense(X, W, b):
    """One fully connected layer's weighted sums: Z = X @ W + b.

    Parameters
    ----------
    X : array_like, shape (N, D)
    W : array_like, shape (D, M)
    b : array_like, shape (M,)

    Returns
    -------
    ndarray, shape (N, M)
    """
    return dense_forward(as_matrix(X, "X"), W, b)[0]  # (N, D) @ (D, M) + (M,) -> (N, M); checks W and b


@reference
def forward(X, weights, biases, *, activation: str = "relu", output: str = "softmax"):
    """The forward pass of an MLP on a batch; returns the output and the cache.

    Parameters
    ----------
    X : array_like, shape (N, D)
    weights : sequence of array_like
        W_1 (D, H_1), W_2 (H_1, H_2), ..., W_L (H_{L-1}, M).
    biases : sequence of array_like
        b_1 (H_1,), ..., b_L (M,).
    activation : str
        Hidden layers' activation, any name :func:`nblib.activations.get` knows ("relu",
        "tanh", "logistic", "identity", ...).
    output : {"softmax", "sigmoid", "linear"}
        The last layer's activation (scikit-learn's "logistic" and "identity" are accepted too).

    Returns
    -------
    out : ndarray, shape (N, M)
    cache : Cache
    """
    weights, biases = list(weights), list(biases)
    if not weights or len(weights) != len(biases):
        raise ValueError(f"give one bias vector per weight matrix, at least one layer: "
                         f"got {len(weights)} weight matrices and {len(biases)} bias vectors")
    hidden, _derivative = activations.get(activation)
    final = OUTPUTS[output]

    a = as_matrix(X, "X")
    inputs, zs, outs = [], [], []
    for layer, (W, b) in enumerate(zip(weights, biases), start=1):
        try:
            z, _ = dense_forward(a, W, b)  # (N, D_l) @ (D_l, M_l) + (M_l,) -> (N, M_l)
        except ValueError as error:
            raise ValueError(f"layer {layer}: {error}") from None
        inputs.append(a)
        zs.append(z)
        a = final(z) if layer == len(weights) else hidden(z)
        outs.append(a)
    return a, Cache(tuple(inputs), tuple(zs), tuple(outs), activation, OUTPUTS.canonical(output))


def logits(X, weights, biases, *, activation: str = "relu"):
    """:func:`forward` with no output activation: the logits (N, C) and the cache.

    Week 4's homework calls it ``forward``: a classifier's backward pass starts from the logits,
    since softmax is folded into the loss.
    """
    return forward(X, weights, biases, activation=activation, output="linear")


@reference
def backward(dZ_out, cache: Cache, weights):
    """Backpropagation through :func:`forward`: the gradient of the loss for every W_l, b_l.

    Parameters
    ----------
    dZ_out : array_like, shape (N, M)
        dLoss/dZ_L, the gradient at the last layer's pre-activation. For softmax with the
        mean cross-entropy it is (P - Y) / N (:func:`nblib.layers.softmax_cross_entropy_backward`).
    cache : Cache
        From ``forward``: each layer's input A_{l-1} and pre-activation Z_l.
    weights : sequence of array_like
        W_1 .. W_L, the same as given to ``forward``.

    Returns
    -------
    dweights : list of ndarray
        dW_l, each the shape of W_l, in layer order 1..L.
    dbiases : list of ndarray
        db_l, each (M_l,).

    Notes
    -----
    From the top, for l = L, ..., 1:

        dW_l = A_{l-1}.T @ dZ_l,  db_l = sum_n dZ_l,  dA_{l-1} = dZ_l @ W_l.T
        dZ_{l-1} = dA_{l-1} * g'(Z_{l-1})

    Every W_l is used as it was in the forward pass: update weights only after this returns.
    """
    weights = list(weights)
    if len(weights) != len(cache.z):
        raise ValueError(f"the cache has {len(cache.z)} layers but {len(weights)} weight matrices were given")
    dZ = as_matrix(dZ_out, "dZ_out")
    if dZ.shape != cache.z[-1].shape:
        raise ValueError(f"dZ_out must have the shape of the output, {cache.z[-1].shape}, got {dZ.shape}")
    dweights, dbiases = [], []
    for layer in reversed(range(len(weights))):
        dA, dW, db = dense_backward(dZ, DenseCache(cache.inputs[layer], as_matrix(weights[layer], "W")))
        dweights.append(dW)
        dbiases.append(db)
        if layer > 0:
            dZ = activation_backward(dA, ActivationCache(cache.z[layer - 1], cache.activation))
    return dweights[::-1], dbiases[::-1]


def from_sklearn(model) -> dict:
    """The keyword arguments that make :func:`forward` compute a fitted scikit-learn MLP.

    >>> from sklearn.neural_network import MLPClassifier
    >>> model = MLPClassifier(hidden_layer_sizes=(3,), solver="lbfgs").fit([[0.0], [1.0]], [0, 1])
    >>> sorted(from_sklearn(model))
    ['activation', 'biases', 'output', 'weights']
    """
    for attribute in ("coefs_", "intercepts_", "activation", "out_activation_"):
        if not hasattr(model, attribute):
            raise TypeError(f"expected a fitted sklearn MLPClassifier or MLPRegressor, got {type(model).__name__} "
                            f"without {attribute}")
    return {"weights": model.coefs_, "biases": model.intercepts_,
            "activation": model.activation, "output": model.out_activation_}


def predict_proba(X, weights, biases, *, activation: str = "relu", output: str = "softmax"):
    """Class probabilities in scikit-learn's layout, shape (N, C).

    A binary classifier has one sigmoid output unit, p = P(class 1); scikit-learn reports
    the two columns [1 - p, p], and so does this.
    """
    out, _ = forward(X, weights, biases, activation=activation, output=output)
    if out.shape[1] == 1 and OUTPUTS.canonical(output) == "sigmoid":
        return np.hstack([1.0 - out, out])
    return out
