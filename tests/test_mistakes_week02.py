"""Week 2's homework tests reject the common wrong answers, each with a hint that names it.

Each case replaces one answer cell of the solution homework with a plausible wrong version
(the whole cell: the functions that are not the point are copied right) and runs that
exercise's tests (visible, then hidden) until one fails; the failure must name the mistake.
``where`` says which test cell must catch it: the visible one when a student should learn
about the mistake before submitting.
"""

import pytest

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
                record="cache.append((Z, A))", returned="A, cache") -> str:
    """An mlp_forward with one line changed."""
    return f"""
HIDDEN = {{"relu": relu, "tanh": np.tanh, "logistic": sigmoid, "identity": lambda z: z}}

def mlp_forward(X, weights, biases, activation="relu"):
    hidden = {hidden}
    A, cache = X, []
    for layer, (W, b) in enumerate(zip(weights, biases), start=1):
        Z = {product}
        A = {output} if layer == len(weights) else hidden(Z)
        {record}
    return {returned}
"""


def xor_network(W2, b2) -> str:
    return f"""
def xor_network():
    W1, b1 = np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([0.0, -1.0])
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

CASES = {  # name: (answer cell, test cell that must reject it, text its message must contain, wrong cell)
    # -- exercise 1: activations
    "naive sigmoid": ("activations", "activations_visible", "compute e = exp(-|z|)", with_wrong(ACTIVATIONS, "sigmoid", """
def sigmoid(z):
    return 1 / (1 + np.exp(-z))
""")),
    "sigmoid: np.where over two naive branches": ("activations", "activations_visible", "np.where computes both of its branches",
                                                  with_wrong(ACTIVATIONS, "sigmoid", """
def sigmoid(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))
""")),
    "sigmoid with the sign flipped": ("activations", "activations_visible", "the sign is flipped", with_wrong(ACTIVATIONS, "sigmoid", """
def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, e / (1 + e), 1 / (1 + e))
""")),
    "relu with np.max": ("activations", "activations_visible", "the elementwise maximum is np.maximum(z, 0)",
                         with_wrong(ACTIVATIONS, "relu", """
def relu(z):
    return np.max(z, 0)
""")),
    "leaky_relu ignores negative_slope": ("activations", "activations_visible", "the negative_slope argument is ignored",
                                          with_wrong(ACTIVATIONS, "leaky_relu", """
def leaky_relu(z, negative_slope=0.01):
    return np.where(z >= 0, z, 0.01 * z)
""")),
    "leaky_relu with Keras's default slope": ("activations", "activations_visible", "the default negative_slope must be 0.01",
                                              with_wrong(ACTIVATIONS, "leaky_relu", """
def leaky_relu(z, negative_slope=0.2):
    return np.where(z >= 0, z, negative_slope * z)
""")),
    "naive elu": ("activations", "activations_visible", "np.where computes both branches for every z",
                  with_wrong(ACTIVATIONS, "elu", """
def elu(z, alpha=1.0):
    return np.where(z > 0, z, alpha * (np.exp(z) - 1))
""")),
    "elu without the -1": ("activations", "activations_visible", "the -1 is missing", with_wrong(ACTIVATIONS, "elu", """
def elu(z, alpha=1.0):
    return np.where(z > 0, z, alpha * np.exp(np.minimum(z, 0)))
""")),
    "elu ignores alpha": ("activations", "activations_visible", "the alpha argument is ignored", with_wrong(ACTIVATIONS, "elu", """
def elu(z, alpha=1.0):
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
""")),
    "naive softplus": ("activations", "activations_visible", "use max(z, 0) + ln(1 + e^-|z|)", with_wrong(ACTIVATIONS, "softplus", """
def softplus(z):
    return np.log(1 + np.exp(z))
""")),
    "softplus without max(z, 0)": ("activations", "activations_visible", "max(z, 0) is missing",
                                   with_wrong(ACTIVATIONS, "softplus", """
def softplus(z):
    return np.log1p(np.exp(-np.abs(z)))
""")),
    # -- exercise 2: derivatives
    "sigmoid derivative applied to z": ("derivatives", "derivatives_visible", "a(1 - a) was applied to z instead of to a = sigmoid(z)",
                                        with_wrong(DERIVATIVES, "sigmoid_derivative", """
def sigmoid_derivative(z):
    return z * (1 - z)
""")),
    "naive sigmoid derivative": ("derivatives", "derivatives_visible", "then a * (1 - a)",
                                 with_wrong(DERIVATIVES, "sigmoid_derivative", """
def sigmoid_derivative(z):
    return np.exp(-z) / (1 + np.exp(-z)) ** 2
""")),
    "tanh derivative applied to z": ("derivatives", "derivatives_visible", "1 - z**2 instead of 1 - tanh(z)**2",
                                     with_wrong(DERIVATIVES, "tanh_derivative", """
def tanh_derivative(z):
    return 1 - z**2
""")),
    "tanh derivative through a naive tanh": ("derivatives", "derivatives_visible", "np.tanh is stable",
                                             with_wrong(DERIVATIVES, "tanh_derivative", """
def tanh_derivative(z):
    t = (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
    return 1 - t**2
""")),
    "relu derivative 1 at 0": ("derivatives", "derivatives_visible", "relu'(0) was returned as 1",
                               with_wrong(DERIVATIVES, "relu_derivative", """
def relu_derivative(z):
    return np.where(z >= 0, 1.0, 0.0)
""")),
    "elu derivative is elu itself below 0": ("derivatives", "derivatives_visible", "not its derivative alpha e^z = elu(z) + alpha",
                                             with_wrong(DERIVATIVES, "elu_derivative", """
def elu_derivative(z, alpha=1.0):
    return np.where(z > 0, 1.0, alpha * np.expm1(np.minimum(z, 0)))
""")),
    "elu derivative ignores alpha": ("derivatives", "derivatives_visible", "the alpha argument is ignored",
                                     with_wrong(DERIVATIVES, "elu_derivative", """
def elu_derivative(z, alpha=1.0):
    return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0)))
""")),
    "naive elu derivative": ("derivatives", "derivatives_visible", "use np.exp(np.minimum(z, 0))",
                             with_wrong(DERIVATIVES, "elu_derivative", """
def elu_derivative(z, alpha=1.0):
    return np.where(z > 0, 1.0, alpha * np.exp(z))
""")),
    "softplus derivative with the sign flipped": ("derivatives", "derivatives_visible", "not sigmoid(-z)",
                                                  with_wrong(DERIVATIVES, "softplus_derivative", """
def softplus_derivative(z):
    return sigmoid(-z)
""")),
    "softplus derivative is softplus": ("derivatives", "derivatives_visible", "this is softplus itself",
                                        with_wrong(DERIVATIVES, "softplus_derivative", """
def softplus_derivative(z):
    return softplus(z)
""")),
    # -- exercise 3: the forward pass
    "transposed weights": ("mlp_forward", "mlp_forward_visible", "the weights are transposed (X @ W.T)",
                           mlp_forward(product="A @ W.T + b")),
    "weights before the inputs": ("mlp_forward", "mlp_forward_visible", "the inner sizes of a matrix product differ",
                                  mlp_forward(product="W @ A + b")),
    "no bias": ("mlp_forward", "mlp_forward_visible", "the bias was left out", mlp_forward(product="A @ W")),
    "every layer fed X": ("mlp_forward", "mlp_forward_visible", "every layer was fed X", mlp_forward(product="X @ W + b")),
    "hidden activation on the output layer too": ("mlp_forward", "mlp_forward_visible",
                                                  "the hidden activation (ReLU) was also applied to the output layer",
                                                  mlp_forward(output="losses.softmax(hidden(Z), axis=1)")),
    "softmax over the examples": ("mlp_forward", "mlp_forward_visible", "the softmax ran over the wrong axis",
                                  mlp_forward(output="losses.softmax(Z, axis=0)")),
    "softmax without keepdims": ("mlp_forward", "mlp_forward_visible", "keepdims=True",
                                 mlp_forward(output="np.exp(Z - Z.max(axis=1, keepdims=True)) / "
                                                    "np.exp(Z - Z.max(axis=1, keepdims=True)).sum(axis=1)")),
    "softmax without the max shift": ("mlp_forward", "mlp_forward_hidden", "subtract each row's largest score",
                                      mlp_forward(output="np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)")),
    "cache of (A, Z)": ("mlp_forward", "mlp_forward_visible", "the cache holds (A, Z)", mlp_forward(record="cache.append((A, Z))")),
    "cache without the output layer": ("mlp_forward", "mlp_forward_visible", "one (Z, A) tuple per layer",
                                       mlp_forward(record="cache.append((Z, A)) if layer < len(weights) else None")),
    "only P returned": ("mlp_forward", "mlp_forward_visible", "must return a pair (P, cache)", mlp_forward(returned="A")),
    "activation argument ignored": ("mlp_forward", "mlp_forward_hidden", "the activation argument is ignored",
                                    mlp_forward(hidden="relu")),
    # -- exercise 4: XOR by hand
    "XOR: W2 as a row": ("xor_network", "xor_network_visible", "the shape is transposed", xor_network("[[10.0, -20.0]]", "[-5.0]")),
    "XOR: b2 a number": ("xor_network", "xor_network_visible", "b2 has the wrong shape: expected (1,), got ()",
                         xor_network("[[10.0], [-20.0]]", "-5.0")),
    "XOR: scores too small": ("xor_network", "xor_network_visible", "make the output scores larger",
                              xor_network("[[1.0], [-2.0]]", "[-0.5]")),
    "XOR: no margin": ("xor_network", "xor_network_hidden", "leave a margin", xor_network("[[6.0], [-12.0]]", "[-3.0]")),
    # -- exercise 5: shapes and counts
    "shapes: transposed weights": ("parameters", "parameters_visible", "the weight shape is transposed", """
def parameter_shapes(layer_sizes):
    return [((d_out, d_in), (d_out,)) for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:])]
""" + RIGHT_COUNT),
    "shapes: (D_out) without the comma": ("parameters", "parameters_visible", "note the comma", """
def parameter_shapes(layer_sizes):
    return [((d_in, d_out), (d_out)) for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:])]
""" + RIGHT_COUNT),
    "count: biases left out": ("parameters", "parameters_visible", "the biases are not counted", RIGHT_SHAPES + """
def count_parameters(layer_sizes):
    return sum(d_in * d_out for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:]))
"""),
    "count: a float": ("parameters", "parameters_visible", "count_parameters must return an int", RIGHT_SHAPES + """
def count_parameters(layer_sizes):
    return float(np.sum([np.prod(w) + np.prod(b) for w, b in parameter_shapes(layer_sizes)]))
"""),
}


@pytest.mark.parametrize("case", CASES)
def test_the_tests_name_the_mistake(case):
    mistakes.assert_named(WEEK, *CASES[case])


def test_the_right_answers_pass_every_test():
    """The harness itself: with this file's right versions, no test of any exercise fails."""
    right = {"activations": "".join(ACTIVATIONS.values()), "derivatives": "".join(DERIVATIVES.values()),
             "mlp_forward": mlp_forward(), "xor_network": xor_network("[[10.0], [-20.0]]", "[-5.0]"),
             "parameters": RIGHT_SHAPES + RIGHT_COUNT}
    for exercise, source in right.items():
        namespace = dict(mistakes.solved(WEEK))
        exec(source, namespace)
        for cell in mistakes.tests_of(WEEK, exercise):
            exec(cell.source, namespace)
