"""Recurrent networks: the simple RNN, the LSTM and the GRU, step by step and over a sequence.

A recurrent cell reads a sequence one step at a time and carries a hidden state h from step
to step; the same weights are used at every step. Sequences are batch first, ``(N, T, D)``.

    simple RNN   h_t = tanh(x_t Wx + h_{t-1} Wh + b)
    LSTM         z = x_t kernel + h_{t-1} recurrent_kernel + bias        (N, 4H), gates i, f, c, o
                 i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o);  g = tanh(z_c)
                 c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
    GRU          z, r = sigmoid(...), sigmoid(...);  hh = tanh(x_t K_h + b_h + r * (h_{t-1} R_h + b'_h))
                 h_t = z * h_{t-1} + (1 - z) * hh                        (Keras's reset_after=True)

Every operation keeps the course's contract: a forward returns ``(out, cache)`` (the LSTM
also the final state ``(h, c)``, like Keras's ``return_state``), a backward returns the
gradient of each input in order. Backpropagation through time (BPTT) is the chain rule run
backwards over the unrolled steps: the gradient reaching h_t is what the output at t sends
plus what step t + 1 sends back through Wh, and the weights' gradients are *summed* over the
steps, since the same weights act at every step.

Every public function here is a homework reference (``@reference``): week 8's homework switches
it off while a student's own version runs, so calling it earns nothing there.

The weights are in Keras's layout, so ``keras.layers.SimpleRNN``, ``LSTM`` and ``GRU`` take
them with ``set_weights`` and give the same outputs:

==========  ====================  ======================  ==========  ===========
cell        kernel                recurrent kernel        bias        gate order
==========  ====================  ======================  ==========  ===========
SimpleRNN   ``Wx`` (D, H)         ``Wh`` (H, H)           (H,)
LSTM        (D, 4H)               (H, 4H)                 (4H,)       i, f, c, o
GRU         (D, 3H)               (H, 3H)                 (2, 3H)     z, r, h
==========  ====================  ======================  ==========  ===========

Example
-------
>>> import numpy as np
>>> from nblib import recurrent
>>> x = np.ones((2, 5, 3))                                   # N = 2 sequences, T = 5, D = 3
>>> Wx, Wh, b = np.full((3, 4), 0.1), np.eye(4) * 0.5, np.zeros(4)
>>> out, cache = recurrent.rnn_forward(x, Wx, Wh, b)         # every hidden state
>>> out.shape
(2, 5, 4)
>>> dx, dWx, dWh, db = recurrent.rnn_backward(np.ones_like(out), cache)
>>> dx.shape, dWx.shape, dWh.shape, db.shape
((2, 5, 3), (3, 4), (4, 4), (4,))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nblib._reference import reference
from nblib._validation import as_float_array, as_matrix, check_int
from nblib.activations import sigmoid, tanh

__all__ = [
    "RNNStepCache", "RNNCache", "rnn_step", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "LSTMStepCache", "LSTMCache", "lstm_step", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "GRUStepCache", "GRUCache", "gru_step", "gru_step_backward", "gru_forward", "gru_backward",
    "lstm_bias", "LSTM_GATES", "GRU_GATES",
]

LSTM_GATES = ("i", "f", "c", "o")  # Keras's order of the four blocks of the LSTM's weights
GRU_GATES = ("z", "r", "h")        # and of the GRU's three


# --- input checks -----------------------------------------------------------------------------------

def _sequence(x, name: str = "x") -> np.ndarray:
    """x as a float array of shape (N, T, D)."""
    arr = as_float_array(x, name)
    if arr.ndim != 3:
        hint = f" ({name}[None] for one sequence (T, D), {name}[..., None] for one feature (N, T))"
        raise ValueError(f"{name} must be a batch of sequences of shape (N, T, D), got shape {arr.shape}"
                         f"{hint if arr.ndim == 2 else ''}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} must hold at least one time step, got shape {arr.shape}")
    return arr


def _weights(n_in: int, kernel, recurrent_kernel, bias, *, gates: int, bias_rows: int | None = None):
    """Check a cell's weights in Keras's layout against the input size D; return them and H.

    kernel (D, gates*H), recurrent_kernel (H, gates*H), bias (gates*H,) or (bias_rows, gates*H).
    """
    kernel = as_matrix(kernel, "kernel")
    k = "" if gates == 1 else f"{gates}"
    if kernel.shape[0] != n_in or kernel.shape[1] % gates:
        raise ValueError(f"kernel must have shape (D, {k}H) = ({n_in}, {k}H) to match the input's D = {n_in}, "
                         f"got {kernel.shape}")
    units = kernel.shape[1] // gates
    recurrent_kernel = as_matrix(recurrent_kernel, "recurrent_kernel")
    if recurrent_kernel.shape != (units, gates * units):
        raise ValueError(f"recurrent_kernel must have shape (H, {k}H) = {(units, gates * units)} to match the "
                         f"kernel {kernel.shape}, got {recurrent_kernel.shape}")
    bias = as_float_array(bias, "bias")
    expected = (gates * units,) if bias_rows is None else (bias_rows, gates * units)
    if bias.shape != expected:
        raise ValueError(f"bias must have shape {expected} to match the kernel {kernel.shape}, got {bias.shape}")
    return kernel, recurrent_kernel, bias, units


def _state(h, name: str, n: int, units: int, dtype) -> np.ndarray:
    """An initial state (N, H): zeros when not given."""
    if h is None:
        return np.zeros((n, units), dtype=dtype)
    arr = as_float_array(h, name)
    if arr.shape != (n, units):
        raise ValueError(f"{name} must have shape (N, H) = {(n, units)}, got {arr.shape}")
    return arr


def _gradient(dout, name: str, shape: tuple, dtype=np.float64) -> np.ndarray:
    """An upstream gradient of the given shape (None means zeros of the given dtype)."""
    if dout is None:
        return np.zeros(shape, dtype=dtype)
    arr = as_float_array(dout, name)
    if arr.shape != shape:
        raise ValueError(f"{name} must have the shape of the output it is the gradient of, {shape}, got {arr.shape}")
    return arr


def _step_input(x_t, name: str = "x_t") -> np.ndarray:
    """One time step of a batch as a float array (N, D)."""
    x_t = as_float_array(x_t, name)
    if x_t.ndim != 2:
        raise ValueError(f"{name} must have shape (N, D), one time step of a batch, got shape {x_t.shape}")
    return x_t


def _per_step(dout, cache) -> np.ndarray:
    """dLoss/dh_t from the outputs, (N, T, H): dout itself, or dout at the last step only."""
    N, T, H = cache.hs.shape
    if cache.return_sequences:
        return _gradient(dout, "dout", (N, T, H))
    dout = _gradient(dout, "dout", (N, H))
    dhs = np.zeros((N, T, H), dtype=np.result_type(cache.hs, dout))
    dhs[:, -1] = dout
    return dhs


def _previous(states: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """The state entering each step: (h_0, h_1, ..., h_{T-1}) from (h_1, ..., h_T) and h_0, (N, T, H)."""
    return np.concatenate([initial[:, None], states[:, :-1]], axis=1)


def _summed_over_time(inputs: np.ndarray, dz: np.ndarray) -> np.ndarray:
    """sum_t inputs_t.T @ dz_t: one weight used at every step gets every step's gradient."""
    return inputs.reshape(-1, inputs.shape[-1]).T @ dz.reshape(-1, dz.shape[-1])  # (N*T, A).T @ (N*T, B) -> (A, B)


def _output(hs: np.ndarray, return_sequences: bool) -> np.ndarray:
    return hs.copy() if return_sequences else hs[:, -1].copy()  # a copy: the cache keeps hs


# --- simple RNN -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RNNStepCache:
    """What :func:`rnn_step_backward` needs: x_t (N, D), h_prev (N, H), Wx (D, H), Wh (H, H), h (N, H)."""

    x: np.ndarray
    h_prev: np.ndarray
    Wx: np.ndarray
    Wh: np.ndarray
    h: np.ndarray


@dataclass(frozen=True)
class RNNCache:
    """What :func:`rnn_backward` needs: x (N, T, D), h0 (N, H), Wx, Wh, every hidden state hs (N, T, H)."""

    x: np.ndarray
    h0: np.ndarray
    Wx: np.ndarray
    Wh: np.ndarray
    hs: np.ndarray
    return_sequences: bool


@reference
def rnn_step(x_t, h_prev, Wx, Wh, b):
    """One step of a simple (Elman) RNN: h = tanh(x_t Wx + h_prev Wh + b).

    Parameters
    ----------
    x_t : array_like, shape (N, D)
        The inputs at this time step.
    h_prev : array_like, shape (N, H)
        The hidden state from the previous step.
    Wx : array_like, shape (D, H)
        Input-to-hidden weights (Keras's ``kernel``).
    Wh : array_like, shape (H, H)
        Hidden-to-hidden weights (Keras's ``recurrent_kernel``).
    b : array_like, shape (H,)

    Returns
    -------
    h : ndarray, shape (N, H)
    cache : RNNStepCache

    Example
    -------
    >>> import numpy as np
    >>> h, cache = rnn_step(np.array([[1.0]]), np.array([[0.5]]), np.array([[0.5]]), np.array([[1.0]]), np.zeros(1))
    >>> np.allclose(h, np.tanh(1.0 * 0.5 + 0.5 * 1.0))
    True
    """
    x_t = _step_input(x_t)
    Wx, Wh, b, units = _weights(x_t.shape[1], Wx, Wh, b, gates=1)
    h_prev = _state(h_prev, "h_prev", x_t.shape[0], units, None)
    h = tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, D) @ (D, H) + (N, H) @ (H, H) + (H,) -> (N, H)
    return h, RNNStepCache(x_t, h_prev, Wx, Wh, h)


@reference
def rnn_step_backward(dh, cache: RNNStepCache):
    """Gradients of one RNN step, given dh = dLoss/dh.

    Notes
    -----
    With a = x_t Wx + h_prev Wh + b and h = tanh(a), da = dh * (1 - h^2) (tanh' in terms of
    its output); then, as for a dense layer, dx_t = da Wx^T, dh_prev = da Wh^T,
    dWx = x_t^T da, dWh = h_prev^T da, db = sum over the batch of da.

    Parameters
    ----------
    dh : array_like, shape (N, H)
    cache : RNNStepCache

    Returns
    -------
    dx_t : ndarray, shape (N, D)
    dh_prev : ndarray, shape (N, H)
    dWx : ndarray, shape (D, H)
    dWh : ndarray, shape (H, H)
    db : ndarray, shape (H,)

    Example
    -------
    >>> import numpy as np
    >>> h, cache = rnn_step(np.zeros((1, 2)), np.zeros((1, 3)), np.ones((2, 3)), np.eye(3), np.zeros(3))
    >>> dx, dh_prev, dWx, dWh, db = rnn_step_backward(np.ones((1, 3)), cache)   # tanh'(0) = 1
    >>> dx, db
    (array([[3., 3.]]), array([1., 1., 1.]))
    """
    dh = _gradient(dh, "dh", cache.h.shape)
    da = dh * (1.0 - cache.h * cache.h)                              # (N, H)
    return (da @ cache.Wx.T, da @ cache.Wh.T,                        # (N, H) @ (H, D) -> (N, D); (N, H)
            cache.x.T @ da, cache.h_prev.T @ da, da.sum(axis=0))     # (D, H), (H, H), (H,)


@reference
def rnn_forward(x, Wx, Wh, b, *, h0=None, return_sequences: bool = True):
    """A simple RNN over a whole sequence: h_t = tanh(x_t Wx + h_{t-1} Wh + b), t = 1..T.

    Parameters
    ----------
    x : array_like, shape (N, T, D)
    Wx : array_like, shape (D, H)
    Wh : array_like, shape (H, H)
    b : array_like, shape (H,)
    h0 : array_like, shape (N, H), optional
        The initial state h_0; zeros by default (as in Keras).
    return_sequences : bool
        Return every hidden state (N, T, H), or only the last, h_T (N, H), as
        ``keras.layers.SimpleRNN(return_sequences=...)``.

    Returns
    -------
    out : ndarray, shape (N, T, H) or (N, H)
    cache : RNNCache

    Example
    -------
    >>> import numpy as np
    >>> x = np.array([[[1.0], [0.0], [0.0]]])                  # one impulse, then nothing: (1, 3, 1)
    >>> out, _ = rnn_forward(x, np.array([[1.0]]), np.array([[0.5]]), np.zeros(1))
    >>> out.round(4)[0, :, 0]                                  # the memory of the impulse fades
    array([0.7616, 0.3634, 0.1797])
    """
    x = _sequence(x)
    Wx, Wh, b, units = _weights(x.shape[2], Wx, Wh, b, gates=1)
    h = h0 = _state(h0, "h0", x.shape[0], units, np.result_type(x, Wx))
    xw = x @ Wx + b                                      # all steps' input parts: (N, T, D) @ (D, H) -> (N, T, H)
    hs = np.empty(xw.shape, dtype=np.result_type(xw, Wh, h0))
    for t in range(x.shape[1]):
        h = hs[:, t] = tanh(xw[:, t] + h @ Wh)           # (N, H) + (N, H) @ (H, H) -> (N, H)
    return _output(hs, return_sequences), RNNCache(x, h0, Wx, Wh, hs, bool(return_sequences))


@reference
def rnn_backward(dout, cache: RNNCache, *, initial_state_grads: bool = False):
    """Backpropagation through time for :func:`rnn_forward`.

    Notes
    -----
    Going backwards from t = T, the gradient reaching h_t is the output's, dout_t (zero
    except at T with ``return_sequences=False``), plus what step t + 1 sends back,
    da_{t+1} Wh^T. Then da_t = dh_t * (1 - h_t^2), and the weights, shared by every step,
    collect every step's gradient: dWx = sum_t x_t^T da_t, dWh = sum_t h_{t-1}^T da_t,
    db = sum_t sum_n da_t. Each factor (1 - h^2) Wh^T on the way back can shrink (or grow)
    the gradient: the vanishing (exploding) gradient over time.

    Parameters
    ----------
    dout : array_like, shape (N, T, H) or (N, H)
        dLoss/dout, the shape of :func:`rnn_forward`'s output.
    cache : RNNCache
    initial_state_grads : bool
        Also return dh0, the gradient with respect to the initial state.

    Returns
    -------
    dx : ndarray, shape (N, T, D)
    dWx : ndarray, shape (D, H)
    dWh : ndarray, shape (H, H)
    db : ndarray, shape (H,)
    dh0 : ndarray, shape (N, H)
        Only with ``initial_state_grads=True``.

    Example
    -------
    >>> import numpy as np
    >>> x = np.zeros((1, 3, 1))                                 # tanh'(0) = 1 at every step
    >>> out, cache = rnn_forward(x, np.ones((1, 1)), np.array([[0.5]]), np.zeros(1), return_sequences=False)
    >>> dx, dWx, dWh, db = rnn_backward(np.ones((1, 1)), cache)
    >>> dx[0, :, 0]                                             # halved by Wh at every step back
    array([0.25, 0.5 , 1.  ])
    """
    dhs = _per_step(dout, cache)                         # (N, T, H)
    da = np.empty_like(dhs)
    dh_next = np.zeros_like(dhs[:, 0])                   # nothing comes back from after step T
    for t in reversed(range(dhs.shape[1])):
        h = cache.hs[:, t]
        da[:, t] = (dhs[:, t] + dh_next) * (1.0 - h * h)  # (N, H)
        dh_next = da[:, t] @ cache.Wh.T                  # to h_{t-1}: (N, H) @ (H, H) -> (N, H)
    grads = (da @ cache.Wx.T,                            # (N, T, H) @ (H, D) -> (N, T, D)
             _summed_over_time(cache.x, da),             # (D, H)
             _summed_over_time(_previous(cache.hs, cache.h0), da),  # (H, H)
             da.sum(axis=(0, 1)))                        # (H,)
    return (*grads, dh_next) if initial_state_grads else grads


# --- LSTM -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LSTMStepCache:
    """What :func:`lstm_step_backward` needs: x_t (N, D), h_prev and c_prev (N, H), the weights,
    the gate values i, f, g, o side by side (N, 4H) and the new cell state c (N, H)."""

    x: np.ndarray
    h_prev: np.ndarray
    c_prev: np.ndarray
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    gates: np.ndarray
    c: np.ndarray


@dataclass(frozen=True)
class LSTMCache:
    """What :func:`lstm_backward` needs: x (N, T, D), h0 and c0 (N, H), the weights, and at every
    step the gates (N, T, 4H), cell states cs and hidden states hs (N, T, H)."""

    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    gates: np.ndarray
    cs: np.ndarray
    hs: np.ndarray
    return_sequences: bool


def _lstm_cell(z, c_prev):
    """Gates, c and h from the pre-activations z = x W + h_prev U + b (N, 4H), blocks i, f, c, o."""
    H = c_prev.shape[1]
    gates = np.concatenate([sigmoid(z[:, :2 * H]), tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])], axis=1)
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    c = f * c_prev + i * g                               # keep some of the old memory, write some new
    return gates, c, o * tanh(c)                         # (N, 4H), (N, H), (N, H)


def _lstm_cell_backward(dh, dc, gates, c, c_prev):
    """dz (N, 4H), the gradient of the pre-activations, and dc_prev (N, H), given dh and dc."""
    H = c.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tc = tanh(c)
    dc = dc + dh * o * (1.0 - tc * tc)                   # through h = o * tanh(c), plus what c_{t+1} sends
    di, df, dg, do = dc * g, dc * c_prev, dc * i, dh * tc
    dz = np.concatenate([di * i * (1.0 - i), df * f * (1.0 - f),  # sigmoid' = s (1 - s)
                         dg * (1.0 - g * g), do * o * (1.0 - o)], axis=1)  # tanh' = 1 - t^2
    return dz, dc * f                                    # dc_prev: the cell path, scaled by the forget gate only


@reference
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    """One LSTM step in Keras's layout (gates i, f, c, o); returns the new state (h, c).

    Notes
    -----
    z = x_t kernel + h_prev recurrent_kernel + bias, split into four blocks of H columns:

        i = sigmoid(z_i)          input gate: how much of the candidate to write
        f = sigmoid(z_f)          forget gate: how much of the old cell state to keep
        g = tanh(z_c)             candidate values
        o = sigmoid(z_o)          output gate: how much of the cell to show
        c = f * c_prev + i * g
        h = o * tanh(c)

    Hochreiter & Schmidhuber (1997), with the forget gate of Gers et al. (2000). The cell
    state is changed only by multiplication with f and addition, so its gradient flows back
    through time scaled by f alone: an LSTM that keeps f near 1 remembers.

    Parameters
    ----------
    x_t : array_like, shape (N, D)
    h_prev, c_prev : array_like, shape (N, H)
    kernel : array_like, shape (D, 4H)
    recurrent_kernel : array_like, shape (H, 4H)
    bias : array_like, shape (4H,)

    Returns
    -------
    (h, c) : pair of ndarray, each of shape (N, H)
    cache : LSTMStepCache

    Example
    -------
    >>> import numpy as np
    >>> H = 1   # z_i, z_f, z_c, z_o = 0, 100, 0, 100: keep the old cell, add half of tanh(0) = 0
    >>> (h, c), _ = lstm_step(np.zeros((1, 1)), np.zeros((1, H)), np.array([[2.0]]),
    ...                       np.zeros((1, 4)), np.zeros((1, 4)), np.array([0.0, 100.0, 0.0, 100.0]))
    >>> c, h.round(4)
    (array([[2.]]), array([[0.964]]))
    """
    x_t = _step_input(x_t)
    kernel, recurrent_kernel, bias, units = _weights(x_t.shape[1], kernel, recurrent_kernel, bias, gates=4)
    h_prev = _state(h_prev, "h_prev", x_t.shape[0], units, None)
    c_prev = _state(c_prev, "c_prev", x_t.shape[0], units, None)
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias  # (N, D) @ (D, 4H) + (N, H) @ (H, 4H) + (4H,) -> (N, 4H)
    gates, c, h = _lstm_cell(z, c_prev)
    return (h, c), LSTMStepCache(x_t, h_prev, c_prev, kernel, recurrent_kernel, gates, c)


@reference
def lstm_step_backward(dstate, cache: LSTMStepCache):
    """Gradients of one LSTM step, given dstate = (dh, dc), the gradients of its output (h, c).

    Notes
    -----
    With dc_total = dc + dh * o * (1 - tanh(c)^2):
    do = dh * tanh(c), di = dc_total * g, dg = dc_total * i, df = dc_total * c_prev,
    dc_prev = dc_total * f; through the activations dz = (di i(1 - i), df f(1 - f),
    dg (1 - g^2), do o(1 - o)), and from dz (N, 4H) on as for a dense layer.

    Parameters
    ----------
    dstate : pair (dh, dc) of array_like, each of shape (N, H)
        Either may be None for zeros (a cell state that nothing reads gets no gradient).
    cache : LSTMStepCache

    Returns
    -------
    dx_t : ndarray, shape (N, D)
    dh_prev, dc_prev : ndarray, shape (N, H)
    dkernel : ndarray, shape (D, 4H)
    drecurrent_kernel : ndarray, shape (H, 4H)
    dbias : ndarray, shape (4H,)

    Example
    -------
    >>> import numpy as np
    >>> _, cache = lstm_step(np.ones((2, 3)), np.zeros((2, 4)), np.zeros((2, 4)),
    ...                      np.zeros((3, 16)), np.zeros((4, 16)), np.zeros(16))
    >>> grads = lstm_step_backward((np.ones((2, 4)), None), cache)
    >>> [g.shape for g in grads]
    [(2, 3), (2, 4), (2, 4), (3, 16), (4, 16), (16,)]
    """
    dh, dc = dstate
    shape, dtype = cache.c.shape, cache.c.dtype
    dz, dc_prev = _lstm_cell_backward(_gradient(dh, "dh", shape, dtype), _gradient(dc, "dc", shape, dtype), cache.gates,
                                      cache.c, cache.c_prev)
    return (dz @ cache.kernel.T, dz @ cache.recurrent_kernel.T, dc_prev,  # (N, 4H) @ (4H, D) -> (N, D); (N, H)
            cache.x.T @ dz, cache.h_prev.T @ dz, dz.sum(axis=0))           # (D, 4H), (H, 4H), (4H,)


@reference
def lstm_forward(x, kernel, recurrent_kernel, bias, *, h0=None, c0=None, return_sequences: bool = True):
    """An LSTM over a whole sequence (the equations of :func:`lstm_step` at every step).

    Parameters
    ----------
    x : array_like, shape (N, T, D)
    kernel : array_like, shape (D, 4H)
    recurrent_kernel : array_like, shape (H, 4H)
    bias : array_like, shape (4H,)
        Gates in Keras's order i, f, c, o along the last axis of all three.
    h0, c0 : array_like, shape (N, H), optional
        The initial state; zeros by default.
    return_sequences : bool
        Return every h_t (N, T, H), or only h_T (N, H).

    Returns
    -------
    out : ndarray, shape (N, T, H) or (N, H)
    state : pair (h_T, c_T) of ndarray, each of shape (N, H)
        The final state, as ``keras.layers.LSTM(return_state=True)`` returns it.
    cache : LSTMCache

    Example
    -------
    >>> import numpy as np
    >>> H = 2
    >>> kernel, recurrent_kernel, bias = np.zeros((1, 4 * H)), np.zeros((H, 4 * H)), lstm_bias(H)
    >>> out, (h, c), cache = lstm_forward(np.ones((1, 3, 1)), kernel, recurrent_kernel, bias)
    >>> out.shape, h.shape, c.shape
    ((1, 3, 2), (1, 2), (1, 2))
    """
    x = _sequence(x)
    kernel, recurrent_kernel, bias, units = _weights(x.shape[2], kernel, recurrent_kernel, bias, gates=4)
    N, T, _ = x.shape
    dtype = np.result_type(x, kernel)
    h = h0 = _state(h0, "h0", N, units, dtype)
    c = c0 = _state(c0, "c0", N, units, dtype)
    xz = x @ kernel + bias                               # every step's input part: (N, T, D) @ (D, 4H) -> (N, T, 4H)
    gates = np.empty(xz.shape, dtype=np.result_type(xz, recurrent_kernel, h0, c0))
    cs, hs = np.empty((2, N, T, units), dtype=gates.dtype)
    for t in range(T):
        gates[:, t], c, h = _lstm_cell(xz[:, t] + h @ recurrent_kernel, c)  # (N, H) @ (H, 4H) -> (N, 4H)
        cs[:, t], hs[:, t] = c, h
    cache = LSTMCache(x, h0, c0, kernel, recurrent_kernel, gates, cs, hs, bool(return_sequences))
    return _output(hs, return_sequences), (h, c), cache     # h and c are fresh arrays, not views of the cache


@reference
def lstm_backward(dout, cache: LSTMCache, *, dstate=None, initial_state_grads: bool = False):
    """Backpropagation through time for :func:`lstm_forward`.

    Notes
    -----
    Backwards from t = T: the gradient reaching h_t is dout_t plus dz_{t+1} recurrent_kernel^T,
    the one reaching c_t is what c_{t+1} = f c_t + ... sends back, dc_{t+1} f_{t+1}; each step
    is :func:`lstm_step_backward`'s algebra. The weights' gradients are summed over the steps.

    Parameters
    ----------
    dout : array_like, shape (N, T, H) or (N, H)
        dLoss/dout, the shape of :func:`lstm_forward`'s ``out``.
    cache : LSTMCache
    dstate : pair (dh_T, dc_T) of array_like (N, H) or None, optional
        Gradients with respect to the returned final state, if the loss uses it; added to
        what comes from ``out`` (h_T is in ``out`` too).
    initial_state_grads : bool
        Also return dh0 and dc0.

    Returns
    -------
    dx : ndarray, shape (N, T, D)
    dkernel : ndarray, shape (D, 4H)
    drecurrent_kernel : ndarray, shape (H, 4H)
    dbias : ndarray, shape (4H,)
    dh0, dc0 : ndarray, shape (N, H)
        Only with ``initial_state_grads=True``.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, kernel, recurrent_kernel = rng.normal(size=(2, 5, 3)), rng.normal(size=(3, 8)), rng.normal(size=(2, 8))
    >>> out, state, cache = lstm_forward(x, kernel, recurrent_kernel, lstm_bias(2), return_sequences=False)
    >>> dx, dkernel, drecurrent_kernel, dbias = lstm_backward(np.ones_like(out), cache)
    >>> dx.shape, dkernel.shape, drecurrent_kernel.shape, dbias.shape
    ((2, 5, 3), (3, 8), (2, 8), (8,))
    """
    dhs = _per_step(dout, cache)                         # (N, T, H)
    dh_T, dc_T = (None, None) if dstate is None else dstate
    dh_next = _gradient(dh_T, "dstate[0] (dh)", dhs[:, 0].shape, dhs.dtype)
    dc_next = _gradient(dc_T, "dstate[1] (dc)", dhs[:, 0].shape, dhs.dtype)
    cs_prev = _previous(cache.cs, cache.c0)              # c_{t-1} at every step: (N, T, H)
    dz = np.empty(cache.gates.shape, dtype=np.result_type(cache.gates, dhs))
    for t in reversed(range(dhs.shape[1])):
        dz[:, t], dc_next = _lstm_cell_backward(dhs[:, t] + dh_next, dc_next, cache.gates[:, t], cache.cs[:, t],
                                                cs_prev[:, t])
        dh_next = dz[:, t] @ cache.recurrent_kernel.T    # to h_{t-1}: (N, 4H) @ (4H, H) -> (N, H)
    grads = (dz @ cache.kernel.T,                        # (N, T, 4H) @ (4H, D) -> (N, T, D)
             _summed_over_time(cache.x, dz),             # (D, 4H)
             _summed_over_time(_previous(cache.hs, cache.h0), dz),  # (H, 4H)
             dz.sum(axis=(0, 1)))                        # (4H,)
    return (*grads, dh_next, dc_next) if initial_state_grads else grads


# --- GRU --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GRUStepCache:
    """What :func:`gru_step_backward` needs: x_t (N, D), h_prev (N, H), the weights, the gate
    values z, r, hh side by side (N, 3H) and the candidate's recurrent part u = h_prev R_h + b'_h (N, H)."""

    x: np.ndarray
    h_prev: np.ndarray
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    gates: np.ndarray
    u: np.ndarray


@dataclass(frozen=True)
class GRUCache:
    """What :func:`gru_backward` needs: x (N, T, D), h0 (N, H), the weights, and at every step the
    gates (N, T, 3H), the candidate's recurrent parts us and the hidden states hs (N, T, H)."""

    x: np.ndarray
    h0: np.ndarray
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    gates: np.ndarray
    us: np.ndarray
    hs: np.ndarray
    return_sequences: bool


def _gru_cell(xz, h_prev, recurrent_kernel, recurrent_bias):
    """Gates z, r, hh (N, 3H), the candidate's recurrent part u (N, H) and h (N, H), from the input
    part xz = x K + b (N, 3H)."""
    H = h_prev.shape[1]
    hz = h_prev @ recurrent_kernel + recurrent_bias      # (N, H) @ (H, 3H) + (3H,) -> (N, 3H)
    zr = sigmoid(xz[:, :2 * H] + hz[:, :2 * H])          # update and reset gates: (N, 2H)
    u = hz[:, 2 * H:]
    hh = tanh(xz[:, 2 * H:] + zr[:, H:] * u)             # reset applied *after* the matrix product
    z = zr[:, :H]
    return np.concatenate([zr, hh], axis=1), u, z * h_prev + (1.0 - z) * hh


def _gru_cell_backward(dh, gates, u, h_prev):
    """The gradients of the input part dxz (N, 3H) and of the recurrent part dhz (N, 3H), and the
    direct path to h_prev, dh * z (N, H)."""
    H = h_prev.shape[1]
    z, r, hh = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    da_h = dh * (1.0 - z) * (1.0 - hh * hh)              # through hh = tanh(a_h)
    da_z = dh * (h_prev - hh) * z * (1.0 - z)            # h = hh + z (h_prev - hh)
    da_r = da_h * u * r * (1.0 - r)
    dxz = np.concatenate([da_z, da_r, da_h], axis=1)
    dhz = np.concatenate([da_z, da_r, da_h * r], axis=1)
    return dxz, dhz, dh * z


@reference
def gru_step(x_t, h_prev, kernel, recurrent_kernel, bias):
    """One GRU step in Keras's default convention (reset_after=True, gates z, r, h).

    Notes
    -----
    With the bias's two rows b (input) and b' (recurrent), each split into z, r, h blocks:

        z  = sigmoid(x_t K_z + b_z + h_prev R_z + b'_z)           update gate
        r  = sigmoid(x_t K_r + b_r + h_prev R_r + b'_r)           reset gate
        hh = tanh(x_t K_h + b_h + r * (h_prev R_h + b'_h))        candidate
        h  = z * h_prev + (1 - z) * hh

    Cho et al. (2014). In their paper (and Keras's ``reset_after=False``) the reset gate acts
    before the product, (r * h_prev) R_h; Keras's default applies it after, as cuDNN does,
    which is why the bias has two rows. Note that z = 1 *keeps* the old state here.

    Parameters
    ----------
    x_t : array_like, shape (N, D)
    h_prev : array_like, shape (N, H)
    kernel : array_like, shape (D, 3H)
    recurrent_kernel : array_like, shape (H, 3H)
    bias : array_like, shape (2, 3H)
        Row 0 is added to x_t kernel, row 1 to h_prev recurrent_kernel.

    Returns
    -------
    h : ndarray, shape (N, H)
    cache : GRUStepCache

    Example
    -------
    >>> import numpy as np
    >>> bias = np.array([[100.0, 0.0, 0.0], [0.0, 0.0, 0.0]])   # z = 1: the state passes unchanged
    >>> h, _ = gru_step(np.ones((1, 2)), np.array([[0.7]]), np.ones((2, 3)), np.ones((1, 3)), bias)
    >>> h.round(6)
    array([[0.7]])
    """
    x_t = _step_input(x_t)
    kernel, recurrent_kernel, bias, units = _weights(x_t.shape[1], kernel, recurrent_kernel, bias, gates=3,
                                                     bias_rows=2)
    h_prev = _state(h_prev, "h_prev", x_t.shape[0], units, None)
    xz = x_t @ kernel + bias[0]                          # (N, D) @ (D, 3H) + (3H,) -> (N, 3H)
    gates, u, h = _gru_cell(xz, h_prev, recurrent_kernel, bias[1])
    return h, GRUStepCache(x_t, h_prev, kernel, recurrent_kernel, gates, u)


@reference
def gru_step_backward(dh, cache: GRUStepCache):
    """Gradients of one GRU step, given dh = dLoss/dh.

    Parameters
    ----------
    dh : array_like, shape (N, H)
    cache : GRUStepCache

    Returns
    -------
    dx_t : ndarray, shape (N, D)
    dh_prev : ndarray, shape (N, H)
    dkernel : ndarray, shape (D, 3H)
    drecurrent_kernel : ndarray, shape (H, 3H)
    dbias : ndarray, shape (2, 3H)

    Example
    -------
    >>> import numpy as np
    >>> _, cache = gru_step(np.ones((2, 3)), np.zeros((2, 4)), np.zeros((3, 12)), np.zeros((4, 12)), np.zeros((2, 12)))
    >>> [g.shape for g in gru_step_backward(np.ones((2, 4)), cache)]
    [(2, 3), (2, 4), (3, 12), (4, 12), (2, 12)]
    """
    dh = _gradient(dh, "dh", cache.h_prev.shape)
    dxz, dhz, dh_direct = _gru_cell_backward(dh, cache.gates, cache.u, cache.h_prev)
    return (dxz @ cache.kernel.T, dh_direct + dhz @ cache.recurrent_kernel.T,  # (N, D), (N, H)
            cache.x.T @ dxz, cache.h_prev.T @ dhz,                           # (D, 3H), (H, 3H)
            np.stack([dxz.sum(axis=0), dhz.sum(axis=0)]))                     # (2, 3H)


@reference
def gru_forward(x, kernel, recurrent_kernel, bias, *, h0=None, return_sequences: bool = True):
    """A GRU over a whole sequence (the equations of :func:`gru_step` at every step).

    Parameters
    ----------
    x : array_like, shape (N, T, D)
    kernel : array_like, shape (D, 3H)
    recurrent_kernel : array_like, shape (H, 3H)
    bias : array_like, shape (2, 3H)
    h0 : array_like, shape (N, H), optional
        The initial state; zeros by default.
    return_sequences : bool
        Return every h_t (N, T, H), or only h_T (N, H).

    Returns
    -------
    out : ndarray, shape (N, T, H) or (N, H)
    cache : GRUCache

    Example
    -------
    >>> import numpy as np
    >>> out, cache = gru_forward(np.ones((2, 5, 3)), np.zeros((3, 12)), np.zeros((4, 12)), np.zeros((2, 12)),
    ...                          return_sequences=False)
    >>> out.shape
    (2, 4)
    """
    x = _sequence(x)
    kernel, recurrent_kernel, bias, units = _weights(x.shape[2], kernel, recurrent_kernel, bias, gates=3,
                                                     bias_rows=2)
    N, T, _ = x.shape
    h = h0 = _state(h0, "h0", N, units, np.result_type(x, kernel))
    xz = x @ kernel + bias[0]                            # (N, T, D) @ (D, 3H) + (3H,) -> (N, T, 3H)
    gates = np.empty(xz.shape, dtype=np.result_type(xz, recurrent_kernel, bias, h0))
    us, hs = np.empty((2, N, T, units), dtype=gates.dtype)
    for t in range(T):
        gates[:, t], us[:, t], h = _gru_cell(xz[:, t], h, recurrent_kernel, bias[1])
        hs[:, t] = h
    return _output(hs, return_sequences), GRUCache(x, h0, kernel, recurrent_kernel, gates, us, hs,
                                                   bool(return_sequences))


@reference
def gru_backward(dout, cache: GRUCache, *, initial_state_grads: bool = False):
    """Backpropagation through time for :func:`gru_forward`.

    Parameters
    ----------
    dout : array_like, shape (N, T, H) or (N, H)
    cache : GRUCache
    initial_state_grads : bool
        Also return dh0.

    Returns
    -------
    dx : ndarray, shape (N, T, D)
    dkernel : ndarray, shape (D, 3H)
    drecurrent_kernel : ndarray, shape (H, 3H)
    dbias : ndarray, shape (2, 3H)
    dh0 : ndarray, shape (N, H)
        Only with ``initial_state_grads=True``.

    Example
    -------
    >>> import numpy as np
    >>> x = np.ones((2, 5, 3))
    >>> out, cache = gru_forward(x, np.zeros((3, 12)), np.zeros((4, 12)), np.zeros((2, 12)))
    >>> [g.shape for g in gru_backward(np.ones_like(out), cache)]
    [(2, 5, 3), (3, 12), (4, 12), (2, 12)]
    """
    dhs = _per_step(dout, cache)                         # (N, T, H)
    hs_prev = _previous(cache.hs, cache.h0)
    dxz, dhz = (np.empty(cache.gates.shape, dtype=np.result_type(cache.gates, dhs)) for _ in range(2))
    dh_next = np.zeros_like(dhs[:, 0])
    for t in reversed(range(dhs.shape[1])):
        dxz[:, t], dhz[:, t], direct = _gru_cell_backward(dhs[:, t] + dh_next, cache.gates[:, t], cache.us[:, t],
                                                          hs_prev[:, t])
        dh_next = direct + dhz[:, t] @ cache.recurrent_kernel.T  # (N, H) + (N, 3H) @ (3H, H) -> (N, H)
    grads = (dxz @ cache.kernel.T,                       # (N, T, 3H) @ (3H, D) -> (N, T, D)
             _summed_over_time(cache.x, dxz),            # (D, 3H)
             _summed_over_time(hs_prev, dhz),            # (H, 3H)
             np.stack([dxz.sum(axis=(0, 1)), dhz.sum(axis=(0, 1))]))  # (2, 3H)
    return (*grads, dh_next) if initial_state_grads else grads


# --- initialisation (Keras's defaults) -------------------------------------------------------------------

@reference
def lstm_bias(units: int, *, unit_forget_bias: bool = True) -> np.ndarray:
    """The LSTM's initial bias (4H,): zeros, with 1 for the forget gate (Keras's unit_forget_bias).

    A forget bias of 1 makes f = sigmoid(1) = 0.73 at the start, so the cell remembers from the
    first updates on (Jozefowicz et al., 2015).

    Example
    -------
    >>> lstm_bias(2)                                           # blocks i, f, c, o
    array([0., 0., 1., 1., 0., 0., 0., 0.])
    """
    units = check_int(units, "units", minimum=1)
    bias = np.zeros(4 * units)
    if unit_forget_bias:
        bias[units:2 * units] = 1.0
    return bias
