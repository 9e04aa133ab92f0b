"""nblib.widgets: moving a control changes what is drawn (tested without a browser)."""

import numpy as np
import pytest

from nblib import data, perceptron
from nblib.widgets import PerceptronPlayground


@pytest.fixture
def playground():
    return PerceptronPlayground({"separable": data.linearly_separable(40, seed=1), "XOR": data.logic_gate("xor")},
                                lr=0.5, max_epochs=15)


def drawn_line(pg):
    return pg.line.get_xydata()


def test_epoch_slider_moves_the_line_to_that_epochs_weights(playground):
    fit = playground.fit
    assert playground.epoch.max == len(fit.errors) and playground.epoch.value == 0
    for epoch in range(len(fit.errors) + 1):
        playground.epoch.value = epoch
        np.testing.assert_allclose(drawn_line(playground) @ fit.weights[epoch] + fit.biases[epoch], 0.0, atol=1e-9)
        assert f"<b>epoch {epoch}</b>" in playground.status.value
    assert f"training converged after {len(fit.errors)} epochs" in playground.status.value


def test_learning_rate_retrains_and_rewinds(playground):
    playground.epoch.value = 1
    before = playground.fit
    playground.lr.value = 0.01
    assert playground.epoch.value == 0
    assert not np.allclose(before.weights[1], playground.fit.weights[1])
    expected = perceptron.train(*playground.datasets["separable"], lr=0.01, epochs=15, w0=[1.0, -0.5], b0=0.5)
    np.testing.assert_allclose(playground.fit.w, expected.w)


def test_from_zero_the_learning_rate_does_not_move_the_line(playground):
    playground.from_zero.value = True
    playground.epoch.value = playground.epoch.max
    line_a = drawn_line(playground).copy()
    playground.lr.value = 5.0
    playground.epoch.value = playground.epoch.max
    np.testing.assert_allclose(drawn_line(playground), line_a, atol=1e-9)


def test_xor_is_reported_as_not_converging(playground):
    playground.dataset.value = "XOR"
    assert playground.epoch.max == 15
    assert "not converged after 15 epochs" in playground.status.value


def test_needs_a_dataset():
    with pytest.raises(ValueError, match="at least one"):
        PerceptronPlayground({})
