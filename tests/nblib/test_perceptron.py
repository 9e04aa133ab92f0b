"""nblib.perceptron against the lecture's worked example, a hand-traced training run,
sklearn.linear_model.Perceptron and LogisticRegression."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Perceptron

from nblib import data, perceptron


def sklearn_perceptron(X, y, *, lr, epochs, w0, b0):
    """scikit-learn's perceptron with the settings that make it Rosenblatt's rule."""
    model = Perceptron(eta0=lr, shuffle=False, penalty=None, tol=None, max_iter=epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, coef_init=w0.reshape(1, -1).copy(), intercept_init=[b0])  # sklearn updates coef_init in place


def test_lecture_worked_example():
    # w0 = 1, W = (5, -3), X = (-3, 2): z = 1 + 5(-3) - 3(2) = 1 - 15 - 6 = -20,
    # sigmoid(-20) = 1 / (1 + e^20) = 2.06e-9, and the step says class 0.
    X, w, b = np.array([[-3.0, 2.0]]), np.array([5.0, -3.0]), 1.0
    assert perceptron.net_input(X, w, b)[0] == -20.0
    assert perceptron.sigmoid_neuron(X, w, b)[0] == pytest.approx(2.06e-9, rel=1e-3)
    assert perceptron.predict(X, w, b)[0] == 0


def test_points_on_the_boundary_line_are_class_one():
    # 1 + 5 x1 - 3 x2 = 0  <=>  x2 = (1 + 5 x1) / 3: z = 0 there, and step(0) = 1
    x1 = np.array([-2.0, 0.0, 4.0])
    X = np.column_stack([x1, (1 + 5 * x1) / 3])
    np.testing.assert_allclose(perceptron.net_input(X, [5.0, -3.0], 1.0), 0.0, atol=1e-12)
    np.testing.assert_array_equal(perceptron.predict(X + [0.0, 1e-9], [5.0, -3.0], 1.0), [0, 0, 0])
    np.testing.assert_array_equal(perceptron.step(np.array([-1e-12, 0.0, 2.0])), [0, 1, 1])


def test_training_on_and_from_zero_matches_a_hand_trace():
    # Rows (0,0), (0,1), (1,0), (1,1), targets 0, 0, 0, 1, lr = 1, w = (0, 0), b = 0.
    # Epoch 1: (0,0) z=0 -> 1, wrong: b=-1. (1,1) z=-1 -> 0, wrong: w=(1,1), b=0.      2 mistakes
    # Epoch 2: (0,0) z=0 wrong: b=-1. (0,1) z=0 wrong: w=(1,0), b=-2. (1,1) z=-1 wrong:
    #          w=(2,1), b=-1.                                                            3 mistakes
    # Epoch 3: (0,1) z=0 wrong: w=(2,0), b=-2. (1,0) z=0 wrong: w=(1,0), b=-3. (1,1) z=-2
    #          wrong: w=(2,1), b=-2.                                                     3 mistakes
    # Epoch 4: (1,0) z=0 wrong: w=(1,1), b=-3. (1,1) z=-1 wrong: w=(2,2), b=-2.          2 mistakes
    # Epoch 5: (0,1) z=0 wrong: w=(2,1), b=-3; (1,1) z=0 -> 1 right.                     1 mistake
    # Epoch 6: z = -3, -2, -1, 0 -> 0, 0, 0, 1: all right.                               0: done
    X, y = data.logic_gate("and")
    fit = perceptron.train(X, y, lr=1.0, epochs=20)
    np.testing.assert_array_equal(fit.errors, [2, 3, 3, 2, 1, 0])
    np.testing.assert_array_equal(fit.w, [2.0, 1.0])
    assert fit.b == -3.0 and fit.converged
    np.testing.assert_array_equal(fit.predict(X), y)
    assert fit.weights.shape == (7, 2) and fit.biases.shape == (7,)
    np.testing.assert_array_equal(fit.weights[1], [1.0, 1.0])  # after epoch 1


@pytest.mark.parametrize("seed", range(6))
def test_same_updates_as_sklearn_perceptron(seed):
    rng = np.random.default_rng(seed)
    X, y = data.linearly_separable(50, seed=seed) if seed % 2 else data.moons(60, seed=seed)
    w0, b0, lr = rng.normal(size=2), float(rng.normal()), float(rng.uniform(0.05, 2.0))
    fit = perceptron.train(X, y, lr=lr, epochs=8, w0=w0, b0=b0)
    model = sklearn_perceptron(X, y, lr=lr, epochs=8, w0=w0, b0=b0)
    np.testing.assert_allclose(fit.w, model.coef_[0], rtol=1e-12, atol=1e-12)
    assert fit.b == pytest.approx(model.intercept_[0], rel=1e-12, abs=1e-12)
    np.testing.assert_array_equal(fit.predict(X), model.predict(X))


def test_higher_dimensional_inputs_match_sklearn():
    split = data.breast_cancer()
    rng = np.random.default_rng(3)
    w0 = rng.normal(scale=0.1, size=30)
    fit = perceptron.train(split.X_train, split.y_train, lr=0.5, epochs=5, w0=w0, b0=0.1)
    model = sklearn_perceptron(split.X_train, split.y_train, lr=0.5, epochs=5, w0=w0, b0=0.1)
    np.testing.assert_allclose(fit.w, model.coef_[0], rtol=1e-10, atol=1e-10)


def test_xor_never_converges_and_separable_data_does():
    X, y = data.logic_gate("xor")
    fit = perceptron.train(X, y, epochs=200)
    assert not fit.converged and fit.errors.min() > 0 and len(fit.errors) == 200
    assert not perceptron.converges(X, y)
    for gate in ("and", "or", "nand"):
        assert perceptron.converges(*data.logic_gate(gate))
    assert perceptron.converges(*data.linearly_separable(200, seed=7), max_epochs=1000)


def test_input_weights_are_not_modified():
    X, y = data.logic_gate("or")
    w0 = np.array([0.3, -0.2])
    perceptron.train(X, y, w0=w0)
    np.testing.assert_array_equal(w0, [0.3, -0.2])


def test_sigmoid_neuron_is_logistic_regression():
    split = data.breast_cancer()
    model = LogisticRegression(max_iter=2000).fit(split.X_train, split.y_train)
    got = perceptron.sigmoid_neuron(split.X_test, model.coef_[0], model.intercept_[0])
    np.testing.assert_allclose(got, model.predict_proba(split.X_test)[:, 1], rtol=1e-12)


def test_multi_output_forward_is_sklearn_decision_function():
    split = data.iris()
    model = Perceptron(random_state=0).fit(split.X_train, split.y_train)  # one-vs-rest, 3 neurons
    Z = perceptron.multi_output_forward(split.X_test, model.coef_.T, model.intercept_)
    np.testing.assert_allclose(Z, model.decision_function(split.X_test), rtol=1e-12)
    # and z_i = w_0i + sum_j x_j w_ji, written out for one entry
    n, i = 4, 2
    assert Z[n, i] == pytest.approx(model.intercept_[i] + sum(split.X_test[n, j] * model.coef_[i, j] for j in range(4)))


# --- bad input --------------------------------------------------------------------------------

def test_bad_shapes_and_labels_are_named():
    X, y = data.logic_gate("and")
    with pytest.raises(ValueError, match=r"X must have shape \(N, D\), got shape \(2,\)"):
        perceptron.predict(np.array([1.0, 2.0]), np.ones(2), 0.0)
    with pytest.raises(ValueError, match=r"w must have shape \(2,\), got shape \(3,\)"):
        perceptron.predict(X, np.ones(3), 0.0)
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 1\], got values from 0 to 2"):
        perceptron.train(X, np.array([0, 1, 2, 1]))
    with pytest.raises(TypeError, match="y must hold integer class labels, got dtype float64"):
        perceptron.train(X, y.astype(float))
    with pytest.raises(ValueError, match="lr must be a positive number, got -1"):
        perceptron.train(X, y, lr=-1)
    with pytest.raises(ValueError, match="epochs must be >= 1, got 0"):
        perceptron.train(X, y, epochs=0)
    with pytest.raises(TypeError, match="b must be a real number, got str"):
        perceptron.predict(X, np.ones(2), "0")
    with pytest.raises(ValueError, match=r"W must have shape \(D, M\) = \(2, M\)"):
        perceptron.multi_output_forward(X, np.ones((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"b must have shape \(4,\), got shape \(2,\)"):
        perceptron.multi_output_forward(X, np.ones((2, 4)), np.zeros(2))
    with pytest.raises(TypeError, match="X must contain real numbers"):
        perceptron.net_input([["a", "b"]], np.ones(2), 0.0)
