"""Activation functions and their derivatives.

Every activation ``f`` works elementwise on an array of any shape and has a derivative
``f_derivative`` of the same signature, both taking the *pre-activation* ``x``. Where the
derivative is neatest in terms of the output (sigmoid, tanh, ELU, SELU), the code says so.
``ACTIVATIONS`` and ``DERIVATIVES`` map names to functions; ``get(name)`` looks both up.

All functions are numerically stable for any finite input: ``sigmoid(-1000.0)`` is 0.0 and
``softplus(1000.0)`` is 1000.0, with no overflow warnings. Float32 input stays float32;
integer input becomes float64. Definitions match ``keras.activations`` unless noted.

Derivatives at a kink (ReLU, leaky ReLU, step at 0) follow TensorFlow's convention: the
right-hand value is used for x > 0 only, so relu'(0) = 0 and leaky_relu'(0) = slope.

Example
-------
>>> import numpy as np
>>> from nblib import activations
>>> print(f"{activations.sigmoid(-20.0):.3g}")  # the lecture's worked example: z = -20
2.06e-09
>>> activations.relu(np.array([-2.0, 0.0, 3.0]))
array([0., 0., 3.])
>>> f, df = activations.get("tanh")
>>> float(df(0.0))
1.0
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from nblib._registry import Registry
from nblib._reference import reference
from nblib._validation import as_float_array, as_scalar

__all__ = [
    "ACTIVATIONS", "DERIVATIVES", "get",
    "linear", "binary_step", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
    "softplus", "gelu", "selu", "swish",
]

# SELU's constants (Klambauer et al., 2017): chosen so activations keep mean 0, variance 1.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _float(x):
    return as_float_array(x, "x")


def _like(value, x):
    """Return ``value`` as an array with the dtype of ``x`` (the activation's output dtype)."""
    return np.asarray(value, dtype=x.dtype)


# --- linear and step -------------------------------------------------------------------

def linear(x):
    """Identity: f(x) = x. Range (-inf, inf). Used for regression outputs."""
    x = _float(x)
    return x.copy()


def linear_derivative(x):
    """f'(x) = 1."""
    x = _float(x)
    return np.ones_like(x)


def binary_step(x):
    """Heaviside step: f(x) = 1 if x >= 0 else 0. Range {0, 1}.

    The perceptron's original non-linearity. Returned as floats (0.0 / 1.0) like the
    other activations; ``nblib.perceptron.step`` returns integer class labels instead.
    """
    x = _float(x)
    return _like(x >= 0, x)


def binary_step_derivative(x):
    """f'(x) = 0 for x != 0 (undefined at 0; we return 0). Why the step cannot be trained by
    gradient descent: its gradient carries no information."""
    x = _float(x)
    return np.zeros_like(x)


# --- sigmoid family ----------------------------------------------------------------------

@reference
def sigmoid(x):
    """Logistic sigmoid: f(x) = 1 / (1 + exp(-x)). Range (0, 1).

    Notes
    -----
    Computed from e = exp(-|x|), which never overflows:
    for x >= 0, 1 / (1 + e); for x < 0, e / (1 + e) (multiply top and bottom by exp(x)).
    """
    x = _float(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


@reference
def sigmoid_derivative(x):
    """f'(x) = f(x) (1 - f(x)); largest (1/4) at x = 0, vanishing for large |x|."""
    s = sigmoid(x)
    return s * (1.0 - s)


@reference
def tanh(x):
    """Hyperbolic tangent: f(x) = (e^x - e^-x) / (e^x + e^-x) = 2 sigmoid(2x) - 1. Range (-1, 1).

    Zero-centred, unlike the sigmoid, which helps the next layer's updates.
    """
    x = _float(x)
    return np.tanh(x)


@reference
def tanh_derivative(x):
    """f'(x) = 1 - f(x)^2."""
    t = tanh(x)
    return 1.0 - t * t


@reference
def softplus(x):
    """Softplus: f(x) = ln(1 + e^x), a smooth ReLU. Range (0, inf).

    Notes
    -----
    Written as max(x, 0) + ln(1 + e^-|x|) so that e^x never overflows.
    """
    x = _float(x)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


@reference
def softplus_derivative(x):
    """f'(x) = sigmoid(x)."""
    return sigmoid(x)


def swish(x):
    """Swish / SiLU: f(x) = x sigmoid(x) (Ramachandran et al., 2017). Range (-0.278..., inf)."""
    x = _float(x)
    return x * sigmoid(x)


def swish_derivative(x):
    """f'(x) = s + x s (1 - s) with s = sigmoid(x)."""
    x = _float(x)
    s = sigmoid(x)
    return s + x * s * (1.0 - s)


# --- ReLU family -----------------------------------------------------------------------------

@reference
def relu(x):
    """Rectified linear unit: f(x) = max(0, x). Range [0, inf)."""
    x = _float(x)
    return np.maximum(x, 0).astype(x.dtype, copy=False)


@reference
def relu_derivative(x):
    """f'(x) = 1 for x > 0, else 0. A unit whose input stays negative gets no gradient: it "dies"."""
    x = _float(x)
    return _like(x > 0, x)


@reference
def leaky_relu(x, *, negative_slope: float = 0.01):
    """Leaky ReLU: f(x) = x for x >= 0, negative_slope * x otherwise. Range (-inf, inf).

    Notes
    -----
    Our default slope is 0.01 (the lecture's table, Maas et al., 2013);
    ``keras.activations.leaky_relu`` defaults to 0.2, so pass ``negative_slope`` explicitly
    when comparing.
    """
    x = _float(x)
    a = as_scalar(negative_slope, "negative_slope")
    return np.where(x >= 0, x, a * x).astype(x.dtype, copy=False)


@reference
def leaky_relu_derivative(x, *, negative_slope: float = 0.01):
    """f'(x) = 1 for x > 0, negative_slope otherwise."""
    x = _float(x)
    a = as_scalar(negative_slope, "negative_slope")
    return np.where(x > 0, 1.0, a).astype(x.dtype, copy=False)


@reference
def elu(x, *, alpha: float = 1.0):
    """Exponential linear unit: f(x) = x for x > 0, alpha (e^x - 1) otherwise. Range (-alpha, inf).

    Notes
    -----
    ``expm1`` is evaluated on min(x, 0) only, so large positive x cannot overflow
    (Clevert et al., 2016).
    """
    x = _float(x)
    a = as_scalar(alpha, "alpha")
    return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


@reference
def elu_derivative(x, *, alpha: float = 1.0):
    """f'(x) = 1 for x > 0, alpha e^x = f(x) + alpha otherwise."""
    x = _float(x)
    a = as_scalar(alpha, "alpha")
    return np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0))).astype(x.dtype, copy=False)


def selu(x):
    """Scaled ELU: f(x) = scale * elu(x, alpha) with the fixed constants
    alpha = 1.6733, scale = 1.0507 (Klambauer et al., 2017). Range (-1.7581, inf)."""
    return SELU_SCALE * elu(x, alpha=SELU_ALPHA)


def selu_derivative(x):
    """f'(x) = scale for x > 0, scale * alpha * e^x otherwise."""
    return SELU_SCALE * elu_derivative(x, alpha=SELU_ALPHA)


def gelu(x, *, approximate: bool = False):
    """Gaussian error linear unit: f(x) = x Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))
    (Hendrycks & Gimpel, 2016). Range (-0.17, inf). Used in transformers.

    With ``approximate=True``: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as in
    ``keras.activations.gelu(x, approximate=True)``.
    """
    x = _float(x)
    if approximate:
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
        return 0.5 * x * (1.0 + np.tanh(inner))
    return (x * special.ndtr(x)).astype(x.dtype, copy=False)  # ndtr = Phi, the normal CDF


def gelu_derivative(x, *, approximate: bool = False):
    """f'(x) = Phi(x) + x phi(x), with phi the standard normal density (exact form)."""
    x = _float(x)
    if approximate:
        c = math.sqrt(2 / math.pi)
        t = np.tanh(c * (x + 0.044715 * x**3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return (special.ndtr(x) + x * pdf).astype(x.dtype, copy=False)


# --- registry -----------------------------------------------------------------------------

# scikit-learn's MLPClassifier calls these "identity" and "logistic", Keras calls swish "silu".
ALIASES = {"identity": "linear", "logistic": "sigmoid", "silu": "swish", "step": "binary_step"}

ACTIVATIONS = Registry("activation", {
    "linear": linear,
    "binary_step": binary_step,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "softplus": softplus,
    "gelu": gelu,
    "selu": selu,
    "swish": swish,
}, aliases=ALIASES)

DERIVATIVES = Registry("activation", {
    "linear": linear_derivative,
    "binary_step": binary_step_derivative,
    "sigmoid": sigmoid_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
    "leaky_relu": leaky_relu_derivative,
    "elu": elu_derivative,
    "softplus": softplus_derivative,
    "gelu": gelu_derivative,
    "selu": selu_derivative,
    "swish": swish_derivative,
}, aliases=ALIASES)


def get(name: str):
    """Return ``(activation, derivative)`` for a name such as ``"relu"``.

    Accepts scikit-learn's names ("identity", "logistic") and "silu" as aliases.

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones and the closest match.
    """
    return ACTIVATIONS[name], DERIVATIVES[name]
