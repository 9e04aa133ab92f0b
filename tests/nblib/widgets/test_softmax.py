"""nblib.widgets.softmax: SoftmaxExplorer.

Moving a control must change what is drawn: each test reads the bars' heights and checks them
against scipy's softmax and entropy.
"""

import math

import numpy as np
import pytest
from scipy import special, stats

from nblib.widgets import SoftmaxExplorer
from tests.nblib.widgets.helpers import bar_heights


@pytest.fixture
def softmax_demo():
    return SoftmaxExplorer()


def test_softmax_bars_are_scipy_softmax_of_the_logits_over_t(softmax_demo):
    demo = softmax_demo
    z = np.array([2.0, 1.0, 0.1, -1.0])
    np.testing.assert_allclose(bar_heights(demo), special.softmax(z), rtol=1e-12)
    for slider, value in zip(demo.logits, [-3.0, 4.5, 0.0, 4.4]):
        slider.value = value
    demo.temperature.value = 2.5
    z, T = np.array([-3.0, 4.5, 0.0, 4.4]), demo.temperature.value
    expected = special.softmax(z / T)
    np.testing.assert_allclose(bar_heights(demo), expected, rtol=1e-12)
    assert bar_heights(demo).sum() == pytest.approx(1.0, abs=1e-12)
    assert [t.get_text() for t in demo.annotations] == [f"{p:.3f}" for p in expected]
    assert demo.ax.get_ylim() == (0.0, 1.0) and "T = 2.50" in demo.ax.get_title()
    assert "sum = 1.000000" in demo.status.value and f"{stats.entropy(expected):.3f} nats" in demo.status.value


def test_temperature_flattens_or_sharpens_the_distribution(softmax_demo):
    demo, seen = softmax_demo, {}
    for T in (0.1, 1.0, 10.0):
        demo.temperature.value = T
        p = bar_heights(demo)
        seen[T] = p
        assert f"{stats.entropy(p):.3f} nats" in demo.status.value
    H = {T: stats.entropy(p) for T, p in seen.items()}
    assert H[0.1] < H[1.0] < H[10.0] < math.log(4)
    assert seen[0.1].max() > 0.99 and np.argmax(seen[0.1]) == 0      # nearly one-hot on the largest logit
    assert seen[10.0].max() - seen[10.0].min() < 0.1                  # nearly uniform
    assert [np.argsort(p).tolist() for p in seen.values()] == [[3, 2, 1, 0]] * 3  # the order never changes
    assert "flattens" in demo.caption.value and "one-hot" in demo.caption.value


def test_adding_a_constant_to_every_logit_changes_nothing(softmax_demo):
    before = bar_heights(softmax_demo)
    for slider in softmax_demo.logits:
        slider.value = slider.value + 5.0
    np.testing.assert_allclose(bar_heights(softmax_demo), before, rtol=1e-12)


def test_extreme_logits_and_temperature_do_not_overflow():
    demo = SoftmaxExplorer(logits=[10.0, -10.0, 9.9], temperature=0.1, labels=["cat", "dog", "fox"])
    p = bar_heights(demo)  # z / T = [100, -100, 99]
    assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(p, special.softmax([100.0, -100.0, 99.0]), rtol=1e-12)
    assert [t.get_text() for t in demo.ax.get_xticklabels()] == ["cat", "dog", "fox"]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"logits": [1.0]}, ValueError, "between 2 and 10 values .* got 1"),
    ({"logits": list(range(11))}, ValueError, "got 11"),
    ({"logits": [0.0, 20.0]}, ValueError, r"between -10 and 10, got \[0.0, 20.0\]"),
    ({"temperature": 0}, ValueError, "temperature must be a number between 0.1 and 10, got 0"),
    ({"temperature": 100.0}, ValueError, "got 100.0"),
    ({"labels": ["a", "b"]}, ValueError, "labels must name each of the 4 classes, got 2"),
    ({"logits": "abc"}, TypeError, "logits"),
])
def test_softmax_explorer_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        SoftmaxExplorer(**kwargs)


# -- the homework's cell: the student's softmax beside nblib's (nblib.widgets.yours) ------------


def students_softmax(Z):
    """Week 3's homework answer, written as a student might: (N, C) -> (N, C)."""
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def no_max_shift(Z):
    e = np.exp(Z)
    return e / e.sum(axis=1, keepdims=True)


def test_the_students_softmax_is_drawn_as_diamonds_on_the_bars():
    demo = SoftmaxExplorer(yours={"softmax": students_softmax})
    z = np.array([2.0, 1.0, 0.1, -1.0])
    x, y = demo.their_marks.get_data()
    np.testing.assert_array_equal(x, np.arange(4))
    np.testing.assert_allclose(y, special.softmax(z), rtol=1e-12)
    assert demo.yours_line.value.startswith('<span style="color:#067647">✓ your softmax agrees')
    assert "your softmax" in [t.get_text() for t in demo.ax.get_legend().get_texts()]
    assert demo.shift in demo.widget.children[0].children[1].children  # the control that exposes overflow


def test_a_softmax_without_the_max_shift_breaks_when_every_logit_is_raised():
    demo = SoftmaxExplorer(yours={"softmax": no_max_shift})
    assert "agrees" in demo.yours_line.value  # logits in [-10, 10]: no overflow yet
    demo.shift.value = 710.0  # logits 712, 711, 710.1, 709: e^709.78 is float64's largest, so
    # the first three are inf, the sum is inf, and inf / inf = nan; e^709 / inf = 0.
    np.testing.assert_allclose(bar_heights(demo), special.softmax([2.0, 1.0, 0.1, -1.0]), rtol=1e-12)
    np.testing.assert_array_equal(demo.theirs, [np.nan, np.nan, np.nan, 0.0])
    assert "first differs at [0, 0]: nan against nblib&#x27;s 0.6381" in demo.yours_line.value


def test_an_unwritten_softmax_says_so_and_nblibs_bars_stay():
    def stub(Z):
        raise NotImplementedError("Not done yet: replace this line with your code.")
    demo = SoftmaxExplorer(yours={"softmax": stub})
    assert "not written yet" in demo.yours_line.value and demo.theirs is None
    assert len(demo.their_marks.get_data()[0]) == 0
    np.testing.assert_allclose(bar_heights(demo), special.softmax([2.0, 1.0, 0.1, -1.0]), rtol=1e-12)


def test_without_yours_the_demo_is_the_lessons():
    demo = SoftmaxExplorer()
    assert demo.yours_line.layout.display == "none" and demo.yours_line.value == ""
    assert demo.shift is None  # no "add c to every logit" slider in the lesson
    assert "your softmax" not in [t.get_text() for t in demo.ax.get_legend().get_texts()]
    np.testing.assert_allclose(bar_heights(demo), special.softmax([2.0, 1.0, 0.1, -1.0]), rtol=1e-12)
