"""nblib.gradcheck against tf.GradientTape and hand-worked derivatives."""

import math

import numpy as np
import pytest

from nblib.gradcheck import (check_gradient, largest, length, log_sum_exp, numerical_derivative, numerical_gradient,
                             relative_error, variance)


def test_hand_worked_gradient():
    # f(x) = x0^2 x1 + sin(x2): df/dx = (2 x0 x1, x0^2, cos x2)
    x = np.array([1.5, -2.0, 0.3])
    f = lambda v: v[0] ** 2 * v[1] + math.sin(v[2])  # noqa: E731
    expected = [2 * 1.5 * -2.0, 1.5**2, math.cos(0.3)]
    np.testing.assert_allclose(numerical_gradient(f, x), expected, rtol=1e-9)


def test_matches_gradient_tape_on_a_matrix_function(rng, tf):
    W = rng.normal(size=(3, 4))
    x = rng.normal(size=4)

    def f_numpy(W_):  # log-sum-exp of W x: a smooth scalar function of a matrix
        z = W_ @ x
        return np.log(np.exp(z).sum())

    W_tf = tf.Variable(W)
    with tf.GradientTape() as tape:
        y = tf.reduce_logsumexp(tf.linalg.matvec(W_tf, tf.constant(x)))
    expected = tape.gradient(y, W_tf).numpy()
    got = numerical_gradient(f_numpy, W)
    assert got.shape == W.shape
    assert relative_error(got, expected) < 1e-8


def test_centred_difference_error_shrinks_like_h_squared():
    # error of (e^(x+h) - e^(x-h)) / 2h is about h^2/6 e^x: ten times smaller h, 100 times smaller error
    x = np.array([0.5])
    errors = [abs(numerical_derivative(np.exp, x, h=h)[0] - math.exp(0.5)) for h in (1e-2, 1e-3)]
    assert 80 < errors[0] / errors[1] < 120


def test_does_not_modify_the_point():
    x = np.array([1.0, 2.0])
    before = x.copy()
    numerical_gradient(lambda v: float(np.sum(v**2)), x)
    np.testing.assert_array_equal(x, before)


def test_relative_error_hand_worked():
    # |1 - 1.1| / (1 + 1.1) = 0.1 / 2.1
    assert relative_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)
    assert relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0


def test_check_gradient_passes_right_and_fails_wrong(rng):
    x = rng.normal(size=(2, 3))
    f = lambda v: float(np.sum(np.tanh(v)))  # noqa: E731
    right = check_gradient(f, x, 1 - np.tanh(x) ** 2)
    wrong = check_gradient(f, x, 1 - np.tanh(x))  # a typical slip: forgot to square
    assert right.ok and right.relative_error < 1e-8
    assert not wrong.ok and wrong.relative_error > 1e-2
    assert "FAILED" in str(wrong) and "passed" in str(right)


def test_float32_is_refused_with_a_reason():
    with pytest.raises(TypeError, match="must be float64 for a gradient check, got float32"):
        numerical_gradient(lambda v: 0.0, np.ones(2, dtype=np.float32))


def test_bad_arguments():
    with pytest.raises(ValueError, match="f must return a scalar, got an array of shape \\(2,\\)"):
        numerical_gradient(lambda v: v, np.ones(2))
    with pytest.raises(ValueError, match="analytic_grad must have the shape of x"):
        check_gradient(lambda v: 0.0, np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="h must be a positive number"):
        numerical_gradient(lambda v: 0.0, np.ones(2), h=0)


@pytest.mark.parametrize("f, gradient", [
    (variance, lambda x: 2 * (x - x.mean()) / x.size),
    (largest, lambda x: (x == x.max()).astype(float)),
    (log_sum_exp, lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum()),
    (length, lambda x: x / np.linalg.norm(x)),
])
def test_the_functions_whose_gradients_we_know_have_the_gradients_their_docstrings_state(f, gradient):
    x = np.random.default_rng(4).normal(size=(3, 4))                   # distinct entries: one largest
    assert isinstance(f(x), float)
    assert check_gradient(f, x, gradient(x)).relative_error < 1e-7


def test_the_functions_whose_gradients_we_know_match_numpy_and_scipy():
    from scipy.special import logsumexp

    x = np.array([[1.0, -2.0], [3.0, 1000.0]])
    assert variance(x) == np.var(x) and largest(x) == 1000.0 and length(x) == np.linalg.norm(x)
    assert log_sum_exp(x) == logsumexp(x)                                 # stable at 1000
