"""Recurrent layers: :class:`SimpleRNN`, :class:`LSTM` and :class:`GRU` around :mod:`nblib.recurrent`.

    x (N, T, D) -> every hidden state (N, T, H)    with return_sequences=True
                -> the last one, h_T (N, H)        otherwise (the default, as in Keras)

Parameters are in Keras's layout and order, so ``keras_layer.set_weights(list(layer.params.values()))``
gives a Keras layer the same weights; initialised as Keras does: a Glorot-uniform kernel, an
orthogonal recurrent kernel, a zero bias (with 1 for the LSTM's forget gate). The initial state
is zero. ``Sequential([LSTM(D, H, rng=rng), Dense(H, C, rng=rng)])`` classifies sequences.

>>> import numpy as np
>>> from nblib.layers.dense import Dense
>>> from nblib.layers.sequential import Sequential
>>> rng = np.random.default_rng(0)
>>> model = Sequential([LSTM(3, 8, rng=rng), Dense(8, 2, rng=rng)])
>>> model
Sequential([LSTM(3, 8), Dense(8, 2)])
>>> model.forward(np.ones((5, 10, 3))).shape                 # (N, T, D) -> (N, H) -> (N, C) logits
(5, 2)
>>> sorted(model.parameters())
['0.bias', '0.kernel', '0.recurrent_kernel', '1.W', '1.b']
"""

from __future__ import annotations

import numpy as np

from nblib import init, recurrent
from nblib._validation import check_int
from nblib.layers._base import Layer

__all__ = ["SimpleRNN", "LSTM", "GRU"]


class _Recurrent(Layer):
    """What the three layers share: sizes, return_sequences, Keras-style weights, a repr."""

    names: tuple = ()  # the params' keys, in Keras's order of get_weights()

    def __init__(self, n_in: int, units: int, *, return_sequences: bool = False, rng: np.random.Generator):
        super().__init__()
        n_in, units = check_int(n_in, "n_in", minimum=1), check_int(units, "units", minimum=1)
        self.return_sequences = bool(return_sequences)
        self.params = dict(zip(self.names, self._initial(n_in, units, rng)))
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    @classmethod
    def from_weights(cls, *weights, return_sequences: bool = False):
        """A layer holding copies of the given weights, in Keras's order (``keras_layer.get_weights()``)."""
        if len(weights) != len(cls.names):
            raise ValueError(f"{cls.__name__} takes {len(cls.names)} weights {cls.names}, got {len(weights)}")
        layer = cls.__new__(cls)
        Layer.__init__(layer)
        layer.return_sequences = bool(return_sequences)
        layer.params = {k: np.array(w, dtype=float) for k, w in zip(cls.names, weights)}
        layer.grads = {k: np.zeros_like(v) for k, v in layer.params.items()}
        layer._forward(np.zeros((1, 1, layer.params[cls.names[0]].shape[0])))  # checks the shapes agree
        return layer

    @property
    def units(self) -> int:
        return self.params[self.names[1]].shape[0]

    def __repr__(self) -> str:
        extra = ", return_sequences=True" if self.return_sequences else ""
        return f"{type(self).__name__}({self.params[self.names[0]].shape[0]}, {self.units}{extra})"


class SimpleRNN(_Recurrent):
    """A simple RNN layer, h_t = tanh(x_t Wx + h_{t-1} Wh + b), like ``keras.layers.SimpleRNN``.

    Parameters
    ----------
    n_in : int
        D, the features per time step.
    units : int
        H, the size of the hidden state.
    return_sequences : bool
        Output every hidden state (N, T, H), or only the last (N, H).
    rng : np.random.Generator

    Notes
    -----
    ``params``: "Wx" (D, H) Glorot-uniform, "Wh" (H, H) orthogonal, "b" (H,) zeros.
    """

    names = ("Wx", "Wh", "b")

    @staticmethod
    def _initial(n_in, units, rng):
        return init.glorot_uniform((n_in, units), rng=rng), init.orthogonal((units, units), rng=rng), np.zeros(units)

    def _forward(self, x):
        return recurrent.rnn_forward(x, *self.params.values(), return_sequences=self.return_sequences)

    def _backward(self, dout, cache):
        return recurrent.rnn_backward(dout, cache)


class LSTM(_Recurrent):
    """A long short-term memory layer in Keras's layout (gates i, f, c, o), like ``keras.layers.LSTM``.

    Parameters
    ----------
    n_in : int
        D, the features per time step.
    units : int
        H, the size of the hidden and cell states.
    return_sequences : bool
        Output every hidden state (N, T, H), or only the last (N, H).
    rng : np.random.Generator

    Notes
    -----
    ``params``: "kernel" (D, 4H) Glorot-uniform, "recurrent_kernel" (H, 4H) orthogonal,
    "bias" (4H,) zeros with 1 for the forget gate (Keras's ``unit_forget_bias=True``).
    The equations are those of :func:`nblib.recurrent.lstm_step`.
    """

    names = ("kernel", "recurrent_kernel", "bias")

    @staticmethod
    def _initial(n_in, units, rng):
        return (init.glorot_uniform((n_in, 4 * units), rng=rng), init.orthogonal((units, 4 * units), rng=rng),
                recurrent.lstm_bias(units))

    def _forward(self, x):
        out, _, cache = recurrent.lstm_forward(x, *self.params.values(), return_sequences=self.return_sequences)
        return out, cache

    def _backward(self, dout, cache):
        return recurrent.lstm_backward(dout, cache)


class GRU(_Recurrent):
    """A gated recurrent unit layer, like ``keras.layers.GRU`` (reset_after=True, gates z, r, h).

    Parameters
    ----------
    n_in : int
        D, the features per time step.
    units : int
        H, the size of the hidden state.
    return_sequences : bool
        Output every hidden state (N, T, H), or only the last (N, H).
    rng : np.random.Generator

    Notes
    -----
    ``params``: "kernel" (D, 3H) Glorot-uniform, "recurrent_kernel" (H, 3H) orthogonal,
    "bias" (2, 3H) zeros. The equations are those of :func:`nblib.recurrent.gru_step`.
    """

    names = ("kernel", "recurrent_kernel", "bias")

    @staticmethod
    def _initial(n_in, units, rng):
        return (init.glorot_uniform((n_in, 3 * units), rng=rng), init.orthogonal((units, 3 * units), rng=rng),
                np.zeros((2, 3 * units)))

    def _forward(self, x):
        return recurrent.gru_forward(x, *self.params.values(), return_sequences=self.return_sequences)

    def _backward(self, dout, cache):
        return recurrent.gru_backward(dout, cache)
