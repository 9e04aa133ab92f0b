"""Attention: scaled dot-product attention, masks, multi-head attention and the transformer block.

Attention is a soft dictionary lookup. Each query is compared with every key; the scores,
turned into weights by a softmax over the keys, say how much of each key's value to take:

    scores  = q k^T / sqrt(d_k)                 (..., Tq, dk) @ (..., dk, Tk) -> (..., Tq, Tk)
    weights = softmax(scores) over the keys     every row sums to 1
    out     = weights v                         (..., Tq, Tk) @ (..., Tk, dv) -> (..., Tq, dv)

Dividing by sqrt(d_k) keeps the scores' spread near 1 whatever d_k: the dot product of two
vectors of d_k independent unit-variance entries has variance d_k, and a softmax of scores
that spread saturates (one weight near 1, the others near 0, gradients near 0).
Vaswani et al. (2017).

A **mask** (boolean, True = may attend, Keras's ``attention_mask`` convention) replaces the
scores of the forbidden keys by a large negative number *before* the softmax, so their
weights are exactly 0 and the others still sum to 1: :func:`causal_mask` (query i sees the
keys 0..i, for a model that must not see the future), :func:`padding_mask` (no query looks at
the padding after a sequence's end).

**Multi-head attention** projects the inputs ``heads`` times with different weights, attends
in each head separately and mixes the heads' outputs with one more projection. The weights are
in the layout and order of ``keras.layers.MultiHeadAttention`` (``layer.get_weights()``):

=========  ==========================  ======================
weight     shape                       role
=========  ==========================  ======================
``Wq``     (D_query, heads, key_dim)   query projection
``bq``     (heads, key_dim)
``Wk``     (D_key, heads, key_dim)     key projection
``bk``     (heads, key_dim)
``Wv``     (D_value, heads, value_dim) value projection
``bv``     (heads, value_dim)
``Wo``     (heads, value_dim, D_out)   output projection
``bo``     (D_out,)
=========  ==========================  ======================

:func:`mha_forward` and :func:`mha_backward` keep the course's layer contract
(``out, cache = op_forward(...)``, ``grads = op_backward(dout, cache)``);
:func:`multi_head_attention` takes the weights as the list ``get_weights()`` returns and gives
``(out, scores)`` as ``layer(query, value, return_attention_scores=True)`` does.

Attention by itself does not know the order of its inputs (permuting the keys and values
permutes nothing in the output), so a transformer adds a :func:`positional_encoding` to its
inputs. :func:`transformer_block_forward` is the post-norm encoder block of the Keras examples.

Every function a homework asks for is a reference (``@reference``), switched off while that
exercise is tested.

Example
-------
>>> import numpy as np
>>> q = np.array([[1.0, 0.0]])                       # one query, d_k = 2
>>> k = np.array([[1.0, 0.0], [0.0, 1.0]])           # two keys
>>> v = np.array([[10.0], [20.0]])                   # their values
>>> out, weights = scaled_dot_product_attention(q, k, v)
>>> weights.round(4)                                 # softmax([1, 0] / sqrt(2))
array([[0.6698, 0.3302]])
>>> out.round(3)                                     # 0.6698 * 10 + 0.3302 * 20
array([[13.302]])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nblib import norm
from nblib._reference import reference
from nblib._validation import as_float_array, check_int

__all__ = [
    "MASKED_SCORE", "scaled_dot_product_attention", "scaled_dot_product_attention_backward", "causal_mask",
    "padding_mask", "split_heads", "merge_heads", "MHACache", "mha_forward", "mha_backward", "multi_head_attention",
    "MHA_WEIGHTS", "positional_encoding", "BLOCK_PARAMS", "TransformerBlockCache", "transformer_block_forward",
    "reverse_task",
]

MASKED_SCORE = -1e9   # what a masked score becomes (Keras's large negative number for float32 and float64)
MHA_WEIGHTS = ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo")   # the order of MultiHeadAttention.get_weights()


# --- input checks -------------------------------------------------------------------------------------

def _array(x, name: str, min_ndim: int) -> np.ndarray:
    arr = as_float_array(x, name)
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} axes, got shape {arr.shape}")
    return arr


def _qkv(q, k, v):
    """q (..., Tq, dk), k (..., Tk, dk), v (..., Tk, dv) as float arrays that agree."""
    q, k, v = _array(q, "q", 2), _array(k, "k", 2), _array(v, "v", 2)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same last axis d_k, got q {q.shape} and k {k.shape}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same number of keys Tk (axis -2), got k {k.shape} and v {v.shape}")
    return q, k, v


def _mask(mask, scores_shape: tuple) -> np.ndarray | None:
    """A boolean mask broadcastable to the scores' shape (..., Tq, Tk), or None."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != bool:
        if mask.dtype.kind not in "biuf":
            raise TypeError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
        mask = mask > 0.5                                    # 1 = may attend, 0 = not, as Keras reads numbers
    try:
        np.broadcast_shapes(mask.shape, scores_shape)
    except ValueError:
        raise ValueError(f"mask of shape {mask.shape} cannot be broadcast to the scores' shape (..., Tq, Tk) = "
                         f"{scores_shape}") from None
    return mask


# --- scaled dot-product attention ------------------------------------------------------------------------

def _softmax_over_keys(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))   # max-shifted: every exponent <= 0
    return e / e.sum(axis=-1, keepdims=True)


@reference
def scaled_dot_product_attention(q, k, v, mask=None):
    """Attention of each query over the keys: softmax(q k^T / sqrt(d_k)) v.

    Parameters
    ----------
    q : array_like, shape (..., Tq, dk)
        Queries (any leading axes: batch, heads).
    k : array_like, shape (..., Tk, dk)
        Keys.
    v : array_like, shape (..., Tk, dv)
        Values, one per key.
    mask : array_like of bool, broadcastable to (..., Tq, Tk), optional
        True where query i may attend to key j (Keras's ``attention_mask``).

    Returns
    -------
    out : ndarray, shape (..., Tq, dv)
    weights : ndarray, shape (..., Tq, Tk)
        The attention weights; each row sums to 1, and is 0 at masked keys.

    Notes
    -----
    Masked scores become -1e9 (as in Keras), *before* the softmax: exp(-1e9 - max) is 0.
    A query whose keys are all masked gets equal weights over them, as in Keras.

    Example
    -------
    >>> import numpy as np
    >>> q = k = np.eye(3)                                  # three queries, three keys, d_k = 3
    >>> out, weights = scaled_dot_product_attention(q, k, np.eye(3), mask=causal_mask(3))
    >>> weights.round(3)                                   # query 0 sees key 0 only
    array([[1.   , 0.   , 0.   ],
           [0.36 , 0.64 , 0.   ],
           [0.264, 0.264, 0.471]])
    """
    q, k, v = _qkv(q, k, v)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])   # (..., Tq, dk) @ (..., dk, Tk) -> (..., Tq, Tk)
    mask = _mask(mask, scores.shape)
    if mask is not None:
        scores = np.where(mask, scores, MASKED_SCORE)            # replaced, not added to: as Keras's Softmax
    weights = _softmax_over_keys(scores)
    return weights @ v, weights                                  # (..., Tq, Tk) @ (..., Tk, dv) -> (..., Tq, dv)


def scaled_dot_product_attention_backward(dout, q, k, v, weights, mask=None):
    """Gradients of :func:`scaled_dot_product_attention`: (dq, dk, dv), the shapes of q, k and v.

    Notes
    -----
    With s = q k^T / sqrt(d_k), w = softmax(s) over the keys and out = w v:
    dv = w^T dout; dw = dout v^T; ds = w * (dw - sum_j dw * w) (the softmax's Jacobian, row
    by row), 0 at masked keys (their score is a constant); dq = ds k / sqrt(d_k),
    dk = ds^T q / sqrt(d_k).
    """
    dout = as_float_array(dout, "dout")
    dweights = dout @ np.swapaxes(v, -1, -2)                     # (..., Tq, dv) @ (..., dv, Tk) -> (..., Tq, Tk)
    dscores = weights * (dweights - np.sum(dweights * weights, axis=-1, keepdims=True))
    if mask is not None:
        dscores = np.where(mask, dscores, 0.0)
    scale = 1.0 / np.sqrt(q.shape[-1])
    dq = dscores @ k * scale                                     # (..., Tq, Tk) @ (..., Tk, dk) -> (..., Tq, dk)
    dk = np.swapaxes(dscores, -1, -2) @ q * scale                # (..., Tk, Tq) @ (..., Tq, dk) -> (..., Tk, dk)
    dv = np.swapaxes(weights, -1, -2) @ dout                     # (..., Tk, Tq) @ (..., Tq, dv) -> (..., Tk, dv)
    return _sum_to(dq, q.shape), _sum_to(dk, k.shape), _sum_to(dv, v.shape)


def _sum_to(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """A broadcast input's gradient: the broadcast copies' gradients summed back to its shape."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


# --- masks --------------------------------------------------------------------------------------------------

@reference
def causal_mask(T: int) -> np.ndarray:
    """The causal mask (T, T): query i may attend to the keys j <= i (itself and the past).

    Example
    -------
    >>> causal_mask(3)
    array([[ True, False, False],
           [ True,  True, False],
           [ True,  True,  True]])
    """
    T = check_int(T, "T", minimum=1)
    return np.tri(T, dtype=bool)                 # the lower triangle, diagonal included


@reference
def padding_mask(lengths, T: int) -> np.ndarray:
    """The padding mask (N, 1, T): every query of sequence n may attend to the keys j < lengths[n].

    The middle axis of 1 broadcasts over the queries, so the mask fits scores (N, Tq, T); the
    queries at padded positions still attend (to the real keys), and their outputs are ignored
    later. (Masking the *queries* instead would leave the padding's keys visible.)

    Example
    -------
    >>> padding_mask([2, 3], 4)
    array([[[ True,  True, False, False]],
    <BLANKLINE>
           [[ True,  True,  True, False]]])
    """
    T = check_int(T, "T", minimum=1)
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu":
        raise ValueError(f"lengths must be a 1-D array of integers (N,), got {lengths!r:.60}")
    if lengths.size and (lengths.min() < 0 or lengths.max() > T):
        raise ValueError(f"lengths must lie in [0, T] = [0, {T}], got values from {lengths.min()} to {lengths.max()}")
    return (np.arange(T) < lengths[:, None])[:, None, :]    # (1, T) < (N, 1) -> (N, T) -> (N, 1, T)


def _causal(Tq: int, Tk: int) -> np.ndarray:
    """Keras's causal mask for Tq queries and Tk keys: query i sees the keys j <= i."""
    return np.tri(Tq, Tk, dtype=bool)


# --- heads -----------------------------------------------------------------------------------------------------

@reference
def split_heads(x, heads: int) -> np.ndarray:
    """(N, T, heads * dk) -> (N, heads, T, dk): each head's slice of the features, as its own sequence.

    The features of head h are the columns h*dk .. (h+1)*dk - 1. A reshape alone,
    ``x.reshape(N, heads, T, dk)``, would cut across time steps; reshape to (N, T, heads, dk)
    first, then swap the time and head axes.

    Example
    -------
    >>> x = np.arange(8.0).reshape(1, 2, 4)               # N = 1, T = 2, two heads of dk = 2
    >>> split_heads(x, 2)[0]
    array([[[0., 1.],
            [4., 5.]],
    <BLANKLINE>
           [[2., 3.],
            [6., 7.]]])
    """
    x = _array(x, "x", 3)
    heads = check_int(heads, "heads", minimum=1)
    N, T, features = x.shape
    if features % heads:
        raise ValueError(f"x's last axis ({features}) must be a multiple of heads = {heads}, got shape {x.shape}")
    return x.reshape(N, T, heads, features // heads).transpose(0, 2, 1, 3)   # (N, T, h, dk) -> (N, h, T, dk)


@reference
def merge_heads(x) -> np.ndarray:
    """(N, heads, T, dk) -> (N, T, heads * dk): the inverse of :func:`split_heads`.

    Example
    -------
    >>> x = np.arange(8.0).reshape(1, 2, 4)
    >>> np.array_equal(merge_heads(split_heads(x, 2)), x)
    True
    """
    x = _array(x, "x", 4)
    N, heads, T, dk = x.shape
    return x.transpose(0, 2, 1, 3).reshape(N, T, heads * dk)     # (N, h, T, dk) -> (N, T, h, dk) -> (N, T, h*dk)


# --- multi-head attention ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class MHACache:
    """What :func:`mha_backward` needs.

    query (N, Tq, Dq), key (N, Tk, Dk), value (N, Tk, Dv): the inputs; key_given: whether the key
    was its own input (else it is the value); Q, K (N, h, T, key_dim), V (N, h, Tk, value_dim):
    the projected heads; weights (N, h, Tq, Tk): the attention weights; merged (N, Tq, h*value_dim);
    mask: broadcastable to the weights, or None; the eight weights in Keras's layout.
    """

    query: np.ndarray
    key: np.ndarray
    value: np.ndarray
    key_given: bool
    Q: np.ndarray
    K: np.ndarray
    V: np.ndarray
    weights: np.ndarray
    merged: np.ndarray
    mask: np.ndarray | None
    Wq: np.ndarray
    Wk: np.ndarray
    Wv: np.ndarray
    Wo: np.ndarray


def _project(x, W, b, name: str) -> np.ndarray:
    """x (N, T, D) through a kernel W (D, h, k) and bias b (h, k): the heads (N, h, T, k)."""
    W, b = as_float_array(W, f"W{name}"), as_float_array(b, f"b{name}")
    if W.ndim != 3 or W.shape[0] != x.shape[-1] or b.shape != W.shape[1:]:
        raise ValueError(f"W{name} must have shape (D, heads, dim) with D = {x.shape[-1]} and b{name} (heads, dim), "
                         f"got W{name} {W.shape} and b{name} {b.shape}")
    heads, dim = W.shape[1:]
    flat = x @ W.reshape(x.shape[-1], heads * dim) + b.reshape(-1)   # (N, T, D) @ (D, h*k) -> (N, T, h*k)
    return split_heads(flat, heads)                                   # (N, h, T, k)


@reference
def mha_forward(query, value, key=None, *, Wq, bq, Wk, bk, Wv, bv, Wo, bo, mask=None, causal: bool = False):
    """Multi-head attention as ``keras.layers.MultiHeadAttention(heads, key_dim)(query, value, key)``.

    Parameters
    ----------
    query : array_like, shape (N, Tq, Dq)
    value : array_like, shape (N, Tk, Dv)
    key : array_like, shape (N, Tk, Dk), optional
        The value itself when None (self-attention: ``mha_forward(x, x, ...)``).
    Wq, bq, Wk, bk, Wv, bv, Wo, bo : array_like
        Keras's layout: Wq (Dq, h, key_dim), bq (h, key_dim), Wk (Dk, h, key_dim), bk (h, key_dim),
        Wv (Dv, h, value_dim), bv (h, value_dim), Wo (h, value_dim, D_out), bo (D_out,).
    mask : array_like of bool, broadcastable to (N, Tq, Tk), optional
        Keras's ``attention_mask``: True where query i may attend to key j.
    causal : bool
        Also apply the causal mask (Keras's ``use_causal_mask=True``).

    Returns
    -------
    out : ndarray, shape (N, Tq, D_out)
    cache : MHACache
        ``cache.weights`` (N, h, Tq, Tk) are the attention scores Keras returns with
        ``return_attention_scores=True``.

    Notes
    -----
    Q = query Wq + bq, K = key Wk + bk, V = value Wv + bv, split into h heads; in each head
    O_h = softmax(Q_h K_h^T / sqrt(key_dim) + mask) V_h; out = concat_h(O_h) Wo + bo.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2, 5, 4))                           # N = 2, T = 5, D = 4
    >>> w = {name: rng.normal(size=shape) for name, shape in [("Wq", (4, 3, 2)), ("bq", (3, 2)), ("Wk", (4, 3, 2)),
    ...      ("bk", (3, 2)), ("Wv", (4, 3, 2)), ("bv", (3, 2)), ("Wo", (3, 2, 4)), ("bo", (4,))]}
    >>> out, cache = mha_forward(x, x, **w, causal=True)         # 3 heads of key_dim 2
    >>> out.shape, cache.weights.shape
    ((2, 5, 4), (2, 3, 5, 5))
    """
    query, value = _array(query, "query", 3), _array(value, "value", 3)
    key_given = key is not None
    key = _array(key, "key", 3) if key_given else value
    if key.shape[:2] != value.shape[:2] or query.shape[0] != value.shape[0]:
        raise ValueError(f"query (N, Tq, Dq), value (N, Tk, Dv) and key (N, Tk, Dk) must agree on N and Tk, got "
                         f"{query.shape}, {value.shape} and {key.shape}")
    Q, K, V = _project(query, Wq, bq, "q"), _project(key, Wk, bk, "k"), _project(value, Wv, bv, "v")
    if Q.shape[1] != K.shape[1] or Q.shape[-1] != K.shape[-1] or V.shape[1] != Q.shape[1]:
        raise ValueError(f"Wq, Wk and Wv must have the same number of heads, and Wq and Wk the same key_dim, got "
                         f"{np.shape(Wq)}, {np.shape(Wk)} and {np.shape(Wv)}")
    Tq, Tk = query.shape[1], key.shape[1]
    mask = _mha_mask(mask, causal, query.shape[0], Tq, Tk)
    heads_out, weights = scaled_dot_product_attention(Q, K, V, mask)  # (N, h, Tq, value_dim), (N, h, Tq, Tk)
    merged = merge_heads(heads_out)                                   # (N, Tq, h*value_dim)
    Wo, bo = as_float_array(Wo, "Wo"), as_float_array(bo, "bo")
    if Wo.shape[:2] != V.shape[1:2] + V.shape[3:] or bo.shape != Wo.shape[2:]:
        raise ValueError(f"Wo must have shape (heads, value_dim, D_out) = {V.shape[1], V.shape[3]} + (D_out,) and bo "
                         f"(D_out,), got Wo {Wo.shape} and bo {bo.shape}")
    out = merged @ Wo.reshape(merged.shape[-1], -1) + bo              # (N, Tq, h*dv) @ (h*dv, D_out) -> (N, Tq, D_out)
    cache = MHACache(query, key, value, key_given, Q, K, V, weights, merged, mask,
                     _as(Wq), _as(Wk), _as(Wv), Wo)
    return out, cache


def _as(W) -> np.ndarray:
    return as_float_array(W, "W")


def _mha_mask(mask, causal: bool, N: int, Tq: int, Tk: int) -> np.ndarray | None:
    """The user's mask (broadcastable to (N, Tq, Tk)) and the causal one, combined; with a head axis (N, 1, Tq, Tk)."""
    mask = _mask(mask, (N, Tq, Tk))
    if causal:
        mask = _causal(Tq, Tk) if mask is None else mask & _causal(Tq, Tk)
    if mask is None:
        return None
    return mask[..., None, :, :] if mask.ndim >= 3 else mask   # (N, Tq, Tk) -> (N, 1, Tq, Tk): one mask for every head


@reference
def mha_backward(dout, cache: MHACache):
    """Gradients of :func:`mha_forward`, in its order: inputs, then Keras's weights.

    Returns
    -------
    dquery : ndarray, shape (N, Tq, Dq)
    dvalue : ndarray, shape (N, Tk, Dv)
        With the key's gradient added when no key was given (the value was the key too).
    dkey : ndarray, shape (N, Tk, Dk), or None when no key was given
    dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo : ndarray
        The shapes of the weights.

    Notes
    -----
    out = merged Wo + bo, so dWo = merged^T dout, dbo = sum dout, dmerged = dout Wo^T; split into
    heads, through :func:`scaled_dot_product_attention_backward`, merged back; then each
    projection X W + b as a dense layer: dW = X^T dP, db = sum dP, dX = dP W^T.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2, 5, 4))
    >>> w = {name: rng.normal(size=shape) for name, shape in [("Wq", (4, 3, 2)), ("bq", (3, 2)), ("Wk", (4, 3, 2)),
    ...      ("bk", (3, 2)), ("Wv", (4, 3, 2)), ("bv", (3, 2)), ("Wo", (3, 2, 4)), ("bo", (4,))]}
    >>> out, cache = mha_forward(x, x, **w)
    >>> dquery, dvalue, dkey, *dweights = mha_backward(np.ones_like(out), cache)
    >>> dquery.shape, dvalue.shape, dkey, [g.shape for g in dweights][-2:]
    ((2, 5, 4), (2, 5, 4), None, [(3, 2, 4), (4,)])
    """
    c = cache
    dout = as_float_array(dout, "dout")
    N, Tq, _ = c.merged.shape
    if dout.shape != (N, Tq, c.Wo.shape[-1]):
        raise ValueError(f"dout must have the shape of the output, {(N, Tq, c.Wo.shape[-1])}, got {dout.shape}")
    heads, value_dim, D_out = c.Wo.shape
    dWo = (_flat(c.merged).T @ _flat(dout)).reshape(c.Wo.shape)         # (h*dv, N*Tq) @ (N*Tq, D_out)
    dbo = dout.sum(axis=(0, 1))
    dmerged = dout @ c.Wo.reshape(heads * value_dim, D_out).T           # (N, Tq, D_out) @ (D_out, h*dv)
    dQ, dK, dV = scaled_dot_product_attention_backward(split_heads(dmerged, heads), c.Q, c.K, c.V, c.weights, c.mask)
    dquery, dWq, dbq = _project_backward(merge_heads(dQ), c.query, c.Wq)
    dkey, dWk, dbk = _project_backward(merge_heads(dK), c.key, c.Wk)
    dvalue, dWv, dbv = _project_backward(merge_heads(dV), c.value, c.Wv)
    if not c.key_given:
        dvalue, dkey = dvalue + dkey, None
    return dquery, dvalue, dkey, dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(-1, x.shape[-1])                                   # (N, T, F) -> (N*T, F)


def _project_backward(dP, x, W):
    """A projection P = x W + b (W (D, h, k) used as (D, h*k)), given dP (N, T, h*k): dx, dW, db."""
    D = W.shape[0]
    W2 = W.reshape(D, -1)
    return dP @ W2.T, (_flat(x).T @ _flat(dP)).reshape(W.shape), dP.sum(axis=(0, 1)).reshape(W.shape[1:])


@reference
def multi_head_attention(query, value, weights, *, key=None, mask=None, causal: bool = False):
    """Multi-head attention with the weights as a list in ``layer.get_weights()``'s order.

    The same as ``layer(query, value, key, attention_mask=mask, use_causal_mask=causal,
    return_attention_scores=True)`` for a ``keras.layers.MultiHeadAttention`` given these weights.

    Parameters
    ----------
    query : array_like, shape (N, Tq, Dq)
    value : array_like, shape (N, Tk, Dv)
    weights : sequence of 8 arrays
        [Wq, bq, Wk, bk, Wv, bv, Wo, bo] (see :func:`mha_forward` for their shapes).
    key : array_like, shape (N, Tk, Dk), optional
    mask : array_like of bool, broadcastable to (N, Tq, Tk), optional
    causal : bool

    Returns
    -------
    out : ndarray, shape (N, Tq, D_out)
    scores : ndarray, shape (N, heads, Tq, Tk)
        The attention weights (Keras calls them the attention scores).

    Example
    -------
    >>> rng = np.random.default_rng(1)
    >>> shapes = [(4, 2, 3), (2, 3), (4, 2, 3), (2, 3), (4, 2, 3), (2, 3), (2, 3, 4), (4,)]
    >>> out, scores = multi_head_attention(np.ones((1, 3, 4)), np.ones((1, 6, 4)), [rng.normal(size=s) for s in shapes])
    >>> out.shape, scores.shape                                     # cross-attention: Tq = 3, Tk = 6
    ((1, 3, 4), (1, 2, 3, 6))
    """
    weights = list(weights)
    if len(weights) != len(MHA_WEIGHTS):
        raise ValueError(f"weights must be the 8 arrays {list(MHA_WEIGHTS)}, got {len(weights)}")
    out, cache = mha_forward(query, value, key, **dict(zip(MHA_WEIGHTS, weights)), mask=mask, causal=causal)
    return out, cache.weights


# --- positions ------------------------------------------------------------------------------------------------

@reference
def positional_encoding(T: int, D: int) -> np.ndarray:
    """The sinusoidal positional encoding (T, D) of Vaswani et al. (2017).

    Notes
    -----
    PE[t, 2i] = sin(t / 10000^(2i/D)) and PE[t, 2i+1] = cos(t / 10000^(2i/D)), t = 0..T-1: each
    pair of dimensions turns at its own frequency, from one radian per step (i = 0) down to
    1/10000 of one. A shift by k steps is a rotation of each pair, the same for every t, so
    attention can learn relative positions.

    Example
    -------
    >>> positional_encoding(2, 4).round(4)          # t = 1: sin 1, cos 1, sin 0.01, cos 0.01
    array([[0.    , 1.    , 0.    , 1.    ],
           [0.8415, 0.5403, 0.01  , 1.    ]])
    """
    T, D = check_int(T, "T", minimum=1), check_int(D, "D", minimum=1)
    pair = np.arange(D) // 2                                  # i, the pair of each dimension: 0, 0, 1, 1, ...
    angles = np.arange(T)[:, None] / 10000.0 ** (2 * pair / D)   # (T, 1) / (D,) -> (T, D)
    return np.where(np.arange(D) % 2 == 0, np.sin(angles), np.cos(angles))


# --- the transformer block --------------------------------------------------------------------------------------

BLOCK_PARAMS = (*MHA_WEIGHTS, "gamma1", "beta1", "W1", "b1", "W2", "b2", "gamma2", "beta2")


@dataclass(frozen=True)
class TransformerBlockCache:
    """The intermediate values of :func:`transformer_block_forward`: the attention's cache (its
    ``weights`` (N, h, T, T)), the first normalization's output h1 (N, T, D) and the feed-forward
    layer's hidden activations (N, T, F)."""

    attention: MHACache
    h1: np.ndarray
    hidden: np.ndarray


@reference
def transformer_block_forward(x, params: dict, *, heads: int, mask=None, eps: float = 1e-3):
    """A post-norm transformer encoder block, as the Keras examples write it.

    ::

        a   = MultiHeadAttention(heads, key_dim)(x, x, attention_mask=mask)
        h1  = LayerNormalization(epsilon=eps)(x + a)                   # residual, then norm
        f   = Dense(D)(Dense(F, activation="relu")(h1))               # position-wise feed-forward
        out = LayerNormalization(epsilon=eps)(h1 + f)

    Parameters
    ----------
    x : array_like, shape (N, T, D)
    params : dict
        The keys of :data:`BLOCK_PARAMS`: the attention's eight weights (:func:`mha_forward`,
        with D_out = D), gamma1 and beta1 (D,), W1 (D, F), b1 (F,), W2 (F, D), b2 (D,), gamma2
        and beta2 (D,).
    heads : int
        Must equal the heads axis of Wq (a check).
    mask : array_like of bool, broadcastable to (N, T, T), optional
    eps : float
        LayerNormalization's epsilon (Keras's default 1e-3; some examples pass 1e-6).

    Returns
    -------
    out : ndarray, shape (N, T, D)
    cache : TransformerBlockCache

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> D, h, k, F = 4, 2, 3, 8
    >>> shapes = dict(Wq=(D, h, k), bq=(h, k), Wk=(D, h, k), bk=(h, k), Wv=(D, h, k), bv=(h, k), Wo=(h, k, D), bo=(D,),
    ...               gamma1=(D,), beta1=(D,), W1=(D, F), b1=(F,), W2=(F, D), b2=(D,), gamma2=(D,), beta2=(D,))
    >>> params = {name: rng.normal(size=shape) for name, shape in shapes.items()}
    >>> out, cache = transformer_block_forward(rng.normal(size=(2, 5, D)), params, heads=h)
    >>> out.shape, np.allclose(out.mean(axis=-1), params["beta2"].mean(), atol=10)   # normalised per position
    ((2, 5, 4), True)
    """
    x = _array(x, "x", 3)
    missing = [name for name in BLOCK_PARAMS if name not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; a block needs {list(BLOCK_PARAMS)}")
    heads = check_int(heads, "heads", minimum=1)
    if np.shape(params["Wq"])[1] != heads:
        raise ValueError(f"Wq has {np.shape(params['Wq'])[1]} heads (axis 1 of {np.shape(params['Wq'])}), "
                         f"but heads = {heads}")
    p = {name: as_float_array(params[name], name) for name in BLOCK_PARAMS}
    a, attention = mha_forward(x, x, **{name: p[name] for name in MHA_WEIGHTS}, mask=mask)     # (N, T, D)
    h1, _ = norm.layernorm_forward(x + a, p["gamma1"], p["beta1"], eps=eps)                   # residual, then norm
    hidden = np.maximum(h1 @ p["W1"] + p["b1"], 0.0)                      # (N, T, D) @ (D, F) -> (N, T, F), ReLU
    out, _ = norm.layernorm_forward(h1 + hidden @ p["W2"] + p["b2"], p["gamma2"], p["beta2"], eps=eps)
    return out, TransformerBlockCache(attention, h1, hidden)


# --- a task where order matters ------------------------------------------------------------------------------

def reverse_task(n: int, T: int, *, vocab: int, rng):
    """Sequences of symbols and their reversals: the target at position t is the input at T-1-t.

    Parameters
    ----------
    n : int
        Sequences.
    T : int
        Symbols per sequence.
    vocab : int
        Symbols 0 .. vocab-1, drawn uniformly and independently.
    rng : int or np.random.Generator

    Returns
    -------
    x : ndarray of int, shape (n, T)
    y : ndarray of int, shape (n, T)
        x[:, ::-1].

    Notes
    -----
    A model that reads left to right (an LSTM, a causal transformer) must write y_t before it
    has seen x_{T-1-t} for every t < T/2: it can get that half right only by chance, 1/vocab.
    Attention without a causal mask sees every position at once.

    Example
    -------
    >>> x, y = reverse_task(2, 5, vocab=10, rng=0)
    >>> x, y
    (array([[8, 6, 5, 2, 3],
           [0, 0, 0, 1, 8]]), array([[3, 2, 5, 6, 8],
           [8, 1, 0, 0, 0]]))
    """
    n, T, vocab = check_int(n, "n"), check_int(T, "T", minimum=1), check_int(vocab, "vocab", minimum=2)
    x = np.random.default_rng(rng).integers(0, vocab, size=(n, T))
    return x, x[:, ::-1].copy()
