"""Fixtures for the widget tests: a slow kernel, simulated, and a PerceptronPlayground.

A slow kernel is simulated by slowing down ``Run._take_step`` (each training step) or
``Demo._render`` (each drawing) for the whole class.
"""

import time

import pytest

from nblib.widgets import Demo, PerceptronPlayground, Run
from tests.nblib.widgets.helpers import datasets


@pytest.fixture
def playground():
    return PerceptronPlayground(datasets(), lr=0.5, max_epochs=15)


@pytest.fixture
def slow_steps(monkeypatch):
    """Make every Run step take ``seconds`` longer, as on a slow kernel."""
    def slow_down(seconds):
        take_step = Run._take_step

        def slow_step(self, steps):
            time.sleep(seconds)
            return take_step(self, steps)

        monkeypatch.setattr(Run, "_take_step", slow_step)
    return slow_down


@pytest.fixture
def slow_drawing(monkeypatch):
    """Make every Demo._render take 20 ms and count it (returns the list of calls)."""
    calls = []
    render = Demo._render

    def slow_render(self):
        calls.append(self)
        time.sleep(0.02)
        render(self)

    monkeypatch.setattr(Demo, "_render", slow_render)
    return calls
