"""The course in a real browser: JupyterLab, ipywidgets and nbgrader's lab extension.

JupyterLab is started by the README's course command (in a scratch copy of the course, one per
pytest worker: see ``course.py`` and ``conftest.py``) and driven by Playwright in headless Chromium, the system's own browser.
Every lesson and quiz in ``notebooks/`` is opened and run from the Run menu; its widgets must
all be on the page and respond; screenshots of each widget go to ``.artifacts/browser/``. The
lessons' demos with a slow kernel are in ``test_slow_kernels.py``, a module of its own, so that
the two modules run side by side on two workers.
"""

from __future__ import annotations

import collections
import importlib.util
import json
import re

import nbformat
import pytest

from tests.browser import course
from tests.browser.lab import Notebook, look, screenshot, wait_for_change

NOTEBOOKS = course.ROOT / "notebooks"
SHOTS = course.ARTIFACTS / "screenshots"
LESSONS = sorted(p.relative_to(NOTEBOOKS).as_posix() for p in NOTEBOOKS.glob("week*/lesson.ipynb"))
QUIZZES = sorted(p.relative_to(NOTEBOOKS).as_posix() for p in NOTEBOOKS.glob("week*/quiz.ipynb"))
HOMEWORKS = sorted(p.relative_to(NOTEBOOKS).as_posix() for p in NOTEBOOKS.glob("week*/homework.ipynb"))

# Each ipywidgets view and the CSS class its element carries on the page. A widget type
# missing here fails the test: add its class when a notebook starts using it.
VIEW_SELECTORS = {
    **dict.fromkeys(["IntSliderView", "FloatSliderView", "FloatLogSliderView", "IntRangeSliderView",
                     "FloatRangeSliderView", "SelectionSliderView", "SelectionRangeSliderView"], ".widget-slider"),
    "DropdownView": ".widget-dropdown",
    "CheckboxView": ".widget-checkbox",
    "PlayView": ".widget-play",
    "ButtonView": ".widget-button",
    "ToggleButtonsView": ".widget-toggle-buttons",
    "RadioButtonsView": ".widget-radio",
    "ProgressView": ".widget-hprogress, .widget-vprogress",
    "HTMLView": ".widget-html",
    "HTMLMathView": ".widget-htmlmath",
    "OutputView": ".widget-output",
    "HBoxView": ".widget-hbox",
    "VBoxView": ".widget-vbox",
}

# Asked of the kernel: how many widgets of each view it has made (and not closed).
LIVE_VIEWS = """
import collections, json, warnings
import ipywidgets as _W
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    _live = list(_W.Widget.widgets.values())
print(json.dumps(collections.Counter(w._view_name for w in _live if isinstance(w, _W.DOMWidget))))
"""


# -- fixtures ---------------------------------------------------------------------------------


def open_notebook(page, lab, path: str) -> Notebook:
    """Open ``path`` in Lab with a fresh kernel."""
    lab.shut_down_kernels()
    page.goto(lab.url(path))
    notebook = Notebook(page, path)
    notebook.wait_for_kernel()
    return notebook


def shot_name(path: str, suffix: str):
    return SHOTS / path.replace(".ipynb", "") / f"{suffix}.png"


def assert_every_widget_rendered(notebook: Notebook) -> None:
    """The page shows as many widgets of each kind as the kernel made, and none failed."""
    made = json.loads(notebook.kernel(LIVE_VIEWS))
    unknown = sorted(set(made) - set(VIEW_SELECTORS))
    assert not unknown, f"{notebook.path}: no CSS class known for {unknown}; add it to VIEW_SELECTORS"
    expected = collections.Counter()
    for view, count in made.items():
        expected[VIEW_SELECTORS[view]] += count
    shown = {selector: notebook.panel.locator(selector).count() for selector in expected}
    assert shown == dict(expected), f"{notebook.path}: widgets made by the kernel vs shown on the page"


# -- lessons and quizzes: open, run all, no errors, every widget on the page ------------------


def run_and_check_widgets(page, lab, path: str) -> Notebook:
    """Open ``path``, run it all: no error, every widget the kernel made on the page, screenshots."""
    notebook = open_notebook(page, lab, path)
    notebook.run_all()
    assert notebook.error_outputs() == [], f"{path}: an error, a warning or a widget that failed, on the page"
    assert_every_widget_rendered(notebook)
    roots = notebook.widget_roots()
    assert roots, f"{path}: a lesson or quiz shows at least one widget"
    for i, root in enumerate(roots, start=1):
        screenshot(root, shot_name(path, f"widget{i:02d}"))
    assert page.js_errors == [], f"{path}: JavaScript errors on the page"
    return notebook




# -- lessons: run once, every widget on the page, then every control changes what it shows ----


def nudge_slider(slider) -> None:
    """One keyboard step, to the right unless the slider is at its end."""
    handle = slider.locator(".noUi-handle").first
    at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    handle.focus()
    handle.press("ArrowLeft" if at_end else "ArrowRight")


def pick_other_option(select) -> None:
    options = select.locator("option").all_inner_texts()
    select.select_option(label=options[-1] if select.input_value() != options[-1] else options[0])


# The controls a lesson's widget must answer, how to move each, where it sits on the page.
MOVES = (("slider", ".widget-slider", nudge_slider),
         ("dropdown", ".widget-dropdown select", pick_other_option),
         ("checkbox", ".widget-checkbox input", lambda checkbox: checkbox.click()))


@pytest.mark.parametrize("path", LESSONS)
def test_lesson_runs_in_lab_and_its_controls_change_the_plot(page, lab, path):
    notebook = run_and_check_widgets(page, lab, path)
    moved = 0
    for i, root in enumerate(notebook.widget_roots(), start=1):
        for kind, selector, move in MOVES:
            for j, control in enumerate(root.locator(selector).all(), start=1):
                before = look(root)
                move(control)
                wait_for_change(root, before)
                notebook.wait_until_done()
                moved += 1
                screenshot(root, shot_name(path, f"widget{i:02d}-{kind}{j}"))
    assert moved, f"{path}: no slider, dropdown or checkbox to move"
    assert notebook.error_outputs() == []


# -- quizzes: one right answer, one wrong, each with its explanation --------------------------


def load_quiz(path: str):
    """The quiz's questions, read by this process from the student's quiz_questions.py."""
    source = NOTEBOOKS / path.replace("quiz.ipynb", "quiz_questions.py")
    spec = importlib.util.spec_from_file_location(f"quiz_{source.parent.name}", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.QUIZ


@pytest.mark.parametrize("path", QUIZZES)
def test_quiz_runs_in_lab_shows_every_widget_and_gives_feedback_on_a_right_and_a_wrong_answer(page, lab, path):
    quiz = load_quiz(path)
    notebook = run_and_check_widgets(page, lab, path)
    questions = notebook.panel.locator(".nnf-quiz-question")
    assert questions.count() == len(quiz.questions)

    right = quiz.questions[0]
    wrong = quiz.questions[1]
    wrong_choice = (wrong.answer + 1) % len(wrong.options)
    for number, question, choice, verdict in ((1, right, right.answer, "Correct."),
                                              (2, wrong, wrong_choice, "Not quite.")):
        box = questions.nth(number - 1)
        box.locator("input[type=radio]").nth(choice).check()
        feedback = box.locator(".widget-html")
        feedback.filter(has_text=verdict).wait_for()
        assert question.explanations[choice] in feedback.inner_text()
        screenshot(box, shot_name(path, f"question{number}-{verdict.rstrip('.').lower().replace(' ', '-')}"))
    # The clicks reached the kernel: the quiz's own score counts them.
    assert f"1 of {len(quiz.questions)} correct (2 answered)" in notebook.kernel("print(QUIZ.score())")


# -- nbgrader: the lab extension loads and a student validates a homework ---------------------


def solution_sources(path: str) -> dict[str, str]:
    """grade_id -> the reference answer of each exercise (code or written), markers removed."""
    solved = nbformat.read(course.ROOT / "solutions" / path, as_version=4)
    sources = {}
    for cell in solved.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = [line for line in cell.source.splitlines() if not re.search(r"### (BEGIN|END) SOLUTION", line)]
            sources[meta["grade_id"]] = "\n".join(lines)
    return sources


def validate(page, notebook: Notebook, path: str, name: str) -> str:
    """Click Validate; returns the text of nbgrader's result dialog (then closes it)."""
    notebook.panel.locator(".validate-button").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator(".validation-success, .validation-failed, .validation-changed").wait_for(timeout=180_000)
    screenshot(dialog.locator(".jp-Dialog-content"), shot_name(path, name))
    text = dialog.inner_text()
    dialog.locator(".jp-Dialog-button").last.click()
    return text


def test_nbgrader_extension_loads(page, lab):
    path = HOMEWORKS[0]
    notebook = open_notebook(page, lab, path)
    assert notebook.panel.locator(".validate-button").is_visible()
    notebook.menu("Nbgrader", "Assignment List")
    page.locator(".lm-TabBar-tabLabel", has_text="Assignments").wait_for()
    # The panel's three lists load from nbgrader's server extension, from the course's local
    # exchange (autograder/config.py): empty until an instructor releases an assignment to it.
    for heading in ("Released assignments", "Downloaded assignments", "Submitted assignments"):
        page.get_by_text(heading, exact=True).wait_for()
    page.get_by_text("There are no assignments to fetch.").wait_for()
    panel = page.locator(".lm-DockPanel").inner_text()
    assert "exchange directory does not exist" not in panel and "Error" not in panel, panel
    screenshot(page.locator(".lm-DockPanel"), shot_name(path, "nbgrader-assignment-list"))


@pytest.mark.parametrize("path", HOMEWORKS[:1])
def test_student_validates_homework_from_the_toolbar(page, lab, path):
    notebook = open_notebook(page, lab, path)
    failed = validate(page, notebook, path, "validate-untouched")
    assert "NotImplementedError" in failed and "failed" in failed.lower()

    answers = solution_sources(path)
    released = nbformat.read(lab.root / "notebooks" / path, as_version=4)
    for index, cell in enumerate(released.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell_on_page = notebook.panel.locator(".jp-Cell").nth(index)
            if cell.cell_type == "markdown":
                cell_on_page.dblclick()  # a rendered Markdown cell opens its editor on double-click
            cell_on_page.locator(".cm-content").click()
            page.keyboard.press("ControlOrMeta+a")
            page.keyboard.insert_text(answers[grade_id])  # as if pasted
            assert notebook.cell_source(index) == answers[grade_id], f"cell {index} ({grade_id}) as typed"
    passed = validate(page, notebook, path, "validate-solved")
    assert "Success! Your notebook passes all the tests." in passed
