"""Week 1's homework tests judge each exercise fairly, through the grader's own path.

Each wrong case replaces one answer cell of the solution homework with a plausible wrong
version and grades that exercise as ``python -m autograder grade`` does: the wrong answer must
lose every point of its exercise (the visible and the hidden test cell both fail), and the
first failure, the one a student sees before submitting, must name the mistake. Each right
case is an unusual but correct answer that must keep every point. Exercise 5 (``converges``)
is graded with nblib's ``train_perceptron`` standing in for the student's, so a wrong
Exercise 4 costs only Exercise 4.
"""


from tests import mistakes

WEEK = "week01_perceptron"

# A right train_perceptron, to build the wrong ones from: each wrong case changes one line.
TRAIN = """
def train_perceptron(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
    b = float(b0)
    errors = []
    for _ in range(epochs):
        mistakes = 0
        for x_i, t_i in zip(X, y):
            delta = t_i - (1 if x_i @ w + b >= 0 else 0)
            if delta != 0:
                w = w + lr * delta * x_i
                b = b + lr * delta
                mistakes += 1
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, b, errors
"""


def train(*changes):
    """TRAIN with each (old, new) replacement made; every old text must be there."""
    source = TRAIN
    for old, new in changes:
        assert old in source, old
        source = source.replace(old, new)
    return source


def sigmoid(body):
    return f"def sigmoid_neuron(X, w, b):\n    z = X @ w + b\n{body}"


STABLE = "    e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n"

LOGIC = {"and": "[1.0, 1.0], -1.5", "or": "[1.0, 1.0], -0.5", "nand": "[-1.0, -1.0], 1.5"}


def logic(**changed):
    table = ", ".join(f"{gate!r}: ({weights})" for gate, weights in {**LOGIC, **changed}.items())
    return f"def logic_weights(gate):\n    w, b = {{{table}}}[gate]\n    return np.array(w), b\n"


def converges(body):
    return f"def converges(X, y, *, max_epochs=100):\n{body}"


WRONG = {  # case: (exercise, what the first failure must say, the wrong answer cell)
    # -- Exercise 1: predict
    "predict: float labels": ("predict", "must hold integers", """
def predict(X, w, b):
    return (X @ w + b >= 0).astype(float)
"""),
    "predict: booleans": ("predict", "must hold integers", """
def predict(X, w, b):
    return X @ w + b >= 0
"""),
    "predict: z > 0": ("predict", "it must give 1 where z >= 0, not only where z > 0", """
def predict(X, w, b):
    return (X @ w + b > 0).astype(int)
"""),
    "predict: no bias": ("predict", "add the bias b", """
def predict(X, w, b):
    return (X @ w >= 0).astype(int)
"""),
    "predict: bias subtracted": ("predict", "do not subtract it", """
def predict(X, w, b):
    return (X @ w - b >= 0).astype(int)
"""),
    "predict: classes swapped": ("predict", "the classes are swapped: 1 where z < 0", """
def predict(X, w, b):
    return (X @ w + b < 0).astype(int)
"""),
    "predict: classes swapped at the boundary too": ("predict", "the classes are swapped: 1 where z <= 0", """
def predict(X, w, b):
    return np.where(X @ w + b > 0, 0, 1)
"""),
    "predict: w @ X": ("predict", "X @ W, not W @ X", """
def predict(X, w, b):
    return (w @ X + b >= 0).astype(int)
"""),
    "predict: an (N, 1) column": ("predict", "a (N, 1) column where (N,) is expected", """
def predict(X, w, b):
    return (X @ w.reshape(-1, 1) + b >= 0).astype(int)
"""),
    # -- Exercise 2: sigmoid_neuron
    "sigmoid: the naive formula": ("sigmoid_neuron", "overflow", sigmoid("    return 1 / (1 + np.exp(-z))\n")),
    "sigmoid: np.where computes both branches": ("sigmoid_neuron", "overflow", sigmoid(
        "    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))\n")),
    "sigmoid: e^z / (1 + e^z) everywhere": ("sigmoid_neuron", "numpy reported", sigmoid(
        "    return np.exp(z) / (1 + np.exp(z))\n")),
    "sigmoid: z clipped at +-500": ("sigmoid_neuron", "z clipped at -500", sigmoid(
        "    z = np.clip(z, -500, 500)\n    return 1 / (1 + np.exp(-z))\n")),
    "sigmoid: z clipped at +-650": ("sigmoid_neuron", "z clipped at -650", sigmoid(
        "    return 1 / (1 + np.exp(-np.clip(z, -650, 650)))\n")),
    "sigmoid: float32": ("sigmoid_neuron", "must have dtype float64", sigmoid(
        "    z = z.astype(np.float32)\n" + STABLE)),
    "sigmoid: no bias": ("sigmoid_neuron", "the bias b was left out", sigmoid("    z = X @ w\n" + STABLE)),
    "sigmoid: sign flipped": ("sigmoid_neuron", "the sign of z is flipped", sigmoid("    z = -z\n" + STABLE)),
    "sigmoid: 1 - 1 / (1 + e^z) for z < 0": ("sigmoid_neuron", "subtracting from 1", sigmoid(
        "    e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), 1 - 1 / (1 + e))\n")),
    "sigmoid: through tanh": ("sigmoid_neuron", "subtracting from 1", sigmoid("    return 0.5 * (1 + np.tanh(z / 2))\n")),
    "sigmoid: np.dot(w, X)": ("sigmoid_neuron", "X @ W, not W @ X", """
def sigmoid_neuron(X, w, b):
    z = np.dot(w, X) + b
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
"""),
    # -- Exercise 3: logic_weights
    "logic: no NAND": ("logic_weights", "KeyError", """
def logic_weights(gate):
    w, b = {"and": ([1.0, 1.0], -1.5), "or": ([1.0, 1.0], -0.5)}[gate]
    return np.array(w), b
"""),
    "logic: AND without a margin": ("logic_weights", "leave a margin", logic(**{"and": "[1.0, 1.0], -2.0"})),
    "logic: OR on its line": ("logic_weights", "leave a margin", logic(**{"or": "[1.0, 1.0], -1.0"})),
    "logic: NAND with AND's weights": ("logic_weights", "your weights compute AND", logic(nand=LOGIC["and"])),
    "logic: NAND with OR's signs flipped": ("logic_weights", "the truth table of your NAND perceptron", logic(
        nand="[-1.0, -1.0], 0.5")),
    "logic: (b, w)": ("logic_weights", "must return (w, b)", """
def logic_weights(gate):
    w, b = {"and": ([1.0, 1.0], -1.5), "or": ([1.0, 1.0], -0.5), "nand": ([-1.0, -1.0], 1.5)}[gate]
    return b, np.array(w)
"""),
    # -- Exercise 4: train_perceptron
    "train: w0 changed in place": ("train_perceptron", "changed its argument w0 in place", train(
        ("np.array(w0, dtype=float)", "w0"), ("w = w + lr * delta * x_i", "w += lr * delta * x_i"))),
    "train: no early stop": ("train_perceptron", "must stop after the first epoch without mistakes", train(
        ("        if mistakes == 0:\n            break\n", ""))),
    "train: the last 0 left out": ("train_perceptron", "the last epoch's 0 left out of errors", train(
        ("        errors.append(mistakes)\n        if mistakes == 0:\n            break\n",
         "        if mistakes == 0:\n            break\n        errors.append(mistakes)\n"))),
    "train: lr not used": ("train_perceptron", "the learning rate left out of the update", train(
        ("w = w + lr * delta * x_i", "w = w + delta * x_i"), ("b = b + lr * delta", "b = b + delta"))),
    "train: w0 not used": ("train_perceptron", "w starting at zeros instead of w0", train(
        ("np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)", "np.zeros(X.shape[1])"))),
    "train: b0 not used": ("train_perceptron", "b starting at 0 instead of b0", train(("b = float(b0)", "b = 0.0"))),
    "train: z > 0": ("train_perceptron", "a step that is 1 only where z > 0", train(
        ("x_i @ w + b >= 0", "x_i @ w + b > 0"))),
    "train: one epoch fewer": ("train_perceptron", "99 epochs instead of epochs=100", train(
        ("for _ in range(epochs):", "for _ in range(1, epochs):"))),
    "train: default lr = 0.1": ("train_perceptron", "a default argument is not the exercise's", train(
        ("lr=1.0, epochs=100", "lr=0.1, epochs=100"))),
    "train: default epochs = 10": ("train_perceptron", "a default argument is not the exercise's", train(
        ("epochs=100", "epochs=10"))),
    "train: default b0 = 1": ("train_perceptron", "a default argument is not the exercise's", train(
        ("b0=0.0", "b0=1.0"))),
    "train: w0 = None not handled": ("train_perceptron", "'NoneType' object has no attribute 'copy'", train(
        ("np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)", "w0.copy()"))),
    # -- Exercise 5: converges
    "converges: max_epochs ignored": ("converges", "should be False with max_epochs=99", converges(
        "    _, _, errors = train_perceptron(X, y)\n    return errors[-1] == 0\n")),
    "converges: fewer epochs than allowed": ("converges", "True with max_epochs=100", converges(
        "    _, _, errors = train_perceptron(X, y, epochs=max_epochs)\n    return len(errors) < max_epochs\n")),
    "converges: one epoch too many": ("converges", "should be False with max_epochs=99", converges(
        "    _, _, errors = train_perceptron(X, y, epochs=max_epochs + 1)\n    return errors[-1] == 0\n")),
    "converges: always True": ("converges", "converges(XOR) should be False", converges("    return True\n")),
    "converges: the count, not a bool": ("converges", "converges must return a bool", converges(
        "    _, _, errors = train_perceptron(X, y, epochs=max_epochs)\n    return errors[-1]\n")),
    "converges: default max_epochs = 10": ("converges", "with its default max_epochs=100", """
def converges(X, y, *, max_epochs=10):
    _, _, errors = train_perceptron(X, y, epochs=max_epochs)
    return bool(errors[-1] == 0)
"""),
    "converges: default max_epochs = 1000": ("converges", "with its default max_epochs=100", """
def converges(X, y, *, max_epochs=1000):
    _, _, errors = train_perceptron(X, y, epochs=max_epochs)
    return bool(errors[-1] == 0)
"""),
    # -- Exercise 6: multi_output_forward
    "forward: no bias": ("multi_output_forward", "the bias b was left out", """
def multi_output_forward(X, W, b):
    return X @ W
"""),
    "forward: transposed": ("multi_output_forward", "your result is the transpose of the expected one", """
def multi_output_forward(X, W, b):
    return (X @ W + b).T
"""),
    "forward: W.T @ X.T": ("multi_output_forward", "your result is the transpose of the expected one", """
def multi_output_forward(X, W, b):
    return W.T @ X.T + b[:, None]
"""),
    "forward: X @ W.T": ("multi_output_forward", "X @ W, not W @ X", """
def multi_output_forward(X, W, b):
    return X @ W.T + b
"""),
    "forward: squeezed": ("multi_output_forward", "check the reshape", """
def multi_output_forward(X, W, b):
    return np.squeeze(X @ W + b)
"""),
}

RIGHT = {  # case: (exercise, an unusual but right answer cell)
    "predict: np.where": ("predict", """
def predict(X, w, b):
    return np.where(X @ w + b >= 0, 1, 0)
"""),
    "predict: a list from a loop": ("predict", """
def predict(X, w, b):
    return [1 if sum(x_j * w_j for x_j, w_j in zip(x, w)) + b >= 0 else 0 for x in X]
"""),
    "predict: heaviside": ("predict", """
def predict(X, w, b):
    return np.heaviside(X @ w + b, 1).astype(np.int8)
"""),
    "sigmoid: logaddexp": ("sigmoid_neuron", sigmoid("    return np.exp(-np.logaddexp(0, -z))\n")),
    "sigmoid: masks and math.exp": ("sigmoid_neuron", """
import math

def sigmoid_neuron(X, w, b):
    p = []
    for z in X @ w + b:
        p.append(1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z)))
    return np.array(p)
"""),
    "sigmoid: scipy's expit": ("sigmoid_neuron", """
from scipy.special import expit

def sigmoid_neuron(X, w, b):
    return expit(X @ w + b)
"""),
    "sigmoid: boolean masks": ("sigmoid_neuron", sigmoid(
        "    p = np.empty_like(z)\n    pos = z >= 0\n    p[pos] = 1 / (1 + np.exp(-z[pos]))\n"
        "    e = np.exp(z[~pos])\n    p[~pos] = e / (1 + e)\n    return p\n")),
    "logic: lists, integers, a list for the pair": ("logic_weights", """
def logic_weights(gate):
    if gate == "and":
        return [2, 2], -3
    if gate == "or":
        return [2, 2], -1
    return [np.array([-2, -2]), np.float64(3)]
"""),
    "logic: big weights": ("logic_weights", logic(**{"and": "[10.0, 10.0], -15.0", "or": "[5.0, 5.0], -2.5"})),
    "train: errors as an array, numpy b, w0 not copied but never written": ("train_perceptron", """
def train_perceptron(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):
    w = np.zeros(X.shape[1]) if w0 is None else w0
    b = np.float64(b0)
    errors = np.zeros(0, dtype=int)
    for _ in range(epochs):
        wrong = 0
        for i in range(len(X)):
            y_hat = int(np.dot(X[i], w) + b >= 0)
            w = w + lr * (y[i] - y_hat) * X[i]
            b = b + lr * (y[i] - y_hat)
            wrong += y_hat != y[i]
        errors = np.append(errors, wrong)
        if wrong == 0:
            return w, b, errors
    return [w, b, errors]
"""),
    "train: a copy, then in place": ("train_perceptron", train(
        ("np.array(w0, dtype=float)", "w0.astype(float).copy()"),
        ("w = w + lr * delta * x_i", "w += lr * delta * x_i"), ("b = b + lr * delta", "b += lr * delta"))),
    "converges: numpy's bool": ("converges", converges(
        "    _, _, errors = train_perceptron(X, y, epochs=max_epochs)\n    return np.asarray(errors)[-1] == 0\n")),
    "converges: its own loop, without train_perceptron": ("converges", """
def converges(X, y, *, max_epochs=100):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(max_epochs):
        mistakes = 0
        for x, t in zip(X, y):
            delta = t - (x @ w + b >= 0)
            if delta:
                w, b, mistakes = w + delta * x, b + delta, mistakes + 1
        if not mistakes:
            return True
    return False
"""),
    "converges: not on the last count": ("converges", converges(
        "    return 0 in train_perceptron(X, y, lr=1.0, epochs=max_epochs, w0=None)[2]\n")),
    "forward: einsum": ("multi_output_forward", """
def multi_output_forward(X, W, b):
    return np.einsum("nd,dm->nm", X, W) + b
"""),
    "forward: loops": ("multi_output_forward", """
def multi_output_forward(X, W, b):
    Z = np.zeros((X.shape[0], W.shape[1]))
    for n in range(X.shape[0]):
        for i in range(W.shape[1]):
            Z[n, i] = b[i] + sum(X[n, j] * W[j, i] for j in range(X.shape[1]))
    return Z
"""),
    "forward: transposed twice": ("multi_output_forward", """
def multi_output_forward(X, W, b):
    return (W.T @ X.T + b[:, None]).T
"""),
}


# Exercise 5 calls exercise 4: a wrong train_perceptron in the kernel costs converges nothing.
WRONG_EARLIER = {
    "converges": "def train_perceptron(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):\n"
                 "    return np.zeros(X.shape[1]), 0.0, [1]   # never converges\n",
}


class TestWeek01(mistakes.WeekTests):
    WEEK, WRONG, RIGHT, WRONG_EARLIER = WEEK, WRONG, RIGHT, WRONG_EARLIER
