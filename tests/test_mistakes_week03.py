"""Week 3's homework grades each exercise fairly, through the grader's own path.

Each wrong case replaces one answer cell of the solution homework with a mistake students
make, and the grader runs every test cell of that exercise (visible and hidden) on it: every
one must fail, so the mistake loses the whole exercise, and the first failure must name the
mistake. Each right case is an unusual but correct answer, which must keep every point.
Exercises that call an earlier one (5 may call ``categorical_cross_entropy``, 7 calls
``softmax``) are tested with nblib's version standing in, so a wrong earlier function does not
cost them: the last tests show it.
"""


from tests import mistakes

WEEK = "week03_softmax_cross_entropy"

EPS = "EPSILON = 1e-7\n"   # the binary cross-entropy cell defines it; a case of exercise 3 replaces that cell
LOG_SOFTMAX = ("        shifted = P - P.max(axis=1, keepdims=True)\n"
               "        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n")
CLIPPED_LOG = "        log_p = np.log(np.clip(P, EPSILON, 1 - EPSILON))\n"


def bce(logits: str = "np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))",
        probabilities: str = "-(y * np.log(q) + (1 - y) * np.log(1 - q))",
        clip: str = "q = np.clip(p, EPSILON, 1 - EPSILON)",
        mean: str = "float(np.mean(per_example))", default: str = "False", first: str = "") -> str:
    """A binary cross-entropy cell, right except for the parts given."""
    return EPS + f"""
def binary_cross_entropy(y, p, from_logits={default}):
    y = np.asarray(y, dtype=float){first}
    if from_logits:
        z = p
        per_example = {logits}
    else:
        {clip}
        per_example = {probabilities}
    return {mean}
"""


def cce(logits: str = LOG_SOFTMAX, probabilities: str = CLIPPED_LOG,
        loss: str = "float(np.mean(-(Y * log_p).sum(axis=1)))", default: str = "False") -> str:
    """A categorical cross-entropy cell, right except for the parts given."""
    return f"""
def categorical_cross_entropy(Y, P, from_logits={default}):
    if from_logits:
{logits}    else:
{probabilities}    return {loss}
"""


def sparse(logits: str = LOG_SOFTMAX, probabilities: str = CLIPPED_LOG,
           loss: str = "float(-log_p[np.arange(len(y)), y].mean())", default: str = "False", first: str = "") -> str:
    """A sparse categorical cross-entropy cell, right except for the parts given."""
    return f"""
def sparse_categorical_cross_entropy(y, P, from_logits={default}):{first}
    if from_logits:
{logits}    else:
{probabilities}    return {loss}
"""


def gradient(body: str) -> str:
    return f"""
def softmax_cross_entropy_gradient(Z, y):
{body}"""


SOFTMAX_WITHOUT_SHIFT = "        e = np.exp(P)\n        log_p = np.log(e / e.sum(axis=1, keepdims=True))\n"
LOG_OF_SOFTMAX = ("        e = np.exp(P - P.max(axis=1, keepdims=True))\n"
                  "        log_p = np.log(np.clip(e / e.sum(axis=1, keepdims=True), EPSILON, 1 - EPSILON))\n")

# name: (exercise, what the first failure must say, the wrong answer cell)
WRONG = {
    # -- exercise 1: softmax
    "softmax without the max shift": ("softmax", "softmax without the max shift", """
def softmax(Z):
    e = np.exp(Z)
    return e / e.sum(axis=1, keepdims=True)
"""),
    "softmax shifted by the row mean": ("softmax", "softmax without the max shift", """
def softmax(Z):
    e = np.exp(Z - Z.mean(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
"""),
    "softmax shifted by one maximum for the whole batch": ("softmax", "one maximum for the whole batch", """
def softmax(Z):
    e = np.exp(Z - Z.max())
    return e / e.sum(axis=1, keepdims=True)
"""),
    "softmax over the wrong axis": ("softmax", "the sum runs over the wrong axis", """
def softmax(Z):
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
"""),
    "softmax normalised over the whole batch": ("softmax", "the sum runs over every entry of the batch", """
def softmax(Z):
    e = np.exp(Z - np.max(Z))           # the formula for one example, applied to the whole batch
    return e / np.sum(e)
"""),
    "softmax without keepdims": ("softmax", "keep it with keepdims=True", """
def softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)
"""),
    "softmax without keepdims, right on every batch that is not square": ("softmax", "keepdims is missing", """
def softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    if Z.shape[0] != Z.shape[1]:
        return e / e.sum(axis=1, keepdims=True)
    return e / e.sum(axis=1)            # (N, N) / (N,) broadcasts, silently wrong
"""),
    "softmax that shifts Z in place": ("softmax", "changed its argument Z in place", """
def softmax(Z):
    Z -= Z.max(axis=1, keepdims=True)   # Z is the caller's array
    e = np.exp(Z)
    return e / e.sum(axis=1, keepdims=True)
"""),
    "softmax in float32": ("softmax", "must have dtype float64, got float32", """
def softmax(Z):
    e = np.exp((Z - Z.max(axis=1, keepdims=True)).astype(np.float32))
    return e / e.sum(axis=1, keepdims=True)
"""),
    "softmax with clipped probabilities": ("softmax", "the probabilities were clipped to at least 1e-7", """
def softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return np.clip(e / e.sum(axis=1, keepdims=True), 1e-7, 1.0)
"""),
    # -- exercise 2: two-class logits
    "two-class logits in swapped columns": ("two_class_logits", "the columns are swapped", """
def two_class_logits(z):
    return np.stack([z, np.zeros_like(z)], axis=1)
"""),
    "two-class logits -z and z": ("two_class_logits", "the logits are -z and z", """
def two_class_logits(z):
    return np.stack([-z, z], axis=1)
"""),
    "two-class logits with 1 - z": ("two_class_logits", "column 0 holds 1 - z", """
def two_class_logits(z):
    return np.stack([1 - z, z], axis=1)
"""),
    "two-class probabilities instead of logits": ("two_class_logits", "these are the probabilities", """
def two_class_logits(z):
    p = 1 / (1 + np.exp(-np.clip(z, -500, 500)))
    return np.stack([1 - p, p], axis=1)
"""),
    "two-class logits stacked as rows": ("two_class_logits", "stacked as rows", """
def two_class_logits(z):
    return np.stack([np.zeros_like(z), z])
"""),
    # -- exercise 3: binary cross-entropy
    "BCE: log of zero": ("binary_cross_entropy", "log(0) is -inf", bce(clip="q = p")),
    "BCE: clipped at the bottom only": ("binary_cross_entropy", "log(0) is -inf", bce(clip="q = np.maximum(p, EPSILON)")),
    "BCE: clipped with eps = 1e-15": ("binary_cross_entropy", "clipped with eps = 1e-15", bce(clip="q = np.clip(p, 1e-15, 1 - 1e-15)")),
    "BCE: sum instead of mean": ("binary_cross_entropy", "the 1/N is missing", bce(mean="float(np.sum(per_example))")),
    "BCE: no mean at all": ("binary_cross_entropy", "the mean over the batch is missing", bce(mean="per_example")),
    "BCE: the minus sign forgotten": ("binary_cross_entropy", "the minus sign is missing",
                                      bce(probabilities="y * np.log(q) + (1 - y) * np.log(1 - q)")),
    "BCE: y and 1 - y swapped": ("binary_cross_entropy", "y and 1 - y are swapped",
                                 bce(probabilities="-((1 - y) * np.log(q) + y * np.log(1 - q))")),
    "BCE: from_logits=True by default": ("binary_cross_entropy", "the probabilities were used as logits", bce(default="True")),
    "BCE: p clipped in place": ("binary_cross_entropy", "changed its argument p in place",
                                bce(clip="q = np.clip(p, EPSILON, 1 - EPSILON, out=p)")),
    "BCE from logits through a naive sigmoid": ("binary_cross_entropy", "exp of a large number overflows",
                                                bce(logits="-(y * np.log(1 / (1 + np.exp(-z))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-z))))")),
    "BCE from logits through a stable sigmoid and the clip": (
        "binary_cross_entropy", "this is the clipped loss of sigmoid(z)",
        bce(logits="-(y * np.log(np.clip(np.exp(-np.logaddexp(0, -z)), EPSILON, 1 - EPSILON))"
                   " + (1 - y) * np.log(np.clip(np.exp(-np.logaddexp(0, z)), EPSILON, 1 - EPSILON)))")),
    "BCE from logits without log(1 + e^-|z|)": ("binary_cross_entropy", "the log(1 + exp(-|z|)) term is missing",
                                               bce(logits="np.maximum(z, 0) - z * y")),
    "BCE with from_logits ignored": ("binary_cross_entropy", "from_logits=True was ignored",
                                     bce(logits="-(y * np.log(np.clip(z, EPSILON, 1 - EPSILON)) + (1 - y) * np.log(1 - np.clip(z, EPSILON, 1 - EPSILON)))")),
    # -- exercise 4: categorical cross-entropy
    "CCE: np.mean over every entry": ("categorical_cross_entropy", "np.mean over the whole (N, C) array",
                                      cce(loss="float(np.mean(-Y * log_p))")),
    "CCE: sum over the wrong axis": ("categorical_cross_entropy", "the sum runs over the examples (axis=0)",
                                     cce(loss="float(np.mean(-(Y * log_p).sum(axis=0)))")),
    "CCE: missing 1/N": ("categorical_cross_entropy", "the 1/N is missing", cce(loss="float(-(Y * log_p).sum())")),
    "CCE: the minus sign forgotten": ("categorical_cross_entropy", "the minus sign is missing",
                                      cce(loss="float(np.mean((Y * log_p).sum(axis=1)))")),
    "CCE: log of zero": ("categorical_cross_entropy", "clip the probabilities into [eps, 1 - eps]",
                         cce(probabilities="        log_p = np.log(P)\n")),
    "CCE: clipped with eps = 1e-15": ("categorical_cross_entropy", "clipped with eps = 1e-15",
                                      cce(probabilities="        log_p = np.log(np.clip(P, 1e-15, 1 - 1e-15))\n")),
    "CCE from logits through a softmax without the max shift": ("categorical_cross_entropy", "the log-sum-exp trick",
                                                               cce(logits=SOFTMAX_WITHOUT_SHIFT)),
    "CCE from logits as the clipped log of the softmax": ("categorical_cross_entropy", "log(softmax(z)) loses the tail",
                                                         cce(logits=LOG_OF_SOFTMAX)),
    "CCE from logits shifting P in place": ("categorical_cross_entropy", "changed its argument Z in place", cce(logits=(
        "        P -= P.max(axis=1, keepdims=True)\n"
        "        log_p = P - np.log(np.exp(P).sum(axis=1, keepdims=True))\n"))),
    "CCE: from_logits=True by default": ("categorical_cross_entropy", "the probabilities were used as logits", cce(default="True")),
    # -- exercise 5: sparse categorical cross-entropy
    "sparse CCE: labels as floats": ("sparse_categorical_cross_entropy", "convert them with y.astype(int)",
                                     sparse(first="\n    y = np.asarray(y, dtype=float)   # as for the other losses' targets")),
    "sparse CCE: P[:, y]": ("sparse_categorical_cross_entropy", "P[:, y] picks whole columns",
                            sparse(loss="float(-log_p[:, y].mean())")),
    "sparse CCE: sum instead of mean": ("sparse_categorical_cross_entropy", "the 1/N is missing",
                                        sparse(loss="float(-log_p[np.arange(len(y)), y].sum())")),
    "sparse CCE: divided by C": ("sparse_categorical_cross_entropy", "divided by C",
                                 sparse(loss="float(-log_p[np.arange(len(y)), y].sum() / P.shape[1])")),
    "sparse CCE: log of zero": ("sparse_categorical_cross_entropy", "clip the probabilities into [eps, 1 - eps]",
                                sparse(probabilities="        log_p = np.log(P)\n")),
    "sparse CCE from logits as the clipped log of the softmax": ("sparse_categorical_cross_entropy",
                                                                "log(softmax(z)) loses the tail", sparse(logits=LOG_OF_SOFTMAX)),
    "sparse CCE: clipping P in place": ("sparse_categorical_cross_entropy", "changed its argument P in place", sparse(
        probabilities="        log_p = np.log(np.clip(P, EPSILON, 1 - EPSILON, out=P))\n")),
    "sparse CCE: from_logits=True by default": ("sparse_categorical_cross_entropy", "the probabilities were used as logits",
                                                sparse(default="True")),
    "sparse CCE from logits through nblib's layers.softmax_cross_entropy": (
        "sparse_categorical_cross_entropy", "asks you to write this yourself",
        sparse(loss="layers.softmax_cross_entropy(P, y)[0] if from_logits else float(-log_p[np.arange(len(y)), y].mean())")),
    # -- exercise 6: mean squared error
    "MSE: sum instead of mean": ("mean_squared_error", "the 1/N is missing", """
def mean_squared_error(y, y_hat):
    return float(np.sum((y - y_hat) ** 2))
"""),
    "MSE: the RMSE": ("mean_squared_error", "the RMSE", """
def mean_squared_error(y, y_hat):
    return float(np.sqrt(np.mean((y - y_hat) ** 2)))
"""),
    "MSE: the mean absolute error": ("mean_squared_error", "the mean absolute error", """
def mean_squared_error(y, y_hat):
    return float(np.mean(np.abs(y - y_hat)))
"""),
    "MSE: errors not squared": ("mean_squared_error", "the errors are not squared", """
def mean_squared_error(y, y_hat):
    return float(np.mean(y_hat - y))
"""),
    "MSE: the textbook's 1/2": ("mean_squared_error", "the factor 1/2", """
def mean_squared_error(y, y_hat):
    return float(0.5 * np.mean((y - y_hat) ** 2))
"""),
    "MSE: mean over the outputs only": ("mean_squared_error", "the mean runs over the K outputs only", """
def mean_squared_error(y, y_hat):
    return np.mean((y - y_hat) ** 2, axis=-1)
"""),
    "MSE: summed over the outputs, averaged over the examples": ("mean_squared_error", "summed over the K outputs", """
def mean_squared_error(y, y_hat):
    squared = (y - y_hat) ** 2
    return float(np.mean(squared.sum(axis=1))) if squared.ndim == 2 else float(np.mean(squared))
"""),
    "MSE: the difference written into y_hat": ("mean_squared_error", "changed its argument y_hat in place", """
def mean_squared_error(y, y_hat):
    d = y_hat
    d -= y                              # d is y_hat: this writes into the caller's array
    return float(np.mean(d ** 2))
"""),
    "MSE: no return": ("mean_squared_error", "forget to `return`", """
def mean_squared_error(y, y_hat):
    loss = float(np.mean((y - y_hat) ** 2))
"""),
    # -- exercise 7: the gradient
    "gradient: missing 1/N": ("softmax_cross_entropy_gradient", "the 1/N is missing", gradient("""
    return softmax(Z) - np.eye(Z.shape[1])[y]
""")),
    "gradient: y - p": ("softmax_cross_entropy_gradient", "the sign is flipped", gradient("""
    return (np.eye(Z.shape[1])[y] - softmax(Z)) / len(y)
""")),
    "gradient: Z - Y": ("softmax_cross_entropy_gradient", "the softmax is missing", gradient("""
    return (Z - np.eye(Z.shape[1])[y]) / len(y)
""")),
    "gradient: divided by C": ("softmax_cross_entropy_gradient", "divided by C", gradient("""
    return (softmax(Z) - np.eye(Z.shape[1])[y]) / Z.shape[1]
""")),
    "gradient: P[:, y] -= 1": ("softmax_cross_entropy_gradient", "P[:, y] -= 1 subtracts 1 from whole columns", gradient("""
    dZ = softmax(Z)
    dZ[:, y] -= 1.0
    return dZ / len(y)
""")),
    "gradient: one-hot from float labels": ("softmax_cross_entropy_gradient", "y.astype(int)", gradient("""
    Y = np.eye(Z.shape[1])[y.astype(float)]
    return (softmax(Z) - Y) / len(y)
""")),
    "gradient: Z shifted in place": ("softmax_cross_entropy_gradient", "changed its argument Z in place", gradient("""
    Z -= Z.max(axis=1, keepdims=True)   # "for stability": but Z is the caller's array
    e = np.exp(Z)
    return (e / e.sum(axis=1, keepdims=True) - np.eye(Z.shape[1])[y]) / len(y)
""")),
    "gradient: its own softmax without the max shift": ("softmax_cross_entropy_gradient", "exp of a large number overflows", gradient("""
    e = np.exp(Z)
    return (e / e.sum(axis=1, keepdims=True) - np.eye(Z.shape[1])[y]) / len(y)
""")),
}

# name: (exercise, a right answer written another way)
RIGHT = {
    "softmax row by row": ("softmax", """
def softmax(Z):
    rows = []
    for z in Z:
        e = np.exp(z - z.max())
        rows.append(e / e.sum())
    return np.array(rows)
"""),
    "softmax as exp(z - logsumexp(z))": ("softmax", """
def softmax(Z):
    m = Z.max(axis=1)[:, None]
    return np.exp(Z - m - np.log(np.exp(Z - m).sum(axis=1))[:, None])
"""),
    "softmax through scipy's logsumexp": ("softmax", """
from scipy.special import logsumexp

def softmax(Z):
    return np.exp(Z - logsumexp(Z, axis=1, keepdims=True))
"""),
    "two-class logits -z/2 and z/2, as a list": ("two_class_logits", """
def two_class_logits(z):
    return [[-v / 2, v / 2] for v in z]
"""),
    "two-class logits filled into zeros": ("two_class_logits", """
def two_class_logits(z):
    Z2 = np.zeros((len(z), 2))
    Z2[:, 1] = z
    return Z2
"""),
    "BCE with np.logaddexp and np.where, a numpy float": ("binary_cross_entropy", EPS + """
def binary_cross_entropy(y, p, from_logits=False):
    if from_logits:
        return np.mean(np.where(y == 1, np.logaddexp(0, -p), np.logaddexp(0, p)))
    q = np.clip(p, EPSILON, 1 - EPSILON)
    return np.mean(np.where(y == 1, -np.log(q), -np.log1p(-q)))
"""),
    "BCE in plain Python": ("binary_cross_entropy", EPS + """
import math

def binary_cross_entropy(y, p, from_logits=False):
    total = 0.0
    for target, value in zip(y.tolist(), p.tolist()):
        if from_logits:
            total += max(value, 0.0) - value * target + math.log1p(math.exp(-abs(value)))
        else:
            q = min(max(value, EPSILON), 1 - EPSILON)
            total += -(target * math.log(q) + (1 - target) * math.log(1 - q))
    return total / len(y)
"""),
    "CCE picking the true class with argmax": ("categorical_cross_entropy", """
def categorical_cross_entropy(Y, P, from_logits=False):
    rows, true = np.arange(len(Y)), Y.argmax(axis=1)
    if from_logits:
        m = P.max(axis=1)
        return float(np.mean(m + np.log(np.exp(P - m[:, None]).sum(axis=1)) - P[rows, true]))
    return float(-np.log(np.clip(P[rows, true], EPSILON, 1 - EPSILON)).mean())
"""),
    "CCE with einsum": ("categorical_cross_entropy", """
def categorical_cross_entropy(Y, P, from_logits=False):
    if from_logits:
        shifted = P - P.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    else:
        log_p = np.log(np.clip(P, EPSILON, 1 - EPSILON))
    return -np.einsum("nc,nc->", Y, log_p) / Y.shape[0]
"""),
    "sparse CCE through categorical_cross_entropy": ("sparse_categorical_cross_entropy", """
def sparse_categorical_cross_entropy(y, P, from_logits=False):
    return categorical_cross_entropy(np.eye(P.shape[1])[y], P, from_logits)
"""),
    "sparse CCE with take_along_axis": ("sparse_categorical_cross_entropy", """
def sparse_categorical_cross_entropy(y, P, from_logits=False):
    if from_logits:
        m = P.max(axis=1, keepdims=True)
        log_p = P - m - np.log(np.exp(P - m).sum(axis=1, keepdims=True))
    else:
        log_p = np.log(np.clip(P, EPSILON, 1 - EPSILON))
    return -np.take_along_axis(log_p, y[:, None], axis=1).mean()
"""),
    "MSE as a sum over the size, a numpy float": ("mean_squared_error", """
def mean_squared_error(y, y_hat):
    return np.square(y_hat - y).sum() / y.size
"""),
    "MSE in plain Python": ("mean_squared_error", """
def mean_squared_error(y, y_hat):
    pairs = list(zip(np.ravel(y).tolist(), np.ravel(y_hat).tolist()))
    return sum((a - b) ** 2 for a, b in pairs) / len(pairs)
"""),
    "gradient with a one-hot matrix": ("softmax_cross_entropy_gradient", gradient("""
    Y = np.zeros_like(Z)
    Y[np.arange(len(y)), y] = 1
    return (softmax(Z) - Y) / Z.shape[0]
""")),
    "gradient with a boolean one-hot": ("softmax_cross_entropy_gradient", gradient("""
    return (softmax(Z) - (np.arange(Z.shape[1]) == y[:, None])) / len(y)
""")),
    "gradient from its own log-softmax, example by example": ("softmax_cross_entropy_gradient", gradient("""
    dZ = np.empty_like(Z)
    for n, (z, label) in enumerate(zip(Z, y)):
        log_p = z - z.max() - np.log(np.exp(z - z.max()).sum())
        dZ[n] = np.exp(log_p)
        dZ[n, label] -= 1
    return dZ / len(y)
""")),
}

# A wrong earlier exercise, defined by the later exercise's cell (so that it stays in the kernel), and
# the later exercise's right answer that calls it: the stand-in keeps the later exercise's points.
WRONG_EARLIER = {
    "softmax_cross_entropy_gradient": """
def softmax(Z):                         # exercise 1 done wrong: no max shift, columns
    e = np.exp(Z)
    return e / e.sum(axis=0, keepdims=True)

""" + gradient("""
    return (softmax(Z) - np.eye(Z.shape[1])[y]) / len(y)
"""),
    "sparse_categorical_cross_entropy": """
def categorical_cross_entropy(Y, P, from_logits=False):   # exercise 4 done wrong: log(0), the sum
    return float(-(Y * np.log(P)).sum())

""" + """
def sparse_categorical_cross_entropy(y, P, from_logits=False):
    return categorical_cross_entropy(np.eye(P.shape[1])[y], P, from_logits)
""",
}


class TestWeek03(mistakes.WeekTests):
    WEEK, WRONG, RIGHT, WRONG_EARLIER = WEEK, WRONG, RIGHT, WRONG_EARLIER
