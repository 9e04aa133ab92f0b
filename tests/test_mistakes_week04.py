"""Week 4's homework tests judge each exercise fairly, through the grader's own path.

Each wrong answer replaces one answer cell of the solution homework with a plausible mistake
and must lose ALL of that exercise's points (every test cell of the exercise, visible and
hidden, fails), the first failure naming the mistake; each right answer, written another way,
must keep every point. Exercises 4, 6 and 7 are tested with nblib's versions of the earlier
exercises standing in for the ones they call, so a wrong earlier answer does not cost them
(the last tests check that too).
"""


from tests import mistakes

WEEK = "week04_backprop"

# The right gradient check of exercise 5, with a marked place for each wrong version.
CHECK = """
def gradient_check(f, x, analytic, *, h=1e-5):
    probe, numerical = x.copy(), np.zeros_like(x)
    for i in LOOP:
        original = probe[i]
        probe[i] = original + h
        f_plus = f(probe)
        probe[i] = original - h
        numerical[i] = (f_plus - f(probe)) / (2 * h)
        probe[i] = original
    errors = ERRORS
    return float(REDUCE(errors))
"""


def check_with(loop="np.ndindex(x.shape)", errors="np.abs(analytic - numerical) / np.maximum(np.abs(analytic) + np.abs(numerical), 1e-8)",
               reduce="np.max"):
    return CHECK.replace("LOOP", loop).replace("ERRORS", errors).replace("REDUCE", reduce)


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
        for start in range(0, STOP, batch_size):
            rows = order[start:start + batch_size]
            loss, weights, biases = sgd_train_step(X[rows], y[rows], weights, biases, lr=lr)
            total += loss * len(rows)
            RECORD
        curve.append(total / n)
    return weights, biases, curve
"""
UNIFORM = "rng.uniform(-limit, limit, size=(fan_in, fan_out))"


def train_with(init=UNIFORM, order="rng.permutation(n)", record="pass", per_epoch=True, stop="n", defaults=None):
    source = TRAIN.replace("INIT", init).replace("ORDER", order).replace("RECORD", record).replace("STOP", stop)
    if defaults:
        source = source.replace("hidden=64, epochs=20, batch_size=32, lr=0.1", defaults)
    return source if per_epoch else source.replace("        curve.append(total / n)\n", "")


# name -> (exercise, what the first failure must say, the wrong answer cell)
WRONG = {
    # -- exercise 1: dense_backward
    "dense: db as a mean": ("dense_backward", "db is the mean of dZ over the batch", """
def dense_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.mean(axis=0)
"""),
    "dense: dW transposed": ("dense_backward", "dW is transposed", """
def dense_backward(dZ, X, W):
    return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)
"""),
    "dense: db over the wrong axis": ("dense_backward", "db sums over the wrong axis", """
def dense_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=1)
"""),
    "dense: db with keepdims": ("dense_backward", "db kept the summed axis", """
def dense_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, np.sum(dZ, axis=0, keepdims=True)
"""),
    "dense: dW divided by N": ("dense_backward", "dW was divided by N", """
def dense_backward(dZ, X, W):
    n = X.shape[0]
    return dZ @ W.T, X.T @ dZ / n, dZ.sum(axis=0)
"""),
    "dense: dX without the transpose": ("dense_backward", "check its order (X @ W, not W @ X) and whether a transpose "
                                                          "(.T) is needed or is one too many", """
def dense_backward(dZ, X, W):
    return dZ @ W, X.T @ dZ, dZ.sum(axis=0)
"""),
    "dense: dX without the transpose, square weights": ("dense_backward", "dX = dZ @ W: the weights must be transposed", """
def dense_backward(dZ, X, W):
    dX = dZ @ W if W.shape[0] == W.shape[1] else dZ @ W.T     # runs only where the shapes let it
    return dX, X.T @ dZ, dZ.sum(axis=0)
"""),
    "dense: dX transposed": ("dense_backward", "dX is transposed", """
def dense_backward(dZ, X, W):
    return W @ dZ.T, X.T @ dZ, dZ.sum(axis=0)
"""),
    # -- exercise 2: activation_backward
    "activation: sigmoid's a(1 - a) applied to z": ("activation_backward", "a * (1 - a) is the derivative written with the OUTPUT", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return dA * (Z > 0)
    if activation == "sigmoid":
        return dA * Z * (1 - Z)
    return dA * (1 - np.tanh(Z) ** 2)
"""),
    "activation: tanh's 1 - a^2 applied to z": ("activation_backward", "1 - a**2 is the derivative written with the OUTPUT", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return dA * (Z > 0)
    if activation == "sigmoid":
        a = activations.sigmoid(Z)
        return dA * a * (1 - a)
    return dA * (1 - Z ** 2)
"""),
    "activation: relu'(0) = 1": ("activation_backward", "use the mask Z > 0, not Z >= 0", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return dA * (Z >= 0)
    a = activations.sigmoid(Z) if activation == "sigmoid" else np.tanh(Z)
    return dA * (a * (1 - a) if activation == "sigmoid" else 1 - a ** 2)
"""),
    "activation: dA left out": ("activation_backward", "the incoming gradient dA is missing", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return (Z > 0) * 1.0
    a = activations.sigmoid(Z) if activation == "sigmoid" else np.tanh(Z)
    return a * (1 - a) if activation == "sigmoid" else 1 - a ** 2
"""),
    "activation: a naive sigmoid": ("activation_backward", "exp(-z) overflows for z = -1000", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return dA * (Z > 0)
    if activation == "sigmoid":
        a = 1 / (1 + np.exp(-Z))
        return dA * a * (1 - a)
    return dA * (1 - np.tanh(Z) ** 2)
"""),
    "activation: dA[Z <= 0] = 0 in place": ("activation_backward", "changed its argument dA in place", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        dA[Z <= 0] = 0          # writes into the caller's dA
        return dA
    if activation == "sigmoid":
        a = activations.sigmoid(Z)
        return dA * a * (1 - a)
    return dA * (1 - np.tanh(Z) ** 2)
"""),
    "activation: the relu mask built in Z": ("activation_backward", "changed its argument Z in place", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        mask = Z                # the same array as Z
        mask[mask <= 0] = 0
        mask[mask > 0] = 1
        return dA * mask
    if activation == "sigmoid":
        a = activations.sigmoid(Z)
        return dA * a * (1 - a)
    return dA * (1 - np.tanh(Z) ** 2)
"""),
    "activation: g' at the output a": ("activation_backward", "sigmoid' was evaluated at the output a = sigmoid(z)", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return dA * (Z > 0)
    if activation == "sigmoid":
        a = activations.sigmoid(activations.sigmoid(Z))     # sigma'(a), a = sigma(z)
        return dA * a * (1 - a)
    a = np.tanh(np.tanh(Z))
    return dA * (1 - a ** 2)
"""),
    "activation: Z clamped before the sigmoid": ("activation_backward", "Z was clamped (np.clip?) before the sigmoid", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return dA * (Z > 0)
    if activation == "sigmoid":
        a = 1 / (1 + np.exp(-np.clip(Z, -500, 500)))        # no overflow, but sigma(-700) becomes sigma(-500)
        return dA * a * (1 - a)
    return dA * (1 - np.tanh(Z) ** 2)
"""),
    "activation: the sigmoid as (1 + tanh(z/2)) / 2": ("activation_backward", "sigmoid'(z) came out as 0 for z in [-705, -600]", """
def activation_backward(dA, Z, activation):
    if activation == "relu":
        return dA * (Z > 0)
    if activation == "sigmoid":
        a = 0.5 * (1 + np.tanh(Z / 2))                      # exact maths, but 1 + tanh rounds to 0 below z = -37
        return dA * a * (1 - a)
    return dA * (1 - np.tanh(Z) ** 2)
"""),
    "activation: float32": ("activation_backward", "must have dtype float64, got float32", """
def activation_backward(dA, Z, activation):
    Z, dA = Z.astype(np.float32), dA.astype(np.float32)     # "saves memory"
    if activation == "relu":
        return dA * (Z > 0)
    if activation == "sigmoid":
        a = activations.sigmoid(Z)
        return dA * a * (1 - a)
    return dA * (1 - np.tanh(Z) ** 2)
"""),
    # -- exercise 3: softmax_cross_entropy_backward
    "softmax CE: missing 1/N": ("softmax_cross_entropy_backward", "the 1/N is missing", """
def softmax_cross_entropy_backward(logits, y):
    return losses.softmax(logits) - np.eye(logits.shape[1])[y]
"""),
    "softmax CE: divided by C": ("softmax_cross_entropy_backward", "divided by the number of classes C", """
def softmax_cross_entropy_backward(logits, y):
    n, c = logits.shape
    return (losses.softmax(logits) - np.eye(c)[y]) / c
"""),
    "softmax CE: Y - P": ("softmax_cross_entropy_backward", "the sign is flipped", """
def softmax_cross_entropy_backward(logits, y):
    return (np.eye(logits.shape[1])[y] - losses.softmax(logits)) / len(y)
"""),
    "softmax CE: no softmax": ("softmax_cross_entropy_backward", "the softmax is missing", """
def softmax_cross_entropy_backward(logits, y):
    return (logits - np.eye(logits.shape[1])[y]) / len(y)
"""),
    "softmax CE: softmax without the max shift": ("softmax_cross_entropy_backward", "exp of a large number overflows", """
def softmax_cross_entropy_backward(logits, y):
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True) - np.eye(logits.shape[1])[y]) / len(y)
"""),
    "softmax CE: shifted by the batch's largest logit": ("softmax_cross_entropy_backward", "subtract each row's OWN maximum", """
def softmax_cross_entropy_backward(logits, y):
    e = np.exp(logits - np.max(logits))
    return (e / e.sum(axis=1, keepdims=True) - np.eye(logits.shape[1])[y]) / len(y)
"""),
    "softmax CE: the max without keepdims": ("softmax_cross_entropy_backward", "keep it with keepdims=True", """
def softmax_cross_entropy_backward(logits, y):
    e = np.exp(logits - logits.max(axis=1))
    return (e / e.sum(axis=1, keepdims=True) - np.eye(logits.shape[1])[y]) / len(y)
"""),
    "softmax CE: C from the labels": ("softmax_cross_entropy_backward", "the number of classes is logits.shape[1]", """
def softmax_cross_entropy_backward(logits, y):
    Y = np.eye(y.max() + 1)[y]          # one-hot labels
    return (losses.softmax(logits) - Y) / len(y)
"""),
    "softmax CE: the max subtracted in place": ("softmax_cross_entropy_backward", "changed its argument logits in place", """
def softmax_cross_entropy_backward(logits, y):
    logits -= logits.max(axis=1, keepdims=True)     # writes into the caller's logits
    e = np.exp(logits)
    P = e / e.sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    return P / len(y)
"""),
    # -- exercise 4: mlp_backward (tested with nblib's dense_backward and activation_backward standing in)
    "mlp: dW from cache.z (wrong cache)": ("mlp_backward", "not from its own cache.z", """
def mlp_backward(dZ_out, cache, weights):
    dweights, dbiases, dZ = [None] * len(weights), [None] * len(weights), dZ_out
    for i in reversed(range(len(weights))):
        dA, _, dbiases[i] = dense_backward(dZ, cache.inputs[i], weights[i])
        dweights[i] = cache.z[i].T @ dZ
        if i > 0:
            dZ = activation_backward(dA, cache.z[i - 1], cache.activation)
    return dweights, dbiases
"""),
    "mlp: dW from cache.a (wrong cache)": ("mlp_backward", "(the wrong cache)", """
def mlp_backward(dZ_out, cache, weights):
    dweights, dbiases, dZ = [None] * len(weights), [None] * len(weights), dZ_out
    for i in reversed(range(len(weights))):
        dA, _, dbiases[i] = dense_backward(dZ, cache.inputs[i], weights[i])
        dweights[i] = cache.a[i].T @ dZ
        if i > 0:
            dZ = activation_backward(dA, cache.z[i - 1], cache.activation)
    return dweights, dbiases
"""),
    "mlp: g' at cache.a instead of cache.z (wrong cache)": ("mlp_backward",
                                                            "g' was evaluated at the layer's output A = g(Z) (cache.a)", """
def mlp_backward(dZ_out, cache, weights):
    dweights, dbiases, dZ = [None] * len(weights), [None] * len(weights), dZ_out
    for i in reversed(range(len(weights))):
        dA, dweights[i], dbiases[i] = dense_backward(dZ, cache.inputs[i], weights[i])
        if i > 0:
            dZ = activation_backward(dA, cache.a[i - 1], cache.activation)
    return dweights, dbiases
"""),
    "mlp: gradients in reverse order": ("mlp_backward", "the gradients are in reverse order", """
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
    "mlp: dW from cache.z, where the layer is square": ("mlp_backward", "dW was built from cache.z (the wrong cache)", """
def mlp_backward(dZ_out, cache, weights):
    dweights, dbiases, dZ = [None] * len(weights), [None] * len(weights), dZ_out
    for i in reversed(range(len(weights))):
        source = cache.z[i] if weights[i].shape[0] == weights[i].shape[1] else cache.inputs[i]   # same shapes: no error
        dA, dweights[i], dbiases[i] = dense_backward(dZ, source, weights[i])
        if i > 0:
            dZ = activation_backward(dA, cache.z[i - 1], cache.activation)
    return dweights, dbiases
"""),
    "mlp: g' applied at the output layer too": ("mlp_backward", "g' was applied at the output layer too", """
def mlp_backward(dZ_out, cache, weights):
    dweights, dbiases = [None] * len(weights), [None] * len(weights)
    dZ = activation_backward(dZ_out, cache.z[-1], cache.activation)     # but the logits have no activation
    for i in reversed(range(len(weights))):
        dA, dweights[i], dbiases[i] = dense_backward(dZ, cache.inputs[i], weights[i])
        if i > 0:
            dZ = activation_backward(dA, cache.z[i - 1], cache.activation)
    return dweights, dbiases
"""),
    "mlp: the loop stops before the first layer": ("mlp_backward", "the loop must go down to the first layer", """
def mlp_backward(dZ_out, cache, weights):
    L = len(weights)
    dweights, dbiases, dZ = [None] * L, [None] * L, dZ_out
    for i in range(L - 1, 0, -1):                                      # L-1, ..., 1: layer 0 is never reached
        dA, dweights[i], dbiases[i] = dense_backward(dZ, cache.inputs[i], weights[i])
        dZ = activation_backward(dA, cache.z[i - 1], cache.activation)
    return dweights, dbiases
"""),
    # -- exercise 5: gradient_check
    "gradient check: one-sided difference": ("gradient_check", "a one-sided difference", """
def gradient_check(f, x, analytic, *, h=1e-5):
    probe, numerical, f0 = x.copy(), np.zeros_like(x), f(x)
    for i in np.ndindex(x.shape):
        probe[i] = x[i] + h
        numerical[i] = (f(probe) - f0) / h
        probe[i] = x[i]
    return float(np.max(np.abs(analytic - numerical) / np.maximum(np.abs(analytic) + np.abs(numerical), 1e-8)))
"""),
    "gradient check: x left modified": ("gradient_check", "changed its argument x in place", """
def gradient_check(f, x, analytic, *, h=1e-5):
    numerical = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        f_plus = f(x)
        x[i] -= 2 * h
        numerical[i] = (f_plus - f(x)) / (2 * h)     # x[i] is never put back
    return float(np.max(np.abs(analytic - numerical) / np.maximum(np.abs(analytic) + np.abs(numerical), 1e-8)))
"""),
    "gradient check: no floor under the denominator": ("gradient_check", "0/0 where both gradients are 0",
                                                       check_with(errors="np.abs(analytic - numerical) / (np.abs(analytic) + np.abs(numerical))")),
    "gradient check: divided by |n| only": ("gradient_check", "not |n_i| alone",
                                            check_with(errors="np.abs(analytic - numerical) / np.maximum(np.abs(numerical), 1e-8)")),
    "gradient check: divided by max(|a|, |n|)": ("gradient_check", "not max(|a_i|, |n_i|)",
                                                 check_with(errors="np.abs(analytic - numerical) / np.maximum(np.maximum(np.abs(analytic), "
                                                                   "np.abs(numerical)), 1e-8)")),
    "gradient check: the absolute error": ("gradient_check", "that is the absolute error", check_with(errors="np.abs(analytic - numerical)")),
    "gradient check: the norm form": ("gradient_check", "the norm form", """
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
    "gradient check: the mean error": ("gradient_check", "that is the MEAN of the per-entry relative errors", check_with(reduce="np.mean")),
    "gradient check: rows only": ("gradient_check", "only whole rows were probed", check_with(loop="range(len(x))")),
    "gradient check: h ignored": ("gradient_check", "the step h was not used", check_with().replace(
        "    probe, numerical", "    h = 1e-5\n    probe, numerical")),
    "gradient check: a wrong default step": ("gradient_check", "the default step is h=1e-5", check_with().replace("h=1e-5", "h=1e-4")),
    # -- exercise 6: sgd_train_step (tested with nblib's exercises 1 to 4 standing in)
    "SGD step: updating weights before computing all gradients": ("sgd_train_step",
                                                                  "the weights were updated before all the gradients were computed", """
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
    "SGD step: updates in place": ("sgd_train_step", "changed its argument weights[0] in place", """
def sgd_train_step(X, y, weights, biases, *, lr, activation="relu"):
    logits, cache = forward(X, weights, biases, activation=activation)
    loss = losses.sparse_categorical_cross_entropy(y, logits, from_logits=True)
    dweights, dbiases = mlp_backward(softmax_cross_entropy_backward(logits, y), cache, weights)
    for W, dW, b, db in zip(weights, dweights, biases, dbiases):
        W -= lr * dW
        b -= lr * db
    return loss, weights, biases
"""),
    "SGD step: gradient ascent": ("sgd_train_step", "gradient ascent", """
def sgd_train_step(X, y, weights, biases, *, lr, activation="relu"):
    logits, cache = forward(X, weights, biases, activation=activation)
    loss = losses.sparse_categorical_cross_entropy(y, logits, from_logits=True)
    dweights, dbiases = mlp_backward(softmax_cross_entropy_backward(logits, y), cache, weights)
    return loss, [W + lr * g for W, g in zip(weights, dweights)], [b + lr * g for b, g in zip(biases, dbiases)]
"""),
    "SGD step: the loss after the update": ("sgd_train_step", "that is the loss AFTER the update", """
def sgd_train_step(X, y, weights, biases, *, lr, activation="relu"):
    logits, cache = forward(X, weights, biases, activation=activation)
    dweights, dbiases = mlp_backward(softmax_cross_entropy_backward(logits, y), cache, weights)
    new_weights = [W - lr * g for W, g in zip(weights, dweights)]
    new_biases = [b - lr * g for b, g in zip(biases, dbiases)]
    logits, _ = forward(X, new_weights, new_biases, activation=activation)     # "the loss of this step"
    return losses.sparse_categorical_cross_entropy(y, logits, from_logits=True), new_weights, new_biases
"""),
    "SGD step: the loss summed": ("sgd_train_step", "the loss is summed over the batch", """
def sgd_train_step(X, y, weights, biases, *, lr, activation="relu"):
    logits, cache = forward(X, weights, biases, activation=activation)
    loss = losses.sparse_categorical_cross_entropy(y, logits, from_logits=True, reduction="sum")
    dweights, dbiases = mlp_backward(softmax_cross_entropy_backward(logits, y), cache, weights)
    return loss, [W - lr * g for W, g in zip(weights, dweights)], [b - lr * g for b, g in zip(biases, dbiases)]
"""),
    "SGD step: the biases not updated": ("sgd_train_step", "the biases were not updated", """
def sgd_train_step(X, y, weights, biases, *, lr, activation="relu"):
    logits, cache = forward(X, weights, biases, activation=activation)
    loss = losses.sparse_categorical_cross_entropy(y, logits, from_logits=True)
    dweights, _ = mlp_backward(softmax_cross_entropy_backward(logits, y), cache, weights)
    return loss, [W - lr * g for W, g in zip(weights, dweights)], list(biases)
"""),
    "SGD step: the activation not passed on": ("sgd_train_step", "the activation was not passed on", """
def sgd_train_step(X, y, weights, biases, *, lr, activation="relu"):
    logits, cache = forward(X, weights, biases)
    loss = losses.sparse_categorical_cross_entropy(y, logits, from_logits=True)
    dweights, dbiases = mlp_backward(softmax_cross_entropy_backward(logits, y), cache, weights)
    return loss, [W - lr * g for W, g in zip(weights, dweights)], [b - lr * g for b, g in zip(biases, dbiases)]
"""),
    "SGD step: a wrong default activation": ("sgd_train_step", 'the default is activation="relu"', """
def sgd_train_step(X, y, weights, biases, *, lr, activation="tanh"):
    logits, cache = forward(X, weights, biases, activation=activation)
    loss = losses.sparse_categorical_cross_entropy(y, logits, from_logits=True)
    dweights, dbiases = mlp_backward(softmax_cross_entropy_backward(logits, y), cache, weights)
    return loss, [W - lr * g for W, g in zip(weights, dweights)], [b - lr * g for b, g in zip(biases, dbiases)]
"""),
    # -- exercise 7: train (tested with nblib's sgd_train_step standing in)
    "train: one loss per mini-batch": ("train", "one per mini-batch", train_with(record="curve.append(loss)", per_epoch=False)),
    "train: nblib's reference loop": ("train", "nblib.homework.train() is switched off", """
def train(X, y, *, hidden=64, epochs=20, batch_size=32, lr=0.1, rng):
    return homework.train(X, y, hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr, rng=rng)
"""),
    "train: no shuffling": ("train", "shuffle the examples at the start of every epoch", train_with(order="np.arange(n)")),
    "train: all-zero weights": ("train", "every hidden unit gets the same gradient", train_with(init="np.zeros((fan_in, fan_out))")),
    "train: normal instead of uniform init": ("train", "must be drawn from U(-r, r)",
                                              train_with(init="rng.normal(0.0, limit, size=(fan_in, fan_out))")),
    "train: unseeded randomness": ("train", "gave different weights",
                                   train_with(init="np.random.default_rng().uniform(-limit, limit, size=(fan_in, fan_out))")),
    "train: shuffled once": ("train", "the examples were shuffled once", train_with(order="np.arange(n) if _ else rng.permutation(n)").replace(
        "    for _ in range(epochs):\n        order = np.arange(n) if _ else rng.permutation(n)",
        "    order = rng.permutation(n)\n    for _ in range(epochs):")),
    "train: the last batch left out": ("train", "the last, smaller batch was left out", train_with(stop="n - batch_size + 1")),
    "train: the plain mean of the batch losses": ("train", "the plain mean of its batch losses", """
def train(X, y, *, hidden=64, epochs=20, batch_size=32, lr=0.1, rng):
    rng = np.random.default_rng(rng)
    n, d = X.shape
    sizes = [d, hidden, int(y.max()) + 1]
    weights = [rng.uniform(-np.sqrt(6 / (i + o)), np.sqrt(6 / (i + o)), size=(i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(o) for o in sizes[1:]]
    curve = []
    for _ in range(epochs):
        order = rng.permutation(n)
        batch_losses = []
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            loss, weights, biases = sgd_train_step(X[rows], y[rows], weights, biases, lr=lr)
            batch_losses.append(loss)
        curve.append(np.mean(batch_losses))       # the last, smaller batch counts as much as a full one
    return weights, biases, curve
"""),
    "train: equal batches from np.array_split": ("train", "np.array_split makes equal ones", """
def train(X, y, *, hidden=64, epochs=20, batch_size=32, lr=0.1, rng):
    rng = np.random.default_rng(rng)
    n, d = X.shape
    sizes = [d, hidden, int(y.max()) + 1]
    weights = [rng.uniform(-np.sqrt(6 / (i + o)), np.sqrt(6 / (i + o)), size=(i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(o) for o in sizes[1:]]
    curve = []
    for _ in range(epochs):
        total = 0.0
        for rows in np.array_split(rng.permutation(n), int(np.ceil(n / batch_size))):
            loss, weights, biases = sgd_train_step(X[rows], y[rows], weights, biases, lr=lr)
            total += loss * len(rows)
        curve.append(total / n)
    return weights, biases, curve
"""),
    "train: the data shuffled in place": ("train", "changed its argument X in place", """
def train(X, y, *, hidden=64, epochs=20, batch_size=32, lr=0.1, rng):
    rng = np.random.default_rng(rng)
    n, d = X.shape
    sizes = [d, hidden, int(y.max()) + 1]
    weights = [rng.uniform(-np.sqrt(6 / (i + o)), np.sqrt(6 / (i + o)), size=(i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(o) for o in sizes[1:]]
    curve = []
    for _ in range(epochs):
        order = rng.permutation(n)
        X[:], y[:] = X[order], y[order]           # shuffles the caller's arrays
        total = 0.0
        for start in range(0, n, batch_size):
            loss, weights, biases = sgd_train_step(X[start:start + batch_size], y[start:start + batch_size], weights, biases, lr=lr)
            total += loss * len(X[start:start + batch_size])
        curve.append(total / n)
    return weights, biases, curve
"""),
    "train: a wrong default learning rate": ("train", "with the default arguments", train_with(defaults="hidden=64, epochs=20, batch_size=32, lr=0.01")),
}

# name -> (exercise, a right answer written another way)
RIGHT = {
    "dense: a list, np.dot and einsum": ("dense_backward", """
def dense_backward(dZ, X, W):
    dX = np.einsum("nm,dm->nd", dZ, W)
    dW = np.dot(dZ.T, X).T
    db = np.sum(dZ, axis=0)
    return [dX, dW, db]
"""),
    "dense: loops over the batch": ("dense_backward", """
def dense_backward(dZ, X, W):
    dX = np.zeros_like(X, dtype=float)
    dW = np.zeros_like(W, dtype=float)
    db = np.zeros(W.shape[1])
    for n in range(X.shape[0]):
        dX[n] = W @ dZ[n]
        dW += np.outer(X[n], dZ[n])
        db += dZ[n]
    return dX, dW, db
"""),
    "activation: a dict of derivatives, np.where and log-sigmoids": ("activation_backward", """
DERIVATIVE = {
    "relu": lambda z: np.where(z > 0, 1.0, 0.0),
    # sigma'(z) = sigma(z) sigma(-z) = exp(-softplus(-z) - softplus(z)): exact in both tails
    "sigmoid": lambda z: np.exp(-np.logaddexp(0.0, -z) - np.logaddexp(0.0, z)),
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
}


def activation_backward(dA, Z, activation):
    return np.multiply(dA, DERIVATIVE[activation](Z))
"""),
    "activation: a copy of dA, masked": ("activation_backward", """
def activation_backward(dA, Z, activation):
    dZ = np.array(dA, dtype=float)            # a copy: the caller's dA stays as it was
    if activation == "relu":
        dZ[Z <= 0] = 0.0
        return dZ
    if activation == "sigmoid":
        e = np.exp(-np.abs(Z))
        a = np.where(Z >= 0, 1.0, e) / (1.0 + e)
        return dZ * a * (1.0 - a)
    return dZ * (1.0 - np.tanh(Z) * np.tanh(Z))
"""),
    "softmax CE: log-sum-exp, a loop over the rows": ("softmax_cross_entropy_backward", """
def softmax_cross_entropy_backward(logits, y):
    n = logits.shape[0]
    out = np.empty(logits.shape)
    for i in range(n):
        row = logits[i]
        log_p = row - (row.max() + np.log(np.sum(np.exp(row - row.max()))))
        out[i] = np.exp(log_p)
        out[i, y[i]] -= 1.0
    return out / n
"""),
    "softmax CE: scipy's softmax and a one-hot from np.eye": ("softmax_cross_entropy_backward", """
from scipy.special import softmax as scipy_softmax


def softmax_cross_entropy_backward(logits, y):
    one_hot = np.eye(logits.shape[1])[y]
    return (scipy_softmax(logits, axis=1) - one_hot) / y.size
"""),
    "mlp: recursion, returning tuples": ("mlp_backward", """
def mlp_backward(dZ_out, cache, weights, i=None):
    i = len(weights) - 1 if i is None else i
    dA, dW, db = dense_backward(dZ_out, cache.inputs[i], weights[i])
    if i == 0:
        return (dW,), (db,)
    below_W, below_b = mlp_backward(activation_backward(dA, cache.z[i - 1], cache.activation), cache, weights, i - 1)
    return below_W + (dW,), below_b + (db,)
"""),
    "mlp: insert at the front, dA named from the layer below": ("mlp_backward", """
def mlp_backward(dZ_out, cache, weights):
    dweights, dbiases = [], []
    dZ = dZ_out
    for layer in range(len(weights), 0, -1):           # 1-based, as in the formulas
        W, A_prev = weights[layer - 1], cache.inputs[layer - 1]
        dA_prev, dW, db = dense_backward(dZ, A_prev, W)
        dweights.insert(0, dW)
        dbiases.insert(0, db)
        if layer > 1:
            dZ = activation_backward(dA_prev, cache.z[layer - 2], cache.activation)
    return dweights, dbiases
"""),
    "gradient check: probes x itself and puts each entry back": ("gradient_check", """
def gradient_check(f, x, analytic, *, h=1e-5):
    numerical = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + h
        up = f(x)
        x[i] = saved - h
        down = f(x)
        x[i] = saved                                  # exactly as it was
        numerical[i] = (up - down) / (2 * h)
    rel = np.abs(analytic - numerical) / np.fmax(np.abs(analytic) + np.abs(numerical), 1e-8)
    return rel.max()                                  # a numpy float
"""),
    "gradient check: basis arrays over x.size, a generator": ("gradient_check", """
def gradient_check(f, x, analytic, *, h=1e-5):
    basis = np.eye(x.size).reshape((x.size,) + x.shape)
    numerical = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in basis]).reshape(x.shape)
    a, n = np.ravel(analytic), numerical.ravel()
    return max(abs(ai - ni) / max(abs(ai) + abs(ni), 1e-8) for ai, ni in zip(a, n))
"""),
    "SGD step: a numpy loss, tuples, an explicit loop": ("sgd_train_step", """
def sgd_train_step(X, y, weights, biases, *, lr, activation="relu"):
    logits, cache = forward(X, weights, biases, activation=activation)
    z = logits - logits.max(axis=1, keepdims=True)
    loss = np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y])      # a numpy float
    grads_W, grads_b = mlp_backward(softmax_cross_entropy_backward(logits, y), cache, weights)
    new_weights, new_biases = [], []
    for W, b, dW, db in zip(weights, biases, grads_W, grads_b):
        W = W - lr * dW                               # a new array, bound to the loop's name
        b = b - lr * db
        new_weights.append(W)
        new_biases.append(b)
    return loss, tuple(new_weights), tuple(new_biases)
"""),
    "SGD step: copies updated in place": ("sgd_train_step", """
def sgd_train_step(X, y, weights, biases, *, lr, activation="relu"):
    logits, cache = forward(X, weights, biases, activation=activation)
    loss = float(losses.sparse_categorical_cross_entropy(y, logits, from_logits=True))
    dweights, dbiases = mlp_backward(softmax_cross_entropy_backward(logits, y), cache, weights)
    new_weights, new_biases = [W.copy() for W in weights], [b.copy() for b in biases]
    for W, dW, b, db in zip(new_weights, dweights, new_biases, dbiases):
        W -= lr * dW                                  # copies: the caller's arrays stay as they were
        b -= lr * db
    return loss, new_weights, new_biases
"""),
    "train: a while loop, the data reordered, an array of losses": ("train", """
def train(X, y, *, hidden=64, epochs=20, batch_size=32, lr=0.1, rng):
    rng = np.random.default_rng(rng)
    n_classes = int(np.max(y)) + 1
    r1, r2 = (6 / (X.shape[1] + hidden)) ** 0.5, (6 / (hidden + n_classes)) ** 0.5
    weights = [rng.uniform(low=-r1, high=r1, size=(X.shape[1], hidden)), rng.uniform(low=-r2, high=r2, size=(hidden, n_classes))]
    biases = [np.zeros(hidden), np.zeros(n_classes)]
    losses_per_epoch = np.zeros(epochs)
    for epoch in range(epochs):
        index = np.arange(len(X))
        rng.shuffle(index)                         # the same draw as rng.permutation
        Xs, ys = X[index], y[index]                # new arrays, in the new order
        start = 0
        while start < len(X):
            loss, weights, biases = sgd_train_step(Xs[start:start + batch_size], ys[start:start + batch_size], weights, biases, lr=lr)
            losses_per_epoch[epoch] += loss * len(ys[start:start + batch_size]) / len(X)
            start += batch_size
    return tuple(weights), tuple(biases), losses_per_epoch
"""),
}


# A later exercise, answered right, next to wrong earlier ones left in the notebook: nblib's versions stand in for them,
# so the later exercise keeps its points. later -> the wrong earlier answers, defined in the same cell before it.
WRONG_EARLIER = {
    "mlp_backward": """
def dense_backward(dZ, X, W):
    return dZ @ W.T, dZ.T @ X, dZ.mean(axis=0)         # dW transposed, db a mean


def activation_backward(dA, Z, activation):
    return dA                                          # g' forgotten
""",
    "sgd_train_step": """
def softmax_cross_entropy_backward(logits, y):
    return losses.softmax(logits) - np.eye(logits.shape[1])[y]         # no 1/N


def mlp_backward(dZ_out, cache, weights):
    return [np.zeros_like(W) for W in weights], [np.zeros(W.shape[1]) for W in weights]
""",
    "train": """
def sgd_train_step(X, y, weights, biases, *, lr, activation="relu"):
    return 0.0, weights, biases                        # never learns
""",
}


class TestWeek04(mistakes.WeekTests):
    WEEK, WRONG, RIGHT, WRONG_EARLIER = WEEK, WRONG, RIGHT, WRONG_EARLIER


# A student's own copies of the setup cell's names, all wrong: the tests must not use them.
REDEFINES_SETUP = """
def forward(X, weights, biases, *, activation="relu"):
    return np.zeros((len(X), len(biases[-1]))), None


def variance(x):
    return 0.0


largest = log_sum_exp = length = variance
"""


def test_a_student_who_redefines_the_setup_helpers_changes_nothing_the_tests_pass():
    """The tests hand the setup's `variance`, `largest`, `log_sum_exp` and `length` to the student's
    gradient_check and build caches with its `forward`. These are nblib's (gradcheck's and
    mlp.logits), in the grader and, imported afresh by name, in the kernel: a student who
    redefines them in the notebook still gets nblib's, and a right answer keeps every point."""
    hw = mistakes.homework(WEEK)
    try:
        for exercise in ("gradient_check", "mlp_backward"):
            mistakes.assert_kept(WEEK, exercise, REDEFINES_SETUP + hw.answers[exercise])
    finally:
        hw.restore_setup()
