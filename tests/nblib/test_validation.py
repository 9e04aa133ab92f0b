"""nblib._validation: every input check returns clean arrays and names what it expected and what
came in. The public functions rely on these messages, so each is pinned here once."""

import numpy as np
import pytest

from nblib import _validation as V


def test_as_float_array_keeps_float_precision_and_makes_integers_float64():
    assert V.as_float_array(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert V.as_float_array([1, 2]).dtype == np.float64
    assert V.as_float_array(np.array([True, False])).dtype == np.float64
    for bad, match in [(None, "got None"), (["a"], "real numbers, got dtype <U1"), ([1j], "complex")]:
        with pytest.raises(TypeError, match=match):
            V.as_float_array(bad, "x")


def test_as_matrix_and_as_batch_name_the_shape_and_suggest_a_reshape():
    assert V.as_matrix([[1, 2]]).shape == (1, 2)
    with pytest.raises(ValueError, match=r"X must have shape \(N, 64\), got shape \(64,\) \(one row per example"):
        V.as_matrix(np.ones(64), "X", n_cols=64)
    with pytest.raises(ValueError, match=r"X must have shape \(N, 3\), got shape \(2, 4\)"):
        V.as_matrix(np.ones((2, 4)), "X", n_cols=3)
    assert V.as_batch(np.ones((2, 3, 4, 5))).shape == (2, 3, 4, 5)  # any rank, batch first
    with pytest.raises(ValueError, match=r"x must be batch first with at least 2 axes, \(N, \.\.\., D\), got shape \(5,\)"):
        V.as_batch(np.ones(5))
    assert V.as_batch(np.ones(5), min_ndim=1).shape == (5,)


def test_as_vector_and_as_scalar():
    with pytest.raises(ValueError, match=r"b must have shape \(3,\), got shape \(2,\)"):
        V.as_vector(np.ones(2), "b", length=3)
    with pytest.raises(ValueError, match=r"b must have shape \(D,\), got shape \(1, 2\)"):
        V.as_vector(np.ones((1, 2)), "b")
    assert V.as_scalar(np.array([2.5]), "lr") == 2.5 and type(V.as_scalar(np.float32(1), "lr")) is float
    for bad in (True, "0.1", np.ones(2), None):
        with pytest.raises(TypeError, match="lr must be a real number"):
            V.as_scalar(bad, "lr")


def test_as_labels_refuses_float_labels_and_checks_range_and_length():
    assert V.as_labels(np.array([0, 2], dtype=np.uint8)).dtype == np.int64
    with pytest.raises(TypeError, match=r"convert with y.astype\(int\)"):
        V.as_labels(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 2\], got values from 0 to 3"):
        V.as_labels([0, 3], n_classes=3)
    with pytest.raises(ValueError, match=r"y must have shape \(4,\) to match the inputs, got shape \(2,\)"):
        V.as_labels([0, 1], length=4)
    with pytest.raises(ValueError, match=r"y must have shape \(N,\), got shape \(1, 2\)"):
        V.as_labels([[0, 1]])


def test_as_layer_spots_transposed_weights():
    with pytest.raises(ValueError, match=r"W must have shape \(D, M\) = \(3, M\) to match X of shape \(2, 3\), "
                                         r"got \(4, 3\) \(transposed\?\)"):
        V.as_layer(np.ones((2, 3)), np.ones((4, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        V.as_layer(np.ones((2, 3)), np.ones((3, 4)), np.ones(3))


def test_numbers_and_choices():
    assert V.check_positive(np.float64(0.5), "lr") == 0.5
    for bad in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="lr must be a positive number"):
            V.check_positive(bad, "lr")
    assert V.check_int(np.int32(3), "epochs", minimum=1) == 3
    with pytest.raises(TypeError, match="epochs must be an integer, got float 3.0"):
        V.check_int(3.0, "epochs")
    with pytest.raises(TypeError, match="epochs must be an integer"):
        V.check_int(True, "epochs")
    with pytest.raises(ValueError, match="epochs must be >= 1, got 0"):
        V.check_int(0, "epochs", minimum=1)
    with pytest.raises(ValueError, match=r"kind must be one of \['a', 'b'\], got 'c'"):
        V.check_choice("c", "kind", ("b", "a"))
    with pytest.raises(ValueError, match=r"x and y must have the same shape, got \(1,\) and \(2,\)"):
        V.check_same_shape(np.ones(1), np.ones(2), ("x", "y"))
