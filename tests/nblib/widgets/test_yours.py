"""nblib.widgets.yours: a student's function compared with nblib's, as the demos' hook does it.

The reference results come from scipy (its softmax), the student's functions are written
here the way students write them: right in another way, wrong, unfinished, broken.
"""

import numpy as np
import pytest
from scipy import special

from nblib.widgets.yours import Yours


def reference_softmax(Z):
    return special.softmax(Z, axis=1)


def hooked(function, name="softmax"):
    return Yours({name: function}, accepted=("softmax", "pair"), demo="TestDemo")


Z = np.array([[2.0, 1.0, 0.1, -1.0], [0.0, 0.0, 3.0, 1.0]])  # (N, C) = (2, 4)


def right_another_way(Z):
    logs = Z - np.log(np.exp(Z).sum(axis=1))[:, None]   # log-softmax first, then exp
    return np.exp(logs).tolist()                         # a list: converted like an array


def test_a_right_function_agrees_and_its_result_is_kept_as_an_array():
    seen = hooked(right_another_way).compare("softmax", reference_softmax, Z)
    assert seen.agrees and seen.line.startswith("your softmax agrees with nblib's (largest difference")
    np.testing.assert_allclose(seen.reference, special.softmax(Z, axis=1), rtol=1e-12)
    assert isinstance(seen.theirs, np.ndarray) and seen.theirs.shape == (2, 4)
    np.testing.assert_allclose(seen.theirs, special.softmax(Z, axis=1), rtol=1e-12)
    assert "✓" in seen.html and "#067647" in seen.html


def test_a_wrong_function_names_the_first_entry_that_differs_and_both_values():
    def columns(Z):  # normalised over the wrong axis
        e = np.exp(Z)
        return e / e.sum(axis=0, keepdims=True)
    seen = hooked(columns).compare("softmax", reference_softmax, Z)
    expected = special.softmax(Z, axis=1)
    got = np.exp(Z) / np.exp(Z).sum(axis=0, keepdims=True)
    assert not seen.agrees and seen.theirs is not None
    # [0, 0] already differs: e^2 / (e^2 + e^0) = 0.8808 against 0.6381 (largest: at [1, 2]).
    assert seen.line == (f"your softmax first differs at [0, 0]: {got[0, 0]:.4g} against nblib's {expected[0, 0]:.4g} "
                         f"(largest difference {np.abs(got - expected).max():.2g})")
    assert f"{got[0, 0]:.4g}" == "0.8808"
    assert "✗" in seen.html


def test_nan_in_the_students_result_is_named():
    def no_shift(Z):
        e = np.exp(Z)
        return e / e.sum(axis=1, keepdims=True)
    seen = hooked(no_shift).compare("softmax", reference_softmax, Z + 1000.0)
    assert seen.line.startswith("your softmax first differs at [0, 0]: nan against nblib's 0.6381")
    assert seen.line.endswith("(nan or inf in yours)")


def test_an_unfinished_function_is_not_written_yet_and_the_reference_stays():
    def stub(Z):
        raise NotImplementedError("Not done yet: replace this line with your code.")
    seen = hooked(stub).compare("softmax", reference_softmax, Z)
    assert seen.theirs is None and not seen.agrees
    assert "not written yet" in seen.line
    np.testing.assert_allclose(seen.reference, special.softmax(Z, axis=1), rtol=1e-12)


@pytest.mark.parametrize("function, words", [
    (lambda Z: {}["Z"], "raised KeyError: 'Z'"),
    (lambda Z: np.exp(Z).sum(axis=1), "returned shape (2,); nblib's has shape (2, 4)"),
    (lambda Z: None, "returned None: is a return missing?"),
    (lambda Z: "probabilities", "returned a str, not numbers"),
])
def test_a_broken_function_is_described_in_the_line_never_raised(function, words):
    seen = hooked(function).compare("softmax", reference_softmax, Z)
    assert seen.theirs is None and seen.line == f"your softmax {words}"


def test_the_student_works_on_copies_and_cannot_change_what_nblib_sees():
    def in_place(Z):
        Z -= Z.max(axis=1, keepdims=True)   # changes its argument
        np.exp(Z, out=Z)
        Z /= Z.sum(axis=1, keepdims=True)
        return Z
    given = Z.copy()
    seen = hooked(in_place).compare("softmax", reference_softmax, given)
    assert seen.agrees and np.array_equal(given, Z)


def test_tuples_are_compared_output_by_output():
    def reference(x):
        return x, 2 * x
    yours = Yours({"pair": lambda x: (x, 3 * x)}, accepted=("pair",), demo="TestDemo")
    seen = yours.compare("pair", reference, np.array([1.0, 2.0]))
    assert seen.line.startswith("your pair (output 2 of 2) first differs at [0]: 3 against nblib's 2")
    seen = Yours({"pair": lambda x: (x, 2.5)}, accepted=("pair",), demo="D").compare("pair", lambda x: (x, 2.0), 1.0)
    assert seen.line == "your pair (output 2 of 2) first differs: 2.5 against nblib's 2 (largest difference 0.5)"
    seen = yours.compare("pair", lambda x: (x, x, x), np.array([1.0]))
    assert seen.line == "your pair returned a tuple of 2; nblib's returns 3 values"


def test_unknown_names_and_non_functions_are_refused_with_the_names_a_demo_knows():
    with pytest.raises(ValueError, match="TestDemo can show your softmax, pair, not 'sofmax'"):
        Yours({"sofmax": right_another_way}, accepted=("softmax", "pair"), demo="TestDemo")
    with pytest.raises(TypeError, match="must be your function softmax, got ndarray"):
        Yours({"softmax": Z}, accepted=("softmax",), demo="TestDemo")


def test_not_hooked_gives_the_reference_and_no_line():
    yours = Yours(None, accepted=("softmax",), demo="TestDemo")
    assert not yours
    seen = yours.compare("softmax", reference_softmax, Z)
    assert seen.line == "" and seen.theirs is None
    assert Yours({"softmax": None}, accepted=("softmax",), demo="D").compare(
        "softmax", reference_softmax, Z).line == "your softmax is not defined yet: run its exercise's cell first"
