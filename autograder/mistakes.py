"""Named mistakes: which hints a failing answer earned, kept for the class report and feedback.

A homework's test cell names each common mistake with a constant, as week 6's dropout test does::

    NOT_SCALED = ("the kept values are not scaled: inverted dropout multiplies them by ...")

and puts that text into its failure's message when an answer makes the mistake. The checks of
:mod:`nblib.checks` give a few hints of their own (a transposed result, a shape that does not
broadcast, nblib's reference called), listed with an id in ``checks.GENERIC_HINTS``.

When a test fails, the grader looks in the message for the text of every constant the tests
have defined so far (upper-case names bound to a sentence) and for the phrase of every generic
hint: each one found is a *named mistake*. Its key is the constant in lower case
(``not_scaled``) or the generic hint's id (``transposed``), and its stable id is
``<exercise>.<key>``, e.g. ``dropout_forward.not_scaled``; the exercise is the solution cell
the test belongs to (:func:`autograder.results.exercises`). The test cells run in the grader's
process, so neither the namespace nor the message is the student's to forge.

Kept beside the notes, per student and week::

    <workdir>/notes/<student>/<week>.mistakes.json   {notebook: {test grade_id: {key: hint}}}

with an entry for every failed test, {} when its failure named no mistake. Written by
``preprocessors.SafeExecute`` as each notebook is graded; read by ``report`` and ``feedback``.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from autograder import results

MIN_HINT = 20  # characters: a shorter upper-case string is a label, not a sentence about a mistake
UNNAMED = "(no named mistake)"


def named(namespace: dict, message: str) -> dict[str, str]:
    """{key: hint} of the mistakes ``message`` names, in key order.

    A constant of ``namespace`` counts when its text is in the message; a hint that is only part
    of another one found (a shorter variant) is left out. A generic hint counts by its phrase."""
    from nblib.checks import GENERIC_HINTS  # the grader has nblib loaded when a test fails; report need not

    found = {name: value for name, value in namespace.items()
             if name.isupper() and isinstance(value, str) and len(value) >= MIN_HINT and value in message}
    keys = {name.lower(): value for name, value in found.items()
            if not any(value != other and value in other for other in found.values())}
    keys |= {key: phrase for key, phrase in GENERIC_HINTS.items() if phrase in message and key not in keys}
    return dict(sorted(keys.items()))


def mistake_id(exercise: str, key: str) -> str:
    return f"{exercise}.{key}"


class Mistakes:
    """The named mistakes kept in ``folder`` (the notes folder, ``<workdir>/notes``)."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    def path(self, student: str, week: str) -> Path:
        return self.folder / student / f"{week}.mistakes.json"

    def read(self, student: str, week: str) -> dict[str, dict[str, dict[str, str]]]:
        """{notebook: {failed test's grade_id: {key: hint}}}, {} when nothing was kept."""
        path = self.path(student, week)
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def keep(self, student: str, week: str, notebook: str, failed: dict[str, dict[str, str]]) -> None:
        """Record one notebook's failed tests (replacing what an earlier grading recorded)."""
        record = {**self.read(student, week), notebook: failed}
        path = self.path(student, week)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")

    def of_student(self, student: str, week: str, exercise_of: dict[str, str]) -> dict[str, dict[str, str]]:
        """{exercise: {key: hint}}: every mistake a student's failed tests named, once per exercise;
        an exercise whose failures named nothing maps to {}."""
        found: dict[str, dict[str, str]] = {}
        for failed in self.read(student, week).values():
            for test, keys in failed.items():
                found.setdefault(exercise_of.get(test, test), {}).update(keys)
        return found


def class_counts(mistakes: Mistakes, students: list[str], week: str, exercise_of: dict[str, str]) -> dict[str, Counter]:
    """{exercise: Counter({key: students who made it, UNNAMED: students who failed it naming nothing})}."""
    counts: dict[str, Counter] = {}
    for student in students:
        for exercise, keys in mistakes.of_student(student, week, exercise_of).items():
            counts.setdefault(exercise, Counter()).update(list(keys) or [UNNAMED])
    return counts


def of_class(kept: Mistakes, week: str, students: list[str], homework: Path) -> tuple[dict[str, Counter], str]:
    """The class's counts for ``week`` (:func:`class_counts`) and their table, exercises in the order of
    ``homework``, the instructor's notebook (no exercise names without it)."""
    exercise_of = results.exercises(homework) if homework.exists() else {}
    counts = class_counts(kept, students, week, exercise_of)
    return counts, format_counts(week, counts, list(dict.fromkeys(exercise_of.values())))


def format_counts(week: str, counts: dict[str, Counter], order: list[str]) -> str:
    """One line per named mistake, grouped by exercise in notebook order, the most frequent first."""
    lines = [f"{week}: named mistakes (students who made each)"]
    for exercise in sorted(counts, key=lambda e: order.index(e) if e in order else len(order)):
        lines.append(f"  {exercise}")
        for key, n in counts[exercise].most_common():
            lines.append(f"    {n:4d}  {key if key == UNNAMED else mistake_id(exercise, key)}")
    return "\n".join(lines)


def lesson_sections(objectives: Path, lesson: Path) -> dict[str, str]:
    """{homework grade_id: the heading of the lesson section that teaches its topic}, from the rows of
    data/objectives.csv that a homework test checks and the lesson ``lesson`` teaches."""
    if not objectives.exists() or not lesson.exists():
        return {}
    headings, current = {}, ""
    for cell in json.loads(lesson.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and source.lstrip().startswith("#"):
            current = source.lstrip().splitlines()[0].lstrip("#").strip()
        headings[cell.get("id")] = current
    sections = {}
    with open(objectives, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            kind, _, grade_id = row["checked_by"].partition(":")
            path, _, cell = row["taught_in"].partition("#")
            if kind == "homework" and Path(path).parent.name == lesson.parent.name and headings.get(cell):
                sections.setdefault(grade_id, headings[cell])
    return sections
