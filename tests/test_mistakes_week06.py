"""Week 6's homework tests: every common wrong answer loses its whole exercise, with a hint that names it.

Each case replaces one answer cell of the solution homework with a plausible wrong version and
grades the exercise the way ``python -m autograder grade`` does (:mod:`tests.mistakes`): every
test cell of the exercise, visible and hidden, must fail, and the first failure, the one a
student sees before submitting, must name the mistake. The right answers written another way
(loops, other draws and formulas, the long chain rule) must keep every point.
"""

from tests import mistakes

WEEK = "week06_training_deep"

FANS = """
def fans(shape):
    receptive_field = int(np.prod(shape[:-2]))
    return shape[-2] * receptive_field, shape[-1] * receptive_field
"""
HE = """
def he_normal(shape, *, rng):
    rng = np.random.default_rng(rng)
    fan_in, fan_out = fans(shape)
    z = rng.standard_normal(size=shape)
    outside = np.abs(z) > 2
    while outside.any():
        z[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(z) > 2
    return STD * z
"""


def he_with(std="np.sqrt(2 / fan_in) / 0.87962566103423978", fans=FANS, body=None):
    return fans + (body if body is not None else HE.replace("STD", std))


GLOROT = """
def glorot_uniform(shape, *, rng):
    rng = np.random.default_rng(rng)
    fan_in, fan_out = fans(shape)
    return DRAW
"""


def glorot_with(draw):
    return GLOROT.replace("DRAW", draw)


DROPOUT_BACKWARD = """

def dropout_backward(dout, mask):
    return dout * mask
"""
DROPOUT = """
def dropout_forward(x, *, rate, rng, training):
    if not training:
        return INFERENCE
    rng = np.random.default_rng(rng)
    keep = rng.random(x.shape) >= rate
    mask = MASK
    return x * mask, mask
"""


def dropout_with(mask="keep / (1 - rate)", inference="x.copy(), np.ones_like(x)", backward=DROPOUT_BACKWARD):
    return DROPOUT.replace("INFERENCE", inference).replace("MASK", mask) + backward


L2 = """
def l2_penalty(params, *, factor):
    return PENALTY


def l2_gradient(params, *, factor):
    return GRADIENT
"""


def l2_with(penalty='factor * sum(float(np.sum(W**2)) for k, W in params.items() if k.split(".")[-1] == "W")',
            gradient='{k: 2 * factor * W for k, W in params.items() if k.split(".")[-1] == "W"}'):
    return L2.replace("PENALTY", penalty).replace("GRADIENT", gradient)


STOPPING = """
def early_stopping(val_losses, *, patience, min_delta=0.0):
    best, best_epoch, wait, previous = np.inf, 0, 0, np.inf
    for epoch, loss in enumerate(val_losses, start=1):
        if IMPROVES:
            best, best_epoch = loss, epoch
            RESET
        else:
            wait += 1
            if STOPS:
                return epoch, BEST
        previous = loss
    return len(val_losses), BEST
"""


def stopping_with(improves="loss < best - min_delta", reset="wait = 0", stops="wait >= patience", best="best_epoch"):
    return (STOPPING.replace("IMPROVES", improves).replace("RESET", reset).replace("STOPS", stops)
            .replace("BEST", best))


BATCHNORM = """
def batchnorm_forward(x, gamma, beta, running_mean, running_var, *, training, momentum=0.99, eps=1e-3):
    axes = AXES
    if training:
        mean, var = STATS
        new_mean = UPDATE_MEAN
        new_var = UPDATE_VAR
        NORMALISE_WITH
    else:
        mean, var = INFERENCE
        new_mean, new_var = running_mean.copy(), running_var.copy()
    out = gamma * (x - mean) / SCALE + beta
    return out, new_mean, new_var
"""


def batchnorm_with(axes="tuple(range(x.ndim - 1))", ddof="0", stats="x.mean(axis=axes), x.var(axis=axes, ddof=DDOF)",
                   update_mean="momentum * running_mean + (1 - momentum) * mean",
                   update_var="momentum * running_var + (1 - momentum) * var",
                   normalise_with="pass", inference="running_mean, running_var", scale="np.sqrt(var + eps)"):
    return (BATCHNORM.replace("STATS", stats).replace("AXES", axes).replace("DDOF", ddof).replace("UPDATE_MEAN", update_mean)
            .replace("UPDATE_VAR", update_var).replace("NORMALISE_WITH", normalise_with)
            .replace("INFERENCE", inference).replace("SCALE", scale))


BACKWARD = """
def batchnorm_backward(dout, x, gamma, *, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes, ddof=DDOF)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    dx_hat = DX_HAT
    dx = DX
    return dx, DGAMMA, DBETA
"""


def backward_with(dx="inv_std * (dx_hat - dx_hat.mean(axis=axes) - x_hat * (dx_hat * x_hat).mean(axis=axes))",
                  dx_hat="dout * gamma", dgamma="(dout * x_hat).sum(axis=axes)", dbeta="dout.sum(axis=axes)", ddof="0"):
    return (BACKWARD.replace("DDOF", ddof).replace("DX_HAT", dx_hat).replace("DX", dx, 1).replace("DGAMMA", dgamma)
            .replace("DBETA", dbeta))


LAYERNORM = """
def layernorm_forward(x, gamma, beta, *, eps=1e-3):
    mean = MEAN
    var = VAR
    return gamma * (x - mean) / SCALE + beta
"""


def layernorm_with(mean="x.mean(axis=-1, keepdims=True)", var="x.var(axis=-1, keepdims=True)",
                   scale="np.sqrt(var + eps)"):
    return LAYERNORM.replace("MEAN", mean).replace("VAR", var).replace("SCALE", scale)


WRONG = {
    # -- exercise 1: fans and He initialization
    "fans: the convolution window left out": ("he_normal", "include the window", he_with(fans="""
def fans(shape):
    return shape[-2], shape[-1]
""")),
    "fans: fan_in and fan_out swapped": ("he_normal", "fan_in and fan_out are swapped", he_with(fans="""
def fans(shape):
    receptive_field = int(np.prod(shape[:-2]))
    return shape[-1] * receptive_field, shape[-2] * receptive_field
""")),
    "He with fan_out": ("he_normal", "He with fan_out", he_with(std="np.sqrt(2 / fan_out) / 0.87962566103423978")),
    "He: an untruncated normal": ("he_normal", "truncated normal", FANS + """
def he_normal(shape, *, rng):
    rng = np.random.default_rng(rng)
    fan_in, _ = fans(shape)
    return rng.normal(0.0, np.sqrt(2 / fan_in), size=shape)
"""),
    "He: truncated but not rescaled": ("he_normal", "not rescaled", he_with(std="np.sqrt(2 / fan_in)")),
    "He: LeCun's variance 1 / fan_in": ("he_normal", "LeCun's variance", he_with(std="np.sqrt(1 / fan_in) / 0.8796256610342398")),
    "He: the variance 2 / fan_in used as the std": ("he_normal", "2 / fan_in is the variance",
                                                    he_with(std="2 / fan_in / 0.87962566103423978")),
    "He: drawn from np.random's global state": ("he_normal", "two calls with the same rng gave different weights", FANS + """
def he_normal(shape, *, rng):
    fan_in, _ = fans(shape)
    z = np.random.standard_normal(size=shape)
    while (np.abs(z) > 2).any():
        z = np.where(np.abs(z) > 2, np.random.standard_normal(size=shape), z)
    return np.sqrt(2 / fan_in) / 0.87962566103423978 * z
"""),
    "He: nblib's own he_normal called": ("he_normal", "asks you to write this yourself", """
def fans(shape):
    return init.fans(shape)


def he_normal(shape, *, rng):
    return init.he_normal(shape, rng=np.random.default_rng(rng))
"""),
    "He: rng used as a Generator without default_rng": ("he_normal", "rng may be a seed", FANS + """
def he_normal(shape, *, rng):
    fan_in, _ = fans(shape)
    z = rng.standard_normal(size=shape)
    while (np.abs(z) > 2).any():
        z = np.where(np.abs(z) > 2, rng.standard_normal(size=shape), z)
    return np.sqrt(2 / fan_in) / 0.87962566103423978 * z
"""),
    # -- exercise 2: Glorot uniform
    "Glorot: the uniform's limit used as a std": ("glorot_uniform", "was used as a standard deviation",
                                                  glorot_with("rng.normal(0.0, np.sqrt(6 / (fan_in + fan_out)), size=shape)")),
    "Glorot: the std used as the uniform's limit": ("glorot_uniform", "the uniform's limit is sqrt(3) times it", glorot_with(
        "rng.uniform(-np.sqrt(2 / (fan_in + fan_out)), np.sqrt(2 / (fan_in + fan_out)), size=shape)")),
    "Glorot: nblib's variance_scaling called": ("glorot_uniform", "asks you to write this yourself", """
def glorot_uniform(shape, *, rng):
    return init.variance_scaling(shape, rng=np.random.default_rng(rng), mode="fan_avg", distribution="uniform")
"""),
    "Glorot: fan_in only": ("glorot_uniform", "sqrt(6 / fan_in)",
                            glorot_with("rng.uniform(-np.sqrt(6 / fan_in), np.sqrt(6 / fan_in), size=shape)")),
    "Glorot: uniform on [0, r)": ("glorot_uniform", "not centred", glorot_with(
        "rng.uniform(0.0, np.sqrt(6 / (fan_in + fan_out)), size=shape)")),
    "Glorot: a normal with Glorot's variance": ("glorot_uniform", "draws from a uniform", glorot_with(
        "rng.normal(0.0, np.sqrt(2 / (fan_in + fan_out)), size=shape)")),
    # -- exercise 3: dropout
    "dropout: the kept values not scaled": ("dropout", "are not scaled", dropout_with(mask="keep.astype(float)")),
    "dropout: scaled at inference too": ("dropout", "at inference (training=False) dropout is the identity",
                                         dropout_with(inference="x * (1 - rate), np.full(x.shape, 1 - rate)")),
    "dropout: rate used as the keep probability": ("dropout", "rate is the probability of DROPPING", DROPOUT.replace(
        "rng.random(x.shape) >= rate", "rng.random(x.shape) < rate").replace("INFERENCE", "x.copy(), np.ones_like(x)")
        .replace("MASK", "keep / (1 - rate)") + DROPOUT_BACKWARD),
    "dropout: the old scaling by 1 - rate in training": ("dropout", "multiplied by 1 - rate",
                                                         dropout_with(mask="keep * (1 - rate)")),
    "dropout: a new mask in the backward pass": ("dropout", "use the SAME mask", dropout_with(backward="""

def dropout_backward(dout, mask):
    rate = 1 - 1 / mask.max() if mask.max() > 1 else 0.0
    keep = np.random.random(dout.shape) >= rate
    return dout * keep / (1 - rate)
""")),
    "dropout: the backward pass not scaled": ("dropout", "the gradient was not scaled", dropout_with(backward="""

def dropout_backward(dout, mask):
    return dout * (mask > 0)
""")),
    "dropout: x changed in place": ("dropout", "changed its argument x in place", """
def dropout_forward(x, *, rate, rng, training):
    if not training:
        return x, np.ones_like(x)
    rng = np.random.default_rng(rng)
    mask = (rng.random(x.shape) >= rate) / (1 - rate)
    x *= mask
    return x, mask
""" + DROPOUT_BACKWARD),
    "dropout: the mask drawn from np.random's global state": ("dropout", "two calls with the same rng dropped different",
                                                             DROPOUT.replace("rng = np.random.default_rng(rng)\n    ", "")
                                                             .replace("rng.random(x.shape)", "np.random.random(x.shape)")
                                                             .replace("INFERENCE", "x.copy(), np.ones_like(x)")
                                                             .replace("MASK", "keep / (1 - rate)") + DROPOUT_BACKWARD),
    # -- exercise 4: L2
    "L2 on the biases too": ("l2", "the biases (or gamma and beta) were penalised too", l2_with(
        penalty="factor * sum(float(np.sum(W**2)) for W in params.values())",
        gradient="{k: 2 * factor * W for k, W in params.items()}")),
    "L2 gradient without its factor 2": ("l2", "the factor 2 is missing", l2_with(
        gradient='{k: factor * W for k, W in params.items() if k.split(".")[-1] == "W"}')),
    "L2 with a factor 1/2": ("l2", "has a factor 1/2", l2_with(
        penalty='0.5 * factor * sum(float(np.sum(W**2)) for k, W in params.items() if k.split(".")[-1] == "W")',
        gradient='{k: factor * W for k, W in params.items() if k.split(".")[-1] == "W"}')),
    "L2: a mean of the squares": ("l2", "this is a mean of the squares", l2_with(
        penalty='factor * sum(float(np.mean(W**2)) for k, W in params.items() if k.split(".")[-1] == "W")')),
    "L2: a gradient for the biases": ("l2", "there is a nonzero gradient for a bias", l2_with(
        gradient="{k: 2 * factor * W for k, W in params.items()}")),
    # -- exercise 5: early stopping
    "early stopping: patience off by one (wait > patience)": ("early_stopping", "stopped one epoch late",
                                                             stopping_with(stops="wait > patience")),
    "early stopping: the counter never reset": ("early_stopping", "was not reset to 0", stopping_with(reset="pass")),
    "early stopping: compared with the previous epoch": ("early_stopping", "compared with the previous epoch",
                                                        stopping_with(improves="loss < previous - min_delta")),
    "early stopping: ties count as improvements": ("early_stopping", "was counted as an improvement",
                                                   stopping_with(improves="loss <= best - min_delta")),
    "early stopping: min_delta ignored": ("early_stopping", "min_delta was ignored", stopping_with(improves="loss < best")),
    "early stopping: best epoch counted from 0": ("early_stopping", "counted from 0", stopping_with(best="best_epoch - 1")),
    "early stopping: the best weights not restored (last epoch)": ("early_stopping", "is the last epoch trained",
                                                                   stopping_with(best="epoch")),
    "early stopping: the best of all the losses given": ("early_stopping", "including epochs after the stop",
                                                         stopping_with(best="int(np.argmin(val_losses)) + 1")),
    "early stopping: nblib's EarlyStopping driven by hand": ("early_stopping", "asks you to write this yourself", """
def early_stopping(val_losses, *, patience, min_delta=0.0):
    stopper = training.EarlyStopping(patience=patience, min_delta=min_delta)
    stopper.on_train_begin(None)
    history = training.History()
    for epoch, loss in enumerate(val_losses, start=1):
        history.loss.append(loss)
        history.val_loss.append(loss)
        stopper.on_epoch_end(history)
        if stopper.stopped_epoch:
            return epoch, stopper.best_epoch
    return len(val_losses), stopper.best_epoch
"""),
    # -- exercise 6: batch normalization, forward
    "batch norm: batch statistics at inference": ("batchnorm_forward", "the batch's own statistics were used at inference",
                                                  batchnorm_with(inference="x.mean(axis=axes), x.var(axis=axes)")),
    "batch norm: running statistics in training": ("batchnorm_forward", "the running statistics were used in training",
                                                   batchnorm_with(normalise_with="mean, var = running_mean, running_var")),
    "batch norm: momentum the other way round": ("batchnorm_forward", "momentum weighs the new statistic", batchnorm_with(
        update_mean="(1 - momentum) * running_mean + momentum * mean",
        update_var="(1 - momentum) * running_var + momentum * var")),
    "batch norm: eps outside the square root": ("batchnorm_forward", "eps is outside the square root",
                                                batchnorm_with(scale="(np.sqrt(var) + eps)")),
    "batch norm: unbiased variance": ("batchnorm_forward", "unbiased variance", batchnorm_with(ddof="1")),
    "batch norm: normalised over the features": ("batchnorm_forward", "over the wrong axis", batchnorm_with(
        axes="-1", stats="x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)")),
    "batch norm: (N, H, W, C) over the examples only": ("batchnorm_forward", "AND the positions", batchnorm_with(axes="0")),
    "batch norm: running statistics updated in place": ("batchnorm_forward", "changed its argument running_mean", """
def batchnorm_forward(x, gamma, beta, running_mean, running_var, *, training, momentum=0.99, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        running_mean *= momentum
        running_mean += (1 - momentum) * mean
        running_var *= momentum
        running_var += (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    return gamma * (x - mean) / np.sqrt(var + eps) + beta, running_mean, running_var
"""),
    # -- exercise 7: batch normalization, backward
    "batch norm backward: the statistics treated as constants": ("batchnorm_backward", "as constants",
                                                                 backward_with(dx="inv_std * dx_hat")),
    "batch norm backward: dgamma from x, not x_hat": ("batchnorm_backward", "dgamma must use the normalised x_hat",
                                                      backward_with(dgamma="(dout * x).sum(axis=axes)")),
    "batch norm backward: dbeta as a mean": ("batchnorm_backward", "dbeta is a sum", backward_with(dbeta="dout.mean(axis=axes)")),
    "batch norm backward: gamma left out of dx": ("batchnorm_backward", "gamma is missing from dx", backward_with(
        dx_hat="dout")),
    "batch norm backward: unbiased variance": ("batchnorm_backward", "unbiased variance", backward_with(ddof="1")),
    # -- exercise 8: layer normalization
    "layer norm: normalised over the batch": ("layernorm_forward", "that is batch normalization", layernorm_with(
        mean="x.mean(axis=0, keepdims=True)", var="x.var(axis=0, keepdims=True)")),
    "layer norm: the axis dropped (no keepdims)": ("layernorm_forward", "keepdims=True", layernorm_with(
        mean="x.mean(axis=-1)", var="x.var(axis=-1)")),
    "layer norm: eps outside the square root": ("layernorm_forward", "eps is outside the square root",
                                                layernorm_with(scale="(np.sqrt(var) + eps)")),
    "layer norm: unbiased variance": ("layernorm_forward", "unbiased variance", layernorm_with(
        var="x.var(axis=-1, keepdims=True, ddof=1)")),
}


RIGHT = {
    "He: math.prod for the fans, a redraw by np.where, rng.normal": ("he_normal", """
import math


def fans(shape):
    *window, n_in, n_out = shape
    return n_in * math.prod(window), n_out * math.prod(window)


def he_normal(shape, *, rng):
    rng = np.random.default_rng(rng)
    std = math.sqrt(2 / fans(shape)[0]) / 0.87962566103423978
    w = rng.normal(0.0, std, size=shape)
    while np.any(np.abs(w) > 2 * std):
        w = np.where(np.abs(w) > 2 * std, rng.normal(0.0, std, size=shape), w)
    return w
"""),
    "Glorot: scaled from rng.random": ("glorot_uniform", """
def glorot_uniform(shape, *, rng):
    generator = np.random.default_rng(rng)
    fan_in, fan_out = fans(shape)
    limit = (6.0 / (fan_in + fan_out)) ** 0.5
    return limit * (2.0 * generator.random(shape) - 1.0)
"""),
    "dropout: a binomial mask, np.where in the backward pass": ("dropout", """
def dropout_forward(x, *, rate, rng, training):
    if training:
        keep = np.random.default_rng(rng).binomial(1, 1.0 - rate, size=np.shape(x))
        mask = keep / (1.0 - rate)
    else:
        mask = np.ones(np.shape(x))
    return np.multiply(x, mask), mask


def dropout_backward(dout, mask):
    return np.where(mask > 0, dout * mask, 0.0)
"""),
    "L2: loops, einsum, zeros for the biases": ("l2", """
def _is_kernel(key):
    return key == "W" or key.endswith(".W")


def l2_penalty(params, *, factor):
    total = 0.0
    for key in params:
        if _is_kernel(key):
            W = np.asarray(params[key])
            total += np.einsum("ij,ij->", W, W)
    return factor * total


def l2_gradient(params, *, factor):
    grads = {}
    for key, value in params.items():
        grads[key] = 2.0 * factor * value if _is_kernel(key) else np.zeros_like(value)
    return grads
"""),
    "early stopping: epochs since the best, a while loop, numpy ints": ("early_stopping", """
def early_stopping(val_losses, *, patience, min_delta=0.0):
    losses = np.asarray(val_losses, dtype=float)
    best, best_epoch, epoch = np.inf, np.int64(0), 0
    while epoch < len(losses):
        epoch += 1
        if losses[epoch - 1] < best - min_delta:
            best, best_epoch = losses[epoch - 1], np.int64(epoch)
        elif epoch - best_epoch >= patience:
            return np.int64(epoch), best_epoch
    return np.int64(len(losses)), best_epoch
"""),
    "batch norm: E[x^2] - E[x]^2, reshaped to (M, C)": ("batchnorm_forward", """
def batchnorm_forward(x, gamma, beta, running_mean, running_var, *, training, momentum=0.99, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])                     # (N * H * W, C)
    if training:
        mean = flat.mean(axis=0)
        var = (flat**2).mean(axis=0) - mean**2
        running_mean = running_mean * momentum + mean * (1 - momentum)
        running_var = running_var * momentum + var * (1 - momentum)
    else:
        mean, var = running_mean, running_var
    out = (flat - mean) / np.sqrt(var + eps) * gamma + beta
    return out.reshape(x.shape), np.array(running_mean), np.array(running_var)
"""),
    "batch norm backward: the long chain rule through mean and var": ("batchnorm_backward", """
def batchnorm_backward(dout, x, gamma, *, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    mu = x.mean(axis=axes)
    centred = x - mu
    var = (centred**2).mean(axis=axes)
    std = np.sqrt(var + eps)
    x_hat = centred / std
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * centred * -0.5 * (var + eps) ** -1.5, axis=axes)
    dmu = np.sum(-dx_hat / std, axis=axes) + dvar * np.mean(-2.0 * centred, axis=axes)
    dx = dx_hat / std + dvar * 2.0 * centred / m + dmu / m
    return dx, np.sum(dout * x_hat, axis=axes), np.sum(dout, axis=axes)
"""),
    "layer norm: a loop over the examples, np.std": ("layernorm_forward", """
def layernorm_forward(x, gamma, beta, *, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])
    out = np.empty_like(flat, dtype=float)
    for i, row in enumerate(flat):
        out[i] = gamma * (row - row.mean()) / np.sqrt(np.std(row) ** 2 + eps) + beta
    return out.reshape(x.shape)
"""),
}


# Glorot may call exercise 1's fans: a wrong one in the kernel costs it nothing.
WRONG_EARLIER = {
    "glorot_uniform": """
def fans(shape):
    return shape[-1], shape[-2]          # swapped, and the window left out


def glorot_uniform(shape, *, rng):
    rng = np.random.default_rng(rng)
    fan_in, fan_out = fans(shape)
    limit = np.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)
""",
}


class TestWeek06(mistakes.WeekTests):
    WEEK, WRONG, RIGHT, WRONG_EARLIER = WEEK, WRONG, RIGHT, WRONG_EARLIER
