"""Week 8's homework tests: every common wrong answer loses its whole exercise, with a hint that names it.

Each case replaces one answer cell of the solution homework with a plausible wrong version and
grades the exercise the way ``python -m autograder grade`` does (:mod:`tests.mistakes`): every
test cell of the exercise, visible and hidden, must fail, and the first failure, the one a
student sees before submitting, must name the mistake. The right answers written another way
(explicit loops, np.split, einsum, another stable sigmoid, preallocated arrays, Keras's RNN around a
cell, the functional API) must keep every point.
"""

from tests import mistakes

WEEK = "week08_rnn_lstm"

RNN_STEP = """
def rnn_step(x_t, h_prev, Wx, Wh, b):
    return BODY
"""


def rnn_step_with(body):
    return RNN_STEP.replace("BODY", body)


RNN_FORWARD = """
def rnn_forward(x, Wx, Wh, b, *, h0=None, return_sequences=True):
    N, T, _ = x.shape
    h = np.zeros((N, Wh.shape[0])) if h0 is None else h0
    hs = []
    for t in range(T):
        h = rnn_step(STEP_INPUT, h, Wx, Wh, b)
        hs.append(h)
    return RESULT
"""


def rnn_forward_with(step_input="x[:, t]", result="np.stack(hs, axis=1) if return_sequences else h", init=None,
                     loop=None):
    source = RNN_FORWARD
    if loop is not None:
        source = source.replace("        h = rnn_step(STEP_INPUT, h, Wx, Wh, b)\n        hs.append(h)\n", loop)
    source = source.replace("STEP_INPUT", step_input).replace("RESULT", result)
    if init is not None:
        source = source.replace("np.zeros((N, Wh.shape[0])) if h0 is None else h0", init)
    return source


RNN_BACKWARD = """
def rnn_backward(dhs, x, hs, h0, Wx, Wh):
    N, T, _ = x.shape
    dx = np.zeros(x.shape)
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(Wh.shape[0])
    dh_next = np.zeros(h0.shape)
    for t in reversed(range(T)):
        h = hs[:, t]
        h_prev = hs[:, t - 1] if t > 0 else h0
        da = (dhs[:, t] + dh_next) * (1 - h**2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dWx, dWh, db
"""


def rnn_backward_with(**changes):
    source = RNN_BACKWARD
    for old, new in changes.values():
        assert old in source, old
        source = source.replace(old, new)
    return source


LSTM_BIAS = """
def lstm_bias(units):
    bias = np.zeros(4 * units)
    bias[units:2 * units] = 1.0
    return bias
"""
LSTM_STEP = """

def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    H = h_prev.shape[1]
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    gates = 0.5 * (1 + np.tanh(0.5 * z))
    i, f, o = gates[:, :H], gates[:, H:2 * H], gates[:, 3 * H:]
    g = np.tanh(z[:, 2 * H:3 * H])
    c = f * c_prev + i * g
    return o * np.tanh(c), c
"""


def lstm_with(bias=LSTM_BIAS, **changes):
    source = bias + LSTM_STEP
    for old, new in changes.values():
        assert old in source, old
        source = source.replace(old, new)
    return source


LSTM_FORWARD = """
def lstm_forward(x, kernel, recurrent_kernel, bias, *, h0=None, c0=None, return_sequences=True):
    N, T, _ = x.shape
    H = recurrent_kernel.shape[0]
    h = np.zeros((N, H)) if h0 is None else h0
    c = np.zeros((N, H)) if c0 is None else c0
    hs = []
    for t in range(T):
        h, c = lstm_step(x[:, t], h, c, kernel, recurrent_kernel, bias)
        hs.append(h)
    return (np.stack(hs, axis=1) if return_sequences else h), h, c
"""


def lstm_forward_with(**changes):
    source = LSTM_FORWARD
    for old, new in changes.values():
        assert old in source, old
        source = source.replace(old, new)
    return source


MEMORY = """
def memory_task(n, T, *, rng):
    rng = np.random.default_rng(rng)
    y = rng.integers(0, 2, size=n)
    x = np.zeros((n, T, 2))
    x[:, :, 0] = rng.normal(0.0, 4.0, size=(n, T))
    x[:, 0, 0] = 2 * y - 1
    x[:, 0, 1] = 1.0
    return x, y
"""


def memory_with(**changes):
    source = MEMORY
    for old, new in changes.values():
        assert old in source, old
        source = source.replace(old, new)
    return source


SIGMOID_STEP = "i, f, o = gates[:, :H], gates[:, H:2 * H], gates[:, 3 * H:]"
CANDIDATE = "g = np.tanh(z[:, 2 * H:3 * H])"

RECURRENT = """
import keras


def build_recurrent(kind, units, *, seed):
    SEED
    model = keras.Sequential([
        keras.Input((None, 2)),
        LAYER,
        keras.layers.Dense(2, activation=LAST),
    ])
    COMPILE
    return model
"""
BY_KIND = '(keras.layers.LSTM if kind == "lstm" else keras.layers.SimpleRNN)'
OPTIMIZER = "optimizer=keras.optimizers.Adam(learning_rate=0.02)"
LOGITS_LOSS = "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)"


def recurrent_with(layer=BY_KIND + "(units)", last="None", optimizer=OPTIMIZER, loss=LOGITS_LOSS,
                   seed="keras.utils.set_random_seed(seed)"):
    return (RECURRENT.replace("LAYER", layer).replace("LAST", last).replace("SEED", seed)
            .replace("COMPILE", f"model.compile({optimizer}, {loss})" if loss else "pass"))


WRONG = {
    # -- exercise 1: rnn_step
    "rnn step: the two kernels swapped": ("rnn_step", "kernels are swapped", rnn_step_with(
        "np.tanh(x_t @ Wh + h_prev @ Wx + b)")),
    "rnn step: the recurrent kernel transposed": ("rnn_step", "recurrent kernel is transposed", rnn_step_with(
        "np.tanh(x_t @ Wx + h_prev @ Wh.T + b)")),
    "rnn step: sigmoid instead of tanh": ("rnn_step", "this is sigmoid", rnn_step_with(
        "1 / (1 + np.exp(-(x_t @ Wx + h_prev @ Wh + b)))")),
    "rnn step: no activation": ("rnn_step", "activation is missing", rnn_step_with("x_t @ Wx + h_prev @ Wh + b")),
    "rnn step: no bias": ("rnn_step", "bias b is missing", rnn_step_with("np.tanh(x_t @ Wx + h_prev @ Wh)")),
    "rnn step: the previous state left out": ("rnn_step", "previous state is left out", rnn_step_with(
        "np.tanh(x_t @ Wx + b)")),
    "rnn step: nblib's own answer": ("rnn_step", "asks you to write this yourself", rnn_step_with(
        "recurrent.rnn_step(x_t, h_prev, Wx, Wh, b)[0]")),
    # -- exercise 2: rnn_forward
    "rnn forward: only the last state when all were asked": ("rnn_forward", "only the last state was returned",
                                                            rnn_forward_with(result="h")),
    "rnn forward: every state when only the last was asked": ("rnn_forward", "every state was returned",
                                                             rnn_forward_with(result="np.stack(hs, axis=1)")),
    "rnn forward: time and batch axes swapped": ("rnn_forward", "time and batch axes are swapped",
                                                 rnn_forward_with(step_input="x[t]")),
    "rnn forward: states stacked time first": ("rnn_forward", "stacked with time first",
                                               rnn_forward_with(result="np.stack(hs) if return_sequences else h")),
    "rnn forward: the hidden state not carried": ("rnn_forward", "not carried from step to step", rnn_forward_with(
        loop="        h = rnn_step(x[:, t], np.zeros((N, Wh.shape[0])) if h0 is None else h0, Wx, Wh, b)\n"
             "        hs.append(h)\n")),
    "rnn forward: h0 ignored": ("rnn_forward", "initial state h0 was not used", rnn_forward_with(
        init="np.zeros((N, Wh.shape[0]))")),
    "rnn forward: each output is the state before its step": ("rnn_forward", "state before its step", rnn_forward_with(
        loop="        hs.append(h)\n        h = rnn_step(x[:, t], h, Wx, Wh, b)\n")),
    "rnn forward: nblib's own answer": ("rnn_forward", "asks you to write this yourself", """
def rnn_forward(x, Wx, Wh, b, *, h0=None, return_sequences=True):
    return homework.rnn_forward(x, Wx, Wh, b, h0=h0, return_sequences=return_sequences)
"""),
    # -- exercise 3: rnn_backward
    "bptt: without the recurrent term": ("rnn_backward", "without the recurrent term", rnn_backward_with(
        a=("da = (dhs[:, t] + dh_next) * (1 - h**2)", "da = dhs[:, t] * (1 - h**2)"))),
    "bptt: weight gradients not summed over time": ("rnn_backward", "not summed over time", rnn_backward_with(
        a=("dWx += x[:, t].T @ da", "dWx = x[:, t].T @ da"), b=("dWh += h_prev.T @ da", "dWh = h_prev.T @ da"),
        c=("db += da.sum(axis=0)", "db = da.sum(axis=0)"))),
    "bptt: dWh with h_t instead of h_{t-1}": ("rnn_backward", "pairs da_t with h_t", rnn_backward_with(
        a=("dWh += h_prev.T @ da", "dWh += h.T @ da"))),
    "bptt: tanh' as 1 - h": ("rnn_backward", "1 - h**2, not 1 - h", rnn_backward_with(
        a=("* (1 - h**2)", "* (1 - h)"))),
    "bptt: tanh applied twice in the derivative": ("rnn_backward", "applies tanh twice", rnn_backward_with(
        a=("* (1 - h**2)", "* (1 - np.tanh(h)**2)"))),
    "bptt: back through Wh instead of Wh.T": ("rnn_backward", "through the transpose", rnn_backward_with(
        a=("dh_next = da @ Wh.T", "dh_next = da @ Wh"))),
    "bptt: averaged over time": ("rnn_backward", "divided by T", rnn_backward_with(
        a=("    return dx, dWx, dWh, db", "    return dx, dWx / T, dWh / T, db / T"))),
    "bptt: nblib's own answer": ("rnn_backward", "asks you to write this yourself", """
def rnn_backward(dhs, x, hs, h0, Wx, Wh):
    return recurrent.rnn_backward(dhs, recurrent.RNNCache(x, h0, Wx, Wh, hs, True))
"""),
    # -- exercise 4: lstm_bias and lstm_step
    "lstm: the forget gate's bias not 1": ("lstm_step", "forget gate's bias is not 1", lstm_with(
        bias=LSTM_BIAS.replace("    bias[units:2 * units] = 1.0\n", ""))),
    "lstm: the forget bias in the input gate's block": ("lstm_step", "wrong block", lstm_with(
        bias=LSTM_BIAS.replace("bias[units:2 * units] = 1.0", "bias[:units] = 1.0"))),
    "lstm: every bias 1": ("lstm_step", "only the forget gate's block", lstm_with(
        bias=LSTM_BIAS.replace("np.zeros(4 * units)", "np.ones(4 * units)"))),
    "lstm: gates in the order i, f, o, c": ("lstm_step", "another order (i, f, o, c)", lstm_with(
        a=(SIGMOID_STEP, "i, f, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H]"),
        b=(CANDIDATE, "g = np.tanh(z[:, 3 * H:])"))),
    "lstm: gates in the order i, c, f, o": ("lstm_step", "another order (i, c, f, o)", lstm_with(
        a=(SIGMOID_STEP, "i, f, o = gates[:, :H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]"),
        b=(CANDIDATE, "g = np.tanh(z[:, H:2 * H])"))),
    "lstm: sigmoid and tanh swapped": ("lstm_step", "sigmoid and tanh are swapped", lstm_with(
        a=("gates = 0.5 * (1 + np.tanh(0.5 * z))", "gates = np.tanh(z)"),
        b=(CANDIDATE, "g = 1 / (1 + np.exp(-z[:, 2 * H:3 * H]))"))),
    "lstm: h = tanh(c) without the output gate": ("lstm_step", "leaves out the output gate", lstm_with(
        a=("return o * np.tanh(c), c", "return np.tanh(c), c"))),
    "lstm: h = o * c": ("lstm_step", "h is computed from c instead of o * tanh(c)", lstm_with(
        a=("return o * np.tanh(c), c", "return o * c, c"))),
    "lstm: the candidate written without the input gate": ("lstm_step", "without the input gate", lstm_with(
        a=("c = f * c_prev + i * g", "c = f * c_prev + g"))),
    "lstm: forget and input gates swapped": ("lstm_step", "forget and input gates are swapped", lstm_with(
        a=("c = f * c_prev + i * g", "c = i * c_prev + f * g"))),
    "lstm: the two kernels swapped": ("lstm_step", "kernels are swapped", lstm_with(
        a=("z = x_t @ kernel + h_prev @ recurrent_kernel + bias",
           "z = x_t @ recurrent_kernel + h_prev @ kernel + bias"))),
    "lstm: (c, h) instead of (h, c)": ("lstm_step", "returned as (c, h)", lstm_with(
        a=("return o * np.tanh(c), c", "return c, o * np.tanh(c)"))),
    "lstm: nblib's own answer": ("lstm_step", "asks you to write this yourself", LSTM_BIAS + """

def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    return recurrent.lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias)[0]
"""),
    # -- exercise 5: lstm_forward
    "lstm forward: the cell state not carried": ("lstm_forward", "cell state is not carried", lstm_forward_with(
        a=("h, c = lstm_step(x[:, t], h, c, kernel, recurrent_kernel, bias)",
           "h, c_t = lstm_step(x[:, t], h, c, kernel, recurrent_kernel, bias)"),
        b=("    return (np.stack", "    c = c_t\n    return (np.stack"))),
    "lstm forward: only the last state when all were asked": ("lstm_forward", "only the last state was returned",
                                                              lstm_forward_with(a=("(np.stack(hs, axis=1) if "
                                                                                   "return_sequences else h)", "h"))),
    "lstm forward: every state when only the last was asked": ("lstm_forward", "every state was returned",
                                                               lstm_forward_with(a=("(np.stack(hs, axis=1) if "
                                                                                    "return_sequences else h)",
                                                                                    "np.stack(hs, axis=1)"))),
    "lstm forward: h_T and c_T swapped": ("lstm_forward", "h_T and c_T are swapped", lstm_forward_with(
        a=("return_sequences else h), h, c", "return_sequences else h), c, h"))),
    "lstm forward: cell states as outputs": ("lstm_forward", "out holds the cell states", lstm_forward_with(
        a=("hs.append(h)", "hs.append(c)"), b=("return_sequences else h), h, c", "return_sequences else c), h, c"))),
    "lstm forward: time and batch axes swapped": ("lstm_forward", "time and batch axes are swapped", lstm_forward_with(
        a=("lstm_step(x[:, t], h,", "lstm_step(x[t], h,"))),
    "lstm forward: c0 ignored": ("lstm_forward", "initial state c0 was not used", lstm_forward_with(
        a=("c = np.zeros((N, H)) if c0 is None else c0", "c = np.zeros((N, H))"))),
    "lstm forward: nblib's own answer": ("lstm_forward", "asks you to write this yourself", """
def lstm_forward(x, kernel, recurrent_kernel, bias, *, h0=None, c0=None, return_sequences=True):
    out, (h, c), _ = recurrent.lstm_forward(x, kernel, recurrent_kernel, bias, h0=h0, c0=c0,
                                            return_sequences=return_sequences)
    return out, h, c
"""),
    # -- exercise 6: memory_task
    "memory: the class at the last step": ("memory_task", "shown at the last step", memory_with(
        a=("x[:, 0, 0] = 2 * y - 1", "x[:, -1, 0] = 2 * y - 1"))),
    "memory: the class as 0/1 instead of a sign": ("memory_task", "2 * y - 1 (-1 or +1), not y", memory_with(
        a=("x[:, 0, 0] = 2 * y - 1", "x[:, 0, 0] = y"))),
    "memory: no marker": ("memory_task", "feature 1 is the marker", memory_with(a=("    x[:, 0, 1] = 1.0\n", ""))),
    "memory: noise of standard deviation 1": ("memory_task", "standard deviation of 4", memory_with(
        a=("rng.normal(0.0, 4.0, size=(n, T))", "rng.normal(0.0, 1.0, size=(n, T))"))),
    "memory: 4 taken as the variance": ("memory_task", "not its variance", memory_with(
        a=("rng.normal(0.0, 4.0, size=(n, T))", "rng.normal(0.0, np.sqrt(4.0), size=(n, T))"))),
    "memory: the global random generator": ("memory_task", "not from np.random's global functions", memory_with(
        a=("y = rng.integers(0, 2, size=n)", "y = np.random.randint(0, 2, size=n)"),
        b=("rng.normal(0.0, 4.0, size=(n, T))", "np.random.normal(0.0, 4.0, size=(n, T))"))),
    "memory: the noise drawn before the classes": ("memory_task", "draw y = rng.integers(0, 2, size=n) first", """
def memory_task(n, T, *, rng):
    rng = np.random.default_rng(rng)
    noise = rng.normal(0.0, 4.0, size=(n, T))
    y = rng.integers(0, 2, size=n)
    x = np.zeros((n, T, 2))
    x[:, :, 0] = noise
    x[:, 0, 0] = 2 * y - 1
    x[:, 0, 1] = 1.0
    return x, y
"""),
    "memory: labels as signs": ("memory_task", "the signs -1 and +1 go into x only", memory_with(
        a=("    return x, y", "    return x, 2 * y - 1"))),
    "memory: nblib's own answer": ("memory_task", "asks you to write this yourself", """
def memory_task(n, T, *, rng):
    return data.memory_task(n, T, rng=rng)
"""),
    # -- exercise 7: the Keras networks (each is caught before any training)
    "keras: return_sequences=True left on": ("build_recurrent", "return_sequences=True",
                                             recurrent_with(layer=BY_KIND + "(units, return_sequences=True)")),
    "keras: a softmax output with from_logits=True": ("build_recurrent", "the softmax is applied twice",
                                                      recurrent_with(last='"softmax"')),
    "keras: logits with a loss on probabilities": ("build_recurrent", "pass from_logits=True", recurrent_with(
        loss='loss="sparse_categorical_crossentropy"')),
    "keras: binary cross-entropy for two logits": ("build_recurrent", "the labels are the integers 0 and 1",
                                                   recurrent_with(loss="loss=keras.losses.BinaryCrossentropy()")),
    "keras: one-hot cross-entropy for integer labels": ("build_recurrent", "SparseCategoricalCrossentropy", recurrent_with(
        loss="loss=keras.losses.CategoricalCrossentropy(from_logits=True)")),
    "keras: the mean squared error": ("build_recurrent", "the labels are the integers 0 and 1",
                                      recurrent_with(loss='loss="mse"')),
    "keras: units not passed": ("build_recurrent", "does not follow units", recurrent_with(layer=BY_KIND + "(8)")),
    "keras: not seeded": ("build_recurrent", "two models built with the same seed differ", recurrent_with(seed="pass")),
    "keras: the kinds swapped": ("build_recurrent", "the kinds are swapped", recurrent_with(
        layer='(keras.layers.SimpleRNN if kind == "lstm" else keras.layers.LSTM)(units)')),
    "keras: an LSTM for both kinds": ("build_recurrent", "both kinds built the same layer",
                                      recurrent_with(layer="keras.layers.LSTM(units)")),
    "keras: a GRU for the LSTM": ("build_recurrent", "this is a GRU", recurrent_with(
        layer='(keras.layers.GRU if kind == "lstm" else keras.layers.SimpleRNN)(units)')),
    "keras: Adam's default learning rate": ("build_recurrent", "Adam(learning_rate=0.02)",
                                            recurrent_with(optimizer='optimizer="adam"')),
    "keras: not compiled": ("build_recurrent", "the model is not compiled", recurrent_with(loss="")),
    "keras: a hidden dense layer added": ("build_recurrent", "nothing else", recurrent_with(
        layer=BY_KIND + '(units),\n        keras.layers.Dense(units, activation="relu")')),
}

RIGHT = {
    "rnn step: einsum": ("rnn_step", """
def rnn_step(x_t, h_prev, Wx, Wh, b):
    a = np.einsum("nd,dh->nh", x_t, Wx) + np.einsum("nk,kh->nh", h_prev, Wh) + b
    return (np.exp(2 * np.clip(a, -50, 50)) - 1) / (np.exp(2 * np.clip(a, -50, 50)) + 1)
"""),
    "rnn forward: preallocated, calls no rnn_step": ("rnn_forward", """
def rnn_forward(x, Wx, Wh, b, *, h0=None, return_sequences=True):
    N, T, D = x.shape
    H = Wh.shape[1]
    out = np.empty((N, T, H))
    h = np.zeros((N, H)) if h0 is None else np.array(h0, dtype=float)
    for t in range(T):
        h = np.tanh(x[:, t, :] @ Wx + h @ Wh + b)
        out[:, t, :] = h
    if not return_sequences:
        return out[:, -1, :]
    return out
"""),
    "bptt: per-example loops, states stacked with h0": ("rnn_backward", """
def rnn_backward(dhs, x, hs, h0, Wx, Wh):
    N, T, D = x.shape
    H = Wh.shape[0]
    states = np.concatenate([h0[:, None, :], hs], axis=1)      # h_0 .. h_T
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    for n in range(N):
        carry = np.zeros(H)
        for t in range(T - 1, -1, -1):
            da = (dhs[n, t] + carry) * (1.0 - states[n, t + 1] ** 2)
            dx[n, t] = Wx @ da
            dWx += np.outer(x[n, t], da)
            dWh += np.outer(states[n, t], da)
            db += da
            carry = Wh @ da
    return dx, dWx, dWh, db
"""),
    "lstm: np.split, a sign-split sigmoid, a tuple bias": ("lstm_step", """
def lstm_bias(units):
    return np.concatenate([np.zeros(units), np.ones(units), np.zeros(2 * units)])


def _sigmoid(z):
    out = np.empty_like(z, dtype=float)
    positive = z >= 0
    out[positive] = 1 / (1 + np.exp(-z[positive]))
    e = np.exp(z[~positive])
    out[~positive] = e / (1 + e)
    return out


def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z_i, z_f, z_c, z_o = np.split(x_t @ kernel + h_prev @ recurrent_kernel + bias, 4, axis=1)
    c = _sigmoid(z_f) * c_prev + _sigmoid(z_i) * np.tanh(z_c)
    h = _sigmoid(z_o) * np.tanh(c)
    return [h, c]
"""),
    "lstm forward: preallocated, written out without lstm_step": ("lstm_forward", """
def lstm_forward(x, kernel, recurrent_kernel, bias, *, h0=None, c0=None, return_sequences=True):
    N, T, _ = x.shape
    H = recurrent_kernel.shape[0]
    h = np.zeros((N, H)) if h0 is None else h0.copy()
    c = np.zeros((N, H)) if c0 is None else c0.copy()
    out = np.zeros((N, T, H))
    xz = x @ kernel + bias                                     # every step's input part at once
    for t in range(T):
        z = xz[:, t] + h @ recurrent_kernel
        i, f, g, o = (z[:, k * H:(k + 1) * H] for k in range(4))
        i, f, o = (0.5 + 0.5 * np.tanh(0.5 * v) for v in (i, f, o))
        c = f * c + i * np.tanh(g)
        h = o * np.tanh(c)
        out[:, t] = h
    return (out if return_sequences else out[:, -1]), h, c
"""),
    "memory: float32 and integer classes of another dtype": ("memory_task", """
def memory_task(n, T, *, rng):
    gen = np.random.default_rng(rng)
    labels = gen.integers(0, 2, size=n).astype(np.int32)
    noise = gen.normal(0.0, 4.0, size=(n, T))
    x = np.stack([noise, np.zeros((n, T))], axis=-1).astype(np.float32)
    x[:, 0] = np.stack([2.0 * labels - 1.0, np.ones(n)], axis=-1)
    return x, labels
"""),
    "keras: keras.layers.RNN around a cell": ("build_recurrent", """
import keras

CELLS = {"lstm": keras.layers.LSTMCell, "simple_rnn": keras.layers.SimpleRNNCell}


def build_recurrent(kind, units, *, seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential()
    model.add(keras.Input(shape=(None, 2)))
    model.add(keras.layers.RNN(CELLS[kind](units)))
    model.add(keras.layers.Dense(2))
    model.compile(optimizer=keras.optimizers.Adam(0.02),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model
"""),
    "keras: the functional API, a fixed T and a softmax with a loss on probabilities": ("build_recurrent", """
from keras import Input, Model, layers, losses, optimizers, utils


def build_recurrent(kind, units, *, seed):
    utils.set_random_seed(seed)
    sequences = Input((15, 2))
    last_state = layers.LSTM(units)(sequences) if kind == "lstm" else layers.SimpleRNN(units)(sequences)
    model = Model(sequences, layers.Dense(2, activation="softmax")(last_state))
    model.compile(optimizer=optimizers.Adam(learning_rate=2e-2), loss=losses.SparseCategoricalCrossentropy())
    return model
"""),
}

# Exercises 2 and 5 may call exercises 1 and 4: wrong ones in the kernel cost them nothing.
WRONG_EARLIER = {
    "rnn_forward": """
def rnn_step(x_t, h_prev, Wx, Wh, b):
    return 1 / (1 + np.exp(-(x_t @ Wx + h_prev @ Wh.T)))      # sigmoid, Wh transposed, no bias


def rnn_forward(x, Wx, Wh, b, *, h0=None, return_sequences=True):
    N, T, _ = x.shape
    h = np.zeros((N, Wh.shape[0])) if h0 is None else h0
    hs = []
    for t in range(T):
        h = rnn_step(x[:, t], h, Wx, Wh, b)
        hs.append(h)
    return np.stack(hs, axis=1) if return_sequences else h
""",
    "lstm_forward": """
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    H = h_prev.shape[1]
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    i, f, o, g = (np.tanh(z[:, k * H:(k + 1) * H]) for k in range(4))   # wrong order and activations
    c = f * c_prev + i * g
    return np.tanh(c), c
""",
}


class TestWeek08(mistakes.WeekTests):
    WEEK, WRONG, RIGHT, WRONG_EARLIER = WEEK, WRONG, RIGHT, WRONG_EARLIER
