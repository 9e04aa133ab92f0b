"""Shared test set-up: quiet TensorFlow, a non-interactive matplotlib, fixed seeds."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up banner
os.environ.setdefault("MPLBACKEND", "Agg")

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def rng():
    """A fresh generator with a fixed seed, so every failure reproduces."""
    return np.random.default_rng(20261121)


@pytest.fixture(scope="session")
def keras():
    import keras

    return keras


@pytest.fixture(scope="session")
def tf():
    import tensorflow as tf

    return tf


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def pytest_sessionstart(session):
    """Once per run (in xdist's controller, not in each worker): the browser tests' screenshots of
    an earlier run go, so that .artifacts/browser/ holds this run's only."""
    if not hasattr(session.config, "workerinput"):
        import shutil

        shutil.rmtree(ROOT / ".artifacts" / "browser" / "screenshots", ignore_errors=True)
