"""The perceptron: one artificial neuron, its learning rule, and its multi-output form.

A neuron takes inputs x (D,), weights w (D,) and a bias b, forms the weighted sum
z = w . x + b and passes it through a non-linearity g: y_hat = g(z). With a whole batch
X (N, D) at once, z = X @ w + b has shape (N,).

- The perceptron (Rosenblatt, 1958) uses the step g(z) = 1 if z >= 0 else 0 and learns with
  w <- w + lr (t - y_hat) x, b <- b + lr (t - y_hat), one example at a time. Only mistakes
  change anything, since t - y_hat = 0 when the prediction is right.
- Logistic regression is the same neuron with g = sigmoid: a probability instead of a label.
- M neurons side by side share the inputs: Z = X @ W + b with W (D, M), b (M,), Z (N, M),
  i.e. z_i = b_i + sum_j x_j W_ji, the lecture's z_i = w_0i + sum_j x_j w_ji.

The decision boundary w . x + b = 0 is a line in 2-D (a hyperplane in D dimensions). The
learning rule converges whenever some line separates the classes (Novikoff, 1962); for XOR
none does, so the number of mistakes per epoch never reaches zero.

Example
-------
>>> import numpy as np
>>> from nblib import perceptron
>>> w, b = np.array([5.0, -3.0]), 1.0          # the lecture's example neuron
>>> X = np.array([[-3.0, 2.0]])
>>> perceptron.net_input(X, w, b)                # 1 + 5(-3) - 3(2)
array([-20.])
>>> print(f"{perceptron.sigmoid_neuron(X, w, b)[0]:.3g}")
2.06e-09
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nblib._reference import reference
from nblib._validation import as_labels, as_layer, as_matrix, as_scalar, as_vector, check_int, check_positive
from nblib.activations import sigmoid

__all__ = [
    "net_input", "step", "predict", "sigmoid_neuron", "multi_output_forward",
    "train", "PerceptronFit", "converges",
]


def _neuron_inputs(X, w, b):
    X = as_matrix(X, "X")
    w = as_vector(w, "w", length=X.shape[1])
    return X, w, as_scalar(b, "b")


def net_input(X, w, b):
    """Weighted sums z = X @ w + b, one per example.

    Parameters
    ----------
    X : array_like, shape (N, D)
    w : array_like, shape (D,)
    b : float

    Returns
    -------
    z : ndarray, shape (N,)
    """
    X, w, b = _neuron_inputs(X, w, b)
    return X @ w + b  # (N, D) @ (D,) -> (N,)


def step(z):
    """Class labels from weighted sums: 1 where z >= 0, else 0 (integers)."""
    return (np.asarray(z) >= 0).astype(np.int64)


@reference
def predict(X, w, b):
    """Perceptron predictions step(X @ w + b), shape (N,), values in {0, 1}."""
    return step(net_input(X, w, b))


@reference
def sigmoid_neuron(X, w, b):
    """Probabilities sigmoid(X @ w + b), shape (N,): logistic regression's ``predict_proba[:, 1]``."""
    return sigmoid(net_input(X, w, b))


@reference
def multi_output_forward(X, W, b):
    """M neurons at once: Z = X @ W + b.

    Parameters
    ----------
    X : array_like, shape (N, D)
    W : array_like, shape (D, M)
        Column i holds neuron i's weights.
    b : array_like, shape (M,)

    Returns
    -------
    Z : ndarray, shape (N, M)
        Z[n, i] = b[i] + sum_j X[n, j] W[j, i].
    """
    X, W, b = as_layer(X, W, b)
    return X @ W + b  # (N, D) @ (D, M) + (M,) -> (N, M)


@dataclass(frozen=True)
class PerceptronFit:
    """What :func:`train` learned, and how.

    Attributes
    ----------
    w : ndarray, shape (D,)
        Final weights.
    b : float
        Final bias.
    errors : ndarray of int, shape (E,)
        Mistakes (= updates) made in each of the E epochs run.
    weights : ndarray, shape (E + 1, D)
        Weights before training (row 0) and after each epoch.
    biases : ndarray, shape (E + 1,)
        Biases before training and after each epoch.
    """

    w: np.ndarray
    b: float
    errors: np.ndarray
    weights: np.ndarray
    biases: np.ndarray

    @property
    def converged(self) -> bool:
        """True when the last epoch made no mistake: the data are separated."""
        return len(self.errors) > 0 and bool(self.errors[-1] == 0)

    def predict(self, X):
        """Labels in {0, 1} for X (N, D) from the final weights."""
        return predict(X, self.w, self.b)


@reference
def train(X, y, *, lr: float = 1.0, epochs: int = 100, w0=None, b0: float = 0.0) -> PerceptronFit:
    """Rosenblatt's perceptron learning rule, one example at a time, in order.

    Parameters
    ----------
    X : array_like, shape (N, D)
    y : array_like of int, shape (N,)
        Targets in {0, 1}.
    lr : float
        Learning rate (> 0).
    epochs : int
        Maximum passes over the data. Training stops early after an epoch with no mistake.
    w0 : array_like, shape (D,), optional
        Initial weights (default zeros).
    b0 : float
        Initial bias.

    Returns
    -------
    PerceptronFit

    Notes
    -----
    For each example: y_hat = step(w . x + b); w += lr (t - y_hat) x; b += lr (t - y_hat).

    This makes the same updates as ``sklearn.linear_model.Perceptron(eta0=lr, shuffle=False,
    penalty=None, tol=None, max_iter=epochs)`` fit from ``coef_init=w0, intercept_init=b0``,
    as long as no example lands exactly on the boundary z = 0. There the step says "1", while
    scikit-learn counts z = 0 as a mistake for either class (its rule: update when t z <= 0,
    with t in {-1, +1}).
    """
    X = as_matrix(X, "X")
    n, d = X.shape
    y = as_labels(y, "y", n_classes=2, length=n)
    lr = check_positive(lr, "lr")
    epochs = check_int(epochs, "epochs", minimum=1)
    w = np.zeros(d) if w0 is None else as_vector(w0, "w0", length=d).astype(float)  # a copy
    b = as_scalar(b0, "b0")

    weights, biases, errors = [w.copy()], [b], []
    for _ in range(epochs):
        mistakes = 0
        for x_i, t_i in zip(X, y):
            delta = t_i - (1 if x_i @ w + b >= 0 else 0)  # 0 if right, +1 or -1 if wrong
            if delta:
                w = w + lr * delta * x_i
                b = b + lr * delta
                mistakes += 1
        errors.append(mistakes)
        weights.append(w.copy())
        biases.append(b)
        if mistakes == 0:
            break
    return PerceptronFit(
        w=w, b=float(b), errors=np.array(errors), weights=np.array(weights), biases=np.array(biases)
    )


@reference
def converges(X, y, *, lr: float = 1.0, max_epochs: int = 100) -> bool:
    """Whether the perceptron separates (X, y) within ``max_epochs`` epochs.

    True on linearly separable data given enough epochs; always False on XOR.
    """
    return train(X, y, lr=lr, epochs=max_epochs).converged
