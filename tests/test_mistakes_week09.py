"""Week 9's homework tests: every common wrong answer loses its whole exercise, with a hint that names it.

Each case replaces one answer cell of the solution homework with a plausible wrong version and
grades the exercise the way ``python -m autograder grade`` does (:mod:`tests.mistakes`): every
test cell of the exercise, visible and hidden, must fail, and the first failure, the one a
student sees before submitting, must name the mistake. The right answers written another way
(einsum, an additive mask, loops with the math module, slices and concatenation, keras.layers.Add)
must keep every point. The wrong answers to exercise 6 fail on the untrained model, before any
training; its right answer trains, as the grader does.
"""

from tests import mistakes

WEEK = "week09_attention"

ATTENTION = """
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ v, weights
"""


def attention_with(**changes):
    source = ATTENTION
    for old, new in changes.values():
        assert old in source, old
        source = source.replace(old, new)
    return source


SCALE = "/ np.sqrt(q.shape[-1])"
FILL = "scores = np.where(mask, scores, -1e9)"
SOFTMAX = "e = np.exp(scores - scores.max(axis=-1, keepdims=True))\n    weights = e / e.sum(axis=-1, keepdims=True)"

MASKS = """
def causal_mask(T):
    return CAUSAL


def padding_mask(lengths, T):
    return PADDING
"""


def masks_with(causal="np.tri(T, dtype=bool)", padding="(np.arange(T) < np.asarray(lengths)[:, None])[:, None, :]"):
    return MASKS.replace("CAUSAL", causal).replace("PADDING", padding)


HEADS = """
def split_heads(x, heads):
    N, T, features = x.shape
    return SPLIT


def merge_heads(x):
    N, heads, T, dk = x.shape
    return MERGE
"""


def heads_with(split="x.reshape(N, T, heads, features // heads).transpose(0, 2, 1, 3)",
               merge="x.transpose(0, 2, 1, 3).reshape(N, T, heads * dk)"):
    return HEADS.replace("SPLIT", split).replace("MERGE", merge)


MHA = """
def multi_head_attention(query, value, weights, *, key=None, mask=None):
    Wq, bq, Wk, bk, Wv, bv, Wo, bo = weights
    key = value if key is None else key
    heads = Wq.shape[1]

    def project(x, W, b):
        return split_heads(x @ W.reshape(W.shape[0], -1) + b.reshape(-1), heads)

    Q, K, V = project(query, Wq, bq), project(key, Wk, bk), project(value, Wv, bv)
    if mask is not None:
        mask = np.asarray(mask)
        mask = mask[:, None] if mask.ndim == 3 else mask
    heads_out, scores = scaled_dot_product_attention(Q, K, V, mask)
    merged = merge_heads(heads_out)
    return merged @ Wo.reshape(merged.shape[-1], -1) + bo, scores
"""


def mha_with(**changes):
    source = MHA
    for old, new in changes.values():
        assert old in source, old
        source = source.replace(old, new)
    return source


ENCODING = """
def positional_encoding(T, D):
    pair = np.arange(D) // 2
    angles = np.arange(T)[:, None] / 10000.0 ** (EXPONENT / D)
    return np.where(np.arange(D) % 2 == 0, EVEN, ODD)
"""


def encoding_with(exponent="2 * pair", even="np.sin(angles)", odd="np.cos(angles)"):
    return ENCODING.replace("EXPONENT", exponent).replace("EVEN", even).replace("ODD", odd)


TRANSFORMER = """
import keras


def build_transformer(T, vocab, *, seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((T,), dtype="int32")
    e = keras.layers.Embedding(vocab, 16)(inputs) + positional_encoding(T, 16)
    a = keras.layers.MultiHeadAttention(2, 8)(e, e)
    h = keras.layers.LayerNormalization()(e + a)
    f = keras.layers.Dense(16)(keras.layers.Dense(32, activation="relu")(h))
    h2 = keras.layers.LayerNormalization()(h + f)
    model = keras.Model(inputs, keras.layers.Dense(vocab)(h2))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model
"""


def transformer_with(**changes):
    source = TRANSFORMER
    for old, new in changes.values():
        assert old in source, old
        source = source.replace(old, new)
    return source


WRONG = {
    # -- exercise 1: scaled_dot_product_attention
    "attention: no scaling": ("scaled_dot_product_attention", "scores are not scaled", attention_with(
        s=(SCALE, ""))),
    "attention: scaled by d_k, not its square root": ("scaled_dot_product_attention", "divided by d_k itself",
                                                      attention_with(s=(SCALE, "/ q.shape[-1]"))),
    "attention: scaled by the number of keys": ("scaled_dot_product_attention", "sqrt(Tk)", attention_with(
        s=(SCALE, "/ np.sqrt(k.shape[-2])"))),
    "attention: softmax over the queries": ("scaled_dot_product_attention", "queries' axis", attention_with(
        s=(SOFTMAX, "e = np.exp(scores - scores.max(axis=-2, keepdims=True))\n"
                    "    weights = e / e.sum(axis=-2, keepdims=True)"))),
    "attention: the mask applied after the softmax": ("scaled_dot_product_attention", "after the softmax", """
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    if mask is not None:
        weights = np.where(mask, weights, 0.0)
    return weights @ v, weights
"""),
    "attention: masked scores set to 0": ("scaled_dot_product_attention", "masked scores were set to 0",
                                          attention_with(f=(FILL, "scores = np.where(mask, scores, 0.0)"))),
    "attention: the mask read the wrong way round": ("scaled_dot_product_attention", "wrong way round",
                                                     attention_with(f=(FILL, "scores = np.where(mask, -1e9, scores)"))),
    "attention: the mask ignored": ("scaled_dot_product_attention", "mask was not used", attention_with(
        f=(FILL, "pass"))),
    "attention: no max shift (overflow on large scores)": ("scaled_dot_product_attention", "subtract each row's maximum",
                                                           attention_with(s=(SOFTMAX, "e = np.exp(scores)\n"
                                                                             "    weights = e / e.sum(axis=-1, keepdims=True)"))),
    "attention: (weights, out) returned": ("scaled_dot_product_attention", "the pair is (out, weights)", attention_with(
        r=("return weights @ v, weights", "return weights, weights @ v"))),
    "attention: nblib's own answer": ("scaled_dot_product_attention", "asks you to write this yourself", """
def scaled_dot_product_attention(q, k, v, mask=None):
    return attention.scaled_dot_product_attention(q, k, v, mask)
"""),
    # -- exercise 2: causal_mask, padding_mask
    "masks: the causal mask transposed (the future visible)": ("masks", "FUTURE", masks_with(
        causal="np.tri(T, dtype=bool).T")),
    "masks: the diagonal left out": ("masks", "diagonal is missing", masks_with(causal="np.tri(T, k=-1, dtype=bool)")),
    "masks: a causal mask of 0s and 1s": ("masks", "must be boolean", masks_with(causal="np.tril(np.ones((T, T)))")),
    "masks: the padding mask on the queries": ("masks", "masks the queries", masks_with(
        padding="(np.arange(T) < np.asarray(lengths)[:, None])[:, :, None]")),
    "masks: the padding mask without its middle axis": ("masks", "needs its middle axis", masks_with(
        padding="np.arange(T) < np.asarray(lengths)[:, None]")),
    "masks: the padding mask one too long": ("masks", "not j <= lengths[n]", masks_with(
        padding="(np.arange(T) <= np.asarray(lengths)[:, None])[:, None, :]")),
    "masks: nblib's own answer": ("masks", "asks you to write this yourself", masks_with(
        causal="attention.causal_mask(T)", padding="attention.padding_mask(np.asarray(lengths), T)")),
    # -- exercise 3: split_heads, merge_heads
    "heads: split by a reshape without the transpose": ("heads", "reshape without the transpose", heads_with(
        split="x.reshape(N, heads, T, features // heads)")),
    "heads: every heads-th feature to a head": ("heads", "every heads-th feature", heads_with(
        split="x.reshape(N, T, features // heads, heads).transpose(0, 3, 1, 2)")),
    "heads: merged by a reshape without the transpose": ("heads", "merged by a reshape without the transpose",
                                                         heads_with(merge="x.reshape(N, T, heads * dk)")),
    "heads: nblib's own answer": ("heads", "asks you to write this yourself", heads_with(
        split="attention.split_heads(x, heads)", merge="attention.merge_heads(x)")),
    # -- exercise 4: multi_head_attention
    "mha: the biases left out": ("multi_head_attention", "biases are left out", mha_with(
        p=("x @ W.reshape(W.shape[0], -1) + b.reshape(-1)", "x @ W.reshape(W.shape[0], -1)"),
        o=("@ Wo.reshape(merged.shape[-1], -1) + bo", "@ Wo.reshape(merged.shape[-1], -1)"))),
    "mha: the output projection missing": ("multi_head_attention", "output projection is missing", mha_with(
        o=("return merged @ Wo.reshape(merged.shape[-1], -1) + bo, scores", "return merged, scores"))),
    "mha: the key ignored": ("multi_head_attention", "key was not used", mha_with(
        k=("key = value if key is None else key", "key = value"))),
    "mha: the mask ignored": ("multi_head_attention", "mask was not used", mha_with(
        m=("heads_out, scores = scaled_dot_product_attention(Q, K, V, mask)",
           "heads_out, scores = scaled_dot_product_attention(Q, K, V)"))),
    "mha: the mask without a head axis": ("multi_head_attention", "without a head axis", mha_with(
        m=("mask = mask[:, None] if mask.ndim == 3 else mask", "pass"))),
    "mha: scaled by the model's width": ("multi_head_attention", "model's width", """
def multi_head_attention(query, value, weights, *, key=None, mask=None):
    Wq, bq, Wk, bk, Wv, bv, Wo, bo = weights
    key = value if key is None else key
    heads = Wq.shape[1]
    Q = split_heads(query @ Wq.reshape(Wq.shape[0], -1) + bq.reshape(-1), heads)
    K = split_heads(key @ Wk.reshape(Wk.shape[0], -1) + bk.reshape(-1), heads)
    V = split_heads(value @ Wv.reshape(Wv.shape[0], -1) + bv.reshape(-1), heads)
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(query.shape[-1])      # the model's width, not key_dim
    if mask is not None:
        scores = np.where(np.asarray(mask)[:, None], scores, -1e9)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights_ = e / e.sum(axis=-1, keepdims=True)
    merged = merge_heads(weights_ @ V)
    return merged @ Wo.reshape(merged.shape[-1], -1) + bo, weights_
"""),
    "mha: nblib's own answer": ("multi_head_attention", "asks you to write this yourself", """
def multi_head_attention(query, value, weights, *, key=None, mask=None):
    return attention.multi_head_attention(query, value, weights, key=key, mask=mask)
"""),
    # -- exercise 5: positional_encoding
    "encoding: sin and cos exchanged": ("positional_encoding", "sin and cos are exchanged", encoding_with(
        even="np.cos(angles)", odd="np.sin(angles)")),
    "encoding: 10000^(i/D)": ("positional_encoding", "the exponent is i/D", encoding_with(exponent="pair")),
    "encoding: the dimension's index in the exponent": ("positional_encoding", "uses the dimension j",
                                                        encoding_with(exponent="np.arange(D)")),
    "encoding: sines and cosines concatenated": ("positional_encoding", "concatenated", """
def positional_encoding(T, D):
    angles = np.arange(T)[:, None] / 10000.0 ** (2 * np.arange((D + 1) // 2) / D)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)[:, :D]
"""),
    "encoding: positions from 1": ("positional_encoding", "positions start at t = 0", ENCODING.replace(
        "np.arange(T)[:, None]", "np.arange(1, T + 1)[:, None]").replace("EXPONENT", "2 * pair").replace(
        "EVEN", "np.sin(angles)").replace("ODD", "np.cos(angles)")),
    "encoding: nblib's own answer": ("positional_encoding", "asks you to write this yourself", """
def positional_encoding(T, D):
    return attention.positional_encoding(T, D)
"""),
    # -- exercise 6: build_transformer (each fails on the untrained model)
    "transformer: no positional encoding": ("build_transformer", "ignores the order of its inputs", transformer_with(
        p=(" + positional_encoding(T, 16)", ""))),
    "transformer: a causal mask": ("build_transformer", "cannot see the future", transformer_with(
        m=("(e, e)", "(e, e, use_causal_mask=True)"))),
    "transformer: no layer normalization": ("build_transformer", "LayerNormalization layers are missing",
                                            transformer_with(n1=("keras.layers.LayerNormalization()(e + a)", "e + a"),
                                                             n2=("keras.layers.LayerNormalization()(h + f)", "h + f"))),
    "transformer: a softmax on logits": ("build_transformer", "applies a softmax", transformer_with(
        s=("keras.layers.Dense(vocab)(h2)", "keras.layers.Dense(vocab, activation='softmax')(h2)"))),
    "transformer: not compiled": ("build_transformer", "not compiled", transformer_with(
        c=("model.compile(", "dict("))),
}

RIGHT = {
    "attention: einsum and an additive mask": ("scaled_dot_product_attention", """
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = np.einsum("...qd,...kd->...qk", q, k) / q.shape[-1] ** 0.5
    if mask is not None:
        scores = scores - 1e9 * (1.0 - np.asarray(mask, dtype=float))     # every row keeps one key: same weights
    shifted = scores - np.max(scores, axis=-1, keepdims=True)
    weights = np.exp(shifted) / np.sum(np.exp(shifted), axis=-1, keepdims=True)
    return np.einsum("...qk,...kv->...qv", weights, v), weights
"""),
    "masks: loops and lists": ("masks", """
def causal_mask(T):
    return np.array([[j <= i for j in range(T)] for i in range(T)], dtype=bool)


def padding_mask(lengths, T):
    mask = np.zeros((len(lengths), 1, T), dtype=bool)
    for n, length in enumerate(lengths):
        mask[n, 0, :length] = True
    return mask
"""),
    "heads: slices and concatenation": ("heads", """
def split_heads(x, heads):
    dk = x.shape[-1] // heads
    return np.stack([x[:, :, m * dk:(m + 1) * dk] for m in range(heads)], axis=1)


def merge_heads(x):
    return np.concatenate([x[:, m] for m in range(x.shape[1])], axis=-1)
"""),
    "mha: einsum in Keras's own layout, no helpers": ("multi_head_attention", """
def multi_head_attention(query, value, weights, *, key=None, mask=None):
    Wq, bq, Wk, bk, Wv, bv, Wo, bo = weights
    if key is None:
        key = value
    Q = np.einsum("ntd,dhk->nhtk", query, Wq) + bq[None, :, None, :]
    K = np.einsum("nsd,dhk->nhsk", key, Wk) + bk[None, :, None, :]
    V = np.einsum("nsd,dhk->nhsk", value, Wv) + bv[None, :, None, :]
    scores = np.einsum("nhtk,nhsk->nhts", Q, K) / np.sqrt(Wq.shape[2])
    if mask is not None:
        scores = np.where(np.expand_dims(mask, -3), scores, -np.inf)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    scores = scores / scores.sum(axis=-1, keepdims=True)
    out = np.einsum("nhts,nhsk->nhtk", scores, V)
    return np.einsum("nhtk,hkm->ntm", out, Wo) + bo, scores
"""),
    "encoding: loops with the math module": ("positional_encoding", """
import math


def positional_encoding(T, D):
    pe = np.zeros((T, D))
    for t in range(T):
        for i in range(0, D, 2):
            angle = t / math.pow(10000, i / D)
            pe[t, i] = math.sin(angle)
            if i + 1 < D:
                pe[t, i + 1] = math.cos(angle)
    return pe
"""),
    "transformer: keras.layers.Add and a constant": ("build_transformer", """
import keras


def build_transformer(T, vocab, *, seed):
    keras.utils.set_random_seed(seed)
    positions = keras.ops.convert_to_tensor(positional_encoding(T, 16), dtype="float32")
    tokens = keras.Input(shape=(T,), dtype="int32")
    x = keras.layers.Embedding(input_dim=vocab, output_dim=16)(tokens) + positions
    attended = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    x = keras.layers.LayerNormalization()(keras.layers.Add()([x, attended]))
    hidden = keras.layers.Dense(32, activation="relu")(x)
    x = keras.layers.LayerNormalization()(keras.layers.Add()([x, keras.layers.Dense(16)(hidden)]))
    model = keras.Model(tokens, keras.layers.Dense(vocab)(x))
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model
"""),
}

# Exercise 4 may call exercises 1 and 3, exercise 6 exercise 5: wrong ones in the kernel cost them nothing.
WRONG_EARLIER = {
    "multi_head_attention": heads_with(split="x.reshape(N, heads, T, features // heads)",
                                       merge="x.reshape(N, T, heads * dk)") + attention_with(
        s=(SCALE, ""), f=(FILL, "scores = np.where(mask, scores, 0.0)")),
    "build_transformer": encoding_with(even="np.cos(angles)", odd="np.sin(angles)"),
}


class TestWeek09(mistakes.WeekTests):
    WEEK, WRONG, RIGHT, WRONG_EARLIER = WEEK, WRONG, RIGHT, WRONG_EARLIER
