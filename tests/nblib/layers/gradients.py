"""Gradient checks for the layer contract, so that checking an operation is one line.

    check_op(layers.dense_forward, layers.dense_backward, (x, W, b),
             tf_forward=lambda x, W, b: tf.tensordot(x, W, axes=1) + b)
    check_loss(layers.mean_squared_error, pred, y, tf_loss=keras.losses.MeanSquaredError(dtype="float64"))

:func:`check_op` runs ``out, cache = op_forward(*inputs, **hyper)`` and, with a random
``dout`` of out's shape, ``op_backward(dout, cache)``. A backward pass computes the
gradient of the scalar sum(dout * out) with respect to every input, so it checks

(a) each gradient against centred differences of sum(dout * out)
    (:func:`nblib.gradcheck.check_gradient`, relative error < 1e-6);
(b) each gradient against ``tf.GradientTape`` on ``tf_forward``, the same forward written
    with TensorFlow ops (``output_gradients=dout`` is the same vector-Jacobian product), to
    ~1e-10 in float64, and the forward values against each other;
(c) that no input, hyperparameter array or dout was modified in place.

A loss ``loss, dpred = f(pred, y)`` is an operation with one input and a scalar output:
:func:`check_loss` wraps it as one (y as a hyperparameter) and calls :func:`check_op`.

Also here: the TensorFlow twins of the activations and of an MLP used by several test modules.
"""

from __future__ import annotations

import numpy as np

from nblib.gradcheck import check_gradient

TF_TIGHT = dict(rtol=1e-10, atol=1e-13)     # a gradient against TensorFlow's, float64
FORWARD_TIGHT = dict(rtol=1e-12, atol=1e-14)  # a forward value against TensorFlow's, float64


def assert_gradient_checks(f, x, analytic, *, tol=1e-6):
    """Centred differences of the scalar f agree with the analytic gradient (and it has x's shape)."""
    assert analytic.shape == x.shape, f"gradient of shape {analytic.shape} for an input of shape {x.shape}"
    result = check_gradient(f, x.copy(), analytic, tol=tol)
    assert result.ok, str(result)


def check_op(op_forward, op_backward, inputs, *, hyper=None, tf_forward=None, seed=0, tol=1e-6):
    """Check ``op_backward`` against numerical and TensorFlow gradients; return (out, grads).

    Parameters
    ----------
    op_forward, op_backward : callable
        ``out, cache = op_forward(*inputs, **hyper)``; ``op_backward(dout, cache)`` returns
        dx, or (dx, dparam_1, ...) in the order of ``inputs``.
    inputs : tuple of float64 ndarray
        x and the parameters, each differentiated.
    hyper : dict, optional
        Keyword-only hyperparameters, passed unchanged (never differentiated).
    tf_forward : callable, optional
        ``tf_forward(*tf_inputs) -> tf tensor``: the same forward with TensorFlow ops.
    """
    hyper = dict(hyper or {})
    inputs = tuple(inputs)
    for i, a in enumerate(inputs):
        assert isinstance(a, np.ndarray) and a.dtype == np.float64, f"input {i} must be a float64 array"
    watched = [*inputs, *(v for v in hyper.values() if isinstance(v, np.ndarray))]
    snapshot = [a.copy() for a in watched]

    out, cache = op_forward(*inputs, **hyper)
    dout = np.random.default_rng(seed).normal(size=np.shape(out))
    dout_before = dout.copy()
    grads = op_backward(dout, cache)
    grads = (grads,) if isinstance(grads, np.ndarray) else tuple(grads)
    assert len(grads) == len(inputs), f"{len(grads)} gradients for {len(inputs)} inputs"

    # (c) nothing modified in place, by the forward or the backward pass
    for i, (a, before) in enumerate(zip(watched, snapshot)):
        np.testing.assert_array_equal(a, before, err_msg=f"argument {i} was modified in place")
    np.testing.assert_array_equal(dout, dout_before, err_msg="dout was modified in place")

    # (a) centred differences of sum(dout * out), one input at a time
    for i, (x, g) in enumerate(zip(inputs, grads)):
        def f(value, i=i):
            args = list(inputs)
            args[i] = value
            return np.sum(dout * op_forward(*args, **hyper)[0])
        assert_gradient_checks(f, x, np.asarray(g), tol=tol)

    # (b) TensorFlow's automatic differentiation of the same forward
    if tf_forward is not None:
        import tensorflow as tf

        variables = [tf.Variable(x) for x in inputs]
        with tf.GradientTape() as tape:
            out_tf = tf_forward(*variables)
        assert out_tf.dtype == tf.float64, f"the TensorFlow forward must be float64, got {out_tf.dtype}"
        np.testing.assert_allclose(out, out_tf.numpy(), **FORWARD_TIGHT, err_msg="forward differs from TensorFlow's")
        expected = tape.gradient(out_tf, variables, output_gradients=tf.constant(dout),
                                 unconnected_gradients=tf.UnconnectedGradients.ZERO)
        for i, (g, e) in enumerate(zip(grads, expected)):
            np.testing.assert_allclose(g, e.numpy(), **TF_TIGHT, err_msg=f"gradient {i} differs from TensorFlow's")

    for a, before in zip(watched, snapshot):  # the checks above did not modify them either
        np.testing.assert_array_equal(a, before)
    return out, grads


def loss_as_op(loss):
    """A loss ``(value, dpred) = loss(pred, y)`` as an operation: forward(pred, *, y), backward(dout, cache)."""
    def forward(pred, *, y):
        value, dpred = loss(pred, y)
        assert isinstance(value, float), f"the loss must be a Python float, got {type(value).__name__}"
        return np.float64(value), dpred

    def backward(dout, dpred):
        return dout * dpred  # the chain rule through the scalar

    return forward, backward


def check_loss(loss, pred, y, *, tf_loss=None, **options):
    """:func:`check_op` for a loss: its gradient with respect to pred (logits or predictions).

    ``tf_loss(y, pred_tensor)`` in Keras's argument order, e.g. a ``keras.losses`` object.
    """
    forward, backward = loss_as_op(loss)
    tf_forward = None if tf_loss is None else (lambda p: tf_loss(y, p))
    return check_op(forward, backward, (pred,), hyper={"y": y}, tf_forward=tf_forward, **options)


# --- TensorFlow twins ------------------------------------------------------------------------------

def tf_activation(tf, name):
    """The activation ``name`` written with TensorFlow ops, exact in float64.

    Two TensorFlow float64 traps: ``tf.nn.leaky_relu``'s alpha is a float32 op attribute
    (0.01 becomes 0.0099999998), so leaky ReLU is written with tf.where (with nblib's slope
    0.01, not TF's 0.2); ``tf.nn.gelu`` is off by ~4e-9 in float64, so GELU is written out as
    x Phi(x) with erf. The step's derivative is 0 wherever it exists (TensorFlow sees no path).
    """
    def step(z):
        return tf.cast(z >= 0, tf.float64)

    return {
        "relu": tf.nn.relu, "tanh": tf.math.tanh, "sigmoid": tf.math.sigmoid, "logistic": tf.math.sigmoid,
        "identity": tf.identity, "linear": tf.identity, "elu": tf.nn.elu, "selu": tf.nn.selu,
        "leaky_relu": lambda z: tf.where(z > 0, z, np.float64(0.01) * z),
        "softplus": tf.math.softplus, "gelu": lambda z: 0.5 * z * (1.0 + tf.math.erf(z / np.sqrt(2.0))),
        "swish": tf.nn.silu, "silu": tf.nn.silu, "binary_step": step, "step": step,
    }[name]


def mean_cross_entropy(logits, y):
    """Mean sparse cross-entropy from logits (N, C), written out here: mean(logsumexp(z) - z_y)."""
    z = logits - logits.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


def tf_mlp_gradients(tf, keras, X, y, weights, biases, activation):
    """d(mean CE)/d(X, each W, b) for the MLP built with tf ops: hidden g, linear logits.

    Returns dX, [dW_l], [db_l] and the logits, as numpy arrays.
    """
    g = tf_activation(tf, activation)
    Ws, bs = [tf.Variable(W) for W in weights], [tf.Variable(b) for b in biases]
    Xv = tf.Variable(X)
    with tf.GradientTape() as tape:
        a = Xv
        for layer, (W, b) in enumerate(zip(Ws, bs)):
            z = tf.matmul(a, W) + b
            a = z if layer == len(Ws) - 1 else g(z)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")(y, a)
    dX, dWs, dbs = tape.gradient(loss, [Xv, Ws, bs])
    return dX.numpy(), [d.numpy() for d in dWs], [d.numpy() for d in dbs], a.numpy()
