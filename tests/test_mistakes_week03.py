"""Week 3's homework tests reject the common wrong answers, each with a hint that names it.

Each case replaces one answer cell of the solution homework with a plausible wrong version
and runs that exercise's tests (visible, then hidden) until one fails; the failure must name
the mistake. ``where`` says which test cell must catch it: the visible one when a student
should learn about the mistake before submitting.
"""

import pytest

from tests import mistakes

WEEK = "week03_softmax_cross_entropy"

RIGHT_BCE_PREAMBLE = "EPSILON = 1e-7\n"
LOG_SOFTMAX = ("        shifted = P - P.max(axis=1, keepdims=True)\n"
               "        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n")

CASES = {
    # -- softmax
    "softmax without the max shift": ("softmax", "softmax_visible", "softmax without the max shift", """
def softmax(Z):
    e = np.exp(Z)
    return e / e.sum(axis=1, keepdims=True)
"""),
    "softmax over the wrong axis": ("softmax", "softmax_visible", "the sum runs over the wrong axis", """
def softmax(Z):
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
"""),
    "softmax without keepdims": ("softmax", "softmax_visible", "keep it with keepdims=True", """
def softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)
"""),
    "softmax without keepdims on a square batch": ("softmax", "softmax_hidden", "keepdims is missing", """
def softmax(Z):
    if Z.shape[0] != Z.shape[1]:   # right on the visible examples, wrong where (N, C) / (N,) broadcasts
        e = np.exp(Z - Z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)
"""),
    # -- two classes
    "two-class logits in swapped columns": ("two_class_logits", "two_class_visible", "the columns are swapped", """
def two_class_logits(z):
    return np.stack([z, np.zeros_like(z)], axis=1)
"""),
    # -- binary cross-entropy
    "BCE: log of zero": ("binary_cross_entropy", "bce_visible", "log(0) is -inf", RIGHT_BCE_PREAMBLE + """
def binary_cross_entropy(y, p, from_logits=False):
    if from_logits:
        return float(np.mean(np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))))
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
"""),
    "BCE: sum instead of mean": ("binary_cross_entropy", "bce_visible", "the 1/N is missing", RIGHT_BCE_PREAMBLE + """
def binary_cross_entropy(y, p, from_logits=False):
    if from_logits:
        return float(np.sum(np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))))
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return float(np.sum(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
"""),
    "BCE from logits through a naive sigmoid": ("binary_cross_entropy", "bce_visible", "exp of a large number overflows",
                                                RIGHT_BCE_PREAMBLE + """
def binary_cross_entropy(y, p, from_logits=False):
    if from_logits:
        p = 1 / (1 + np.exp(-p))
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
"""),
    # -- categorical cross-entropy
    "CCE: np.mean over every entry": ("categorical_cross_entropy", "cce_visible", "np.mean over the whole (N, C) array", """
def categorical_cross_entropy(Y, P, from_logits=False):
    if from_logits:
""" + LOG_SOFTMAX + """    else:
        log_p = np.log(np.clip(P, EPSILON, 1 - EPSILON))
    return float(np.mean(-Y * log_p))
"""),
    "CCE: sum over the wrong axis": ("categorical_cross_entropy", "cce_visible", "the sum runs over the examples (axis=0)", """
def categorical_cross_entropy(Y, P, from_logits=False):
    if from_logits:
""" + LOG_SOFTMAX + """    else:
        log_p = np.log(np.clip(P, EPSILON, 1 - EPSILON))
    return float(np.mean(-(Y * log_p).sum(axis=0)))
"""),
    "CCE: missing 1/N": ("categorical_cross_entropy", "cce_visible", "the 1/N is missing", """
def categorical_cross_entropy(Y, P, from_logits=False):
    if from_logits:
""" + LOG_SOFTMAX + """    else:
        log_p = np.log(np.clip(P, EPSILON, 1 - EPSILON))
    return float(-(Y * log_p).sum())
"""),
    "CCE: log of zero": ("categorical_cross_entropy", "cce_visible", "clip the probabilities into [eps, 1 - eps]", """
def categorical_cross_entropy(Y, P, from_logits=False):
    if from_logits:
""" + LOG_SOFTMAX + """    else:
        log_p = np.log(P)
    return float(np.mean(-(Y * log_p).sum(axis=1)))
"""),
    "CCE from logits through a softmax without the max shift": (
        "categorical_cross_entropy", "cce_visible", "exp of a large number overflows", """
def categorical_cross_entropy(Y, P, from_logits=False):
    if from_logits:
        P = np.exp(P) / np.exp(P).sum(axis=1, keepdims=True)
    log_p = np.log(np.clip(P, EPSILON, 1 - EPSILON))
    return float(np.mean(-(Y * log_p).sum(axis=1)))
"""),
    # -- sparse categorical cross-entropy
    "sparse CCE: labels as floats": ("sparse_categorical_cross_entropy", "sparse_visible", "convert them with y.astype(int)", """
def sparse_categorical_cross_entropy(y, P, from_logits=False):
    y = np.asarray(y, dtype=float)          # as for the other losses' targets
    if from_logits:
""" + LOG_SOFTMAX + """    else:
        log_p = np.log(np.clip(P, EPSILON, 1 - EPSILON))
    return float(-log_p[np.arange(len(y)), y].mean())
"""),
    "sparse CCE: P[:, y]": ("sparse_categorical_cross_entropy", "sparse_visible", "P[:, y] picks whole columns", """
def sparse_categorical_cross_entropy(y, P, from_logits=False):
    if from_logits:
""" + LOG_SOFTMAX + """    else:
        log_p = np.log(np.clip(P, EPSILON, 1 - EPSILON))
    return float(-log_p[:, y].mean())
"""),
    # -- mean squared error
    "MSE: sum instead of mean": ("mean_squared_error", "mse_visible", "the 1/N is missing", """
def mean_squared_error(y, y_hat):
    return float(np.sum((y - y_hat) ** 2))
"""),
    "MSE: the RMSE": ("mean_squared_error", "mse_visible", "the RMSE", """
def mean_squared_error(y, y_hat):
    return float(np.sqrt(np.mean((y - y_hat) ** 2)))
"""),
    # -- the gradient
    "gradient: missing 1/N": ("softmax_cross_entropy_gradient", "gradient_visible", "the 1/N is missing", """
def softmax_cross_entropy_gradient(Z, y):
    return softmax(Z) - np.eye(Z.shape[1])[y]
"""),
    "gradient: y - p": ("softmax_cross_entropy_gradient", "gradient_visible", "the sign is flipped", """
def softmax_cross_entropy_gradient(Z, y):
    return (np.eye(Z.shape[1])[y] - softmax(Z)) / len(y)
"""),
    "gradient: Z - Y": ("softmax_cross_entropy_gradient", "gradient_visible", "the softmax is missing", """
def softmax_cross_entropy_gradient(Z, y):
    return (Z - np.eye(Z.shape[1])[y]) / len(y)
"""),
    "gradient: one-hot from float labels": ("softmax_cross_entropy_gradient", "gradient_visible", "y.astype(int)", """
def softmax_cross_entropy_gradient(Z, y):
    Y = np.eye(Z.shape[1])[y.astype(float)]
    return (softmax(Z) - Y) / len(y)
"""),
}


@pytest.mark.parametrize("case", CASES)
def test_the_tests_name_the_mistake(case):
    mistakes.assert_named(WEEK, *CASES[case])


def test_the_right_answers_pass_every_test():
    mistakes.assert_solution_passes(WEEK, CASES)
