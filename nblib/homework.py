"""nblib's answers in the homeworks' own signatures, to stand in for a student's earlier exercise.

One exercise, one judgement: when exercise k calls the student's exercise j < k, its tests
run it with nblib's answer to exercise j in its place (``checks.standing_in(sigmoid=
homework.sigmoid)``), so a mistake in j costs j's points only. A stand-in must have the
homework's signature exactly, argument for argument, and be a module-level nblib function
(the grader names it to the student's kernel). Where a library function already has that
signature it stands in itself (``mlp.backward``, ``optim.momentum_step``); every other one is
here, named as the homework names it. Each is also the exercise's ``@reference``, switched
off while that exercise is tested.

The maths is never repeated: each calls the library's function.
"""

from __future__ import annotations

import numpy as np

from nblib import activations, data, init, layers, losses, mlp, optim, perceptron, recurrent, training
from nblib._reference import reference
from nblib._validation import as_float_array, as_matrix, check_same_shape
from nblib.layers import ActivationCache, DenseCache, activation_backward as _activation_backward
from nblib.layers import dense_backward as _dense_backward, softmax_cross_entropy

__all__ = [
    "train_perceptron",                                                    # week 1
    "sigmoid", "relu", "leaky_relu", "elu", "softplus",                    # week 2
    "softmax", "categorical_cross_entropy",                                # week 3
    "dense_backward", "activation_backward", "sgd_train_step", "train",   # week 4
    "rnn_step", "rnn_forward", "rnn_backward", "lstm_bias", "lstm_step",   # week 8
    "lstm_forward", "memory_task",
]


# --- week 1 -------------------------------------------------------------------------------------

@reference
def train_perceptron(X, y, *, lr: float = 1.0, epochs: int = 100, w0=None, b0: float = 0.0):
    """:func:`nblib.perceptron.train` with the week-1 homework's signature: returns ``(w, b, errors)``.

    Returns
    -------
    w : ndarray, shape (D,)
    b : float
    errors : list of int
        Mistakes in each epoch run; training stops after the first epoch without any.

    Example
    -------
    >>> from nblib import data
    >>> w, b, errors = train_perceptron(*data.logic_gate("and"))
    >>> w, b, errors
    (array([2., 1.]), -3.0, [2, 3, 3, 2, 1, 0])
    """
    fit = perceptron.train(X, y, lr=lr, epochs=epochs, w0=w0, b0=b0)
    return fit.w, fit.b, fit.errors.tolist()


# --- week 2: argument ``z``, the slope and alpha positional-or-keyword with the same defaults ----

@reference
def sigmoid(z):
    """:func:`nblib.activations.sigmoid` as the week-2 homework's ``sigmoid(z)``."""
    return activations.sigmoid(z)


@reference
def relu(z):
    """:func:`nblib.activations.relu` as the week-2 homework's ``relu(z)``."""
    return activations.relu(z)


@reference
def leaky_relu(z, negative_slope=0.01):
    """:func:`nblib.activations.leaky_relu` as the week-2 homework's ``leaky_relu(z, negative_slope=0.01)``."""
    return activations.leaky_relu(z, negative_slope=negative_slope)


@reference
def elu(z, alpha=1.0):
    """:func:`nblib.activations.elu` as the week-2 homework's ``elu(z, alpha=1.0)``."""
    return activations.elu(z, alpha=alpha)


@reference
def softplus(z):
    """:func:`nblib.activations.softplus` as the week-2 homework's ``softplus(z)``."""
    return activations.softplus(z)


# --- week 3 -------------------------------------------------------------------------------------

@reference
def softmax(Z):
    """:func:`nblib.losses.softmax` over the rows, as the week-3 homework's ``softmax(Z)``:
    each row of the ``(N, C)`` logits becomes probabilities (float64, shape ``(N, C)``).

    Example
    -------
    >>> softmax(np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]]))
    array([[0.5 , 0.5 ],
           [0.25, 0.75]])
    """
    return losses.softmax(Z, axis=1)


@reference
def categorical_cross_entropy(Y, P, from_logits=False):
    """:func:`nblib.losses.categorical_cross_entropy` as the week-3 homework's
    ``categorical_cross_entropy(Y, P, from_logits=False)``, returning a float.

    ``from_logits`` may be passed by position, as a student's exercise 5 may call it.

    Parameters
    ----------
    Y : array_like, shape (N, C)
        One-hot labels.
    P : array_like, shape (N, C)
        Probabilities (clipped into [EPSILON, 1 - EPSILON]), or logits when ``from_logits``.
    from_logits : bool

    Returns
    -------
    loss : float
        The mean over the batch of -sum_k Y_nk log P_nk.

    Example
    -------
    >>> categorical_cross_entropy(np.array([[0, 1]]), np.array([[1000.0, -1000.0]]), True)
    2000.0
    """
    Y, P = as_matrix(Y, "Y"), as_matrix(P, "P")
    check_same_shape(Y, P, ("Y", "P"))
    if from_logits:
        log_p = losses.log_softmax(P, axis=1)                                    # (N, C)
    else:
        log_p = np.log(np.clip(P, losses.EPSILON, 1 - losses.EPSILON))
    return float(-(Y * log_p).sum(axis=1).mean())                              # (N, C) -> (N,) -> ()


# --- week 4 -------------------------------------------------------------------------------------

@reference
def dense_backward(dZ, X, W):
    """:func:`nblib.layers.dense_backward` as the week-4 homework's ``dense_backward(dZ, X, W)``.

    Parameters
    ----------
    dZ : array_like, shape (N, M)
    X : array_like, shape (N, D)
    W : array_like, shape (D, M)

    Returns
    -------
    dX (N, D), dW (D, M), db (M,)
    """
    dZ, X, W = as_matrix(dZ, "dZ"), as_matrix(X, "X"), as_matrix(W, "W")
    if X.shape[0] != dZ.shape[0] or W.shape != (X.shape[1], dZ.shape[1]):
        raise ValueError(f"dZ (N, M), X (N, D) and W (D, M) do not fit: got dZ {dZ.shape}, X {X.shape}, W {W.shape}")
    return _dense_backward(dZ, DenseCache(X, W))


@reference
def activation_backward(dA, Z, activation: str):
    """:func:`nblib.layers.activation_backward` as the week-4 homework's
    ``activation_backward(dA, Z, activation)``: dZ = dA * g'(Z), shape (N, M)."""
    activations.get(activation)  # an unknown name is named first
    dA, Z = as_float_array(dA, "dA"), as_float_array(Z, "Z")
    if dA.shape != Z.shape:
        raise ValueError(f"dA and Z must have the same shape, got {dA.shape} and {Z.shape}")
    return _activation_backward(dA, ActivationCache(Z, activations.ACTIVATIONS.canonical(activation)))


@reference
def sgd_train_step(X, y, weights, biases, *, lr: float, activation: str = "relu"):
    """One step of plain SGD on an MLP's mean softmax cross-entropy, as the week-4 homework's
    ``sgd_train_step``.

    Parameters
    ----------
    X : array_like, shape (N, D)
    y : array_like of int, shape (N,)
    weights, biases : sequences of ndarray
        W_l (D_l, M_l) and b_l (M_l,), as for :func:`nblib.mlp.forward`; not modified.
    lr : float
        The learning rate.
    activation : str
        The hidden layers' activation; the last layer outputs logits.

    Returns
    -------
    loss : float
        The mean cross-entropy on the batch, before the update.
    new_weights, new_biases : list of ndarray
        W_l - lr dW_l and b_l - lr db_l, new arrays.

    Notes
    -----
    Every gradient is computed with the weights of the forward pass, then all are updated.

    Example
    -------
    >>> X, y = np.array([[2.0, 1.0]]), np.array([0])
    >>> weights, biases = [np.array([[1.0], [-1.0]]), np.array([[2.0, -1.0]])], [np.zeros(1), np.zeros(2)]
    >>> loss, new_weights, new_biases = sgd_train_step(X, y, weights, biases, lr=0.1)
    >>> round(loss, 6), new_biases[1]            # loss = log(1 + e^-3); db_2 = softmax(2, -1) - (1, 0)
    (0.048587, array([ 0.00474259, -0.00474259]))
    """
    logits, cache = mlp.logits(X, weights, biases, activation=activation)   # (N, C)
    loss, dlogits = softmax_cross_entropy(logits, y)
    dweights, dbiases = mlp.backward(dlogits, cache, weights)
    new_weights = [np.asarray(W, dtype=float) - lr * dW for W, dW in zip(weights, dweights)]
    new_biases = [np.asarray(b, dtype=float) - lr * db for b, db in zip(biases, dbiases)]
    return loss, new_weights, new_biases


@reference
def train(X, y, *, hidden=64, epochs=20, batch_size=32, lr=0.1, rng):
    """Train a one-hidden-layer ReLU network with mini-batch SGD, as the week-4 homework's ``train``.

    Parameters
    ----------
    X : array_like, shape (N, D)
    y : array_like of int, shape (N,)
        Labels in [0, C), C = y.max() + 1.
    hidden, epochs, batch_size : int
    lr : float
    rng : np.random.Generator or int
        Draws W_1 (D, hidden) then W_2 (hidden, C) from Glorot's uniform range, then a new
        order of the examples each epoch (:func:`nblib.training.fit`).

    Returns
    -------
    weights : [W_1 (D, hidden), W_2 (hidden, C)]
    biases : [b_1 (hidden,), b_2 (C,)]
    losses : list of float
        Each epoch's mean loss over its examples: sum(batch loss * batch size) / N.

    Example
    -------
    >>> X, y = data.iris().X_train, data.iris().y_train          # (112, 4), 3 classes
    >>> weights, biases, losses = train(X, y, hidden=8, epochs=3, rng=0)
    >>> [W.shape for W in weights], len(losses)
    ([(4, 8), (8, 3)], 3)
    """
    rng = np.random.default_rng(rng)
    X, y = as_matrix(X, "X"), np.asarray(y)
    sizes = [X.shape[1], hidden, int(y.max()) + 1]
    weights = [init.glorot_uniform((d, m), rng=rng) for d, m in zip(sizes[:-1], sizes[1:])]  # W_1, then W_2
    biases = [np.zeros(m) for m in sizes[1:]]
    if epochs == 0:
        return weights, biases, []
    model = layers.Sequential.from_weights(weights, biases)  # layer 2l holds W_l and b_l
    history = training.fit(model, X, y, optimizer=optim.SGD(lr), epochs=epochs, batch_size=batch_size, rng=rng)
    params = model.parameters()
    return [params["0.W"], params["2.W"]], [params["0.b"], params["2.b"]], [float(v) for v in history.loss]


# --- week 8: sequences (N, T, D), weights in Keras's layout; no caches (the homework returns values) ---

@reference
def rnn_step(x_t, h_prev, Wx, Wh, b):
    """:func:`nblib.recurrent.rnn_step` as the week-8 homework's ``rnn_step``: returns h (N, H) only.

    Example
    -------
    >>> rnn_step(np.array([[1.0]]), np.array([[0.0]]), np.array([[0.5]]), np.array([[1.0]]), np.zeros(1)).round(4)
    array([[0.4621]])
    """
    h, _ = recurrent.rnn_step(x_t, h_prev, Wx, Wh, b)
    return h


@reference
def rnn_forward(x, Wx, Wh, b, *, h0=None, return_sequences=True):
    """:func:`nblib.recurrent.rnn_forward` as the week-8 homework's ``rnn_forward``: returns ``out``,
    every hidden state (N, T, H), or only the last (N, H)."""
    out, _ = recurrent.rnn_forward(x, Wx, Wh, b, h0=h0, return_sequences=return_sequences)
    return out


@reference
def rnn_backward(dhs, x, hs, h0, Wx, Wh):
    """:func:`nblib.recurrent.rnn_backward` as the week-8 homework's ``rnn_backward``.

    Parameters
    ----------
    dhs : array_like, shape (N, T, H)
        dLoss/dh_t from the outputs at every step (zeros where a step's output is not used).
    x : array_like, shape (N, T, D)
    hs : array_like, shape (N, T, H)
        Every hidden state of the forward pass, h_1 .. h_T.
    h0 : array_like, shape (N, H)
    Wx : array_like, shape (D, H)
    Wh : array_like, shape (H, H)

    Returns
    -------
    dx : ndarray, shape (N, T, D)
    dWx : ndarray, shape (D, H)
    dWh : ndarray, shape (H, H)
    db : ndarray, shape (H,)
    """
    x, hs, h0 = (np.asarray(a, dtype=float) for a in (x, hs, h0))
    cache = recurrent.RNNCache(x, h0, np.asarray(Wx, dtype=float), np.asarray(Wh, dtype=float), hs, True)
    return recurrent.rnn_backward(dhs, cache)


@reference
def lstm_bias(units):
    """:func:`nblib.recurrent.lstm_bias` as the week-8 homework's ``lstm_bias(units)``: zeros, 1 for the forget gate."""
    return recurrent.lstm_bias(units)


@reference
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    """:func:`nblib.recurrent.lstm_step` as the week-8 homework's ``lstm_step``: returns the pair (h, c)."""
    state, _ = recurrent.lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias)
    return state


@reference
def lstm_forward(x, kernel, recurrent_kernel, bias, *, h0=None, c0=None, return_sequences=True):
    """:func:`nblib.recurrent.lstm_forward` as the week-8 homework's ``lstm_forward``: returns
    ``(out, h_T, c_T)``, as ``keras.layers.LSTM(return_state=True)`` does."""
    out, (h, c), _ = recurrent.lstm_forward(x, kernel, recurrent_kernel, bias, h0=h0, c0=c0,
                                            return_sequences=return_sequences)
    return out, h, c


@reference
def memory_task(n, T, *, rng):
    """:func:`nblib.data.memory_task` (noise 4) as the week-8 homework's ``memory_task(n, T, *, rng)``."""
    return data.memory_task(n, T, rng=rng)
