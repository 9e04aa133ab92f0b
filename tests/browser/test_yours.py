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


# The demo the kernel made last, of a class named `demo`, and what it drew of the student's.
LAST_DEMO = """
import gc, json, numpy as np
def _demo(name):
    '''The newest live demo of class `name` (the cell's last expression made it).'''
    return max((o for o in gc.get_objects() if type(o).__name__ == name), key=id, default=None)
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

    def drawn(self, demo: str, expression: str):
        """``expression`` evaluated on the newest demo ``d`` of class ``demo`` in the kernel, as JSON."""
        return json.loads(self.notebook.kernel(f"d = _demo({demo!r}); print(json.dumps({expression}))"))


# -- week 1: --------------------------------------------------------------------------------------

# (week 1's test goes here)


# -- week 2: --------------------------------------------------------------------------------------

# (week 2's test goes here)


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
    press(labelled(root, ".widget-slider", "add c to every logit"), "End", 1)
    assert handle_value(labelled(root, ".widget-slider", "add c to every logit")) == 1000
    text = hw.line("differs")
    assert "first differs at [0, 0]: nan against nblib's" in text, text
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


# The demos a kernel makes, in the order made: gc's "newest by id" may pick an older demo that the
# widget registry still holds after its cell was re-run. Used by weeks 7 to 9.
REMEMBER_DEMOS = """
import nblib.widgets as _w
_made = []
def _remember(cls):
    init = cls.__init__
    def remembered(self, *args, **kwargs):
        _made.append(self)
        init(self, *args, **kwargs)
    cls.__init__ = remembered
_remember(_w.{demo})
"""


def newest(hw: Homework, expression: str):
    """``expression`` evaluated on the demo ``d`` the kernel made last (see REMEMBER_DEMOS), as JSON."""
    return json.loads(hw.notebook.kernel(f"d = _made[-1]; print(json.dumps({expression}))"))


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
    hw.notebook.kernel(REMEMBER_DEMOS.format(demo="FilterExplorer"))
    digit = data.digits_28x28(source="digits").X_test[0, :, :, 0].astype(float)   # the demo's digit 0, (28, 28)

    # Untouched: both stubs raise NotImplementedError; the demo says so and draws nblib's alone.
    hw.run()
    hw.line("conv2d_forward is not written yet")
    assert "maxpool_forward is not written yet" in hw.line("maxpool_forward is not written yet")
    assert newest(hw, "d.their_feature is None and d.their_pooled is None") is True
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
    assert newest(hw, "d.their_feature.tolist()") == pytest.approx(feature, abs=1e-12)
    assert newest(hw, "d.their_pooled.tolist()") == pytest.approx(pooled, abs=1e-12)
    hw.shot("solution")

    # A planted flipped kernel (true convolution): the Sobel flipped is its negative, so the first
    # position where the digit has a vertical edge differs; the symmetric box blur agrees.
    hw.notebook.kernel("def conv2d_forward(x, W, b, *, stride=1, padding='valid'):\n"
                       "    return conv.conv2d_forward(x, W[::-1, ::-1], b, stride=stride, padding=padding)[0]")
    run_cell(hw.notebook, hw.demo)
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
    x = np.array(newest(hw, f"d.examples[0][{k}].tolist()"))
    kernel, recurrent_kernel, bias = (np.array(p) for p in newest(
        hw, "[p.tolist() for p in d.model.layers[0].params.values()]"))
    return x, kernel, recurrent_kernel, bias


def test_week08_gate_viewer_replays_the_students_lstm_step(page, lab):
    path = "week08_rnn_lstm/homework.ipynb"
    hw = Homework(page, lab, path, "yours_lstm_step", needs=("setup", "lstm_step"))
    hw.notebook.kernel(REMEMBER_DEMOS.format(demo="LSTMGateViewer"))
    root = hw.notebook.panel.locator(".jp-Cell").nth(hw.demo)

    # Untouched: the stub raises NotImplementedError; the viewer says so and draws nblib's gates alone.
    hw.run()
    assert "not written yet" in hw.line("lstm_step is not written yet")
    assert newest(hw, "d.their_c is None and d.their_h is None") is True
    hw.shot("not-written")

    # The solution's lstm_step: the orange rows are the states of the trained cell, written out here.
    hw.solve("lstm_step")
    hw.run()
    x, kernel, recurrent_kernel, bias = trained_cell(hw, root)
    assert x.shape == (12, 2) and kernel.shape == (2, 8)
    assert "agrees with nblib's at every step t = 1..12" in hw.line("agrees")
    h, c = lstm_written_out(x, kernel, recurrent_kernel, bias)
    assert newest(hw, "d.their_h.tolist()") == pytest.approx(h, abs=1e-12)
    assert newest(hw, "d.their_c.tolist()") == pytest.approx(c, abs=1e-12)
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
    run_cell(hw.notebook, hw.demo)
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
    hw.notebook.kernel(REMEMBER_DEMOS.format(demo="AttentionExplorer"))
    root = hw.notebook.panel.locator(".jp-Cell").nth(hw.demo)

    # Untouched: the stub raises NotImplementedError; the explorer says so and draws nblib's alone.
    hw.run()
    assert "not written yet" in hw.line("scaled_dot_product_attention is not written yet")
    assert newest(hw, "d.their_weights is None and d.their_output is None") is True
    hw.shot("not-written")

    # The solution's functions: the diamonds are the weights and output of the query the page shows.
    hw.solve("scaled_dot_product_attention", "masks")
    hw.run()
    assert "agrees with nblib's" in hw.line("agrees")
    angle = handle_value(labelled(root, ".widget-slider", "query angle (°)"))
    length = handle_value(labelled(root, ".widget-slider", "query length"))
    assert (angle, length) == (30, 2)
    weights, output = attention_by_hand(angle, length)
    assert newest(hw, "d.their_weights.tolist()") == pytest.approx(weights, rel=1e-12)
    assert newest(hw, "d.their_output.tolist()") == pytest.approx(output, rel=1e-12)
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
    run_cell(hw.notebook, hw.demo)
    assert "first differs" in hw.line("first differs")
    press(labelled(root, ".widget-slider", "query angle (°)"), "ArrowRight", 3)   # 5 degrees a press
    angle = handle_value(labelled(root, ".widget-slider", "query angle (°)"))
    assert angle == 45
    right, wrong = attention_by_hand(angle, length)[1], attention_by_hand(angle, length, scaled=False)[1]
    j = np.argwhere(~np.isclose(wrong, right, rtol=1e-6, atol=1e-9))[0][0]
    expected = f"(output 1 of 2) first differs at [0, {j}]: {wrong[j]:.4g} against nblib's {right[j]:.4g}"
    assert expected in hw.line(re.escape(expected))
    assert newest(hw, "d.result.weights.tolist()") == pytest.approx(attention_by_hand(angle, length)[0], rel=1e-12)
    assert cell_errors(hw.notebook, hw.demo) == []
    hw.shot("planted-no-scaling")
