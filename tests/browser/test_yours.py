"""Each homework's "see your function at work" cell, in a real browser.

The cell hands the student's functions to the week's demo (``nblib.widgets.yours``). In each
homework, as a student would: the untouched released notebook says "not written yet" and
draws nblib's alone; with the solution's functions typed into the exercise cells, the demo
draws the student's result equal to numbers this test recomputes; with a planted wrong
function, the line says where it first differs. A module of its own, with its own JupyterLab,
so that pytest-xdist runs it beside the other browser modules.
"""

from __future__ import annotations

import json
import re
import time

import nbformat
import numpy as np
import pytest

from tests.browser import course
from tests.browser.lab import Notebook, screenshot
from tests.browser.test_in_jupyterlab import (browser, open_notebook, page, shot_name,  # noqa: F401 (fixtures)
                                              solution_sources)
from tests.browser.test_slow_kernels import handle_value, labelled, press


@pytest.fixture(scope="module")
def lab():
    """A JupyterLab of its own from the README's course command, in a copy of its own."""
    server = course.start(name="browser-course-yours")
    yield server
    server.stop()


# Every demo the kernel makes from now on, in order; `_demo(name)` is the newest of a class.
LAST_DEMO = """
import json, numpy as np, nblib.widgets._core as _core
_made, _init = [], _core.Demo.__init__
def _recorded(self, *args, **kwargs):
    _made.append(self)
    _init(self, *args, **kwargs)
_core.Demo.__init__ = _recorded
def _demo(name):
    '''The newest demo of class `name` (the demo cell's last run made it).'''
    return next(d for d in reversed(_made) if type(d).__name__ == name)
"""


def grade_ids(path: str) -> list[str | None]:
    """The grade_id of each cell of the released notebook, in order (None: no nbgrader metadata)."""
    released = nbformat.read(course.ROOT / "notebooks" / path, as_version=4)
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in released.cells]


def run_cell(notebook: Notebook, index: int, timeout: float = 120) -> None:
    """Run cell ``index`` from Lab (Run Selected Cell), then wait until it is done and the kernel idle."""
    prompt = notebook.panel.locator(".jp-Cell").nth(index).locator(".jp-InputPrompt")
    before = prompt.inner_text()
    notebook.page.evaluate("(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }", index)
    notebook.page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")
    deadline = time.monotonic() + timeout
    while not (re.search(r"\[\d+\]", now := prompt.inner_text()) and now != before
               and notebook.kernel_status() == "idle"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{notebook.path}: cell {index} still running after {timeout:.0f} s ({now})")
        time.sleep(0.2)


def type_into(notebook: Notebook, index: int, source: str) -> None:
    """Replace cell ``index``'s code with ``source``, typed (pasted) into its editor."""
    cell = notebook.panel.locator(".jp-Cell").nth(index)
    cell.locator(".cm-content").click()
    notebook.page.keyboard.press("ControlOrMeta+a")
    notebook.page.keyboard.insert_text(source)
    assert notebook.cell_source(index) == source, f"cell {index} as typed"


def cell_errors(notebook: Notebook, index: int) -> list[str]:
    cell = notebook.panel.locator(".jp-Cell").nth(index)
    return cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()


def yours_line(notebook: Notebook, index: int):
    """The demo's comparison line on the page (the HTML widget that starts with ✓, ✗ or …)."""
    return notebook.panel.locator(".jp-Cell").nth(index).locator(".widget-html", has_text=re.compile("^[✓✗…] your "))


class Homework:
    """One homework's demo cell: where it is, and the cells it needs run first."""

    def __init__(self, page, lab, path: str, demo_id: str, needs: tuple[str, ...]):
        self.path = path
        ids = grade_ids(path)
        self.demo = ids.index(demo_id)
        self.needs = [ids.index(n) for n in needs]
        self.notebook = open_notebook(page, lab, path)
        self.notebook.kernel(LAST_DEMO)

    def run(self) -> None:
        """Run the cells the demo needs, then the demo's cell; it never shows an error."""
        for index in (*self.needs, self.demo):
            run_cell(self.notebook, index)
        assert cell_errors(self.notebook, self.demo) == [], f"{self.path}: the demo cell failed"

    def line(self, pattern: str) -> str:
        line = yours_line(self.notebook, self.demo)
        line.filter(has_text=re.compile(pattern)).wait_for(timeout=30_000)
        return line.inner_text()

    def solve(self, *exercises: str) -> None:
        """Type the solution's code into the cells of ``exercises`` (their grade_ids)."""
        answers, ids = solution_sources(self.path), grade_ids(self.path)
        for grade_id in exercises:
            type_into(self.notebook, ids.index(grade_id), answers[grade_id])

    def shot(self, name: str) -> None:
        root = self.notebook.panel.locator(".jp-Cell").nth(self.demo).locator(".jp-OutputArea-output > .jupyter-widgets").first
        screenshot(root, shot_name(self.path, f"yours-{name}"))

    def quiet(self, demo: str, seconds: float = 1.5, timeout: float = 60) -> int:
        """Wait until the newest demo ``demo`` has drawn nothing for ``seconds``; its number of drawings."""
        deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
        while time.monotonic() < deadline:
            now = self.drawn(demo, "d.renders")
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= seconds:
                return now
            time.sleep(0.25)
        raise TimeoutError(f"{demo} kept drawing for {timeout} s")

    def drawn(self, demo: str, expression: str):
        """``expression`` evaluated on the newest demo ``d`` of class ``demo`` in the kernel, as JSON."""
        return json.loads(self.notebook.kernel(f"d = _demo({demo!r}); print(json.dumps({expression}))"))


# -- week 1: the perceptron playground trained by the student's train_perceptron ----------------


def rosenblatt(X, y, *, lr, epochs, w0, b0):
    """The perceptron rule written out here: y_hat = [x . w + b >= 0]; w += lr (t - y_hat) x; b += lr (t - y_hat).

    One example at a time, in order; stops after the first epoch without an update. Returns (w, b, errors).
    """
    w, b, errors = np.array(w0, dtype=float), float(b0), []
    for _ in range(epochs):
        updates = 0
        for x, t in zip(X, y):
            step = t - int(x @ w + b >= 0)
            if step:
                w, b, updates = w + lr * step * x, b + lr * step, updates + 1
        errors.append(updates)
        if updates == 0:
            break
    return w, b, errors


# The demos of earlier runs of a cell stay alive (their widgets hold them), and ids are addresses, not ages
# (LAST_DEMO's newest by id may be an older one): mark the old ones before each run, read the one left unmarked.
def mark_old(hw: Homework, demo: str) -> None:
    hw.notebook.kernel(f"for _o in gc.get_objects():\n    if type(_o).__name__ == {demo!r}:\n"
                       "        _o._old_for_the_test = True")


def newest(hw: Homework, demo: str, expression: str):
    """``expression`` evaluated on the demo ``d`` of class ``demo`` that the cell's newest run made, as JSON."""
    return json.loads(hw.notebook.kernel(
        f"d, = [o for o in gc.get_objects() if type(o).__name__ == {demo!r} "
        f"and not hasattr(o, '_old_for_the_test')]\nprint(json.dumps({expression}))"))


def playground(hw: Homework, expression: str):
    return newest(hw, "PerceptronPlayground", expression)


def trained(hw: Homework) -> None:
    """Wait until the newest playground's training (a background Run) is over."""
    deadline = time.monotonic() + 60
    while playground(hw, "d.run.running"):
        assert time.monotonic() < deadline, "the playground still trains after 60 s"
        time.sleep(0.2)


def test_week01_perceptron_playground_trains_the_students_train_perceptron(page, lab):
    from nblib import data

    path = "week01_perceptron/homework.ipynb"
    hw = Homework(page, lab, path, "yours_train_perceptron", needs=("setup", "train_perceptron"))
    root = hw.notebook.panel.locator(".jp-Cell").nth(hw.demo)

    # Untouched: the stub raises NotImplementedError; the demo says so and trains nblib's alone.
    hw.run()
    trained(hw)
    assert "not written yet" in hw.line("not written yet")
    assert playground(hw, "[d.theirs is None, len(d.fit.errors) > 0]") == [True, True]
    hw.shot("not-written")

    # The solution's rule: the student's line and mistakes are those of the rule run here, with the page's settings.
    hw.solve("train_perceptron")
    mark_old(hw, "PerceptronPlayground")
    hw.run()
    trained(hw)
    assert "agrees with nblib's" in hw.line("agrees")
    assert root.locator(".widget-dropdown select").input_value() == "separable"
    assert not root.locator(".widget-checkbox", has_text="start from zero weights").locator("input").is_checked()
    lr = 10 ** handle_value(labelled(root, ".widget-slider", "learning rate"))   # a log slider shows the exponent
    w0 = [handle_value(labelled(root, ".widget-slider", name)) for name in ("w1", "w2")]
    b0 = handle_value(labelled(root, ".widget-slider", "b"))
    epochs = int(handle_value(labelled(root, ".widget-slider", "epoch")))
    assert (lr, w0, b0) == (pytest.approx(0.1), [1.0, -0.5], 0.5) and epochs > 1
    X, y = data.linearly_separable(40, margin=0.15, seed=4)                      # the cell's "separable"
    w, b, errors = rosenblatt(X, y, lr=lr, epochs=epochs, w0=w0, b0=b0)
    assert errors[-1] == 0 and len(errors) == epochs, "the playground shows the epoch training converged in"
    theirs = playground(hw, "[d.theirs[0].tolist(), float(d.theirs[1]), d.theirs[2].tolist(), "
                                "d.their_line.get_xydata().tolist(), d.their_errors.get_xydata().tolist()]")
    assert theirs[:3] == [pytest.approx(w, rel=1e-12), pytest.approx(b, rel=1e-12), errors]
    assert np.array(theirs[3]) @ w + b == pytest.approx(np.zeros(2), abs=1e-9)   # their drawn line is w . x + b = 0
    assert theirs[4] == [[k, e] for k, e in enumerate(errors, 1)]
    hw.shot("solution")

    # A planted rule that leaves the learning rate out: the first epoch's weights already differ.
    hw.notebook.kernel(
        "def train_perceptron(X, y, *, lr=1.0, epochs=100, w0=None, b0=0.0):\n"
        "    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)\n"
        "    b, errors = float(b0), []\n"
        "    for _ in range(epochs):\n"
        "        errors.append(0)\n"
        "        for x, t in zip(X, y):\n"
        "            delta = t - (1 if x @ w + b >= 0 else 0)\n"
        "            w, b = w + delta * x, b + delta   # no lr\n"
        "            errors[-1] += abs(delta)\n"
        "        if errors[-1] == 0:\n"
        "            break\n"
        "    return w, b, errors")
    mark_old(hw, "PerceptronPlayground")
    run_cell(hw.notebook, hw.demo)
    trained(hw)
    right, _, _ = rosenblatt(X, y, lr=lr, epochs=1, w0=w0, b0=b0)
    wrong, _, _ = rosenblatt(X, y, lr=1.0, epochs=1, w0=w0, b0=b0)
    text = hw.line("differs")
    assert (f"your train_perceptron after epoch 1: (output 1 of 3) first differs at [0]: {wrong[0]:.4g} "
            f"against nblib's {right[0]:.4g}") in text, text
    assert playground(hw, "d.fit.w.tolist()") == pytest.approx(w, rel=1e-12)  # nblib's unchanged
    assert cell_errors(hw.notebook, hw.demo) == []
    hw.shot("planted-no-learning-rate")


# -- week 2: the activation explorer drawing the student's activations and derivatives ----------


def test_week02_activation_explorer_draws_the_students_activations_and_derivatives(page, lab):
    path = "week02_activations_forward/homework.ipynb"
    hw = Homework(page, lab, path, "yours_activations", needs=("setup", "activations", "derivatives"))
    root = hw.notebook.panel.locator(".jp-Cell").nth(hw.demo)

    # Untouched: every stub raises NotImplementedError; the demo says so and draws nblib's curves alone.
    hw.run()
    assert "your sigmoid is not written yet" in hw.line("not written yet")
    assert newest(hw, "ActivationExplorer", "[t is None for t in d.theirs]") == [True, True]
    hw.shot("not-written")

    # The solution's functions: the orange curves are sigma(x) and sigma(x) (1 - sigma(x)) on the plotted x.
    hw.solve("activations", "derivatives")
    mark_old(hw, "ActivationExplorer")
    hw.run()
    text = hw.line("sigmoid_derivative agrees")
    assert "your sigmoid agrees with nblib's" in text and "your sigmoid_derivative agrees with nblib's" in text, text
    assert labelled(root, ".widget-dropdown", "activation").locator("select").input_value() == "sigmoid"
    assert root.locator(".widget-checkbox", has_text="show derivative").locator("input").is_checked()
    x_range = labelled(root, ".widget-slider", "x range")
    low, high = handle_value(x_range, 0), handle_value(x_range, 1)
    assert (low, high) == (-6.0, 6.0)
    x = np.union1d(np.linspace(low, high, 401), [0.0])          # 401 points (the default), and 0
    s = 1 / (1 + np.exp(-x))
    drawn = newest(hw, "ActivationExplorer", "[d.their_line.get_xdata().tolist(), d.theirs[0].tolist(), "
                                             "d.theirs[1].tolist(), d.their_derivative_line.get_ydata().tolist()]")
    assert drawn[0] == pytest.approx(x, abs=1e-12)
    assert drawn[1] == pytest.approx(s, rel=1e-12) and drawn[2] == pytest.approx(s * (1 - s), rel=1e-12)
    assert drawn[3] == drawn[2]
    hw.shot("solution")

    # Planted mistakes students make: sigma' written as sigma itself, and ReLU's derivative 1 at z = 0.
    hw.notebook.kernel("def sigmoid_derivative(z):\n    return sigmoid(z)\n"
                       "def relu_derivative(z):\n    return np.where(z >= 0, 1.0, 0.0)")
    mark_old(hw, "ActivationExplorer")
    run_cell(hw.notebook, hw.demo)
    text = hw.line("differs")
    s6 = 1 / (1 + np.exp(6.0))                                # sigma(-6); nblib's sigma'(-6) = s6 (1 - s6)
    assert (f"your sigmoid_derivative first differs at x = -6 [0]: {s6:.4g} against nblib's "
            f"{s6 * (1 - s6):.4g}") in text, text
    hw.shot("planted-sigmoid-derivative")
    labelled(root, ".widget-dropdown", "activation").locator("select").select_option(label="relu")
    zero = int(np.flatnonzero(x == 0.0)[0])                   # linspace(-6, 6, 401) holds 0 at index 200
    text = hw.line("relu_derivative first differs")
    assert f"your relu_derivative first differs at x = 0 [{zero}]: 1 against nblib's 0" in text, text
    assert newest(hw, "ActivationExplorer", "d.their_misses.get_xydata().tolist()") == [[0.0, 1.0]]
    assert cell_errors(hw.notebook, hw.demo) == []
    hw.shot("planted-relu-derivative")


# -- week 3: the softmax explorer through the student's softmax ---------------------------------


def softmax_rows(z):
    """Softmax of each row, written out here: exp of the shifted logits over their sum."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_week03_softmax_explorer_shows_the_students_softmax(page, lab):
    path = "week03_softmax_cross_entropy/homework.ipynb"
    hw = Homework(page, lab, path, "yours_softmax", needs=("setup", "softmax"))

    # Untouched: the stub raises NotImplementedError; the demo says so and draws nblib's alone.
    hw.run()
    assert "not written yet" in hw.line("not written yet")
    assert hw.drawn("SoftmaxExplorer", "d.theirs is None") is True
    hw.shot("not-written")

    # The solution's softmax: the diamonds are the probabilities of the logits shown.
    hw.solve("softmax")
    hw.run()
    assert "agrees with nblib's" in hw.line("agrees")
    root = hw.notebook.panel.locator(".jp-Cell").nth(hw.demo)
    logits = np.array([handle_value(s) for s in root.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=re.compile(r"^z \("))).all()])
    assert logits.tolist() == pytest.approx([2.0, 1.0, 0.1, -1.0], abs=1e-9)
    assert hw.drawn("SoftmaxExplorer", "d.theirs.tolist()") == pytest.approx(softmax_rows(logits), rel=1e-12)
    hw.shot("solution")

    # A planted softmax without the max shift: right at first, nan once every logit is raised past 709.
    hw.notebook.kernel("def softmax(Z):\n    e = np.exp(Z)\n    return e / e.sum(axis=1, keepdims=True)")
    run_cell(hw.notebook, hw.demo)
    assert "agrees" in hw.line("agrees")
    # Changed while the kernel is busy, as on a slow kernel: one drawing for both changes.
    shift, first = labelled(root, ".widget-slider", "add c to every logit"), labelled(root, ".widget-slider", "z (class 0)")
    before = hw.drawn("SoftmaxExplorer", "d.renders")
    with hw.notebook.kernel_held():
        press(shift, "End", 1)
        press(first, "ArrowRight", 3)
    assert handle_value(shift) == 1000
    logits[0] = handle_value(first)
    text = hw.line("differs")
    assert "first differs at [0, 0]: nan against nblib's" in text, text
    assert hw.quiet("SoftmaxExplorer") - before == 1, "one drawing for changes that reached a busy kernel together"
    assert hw.drawn("SoftmaxExplorer", "d.probabilities.tolist()") == pytest.approx(softmax_rows(logits), rel=1e-12)
    assert cell_errors(hw.notebook, hw.demo) == []
    hw.shot("planted-no-shift")


# -- week 4: --------------------------------------------------------------------------------------

# (week 4's test goes here)


# -- week 5: --------------------------------------------------------------------------------------

# (week 5's test goes here)


# -- week 6: --------------------------------------------------------------------------------------

# (week 6's test goes here)


# -- week 7: --------------------------------------------------------------------------------------

# (week 7's test goes here)


# -- week 8: --------------------------------------------------------------------------------------

# (week 8's test goes here)


# -- week 9: --------------------------------------------------------------------------------------

# (week 9's test goes here)
