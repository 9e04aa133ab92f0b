"""Convolution and pooling over images, batch first and channels last like Keras.

Shapes (fixed letters): images x (N, H, W, C), kernels K (KH, KW, C, M), biases b (M,),
outputs (N, H', W', M). A pooling window is (PH, PW) and keeps the C channels.

    conv2d     out[n, i, j, m] = b[m] + sum_{p, q, c} x_pad[n, i*S + p, j*S + q, c] K[p, q, c, m]
    max pool   out[n, i, j, c] = max_{p, q} x_pad[n, i*S + p, j*S + q, c]
    avg pool   out[n, i, j, c] = mean of the window's cells that lie inside the image

This is cross-correlation, as in Keras and every deep-learning library: the kernel is *not*
flipped (a mathematician's convolution would use K[KH-1-p, KW-1-q]). Since the kernel is
learned, the two are the same model; only loading weights from elsewhere needs care.

Output size along one axis of size H, window KH, stride S (:func:`output_size`):

    "valid"   H' = floor((H - KH) / S) + 1      windows entirely inside the image
    "same"    H' = ceil(H / S)                  zeros added around the image

TensorFlow's "same" pads pad_total = max((H' - 1) * S + KH - H, 0) cells, top = pad_total // 2
and bottom = pad_total - top: an odd extra row or column goes to the bottom or the right
(:func:`same_padding`). Pooling pads with -inf for the max and leaves padded cells out of the
average, as TensorFlow does.

Every operation comes twice, with the same arguments, results and cache:

- ``*_loops``: plain Python loops over every output entry, to read line by line;
- the vectorised one the course uses: every window at once as a strided view
  (:func:`numpy.lib.stride_tricks.sliding_window_view`), then one matrix product (im2col) or
  one reduction. The backward passes loop over the KH * KW positions inside the window only.

Arrays keep their floating-point precision: float32 images with float32 kernels compute in
float32 (faster), anything else in float64.

>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 4, 4, 1)          # one 4x4 image, one channel
>>> K = np.ones((2, 2, 1, 1))                         # a 2x2 box filter
>>> out, cache = conv2d_forward(x, K, np.zeros(1), stride=2)
>>> out[0, :, :, 0]                                   # 0+1+4+5, 2+3+6+7, ...
array([[10., 18.],
       [42., 50.]])
>>> maxpool_forward(x, pool=2)[0][0, :, :, 0]
array([[ 5.,  7.],
       [13., 15.]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nblib._reference import reference
from nblib._validation import as_float_array, check_choice, check_int

__all__ = [
    "PADDINGS", "output_size", "output_shape", "same_padding", "pad_same",
    "Conv2DCache", "conv2d_forward", "conv2d_backward", "conv2d_forward_loops", "conv2d_backward_loops",
    "PoolCache", "maxpool_forward", "maxpool_backward", "maxpool_forward_loops", "maxpool_backward_loops",
    "avgpool_forward", "avgpool_backward", "avgpool_forward_loops", "avgpool_backward_loops",
]

PADDINGS = ("valid", "same")


# --- output sizes and padding -------------------------------------------------------------------

@reference
def output_size(size: int, kernel: int, stride: int = 1, padding: str = "valid") -> int:
    """The number of window positions along one axis.

    Parameters
    ----------
    size : int
        H (or W), the input's length along the axis.
    kernel : int
        KH (or KW), the window's length.
    stride : int
        S, the step between windows.
    padding : {"valid", "same"}

    Returns
    -------
    int
        "valid": floor((H - KH) / S) + 1 (windows inside the image; KH <= H is required);
        "same": ceil(H / S) (the image padded so that every stride-th cell starts a window).

    Examples
    --------
    >>> output_size(28, 3), output_size(28, 3, padding="same"), output_size(7, 2, 2), output_size(7, 2, 2, "same")
    (26, 28, 3, 4)
    """
    size, kernel = check_int(size, "size", minimum=1), check_int(kernel, "kernel", minimum=1)
    stride, padding = check_int(stride, "stride", minimum=1), check_choice(padding, "padding", PADDINGS)
    if padding == "same":
        return -(-size // stride)  # ceil(H / S) with integers
    if kernel > size:
        raise ValueError(f"with padding='valid' the window must fit in the input: kernel {kernel} > size {size}; "
                         f"use a smaller kernel or padding='same'")
    return (size - kernel) // stride + 1


@reference
def output_shape(input_shape, kernel_shape, *, stride=1, padding: str = "valid") -> tuple:
    """The shape of a convolution's or a pooling's output.

    Parameters
    ----------
    input_shape : tuple of int
        (N, H, W, C).
    kernel_shape : tuple of int, or int
        (KH, KW, C, M) for a convolution: the output has M channels;
        (PH, PW) or an int for a pooling window: the output keeps the C channels.
    stride : int or (int, int)
    padding : {"valid", "same"}

    Returns
    -------
    tuple of int
        (N, H', W', M) or (N, H', W', C), H' and W' by :func:`output_size`.

    Examples
    --------
    >>> output_shape((64, 28, 28, 1), (3, 3, 1, 32))
    (64, 26, 26, 32)
    >>> output_shape((64, 26, 26, 32), 2, stride=2)
    (64, 13, 13, 32)
    >>> output_shape((64, 13, 13, 32), (3, 3, 32, 64), padding="same")
    (64, 13, 13, 64)
    """
    N, H, W, C = _shape4(input_shape, "input_shape", "(N, H, W, C)")
    if np.ndim(kernel_shape) == 1 and len(kernel_shape) == 4:
        KH, KW, KC, M = (check_int(k, "each entry of kernel_shape", minimum=1) for k in kernel_shape)
        if KC != C:
            raise ValueError(f"kernel_shape must be (KH, KW, C, M) with C = {C} input channels, "
                             f"got {tuple(kernel_shape)}")
    else:
        (KH, KW), M = _pair(kernel_shape, "kernel_shape"), C
    SH, SW = _pair(stride, "stride")
    return N, output_size(H, KH, SH, padding), output_size(W, KW, SW, padding), M


def same_padding(size: int, kernel: int, stride: int = 1) -> tuple[int, int]:
    """TensorFlow's "same" padding along one axis: (before, after), the extra cell after.

    pad_total = max((H' - 1) * S + KH - H, 0) with H' = ceil(H / S); before = pad_total // 2.

    Examples
    --------
    >>> same_padding(5, 3), same_padding(4, 2), same_padding(6, 3, 2), same_padding(5, 1, 3)
    ((1, 1), (0, 1), (0, 1), (0, 0))
    """
    total = max((output_size(size, kernel, stride, "same") - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_same(x, kernel, *, stride=1, value: float = 0.0) -> np.ndarray:
    """A copy of the images x (N, H, W, C) padded as TensorFlow's "same" padding does.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
    kernel : int or (int, int)
        The window (KH, KW).
    stride : int or (int, int)
    value : float
        What the added cells hold: 0 for a convolution, -inf for max pooling.

    Returns
    -------
    ndarray, shape (N, H + top + bottom, W + left + right, C)

    Examples
    --------
    >>> pad_same(np.ones((1, 2, 2, 1)), 2)[0, :, :, 0]     # pad_total 1: all of it at the bottom/right
    array([[1., 1., 0.],
           [1., 1., 0.],
           [0., 0., 0.]])
    """
    x = _images(x, "x")
    pads = _pads(x.shape, _pair(kernel, "kernel"), _pair(stride, "stride"), "same")
    return _pad(x, pads, value)


def _pads(shape, window, stride, padding) -> tuple:
    """((top, bottom), (left, right)) for images of ``shape`` (N, H, W, C)."""
    if padding == "valid":
        return (0, 0), (0, 0)
    return tuple(same_padding(n, k, s) for n, k, s in zip(shape[1:3], window, stride))


def _pad(x, pads, value=0.0) -> np.ndarray:
    if pads == ((0, 0), (0, 0)):
        return x
    return np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=value)  # a new array


def _windows(x_pad, window, stride) -> np.ndarray:
    """Every window as a read-only view: (N, Hp, Wp, C) -> (N, H', W', KH, KW, C), no copy."""
    view = sliding_window_view(x_pad, window, axis=(1, 2))  # (N, Hp-KH+1, Wp-KW+1, C, KH, KW)
    view = view[:, ::stride[0], ::stride[1]]                 # every S-th window: (N, H', W', C, KH, KW)
    return view.transpose(0, 1, 2, 4, 5, 3)                  # (N, H', W', KH, KW, C), the kernel's order


THIN = 64  # a product whose rows have fewer numbers than this is done image by image


def _matmul(a, b, n_images: int) -> np.ndarray:
    """a @ b, (N*R, K) @ (K, M) -> (N*R, M), in one product or, for thin rows, one per image."""
    if a.shape[1] >= THIN or len(a) == 0:
        return a @ b
    return (a.reshape(n_images, -1, a.shape[1]) @ b).reshape(len(a), b.shape[1])  # (N, R, K) @ (K, M)


def _matmul_t(a, b, n_images: int) -> np.ndarray:
    """a.T @ b, (K, N*R) @ (N*R, M) -> (K, M), a sum over the rows; image by image for thin a."""
    if a.shape[1] >= THIN or len(a) == 0:
        return a.T @ b
    a, b = a.reshape(n_images, -1, a.shape[1]), b.reshape(n_images, -1, b.shape[1])
    return (a.transpose(0, 2, 1) @ b).sum(axis=0)          # (N, K, R) @ (N, R, M) -> (N, K, M) -> (K, M)


def _scatter(dwindows, padded_shape, stride, pads) -> np.ndarray:
    """The adjoint of :func:`_windows`: add each window's gradient back onto its cells, crop the padding.

    dwindows (N, H', W', KH, KW, C) -> dx (N, H, W, C); overlapping windows add up.
    """
    _, Ho, Wo, KH, KW, _ = dwindows.shape
    SH, SW = stride
    dx_pad = np.zeros(padded_shape, dtype=dwindows.dtype)
    for p in range(KH):          # one slice per position in the window, not per pixel
        for q in range(KW):
            dx_pad[:, p:p + SH * (Ho - 1) + 1:SH, q:q + SW * (Wo - 1) + 1:SW, :] += dwindows[:, :, :, p, q, :]
    (top, bottom), (left, right) = pads
    return dx_pad[:, top:padded_shape[1] - bottom, left:padded_shape[2] - right, :]


# --- convolution --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Conv2DCache:
    """What the backward pass needs: the input x (N, H, W, C), the kernels K (KH, KW, C, M),
    the stride (SH, SW), the padding ((top, bottom), (left, right)) and, from the vectorised
    forward, its im2col matrix (N*H'*W', KH*KW*C) so that the backward need not rebuild it
    (None from the loop version)."""

    x: np.ndarray
    W: np.ndarray
    stride: tuple
    pads: tuple
    cols: np.ndarray | None = None


@reference
def conv2d_forward(x, W, b, *, stride=1, padding: str = "valid"):
    """A 2-D convolution layer's forward pass (cross-correlation, as Keras's Conv2D).

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
        Images, channels last.
    W : array_like, shape (KH, KW, C, M)
        M kernels, each KH x KW over all C channels (Keras's ``Conv2D.kernel`` layout).
    b : array_like, shape (M,)
    stride : int or (int, int)
    padding : {"valid", "same"}

    Returns
    -------
    out : ndarray, shape (N, H', W', M)
        out[n, i, j, m] = b[m] + sum_{p, q, c} x_pad[n, i*S + p, j*S + q, c] W[p, q, c, m],
        H' and W' by :func:`output_size`.
    cache : Conv2DCache

    Notes
    -----
    im2col: every window, flattened in the kernel's (KH, KW, C) order, is one row of a matrix,
    so the whole layer is one matrix product, (N*H'*W', KH*KW*C) @ (KH*KW*C, M). When the rows
    are thin (KH*KW*C < 64, e.g. 3x3 on one channel) it is one product per image instead: a
    tall, thin product is memory-bound, and OpenBLAS splitting it over threads was up to 30
    times slower on a busy 2-core machine (tests/benchmarks/conv.py).

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 0.0, 1.0]]).reshape(1, 3, 3, 1)
    >>> edge = np.array([[1.0, -1.0], [1.0, -1.0]]).reshape(2, 2, 1, 1)  # left minus right
    >>> out, _ = conv2d_forward(x, edge, np.zeros(1))
    >>> out[0, :, :, 0]                  # top left: (1 + 0) - (2 + 1) = -2
    array([[-2.,  0.],
           [ 1., -3.]])
    """
    x, W, b, stride, pads = _conv_inputs(x, W, b, stride, padding)
    KH, KW, C, M = W.shape
    windows = _windows(_pad(x, pads), (KH, KW), stride)      # (N, H', W', KH, KW, C), a view
    N, Ho, Wo = windows.shape[:3]
    cols = windows.reshape(N * Ho * Wo, KH * KW * C)         # im2col: the one copy
    out = _matmul(cols, W.reshape(KH * KW * C, M), N)        # (N*H'*W', KH*KW*C) @ (KH*KW*C, M) -> (N*H'*W', M)
    out += b                                                 # in place: out is our own new array
    return out.reshape(N, Ho, Wo, M), Conv2DCache(x, W, stride, pads, cols)


@reference
def conv2d_backward(dout, cache: Conv2DCache):
    """Gradients of :func:`conv2d_forward`, given dout = dLoss/dout.

    Parameters
    ----------
    dout : array_like, shape (N, H', W', M)
    cache : Conv2DCache

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
        dx_pad[n, i*S + p, j*S + q, c] += sum_m dout[n, i, j, m] W[p, q, c, m], padding cropped:
        every window hands its gradient back to the cells it covered.
    dW : ndarray, shape (KH, KW, C, M)
        dW[p, q, c, m] = sum_{n, i, j} x_pad[n, i*S + p, j*S + q, c] dout[n, i, j, m]
        (the same kernel is used at every position, so its gradient sums over all of them).
    db : ndarray, shape (M,)
        dout summed over n, i, j.

    Examples
    --------
    >>> x, W = np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1))
    >>> out, cache = conv2d_forward(x, W, np.zeros(1))
    >>> dx, dW, db = conv2d_backward(np.ones_like(out), cache)
    >>> dx[0, :, :, 0]                  # how many windows cover each pixel
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> dW[:, :, 0, 0], db
    (array([[4., 4.],
           [4., 4.]]), array([4.]))
    """
    x, W = cache.x, cache.W
    KH, KW, C, M = W.shape
    x_pad = _pad(x, cache.pads)
    windows = _windows(x_pad, (KH, KW), cache.stride)        # (N, H', W', KH, KW, C)
    dout = _check_dout(dout, windows.shape[:3] + (M,), "convolution")
    N, Ho, Wo = windows.shape[:3]
    cols = cache.cols if cache.cols is not None else windows.reshape(N * Ho * Wo, KH * KW * C)  # im2col
    dout2 = dout.reshape(N * Ho * Wo, M)
    dW = _matmul_t(cols, dout2, N)                           # (KH*KW*C, N*H'*W') @ (N*H'*W', M) -> (KH*KW*C, M)
    dcols = _matmul(dout2, W.reshape(KH * KW * C, M).T, N)   # (N*H'*W', M) @ (M, KH*KW*C) -> (N*H'*W', KH*KW*C)
    dx = _scatter(dcols.reshape(windows.shape), x_pad.shape, cache.stride, cache.pads)  # col2im
    return dx, dW.reshape(W.shape), dout2.sum(axis=0)


def conv2d_forward_loops(x, W, b, *, stride=1, padding: str = "valid"):
    """:func:`conv2d_forward` with plain loops: one output number at a time. Same arguments,
    results and cache; slow, for reading.

    Examples
    --------
    >>> x, W, b = np.arange(9.0).reshape(1, 3, 3, 1), np.ones((2, 2, 1, 1)), np.array([0.5])
    >>> conv2d_forward_loops(x, W, b)[0][0, :, :, 0]
    array([[ 8.5, 12.5],
           [20.5, 24.5]])
    """
    x, W, b, (SH, SW), pads = _conv_inputs(x, W, b, stride, padding)
    KH, KW, C, M = W.shape
    x_pad = _pad(x, pads)
    N, Ho, Wo = len(x), output_size(x.shape[1], KH, SH, padding), output_size(x.shape[2], KW, SW, padding)
    out = np.zeros((N, Ho, Wo, M), dtype=np.result_type(x, W, b))
    for n in range(N):                       # every image
        for i in range(Ho):                  # every output row
            for j in range(Wo):              # every output column
                window = x_pad[n, i * SH:i * SH + KH, j * SW:j * SW + KW, :]  # (KH, KW, C)
                for m in range(M):           # every kernel
                    out[n, i, j, m] = np.sum(window * W[:, :, :, m]) + b[m]
    return out, Conv2DCache(x, W, (SH, SW), pads)


def conv2d_backward_loops(dout, cache: Conv2DCache):
    """:func:`conv2d_backward` with plain loops: each output's gradient sent back to its window.

    Examples
    --------
    >>> out, cache = conv2d_forward_loops(np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1)), np.zeros(1))
    >>> conv2d_backward_loops(np.ones_like(out), cache)[0][0, :, :, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    x, W, (SH, SW) = cache.x, cache.W, cache.stride
    KH, KW, C, M = W.shape
    x_pad = _pad(x, cache.pads)
    N, Ho, Wo = len(x), (x_pad.shape[1] - KH) // SH + 1, (x_pad.shape[2] - KW) // SW + 1
    dout = _check_dout(dout, (N, Ho, Wo, M), "convolution")
    dx_pad, dW, db = np.zeros(x_pad.shape), np.zeros(W.shape), np.zeros(M)
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                rows, cols = slice(i * SH, i * SH + KH), slice(j * SW, j * SW + KW)
                for m in range(M):
                    g = dout[n, i, j, m]                        # dLoss/dout[n, i, j, m]
                    dx_pad[n, rows, cols, :] += g * W[:, :, :, m]  # out = sum(window * W) + b
                    dW[:, :, :, m] += g * x_pad[n, rows, cols, :]
                    db[m] += g
    (top, bottom), (left, right) = cache.pads
    dx = dx_pad[:, top:x_pad.shape[1] - bottom, left:x_pad.shape[2] - right, :]  # drop the padding's gradient
    dtype = np.result_type(x, W, dout)
    return dx.astype(dtype), dW.astype(dtype), db.astype(dtype)


# --- pooling ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PoolCache:
    """What a pooling's backward pass needs: the input x (N, H, W, C), the window (PH, PW),
    the stride (SH, SW) and the padding ((top, bottom), (left, right))."""

    x: np.ndarray
    pool: tuple
    stride: tuple
    pads: tuple


@reference
def maxpool_forward(x, *, pool=2, stride=None, padding: str = "valid"):
    """Max pooling: the largest value of each window, channel by channel (Keras's MaxPooling2D).

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
    pool : int or (int, int)
        The window (PH, PW).
    stride : int or (int, int), optional
        Defaults to the window, so windows do not overlap (as in Keras).
    padding : {"valid", "same"}
        "same" pads with -inf, so padding never wins a window.

    Returns
    -------
    out : ndarray, shape (N, H', W', C)
        out[n, i, j, c] = max_{p, q} x_pad[n, i*S + p, j*S + q, c].
    cache : PoolCache

    Examples
    --------
    >>> x = np.array([[1.0, 3.0, 2.0], [4.0, 0.0, 1.0], [5.0, 6.0, 9.0]]).reshape(1, 3, 3, 1)
    >>> maxpool_forward(x, pool=2)[0][0, :, :, 0]                  # one window fits: "valid"
    array([[4.]])
    >>> maxpool_forward(x, pool=2, padding="same")[0][0, :, :, 0]  # 3/2 -> 2 windows per axis
    array([[4., 2.],
           [6., 9.]])
    """
    x, window, stride, pads = _pool_inputs(x, pool, stride, padding)
    windows = _windows(_pad(x, pads, -np.inf), window, stride)   # (N, H', W', PH, PW, C)
    return windows.max(axis=(3, 4)), PoolCache(x, window, stride, pads)  # -> (N, H', W', C)


@reference
def maxpool_backward(dout, cache: PoolCache):
    """Gradient of max pooling: each window's dout goes to the cell that held its maximum.

    Parameters
    ----------
    dout : array_like, shape (N, H', W', C)
    cache : PoolCache

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
        d max / d x is 1 for the largest cell of the window and 0 for the others; where windows
        overlap, a cell collects the gradients of every window it wins.

    Notes
    -----
    Ties: the first largest cell in row-major order within the window gets all the gradient,
    as TensorFlow's MaxPoolGrad does on CPU (checked in the tests).

    Examples
    --------
    >>> x = np.array([[1.0, 3.0], [4.0, 0.0]]).reshape(1, 2, 2, 1)
    >>> out, cache = maxpool_forward(x, pool=2)
    >>> maxpool_backward(np.array([[[[10.0]]]]), cache)[0, :, :, 0]
    array([[ 0.,  0.],
           [10.,  0.]])
    """
    x_pad = _pad(cache.x, cache.pads, -np.inf)
    windows = _windows(x_pad, cache.pool, cache.stride)      # (N, H', W', PH, PW, C)
    N, Ho, Wo, PH, PW, C = windows.shape
    dout = _check_dout(dout, (N, Ho, Wo, C), "max pooling")
    flat = windows.reshape(N, Ho, Wo, PH * PW, C)            # copies the windows
    winner = flat.argmax(axis=3)                             # (N, H', W', C): the first maximum
    onehot = np.arange(PH * PW)[:, None] == winner[:, :, :, None, :]  # (N, H', W', PH*PW, C)
    dwindows = onehot * dout[:, :, :, None, :]               # dout routed to the winners
    return _scatter(dwindows.reshape(windows.shape), x_pad.shape, cache.stride, cache.pads)


def maxpool_forward_loops(x, *, pool=2, stride=None, padding: str = "valid"):
    """:func:`maxpool_forward` with plain loops. Same arguments, results and cache.

    Examples
    --------
    >>> maxpool_forward_loops(np.arange(16.0).reshape(1, 4, 4, 1))[0][0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    x, (PH, PW), (SH, SW), pads = _pool_inputs(x, pool, stride, padding)
    x_pad = _pad(x, pads, -np.inf)
    N, Ho, Wo, C = output_shape(x.shape, (PH, PW), stride=(SH, SW), padding=padding)
    out = np.zeros((N, Ho, Wo, C), dtype=x.dtype)
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                for c in range(C):
                    out[n, i, j, c] = np.max(x_pad[n, i * SH:i * SH + PH, j * SW:j * SW + PW, c])
    return out, PoolCache(x, (PH, PW), (SH, SW), pads)


@reference
def maxpool_backward_loops(dout, cache: PoolCache):
    """:func:`maxpool_backward` with plain loops: find each window's maximum, send dout there.

    Examples
    --------
    >>> out, cache = maxpool_forward_loops(np.array([[1.0, 3.0], [4.0, 0.0]]).reshape(1, 2, 2, 1))
    >>> maxpool_backward_loops(np.ones_like(out), cache)[0, :, :, 0]
    array([[0., 0.],
           [1., 0.]])
    """
    (PH, PW), (SH, SW) = cache.pool, cache.stride
    x_pad = _pad(cache.x, cache.pads, -np.inf)
    N, Ho, Wo, C = len(x_pad), (x_pad.shape[1] - PH) // SH + 1, (x_pad.shape[2] - PW) // SW + 1, x_pad.shape[3]
    dout = _check_dout(dout, (N, Ho, Wo, C), "max pooling")
    dx_pad = np.zeros(x_pad.shape, dtype=np.result_type(cache.x, dout))
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                for c in range(C):
                    window = x_pad[n, i * SH:i * SH + PH, j * SW:j * SW + PW, c]  # (PH, PW)
                    p, q = np.unravel_index(np.argmax(window), window.shape)      # the first maximum
                    dx_pad[n, i * SH + p, j * SW + q, c] += dout[n, i, j, c]
    (top, bottom), (left, right) = cache.pads
    return dx_pad[:, top:x_pad.shape[1] - bottom, left:x_pad.shape[2] - right, :]


@reference
def avgpool_forward(x, *, pool=2, stride=None, padding: str = "valid"):
    """Average pooling: the mean of each window, channel by channel (Keras's AveragePooling2D).

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
    pool : int or (int, int)
        The window (PH, PW).
    stride : int or (int, int), optional
        Defaults to the window.
    padding : {"valid", "same"}
        With "same", a window that hangs over the edge averages the cells inside the image
        only (divides by their count, not by PH * PW), as TensorFlow does.

    Returns
    -------
    out : ndarray, shape (N, H', W', C)
        out[n, i, j, c] = sum of the window's image cells / count[i, j].
    cache : PoolCache

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> avgpool_forward(x, pool=2, padding="same")[0][0, :, :, 0]  # (0+1+3+4)/4, (2+5)/2; (6+7)/2, 8/1
    array([[2. , 3.5],
           [6.5, 8. ]])
    """
    x, window, stride, pads = _pool_inputs(x, pool, stride, padding)
    windows = _windows(_pad(x, pads), window, stride)        # (N, H', W', PH, PW, C)
    counts = _counts(x.shape, window, stride, pads).astype(x.dtype)  # (H', W', 1)
    out = windows.sum(axis=(3, 4)) / counts                  # (N, H', W', C) / (H', W', 1)
    return out, PoolCache(x, window, stride, pads)


@reference
def avgpool_backward(dout, cache: PoolCache):
    """Gradient of average pooling: each window's dout / count goes to each of its image cells.

    Parameters
    ----------
    dout : array_like, shape (N, H', W', C)
    cache : PoolCache

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
        d mean / d x = 1 / count for each cell of the window; overlapping windows add up.

    Examples
    --------
    >>> out, cache = avgpool_forward(np.zeros((1, 2, 4, 1)), pool=2)
    >>> avgpool_backward(np.array([[[[4.0], [8.0]]]]), cache)[0, :, :, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.]])
    """
    x_pad_shape = _padded_shape(cache.x.shape, cache.pads)
    counts = _counts(cache.x.shape, cache.pool, cache.stride, cache.pads)   # (H', W', 1)
    N, C = cache.x.shape[0], cache.x.shape[3]
    dout = _check_dout(dout, (N, *counts.shape[:2], C), "average pooling")
    share = np.asarray(dout / counts, dtype=np.result_type(cache.x, dout))  # (N, H', W', C)
    dwindows = np.broadcast_to(share[:, :, :, None, None, :], share.shape[:3] + cache.pool + (C,))
    return _scatter(dwindows, x_pad_shape, cache.stride, cache.pads)  # padding's share dropped


@reference
def avgpool_forward_loops(x, *, pool=2, stride=None, padding: str = "valid"):
    """:func:`avgpool_forward` with plain loops. Same arguments, results and cache.

    Examples
    --------
    >>> avgpool_forward_loops(np.arange(9.0).reshape(1, 3, 3, 1), padding="same")[0][0, :, :, 0]
    array([[2. , 3.5],
           [6.5, 8. ]])
    """
    x, (PH, PW), (SH, SW), pads = _pool_inputs(x, pool, stride, padding)
    (top, _), (left, _) = pads
    N, Ho, Wo, C = output_shape(x.shape, (PH, PW), stride=(SH, SW), padding=padding)
    out = np.zeros((N, Ho, Wo, C), dtype=x.dtype)
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                # the window in the image's own coordinates, clipped to the image: no padding cells
                r0, c0 = max(i * SH - top, 0), max(j * SW - left, 0)
                r1, c1 = min(i * SH - top + PH, x.shape[1]), min(j * SW - left + PW, x.shape[2])
                for c in range(C):
                    out[n, i, j, c] = np.mean(x[n, r0:r1, c0:c1, c])
    return out, PoolCache(x, (PH, PW), (SH, SW), pads)


def avgpool_backward_loops(dout, cache: PoolCache):
    """:func:`avgpool_backward` with plain loops.

    Examples
    --------
    >>> out, cache = avgpool_forward_loops(np.zeros((1, 2, 4, 1)))
    >>> avgpool_backward_loops(np.array([[[[4.0], [8.0]]]]), cache)[0, :, :, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.]])
    """
    x, (PH, PW), (SH, SW), ((top, bottom), (left, right)) = cache.x, cache.pool, cache.stride, cache.pads
    N, H, W, C = x.shape
    Ho, Wo = (H + top + bottom - PH) // SH + 1, (W + left + right - PW) // SW + 1
    dout = _check_dout(dout, (N, Ho, Wo, C), "average pooling")
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                r0, c0 = max(i * SH - top, 0), max(j * SW - left, 0)
                r1, c1 = min(i * SH - top + PH, H), min(j * SW - left + PW, W)
                for c in range(C):
                    dx[n, r0:r1, c0:c1, c] += dout[n, i, j, c] / ((r1 - r0) * (c1 - c0))  # mean of count cells
    return dx


def _counts(shape, window, stride, pads) -> np.ndarray:
    """How many image (not padding) cells each window covers: (H', W', 1)."""
    inside = _pad(np.ones((1, *shape[1:3], 1)), pads)                      # 1 on the image, 0 on the padding
    return _windows(inside, window, stride).sum(axis=(3, 4))[0]            # (1, H', W', PH, PW, 1) -> (H', W', 1)


def _padded_shape(shape, pads) -> tuple:
    (top, bottom), (left, right) = pads
    return shape[0], shape[1] + top + bottom, shape[2] + left + right, shape[3]


# --- input checks -------------------------------------------------------------------------------

def _conv_inputs(x, W, b, stride, padding):
    """Checked x (N, H, W, C), W (KH, KW, C, M), b (M,), stride (SH, SW) and the padding."""
    x, W = _images(x, "x"), as_float_array(W, "W")
    if W.ndim != 4:
        raise ValueError(f"W must have shape (KH, KW, C, M), got shape {W.shape}")
    if W.shape[2] != x.shape[3]:
        raise ValueError(f"W must have shape (KH, KW, C, M) with C = {x.shape[3]}, the channels of x {x.shape}; "
                         f"got {W.shape} with C = {W.shape[2]}")
    b = as_float_array(b, "b")
    if b.shape != (W.shape[3],):
        raise ValueError(f"b must have shape (M,) = ({W.shape[3]},), one bias per kernel, got shape {b.shape}")
    stride, padding = _pair(stride, "stride"), check_choice(padding, "padding", PADDINGS)
    output_shape(x.shape, W.shape, stride=stride, padding=padding)  # a kernel too large for "valid" says so
    dtype = np.result_type(x, W, b)  # float32 stays float32 only when everything is float32
    x, W, b = (a.astype(dtype, copy=False) for a in (x, W, b))
    return x, W, b, stride, _pads(x.shape, W.shape[:2], stride, padding)


def _pool_inputs(x, pool, stride, padding):
    """Checked x (N, H, W, C), window (PH, PW), stride (SH, SW) (the window by default) and padding."""
    x, window = _images(x, "x"), _pair(pool, "pool")
    stride = window if stride is None else _pair(stride, "stride")
    padding = check_choice(padding, "padding", PADDINGS)
    output_shape(x.shape, window, stride=stride, padding=padding)
    return x, window, stride, _pads(x.shape, window, stride, padding)


def _images(x, name: str) -> np.ndarray:
    arr = as_float_array(x, name)
    if arr.ndim != 4:
        hint = " (one image? use x[None]; one channel? use x[..., None])" if arr.ndim in (2, 3) else ""
        raise ValueError(f"{name} must have shape (N, H, W, C), got shape {arr.shape}{hint}")
    return arr


def _shape4(shape, name: str, expected: str) -> tuple:
    if np.ndim(shape) != 1 or len(shape) != 4:
        raise ValueError(f"{name} must be {expected}, got {shape!r}")
    return tuple(check_int(s, f"each entry of {name}", minimum=1) for s in shape)


def _pair(value, name: str) -> tuple[int, int]:
    """An int k as (k, k), or a pair of ints, each >= 1."""
    if np.ndim(value) == 0:
        k = check_int(value, name, minimum=1)
        return k, k
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints (rows, columns), got {value!r}")
    return check_int(value[0], name, minimum=1), check_int(value[1], name, minimum=1)


def _check_dout(dout, expected: tuple, what: str) -> np.ndarray:
    dout = as_float_array(dout, "dout")
    if dout.shape != tuple(expected):
        raise ValueError(f"dout must have the shape of the {what}'s output, {tuple(expected)}, got {dout.shape}")
    return dout
