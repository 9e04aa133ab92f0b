"""The lessons' demos with a slow kernel, in a real browser: controls debounce, trainings show
their progress and stop, and what is drawn is what was computed.

A module of its own, so that pytest-xdist runs it beside ``test_in_jupyterlab.py`` on the other
worker (each worker has its JupyterLab, see ``conftest.py``). Each lesson is run once: its
scenarios follow one another on one page, each with a fresh demo (``open_slow_demo``).
"""

from __future__ import annotations

import json
import re
import time

import nbformat
import numpy as np
import pytest
from playwright.sync_api import expect  # in the test extras: missing means a broken setup

from tests.browser.conftest import new_page
from tests.browser.lab import Notebook, screenshot
from tests.browser.test_in_jupyterlab import LESSONS, NOTEBOOKS, open_notebook, pick_other_option, shot_name


@pytest.fixture(scope="module")
def page(browser):
    """One page for the module: each lesson is opened and run once, and its scenarios follow
    one another on it (see ``open_lesson``)."""
    with new_page(browser) as page:
        yield page


# -- lessons with a slow kernel: controls debounce, training shows progress and stops ---------

WEEK01_LESSON = "week01_perceptron/lesson.ipynb"
WEEK02_LESSON = "week02_activations_forward/lesson.ipynb"
WEEK03_LESSON = "week03_softmax_cross_entropy/lesson.ipynb"
WEEK04_LESSON = "week04_backprop/lesson.ipynb"
WEEK05_LESSON = "week05_optimizers/lesson.ipynb"
WEEK06_LESSON = "week06_training_deep/lesson.ipynb"
WEEK07_LESSON = "week07_cnn/lesson.ipynb"
WEEK08_LESSON = "week08_rnn_lstm/lesson.ipynb"
WEEK09_LESSON = "week09_attention/lesson.ipynb"

# Logs each call to a Debouncer, as (when, debouncer); `_gaps(since, debouncers)` counts the calls to
# any of `debouncers` after `since` (time.monotonic) that came a whole wait after that one's call before:
# the moments its timer could run out, when changes are acted on more than once.
DEBOUNCER_CALLS = """
import time, nblib.widgets as _w
_calls = []
if not hasattr(_w.Debouncer.__call__, "logged"):  # once per kernel
    _debounce = _w.Debouncer.__call__
    def _logged_call(self, *args):
        _calls.append((time.monotonic(), self))
        return _debounce(self, *args)
    _logged_call.logged = True
    _w.Debouncer.__call__ = _logged_call
def _gaps(since, debouncers):
    times = {id(d): [] for d in debouncers}
    for t, d in _calls:
        if t >= since and id(d) in times:
            times[id(d)].append((t, d.wait))
    return sum(b - a >= wait for ts in times.values() for (a, wait), (b, _) in zip(ts, ts[1:]))
"""

# Makes every demo's drawing (0.4 s) and every training step (0.3 s) slow (while _slow), and logs each
# drawing and each training a demo starts, as (when, demo), and (DEBOUNCER_CALLS) each call to a Debouncer.
SLOW_KERNEL = DEBOUNCER_CALLS + """
import time, nblib.widgets as _w
_renders, _retrains = [], []  # (time.monotonic(), demo): drawings put on the page; trainings started
_render, _take_step = _w.Demo._render, _w.Run._take_step
_slow = True  # False while a scenario's fresh demo makes its first drawing and training
def _slow_render(self):
    time.sleep(0.4 * _slow)
    _renders.append((time.monotonic(), self))
    _render(self)
def _slow_step(self, steps):
    time.sleep(0.3 * _slow)
    return _take_step(self, steps)
_w.Demo._render, _w.Run._take_step = _slow_render, _slow_step
def _counted(retrain):
    if getattr(retrain, "counted", False):  # counted already: once per call, not twice
        return retrain
    def counted_retrain(self):
        _retrains.append((time.monotonic(), self))
        retrain(self)
    counted_retrain.counted = True
    return counted_retrain
for _demo in (_w.PerceptronPlayground, _w.UniversalApproximation):  # the demos that train
    _demo.retrain = _counted(_demo.retrain)
def _apart(since, debouncer):
    # _gaps of the demos' Debouncer `debouncer` (an attribute's name) since `since`
    return _gaps(since, [getattr(d, debouncer) for _, d in _renders + _retrains if hasattr(d, debouncer)])
def _count(log, demo=None):
    '''How many entries of `log` are for a demo of class `demo` (a name; None: any).'''
    return sum(demo is None or type(d).__name__ == demo for _, d in log)
def _last(demo):
    '''The demo of class `demo` (a name) that drew or trained last.'''
    return next(d for _, d in sorted(_renders + _retrains, key=lambda e: e[0], reverse=True)
                if type(d).__name__ == demo)
"""


def wait_for_quiet(notebook: Notebook, *, after: int = -1, seconds: float = 1.5, timeout: float = 60,
                   demo: str | None = None) -> int:
    """Wait until the kernel has drawn more than ``after`` times and then nothing for ``seconds``;
    returns the number of drawings. ``demo`` (a class name) counts only that demo's drawings."""
    deadline = time.monotonic() + timeout
    while True:
        count, idle_for = map(float, notebook.kernel(
            f"print(_count(_renders, {demo!r}), time.monotonic() - (_renders[-1][0] if _renders else 0))").split())
        if count > after and idle_for >= seconds:
            return int(count)
        if time.monotonic() > deadline:
            raise AssertionError(f"no quiet moment with more than {after} drawings within {timeout:.0f} s")
        time.sleep(0.3)


def kernel_time(notebook: Notebook) -> float:
    """The kernel's clock (time.monotonic), to pass to ``at_most`` as the moment changes start."""
    return float(notebook.kernel("print(time.monotonic())"))


def at_most(notebook: Notebook, since: float, debouncer: str) -> int:
    """How many drawings or trainings the changes made since ``since`` (``kernel_time``) may cause
    through the demo's Debouncer ``debouncer`` (the name of its attribute, e.g. "_draw_soon").

    Changes made while the kernel is busy are acted on once. But ipywidgets' front end sends a
    control's next change only once the kernel has answered its last, so on a loaded machine the
    changes can still reach the demo a whole debounce wait apart, and the Debouncer then rightly
    acts on each part: one, plus one for each such gap (none, on a machine that is not overloaded).
    """
    return 1 + int(notebook.kernel(f"print(_apart({since!r}, {debouncer!r}))"))


def slider_value(slider) -> tuple[int, int]:
    handle = slider.locator(".noUi-handle").first
    return round(float(handle.get_attribute("aria-valuenow"))), round(float(handle.get_attribute("aria-valuemax")))


def handle_value(slider, handle: int = 0) -> float:
    """The exact value of a slider's handle (0: the lower one) on the page; a log slider's exponent."""
    return float(slider.locator(".noUi-handle").nth(handle).get_attribute("aria-valuetext"))


def press(slider, key: str, times: int, handle: int = 0) -> None:
    """Quick keyboard presses on a slider's handle, as a student taps an arrow key."""
    knob = slider.locator(".noUi-handle").nth(handle)
    knob.focus()
    for _ in range(times):
        knob.press(key)


def labelled(root, selector: str, label: str):
    """The control (``selector``) in ``root`` whose label reads exactly ``label``."""
    return root.locator(selector).filter(
        has=root.page.locator(".widget-label", has_text=re.compile(f"^{re.escape(label)}$")))


# Lessons whose demos are driven with a slow kernel below. A lesson that shows an nblib
# demo must be in here: add its scenario when you add the demo.
SLOW_KERNEL_SCENARIOS = {
    WEEK01_LESSON: ("test_week01_training_shows_progress_and_stops_with_a_slow_kernel",
                    "test_week01_controls_debounce_with_a_slow_kernel",
                    "test_week01_weights_set_by_hand_with_a_slow_kernel"),
    WEEK02_LESSON: ("test_week02_activation_controls_debounce_with_a_slow_kernel",
                    "test_week02_approximation_training_shows_progress_and_stops_with_a_slow_kernel",
                    "test_week02_approximation_retrains_once_for_quick_width_changes_with_a_slow_kernel"),
    WEEK03_LESSON: ("test_week03_softmax_controls_debounce_with_a_slow_kernel",),
    WEEK04_LESSON: ("test_week04_gradient_descent_controls_debounce_with_a_slow_kernel",
                    "test_week04_training_progress_moves_while_fit_runs_with_a_slow_kernel"),
    WEEK05_LESSON: ("test_week05_optimizer_race_controls_debounce_with_a_slow_kernel",),
    WEEK06_LESSON: ("test_week06_init_explorer_shows_progress_and_stops_with_a_slow_kernel",
                    "test_week06_init_explorer_recomputes_once_for_quick_changes_with_a_slow_kernel"),
    WEEK07_LESSON: ("test_week07_filter_explorer_shows_progress_and_stops_with_a_slow_kernel",
                    "test_week07_filter_explorer_recomputes_once_for_quick_changes_with_a_slow_kernel"),
    WEEK08_LESSON: ("test_week08_gate_viewer_shows_progress_and_stops_with_a_slow_kernel",
                    "test_week08_gate_viewer_retrains_once_for_quick_changes_with_a_slow_kernel"),
    WEEK09_LESSON: ("test_week09_attention_explorer_shows_progress_and_stops_with_a_slow_kernel",
                    "test_week09_attention_explorer_resamples_once_for_quick_changes_with_a_slow_kernel"),
}


@pytest.mark.parametrize("path", LESSONS)
def test_every_lesson_demo_has_a_slow_kernel_scenario(path):
    source = (NOTEBOOKS / path).read_text(encoding="utf-8")
    if "nblib.widgets" in source:
        assert path in SLOW_KERNEL_SCENARIOS, f"{path} shows a demo: add a slow-kernel test for it"
        for name in SLOW_KERNEL_SCENARIOS[path]:
            assert callable(globals().get(name)), f"{name} is not a test in this module"


# The lesson open on the module's page, run once: {"path": ..., "notebook": ..., "used": cells whose demo
# a scenario has driven}. Running a lesson takes most of a scenario's time; its next scenarios run
# only their demo's cell again, for a fresh demo in a kernel that already holds everything else.
_lesson: dict = {}


def open_lesson(page, lab, path: str) -> Notebook:
    """``path`` open on the module's page and run (once per module, unless another lesson came
    between), its demos' first trainings over, then a slow kernel."""
    if _lesson.get("path") != path:
        notebook = open_notebook(page, lab, path)
        notebook.run_all()
        wait_for_first_trainings(notebook.panel)
        notebook.kernel(SLOW_KERNEL)
        _lesson.clear()
        _lesson.update(path=path, notebook=notebook, used=set())
    return _lesson["notebook"]


def wait_for_first_trainings(where) -> None:
    """A demo's first training goes on in the background after its cell has run: let it end at
    full speed, so that it neither draws nor trains during the scenario."""
    for stop in where.locator(".nnf-run-stop").all():
        expect(stop).to_be_disabled(timeout=60_000)


def open_slow_demo(page, lab, path: str, has: str):
    """``path``'s demo that holds ``has`` (a selector), fresh, with a slow kernel and empty logs;
    returns the notebook and the demo's root. A demo an earlier scenario drove is made again: its
    cell runs again at full speed, then the kernel is slow again."""
    notebook = open_lesson(page, lab, path)
    cells = notebook.panel.locator(".jp-Cell")
    index = next(i for i in range(cells.count()) if cells.nth(i).locator(has).count())
    if index in _lesson["used"]:
        notebook.kernel("_slow = False")
        notebook.run_cell(index)
        cells.nth(index).locator(has).first.wait_for()
        wait_for_first_trainings(cells.nth(index))
        notebook.kernel("_slow = True")
    _lesson["used"].add(index)
    notebook.kernel("_renders.clear(); _retrains.clear(); _calls.clear()")  # the scenario's own only
    root = next(r for r in notebook.widget_roots() if r.locator(has).count())
    return notebook, root


# -- week 1: the perceptron playground


def train_xor_and_stop(notebook, root) -> int:
    """Start a training that would run 25 epochs, stop it after a few; returns the epochs run."""
    run = root.locator(".nnf-run")
    root.locator(".widget-dropdown select").select_option(label="XOR")  # XOR never converges
    run.filter(has_text=re.compile(r"epoch ([3-9]|1\d) of 25")).wait_for(timeout=30_000)
    screenshot(root, shot_name(WEEK01_LESSON, "slow-kernel-training"))
    run.locator(".nnf-run-stop").click()
    run.filter(has_text=re.compile(r"stopped after \d+ epochs")).wait_for(timeout=30_000)
    return int(re.search(r"stopped after (\d+) epochs", run.inner_text()).group(1))


def test_week01_training_shows_progress_and_stops_with_a_slow_kernel(page, lab):
    notebook, root = open_slow_demo(page, lab, WEEK01_LESSON, ".nnf-run")
    k = train_xor_and_stop(notebook, root)
    assert 3 <= k < 25, root.locator(".nnf-run").inner_text()
    wait_for_quiet(notebook)
    bar = root.locator(".nnf-run-progress .progress-bar")
    assert 0 < float(bar.evaluate("b => parseFloat(b.style.width)")) < 100, "the bar stopped part way"
    assert slider_value(root.locator(".widget-slider", has_text="epoch")) == (k, k), \
        "the epoch slider covers the epochs trained, and sits on the last"
    assert root.locator(".widget-html", has_text=re.compile(rf"^epoch {k}\b")).count() == 1, \
        "the plot shows the last epoch trained, where the slider is"
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK01_LESSON, "slow-kernel-stopped"))


def test_week01_controls_debounce_with_a_slow_kernel(page, lab):
    """ipywidgets' front end holds back a control's updates while the kernel is busy; the
    demo's Debouncer also merges updates that reach the kernel together, across controls."""
    notebook, root = open_slow_demo(page, lab, WEEK01_LESSON, ".nnf-run")
    k = train_xor_and_stop(notebook, root)

    # Nine quick moves of the epoch slider: the last position is drawn, not all nine.
    epoch = root.locator(".widget-slider", has_text="epoch")
    before = wait_for_quiet(notebook)
    handle = epoch.locator(".noUi-handle").first
    handle.focus()
    for i in range(9):
        handle.press("ArrowLeft" if i % 2 == 0 else "ArrowRight")
    assert slider_value(epoch)[0] == k - 1
    drawings = wait_for_quiet(notebook, after=before) - before
    assert 1 <= drawings <= 3, f"{drawings} drawings for 9 slider moves"
    assert root.locator(".widget-html", has_text=re.compile(rf"^epoch {k - 1}\b")).count() == 1

    # Three settings changed while the kernel is busy reach it together: one retraining.
    retrains = int(notebook.kernel("print(len(_retrains))"))
    since = kernel_time(notebook)
    with notebook.kernel_held():
        root.locator(".widget-dropdown select").select_option(label="AND")
        root.locator(".widget-checkbox", has_text="start from zero weights").locator("input").click()
        root.locator(".widget-slider", has_text="learning rate").locator(".noUi-handle").first.press("ArrowRight")
    root.locator(".nnf-run", has_text="finished").wait_for(timeout=30_000)
    wait_for_quiet(notebook)
    assert 1 <= int(notebook.kernel("print(len(_retrains))")) - retrains <= at_most(notebook, since, "_retrain_soon"), \
        "one retraining for three changes"
    assert root.locator(".widget-html", has_text="training converged").count() == 1  # AND is separable
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK01_LESSON, "slow-kernel-debounced"))


def test_week01_weights_set_by_hand_with_a_slow_kernel(page, lab):
    """Moving w1 or b stops training and shows that line and its count of misclassified points,
    drawn once the quick presses settle; unticking "set w and b by hand" trains from that line."""
    notebook, root = open_slow_demo(page, lab, WEEK01_LESSON, ".nnf-run")
    root.locator(".widget-dropdown select").select_option(label="AND")
    root.locator(".widget-html", has_text="training converged").wait_for(timeout=30_000)
    by_hand = root.locator(".widget-checkbox", has_text="set w and b by hand").locator("input")
    expect(by_hand).not_to_be_checked()
    w1, w2, b = (labelled(root, ".widget-slider", name) for name in ("w1", "w2", "b"))

    before = wait_for_quiet(notebook)
    press(w1, "ArrowLeft", 5)   # 1.0 -> 0.5, one step of 0.1 per press
    press(b, "ArrowLeft", 10)   # 0.5 -> -0.5
    expect(by_hand).to_be_checked()  # a hand slider switches to setting by hand
    drawings = wait_for_quiet(notebook, after=before) - before
    assert 1 <= drawings <= 7, f"{drawings} drawings for 15 slider presses"  # at most every other one

    w, bias = np.array([handle_value(w1), handle_value(w2)]), handle_value(b)
    assert (w.tolist(), bias) == ([0.5, -0.5], -0.5)
    X, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 0, 0, 1])  # AND
    wrong = int(((X @ w + bias >= 0).astype(int) != y).sum())  # the step: 1 when z >= 0
    assert wrong == 2  # (1, 0) sits on the line and counts as 1; (1, 1) falls below it
    status = root.locator(".widget-html", has_text="w and b set by hand")
    expect(status).to_contain_text(f"{wrong} of 4 points misclassified")
    kernel_side = notebook.kernel("pg = _last('PerceptronPlayground'); "
                                  "print(pg.run.running, pg.epoch.max, "
                                  "*[round(float(v), 6) for v in (*pg.fit.weights[-1], pg.fit.biases[-1])])")
    assert kernel_side.split() == ["False", "0", "0.5", "-0.5", "-0.5"], kernel_side
    screenshot(root, shot_name(WEEK01_LESSON, "slow-kernel-by-hand"))

    by_hand.click()  # untick: train from the hand-set line
    root.locator(".widget-html", has_text="training converged").wait_for(timeout=60_000)
    start = notebook.kernel("pg = _last('PerceptronPlayground'); "
                            "print(*[round(float(v), 6) for v in (*pg.fit.weights[0], pg.fit.biases[0])])")
    assert start.split() == ["0.5", "-0.5", "-0.5"], start
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK01_LESSON, "slow-kernel-trained-from-hand"))


# -- week 2: the activation explorer and the universal-approximation demo

# Activations the explorer's scenario picks, written out here: g, g' and the output range.
ACTIVATIONS = {
    "elu": (lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
            lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0))), "(-1, ∞)"),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2, "(-1, 1)"),
}


def test_week02_activation_controls_debounce_with_a_slow_kernel(page, lab):
    """Three controls changed while the kernel is busy: one drawing, of the final settings."""
    notebook, root = open_slow_demo(page, lab, WEEK02_LESSON, ".widget-checkbox:has-text('show derivative')")
    activation = labelled(root, ".widget-dropdown", "activation").locator("select")
    x_range = labelled(root, ".widget-slider", "x range")
    show_derivative = root.locator(".widget-checkbox", has_text="show derivative").locator("input")
    status = root.locator(".widget-html", has_text="output range")
    name = "elu" if activation.input_value() != "elu" else "tanh"

    before = wait_for_quiet(notebook)
    since = kernel_time(notebook)
    with notebook.kernel_held():
        activation.select_option(name)
        show_derivative.click()
        press(x_range, "ArrowRight", 1)  # the lower end, one step up
    drawings = wait_for_quiet(notebook, after=before, demo="ActivationExplorer") - before
    assert 1 <= drawings <= at_most(notebook, since, "_draw_soon"), f"{drawings} drawings for three changes that reached a busy kernel"

    # The drawing is of the final settings, computed here from what the page's controls show.
    g, dg, output_range = ACTIVATIONS[name]
    low, high = handle_value(x_range, 0), handle_value(x_range, 1)
    points, derivative_shown = json.loads(notebook.kernel(
        "import json; _d = _last('ActivationExplorer'); print(json.dumps([_d.points, _d.derivative_line.get_visible()]))"))
    x = np.linspace(low, high, points)
    y, flat = g(x), np.abs(dg(x)) < 0.05
    edges = np.flatnonzero(np.diff(flat.astype(int)))
    spans = [(x[s], x[e]) for s, e in zip([0, *(edges + 1)], [*edges, len(x) - 1]) if flat[s]]
    saturated = ", ".join(f"[{a:.1f}, {b:.1f}]" for a, b in spans) or "nowhere"
    text = status.inner_text()
    assert f"{name}: output range {output_range}; on this x range from {y.min():.3g} to {y.max():.3g}. " \
           f"g(0) = 0, g'(0) = 1. Saturated (|g'| < 0.05): {saturated}." in text, text
    assert derivative_shown == show_derivative.is_checked(), "the drawing shows g' as the checkbox says"
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK02_LESSON, "activations-slow-kernel-debounced"))


def approximation_settings(notebook: Notebook) -> dict:
    """What the universal-approximation demo trains with: its controls' values and its fixed settings."""
    return json.loads(notebook.kernel(
        "import json; _d = _last('UniversalApproximation'); print(json.dumps({**_d.fitted, 'lr': _d.lr, "
        "'seed': _d.seed, 'points': len(_d.x), 'steps_per_block': _d.steps_per_block, 'blocks': _d.blocks}))"))


def approximation_mse(settings: dict, steps: int) -> float:
    """The training MSE of week 2's network after ``steps`` full-batch Adam steps (eps = 1e-8) from
    the demo's seeded start, trained here, in this process (without the demo's widgets or their Run)."""
    from nblib import layers, optim
    from nblib.widgets import approximation as UA

    x = np.linspace(*UA.DOMAIN, settings["points"])[:, None]  # (N, 1)
    y = UA.TARGETS[settings["target"]][0](x)
    model = UA.network(settings["width"], settings["activation"], np.random.default_rng(settings["seed"]))
    adam = optim.Adam(settings["lr"], eps=1e-8)
    for _ in range(steps):
        model.backward(layers.mean_squared_error(model.forward(x), y)[1])   # fills the gradients
        adam.step(model.parameters(), model.gradients())
    return float(np.mean((model.forward(x) - y) ** 2))


def test_week02_approximation_training_shows_progress_and_stops_with_a_slow_kernel(page, lab):
    notebook, root = open_slow_demo(page, lab, WEEK02_LESSON, ".nnf-run")
    run, bar = root.locator(".nnf-run"), root.locator(".nnf-run-progress .progress-bar")
    pick_other_option(labelled(root, ".widget-dropdown", "target").locator("select"))  # a new target trains
    run.filter(has_text=re.compile(r"block [3-9] of \d+")).wait_for(timeout=30_000)
    assert 0 < float(bar.evaluate("b => parseFloat(b.style.width)")) < 100, "the bar shows the progress"
    assert root.locator(".widget-html", has_text="training …").count() == 1
    screenshot(root, shot_name(WEEK02_LESSON, "approximation-slow-kernel-training"))

    run.locator(".nnf-run-stop").click()
    run.filter(has_text=re.compile(r"stopped after \d+ blocks")).wait_for(timeout=30_000)
    k = int(re.search(r"stopped after (\d+) blocks", run.inner_text()).group(1))
    wait_for_quiet(notebook)
    settings = approximation_settings(notebook)
    assert 3 <= k < settings["blocks"], run.inner_text()
    assert float(bar.evaluate("b => parseFloat(b.style.width)")) == pytest.approx(100 * k / settings["blocks"], abs=0.5)
    assert run.locator(".nnf-run-stop").is_disabled()

    # The fit shown is the one after exactly the k blocks trained, as trained here.
    steps = k * settings["steps_per_block"]
    mse = approximation_mse(settings, steps)
    status = root.locator(".widget-html", has_text="gradient steps").inner_text()
    assert f"MSE = {mse:.3g} after {steps} gradient steps — stopped after {steps} gradient steps" in status, status
    title, last_step = json.loads(notebook.kernel(
        "_d = _last('UniversalApproximation'); print(json.dumps([_d.ax.get_title(), _d.loss_line.get_xdata()[-1]]))"))
    assert title.endswith(f"MSE = {mse:.2e}") and last_step == steps, "the plot drawn last: the fit and error after k blocks"
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK02_LESSON, "approximation-slow-kernel-stopped"))


def test_week02_approximation_retrains_once_for_quick_width_changes_with_a_slow_kernel(page, lab):
    notebook, root = open_slow_demo(page, lab, WEEK02_LESSON, ".nnf-run")
    width = labelled(root, ".widget-slider", "hidden units H")
    wanted = round(handle_value(width)) + 3
    since = kernel_time(notebook)
    with notebook.kernel_held():
        press(width, "ArrowRight", 3)
    assert round(handle_value(width)) == wanted
    root.locator(".nnf-run", has_text=re.compile(r"block [1-9]\d* of")).wait_for(timeout=30_000)
    screenshot(root, shot_name(WEEK02_LESSON, "approximation-slow-kernel-width-training"))
    status = root.locator(".widget-html", has_text=re.compile(rf"H = {wanted} \w+ units: .* finished after"))
    status.wait_for(timeout=45_000)
    wait_for_quiet(notebook)
    retrains = int(notebook.kernel("print(_count(_retrains, 'UniversalApproximation'))"))
    assert 1 <= retrains <= at_most(notebook, since, "_retrain_soon"), f"{retrains} trainings for three quick changes of the width"

    settings = approximation_settings(notebook)
    steps = settings["blocks"] * settings["steps_per_block"]
    assert settings["width"] == wanted
    assert f"MSE = {approximation_mse(settings, steps):.3g} after {steps} gradient steps" in status.inner_text()
    assert f"finished after {settings['blocks']} blocks" in root.locator(".nnf-run").inner_text()
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK02_LESSON, "approximation-slow-kernel-width-retrained"))


# -- week 3: the softmax explorer


def softmax_status(labels: list[str], z: np.ndarray, T: float) -> list[str]:
    """What SoftmaxExplorer's status line says for logits ``z`` at temperature ``T``, computed here."""
    p = np.exp(z / T - np.max(z / T))
    p /= p.sum()
    listed = ", ".join(f"{label}: {p_k:.3f}" for label, p_k in zip(labels, p))
    return [f"p = [{listed}]", f"entropy = {-(p * np.log(p)).sum():.3f} nats"]


def test_week03_softmax_controls_debounce_with_a_slow_kernel(page, lab):
    notebook, root = open_slow_demo(page, lab, WEEK03_LESSON, ".widget-slider:has-text('temperature T')")
    logits = root.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=re.compile(r"^z \(.+\)$"))).all()
    labels = [re.fullmatch(r"z \((.+)\)", s.locator(".widget-label").inner_text()).group(1) for s in logits]
    temperature = labelled(root, ".widget-slider", "temperature T")
    status = root.locator(".widget-html", has_text="p = [")

    def shows(z, log_t):
        text = status.inner_text()
        return all(part in text for part in softmax_status(labels, z, 10 ** log_t))

    z = np.array([handle_value(s) for s in logits])
    assert len(logits) >= 2 and shows(z, handle_value(temperature)), "this test's softmax is the demo's"

    # Seven quick moves of a logit's slider: its last position is drawn, not all seven.
    before = wait_for_quiet(notebook)
    direction = -1 if z[0] > 0 else 1
    press(logits[0], "ArrowLeft" if direction < 0 else "ArrowRight", 7)
    z[0] += direction * 0.7  # seven steps of 0.1
    assert handle_value(logits[0]) == pytest.approx(z[0])
    drawings = wait_for_quiet(notebook, after=before, demo="SoftmaxExplorer") - before
    assert 1 <= drawings <= 3, f"{drawings} drawings for 7 slider moves"
    assert shows(z, handle_value(temperature)), f"the last drawing is of z = {z.tolist()}: {status.inner_text()}"
    screenshot(root, shot_name(WEEK03_LESSON, "slow-kernel-slider-moves"))

    # A logit and the temperature changed while the kernel is busy: one drawing, of both.
    before = drawings + before
    since = kernel_time(notebook)
    with notebook.kernel_held():
        press(logits[1], "ArrowRight" if z[1] < 0 else "ArrowLeft", 3)
        press(temperature, "ArrowRight", 4)
    z[1], log_t = handle_value(logits[1]), handle_value(temperature)
    assert log_t > 0, "T went up"
    drawings = wait_for_quiet(notebook, after=before, demo="SoftmaxExplorer") - before
    assert 1 <= drawings <= at_most(notebook, since, "_draw_soon"), f"{drawings} drawings for changes that reached a busy kernel together"
    assert shows(z, log_t), f"the drawing is of z = {z.tolist()}, T = {10 ** log_t:.3f}: {status.inner_text()}"
    assert temperature.locator(".widget-readout").inner_text() == f"{10 ** log_t:.2f}"
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK03_LESSON, "slow-kernel-debounced"))


# -- week 4: gradient descent and the training progress bar


def wait_for_last_picture(notebook: Notebook, root, demo: str, timeout: float = 15) -> None:
    """Wait until the picture on the page is the one the kernel's ``demo`` (a class name) drew last."""
    png = notebook.kernel(
        f"import base64; _png = _last({demo!r}).output.outputs[0]['data']['image/png']; "
        "print(_png if isinstance(_png, str) else base64.b64encode(_png).decode())").replace("\n", "")
    image = root.locator(".widget-output img")
    deadline = time.monotonic() + timeout
    while (image.get_attribute("src") or "").split(",", 1)[-1].replace("\n", "") != png:
        assert time.monotonic() < deadline, f"the page does not show {demo}'s last drawing"
        time.sleep(0.2)


def quadratic_run(lr: float, steps: int) -> tuple[np.ndarray, str]:
    """Gradient descent on f = x² from x_0 = 2, computed here: x_k = 2 (1 - 2 lr)^k, and its regime
    by the closed form (|1 - 2 lr| > 1 diverges, < 0 overshoots, |1 - 2 lr|^K <= 0.01 converged)."""
    factor = 1 - 2 * lr
    x = 2.0 * factor ** np.arange(steps + 1)
    if abs(factor) > 1:
        regime = "diverges"
    elif factor < 0:
        regime = "oscillating"
    else:
        regime = "good" if factor**steps <= 0.01 else "too small"
    return x, regime


def test_week04_gradient_descent_controls_debounce_with_a_slow_kernel(page, lab):
    notebook, root = open_slow_demo(page, lab, WEEK04_LESSON, ".widget-slider:has-text('learning rate lr')")
    lr = labelled(root, ".widget-slider", "learning rate lr")
    steps = labelled(root, ".widget-slider", "steps")
    status = root.locator(".widget-html", has_text=re.compile(r"\(lr = "))

    def drawn() -> tuple[np.ndarray, float, int]:
        """The iterates the kernel drew last, and the lr and steps its controls hold."""
        return tuple(json.loads(notebook.kernel(
            "import json; _d = _last('GradientDescent'); "
            "print(json.dumps([_d.iterates[:, 0].tolist(), _d.lr.value, _d.steps.value]))")))

    def shows(lr_value: float, K: int) -> None:
        """The page's status and the kernel's last drawing are of lr and K steps, as computed here."""
        iterates, kernel_lr, kernel_steps = drawn()
        assert kernel_lr == pytest.approx(lr_value, rel=1e-6) and kernel_steps == K, "the controls as on the page"
        x, regime = quadratic_run(kernel_lr, K)
        np.testing.assert_allclose(iterates, x, rtol=1e-9)
        text = status.inner_text()
        assert text.startswith(f"{regime} (lr = {kernel_lr:.3g})"), text
        assert f"x{K} = ({x[-1]:.4g})" in text, text

    # Seven quick presses on the learning rate: the last position is drawn, not all seven.
    before = wait_for_quiet(notebook)
    exponent = handle_value(lr)
    press(lr, "ArrowRight", 7)
    exponent += 7 * 0.05
    assert handle_value(lr) == pytest.approx(exponent)
    drawings = wait_for_quiet(notebook, after=before, demo="GradientDescent") - before
    assert 1 <= drawings <= 3, f"{drawings} drawings for 7 slider moves"
    shows(10**exponent, round(handle_value(steps)))
    wait_for_last_picture(notebook, root, "GradientDescent")
    screenshot(root, shot_name(WEEK04_LESSON, "descent-slow-kernel-slider-moves"))

    # The learning rate past 1 and three steps fewer while the kernel is busy: one drawing, of both.
    before += drawings
    since = kernel_time(notebook)
    with notebook.kernel_held():
        target = 0.05  # 10^0.05 = 1.12: |1 - 2 lr| > 1, divergence
        press(lr, "ArrowRight", round((target - exponent) / 0.05))
        press(steps, "ArrowLeft", 3)
    exponent, K = handle_value(lr), round(handle_value(steps))
    assert exponent == pytest.approx(target)
    drawings = wait_for_quiet(notebook, after=before, demo="GradientDescent") - before
    assert 1 <= drawings <= at_most(notebook, since, "_draw_soon"), f"{drawings} drawings for changes that reached a busy kernel together"
    shows(10**exponent, K)
    x, _ = quadratic_run(10**exponent, K)
    assert f"the loss grew from 4 to {x[-1] ** 2:.3g} in {K} steps" in status.inner_text()  # (3 digits of lr)
    wait_for_last_picture(notebook, root, "GradientDescent")
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK04_LESSON, "descent-slow-kernel-debounced"))


# Slows down every epoch's progress update (0.3 s) and logs each, as (when, progress, history).
SLOW_PROGRESS = """
import time, nblib.widgets as _w
_progress = []
_progress_call = _w.TrainingProgress.__call__
def _slow_progress(self, history):
    time.sleep(0.3)
    _progress.append((time.monotonic(), self, history))
    return _progress_call(self, history)
_w.TrainingProgress.__call__ = _slow_progress
"""


def test_week04_training_progress_moves_while_fit_runs_with_a_slow_kernel(page, lab):
    """The bar and its line of metrics reach the page after every epoch, while the cell still runs."""
    notebook = open_lesson(page, lab, WEEK04_LESSON)
    cells = nbformat.read(NOTEBOOKS / WEEK04_LESSON, as_version=4).cells
    index = next(i for i, c in enumerate(cells) if "TrainingProgress(" in c.source and "fit(" in c.source)
    epochs = int(re.search(r"TrainingProgress\((?:epochs=)?(\d+)\)", cells[index].source).group(1))
    cell = notebook.panel.locator(".jp-Cell").nth(index)
    bar = cell.locator(".nnf-training-progress")
    assert bar.locator(".widget-html").inner_text().startswith(f"epoch {epochs}/{epochs} · loss ")

    notebook.kernel(SLOW_PROGRESS)
    notebook.run_cell(index, wait=False)
    part_way = re.compile(rf"^epoch ([3-9]|[1-9]\d)/{epochs} · loss \d")
    cell.locator(".nnf-training-progress .widget-html").filter(has_text=part_way).wait_for(timeout=60_000)
    assert "*" in cell.locator(".jp-InputPrompt").inner_text(), "the bar moves while the cell is still running"
    k = int(re.search(r"epoch (\d+)/", cell.locator(".nnf-training-progress .widget-html").inner_text()).group(1))
    assert k < epochs
    width = float(cell.locator(".nnf-training-progress .progress-bar").evaluate("b => parseFloat(b.style.width)"))
    assert 0 < width < 100, "the bar part way"
    screenshot(cell.locator(".nnf-training-progress"), shot_name(WEEK04_LESSON, "progress-slow-kernel-training"))

    notebook.wait_until_done(timeout=120)
    label = cell.locator(".nnf-training-progress .widget-html").inner_text()
    calls, loss, accuracy, val_loss, val_accuracy = json.loads(notebook.kernel(
        "import json; _h = _progress[-1][2]; print(json.dumps([len(_progress), _h.loss[-1], _h.accuracy[-1], "
        "_h.val_loss[-1], _h.val_accuracy[-1]]))"))
    assert calls == epochs, "one update per epoch"
    assert label == (f"epoch {epochs}/{epochs} · loss {loss:.3f} · accuracy {100 * accuracy:.1f}% · "
                     f"val loss {val_loss:.3f} · val accuracy {100 * val_accuracy:.1f}%"), label
    assert float(cell.locator(".nnf-training-progress .progress-bar").evaluate(
        "b => parseFloat(b.style.width)")) == pytest.approx(100)
    assert cell.locator(".nnf-training-progress .progress-bar-success").count() == 1
    assert notebook.error_outputs() == []
    screenshot(cell.locator(".nnf-training-progress"), shot_name(WEEK04_LESSON, "progress-slow-kernel-finished"))


# -- week 5: the optimizer race


def race_status(settings: dict) -> list[str]:
    """What OptimizerRace's status says on the ill-conditioned bowl f = (x² + 10 y²) / 2 from (-4.5, 1.5),
    computed here with each update rule in Keras's form (eps = 1e-7)."""
    lr, beta, beta2, steps = settings["lr"], settings["beta"], settings["beta2"], settings["steps"]
    parts = [f"after {steps} steps:"]
    for racer in settings["racers"]:
        w, v, m, s = np.array([-4.5, 1.5]), np.zeros(2), np.zeros(2), np.zeros(2)
        for t in range(1, steps + 1):
            g = np.array([w[0], 10 * w[1]])
            if racer == "SGD":
                w = w - lr * g
            elif racer in ("momentum", "Nesterov"):
                v = beta * v - lr * g
                w = w + v if racer == "momentum" else w + beta * v - lr * g
            elif racer == "RMSprop":
                s = beta2 * s + (1 - beta2) * g**2
                w = w - lr * g / np.sqrt(s + 1e-7)
            else:  # Adam
                m, s = beta * m + (1 - beta) * g, beta2 * s + (1 - beta2) * g**2
                w = w - lr * np.sqrt(1 - beta2**t) / (1 - beta**t) * m / (np.sqrt(s) + 1e-7)
        parts.append(f"{racer} f = {0.5 * (w[0] ** 2 + 10 * w[1] ** 2):.3g}")
    return parts


def test_week05_optimizer_race_controls_debounce_with_a_slow_kernel(page, lab):
    notebook, root = open_slow_demo(page, lab, WEEK05_LESSON, ".widget-slider:has-text('beta2')")
    lr = labelled(root, ".widget-slider", "learning rate lr")
    beta = labelled(root, ".widget-slider", "beta (momentum, Adam β1)")
    beta2 = labelled(root, ".widget-slider", "beta2 (RMSprop ρ, Adam β2)")
    steps = labelled(root, ".widget-slider", "steps")
    status = root.locator(".widget-html", has_text=re.compile(r"^after \d+ steps:"))

    def settings() -> dict:
        """What the race drawn last ran with (from the kernel), checked against the page's controls."""
        found = json.loads(notebook.kernel(
            "import json; _d = _last('OptimizerRace'); print(json.dumps({'surface': _d.surface.value, "
            "'lr': _d.lr.value, 'beta': _d.beta.value, 'beta2': _d.beta2.value, 'steps': _d.steps.value, "
            "'racers': [r for r, box in _d.shown.items() if box.value]}))"))
        assert found["surface"] == "ill-conditioned bowl"
        assert found["lr"] == pytest.approx(10 ** handle_value(lr), rel=1e-6)
        assert (found["beta"], found["beta2"]) == (pytest.approx(handle_value(beta)), pytest.approx(handle_value(beta2)))
        assert found["steps"] == round(handle_value(steps))
        return found

    def shows(expected: dict) -> None:
        text = status.inner_text()
        assert all(part in text for part in race_status(expected)), text

    # Seven quick presses on beta: the last position is drawn, not all seven.
    before = wait_for_quiet(notebook)
    start = handle_value(beta)
    press(beta, "ArrowLeft", 7)
    assert handle_value(beta) == pytest.approx(start - 0.07)
    drawings = wait_for_quiet(notebook, after=before, demo="OptimizerRace") - before
    assert 1 <= drawings <= 3, f"{drawings} drawings for 7 slider moves"
    now = settings()
    assert now["beta"] == pytest.approx(start - 0.07)
    shows(now)
    wait_for_last_picture(notebook, root, "OptimizerRace")
    screenshot(root, shot_name(WEEK05_LESSON, "race-slow-kernel-slider-moves"))

    # The learning rate, beta2 and a racer's checkbox changed while the kernel is busy: one drawing, of all.
    before += drawings
    since = kernel_time(notebook)
    with notebook.kernel_held():
        press(lr, "ArrowRight", 2)
        press(beta2, "ArrowLeft", 3)
        root.locator(".widget-checkbox", has_text="Adam").locator("input").click()
    drawings = wait_for_quiet(notebook, after=before, demo="OptimizerRace") - before
    assert 1 <= drawings <= at_most(notebook, since, "_draw_soon"), f"{drawings} drawings for changes that reached a busy kernel together"
    final = settings()
    assert final["lr"] > now["lr"] and final["beta2"] == pytest.approx(now["beta2"] - 0.003)
    assert "Adam" not in final["racers"] and "Adam" not in status.inner_text()
    shows(final)
    wait_for_last_picture(notebook, root, "OptimizerRace")
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK05_LESSON, "race-slow-kernel-debounced"))


# -- week 6: the initialization explorer

# Counts InitExplorer's computations in SLOW_KERNEL's log of trainings, as it counts the demos that train.
COUNT_RECOMPUTES = "_w.InitExplorer.recompute = _counted(_w.InitExplorer.recompute)"


def init_explorer_settings(notebook: Notebook) -> dict:
    """What the explorer drawn last computed with: its controls' values when it started, and its fixed settings."""
    return json.loads(notebook.kernel(
        "import json; _d = _last('InitExplorer'); print(json.dumps({**_d.computed, 'width': _d.width, "
        "'batch': _d.batch, 'seed': _d.seed}))"))


def init_explorer_layers(settings: dict, depth: int):
    """The first ``depth`` layers of that stack, computed here, in this process (the weights of the first
    layers are drawn first, so they do not depend on how deep the stack goes)."""
    from nblib.widgets.init_explorer import propagate

    return propagate(depth, settings["initializer"], settings["activation"], width=settings["width"],
                     batch=settings["batch"], seed=settings["seed"])


def test_week06_init_explorer_shows_progress_and_stops_with_a_slow_kernel(page, lab):
    notebook, root = open_slow_demo(page, lab, WEEK06_LESSON, ".nnf-run")
    run, bar = root.locator(".nnf-run"), root.locator(".nnf-run-progress .progress-bar")
    pick_other_option(labelled(root, ".widget-dropdown", "initializer").locator("select"))  # a new stack, layer by layer
    run.filter(has_text=re.compile(r"layer [3-9] of \d+")).wait_for(timeout=30_000)
    assert 0 < float(bar.evaluate("b => parseFloat(b.style.width)")) < 100, "the bar shows the progress"
    assert root.locator(".widget-html", has_text="computing …").count() == 1
    screenshot(root, shot_name(WEEK06_LESSON, "init-explorer-slow-kernel-computing"))

    run.locator(".nnf-run-stop").click()
    run.filter(has_text=re.compile(r"stopped after \d+ layers")).wait_for(timeout=30_000)
    k = int(re.search(r"stopped after (\d+) layers", run.inner_text()).group(1))
    wait_for_quiet(notebook)
    settings = init_explorer_settings(notebook)
    assert 3 <= k < settings["depth"], run.inner_text()
    assert float(bar.evaluate("b => parseFloat(b.style.width)")) == pytest.approx(100 * k / settings["depth"], abs=0.5)
    assert run.locator(".nnf-run-stop").is_disabled()

    # What is shown is the first k layers exactly, as computed here, and no gradients (they need the whole stack).
    stats = init_explorer_layers(settings, k)
    status = root.locator(".widget-html", has_text="std of h").inner_text()
    assert f"std of h: layer 1 {stats[0].std:.3g}, layer {k} {stats[-1].std:.3g}" in status, status
    assert f"stopped after {k} of {settings['depth']} layers" in status and "||dL/dW||" not in status, status
    drawn = json.loads(notebook.kernel(
        "_d = _last('InitExplorer'); print(json.dumps([float(v) for v in _d.std_line.get_ydata()]))"))
    assert drawn == pytest.approx([s.std for s in stats], rel=1e-12), "the plot drawn last: the k layers computed"
    wait_for_last_picture(notebook, root, "InitExplorer")
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK06_LESSON, "init-explorer-slow-kernel-stopped"))


def test_week06_init_explorer_recomputes_once_for_quick_changes_with_a_slow_kernel(page, lab):
    notebook, root = open_slow_demo(page, lab, WEEK06_LESSON, ".nnf-run")
    notebook.kernel(COUNT_RECOMPUTES)
    depth = labelled(root, ".widget-slider", "depth (layers)")
    wanted = round(handle_value(depth)) - 3                    # three layers fewer, and tanh
    since = kernel_time(notebook)
    with notebook.kernel_held():
        press(depth, "ArrowLeft", 3)
        labelled(root, ".widget-dropdown", "activation").locator("select").select_option(label="tanh")
    assert round(handle_value(depth)) == wanted
    root.locator(".nnf-run", has_text=re.compile(rf"layer [1-9]\d* of {wanted}")).wait_for(timeout=30_000)
    screenshot(root, shot_name(WEEK06_LESSON, "init-explorer-slow-kernel-changes-computing"))
    status = root.locator(".widget-html", has_text=re.compile(rf"^{wanted} layers, .*, tanh: .*finished: {wanted} layers"))
    status.wait_for(timeout=90_000)
    wait_for_quiet(notebook)
    recomputes = int(notebook.kernel("print(_count(_retrains, 'InitExplorer'))"))
    assert 1 <= recomputes <= at_most(notebook, since, "_recompute_soon"), \
        f"{recomputes} computations for changes that reached a busy kernel together"

    settings = init_explorer_settings(notebook)
    assert settings["depth"] == wanted and settings["activation"] == "tanh"
    stats = init_explorer_layers(settings, wanted)
    text = status.inner_text()
    assert f"std of h: layer 1 {stats[0].std:.3g}, layer {wanted} {stats[-1].std:.3g}" in text, text
    assert f"||dL/dW||: layer 1 {stats[0].grad_norm:.3g}, layer {wanted} {stats[-1].grad_norm:.3g}" in text, text
    assert f"finished after {wanted} layers" in root.locator(".nnf-run").inner_text()
    wait_for_last_picture(notebook, root, "InitExplorer")
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK06_LESSON, "init-explorer-slow-kernel-changes-finished"))


# -- week 7: the filter explorer

# Counts FilterExplorer's computations in SLOW_KERNEL's log of trainings, as it counts the demos that train.
COUNT_FILTER_RECOMPUTES = "_w.FilterExplorer.recompute = _counted(_w.FilterExplorer.recompute)"


def filter_explorer_settings(notebook: Notebook) -> dict:
    """What the explorer drawn last computed with: the image (as a list), the kernel's weights and the padding."""
    return json.loads(notebook.kernel(
        "import json; _d = _last('FilterExplorer'); print(json.dumps({**_d.computed, "
        "'image': _d.images[_d.computed['index']].tolist()}))"))


def test_week07_filter_explorer_shows_progress_and_stops_with_a_slow_kernel(page, lab):
    from nblib.widgets.filter_explorer import filter_maps

    notebook, root = open_slow_demo(page, lab, WEEK07_LESSON, ".nnf-run")
    run, bar = root.locator(".nnf-run"), root.locator(".nnf-run-progress .progress-bar")
    labelled(root, ".widget-dropdown", "kernel").locator("select").select_option(label="horizontal edge (Sobel)")
    run.filter(has_text=re.compile(r"row [3-9] of 26")).wait_for(timeout=30_000)
    assert 0 < float(bar.evaluate("b => parseFloat(b.style.width)")) < 100, "the bar shows the progress"
    assert root.locator(".widget-html", has_text="computing …").count() == 1
    screenshot(root, shot_name(WEEK07_LESSON, "filter-explorer-slow-kernel-computing"))

    run.locator(".nnf-run-stop").click()
    run.filter(has_text=re.compile(r"stopped after \d+ rows")).wait_for(timeout=30_000)
    k = int(re.search(r"stopped after (\d+) rows", run.inner_text()).group(1))
    wait_for_quiet(notebook)
    settings = filter_explorer_settings(notebook)
    assert settings["kernel"] == "horizontal edge (Sobel)" and 3 <= k < 26, run.inner_text()
    assert float(bar.evaluate("b => parseFloat(b.style.width)")) == pytest.approx(100 * k / 26, abs=0.5)
    assert run.locator(".nnf-run-stop").is_disabled()

    # What is kept is the first k rows of the feature map exactly, as computed here; no ReLU or pooling yet.
    expected = filter_maps(np.array(settings["image"]), np.array(settings["weights"]), padding=settings["padding"])
    rows = expected.feature[:k]
    status = root.locator(".widget-html", has_text="feature map from").inner_text()
    assert f"feature map from {rows.min():.3g} to {rows.max():.3g}" in status, status
    assert f"stopped after {k} of 26 rows" in status and "ReLU zeroes" not in status, status
    kept = json.loads(notebook.kernel(
        "_d = _last('FilterExplorer'); print(json.dumps(_d.feature[:int((~np.isnan(_d.feature[:, 0])).sum())].tolist()))"))
    np.testing.assert_allclose(kept, rows, rtol=1e-12, atol=1e-12)
    wait_for_last_picture(notebook, root, "FilterExplorer")
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK07_LESSON, "filter-explorer-slow-kernel-stopped"))


def test_week07_filter_explorer_recomputes_once_for_quick_changes_with_a_slow_kernel(page, lab):
    from nblib.widgets.filter_explorer import filter_maps

    notebook, root = open_slow_demo(page, lab, WEEK07_LESSON, ".nnf-run")
    notebook.kernel(COUNT_FILTER_RECOMPUTES)
    digit = labelled(root, ".widget-slider", "digit")
    wanted = round(handle_value(digit)) + 3                    # three digits further, and 'same' padding
    since = kernel_time(notebook)
    with notebook.kernel_held():
        press(digit, "ArrowRight", 3)
        labelled(root, ".widget-dropdown", "padding").locator("select").select_option(label="same")
    assert round(handle_value(digit)) == wanted
    root.locator(".nnf-run", has_text=re.compile(r"row [1-9]\d* of 28")).wait_for(timeout=30_000)
    screenshot(root, shot_name(WEEK07_LESSON, "filter-explorer-slow-kernel-changes-computing"))
    status = root.locator(".widget-html", has_text=re.compile(rf"digit {wanted}, same: .*finished: 28 rows"))
    status.wait_for(timeout=90_000)
    wait_for_quiet(notebook)
    recomputes = int(notebook.kernel("print(_count(_retrains, 'FilterExplorer'))"))
    assert 1 <= recomputes <= at_most(notebook, since, "_recompute_soon"), \
        f"{recomputes} computations for changes that reached a busy kernel together"

    settings = filter_explorer_settings(notebook)
    assert settings["index"] == wanted and settings["padding"] == "same"
    expected = filter_maps(np.array(settings["image"]), np.array(settings["weights"]), padding="same")
    text = status.inner_text()
    assert f"feature map from {expected.feature.min():.3g} to {expected.feature.max():.3g}" in text, text
    assert f"ReLU zeroes {np.mean(expected.relu == 0):.0%}" in text and f"pooled max {expected.pooled.max():.3g}" in text
    assert "finished after 28 rows" in root.locator(".nnf-run").inner_text()
    wait_for_last_picture(notebook, root, "FilterExplorer")
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK07_LESSON, "filter-explorer-slow-kernel-changes-finished"))


# -- week 8: the LSTM gate viewer

# Counts LSTMGateViewer's trainings in SLOW_KERNEL's log of trainings, as it counts the other demos that train.
COUNT_GATE_VIEWER_TRAININGS = "_w.LSTMGateViewer.retrain = _counted(_w.LSTMGateViewer.retrain)"


def gate_viewer_settings(notebook: Notebook) -> dict:
    """What the viewer drawn last trained with: its controls' values when it started, and its seed."""
    return json.loads(notebook.kernel(
        "import json; _d = _last('LSTMGateViewer'); print(json.dumps({**_d.computed, 'seed': _d.seed}))"))


def gate_viewer_losses(settings: dict, epochs: int) -> list:
    """The training losses of the first ``epochs`` epochs of that cell, trained here, in this process."""
    from nblib.widgets.gate_viewer import training_steps

    steps = training_steps(settings["units"], settings["steps"], seed=settings["seed"])
    return [next(steps)[1] for _ in range(epochs)]


def test_week08_gate_viewer_shows_progress_and_stops_with_a_slow_kernel(page, lab):
    notebook, root = open_slow_demo(page, lab, WEEK08_LESSON, ".nnf-run")
    run, bar = root.locator(".nnf-run"), root.locator(".nnf-run-progress .progress-bar")
    press(labelled(root, ".widget-slider", "epochs"), "ArrowRight", 1)      # a new cell, trained epoch by epoch
    run.filter(has_text=re.compile(r"epoch [3-9] of \d+")).wait_for(timeout=30_000)
    assert 0 < float(bar.evaluate("b => parseFloat(b.style.width)")) < 100, "the bar shows the progress"
    assert root.locator(".widget-html", has_text="training …").count() == 1
    screenshot(root, shot_name(WEEK08_LESSON, "gate-viewer-slow-kernel-training"))

    run.locator(".nnf-run-stop").click()
    run.filter(has_text=re.compile(r"stopped after \d+ epochs")).wait_for(timeout=30_000)
    k = int(re.search(r"stopped after (\d+) epochs", run.inner_text()).group(1))
    wait_for_quiet(notebook)
    settings = gate_viewer_settings(notebook)
    assert 3 <= k < settings["epochs"], run.inner_text()
    assert float(bar.evaluate("b => parseFloat(b.style.width)")) == pytest.approx(100 * k / settings["epochs"], abs=0.5)
    assert run.locator(".nnf-run-stop").is_disabled()

    # What is shown is the cell after k epochs exactly, as trained here.
    losses = gate_viewer_losses(settings, k)
    status = root.locator(".widget-html", has_text="training loss").inner_text()
    assert f"training loss {losses[-1]:.4f} after {k} epochs" in status, status
    assert f"stopped after {k} of {settings['epochs']} epochs" in status, status
    drawn = json.loads(notebook.kernel("_d = _last('LSTMGateViewer'); print(json.dumps(_d.losses))"))
    assert drawn == pytest.approx(losses, rel=1e-12), "the cell drawn last: the k epochs trained"
    wait_for_last_picture(notebook, root, "LSTMGateViewer")
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK08_LESSON, "gate-viewer-slow-kernel-stopped"))


def test_week08_gate_viewer_retrains_once_for_quick_changes_with_a_slow_kernel(page, lab):
    notebook, root = open_slow_demo(page, lab, WEEK08_LESSON, ".nnf-run")
    notebook.kernel(COUNT_GATE_VIEWER_TRAININGS)
    steps, epochs = labelled(root, ".widget-slider", "steps (T)"), labelled(root, ".widget-slider", "epochs")
    wanted_steps, wanted_epochs = round(handle_value(steps)) - 3, 5   # T - 3, and the fewest epochs
    # Few messages: the kernel handles a queued burst one message at a time, and a burst that takes
    # longer than the debounce (0.15 s) on a loaded machine would let the timer fire in the middle.
    since = kernel_time(notebook)
    with notebook.kernel_held():
        press(steps, "ArrowLeft", 3)
        press(epochs, "Home", 1)
    assert (round(handle_value(steps)), round(handle_value(epochs))) == (wanted_steps, wanted_epochs)
    root.locator(".nnf-run", has_text=re.compile(rf"epoch [1-9]\d* of {wanted_epochs}")).wait_for(timeout=30_000)
    screenshot(root, shot_name(WEEK08_LESSON, "gate-viewer-slow-kernel-changes-training"))
    finished = rf"^LSTM, \d units?, T = {wanted_steps}: .*finished: {wanted_epochs} epochs"
    status = root.locator(".widget-html", has_text=re.compile(finished))
    status.wait_for(timeout=90_000)
    wait_for_quiet(notebook)
    trainings = int(notebook.kernel("print(_count(_retrains, 'LSTMGateViewer'))"))
    assert 1 <= trainings <= at_most(notebook, since, "_retrain_soon"), f"{trainings} trainings for changes that reached a busy kernel together"

    settings = gate_viewer_settings(notebook)
    assert settings["steps"] == wanted_steps and settings["epochs"] == wanted_epochs
    losses = gate_viewer_losses(settings, wanted_epochs)
    text = status.inner_text()
    assert f"training loss {losses[-1]:.4f} after {wanted_epochs} epochs" in text, text
    assert f"finished after {wanted_epochs} epochs" in root.locator(".nnf-run").inner_text()
    wait_for_last_picture(notebook, root, "LSTMGateViewer")
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK08_LESSON, "gate-viewer-slow-kernel-changes-finished"))


# -- week 9: the attention explorer

# Counts AttentionExplorer's samplings in SLOW_KERNEL's log of trainings, as it counts the demos that train.
COUNT_ATTENTION_SAMPLINGS = "_w.AttentionExplorer.resample = _counted(_w.AttentionExplorer.resample)"


def attention_explorer_state(notebook: Notebook) -> dict:
    """What the explorer drawn last shows: its sampling's d_k and seed, its lookup's settings, its raw scores."""
    return json.loads(notebook.kernel(
        "import json; _d = _last('AttentionExplorer'); print(json.dumps({**_d.computed, **_d.settings(), "
        "'scores': _d.sampled['scores'].tolist() if _d.sampled else []}))"))


def attention_sampling(d_k: int, seed: int, rounds: int) -> dict:
    """The first ``rounds`` batches of that sampling, drawn here, in this process, joined."""
    from nblib.widgets.attention_explorer import saturation_batches

    steps = saturation_batches(d_k, seed=seed)
    drawn = [next(steps) for _ in range(rounds)]
    return {name: np.concatenate([batch[name] for batch in drawn]) for name in drawn[0]}


def sampling_text(sampled: dict) -> tuple[str, str]:
    """The two numbers the status reports of a sampling, as it writes them."""
    return (f"std of q·k {sampled['scores'].std():.3g}",
            f"mean largest weight: not scaled {sampled['largest_raw'].mean():.3f}, "
            f"scaled {sampled['largest_scaled'].mean():.3f}")


def test_week09_attention_explorer_shows_progress_and_stops_with_a_slow_kernel(page, lab):
    notebook, root = open_slow_demo(page, lab, WEEK09_LESSON, ".nnf-run")
    run, bar = root.locator(".nnf-run"), root.locator(".nnf-run-progress .progress-bar")
    press(labelled(root, ".widget-slider", "d_k (right panel)"), "ArrowRight", 1)   # d_k 32 -> 128: a new sampling
    run.filter(has_text=re.compile(r"round [3-9] of 20")).wait_for(timeout=30_000)
    assert 0 < float(bar.evaluate("b => parseFloat(b.style.width)")) < 100, "the bar shows the progress"
    assert root.locator(".widget-html", has_text="sampling …").count() == 1
    screenshot(root, shot_name(WEEK09_LESSON, "attention-explorer-slow-kernel-sampling"))

    run.locator(".nnf-run-stop").click()
    run.filter(has_text=re.compile(r"stopped after \d+ rounds")).wait_for(timeout=30_000)
    k = int(re.search(r"stopped after (\d+) rounds", run.inner_text()).group(1))
    wait_for_quiet(notebook)
    state = attention_explorer_state(notebook)
    assert state["d_k"] == 128 and 3 <= k < 20, run.inner_text()
    assert float(bar.evaluate("b => parseFloat(b.style.width)")) == pytest.approx(100 * k / 20, abs=0.5)
    assert run.locator(".nnf-run-stop").is_disabled()

    # What is kept and reported is the first k rounds exactly, as drawn here.
    expected = attention_sampling(128, state["seed"], k)
    np.testing.assert_allclose(state["scores"], expected["scores"], rtol=1e-12)
    status = root.locator(".widget-html", has_text="random queries").inner_text()
    for text in sampling_text(expected):
        assert text in status, status
    assert f"d_k = 128, {100 * k} random queries" in status and f"stopped after {k} of 20 rounds" in status, status
    wait_for_last_picture(notebook, root, "AttentionExplorer")
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK09_LESSON, "attention-explorer-slow-kernel-stopped"))


def test_week09_attention_explorer_resamples_once_for_quick_changes_with_a_slow_kernel(page, lab):
    from nblib.widgets.attention_explorer import MASKS, lookup, query_vector

    notebook, root = open_slow_demo(page, lab, WEEK09_LESSON, ".nnf-run")
    notebook.kernel(COUNT_ATTENTION_SAMPLINGS)
    angle = labelled(root, ".widget-slider", "query angle (°)")
    wanted_angle = handle_value(angle) + 15                                 # three steps of 5 degrees
    length = handle_value(labelled(root, ".widget-slider", "query length"))
    since = kernel_time(notebook)
    with notebook.kernel_held():
        press(labelled(root, ".widget-slider", "d_k (right panel)"), "ArrowLeft", 2)   # d_k 32 -> 8 -> 2
        press(angle, "ArrowRight", 3)
        root.locator(".widget-checkbox input").click()                           # the scaling off
    assert handle_value(angle) == pytest.approx(wanted_angle)
    root.locator(".nnf-run", has_text=re.compile(r"round [1-9]\d* of 20")).wait_for(timeout=30_000)
    screenshot(root, shot_name(WEEK09_LESSON, "attention-explorer-slow-kernel-changes-sampling"))
    finished = (rf"^query at {wanted_angle:g}°, length {length:g}, not scaled, "
                r"[\s\S]*d_k = 2, [\s\S]*finished: 20 rounds")
    status = root.locator(".widget-html", has_text=re.compile(finished))
    status.wait_for(timeout=90_000)
    wait_for_quiet(notebook)
    samplings = int(notebook.kernel("print(_count(_retrains, 'AttentionExplorer'))"))
    assert 1 <= samplings <= at_most(notebook, since, "_resample_soon"), f"{samplings} samplings for changes that reached a busy kernel together"

    state = attention_explorer_state(notebook)
    assert (state["d_k"], state["angle"], state["length"], state["scaled"]) == (2, wanted_angle, length, False)
    text = status.inner_text()
    for part in sampling_text(attention_sampling(2, state["seed"], 20)):
        assert part in text, text
    result = lookup(query_vector(wanted_angle, state["length"]), scaled=False, mask=MASKS[state["mask"]])
    assert "weights " + ", ".join(f"{w:.3f}" for w in result.weights) in text, text
    assert "finished after 20 rounds" in root.locator(".nnf-run").inner_text()
    wait_for_last_picture(notebook, root, "AttentionExplorer")
    assert notebook.error_outputs() == []
    screenshot(root, shot_name(WEEK09_LESSON, "attention-explorer-slow-kernel-changes-finished"))
