"""Fixtures shared by the tests of nblib.layers.

``rng``, ``tf`` and ``keras`` come from tests/conftest.py; the gradient-check helpers and the
TensorFlow twins are in :mod:`tests.nblib.layers.gradients`.
"""

import pytest


@pytest.fixture
def dense_problem(rng):
    """dout (N, M), x (N, D), W (D, M), b (M,) for a dense layer, float64."""
    N, D, M = 6, 5, 4
    return rng.normal(size=(N, M)), rng.normal(size=(N, D)), rng.normal(size=(D, M)), rng.normal(size=M)


@pytest.fixture
def classification(rng):
    """X (8, 5) and labels y (8,) in 0..2, every class present."""
    X = rng.normal(size=(8, 5))
    y = rng.integers(0, 3, size=8)
    y[:3] = [0, 1, 2]
    return X, y
