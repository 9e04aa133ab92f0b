"""Run one homework exercise's tests against a wrong answer, in this process.

The solution notebook's setup and answer cells are run once per week; then, for each wrong
version, the exercise's answer is replaced and the test cells that follow it (visible and
hidden, up to the next answer cell) are run in order until one fails. The failure's message
is returned, so a test can check that it names the mistake.
"""

from __future__ import annotations

import functools
import warnings

import nbformat

from nblib.checks import CheckFailed
from tests.nbrun import ROOT, grade_id


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


@functools.cache
def _cells(week: str):
    return tuple(nbformat.read(ROOT / "solutions" / week / "homework.ipynb", as_version=4).cells)


@functools.cache
def solved(week: str) -> dict:
    """The names the setup cell and every reference answer define."""
    namespace: dict = {}
    for cell in _cells(week):
        if cell.cell_type == "code" and (grade_id(cell) == "setup" or _nbgrader(cell).get("solution")):
            exec(cell.source, namespace)
    return namespace


def tests_of(week: str, exercise: str) -> list:
    """The graded test cells that follow the answer cell ``exercise``."""
    cells = list(_cells(week))
    start = next(i for i, c in enumerate(cells) if grade_id(c) == exercise and _nbgrader(c).get("solution"))
    tests = []
    for cell in cells[start + 1:]:
        if _nbgrader(cell).get("solution"):
            break
        if _nbgrader(cell).get("grade") and cell.cell_type == "code":
            tests.append(cell)
    assert tests, f"{week}: no test cells after {exercise}"
    return tests


def failure(week: str, exercise: str, wrong_answer: str) -> str:
    """The message of the first test of ``exercise`` that rejects ``wrong_answer``."""
    namespace = dict(solved(week))
    exec(wrong_answer, namespace)
    for cell in tests_of(week, exercise):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a naive answer's RuntimeWarnings are not the point
                exec(cell.source, namespace)
        except CheckFailed as failed:
            return f"[{grade_id(cell)}] {failed}"
    raise AssertionError(f"{week}: every test of {exercise} passed the wrong answer:\n{wrong_answer}")


def assert_named(week: str, exercise: str, where: str, named: str, wrong_answer: str) -> None:
    """``wrong_answer`` fails first in the test cell ``where``, with ``named`` in the message."""
    message = failure(week, exercise, wrong_answer)
    assert message.startswith(f"[{where}]"), message
    assert named in message, message


def assert_solution_passes(week: str, cases: dict) -> None:
    """The harness itself: with the solution's own answers, every test of every exercise in
    ``cases`` passes, each exercise's cells run in order in one namespace, as the grader does."""
    for exercise in {exercise for exercise, *_ in cases.values()}:
        namespace = dict(solved(week))
        for cell in tests_of(week, exercise):
            exec(cell.source, namespace)
