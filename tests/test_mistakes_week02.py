"""Week 2's homework tests judge each exercise fairly, through the grader's own path.

Each wrong case replaces one answer cell of the solution homework with a plausible wrong version
(the whole cell: the functions that are not the point are copied right) and grades that exercise
as ``python -m autograder grade`` does: the wrong answer must lose every point of its exercise
(the visible and the hidden test cell both fail), and the first failure, the one a student sees
before submitting, must name the mistake. Each right case is an unusual but correct answer that
must keep every point. Exercises 2 and 3 are graded with nblib's activations standing in for
exercise 1's, so the cells of one exercise never depend on another's answer.
"""


from tests import mistakes

WEEK = "week02_activations_forward"

# --- exercise 1: the right functions, so that each case can swap in one wrong one -------------------

ACTIVATIONS = {
    "sigmoid": """
def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
""",
    "relu": """
def relu(z):
    return np.maximum(z, 0)
""",
    "leaky_relu": """
def leaky_relu(z, negative_slope=0.01):
    return np.where(z >= 0, z, negative_slope * z)
""",
    "elu": """
def elu(z, alpha=1.0):
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))
""",
    "softplus": """
def softplus(z):
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
""",
}

DERIVATIVES = {
    "sigmoid_derivative": """
def sigmoid_derivative(z):
    a = sigmoid(z)
    return a * (1 - a)
""",
    "tanh_derivative": """
def tanh_derivative(z):
    return 1 - np.tanh(z) ** 2
""",
    "relu_derivative": """
def relu_derivative(z):
    return np.where(z > 0, 1.0, 0.0)
""",
    "elu_derivative": """
def elu_derivative(z, alpha=1.0):
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0)))
""",
    "softplus_derivative": """
def softplus_derivative(z):
    return sigmoid(z)
""",
}


def with_wrong(right: dict, name: str, wrong: str) -> str:
    """The whole answer cell: every function right except ``name``."""
    return "".join(wrong if key == name else source for key, source in right.items())


def mlp_forward(*, product="A @ W + b", output="losses.softmax(Z, axis=1)", hidden="HIDDEN[activation]",
                record="cache.append((Z, A))", returned="A, cache", default='"relu"', before_output="") -> str:
    """An mlp_forward with one line changed. The activations are looked up when it runs, so that
    nblib's stand in for exercise 1's while the grader calls it."""
    return f"""
def mlp_forward(X, weights, biases, activation={default}):
    HIDDEN = {{"relu": relu, "tanh": np.tanh, "logistic": sigmoid, "identity": lambda z: z}}
    hidden = {hidden}
    A, cache = X, []
    for layer, (W, b) in enumerate(zip(weights, biases), start=1):
        Z = {product}
        {before_output or "pass"}
        A = {output} if layer == len(weights) else hidden(Z)
        {record}
    return {returned}
"""


def xor_network(W2, b2, W1="[[1.0, 1.0], [1.0, 1.0]]", b1="[0.0, -1.0]") -> str:
    return f"""
def xor_network():
    W1, b1 = np.array({W1}), np.array({b1})
    return [W1, np.array({W2})], [b1, np.array({b2})]
"""


RIGHT_SHAPES = """
def parameter_shapes(layer_sizes):
    return [((d_in, d_out), (d_out,)) for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:])]
"""
RIGHT_COUNT = """
def count_parameters(layer_sizes):
    return sum(d_in * d_out + d_out for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:]))
"""

IN_PLACE = "changed its argument z in place"

WRONG = {  # name: (exercise, text the first failure must contain, the wrong answer cell)
    # -- exercise 1: activations
    "naive sigmoid": ("activations", "compute e = exp(-|z|)", with_wrong(ACTIVATIONS, "sigmoid", """
def sigmoid(z):
    return 1 / (1 + np.exp(-z))
""")),
    "sigmoid: np.where over two naive branches": ("activations", "np.where computes both of its branches",
                                                  with_wrong(ACTIVATIONS, "sigmoid", """
def sigmoid(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))
""")),
    "sigmoid with the sign flipped": ("activations", "the sign is flipped", with_wrong(ACTIVATIONS, "sigmoid", """
def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, e / (1 + e), 1 / (1 + e))
""")),
    "sigmoid in float32": ("activations", "must have dtype float64, got float32", with_wrong(ACTIVATIONS, "sigmoid", """
def sigmoid(z):
    e = np.exp(-np.abs(z)).astype(np.float32)
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
""")),
    "sigmoid with z clipped": ("activations", "as if z had been clipped", with_wrong(ACTIVATIONS, "sigmoid", """
def sigmoid(z):
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))
""")),
    "sigmoid through tanh loses the tail": ("activations", "sigmoid(z) is 0.0 for these z", with_wrong(ACTIVATIONS, "sigmoid", """
def sigmoid(z):
    return 0.5 * (1 + np.tanh(z / 2))
""")),
    "relu with np.max": ("activations", "the elementwise maximum is np.maximum(z, 0)", with_wrong(ACTIVATIONS, "relu", """
def relu(z):
    return np.max(z, 0)
""")),
    "relu in place": ("activations", IN_PLACE, with_wrong(ACTIVATIONS, "relu", """
def relu(z):
    z[z < 0] = 0
    return z
""")),
    "leaky_relu ignores negative_slope": ("activations", "the negative_slope argument is ignored",
                                          with_wrong(ACTIVATIONS, "leaky_relu", """
def leaky_relu(z, negative_slope=0.01):
    return np.where(z >= 0, z, 0.01 * z)
""")),
    "leaky_relu with Keras's default slope": ("activations", "the default negative_slope must be 0.01",
                                              with_wrong(ACTIVATIONS, "leaky_relu", """
def leaky_relu(z, negative_slope=0.2):
    return np.where(z >= 0, z, negative_slope * z)
""")),
    "leaky_relu with another default slope": ("activations", "the default negative_slope must be 0.01; yours computes "
                                              "leaky_relu(z, negative_slope=0.1)", with_wrong(ACTIVATIONS, "leaky_relu", """
def leaky_relu(z, negative_slope=0.1):
    return np.where(z >= 0, z, negative_slope * z)
""")),
    "leaky_relu in place": ("activations", IN_PLACE, with_wrong(ACTIVATIONS, "leaky_relu", """
def leaky_relu(z, negative_slope=0.01):
    z[z < 0] *= negative_slope
    return z
""")),
    "naive elu": ("activations", "np.where computes both branches for every z", with_wrong(ACTIVATIONS, "elu", """
def elu(z, alpha=1.0):
    return np.where(z > 0, z, alpha * (np.exp(z) - 1))
""")),
    "elu without the -1": ("activations", "the -1 is missing", with_wrong(ACTIVATIONS, "elu", """
def elu(z, alpha=1.0):
    return np.where(z > 0, z, alpha * np.exp(np.minimum(z, 0)))
""")),
    "elu ignores alpha": ("activations", "the alpha argument is ignored", with_wrong(ACTIVATIONS, "elu", """
def elu(z, alpha=1.0):
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
""")),
    "elu with default alpha 0.5": ("activations", "the default alpha must be 1.0; yours computes elu(z, alpha=0.5)",
                                   with_wrong(ACTIVATIONS, "elu", """
def elu(z, alpha=0.5):
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))
""")),
    "elu in place": ("activations", IN_PLACE, with_wrong(ACTIVATIONS, "elu", """
def elu(z, alpha=1.0):
    negative = z <= 0
    z[negative] = alpha * np.expm1(z[negative])
    return z
""")),
    "naive softplus": ("activations", "use max(z, 0) + ln(1 + e^-|z|)", with_wrong(ACTIVATIONS, "softplus", """
def softplus(z):
    return np.log(1 + np.exp(z))
""")),
    "softplus without max(z, 0)": ("activations", "max(z, 0) is missing", with_wrong(ACTIVATIONS, "softplus", """
def softplus(z):
    return np.log1p(np.exp(-np.abs(z)))
""")),
    "softplus with np.log(1 + x) loses the tail": ("activations", "softplus(z) is 0.0 for these z",
                                                   with_wrong(ACTIVATIONS, "softplus", """
def softplus(z):
    return np.maximum(z, 0) + np.log(1 + np.exp(-np.abs(z)))
""")),
    # -- exercise 2: derivatives
    "sigmoid derivative applied to z": ("derivatives", "a(1 - a) was applied to z instead of to a = sigmoid(z)",
                                        with_wrong(DERIVATIVES, "sigmoid_derivative", """
def sigmoid_derivative(z):
    return z * (1 - z)
""")),
    "naive sigmoid derivative": ("derivatives", "then a * (1 - a)", with_wrong(DERIVATIVES, "sigmoid_derivative", """
def sigmoid_derivative(z):
    return np.exp(-z) / (1 + np.exp(-z)) ** 2
""")),
    "sigmoid derivative through tanh loses the tail": ("derivatives", "sigmoid_derivative(z) is 0.0 for these z",
                                                       with_wrong(DERIVATIVES, "sigmoid_derivative", """
def sigmoid_derivative(z):
    return 0.25 * (1 - np.tanh(z / 2) ** 2)
""")),
    "tanh derivative applied to z": ("derivatives", "1 - z**2 instead of 1 - tanh(z)**2",
                                     with_wrong(DERIVATIVES, "tanh_derivative", """
def tanh_derivative(z):
    return 1 - z**2
""")),
    "tanh derivative through a naive tanh": ("derivatives", "np.tanh is stable", with_wrong(DERIVATIVES, "tanh_derivative", """
def tanh_derivative(z):
    t = (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
    return 1 - t**2
""")),
    "tanh derivative in place": ("derivatives", IN_PLACE, with_wrong(DERIVATIVES, "tanh_derivative", """
def tanh_derivative(z):
    np.tanh(z, out=z)
    return 1 - z**2
""")),
    "relu derivative 1 at 0": ("derivatives", "relu'(0) was returned as 1", with_wrong(DERIVATIVES, "relu_derivative", """
def relu_derivative(z):
    return np.where(z >= 0, 1.0, 0.0)
""")),
    "relu derivative as integers": ("derivatives", "relu_derivative(z) must return floats",
                                    with_wrong(DERIVATIVES, "relu_derivative", """
def relu_derivative(z):
    return (z > 0).astype(int)
""")),
    "relu derivative in place": ("derivatives", IN_PLACE, with_wrong(DERIVATIVES, "relu_derivative", """
def relu_derivative(z):
    z[z > 0] = 1.0
    z[z <= 0] = 0.0
    return z
""")),
    "elu derivative is elu itself below 0": ("derivatives", "not its derivative alpha e^z = elu(z) + alpha",
                                             with_wrong(DERIVATIVES, "elu_derivative", """
def elu_derivative(z, alpha=1.0):
    return np.where(z > 0, 1.0, alpha * np.expm1(np.minimum(z, 0)))
""")),
    "elu derivative ignores alpha": ("derivatives", "the alpha argument is ignored", with_wrong(DERIVATIVES, "elu_derivative", """
def elu_derivative(z, alpha=1.0):
    return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0)))
""")),
    "elu derivative with default alpha 2": ("derivatives", "the default alpha must be 1.0; yours computes "
                                            "elu_derivative(z, alpha=2)", with_wrong(DERIVATIVES, "elu_derivative", """
def elu_derivative(z, alpha=2.0):
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0)))
""")),
    "naive elu derivative": ("derivatives", "use np.exp(np.minimum(z, 0))", with_wrong(DERIVATIVES, "elu_derivative", """
def elu_derivative(z, alpha=1.0):
    return np.where(z > 0, 1.0, alpha * np.exp(z))
""")),
    "softplus derivative with the sign flipped": ("derivatives", "not sigmoid(-z)",
                                                  with_wrong(DERIVATIVES, "softplus_derivative", """
def softplus_derivative(z):
    return sigmoid(-z)
""")),
    "softplus derivative is softplus": ("derivatives", "this is softplus itself", with_wrong(DERIVATIVES, "softplus_derivative", """
def softplus_derivative(z):
    return softplus(z)
""")),
    "softplus derivative in float32": ("derivatives", "must have dtype float64, got float32",
                                       with_wrong(DERIVATIVES, "softplus_derivative", """
def softplus_derivative(z):
    return sigmoid(z).astype(np.float32)
""")),
    # -- exercise 3: the forward pass
    "transposed weights": ("mlp_forward", "the weights are transposed (X @ W.T)", mlp_forward(product="A @ W.T + b")),
    "weights before the inputs": ("mlp_forward", "the inner sizes of a matrix product differ", mlp_forward(product="W @ A + b")),
    "no bias": ("mlp_forward", "the bias was left out", mlp_forward(product="A @ W")),
    "every layer fed X": ("mlp_forward", "every layer was fed X", mlp_forward(product="X @ W + b")),
    "hidden activation on the output layer too": ("mlp_forward", "the hidden activation (ReLU) was also applied to the output layer",
                                                  mlp_forward(output="losses.softmax(hidden(Z), axis=1)")),
    "softmax over the examples": ("mlp_forward", "the softmax ran over the wrong axis", mlp_forward(output="losses.softmax(Z, axis=0)")),
    "softmax without keepdims": ("mlp_forward", "keepdims=True",
                                 mlp_forward(output="np.exp(Z - Z.max(axis=1, keepdims=True)) / "
                                                    "np.exp(Z - Z.max(axis=1, keepdims=True)).sum(axis=1)")),
    "softmax without the max shift": ("mlp_forward", "subtract each row's largest score",
                                      mlp_forward(output="np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)")),
    "softmax shifts the cached Z in place": ("mlp_forward", "the cached Z_2 is shifted by its row maximum",
                                             mlp_forward(before_output="if layer == len(weights): Z -= Z.max(axis=1, keepdims=True)")),
    "ReLU applied to Z in place": ("mlp_forward", "the activation was applied to Z in place",
                                   mlp_forward(hidden="(lambda Z: np.maximum(Z, 0, out=Z)) if activation == 'relu' "
                                                      "else HIDDEN[activation]")),
    "cache of (A, Z)": ("mlp_forward", "the cache holds (A, Z)", mlp_forward(record="cache.append((A, Z))")),
    "cache without the output layer": ("mlp_forward", "one (Z, A) tuple per layer",
                                       mlp_forward(record="cache.append((Z, A)) if layer < len(weights) else None")),
    "each layer from nblib's layers.dense_forward": ("mlp_forward", "asks you to write this yourself",
                                                     mlp_forward(product="layers.dense_forward(A, W, b)[0]")),
    "only P returned": ("mlp_forward", "must return a pair (P, cache)", mlp_forward(returned="A")),
    "activation argument ignored": ("mlp_forward", "the activation argument is ignored", mlp_forward(hidden="relu")),
    "default activation tanh": ("mlp_forward", "the default activation must be \"relu\"; yours uses 'tanh'",
                                mlp_forward(default='"tanh"')),
    # -- exercise 4: XOR by hand
    "XOR: W2 as a row": ("xor_network", "W2 is a row", xor_network("[[10.0, -20.0]]", "[-5.0]")),
    "XOR: b2 a number": ("xor_network", "b2 has the wrong shape: expected (1,), got ()", xor_network("[[10.0], [-20.0]]", "-5.0")),
    "XOR: scores too small": ("xor_network", "make the output scores larger", xor_network("[[1.0], [-2.0]]", "[-0.5]")),
    "XOR: no margin": ("xor_network", "leave a margin", xor_network("[[6.0], [-12.0]]", "[-3.0]")),
    "XOR: output signs the other way round": ("xor_network", "the network computes NOT XOR",
                                              xor_network("[[-10.0], [20.0]]", "[5.0]")),
    # -- exercise 5: shapes and counts
    "shapes: transposed weights": ("parameters", "the weight shape is transposed", """
def parameter_shapes(layer_sizes):
    return [((d_out, d_in), (d_out,)) for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:])]
""" + RIGHT_COUNT),
    "shapes: (D_out) without the comma": ("parameters", "note the comma", """
def parameter_shapes(layer_sizes):
    return [((d_in, d_out), (d_out)) for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:])]
""" + RIGHT_COUNT),
    "shapes: D_in biases": ("parameters", "a layer has one bias per unit it computes", """
def parameter_shapes(layer_sizes):
    return [((d_in, d_out), (d_in,)) for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:])]
""" + RIGHT_COUNT),
    "count: biases left out": ("parameters", "the biases are not counted", RIGHT_SHAPES + """
def count_parameters(layer_sizes):
    return sum(d_in * d_out for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:]))
"""),
    "count: a bias for every size, inputs too": ("parameters", "one bias per entry of layer_sizes was counted", RIGHT_SHAPES + """
def count_parameters(layer_sizes):
    return sum(d_in * d_out for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:])) + sum(layer_sizes)
"""),
    "count: a float": ("parameters", "count_parameters must return an int", RIGHT_SHAPES + """
def count_parameters(layer_sizes):
    return float(np.sum([np.prod(w) + np.prod(b) for w, b in parameter_shapes(layer_sizes)]))
"""),
}

RIGHT = {  # name: (exercise, a right answer written unusually)
    "activations: loops, logaddexp, max of two lines, (z + |z|) / 2, exp - 1": ("activations", """
import math

def sigmoid(z):
    values = [1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v)) for v in np.ravel(z)]
    return np.array(values).reshape(np.shape(z))

def relu(z):
    return (z + np.abs(z)) / 2

def leaky_relu(z, negative_slope=0.01):
    return np.maximum(z, negative_slope * z)

def elu(z, alpha=1.0):
    return np.where(z > 0, z, alpha * (np.exp(np.minimum(z, 0)) - 1))

def softplus(z):
    return np.logaddexp(0.0, z)
"""),
    "activations: expit-style exp(-logaddexp), z * (z > 0), a threshold for softplus": ("activations", """
def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))

def relu(z):
    return z * (z > 0)

def leaky_relu(z, negative_slope=0.01):
    out = np.array(z, dtype=float)          # a copy: the caller's z is left alone
    out[out < 0] *= negative_slope
    return out

def elu(z, alpha=1.0):
    out = np.copy(z)
    negative = out <= 0
    out[negative] = alpha * np.expm1(out[negative])
    return out

def softplus(z):
    return np.where(z > 30, z, np.log1p(np.exp(np.minimum(z, 30))))
"""),
    "derivatives: sigmoid(z) sigmoid(-z), (1 - a)(1 + a), heaviside, elu(z) + alpha": ("derivatives", """
def sigmoid_derivative(z):
    return sigmoid(z) * sigmoid(-z)

def tanh_derivative(z):
    a = np.tanh(z)
    return (1 - a) * (1 + a)

def relu_derivative(z):
    return np.heaviside(z, 0.0)

def elu_derivative(z, alpha=1.0):
    return np.where(z > 0, 1.0, elu(z, alpha) + alpha)

def softplus_derivative(z):
    return np.exp(-np.logaddexp(0.0, -z))
"""),
    "derivatives: in place on its own arrays, a loop": ("derivatives", """
import math

def sigmoid_derivative(z):
    a = sigmoid(z)
    a *= 1 - a                  # a is a new array: changing it is fine
    return a

def tanh_derivative(z):
    return np.array([1 - math.tanh(v) ** 2 for v in np.ravel(z)]).reshape(np.shape(z))

def relu_derivative(z):
    return (z > 0) * 1.0

def elu_derivative(z, alpha=1.0):
    out = np.ones_like(z, dtype=float)
    negative = z <= 0
    out[negative] = alpha * np.exp(z[negative])
    return out

def softplus_derivative(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
"""),
    "mlp_forward: its own softmax on a shifted copy, activations from nblib, a while loop": ("mlp_forward", """
def mlp_forward(X, weights, biases, activation="relu"):
    g = {"relu": activations.relu, "tanh": activations.tanh, "logistic": activations.sigmoid,
         "identity": activations.linear}[activation]
    cache, A, l = [], X, 0
    while l < len(weights):
        Z = A @ weights[l] + biases[l][None, :]
        if l == len(weights) - 1:
            shifted = Z - Z.max(axis=1, keepdims=True)
            A = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        else:
            A = g(Z)
        cache.append((Z, A))
        l += 1
    return A, cache
"""),
    "mlp_forward: a tuple cache, in-place ops on its own arrays only": ("mlp_forward", """
def mlp_forward(X, weights, biases, activation="relu"):
    cache = []
    A = X
    for i, (W, b) in enumerate(zip(weights, biases)):
        Z = np.dot(A, W)
        Z += b                  # Z is a new array: adding in place is fine
        if i + 1 < len(weights):
            A = {"relu": relu, "tanh": np.tanh, "logistic": sigmoid, "identity": np.copy}[activation](Z)
        else:
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
            E /= E.sum(axis=1, keepdims=True)
            A = E
        cache.append([Z, A])
    return (A, tuple(cache))
"""),
    "XOR: another construction, as plain lists": ("xor_network", """
def xor_network():
    # h1 = relu(x1 - x2), h2 = relu(x2 - x1): one of them is 1 exactly when x1 != x2
    return [[[1, -1], [-1, 1]], [[10], [10]]], [[0, 0], [-5]]
"""),
    "XOR: larger scores, integer arrays, a tuple": ("xor_network", """
def xor_network():
    return (np.array([[1, 1], [1, 1]]), np.array([[40], [-80]])), (np.array([0, -1]), np.array([-20]))
"""),
    "shapes as lists, count with numpy integers": ("parameters", """
def parameter_shapes(layer_sizes):
    sizes = np.array(layer_sizes)
    return [[[sizes[l], sizes[l + 1]], [sizes[l + 1]]] for l in range(len(sizes) - 1)]

def count_parameters(layer_sizes):
    sizes = np.array(layer_sizes)
    return np.sum(sizes[:-1] * sizes[1:] + sizes[1:])
"""),
    "count with a loop over the shapes": ("parameters", """
def parameter_shapes(layer_sizes):
    shapes = []
    for i in range(1, len(layer_sizes)):
        shapes.append(((layer_sizes[i - 1], layer_sizes[i]), (layer_sizes[i],)))
    return shapes

def count_parameters(layer_sizes):
    total = 0
    for w, b in parameter_shapes(layer_sizes):
        total += w[0] * w[1] + b[0]
    return total
"""),
}


# Exercises 2 and 3 call exercise 1's activations: wrong ones in the kernel cost them nothing.
WRONG_ACTIVATIONS = """
def sigmoid(z):
    return 1 / (1 + np.exp(z))          # the sign is flipped


def relu(z):
    return np.max(z, 0)                 # the largest entry, not the elementwise maximum
"""
WRONG_EARLIER = {"derivatives": WRONG_ACTIVATIONS, "mlp_forward": WRONG_ACTIVATIONS}


class TestWeek02(mistakes.WeekTests):
    WEEK, WRONG, RIGHT, WRONG_EARLIER = WEEK, WRONG, RIGHT, WRONG_EARLIER
