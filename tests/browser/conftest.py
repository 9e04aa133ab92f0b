"""Fixtures of the browser tests: one JupyterLab per pytest worker, one Chromium per module.

The course's copy costs most of a lab's start (a fresh ``.venv`` installed by the README's course
command, 2.2 GB and about two minutes), so each worker starts one and its browser modules take
turns on it: before a module, the copy's files are put back as in the repository (the tests
type into homeworks, and nbgrader's Validate saves them) and every kernel is shut down.
"""

from __future__ import annotations

import contextlib

import pytest

from tests.browser import chromium, course


@pytest.fixture(scope="module")
def browser():
    """Chromium, for one module: Playwright's sync API holds an asyncio loop while it runs, and the
    worker's next module may be one that needs none running (nblib's widget tests)."""
    with chromium.launched() as browser:
        yield browser


@contextlib.contextmanager
def new_page(browser):
    """A page in a browser context of its own; JavaScript errors it raises are kept in ``js_errors``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    yield page
    context.close()


@pytest.fixture
def page(browser):
    """A fresh page for each test."""
    with new_page(browser) as page:
        yield page


@pytest.fixture(scope="session")
def worker_lab(worker_id):
    """JupyterLab from the README's course command, in this worker's copy of the course."""
    server = course.start(name=f"{course.SCRATCH.name}-{worker_id}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lab(worker_lab):
    """The worker's JupyterLab, its course files fresh from the repository and no kernel running."""
    worker_lab.refresh()
    return worker_lab
