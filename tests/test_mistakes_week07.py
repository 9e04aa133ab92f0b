"""Week 7's homework tests: every common wrong answer loses its whole exercise, with a hint that names it.

Each case replaces one answer cell of the solution homework with a plausible wrong version and
grades the exercise the way ``python -m autograder grade`` does (:mod:`tests.mistakes`): every
test cell of the exercise, visible and hidden, must fail, and the first failure, the one a
student sees before submitting, must name the mistake. The right answers written another way
(loops over every entry, einsum on a strided view, float32 inputs kept, np.add.at on a strided
view's argmax, softmax with a loss on probabilities) must keep every point.
"""

from tests import mistakes

WEEK = "week07_cnn"

SIZE = """
def output_size(size, kernel, stride=1, padding="valid"):
    if padding == "same":
        return SAME
    return VALID
"""


def size_with(valid="(size - kernel) // stride + 1", same="-(-size // stride)"):
    return SIZE.replace("VALID", valid).replace("SAME", same)


CONV = """
def conv2d_forward(x, W, b, *, stride=1, padding="valid"):
    N, H, W_in, C = x.shape
    KH, KW, _, M = W.shape
    Ho, Wo = output_size(H, KH, stride, padding), output_size(W_in, KW, stride, padding)
    if padding == "same":
        ph, pw = max((Ho - 1) * stride + KH - H, 0), max((Wo - 1) * stride + KW - W_in, 0)
        x = np.pad(x, ((0, 0), PADS, (0, 0)))
    K = KERNEL
    out = np.zeros((N, Ho, Wo, M))
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, ROWS, COLS, CHANNELS]
            out[:, i, j, :] = SUM
    return RESULT
"""


def conv_with(pads="(ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)", kernel="W",
              rows="i * stride:i * stride + KH", cols="j * stride:j * stride + KW", channels=":",
              total="np.tensordot(window, K, axes=([1, 2, 3], [0, 1, 2]))", result="out + b"):
    return (CONV.replace("PADS", pads).replace("KERNEL", kernel).replace("ROWS", rows).replace("COLS", cols)
            .replace("CHANNELS", channels).replace("SUM", total).replace("RESULT", result))


POOL = """
def maxpool_forward(x, *, pool=2, stride=None):
    stride = STRIDE
    N, H, W, C = x.shape
    Ho, Wo = SIZES
    out = np.empty((N, Ho, Wo, C))
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, i * stride:i * stride + pool, j * stride:j * stride + pool, :]
            out[:, i, j, :] = REDUCE
    return RESULT
"""


def pool_with(stride="pool if stride is None else stride", sizes="(H - pool) // stride + 1, (W - pool) // stride + 1",
              reduce="window.max(axis=(1, 2))", result="out"):
    return (POOL.replace("STRIDE", stride, 1).replace("SIZES", sizes).replace("REDUCE", reduce)
            .replace("RESULT", result))


MAXBACK = """
def maxpool_backward(dout, x, *, pool=2, stride=None):
    stride = STRIDE
    N, Ho, Wo, C = dout.shape
    dx = np.zeros(x.shape)
    for i in range(Ho):
        for j in range(Wo):
            rows, cols = slice(i * stride, i * stride + pool), slice(j * stride, j * stride + pool)
            window = x[:, rows, cols, :]
            flat = window.reshape(N, -1, C)
            first = FIRST
            mask = MASK
            dx[:, rows, cols, :] ADD GRAD
    return dx
"""


def maxback_with(stride="pool if stride is None else stride", first="flat.argmax(axis=1)",
                 mask="(np.arange(flat.shape[1])[:, None] == first[:, None, :]).reshape(window.shape)", add="+=",
                 grad="mask * dout[:, i, j, None, None, :]"):
    return (MAXBACK.replace("STRIDE", stride, 1).replace("FIRST", first).replace("MASK", mask).replace("ADD", add)
            .replace("GRAD", grad))


AVG = """
def avgpool_forward(x, *, pool=2, stride=None):
    stride = STRIDE
    N, H, W, C = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    out = np.empty((N, Ho, Wo, C))
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, i * stride:i * stride + pool, j * stride:j * stride + pool, :]
            out[:, i, j, :] = REDUCE
    return RESULT
"""


def avg_with(stride="pool if stride is None else stride", reduce="window.sum(axis=(1, 2)) / (pool * pool)",
             result="out"):
    return AVG.replace("STRIDE", stride, 1).replace("REDUCE", reduce).replace("RESULT", result)


COUNT = """
def count_params(input_shape, architecture):
    H, W, C = input_shape
    counts, flat = [], None
    for layer in architecture:
        if layer[0] == "conv":
            _, M, K, padding = layer
            counts.append(CONV_COUNT)
            H, W, C = SHAPE
        elif layer[0] == "pool":
            counts.append(POOL_COUNT)
            H, W = POOLED
        elif layer[0] == "flatten":
            counts.append(0)
            flat = FLAT
        else:
            D = flat if flat is not None else C
            counts.append(DENSE_COUNT)
            flat = layer[1]
    return counts
"""


def count_with(conv="K * K * C * M + M", shape="output_size(H, K, 1, padding), output_size(W, K, 1, padding), M",
               pool="0", pooled="H // layer[1], W // layer[1]", flat="H * W * C", dense="D * layer[1] + layer[1]"):
    return (COUNT.replace("CONV_COUNT", conv).replace("SHAPE", shape).replace("POOL_COUNT", pool)
            .replace("POOLED", pooled).replace("FLAT", flat).replace("DENSE_COUNT", dense))


BACKWARD = """
def conv2d_backward(dout, x, W, *, stride=1, padding="valid"):
    N, H, W_in, C = x.shape
    KH, KW, _, M = W.shape
    _, Ho, Wo, _ = dout.shape
    top = left = ph = pw = 0
    if padding == "same":
        ph, pw = max((Ho - 1) * stride + KH - H, 0), max((Wo - 1) * stride + KW - W_in, 0)
        top, left = TOP_LEFT
    x_pad = np.pad(x, ((0, 0), (top, ph - top), (left, pw - left), (0, 0)))
    dx_pad, dW = np.zeros(x_pad.shape), np.zeros(W.shape)
    K = KERNEL
    for i in range(Ho):
        for j in range(Wo):
            rows, cols = ROWS_COLS
            g = dout[:, i, j, :]
            dx_pad[:, rows, cols, :] ADD np.tensordot(g, K, axes=([1], [3]))
            dW DW_ADD np.tensordot(x_pad[:, rows, cols, :], g, axes=([0], [0]))
    dx = DX
    return dx, DW, DB
"""


def backward_with(top_left="ph // 2, pw // 2", kernel="W",
                  rows_cols="slice(i * stride, i * stride + KH), slice(j * stride, j * stride + KW)", add="+=",
                  dw_add="+=", dx="dx_pad[:, top:top + H, left:left + W_in, :]", dw="dW",
                  db="dout.sum(axis=(0, 1, 2))"):
    return (BACKWARD.replace("TOP_LEFT", top_left).replace("KERNEL", kernel).replace("ROWS_COLS", rows_cols)
            .replace("DW_ADD", dw_add).replace("ADD", add).replace("DX", dx).replace("DW", dw, 1)
            .replace("DB", db))


CNN = """
import keras


def build_cnn(input_shape, n_classes, *, seed):
    SEED
    model = keras.Sequential([
        keras.Input(input_shape),
        LAYERS
    ])
    COMPILE
    return model
"""
LAYERS = """keras.layers.Conv2D(16, 3, padding="same", activation=ACT),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, padding="same", activation=ACT),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation=ACT),
        keras.layers.Dense(n_classes, activation=LAST),"""
COMPILE = ("model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), "
           "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))")


def cnn_with(layers=LAYERS, act='"relu"', last="None", compile_=COMPILE, seed="keras.utils.set_random_seed(seed)"):
    return (CNN.replace("LAYERS", layers.replace("ACT", act).replace("LAST", last)).replace("COMPILE", compile_)
            .replace("SEED", seed))


WRONG = {
    # -- exercise 1: the output size
    "size: the + 1 left out": ("output_size", "the + 1 is missing", size_with(valid="(size - kernel) // stride")),
    "size: ceil for floor with 'valid'": ("output_size", "this rounds up",
                                          size_with(valid="-(-(size - kernel) // stride) + 1")),
    "size: the stride ignored": ("output_size", "the stride was ignored", size_with(valid="size - kernel + 1")),
    "size: (H - K + 1) // S": ("output_size", "the + 1 is missing", size_with(valid="(size - kernel + 1) // stride")),
    "size: 'same' keeps H whatever the stride": ("output_size", "'same' keeps the size H only for S = 1",
                                                 size_with(same="size")),
    "size: 'same' rounds down": ("output_size", "this rounds down", size_with(same="size // stride")),
    "size: 'same' treated like 'valid'": ("output_size", "treated like 'valid'",
                                         size_with(same="(size - kernel) // stride + 1")),
    "size: a float from /": ("output_size", "must return an int", size_with(valid="(size - kernel) / stride + 1",
                                                                           same="np.ceil(size / stride)")),
    "size: nblib's own output_size called": ("output_size", "asks you to write this yourself", """
def output_size(size, kernel, stride=1, padding="valid"):
    return conv.output_size(size, kernel, stride, padding)
"""),
    # -- exercise 2: convolution forward
    "conv: the kernel flipped (a true convolution)": ("conv2d_forward", "the kernel is flipped",
                                                      conv_with(kernel="W[::-1, ::-1]")),
    "conv: 'same' padding's extra row on top": ("conv2d_forward", "went to the top or left",
                                                conv_with(pads="(ph - ph // 2, ph // 2), (pw - pw // 2, pw // 2)")),
    "conv: the stride applied to the output index only": ("conv2d_forward", "where the windows start",
                                                          conv_with(rows="i:i + KH", cols="j:j + KW")),
    "conv: the bias left out": ("conv2d_forward", "the bias b is missing", conv_with(result="out")),
    "conv: the bias added inside the sum": ("conv2d_forward", "once per kernel entry", conv_with(
        total="np.tensordot(window, K, axes=([1, 2, 3], [0, 1, 2])) + b * KH * KW * C", result="out")),
    "conv: only the first input channel": ("conv2d_forward", "only the first input channel", conv_with(
        channels=":1", total="np.tensordot(window, K[:, :, :1], axes=([1, 2, 3], [0, 1, 2]))")),
    "conv: channels first": ("conv2d_forward", "channels first", conv_with(result="(out + b).transpose(0, 3, 1, 2)")),
    "conv: the mean of the window": ("conv2d_forward", "the mean over the window", conv_with(
        total="np.tensordot(window, K, axes=([1, 2, 3], [0, 1, 2])) / (KH * KW * C)")),
    "conv: the kernel's rows and columns swapped": ("conv2d_forward", "rows and columns are swapped",
                                                    conv_with(kernel="W.transpose(1, 0, 2, 3)")),
    "conv: 'same' padding ignored": ("conv2d_forward", "padding='same' was ignored", """
def conv2d_forward(x, W, b, *, stride=1, padding="valid"):
    N, H, W_in, C = x.shape
    KH, KW, _, M = W.shape
    Ho, Wo = (H - KH) // stride + 1, (W_in - KW) // stride + 1
    out = np.zeros((N, Ho, Wo, M))
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, i * stride:i * stride + KH, j * stride:j * stride + KW, :]
            out[:, i, j, :] = np.tensordot(window, W, axes=([1, 2, 3], [0, 1, 2]))
    return out + b
"""),
    # a sum over the wrong axes with several channels: numpy's error (or the value) names it
    "conv: per filter, summed over rows and columns only": ("conv2d_forward", "over the wrong axes", """
def conv2d_forward(x, W, b, *, stride=1, padding="valid"):
    N, H, W_in, C = x.shape
    KH, KW, _, M = W.shape
    Ho, Wo = (H - KH) // stride + 1, (W_in - KW) // stride + 1
    out = np.zeros((N, Ho, Wo, M))
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, i * stride:i * stride + KH, j * stride:j * stride + KW, :]
            for m in range(M):
                out[:, i, j, m] = np.sum(window * W[:, :, :, m], axis=(1, 2)) + b[m]
    return out
"""),
    "conv: per filter, np.sum over every axis (the images too)": ("conv2d_forward", "added up the images too", """
def conv2d_forward(x, W, b, *, stride=1, padding="valid"):
    N, H, W_in, C = x.shape
    KH, KW, _, M = W.shape
    Ho, Wo = (H - KH) // stride + 1, (W_in - KW) // stride + 1
    out = np.zeros((N, Ho, Wo, M))
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, i * stride:i * stride + KH, j * stride:j * stride + KW, :]
            for m in range(M):
                out[:, i, j, m] = np.sum(window * W[:, :, :, m]) + b[m]
    return out
"""),
    "conv: einsum summing the filters' letter": ("conv2d_forward", "over the wrong axes",
                                                conv_with(total="np.einsum('npqc,pqcm->nc', window, K)")),
    "conv: broadcast products, the channel axis kept": ("conv2d_forward", "over the wrong axes",
                                                        conv_with(total="(window[..., None] * K).sum(axis=(1, 2))")),
    "conv: tensordot over rows and columns only": ("conv2d_forward", "over the wrong axes",
                                                   conv_with(total="np.tensordot(window, K, axes=([1, 2], [0, 1]))")),
    "conv: broadcast products, the filters summed too": ("conv2d_forward", "over the wrong axes", conv_with(
        total="(window[..., None] * K).sum(axis=(1, 2, 3, 4))")),
    "conv: nblib's own conv2d_forward called": ("conv2d_forward", "asks you to write this yourself", """
def conv2d_forward(x, W, b, *, stride=1, padding="valid"):
    return conv.conv2d_forward(x, W, b, stride=stride, padding=padding)[0]
"""),
    # -- exercise 3: max pooling
    "pool: stride 1 by default": ("maxpool_forward", "the windows moved by 1 cell",
                                  pool_with(stride="1 if stride is None else stride")),
    "pool: the mean of each window": ("maxpool_forward", "average pooling", pool_with(reduce="window.mean(axis=(1, 2))")),
    "pool: the maximum over the channels too": ("maxpool_forward", "over the channels too",
                                                pool_with(reduce="window.max(axis=(1, 2, 3))[:, None]")),
    "pool: the largest absolute value": ("maxpool_forward", "the largest |value|",
                                         pool_with(reduce="np.abs(window).max(axis=(1, 2))")),
    "pool: partial windows kept": ("maxpool_forward", "windows that hang over the edge", pool_with(
        sizes="-(-H // stride), -(-W // stride)")),
    "pool: the stride argument ignored": ("maxpool_forward", "the stride argument was ignored", pool_with(stride="pool")),
    "pool: nblib's own maxpool_forward called": ("maxpool_forward", "asks you to write this yourself", """
def maxpool_forward(x, *, pool=2, stride=None):
    return conv.maxpool_forward(x, pool=pool, stride=stride)[0]
"""),
    # -- exercise 4a: max pooling backward
    "maxback: dout to every cell of the window": ("maxpool_backward", "every cell of the window got the gradient",
                                                  maxback_with(mask="np.ones(window.shape)")),
    "maxback: dout divided among the window": ("maxpool_backward", "divided among the window's cells",
                                               maxback_with(mask="np.ones(window.shape) / (pool * pool)")),
    "maxback: 1 at the maximum, not dout": ("maxpool_backward", "got 1, not dout", maxback_with(grad="mask")),
    "maxback: a mask window == max (every tie)": ("maxpool_backward", "every tied cell got the gradient", maxback_with(
        mask="window == window.max(axis=(1, 2), keepdims=True)")),
    "maxback: the last maximum of a tie": ("maxpool_backward", "the last one got the gradient", maxback_with(
        first="flat.shape[1] - 1 - flat[:, ::-1].argmax(axis=1)")),
    "maxback: overlapping windows overwrite": ("maxpool_backward", "overwritten instead of added up",
                                               maxback_with(add="=")),
    "maxback: stride 1 by default": ("maxpool_backward", "the windows moved by 1 cell",
                                     maxback_with(stride="1 if stride is None else stride")),
    "maxback: the stride argument ignored": ("maxpool_backward", "the stride argument was ignored",
                                             maxback_with(stride="pool")),
    "maxback: one maximum over the channels together": ("maxpool_backward", "over all the channels together",
                                                        maxback_with(mask="window == window.max(axis=(1, 2, 3), "
                                                                          "keepdims=True)")),
    "maxback: nblib's own maxpool_backward called": ("maxpool_backward", "asks you to write this yourself", """
def maxpool_backward(dout, x, *, pool=2, stride=None):
    _, cache = conv.maxpool_forward(x, pool=pool, stride=stride)
    return conv.maxpool_backward(dout, cache)
"""),
    "maxback: nblib's loop version called": ("maxpool_backward", "asks you to write this yourself", """
def maxpool_backward(dout, x, *, pool=2, stride=None):
    s = pool if stride is None else stride
    return conv.maxpool_backward_loops(dout, conv.PoolCache(x, (pool, pool), (s, s), ((0, 0), (0, 0))))
"""),
    # -- exercise 4b: average pooling
    "avg: divided by pool, not pool * pool": ("avgpool_forward", "the sum was divided by P",
                                              avg_with(reduce="window.sum(axis=(1, 2)) / pool")),
    "avg: divided by the whole map's size": ("avgpool_forward", "the whole map's size",
                                             avg_with(reduce="window.sum(axis=(1, 2)) / (H * W)")),
    "avg: the sum, not the mean": ("avgpool_forward", "this is the sum of each window",
                                   avg_with(reduce="window.sum(axis=(1, 2))")),
    "avg: the maximum": ("avgpool_forward", "max pooling", avg_with(reduce="window.max(axis=(1, 2))")),
    "avg: stride 1 by default": ("avgpool_forward", "the windows moved by 1 cell",
                                 avg_with(stride="1 if stride is None else stride")),
    "avg: the stride argument ignored": ("avgpool_forward", "the stride argument was ignored", avg_with(stride="pool")),
    "avg: the channels pooled together": ("avgpool_forward", "over the channels too",
                                          avg_with(reduce="window.mean(axis=(1, 2, 3))[:, None]")),
    "avg: nblib's own avgpool_forward called": ("avgpool_forward", "asks you to write this yourself", """
def avgpool_forward(x, *, pool=2, stride=None):
    return conv.avgpool_forward(x, pool=pool, stride=stride)[0]
"""),
    # -- exercise 4: parameter counts
    "count: the biases left out": ("count_params", "the biases are missing",
                                   count_with(conv="K * K * C * M", dense="D * layer[1]")),
    "count: a filter over one channel": ("count_params", "a filter spans all C input channels",
                                         count_with(conv="K * K * M + M")),
    "count: the pooling not applied to the shape": ("count_params", "the pooling was not applied",
                                                    count_with(pooled="H, W")),
    "count: the padding ignored": ("count_params", "the padding was ignored",
                                   count_with(shape="H - K + 1, W - K + 1, M")),
    "count: a convolution counted as a dense layer": ("count_params", "counted like a dense layer",
                                                      count_with(conv="H * W * C * M + M")),
    "count: Flatten without the channels": ("count_params", "Flatten keeps every channel", count_with(flat="H * W")),
    "count: a bias per output position": ("count_params", "a bias was counted for every output position", count_with(
        conv="K * K * C * M + output_size(H, K, 1, padding) * output_size(W, K, 1, padding) * M")),
    # -- exercise 5: convolution backward
    "backward: overlapping windows overwrite": ("conv2d_backward", "overwritten instead of added up",
                                                backward_with(add="=")),
    "backward: dx through the flipped kernel": ("conv2d_backward", "dx used the kernel flipped",
                                                backward_with(kernel="W[::-1, ::-1]")),
    "backward: the padding's gradient kept": ("conv2d_backward", "dx still has the padding", backward_with(dx="dx_pad")),
    "backward: the stride left out of the windows": ("conv2d_backward", "instead of (i * stride, j * stride)",
                                                     backward_with(rows_cols="slice(i, i + KH), slice(j, j + KW)")),
    "backward: dW averaged over the batch": ("conv2d_backward", "dW was averaged over the batch",
                                             backward_with(dw="dW / N")),
    "backward: db averaged": ("conv2d_backward", "db was averaged", backward_with(db="dout.mean(axis=(0, 1, 2))")),
    "backward: db summed over the batch only": ("conv2d_backward", "db must have shape (M,)",
                                                backward_with(db="dout.sum(axis=0)")),
    "backward: 'same' padding's extra row on top": ("conv2d_backward", "went to the top or left",
                                                    backward_with(top_left="ph - ph // 2, pw - pw // 2")),
    "backward: nblib's own conv2d_backward called": ("conv2d_backward", "asks you to write this yourself", """
def conv2d_backward(dout, x, W, *, stride=1, padding="valid"):
    out, cache = conv.conv2d_forward(x, W, np.zeros(W.shape[3]), stride=stride, padding=padding)
    return conv.conv2d_backward(dout, cache)
"""),
    # -- exercise 6: the Keras CNN
    "cnn: an MLP": ("build_cnn", "this is an MLP", cnn_with(layers="""keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(n_classes),""")),
    "cnn: no ReLU": ("build_cnn", "has no activation", cnn_with(act="None")),
    "cnn: a softmax output with from_logits=True": ("build_cnn", "the softmax is applied twice",
                                                    cnn_with(last='"softmax"')),
    "cnn: logits with a loss on probabilities": ("build_cnn", "pass from_logits=True", cnn_with(compile_=(
        'model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), '
        'loss="sparse_categorical_crossentropy")'))),
    "cnn: one-hot cross-entropy for integer labels": ("build_cnn", "the labels are integers", cnn_with(compile_=(
        'model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), '
        'loss=keras.losses.CategoricalCrossentropy(from_logits=True))'))),
    "cnn: not compiled": ("build_cnn", "the model is not compiled", cnn_with(compile_="pass")),
    "cnn: 'valid' padding": ("build_cnn", "padding='valid'", cnn_with(layers=LAYERS.replace('"same"', '"valid"'))),
    "cnn: no pooling": ("build_cnn", "MaxPooling2D layers are missing",
                        cnn_with(layers=LAYERS.replace("keras.layers.MaxPooling2D(2),", ""))),
}


RIGHT = {
    "size: math.ceil and math.floor": ("output_size", """
import math


def output_size(size, kernel, stride=1, padding="valid"):
    if padding == "valid":
        return math.floor((size - kernel) / stride) + 1
    return math.ceil(size / stride)
"""),
    "conv: every entry by loops, float32 inputs": ("conv2d_forward", """
def conv2d_forward(x, W, b, *, stride=1, padding="valid"):
    x = np.asarray(x, dtype=np.float64)
    N, H, Wd, C = x.shape
    KH, KW, _, M = W.shape
    if padding == "same":
        Ho, Wo = -(-H // stride), -(-Wd // stride)
        ph, pw = max((Ho - 1) * stride + KH - H, 0), max((Wo - 1) * stride + KW - Wd, 0)
        padded = np.zeros((N, H + ph, Wd + pw, C))
        padded[:, ph // 2:ph // 2 + H, pw // 2:pw // 2 + Wd, :] = x
        x = padded
    else:
        Ho, Wo = (H - KH) // stride + 1, (Wd - KW) // stride + 1
    out = np.empty((N, Ho, Wo, M))
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                for m in range(M):
                    total = b[m]
                    for p in range(KH):
                        for q in range(KW):
                            for c in range(C):
                                total += x[n, i * stride + p, j * stride + q, c] * W[p, q, c, m]
                    out[n, i, j, m] = total
    return out
"""),
    "conv: einsum over a strided view": ("conv2d_forward", """
from numpy.lib.stride_tricks import sliding_window_view


def conv2d_forward(x, W, b, *, stride=1, padding="valid"):
    KH, KW, C, M = W.shape
    if padding == "same":
        pads = []
        for n, k in zip(x.shape[1:3], (KH, KW)):
            total = max((output_size(n, k, stride, "same") - 1) * stride + k - n, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, ((0, 0), *pads, (0, 0)))
    windows = sliding_window_view(x, (KH, KW), axis=(1, 2))[:, ::stride, ::stride]   # (N, H', W', C, KH, KW)
    return np.einsum("nijcpq,pqcm->nijm", windows, W) + b
"""),
    "pool: a reshape into blocks where it fits, loops elsewhere": ("maxpool_forward", """
def maxpool_forward(x, *, pool=2, stride=None):
    s = pool if stride is None else stride
    N, H, W, C = x.shape
    Ho, Wo = (H - pool) // s + 1, (W - pool) // s + 1
    if s == pool:
        blocks = x[:, :Ho * pool, :Wo * pool, :].reshape(N, Ho, pool, Wo, pool, C)
        return blocks.max(axis=(2, 4))
    out = np.full((N, Ho, Wo, C), -np.inf)
    for p in range(pool):
        for q in range(pool):
            out = np.maximum(out, x[:, p:p + s * (Ho - 1) + 1:s, q:q + s * (Wo - 1) + 1:s, :])
    return out
"""),
    "maxback: every entry by loops, np.unravel_index": ("maxpool_backward", """
def maxpool_backward(dout, x, *, pool=2, stride=None):
    s = stride or pool
    dx = np.zeros_like(x, dtype=float)
    N, Ho, Wo, C = dout.shape
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                for c in range(C):
                    window = x[n, i * s:i * s + pool, j * s:j * s + pool, c]
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, i * s + p, j * s + q, c] += dout[n, i, j, c]
    return dx
"""),
    "maxback: sliding_window_view and np.add.at": ("maxpool_backward", """
from numpy.lib.stride_tricks import sliding_window_view


def maxpool_backward(dout, x, *, pool=2, stride=None):
    s = pool if stride is None else stride
    N, Ho, Wo, C = dout.shape
    windows = sliding_window_view(x, (pool, pool), axis=(1, 2))[:, ::s, ::s][:, :Ho, :Wo]   # (N, Ho, Wo, C, P, P)
    k = windows.reshape(N, Ho, Wo, C, pool * pool).argmax(axis=-1)                          # (N, Ho, Wo, C)
    n, i, j, c = np.indices(k.shape)
    dx = np.zeros(x.shape)
    np.add.at(dx, (n, i * s + k // pool, j * s + k % pool, c), dout)
    return dx
"""),
    "avg: the mean of a strided view": ("avgpool_forward", """
from numpy.lib.stride_tricks import sliding_window_view


def avgpool_forward(x, *, pool=2, stride=None):
    s = pool if stride is None else stride
    return sliding_window_view(x, (pool, pool), axis=(1, 2))[:, ::s, ::s].mean(axis=(-2, -1))
"""),
    "count: a dictionary of rules, tuples returned": ("count_params", """
def count_params(input_shape, architecture):
    shape = list(input_shape)
    counts = []
    for kind, *args in architecture:
        if kind == "conv":
            filters, k, padding = args
            counts.append((k * k * shape[-1] + 1) * filters)
            shape = [output_size(shape[0], k, padding=padding), output_size(shape[1], k, padding=padding), filters]
        elif kind == "pool":
            counts.append(0)
            shape = [shape[0] // args[0], shape[1] // args[0], shape[2]]
        elif kind == "flatten":
            counts.append(0)
            shape = [int(np.prod(shape))]
        elif kind == "dense":
            counts.append((shape[0] + 1) * args[0])
            shape = [args[0]]
    return tuple(np.int64(c) for c in counts)
"""),
    "backward: sums over every output entry by loops": ("conv2d_backward", """
def conv2d_backward(dout, x, W, *, stride=1, padding="valid"):
    N, H, Wd, C = x.shape
    KH, KW, _, M = W.shape
    _, Ho, Wo, _ = dout.shape
    ph = max((Ho - 1) * stride + KH - H, 0) if padding == "same" else 0
    pw = max((Wo - 1) * stride + KW - Wd, 0) if padding == "same" else 0
    x_pad = np.zeros((N, H + ph, Wd + pw, C))
    x_pad[:, ph // 2:ph // 2 + H, pw // 2:pw // 2 + Wd, :] = x
    dx_pad = np.zeros_like(x_pad)
    dW = np.zeros_like(W, dtype=float)
    db = np.zeros(M)
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                for m in range(M):
                    g = dout[n, i, j, m]
                    dx_pad[n, i * stride:i * stride + KH, j * stride:j * stride + KW, :] += g * W[:, :, :, m]
                    dW[:, :, :, m] += g * x_pad[n, i * stride:i * stride + KH, j * stride:j * stride + KW, :]
                    db[m] += g
    return dx_pad[:, ph // 2:ph // 2 + H, pw // 2:pw // 2 + Wd, :], dW, db
"""),
    "cnn: a softmax output with a loss on probabilities": ("build_cnn", cnn_with(last='"softmax"', compile_=(
        'model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), '
        'loss=keras.losses.SparseCategoricalCrossentropy())'))),
}


# conv2d_forward and count_params may call exercise 1's output_size: a wrong one in the kernel costs them nothing.
WRONG_EARLIER = {
    "conv2d_forward": size_with(valid="(size - kernel) // stride", same="size"),
    "count_params": size_with(valid="size - kernel", same="size // stride"),
}


class TestWeek07(mistakes.WeekTests):
    WEEK, WRONG, RIGHT, WRONG_EARLIER = WEEK, WRONG, RIGHT, WRONG_EARLIER
