"""Feedback pages and the formgrader's view of a submission run nothing a student wrote.

A temporary course releases week 1 and grades one submission, mallory's, through
``python -m autograder grade`` and ``feedback``. Mallory puts every attack of
``tests/browser/inert.py`` in each place a student's content reaches a page: the written
answer, a markdown cell and a raw cell of her own, and display outputs that her code makes
while it is graded (JavaScript, an isolated HTML iframe, markdown, SVG, a PNG with bad
base64 or a width that is not a number, a widget view, and every HTML attack as an HTML
output). Each page is opened in headless Chromium (``fired_markers``): no marker may fire.

The positive control renders the same notebook, with the outputs as her code made them,
through the same feedback and formgrader exporters without the inert steps: then the attacks
do fire, so the check can fail. The formgrader's view needs no server: its handler renders
the autograded notebook with the ``HTMLExporter`` that nbgrader's server extension builds
from the course's ``nbgrader_config.py``, and this test builds it the same way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import nbgrader
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output, new_raw_cell
from nbgrader.api import Gradebook

from autograder.config import course_config
from autograder.inert import InertMarkdown, InertOutputs
from tests.browser.inert import (
    ATTACKS, MARKDOWN_ATTACKS, OUTPUT_ATTACKS, attack_code, attack_html, attack_markdown, attack_outputs,
    fired_markers,
)
from tests.nbrun import ROOT, grade_id

WEEK = "week01_perceptron"
STUDENT = "mallory"
ANSWER = "xor_explanation"  # the written (manually graded) answer of week 1

# Where each attack sits in mallory's notebook: marker prefix -> what it holds.
PLACES = {
    "answer_": set(ATTACKS) | set(MARKDOWN_ATTACKS),
    "markdown_": set(ATTACKS) | set(MARKDOWN_ATTACKS),
    "raw_": set(ATTACKS),
    "output_": set(ATTACKS) | set(OUTPUT_ATTACKS),
}
EVERY_MARKER = {prefix + name for prefix, names in PLACES.items() for name in names}

# Not live in nbconvert's own templates either (7.x): SVG goes into an <img>, LaTeX, image
# data and image sizes are escaped, raw cells pass its bleach filter, and a widget view needs
# a widget manager from the network (which the page would load if the notebook kept its
# widget state). A JavaScript output starts with jQuery's $(...): it runs in the formgrader,
# which loads jQuery, and fails in a feedback page, which does not.
NOT_LIVE_IN_NBCONVERT = {"output_svg", "output_latex", "output_png_base64", "output_png_width",
                         "output_widget_view"} | {"raw_" + name for name in ATTACKS}
NOT_LIVE_IN_FEEDBACK = {"output_javascript"}
ONCE_PER_PAGE = {"body_onload", "meta_refresh"}  # a page's first <body onload> or refresh wins


# Where the formgrader page finds {base_url}/formgrader/static/...: nbgrader's own files.
SERVED = Path(nbgrader.__file__).parent.joinpath("server_extensions").as_uri()


def run_cli(course: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    result = subprocess.run([sys.executable, "-m", "autograder", "--course-dir", str(course), *args],
                            capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, f"autograder {args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def mallorys_notebook(course: Path) -> nbformat.NotebookNode:
    """The released homework with every attack in the answer, an added markdown cell, an
    added raw cell and an added code cell's outputs."""
    nb = nbformat.read(course / "notebooks" / WEEK / "homework.ipynb", as_version=4)
    (answer,) = [c for c in nb.cells if grade_id(c) == ANSWER]
    answer.source = "XOR needs $w_1 x_1 + w_2 x_2 + b$ twice.\n\n" + attack_markdown("answer_")
    nb.cells[1:1] = [new_markdown_cell(attack_markdown("markdown_")),
                     new_raw_cell(attack_html("raw_")),
                     new_code_cell(attack_code("output_"))]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """(course, feedback page, autograded notebook) after grading mallory through the CLI."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    # the formgrader reads nbgrader_config.py in the directory it is started from
    (course / "nbgrader_config.py").write_text(
        "from autograder.config import course_config\n"
        f"get_config().merge(course_config({str(course)!r}))\n")
    run_cli(course, "release", WEEK)
    folder = course / ".grading" / "submitted" / STUDENT / WEEK
    folder.mkdir(parents=True)
    nbformat.write(mallorys_notebook(course), folder / "homework.ipynb")
    run_cli(course, "grade", WEEK)
    run_cli(course, "feedback", WEEK)
    return (course, course / ".grading" / "feedback" / STUDENT / WEEK / "homework.html",
            course / ".grading" / "autograded" / STUDENT / WEEK / "homework.ipynb")


def with_raw_outputs(autograded: Path) -> nbformat.NotebookNode:
    """The autograded notebook with mallory's outputs as her code displayed them, unsanitized."""
    nb = nbformat.read(autograded, as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and "publish_display_data" in c.source]
    cell.outputs = [new_output("display_data", data=data, metadata=metadata)
                    for data, metadata in attack_outputs("output_")]
    return nb


def feedback_page(course: Path, nb, folder: Path, inert: bool = True) -> Path:
    """nbgrader's GenerateFeedback on ``nb`` as mallory's autograded notebook, with the
    course's settings; ``inert=False`` takes the inert steps out (the positive control)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = course_config(course)
    config.CourseDirectory.autograded_directory = str(folder / "autograded")
    config.CourseDirectory.feedback_directory = str(folder / "feedback")
    if not inert:
        config.GenerateFeedback.preprocessors = [
            step for step in config.GenerateFeedback.preprocessors if step not in (InertOutputs, InertMarkdown)]
        config.HTMLExporter.preprocessors = []
    notebook = folder / "autograded" / STUDENT / WEEK / "homework.ipynb"
    notebook.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, notebook)
    result = NbGraderAPI(CourseDirectory(config=config), config=config).generate_feedback(WEEK, STUDENT, force=True)
    assert result["success"], result.get("error") or result.get("log")
    return folder / "feedback" / STUDENT / WEEK / "homework.html"


def formgrader_page(course: Path, notebook: Path, out: Path, monkeypatch, inert: bool = True) -> Path:
    """The formgrader's submission view of ``notebook``, as its handler renders it, saved to ``out``.

    nbgrader's server extension is initialised from the course directory as Jupyter does
    (its own extra settings, then nbgrader_config.py) and hands its handlers an
    HTMLExporter; the handler calls ``exporter.from_filename(autograded notebook)``. The
    page's own scripts (jQuery, Backbone, formgrade.js) load from nbgrader's package, as
    the server would serve them; only its calls to the server's API fail."""
    from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension

    monkeypatch.chdir(course)
    extension = FormgradeExtension()
    extension.root_dir = str(course)
    extension.initialize([])
    if not inert:
        extension.config.HTMLExporter.preprocessors = []
    webapp = SimpleNamespace(settings={"base_url": ""})
    extension.init_tornado_settings(webapp)
    exporter = webapp.settings["nbgrader_exporter"]
    resources = {"assignment_id": WEEK, "notebook_id": "homework", "submission_id": "s1", "index": 0,
                 "total": 1, "base_url": SERVED, "student": STUDENT, "last_name": "", "first_name": "",
                 "notebook_path": f"autograded/{STUDENT}/{WEEK}/homework.ipynb"}
    html, _ = exporter.from_filename(str(notebook), resources=resources)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def test_feedback_page_runs_nothing_a_student_wrote(graded, browser):
    _, page, _ = graded
    assert fired_markers(page, browser=browser) == []
    html = page.read_text(encoding="utf-8")
    # her work is still there to read: the answer with its maths, links' text, removed outputs named
    assert "<p>XOR needs $w_1 x_1 + w_2 x_2 + b$ twice.</p>" in html
    assert html.count(">a markdown link</a>") == 2  # answer and added cell; the javascript: link is gone
    assert "[output removed by the grader: application/javascript]" in html


def test_formgrader_view_runs_nothing_and_keeps_its_grading_form(graded, browser, tmp_path, monkeypatch):
    course, _, autograded = graded
    page = formgrader_page(course, autograded, tmp_path / "formgrader.html", monkeypatch)
    assert fired_markers(page, browser=browser) == []
    html = page.read_text(encoding="utf-8")
    assert f'class="score tabbable" id="{ANSWER}"' in html  # the score box of the written answer
    assert "XOR needs $w_1 x_1 + w_2 x_2 + b$ twice." in html


def test_autograded_notebook_keeps_inert_outputs_and_the_students_own_text(graded):
    course, _, autograded = graded
    nb = nbformat.read(autograded, as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and "publish_display_data" in c.source]
    assert len(cell.outputs) == len(attack_outputs())  # her code ran and displayed them all
    kinds = {mime for output in cell.outputs for mime in output.get("data", {})}
    assert kinds == {"text/plain", "text/html", "image/png", "text/latex"}, kinds
    assert {"text/plain": "[output removed by the grader: application/javascript]"} in [o.data for o in cell.outputs]
    assert not any("onerror" in o.data.get("text/html", "") or "<script" in o.data.get("text/html", "")
                   for o in cell.outputs if "data" in o)
    # markdown is made inert only in the pages: the notebook keeps her answer as she wrote it,
    # so nbgrader still tells an answered question (manual grading) from an untouched one
    (answer,) = [c for c in nb.cells if grade_id(c) == ANSWER]
    assert answer.source == next(c.source for c in mallorys_notebook(course).cells if grade_id(c) == ANSWER)
    with Gradebook(f"sqlite:///{course / '.grading' / 'gradebook.db'}") as gradebook:
        assert gradebook.find_grade(ANSWER, "homework", WEEK, STUDENT).needs_manual_grade


@pytest.mark.filterwarnings("ignore:Your element with mimetype:UserWarning")  # nbconvert, on the widget view
def test_without_the_inert_steps_the_same_attacks_fire(graded, browser, tmp_path, monkeypatch):
    """The positive control: feedback and formgrader pages of the same notebook, with her
    outputs as her code made them, rendered by the same exporters without InertOutputs and
    InertMarkdown."""
    course, _, autograded = graded
    raw = with_raw_outputs(autograded)
    nbformat.write(raw, tmp_path / "raw.ipynb")
    pages = {"feedback": feedback_page(course, raw, tmp_path / "feedback", inert=False),
             "formgrader": formgrader_page(course, tmp_path / "raw.ipynb", tmp_path / "formgrader.html",
                                           monkeypatch, inert=False)}
    for name, page in pages.items():
        live = EVERY_MARKER - NOT_LIVE_IN_NBCONVERT - (NOT_LIVE_IN_FEEDBACK if name == "feedback" else set())
        live = {m for m in live if not m.endswith(tuple(ONCE_PER_PAGE))}
        # a longer wait than the inert pages get: on a busy machine an <object>'s page can take
        # over 1.5 s to run its script (seen once in a full run), and this control must not flake
        fired = set(fired_markers(page, wait=5.0, browser=browser))
        assert live <= fired, f"{name}: these did not fire without the inert steps: {sorted(live - fired)}"
        for attack in ONCE_PER_PAGE:
            assert any(m.endswith(attack) for m in fired), f"{name}: no {attack} fired"
        assert fired <= EVERY_MARKER


def test_pages_of_a_notebook_graded_before_the_inert_steps_run_nothing(graded, browser, tmp_path, monkeypatch):
    """The pages make the outputs inert themselves: an autograded notebook with raw outputs
    (graded before InertOutputs was an autograding step) is safe too."""
    course, _, autograded = graded
    raw = with_raw_outputs(autograded)
    nbformat.write(raw, tmp_path / "raw.ipynb")
    assert fired_markers(feedback_page(course, raw, tmp_path / "feedback"), browser=browser) == []
    page = formgrader_page(course, tmp_path / "raw.ipynb", tmp_path / "formgrader.html", monkeypatch)
    assert fired_markers(page, browser=browser) == []
