"""Every notebook in the repository runs in a real kernel, with the outcome its kind promises:

- solution homework (solutions/*/homework.ipynb): runs where it counts, through the grader, in
  tests/test_grading.py's busy batch (no cell raises, every visible test prints its "passed" line,
  full marks), not a second time here;
- released homework (notebooks/*/homework.ipynb): runs to the first exercise and fails there
  with the stub's clear NotImplementedError, and nothing else ever crashes;
- lessons and quizzes: the solution copy has the same code as the released one, cell for cell. The
  released copy, what students run, is run in JupyterLab by tests/browser/test_in_jupyterlab.py
  (no error or warning, every widget on the page), not a second time here.
"""

import re

import nbformat
import pytest

from tests.nbrun import ROOT, error_outputs, execute, grade_id, repo_notebooks

STUB_MESSAGE = "Not done yet: replace this line with your code."


def kind(path) -> str:
    top, name = path.relative_to(ROOT).parts[0], path.stem
    if name == "homework":
        return {"solutions": "solution homework", "notebooks": "released homework"}[top]
    return name  # lesson or quiz


NOTEBOOKS = repo_notebooks()


def test_every_notebook_is_of_a_known_kind_and_collected():
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        assert path.relative_to(ROOT).parts[0] in ("solutions", "notebooks"), f"stray notebook {path}"
        assert kind(path) in ("solution homework", "released homework", "lesson", "quiz"), path
    weeks = {p.parent.name for p in NOTEBOOKS}
    for week in weeks:  # each week has all three parts in both trees
        for top in ("solutions", "notebooks"):
            for part in ("lesson", "homework", "quiz"):
                assert (ROOT / top / week / f"{part}.ipynb").exists(), f"{top}/{week}/{part}.ipynb is missing"


def ids(path):
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if kind(p) == "released homework"], ids=ids)
def test_released_homework_stops_at_the_first_exercise_with_a_clear_message(path):
    nb = execute(path, allow_errors=True)
    errors = error_outputs(nb)
    assert errors, "a released homework with no exercise left to do?"
    first_cell = errors[0][0]
    first_test = next(i for i, c in enumerate(nb.cells) if (grade_id(c) or "").endswith("_visible"))
    assert first_cell == first_test, "something before the first exercise's test failed"
    for index, error in errors:  # every later failure is an unfinished exercise, never a crash
        assert error["ename"] == "NotImplementedError", f"cell {index} crashed: {error['ename']}: {error['evalue']}"
        assert error["evalue"] == STUB_MESSAGE


def code_of(path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if kind(p) in ("lesson", "quiz")
                                  and p.relative_to(ROOT).parts[0] == "solutions"], ids=ids)
def test_the_released_lesson_or_quiz_has_the_solution_copys_code(path):
    released = ROOT / "notebooks" / path.relative_to(ROOT / "solutions")
    assert code_of(released) == code_of(path), f"{released} is out of date: run `python -m autograder release`"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if kind(p) == "solution homework"], ids=ids)
def test_every_homework_shows_the_students_functions_in_a_demo(path):
    """At least one "see your function at work" cell (issue 23): locked, no points, its grade_id
    starting "yours_" (the grader skips it), after the exercise cells of every function it
    hands over as ``yours={"name": name}``, and named in a Markdown cell just before it."""
    cells = nbformat.read(path, as_version=4).cells
    defined = {}  # function name -> index of the solution cell that defines it
    for index, cell in enumerate(cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            defined.update(dict.fromkeys(re.findall(r"^def (\w+)", cell.source, re.M), index))
    demos = [i for i, c in enumerate(cells) if (grade_id(c) or "").startswith("yours_") and c.cell_type == "code"]
    assert demos, "no cell hands the student's functions to a demo"
    for index in demos:
        cell, meta = cells[index], cells[index].metadata["nbgrader"]
        assert meta["locked"] and not meta["grade"] and not meta["solution"], f"cell {index}: locked, no points"
        handed = re.findall(r'"(\w+)": (\w+)', cell.source.split("yours=", 1)[-1])
        assert "yours=" in cell.source and handed, f"cell {index} hands no function to a demo: {cell.source}"
        for key, name in handed:
            assert key == name and name in defined, f"cell {index}: {name} is no exercise's function"
            assert defined[name] < index, f"cell {index} comes before the exercise that defines {name}"
        assert cells[index - 1].cell_type == "markdown" and "at work" in cells[index - 1].source, \
            f"cell {index}: a Markdown cell before it says what the demo shows"
