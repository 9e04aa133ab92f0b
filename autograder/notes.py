"""The grader's notes on each submission: the one place that reads and writes them.

A note is one line for the student and the instructor about a submission as a whole (a file
renamed, a cell that timed out, a copy of nblib's reference, the grader itself failing).
They are kept in the grading working directory, per student and week::

    <workdir>/notes/<student>/<week>.json        every note, in order, as a JSON list
    <workdir>/notes/<student>/<week>.files.json  the notes on the submission's files alone,
                                                 kept from collection on

Who writes: ``cli collect`` and ``grading.prepare`` (the files, copies, identical answers),
``preprocessors.SafeExecute`` (what happened while the notebook ran), ``grading.note_failure``.
Who reads: ``grading.summary`` (the terminal), ``feedback`` (a page for a notebook never
graded) and ``results`` (the CSV's notes column).
"""

from __future__ import annotations

import json
from pathlib import Path

FOLDER = "notes"  # inside the grading working directory


class Notes:
    """The notes kept in ``folder`` (usually ``<workdir>/notes``)."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    @classmethod
    def in_workdir(cls, workdir: Path | str) -> "Notes":
        return cls(Path(workdir) / FOLDER)

    def path(self, student: str, week: str) -> Path:
        return self.folder / student / f"{week}.json"

    def read(self, student: str, week: str) -> list[str]:
        """The notes on a submission, [] when there are none."""
        return _read(self.path(student, week))

    def start(self, student: str, week: str, notes: list[str]) -> None:
        """Begin a submission's notes afresh (each grading starts from its files' notes)."""
        _write(self.path(student, week), notes)

    def add(self, student: str, week: str, *notes: str) -> None:
        _write(self.path(student, week), self.read(student, week) + list(notes))

    def files(self, student: str, week: str, new: list[str], reset: bool = False) -> list[str]:
        """The notes on a submission's files: ``new`` ones added to those kept since it was
        collected (a file renamed when it was collected is still reported when it is graded
        again); ``reset`` forgets the earlier ones (a new collection)."""
        path = self.folder / student / f"{week}.files.json"
        earlier = [] if reset else _read(path)
        notes = earlier + [n for n in new if n not in earlier]
        _write(path, notes)
        return notes


def _read(path: Path) -> list[str]:
    return [str(n) for n in json.loads(path.read_text(encoding="utf-8"))] if path.exists() else []


def _write(path: Path, notes: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notes, indent=1), encoding="utf-8")
