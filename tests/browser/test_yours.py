"""Each homework's "see your function at work" cell, in a real browser.

The cell hands the student's functions to the week's demo (``nblib.widgets.yours``). In each
homework, as a student would: the untouched released notebook says "not written yet" and
draws nblib's alone; with the solution's functions typed into the exercise cells, the demo
draws the student's result equal to numbers this test recomputes; with a planted wrong
function, the line says where it first differs. A module of its own, so that pytest-xdist can
run it beside the other browser modules.
"""

from __future__ import annotations

import json
import re
import time

import nbformat
import numpy as np
import pytest

from tests.browser import course
from tests.browser.lab import Notebook, look, screenshot
from tests.browser.test_in_jupyterlab import open_notebook, shot_name, solution_sources
from tests.browser.test_slow_kernels import DEBOUNCER_CALLS, handle_value, labelled, press
from tests.nblib.widgets.test_perceptron import rosenblatt  # the perceptron rule, written out
from tests.test_mistakes_week04 import WRONG as WEEK04_WRONG


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
        self.notebook.kernel(LAST_DEMO + DEBOUNCER_CALLS)

    def run(self) -> None:
        """Run the cells the demo needs, then the demo's cell; it never shows an error."""
        for index in (*self.needs, self.demo):
            self.notebook.run_cell(index)
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

    def shot(self, name: str, settle: float = 1.0, timeout: float = 30) -> None:
        """A screenshot of the demo once the page has shown the same picture and text for ``settle`` s
        (its line can arrive before the picture of the same drawing)."""
        root = self.notebook.panel.locator(".jp-Cell").nth(self.demo).locator(".jp-OutputArea-output > .jupyter-widgets").first
        deadline, before, since = time.monotonic() + timeout, None, time.monotonic()
        while time.monotonic() < deadline and (time.monotonic() - since < settle or self.notebook.kernel_status() != "idle"):
            if (now := look(root)) != before:
                before, since = now, time.monotonic()
            time.sleep(0.2)
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


def playground(hw: Homework, expression: str):
    return hw.drawn("PerceptronPlayground", expression)


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
    hw.notebook.run_cell(hw.demo)
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
    assert hw.drawn("ActivationExplorer", "[t is None for t in d.theirs]") == [True, True]
    hw.shot("not-written")

    # The solution's functions: the orange curves are sigma(x) and sigma(x) (1 - sigma(x)) on the plotted x.
    hw.solve("activations", "derivatives")
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
    drawn = hw.drawn("ActivationExplorer", "[d.their_line.get_xdata().tolist(), d.theirs[0].tolist(), "
                                             "d.theirs[1].tolist(), d.their_derivative_line.get_ydata().tolist()]")
    assert drawn[0] == pytest.approx(x, abs=1e-12)
    assert drawn[1] == pytest.approx(s, rel=1e-12) and drawn[2] == pytest.approx(s * (1 - s), rel=1e-12)
    assert drawn[3] == drawn[2]
    hw.shot("solution")

    # Planted mistakes students make: sigma' written as sigma itself, and ReLU's derivative 1 at z = 0.
    hw.notebook.kernel("def sigmoid_derivative(z):\n    return sigmoid(z)\n"
                       "def relu_derivative(z):\n    return np.where(z >= 0, 1.0, 0.0)")
    hw.notebook.run_cell(hw.demo)
    text = hw.line("differs")
    s6 = 1 / (1 + np.exp(6.0))                                # sigma(-6); nblib's sigma'(-6) = s6 (1 - s6)
    assert (f"your sigmoid_derivative first differs at x = -6 [0]: {s6:.4g} against nblib's "
            f"{s6 * (1 - s6):.4g}") in text, text
    hw.shot("planted-sigmoid-derivative")
    labelled(root, ".widget-dropdown", "activation").locator("select").select_option(label="relu")
    zero = int(np.flatnonzero(x == 0.0)[0])                   # linspace(-6, 6, 401) holds 0 at index 200
    text = hw.line("relu_derivative first differs")
    assert f"your relu_derivative first differs at x = 0 [{zero}]: 1 against nblib's 0" in text, text
    assert hw.drawn("ActivationExplorer", "d.their_misses.get_xydata().tolist()") == [[0.0, 1.0]]
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
    hw.notebook.run_cell(hw.demo)
    assert "agrees" in hw.line("agrees")
    # Changed while the kernel is busy, as on a slow kernel: one drawing for both changes.
    shift, first = labelled(root, ".widget-slider", "add c to every logit"), labelled(root, ".widget-slider", "z (class 0)")
    # Counted once the new demo is quiet: the page echoes one slider's value on display (0.1 comes
    # back as 0.09999999999999964), and that draws once more a debounce wait later.
    before = hw.quiet("SoftmaxExplorer")
    since = float(hw.notebook.kernel("print(time.monotonic())"))
    with hw.notebook.kernel_held():
        press(shift, "End", 1)
        press(first, "ArrowRight", 3)
    assert handle_value(shift) == 1000
    logits[0] = handle_value(first)
    text = hw.line("differs")
    assert "first differs at [0, 0]: nan against nblib's" in text, text
    # One drawing, or one more for each moment the changes reached the kernel a debounce wait apart
    # (ipywidgets sends them in two parts; see test_slow_kernels.at_most).
    drawings, apart = hw.quiet("SoftmaxExplorer") - before, hw.drawn("SoftmaxExplorer", f"_gaps({since!r}, [d._draw_soon])")
    assert 1 <= drawings <= 1 + apart, f"{drawings} drawings for changes that reached a busy kernel together"
    assert hw.drawn("SoftmaxExplorer", "d.probabilities.tolist()") == pytest.approx(softmax_rows(logits), rel=1e-12)
    assert cell_errors(hw.notebook, hw.demo) == []
    hw.shot("planted-no-shift")


# -- week 4: the training curve through the student's train ----------------------------------------

WEEK04_NEEDS = ("dense_backward", "activation_backward", "softmax_cross_entropy_backward", "mlp_backward",
                "sgd_train_step", "train")

# A train students write: the epoch's loss as the plain mean of its batch losses (right only when every
# batch has batch_size examples), as week 4's mistake tests have it.
PLAIN_MEAN_TRAIN = WEEK04_WRONG["train: the plain mean of the batch losses"][-1]


def test_week04_training_curve_shows_the_students_train(page, lab):
    from nblib import data
    from tests.nblib.widgets.test_progress import numpy_train  # week 4's loop, written out with numpy

    path = "week04_backprop/homework.ipynb"
    hw = Homework(page, lab, path, "yours_train", needs=("setup", *WEEK04_NEEDS))
    hw.run()
    assert "not written yet" in hw.line("not written yet")
    assert hw.drawn("TrainingCurve", "d.theirs is None") is True
    hw.shot("not-written")

    # The solution's functions: the diamonds are the losses of the settings the page shows.
    hw.solve(*WEEK04_NEEDS)
    hw.run()
    assert "agrees with nblib's" in hw.line("agrees")
    root = hw.notebook.panel.locator(".jp-Cell").nth(hw.demo)
    lr = round(handle_value(labelled(root, ".widget-slider", "learning rate lr")), 2)  # steps of 0.01
    batch_size = int(handle_value(labelled(root, ".widget-slider", "batch size")))
    epochs = int(handle_value(labelled(root, ".widget-slider", "epochs")))
    assert (lr, batch_size, epochs) == (0.3, 32, 20)
    iris = data.iris()
    settings = dict(hidden=16, epochs=epochs, lr=lr, rng=0)
    right = numpy_train(iris.X_train, iris.y_train, batch_size=batch_size, **settings)[2]
    assert hw.drawn("TrainingCurve", "d.theirs.tolist()") == pytest.approx(right, rel=1e-9)
    hw.shot("solution")

    # A planted train whose epoch loss is the plain mean of the batch losses: it differs from the first
    # epoch with a last batch of 16, and agrees once the batch size divides the 112 irises.
    hw.notebook.kernel(PLAIN_MEAN_TRAIN)
    hw.notebook.run_cell(hw.demo)
    wrong = numpy_train(iris.X_train, iris.y_train, batch_size=batch_size, mean="plain", **settings)[2]
    text = hw.line("differs")
    assert f"(output 3 of 3) first differs at [0]: {wrong[0]:.4g} against nblib's {right[0]:.4g}" in text, text
    assert hw.drawn("TrainingCurve", "d.losses.tolist()") == pytest.approx(right, rel=1e-9)
    hw.shot("planted-plain-mean")
    press(labelled(root, ".widget-slider", "batch size"), "ArrowLeft", 4)
    assert handle_value(labelled(root, ".widget-slider", "batch size")) == 28
    assert "agrees" in hw.line("agrees")
    assert cell_errors(hw.notebook, hw.demo) == []


# -- week 5: the optimizer race with the student's update rules -------------------------------------

WEEK05_RULES = ("momentum_step", "nesterov_step", "rmsprop_step", "adam_step")

# An Adam students write: the running means without the bias correction (no division by 1 - beta^t).
NO_BIAS_CORRECTION_ADAM = """
def adam_step(w, g, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return w - lr * m / (np.sqrt(v) + eps), m, v
"""


def bowl_paths(lr, beta, beta2, steps, eps=1e-7):
    """The four racers on the bowl f = (x² + 10 y²) / 2 from (-4.5, 1.5), Keras's updates written out here."""
    paths = {}
    for racer in ("momentum", "Nesterov", "RMSprop", "Adam"):
        w, a, b = np.array([-4.5, 1.5]), np.zeros(2), np.zeros(2)   # a: velocity, s or m; b: Adam's v
        path = [w]
        for t in range(1, steps + 1):
            g = np.array([1.0, 10.0]) * w                               # grad f = (x, 10 y)
            if racer in ("momentum", "Nesterov"):
                a = beta * a - lr * g
                w = w + a if racer == "momentum" else w + beta * a - lr * g
            elif racer == "RMSprop":
                a = beta2 * a + (1 - beta2) * g**2
                w = w - lr * g / np.sqrt(a + eps)
            else:
                a, b = beta * a + (1 - beta) * g, beta2 * b + (1 - beta2) * g**2
                w = w - lr * np.sqrt(1 - beta2**t) / (1 - beta**t) * a / (np.sqrt(b) + eps)
            path.append(w)
        paths[racer] = np.array(path)
    return paths


def test_week05_optimizer_race_races_the_students_rules(page, lab):
    path = "week05_optimizers/homework.ipynb"
    hw = Homework(page, lab, path, "yours_update_rules", needs=("setup", *WEEK05_RULES))
    hw.run()
    text = hw.line("not written yet")
    assert text.count("not written yet") == 4, text
    assert hw.drawn("OptimizerRace", "[p is None for p in d.their_paths.values()]") == [True] * 4
    hw.shot("not-written")

    # The solution's rules: each dashed path is the one the controls' settings give, recomputed here.
    hw.solve(*WEEK05_RULES)
    hw.run()
    text = hw.line("agrees")
    assert text.count("agrees with nblib's") == 4, text
    root = hw.notebook.panel.locator(".jp-Cell").nth(hw.demo)
    lr = 10 ** handle_value(labelled(root, ".widget-slider", "learning rate lr"))  # a log slider: 10^(-1.7)
    beta = round(handle_value(labelled(root, ".widget-slider", "beta (momentum, Adam β1)")), 2)      # steps of 0.01
    beta2 = round(handle_value(labelled(root, ".widget-slider", "beta2 (RMSprop ρ, Adam β2)")), 3)  # steps of 0.001
    steps = int(handle_value(labelled(root, ".widget-slider", "steps")))
    assert (lr, beta, beta2, steps) == (pytest.approx(0.02, rel=0.01), 0.9, 0.999, 150)
    drawn = hw.drawn("OptimizerRace", "{r: p.tolist() for r, p in d.their_paths.items()}")
    for racer, expected in bowl_paths(lr, beta, beta2, steps).items():
        assert np.array(drawn[racer]) == pytest.approx(expected, rel=1e-9, abs=1e-12), racer
    hw.shot("solution")

    # A planted Adam without the bias correction: its first step is lr * 0.1 / sqrt(0.001), not lr.
    hw.notebook.kernel(NO_BIAS_CORRECTION_ADAM)
    hw.notebook.run_cell(hw.demo)
    theirs = -4.5 + lr * 0.1 * 4.5 / (np.sqrt(0.001) * 4.5 + 1e-7)     # x after step 1, g_x = -4.5
    nblibs = bowl_paths(lr, beta, beta2, 1)["Adam"][1, 0]
    text = hw.line("differs")
    assert f"your adam_step first differs at [1, 0]: {theirs:.4g} against nblib's {nblibs:.4g}" in text, text
    assert text.count("agrees with nblib's") == 3, text
    assert cell_errors(hw.notebook, hw.demo) == []
    hw.shot("planted-no-bias-correction")


# -- week 6: the initialization explorer through the student's initializers --------------------------

# A He initialization students write: LeCun's variance 1 / fan_in, the factor 2 forgotten.
NO_FACTOR_2_HE = """
def he_normal(shape, *, rng):
    rng = np.random.default_rng(rng)
    fan_in, _ = fans(shape)
    z = rng.standard_normal(size=shape)
    outside = np.abs(z) > 2
    while outside.any():
        z[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(z) > 2
    return np.sqrt(1 / fan_in) / 0.87962566103423978 * z
"""


def he_relu_stack(depth, width, batch, seed=0):
    """The explorer's stack written out with Keras's HeNormal: (W_1, the std of each ReLU layer's output)."""
    rng = np.random.default_rng(seed)
    h, stds, first = rng.standard_normal((batch, width)), [], None
    for _ in range(depth):
        z = rng.standard_normal((width, width))
        while (np.abs(z) > 2).any():                                   # redraw the tails beyond ±2
            z[np.abs(z) > 2] = rng.standard_normal(int((np.abs(z) > 2).sum()))
        W = np.sqrt(2 / width) / 0.87962566103423978 * z               # Var(W) = 2 / fan_in
        first = W if first is None else first
        h = np.maximum(h @ W, 0.0)                                     # (N, W) @ (W, W) -> (N, W)
        stds.append(h.std())
    return first, np.array(stds)


def finished(hw: Homework) -> None:
    """Wait until the newest explorer's Run has been through every layer (it runs in the background)."""
    deadline = time.monotonic() + 60
    while not hw.drawn("InitExplorer", "len(d.stats) == d.computed['depth'] and not d.run.running"):
        assert time.monotonic() < deadline, "the explorer's forward pass did not finish"
        time.sleep(0.3)


def test_week06_init_explorer_draws_the_students_initializers(page, lab):
    path = "week06_training_deep/homework.ipynb"
    hw = Homework(page, lab, path, "yours_initializers", needs=("setup", "he_normal", "glorot_uniform"))
    hw.run()
    assert "not written yet" in hw.line("not written yet")
    finished(hw)
    assert hw.drawn("InitExplorer", "bool(np.isnan(d.their_stds).all())") is True
    hw.shot("not-written")

    # The solution's initializers: the diamonds are the spread of the stack the controls describe.
    hw.solve("he_normal", "glorot_uniform")
    hw.run()
    assert "agrees with nblib's" in hw.line("your he_normal agrees")
    finished(hw)
    root = hw.notebook.panel.locator(".jp-Cell").nth(hw.demo)
    depth = int(handle_value(labelled(root, ".widget-slider", "depth (layers)")))
    chosen = [labelled(root, ".widget-dropdown", label).locator("select").input_value()
              for label in ("initializer", "activation")]
    assert (depth, chosen) == (20, ["he_normal", "relu"])
    W1, stds = he_relu_stack(depth, width=128, batch=128)               # the cell's width and batch
    assert hw.drawn("InitExplorer", "d.their_stds.tolist()") == pytest.approx(stds, rel=1e-9)
    hw.shot("solution")

    # A planted He without its factor 2: every weight is nblib's / sqrt(2), and the spread falls layer by layer.
    hw.notebook.kernel(NO_FACTOR_2_HE)
    hw.notebook.run_cell(hw.demo)
    text = hw.line("differs")
    assert f"your he_normal first differs at [0, 0]: {W1[0, 0] / np.sqrt(2):.4g} against nblib's {W1[0, 0]:.4g}" in text, text
    finished(hw)
    their = hw.drawn("InitExplorer", "d.their_stds.tolist()")
    assert their[-1] < 0.1 * stds[-1], their
    hw.shot("planted-no-factor-2")
    labelled(root, ".widget-dropdown", "initializer").locator("select").select_option("glorot_uniform")
    assert "your glorot_uniform agrees" in hw.line("glorot_uniform agrees")
    assert cell_errors(hw.notebook, hw.demo) == []


# -- week 7: --------------------------------------------------------------------------------------


def correlate_by_hand(image, kernel, padding):
    """Keras's convolution written out: out[i, j] = sum of x_pad[i + p, j + q] K[p, q] (3x3 at stride 1:
    'same' is one zero all round)."""
    x = np.pad(image, 1) if padding == "same" else image
    H, W = x.shape[0] - 2, x.shape[1] - 2
    return np.array([[np.sum(x[i:i + 3, j:j + 3] * kernel) for j in range(W)] for i in range(H)])


def shown_kernel(root) -> np.ndarray:
    """The 3x3 kernel the page's nine sliders and the factor show."""
    entries = [handle_value(labelled(root, ".widget-slider", f"K[{p},{q}]")) for p in range(3) for q in range(3)]
    factor = {"1": 1.0, "1/9": 1 / 9, "1/16": 1 / 16}[labelled(root, ".widget-dropdown", "times").locator(
        "select").input_value()]
    return np.array(entries).reshape(3, 3) * factor


def test_week07_filter_explorer_shows_the_students_convolution_and_pooling(page, lab):
    from nblib import data

    path = "week07_cnn/homework.ipynb"
    hw = Homework(page, lab, path, "yours_conv2d_forward",
                  needs=("setup", "output_size", "conv2d_forward", "maxpool_forward"))
    digit = data.digits_28x28(source="digits").X_test[0, :, :, 0].astype(float)   # the demo's digit 0, (28, 28)

    # Untouched: both stubs raise NotImplementedError; the demo says so and draws nblib's alone.
    hw.run()
    hw.line("conv2d_forward is not written yet")
    assert "maxpool_forward is not written yet" in hw.line("maxpool_forward is not written yet")
    assert hw.drawn("FilterExplorer", "d.their_feature is None and d.their_pooled is None") is True
    hw.shot("not-written")

    # The solution's functions: the orange row is the convolution and pooling of the kernel shown.
    hw.solve("output_size", "conv2d_forward", "maxpool_forward")
    hw.run()
    root = hw.notebook.panel.locator(".jp-Cell").nth(hw.demo)
    assert "maxpool_forward agrees" in hw.line("maxpool_forward agrees")
    assert "conv2d_forward agrees with nblib's" in hw.line("conv2d_forward agrees")
    K = shown_kernel(root)
    np.testing.assert_array_equal(K, [[1, 0, -1], [2, 0, -2], [1, 0, -1]])          # the vertical Sobel
    feature = correlate_by_hand(digit, K, "valid")                                  # (26, 26)
    pooled = np.maximum(feature, 0).reshape(13, 2, 13, 2).max(axis=(1, 3))          # ReLU, then 2x2 blocks' max
    assert hw.drawn("FilterExplorer", "d.their_feature.tolist()") == pytest.approx(feature, abs=1e-12)
    assert hw.drawn("FilterExplorer", "d.their_pooled.tolist()") == pytest.approx(pooled, abs=1e-12)
    hw.shot("solution")

    # A planted flipped kernel (true convolution): the Sobel flipped is its negative, so the first
    # position where the digit has a vertical edge differs; the symmetric box blur agrees.
    hw.notebook.kernel("def conv2d_forward(x, W, b, *, stride=1, padding='valid'):\n"
                       "    return conv.conv2d_forward(x, W[::-1, ::-1], b, stride=stride, padding=padding)[0]")
    hw.notebook.run_cell(hw.demo)
    text = hw.line("conv2d_forward first differs")
    flipped = correlate_by_hand(digit, K[::-1, ::-1], "valid")
    i, j = np.argwhere(~np.isclose(flipped, feature, rtol=1e-6, atol=1e-9))[0]
    assert f"first differs at [0, {i}, {j}, 0]: {flipped[i, j]:.4g} against nblib's {feature[i, j]:.4g}" in text, text
    hw.shot("planted-flipped")
    labelled(root, ".widget-dropdown", "kernel").locator("select").select_option(label="blur (box)")
    assert "conv2d_forward agrees" in hw.line("conv2d_forward agrees")
    assert cell_errors(hw.notebook, hw.demo) == []


# -- week 8: --------------------------------------------------------------------------------------


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_written_out(x, kernel, recurrent_kernel, bias):
    """Keras's LSTM over one sequence x (T, D) from zero states, blocks i, f, c, o: h, c each (T, H)."""
    H = recurrent_kernel.shape[0]
    h, c, hs, cs = np.zeros(H), np.zeros(H), [], []
    for x_t in x:
        z = x_t @ kernel + h @ recurrent_kernel + bias                      # (4H,)
        c = sigmoid(z[H:2 * H]) * c + sigmoid(z[:H]) * np.tanh(z[2 * H:3 * H])
        h = sigmoid(z[3 * H:]) * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.array(hs), np.array(cs)


def trained_cell(hw: Homework, root):
    """Once the viewer's training has finished: the shown sequence (T, D) and the LSTM's weights."""
    root.locator(".nnf-run", has_text="finished").wait_for(timeout=120_000)
    k = int(handle_value(labelled(root, ".widget-slider", "example")))
    x = np.array(hw.drawn("LSTMGateViewer", f"d.examples[0][{k}].tolist()"))
    kernel, recurrent_kernel, bias = (np.array(p) for p in hw.drawn(
        "LSTMGateViewer", "[p.tolist() for p in d.model.layers[0].params.values()]"))
    return x, kernel, recurrent_kernel, bias


def test_week08_gate_viewer_replays_the_students_lstm_step(page, lab):
    path = "week08_rnn_lstm/homework.ipynb"
    hw = Homework(page, lab, path, "yours_lstm_step", needs=("setup", "lstm_step"))
    root = hw.notebook.panel.locator(".jp-Cell").nth(hw.demo)

    # Untouched: the stub raises NotImplementedError; the viewer says so and draws nblib's gates alone.
    hw.run()
    assert "not written yet" in hw.line("lstm_step is not written yet")
    assert hw.drawn("LSTMGateViewer", "d.their_c is None and d.their_h is None") is True
    hw.shot("not-written")

    # The solution's lstm_step: the orange rows are the states of the trained cell, written out here.
    hw.solve("lstm_step")
    hw.run()
    x, kernel, recurrent_kernel, bias = trained_cell(hw, root)
    assert x.shape == (12, 2) and kernel.shape == (2, 8)
    assert "agrees with nblib's at every step t = 1..12" in hw.line("agrees")
    h, c = lstm_written_out(x, kernel, recurrent_kernel, bias)
    assert hw.drawn("LSTMGateViewer", "d.their_h.tolist()") == pytest.approx(h, abs=1e-12)
    assert hw.drawn("LSTMGateViewer", "d.their_c.tolist()") == pytest.approx(c, abs=1e-12)
    hw.shot("solution")

    # A planted lstm_step that reads the blocks as i, f, o, c: it differs at step 1, where the
    # states are zero and h = o * tanh(i * g), with o and g exchanged.
    hw.notebook.kernel("def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):\n"
                       "    H = h_prev.shape[1]\n"
                       "    z = x_t @ kernel + h_prev @ recurrent_kernel + bias\n"
                       "    i, f, o = 1 / (1 + np.exp(-z[:, :H])), 1 / (1 + np.exp(-z[:, H:2 * H])), "
                       "1 / (1 + np.exp(-z[:, 2 * H:3 * H]))\n"
                       "    c = f * c_prev + i * np.tanh(z[:, 3 * H:])\n"
                       "    return o * np.tanh(c), c")
    hw.notebook.run_cell(hw.demo)
    press(labelled(root, ".widget-slider", "example"), "ArrowRight", 2)      # another sequence: example 2
    x, kernel, recurrent_kernel, bias = trained_cell(hw, root)
    assert int(handle_value(labelled(root, ".widget-slider", "example"))) == 2
    z = x[0] @ kernel + bias                                                 # step 1, zero states: (8,)
    right = sigmoid(z[6:]) * np.tanh(sigmoid(z[:2]) * np.tanh(z[4:6]))
    wrong = sigmoid(z[4:6]) * np.tanh(sigmoid(z[:2]) * np.tanh(z[6:]))
    u = np.argwhere(~np.isclose(wrong, right, rtol=1e-6, atol=1e-9))[0][0]
    expected = f"at step t = 1: (output 1 of 2) first differs at [0, {u}]: {wrong[u]:.4g} against nblib's {right[u]:.4g}"
    assert expected in hw.line(re.escape(expected))
    assert cell_errors(hw.notebook, hw.demo) == []
    hw.shot("planted-gate-order")


# -- week 9: --------------------------------------------------------------------------------------


def attention_by_hand(angle, length, scaled=True):
    """One query at ``angle`` degrees and ``length`` over the explorer's five keys (= values), written
    out: scores q . k_j (/ sqrt 2), softmax over the keys; returns the weights (5,) and output (2,)."""
    from nblib.widgets.attention_explorer import KEYS                      # the five points: data, not maths

    q = length * np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
    scores = np.array([q @ key for key in KEYS]) / (np.sqrt(2) if scaled else 1.0)
    e = np.exp(scores - scores.max())
    weights = e / e.sum()
    return weights, weights @ KEYS


def test_week09_attention_explorer_shows_the_students_attention(page, lab):
    path = "week09_attention/homework.ipynb"
    hw = Homework(page, lab, path, "yours_scaled_dot_product_attention",
                  needs=("setup", "scaled_dot_product_attention", "masks"))
    root = hw.notebook.panel.locator(".jp-Cell").nth(hw.demo)

    # Untouched: the stub raises NotImplementedError; the explorer says so and draws nblib's alone.
    hw.run()
    assert "not written yet" in hw.line("scaled_dot_product_attention is not written yet")
    assert hw.drawn("AttentionExplorer", "d.their_weights is None and d.their_output is None") is True
    hw.shot("not-written")

    # The solution's functions: the diamonds are the weights and output of the query the page shows.
    hw.solve("scaled_dot_product_attention", "masks")
    hw.run()
    assert "agrees with nblib's" in hw.line("agrees")
    angle = handle_value(labelled(root, ".widget-slider", "query angle (°)"))
    length = handle_value(labelled(root, ".widget-slider", "query length"))
    assert (angle, length) == (30, 2)
    weights, output = attention_by_hand(angle, length)
    assert hw.drawn("AttentionExplorer", "d.their_weights.tolist()") == pytest.approx(weights, rel=1e-12)
    assert hw.drawn("AttentionExplorer", "d.their_output.tolist()") == pytest.approx(output, rel=1e-12)
    hw.shot("solution")

    # A planted attention without the division by sqrt(d_k): the output differs at once; turned to
    # 45 degrees, at the position this test computes for 45 degrees.
    hw.notebook.kernel("def scaled_dot_product_attention(q, k, v, mask=None):\n"
                       "    scores = q @ np.swapaxes(k, -1, -2)\n"
                       "    if mask is not None:\n"
                       "        scores = np.where(mask, scores, -1e9)\n"
                       "    e = np.exp(scores - scores.max(axis=-1, keepdims=True))\n"
                       "    weights = e / e.sum(axis=-1, keepdims=True)\n"
                       "    return weights @ v, weights")
    hw.notebook.run_cell(hw.demo)
    assert "first differs" in hw.line("first differs")
    press(labelled(root, ".widget-slider", "query angle (°)"), "ArrowRight", 3)   # 5 degrees a press
    angle = handle_value(labelled(root, ".widget-slider", "query angle (°)"))
    assert angle == 45
    right, wrong = attention_by_hand(angle, length)[1], attention_by_hand(angle, length, scaled=False)[1]
    j = np.argwhere(~np.isclose(wrong, right, rtol=1e-6, atol=1e-9))[0][0]
    expected = f"(output 1 of 2) first differs at [0, {j}]: {wrong[j]:.4g} against nblib's {right[j]:.4g}"
    assert expected in hw.line(re.escape(expected))
    assert hw.drawn("AttentionExplorer", "d.result.weights.tolist()") == pytest.approx(attention_by_hand(angle, length)[0], rel=1e-12)
    assert cell_errors(hw.notebook, hw.demo) == []
    hw.shot("planted-no-scaling")
