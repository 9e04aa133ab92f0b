"""Optimizers: how a gradient becomes a step, in Keras 3's exact conventions.

Plain gradient descent moves every weight against its gradient, w <- w - lr g. The others
keep a little state per weight (same shape as w) that smooths or rescales that step:

- momentum: a velocity, a running sum of past steps, so consistent directions build speed
  and zig-zags cancel;
- Nesterov: the same velocity, with the gradient step taken from where it is heading;
- RMSProp: a running mean of g^2 that divides each weight's step by its typical size;
- Adam: both (momentum on g, RMSProp on g^2), with a bias correction for the first steps;
- AdamW: Adam plus weight decay applied to w directly, not mixed into the gradient.

Each rule is a pure function, ``*_step(w, g, state..., *, lr, ...) -> (w, state...)``, that
returns new arrays and leaves its inputs alone; the classes (:class:`SGD`, :class:`RMSprop`,
:class:`Adam`, :class:`AdamW`) hold the state and the step count for a dict of parameters.

The Keras conventions that matter (``keras.optimizers``, checked in tests/nblib/test_optim.py):

- momentum form: velocity = momentum * velocity - lr * g; w = w + velocity. (PyTorch's
  v = mu v + g; w -= lr v is the same while lr is constant.)
- Nesterov: w = w + momentum * velocity - lr * g, with the velocity just updated.
- RMSProp: rho = 0.9 is the decay of the mean square, and epsilon sits *inside* the root:
  w -= lr g / sqrt(s + eps).
- Adam: the step count t starts at 1; epsilon is the paper's "epsilon hat", added to
  sqrt(v) rather than sqrt(v_hat): w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps).
  Defaults eps = 1e-7 (the paper: 1e-8).
- AdamW: w -= lr * weight_decay * w is applied first, then Adam's step; decay 0.004.
- A learning-rate schedule is evaluated at the step count *before* the update (0 first).
- Keras keeps the learning rate, and casts Python-float hyper-parameters (momentum, betas,
  weight decay), through float32 even for float64 weights: 0.9 becomes 0.89999998. So
  nblib and Keras agree to ~1e-6 after a few steps with the defaults, and exactly with
  values float32 holds exactly (0.5, 0.875, 2**-10, ...).

Example
-------
>>> import numpy as np
>>> from nblib import optim
>>> w, velocity = optim.momentum_step(np.array([1.0]), np.array([2.0]), np.zeros(1), lr=0.1)
>>> w, velocity          # velocity = 0.9 * 0 - 0.1 * 2
(array([0.8]), array([-0.2]))
"""

from __future__ import annotations

import numpy as np

from nblib import regularization
from nblib._reference import reference
from nblib._registry import Registry
from nblib._validation import as_float_array, check_int, check_positive

__all__ = [
    "sgd_step", "momentum_step", "nesterov_step", "rmsprop_step", "adam_step", "adamw_step",
    "Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "OPTIMIZERS", "get",
]


# --- the update rules, one pure function each ------------------------------------------------

@reference
def sgd_step(w, g, *, lr: float):
    """Gradient descent: w - lr g.

    Parameters
    ----------
    w, g : array_like, same shape
        The weights and the gradient of the loss with respect to them.
    lr : float
        The learning rate.
    """
    w, g = _pair(w, g)
    return w - lr * g


@reference
def momentum_step(w, g, velocity, *, lr: float, momentum: float = 0.9):
    """Gradient descent with momentum (Polyak, 1964), Keras's form.

    velocity <- momentum * velocity - lr * g   (a decaying sum of past steps)
    w        <- w + velocity

    Returns
    -------
    w, velocity : ndarray, shape of w
    """
    w, g = _pair(w, g)
    velocity = momentum * _state(velocity, w, "velocity") - lr * g
    return w + velocity, velocity


@reference
def nesterov_step(w, g, velocity, *, lr: float, momentum: float = 0.9):
    """Nesterov momentum (Sutskever et al., 2013), Keras's form.

    velocity <- momentum * velocity - lr * g
    w        <- w + momentum * velocity - lr * g   (look one velocity step ahead)

    Returns
    -------
    w, velocity : ndarray, shape of w
    """
    w, g = _pair(w, g)
    velocity = momentum * _state(velocity, w, "velocity") - lr * g
    return w + momentum * velocity - lr * g, velocity


@reference
def rmsprop_step(w, g, s, *, lr: float, rho: float = 0.9, eps: float = 1e-7):
    """RMSProp (Hinton, 2012), Keras's form: epsilon inside the square root.

    s <- rho * s + (1 - rho) * g^2        (running mean of the squared gradient)
    w <- w - lr * g / sqrt(s + eps)       (each weight's step scaled by its own gradient size)

    Returns
    -------
    w, s : ndarray, shape of w
    """
    w, g = _pair(w, g)
    s = rho * _state(s, w, "s") + (1 - rho) * g**2
    return w - lr * g / np.sqrt(s + eps), s


@reference
def adam_step(w, g, m, v, t: int, *, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7):
    """Adam (Kingma & Ba, 2015), step number ``t`` (1 on the first step), Keras's form.

    m <- beta1 m + (1 - beta1) g            (momentum: mean of g)
    v <- beta2 v + (1 - beta2) g^2          (RMSProp: mean of g^2)
    w <- w - alpha m / (sqrt(v) + eps),  alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t)

    m and v start at 0, so early on they are too small by the factors 1 - beta^t; alpha
    undoes that (the bias correction: m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t)).
    Keras adds eps to sqrt(v), the paper's "epsilon hat", not to sqrt(v_hat).

    Returns
    -------
    w, m, v : ndarray, shape of w
    """
    w, g = _pair(w, g)
    t = check_int(t, "t", minimum=1)
    m = beta1 * _state(m, w, "m") + (1 - beta1) * g
    v = beta2 * _state(v, w, "v") + (1 - beta2) * g**2
    alpha = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return w - alpha * m / (np.sqrt(v) + eps), m, v


@reference
def adamw_step(w, g, m, v, t: int, *, lr: float, weight_decay: float = 0.004,
               beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7):
    """AdamW (Loshchilov & Hutter, 2019): decoupled weight decay, then Adam's step.

    w <- w - lr * weight_decay * w         (shrink the weights, outside the gradient)
    w, m, v <- adam_step(w, g, m, v, t)

    Adding wd * w to g instead (L2 regularisation) would let Adam's 1/sqrt(v) rescale the
    decay too, so weights with large gradients would hardly decay at all.
    """
    w, g = _pair(w, g)
    w = w - lr * weight_decay * w
    return adam_step(w, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


def _pair(w, g):
    w, g = as_float_array(w, "w"), as_float_array(g, "g")
    if w.shape != g.shape:
        raise ValueError(f"the gradient g must have the shape of w, {w.shape}, got {g.shape}")
    return w, g


def _state(state, w: np.ndarray, name: str) -> np.ndarray:
    state = as_float_array(state, name)
    if state.shape != w.shape:
        raise ValueError(f"{name} must have the shape of w, {w.shape}, got {state.shape}")
    return state


# --- optimizers: the state and the step count for a dict of parameters ------------------------

class Optimizer:
    """Base class: ``step(params, grads)`` updates every array of ``params`` in place.

    ``params`` and ``grads`` are dicts with the same keys (``model.parameters()`` and
    ``model.gradients()``). The state (velocity, m, v, ...) is kept per key, created as
    zeros on the first step. ``lr`` is a number or a schedule ``lr(step) -> float``
    (:mod:`nblib.schedules`), called with the number of steps taken so far, as Keras does.

    Gradient clipping, as Keras optimizers' options (at most one of them): ``clipvalue``
    clips each gradient entry to [-clipvalue, clipvalue]; ``clipnorm`` rescales each gradient
    array whose norm exceeds clipnorm to that norm; ``global_clipnorm`` rescales all the
    gradients by one factor so that their global norm is at most global_clipnorm. The
    clipped gradients go into the update rule (:meth:`clip`); the caller's arrays are unchanged.

    >>> w = {"W": np.array([1.0, 1.0])}
    >>> SGD(lr=0.1, clipnorm=1.0).step(w, {"W": np.array([30.0, 40.0])})   # g -> [0.6, 0.8]
    >>> w["W"]
    array([0.94, 0.92])
    """

    state_names: tuple[str, ...] = ()

    def __init__(self, lr, *, clipvalue: float | None = None, clipnorm: float | None = None,
                 global_clipnorm: float | None = None):
        if not callable(lr):
            lr = check_positive(lr, "lr")
        self.lr = lr
        self.clipvalue, self.clipnorm, self.global_clipnorm = _clipping(clipvalue, clipnorm, global_clipnorm)
        self.iterations = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}

    @property
    def learning_rate(self) -> float:
        """The learning rate the next step will use."""
        return float(self.lr(self.iterations)) if callable(self.lr) else self.lr

    def step(self, params: dict, grads: dict) -> None:
        """One update of every parameter that has a gradient (arrays changed in place)."""
        missing = set(grads) - set(params)
        if missing:
            raise KeyError(f"gradients for unknown parameters {sorted(missing)}; parameters are {sorted(params)}")
        grads = self.clip(grads)
        lr = self.learning_rate
        for key, g in grads.items():
            w = params[key]
            if key not in self.state:  # first step: velocity, m, v, ... start at zero
                self.state[key] = {n: np.zeros_like(w) for n in self.state_names}
            state = self.state[key]
            new_w, *new_state = self._update(w, g, *state.values(), lr=lr)
            w[...] = new_w
            state.update(zip(self.state_names, new_state))
        self.iterations += 1

    def clip(self, grads: dict) -> dict:
        """The gradients after this optimizer's clipping (new arrays; ``grads`` itself if none is set).

        As Keras's ``_clip_gradients``, before the update rule: ``clipnorm`` rescales each
        gradient to norm at most clipnorm, ``global_clipnorm`` all of them together, and
        ``clipvalue`` clips each entry (see :mod:`nblib.regularization`).
        """
        if self.clipnorm is not None:
            return {k: regularization.clip_by_norm(g, clipnorm=self.clipnorm) for k, g in grads.items()}
        if self.global_clipnorm is not None:
            return regularization.clip_by_global_norm(dict(grads), clipnorm=self.global_clipnorm)
        if self.clipvalue is not None:
            return {k: regularization.clip_by_value(g, clipvalue=self.clipvalue) for k, g in grads.items()}
        return grads

    def _update(self, w, g, *state, lr):
        raise NotImplementedError

    def __repr__(self) -> str:
        hidden = ("iterations", "state", "state_names")
        hyper = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                          if k not in hidden and not (k in _CLIP_OPTIONS and v is None))
        return f"{type(self).__name__}({hyper})"


_CLIP_OPTIONS = ("clipvalue", "clipnorm", "global_clipnorm")


def _clipping(clipvalue, clipnorm, global_clipnorm):
    """The clipping options checked: each None or a positive number, at most one set (as Keras)."""
    given = {k: v for k, v in zip(_CLIP_OPTIONS, (clipvalue, clipnorm, global_clipnorm)) if v is not None}
    if len(given) > 1:
        raise ValueError(f"set at most one of clipvalue, clipnorm and global_clipnorm (as in Keras), got {given}")
    return tuple(None if v is None else check_positive(v, k) for k, v in
                 zip(_CLIP_OPTIONS, (clipvalue, clipnorm, global_clipnorm)))


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum: ``keras.optimizers.SGD``."""

    def __init__(self, lr=0.01, *, momentum: float = 0.0, nesterov: bool = False, **clipping):
        super().__init__(lr, **clipping)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum, self.nesterov = momentum, bool(nesterov)
        self.state_names = ("velocity",) if momentum > 0 else ()

    def _update(self, w, g, *velocity, lr):
        if not velocity:
            return (sgd_step(w, g, lr=lr),)
        rule = nesterov_step if self.nesterov else momentum_step
        return rule(w, g, velocity[0], lr=lr, momentum=self.momentum)


class RMSprop(Optimizer):
    """RMSProp: ``keras.optimizers.RMSprop`` (epsilon inside the square root)."""

    state_names = ("s",)

    def __init__(self, lr=0.001, *, rho: float = 0.9, eps: float = 1e-7, **clipping):
        super().__init__(lr, **clipping)
        self.rho, self.eps = rho, eps

    def _update(self, w, g, s, *, lr):
        return rmsprop_step(w, g, s, lr=lr, rho=self.rho, eps=self.eps)


class Adam(Optimizer):
    """Adam: ``keras.optimizers.Adam`` (epsilon hat, t counted from 1)."""

    state_names = ("m", "v")

    def __init__(self, lr=0.001, *, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7, **clipping):
        super().__init__(lr, **clipping)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def _update(self, w, g, m, v, *, lr):
        return adam_step(w, g, m, v, self.iterations + 1, lr=lr, beta1=self.beta1, beta2=self.beta2, eps=self.eps)


class AdamW(Adam):
    """AdamW: ``keras.optimizers.AdamW`` (decay w -= lr wd w before Adam's step)."""

    def __init__(self, lr=0.001, *, weight_decay: float = 0.004, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-7, **clipping):
        super().__init__(lr, beta1=beta1, beta2=beta2, eps=eps, **clipping)
        self.weight_decay = weight_decay

    def _update(self, w, g, m, v, *, lr):
        return adamw_step(w, g, m, v, self.iterations + 1, lr=lr, weight_decay=self.weight_decay,
                          beta1=self.beta1, beta2=self.beta2, eps=self.eps)


OPTIMIZERS = Registry("optimizer", {
    "sgd": SGD,
    "momentum": lambda lr=0.01, **hyper: SGD(lr, momentum=hyper.pop("momentum", 0.9), **hyper),
    "nesterov": lambda lr=0.01, **hyper: SGD(lr, momentum=hyper.pop("momentum", 0.9), nesterov=True, **hyper),
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
})


def get(name: str, **hyper) -> Optimizer:
    """An optimizer by name: ``get("adam", lr=0.01)``; names are the keys of :data:`OPTIMIZERS`."""
    return OPTIMIZERS[name](**hyper)
