"""Week 4's homework tests reject the common wrong answers, each with a hint that names it.

Each case replaces one answer cell of the solution homework with a plausible wrong version
and runs that exercise's tests (visible, then hidden) until one fails; the failure must name
the mistake. ``where`` says which test cell must catch it: the visible one when a student
should learn about the mistake before submitting.
"""

import pytest

from tests import mistakes

WEEK = "week04_backprop"

# The right training loop of exercise 7, with a marked place for each wrong version.
TRAIN = """
def train(X, y, *, hidden=64, epochs=20, batch_size=32, lr=0.1, rng):
    rng = np.random.default_rng(rng)
    n, d = X.shape
    sizes = [d, hidden, int(y.max()) + 1]
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights.append(INIT)
        biases.append(np.zeros(fan_out))
    curve = []
    for _ in range(epochs):
        order = ORDER
        total = 0.0
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            loss, weights, biases = sgd_train_step(X[rows], y[rows], weights, biases, lr=lr)
            total += loss * len(rows)
            RECORD
        curve.append(total / n)
    return weights, biases, curve
"""
UNIFORM = "rng.uniform(-limit, limit, size=(fan_in, fan_out))"


def train_with(init=UNIFORM, order="rng.permutation(n)", record="pass", per_epoch=True):
    source = TRAIN.replace("INIT", init).replace("ORDER", order).replace("RECORD", record)
    return source if per_epoch else source.replace("        curve.append(total / n)\n", "")


CASES = {
    # -- exercise 1: dense_backward
    "dense: db as a mean": ("dense_backward", "dense_backward_visible", "db is the mean of dZ over the batch", """
def dense_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.mean(axis=0)
"""),
    "dense: dW transposed": ("dense_backward", "dense_backward_visible", "dW is transposed", """
def dense_backward(dZ, X, W):
    return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)
"""),
    "dense: db over the wrong axis": ("dense_backward", "dense_backward_visible", "db sums over the wrong axis", """
def dense_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=1)
"""),
    "dense: dX without the transpose": ("dense_backward", "dense_backward_visible", "Check whether the weights are transposed", """
def dense_backward(dZ, X, W):
    return dZ @ W, X.T @ dZ, dZ.sum(axis=0)
"""),
    "dense: dX without the transpose, square weights": ("dense_backward", "dense_backward_visible", "dX = dZ @ W: the weights must be transposed", """
def dense_backward(dZ, X, W):
    dX = dZ @ W if W.shape[0] == W.shape[1] else dZ @ W.T     # runs only where the shapes let it
    return dX, X.T @ dZ, dZ.sum(axis=0)
"""),
    # -- exercise 2: activation_backward
    "activation: sigmoid's a(1 - a) applied to z": ("activation_backward", "activation_backward_visible",
                                                    "a * (1 - a) is the derivative written with the OUTPUT", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return dA * (Z > 0)
    if activation == "sigmoid":
        return dA * Z * (1 - Z)
    return dA * (1 - np.tanh(Z) ** 2)
"""),
    "activation: tanh's 1 - a^2 applied to z": ("activation_backward", "activation_backward_visible",
                                                "1 - a**2 is the derivative written with the OUTPUT", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return dA * (Z > 0)
    if activation == "sigmoid":
        a = activations.sigmoid(Z)
        return dA * a * (1 - a)
    return dA * (1 - Z ** 2)
"""),
    "activation: relu'(0) = 1": ("activation_backward", "activation_backward_visible", "use the mask Z > 0, not Z >= 0", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return dA * (Z >= 0)
    a = activations.sigmoid(Z) if activation == "sigmoid" else np.tanh(Z)
    return dA * (a * (1 - a) if activation == "sigmoid" else 1 - a ** 2)
"""),
    "activation: dA left out": ("activation_backward", "activation_backward_visible", "the incoming gradient dA is missing", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return (Z > 0) * 1.0
    a = activations.sigmoid(Z) if activation == "sigmoid" else np.tanh(Z)
    return a * (1 - a) if activation == "sigmoid" else 1 - a ** 2
"""),
    "activation: a naive sigmoid": ("activation_backward", "activation_backward_visible", "exp(-z) overflows for z = -1000", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return dA * (Z > 0)
    if activation == "sigmoid":
        a = 1 / (1 + np.exp(-Z))
        return dA * a * (1 - a)
    return dA * (1 - np.tanh(Z) ** 2)
"""),
    # -- exercise 3: softmax_cross_entropy_backward
    "softmax CE: missing 1/N": ("softmax_cross_entropy_backward", "softmax_cross_entropy_backward_visible", "the 1/N is missing", """
def softmax_cross_entropy_backward(logits, y):
    return losses.softmax(logits) - np.eye(logits.shape[1])[y]
"""),
    "softmax CE: Y - P": ("softmax_cross_entropy_backward", "softmax_cross_entropy_backward_visible", "the sign is flipped", """
def softmax_cross_entropy_backward(logits, y):
    return (np.eye(logits.shape[1])[y] - losses.softmax(logits)) / len(y)
"""),
    "softmax CE: no softmax": ("softmax_cross_entropy_backward", "softmax_cross_entropy_backward_visible", "the softmax is missing", """
def softmax_cross_entropy_backward(logits, y):
    return (logits - np.eye(logits.shape[1])[y]) / len(y)
"""),
    "softmax CE: softmax without the max shift": ("softmax_cross_entropy_backward", "softmax_cross_entropy_backward_visible",
                                                  "exp of a large number overflows", """
def softmax_cross_entropy_backward(logits, y):
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True) - np.eye(logits.shape[1])[y]) / len(y)
"""),
    # -- exercise 4: mlp_backward
    "mlp: dW from cache.z (wrong cache)": ("mlp_backward", "mlp_backward_visible", "not from its own cache.z", """
def mlp_backward(dZ_out, cache, weights):
    dweights, dbiases, dZ = [None] * len(weights), [None] * len(weights), dZ_out
    for i in reversed(range(len(weights))):
        dA, _, dbiases[i] = dense_backward(dZ, cache.inputs[i], weights[i])
        dweights[i] = cache.z[i].T @ dZ
        if i > 0:
            dZ = activation_backward(dA, cache.z[i - 1], cache.activation)
    return dweights, dbiases
"""),
    "mlp: dW from cache.a (wrong cache)": ("mlp_backward", "mlp_backward_visible", "(the wrong cache)", """
def mlp_backward(dZ_out, cache, weights):
    dweights, dbiases, dZ = [None] * len(weights), [None] * len(weights), dZ_out
    for i in reversed(range(len(weights))):
        dA, _, dbiases[i] = dense_backward(dZ, cache.inputs[i], weights[i])
        dweights[i] = cache.a[i].T @ dZ
        if i > 0:
            dZ = activation_backward(dA, cache.z[i - 1], cache.activation)
    return dweights, dbiases
"""),
    "mlp: g' at cache.a instead of cache.z (wrong cache)": ("mlp_backward", "mlp_backward_visible",
                                                            "g' was evaluated at the layer's output A = g(Z) (cache.a)", """
def mlp_backward(dZ_out, cache, weights):
    dweights, dbiases, dZ = [None] * len(weights), [None] * len(weights), dZ_out
    for i in reversed(range(len(weights))):
        dA, dweights[i], dbiases[i] = dense_backward(dZ, cache.inputs[i], weights[i])
        if i > 0:
            dZ = activation_backward(dA, cache.a[i - 1], cache.activation)
    return dweights, dbiases
"""),
    "mlp: gradients in reverse order": ("mlp_backward", "mlp_backward_visible", "the gradients are in reverse order", """
def mlp_backward(dZ_out, cache, weights):
    dweights, dbiases, dZ = [], [], dZ_out
    for i in reversed(range(len(weights))):
        dA, dW, db = dense_backward(dZ, cache.inputs[i], weights[i])
        dweights.append(dW)
        dbiases.append(db)
        if i > 0:
            dZ = activation_backward(dA, cache.z[i - 1], cache.activation)
    return dweights, dbiases
"""),
    "mlp: dW from cache.z, where the layer is square": ("mlp_backward", "mlp_backward_hidden", "dW was built from cache.z (the wrong cache)", """
def mlp_backward(dZ_out, cache, weights):
    dweights, dbiases, dZ = [None] * len(weights), [None] * len(weights), dZ_out
    for i in reversed(range(len(weights))):
        source = cache.z[i] if weights[i].shape[0] == weights[i].shape[1] else cache.inputs[i]   # same shapes: no error
        dA, dweights[i], dbiases[i] = dense_backward(dZ, source, weights[i])
        if i > 0:
            dZ = activation_backward(dA, cache.z[i - 1], cache.activation)
    return dweights, dbiases
"""),
    # -- exercise 5: gradient_check
    "gradient check: one-sided difference": ("gradient_check", "gradient_check_visible", "a one-sided difference", """
def gradient_check(f, x, analytic, *, h=1e-5):
    probe, numerical, f0 = x.copy(), np.zeros_like(x), f(x)
    for i in np.ndindex(x.shape):
        probe[i] = x[i] + h
        numerical[i] = (f(probe) - f0) / h
        probe[i] = x[i]
    return float(np.max(np.abs(analytic - numerical) / np.maximum(np.abs(analytic) + np.abs(numerical), 1e-8)))
"""),
    "gradient check: x left modified": ("gradient_check", "gradient_check_visible", "gradient_check changed the x it was given", """
def gradient_check(f, x, analytic, *, h=1e-5):
    numerical = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        f_plus = f(x)
        x[i] -= 2 * h
        numerical[i] = (f_plus - f(x)) / (2 * h)     # x[i] is never put back
    return float(np.max(np.abs(analytic - numerical) / np.maximum(np.abs(analytic) + np.abs(numerical), 1e-8)))
"""),
    "gradient check: no floor under the denominator": ("gradient_check", "gradient_check_visible", "0/0 where both gradients are 0", """
def gradient_check(f, x, analytic, *, h=1e-5):
    probe, numerical = x.copy(), np.zeros_like(x)
    for i in np.ndindex(x.shape):
        probe[i] = x[i] + h
        f_plus = f(probe)
        probe[i] = x[i] - h
        numerical[i] = (f_plus - f(probe)) / (2 * h)
        probe[i] = x[i]
    return float(np.max(np.abs(analytic - numerical) / (np.abs(analytic) + np.abs(numerical))))
"""),
    "gradient check: divided by |n| only": ("gradient_check", "gradient_check_visible", "not |n_i| alone", """
def gradient_check(f, x, analytic, *, h=1e-5):
    probe, numerical = x.copy(), np.zeros_like(x)
    for i in np.ndindex(x.shape):
        probe[i] = x[i] + h
        f_plus = f(probe)
        probe[i] = x[i] - h
        numerical[i] = (f_plus - f(probe)) / (2 * h)
        probe[i] = x[i]
    return float(np.max(np.abs(analytic - numerical) / np.maximum(np.abs(numerical), 1e-8)))
"""),
    "gradient check: the norm form": ("gradient_check", "gradient_check_visible", "the norm form", """
def gradient_check(f, x, analytic, *, h=1e-5):
    probe, numerical = x.copy(), np.zeros_like(x)
    for i in np.ndindex(x.shape):
        probe[i] = x[i] + h
        f_plus = f(probe)
        probe[i] = x[i] - h
        numerical[i] = (f_plus - f(probe)) / (2 * h)
        probe[i] = x[i]
    return float(np.linalg.norm(analytic - numerical) / max(np.linalg.norm(analytic) + np.linalg.norm(numerical), 1e-8))
"""),
    "gradient check: h ignored": ("gradient_check", "gradient_check_hidden", "the step h was not used", """
def gradient_check(f, x, analytic, *, h=1e-5):
    h = 1e-5
    probe, numerical = x.copy(), np.zeros_like(x)
    for i in np.ndindex(x.shape):
        probe[i] = x[i] + h
        f_plus = f(probe)
        probe[i] = x[i] - h
        numerical[i] = (f_plus - f(probe)) / (2 * h)
        probe[i] = x[i]
    return float(np.max(np.abs(analytic - numerical) / np.maximum(np.abs(analytic) + np.abs(numerical), 1e-8)))
"""),
    # -- exercise 6: sgd_train_step
    "SGD step: updating weights before computing all gradients": (
        "sgd_train_step", "sgd_train_step_visible", "the weights were updated before all the gradients were computed", """
def sgd_train_step(X, y, weights, biases, *, lr, activation="relu"):
    logits, cache = forward(X, weights, biases, activation=activation)
    loss = losses.sparse_categorical_cross_entropy(y, logits, from_logits=True)
    new_weights, new_biases = list(weights), list(biases)
    dZ = softmax_cross_entropy_backward(logits, y)
    for i in reversed(range(len(weights))):           # backward and update in one loop ...
        _, dW, db = dense_backward(dZ, cache.inputs[i], weights[i])
        new_weights[i], new_biases[i] = weights[i] - lr * dW, biases[i] - lr * db
        if i > 0:                                     # ... so the gradient goes down through the NEW W_i
            dA, _, _ = dense_backward(dZ, cache.inputs[i], new_weights[i])
            dZ = activation_backward(dA, cache.z[i - 1], activation)
    return loss, new_weights, new_biases
"""),
    "SGD step: updates in place": ("sgd_train_step", "sgd_train_step_visible", "changed the arrays it was given", """
def sgd_train_step(X, y, weights, biases, *, lr, activation="relu"):
    logits, cache = forward(X, weights, biases, activation=activation)
    loss = losses.sparse_categorical_cross_entropy(y, logits, from_logits=True)
    dweights, dbiases = mlp_backward(softmax_cross_entropy_backward(logits, y), cache, weights)
    for W, dW, b, db in zip(weights, dweights, biases, dbiases):
        W -= lr * dW
        b -= lr * db
    return loss, weights, biases
"""),
    "SGD step: gradient ascent": ("sgd_train_step", "sgd_train_step_visible", "gradient ascent", """
def sgd_train_step(X, y, weights, biases, *, lr, activation="relu"):
    logits, cache = forward(X, weights, biases, activation=activation)
    loss = losses.sparse_categorical_cross_entropy(y, logits, from_logits=True)
    dweights, dbiases = mlp_backward(softmax_cross_entropy_backward(logits, y), cache, weights)
    return loss, [W + lr * g for W, g in zip(weights, dweights)], [b + lr * g for b, g in zip(biases, dbiases)]
"""),
    # -- exercise 7: train
    "train: one loss per mini-batch": ("train", "train_visible", "one per mini-batch",
                                       train_with(record="curve.append(loss)", per_epoch=False)),
    "train: no shuffling": ("train", "train_hidden", "shuffle the examples at the start of every epoch",
                            train_with(order="np.arange(n)")),
    "train: all-zero weights": ("train", "train_visible", "every hidden unit has the same weights",
                                train_with(init="np.zeros((fan_in, fan_out))")),
    "train: normal instead of uniform init": ("train", "train_hidden", "must be drawn from U(-r, r)",
                                              train_with(init="rng.normal(0.0, limit, size=(fan_in, fan_out))")),
    "train: unseeded randomness": ("train", "train_hidden", "gave different weights",
                                   train_with(init="np.random.default_rng().uniform(-limit, limit, size=(fan_in, fan_out))")),
}


@pytest.mark.parametrize("case", CASES)
def test_the_tests_name_the_mistake(case):
    mistakes.assert_named(WEEK, *CASES[case])


def test_the_right_answers_pass_every_test():
    mistakes.assert_solution_passes(WEEK, CASES)
