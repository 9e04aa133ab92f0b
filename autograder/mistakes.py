"""Named mistakes: which of a test's hints a failing answer earned, kept for the class report.

A homework's test cell names each common mistake with a constant, as week 6's dropout test does::

    NOT_SCALED = ("the kept values are not scaled: inverted dropout multiplies them by ...")

and puts that text into its failure's message when an answer makes the mistake. When a test
fails, the grader looks in the message for the text of every such constant the tests have
defined so far (upper-case names bound to a sentence): each one found is a *named mistake*.
Its stable id is ``<exercise>.<constant in lower case>``, e.g. ``dropout.not_scaled``; the
exercise is the solution cell the test belongs to (:func:`autograder.results.exercises`).

Kept beside the notes, per student and week::

    <workdir>/notes/<student>/<week>.mistakes.json   {notebook: {test grade_id: [CONSTANT, ...]}}

with an entry for every failed test, [] when its failure named no mistake. Written by
``preprocessors.SafeExecute`` as each notebook is graded; read by ``report`` and ``feedback``.
"""

from __future__ import annotations

import json
from pathlib import Path

MIN_HINT = 20  # characters: a shorter upper-case string is a label, not a sentence about a mistake


def named(namespace: dict, message: str) -> list[str]:
    """The hint constants of ``namespace`` whose text is in ``message``, in name order; a hint
    that is only part of another one found (a shorter variant) is left out."""
    found = {name: value for name, value in namespace.items()
             if name.isupper() and isinstance(value, str) and len(value) >= MIN_HINT and value in message}
    return sorted(name for name, value in found.items()
                  if not any(value != other and value in other for other in found.values()))


def mistake_id(exercise: str, constant: str) -> str:
    return f"{exercise}.{constant.lower()}"


class Mistakes:
    """The named mistakes kept in ``folder`` (the notes folder, ``<workdir>/notes``)."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    def path(self, student: str, week: str) -> Path:
        return self.folder / student / f"{week}.mistakes.json"

    def read(self, student: str, week: str) -> dict[str, dict[str, list[str]]]:
        """{notebook: {failed test's grade_id: [constant, ...]}}, {} when nothing was kept."""
        path = self.path(student, week)
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def keep(self, student: str, week: str, notebook: str, failed: dict[str, list[str]]) -> None:
        """Record one notebook's failed tests (replacing what an earlier grading recorded)."""
        record = {**self.read(student, week), notebook: failed}
        path = self.path(student, week)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
